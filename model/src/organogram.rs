//! The organogram as a compiled project carries it (and as the runtime deploys it), the
//! kinds of things an organogram id names, and who a person is across renames.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an organogram id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// A department, service or team.
    Unit,
    /// A management or staff function (held in a unit).
    Function,
    /// A political mandate.
    Mandate,
    /// A person.
    Person,
}

impl OrgKind {
    /// The word used in messages.
    pub fn word(self) -> &'static str {
        match self {
            OrgKind::Unit => "unit",
            OrgKind::Function => "function",
            OrgKind::Mandate => "mandate",
            OrgKind::Person => "person",
        }
    }
}

/// Who a person is, whatever their id or name: the HR key; else, as a documented
/// fallback, `e-mail:` and the address in lower case; else `id:` and the id (nothing
/// then tells a namesake apart). One function for the compiler, the importer and the
/// runtime.
pub fn identity(key: Option<&str>, email: &str, id: &str) -> String {
    match key.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => k.to_string(),
        None if !email.trim().is_empty() => format!("e-mail:{}", email.trim().to_lowercase()),
        None => format!("id:{id}"),
    }
}

/// Whether the person recorded as `recorded` (an [`identity`]) is the one with this key
/// and e-mail: the same identity, or — when keys were added to an organogram without
/// them — the same e-mail address the recorded fallback names.
pub fn is_identity(recorded: &str, key: Option<&str>, email: &str, id: &str) -> bool {
    recorded == identity(key, email, id)
        || (!email.trim().is_empty()
            && recorded == format!("e-mail:{}", email.trim().to_lowercase()))
        || recorded == format!("id:{id}")
}

/// Whether two entries of one id (before and after an HR export) are the same person:
/// the same HR key when both have one, else the same e-mail address.
pub fn same_person(a: (Option<&str>, &str), b: (Option<&str>, &str)) -> bool {
    match (a.0, b.0) {
        (Some(x), Some(y)) => x == y,
        _ => a.1.trim().eq_ignore_ascii_case(b.1.trim()),
    }
}

/// The organogram snapshot in a compiled project.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Organogram {
    /// Units.
    pub units: Vec<OrgUnit>,
    /// Function ids and names.
    pub functions: Vec<OrgEntry>,
    /// Mandate ids and names.
    pub mandates: Vec<OrgEntry>,
    /// People and their positions.
    pub people: Vec<OrgPerson>,
    /// Ids of people who left, with the HR key each was given to: an id is a label
    /// chosen once, never given to another person (see [`OrgPerson::identity`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retired: BTreeMap<String, String>,
    /// The HR key of every person who left → the id they had when they left: the one
    /// they get back if they return (they may have had older ids, in `retired` too).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left: BTreeMap<String, String>,
}

/// A unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgUnit {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Parent unit.
    pub parent: Option<String>,
}

/// A function or mandate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgEntry {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A person.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgPerson {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// The HR key (personeelsnummer): the person's stable identity across renames,
    /// namesakes and re-imports. Absent in organograms made before keys existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Positions.
    pub positions: Vec<OrgPosition>,
}

impl OrgPerson {
    /// Who this person is, whatever their id or name: the HR key, else (a documented
    /// fallback) the e-mail address, else only the id itself.
    pub fn identity(&self) -> String {
        identity(self.key.as_deref(), &self.email, &self.id)
    }
}

/// A position.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrgPosition {
    /// A function in a unit.
    Function {
        /// Function id.
        function: String,
        /// Unit id.
        unit: String,
    },
    /// A mandate.
    Mandate {
        /// Mandate id.
        mandate: String,
    },
}
