//! A document's history read beside the running writer, shown only when each event
//! verifies up to something trusted (#25 finding 10).
//!
//! [`crate::store::read_events`] checks each event against its own hash and the next
//! event's link only: a rewrite that recomputes the chain up to the head passes that. Here
//! an event is shown only when its hash is the one a signed checkpoint line covering it
//! signed, or, for an event after the last checkpoint line, when the links from it lead to
//! the head hash the writer committed itself ([`crate::store::Store::expected_tail`]).
//! Once the writer declared the log tampered, nothing is shown. Without a signing key
//! there is nothing signed to check against: the local check only.
//!
//! Cost per page: reading the checkpoint file (one signature check per line, as
//! `paraaf log` does) and a walk over the unsigned tail from the first unsigned event
//! shown to the writer's head: at most the checkpoint interval, and with anchoring at
//! most the events of one `--anchor-every` round.

use crate::checkpoint::{self, Key};
use crate::engine::{Event, RuntimeError};
use crate::pg_store::reads::ChainRow;
use crate::reads::Reads;
use std::path::PathBuf;

/// What a reader beside the writer trusts: published by the writer after every batch.
#[derive(Clone, Default)]
pub struct Trust {
    /// The last event the writer committed (or found at open), and its hash.
    pub head: Option<(u64, String)>,
    /// The signed checkpoint file and the key that verifies it.
    pub checkpoints: Option<(PathBuf, Key)>,
    /// Why the writer stopped: the log changed under it. Then no history is shown.
    pub tampered: Option<String>,
}

/// The events `seqs` of the log at `db` (a [`Reads`], or a SQLite file's path) as
/// `(seq, time, event)`, each verified up to `trust` (see the module's text); any event
/// that does not is refused as [`RuntimeError::Tampered`], naming it, and nothing is
/// shown. The web app's document page and `paraaf why` read history through this.
pub fn read_events(
    db: impl Into<Reads>,
    seqs: &[u64],
    trust: &Trust,
) -> Result<Vec<(u64, String, Event)>, RuntimeError> {
    if let Some(why) = &trust.tampered {
        return Err(RuntimeError::Tampered(why.clone()));
    }
    let reads: Reads = db.into();
    let events = reads.read_events(seqs)?;
    // Without a key nothing is signed to check against (and the walk to the head would
    // be unbounded): the local check only, as the operations guide says.
    let Some((file, key)) = &trust.checkpoints else {
        return Ok(events);
    };
    let signed = checkpoint::read_file(file, key).map_err(RuntimeError::Tampered)?;
    reads.with_rows(|row| check(&events, &signed, trust, row))?;
    Ok(events)
}

/// Checks `events` against the `signed` checkpoint lines and, after the last, the links
/// to the writer's head in `trust`; `row` reads a stored event row.
fn check(
    events: &[(u64, String, Event)],
    signed: &[checkpoint::Checkpoint],
    trust: &Trust,
    row: &mut dyn FnMut(u64) -> Result<Option<ChainRow>, RuntimeError>,
) -> Result<(), RuntimeError> {
    let altered = |seq: u64| {
        RuntimeError::Tampered(format!(
            "event {seq} is not the event the writer committed and signed: the log was altered (run `paraaf audit verify`)"
        ))
    };
    let mut unsigned_from: Option<u64> = None;
    for (seq, _, _) in events {
        match signed.iter().find_map(|c| c.hash_of(*seq)) {
            Some(prefix) => {
                let (_, _, _, stored) = row(*seq)?.ok_or_else(|| altered(*seq))?;
                if !stored.starts_with(prefix) {
                    return Err(altered(*seq));
                }
            }
            None => {
                unsigned_from = Some(unsigned_from.map_or(*seq, |f: u64| f.min(*seq)));
            }
        }
    }
    if let Some(from) = unsigned_from {
        // Not signed yet: the links from the first such event must lead to the head the
        // writer committed.
        let Some((head, head_hash)) = &trust.head else {
            return Err(altered(from));
        };
        if from > *head {
            return Err(altered(from));
        }
        let mut prev: Option<String> = None;
        for seq in from..=*head {
            let (at, body, prev_hash, stored) = row(seq)?.ok_or_else(|| altered(seq))?;
            if crate::store::hash(&prev_hash, seq, &at, &body) != stored
                || prev.as_ref().is_some_and(|p| *p != prev_hash)
            {
                return Err(altered(seq));
            }
            prev = Some(stored);
        }
        if prev.as_deref() != Some(head_hash.as_str()) {
            return Err(altered(*head));
        }
    }
    Ok(())
}
