//! The runtime: a state rebuilt from the store, and commands that are committed to the
//! store before their effects become visible.

use crate::checkpoint::{self, Checkpoint, Key};
use crate::engine::{Emitter, RuntimeError, State};
use crate::store::{Idempotency, Snapshot, Store};
use crate::workdays::Calendar;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// A city's runtime on one database file.
pub struct Runtime {
    store: Store,
    state: State,
    /// Working days for deadlines.
    pub calendar: Calendar,
    /// The database file (its writer lock lies next to it).
    path: PathBuf,
    /// Held while this process is the database's one writer.
    lock: Option<WriterLock>,
    /// Who holds the lock, as written into it (kept to take it again under that name).
    writer: Option<String>,
    /// Signed checkpoints, when a key is configured.
    checkpoints: Option<Checkpoints>,
    /// Events between two snapshots of the state.
    pub snapshot_every: u64,
    /// The event the newest snapshot holds the state after (or is being encoded for).
    last_snapshot: u64,
    /// A snapshot being encoded on another thread from an O(1) clone of the state.
    encoding: Option<std::thread::JoinHandle<Result<Snapshot, RuntimeError>>>,
}

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
    /// The operator vouches for the unsigned events (`audit checkpoint --adopt`).
    adopt: bool,
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
        Runtime::open_from(path, calendar, true)
    }

    /// Opens the database replaying the whole log, snapshots unread (`audit verify` and
    /// `admin rebuild` work also when a snapshot was altered).
    pub fn open_replaying(path: &Path, calendar: Calendar) -> Result<Runtime, RuntimeError> {
        Runtime::open_from(path, calendar, false)
    }

    fn open_from(
        path: &Path,
        calendar: Calendar,
        snapshots: bool,
    ) -> Result<Runtime, RuntimeError> {
        let store = Store::open(path)?;
        let (state, last_snapshot) = if snapshots {
            store.load_counting()?
        } else {
            (store.replay_all()?, 0)
        };
        Ok(Runtime {
            store,
            state,
            calendar,
            path: path.to_path_buf(),
            lock: None,
            writer: None,
            checkpoints: None,
            snapshot_every: crate::snapshot::DEFAULT_EVERY,
            last_snapshot,
            encoding: None,
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
        self.checkpoints_from(key, file, every, false)
    }

    /// Like [`Runtime::use_checkpoints`], but accepts events no checkpoint covers yet
    /// (`paraaf audit checkpoint --adopt`: the operator vouches for them).
    pub fn adopt_checkpoints(
        &mut self,
        key: Key,
        file: PathBuf,
        every: u64,
    ) -> Result<(), RuntimeError> {
        self.checkpoints_from(key, file, every, true)
    }

    fn checkpoints_from(
        &mut self,
        key: Key,
        file: PathBuf,
        every: u64,
        adopt: bool,
    ) -> Result<(), RuntimeError> {
        let list = checkpoint::read_file(&file, &key).map_err(RuntimeError::Tampered)?;
        let head = self.state.last_seq;
        if !adopt {
            unsigned_tail(&list, head, every, &file)?;
        }
        let last = verified_tail(&self.store, &list, &file)?;
        self.checkpoints = Some(Checkpoints {
            key,
            file,
            every: every.max(1),
            last,
            mark: list.last().and_then(|c| c.mark),
            adopt,
        });
        Ok(())
    }

    /// Appends a signed checkpoint of the current head, if events came after the last one
    /// and this runtime has a signing key. Only the writer signs.
    pub fn checkpoint(&mut self) -> Result<Option<Checkpoint>, RuntimeError> {
        self.sign(None)
    }

    /// Signs a checkpoint of the events since the last one, with a session `mark`: a
    /// marked record is written also when no event came since (it then covers none).
    fn sign(&mut self, mark: Option<checkpoint::Mark>) -> Result<Option<Checkpoint>, RuntimeError> {
        let Some(cps) = &mut self.checkpoints else {
            return Ok(None);
        };
        let head = self.state.last_seq;
        if head <= cps.last && mark.is_none()
            || !matches!(cps.key, Key::Signing(_))
            || self.lock.is_none()
        {
            return Ok(None);
        }
        let (hashes, head_hash) = if head > cps.last {
            self.store.hash_prefixes(cps.last + 1, head)?
        } else if head > 0 {
            (String::new(), self.store.hash_prefixes(head, head)?.1)
        } else {
            (String::new(), String::new())
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
        };
        cps.key.sign(&mut cp);
        checkpoint::append(&cps.file, &cp).map_err(RuntimeError::Storage)?;
        cps.last = head;
        cps.mark = mark;
        Ok(Some(cp))
    }

    /// Makes this process the one writer of the database: an exclusive lock on
    /// `DB.lock`, which holds `who` (the server's address) for whoever is refused. Waits a
    /// few seconds for another writer, then refuses: two writers would diverge.
    pub fn lock_writer(&mut self, who: &str) -> Result<(), RuntimeError> {
        // The lock file deleted or replaced while held (by hand, a cleanup script) would
        // let a second writer lock a new file: before each batch, the writer checks that
        // the file at the path is still the one it holds, and takes the lock again if not.
        if let Some(held) = &self.lock
            && held.still_at_its_path()
        {
            return Ok(());
        }
        self.lock = None;
        let who = self.writer.clone().unwrap_or_else(|| who.to_string());
        let f = take_lock(&self.path, &who)?;
        self.lock = Some(f);
        self.writer = Some(who);
        // Another writer may have appended since the log was read: start from it again.
        // Fewer events than this process read (or committed) is no other writer: events
        // were removed, and nothing may be appended to that log.
        let (head, _) = self
            .store
            .head()
            .map_err(|e| RuntimeError::Storage(e.to_string()))?;
        if head < self.state.last_seq {
            self.lock = None;
            return Err(RuntimeError::Tampered(format!(
                "the log ends at event {head}, but events up to {} were read or committed: events were removed",
                self.state.last_seq
            )));
        }
        if head != self.state.last_seq {
            self.state = self.store.load()?;
        }
        // The checkpoint file as it is now, under the lock: another writer may have signed
        // since this process opened it (two CLI commands one after the other).
        if let Some(cps) = &mut self.checkpoints {
            let list =
                checkpoint::read_file(&cps.file, &cps.key).map_err(RuntimeError::Tampered)?;
            let tail = if cps.adopt {
                Ok(())
            } else {
                unsigned_tail(&list, head, cps.every, &cps.file)
            };
            if let Err(e) = tail
                .and_then(|()| verified_tail(&self.store, &list, &cps.file))
                .map(|last| cps.last = last)
            {
                self.lock = None;
                return Err(e);
            }
            cps.mark = list.last().and_then(|c| c.mark);
            // A log its last writer closed (or a new one) is opened with a signed mark
            // before the first event: events after a `closed` mark are then never a crash
            // tail, and a deleted checkpoint file is never a new database.
            if matches!(cps.key, Key::Signing(_))
                && (list.is_empty() || cps.mark == Some(checkpoint::Mark::Closed))
            {
                self.sign(Some(checkpoint::Mark::Opened))?;
            }
        }
        Ok(())
    }

    /// The current state (everything in it is committed).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The store.
    pub fn store(&self) -> &Store {
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
        if let Err(e) = self.lock_writer(&format!("paraaf (process {})", std::process::id())) {
            return items.into_iter().map(|_| Err(e.clone())).collect();
        }
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
                let (r, record) = item(&mut em);
                if r.is_err() && em.events.len() != before {
                    dirty = true; // a command failed half-way: should not happen; reload below
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
        }
        let committed = if dirty {
            Err(RuntimeError::Storage(
                "a command failed after emitting events".into(),
            ))
        } else if events.is_empty() && idem.is_empty() {
            Ok(())
        } else {
            self.store
                .commit(&self.state, &events, &idem, snapshot.as_ref())
        };
        if let Err(e) = committed {
            if let RuntimeError::Tampered(_) = e {
                // Events this writer committed are gone: never adopt that log. The state
                // from before the batch stays, and every later batch is refused the same.
                self.state = before;
                return results.into_iter().map(|_| Err(e.clone())).collect();
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
        if self.state.last_seq
            >= self.last_snapshot + crate::snapshot::interval(self.snapshot_every, &self.state)
            && self.encoding.is_none()
        {
            // Encoded off the writer thread from an O(1) clone; saved with a later batch.
            let state = self.state.clone();
            self.last_snapshot = state.last_seq;
            self.encoding = Some(std::thread::spawn(move || encode_snapshot(&state)));
        }
        if let Some(cps) = &self.checkpoints
            && self.state.last_seq >= cps.last + cps.every
            && let Err(e) = self.checkpoint()
        {
            // The events are committed; the next checkpoint covers them.
            tracing::warn!(error = %e, "no checkpoint written");
        }
        results
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
            None => encode_snapshot(&self.state)?,
        };
        self.last_snapshot = pending.seq;
        self.encoding = Some(std::thread::spawn(move || Ok(pending)));
        while self.encoding.as_ref().is_some_and(|h| !h.is_finished()) {
            std::thread::yield_now();
        }
        self.execute(now, |_| Ok(()))
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
fn verified_tail(store: &Store, list: &[Checkpoint], file: &Path) -> Result<u64, RuntimeError> {
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

/// The path of the writer lock of the database at `db`.
fn lock_path(db: &Path) -> PathBuf {
    let real = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let mut p = real.into_os_string();
    p.push(".lock");
    PathBuf::from(p)
}

/// A held writer lock: `DB.lock` next to the database's real path (so a symlink or
/// another spelling of the path finds the same lock), which names the holder. No second
/// descriptor of the database file is kept: closing one would drop SQLite's own POSIX
/// locks of this process.
pub(crate) struct WriterLock {
    file: std::fs::File,
    /// Where it was taken (resolved once, not at every batch).
    path: PathBuf,
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
    loop {
        match f.try_lock() {
            Ok(()) => break,
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
    })
}

fn encode_snapshot(state: &State) -> Result<Snapshot, RuntimeError> {
    let body = crate::snapshot::encode(state)?;
    Ok(Snapshot {
        seq: state.last_seq,
        sha256: crate::sha256_hex(&body),
        body,
    })
}

impl Drop for Runtime {
    /// The writer signs a last checkpoint when it closes (end of a command, server stop).
    fn drop(&mut self) {
        if let Err(e) = self.sign(Some(checkpoint::Mark::Closed)) {
            tracing::warn!(error = %e, "no checkpoint written at close");
        }
    }
}
