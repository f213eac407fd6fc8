//! The outbox sender inside `paraaf serve`: it groups what the outbox holds into
//! deliveries (a daily digest per person, a mail at once for escalations and for people
//! who chose immediate mail, a webhook per event), records each delivery before sending
//! it and marks it sent after (see `store::outbox` for the crash windows), and retries
//! with exponential backoff. Every item is checked against the state at the moment it is
//! planned and again just before it is sent (`check`): what the recipient may no longer
//! receive is dropped, with the reason. It wakes on a commit, on the clock moving, at the next
//! digest hour and at the next retry; it never polls.

pub mod check;
mod mail;
mod webhook;

pub use mail::{MailConfig, Tls, render, send as send_mail};
pub use webhook::{HookTarget, MAX_PDF_IN_BODY, with_sealed_pdf};

use crate::clock::{self, Clock};
use crate::engine::State;
use crate::outbox::Item;
use crate::store::outbox::{Delivery, Outbox, Plan};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use std::collections::BTreeMap;

/// Attempts before a delivery is given up (logged, counted as failed).
pub const MAX_ATTEMPTS: u32 = 20;

/// What the sender needs: where mail goes, and the webhook targets by the uploader
/// whose documents they are told about.
#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// The store the outbox lies in (and sealed PDFs are read from).
    pub db: crate::reads::Reads,
    /// The SMTP server and mail settings; without it mails wait in the outbox.
    pub mail: Option<MailConfig>,
    /// Uploader person → where that source is told (its URL and secret).
    pub hooks: BTreeMap<String, HookTarget>,
    /// First wait before a retry; it doubles with each attempt, up to an hour.
    pub backoff: std::time::Duration,
}

impl SenderConfig {
    /// The webhook target of items addressed to `recipient`: its own, or — queued before
    /// its person got a new id (the same HR key) — the one of the id they have now.
    fn hook(&self, state: &State, recipient: &str) -> Option<&HookTarget> {
        self.hooks
            .get(recipient)
            .or_else(|| self.hooks.get(&state.person_now(recipient)?))
    }
}

/// The wait before attempt `attempts + 1`: `base` doubled per attempt, at most an hour.
pub fn backoff(base: std::time::Duration, attempts: u32) -> std::time::Duration {
    let factor = 1u32.checked_shl(attempts.min(16)).unwrap_or(u32::MAX);
    base.saturating_mul(factor)
        .min(std::time::Duration::from_secs(3600))
}

/// The moment the digest holding an item of `at` goes out: the next `hour`:00 in
/// Brussels after it.
pub fn digest_time(at: DateTime<Utc>, hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    let today = clock::at_local(clock::date(at), time);
    if today > at {
        today
    } else {
        clock::at_local(clock::date(at) + Duration::days(1), time)
    }
}

/// The Message-ID of a mail holding these items for `person`: derived from the events
/// and the person only, so a mail sent again after a crash carries the same one.
pub fn message_id(person: &str, seqs: &[u64], domain: &str) -> String {
    let mut key = format!("mail|{person}");
    for s in seqs {
        key.push_str(&format!("|{s}"));
    }
    format!("<{}@{domain}>", &crate::sha256_hex(key.as_bytes())[..32])
}

/// The `webhook-id` of the webhook of event `seq` to the source of `uploader`: a hash,
/// so that it does not tell the log's global sequence.
pub fn webhook_id(seq: u64, uploader: &str) -> String {
    format!(
        "msg_{}",
        &crate::sha256_hex(format!("webhook|{uploader}|{seq}").as_bytes())[..32]
    )
}

/// When the sender looks again: the clock time of the next digest and the real time of
/// the next retry.
pub type NextWake = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// One round: plan deliveries for what is due, then send the deliveries due, each item
/// checked against `state` (the state now) first. Returns the clock time of the next
/// digest and the real time of the next retry.
pub fn round(
    outbox: &mut Outbox,
    cfg: &SenderConfig,
    now: DateTime<Utc>,
    state: &State,
) -> Result<NextWake, crate::engine::RuntimeError> {
    let mut waiting = outbox.waiting()?;
    // What may no longer go out is dropped before it is planned: a digest leaves it out.
    let mut kept = Vec::with_capacity(waiting.len());
    for w in waiting.drain(..) {
        let planned = match w.item.channel.as_str() {
            "mail" => cfg.mail.is_some(),
            "webhook" => cfg.hook(state, &w.item.recipient).is_some(),
            _ => false,
        };
        if planned && let check::Verdict::Drop(why) = check_item(outbox, cfg, state, &w.item) {
            tracing::info!(event = w.item.seq, channel = %w.item.channel, recipient = %w.item.recipient, reason = %why, "not sent");
            outbox.drop_item(
                w.item.seq,
                &w.item.channel,
                &w.item.recipient,
                &why,
                Utc::now(),
            )?;
        } else {
            kept.push(w);
        }
    }
    let waiting = kept;
    let mut next_digest: Option<DateTime<Utc>> = None;
    let mut mails: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    let mut skip = Vec::new();
    let mut plans = Vec::new();
    for w in &waiting {
        let i = &w.item;
        match i.channel.as_str() {
            "webhook" => match cfg.hook(state, &i.recipient) {
                Some(_) => plans.push(Plan {
                    id: webhook_id(i.seq, &i.recipient),
                    channel: "webhook",
                    recipient: &i.recipient,
                    items: vec![i],
                }),
                None => skip.push(i),
            },
            "mail" => mails.entry(i.recipient.as_str()).or_default().push(i),
            _ => skip.push(i),
        }
    }
    if !skip.is_empty() {
        outbox.skip(&skip)?;
    }
    if let Some(mc) = &cfg.mail {
        for (person, items) in mails {
            // Escalations and immediate mail: at once, one mail with what came
            // together (the tasks of one step escalated in one tick).
            let urgent: Vec<&Item> = items.iter().filter(|i| i.urgent).copied().collect();
            if !urgent.is_empty() {
                let seqs: Vec<u64> = urgent.iter().map(|i| i.seq).collect();
                plans.push(Plan {
                    id: message_id(person, &seqs, &mc.domain()),
                    channel: "mail",
                    recipient: person,
                    items: urgent,
                });
            }
            // The digest: everything due by now, in one mail.
            let (due, later): (Vec<&Item>, Vec<&Item>) = items
                .iter()
                .filter(|i| !i.urgent)
                .partition(|i| digest_time(i.at, mc.digest_hour) <= now);
            for i in later {
                let t = digest_time(i.at, mc.digest_hour);
                if next_digest.is_none_or(|n| t < n) {
                    next_digest = Some(t);
                }
            }
            if !due.is_empty() {
                let seqs: Vec<u64> = due.iter().map(|i| i.seq).collect();
                plans.push(Plan {
                    id: message_id(person, &seqs, &mc.domain()),
                    channel: "mail",
                    recipient: person,
                    items: due,
                });
            }
        }
    }
    // Step 1 for everything this round found, in one transaction.
    outbox.plan(&plans, Utc::now())?;
    for d in outbox.due(Utc::now())? {
        send_one(outbox, cfg, state, d)?;
    }
    Ok((next_digest, outbox.next_attempt()?))
}

/// The check of one item, asking the outbox whether a webhook's source submitted the
/// document.
fn check_item(outbox: &Outbox, cfg: &SenderConfig, state: &State, i: &Item) -> check::Verdict {
    let source = cfg.hook(state, &i.recipient).map(|t| t.source.clone());
    let logged = match outbox.event(i.seq) {
        Ok(e) => e,
        Err(e) => return check::Verdict::Drop(format!("its event cannot be read: {e}")),
    };
    check::item(state, i, logged.as_ref(), |doc| {
        source
            .as_deref()
            .is_some_and(|s| outbox.submitted_by_source(s, doc).unwrap_or(false))
    })
}

/// Checks a delivery's items once more, just before it is sent: the items that may no
/// longer go are dropped, the others carry what the check gave (the current address).
/// `None` when nothing is left to send.
fn recheck(
    outbox: &mut Outbox,
    cfg: &SenderConfig,
    state: &State,
    mut d: Delivery,
) -> Result<Option<Delivery>, crate::engine::RuntimeError> {
    let mut payloads = Vec::with_capacity(d.payloads.len());
    let mut seqs = Vec::with_capacity(d.seqs.len());
    for (seq, payload) in d.seqs.iter().zip(&d.payloads) {
        let item = Item {
            seq: *seq,
            channel: d.channel.clone(),
            recipient: d.recipient.clone(),
            urgent: false,
            at: Utc::now(),
            payload: payload.clone(),
            dropped: None,
        };
        match check_item(outbox, cfg, state, &item) {
            check::Verdict::Send(p) => {
                payloads.push(p);
                seqs.push(*seq);
            }
            check::Verdict::Drop(why) => {
                tracing::info!(id = %d.id, event = seq, reason = %why, "not sent");
                outbox.drop_item(*seq, &d.channel, &d.recipient, &why, Utc::now())?;
            }
        }
    }
    if payloads.is_empty() {
        outbox.dropped(&d.id, "every item was dropped before sending")?;
        return Ok(None);
    }
    d.payloads = payloads;
    d.seqs = seqs;
    Ok(Some(d))
}

/// Sends one delivery (after [`recheck`]) and records the outcome.
fn send_one(
    outbox: &mut Outbox,
    cfg: &SenderConfig,
    state: &State,
    d: Delivery,
) -> Result<(), crate::engine::RuntimeError> {
    if d.channel == "mail" && cfg.mail.is_none() {
        return Ok(());
    }
    let Some(d) = recheck(outbox, cfg, state, d)? else {
        return Ok(());
    };
    let d = &d;
    let result = match d.channel.as_str() {
        "mail" => match &cfg.mail {
            Some(mc) => mail::send(mc, d),
            None => return Ok(()),
        },
        "webhook" => match cfg.hook(state, &d.recipient) {
            Some(t) => webhook::send(t, &cfg.db, d),
            None => Err("no webhook target is configured for it any more".into()),
        },
        other => Err(format!("unknown channel {other}")),
    };
    match result {
        Ok(()) => {
            tracing::info!(id = %d.id, channel = %d.channel, events = ?d.seqs, "sent");
            outbox.sent(&d.id, Utc::now())
        }
        Err(e) => {
            let attempts = d.attempts + 1;
            let retry = (attempts < MAX_ATTEMPTS).then(|| {
                Utc::now()
                    + Duration::from_std(backoff(cfg.backoff, d.attempts)).unwrap_or_default()
            });
            if retry.is_some() {
                tracing::warn!(id = %d.id, channel = %d.channel, attempts, error = %e, "sending failed; retrying later");
            } else {
                tracing::error!(id = %d.id, channel = %d.channel, attempts, error = %e, "sending failed every time; given up");
            }
            outbox.failed(&d.id, &e, retry)
        }
    }
}

/// Starts the sender on the current tokio runtime (its SQLite and network work on the
/// blocking pool). `state` gives the latest committed state, which every item is checked
/// against; `commits` changes after every commit; `stop` ends it.
pub fn spawn(
    cfg: SenderConfig,
    state: impl Fn() -> std::sync::Arc<State> + Send + 'static,
    clock: Clock,
    mut commits: tokio::sync::watch::Receiver<u64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut moves = clock.moves();
        // Opened on the blocking pool: PostgreSQL's client blocks while it connects.
        let db = cfg.db.clone();
        let opened = tokio::task::spawn_blocking(move || db.outbox())
            .await
            .unwrap_or_else(|_| {
                Err(crate::engine::RuntimeError::Storage(
                    "opening the outbox stopped".into(),
                ))
            });
        let outbox = match opened {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "the outbox cannot be opened: nothing is sent");
                return;
            }
        };
        let shared = std::sync::Arc::new(std::sync::Mutex::new(outbox));
        loop {
            if *stop.borrow() {
                return;
            }
            let (cfg2, clock2, ob) = (cfg.clone(), clock.clone(), shared.clone());
            let now_state = state();
            let r = tokio::task::spawn_blocking(move || {
                let mut ob = ob.lock().unwrap_or_else(|p| p.into_inner());
                round(&mut ob, &cfg2, clock2.now(), &now_state)
            })
            .await;
            let (digest, retry) = match r {
                Ok(Ok(x)) => x,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the outbox could not be read; trying again in a minute");
                    (None, Some(Utc::now() + Duration::minutes(1)))
                }
                Err(_) => (None, Some(Utc::now() + Duration::minutes(1))),
            };
            let until_digest = digest.and_then(|t| clock.until(t));
            let until_retry = retry.map(|t| {
                (t - Utc::now())
                    .to_std()
                    .unwrap_or(std::time::Duration::ZERO)
            });
            let wait = match (until_digest, until_retry) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                _ = async {
                    match wait {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {}
                r = commits.changed() => if r.is_err() { return },
                _ = moves.changed() => {}
                _ = stop.changed() => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_goes_at_the_next_hour_in_brussels() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        // 10:00 Brussels (08:00 UTC, summer): the next 08:00 Brussels is tomorrow's.
        assert_eq!(
            digest_time(t("2026-07-01T08:00:00Z"), 8),
            t("2026-07-02T06:00:00Z")
        );
        // 05:00 Brussels: today at 08:00.
        assert_eq!(
            digest_time(t("2026-07-01T03:00:00Z"), 8),
            t("2026-07-01T06:00:00Z")
        );
        // Exactly at the hour: the next day's (the one at this moment has gone).
        assert_eq!(
            digest_time(t("2026-07-01T06:00:00Z"), 8),
            t("2026-07-02T06:00:00Z")
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let s = std::time::Duration::from_secs;
        assert_eq!(backoff(s(30), 0), s(30));
        assert_eq!(backoff(s(30), 1), s(60));
        assert_eq!(backoff(s(30), 3), s(240));
        assert_eq!(backoff(s(30), 12), s(3600));
        assert_eq!(backoff(s(30), 99), s(3600));
    }

    #[test]
    fn ids_follow_the_events_and_the_person_only() {
        assert_eq!(
            message_id("an", &[3, 5], "aalst.be"),
            message_id("an", &[3, 5], "aalst.be")
        );
        assert_ne!(
            message_id("an", &[3, 5], "aalst.be"),
            message_id("bo", &[3, 5], "aalst.be")
        );
        assert_ne!(
            message_id("an", &[3], "aalst.be"),
            message_id("an", &[3, 5], "aalst.be")
        );
        assert!(message_id("an", &[3], "aalst.be").ends_with("@aalst.be>"));
        assert_ne!(webhook_id(7, "notula"), webhook_id(8, "notula"));
    }
}
