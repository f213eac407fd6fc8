//! Everything a document of one kind is routed and shown by in one version: when it is
//! the same in both versions, every document of the kind behaves the same, and the kind
//! needs no simulation to be unchanged.

use super::simulate::Version;
use paraaf_model::Signer;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every text in `v`.
fn texts(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                texts(x, out);
            }
        }
        _ => {}
    }
}

/// What decides the fate of a document of `kind` in `version`: its declaration, its
/// flows, the groups they (and its shield) name, directly or through another group,
/// the substitutes of the roles they name and of people, the organogram, and whether the version is deployed and sound
/// (a version that breaks the shielding rules shows nobody anything).
pub(super) fn inputs(version: &Version, kind: &str) -> Option<String> {
    let p = version.project;
    let doc = p.documents.iter().find(|d| d.name == kind)?;
    let flows: Vec<_> = p.flows.iter().filter(|f| f.document == kind).collect();
    let mut names = BTreeSet::new();
    texts(&serde_json::to_value((doc, &flows)).ok()?, &mut names);
    // The groups named, and the groups they name, until nothing new is named.
    let mut groups: BTreeSet<usize> = BTreeSet::new();
    loop {
        let more: Vec<usize> = p
            .groups
            .iter()
            .enumerate()
            .filter(|(i, g)| !groups.contains(i) && names.contains(&g.name))
            .map(|(i, _)| i)
            .collect();
        if more.is_empty() {
            break;
        }
        for i in more {
            groups.insert(i);
            texts(&serde_json::to_value(&p.groups[i]).ok()?, &mut names);
        }
    }
    let groups: Vec<_> = groups.iter().map(|i| &p.groups[*i]).collect();
    // A step asks a substitute of a role only when the step's role is the declaration's:
    // of a function or mandate the kind's flows name, or of a person (a person's role is
    // theirs in any flow that names them or their field).
    let substitutes: Vec<_> = p
        .substitutes
        .iter()
        .filter(|s| match &s.holder {
            Signer::Person { .. } | Signer::PersonField { .. } => true,
            Signer::Mandate { id } | Signer::Function { id, .. } => names.contains(id),
        })
        .collect();
    let deployed = version.state.current().map(|(_, d)| &d.broken);
    serde_json::to_string(&json!({
        "document": doc,
        "flows": flows,
        "groups": groups,
        "substitutes": substitutes,
        "organogram": p.organogram,
        "deployed": deployed,
    }))
    .ok()
}
