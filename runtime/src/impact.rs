//! `paraaf diff BASE HEAD`: what a rule change does to people. For every document kind
//! the field space is cut into the regions the flows tell apart (`impact/regions.rs`),
//! and a document of every region, uploaded by a representative of every kind of
//! person, is run through both versions in memory, as `paraaf test` runs scenarios. At
//! each step the path is forked: its holder away (who substitutes), the deadline passed
//! (to whom it escalates) and a refusal (where it goes). What differs is reported on the
//! smallest region where it happens.

mod regions;
mod same;
mod sampled;
mod simulate;
pub mod witness;

pub use sampled::impact_sampled;

use crate::engine::State;
use paraaf_model::CompiledProject;
use paraaf_model::OrgPosition;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many regions per kind are compared as every combination of the fields;
/// above it, every pair of fields is varied together.
const MAX_COMBINATIONS: usize = 2500;

/// What one document shows through one version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// The person may see the document.
    Sees {
        /// Person id.
        person: String,
    },
    /// The person is asked to sign the step.
    Signs {
        /// Step.
        step: String,
        /// Person id.
        person: String,
    },
    /// When `holder` is away, `substitute` is asked for the step.
    Substitute {
        /// Step.
        step: String,
        /// The holder away.
        holder: String,
        /// Who is asked instead (`nobody` when the task waits).
        substitute: String,
    },
    /// Past the deadline, the step escalates to the person.
    Escalation {
        /// Step.
        step: String,
        /// Person id.
        to: String,
    },
    /// A refusal at the step goes there.
    Refusal {
        /// Step.
        step: String,
        /// Where: `back to the uploader`, `stopped`, or `step S: people`.
        goes: String,
    },
}

impl Fact {
    /// The `--fail-on` kind of a change of this fact (`added`: it holds only after).
    pub fn change_kind(&self, added: bool) -> &'static str {
        match (self, added) {
            (Fact::Sees { .. }, true) => "sight-gained",
            (Fact::Sees { .. }, false) => "sight-lost",
            (Fact::Signs { .. }, true) => "signer-added",
            (Fact::Signs { .. }, false) => "signer-removed",
            (Fact::Substitute { .. }, _) => "substitute-changed",
            (Fact::Escalation { .. }, _) => "escalation-changed",
            (Fact::Refusal { .. }, _) => "refusal-changed",
        }
    }

    /// The person the fact is about, if one.
    pub fn person(&self) -> Option<&str> {
        match self {
            Fact::Sees { person } | Fact::Signs { person, .. } => Some(person),
            Fact::Substitute { substitute, .. } => Some(substitute),
            Fact::Escalation { to, .. } => Some(to),
            Fact::Refusal { .. } => None,
        }
    }

    /// What changed, without the person ("now signs visum").
    fn words(&self, added: bool) -> String {
        let now = if added { "now" } else { "no longer" };
        match self {
            Fact::Sees { .. } => format!("{now} may see it"),
            Fact::Signs { step, .. } => format!("{now} signs {step}"),
            Fact::Substitute { step, holder, .. } => {
                format!("{now} substitutes for {holder} at {step}")
            }
            Fact::Escalation { step, .. } => format!("{now} gets {step} when it escalates"),
            Fact::Refusal { step, goes } => format!("a refusal at {step} {now} goes {goes}"),
        }
    }
}

/// One change: what, on which region, for whom.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// The `--fail-on` kind: sight-gained, sight-lost, signer-added, signer-removed,
    /// substitute-changed, escalation-changed, refusal-changed.
    pub change: String,
    /// What changed, in words ("now signs visum").
    pub what: String,
    /// The smallest region where it happens ("bedrag ≥ 30000 EUR and dienst in
    /// financien"); empty: every document of the kind.
    pub region: String,
    /// The people it changes for (empty for a refusal path).
    pub people: BTreeSet<String>,
}

/// What changes for one document kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KindImpact {
    /// The kind.
    pub kind: String,
    /// `new` (only in the head), `removed` (only in the base) or `kept`.
    pub status: String,
    /// Shielded in either version.
    pub shielded: bool,
    /// Shielded in the base: only then can a change widen its shield.
    pub shielded_before: bool,
    /// The `allow` exception the head adds or changes on a kind shielded before (the
    /// person field whose person may now read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_widened: Option<String>,
    /// Documents compared (regions times uploaders).
    pub cases: usize,
    /// Whether every combination of the fields' regions was compared (else every pair).
    pub exhaustive: bool,
    /// The kind's declaration, flows, the groups they name, the substitutes and the
    /// organogram are the same in both versions: every document behaves the same, so
    /// none was simulated (`cases` is 0).
    pub identical: bool,
    /// People who may see some document now and could not before.
    pub sight_gained: BTreeSet<String>,
    /// People who could see some document and no longer may.
    pub sight_lost: BTreeSet<String>,
    /// People now asked to sign some document who were not before.
    pub signers_added: BTreeSet<String>,
    /// People no longer asked to sign some document.
    pub signers_removed: BTreeSet<String>,
    /// Substitutes, escalation targets and refusal paths that changed, and every other
    /// change, each on its smallest region.
    pub changes: Vec<Change>,
    /// A few of the changes, in words.
    pub examples: Vec<String>,
}

impl KindImpact {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty() || self.allow_widened.is_some()
    }

    /// Whether a change of `--fail-on` kind `what` happens.
    pub fn hits(&self, what: &str) -> bool {
        match what {
            "shielded-widened" => {
                self.shielded_before
                    && (!self.sight_gained.is_empty() || self.allow_widened.is_some())
            }
            _ => self.changes.iter().any(|c| c.change == what),
        }
    }
}

/// One representative of every kind of person (the same positions; everyone a flow, a
/// group or a substitute names by id on their own), ordinary staff (holding no function
/// or mandate the rules name) first; and the ones that matter as the person in a
/// person field (everyone named or holding a named role, and one ordinary person).
fn representatives(
    projects: &[&CompiledProject],
    named: &BTreeSet<String>,
    roles: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let org = &projects[projects.len() - 1].organogram;
    let mut seen = BTreeSet::new();
    let mut out: Vec<(bool, String)> = Vec::new();
    for p in &org.people {
        let class = if named.contains(&p.id) {
            format!("id:{}", p.id)
        } else {
            serde_json::to_string(&p.positions).unwrap_or_default()
        };
        if seen.insert(class) {
            let holds_named = named.contains(&p.id)
                || p.positions.iter().any(|pos| match pos {
                    OrgPosition::Function { function, .. } => roles.contains(function),
                    OrgPosition::Mandate { mandate } => roles.contains(mandate),
                });
            out.push((holds_named, p.id.clone()));
        }
    }
    out.sort_by_key(|(n, _)| *n);
    let fields = out
        .iter()
        .enumerate()
        .filter(|(i, (n, _))| *n || *i == 0)
        .map(|(_, (_, id))| id.clone())
        .collect();
    (out.into_iter().map(|(_, id)| id).collect(), fields)
}

/// The person ids, and the function and mandate ids, that the projects' flows, groups,
/// substitutes and document kinds name.
fn named(projects: &[&CompiledProject]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut named, mut roles) = (BTreeSet::new(), BTreeSet::new());
    for p in projects {
        if let Ok(v) = serde_json::to_value((&p.flows, &p.groups, &p.substitutes, &p.documents)) {
            named_ids(&v, &mut named, &mut roles);
        }
    }
    (named, roles)
}

/// Person ids, and function and mandate ids, that `v` names.
fn named_ids(v: &Value, people: &mut BTreeSet<String>, roles: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("id") {
                match m.get("kind").and_then(Value::as_str) {
                    Some("person") => {
                        people.insert(id.clone());
                    }
                    Some("function" | "mandate") => {
                        roles.insert(id.clone());
                    }
                    _ => {}
                }
            }
            m.values().for_each(|x| named_ids(x, people, roles));
        }
        Value::Array(a) => a.iter().for_each(|x| named_ids(x, people, roles)),
        _ => {}
    }
}

/// What changes from `base` to `head`, per document kind (kinds without changes too).
pub fn impact(base: &CompiledProject, head: &CompiledProject) -> Vec<KindImpact> {
    let (named, roles) = named(&[base, head]);
    let (base_v, head_v) = (
        simulate::Version::new(base, &named, &roles),
        simulate::Version::new(head, &named, &roles),
    );
    let (base_state, head_state) = (&base_v.state, &head_v.state);
    let (reps, field_people) = representatives(&[base, head], &named, &roles);
    let org = &head.organogram;
    let parents: BTreeMap<String, Option<String>> = org
        .units
        .iter()
        .map(|u| (u.id.clone(), u.parent.clone()))
        .collect();
    let kinds: BTreeSet<String> = base
        .documents
        .iter()
        .chain(&head.documents)
        .map(|d| d.name.clone())
        .collect();
    let mut out = Vec::new();
    for kind in kinds {
        let before = base.documents.iter().find(|d| d.name == kind);
        let after = head.documents.iter().find(|d| d.name == kind);
        let Some(doc) = after.or(before) else {
            continue;
        };
        let allow = |d: Option<&paraaf_model::Document>| {
            d.and_then(|d| d.shielded_by.as_ref())
                .and_then(|s| s.allow.clone())
        };
        let shielded_before = before.is_some_and(|d| d.shielded_by.is_some());
        let mut k = KindImpact {
            kind: kind.clone(),
            status: match (before, after) {
                (None, _) => "new",
                (_, None) => "removed",
                _ => "kept",
            }
            .to_string(),
            shielded: before.is_some_and(|d| d.shielded_by.is_some())
                || after.is_some_and(|d| d.shielded_by.is_some()),
            shielded_before,
            allow_widened: (shielded_before
                && allow(after).is_some()
                && allow(after) != allow(before))
            .then(|| allow(after))
            .flatten(),
            ..KindImpact::default()
        };
        let inputs = |v: &simulate::Version| same::inputs(v, &kind);
        if before.is_some() && after.is_some() && inputs(&base_v) == inputs(&head_v) {
            k.identical = true;
            k.exhaustive = true;
            out.push(k);
            continue;
        }
        let values = regions::field_values(doc, &[base, head], &field_people);
        let types: BTreeMap<String, String> = doc
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.ty.clone()))
            .collect();
        let (cases, exhaustive) = regions::regions(&values, MAX_COMBINATIONS);
        k.exhaustive = exhaustive;
        // Every region with the usual uploader; every kind of uploader on the first (the
        // uploader as one more dimension of the region, `(usual)` on the others).
        let mut runs: Vec<(BTreeMap<String, String>, Option<&str>)> = cases
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.insert(regions::UPLOADER.into(), regions::USUAL.into());
                (c, None)
            })
            .collect();
        if let Some(first) = cases.first() {
            runs.extend(reps.iter().map(|r| {
                let mut c = first.clone();
                c.insert(regions::UPLOADER.into(), r.clone());
                (c, Some(r.as_str()))
            }));
        }
        let mut values = values;
        values.push((
            regions::UPLOADER.into(),
            std::iter::once(regions::USUAL.to_string())
                .chain(reps.iter().cloned())
                .collect(),
        ));
        // Each changed fact (and whether it was added) with the regions it happens on.
        let mut where_: BTreeMap<(Fact, bool), Vec<&BTreeMap<String, String>>> = BTreeMap::new();
        for (case, uploader) in &runs {
            let (case, uploader) = (case, uploader.as_deref());
            k.cases += 1;
            // The usual uploader: the first the shield admits in both versions (else in
            // either), not a person the document is about.
            let member = |st: &State, p: &str| {
                st.current()
                    .is_some_and(|(_, dep)| dep.shields.member(&kind, p))
            };
            let about = |p: &String| {
                case.iter()
                    .any(|(f, v)| v == p && f.as_str() != regions::UPLOADER)
            };
            let uploader = uploader.map(str::to_string).or_else(|| {
                let free = || reps.iter().filter(|p| !about(p));
                free()
                    .find(|p| member(base_state, p) && member(head_state, p))
                    .or_else(|| free().find(|p| member(base_state, p) || member(head_state, p)))
                    .cloned()
            });
            let Some(uploader) = uploader else { continue };
            let mut fields = case.clone();
            fields.remove(regions::UPLOADER);
            let b =
                simulate::simulate(&base_v, &kind, &fields, &uploader, true).unwrap_or_default();
            let a =
                simulate::simulate(&head_v, &kind, &fields, &uploader, true).unwrap_or_default();
            for f in a.difference(&b) {
                where_.entry((f.clone(), true)).or_default().push(case);
            }
            for f in b.difference(&a) {
                where_.entry((f.clone(), false)).or_default().push(case);
            }
        }
        // One change per (what, region), with everyone it holds for.
        let mut grouped: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
        for ((fact, added), hit) in &where_ {
            let region = regions::describe(&values, &types, hit, &parents);
            let kind_of = fact.change_kind(*added).to_string();
            let who = grouped
                .entry((kind_of.clone(), fact.words(*added), region))
                .or_default();
            if let Some(p) = fact.person() {
                who.insert(p.to_string());
                match kind_of.as_str() {
                    "sight-gained" => k.sight_gained.insert(p.to_string()),
                    "sight-lost" => k.sight_lost.insert(p.to_string()),
                    "signer-added" => k.signers_added.insert(p.to_string()),
                    "signer-removed" => k.signers_removed.insert(p.to_string()),
                    _ => false,
                };
            }
        }
        for ((change, what, region), people) in grouped {
            if k.examples.len() < 5 {
                let on = if region.is_empty() {
                    "every document".to_string()
                } else {
                    region.clone()
                };
                k.examples.push(format!(
                    "{on}: {} {what}",
                    join(&people.iter().collect::<Vec<_>>())
                ));
            }
            k.changes.push(Change {
                change,
                what,
                region,
                people,
            });
        }
        out.push(k);
    }
    out
}

fn join(v: &[&String]) -> String {
    let shown: Vec<&str> = v.iter().take(6).map(|s| s.as_str()).collect();
    if v.len() > 6 {
        format!("{} and {} more", shown.join(", "), v.len() - 6)
    } else {
        shown.join(", ")
    }
}
