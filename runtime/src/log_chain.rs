//! The checks of the hash-chained log, one body for both stores (SQLite's
//! [`crate::store::Store`] and PostgreSQL's [`crate::pg_store::PgStore`]): each store
//! reads its rows and hands them here, so a replay, `audit verify`, the history walk and
//! the tail check against a signed checkpoint refuse exactly the same logs on either.

use crate::checkpoint::Checkpoint;
use crate::engine::{Event, RuntimeError, State};
use crate::store::{GENESIS, Verified, hash};
use chrono::{DateTime, Utc};

/// One event as stored: its number, time and body as hashed, and the two hashes.
pub(crate) struct Row {
    /// Sequence number.
    pub seq: u64,
    /// RFC 3339 time, as hashed.
    pub at: String,
    /// JSON body, as hashed.
    pub body: String,
    /// The hash the row says comes before it.
    pub prev_hash: String,
    /// The hash stored for it.
    pub hash: String,
}

/// A stored time as read back.
pub(crate) fn parse_time(seq: u64, at: &str) -> Result<DateTime<Utc>, RuntimeError> {
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.to_utc())
        .map_err(|e| RuntimeError::Storage(format!("event {seq}: bad time: {e}")))
}

/// One event read on its own (a reader beside the writer): `row` checked against its
/// own hash and against `next_prev`, the link the next event has to it (`None`: it is
/// the last), then parsed; refused as tampered when either does not match. `Ok(None)`
/// for a body this version does not read as an event (it is skipped, as before).
pub(crate) fn checked_event(
    row: Row,
    next_prev: Option<String>,
) -> Result<Option<(u64, String, Event)>, RuntimeError> {
    let Row {
        seq,
        at,
        body,
        prev_hash,
        hash: stored,
    } = row;
    if hash(&prev_hash, seq, &at, &body) != stored || next_prev.is_some_and(|p| p != stored) {
        return Err(RuntimeError::Tampered(format!(
            "event {seq} does not match its hash chain: the log was altered (run `paraaf audit verify`)"
        )));
    }
    Ok(serde_json::from_str::<Event>(&body)
        .ok()
        .map(|event| (seq, at, event)))
}

/// Applies `rows` (the events after `state.last_seq`, oldest first), the first of which
/// must follow `prev`: each is checked against its hash and its predecessor first.
pub(crate) fn replay(
    state: &mut State,
    mut prev: String,
    rows: impl Iterator<Item = Result<Row, RuntimeError>>,
) -> Result<(), RuntimeError> {
    for row in rows {
        let Row {
            seq,
            at,
            body,
            prev_hash,
            hash: stored,
        } = row?;
        if seq != state.last_seq + 1 || prev_hash != prev || hash(&prev, seq, &at, &body) != stored
        {
            return Err(RuntimeError::Tampered(format!(
                "event {seq} does not match its hash chain (run `paraaf audit verify`)"
            )));
        }
        prev = stored;
        let event: Event = serde_json::from_str(&body)
            .map_err(|e| RuntimeError::Storage(format!("event {seq} is unreadable: {e}")))?;
        state.apply(seq, parse_time(seq, &at)?, &event);
    }
    Ok(())
}

/// The state a stored snapshot holds (the state after event `seq`, `body` with SHA-256
/// `sha`), checked against `event`, the event that records it (`SnapshotTaken`, read at
/// the number the snapshot row names): `Ok(None)` when the row is no snapshot (no such
/// event, another event, a format no longer read), refused as tampered when the event
/// does not record exactly these bytes or the state is of another event.
pub(crate) fn snapshot_state(
    seq: u64,
    sha: &str,
    body: &[u8],
    event: Option<Row>,
) -> Result<Option<State>, RuntimeError> {
    let Some(event) = event else {
        return Ok(None); // no such event (an edited table): not a snapshot
    };
    let Ok(Event::SnapshotTaken {
        seq: recorded,
        sha256,
    }) = serde_json::from_str::<Event>(&event.body)
    else {
        return Ok(None);
    };
    let actual = crate::sha256_hex(body);
    if recorded != seq
        || sha256 != actual
        || sha != actual
        || hash(&event.prev_hash, event.seq, &event.at, &event.body) != event.hash
    {
        return Err(RuntimeError::Tampered(format!(
            "the snapshot of event {seq} does not match event {} that records it",
            event.seq
        )));
    }
    let Some(state) = crate::snapshot::decode(body)? else {
        return Ok(None);
    };
    if state.last_seq != seq {
        return Err(RuntimeError::Tampered(format!(
            "the snapshot of event {seq} holds the state after event {}",
            state.last_seq
        )));
    }
    Ok(Some(state))
}

/// Checks the hash chain of `rows` (the whole log, oldest first) from the first event
/// and, against the signed `checkpoints`, each event's hash: names the first event that
/// is missing, altered or not the one a checkpoint signed, and deleted events at the end.
pub(crate) fn verify(
    rows: impl Iterator<Item = Result<Row, String>>,
    checkpoints: &[Checkpoint],
) -> Result<Verified, String> {
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1u64;
    let mut cps = checkpoints.iter().peekable();
    for row in rows {
        let Row {
            seq,
            at,
            body,
            prev_hash,
            hash: stored,
        } = row?;
        while cps.peek().is_some_and(|c| c.seq < seq) {
            cps.next();
        }
        let signed = cps.peek().and_then(|c| c.hash_of(expected_seq));
        if seq != expected_seq {
            return Err(format!(
                "event {expected_seq} is missing (the next one is {seq})"
            ));
        }
        if let Some(h) = signed
            && !stored.starts_with(h)
        {
            return Err(format!(
                "event {seq} is not the event the checkpoint signed: the log was rewritten from event {seq} on"
            ));
        }
        if prev_hash != prev {
            return Err(format!(
                "event {seq} does not follow event {}: the chain is broken",
                seq - 1
            ));
        }
        if hash(&prev, seq, &at, &body) != stored {
            return Err(format!(
                "event {seq} was altered: its content does not match its hash"
            ));
        }
        if let Some(c) = cps.peek()
            && c.seq == seq
            && (c.head.is_empty() || !stored.starts_with(&c.head))
        {
            return Err(format!(
                "event {seq} differs from the signed checkpoint: the log was rewritten"
            ));
        }
        prev = stored;
        expected_seq += 1;
    }
    if let Some(last) = checkpoints.last()
        && last.seq >= expected_seq
    {
        return Err(format!(
            "the signed checkpoint covers events up to {}, but the log ends at {}: events {}–{} were deleted",
            last.seq,
            expected_seq - 1,
            expected_seq,
            last.seq
        ));
    }
    if let Some(why) = crate::checkpoint::appended_after_close(checkpoints, expected_seq - 1) {
        return Err(why);
    }
    Ok(Verified {
        events: expected_seq - 1,
        head: prev,
    })
}

/// What the history walk must refuse before it reads a row: a log that ends (at `head`)
/// before the last signed checkpoint, or goes on after a `closed` mark.
pub(crate) fn history_head(head: u64, checkpoints: &[Checkpoint]) -> Result<(), String> {
    if let Some(last) = checkpoints.last()
        && last.seq > head
    {
        return Err(format!(
            "the signed checkpoint covers events up to {}, but the log ends at {head}: events {}–{} were deleted",
            last.seq,
            head + 1,
            last.seq
        ));
    }
    if let Some(why) = crate::checkpoint::appended_after_close(checkpoints, head) {
        return Err(why);
    }
    Ok(())
}

/// The events recorded at or after `since` (`None`: all), oldest first as `(seq, time,
/// JSON)`, from `rows`, the log newest first from `head` (checked with
/// [`history_head`] first): each verified as it is read, its content against its hash,
/// its hash against the next event's link to it and against the checkpoint covering it.
/// The walk stops at the first event before `since`.
pub(crate) fn history_back(
    head: u64,
    rows: impl Iterator<Item = Result<Row, String>>,
    since: Option<DateTime<Utc>>,
    checkpoints: &[Checkpoint],
) -> Result<Vec<(u64, String, String)>, String> {
    // As the log writes times (fixed width, UTC): they compare as text.
    let since = since.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    let mut out = Vec::new();
    // The link the later event makes to the one read next, and that one's number.
    let mut link: Option<String> = None;
    let mut expected = head;
    let mut reached_start = true;
    for row in rows {
        let Row {
            seq,
            at,
            body,
            prev_hash,
            hash: stored,
        } = row?;
        if seq == 0 {
            return Err("the log holds an event numbered 0: it was rewritten".into());
        }
        if seq != expected {
            return Err(format!(
                "event {expected} is missing (the one before it is {seq})"
            ));
        }
        if link.as_ref().is_some_and(|l| *l != stored) {
            return Err(format!(
                "event {} does not follow event {seq}: the chain is broken",
                seq + 1
            ));
        }
        if hash(&prev_hash, seq, &at, &body) != stored {
            return Err(format!(
                "event {seq} was altered: its content does not match its hash"
            ));
        }
        // The first checkpoint at or after this event covers it, as `verify` reads.
        let covering = checkpoints.partition_point(|c| c.seq < seq);
        if let Some(c) = checkpoints.get(covering) {
            if c.hash_of(seq).is_some_and(|h| !stored.starts_with(h)) {
                return Err(format!(
                    "event {seq} is not the event the checkpoint signed: the log was rewritten from event {seq} on"
                ));
            }
            if c.seq == seq && (c.head.is_empty() || !stored.starts_with(&c.head)) {
                return Err(format!(
                    "event {seq} differs from the signed checkpoint: the log was rewritten"
                ));
            }
        }
        if since.as_deref().is_some_and(|since| at.as_str() < since) {
            reached_start = false;
            break;
        }
        link = Some(prev_hash);
        expected = seq - 1;
        out.push((seq, at, body));
    }
    if reached_start && expected != 0 {
        return Err(format!("event {expected} is missing (it is the first)"));
    }
    if reached_start && link.as_ref().is_some_and(|l| l != GENESIS) {
        return Err("event 1 does not start the chain: the log was cut or rewritten".into());
    }
    out.reverse();
    Ok(out)
}

/// Checks `rows` (the events from `last.seq` on, oldest first) against the last signed
/// checkpoint: the event it names still has its hash and every later event follows from
/// it. `head` gives where the log ends, for the message when the event is gone.
pub(crate) fn verify_tail(
    rows: impl Iterator<Item = Result<Row, String>>,
    last: &Checkpoint,
    head: impl FnOnce() -> Result<u64, String>,
) -> Result<(), String> {
    let mut prev: Option<String> = None;
    for (expected_seq, row) in (last.seq..).zip(rows) {
        let Row {
            seq,
            at,
            body,
            prev_hash,
            hash: stored,
        } = row?;
        if seq != expected_seq {
            return Err(format!(
                "event {expected_seq} is missing (the next one is {seq})"
            ));
        }
        match &prev {
            None if last.head.is_empty() || !stored.starts_with(&last.head) => {
                return Err(format!(
                    "event {seq} differs from the last signed checkpoint: the log was rewritten"
                ));
            }
            Some(p) if *p != prev_hash => {
                return Err(format!(
                    "event {seq} does not follow event {}: the chain is broken",
                    seq - 1
                ));
            }
            _ => {}
        }
        if hash(&prev_hash, seq, &at, &body) != stored {
            return Err(format!(
                "event {seq} was altered: its content does not match its hash"
            ));
        }
        prev = Some(stored);
    }
    if prev.is_none() {
        let end = head()?;
        return Err(format!(
            "the last signed checkpoint covers events up to {}, but the log ends at {end}: events {}–{} were deleted",
            last.seq,
            end + 1,
            last.seq
        ));
    }
    Ok(())
}

/// What someone else did at the end of the log, when a writer left it at event `seq`
/// (hash `hash`) and it now ends at `last` (hash `prev`).
pub(crate) fn changed_tail(seq: u64, hash: &str, last: u64, prev: &str) -> Option<String> {
    let short = |h: &str| h.chars().take(16).collect::<String>();
    if last < seq {
        Some(format!(
            "events {}–{seq} that this writer committed are gone from the log (it ends at event {last}): events were removed; nothing is appended and nothing signed",
            last + 1
        ))
    } else if last > seq {
        Some(format!(
            "events {}–{last} were appended to the log by someone other than its writer (whose last event is {seq}): nothing is appended, and they are not signed",
            seq + 1
        ))
    } else if prev != hash {
        Some(format!(
            "event {seq} was rewritten under its writer (its hash is now {}…, the writer committed {}…): nothing is appended, and it is not signed",
            short(prev),
            short(hash)
        ))
    } else {
        None
    }
}

/// Where a commit's events must go on the log that ends at `last` (hash `prev`), for a
/// writer that left it at `tail` (if it checks): refused as tampered when the log
/// changed under it or lost events it wrote, and as a storage error when another writer
/// appended (the first event is not the log's next).
pub(crate) fn check_append(
    tail: Option<&(u64, String)>,
    last: u64,
    prev: &str,
    first: Option<u64>,
) -> Result<(), RuntimeError> {
    if let Some(why) = tail.and_then(|(seq, hash)| changed_tail(*seq, hash, last, prev)) {
        return Err(RuntimeError::Tampered(why));
    }
    if let Some(first) = first
        && first > last + 1
    {
        return Err(RuntimeError::Tampered(format!(
            "events {}–{} of this writer are gone from the log (it ends at event {last}): events were removed; nothing is appended",
            last + 1,
            first - 1
        )));
    } else if let Some(first) = first
        && first != last + 1
    {
        return Err(RuntimeError::Storage(format!(
            "another writer appended events (expected {}, store has {last})",
            first - 1
        )));
    }
    Ok(())
}
