//! The one function that decides who may see a document. Every read path calls it.
//! Deny by default; deny when anything is missing.

use crate::engine::State;
use paraaf_compiler::compile::model::Audience;

/// May `person` see document `doc`?
pub fn may_see(state: &State, person: &str, doc: &str) -> bool {
    decide(state, person, doc, &mut None)
}

/// [`may_see`] with the reasons behind the answer, in words (`paraaf why`): the same
/// decision, step by step.
pub fn why_may_see(state: &State, person: &str, doc: &str) -> (bool, Vec<String>) {
    let mut reasons = Some(Vec::new());
    let ok = decide(state, person, doc, &mut reasons);
    (ok, reasons.unwrap_or_default())
}

fn decide(state: &State, person: &str, doc: &str, why: &mut Option<Vec<String>>) -> bool {
    let mut say = |s: String| {
        if let Some(w) = why.as_mut() {
            w.push(s);
        }
    };
    let Some(d) = state.documents.get(doc) else {
        say(format!("there is no document {doc}"));
        return false;
    };
    // Someone who left (not in the organogram in force, under this id) sees nothing,
    // whatever they uploaded or signed before; a person under a new id reads through it.
    if state
        .current()
        .is_some_and(|(_, dep)| !dep.org.is_person(person))
    {
        say(format!(
            "{person} is not in the organogram in force (they left, or have another id now)"
        ));
        return false;
    }
    let Some(dep) = state.deployment(d.version) else {
        say(format!(
            "version {} of the project is not deployed",
            d.version
        ));
        return false;
    };
    // A shielded kind is never shown outside its group, whatever else says so.
    if !state.inside_shield(d.version, &d.kind, &d.fields, person) {
        let group = dep.shields.shield(&d.kind).map_or("", |s| s.group.as_str());
        say(format!(
            "`{}` is shielded by the group `{group}`, and {person} is not inside it (today's organogram)",
            d.kind
        ));
        return false;
    }
    if let Some(s) = dep.shields.shield(&d.kind) {
        say(format!(
            "{person} is inside the group `{}` that shields `{}`",
            s.group, d.kind
        ));
    }
    if d.uploader == person {
        say(format!("{person} uploaded it"));
        return true;
    }
    if d.signers.contains(person) {
        say(format!(
            "{person} was asked to sign it (signers see what they sign)"
        ));
        return true;
    }
    let Some(flow) = dep.flow(&d.flow) else {
        say(format!(
            "its flow `{}` is not in version {}",
            d.flow, d.version
        ));
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
        let ok = shielded.iter().all(|g| member(g));
        say(format!(
            "flow `{}` shows it to the shielded group{} {}: {person} is {}a member",
            flow.name,
            if shielded.len() == 1 { "" } else { "s" },
            shielded
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if ok { "" } else { "not " }
        ));
        if ok {
            return true;
        }
    }
    for a in &flow.visible_to {
        let hit = match a {
            Audience::Uploader | Audience::Signers => None,
            // Decided above: membership of every shielded group shown.
            Audience::Group { name } if shielded.contains(&name.as_str()) => None,
            Audience::Group { name } => {
                member(name).then(|| format!("a member of the group `{name}`"))
            }
            Audience::Unit { unit } => match dep.org.unit_of(unit, &d.fields).flatten() {
                Some(u) => dep
                    .org
                    .is_member(&u, person)
                    .then(|| format!("in the unit `{u}` (or a unit below it)")),
                None => None,
            },
            Audience::Signer { signer } => {
                let role = dep.org.role(signer, &d.fields);
                dep.org
                    .holders(signer, &d.fields)
                    .iter()
                    .any(|h| h == person)
                    .then(|| format!("the holder of {role}"))
            }
        };
        if let Some(h) = hit {
            say(format!(
                "flow `{}` is visible to it, and {person} is {h}",
                flow.name
            ));
            return true;
        }
    }
    say(format!(
        "{person} did not upload it, was never asked to sign it, and is in none of the audiences of flow `{}`",
        flow.name
    ));
    false
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
    use crate::engine::Status;
    let mut out = Vec::new();
    let Some(docs) = state.open_tasks.get(person) else {
        return out;
    };
    for d in docs
        .iter()
        .filter_map(|id| state.documents.get(id))
        .filter(|d| d.status == Status::InProgress && may_see(state, person, &d.id))
    {
        // One task per document, the one `sign` takes (see `Document::task_for`).
        let Some(t) = d.task_for(person) else {
            continue;
        };
        let on_behalf_of =
            (!t.spec.holders.iter().any(|h| h == person)).then(|| t.spec.holders.join(", "));
        out.push(InboxItem {
            doc: d,
            role: &t.spec.role,
            on_behalf_of,
        });
    }
    out
}

/// Why `person` is (or was) asked to sign `doc`, task by task: the step and role, its
/// holders, and whether they sign for someone absent or after an escalation. Empty when
/// they never were.
pub fn why_asked(state: &State, person: &str, doc: &str) -> Vec<String> {
    let Some(d) = state.documents.get(doc) else {
        return Vec::new();
    };
    let flow = state
        .deployment(d.version)
        .and_then(|dep| dep.flow(&d.flow));
    let mut out = Vec::new();
    for t in &d.tasks {
        let holder = t.spec.holders.iter().any(|h| h == person);
        let assignee = t.spec.assignees.iter().any(|a| a == person);
        let decided = t.decided_by.as_ref().is_some_and(|(by, _)| by == person);
        if !(holder || assignee || decided) {
            continue;
        }
        let step = flow
            .and_then(|f| f.steps.get(t.step))
            .map_or(format!("step {}", t.step + 1), |s| {
                format!("step `{}`", s.name)
            });
        let how = if holder {
            format!("{person} holds {}", t.spec.role)
        } else if t.escalated {
            format!(
                "the task was escalated to {person} (the role {} is held by {})",
                t.spec.role,
                t.spec.holders.join(", ")
            )
        } else {
            format!(
                "{person} substitutes for {} (absent), who holds {}",
                t.spec.holders.join(", "),
                t.spec.role
            )
        };
        out.push(format!(
            "{step}, task {} ({}): {how}",
            t.spec.id,
            t.status.as_str()
        ));
    }
    out
}

/// Who takes over from `person` while they are away: for every role they hold that has
/// substitutes declared (`substitutes burgemeester = …`), the role and the people of its
/// first substitute that has holders, skipping `person` themself. Roles that depend on a
/// document's field (`diensthoofd of document.dienst`) are resolved per document and
/// are not listed.
pub fn takes_over(state: &State, person: &str) -> Vec<(String, Vec<String>)> {
    let Some((_, dep)) = state.current() else {
        return Vec::new();
    };
    let none = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for decl in &dep.project.substitutes {
        if !dep
            .org
            .holders(&decl.holder, &none)
            .iter()
            .any(|h| h == person)
        {
            continue;
        }
        let subs = decl.substitutes.iter().find_map(|s| {
            let people: Vec<String> = dep
                .org
                .holders(s, &none)
                .into_iter()
                .filter(|p| p != person)
                .collect();
            (!people.is_empty()).then_some(people)
        });
        out.push((dep.org.role(&decl.holder, &none), subs.unwrap_or_default()));
    }
    out
}
