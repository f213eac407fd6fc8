//! The runtime: a state rebuilt from the store, and commands that are committed to the
//! store before their effects become visible.

use crate::backend::{Backend, StoreAddress};
use crate::checkpoint::{self, Checkpoint, Key};
use crate::engine::{Emitter, RuntimeError, State};
use crate::store::{Idempotency, Snapshot};
use crate::workdays::Calendar;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// A city's runtime on its store (a SQLite file, or a city on PostgreSQL).
pub struct Runtime {
    store: Backend,
    state: State,
    /// Working days for deadlines.
    pub calendar: Calendar,
    /// Where the store lies (a file's writer lock lies next to it).
    address: StoreAddress,
    /// Held while this process is the store's one writer.
    lock: Option<Held>,
    /// Who holds the lock, as written into it (kept to take it again under that name).
    writer: Option<String>,
    /// Signed checkpoints, when a key is configured.
    checkpoints: Option<Checkpoints>,
    /// Events between two snapshots of the state.
    pub snapshot_every: u64,
    /// The format snapshots are written in (the older one only for tests and the startup
    /// bench; every format reads back).
    pub snapshot_format: crate::snapshot::Format,
    /// The event the newest snapshot holds the state after (or is being encoded for).
    last_snapshot: u64,
    /// A snapshot being encoded on another thread from an O(1) clone of the state.
    encoding: Option<std::thread::JoinHandle<Result<Snapshot, RuntimeError>>>,
    /// The time of the last batch (a snapshot still owed at close is saved at it).
    last_now: Option<DateTime<Utc>>,
    /// Set once the log no longer ends where this writer left it: it writes nothing more
    /// and signs nothing but its own events.
    stopped: Option<String>,
    /// Set while the checkpoint file cannot be written (a full disk): writes are refused
    /// until the writer's own events are signed again.
    degraded: Option<String>,
    /// The hashes of the events this writer committed that no checkpoint covers yet: it
    /// signs these, never what the database says they are now.
    own: Vec<(u64, String)>,
    /// How long content no event refers to is kept before it is collected, in seconds
    /// (see [`crate::store::content_file::collect`]).
    pub content_grace: i64,
    /// How often the writer collects such content while it runs (also when it takes
    /// the lock): content stored ahead of a command that was then refused.
    pub collect_every: std::time::Duration,
    /// When it last did.
    collected: Option<std::time::Instant>,
    /// What the read server that takes over as this writer followed and verified (see
    /// [`Runtime::expect_witnessed`]): the log must agree with it when the lock is taken.
    witnessed: Option<crate::follower::Witnessed>,
}

/// How often a running writer collects content no event refers to.
pub const COLLECT_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Where and how this runtime signs checkpoints.
struct Checkpoints {
    key: Key,
    file: PathBuf,
    every: u64,
    /// The last event a checkpoint in the file covers.
    last: u64,
    /// The session mark of the file's last record (`closed`: this writer must sign an
    /// `opened` mark before it appends).
    mark: Option<checkpoint::Mark>,
    /// The operator vouches for the unsigned events (`audit checkpoint --adopt`), for
    /// this reason, signed into the line that covers them.
    adopt: Option<String>,
    /// The file's chain (its line count and chain hash; the list itself is not kept).
    chain: checkpoint::Chain,
    /// The head hash the last line signed (the event `last`).
    last_head: String,
}

/// How long a writer waits for another one (a CLI command behind a cron `tick`).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// One command of a batch: runs against the emitter, and may ask to record an
/// idempotency response for its result.
pub type BatchItem<'a, T> =
    Box<dyn FnOnce(&mut Emitter) -> (Result<T, RuntimeError>, Option<Idempotency>) + Send + 'a>;

impl Runtime {
    /// Opens the database: the newest snapshot and the events after it.
    pub fn open(path: &Path, calendar: Calendar) -> Result<Runtime, RuntimeError> {
        Runtime::open_store(&StoreAddress::File(path.to_path_buf()), calendar)
    }

    /// Opens the database replaying the whole log, snapshots unread (`audit verify` and
    /// `admin rebuild` work also when a snapshot was altered).
    pub fn open_replaying(path: &Path, calendar: Calendar) -> Result<Runtime, RuntimeError> {
        Runtime::open_store_replaying(&StoreAddress::File(path.to_path_buf()), calendar)
    }

    /// Opens the store at `address` (a SQLite file, or a city on PostgreSQL): the newest
    /// snapshot and the events after it. It writes once it takes the writer lock: the
    /// file's lock, or the city's advisory lock on PostgreSQL.
    pub fn open_store(address: &StoreAddress, calendar: Calendar) -> Result<Runtime, RuntimeError> {
        Runtime::open_from(address, calendar, true)
    }

    /// [`Runtime::open_store`] replaying the whole log, snapshots unread.
    pub fn open_store_replaying(
        address: &StoreAddress,
        calendar: Calendar,
    ) -> Result<Runtime, RuntimeError> {
        Runtime::open_from(address, calendar, false)
    }

    fn open_from(
        address: &StoreAddress,
        calendar: Calendar,
        snapshots: bool,
    ) -> Result<Runtime, RuntimeError> {
        let store = Backend::open(address)?;
        let (state, last_snapshot) = if snapshots {
            store.load_counting()?
        } else {
            (store.replay_all()?, 0)
        };
        Ok(Runtime {
            store,
            state,
            calendar,
            address: address.clone(),
            lock: None,
            writer: None,
            checkpoints: None,
            snapshot_every: crate::snapshot::DEFAULT_EVERY,
            snapshot_format: crate::snapshot::Format::MessagePack,
            last_snapshot,
            encoding: None,
            last_now: None,
            stopped: None,
            degraded: None,
            own: Vec::new(),
            content_grace: crate::store::content_file::GRACE_SECONDS,
            collect_every: COLLECT_EVERY,
            collected: None,
            witnessed: None,
        })
    }

    /// Signs checkpoints with `key` into `file` (every `every` events and when this
    /// runtime closes), after checking the log's tail against the file's last checkpoint.
    /// A log that does not match is refused with [`RuntimeError::Tampered`]: nothing may
    /// be appended to it. With a public key only, this checks and never signs.
    ///
    /// A log with more events after the last checkpoint than the writer ever leaves
    /// unsigned (two rounds of `every`: a crash skips at most one) is refused too: lines
    /// of the checkpoint file, or the whole file, were removed. A database that starts
    /// using checkpoints late is signed as it is with [`Runtime::adopt_checkpoints`].
    pub fn use_checkpoints(
        &mut self,
        key: Key,
        file: PathBuf,
        every: u64,
    ) -> Result<(), RuntimeError> {
        self.checkpoints_from(key, file, every, None)
    }

    /// Like [`Runtime::use_checkpoints`], but accepts events no checkpoint covers yet
    /// (`paraaf audit checkpoint --adopt --reason …`: the operator vouches for them, and
    /// the checkpoint that signs them carries `reason`).
    pub fn adopt_checkpoints(
        &mut self,
        key: Key,
        file: PathBuf,
        every: u64,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        self.checkpoints_from(key, file, every, Some(reason.to_string()))
    }

    fn checkpoints_from(
        &mut self,
        key: Key,
        file: PathBuf,
        every: u64,
        adopt: Option<String>,
    ) -> Result<(), RuntimeError> {
        let mut chain = checkpoint::read_chain(&file, &key).map_err(RuntimeError::Tampered)?;
        let list = std::mem::take(&mut chain.list);
        let head = self.state.last_seq;
        if adopt.is_none() {
            unsigned_tail(&list, head, every, &file)?;
        }
        let last = verified_tail(&self.store, &list, &file)?;
        self.checkpoints = Some(Checkpoints {
            key,
            file,
            every: every.max(1),
            last,
            mark: list.last().and_then(|c| c.mark),
            last_head: list.last().map(|c| c.head.clone()).unwrap_or_default(),
            adopt,
            chain,
        });
        Ok(())
    }

    /// What keeps this runtime from writing, if anything: `("tampered", why)` once the
    /// log changed under it, `("degraded", why)` while checkpoints cannot be written.
    pub fn condition(&self) -> Option<(&'static str, &str)> {
        match (&self.stopped, &self.degraded) {
            (Some(why), _) => Some(("tampered", why)),
            (None, Some(why)) => Some(("degraded", why)),
            (None, None) => None,
        }
    }

    /// What a reader beside this writer trusts when it shows history (see
    /// [`crate::trusted_history`]): the head it committed, the checkpoint file with the
    /// public key, and why it stopped, if it did. Before it writes, the head the open
    /// verified against the last checkpoint.
    pub fn history_trust(&self) -> crate::trusted_history::Trust {
        crate::trusted_history::Trust {
            head: self
                .store
                .expected_tail()
                .or_else(|| self.store.head().ok()),
            checkpoints: self
                .checkpoints
                .as_ref()
                .map(|c| (c.file.clone(), Key::Public(c.key.public()))),
            tampered: self.stopped.clone(),
        }
    }

    /// The checkpoint file's chain head as this writer last wrote or read it: its line
    /// count and chain hash (see [`checkpoint::Chain::head`]), for an external anchor.
    pub fn chain_head(&self) -> Option<(u64, String)> {
        self.checkpoints
            .as_ref()
            .map(|c| (c.chain.lines, c.chain.head.clone()))
    }

    /// The hashes of this writer's committed events that no checkpoint covers yet, kept
    /// only to sign them: none without a signing key.
    pub fn hashes_to_sign(&self) -> &[(u64, String)] {
        &self.own
    }

    /// The restore records of the checkpoint file as this writer last read it (see
    /// [`checkpoint::Chain::restores`]); none without checkpoints.
    pub fn restore_records(&self) -> &[Checkpoint] {
        self.checkpoints
            .as_ref()
            .map_or(&[], |c| c.chain.restores.as_slice())
    }

    /// Stops this writer for good: the log changed under it (`why`). It signs one last
    /// `closed` mark over its own events only (their hashes as it committed them), so
    /// the next open names what someone else changed; then nothing more.
    fn stop(&mut self, why: String) -> RuntimeError {
        if self.stopped.is_none() {
            tracing::error!(reason = %why, "the log changed under its writer; it stops writing");
            let own_tail = self.store.expected_tail();
            if let Some((seq, _)) = own_tail
                && let Err(e) = self.sign_own(seq, Some(checkpoint::Mark::Closed), false)
            {
                tracing::warn!(error = %e, "no closing checkpoint of the writer's own events");
            }
            self.stopped = Some(why.clone());
        }
        RuntimeError::Tampered(why)
    }

    /// Appends a signed checkpoint of the current head, if events came after the last one
    /// and this runtime has a signing key. Only the writer signs.
    pub fn checkpoint(&mut self) -> Result<Option<Checkpoint>, RuntimeError> {
        self.sign(None)
    }

    /// Signs a checkpoint of the events since the last one, with a session `mark`: a
    /// marked record is written also when no event came since (it then covers none).
    /// Nothing once this writer stopped, and nothing when the log no longer ends where it
    /// left it (it then stops).
    fn sign(&mut self, mark: Option<checkpoint::Mark>) -> Result<Option<Checkpoint>, RuntimeError> {
        if self.stopped.is_some() {
            return Ok(None);
        }
        if self.checkpoints.is_some()
            && self.lock.is_some()
            && let Some(why) = self.store.tail_changed()?
        {
            return Err(self.stop(why));
        }
        let head = self.state.last_seq;
        self.sign_own(head, mark, true)
    }

    /// Signs events up to `head` (with a session `mark`): the hashes this writer
    /// committed, and, when `trust_log`, for events it did not commit (read and verified
    /// at open: a crash's tail, or adopted ones) the hashes in the log.
    fn sign_own(
        &mut self,
        head: u64,
        mark: Option<checkpoint::Mark>,
        trust_log: bool,
    ) -> Result<Option<Checkpoint>, RuntimeError> {
        self.own.extend(self.store.take_written());
        let Some(cps) = &mut self.checkpoints else {
            return Ok(None);
        };
        if head <= cps.last && mark.is_none()
            || !matches!(cps.key, Key::Signing(_))
            || self.lock.is_none()
        {
            return Ok(None);
        }
        self.own.retain(|(seq, _)| *seq > cps.last);
        let own_from = self.own.first().map_or(u64::MAX, |(s, _)| *s);
        let mut hashes = String::new();
        let mut head_hash = cps.last_head.clone();
        let foreign_end = head.min(own_from.saturating_sub(1));
        if foreign_end > cps.last {
            if !trust_log {
                return Ok(None);
            }
            let (h, last) = self.store.hash_prefixes(cps.last + 1, foreign_end)?;
            hashes = h;
            head_hash = last;
        }
        for (_, h) in self.own.iter().filter(|(s, _)| *s <= head) {
            hashes.push_str(&h[..checkpoint::HASH_PREFIX.min(h.len())]);
            head_hash = h.clone();
        }
        if hashes.len() as u64 != head.saturating_sub(cps.last) * checkpoint::HASH_PREFIX as u64 {
            // Never a malformed line: events this writer would sign are missing.
            return Err(RuntimeError::Tampered(format!(
                "events {}–{head} are not all in the log any more: nothing is signed",
                cps.last + 1
            )));
        }
        let adopted = if head > cps.last {
            cps.adopt.take()
        } else {
            None
        };
        let mut cp = Checkpoint {
            from: cps.last + 1,
            seq: head,
            head: head_hash,
            hashes,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            signature: String::new(),
            restored_over: None,
            every: cps.every,
            mark,
            n: 0,
            prev: String::new(),
            adopted: adopted.clone(),
        };
        if let Err(e) = checkpoint::append_signed(&cps.file, &mut cps.chain, &mut cp, &cps.key) {
            cps.adopt = adopted;
            let why = format!(
                "the signed checkpoint cannot be written ({e}); no write is accepted until it can: free space on its disk, and the next write signs and goes on"
            );
            self.degraded = Some(why.clone());
            return Err(RuntimeError::Storage(why));
        }
        cps.last = head;
        cps.last_head = cp.head.clone();
        cps.mark = mark;
        self.own.retain(|(seq, _)| *seq > head);
        Ok(Some(cp))
    }

    /// Has the next [`Runtime::lock_writer`] check the log against what a read server
    /// followed and verified before it takes over (its events as they were committed):
    /// under the lock, before anything is signed, every one of them must be in the log
    /// with the hash it had; otherwise the writer stops ([`RuntimeError::Tampered`], the
    /// lock kept, nothing signed), since someone rewrote or removed what it saw.
    pub fn expect_witnessed(&mut self, witnessed: crate::follower::Witnessed) {
        self.witnessed = Some(witnessed);
    }

    /// Makes this process the one writer of the database: an exclusive lock on
    /// `DB.lock`, which holds `who` (the server's address) for whoever is refused, or on
    /// PostgreSQL the city's advisory lock on the store's connection (its holder named by
    /// the connection's application name). Waits a few seconds for another writer, then
    /// refuses: two writers would diverge.
    pub fn lock_writer(&mut self, who: &str) -> Result<(), RuntimeError> {
        if let Some(why) = &self.stopped {
            return Err(RuntimeError::Tampered(why.clone()));
        }
        // The lock file deleted or replaced while held (by hand, a cleanup script) would
        // let a second writer lock a new file: before each batch, the writer checks that
        // the file at the path is still the one it holds, and takes the lock again if not.
        if let Some(held) = &self.lock
            && held.still_held()
        {
            return Ok(());
        }
        // Taken before: the log must still end where this writer left it.
        let again = self.store.expected_tail().is_some();
        self.lock = None;
        let who = self.writer.clone().unwrap_or_else(|| who.to_string());
        let held = match &self.address {
            StoreAddress::File(path) => Held::File(take_lock(path, &who)?),
            StoreAddress::Postgres { .. } => {
                self.store.lock_writer(LOCK_WAIT)?;
                Held::Advisory
            }
        };
        self.lock = Some(held);
        self.writer = Some(who);
        if again {
            if let Some(why) = self.store.tail_changed()? {
                return Err(self.stop(why));
            }
            return Ok(());
        }
        // Another writer may have appended since the log was read: start from it again.
        // Fewer events than this process read is no other writer: events were removed,
        // and nothing may be appended to that log.
        let (head, head_hash) = self
            .store
            .head()
            .map_err(|e| RuntimeError::Storage(e.to_string()))?;
        if head < self.state.last_seq {
            self.lock = None;
            return Err(RuntimeError::Tampered(format!(
                "the log ends at event {head}, but events up to {} were read: events were removed",
                self.state.last_seq
            )));
        }
        // What the read server taking over followed and verified must still be there, as
        // it was: checked under the lock, before anything is signed.
        let witnessed = self.witnessed.take();
        if let Some(w) = &witnessed
            && let Some(why) = w.disagrees(&self.store, head)?
        {
            return Err(self.stop(why));
        }
        if head != self.state.last_seq {
            self.state = self.store.load()?;
        }
        // Content that no event refers to (a commit that failed after its bytes were
        // written, a process killed between the two) goes once past its grace period.
        self.collect_contents();
        // The checkpoint file as it is now, under the lock: another writer may have signed
        // since this process opened it (two CLI commands one after the other).
        if let Some(cps) = &mut self.checkpoints {
            let checked = checkpoint::read_chain(&cps.file, &cps.key)
                .map_err(RuntimeError::Tampered)
                .and_then(|chain| {
                    if cps.adopt.is_none() {
                        unsigned_tail(&chain.list, head, cps.every, &cps.file)?;
                    }
                    verified_tail(&self.store, &chain.list, &cps.file).map(|last| (chain, last))
                });
            let (mut chain, last) = match checked {
                Ok(c) => c,
                Err(e) => {
                    self.lock = None;
                    return Err(e);
                }
            };
            let list = std::mem::take(&mut chain.list);
            cps.last = last;
            cps.last_head = list.last().map(|c| c.head.clone()).unwrap_or_default();
            cps.mark = list.last().and_then(|c| c.mark);
            if let Some(torn) = &chain.torn {
                tracing::warn!(torn = %torn, "a checkpoint line was cut short (a full disk?) and is ignored");
            }
            // Older files (lines without a position) are sealed by the first chained line.
            let unsealed = chain.lines > 0 && chain.lines == chain.legacy;
            cps.chain = chain;
            // A log its last writer closed (or a new one) is opened with a signed mark
            // before the first event: events after a `closed` mark are then never a crash
            // tail, and a deleted checkpoint file is never a new database. The mark covers
            // no event: events it finds unsigned (only an adoption gets this far with
            // any) are signed by the next checkpoint, with the adoption's reason.
            self.store.expect_tail(Some((head, head_hash)));
            let at = cps.last;
            // Events no line signs (a writer that stopped before signing them: a crash,
            // a full disk; or an insider who removed or cut short the line that signed
            // them, then rewrote them): nothing here tells which, so they are taken in
            // on the record, in a line of their own whose note names them, shown by
            // every `audit verify` from then on, never as if their writer had signed
            // them (attack 5, finding 14).
            if matches!(cps.key, Key::Signing(_)) && head > at && cps.adopt.is_none() {
                cps.adopt = Some(format!(
                    "they were in the log unsigned when the next writer opened it: their writer stopped before signing them (a crash, a full disk), or the line that signed them was removed or cut short{}{}",
                    if cps.chain.torn.is_some() {
                        "; the file's last line was cut short"
                    } else {
                        ""
                    },
                    witnessed
                        .as_ref()
                        .and_then(|w| w.note(at))
                        .unwrap_or_default()
                ));
                self.sign_own(head, None, true)?;
                return Ok(());
            }
            if matches!(cps.key, Key::Signing(_))
                && (list.is_empty() || unsealed || cps.mark == Some(checkpoint::Mark::Closed))
            {
                self.sign_own(at, Some(checkpoint::Mark::Opened), true)?;
            }
        } else {
            self.store.expect_tail(Some((head, head_hash)));
        }
        Ok(())
    }

    /// Verifies the whole log before it is shown as history (`paraaf log`): the chain
    /// from the first event and, with a key, every event against the signed checkpoints.
    /// The open verified only what it folded (the events after the newest snapshot, and
    /// the tail after the last checkpoint); history shows the events before them too.
    pub fn verify_history(&self) -> Result<(), RuntimeError> {
        let signed = match &self.checkpoints {
            Some(cps) => {
                checkpoint::read_file(&cps.file, &cps.key).map_err(RuntimeError::Tampered)?
            }
            None => Vec::new(),
        };
        self.store
            .verify(&signed)
            .map(|_| ())
            .map_err(|why| RuntimeError::Tampered(format!("the history cannot be shown: {why}")))
    }

    /// The events shown as history (`paraaf log`): those recorded at or after `since`
    /// (`None`: all), oldest first as `(seq, time, JSON)`, each verified as it is read
    /// (see [`crate::store::Store::history`]): the cost is the range shown (and, with a key, reading the
    /// checkpoint file), not the whole log. A range that does not verify is refused,
    /// naming the event.
    pub fn history(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<(u64, String, String)>, RuntimeError> {
        let signed = match &self.checkpoints {
            Some(cps) => {
                checkpoint::read_file(&cps.file, &cps.key).map_err(RuntimeError::Tampered)?
            }
            None => Vec::new(),
        };
        self.store
            .history(since, &signed)
            .map_err(|why| RuntimeError::Tampered(format!("the history cannot be shown: {why}")))
    }

    /// The current state (everything in it is committed).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The store.
    pub fn store(&self) -> &Backend {
        &self.store
    }

    /// Drops the projections and rebuilds them from the whole log, as the database's one
    /// writer (refused while another process, such as `paraaf serve`, writes it).
    pub fn rebuild(&mut self) -> Result<&State, RuntimeError> {
        self.lock_writer(&format!(
            "`paraaf admin rebuild` (process {})",
            std::process::id()
        ))?;
        self.state = self.store.rebuild()?;
        Ok(&self.state)
    }

    /// Runs one command at `now` and commits its events (one transaction, one fsync).
    pub fn execute<T>(
        &mut self,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut Emitter) -> Result<T, RuntimeError> + Send,
    ) -> Result<T, RuntimeError> {
        let mut results = self.execute_batch(
            now,
            vec![Box::new(move |e: &mut Emitter| (f(e), None)) as BatchItem<T>],
        );
        results
            .pop()
            .unwrap_or(Err(RuntimeError::Storage("no result".into())))
    }

    /// Group commit: runs several commands and commits all their events in one
    /// transaction. Each command succeeds or fails on its own; a failed commit fails all.
    pub fn execute_batch<T>(
        &mut self,
        now: DateTime<Utc>,
        items: Vec<BatchItem<'_, T>>,
    ) -> Vec<Result<T, RuntimeError>> {
        if let Err(e) = self
            .lock_writer(&format!("paraaf (process {})", std::process::id()))
            .and_then(|()| self.recover())
        {
            return items.into_iter().map(|_| Err(e.clone())).collect();
        }
        self.last_now = Some(now);
        // O(1): persistent maps. Kept to go back to if the log turns out to be tampered.
        let before = self.state.clone();
        let mut results = Vec::with_capacity(items.len());
        let mut idem = Vec::new();
        let mut events = Vec::new();
        let mut dirty = false;
        // A snapshot finished encoding: it is saved with this batch, with its event.
        let snapshot = match self.encoding.take() {
            Some(h) if h.is_finished() => match h.join() {
                Ok(Ok(s)) => Some(s),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "no snapshot taken");
                    None
                }
                Err(_) => None,
            },
            other => {
                self.encoding = other;
                None
            }
        };
        {
            let mut em = Emitter::new(&mut self.state, &self.calendar, now);
            for item in items {
                let before = em.events.len();
                let staged = em.contents.len();
                let (r, record) = item(&mut em);
                if r.is_err() && em.events.len() != before {
                    dirty = true; // a command failed half-way: should not happen; reload below
                }
                if r.is_err() {
                    em.contents.truncate(staged); // a refused submission keeps nothing
                }
                if r.is_ok() {
                    idem.extend(record);
                }
                results.push(r);
            }
            if let Some(s) = &snapshot {
                em.snapshot_taken(s.seq, s.sha256.clone());
            }
            events.append(&mut em.events);
            self.store.stage_contents(std::mem::take(&mut em.contents));
        }
        let committed = if dirty {
            Err(RuntimeError::Storage(
                "a command failed after emitting events".into(),
            ))
        } else if events.is_empty() && idem.is_empty() {
            Ok(())
        } else {
            // The mails and webhooks these events cause, in the same transaction.
            let messages = crate::outbox::derive(&self.state, &events);
            self.store
                .commit(&self.state, &events, &idem, snapshot.as_ref(), &messages)
        };
        if let Err(e) = committed {
            if let RuntimeError::Tampered(why) = e {
                // The log no longer ends where this writer left it: never adopt that log.
                // The state from before the batch stays, and every later batch is refused.
                self.state = before;
                let e = self.stop(why);
                return results.into_iter().map(|_| Err(e.clone())).collect();
            }
            // `/health` says degraded until a batch commits again (a full disk under the
            // database: every commit fails until space is back).
            if !dirty {
                self.degraded = Some(format!("the database cannot be written ({e})"));
            }
            // Nothing is visible: go back to what the log says. If even that fails, stop:
            // serving an empty state would hide every document and absence.
            match self.store.load() {
                Ok(state) => self.state = state,
                Err(reload) => {
                    tracing::error!(commit = %e, reload = %reload, "the commit failed and the log cannot be read back; stopping");
                    eprintln!(
                        "fatal: the commit failed ({e}) and the log cannot be read back ({reload}); stopping"
                    );
                    std::process::exit(70);
                }
            }
            return results.into_iter().map(|_| Err(e.clone())).collect();
        }
        // Content stored ahead of commands that were then refused, now and then.
        if self
            .collected
            .is_none_or(|at| at.elapsed() >= self.collect_every)
        {
            self.collect_contents();
        }
        // The hashes this writer committed, kept to sign (only while it can sign: without
        // a signing key nothing ever takes them).
        let written = self.store.take_written();
        if self
            .checkpoints
            .as_ref()
            .is_some_and(|c| matches!(c.key, Key::Signing(_)))
        {
            self.own.extend(written);
        }
        if self.state.last_seq
            >= self.last_snapshot + crate::snapshot::interval(self.snapshot_every, &self.state)
            && self.encoding.is_none()
        {
            // Encoded off the writer thread from an O(1) clone; saved with a later batch.
            let state = self.state.clone();
            let format = self.snapshot_format;
            self.last_snapshot = state.last_seq;
            self.encoding = Some(std::thread::spawn(move || encode_snapshot(&state, format)));
        }
        if let Some(cps) = &self.checkpoints
            && self.state.last_seq >= cps.last + cps.every
            && let Err(e) = self.checkpoint()
        {
            // The events are committed; the next batch is refused until a checkpoint
            // covers them (see `recover`).
            tracing::warn!(error = %e, "no checkpoint written");
        }
        results
    }

    /// Deletes the content no event refers to that is older than the grace period (see
    /// [`crate::store::content_file::collect`]); a failure is logged and tried again at
    /// the next turn.
    fn collect_contents(&mut self) {
        self.collected = Some(std::time::Instant::now());
        match self.store.collect_contents(self.content_grace) {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "content no event refers to was collected"),
            Err(e) => {
                tracing::warn!(error = %e, "unreferenced content could not be collected; tried again later")
            }
        }
    }

    /// While checkpoints could not be written (a full disk): signs this writer's events
    /// now, from the file as it is (a line cut short is ignored, and cut off by the next
    /// append), and refuses the batch if that still fails. Nothing is committed that no
    /// checkpoint can follow.
    fn recover(&mut self) -> Result<(), RuntimeError> {
        if self.degraded.is_none() {
            return Ok(());
        }
        let mut open = false;
        if let Some(cps) = &mut self.checkpoints {
            let mut chain = match checkpoint::read_chain(&cps.file, &cps.key) {
                Ok(c) => c,
                Err(why) => return Err(self.stop(why)),
            };
            let list = std::mem::take(&mut chain.list);
            // A line written whole although the write reported a failure counts.
            if let Some(last) = list.last()
                && last.seq >= cps.last
            {
                cps.last = last.seq;
                cps.last_head = last.head.clone();
                cps.mark = last.mark;
            }
            open = list.is_empty()
                || chain.lines == chain.legacy
                || cps.mark == Some(checkpoint::Mark::Closed);
            cps.chain = chain;
        }
        self.sign(open.then_some(checkpoint::Mark::Opened))?;
        self.degraded = None;
        tracing::info!("checkpoints are written again");
        Ok(())
    }
}

impl Runtime {
    /// Takes a snapshot now: waits for one being encoded (or encodes one here) and
    /// commits it with the event that records it.
    pub fn snapshot_now(&mut self, now: DateTime<Utc>) -> Result<(), RuntimeError> {
        let pending = match self.encoding.take() {
            Some(h) => h
                .join()
                .map_err(|_| RuntimeError::Storage("the snapshot encoder failed".into()))??,
            None => encode_snapshot(&self.state, self.snapshot_format)?,
        };
        self.last_snapshot = pending.seq;
        self.encoding = Some(std::thread::spawn(move || Ok(pending)));
        while self.encoding.as_ref().is_some_and(|h| !h.is_finished()) {
            std::thread::yield_now();
        }
        self.execute(now, |_| Ok(()))
    }

    /// Saves the snapshot the policy asked for and this writer is still encoding, before
    /// it closes: a writer that ends after one command (every CLI write) would otherwise
    /// never save one, and the events an open replays would grow without bound. Saved at
    /// the time of the last batch; nothing when this runtime is not the writer, or stopped.
    fn save_owed_snapshot(&mut self) {
        if self.encoding.is_none() || self.lock.is_none() || self.condition().is_some() {
            return;
        }
        let Some(now) = self.last_now else {
            return;
        };
        if let Err(e) = self.snapshot_now(now) {
            tracing::warn!(error = %e, "no snapshot saved at close");
        }
    }
}

/// [`checkpoint::unsigned_tail`] as a runtime error.
fn unsigned_tail(
    list: &[Checkpoint],
    head: u64,
    every: u64,
    file: &Path,
) -> Result<(), RuntimeError> {
    checkpoint::unsigned_tail(list, head, every, file).map_err(RuntimeError::Tampered)
}

/// The last event the checkpoints in `file` cover, after checking the log against the
/// last of them (0 when there is none).
fn verified_tail(store: &Backend, list: &[Checkpoint], file: &Path) -> Result<u64, RuntimeError> {
    let Some(cp) = list.last() else {
        return Ok(0);
    };
    if cp.seq == 0 {
        return Ok(0);
    }
    store.verify_tail(cp).map_err(|why| {
        RuntimeError::Tampered(format!("{why} (checked against {})", file.display()))
    })?;
    Ok(cp.seq)
}

/// The writer lock this process holds.
enum Held {
    /// A SQLite file's lock file.
    File(WriterLock),
    /// The city's advisory lock on the PostgreSQL store's connection: held until that
    /// connection ends (a lost connection fails every later commit, so no second writer
    /// ever writes beside this one).
    Advisory,
}

impl Held {
    /// Whether the lock is still this process's (a lock file not deleted or replaced).
    fn still_held(&self) -> bool {
        match self {
            Held::File(lock) => lock.still_at_its_path(),
            Held::Advisory => true,
        }
    }
}

/// The path of the writer lock of the database at `db`.
fn lock_path(db: &Path) -> PathBuf {
    crate::beside(db, ".lock")
}

/// A held writer lock: `DB.lock` next to the database's real path (so a symlink or
/// another spelling of the path finds the same lock), which names the holder. No second
/// descriptor of the database file is kept: closing one would drop SQLite's own POSIX
/// locks of this process.
pub(crate) struct WriterLock {
    file: std::fs::File,
    /// Where it was taken (resolved once, not at every batch).
    path: PathBuf,
    /// The database file's own lock (by device and inode), when it exists.
    _inode: Option<InodeLock>,
}

/// An exclusive lock on the database file itself, whatever path (a hard link, a
/// symlink) it was opened by: a `flock` on a descriptor of the file that this process
/// keeps open for good (closing any descriptor of a file drops SQLite's own POSIX locks
/// on it), unlocked when the last holder in this process lets go.
struct InodeLock {
    id: (u64, u64),
    file: std::sync::Arc<std::fs::File>,
}

/// The database files this process holds a writer lock on (by device and inode), and one
/// descriptor of each, kept open.
fn inode_locks() -> &'static std::sync::Mutex<InodeRegistry> {
    static LOCKS: std::sync::OnceLock<std::sync::Mutex<InodeRegistry>> = std::sync::OnceLock::new();
    LOCKS.get_or_init(Default::default)
}

#[derive(Default)]
struct InodeRegistry {
    held: std::collections::BTreeSet<(u64, u64)>,
    files: std::collections::BTreeMap<(u64, u64), std::sync::Arc<std::fs::File>>,
}

impl InodeLock {
    /// Tries to lock the file at `db` (which exists): `Ok(None)` when another writer,
    /// in this process or another, holds it.
    #[cfg(unix)]
    fn try_take(db: &Path) -> std::io::Result<Option<InodeLock>> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(db)?;
        let id = (meta.dev(), meta.ino());
        let mut reg = inode_locks().lock().unwrap_or_else(|p| p.into_inner());
        if reg.held.contains(&id) {
            return Ok(None);
        }
        let file = match reg.files.get(&id) {
            Some(f) => f.clone(),
            None => {
                let f = std::sync::Arc::new(std::fs::File::open(db)?);
                reg.files.insert(id, f.clone());
                f
            }
        };
        match file.try_lock() {
            Ok(()) => {
                reg.held.insert(id);
                Ok(Some(InodeLock { id, file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    #[cfg(not(unix))]
    fn try_take(db: &Path) -> std::io::Result<Option<InodeLock>> {
        // Without inode numbers: the file's own lock, not shared within the process.
        let file = std::sync::Arc::new(std::fs::File::open(db)?);
        Ok(file
            .try_lock()
            .ok()
            .map(|()| InodeLock { id: (0, 0), file }))
    }
}

impl Drop for InodeLock {
    fn drop(&mut self) {
        let mut reg = inode_locks().lock().unwrap_or_else(|p| p.into_inner());
        reg.held.remove(&self.id);
        let _ = self.file.unlock();
    }
}

impl WriterLock {
    /// Whether the file at the lock's path is still the one held (not deleted or
    /// replaced).
    fn still_at_its_path(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            match (std::fs::metadata(&self.path), self.file.metadata()) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            }
        }
        #[cfg(not(unix))]
        {
            self.path.exists()
        }
    }
}

/// The exclusive writer lock of the database `db` (`DB.lock`, holding `who`); waits a
/// few seconds for another writer, then refuses naming it.
pub(crate) fn take_lock(db: &Path, who: &str) -> Result<WriterLock, RuntimeError> {
    use std::io::{Read, Seek, Write};
    let lock_path = lock_path(db);
    let storage =
        |e: std::io::Error| RuntimeError::Storage(format!("{}: {e}", lock_path.display()));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(storage)?;
    let start = std::time::Instant::now();
    let mut inode = None;
    loop {
        match f.try_lock() {
            // The path's lock, then the file's own: a hard link (another path to the
            // same file) has its own `DB.lock`, but not its own inode.
            Ok(()) if !db.exists() => break,
            Ok(()) => match InodeLock::try_take(db) {
                Ok(Some(l)) => {
                    inode = Some(l);
                    break;
                }
                Ok(None) if start.elapsed() < LOCK_WAIT => {
                    let _ = f.unlock();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Ok(None) => {
                    let _ = f.unlock();
                    return Err(RuntimeError::Locked(format!(
                        "{} is being written by another writer through another path to the same file (a hard link or a copy of its path); write through that writer or stop it first",
                        db.display()
                    )));
                }
                Err(e) => return Err(storage(e)),
            },
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = f.read_to_string(&mut holder);
                return Err(RuntimeError::Locked(format!(
                    "{} is being written by {}; write through it (its HTTP API) or stop it first",
                    db.display(),
                    if holder.trim().is_empty() {
                        "another process"
                    } else {
                        holder.trim()
                    }
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(storage(e)),
        }
    }
    f.set_len(0).map_err(storage)?;
    f.rewind().map_err(storage)?;
    f.write_all(who.as_bytes()).map_err(storage)?;
    f.flush().map_err(storage)?;
    Ok(WriterLock {
        file: f,
        path: lock_path,
        _inode: inode,
    })
}

fn encode_snapshot(
    state: &State,
    format: crate::snapshot::Format,
) -> Result<Snapshot, RuntimeError> {
    let body = crate::snapshot::encode_as(state, format)?;
    Ok(Snapshot {
        seq: state.last_seq,
        sha256: crate::sha256_hex(&body),
        body,
    })
}

impl Drop for Runtime {
    /// The writer saves a snapshot the policy asked for and signs a last checkpoint when it
    /// closes (end of a command, server stop).
    fn drop(&mut self) {
        self.save_owed_snapshot();
        if let Err(e) = self.sign(Some(checkpoint::Mark::Closed)) {
            tracing::warn!(error = %e, "no checkpoint written at close");
            if self.stopped.is_none() {
                eprintln!(
                    "warning: no closing checkpoint written ({e}); the next writer with the key signs these events"
                );
            }
        }
    }
}
