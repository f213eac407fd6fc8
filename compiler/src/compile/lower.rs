//! AST → compiled model. Runs only on a project without errors.

use crate::check::conditions::field_key;
use crate::check::types::{MATCH_SOURCES, builtin_fields};
use crate::org::Organogram;
use crate::resolve::Index;
use crate::syntax::ast::*;
use paraaf_model as m;

/// Lowers a checked project.
pub fn lower(org: &Organogram, index: &Index) -> m::CompiledProject {
    let l = Lower { org, index };
    m::CompiledProject {
        schema: m::SCHEMA.to_string(),
        city: org.city.clone(),
        documents: documents(index),
        groups: groups(org, index),
        substitutes: index
            .substitutes
            .iter()
            .map(|s| m::Substitutes {
                holder: l.signer(&s.def.holder, None),
                substitutes: s
                    .def
                    .substitutes
                    .iter()
                    .map(|x| l.signer(x, None))
                    .collect(),
            })
            .collect(),
        agencies: index
            .agencies
            .values()
            .filter_map(|v| v.first())
            .map(|a| m::Agency {
                name: a.def.name.text.clone(),
                title: a.def.title.clone(),
            })
            .collect(),
        flows: index
            .flows
            .values()
            .filter_map(|v| v.first())
            .map(|f| l.flow(&f.def))
            .collect(),
        rules: index
            .rules
            .values()
            .filter_map(|v| v.first())
            .map(|r| l.rule(&r.def))
            .collect(),
        organogram: snapshot(org),
    }
}

/// The project's document kinds, lowered (also what the checker's shielding reads).
pub(crate) fn documents(index: &Index) -> Vec<m::Document> {
    index
        .documents
        .values()
        .filter_map(|v| v.first())
        .map(|d| m::Document {
            name: d.def.name.text.clone(),
            fields: d
                .def
                .fields
                .iter()
                .map(|f| m::Field {
                    name: f.name.text.clone(),
                    ty: f.ty.name.text.clone(),
                    optional: f.ty.optional,
                    within: f.ty.within.as_ref().map(|w| {
                        if f.ty.name.text == "person" {
                            m::Within::Group(w.text.clone())
                        } else {
                            m::Within::Unit(w.text.clone())
                        }
                    }),
                })
                .collect(),
            title: None,
            shielded_by: d.def.shield.as_ref().map(|sh| m::Shield {
                group: sh.group.text.clone(),
                allow: sh.allow.as_ref().map(|a| a.text.clone()),
            }),
        })
        .collect()
}

/// The project's groups, lowered with their members today.
pub(crate) fn groups(org: &Organogram, index: &Index) -> Vec<m::Group> {
    let l = Lower { org, index };
    index
        .groups
        .values()
        .filter_map(|v| v.first())
        .map(|g| l.group(&g.file, &g.def))
        .collect()
}

/// The organogram as the compiled model holds it (also what `paraaf org deploy` records).
pub fn snapshot(org: &Organogram) -> m::Organogram {
    use crate::org::Position;
    m::Organogram {
        units: org
            .units
            .iter()
            .map(|u| m::OrgUnit {
                id: u.id.clone(),
                name: u.name.clone(),
                parent: u.parent.clone(),
            })
            .collect(),
        functions: org
            .functions
            .iter()
            .map(|f| m::OrgEntry {
                id: f.id.clone(),
                name: f.name.clone(),
            })
            .collect(),
        mandates: org
            .mandates
            .iter()
            .map(|f| m::OrgEntry {
                id: f.id.clone(),
                name: f.name.clone(),
            })
            .collect(),
        people: org
            .people
            .iter()
            .map(|p| m::OrgPerson {
                id: p.id.clone(),
                name: p.name.clone(),
                email: p.email.clone(),
                key: p.key.clone(),
                positions: p
                    .positions
                    .iter()
                    .map(|pos| match pos {
                        Position::Function { function, unit } => m::OrgPosition::Function {
                            function: function.clone(),
                            unit: unit.clone(),
                        },
                        Position::Mandate(m) => m::OrgPosition::Mandate { mandate: m.clone() },
                    })
                    .collect(),
            })
            .collect(),
        retired: org.retired.clone(),
        left: org.left.clone(),
    }
}

struct Lower<'a> {
    org: &'a Organogram,
    index: &'a Index,
}

/// Names an expression can see while lowering.
#[derive(Default, Clone)]
struct Names {
    kind: Option<String>,
    doc_fields: Vec<String>,
    bound: Vec<String>,
    implicit: Option<(String, Vec<String>)>,
}

impl Lower<'_> {
    fn doc_fields(&self, kind: &str) -> Vec<String> {
        self.index
            .document(kind)
            .map(|d| d.fields.iter().map(|f| f.name.text.clone()).collect())
            .unwrap_or_default()
    }

    fn group(&self, file: &str, g: &GroupDef) -> m::Group {
        let definition = self.group_definition(&g.members);
        // The same membership the shielding check used.
        let members = crate::check::Ctx::new(self.org, "", self.index, file)
            .group_members(g)
            .into_iter()
            .collect();
        m::Group {
            name: g.name.text.clone(),
            shielded: g.shielded.is_some(),
            definition,
            members,
        }
    }

    fn group_definition(&self, members: &GroupMembers) -> m::GroupDefinition {
        match members {
            GroupMembers::Unit(u) => m::GroupDefinition::Unit(u.text.clone()),
            GroupMembers::People(refs) => {
                m::GroupDefinition::People(refs.iter().map(|r| self.signer(r, None)).collect())
            }
            GroupMembers::Union(parts) => {
                m::GroupDefinition::Union(parts.iter().map(|p| self.group_definition(p)).collect())
            }
        }
    }

    /// A signer as the checker resolved it (the one resolver of signers); `names`
    /// gives the flow's document kind. Every field counts as present: the checker has
    /// already proven each use narrowed.
    fn signer(&self, s: &SignerRef, names: Option<&Names>) -> m::Signer {
        let ctx = crate::check::Ctx::new(self.org, "", self.index, "");
        let mut scope = crate::check::Scope {
            doc: names.and_then(|n| n.kind.clone()),
            narrowed: names.map(|n| n.doc_fields.clone()).unwrap_or_default(),
            ..Default::default()
        };
        match ctx.quiet_signer_in(s, &mut scope) {
            Some(t) => model_signer(t),
            // In a rule, `diensthoofd of decision.dienst`: the unit of a record the rule
            // binds (the checker typed it as a unit), as the flows' `of document.x`.
            None if s.of.as_ref().is_some_and(|of| {
                names.is_some_and(|n| n.bound.iter().any(|b| *b == of.segments[0].text))
            }) =>
            {
                m::Signer::Function {
                    id: s.name.text.clone(),
                    unit: m::UnitSel::Field(field_key(s.of.as_ref().expect("checked"))),
                }
            }
            // Only a checked project is lowered; an unresolvable signer cannot be here.
            None => m::Signer::Person {
                id: s.name.text.clone(),
            },
        }
    }

    fn flow(&self, f: &FlowDef) -> m::Flow {
        let names = Names {
            kind: Some(f.kind.text.clone()),
            doc_fields: self.doc_fields(&f.kind.text),
            ..Default::default()
        };
        let visible_to = f
            .visible
            .iter()
            .map(|a| match a {
                Audience::Uploader(_) => m::Audience::Uploader,
                Audience::Signers(_) => m::Audience::Signers,
                Audience::Group(g) => m::Audience::Group {
                    name: g.text.clone(),
                },
                Audience::Unit(p) => m::Audience::Unit {
                    unit: if names.doc_fields.contains(&field_key(p)) || p.segments.len() > 1 {
                        m::UnitSel::Field(field_key(p))
                    } else {
                        m::UnitSel::Fixed(p.text())
                    },
                },
                Audience::Signer(s) => m::Audience::Signer {
                    signer: self.signer(s, Some(&names)),
                },
            })
            .collect();
        let steps = f
            .steps
            .iter()
            .map(|s| {
                let (mode, signs, when): (m::StepMode, Vec<&SignClause>, Option<&Expr>) =
                    match &s.body {
                        StepBody::Sign(c) => (m::StepMode::Single, vec![c], None),
                        StepBody::Parallel { mode, signs, when } => (
                            match mode {
                                ParallelMode::All => m::StepMode::All,
                                ParallelMode::Any => m::StepMode::Any,
                            },
                            signs.iter().collect(),
                            when.as_ref(),
                        ),
                    };
                m::Step {
                    name: s.name.text.clone(),
                    mode,
                    when: when.map(|w| self.expr(w, &names)),
                    signatures: signs
                        .into_iter()
                        .map(|c| m::Signature {
                            signer: self.signer(&c.signer, Some(&names)),
                            when: c.when.as_ref().map(|w| self.expr(w, &names)),
                        })
                        .collect(),
                }
            })
            .collect();
        m::Flow {
            name: f.name.text.clone(),
            document: f.kind.text.clone(),
            when: f.when.as_ref().map(|w| self.expr(w, &names)),
            visible_to,
            steps,
            on_refused: match &f.on_refused {
                None | Some(Refused::BackToUploader(_)) => m::OnRefused::BackToUploader,
                Some(Refused::BackToStep(s)) => m::OnRefused::BackToStep(s.text.clone()),
                Some(Refused::Stop(_)) => m::OnRefused::Stop,
            },
            deadline: f.deadline.as_ref().map(|d| m::Deadline {
                remind_after: duration(&d.remind),
                escalate: d.escalate.as_ref().map(|(after, to)| m::Escalation {
                    after: duration(after),
                    to: self.signer(to, Some(&names)),
                }),
            }),
        }
    }

    fn rule(&self, r: &RuleDef) -> m::Rule {
        let mut names = Names::default();
        if let Some((_, binder, _)) = crate::check::types::EVENTS
            .iter()
            .find(|e| e.0 == r.event.text)
        {
            names.bound.push(binder.to_string());
        }
        m::Rule {
            name: r.name.text.clone(),
            event: r.event.text.clone(),
            when: r.when.as_ref().map(|w| self.expr(w, &names)),
            body: self.block(&r.body, &mut names),
        }
    }

    fn block(&self, stmts: &[Stmt], names: &mut Names) -> Vec<m::Stmt> {
        let depth = names.bound.len();
        let out = stmts.iter().map(|s| self.stmt(s, names)).collect();
        names.bound.truncate(depth);
        out
    }

    fn stmt(&self, s: &Stmt, names: &mut Names) -> m::Stmt {
        match s {
            Stmt::Let { name, value } => {
                let value = match value {
                    LetValue::Match { source, by } => {
                        let mut inner = names.clone();
                        if let Some((record, _)) =
                            MATCH_SOURCES.iter().find(|(n, _)| *n == source.text)
                        {
                            let fields = builtin_fields(record)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(n, _)| n.to_string())
                                .collect();
                            inner.implicit = Some((record.to_string(), fields));
                        }
                        m::LetValue::Match {
                            source: source.text.clone(),
                            by: self.expr(by, &inner),
                        }
                    }
                    LetValue::CheckDebts { kbo, on, .. } => m::LetValue::CheckDebts {
                        kbo: self.expr(kbo, names),
                        on: self.expr(on, names),
                    },
                    LetValue::Expr(e) => m::LetValue::Expr(self.expr(e, names)),
                };
                names.bound.push(name.text.clone());
                m::Stmt::Let {
                    name: name.text.clone(),
                    value,
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => m::Stmt::If {
                cond: self.expr(cond, names),
                then: self.block(then, names),
                otherwise: self.block(otherwise, names),
            },
            Stmt::Action(a) => match &a.kind {
                ActionKind::Queue { queue, reason } => m::Stmt::Queue {
                    queue: queue.text.clone(),
                    reason: reason.clone(),
                },
                ActionKind::Link { from, to } => m::Stmt::Link {
                    from: segs(from),
                    to: segs(to),
                },
                ActionKind::Start { flow, args } => m::Stmt::Start {
                    flow: flow.text.clone(),
                    fields: args
                        .iter()
                        .map(|(n, e)| (n.text.clone(), self.expr(e, names)))
                        .collect(),
                },
                ActionKind::Withhold {
                    amount,
                    cap,
                    agency,
                } => m::Stmt::Withhold {
                    amount: self.expr(amount, names),
                    cap: cap.as_ref().map(|c| self.expr(c, names)),
                    agency: agency.text.clone(),
                },
                ActionKind::Notify { target, message } => m::Stmt::Notify {
                    to: self.signer(target, Some(names)),
                    message: message.clone(),
                },
            },
        }
    }

    fn expr(&self, e: &Expr, names: &Names) -> m::Expr {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e, names))
    }

    fn expr_inner(&self, e: &Expr, names: &Names) -> m::Expr {
        match &e.kind {
            ExprKind::Literal(l) => match l {
                Literal::Money(d) => m::Expr::Money(*d),
                Literal::Number(d) => m::Expr::Number(*d),
                Literal::Percent(d) => m::Expr::Percent(*d),
                Literal::Duration(d, u) => m::Expr::Duration(m::Duration {
                    amount: *d,
                    unit: duration_unit(*u),
                }),
                Literal::Date(s) => m::Expr::Date(s.clone()),
                Literal::Text(s) => m::Expr::Text(s.clone()),
                Literal::Bool(b) => m::Expr::Bool(*b),
                Literal::None => m::Expr::None,
            },
            ExprKind::Path(p) => self.path(p, names),
            ExprKind::Logic(op, a, b) => m::Expr::Logic {
                op: logic_op(*op),
                args: Box::new((self.expr(a, names), self.expr(b, names))),
            },
            ExprKind::Not(a) => m::Expr::Not(Box::new(self.expr(a, names))),
            ExprKind::Compare {
                op,
                lhs,
                rhs,
                within,
            } => m::Expr::Compare {
                op: cmp_op(*op),
                args: Box::new((self.expr(lhs, names), self.expr(rhs, names))),
                within: within.as_ref().map(|w| Box::new(self.expr(w, names))),
            },
            ExprKind::In(v, list) => m::Expr::In {
                value: Box::new(self.expr(v, names)),
                list: list.iter().map(|x| self.expr(x, names)).collect(),
            },
            ExprKind::Call(f, args) => m::Expr::Call {
                function: f.text.clone(),
                args: args.iter().map(|a| self.expr(a, names)).collect(),
            },
            ExprKind::PercentOf(p, v) => m::Expr::PercentOf {
                percent: *p,
                value: Box::new(self.expr(v, names)),
            },
        }
    }

    /// A value path as the checker resolves it (the one resolver of names): its head is
    /// the entity the checker records for it, in the scope `names` describes.
    fn path(&self, p: &Path, names: &Names) -> m::Expr {
        use crate::semantic::{Builtin, Entity};
        let head = &p.segments[0];
        let mut ctx = crate::check::Ctx::new(self.org, "", self.index, "");
        let mut scope = crate::check::Scope {
            doc: names.kind.clone(),
            implicit: names.implicit.as_ref().map(|(record, _)| record.clone()),
            bindings: names
                .bound
                .iter()
                .map(|b| crate::check::Binding {
                    name: b.clone(),
                    ty: crate::check::types::Ty::Unknown,
                    span: 0..0,
                    used: true,
                    warn_unused: false,
                })
                .collect(),
            narrowed: Vec::new(),
        };
        ctx.path_ty(p, &mut scope);
        let recorded = ctx
            .recorded
            .occurrences
            .iter()
            .find(|o| o.span == head.span)
            .map(|o| &o.entity);
        match recorded {
            Some(Entity::Builtin(Builtin::Document) | Entity::Field { .. }) => {
                m::Expr::Field(field_key(p).split('.').map(str::to_string).collect())
            }
            Some(Entity::RecordField { record, .. }) => {
                let mut v = vec![record.clone()];
                v.extend(segs(p));
                m::Expr::Field(v)
            }
            Some(Entity::Local { .. }) => m::Expr::Field(segs(p)),
            Some(e @ (Entity::Person { .. } | Entity::Unit(_) | Entity::Role { .. })) => {
                match e.org_id() {
                    Some((kind, id)) => m::Expr::Org {
                        kind,
                        id: id.to_string(),
                    },
                    None => m::Expr::Group(head.text.clone()),
                }
            }
            // A group; only a checked project is lowered, so nothing else is here.
            _ => m::Expr::Group(head.text.clone()),
        }
    }
}

/// A signer as the checker resolved it, in the model's terms (also what the checker's
/// shielding lowers: `check/shielding.rs`).
pub(crate) fn model_signer(t: crate::check::SignerTarget) -> m::Signer {
    use crate::check::{SignerTarget, UnitRef};
    match t {
        SignerTarget::Person(id) => m::Signer::Person { id },
        SignerTarget::Mandate(id) => m::Signer::Mandate { id },
        SignerTarget::PersonField(field) => m::Signer::PersonField { field },
        SignerTarget::Function(id, unit) => m::Signer::Function {
            id,
            unit: match unit {
                UnitRef::Any => m::UnitSel::Any,
                UnitRef::Fixed(u) => m::UnitSel::Fixed(u),
                UnitRef::Field(f) => m::UnitSel::Field(f),
            },
        },
    }
}

fn segs(p: &Path) -> Vec<String> {
    p.segments.iter().map(|s| s.text.clone()).collect()
}

fn duration(d: &DurationLit) -> m::Duration {
    m::Duration {
        amount: d.amount,
        unit: duration_unit(d.unit),
    }
}

/// The model's comparison for the syntax's (the persisted names are the same).
fn cmp_op(op: CmpOp) -> m::CmpOp {
    match op {
        CmpOp::Eq => m::CmpOp::Eq,
        CmpOp::Ne => m::CmpOp::Ne,
        CmpOp::Lt => m::CmpOp::Lt,
        CmpOp::Le => m::CmpOp::Le,
        CmpOp::Gt => m::CmpOp::Gt,
        CmpOp::Ge => m::CmpOp::Ge,
        CmpOp::Approx => m::CmpOp::Approx,
    }
}

/// The model's `and`/`or` for the syntax's.
fn logic_op(op: LogicOp) -> m::LogicOp {
    match op {
        LogicOp::And => m::LogicOp::And,
        LogicOp::Or => m::LogicOp::Or,
    }
}

/// The model's duration unit for the syntax's.
fn duration_unit(unit: DurationUnit) -> m::DurationUnit {
    match unit {
        DurationUnit::Days => m::DurationUnit::Days,
        DurationUnit::Workdays => m::DurationUnit::Workdays,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each syntax operator lowers to the model operator persisted under the same name.
    #[test]
    fn operators_lower_to_the_same_persisted_names() {
        let same = |a: serde_json::Value, b: serde_json::Value| assert_eq!(a, b);
        for op in [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
            CmpOp::Approx,
        ] {
            same(serde_json::json!(op), serde_json::json!(cmp_op(op)));
            assert_eq!(op.as_str(), cmp_op(op).as_str());
        }
        for op in [LogicOp::And, LogicOp::Or] {
            same(serde_json::json!(op), serde_json::json!(logic_op(op)));
        }
        for u in [DurationUnit::Days, DurationUnit::Workdays] {
            same(serde_json::json!(u), serde_json::json!(duration_unit(u)));
        }
    }
}
