//! Lookups in the organogram snapshot of a compiled project: the one index of holders,
//! members and ancestry that the checker, the shielding verifier and the runtime use.

use crate::{OrgPosition, Organogram, Signer, UnitSel};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How many units up [`OrgIndex::within`] looks: deeper is a cycle or a mistake.
pub const MAX_DEPTH: usize = 64;

/// Who holds what, built once per deployed version (and per organogram the checker reads).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrgIndex {
    parent: BTreeMap<String, Option<String>>,
    /// unit → its direct sub-units.
    children: BTreeMap<String, Vec<String>>,
    /// unit → people with a function directly in it (the unit need not be defined).
    people_in: BTreeMap<String, BTreeSet<String>>,
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
            if let Some(parent) = &u.parent {
                idx.children
                    .entry(parent.clone())
                    .or_default()
                    .push(u.id.clone());
            }
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
                    OrgPosition::Function { function, unit } => {
                        idx.functions
                            .entry(function.clone())
                            .or_default()
                            .push((unit.clone(), p.id.clone()));
                        idx.people_in
                            .entry(unit.clone())
                            .or_default()
                            .insert(p.id.clone());
                    }
                    OrgPosition::Mandate { mandate } => idx
                        .mandates
                        .entry(mandate.clone())
                        .or_default()
                        .push(p.id.clone()),
                }
            }
        }
        // Each function holder is a member of their unit and of every unit above it
        // (as far as `within` looks): one walk up per position, not a scan per unit.
        let mut members: BTreeMap<String, BTreeSet<String>> = idx
            .parent
            .keys()
            .map(|u| (u.clone(), BTreeSet::new()))
            .collect();
        for (unit, person) in idx.functions.values().flatten() {
            let mut cur = Some(unit.as_str());
            for _ in 0..=MAX_DEPTH {
                let Some(u) = cur else { break };
                if let Some(m) = members.get_mut(u) {
                    m.insert(person.clone());
                }
                cur = idx.parent.get(u).and_then(|p| p.as_deref());
            }
        }
        idx.members = members;
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

    /// Whether `unit` is `ancestor` or below it (looking at most [`MAX_DEPTH`] units up,
    /// so a cycle in the parents cannot loop).
    pub fn within(&self, unit: &str, ancestor: &str) -> bool {
        let mut cur = Some(unit);
        for _ in 0..=MAX_DEPTH {
            let Some(u) = cur else { return false };
            if u == ancestor {
                return true;
            }
            cur = self.parent.get(u).and_then(|p| p.as_deref());
        }
        false
    }

    /// `unit` and every unit below it, down the parents as the organogram gives them (a
    /// cycle cannot loop); `unit` itself even when no unit has that id.
    pub fn unit_and_below<'a>(&'a self, unit: &'a str) -> BTreeSet<&'a str> {
        let mut out = BTreeSet::new();
        let mut todo = vec![unit];
        while let Some(u) = todo.pop() {
            if out.insert(u)
                && let Some(kids) = self.children.get(u)
            {
                todo.extend(kids.iter().map(String::as_str));
            }
        }
        out
    }

    /// People with a function in `unit` or a unit below it ([`OrgIndex::unit_and_below`]).
    pub fn people_within<'a>(&'a self, unit: &'a str) -> BTreeSet<&'a str> {
        self.unit_and_below(unit)
            .into_iter()
            .filter_map(|u| self.people_in.get(u))
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// People holding `function`, in `unit` only when one is given.
    pub fn function_holders(&self, function: &str, unit: Option<&str>) -> BTreeSet<&str> {
        self.functions
            .get(function)
            .into_iter()
            .flatten()
            .filter(|(u, _)| unit.is_none_or(|w| w == u))
            .map(|(_, p)| p.as_str())
            .collect()
    }

    /// People holding `mandate`.
    pub fn mandate_holders(&self, mandate: &str) -> BTreeSet<&str> {
        self.mandates
            .get(mandate)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// Units in which someone holds `function`.
    pub fn units_holding(&self, function: &str) -> BTreeSet<&str> {
        self.functions
            .get(function)
            .into_iter()
            .flatten()
            .map(|(u, _)| u.as_str())
            .collect()
    }

    /// Every unit's id, sorted.
    pub fn units(&self) -> impl Iterator<Item = &str> {
        self.parent.keys().map(String::as_str)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgEntry, OrgPerson, OrgUnit};

    fn unit(id: &str, parent: Option<&str>) -> OrgUnit {
        OrgUnit {
            id: id.into(),
            name: id.to_uppercase(),
            parent: parent.map(str::to_string),
        }
    }

    fn person(id: &str, positions: &[(&str, &str)]) -> OrgPerson {
        OrgPerson {
            id: id.into(),
            name: id.into(),
            email: String::new(),
            key: None,
            positions: positions
                .iter()
                .map(|(f, u)| OrgPosition::Function {
                    function: f.to_string(),
                    unit: u.to_string(),
                })
                .collect(),
        }
    }

    /// A tree, a cycle (x ↔ y) and a position in a unit nobody defined.
    fn org() -> Organogram {
        Organogram {
            units: vec![
                unit("stad", None),
                unit("burgerzaken", Some("stad")),
                unit("bevolking", Some("burgerzaken")),
                unit("financien", Some("stad")),
                unit("x", Some("y")),
                unit("y", Some("x")),
            ],
            functions: vec![OrgEntry {
                id: "medewerker".into(),
                name: "Medewerker".into(),
            }],
            people: vec![
                person("an", &[("medewerker", "bevolking")]),
                person("bo", &[("medewerker", "financien"), ("hoofd", "stad")]),
                person("cy", &[("medewerker", "x")]),
                person("di", &[("medewerker", "nergens")]),
            ],
            ..Organogram::default()
        }
    }

    #[test]
    fn members_are_who_within_finds() {
        let idx = OrgIndex::new(&org());
        let units = [
            "stad",
            "burgerzaken",
            "bevolking",
            "financien",
            "x",
            "y",
            "nergens",
        ];
        for u in units {
            let by_within: BTreeSet<String> = idx
                .functions
                .values()
                .flatten()
                .filter(|(at, _)| idx.is_unit(u) && idx.within(at, u))
                .map(|(_, p)| p.clone())
                .collect();
            assert_eq!(idx.members_of_unit(u), by_within, "{u}");
        }
        assert_eq!(
            idx.members_of_unit("stad"),
            ["an", "bo"].map(String::from).into()
        );
        assert!(idx.is_member("y", "cy") && idx.is_member("x", "cy"));
    }

    #[test]
    fn the_checkers_lookups() {
        let idx = OrgIndex::new(&org());
        assert_eq!(
            idx.unit_and_below("burgerzaken"),
            ["burgerzaken", "bevolking"].into()
        );
        assert_eq!(idx.unit_and_below("x"), ["x", "y"].into());
        assert_eq!(idx.unit_and_below("nergens"), ["nergens"].into());
        assert_eq!(idx.people_within("stad"), ["an", "bo"].into());
        assert_eq!(idx.people_within("nergens"), ["di"].into());
        assert_eq!(
            idx.function_holders("medewerker", None),
            ["an", "bo", "cy", "di"].into()
        );
        assert_eq!(
            idx.function_holders("medewerker", Some("financien")),
            ["bo"].into()
        );
        assert_eq!(idx.units_holding("hoofd"), ["stad"].into());
        assert!(idx.mandate_holders("burgemeester").is_empty());
    }
}
