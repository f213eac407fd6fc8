//! The one function that decides who may see a document. Every read path calls it.
//! Deny by default; deny when anything is missing.

use crate::engine::State;
use paraaf_compiler::compile::model::Audience;

/// May `person` see document `doc`?
pub fn may_see(state: &State, person: &str, doc: &str) -> bool {
    let Some(d) = state.documents.get(doc) else {
        return false;
    };
    if d.uploader == person || d.signers.contains(person) {
        return true;
    }
    let Some(dep) = state.deployment(d.version) else {
        return false;
    };
    let Some(flow) = dep.project.flows.iter().find(|f| f.name == d.flow) else {
        return false;
    };
    let group = |name: &str| dep.project.groups.iter().find(|g| g.name == name);
    // A shielded document is visible to its group only (besides uploader and signers).
    let shielded: Vec<&str> = flow
        .visible_to
        .iter()
        .filter_map(|a| match a {
            Audience::Group { name } if group(name).is_some_and(|g| g.shielded) => {
                Some(name.as_str())
            }
            _ => None,
        })
        .collect();
    if !shielded.is_empty() {
        return shielded
            .iter()
            .all(|g| group(g).is_some_and(|g| g.members.iter().any(|m| m == person)));
    }
    flow.visible_to.iter().any(|a| match a {
        Audience::Uploader | Audience::Signers => false,
        Audience::Group { name } => {
            group(name).is_some_and(|g| g.members.iter().any(|m| m == person))
        }
        Audience::Unit { unit } => match dep.org.unit_of(unit, &d.fields).flatten() {
            Some(u) => dep.org.is_member(&u, person),
            None => false,
        },
        Audience::Signer { signer } => dep
            .org
            .holders(signer, &d.fields)
            .iter()
            .any(|h| h == person),
    })
}
