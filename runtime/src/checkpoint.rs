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
    /// This line's position in the checkpoint file (1 for the first line), signed: a
    /// line copied to the end (replayed) or moved (reordered) no longer fits. 0 on a line
    /// of an older file, written before the file was a chain.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub n: u64,
    /// The file's chain hash up to the line before this one (see [`link`]), signed: a
    /// line removed, replaced, replayed or reordered breaks it. Empty on older lines.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prev: String,
    /// Set when the operator took in events no writer with the key wrote (`paraaf audit
    /// checkpoint --adopt --reason …`): their reason, signed with the events it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<String>,
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
        if self.n > 0 {
            // Chained lines (v4): every field, restore records and marks alike, bound to
            // the line's position and to every line before it.
            let adopted = self
                .adopted
                .as_deref()
                .map(|r| serde_json::Value::from(r).to_string())
                .unwrap_or_default();
            return format!(
                "paraaf-checkpoint-v4\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
                self.n,
                self.prev,
                self.from,
                self.seq,
                self.head,
                self.hashes,
                self.at,
                self.every,
                self.mark.map_or("", Mark::word),
                self.restored_over
                    .map(|o| o.to_string())
                    .unwrap_or_default(),
                adopted
            )
            .into_bytes();
        }
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

    /// A record that the log was restored from a backup ending at `seq` (whose hash is
    /// `head`) over a log that went up to `over`, to be signed into the file with
    /// [`append_signed`].
    pub fn restore(seq: u64, head: String, over: u64) -> Checkpoint {
        Checkpoint {
            from: seq + 1,
            seq,
            head,
            hashes: String::new(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            signature: String::new(),
            restored_over: Some(over),
            every: 0,
            mark: None,
            n: 0,
            prev: String::new(),
            adopted: None,
        }
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

    /// Reads the private key a writer signs with (`--signing-key`,
    /// `PARAAF_SIGNING_KEY`): a public key there is refused, since it would sign nothing.
    pub fn read_signing(path: &Path) -> Result<Key, String> {
        match Key::read(path)? {
            Key::Public(_) => Err(format!(
                "{} is a public key (paraaf-ed25519-public): the signing key (--signing-key, PARAAF_SIGNING_KEY) is the private key file that `paraaf admin key new` wrote, without `.pub`; give the `.pub` file to auditors (`paraaf audit verify --public-key`)",
                path.display()
            )),
            key => Ok(key),
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

/// The default checkpoint file of a database: `DB.checkpoints` next to its real path
/// (a symlink to the database finds the same file).
pub fn default_file(db: &Path) -> PathBuf {
    crate::beside(db, ".checkpoints")
}

/// The chain hash before the first line of a checkpoint file.
pub const CHAIN_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash after `cp`, given the chain hash `prev` of the lines before it:
/// SHA-256 of `prev`, a line break and the line's signed message. Lines of the older
/// format (without `n` and `prev`) are chained the same way, so the first chained line
/// seals them.
pub fn link(prev: &str, cp: &Checkpoint) -> String {
    let mut bytes = Vec::with_capacity(prev.len() + 1 + 256);
    bytes.extend_from_slice(prev.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&cp.message());
    crate::sha256_hex(&bytes)
}

/// A checkpoint file as read and checked by [`read_chain`].
#[derive(Clone, Debug)]
pub struct Chain {
    /// The checkpoints as they hold for the log now (restore records applied).
    pub list: Vec<Checkpoint>,
    /// Lines in the file, each signed at its position (the next line is `lines + 1`).
    pub lines: u64,
    /// The chain hash after the last line: the next line's `prev`. With `lines`, the
    /// head an external anchor (a time stamp, a witness) vouches for.
    pub head: String,
    /// Lines of the older format (without `n`) at the start of the file, sealed by the
    /// first chained line after them.
    pub legacy: u64,
    /// A torn last line (a write cut short by a full disk or a crash), ignored: it was
    /// never written.
    pub torn: Option<String>,
    /// Every line that took in events on the operator's word (`adopted`), oldest first.
    pub adoptions: Vec<Checkpoint>,
    /// Every restore record (`restored_over`), oldest first: which events of an earlier
    /// log a restore gave up.
    pub restores: Vec<Checkpoint>,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            list: Vec::new(),
            lines: 0,
            head: CHAIN_START.to_string(),
            legacy: 0,
            torn: None,
            adoptions: Vec::new(),
            restores: Vec::new(),
        }
    }
}

/// Reads a checkpoint file and checks it: every line signed by `key`, each checkpoint
/// starting where the previous one ended. A missing file is an empty list.
pub fn read_file(path: &Path, key: &Key) -> Result<Vec<Checkpoint>, String> {
    read_chain(path, key).map(|c| c.list)
}

/// Reads a checkpoint file and checks it as a chain: every line signed by `key`, at its
/// position (`n`) and after the line before it (`prev`), so a replayed, reordered or
/// removed line is named; each checkpoint starting where the previous one ended. A last
/// line that is cut short (no line break, not a whole record) was never written and is
/// ignored ([`Chain::torn`]); anything else that does not read is refused. A missing file
/// is an empty chain.
pub fn read_chain(path: &Path, key: &Key) -> Result<Chain, String> {
    let text = match std::fs::read(path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Chain::default()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut chain = Chain::default();
    let mut out: Vec<Checkpoint> = Vec::new();
    // The chain hash after each line, and each line's signature (to name a copy).
    let mut links: Vec<String> = vec![CHAIN_START.to_string()];
    let mut signatures: Vec<String> = Vec::new();
    let segments: Vec<&str> = text.split('\n').collect();
    for (i, line) in segments.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let cp: Checkpoint = match serde_json::from_str(line) {
            Ok(cp) => cp,
            // The last segment has no line break after it: a write cut short. A whole
            // record always parses (and must then verify), so this cannot hide one.
            Err(_) if i + 1 == segments.len() => {
                chain.torn = Some(format!(
                    "{at}: a torn last line ({} bytes, cut short while it was written) is ignored",
                    line.len()
                ));
                break;
            }
            Err(e) => return Err(format!("{at}: not a checkpoint: {e}")),
        };
        if !key.verifies(&cp) {
            return Err(format!(
                "{at}: the checkpoint of event {} is not signed by this key: the checkpoint file was altered or belongs to another key",
                cp.seq
            ));
        }
        let position = chain.lines + 1;
        if cp.n == 0 {
            if chain.lines > chain.legacy {
                return Err(format!(
                    "{at}: a line of the older format (unnumbered) after numbered ones: it was replayed from an earlier file"
                ));
            }
            chain.legacy += 1;
        } else if cp.n != position || cp.prev != chain.head {
            let copy = signatures.iter().position(|s| *s == cp.signature);
            return Err(match copy {
                Some(j) => format!(
                    "{at}: checkpoint line {position} is a copy of line {} (replayed): the checkpoint file was altered",
                    j + 1
                ),
                None if cp.n == position + 1 => format!(
                    "{at}: checkpoint line {position} says it is line {}: line {position} was removed from the checkpoint file",
                    cp.n
                ),
                None if cp.n > position => format!(
                    "{at}: checkpoint line {position} says it is line {}: lines {position}–{} were removed from the checkpoint file",
                    cp.n,
                    cp.n - 1
                ),
                None if cp.n < position => format!(
                    "{at}: checkpoint line {position} says it is line {}: lines were reordered or replayed in the checkpoint file",
                    cp.n
                ),
                None => format!(
                    "{at}: checkpoint line {position} does not follow line {}: a line before it was replaced, removed or reordered",
                    position - 1
                ),
            });
        }
        chain.lines = position;
        chain.head = link(&chain.head, &cp);
        links.push(chain.head.clone());
        signatures.push(cp.signature.clone());
        if cp.adopted.is_some() {
            chain.adoptions.push(cp.clone());
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
            chain.restores.push(cp.clone());
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
    chain.list = out;
    Ok(chain)
}

/// Signs `cp` as the next line of `chain` (its position and the chain hash before it)
/// with `key`, appends it to `path` and moves `chain` on. `None` for a public-only key.
pub fn append_signed(
    path: &Path,
    chain: &mut Chain,
    cp: &mut Checkpoint,
    key: &Key,
) -> Result<(), String> {
    cp.n = chain.lines + 1;
    cp.prev = chain.head.clone();
    key.sign(cp)
        .ok_or_else(|| "a public key cannot sign checkpoints".to_string())?;
    append(path, cp)?;
    chain.lines = cp.n;
    chain.head = link(&chain.head, cp);
    if cp.adopted.is_some() {
        chain.adoptions.push(cp.clone());
    }
    Ok(())
}

/// Appends one checkpoint line to the file and syncs it to disk. A file whose last line
/// has no line break is mended first: a whole record (an editor stripped the break) gets
/// one, a torn one (a write cut short, see [`read_chain`]) is cut off, so the new line is
/// never glued onto the last and a torn line never ends up in the middle.
pub fn append(path: &Path, cp: &Checkpoint) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let line = serde_json::to_string(cp).map_err(|e| e.to_string())?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    // The unterminated end of the file, if any (at most one line's worth is read).
    let mut sep = "";
    if len > 0 {
        let back = len.min(1 << 20);
        let mut tail = Vec::with_capacity(back as usize);
        f.seek(SeekFrom::End(-(back as i64)))
            .and_then(|_| (&mut f).take(back).read_to_end(&mut tail))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if tail.last() != Some(&b'\n') {
            let start = tail.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            let partial = &tail[start..];
            if serde_json::from_slice::<Checkpoint>(partial).is_ok() {
                sep = "\n";
            } else {
                let keep = len - (tail.len() - start) as u64;
                f.set_len(keep).map_err(|e| {
                    format!(
                        "cannot cut the torn last line off {} ({e}): remove its last, incomplete line by hand",
                        path.display()
                    )
                })?;
            }
        }
    }
    let bytes = format!("{sep}{line}\n");
    #[cfg(debug_assertions)]
    if let Some(flag) = std::env::var_os("PARAAF_FAULT_CHECKPOINT_FULL")
        && Path::new(&flag).exists()
    {
        // Fault injection for the full-disk tests: while the flag file exists, a write
        // stops half-way, as on a full disk (ENOSPC).
        let half = &bytes.as_bytes()[..bytes.len() / 2];
        let _ = f.write_all(half).and_then(|()| f.sync_all());
        return Err(format!(
            "cannot write {}: {}",
            path.display(),
            std::io::Error::from_raw_os_error(28)
        ));
    }
    f.write_all(bytes.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
