//! Sealing as due work of the scheduler (#28). Every completed document without a seal
//! ([`State::waiting_for_seal`], a fact of the fold) is due at once the first time the
//! scheduler sees it: at start-up, and after the commit that completed it. An attempt
//! that fails (the TSA is down, the key cannot be read) leaves the document completed
//! and waiting, and makes it due again after a back-off on the server's clock (one
//! minute, doubling up to an hour), so that a test clock moved forward retries it and
//! no timer of its own runs beside the scheduler. The back-off is kept in memory: after
//! a restart every waiting document is tried again at once. A seal is recorded once
//! (`Emitter::record_seal` refuses a second), and attempts run one after the other on
//! the scheduler's task, so no document is sealed twice.

use crate::api::{Answer, Write, Writer};
use crate::engine::State;
use crate::sealing::{SEAL_OWNER, SealConfig, make};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// The first wait before a failed seal is tried again; it doubles with each failure,
/// up to an hour (`sender::backoff`).
pub const FIRST_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// What the scheduler needs to seal: the database (content and log) and the seal's
/// configuration.
#[derive(Clone)]
pub struct Sealer {
    /// The store the sealed PDFs are kept in (and the log and content read from).
    pub db: crate::reads::Reads,
    /// The seal's key, TSA and words.
    pub cfg: Arc<SealConfig>,
    /// The first wait after a failure ([`FIRST_RETRY`] in the server).
    pub first_retry: std::time::Duration,
}

/// One document's failed attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct Failed {
    /// How many attempts failed in a row.
    pub attempts: u32,
    /// When (server clock) it is due again.
    pub next: DateTime<Utc>,
    /// Why the last attempt failed.
    pub error: String,
}

/// The back-off of the documents whose seal failed, by document id.
#[derive(Default, Debug)]
pub struct Retries {
    failed: HashMap<String, Failed>,
}

impl Retries {
    /// When the next seal attempt is due in `state`: at once (`DateTime::MIN_UTC`) for a
    /// waiting document never tried, else the earliest back-off; `None` when none waits.
    pub fn next_due(&self, state: &State) -> Option<DateTime<Utc>> {
        state
            .waiting_for_seal()
            .iter()
            .map(|d| {
                self.failed
                    .get(&d.id)
                    .map_or(DateTime::<Utc>::MIN_UTC, |f| f.next)
            })
            .min()
    }

    /// The waiting documents due by `now`, oldest completion first; forgets documents
    /// that wait no more (sealed by another way).
    pub fn due(&mut self, state: &State, now: DateTime<Utc>) -> Vec<String> {
        let waiting = state.waiting_for_seal();
        self.failed
            .retain(|id, _| waiting.iter().any(|d| &d.id == id));
        waiting
            .iter()
            .filter(|d| self.failed.get(&d.id).is_none_or(|f| f.next <= now))
            .map(|d| d.id.clone())
            .collect()
    }

    /// Records a failed attempt at `now`: due again after the back-off.
    pub fn failed(
        &mut self,
        doc: &str,
        now: DateTime<Utc>,
        error: String,
        first: std::time::Duration,
    ) {
        let attempts = self.failed.get(doc).map_or(0, |f| f.attempts);
        let wait = crate::sender::backoff(first, attempts);
        let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        self.failed.insert(
            doc.to_string(),
            Failed {
                attempts: attempts + 1,
                next,
                error,
            },
        );
    }

    /// Forgets `doc` (sealed).
    pub fn sealed(&mut self, doc: &str) {
        self.failed.remove(doc);
    }

    /// The failed attempts of `doc`, if any.
    pub fn of(&self, doc: &str) -> Option<&Failed> {
        self.failed.get(doc)
    }
}

/// One attempt to seal `doc`: the PDF is made off the writer (a TSA may be slow) and
/// stored as content, then `document_sealed` is recorded by a write (refused if the
/// document was sealed meanwhile). Returns the verification code, or why it waits.
pub async fn attempt(
    writer: &Writer,
    sealer: &Sealer,
    doc: &str,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let (state, trust, db, cfg, id) = (
        writer.committed(),
        writer.history_trust(),
        sealer.db.clone(),
        sealer.cfg.clone(),
        doc.to_string(),
    );
    let made = tokio::task::spawn_blocking(move || make(&state, &db, &trust, &cfg, &id, now))
        .await
        .unwrap_or_else(|e| Err(format!("sealing stopped: {e}")))?;
    let code = made.code.clone();
    let answer = writer
        .write(Write {
            person: SEAL_OWNER.into(),
            idempotency: None,
            command: Box::new(move |e| {
                e.record_seal(&made.doc, &made.sha256, &made.code, made.timestamped)?;
                Ok(Answer {
                    status: 200,
                    body: "{}".into(),
                })
            }),
        })
        .await;
    if answer.status == 200 {
        Ok(code)
    } else {
        Err(answer.body)
    }
}

/// Attempts every document due by `now`, one after the other; records the outcomes in
/// `retries`. Returns how many were sealed.
pub async fn run_due(
    writer: &Writer,
    sealer: &Sealer,
    retries: &mut Retries,
    now: DateTime<Utc>,
) -> usize {
    let due = retries.due(&writer.committed(), now);
    let mut sealed = 0;
    for doc in due {
        match attempt(writer, sealer, &doc, now).await {
            Ok(code) => {
                tracing::info!(doc = %doc, code = %code, "document sealed");
                retries.sealed(&doc);
                sealed += 1;
            }
            Err(e) => {
                let first = sealer.first_retry.max(std::time::Duration::from_secs(1));
                retries.failed(&doc, now, e.clone(), first);
                let f = retries.of(&doc);
                tracing::warn!(
                    doc = %doc,
                    error = %e,
                    attempts = f.map_or(0, |f| f.attempts),
                    next = ?f.map(|f| f.next),
                    "document waits for its seal"
                );
            }
        }
    }
    sealed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Document, Status};

    fn state(docs: &[(&str, Status)]) -> State {
        let mut state = State::default();
        for (n, (id, status)) in docs.iter().enumerate() {
            let d = Document {
                id: id.to_string(),
                version: 1,
                flow: "collegebesluit".into(),
                kind: "besluit".into(),
                uploader: "jan-cools".into(),
                title: "Besluit".into(),
                fields: Default::default(),
                content_sha256: "0".repeat(64),
                status: *status,
                step: 0,
                tasks: Vec::new(),
                signers: Default::default(),
                comments: Vec::new(),
                events: vec![n as u64 + 1],
                submitted_at: chrono::DateTime::UNIX_EPOCH,
                sealed: None,
            };
            state.documents.insert(id.to_string(), Arc::new(d));
        }
        state
    }

    /// A waiting document is due at once, then after one, two, four minutes … at most
    /// an hour after each failure; a sealed (or no longer waiting) one is forgotten.
    #[test]
    fn a_failed_seal_is_due_again_after_a_doubling_back_off_on_the_clock() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .to_utc();
        let min = chrono::Duration::minutes;
        let s = state(&[("d-a", Status::Completed), ("d-b", Status::InProgress)]);
        let mut r = Retries::default();
        assert_eq!(r.next_due(&s), Some(DateTime::<Utc>::MIN_UTC));
        assert_eq!(r.due(&s, t0), vec!["d-a".to_string()]);
        r.failed("d-a", t0, "the TSA is down".into(), FIRST_RETRY);
        assert_eq!(r.next_due(&s), Some(t0 + min(1)));
        assert!(r.due(&s, t0 + chrono::Duration::seconds(59)).is_empty());
        assert_eq!(r.due(&s, t0 + min(1)), vec!["d-a".to_string()]);
        r.failed("d-a", t0 + min(1), "down".into(), FIRST_RETRY);
        assert_eq!(r.next_due(&s), Some(t0 + min(3)));
        r.failed("d-a", t0 + min(3), "down".into(), FIRST_RETRY);
        assert_eq!(r.next_due(&s), Some(t0 + min(7)));
        assert_eq!(r.of("d-a").map(|f| f.attempts), Some(3));
        for _ in 0..20 {
            r.failed("d-a", t0, "down".into(), FIRST_RETRY);
        }
        assert_eq!(r.next_due(&s), Some(t0 + min(60)));
        // Nothing waits: nothing is due and the back-off is forgotten.
        let none = state(&[("d-b", Status::InProgress)]);
        assert_eq!(r.next_due(&none), None);
        assert!(r.due(&none, t0 + min(90)).is_empty());
        assert!(r.of("d-a").is_none());
    }
}
