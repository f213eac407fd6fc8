//! Lookups in the organogram snapshot of a compiled project: the one index of holders,
//! members and ancestry that the shielding verifier and the runtime both use.

use super::model::{OrgPosition, Organogram, Signer, UnitSel};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Who holds what, built once per deployed version.
#[derive(Clone, Debug, Default)]
pub struct OrgIndex {
    parent: BTreeMap<String, Option<String>>,
    /// function id → (unit, person)
    functions: BTreeMap<String, Vec<(String, String)>>,
    mandates: BTreeMap<String, Vec<String>>,
    people: BTreeSet<String>,
    names: BTreeMap<String, String>,
    /// Display names of functions and mandates ("Diensthoofd", "Burgemeester").
    titles: BTreeMap<String, String>,
    /// unit → everyone with a position in it or below it (precomputed: `may_see` is hot).
    members: BTreeMap<String, BTreeSet<String>>,
    /// e-mail address (lower case) → person id, for sign-in through the city's identity
    /// provider.
    emails: BTreeMap<String, String>,
}

impl OrgIndex {
    /// Indexes a snapshot.
    pub fn new(org: &Organogram) -> OrgIndex {
        let mut idx = OrgIndex::default();
        for u in &org.units {
            idx.parent.insert(u.id.clone(), u.parent.clone());
            idx.names.insert(u.id.clone(), u.name.clone());
        }
        for f in org.functions.iter().chain(&org.mandates) {
            idx.titles.insert(f.id.clone(), f.name.clone());
        }
        for p in &org.people {
            idx.people.insert(p.id.clone());
            idx.names.insert(p.id.clone(), p.name.clone());
            if !p.email.is_empty() {
                idx.emails.insert(p.email.to_lowercase(), p.id.clone());
            }
            for pos in &p.positions {
                match pos {
                    OrgPosition::Function { function, unit } => idx
                        .functions
                        .entry(function.clone())
                        .or_default()
                        .push((unit.clone(), p.id.clone())),
                    OrgPosition::Mandate { mandate } => idx
                        .mandates
                        .entry(mandate.clone())
                        .or_default()
                        .push(p.id.clone()),
                }
            }
        }
        let units: Vec<String> = idx.parent.keys().cloned().collect();
        for unit in units {
            let members = idx
                .functions
                .values()
                .flatten()
                .filter(|(u, _)| idx.within(u, &unit))
                .map(|(_, p)| p.clone())
                .collect();
            idx.members.insert(unit, members);
        }
        idx
    }

    /// Whether `person` has a position in `unit` or below it.
    pub fn is_member(&self, unit: &str, person: &str) -> bool {
        self.members.get(unit).is_some_and(|m| m.contains(person))
    }

    /// Whether a person with this id exists.
    pub fn is_person(&self, id: &str) -> bool {
        self.people.contains(id)
    }

    /// Whether a unit with this id exists.
    pub fn is_unit(&self, id: &str) -> bool {
        self.parent.contains_key(id)
    }

    /// Display name of a person.
    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    /// A role label as the organogram names it: `diensthoofd of bevolking` (what
    /// [`OrgIndex::role`] records) is "Diensthoofd Bevolking", `burgemeester` is
    /// "Burgemeester", a person's id their name; an unknown id stays as it is.
    pub fn role_name(&self, role: &str) -> String {
        let one = |id: &str| {
            self.titles
                .get(id)
                .or_else(|| self.names.get(id))
                .map_or_else(|| id.to_string(), String::clone)
        };
        match role.split_once(" of ") {
            Some((function, unit)) if !function.contains(' ') && !unit.contains(' ') => {
                format!("{} {}", one(function), one(unit))
            }
            _ => one(role),
        }
    }

    /// Whether `unit` is `ancestor` or below it.
    pub fn within(&self, unit: &str, ancestor: &str) -> bool {
        let mut cur = Some(unit.to_string());
        let mut guard = 0;
        while let Some(u) = cur {
            if u == ancestor {
                return true;
            }
            guard += 1;
            if guard > 64 {
                return false;
            }
            cur = self.parent.get(&u).cloned().flatten();
        }
        false
    }

    /// `ancestor` and every unit below it.
    pub fn units_within(&self, ancestor: &str) -> Vec<String> {
        self.parent
            .keys()
            .filter(|u| self.within(u, ancestor))
            .cloned()
            .collect()
    }

    /// People holding `function` in `ancestor` or a unit below it.
    pub fn holders_within(&self, function: &str, ancestor: &str) -> BTreeSet<String> {
        self.functions
            .get(function)
            .map(|v| {
                v.iter()
                    .filter(|(u, _)| self.within(u, ancestor))
                    .map(|(_, p)| p.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every person's id, sorted.
    pub fn people(&self) -> impl Iterator<Item = &str> {
        self.people.iter().map(String::as_str)
    }

    /// The person with this e-mail address (case-insensitive).
    pub fn person_by_email(&self, email: &str) -> Option<&str> {
        self.emails.get(&email.to_lowercase()).map(String::as_str)
    }

    /// People holding a position in `unit` or below.
    pub fn members_of_unit(&self, unit: &str) -> BTreeSet<String> {
        self.members.get(unit).cloned().unwrap_or_default()
    }

    /// The unit a selector points to for a document with `fields`.
    pub fn unit_of(
        &self,
        sel: &UnitSel,
        fields: &BTreeMap<String, Value>,
    ) -> Option<Option<String>> {
        match sel {
            UnitSel::Any => Some(None),
            UnitSel::Fixed(u) => Some(Some(u.clone())),
            UnitSel::Field(f) => fields
                .get(f)
                .and_then(Value::as_str)
                .map(|u| Some(u.to_string())),
        }
    }

    /// People who hold `signer` for a document with `fields`, sorted.
    pub fn holders(&self, signer: &Signer, fields: &BTreeMap<String, Value>) -> Vec<String> {
        let mut out: Vec<String> = match signer {
            // Only someone in the organogram holds anything: a person who left, named
            // in a flow or in a document's person field, is asked for nothing (the task
            // waits in the manual queue).
            Signer::Person { id } => self
                .people
                .contains(id)
                .then(|| id.clone())
                .into_iter()
                .collect(),
            Signer::PersonField { field } => fields
                .get(field)
                .and_then(Value::as_str)
                .filter(|p| self.people.contains(*p))
                .map(str::to_string)
                .into_iter()
                .collect(),
            Signer::Mandate { id } => self.mandates.get(id).cloned().unwrap_or_default(),
            Signer::Function { id, unit } => {
                let Some(unit) = self.unit_of(unit, fields) else {
                    return Vec::new();
                };
                self.functions
                    .get(id)
                    .map(|v| {
                        v.iter()
                            .filter(|(u, _)| unit.as_ref().is_none_or(|w| w == u))
                            .map(|(_, p)| p.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            }
        };
        out.sort();
        out.dedup();
        out
    }

    /// The role a signer stands for, resolved for a document (e.g. `diensthoofd of bevolking`).
    pub fn role(&self, signer: &Signer, fields: &BTreeMap<String, Value>) -> String {
        match signer {
            Signer::Person { id } | Signer::Mandate { id } => id.clone(),
            Signer::PersonField { field } => fields
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or(field)
                .to_string(),
            Signer::Function { id, unit } => match self.unit_of(unit, fields).flatten() {
                Some(u) => format!("{id} of {u}"),
                None => id.clone(),
            },
        }
    }
}
