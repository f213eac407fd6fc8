//! The one function that decides who may see a document. Every read path calls it.
//! Deny by default; deny when anything is missing.

use crate::engine::State;
use paraaf_model::Audience;

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
        // Inside by membership, or only by the `allow` exception (the same test as
        // `inside_shield`, without the exception).
        let member = dep.shields.member(&d.kind, person)
            && state
                .current()
                .is_none_or(|(_, c)| c.shields.member(&d.kind, person));
        match (&s.allow, member) {
            (Some(field), false) => say(format!(
                "{person} is not in the group `{}` that shields `{}`, but the exception `allow {field}` lets them past the shield, as the file names them in `{field}`: they see it as the signer of the steps that name `{field}`, and sign nothing else",
                s.group, d.kind
            )),
            _ => say(format!(
                "{person} is inside the group `{}` that shields `{}`",
                s.group, d.kind
            )),
        }
    }
    if d.uploader == person {
        say(format!("{person} uploaded it"));
        return true;
    }
    if d.signers.contains(person) {
        say(format!(
            "{} (signers see what they sign)",
            signer_reason(state, d, person)
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
        "{person} did not upload it, is not among its signers now, and is in none of the audiences of flow `{}`",
        flow.name
    ));
    false
}

/// Why `person` counts among the signers of `d`, task by task, first match: asked now
/// (an assignee of an open task), holding the role of an open task while someone else is
/// asked (absent: a substitute signs), having decided a task, or having held the role of
/// one that is done.
fn signer_reason(state: &State, d: &crate::engine::Document, person: &str) -> String {
    use crate::engine::TaskStatus;
    let step = |t: &crate::engine::Task| step_name(state, d, t);
    let open = || d.tasks.iter().filter(|t| t.status == TaskStatus::Open);
    if let Some(t) = open().find(|t| t.spec.assignees.iter().any(|a| a == person)) {
        return format!(
            "{person} is asked to sign it now ({}, task {}, as {})",
            step(t),
            t.spec.id,
            t.spec.role
        );
    }
    if let Some(t) = open().find(|t| t.spec.holders.iter().any(|h| h == person)) {
        // Routing asks the holders unless they are away (then their substitutes).
        let who = if t.spec.assignees.is_empty() {
            "nobody is asked (the task waits in the manual queue)".to_string()
        } else {
            format!(
                "{person} is away and {} {} instead",
                t.spec.assignees.join(", "),
                if t.spec.assignees.len() == 1 {
                    "signs"
                } else {
                    "sign"
                }
            )
        };
        return format!(
            "{person} holds {} for {} (task {}) but is not asked to sign it now: {who}",
            t.spec.role,
            step(t),
            t.spec.id
        );
    }
    if let Some(t) = d
        .tasks
        .iter()
        .find(|t| t.decided_by.as_ref().is_some_and(|(by, _)| by == person))
    {
        return format!(
            "{person} {} it ({}, task {})",
            t.status.as_str(),
            step(t),
            t.spec.id
        );
    }
    match d
        .tasks
        .iter()
        .find(|t| t.spec.holders.iter().any(|h| h == person))
    {
        Some(t) => format!(
            "{person} held {} for {} (task {}, {})",
            t.spec.role,
            step(t),
            t.spec.id,
            t.status.as_str()
        ),
        None => format!("{person} is among its signers"),
    }
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

/// The step of task `t` of `d` in words (`step `voorstel``).
fn step_name(state: &State, d: &crate::engine::Document, t: &crate::engine::Task) -> String {
    state
        .deployment(d.version)
        .and_then(|dep| dep.flow(&d.flow))
        .and_then(|f| f.steps.get(t.step))
        .map_or(format!("step {}", t.step + 1), |s| {
            format!("step `{}`", s.name)
        })
}

/// Whether `person` is asked to sign `doc` now: an assignee of one of its open tasks.
pub fn asked_now(state: &State, person: &str, doc: &str) -> bool {
    state.documents.get(doc).is_some_and(|d| {
        d.status == crate::engine::Status::InProgress
            && d.tasks.iter().any(|t| {
                t.status == crate::engine::TaskStatus::Open
                    && t.spec.assignees.iter().any(|a| a == person)
            })
    })
}

/// Why `person` is (or was) asked to sign `doc`, task by task: the step and role, and
/// whether they are asked now (as a holder, a substitute for holders who are away, or
/// after an escalation), hold the role while someone else is asked, or decided the task.
/// Empty when no task of the document names them now (see [`asked_before`] for tasks
/// they were taken off).
pub fn why_asked(state: &State, person: &str, doc: &str) -> Vec<String> {
    use crate::engine::TaskStatus;
    let Some(d) = state.documents.get(doc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &d.tasks {
        let holder = t.spec.holders.iter().any(|h| h == person);
        let assignee = t.spec.assignees.iter().any(|a| a == person);
        let decided = t.decided_by.as_ref().is_some_and(|(by, _)| by == person);
        if !(holder || assignee || decided) {
            continue;
        }
        let open = t.status == TaskStatus::Open && d.status == crate::engine::Status::InProgress;
        let how = if decided {
            match &t.decided_by {
                Some((_, Some(for_whom))) => {
                    format!("{person} {} it for {for_whom}", t.status.as_str())
                }
                _ => format!("{person} {} it", t.status.as_str()),
            }
        } else if open && !assignee {
            if t.spec.assignees.is_empty() {
                format!(
                    "{person} holds {}, but nobody is asked: the task waits in the manual queue",
                    t.spec.role
                )
            } else {
                format!(
                    "{person} holds {}, but is away and not asked now: {} {} instead",
                    t.spec.role,
                    t.spec.assignees.join(", "),
                    if t.spec.assignees.len() == 1 {
                        "signs"
                    } else {
                        "sign"
                    }
                )
            }
        } else {
            let role = if holder {
                format!("{person} holds {}", t.spec.role)
            } else if t.escalated_to.iter().any(|e| e == person) {
                format!(
                    "the task was escalated to {person} (the role {} is held by {})",
                    t.spec.role,
                    t.spec.holders.join(", ")
                )
            } else if t.assigned.iter().any(|a| a == person) {
                format!(
                    "an administrator assigned the task to {person} (the role {} is held by {})",
                    t.spec.role,
                    if t.spec.holders.is_empty() {
                        "nobody".to_string()
                    } else {
                        t.spec.holders.join(", ")
                    }
                )
            } else if !t.escalated_to.is_empty()
                && !t.escalated_to.iter().any(|e| t.spec.assignees.contains(e))
            {
                format!(
                    "{person} substitutes for {} (absent), to whom the task was escalated",
                    t.escalated_to.join(", ")
                )
            } else {
                format!(
                    "{person} substitutes for {} (absent), who hold{} {}",
                    t.spec.holders.join(", "),
                    if t.spec.holders.len() == 1 { "s" } else { "" },
                    t.spec.role
                )
            };
            if open {
                format!("asked now: {role}")
            } else {
                format!("was asked: {role}")
            }
        };
        out.push(format!(
            "{}, task {} ({}): {how}",
            step_name(state, d, t),
            t.spec.id,
            t.status.as_str()
        ));
    }
    out
}

/// The tasks of `doc` that `person` was asked to sign and was taken off since (an
/// organogram change, an assignment from the manual queue, a return from absence), read
/// from the document's `events`: the step, the task and the recorded reason. Tasks they
/// are asked for again are left out. People taken off a task no longer see the document
/// through it.
pub fn asked_before(
    state: &State,
    events: &[crate::engine::Event],
    person: &str,
    doc: &str,
) -> Vec<String> {
    use crate::engine::Event;
    let Some(d) = state.documents.get(doc) else {
        return Vec::new();
    };
    let mut asked: std::collections::BTreeMap<&str, bool> = std::collections::BTreeMap::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for e in events {
        match e {
            Event::StepOpened { doc: at, tasks, .. } if at == doc => {
                for t in tasks {
                    asked.insert(&t.id, t.assignees.iter().any(|a| a == person));
                }
            }
            Event::TaskMoved {
                doc: at,
                task,
                assignees,
                reason,
                ..
            }
            | Event::TaskReassigned {
                doc: at,
                task,
                assignees,
                reason,
            } if at == doc => {
                let now = assignees.iter().any(|a| a == person);
                if asked.get(task.as_str()) == Some(&true) && !now {
                    out.push((task.clone(), reason.clone()));
                }
                asked.insert(task, now);
            }
            _ => {}
        }
    }
    out.into_iter()
        .filter(|(task, _)| asked.get(task.as_str()) != Some(&true))
        .map(|(task, reason)| {
            let step = d
                .tasks
                .iter()
                .find(|t| t.spec.id == task)
                .map(|t| format!("{}, ", step_name(state, d, t)))
                .unwrap_or_default();
            format!("{person} was asked to sign {step}task {task}, and was taken off it: {reason}")
        })
        .collect()
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
