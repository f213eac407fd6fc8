//! The manual queue as a service: everything that waits for a person (open tasks nobody
//! can be asked for, imported invoices nobody can match), and assigning a waiting task.

use crate::Runtime;
use crate::engine::{Queued, RuntimeError, State, queued};
use crate::finance::imports::{self, QueuedInvoice};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One item of the manual queue, of either kind (`"item": "task"` or `"invoice"` in
/// JSON).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// An open task of a document in flight that nobody is asked for.
    Task(Queued),
    /// An imported invoice waiting for a person (`paraaf finance run`).
    Invoice(QueuedInvoice),
}

/// The manual queue: tasks first (oldest document first), then invoices (by file).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Queue {
    /// Open tasks nobody is asked for.
    pub tasks: Vec<Queued>,
    /// Imported invoices waiting for a person.
    pub invoices: Vec<QueuedInvoice>,
}

impl Queue {
    /// Every item, tasks before invoices.
    pub fn items(&self) -> Vec<Item> {
        self.tasks
            .iter()
            .cloned()
            .map(Item::Task)
            .chain(self.invoices.iter().cloned().map(Item::Invoice))
            .collect()
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        self.tasks.len() + self.invoices.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What waits in the manual queue of `state`.
pub fn list(state: &State) -> Queue {
    Queue {
        tasks: queued(state),
        invoices: imports::queued(state),
    }
}

/// A waiting task given to a person.
#[derive(Clone, Debug)]
pub struct Assignment<'a> {
    /// The document.
    pub doc: &'a str,
    /// The task, when more than one of the document waits.
    pub task: Option<&'a str>,
    /// Who takes it.
    pub to: &'a str,
    /// Who assigns it (recorded).
    pub by: &'a str,
    /// Why this person (recorded; at least two words).
    pub reason: &'a str,
}

/// Gives a waiting task to a person at `now`, checked against the kind's shield and
/// recorded as `task_moved`; returns the task's id.
pub fn assign(
    runtime: &mut Runtime,
    now: DateTime<Utc>,
    a: &Assignment<'_>,
) -> Result<String, RuntimeError> {
    runtime.execute(now, |e| {
        e.assign_queued(a.doc, a.task, a.to, a.by, a.reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_name_their_kind_and_keep_every_field() {
        let q = Queue {
            tasks: vec![Queued {
                doc: "d-1".into(),
                title: "Aanstelling".into(),
                kind: "besluit".into(),
                task: "t-1".into(),
                role: "diensthoofd".into(),
                reason: "nobody holds diensthoofd now".into(),
            }],
            invoices: vec![QueuedInvoice {
                id: "3fa2".into(),
                file: "n2.xml".into(),
                number: "CN-2".into(),
                supplier_name: "Bouw NV".into(),
                queue: "manuele-koppeling".into(),
                reason: "names invoice X-9".into(),
            }],
        };
        assert_eq!(q.len(), 2);
        let json = serde_json::to_value(q.items()).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"item": "task", "doc": "d-1", "title": "Aanstelling", "kind": "besluit",
                 "task": "t-1", "role": "diensthoofd", "reason": "nobody holds diensthoofd now"},
                {"item": "invoice", "id": "3fa2", "file": "n2.xml", "number": "CN-2", "supplier_name": "Bouw NV",
                 "queue": "manuele-koppeling", "reason": "names invoice X-9"}
            ])
        );
    }
}
