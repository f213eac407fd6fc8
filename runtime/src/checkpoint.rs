//! Signed checkpoints of the event log, kept in a file outside the database.
//!
//! A checkpoint says "events `from..=seq` have these hashes, and the head is `head`",
//! signed with an ed25519 key the database never holds. Someone who can write the
//! database can rewrite the log and recompute its hash chain, but cannot sign a matching
//! checkpoint: `audit verify` then names the first event whose hash differs from the
//! signed one, and every open refuses to append to a log whose tail does not match the
//! last checkpoint. The threat model is in `docs/operations.md`.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Characters of each event hash a checkpoint records (64 bits: enough to locate the
/// first altered event; the full head, signed, proves the whole chain).
pub const HASH_PREFIX: usize = 16;

/// Events between two automatic checkpoints (one is also written at every shutdown).
pub const DEFAULT_EVERY: u64 = 1000;

const PRIVATE_TAG: &str = "paraaf-ed25519-private:";
const PUBLIC_TAG: &str = "paraaf-ed25519-public:";

/// One signed checkpoint (a line of JSON in the checkpoint file).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The first event this checkpoint covers (the previous checkpoint's `seq` + 1).
    pub from: u64,
    /// The last event it covers: the head when it was taken.
    pub seq: u64,
    /// Full hash of event `seq`.
    pub head: String,
    /// The first [`HASH_PREFIX`] hex characters of the hash of each event `from..=seq`.
    pub hashes: String,
    /// When it was taken (RFC 3339).
    pub at: String,
    /// ed25519 signature (hex) of [`Checkpoint::message`].
    pub signature: String,
    /// Set on a restore record (`paraaf admin restore`): the log was restored from a
    /// backup whose head is `seq` (hash `head`), and events `seq + 1..=restored_over` of
    /// the log it replaced are gone. Later checkpoints continue from `seq + 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_over: Option<u64>,
    /// The writer's promise, signed: it signs at least every this many events (and at
    /// every close), so a longer unsigned tail means checkpoints were removed. 0: not
    /// recorded (older files).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub every: u64,
    /// A writer's session mark, signed: `opened` before its first event, `closed` when it
    /// closes. Events after a `closed` mark were appended by someone without the key (a
    /// writer that crashed left its session open, and its unsigned tail is allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<Mark>,
}

/// A writer's session boundary (see [`Checkpoint::mark`]).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// A writer took the log: events may follow before its next checkpoint.
    Opened,
    /// The writer closed cleanly: nothing may follow until a writer opens it again.
    Closed,
}

impl Mark {
    fn word(self) -> &'static str {
        match self {
            Mark::Opened => "opened",
            Mark::Closed => "closed",
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many events may follow the last checkpoint of `list` before the log counts as
/// cut: two rounds of the writer's interval (a crash skips at most one), from the
/// last checkpoint's signed promise, else `configured`.
pub fn unsigned_allowance(list: &[Checkpoint], configured: u64) -> u64 {
    2 * list
        .iter()
        .rev()
        .map(|c| c.every)
        .find(|e| *e > 0)
        .unwrap_or(configured)
        .max(1)
}

/// Why a log of `head` events cannot be the one `list` signed when its last record is
/// a `closed` mark and events follow it (nobody with the key wrote them), if so.
pub fn appended_after_close(list: &[Checkpoint], head: u64) -> Option<String> {
    let last = list.last()?;
    (last.mark == Some(Mark::Closed) && head > last.seq).then(|| {
        format!(
            "events {}–{head} were appended after the writer closed the log at event {} ({}): no writer with the key wrote them",
            last.seq + 1,
            last.seq,
            last.at
        )
    })
}

/// Refuses a log of `head` events with events no signed checkpoint of `list` covers,
/// beyond what a writer that crashed leaves: any after a `closed` mark, any at all when
/// the file holds no checkpoint (it was deleted), more than two intervals otherwise.
pub fn unsigned_tail(
    list: &[Checkpoint],
    head: u64,
    every: u64,
    file: &Path,
) -> Result<(), String> {
    let adopt = "If this database only now starts using checkpoints, sign it as it is with `paraaf audit checkpoint --adopt`";
    let Some(last) = list.last() else {
        if head == 0 {
            return Ok(());
        }
        return Err(format!(
            "the log holds {head} events, but {} holds no signed checkpoint: a writer with the key signs before its first event, so the file was deleted or replaced. {adopt}",
            file.display()
        ));
    };
    if let Some(why) = appended_after_close(list, head) {
        return Err(why);
    }
    let allowance = unsigned_allowance(list, every);
    if head > last.seq + allowance {
        return Err(format!(
            "events {}–{head} are covered by no signed checkpoint in {}, but the writer signs every {} events: checkpoints were removed from the file (or the file was replaced). {adopt}",
            last.seq + 1,
            file.display(),
            allowance / 2
        ));
    }
    Ok(())
}

impl Checkpoint {
    /// The signed bytes: every field but the signature, in a fixed order.
    pub fn message(&self) -> Vec<u8> {
        match self.restored_over {
            None if self.mark.is_some() => format!(
                "paraaf-checkpoint-v3\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
                self.from,
                self.seq,
                self.head,
                self.hashes,
                self.at,
                self.every,
                self.mark.map_or("", Mark::word)
            ),
            None if self.every == 0 => format!(
                "paraaf-checkpoint-v1\n{}\n{}\n{}\n{}\n{}",
                self.from, self.seq, self.head, self.hashes, self.at
            ),
            None => format!(
                "paraaf-checkpoint-v2\n{}\n{}\n{}\n{}\n{}\n{}",
                self.from, self.seq, self.head, self.hashes, self.at, self.every
            ),
            Some(over) => format!(
                "paraaf-restore-v1\n{}\n{}\n{}\n{}\n{}",
                self.from, self.seq, self.head, over, self.at
            ),
        }
        .into_bytes()
    }

    /// A signed record that the log was restored from a backup ending at `seq` (whose
    /// hash is `head`) over a log that went up to `over`.
    pub fn restore(seq: u64, head: String, over: u64, key: &Key) -> Option<Checkpoint> {
        let mut cp = Checkpoint {
            from: seq + 1,
            seq,
            head,
            hashes: String::new(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            signature: String::new(),
            restored_over: Some(over),
            every: 0,
            mark: None,
        };
        key.sign(&mut cp)?;
        Some(cp)
    }

    /// The checkpoints as they hold for a log that was cut back to its first `seq`
    /// events (a backup): those after are dropped, the one containing `seq` ends there.
    pub fn cut(list: &[Checkpoint], seq: u64) -> Vec<Checkpoint> {
        let mut out: Vec<Checkpoint> = list.iter().filter(|c| c.from <= seq).cloned().collect();
        if let Some(last) = out.last_mut()
            && last.seq > seq
        {
            let keep = usize::try_from((seq + 1 - last.from) * HASH_PREFIX as u64).unwrap_or(0);
            last.hashes.truncate(keep);
            last.head = last.hashes[keep.saturating_sub(HASH_PREFIX)..].to_string();
            last.seq = seq;
        }
        out
    }

    /// Whether this record only marks a session (it covers no events of its own).
    pub fn is_mark_only(&self) -> bool {
        self.mark.is_some() && self.hashes.is_empty() && self.seq + 1 == self.from
    }

    /// The recorded hash prefix of event `seq`, if this checkpoint covers it.
    pub fn hash_of(&self, seq: u64) -> Option<&str> {
        let i = usize::try_from(seq.checked_sub(self.from)?).ok()?;
        self.hashes.get(i * HASH_PREFIX..(i + 1) * HASH_PREFIX)
    }
}

/// A key pair for signing checkpoints, or only its public half (for verifying).
#[derive(Clone)]
pub enum Key {
    /// Can sign and verify (the runtime's own key).
    Signing(Box<SigningKey>),
    /// Can only verify (an auditor's copy).
    Public(VerifyingKey),
}

impl Key {
    /// Reads a key file written by [`generate`]: the private key, or its `.pub` file.
    pub fn read(path: &Path) -> Result<Key, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the key {}: {e}", path.display()))?;
        let text = text.trim();
        let bytes = |hex_text: &str| -> Result<[u8; 32], String> {
            hex::decode(hex_text)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    format!(
                        "{} is not a Paraaf key (64 hexadecimal digits after the tag)",
                        path.display()
                    )
                })
        };
        if let Some(h) = text.strip_prefix(PRIVATE_TAG) {
            Ok(Key::Signing(Box::new(SigningKey::from_bytes(&bytes(h)?))))
        } else if let Some(h) = text.strip_prefix(PUBLIC_TAG) {
            VerifyingKey::from_bytes(&bytes(h)?)
                .map(Key::Public)
                .map_err(|e| format!("{}: {e}", path.display()))
        } else {
            Err(format!(
                "{} is not a Paraaf key: write one with `paraaf admin key new FILE`",
                path.display()
            ))
        }
    }

    /// The public half.
    pub fn public(&self) -> VerifyingKey {
        match self {
            Key::Signing(k) => k.verifying_key(),
            Key::Public(k) => *k,
        }
    }

    /// The public key as it is written in a `.pub` file.
    pub fn public_text(&self) -> String {
        format!("{PUBLIC_TAG}{}", hex::encode(self.public().as_bytes()))
    }

    /// Signs a checkpoint (fills in its signature); `None` for a public-only key.
    pub fn sign(&self, cp: &mut Checkpoint) -> Option<()> {
        let Key::Signing(k) = self else { return None };
        cp.signature = hex::encode(k.sign(&cp.message()).to_bytes());
        Some(())
    }

    /// Whether the checkpoint's signature is this key's.
    pub fn verifies(&self, cp: &Checkpoint) -> bool {
        let Some(sig) = hex::decode(&cp.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.public()
            .verify(&cp.message(), &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// Writes a new private key to `path` (readable by its owner only) and the public key to
/// `path.pub`; returns the public key text.
pub fn generate(path: &Path) -> Result<String, String> {
    let seed = random_bytes()?;
    let key = Key::Signing(Box::new(SigningKey::from_bytes(&seed)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    writeln!(f, "{PRIVATE_TAG}{}", hex::encode(seed))
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let public = key.public_text();
    let pub_path = public_path(path);
    std::fs::write(&pub_path, format!("{public}\n"))
        .map_err(|e| format!("cannot write {}: {e}", pub_path.display()))?;
    Ok(public)
}

/// 32 bytes from the operating system's random source (keys, tokens).
pub fn random_bytes() -> Result<[u8; 32], String> {
    let mut out = [0u8; 32];
    getrandom::fill(&mut out).map_err(|e| format!("no random source: {e}"))?;
    Ok(out)
}

/// `KEY.pub` next to `KEY`.
pub fn public_path(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// The default checkpoint file of a database: `DB.checkpoints` next to it.
pub fn default_file(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".checkpoints");
    PathBuf::from(p)
}

/// Reads a checkpoint file and checks it: every line signed by `key`, each checkpoint
/// starting where the previous one ended. A missing file is an empty list.
pub fn read_file(path: &Path, key: &Key) -> Result<Vec<Checkpoint>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut out: Vec<Checkpoint> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let cp: Checkpoint =
            serde_json::from_str(line).map_err(|e| format!("{at}: not a checkpoint: {e}"))?;
        if !key.verifies(&cp) {
            return Err(format!(
                "{at}: the checkpoint of event {} is not signed by this key: the checkpoint file was altered or belongs to another key",
                cp.seq
            ));
        }
        if let Some(over) = cp.restored_over {
            // A restore: the log now ends at `cp.seq`, which the checkpoints so far must
            // have signed with this hash; what they signed after it is gone.
            let last = out.last().map_or(0, |p| p.seq);
            let signed = out.iter().find_map(|c| c.hash_of(cp.seq));
            if cp.seq > last
                || over < cp.seq
                || cp.seq > 0 && !signed.is_some_and(|h| cp.head.starts_with(h))
            {
                return Err(format!(
                    "{at}: the restore record of event {} does not fit the checkpoints before it",
                    cp.seq
                ));
            }
            out = Checkpoint::cut(&out, cp.seq);
            if let Some(l) = out.last_mut() {
                l.head = cp.head.clone();
                l.mark = None;
            }
            continue;
        }
        let expected_from = out.last().map_or(1, |p| p.seq + 1);
        if cp.from != expected_from || cp.seq < cp.from && !cp.is_mark_only() {
            return Err(format!(
                "{at}: this checkpoint covers events {}–{}, but the previous one ended at {}: a checkpoint is missing",
                cp.from,
                cp.seq,
                expected_from - 1
            ));
        }
        if cp.hashes.len() as u64 != (cp.seq + 1 - cp.from) * HASH_PREFIX as u64 {
            return Err(format!(
                "{at}: the checkpoint's hash list has the wrong length"
            ));
        }
        out.push(cp);
    }
    Ok(out)
}

/// The restore records of a checkpoint file (already checked by [`read_file`]), oldest
/// first: each tells which events of an earlier log a restore gave up.
pub fn restores(path: &Path) -> Vec<Checkpoint> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Checkpoint>(l).ok())
        .filter(|c| c.restored_over.is_some())
        .collect()
}

/// Appends one checkpoint line to the file and syncs it to disk. A file whose last line
/// has no line break (an editor that strips it) gets one first, so the new line is never
/// glued onto the last.
pub fn append(path: &Path, cp: &Checkpoint) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let line = serde_json::to_string(cp).map_err(|e| e.to_string())?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut last = [b'\n'];
    if f.metadata().is_ok_and(|m| m.len() > 0) {
        f.seek(SeekFrom::End(-1))
            .and_then(|_| f.read_exact(&mut last))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    let sep = if last[0] == b'\n' { "" } else { "\n" };
    f.write_all(format!("{sep}{line}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
