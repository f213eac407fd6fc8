//! `paraaf diff BASE HEAD`: what a rule change does to people. For every document kind,
//! a set of representative documents (each unit for a unit field, amounts around every
//! threshold the conditions name, each text the conditions compare with, optional
//! fields present and absent) is run through both versions in memory, as `paraaf test`
//! runs scenarios; the signers asked and the people who may see are compared.

use crate::engine::{Emitter, State, Status, Submission, TaskStatus};
use crate::visibility::may_see;
use crate::workdays::Calendar;
use paraaf_compiler::compile::CompiledProject;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// What changes for one document kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KindImpact {
    /// The kind.
    pub kind: String,
    /// Shielded in either version.
    pub shielded: bool,
    /// Documents compared.
    pub cases: usize,
    /// People who may see some document now and could not before.
    pub sight_gained: BTreeSet<String>,
    /// People who could see some document and no longer may.
    pub sight_lost: BTreeSet<String>,
    /// People now asked to sign some document who were not before.
    pub signers_added: BTreeSet<String>,
    /// People no longer asked to sign some document.
    pub signers_removed: BTreeSet<String>,
    /// A few of the documents that changed, in words.
    pub examples: Vec<String>,
}

impl KindImpact {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        !(self.sight_gained.is_empty()
            && self.sight_lost.is_empty()
            && self.signers_added.is_empty()
            && self.signers_removed.is_empty())
    }
}

fn literals(v: &Value, money: &mut BTreeSet<Decimal>, text: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("money", Value::String(s)) => {
                        if let Ok(d) = Decimal::from_str(s) {
                            money.insert(d);
                        }
                    }
                    ("money", Value::Number(n)) => {
                        if let Ok(d) = Decimal::from_str(&n.to_string()) {
                            money.insert(d);
                        }
                    }
                    ("text", Value::String(s)) => {
                        text.insert(s.clone());
                    }
                    _ => literals(x, money, text),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| literals(x, money, text)),
        _ => {}
    }
}

/// Representative field values of `kind` (one field varied at a time).
fn cases(kind: &str, projects: &[&CompiledProject]) -> Vec<BTreeMap<String, String>> {
    let mut money = BTreeSet::from([Decimal::ZERO]);
    let mut text = BTreeSet::from(["x".to_string()]);
    for p in projects {
        if let Ok(v) = serde_json::to_value(&p.flows) {
            literals(&v, &mut money, &mut text);
        }
    }
    let cent = Decimal::new(1, 2);
    let amounts: BTreeSet<Decimal> = money
        .iter()
        .flat_map(|m| [*m - cent, *m, *m + cent])
        .filter(|m| *m >= Decimal::ZERO)
        .collect();
    let Some(doc) = projects
        .iter()
        .find_map(|p| p.documents.iter().find(|d| d.name == kind))
    else {
        return Vec::new();
    };
    let org = &projects[projects.len() - 1].organogram;
    let units: Vec<String> = org.units.iter().map(|u| u.id.clone()).collect();
    let people: Vec<String> = org.people.iter().take(3).map(|p| p.id.clone()).collect();
    let values = |ty: &str| -> Vec<String> {
        match ty {
            "unit" => units.clone(),
            "money" => amounts.iter().map(|a| a.to_string()).collect(),
            "person" => people.clone(),
            "date" => vec!["2026-12-01".to_string()],
            "number" => amounts.iter().map(|a| a.to_string()).collect(),
            _ => text.iter().cloned().collect(),
        }
    };
    let base: BTreeMap<String, String> = doc
        .fields
        .iter()
        .filter_map(|f| Some((f.name.clone(), values(&f.ty).into_iter().next()?)))
        .collect();
    let mut out = vec![base.clone()];
    for f in &doc.fields {
        for v in values(&f.ty) {
            let mut c = base.clone();
            c.insert(f.name.clone(), v);
            out.push(c);
        }
        if f.optional {
            let mut c = base.clone();
            c.remove(&f.name);
            out.push(c);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Signers asked and people who may see, for one document through one version; `None`
/// when the version refuses it (no flow applies, a field is out of range).
fn simulate(
    deployed: &State,
    project: &CompiledProject,
    kind: &str,
    fields: &BTreeMap<String, String>,
) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    // A copy of the deployed state (persistent maps: no cost until it changes).
    let mut state = deployed.clone();
    let cal = Calendar::default();
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 0, 0).single()?;
    let mut em = Emitter::new(&mut state, &cal, now);
    // In memory only: the same ids at every run.
    em.doc_ids = crate::engine::DocIds::Numbered;
    let fields: BTreeMap<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    // An uploader allowed to submit it (inside the shield, if any).
    let uploader = {
        let (_, dep) = em.state.current()?;
        project
            .organogram
            .people
            .iter()
            .map(|p| p.id.clone())
            .find(|p| dep.shields.inside(kind, &fields, p))?
    };
    let doc = em
        .submit(Submission {
            kind: kind.to_string(),
            uploader,
            fields,
            content_sha256: "0".repeat(64),
            title: String::new(),
            flow: None,
        })
        .ok()?;
    let mut signers = BTreeSet::new();
    for _ in 0..64 {
        let d = &em.state.documents[&doc];
        if d.status != Status::InProgress {
            break;
        }
        let open: Vec<(String, Vec<String>)> = d
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .map(|t| (t.spec.id.clone(), t.spec.assignees.clone()))
            .collect();
        let mut progressed = false;
        for (_, assignees) in &open {
            signers.extend(assignees.iter().cloned());
            if let Some(who) = assignees.first()
                && em.sign(&doc, who).is_ok()
            {
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let viewers = project
        .organogram
        .people
        .iter()
        .filter(|p| may_see(em.state, &p.id, &doc))
        .map(|p| p.id.clone())
        .collect();
    Some((signers, viewers))
}

/// What changes from `base` to `head`, per document kind (kinds without changes too).
pub fn impact(base: &CompiledProject, head: &CompiledProject) -> Vec<KindImpact> {
    let deploy = |p: &CompiledProject| {
        let mut state = State::default();
        let cal = Calendar::default();
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let _ = Emitter::new(&mut state, &cal, now).deploy(p.clone());
        state
    };
    let (base_state, head_state) = (deploy(base), deploy(head));
    let kinds: BTreeSet<String> = base
        .documents
        .iter()
        .chain(&head.documents)
        .map(|d| d.name.clone())
        .collect();
    let mut out = Vec::new();
    for kind in kinds {
        let shielded = base
            .documents
            .iter()
            .chain(&head.documents)
            .any(|d| d.name == kind && d.shielded_by.is_some());
        let mut k = KindImpact {
            kind: kind.clone(),
            shielded,
            ..KindImpact::default()
        };
        for case in cases(&kind, &[base, head]) {
            k.cases += 1;
            let before = simulate(&base_state, base, &kind, &case).unwrap_or_default();
            let after = simulate(&head_state, head, &kind, &case).unwrap_or_default();
            let gained: Vec<&String> = after.1.difference(&before.1).collect();
            let lost: Vec<&String> = before.1.difference(&after.1).collect();
            let added: Vec<&String> = after.0.difference(&before.0).collect();
            let removed: Vec<&String> = before.0.difference(&after.0).collect();
            if gained.is_empty() && lost.is_empty() && added.is_empty() && removed.is_empty() {
                continue;
            }
            if k.examples.len() < 5 {
                let fields: Vec<String> = case.iter().map(|(f, v)| format!("{f}={v}")).collect();
                let mut what = Vec::new();
                if !added.is_empty() {
                    what.push(format!("now signed by {}", join(&added)));
                }
                if !removed.is_empty() {
                    what.push(format!("no longer signed by {}", join(&removed)));
                }
                if !gained.is_empty() {
                    what.push(format!("now visible to {}", join(&gained)));
                }
                if !lost.is_empty() {
                    what.push(format!("no longer visible to {}", join(&lost)));
                }
                k.examples.push(format!(
                    "{kind} ({}): {}",
                    fields.join(", "),
                    what.join("; ")
                ));
            }
            k.sight_gained.extend(gained.into_iter().cloned());
            k.sight_lost.extend(lost.into_iter().cloned());
            k.signers_added.extend(added.into_iter().cloned());
            k.signers_removed.extend(removed.into_iter().cloned());
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
