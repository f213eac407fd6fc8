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
    /// Shielded in the base, kept, and not shielded in the head: whoever its flows show
    /// it to may see it, with nothing to hold them to a group.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shield_dropped: bool,
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
        !self.changes.is_empty() || self.allow_widened.is_some() || self.shield_dropped
    }

    /// Whether a change of `--fail-on` kind `what` happens.
    pub fn hits(&self, what: &str) -> bool {
        match what {
            "shielded-widened" => {
                self.shielded_before
                    && (!self.sight_gained.is_empty()
                        || self.allow_widened.is_some()
                        || self.shield_dropped)
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

/// What both versions are compared with: each deployed once, a representative of every
/// kind of person (uploaders, and the people put in person fields), and the head's units
/// with their parents (to name a region by unit).
struct Setup<'a> {
    base: &'a CompiledProject,
    head: &'a CompiledProject,
    base_v: simulate::Version<'a>,
    head_v: simulate::Version<'a>,
    reps: Vec<String>,
    field_people: Vec<String>,
    parents: BTreeMap<String, Option<String>>,
}

impl<'a> Setup<'a> {
    fn new(base: &'a CompiledProject, head: &'a CompiledProject) -> Self {
        let (named, roles) = named(&[base, head]);
        let (reps, field_people) = representatives(&[base, head], &named, &roles);
        Setup {
            base,
            head,
            base_v: simulate::Version::new(base, &named, &roles),
            head_v: simulate::Version::new(head, &named, &roles),
            reps,
            field_people,
            parents: head
                .organogram
                .units
                .iter()
                .map(|u| (u.id.clone(), u.parent.clone()))
                .collect(),
        }
    }
}

/// The comparison of two versions, once: every kind's report and the documents behind
/// each change it reports (both read from the same walk, `impact/witness.rs`).
#[derive(Clone, Debug, Default)]
pub struct Compared {
    /// Per document kind, kinds without changes too (what [`impact`] gives).
    pub kinds: Vec<KindImpact>,
    /// The changes of each changed kind, in the report's order, each with the documents
    /// where it happens (what [`witness::witnesses`] gives).
    pub witnessed: BTreeMap<String, Vec<witness::Witnessed>>,
}

/// What changes from `base` to `head`, per document kind (kinds without changes too).
pub fn impact(base: &CompiledProject, head: &CompiledProject) -> Vec<KindImpact> {
    compare(base, head).kinds
}

/// What changes from `base` to `head`, per document kind, with the documents behind each
/// change (for `paraaf diff --emit-scenarios`).
pub fn compare(base: &CompiledProject, head: &CompiledProject) -> Compared {
    compare_kinds(base, head, None)
}

/// The comparison of every kind shielded in `base` (what `head` changes for each), as
/// [`compare`] makes it: what [`shields_widened`] decides on, and who no longer sees a
/// shielded kind (`sight_lost`).
pub fn shielded_kinds(base: &CompiledProject, head: &CompiledProject) -> Vec<KindImpact> {
    let shielded: Vec<String> = base
        .documents
        .iter()
        .filter(|d| d.shielded_by.is_some())
        .map(|d| d.name.clone())
        .collect();
    if shielded.is_empty() {
        return Vec::new();
    }
    compare_kinds(base, head, Some(&shielded)).kinds
}

/// The kinds shielded in `base` whose shield `head` widens, each as `paraaf diff
/// --fail-on shielded-widened` decides it ([`KindImpact::hits`]): someone may see a
/// document of the kind who could not (its group or audience admits more people, a
/// flow shows it to someone new), its `allow` exception is new or widened, or its shield
/// is dropped. The gate of every path that puts a project version in force (`paraaf
/// deploy`, `Emitter::deploy_widening`); only the kinds shielded before are compared.
pub fn shields_widened(base: &CompiledProject, head: &CompiledProject) -> Vec<KindImpact> {
    shielded_kinds(base, head)
        .into_iter()
        .filter(|k| k.hits("shielded-widened"))
        .collect()
}

/// [`compare`] on the kinds in `only` (every kind when `None`).
fn compare_kinds(
    base: &CompiledProject,
    head: &CompiledProject,
    only: Option<&[String]>,
) -> Compared {
    let setup = Setup::new(base, head);
    let kinds: BTreeSet<String> = base
        .documents
        .iter()
        .chain(&head.documents)
        .map(|d| d.name.clone())
        .filter(|k| only.is_none_or(|o| o.contains(k)))
        .collect();
    let mut out = Compared::default();
    for kind in kinds {
        let before = base.documents.iter().find(|d| d.name == kind);
        let after = head.documents.iter().find(|d| d.name == kind);
        let Some(doc) = after.or(before) else {
            continue;
        };
        let mut k = KindImpact::heading(&kind, before, after);
        let inputs = |v: &simulate::Version| same::inputs(v, &kind);
        if before.is_some() && after.is_some() && inputs(&setup.base_v) == inputs(&setup.head_v) {
            k.identical = true;
            k.exhaustive = true;
            out.kinds.push(k);
            continue;
        }
        let walked = witness::walk(&setup, doc, &kind);
        k.cases = walked.cases;
        k.exhaustive = walked.exhaustive;
        k.report(&walked.changes);
        out.kinds.push(k);
        if !walked.changes.is_empty() {
            out.witnessed.insert(kind, walked.changes);
        }
    }
    out
}

impl KindImpact {
    /// The kind as the two versions declare it, before any document is compared.
    fn heading(
        kind: &str,
        before: Option<&paraaf_model::Document>,
        after: Option<&paraaf_model::Document>,
    ) -> Self {
        let allow = |d: Option<&paraaf_model::Document>| {
            d.and_then(|d| d.shielded_by.as_ref())
                .and_then(|s| s.allow.clone())
        };
        let shielded_before = before.is_some_and(|d| d.shielded_by.is_some());
        KindImpact {
            kind: kind.to_string(),
            status: match (before, after) {
                (None, _) => "new",
                (_, None) => "removed",
                _ => "kept",
            }
            .to_string(),
            shielded: shielded_before || after.is_some_and(|d| d.shielded_by.is_some()),
            shielded_before,
            allow_widened: (shielded_before
                && allow(after).is_some()
                && allow(after) != allow(before))
            .then(|| allow(after))
            .flatten(),
            shield_dropped: shielded_before && after.is_some_and(|d| d.shielded_by.is_none()),
            ..KindImpact::default()
        }
    }

    /// The changes the walk found, as the report says them: each with everyone it
    /// holds for, who gains or loses sight or a signature, and the first few in words.
    fn report(&mut self, changes: &[witness::Witnessed]) {
        for w in changes {
            let mut people = BTreeSet::new();
            for (fact, added, _) in &w.facts {
                let Some(p) = fact.person() else { continue };
                people.insert(p.to_string());
                let set = match fact.change_kind(*added) {
                    "sight-gained" => &mut self.sight_gained,
                    "sight-lost" => &mut self.sight_lost,
                    "signer-added" => &mut self.signers_added,
                    "signer-removed" => &mut self.signers_removed,
                    _ => continue,
                };
                set.insert(p.to_string());
            }
            if self.examples.len() < 5 {
                let on = if w.region.is_empty() {
                    "every document"
                } else {
                    &w.region
                };
                self.examples.push(format!(
                    "{on}: {} {}",
                    join(&people.iter().collect::<Vec<_>>()),
                    w.what
                ));
            }
            self.changes.push(Change {
                change: w.change.clone(),
                what: w.what.clone(),
                region: w.region.clone(),
                people,
            });
        }
    }
}

fn join(v: &[&String]) -> String {
    let shown: Vec<&str> = v.iter().take(6).map(|s| s.as_str()).collect();
    if v.len() > 6 {
        format!("{} and {} more", shown.join(", "), v.len() - 6)
    } else {
        shown.join(", ")
    }
}
