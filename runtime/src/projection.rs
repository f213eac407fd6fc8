//! The `documents` projection's row of one document, as both stores write it: who may
//! see it (audiences as `kind:name,kind:name`) and its tasks (a JSON array) in the row
//! itself, keyed by [`crate::store::projection_key`].

use crate::engine::{Event, RuntimeError, State};
use crate::visibility::audiences;
use std::collections::BTreeSet;

/// The documents whose rows a batch of `events` changes, in `state` after them: those
/// the events name, and every document after a deployment (of a project or an
/// organogram), which changes rows no event names: who holds a role (a `signer`
/// audience), the unit a field names after a merge, a person's id after a marriage (the
/// uploader, signers and assignees). Absences change no row: the tasks they move are
/// events of their own.
pub(crate) fn documents_changed<'a>(
    state: &'a State,
    events: impl IntoIterator<Item = &'a Event>,
) -> BTreeSet<&'a str> {
    let mut docs = BTreeSet::new();
    for event in events {
        match event {
            Event::ProjectDeployed { .. } | Event::OrganogramDeployed { .. } => {
                return state.documents.keys().map(String::as_str).collect();
            }
            _ => {
                if let Some(d) = event.doc() {
                    docs.insert(d);
                }
            }
        }
    }
    docs
}

/// One document's row of the `documents` projection.
pub(crate) struct DocumentRow<'a> {
    /// The row key (internal, increasing; see [`crate::store::projection_key`]).
    pub n: i64,
    /// Public id.
    pub id: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Flow.
    pub flow: &'a str,
    /// Project version it runs under.
    pub version: i64,
    /// Uploader.
    pub uploader: &'a str,
    /// Title.
    pub title: &'a str,
    /// Status.
    pub status: &'static str,
    /// Current step.
    pub step: i64,
    /// Its last event.
    pub last_seq: i64,
    /// Who may see it: `kind:name` pairs, sorted, comma-separated.
    pub audiences: String,
    /// Its tasks, a JSON array (read through the `tasks` view on SQLite).
    pub tasks: String,
}

/// One task as the `tasks` column of the `documents` projection holds it.
#[derive(serde::Serialize)]
struct TaskRow<'a> {
    id: &'a str,
    step: usize,
    role: &'a str,
    assignees: String,
    status: &'a str,
}

/// The row of document `doc` in `state`; `None` when there is no such document.
pub(crate) fn document_row<'a>(
    state: &'a State,
    doc: &str,
) -> Result<Option<DocumentRow<'a>>, RuntimeError> {
    let Some(d) = state.documents.get(doc) else {
        return Ok(None);
    };
    // Sorted and without repeats already (no kind is a prefix of another, so the text
    // sorts as the pairs do).
    let mut who = String::new();
    for (kind, name) in audiences(state, doc) {
        if !who.is_empty() {
            who.push(',');
        }
        who.push_str(kind);
        who.push(':');
        who.push_str(&name);
    }
    let tasks: Vec<TaskRow> = d
        .tasks
        .iter()
        .map(|t| TaskRow {
            id: &t.spec.id,
            step: t.step,
            role: &t.spec.role,
            assignees: t.spec.assignees.join(","),
            status: t.status.as_str(),
        })
        .collect();
    let tasks = serde_json::to_string(&tasks).map_err(|e| RuntimeError::Storage(e.to_string()))?;
    Ok(Some(DocumentRow {
        n: crate::store::projection_key(d),
        id: &d.id,
        kind: &d.kind,
        flow: &d.flow,
        version: i64::from(d.version),
        uploader: &d.uploader,
        title: &d.title,
        status: d.status.as_str(),
        step: d.step as i64,
        last_seq: d.events.last().copied().unwrap_or(0) as i64,
        audiences: who,
        tasks,
    }))
}
