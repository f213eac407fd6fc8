//! The manual queue: open tasks nobody can be asked for (the role is vacant, the person
//! a flow or a document names has left, or the shield kept everyone out), and the one
//! way out of it: an administrator assigns the task to a person, with a reason, checked
//! against the kind's shield like every other routing decision and recorded as a
//! `task_moved` event.

use super::{Emitter, Event, RuntimeError, shield_split};
use crate::engine::state::{State, Status, TaskStatus};
use paraaf_model::Signer;

/// One task waiting in the manual queue.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Queued {
    /// Document.
    pub doc: String,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: String,
    /// Task.
    pub task: String,
    /// The role the task asks for.
    pub role: String,
    /// Why nobody is asked, and what to do.
    pub reason: String,
}

/// Every open task without anyone to sign it, oldest document first.
pub fn queued(state: &State) -> Vec<Queued> {
    let mut out = Vec::new();
    for d in state
        .documents
        .values()
        .filter(|d| d.status == Status::InProgress)
    {
        for t in d
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open && t.spec.assignees.is_empty())
        {
            out.push(Queued {
                doc: d.id.clone(),
                title: d.title.clone(),
                kind: d.kind.clone(),
                task: t.spec.id.clone(),
                role: t.spec.role.clone(),
                reason: reason(state, d, t),
            });
        }
    }
    out.sort_by(|a, b| {
        let at = |id: &str| state.documents.get(id).map(|d| d.submitted_at);
        at(&a.doc).cmp(&at(&b.doc)).then(a.task.cmp(&b.task))
    });
    out
}

/// The signer a task was opened for (its step's signature).
fn signer_of<'a>(
    state: &'a State,
    d: &crate::engine::Document,
    t: &crate::engine::state::Task,
) -> Option<&'a Signer> {
    let dep = state.deployment(d.version)?;
    let flow = dep.flow(&d.flow)?;
    Some(
        &flow
            .steps
            .get(t.step)?
            .signatures
            .get(t.spec.signature)?
            .signer,
    )
}

fn reason(state: &State, d: &crate::engine::Document, t: &crate::engine::state::Task) -> String {
    let named = match signer_of(state, d, t) {
        Some(Signer::Person { id }) => Some(id.clone()),
        Some(Signer::PersonField { field }) => d
            .fields
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string),
        _ => None,
    };
    match named {
        Some(p) if state.has_left(&p) => format!(
            "{p} is no longer in the organogram (they left), so they are not asked; assign the task to someone who may sign it: `paraaf queue assign {} --task {} --to PERSON --reason \"…\"`",
            d.id, t.spec.id
        ),
        _ if t.shield_refused.is_some() => t.shield_refused.clone().unwrap_or_default(),
        _ => format!(
            "nobody holds {} now; assign the task (`paraaf queue assign {} --task {} --to PERSON --reason \"…\"`) or appoint someone to the role",
            t.spec.role, d.id, t.spec.id
        ),
    }
}

impl Emitter<'_> {
    /// Assigns a task of the manual queue to `to`, for `reason` (given by `by`). Refused
    /// when the task is not waiting in the queue, `to` is not in the organogram, or the
    /// kind's shield keeps `to` out (the `allow` person only for a step that names them).
    pub fn assign_queued(
        &mut self,
        doc: &str,
        task: Option<&str>,
        to: &str,
        by: &str,
        reason: &str,
    ) -> Result<String, RuntimeError> {
        let reason = reason.trim();
        if reason.split_whitespace().count() < 2 {
            return Err(RuntimeError::Invalid(
                "say why this person takes the task (`--reason \"acting head of service since 1 March\"`); the reason is recorded in the document's history".into(),
            ));
        }
        let d = self
            .state
            .documents
            .get(doc)
            .cloned()
            .ok_or(RuntimeError::NotFound)?;
        let waiting: Vec<&crate::engine::state::Task> = d
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open && t.spec.assignees.is_empty())
            .filter(|t| task.is_none_or(|id| t.spec.id == id))
            .collect();
        let t = match (d.status == Status::InProgress, waiting.as_slice()) {
            (false, _) => {
                return Err(RuntimeError::Conflict(format!(
                    "document {doc} is {}; nothing waits",
                    d.status.as_str()
                )));
            }
            (true, [one]) => *one,
            (true, []) => {
                return Err(RuntimeError::Conflict(format!(
                    "no task of document {doc} waits in the manual queue{}",
                    task.map(|t| format!(" under the id {t}"))
                        .unwrap_or_default()
                )));
            }
            (true, _) => {
                return Err(RuntimeError::Invalid(format!(
                    "several tasks of document {doc} wait; name one with --task ({})",
                    waiting
                        .iter()
                        .map(|t| t.spec.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        if self.state.has_left(to)
            || !self
                .state
                .current()
                .is_some_and(|(_, dep)| dep.org.is_person(to))
        {
            return Err(RuntimeError::Invalid(format!(
                "`{to}` is not a person in the organogram in force"
            )));
        }
        let dep = self
            .state
            .deployment(d.version)
            .cloned()
            .ok_or(RuntimeError::NotFound)?;
        let signer = signer_of(self.state, &d, t).cloned();
        let own = signer
            .as_ref()
            .is_some_and(|s| dep.shields.names_allow(&d.kind, s));
        let (inside, out) = shield_split(
            self.state,
            d.version,
            &d.kind,
            &d.fields,
            vec![to.to_string()],
            own,
        );
        if inside.is_empty() || !out.is_empty() {
            let group = dep
                .shields
                .shield(&d.kind)
                .map_or(String::new(), |s| s.group.clone());
            return Err(RuntimeError::Forbidden(format!(
                "`{to}` is outside the shielded group `{group}`; a {} may only be assigned to someone inside it",
                d.kind
            )));
        }
        let task_id = t.spec.id.clone();
        self.emit(Event::TaskMoved {
            doc: doc.to_string(),
            task: task_id.clone(),
            holders: t.spec.holders.clone(),
            assignees: vec![to.to_string()],
            role: None,
            reason: format!("assigned from the manual queue to {to} by {by}: {reason}"),
            assigned: vec![to.to_string()],
        });
        Ok(task_id)
    }
}
