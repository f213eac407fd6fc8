//! What a name occurrence denotes: an [`Entity`].

use crate::check::UnitRef;
use crate::check::types::Ty;
use crate::org::OrgKind;

/// The entity a name denotes, as the checker resolved it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    /// A person of the organogram: the id written and the HR key it stands for
    /// (`org::identity`: the key, else the e-mail).
    Person {
        /// The organogram id.
        id: String,
        /// The person's identity across renames.
        key: String,
    },
    /// An organogram unit.
    Unit(String),
    /// A function or mandate of the organogram, and the unit it is held in: a fixed unit
    /// means exactly that unit (not the units below it), as the checker and the runtime
    /// route.
    Role {
        /// The organogram id.
        id: String,
        /// Function or mandate.
        kind: OrgKind,
        /// Where it is held: any unit, exactly one unit, or the unit in a field.
        unit: UnitRef,
    },
    /// A group of the project.
    Group(String),
    /// A document kind of the project.
    DocumentKind(String),
    /// A field of a document kind, with its declared type.
    Field {
        /// The document kind.
        kind: String,
        /// The field.
        field: String,
        /// Its declared type.
        ty: Ty,
    },
    /// A field of a built-in record (`invoice.amount`), with its type.
    RecordField {
        /// The record.
        record: String,
        /// The field.
        field: String,
        /// Its type.
        ty: Ty,
    },
    /// A flow.
    Flow(String),
    /// A step of a flow.
    Step {
        /// The flow.
        flow: String,
        /// The step.
        step: String,
    },
    /// A rule.
    Rule(String),
    /// A creditor agency.
    Agency(String),
    /// A name a rule binds: a `let`, or the record of its event; with its type.
    Local {
        /// The rule.
        rule: String,
        /// The name.
        name: String,
        /// Its type.
        ty: Ty,
    },
    /// A word of the language that stands where a name could: `uploader`, `signers`,
    /// `none`, `document`, a built-in function.
    Builtin(Builtin),
    /// A name that denotes nothing here, with the reason (the checker's message).
    Unresolved {
        /// Why, in words.
        reason: String,
    },
}

/// The built-in words an [`Entity::Builtin`] stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// The person who submitted the document.
    Uploader,
    /// Everyone who signs or signed the document.
    Signers,
    /// The absent value.
    None,
    /// The flow's document (`document.x`).
    Document,
    /// A built-in function (`min`, `max`).
    Function(String),
}

impl Entity {
    /// An organogram entry by id and kind; a function or mandate held anywhere.
    pub fn org(org: &crate::org::Organogram, id: &str, kind: OrgKind) -> Entity {
        match kind {
            OrgKind::Unit => Entity::Unit(id.to_string()),
            OrgKind::Person => Entity::Person {
                id: id.to_string(),
                key: org
                    .people
                    .iter()
                    .find(|p| p.id == id)
                    .map_or_else(|| id.to_string(), |p| p.identity()),
            },
            OrgKind::Function | OrgKind::Mandate => Entity::Role {
                id: id.to_string(),
                kind,
                unit: UnitRef::Any,
            },
        }
    }

    /// The organogram id and kind, for an organogram entry.
    pub fn org_id(&self) -> Option<(OrgKind, &str)> {
        match self {
            Entity::Person { id, .. } => Some((OrgKind::Person, id)),
            Entity::Unit(id) => Some((OrgKind::Unit, id)),
            Entity::Role { id, kind, .. } => Some((*kind, id)),
            _ => None,
        }
    }

    /// Whether the project defines it (and so rename may change it).
    pub fn is_project_name(&self) -> bool {
        matches!(
            self,
            Entity::Group(_)
                | Entity::DocumentKind(_)
                | Entity::Field { .. }
                | Entity::Flow(_)
                | Entity::Step { .. }
                | Entity::Rule(_)
                | Entity::Agency(_)
                | Entity::Local { .. }
        )
    }
}
