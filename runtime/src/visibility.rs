//! The one function that decides who may see a document. Every read path calls it.
//! Deny by default; deny when anything is missing.

use crate::engine::State;
use paraaf_compiler::compile::model::Audience;

/// May `person` see document `doc`?
pub fn may_see(state: &State, person: &str, doc: &str) -> bool {
    let Some(d) = state.documents.get(doc) else {
        return false;
    };
    let Some(dep) = state.deployment(d.version) else {
        return false;
    };
    // A shielded kind is never shown outside its group, whatever else says so.
    if !state.inside_shield(d.version, &d.kind, &d.fields, person) {
        return false;
    }
    if d.uploader == person || d.signers.contains(person) {
        return true;
    }
    let Some(flow) = dep.flow(&d.flow) else {
        return false;
    };
    let group = |name: &str| dep.project.groups.iter().find(|g| g.name == name);
    let member = |name: &str| {
        dep.shields
            .groups
            .get(name)
            .is_some_and(|m| m.contains(person))
    };
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
        return shielded.iter().all(|g| member(g));
    }
    flow.visible_to.iter().any(|a| match a {
        Audience::Uploader | Audience::Signers => false,
        Audience::Group { name } => member(name),
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

/// Who may see `doc`, as audiences rather than people (the `audiences` projection): the
/// uploader and everyone asked to sign (`person`), each `group`, the resolved `unit`
/// (its members and sub-units), and the kind's `shield` group every viewer must also be
/// in. Membership is resolved through the organogram index when asked, so a document costs
/// a handful of rows however many people see it. [`may_see`] stays the one decision.
pub fn audiences(state: &State, doc: &str) -> Vec<(&'static str, String)> {
    let Some(d) = state.documents.get(doc) else {
        return Vec::new();
    };
    let Some(dep) = state.deployment(d.version) else {
        return Vec::new();
    };
    let mut out = vec![("person", d.uploader.clone())];
    out.extend(d.signers.iter().map(|p| ("person", p.clone())));
    if let Some(kind) = dep.shields.kinds.get(&d.kind) {
        out.push(("shield", kind.group.clone()));
    }
    for a in dep
        .flow(&d.flow)
        .map(|f| f.visible_to.as_slice())
        .unwrap_or(&[])
    {
        match a {
            Audience::Uploader | Audience::Signers => {}
            Audience::Group { name } => out.push(("group", name.clone())),
            Audience::Unit { unit } => {
                if let Some(u) = dep.org.unit_of(unit, &d.fields).flatten() {
                    out.push(("unit", u));
                }
            }
            Audience::Signer { signer } => out.extend(
                dep.org
                    .holders(signer, &d.fields)
                    .into_iter()
                    .map(|h| ("person", h)),
            ),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// One open task in a person's inbox.
#[derive(Clone, Debug)]
pub struct InboxItem<'a> {
    /// The document.
    pub doc: &'a crate::engine::Document,
    /// The role the person signs in.
    pub role: &'a str,
    /// Whom the person signs for, as a substitute or escalation.
    pub on_behalf_of: Option<String>,
}

/// What `person` has to sign: open tasks assigned to them on documents they may see.
pub fn inbox<'a>(state: &'a State, person: &str) -> Vec<InboxItem<'a>> {
    use crate::engine::{Status, TaskStatus};
    let mut out = Vec::new();
    let Some(docs) = state.open_tasks.get(person) else {
        return out;
    };
    for d in docs
        .iter()
        .filter_map(|id| state.documents.get(id))
        .filter(|d| d.status == Status::InProgress && may_see(state, person, &d.id))
    {
        for t in d.tasks.iter().filter(|t| {
            t.status == TaskStatus::Open && t.spec.assignees.iter().any(|a| a == person)
        }) {
            let on_behalf_of =
                (!t.spec.holders.iter().any(|h| h == person)).then(|| t.spec.holders.join(", "));
            out.push(InboxItem {
                doc: d,
                role: &t.spec.role,
                on_behalf_of,
            });
        }
    }
    out
}
