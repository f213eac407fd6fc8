//! What each name in a file denotes, as a view of the semantic model
//! ([`crate::semantic`]): the checker decides, this only names its answers for the
//! organogram migration and `org diff`, which resolve against an organogram of their own.

use super::Index;
use crate::org::{OrgKind, Organogram};
use crate::semantic::{self, Entity, Occurrence};
use crate::syntax::ast::SourceAst;
use std::ops::Range;

/// What a name denotes (an entity of the semantic model, without types and units).
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
    /// The meaning of an entity of the semantic model; `None` for built-in words,
    /// fields of built-in records and unresolved names.
    pub fn of(e: &Entity) -> Option<Meaning> {
        Some(match e {
            Entity::Person { .. } | Entity::Unit(_) | Entity::Role { .. } => {
                let (kind, id) = e.org_id()?;
                Meaning::Org(kind, id.to_string())
            }
            Entity::Group(g) => Meaning::Group(g.clone()),
            Entity::DocumentKind(k) => Meaning::DocumentKind(k.clone()),
            Entity::Field { kind, field, .. } => Meaning::Field {
                kind: kind.clone(),
                field: field.clone(),
            },
            Entity::Flow(f) => Meaning::Flow(f.clone()),
            Entity::Step { flow, step } => Meaning::Step {
                flow: flow.clone(),
                step: step.clone(),
            },
            Entity::Rule(r) => Meaning::Rule(r.clone()),
            Entity::Agency(a) => Meaning::Agency(a.clone()),
            Entity::Local { rule, name, .. } => Meaning::Local {
                rule: rule.clone(),
                name: name.clone(),
            },
            Entity::RecordField { .. } | Entity::Builtin(_) | Entity::Unresolved { .. } => {
                return None;
            }
        })
    }

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

impl NameRef {
    /// The view of one occurrence of the semantic model, if it has a meaning here.
    pub fn of(o: &Occurrence) -> Option<NameRef> {
        Some(NameRef {
            span: o.span.clone(),
            meaning: Meaning::of(&o.entity)?,
            definition: o.definition,
        })
    }
}

/// Every resolved name of a file, by position, as the checker resolves them against
/// `index` and `org`. Names that resolve to nothing are left out (the checker reports
/// them).
pub fn names(ast: &SourceAst, index: &Index, org: &Organogram) -> Vec<NameRef> {
    let (_, model) = semantic::check_file(org, "", index, "", ast);
    model.occurrences().iter().filter_map(NameRef::of).collect()
}

/// The name at byte `offset`, if any.
pub fn name_at(ast: &SourceAst, index: &Index, org: &Organogram, offset: usize) -> Option<NameRef> {
    let (_, model) = semantic::check_file(org, "", index, "", ast);
    model.at(offset).and_then(NameRef::of)
}
