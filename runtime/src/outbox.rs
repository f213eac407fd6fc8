//! What the outbox receives for committed events: mails to people (a new task, a
//! reminder, an escalation, a document returned or stopped) and webhooks to the
//! integration that started a document (completed, refused, sealed). Derived from the events and
//! the state they lead to, and written by `Store::commit` in the same transaction as the
//! events: an event is never committed without its messages, nor a message without its
//! event. Sending is `crate::sender`'s work.

use crate::engine::{Event, NotifyMode, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One message to send, once per (event, channel, recipient).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The event that causes it.
    pub seq: u64,
    /// `mail` or `webhook`.
    pub channel: String,
    /// A person id (mail) or the uploader whose source is told (webhook).
    pub recipient: String,
    /// Sent at once (an escalation, or the person chose immediate mail); else with the
    /// person's next daily digest.
    pub urgent: bool,
    /// When the event happened (the digest it belongs to follows from it).
    pub at: DateTime<Utc>,
    /// What to say (JSON of [`Mail`] or [`Hook`]).
    pub payload: String,
    /// Set when the recipient failed the check already when it was queued
    /// (`sender::check::recipient_now` in the state the events lead to): the reason. The
    /// row is written as dropped, with the reason, and never sent.
    #[serde(default)]
    pub dropped: Option<String>,
}

/// What a mail says about one event, in data (rendered when sent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mail {
    /// `task`, `reminder`, `escalation`, `returned` or `stopped`.
    pub what: String,
    /// The address.
    pub to: String,
    /// The person's name.
    pub name: String,
    /// The document id (random: it tells nothing), for the link.
    pub doc: String,
    /// Title, kind and role: `None` for a shielded document (the mail then says only
    /// that a task waits).
    pub about: Option<About>,
}

/// What may be said about a document that is not shielded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct About {
    /// Title.
    pub title: String,
    /// Document kind.
    pub kind: String,
    /// The role the task asks for, in the organogram's words (empty when none).
    pub role: String,
}

/// A webhook's body: Standard Webhooks' `type`, `timestamp` and `data`. New keys may be
/// added to `data`: receivers ignore what they do not know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    /// `document.completed`, `document.refused` or `document.sealed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (RFC 3339).
    pub timestamp: String,
    /// About the document.
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// The outbox items for `events`, just applied to `state`.
pub fn derive(state: &State, events: &[(u64, DateTime<Utc>, Event)]) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for (seq, at, event) in events {
        let mut mail = |person: &str, what: &str, task: Option<&str>| {
            if let Some(item) = mail_item(state, *seq, *at, event, person, what, task)
                && !out.iter().any(|o| {
                    o.seq == item.seq && o.channel == "mail" && o.recipient == item.recipient
                })
            {
                out.push(item);
            }
        };
        match event {
            Event::StepOpened { tasks, .. } => {
                for t in tasks {
                    for p in &t.assignees {
                        mail(p, "task", Some(&t.id));
                    }
                }
            }
            Event::TaskReassigned {
                task, assignees, ..
            }
            | Event::TaskMoved {
                task, assignees, ..
            } => {
                for p in assignees {
                    mail(p, "task", Some(task));
                }
            }
            Event::Reminded { doc, task } => {
                // Whoever the same tick escalated the task to is told of the escalation
                // instead (the state here is the one after the whole batch).
                let escalated: Vec<&String> = events
                    .iter()
                    .filter_map(|(_, _, e)| match e {
                        Event::Escalated {
                            doc: d,
                            task: t,
                            to,
                            ..
                        } if d == doc && t == task => Some(to),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                for p in open_assignees(state, doc, task) {
                    if !escalated.contains(&&p) {
                        mail(&p, "reminder", Some(task));
                    }
                }
            }
            Event::Escalated { task, to, .. } => {
                for p in to {
                    mail(p, "escalation", Some(task));
                }
            }
            Event::DocumentReturned { doc } | Event::DocumentStopped { doc } => {
                let what = if matches!(event, Event::DocumentReturned { .. }) {
                    "returned"
                } else {
                    "stopped"
                };
                if let Some(d) = state.documents.get(doc) {
                    let uploader = d.uploader.clone();
                    mail(&uploader, what, None);
                }
            }
            _ => {}
        }
        if let Some(item) = hook_item(state, *seq, *at, event) {
            out.push(item);
        }
    }
    // The same test of the recipient as when the sender plans and sends it.
    for i in &mut out {
        let doc = events
            .iter()
            .find(|(s, _, _)| *s == i.seq)
            .and_then(|(_, _, e)| e.doc());
        i.dropped = match doc {
            Some(doc) => crate::sender::check::recipient_now(state, &i.recipient, doc).err(),
            None => Some("the event names no document".into()),
        };
    }
    out
}

/// Who may sign the open task `task` of `doc` now.
fn open_assignees(state: &State, doc: &str, task: &str) -> Vec<String> {
    state
        .documents
        .get(doc)
        .and_then(|d| d.tasks.iter().rev().find(|t| t.spec.id == task))
        .map(|t| t.spec.assignees.clone())
        .unwrap_or_default()
}

fn mail_item(
    state: &State,
    seq: u64,
    at: DateTime<Utc>,
    event: &Event,
    person: &str,
    what: &str,
    task: Option<&str>,
) -> Option<Item> {
    let mode = state.notify.get(person).copied().unwrap_or_default();
    if mode == NotifyMode::Nothing {
        return None;
    }
    let doc_id = event.doc()?;
    let doc = state.documents.get(doc_id)?;
    let org = state.organogram.as_ref()?;
    let entry = org.organogram.people.iter().find(|p| p.id == person)?;
    if entry.email.trim().is_empty() {
        return None;
    }
    let dep = state.deployment(doc.version)?;
    let shielded = dep.shields.shield(&doc.kind).is_some();
    let role = task
        .and_then(|t| doc.tasks.iter().rev().find(|x| x.spec.id == t))
        .map(|t| dep.org.role_name(&t.spec.role))
        .unwrap_or_default();
    let body = Mail {
        what: what.to_string(),
        to: entry.email.clone(),
        name: entry.name.clone(),
        doc: doc.id.clone(),
        about: (!shielded).then(|| About {
            title: doc.title.clone(),
            kind: doc.kind.clone(),
            role,
        }),
    };
    Some(Item {
        seq,
        channel: "mail".into(),
        recipient: person.to_string(),
        urgent: what == "escalation" || mode == NotifyMode::Immediate,
        at,
        payload: serde_json::to_string(&body).ok()?,
        dropped: None,
    })
}

/// The webhook an event causes: its `type` and `outcome` (`None`: the event causes none).
/// The sender asks it again of the logged event before a webhook goes out.
pub fn hook_kind(event: &Event) -> Option<(&'static str, &'static str)> {
    Some(match event {
        Event::DocumentCompleted { .. } => ("document.completed", "completed"),
        Event::DocumentReturned { .. } => ("document.refused", "returned"),
        Event::DocumentStopped { .. } => ("document.refused", "stopped"),
        Event::DocumentSealed { .. } => ("document.sealed", "sealed"),
        _ => return None,
    })
}

/// A webhook for a document that completed, was refused (returned or stopped) or was
/// sealed, addressed to its uploader: the server sends it to the source that submits as
/// that person, if one is configured, while that person may see the document. A seal's webhook names the sealed PDF (its
/// SHA-256, verification code and API path); the sender puts the PDF itself into the
/// body when it goes out (`sender::webhook`), so the outbox holds no copy of it.
fn hook_item(state: &State, seq: u64, at: DateTime<Utc>, event: &Event) -> Option<Item> {
    let (kind, outcome) = hook_kind(event)?;
    let doc = state.documents.get(event.doc()?)?;
    let mut data = serde_json::Map::new();
    data.insert("document".into(), doc.id.clone().into());
    data.insert("outcome".into(), outcome.into());
    // The event's number within its document (1 = submitted), never the log's global
    // sequence, which would tell how much else happened in between.
    let nth = doc
        .events
        .iter()
        .position(|s| *s == seq)
        .map_or(doc.events.len(), |i| i + 1);
    data.insert("event".into(), nth.into());
    // A shielded file goes out as a bare notice: its id and outcome, nothing more.
    if shielded(state, doc) {
        return Some(hook(kind, at, seq, &doc.uploader, data));
    }
    data.insert("kind".into(), doc.kind.clone().into());
    data.insert("flow".into(), doc.flow.clone().into());
    data.insert("fields".into(), serde_json::to_value(&doc.fields).ok()?);
    if let Event::DocumentSealed {
        sha256,
        code,
        timestamped,
        ..
    } = event
    {
        data.insert(
            "sealed".into(),
            serde_json::json!({
                "sha256": sha256,
                "code": code,
                "timestamped": timestamped,
                "path": format!("/documents/{}/sealed", doc.id),
            }),
        );
    }
    if matches!(outcome, "returned" | "stopped")
        && let Some(t) = doc
            .tasks
            .iter()
            .rev()
            .find(|t| t.status == crate::engine::TaskStatus::Refused)
    {
        data.insert(
            "refused_by".into(),
            t.decided_by.as_ref().map(|(by, _)| by.clone()).into(),
        );
    }
    Some(hook(kind, at, seq, &doc.uploader, data))
}

/// Whether `doc`'s kind is shielded, in its own version or in the version in force.
pub fn shielded(state: &State, doc: &crate::engine::Document) -> bool {
    let by = |v: Option<&crate::engine::Deployment>| {
        v.is_some_and(|d| d.shields.shield(&doc.kind).is_some())
    };
    by(state.deployment(doc.version)) || by(state.current().map(|(_, d)| d))
}

fn hook(
    kind: &str,
    at: DateTime<Utc>,
    seq: u64,
    uploader: &str,
    data: serde_json::Map<String, serde_json::Value>,
) -> Item {
    let hook = Hook {
        kind: kind.into(),
        timestamp: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        data,
    };
    Item {
        seq,
        channel: "webhook".into(),
        recipient: uploader.to_string(),
        urgent: true,
        at,
        payload: serde_json::to_string(&hook).unwrap_or_default(),
        dropped: None,
    }
}
