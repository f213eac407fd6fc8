//! What each name in a file denotes: the one resolver that the language server's hover,
//! definition, references and rename ask. The position of a name decides its namespace
//! (after `group` a group, after `unit` a unit, `shielded by` a group, `person in` a
//! group, `unit in` a unit); a signer's name is the organogram entry, or else a field of
//! the flow's document — the same order the checker uses.

use super::Index;
use crate::org::{OrgKind, Organogram};
use crate::syntax::ast::*;
use std::ops::Range;

/// What a name denotes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Meaning {
    /// A document kind of the project.
    DocumentKind(String),
    /// A flow.
    Flow(String),
    /// A group.
    Group(String),
    /// An agency.
    Agency(String),
    /// A rule.
    Rule(String),
    /// A field of a document kind.
    Field {
        /// The kind.
        kind: String,
        /// The field.
        field: String,
    },
    /// A step of a flow.
    Step {
        /// The flow.
        flow: String,
        /// The step.
        step: String,
    },
    /// An organogram entry.
    Org(OrgKind, String),
    /// A name bound inside a rule: a `let`, or the record of its event (`decision` in
    /// `on decision.received`). Lives in that rule only.
    Local {
        /// The rule.
        rule: String,
        /// The name.
        name: String,
    },
}

impl Meaning {
    /// Whether the project defines it (and so rename may change it).
    pub fn is_project_name(&self) -> bool {
        !matches!(self, Meaning::Org(..))
    }
}

/// One occurrence of a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRef {
    /// Byte range in the file.
    pub span: Range<usize>,
    /// What it denotes.
    pub meaning: Meaning,
    /// Whether this occurrence defines it.
    pub definition: bool,
}

/// Every resolved name of a file, in no particular order. Names that resolve to nothing
/// are left out (the checker reports them).
pub fn names(ast: &SourceAst, index: &Index, org: &Organogram) -> Vec<NameRef> {
    let mut r = Resolver {
        index,
        org,
        out: Vec::new(),
        locals: None,
    };
    for item in &ast.items {
        r.item(item);
    }
    r.out
}

/// The name at byte `offset`, if any.
pub fn name_at(ast: &SourceAst, index: &Index, org: &Organogram, offset: usize) -> Option<NameRef> {
    names(ast, index, org)
        .into_iter()
        .find(|n| n.span.start <= offset && offset <= n.span.end)
}

struct Resolver<'a> {
    index: &'a Index,
    org: &'a Organogram,
    out: Vec<NameRef>,
    /// Inside a rule: its name and the names it binds.
    locals: Option<(String, std::collections::BTreeSet<String>)>,
}

/// Every name a rule body binds with `let`, at any depth, in order.
fn let_names(body: &[Stmt]) -> Vec<&Name> {
    fn walk<'a>(body: &'a [Stmt], out: &mut Vec<&'a Name>) {
        for s in body {
            match s {
                Stmt::Let { name, .. } => out.push(name),
                Stmt::If {
                    then, otherwise, ..
                } => {
                    walk(then, out);
                    walk(otherwise, out);
                }
                Stmt::Action(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(body, &mut out);
    out
}

/// Where a rule binds `name`: its `let`s (at any depth), else the record of its event.
pub fn local_definitions(rule: &RuleDef, name: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = let_names(&rule.body)
        .into_iter()
        .filter(|n| n.text == name)
        .map(|n| n.span.clone())
        .collect();
    if let Some(r) = event_record(rule)
        .filter(|(r, _)| *r == name)
        .map(|(_, s)| s)
    {
        out.push(r);
    }
    out
}

/// The record an event names (`decision` in `decision.received`) and its span.
fn event_record(rule: &RuleDef) -> Option<(&str, Range<usize>)> {
    let (record, _) = rule.event.text.split_once('.')?;
    let start = rule.event.span.start;
    Some((record, start..start + record.len()))
}

impl Resolver<'_> {
    fn push(&mut self, n: &Name, meaning: Meaning, definition: bool) {
        self.out.push(NameRef {
            span: n.span.clone(),
            meaning,
            definition,
        });
    }

    fn org_name(&mut self, n: &Name, want: Option<OrgKind>) {
        if let Some(k) = self.org.kind_of(&n.text)
            && want.is_none_or(|w| w == k)
        {
            self.push(n, Meaning::Org(k, n.text.clone()), false);
        }
    }

    /// `n` as a name the current rule binds, if it is one.
    fn local(&mut self, n: &Name, definition: bool) -> bool {
        let Some((rule, bound)) = &self.locals else {
            return false;
        };
        if !bound.contains(&n.text) {
            return false;
        }
        let meaning = Meaning::Local {
            rule: rule.clone(),
            name: n.text.clone(),
        };
        self.push(n, meaning, definition);
        true
    }

    fn group_ref(&mut self, n: &Name) {
        if self.index.group(&n.text).is_some() {
            self.push(n, Meaning::Group(n.text.clone()), false);
        }
    }

    fn has_field(&self, kind: Option<&str>, field: &str) -> bool {
        kind.and_then(|k| self.index.document(k))
            .is_some_and(|d| d.fields.iter().any(|f| f.name.text == field))
    }

    fn field_ref(&mut self, kind: Option<&str>, n: &Name) {
        if let Some(k) = kind
            && self.has_field(Some(k), &n.text)
        {
            self.push(
                n,
                Meaning::Field {
                    kind: k.to_string(),
                    field: n.text.clone(),
                },
                false,
            );
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Document(d) => {
                let kind = d.name.text.clone();
                self.push(&d.name, Meaning::DocumentKind(kind.clone()), true);
                if let Some(sh) = &d.shield {
                    self.group_ref(&sh.group);
                    if let Some(a) = &sh.allow {
                        self.field_ref(Some(&kind), a);
                    }
                }
                for f in &d.fields {
                    self.push(
                        &f.name,
                        Meaning::Field {
                            kind: kind.clone(),
                            field: f.name.text.clone(),
                        },
                        true,
                    );
                    if let Some(w) = &f.ty.within {
                        if f.ty.name.text == "person" {
                            self.group_ref(w);
                        } else {
                            self.org_name(w, Some(OrgKind::Unit));
                        }
                    }
                }
            }
            Item::Substitutes(s) => {
                self.signer(&s.holder, None);
                for x in &s.substitutes {
                    self.signer(x, None);
                }
            }
            Item::Group(g) => {
                self.push(&g.name, Meaning::Group(g.name.text.clone()), true);
                self.members(&g.members);
            }
            Item::Agency(a) => self.push(&a.name, Meaning::Agency(a.name.text.clone()), true),
            Item::Flow(f) => self.flow(f),
            Item::Rule(r) => {
                self.push(&r.name, Meaning::Rule(r.name.text.clone()), true);
                let mut bound: std::collections::BTreeSet<String> = let_names(&r.body)
                    .into_iter()
                    .map(|n| n.text.clone())
                    .collect();
                if let Some((record, span)) = event_record(r) {
                    bound.insert(record.to_string());
                    self.out.push(NameRef {
                        span,
                        meaning: Meaning::Local {
                            rule: r.name.text.clone(),
                            name: record.to_string(),
                        },
                        definition: true,
                    });
                }
                self.locals = Some((r.name.text.clone(), bound));
                if let Some(w) = &r.when {
                    self.expr(w, None);
                }
                self.stmts(&r.body);
                self.locals = None;
            }
        }
    }

    fn members(&mut self, m: &GroupMembers) {
        match m {
            GroupMembers::Unit(u) => self.org_name(u, Some(OrgKind::Unit)),
            GroupMembers::People(refs) => {
                for s in refs {
                    self.signer(s, None);
                }
            }
            GroupMembers::Union(parts) => {
                for p in parts {
                    self.members(p);
                }
            }
        }
    }

    fn signer(&mut self, s: &SignerRef, kind: Option<&str>) {
        if self.org.kind_of(&s.name.text).is_some() {
            self.org_name(&s.name, None);
        } else {
            self.field_ref(kind, &s.name);
        }
        if let Some(of) = &s.of {
            self.unit_path(of, kind);
        }
    }

    /// `of X`, `unit X`: an organogram unit, or a unit field (`document.x` or bare `x`).
    fn unit_path(&mut self, p: &Path, kind: Option<&str>) {
        match p.segments.as_slice() {
            [one] if self.org.kind_of(&one.text) == Some(OrgKind::Unit) => {
                self.org_name(one, Some(OrgKind::Unit))
            }
            [one] => self.field_ref(kind, one),
            [doc, field, ..] if doc.text == "document" => self.field_ref(kind, field),
            _ => {}
        }
    }

    fn flow(&mut self, f: &FlowDef) {
        let flow = f.name.text.clone();
        let kind = Some(f.kind.text.as_str());
        self.push(&f.name, Meaning::Flow(flow.clone()), true);
        if self.index.document(&f.kind.text).is_some() {
            self.push(&f.kind, Meaning::DocumentKind(f.kind.text.clone()), false);
        }
        if let Some(w) = &f.when {
            self.expr(w, kind);
        }
        for a in &f.visible {
            match a {
                Audience::Group(g) => self.group_ref(g),
                Audience::Unit(p) => self.unit_path(p, kind),
                Audience::Signer(s) => self.signer(s, kind),
                Audience::Uploader(_) | Audience::Signers(_) => {}
            }
        }
        for step in &f.steps {
            self.push(
                &step.name,
                Meaning::Step {
                    flow: flow.clone(),
                    step: step.name.text.clone(),
                },
                true,
            );
            match &step.body {
                StepBody::Sign(c) => self.clause(c, kind),
                StepBody::Parallel { signs, when, .. } => {
                    for c in signs {
                        self.clause(c, kind);
                    }
                    if let Some(w) = when {
                        self.expr(w, kind);
                    }
                }
            }
        }
        if let Some(Refused::BackToStep(s)) = &f.on_refused
            && f.steps.iter().any(|x| x.name.text == s.text)
        {
            self.push(
                s,
                Meaning::Step {
                    flow: flow.clone(),
                    step: s.text.clone(),
                },
                false,
            );
        }
        if let Some((_, to)) = f.deadline.as_ref().and_then(|d| d.escalate.as_ref()) {
            self.signer(to, kind);
        }
    }

    fn clause(&mut self, c: &SignClause, kind: Option<&str>) {
        self.signer(&c.signer, kind);
        if let Some(w) = &c.when {
            self.expr(w, kind);
        }
    }

    fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            match s {
                Stmt::Let { name, value } => {
                    self.local(name, true);
                    match value {
                        LetValue::Match { by, .. } => self.expr(by, None),
                        LetValue::CheckDebts { kbo, on, .. } => {
                            self.expr(kbo, None);
                            self.expr(on, None);
                        }
                        LetValue::Expr(e) => self.expr(e, None),
                    }
                }
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    self.expr(cond, None);
                    self.stmts(then);
                    self.stmts(otherwise);
                }
                Stmt::Action(a) => match &a.kind {
                    ActionKind::Start { flow, args } => {
                        let kind = self.index.flow(&flow.text).map(|f| f.kind.text.clone());
                        if kind.is_some() {
                            self.push(flow, Meaning::Flow(flow.text.clone()), false);
                        }
                        for (field, e) in args {
                            self.field_ref(kind.as_deref(), field);
                            self.expr(e, None);
                        }
                    }
                    ActionKind::Withhold {
                        amount,
                        cap,
                        agency,
                    } => {
                        self.expr(amount, None);
                        if let Some(c) = cap {
                            self.expr(c, None);
                        }
                        if self.index.agencies.contains_key(&agency.text) {
                            self.push(agency, Meaning::Agency(agency.text.clone()), false);
                        }
                    }
                    ActionKind::Notify { target, .. } => self.signer(target, None),
                    ActionKind::Link { from, to } => {
                        for p in [from, to] {
                            if let Some(head) = p.segments.first() {
                                self.local(head, false);
                            }
                        }
                    }
                    ActionKind::Queue { .. } => {}
                },
            }
        }
    }

    fn expr(&mut self, e: &Expr, kind: Option<&str>) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match &e.kind {
            ExprKind::Path(p) => self.value_path(p, kind),
            ExprKind::Logic(_, a, b) => {
                self.expr(a, kind);
                self.expr(b, kind);
            }
            ExprKind::Not(a) | ExprKind::PercentOf(_, a) => self.expr(a, kind),
            ExprKind::Compare {
                lhs, rhs, within, ..
            } => {
                self.expr(lhs, kind);
                self.expr(rhs, kind);
                if let Some(w) = within {
                    self.expr(w, kind);
                }
            }
            ExprKind::In(v, list) => {
                self.expr(v, kind);
                for x in list {
                    self.expr(x, kind);
                }
            }
            ExprKind::Call(_, args) => {
                for a in args {
                    self.expr(a, kind);
                }
            }
            ExprKind::Literal(_) => {}
        })
    }

    /// A value path: `document.x`, a bare field, an organogram name, a group. Names bound
    /// by a rule (`let`, the event record) are local and left out.
    fn value_path(&mut self, p: &Path, kind: Option<&str>) {
        let Some(head) = p.segments.first() else {
            return;
        };
        if self.local(head, false) {
            return;
        }
        if head.text == "document" {
            if let Some(f) = p.segments.get(1) {
                self.field_ref(kind, f);
            }
        } else if p.segments.len() == 1 {
            if self.org.kind_of(&head.text).is_some() {
                self.org_name(head, None);
            } else if self.has_field(kind, &head.text) {
                self.field_ref(kind, head);
            } else {
                self.group_ref(head);
            }
        }
    }
}
