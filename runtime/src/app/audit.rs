//! `audit verify` as a service: the hash chain from the first event, every signed
//! checkpoint, the shielding rules of every deployed version, the snapshots and the
//! newest external anchor, in that order; the first failure ends the check.

use crate::Runtime;
use crate::anchor;
use crate::backend::{Backend, StoreAddress};
use crate::checkpoint::{self, Key, read_chain};
use crate::engine::RuntimeError;
use crate::workdays::Calendar;
use serde::Serialize;
use std::path::{Path, PathBuf};

use super::AppError;

/// What `audit verify` checks against.
pub struct VerifyOptions<'a> {
    /// The city's store (a SQLite file, or a city in PostgreSQL).
    pub db: &'a StoreAddress,
    /// The key file (public or signing) to check the checkpoints with, if any.
    pub key: Option<&'a Path>,
    /// The signed checkpoint file.
    pub checkpoint_file: &'a Path,
    /// Events between two signed checkpoints (the writer's setting).
    pub checkpoint_every: u64,
    /// Where the checkpoint head is anchored (TSA tokens, the witness file).
    pub anchor: &'a anchor::Config,
    /// The calendar the log is replayed with.
    pub calendar: Calendar,
}

/// The outcome of `audit verify`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The log holds: what was checked.
    Sound(Sound),
    /// The log, its checkpoints, a snapshot or a deployed version fails: why (one line
    /// per finding).
    Failed {
        /// The findings, each naming what failed.
        findings: Vec<String>,
    },
}

/// A log that holds.
#[derive(Clone, Debug, Serialize)]
pub struct Sound {
    /// Events checked.
    pub events: u64,
    /// The hash of the last event.
    pub head: String,
    /// What the signed checkpoints cover.
    pub signed: Signed,
    /// What an auditor should know (a torn last line, older lines, adopted events,
    /// restores), each a sentence.
    pub notes: Vec<String>,
    /// The newest external anchor, described, if any.
    pub anchored: Option<String>,
}

/// What the signed checkpoints say about a sound log.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "checkpoints", rename_all = "snake_case")]
pub enum Signed {
    /// No key given: the hash chain alone (a rewritten log cannot be told).
    Unkeyed,
    /// A key, but no checkpoint in the file yet.
    NoneYet {
        /// The checkpoint file.
        file: PathBuf,
    },
    /// Checkpoints cover the log up to `last_seq`.
    Checkpoints {
        /// How many checkpoints.
        count: usize,
        /// The event the last one covers.
        last_seq: u64,
        /// When the last one was signed.
        last_at: String,
        /// The checkpoint file's last line.
        chain_line: u64,
        /// The chain hash after that line.
        chain_head: String,
    },
}

/// Verifies the log of `o.db`. `Err` only when the database, the key or the replay
/// cannot be opened; everything found wrong is a [`Verdict::Failed`].
pub fn verify(o: VerifyOptions<'_>) -> Result<Verdict, AppError> {
    let failed = |why: String| {
        Ok(Verdict::Failed {
            findings: vec![why],
        })
    };
    let store = Backend::open(o.db).map_err(|e| AppError::Input(format!("{}: {e}", o.db)))?;
    let key = o.key.map(Key::read).transpose()?;
    let has_checkpoints = std::fs::metadata(o.checkpoint_file).is_ok_and(|m| m.len() > 0);
    if key.is_none() && has_checkpoints {
        return failed(format!(
            "{} has signed checkpoints in {}: verify with --public-key KEY.pub (the hash chain alone cannot tell a rewritten log)",
            o.db,
            o.checkpoint_file.display()
        ));
    }
    let chain = match &key {
        Some(k) => match read_chain(o.checkpoint_file, k) {
            Ok(chain) => chain,
            Err(why) => return failed(why),
        },
        None => Default::default(),
    };
    let checkpoints = &chain.list;
    let v = match store.verify(checkpoints) {
        Ok(v) => v,
        Err(why) => return failed(why),
    };
    let runtime = Runtime::open_store_replaying(o.db, o.calendar)
        .map_err(AppError::runtime("replaying the log"))?;
    let broken: Vec<String> = runtime
        .state()
        .deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.broken.is_empty())
        .map(|(i, d)| {
            format!(
                "version {} breaks the shielding rules: {}",
                i + 1,
                d.broken.join("; ")
            )
        })
        .collect();
    if !broken.is_empty() {
        return Ok(Verdict::Failed { findings: broken });
    }
    if key.is_some()
        && let Err(why) =
            checkpoint::unsigned_tail(checkpoints, v.events, o.checkpoint_every, o.checkpoint_file)
    {
        return failed(why);
    }
    // The log is sound; a snapshot is only a cache of its fold, but one that was altered
    // would be read at the next start.
    if let Err(RuntimeError::Tampered(why)) = store.load_counting() {
        return failed(format!(
            "{why}: the log itself is intact; `paraaf admin rebuild` replays it and drops the snapshots"
        ));
    }
    // The newest anchored head (a TSA's stamp, the witness file): a log or a checkpoint
    // file shorter than it was rolled back.
    let anchored = match anchor::newest(o.anchor) {
        Err(why) => return failed(why),
        Ok(None) => None,
        Ok(Some(newest)) => {
            let seq = newest.anchor.seq;
            let hash = store
                .hash_prefixes(seq, seq)
                .ok()
                .map(|(_, h)| h)
                .filter(|h| !h.is_empty());
            if let Err(why) = anchor::check(
                &newest,
                v.events,
                hash.as_deref(),
                chain.lines,
                &chain.restores,
            ) {
                return failed(why);
            }
            Some(newest.describe())
        }
    };
    let mut notes = Vec::new();
    if let Some(torn) = &chain.torn {
        notes.push(torn.clone());
    }
    if chain.legacy > 0 {
        notes.push(format!(
            "the first {} lines of {} are of the older format (not numbered), sealed by the numbered line after them",
            chain.legacy,
            o.checkpoint_file.display()
        ));
    }
    for a in &chain.adoptions {
        notes.push(format!(
            "events {}–{} were adopted on {} without a writer's signature: {}",
            a.from,
            a.seq,
            a.at,
            a.adopted.as_deref().unwrap_or("")
        ));
    }
    for r in &chain.restores {
        notes.push(format!(
            "restored from a backup at event {} on {}: events {}–{} of the earlier log were given up",
            r.seq,
            r.at,
            r.seq + 1,
            r.restored_over.unwrap_or(r.seq)
        ));
    }
    let signed = match (key.is_some(), checkpoints.last()) {
        (false, _) => Signed::Unkeyed,
        (true, None) => Signed::NoneYet {
            file: o.checkpoint_file.to_path_buf(),
        },
        (true, Some(cp)) => Signed::Checkpoints {
            count: checkpoints.len(),
            last_seq: cp.seq,
            last_at: cp.at.clone(),
            chain_line: chain.lines,
            chain_head: chain.head.clone(),
        },
    };
    Ok(Verdict::Sound(Sound {
        events: v.events,
        head: v.head,
        signed,
        notes,
        anchored,
    }))
}
