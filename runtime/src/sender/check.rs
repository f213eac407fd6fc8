//! The sender's second line of defence: an item is checked against the state now, not
//! the one it was queued in, when the sender takes it up (plans it into a delivery) and
//! again just before it goes out. Mails and webhooks pass the same test of their
//! recipient ([`recipient_now`]): the person (for a webhook, the person its source acts
//! as) must still be in the organogram in force, under the id they have now after a
//! rename, and may see the document now (`may_see`). A mail then goes to their address
//! now; a webhook about a shielded file is a bare notice (id, outcome and its number
//! within the document) and goes only to the source that submitted the file. What fails
//! is not sent and is recorded as dropped, with the reason.

use crate::engine::{Event, State};
use crate::outbox::{Hook, Item, Mail};
use crate::visibility::may_see;

/// What the check decides for one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it, with this payload (the current address; a shielded file's notice bare).
    Send(String),
    /// Do not send it, for this reason (recorded with the item).
    Drop(String),
}

/// Checks an item against `state` now and against `logged`, the event of the log it
/// names (`i.seq`, as the log holds it): an item no logged event causes (a row written
/// into the outbox by hand, outside the hash chain) is dropped, and what an item says
/// about its document comes from the state, not from the row. `submitted_by_source`
/// answers whether the webhook source of the item's recipient submitted a document
/// (asked only for a shielded file's webhook).
pub fn item(
    state: &State,
    i: &Item,
    logged: Option<&Event>,
    submitted_by_source: impl Fn(&str) -> bool,
) -> Verdict {
    match i.channel.as_str() {
        "mail" => mail(state, i, logged),
        "webhook" => webhook(state, i, logged, submitted_by_source),
        other => Verdict::Drop(format!("unknown channel {other}")),
    }
}

/// The logged event an item names, or why it is dropped.
fn logged_event<'e>(i: &Item, logged: Option<&'e Event>) -> Result<&'e Event, Verdict> {
    logged.ok_or_else(|| Verdict::Drop(format!("no event {} in the log causes it", i.seq)))
}

fn mail(state: &State, i: &Item, logged: Option<&Event>) -> Verdict {
    let Ok(mut m) = serde_json::from_str::<Mail>(&i.payload) else {
        return Verdict::Drop("the outbox item is unreadable".into());
    };
    let entry = match recipient_now(state, &i.recipient, &m.doc) {
        Ok(entry) => entry,
        Err(why) => return Verdict::Drop(why),
    };
    let event = match logged_event(i, logged) {
        Ok(e) => e,
        Err(v) => return v,
    };
    if event.doc() != Some(m.doc.as_str()) {
        return Verdict::Drop(format!(
            "event {} of the log is not about its document",
            i.seq
        ));
    }
    let Some(doc) = state.documents.get(&m.doc) else {
        return Verdict::Drop("its document is not in the state".into());
    };
    // What the mail says of the document, from the state: nothing of a shielded file.
    m.about = if crate::outbox::shielded(state, doc) {
        None
    } else {
        m.about.map(|a| crate::outbox::About {
            title: doc.title.clone(),
            kind: doc.kind.clone(),
            role: a.role,
        })
    };
    let person = entry.id.as_str();
    if entry.email.trim().is_empty() {
        return Verdict::Drop(format!("{person} has no e-mail address any more"));
    }
    // The address and name of today's organogram, never those fixed when it was queued.
    m.to = entry.email.clone();
    m.name = entry.name.clone();
    match serde_json::to_string(&m) {
        Ok(p) => Verdict::Send(p),
        Err(e) => Verdict::Drop(format!("the mail cannot be written: {e}")),
    }
}

/// Whether `recipient` (a person id as queued) may still be told about `doc`: the
/// organogram entry of the person they are now (the same id, or the new id of the same
/// HR key after a rename; never anyone else) if that person is in the organogram in
/// force and may see the document now (`may_see`); else the reason, in words. The one
/// test of a recipient for mails and webhooks alike.
pub fn recipient_now<'s>(
    state: &'s State,
    recipient: &str,
    doc: &str,
) -> Result<&'s paraaf_model::OrgPerson, String> {
    let now = state.person_now(recipient);
    let person = now.as_deref().unwrap_or(recipient);
    let entry = state
        .organogram
        .as_ref()
        .and_then(|o| o.organogram.people.iter().find(|p| p.id == person))
        .ok_or_else(|| format!("{person} is not in the organogram in force any more"))?;
    if !may_see(state, person, doc) {
        return Err(format!("{person} may not see the document any more"));
    }
    Ok(entry)
}

fn webhook(
    state: &State,
    i: &Item,
    logged: Option<&Event>,
    submitted_by_source: impl Fn(&str) -> bool,
) -> Verdict {
    let Ok(mut h) = serde_json::from_str::<Hook>(&i.payload) else {
        return Verdict::Drop("the outbox item is unreadable".into());
    };
    let Some(doc_id) = h
        .data
        .get("document")
        .and_then(|d| d.as_str())
        .map(str::to_string)
    else {
        return Verdict::Drop("the webhook names no document".into());
    };
    let Some(doc) = state.documents.get(&doc_id) else {
        return Verdict::Drop("its document is not in the state".into());
    };
    // The source acts as its person: it hears of a document only while that person may
    // see it (moved out of a shield since it was submitted: nothing more).
    if let Err(why) = recipient_now(state, &i.recipient, &doc_id) {
        return Verdict::Drop(format!("the source's person: {why}"));
    }
    // The notice its logged event causes, about that event's document: a completed
    // notice for a document in progress is no event's.
    let event = match logged_event(i, logged) {
        Ok(e) => e,
        Err(v) => return v,
    };
    match crate::outbox::hook_kind(event) {
        Some((kind, outcome))
            if kind == h.kind
                && event.doc() == Some(doc_id.as_str())
                && h.data.get("outcome").and_then(|o| o.as_str()) == Some(outcome) => {}
        _ => {
            return Verdict::Drop(format!(
                "event {} of the log does not cause this webhook",
                i.seq
            ));
        }
    }
    if crate::outbox::shielded(state, doc) {
        if !submitted_by_source(&doc_id) {
            return Verdict::Drop(
                "a shielded file is told only to the source that submitted it".into(),
            );
        }
        // Whatever was queued, only the bare notice leaves.
        h.data
            .retain(|k, _| matches!(k.as_str(), "document" | "outcome" | "event"));
    }
    match serde_json::to_string(&h) {
        Ok(p) => Verdict::Send(p),
        Err(e) => Verdict::Drop(format!("the webhook cannot be written: {e}")),
    }
}
