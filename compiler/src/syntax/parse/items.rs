//! Top-level items, flow members and rule statements (see docs/language.md).

use super::tokens::Kind;
use super::{MAX_IFS, Parser, Res, Stop};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::syntax::ast::*;

impl Parser<'_> {
    /// One top-level item.
    pub(super) fn item(&mut self) -> Res<Item> {
        let start = self.here();
        let item = if self.eat_word("document") {
            self.document(start)?
        } else if self.eat_word("substitutes") {
            let holder = self.signer()?;
            self.expect_punct("=")?;
            let mut substitutes = vec![self.signer()?];
            while let Some(s) = self.backtrack(|p| {
                p.expect_punct(",")?;
                p.signer()
            })? {
                substitutes.push(s);
            }
            Item::Substitutes(SubstitutesDef {
                holder,
                substitutes,
                span: start..self.last_end,
            })
        } else if self.eat_word("group") {
            self.group(start)?
        } else if self.eat_word("agency") {
            let name = self.name()?;
            let title = self.string()?;
            Item::Agency(AgencyDef {
                name,
                title,
                span: start..self.last_end,
            })
        } else if self.eat_word("flow") {
            self.flow(start)?
        } else if self.eat_word("rule") {
            let name = self.name()?;
            self.expect_word("on")?;
            let event = self.event_name()?;
            let when = self.when()?;
            let body = self.block()?;
            Item::Rule(RuleDef {
                name,
                event,
                when,
                body,
                span: start..self.last_end,
            })
        } else {
            self.miss(None, Some("a definition"));
            return Err(Stop::Syntax);
        };
        Ok(item)
    }

    fn document(&mut self, start: usize) -> Res<Item> {
        let name = self.name()?;
        let mut shield = None;
        if self.at_word("shielded") {
            let s = self.bump().span.start;
            self.expect_word("by")?;
            let group = self.name()?;
            let allow = if self.at_word("allow") && self.peek_at(1).is_some() {
                // `allow` is an ordinary word: it is the clause only when a name follows.
                let save = self.pos;
                self.bump();
                if self.at_name() {
                    Some(self.name()?)
                } else {
                    self.pos = save;
                    None
                }
            } else {
                None
            };
            shield = Some(Shield {
                group,
                allow,
                span: s..self.last_end,
            });
        }
        self.open("{")?;
        let mut fields = Vec::new();
        while !self.at_punct("}") {
            let name = self.name()?;
            self.expect_punct(":")?;
            let ty = self.type_ref()?;
            self.eat_punct(",");
            fields.push(FieldDef { name, ty });
        }
        self.expect_punct("}")?;
        Ok(Item::Document(DocumentDef {
            name,
            shield,
            fields,
            span: start..self.last_end,
        }))
    }

    fn type_ref(&mut self) -> Res<TypeRef> {
        let name = if self.at_word("unit") {
            let t = self.bump();
            Name {
                text: "unit".into(),
                span: t.span.clone(),
            }
        } else if let Some(t) = self.peek()
            && t.kind == Kind::Word
            && !super::recover::is_keyword(self.text_of(t))
        {
            self.name()?
        } else {
            match self.peek() {
                Some(t) if t.kind == Kind::Word => self.miss_keyword(t, "a type"),
                _ => self.miss(None, Some("a type")),
            }
            return Err(Stop::Syntax);
        };
        let optional = self.eat_punct("?");
        let within = if self.eat_word("in") {
            Some(self.name()?)
        } else {
            None
        };
        Ok(TypeRef {
            name,
            optional,
            within,
        })
    }

    fn group(&mut self, start: usize) -> Res<Item> {
        let name = self.name()?;
        self.expect_punct("=")?;
        let mut terms = vec![self.group_term()?];
        while let Some(t) = self.backtrack(|p| {
            p.expect_punct("+")?;
            p.group_term()
        })? {
            terms.push(t);
        }
        let members = if terms.len() == 1 {
            terms.pop().unwrap_or(GroupMembers::People(Vec::new()))
        } else {
            GroupMembers::Union(terms)
        };
        let shielded = if self.at_word("shielded") {
            Some(self.bump().span.clone())
        } else {
            None
        };
        Ok(Item::Group(GroupDef {
            name,
            members,
            shielded,
            span: start..self.last_end,
        }))
    }

    fn group_term(&mut self) -> Res<GroupMembers> {
        if self.eat_word("unit") {
            return Ok(GroupMembers::Unit(self.name()?));
        }
        if self.eat_word("people") {
            self.open("(")?;
            let mut people = vec![self.signer()?];
            while let Some(s) = self.backtrack(|p| {
                p.expect_punct(",")?;
                p.signer()
            })? {
                people.push(s);
            }
            self.eat_punct(",");
            self.expect_punct(")")?;
            return Ok(GroupMembers::People(people));
        }
        if let Some(t) = self.peek()
            && t.kind == Kind::Word
            && super::recover::is_keyword(self.text_of(t))
        {
            self.miss_keyword(
                t,
                "`unit NAME`, `people(...)` or a function, mandate or person",
            );
            return Err(Stop::Syntax);
        }
        Ok(GroupMembers::People(vec![self.signer()?]))
    }

    /// `NAME [of PATH]`: a function, mandate or person.
    pub(super) fn signer(&mut self) -> Res<SignerRef> {
        let name = self.name()?;
        let of = self.backtrack(|p| {
            p.expect_word("of")?;
            p.path()
        })?;
        Ok(SignerRef {
            span: name.span.start..self.last_end,
            name,
            of,
        })
    }

    fn flow(&mut self, start: usize) -> Res<Item> {
        let name = self.name()?;
        self.expect_word("for")?;
        let kind = self.name()?;
        let when = self.when()?;
        let mut flow = FlowDef {
            name,
            kind,
            when,
            visible: Vec::new(),
            steps: Vec::new(),
            on_refused: None,
            deadline: None,
            span: 0..0,
        };
        self.open("{")?;
        while !self.at_punct("}") {
            let s = self.here();
            if self.eat_word("visible") {
                self.expect_word("to")?;
                flow.visible.push(self.audience()?);
                while self.eat_punct(",") {
                    flow.visible.push(self.audience()?);
                }
            } else if self.eat_word("step") {
                let name = self.name()?;
                self.expect_punct(":")?;
                let body = if self.at_word("all") || self.at_word("any") {
                    let t = self.bump();
                    let mode = if self.text_of(t) == "all" {
                        ParallelMode::All
                    } else {
                        ParallelMode::Any
                    };
                    self.open("{")?;
                    let mut signs = vec![self.sign()?];
                    while !self.at_punct("}") {
                        signs.push(self.sign()?);
                    }
                    self.expect_punct("}")?;
                    let when = self.when()?;
                    StepBody::Parallel { mode, signs, when }
                } else {
                    StepBody::Sign(self.sign()?)
                };
                flow.steps.push(Step {
                    name,
                    body,
                    span: s..self.last_end,
                });
            } else if self.eat_word("on") {
                self.expect_word("refused")?;
                self.expect_punct("->")?;
                let t = self.here();
                flow.on_refused = Some(if self.eat_word("back") {
                    self.expect_word("to")?;
                    if self.eat_word("uploader") {
                        Refused::BackToUploader(t..self.last_end)
                    } else {
                        self.expect_word("step")?;
                        Refused::BackToStep(self.name()?)
                    }
                } else {
                    Refused::Stop(self.expect_word("stop")?)
                });
            } else if self.eat_word("deadline") {
                let remind = self.duration()?;
                self.expect_word("remind")?;
                let escalate = if self.eat_punct(",") {
                    let d = self.duration()?;
                    self.expect_word("escalate")?;
                    self.expect_word("to")?;
                    Some((d, self.signer()?))
                } else {
                    None
                };
                flow.deadline = Some(Deadline {
                    remind,
                    escalate,
                    span: s..self.last_end,
                });
            } else {
                self.miss(None, Some("a flow member"));
                return Err(Stop::Syntax);
            }
        }
        self.expect_punct("}")?;
        flow.span = start..self.last_end;
        Ok(Item::Flow(flow))
    }

    fn audience(&mut self) -> Res<Audience> {
        if self.at_word("uploader") {
            return Ok(Audience::Uploader(self.bump().span.clone()));
        }
        if self.at_word("signers") {
            return Ok(Audience::Signers(self.bump().span.clone()));
        }
        if self.eat_word("group") {
            return Ok(Audience::Group(self.name()?));
        }
        if self.eat_word("unit") {
            return Ok(Audience::Unit(self.path()?));
        }
        if let Some(t) = self.peek()
            && t.kind == Kind::Word
            && super::recover::is_keyword(self.text_of(t))
        {
            self.miss_keyword(t, "an audience (uploader, signers, group NAME, unit NAME)");
            return Err(Stop::Syntax);
        }
        Ok(Audience::Signer(self.signer()?))
    }

    fn sign(&mut self) -> Res<SignClause> {
        let s = self.expect_word("sign")?.start;
        let signer = self.signer()?;
        let when = self.when()?;
        Ok(SignClause {
            signer,
            when,
            span: s..self.last_end,
        })
    }

    /// An optional `when EXPR`.
    fn when(&mut self) -> Res<Option<Expr>> {
        if self.eat_word("when") {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    /// `NAME.field`, written without spaces.
    fn event_name(&mut self) -> Res<Name> {
        if !self.at_name() {
            return Err(Stop::Syntax);
        }
        let first = self.bump().span.clone();
        let dot = self.peek().is_some_and(|t| {
            t.span.start == first.end && t.kind == Kind::Punct && self.text_of(t) == "."
        });
        if !dot {
            // Written without spaces: the `.` belongs right after the name.
            self.miss_at(first.end, Some("."), None);
            return Err(Stop::Syntax);
        }
        let dot_end = self.bump().span.end;
        let field = self
            .peek()
            .is_some_and(|t| t.span.start == dot_end && t.kind == Kind::Word);
        if !field {
            self.miss_at(dot_end, None, Some("a name"));
            return Err(Stop::Syntax);
        }
        let end = self.bump().span.end;
        Ok(Name {
            text: self.text[first.start..end].to_string(),
            span: first.start..end,
        })
    }

    /// `{ statement* }`.
    fn block(&mut self) -> Res<Vec<Stmt>> {
        self.open("{")?;
        let mut body = Vec::new();
        while !self.at_punct("}") {
            body.push(self.stmt()?);
            self.eat_punct(";");
        }
        self.expect_punct("}")?;
        Ok(body)
    }

    fn stmt(&mut self) -> Res<Stmt> {
        let s = self.here();
        if self.eat_word("let") {
            let name = self.name()?;
            self.expect_punct("=")?;
            let value = if self.eat_word("match") {
                let source = self.name()?;
                self.expect_word("by")?;
                LetValue::Match {
                    source,
                    by: self.expr()?,
                }
            } else if self.at_word("check") {
                let c = self.bump().span.start;
                self.expect_word("debts")?;
                self.open("(")?;
                let kbo = self.expr()?;
                self.expect_punct(")")?;
                self.expect_word("on")?;
                let on = self.expr()?;
                LetValue::CheckDebts {
                    kbo,
                    on,
                    span: c..self.last_end,
                }
            } else {
                LetValue::Expr(self.expr()?)
            };
            return Ok(Stmt::Let { name, value });
        }
        if self.at_word("if") {
            return self.if_stmt();
        }
        let kind = if self.eat_word("queue") {
            let queue = self.name()?;
            self.expect_word("reason")?;
            ActionKind::Queue {
                queue,
                reason: self.string()?,
            }
        } else if self.eat_word("link") {
            let from = self.path()?;
            self.expect_word("to")?;
            ActionKind::Link {
                from,
                to: self.path()?,
            }
        } else if self.eat_word("start") {
            let flow = self.name()?;
            let mut args = Vec::new();
            if self.eat_word("with") {
                loop {
                    let field = self.name()?;
                    self.expect_punct("=")?;
                    args.push((field, self.expr()?));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            }
            ActionKind::Start { flow, args }
        } else if self.eat_word("withhold") {
            let amount = self.expr()?;
            let cap = if self.eat_word("capped") {
                self.expect_word("by")?;
                Some(self.expr()?)
            } else {
                None
            };
            self.expect_word("to")?;
            ActionKind::Withhold {
                amount,
                cap,
                agency: self.name()?,
            }
        } else if self.eat_word("notify") {
            let target = self.signer()?;
            ActionKind::Notify {
                target,
                message: self.string()?,
            }
        } else {
            self.miss(None, Some("a statement"));
            return Err(Stop::Syntax);
        };
        Ok(Stmt::Action(Action {
            kind,
            span: s..self.last_end,
        }))
    }

    /// `if COND { … } [else if … | else { … }]`; each `if` (an `else if` too) nests one
    /// level, refused past [`MAX_IFS`].
    fn if_stmt(&mut self) -> Res<Stmt> {
        let at = self.here();
        self.ifs += 1;
        if self.ifs > MAX_IFS {
            let end = super::recover::ceil_boundary(self.text, at + 2);
            return Err(Stop::TooDeep(Box::new(
                Diagnostic::new(
                    Code::TooDeep,
                    Span::new(self.file, at..end),
                    format!(
                        "`if` statements are nested more than {MAX_IFS} deep (each `else if` of a chain counts one)"
                    ),
                )
                .with_help(
                    "split the chain into several rules with a `when` clause each, or compare with a list: `x in [\"a\", \"b\"]`",
                ),
            )));
        }
        self.bump();
        let cond = self.expr()?;
        let then = self.block()?;
        let otherwise = if self.eat_word("else") {
            if self.at_word("if") {
                vec![self.if_stmt()?]
            } else {
                self.block()?
            }
        } else {
            Vec::new()
        };
        self.ifs -= 1;
        Ok(Stmt::If {
            cond,
            then,
            otherwise,
        })
    }
}
