//! The organogram: units, functions, mandates, people and their positions.

use paraaf_model::OrgIndex;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// What an organogram id names, and who a person is: the compiled model's, one meaning
/// for the checker, the importer and the runtime.
pub use paraaf_model::{OrgKind, identity, is_identity, same_person};

/// A unit (department, service, team, political body).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Unit {
    /// Stable id (kebab-case).
    pub id: String,
    /// Display name.
    pub name: String,
    /// `department`, `service`, `team`, `body`.
    pub kind: String,
    /// Parent unit id.
    pub parent: Option<String>,
    /// Span of the id in the organogram file.
    pub span: Range<usize>,
}

/// A function (algemeen directeur, diensthoofd, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Function {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Held once per unit (diensthoofd) rather than once in the organisation.
    pub per_unit: bool,
    /// Span of the id.
    pub span: Range<usize>,
}

/// A political mandate (burgemeester, schepen van financiën, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mandate {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Span of the id.
    pub span: Range<usize>,
}

/// A position a person holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Position {
    /// A function in a unit.
    Function {
        /// Function id.
        function: String,
        /// Unit id.
        unit: String,
    },
    /// A mandate.
    Mandate(String),
}

/// A person and their positions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Person {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// The HR key (personeelsnummer): who this person is across renames, namesakes and
    /// re-imports. `None` in organograms without keys (the e-mail is the fallback).
    pub key: Option<String>,
    /// Positions held today.
    pub positions: Vec<Position>,
    /// Span of the id.
    pub span: Range<usize>,
}

impl Person {
    /// Who this person is: see [`identity`].
    pub fn identity(&self) -> String {
        identity(self.key.as_deref(), &self.email, &self.id)
    }
}

/// A whole organogram, with lookups. Built by [`super::load_toml`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Organogram {
    /// City name.
    pub city: String,
    /// Units.
    pub units: Vec<Unit>,
    /// Functions.
    pub functions: Vec<Function>,
    /// Mandates.
    pub mandates: Vec<Mandate>,
    /// People.
    pub people: Vec<Person>,
    /// Ids of people who left → the identity each was given to (`[retired]`): never
    /// given to anyone else.
    pub retired: BTreeMap<String, String>,
    /// The identity of every person who left → the id they had when they left
    /// (`[left]`): what they get back if they return.
    pub left: BTreeMap<String, String>,
    pub(crate) index: BTreeMap<String, (OrgKind, usize)>,
    /// Who holds what and which unit is where: the compiled model's index over this
    /// organogram, built once per organogram (so once per revision of its salsa query),
    /// the same one the runtime routes with. A check of 2,000 files against 50,000
    /// people never scans the people for a signer.
    pub(crate) lookup: OrgIndex,
}

impl Organogram {
    /// An organogram as the compiled model carries it (a deployed version in the
    /// runtime), for comparing versions with `org diff`. The compiled model keeps no unit
    /// kinds, spans or city name: those stay empty.
    pub fn from_compiled(c: &paraaf_model::Organogram) -> Organogram {
        use paraaf_model::OrgPosition;
        let mut org = Organogram {
            city: String::new(),
            units: c
                .units
                .iter()
                .map(|u| Unit {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    kind: String::new(),
                    parent: u.parent.clone(),
                    span: 0..0,
                })
                .collect(),
            functions: c
                .functions
                .iter()
                .map(|f| Function {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    per_unit: true,
                    span: 0..0,
                })
                .collect(),
            mandates: c
                .mandates
                .iter()
                .map(|m| Mandate {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    span: 0..0,
                })
                .collect(),
            people: c
                .people
                .iter()
                .map(|p| Person {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    email: p.email.clone(),
                    key: p.key.clone(),
                    positions: p
                        .positions
                        .iter()
                        .map(|pos| match pos {
                            OrgPosition::Function { function, unit } => Position::Function {
                                function: function.clone(),
                                unit: unit.clone(),
                            },
                            OrgPosition::Mandate { mandate } => Position::Mandate(mandate.clone()),
                        })
                        .collect(),
                    span: 0..0,
                })
                .collect(),
            retired: c.retired.clone(),
            left: c.left.clone(),
            index: BTreeMap::new(),
            lookup: OrgIndex::default(),
        };
        let _ = org.build_index();
        org
    }

    /// Builds the id index. Returns the ids defined twice.
    pub(crate) fn build_index(&mut self) -> Vec<(String, Range<usize>)> {
        let mut dups = Vec::new();
        let mut index = BTreeMap::new();
        let entries = self
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), u.span.clone(), OrgKind::Unit, i))
            .chain(
                self.functions
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.id.clone(), f.span.clone(), OrgKind::Function, i)),
            )
            .chain(
                self.mandates
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.id.clone(), m.span.clone(), OrgKind::Mandate, i)),
            )
            .chain(
                self.people
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.id.clone(), p.span.clone(), OrgKind::Person, i)),
            );
        for (id, span, kind, i) in entries {
            if index.insert(id.clone(), (kind, i)).is_some() {
                dups.push((id, span));
            }
        }
        self.index = index;
        self.lookup = OrgIndex::new(&crate::compile::org_snapshot(self));
        dups
    }

    /// What kind of thing `id` names, if anything.
    pub fn kind_of(&self, id: &str) -> Option<OrgKind> {
        self.index.get(id).map(|(k, _)| *k)
    }

    /// All ids with their kinds (for suggestions and completion).
    pub fn ids(&self) -> impl Iterator<Item = (&str, OrgKind)> {
        self.index.iter().map(|(id, (k, _))| (id.as_str(), *k))
    }

    /// Span of the definition of `id` in the organogram file.
    pub fn span_of(&self, id: &str) -> Option<Range<usize>> {
        let (kind, i) = *self.index.get(id)?;
        Some(match kind {
            OrgKind::Unit => self.units[i].span.clone(),
            OrgKind::Function => self.functions[i].span.clone(),
            OrgKind::Mandate => self.mandates[i].span.clone(),
            OrgKind::Person => self.people[i].span.clone(),
        })
    }

    /// Display name of `id`.
    pub fn display_name(&self, id: &str) -> Option<&str> {
        let (kind, i) = *self.index.get(id)?;
        Some(match kind {
            OrgKind::Unit => &self.units[i].name,
            OrgKind::Function => &self.functions[i].name,
            OrgKind::Mandate => &self.mandates[i].name,
            OrgKind::Person => &self.people[i].name,
        })
    }

    /// The unit with this id.
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        match self.index.get(id) {
            Some((OrgKind::Unit, i)) => Some(&self.units[*i]),
            _ => None,
        }
    }

    /// The function with this id.
    pub fn function(&self, id: &str) -> Option<&Function> {
        match self.index.get(id) {
            Some((OrgKind::Function, i)) => Some(&self.functions[*i]),
            _ => None,
        }
    }

    /// `unit` and all units below it (a cycle in the parents cannot loop).
    pub fn unit_and_descendants<'a>(&'a self, unit: &'a str) -> BTreeSet<&'a str> {
        self.lookup.unit_and_below(unit)
    }

    /// People who hold `id` today: the person itself, holders of a mandate, or holders of
    /// a function (restricted to `in_unit` when given).
    pub fn holders(&self, id: &str, in_unit: Option<&str>) -> BTreeSet<&str> {
        match self.index.get(id) {
            Some((OrgKind::Person, i)) => [self.people[*i].id.as_str()].into(),
            Some((OrgKind::Mandate, _)) => self.lookup.mandate_holders(id),
            Some((OrgKind::Function, _)) => self.lookup.function_holders(id, in_unit),
            _ => BTreeSet::new(),
        }
    }

    /// People with a position in `unit` or any unit below it.
    pub fn members_of_unit<'a>(&'a self, unit: &'a str) -> BTreeSet<&'a str> {
        self.lookup.people_within(unit)
    }

    /// Units in which `function` is held by someone.
    pub fn units_holding(&self, function: &str) -> BTreeSet<&str> {
        self.lookup.units_holding(function)
    }

    /// Display name of a person by id (for messages).
    pub fn person_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.display_name(id).unwrap_or(id)
    }
}
