//! Loading the organogram from its TOML file (no IO: takes the text).

use super::model::*;
use crate::diagnostics::{Code, Diagnostic, Span};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The organogram file as written (also what `paraaf org import` writes).
#[derive(Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>", serialize = "S: Serialize")
)]
pub struct OrgFile<S = Spanned<String>> {
    /// City name.
    #[serde(default)]
    pub city: String,
    /// Units.
    #[serde(default)]
    pub units: Vec<UnitRow<S>>,
    /// Functions.
    #[serde(default)]
    pub functions: Vec<FunctionRow<S>>,
    /// Mandates.
    #[serde(default)]
    pub mandates: Vec<MandateRow<S>>,
    /// People.
    #[serde(default)]
    pub people: Vec<PersonRow<S>>,
    /// `[retired]`: the id of every person who left → their HR key (or e-mail). Kept so
    /// that an id, once given to a person, is never given to another (`org import`
    /// writes it; `org deploy` refuses an organogram that reuses one).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub retired: std::collections::BTreeMap<String, String>,
    /// `[left]`: the HR key (or e-mail) of every person who left → the id they had when
    /// they left, which they get back if they return (`org import` writes it; older ids
    /// of theirs, from before a marriage, stay under `[retired]` only).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub left: std::collections::BTreeMap<String, String>,
}

/// `[[units]]`
#[derive(Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>", serialize = "S: Serialize")
)]
pub struct UnitRow<S> {
    /// Id.
    pub id: S,
    /// Display name.
    pub name: String,
    /// `department`, `service`, `team` or `body`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Parent unit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<S>,
}

fn default_kind() -> String {
    "service".into()
}

/// `[[functions]]`
#[derive(Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>", serialize = "S: Serialize")
)]
pub struct FunctionRow<S> {
    /// Id.
    pub id: S,
    /// Display name.
    pub name: String,
    /// Held once per unit.
    #[serde(default)]
    pub per_unit: bool,
}

/// `[[mandates]]`
#[derive(Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>", serialize = "S: Serialize")
)]
pub struct MandateRow<S> {
    /// Id.
    pub id: S,
    /// Display name.
    pub name: String,
}

/// `[[people]]`
#[derive(Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>", serialize = "S: Serialize")
)]
pub struct PersonRow<S> {
    /// Id.
    pub id: S,
    /// Display name.
    pub name: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// The HR key (personeelsnummer): the person's identity across renames and
    /// namesakes. Optional; without it the e-mail address stands in (with a warning from
    /// `org import`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Positions.
    #[serde(default)]
    pub positions: Vec<PositionRow<S>>,
}

/// `{ function = "...", unit = "..." }` or `{ mandate = "..." }`
#[derive(Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>", serialize = "S: Serialize")
)]
pub struct PositionRow<S> {
    /// Function id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<S>,
    /// Unit id (with `function`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<S>,
    /// Mandate id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate: Option<S>,
}

/// Parses and validates an organogram. `file` names it in diagnostics. Never fails:
/// problems come back as `P0022` diagnostics next to whatever could be loaded.
pub fn load_toml(file: &str, text: &str) -> (Organogram, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let raw: OrgFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            diags.push(
                Diagnostic::new(
                    Code::OrganogramError,
                    Span::new(file, span),
                    format!("the organogram cannot be read: {}", e.message().trim()),
                )
                .with_help("see docs/organogram.md for the format of the organogram file"),
            );
            return (Organogram::default(), diags);
        }
    };
    let mut err = |span: std::ops::Range<usize>, msg: String, help: &str| {
        diags.push(
            Diagnostic::new(Code::OrganogramError, Span::new(file, span), msg)
                .with_help(help.to_string()),
        );
    };
    let mut org = Organogram {
        city: raw.city,
        retired: raw.retired,
        left: raw.left,
        ..Default::default()
    };
    for u in raw.units {
        check_id(&u.id, &mut err);
        org.units.push(Unit {
            span: u.id.span(),
            id: u.id.into_inner(),
            name: u.name,
            kind: u.kind,
            parent: u.parent.map(Spanned::into_inner),
        });
    }
    for f in raw.functions {
        check_id(&f.id, &mut err);
        org.functions.push(Function {
            span: f.id.span(),
            id: f.id.into_inner(),
            name: f.name,
            per_unit: f.per_unit,
        });
    }
    for m in raw.mandates {
        check_id(&m.id, &mut err);
        org.mandates.push(Mandate {
            span: m.id.span(),
            id: m.id.into_inner(),
            name: m.name,
        });
    }
    let mut position_refs = Vec::new();
    for p in raw.people {
        check_id(&p.id, &mut err);
        let mut positions = Vec::new();
        for pos in p.positions {
            match (pos.function, pos.unit, pos.mandate) {
                (Some(f), Some(u), None) => {
                    position_refs.push((f.clone(), super::OrgKind::Function));
                    position_refs.push((u.clone(), super::OrgKind::Unit));
                    positions.push(Position::Function {
                        function: f.into_inner(),
                        unit: u.into_inner(),
                    });
                }
                (None, None, Some(m)) => {
                    position_refs.push((m.clone(), super::OrgKind::Mandate));
                    positions.push(Position::Mandate(m.into_inner()));
                }
                _ => err(
                    p.id.span(),
                    format!(
                        "a position of `{}` must be either a function with a unit or a mandate",
                        p.id.get_ref()
                    ),
                    "write `{ function = \"diensthoofd\", unit = \"sociale-zaken\" }` or `{ mandate = \"burgemeester\" }`",
                ),
            }
        }
        org.people.push(Person {
            span: p.id.span(),
            id: p.id.into_inner(),
            name: p.name,
            email: p.email,
            key: p
                .key
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
            positions,
        });
    }
    // One person, one key; an id of someone who left stays theirs.
    let mut keys: std::collections::BTreeMap<String, &Person> = Default::default();
    // One address, one person (case-insensitive): mails about shielded files and the
    // sign-in by e-mail would otherwise reach the other one.
    let mut emails: std::collections::BTreeMap<String, &Person> = Default::default();
    for p in &org.people {
        let address = p.email.trim().to_lowercase();
        if !address.is_empty()
            && let Some(first) = emails.insert(address, p)
            && first.id != p.id
        {
            err(
                p.span.clone(),
                format!(
                    "`{}` ({}, line {}) and `{}` ({}, line {}) have the same e-mail address `{}`; an address belongs to one person",
                    first.id,
                    first.name,
                    line_of(text, first.span.start),
                    p.id,
                    p.name,
                    line_of(text, p.span.start),
                    p.email.trim()
                ),
                "mails (shielded files too) and the sign-in by e-mail would reach the other person: correct the address in HR's export, each person their own",
            );
        }
        let who = p.identity();
        if let Some(first) = keys.insert(who.clone(), p)
            && p.key.is_some()
        {
            err(
                p.span.clone(),
                format!(
                    "`{}` and `{}` have the same HR key `{who}`; a key belongs to one person",
                    first.id, p.id
                ),
                "one person has one entry under [[people]] with all their positions; correct the key of the other",
            );
        }
        if let Some(was) = org.retired.get(&p.id)
            && *was != who
        {
            err(
                p.span.clone(),
                format!(
                    "the id `{}` belonged to someone who left (key `{was}`); an id is never given to another person",
                    p.id
                ),
                "give this person a new id (`paraaf org import` picks one, like `jan-cools-2`)",
            );
        }
    }
    let parents: Vec<_> = org
        .units
        .iter()
        .filter_map(|u| u.parent.clone().map(|p| (p, u.span.clone())))
        .collect();
    for (id, span) in org.build_index() {
        err(
            span,
            format!("`{id}` is defined more than once in the organogram"),
            "every id must be unique across units, functions, mandates and people",
        );
    }
    for (parent, span) in parents {
        if org.kind_of(&parent) != Some(super::OrgKind::Unit) {
            err(
                span,
                format!("the parent unit `{parent}` does not exist"),
                "use the id of a unit defined under [[units]]",
            );
        }
    }
    // A unit that is its own ancestor: report each cycle once, at its first unit.
    let mut in_cycle: std::collections::BTreeSet<String> = Default::default();
    for u in &org.units {
        let mut path = vec![u.id.as_str()];
        let mut cur = u.parent.as_deref();
        while let Some(p) = cur {
            if p == u.id {
                if path.iter().all(|x| !in_cycle.contains(*x)) {
                    let mut shown: Vec<&str> = path.clone();
                    shown.push(&u.id);
                    err(
                        u.span.clone(),
                        format!("the units are each other's parent: {}", shown.join(" → ")),
                        "a unit cannot lie below itself; give one of them the parent it really has",
                    );
                }
                in_cycle.extend(path.iter().map(|x| x.to_string()));
                break;
            }
            if path.contains(&p) || path.len() > org.units.len() {
                break;
            }
            path.push(p);
            cur = org.unit(p).and_then(|x| x.parent.as_deref());
        }
    }
    for (r, kind) in position_refs {
        if org.kind_of(r.get_ref()) != Some(kind) {
            let candidates: Vec<&str> = org
                .ids()
                .filter(|(_, k)| *k == kind)
                .map(|(id, _)| id)
                .collect();
            let help = match crate::resolve::closest(r.get_ref(), candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "define it first, or correct the id".to_string(),
            };
            err(
                r.span(),
                format!(
                    "there is no {} `{}` in the organogram",
                    kind.word(),
                    r.get_ref()
                ),
                &help,
            );
        }
    }
    (org, diags)
}

/// The line (from 1) of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn check_id(id: &Spanned<String>, err: &mut impl FnMut(std::ops::Range<usize>, String, &str)) {
    if !is_kebab_id(id.get_ref()) {
        err(
            id.span(),
            format!("`{}` is not a valid id", id.get_ref()),
            "ids are lower-case letters, digits and single dashes, like `sociale-zaken`",
        );
    }
}

/// Whether `s` is a valid organogram/project id: lower-case kebab-case.
pub fn is_kebab_id(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
