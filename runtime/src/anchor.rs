//! The checkpoint head anchored outside the machine: stamped by an RFC 3161 time-stamp
//! authority (`tsa.rs`) and/or written to a witness file on another host.
//!
//! Signed checkpoints stop a rewrite, but not a rollback: someone who cuts the database
//! and the checkpoint file back to an earlier `closed` mark leaves a log that is sound
//! in itself. An anchor records a head (the last checkpoint's event and hash, and the
//! checkpoint file's line count and chain hash) where that person cannot take it back;
//! `paraaf audit verify` reports the newest anchor and refuses a log shorter than it.
//!
//! - The witness file (`PARAAF_WITNESS`) takes one JSON line per anchor, appended and
//!   synced; put it on another host (an append-only share).
//! - The TSA (`PARAAF_TSA_URL`, trusted roots in `PARAAF_TSA_TRUST`) stamps the anchor's
//!   digest; the token goes into the anchor line, in the witness file and in `DB.anchors`
//!   next to the database. A token proves the head existed at its time, and is verified
//!   against the trusted roots at every `audit verify`.
//!
//! The server anchors in a thread of its own ([`Anchorer`]): every `--anchor-every`
//! seconds it first has the writer sign a checkpoint of its current head (when events
//! came since the last line), then anchors the file's head if it moved; and at shutdown
//! after the closing mark. The anchored head is so never more than one round behind
//! the committed head. The TSA and the witness are never on the writer's path. A TSA that is down is tried again sooner; `/health`
//! says `degraded` meanwhile. `paraaf audit anchor` anchors once (for cron, when only the
//! command line writes).

use crate::checkpoint::{Chain, Key};
use crate::tsa::{self, TimeInfo, Token, Trust};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Seconds between two anchoring rounds of the server, by default.
pub const DEFAULT_EVERY: u64 = 300;
/// How soon the server tries again after the TSA or the witness failed.
const RETRY: Duration = Duration::from_secs(30);

/// Where and how to anchor.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The TSA's URL (`PARAAF_TSA_URL`).
    pub tsa_url: Option<String>,
    /// The roots a TSA's certificate must chain to (`PARAAF_TSA_TRUST`).
    pub trust: Option<Trust>,
    /// The witness file (`PARAAF_WITNESS`).
    pub witness: Option<PathBuf>,
    /// The local file of stamped anchors (`DB.anchors`).
    pub file: PathBuf,
    /// Seconds between two anchoring rounds of the server.
    pub every: u64,
}

impl Config {
    /// Whether anything anchors (a TSA or a witness).
    pub fn is_active(&self) -> bool {
        self.tsa_url.is_some() || self.witness.is_some()
    }
}

/// The anchors file of a database: `DB.anchors` next to its real path.
pub fn default_file(db: &Path) -> PathBuf {
    crate::beside(db, ".anchors")
}

/// One anchored head (a line of JSON in the witness file and in `DB.anchors`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// The last signed event at the time.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
    /// Lines in the checkpoint file at the time.
    pub lines: u64,
    /// The checkpoint file's chain hash after those lines.
    pub chain: String,
    /// When it was written (the server's clock, RFC 3339).
    pub at: String,
    /// The TSA that stamped it (its URL), if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa: Option<String>,
    /// The RFC 3161 token over [`Anchor::digest`] (DER, base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Anchor {
    /// The head of a checkpoint chain: its last checkpoint, its lines and chain hash;
    /// `None` before the first checkpoint.
    pub fn head(chain: &Chain) -> Option<Anchor> {
        let last = chain.list.last()?;
        Some(Anchor {
            seq: last.seq,
            hash: last.head.clone(),
            lines: chain.lines,
            chain: chain.head.clone(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tsa: None,
            token: None,
        })
    }

    /// What the TSA stamps: SHA-256 of the head's four values.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(
            format!(
                "paraaf-anchor-v1\n{}\n{}\n{}\n{}",
                self.seq, self.hash, self.lines, self.chain
            )
            .as_bytes(),
        )
        .into()
    }

    fn same_head(&self, other: &Anchor) -> bool {
        (self.seq, &self.hash, self.lines, &self.chain)
            == (other.seq, &other.hash, other.lines, &other.chain)
    }
}

/// What one anchoring did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The anchor as written (with its token when stamped).
    pub anchor: Option<Anchor>,
    /// The TSA's time, when it stamped.
    pub stamped: Option<TimeInfo>,
    /// Whether the witness file took it.
    pub witnessed: bool,
    /// Why part of it did not happen (the TSA down, the witness not writable): try again.
    pub pending: Option<String>,
}

fn append_line(path: &Path, anchor: &Anchor) -> Result<(), String> {
    let line = serde_json::to_string(anchor).map_err(|e| e.to_string())?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // A line that lost its break (a torn write) is closed first, so this one reads.
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut text = String::new();
    if len > 0 {
        use std::io::{Read, Seek, SeekFrom};
        let mut last = [0u8; 1];
        let mut r = std::fs::File::open(path).map_err(|e| e.to_string())?;
        if r.seek(SeekFrom::End(-1)).is_ok() && r.read_exact(&mut last).is_ok() && last[0] != b'\n'
        {
            text.push('\n');
        }
    }
    text.push_str(&line);
    text.push('\n');
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Anchors `head` as `config` says: the TSA stamps it (the token verified at once), then
/// it is appended to `DB.anchors` (when stamped) and to the witness file. A TSA or witness
/// that fails leaves [`Outcome::pending`] set; nothing here blocks longer than the TSA's
/// timeout.
pub fn anchor(config: &Config, mut head: Anchor) -> Outcome {
    let mut out = Outcome::default();
    let mut pending = Vec::new();
    if let Some(url) = &config.tsa_url {
        let stamped = tsa::request(url, &head.digest()).and_then(|token| {
            let info = match &config.trust {
                Some(trust) => token.verify(&head.digest(), trust)?,
                None => {
                    return Err(tsa::TsaError::Untrusted(
                        "no trusted roots configured (PARAAF_TSA_TRUST)".into(),
                    ));
                }
            };
            Ok((token, info))
        });
        match stamped {
            Ok((token, info)) => {
                head.tsa = Some(url.clone());
                head.token = Some(base64::engine::general_purpose::STANDARD.encode(token.der()));
                if let Err(e) = append_line(&config.file, &head) {
                    pending.push(e);
                }
                out.stamped = Some(info);
            }
            Err(e) => pending.push(e.to_string()),
        }
    }
    if let Some(witness) = &config.witness {
        match append_line(witness, &head) {
            Ok(()) => out.witnessed = true,
            Err(e) => pending.push(format!("witness: {e}")),
        }
    }
    out.pending = (!pending.is_empty()).then(|| pending.join("; "));
    out.anchor = Some(head);
    out
}

/// Reads an anchors or witness file: one anchor per line; a torn last line (no break)
/// was never written and is skipped. A missing file is empty.
pub fn read(path: &Path) -> Result<Vec<Anchor>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut out = Vec::new();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Anchor>(line) {
            Ok(a) => out.push(a),
            Err(_) if !complete && i + 1 == lines.len() => {}
            Err(e) => {
                return Err(format!(
                    "{}:{}: not an anchor line: {e}",
                    path.display(),
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

/// The newest anchor found, and what vouches for it.
#[derive(Clone, Debug)]
pub struct Newest {
    /// The anchored head.
    pub anchor: Anchor,
    /// The verified time stamp, if a TSA stamped it.
    pub stamp: Option<TimeInfo>,
    /// The file it was read from.
    pub file: PathBuf,
}

impl Newest {
    /// One line for `audit verify`: the counter, the hash, when and by whom.
    pub fn describe(&self) -> String {
        let a = &self.anchor;
        let by = match &self.stamp {
            Some(s) => format!(
                "stamped {} by {} ({})",
                s.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                s.tsa,
                a.tsa.as_deref().unwrap_or("")
            ),
            None => format!("written {} to the witness {}", a.at, self.file.display()),
        };
        format!(
            "newest anchored head: event {} ({}), checkpoint line {}, {by}",
            a.seq, a.hash, a.lines
        )
    }
}

/// The newest anchor in the witness file and `DB.anchors`: every stamped line's token is
/// verified against the trusted roots (a line that does not verify is refused, naming
/// it; a stamped line of `DB.anchors` without configured roots is refused too); the
/// witness's lines count on its word when no roots are configured.
pub fn newest(config: &Config) -> Result<Option<Newest>, String> {
    let mut best: Option<Newest> = None;
    let files = config
        .witness
        .iter()
        .cloned()
        .chain(std::iter::once(config.file.clone()));
    for file in files {
        for (i, a) in read(&file)?.into_iter().enumerate() {
            let witness = config.witness.as_ref() == Some(&file);
            let stamp = match &a.token {
                // The witness is believed on its own; its tokens are checked when the
                // roots are configured.
                None | Some(_) if witness && config.trust.is_none() => None,
                None if witness => None,
                None => continue,
                Some(b64) => {
                    let place = format!("{}:{}", file.display(), i + 1);
                    let der = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|e| format!("{place}: the token is not base64: {e}"))?;
                    let token = Token::from_der(&der).map_err(|e| format!("{place}: {e}"))?;
                    let Some(trust) = &config.trust else {
                        return Err(format!(
                            "{place} holds a time stamp, but no trusted roots are configured to verify it (--tsa-trust, PARAAF_TSA_TRUST)"
                        ));
                    };
                    Some(
                        token
                            .verify(&a.digest(), trust)
                            .map_err(|e| format!("{place}: {e}"))?,
                    )
                }
            };
            if best.as_ref().is_none_or(|b| a.seq > b.anchor.seq) {
                best = Some(Newest {
                    anchor: a,
                    stamp,
                    file: file.clone(),
                });
            }
        }
    }
    Ok(best)
}

/// Refuses a log that is shorter than the anchored head, or whose event at the anchored
/// position is another one, or whose checkpoint file has fewer lines: the log was rolled
/// back (or rewritten) after it was anchored. `events`: the log's length; `hash_at`: the
/// hash of event `newest.anchor.seq` in the log; `lines`: the checkpoint file's lines;
/// `signed`: its checkpoints, checked against the key. A restore the key holder signed
/// after the anchor (a restore record written after the anchored lines, giving up the
/// anchored event) is no rollback: `admin restore` gave that event up on record, and the
/// log is checked against that record instead (found by an outside attacker: every
/// restore under a witness ended in exit 3 before it recorded the pay runs it gave up).
pub fn check(
    newest: &Newest,
    events: u64,
    hash_at: Option<&str>,
    lines: u64,
    signed: &[crate::checkpoint::Checkpoint],
) -> Result<(), String> {
    let a = &newest.anchor;
    if signed.iter().any(|r| {
        r.n > a.lines && r.seq < a.seq && r.restored_over.is_some_and(|over| over >= a.seq)
    }) {
        return Ok(());
    }
    let when = match &newest.stamp {
        Some(s) => format!(
            "stamped {} by {}",
            s.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            s.tsa
        ),
        None => format!("witnessed {} in {}", a.at, newest.file.display()),
    };
    if events < a.seq {
        return Err(format!(
            "the log holds {events} events, but event {} was anchored ({when}): the log was cut back (rolled back) after that; restore the newest backup",
            a.seq
        ));
    }
    if hash_at != Some(a.hash.as_str()) {
        return Err(format!(
            "event {} is not the one anchored ({when}: hash {}): the log was rewritten after that",
            a.seq, a.hash
        ));
    }
    if lines < a.lines {
        return Err(format!(
            "the checkpoint file has {lines} lines, but {} were anchored ({when}): it was cut back",
            a.lines
        ));
    }
    Ok(())
}

/// What the server's anchoring thread last did, for `/health`.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The newest head anchored in this run.
    pub last: Option<Anchor>,
    /// Why the newest head is not (fully) anchored yet; retried.
    pub pending: Option<String>,
}

struct Shared {
    status: Mutex<(Status, bool)>,
    wake: Condvar,
}

/// The server's anchoring thread: every [`Config::every`] seconds (again [`RETRY`] after
/// a failure, and once more when stopped) it has the writer sign its current head (the
/// `before` hook: one queued job, no event written) and anchors the checkpoint head when
/// the checkpoint file has a new line. The writer never waits on the TSA or witness.
#[derive(Clone)]
pub struct Anchorer {
    shared: Arc<Shared>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Anchorer {
    /// Starts the thread for the checkpoint file `checkpoints` (read with `key`).
    /// `before` runs at the start of each round: the server has its writer sign a
    /// checkpoint of the current head there, so that head is what the round anchors.
    pub fn spawn(
        config: Config,
        checkpoints: PathBuf,
        key: Key,
        before: Option<Box<dyn Fn() + Send>>,
    ) -> Anchorer {
        let shared = Arc::new(Shared {
            status: Mutex::new((Status::default(), false)),
            wake: Condvar::new(),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("paraaf-anchor".into())
            .spawn(move || {
                let every = Duration::from_secs(config.every.max(1));
                let mut done: Option<Anchor> = newest(&config).ok().flatten().map(|n| n.anchor);
                loop {
                    let stop = s.status.lock().map(|g| g.1).unwrap_or(true);
                    // At stop, the closing checkpoint is already signed.
                    if !stop && let Some(before) = &before {
                        before();
                    }
                    let outcome = match crate::checkpoint::read_chain(&checkpoints, &key) {
                        Err(e) => Some(Err(e)),
                        Ok(chain) => Anchor::head(&chain)
                            .filter(|h| done.as_ref().is_none_or(|d| !d.same_head(h)))
                            .map(|h| Ok(anchor(&config, h))),
                    };
                    let failed = if let Ok(mut g) = s.status.lock() {
                        match outcome {
                            None => {}
                            Some(Err(e)) => g.0.pending = Some(e),
                            Some(Ok(o)) => {
                                if o.pending.is_none() {
                                    done = o.anchor.clone();
                                }
                                if o.stamped.is_some() || o.witnessed {
                                    g.0.last = o.anchor;
                                }
                                g.0.pending = o.pending;
                            }
                        }
                        g.0.pending.is_some()
                    } else {
                        return;
                    };
                    if stop {
                        return;
                    }
                    let wait = if failed { RETRY.min(every) } else { every };
                    let Ok(g) = s.status.lock() else { return };
                    let Ok(_g) = s.wake.wait_timeout_while(g, wait, |g| !g.1) else {
                        return;
                    };
                }
            })
            .ok();
        Anchorer {
            shared,
            thread: Arc::new(Mutex::new(thread)),
        }
    }

    /// What it last did.
    pub fn status(&self) -> Status {
        self.shared
            .status
            .lock()
            .map(|g| g.0.clone())
            .unwrap_or_default()
    }

    /// Anchors the head once more (call after the writer's closing checkpoint) and stops.
    pub fn stop(&self) {
        if let Ok(mut g) = self.shared.status.lock() {
            g.1 = true;
        }
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}
