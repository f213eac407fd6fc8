//! One thread owns the runtime and only writes. Writes queue up; those that arrive
//! together are committed in one transaction (group commit) and acknowledged only after
//! the commit. After each commit the thread publishes the committed state as an immutable
//! snapshot (O(1): a persistent map); reads run on other threads against the latest
//! snapshot, so a long list never holds a write up and never sees an uncommitted event.

use crate::Runtime;
use crate::engine::State;
use crate::engine::{Emitter, RuntimeError};
use crate::store::Idempotency;
use chrono::{DateTime, Utc};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot, watch};

/// An HTTP-level answer: status and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// A command run on the writer thread; returns the answer on success.
pub type Command = Box<dyn FnOnce(&mut Emitter) -> Result<Answer, RuntimeError> + Send>;

/// A write: the caller, an optional idempotency key with the request hash, and the command.
pub struct Write {
    /// Caller.
    pub person: String,
    /// `(Idempotency-Key, SHA-256 of the request)`.
    pub idempotency: Option<(String, String)>,
    /// The command; returns the answer on success.
    pub command: Command,
}

enum Job {
    Write(Write, oneshot::Sender<Answer>),
    /// Close the runtime (its last signed checkpoint) and stop.
    Stop(oneshot::Sender<()>),
    /// Sign a checkpoint of the events since the last one (the anchoring round's head).
    Checkpoint(oneshot::Sender<()>),
    /// Find out whether the store's connection still works (sent every second on
    /// PostgreSQL, so that an idle writer notices a lost connection too).
    Probe,
}

/// How often a writer on PostgreSQL makes sure its connection, and the city's lock with
/// it, is still there.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Sends [`Job::Probe`] to the writer thread every [`PROBE_EVERY`] while it runs.
fn probe_while_running(weak: mpsc::WeakSender<Job>) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(PROBE_EVERY);
            let Some(tx) = weak.upgrade() else { return };
            // A full queue has work enough to find out with.
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(Job::Probe) {
                return;
            }
        }
    });
}

/// Handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    /// The committed state readers use, replaced after every commit.
    committed: Arc<RwLock<Arc<State>>>,
    /// What keeps the writer from writing (`tampered`, `degraded`) and why, after the
    /// last batch; `None` while it writes.
    condition: Arc<RwLock<Option<(String, String)>>>,
    /// The last committed event, sent after every commit that added events (the
    /// scheduler and the outbox sender wait on it).
    commits: watch::Sender<u64>,
    /// The clock the writer commits with (`--now` included).
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// What readers check history against, after the last batch.
    trust: Arc<RwLock<crate::trusted_history::Trust>>,
    /// The runtime's working days (for [`Writer::would_accept`]).
    calendar: Arc<crate::workdays::Calendar>,
    /// Whether this process writes the city (`false` on a read server that follows
    /// another process's writes, until it takes over).
    leading: watch::Sender<bool>,
    /// Where the city's writer takes writes, as a read server last found it.
    writer_at: Arc<RwLock<Option<String>>>,
}

/// What the thread publishes for the handlers after each batch (or each event a read
/// server folds).
struct Published {
    committed: Arc<RwLock<Arc<State>>>,
    condition: Arc<RwLock<Option<(String, String)>>>,
    commits: watch::Sender<u64>,
    trust: Arc<RwLock<crate::trusted_history::Trust>>,
    leading: watch::Sender<bool>,
    writer_at: Arc<RwLock<Option<String>>>,
}

impl Published {
    /// Publishes what a read server folded.
    fn fold(&self, follower: &crate::follower::Follower, trust: crate::trusted_history::Trust) {
        let state = Arc::new(follower.state().clone());
        let seq = state.last_seq;
        set(&self.committed, state);
        set(&self.trust, trust);
        self.commits
            .send_if_modified(|last| std::mem::replace(last, seq) != seq);
    }

    /// Publishes the state a read server found on taking over, and that it leads now.
    fn take_over(&self, runtime: &Runtime, address: &str) {
        let seq = runtime.state().last_seq;
        set(&self.committed, Arc::new(runtime.state().clone()));
        set(&self.trust, runtime.history_trust());
        set(
            &self.condition,
            runtime
                .condition()
                .map(|(code, why)| (code.to_string(), why.to_string())),
        );
        set(&self.writer_at, Some(address.to_string()));
        self.commits
            .send_if_modified(|last| std::mem::replace(last, seq) != seq);
        self.leading.send_replace(true);
    }
}

/// Replaces what `lock` holds (a poisoned lock is taken over: its value is replaced
/// whole).
fn set<T>(lock: &RwLock<T>, value: T) {
    *lock.write().unwrap_or_else(|p| p.into_inner()) = value;
}

/// How often a read server looks for new events.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(50);
/// How often a read server looks whether the writer lock came free (and where the
/// writer is).
const TAKE_OVER_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Maps a refused command to an answer: an RFC 9457 problem document. 403 and 404
/// reveal nothing about hidden documents.
pub fn error_answer(e: &RuntimeError) -> Answer {
    let (status, code) = match e {
        RuntimeError::Invalid(_) => (422, "invalid"),
        RuntimeError::NotFound => (404, "not_found"),
        RuntimeError::Forbidden(_) => (403, "forbidden"),
        RuntimeError::Conflict(_) => (409, "conflict"),
        RuntimeError::Storage(_) => (503, "storage"),
        RuntimeError::Tampered(_) => (503, "tampered"),
        RuntimeError::Locked(_) => (503, "storage"),
    };
    problem(status, code, &e.to_string())
}

/// An RFC 9457 problem document (`application/problem+json`): `type` names the kind of
/// problem (`/problems/CODE`, described there), `title` is fixed per kind, `detail`
/// tells this occurrence, `code` repeats the kind for programs.
pub fn problem(status: u16, code: &str, detail: &str) -> Answer {
    // A detail may quote what was sent (an unknown kind, a field value): never echo
    // more than a screenful back.
    let detail: std::borrow::Cow<str> = if detail.chars().count() > MAX_DETAIL {
        format!("{}…", detail.chars().take(MAX_DETAIL).collect::<String>()).into()
    } else {
        detail.into()
    };
    Answer {
        status,
        body: serde_json::json!({
            "type": format!("/problems/{code}"),
            "title": problem_title(code),
            "status": status,
            "detail": detail,
            "code": code,
        })
        .to_string(),
    }
}

/// Longest `detail` of a problem document, in characters.
pub const MAX_DETAIL: usize = 500;

/// Every kind of problem the API answers, with its title (listed at `/problems/CODE`).
pub const PROBLEMS: &[(&str, &str)] = &[
    ("invalid", "The request is not valid"),
    ("bad_request", "The request cannot be read"),
    ("not_found", "No such document or resource"),
    ("forbidden", "Not allowed"),
    (
        "conflict",
        "The document is not in a state that allows this",
    ),
    ("unauthorized", "A valid bearer token is required"),
    (
        "webhook_signature",
        "The webhook's signature is missing, stale or does not match",
    ),
    ("too_large", "The request body is too large"),
    ("timeout", "The request did not arrive in time"),
    ("unsupported_media_type", "The request body must be JSON"),
    ("method_not_allowed", "This method is not allowed here"),
    ("storage", "Storage error: nothing was recorded"),
    ("tampered", "The log does not match its signed checkpoints"),
];

fn problem_title(code: &str) -> &'static str {
    PROBLEMS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("Error", |(_, t)| t)
}

impl Writer {
    /// Starts the thread. `clock` gives the time of each batch; `batch_max` caps a group commit.
    pub fn start(
        runtime: Runtime,
        clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
        batch_max: usize,
    ) -> Writer {
        let (writer, rx, published) = Writer::handles(
            runtime.state(),
            runtime.history_trust(),
            runtime.calendar.clone(),
            Arc::from(clock),
            true,
        );
        let clock = writer.clock.clone();
        if runtime.store().sqlite().is_none() {
            probe_while_running(writer.tx.downgrade());
        }
        std::thread::spawn(move || commit_loop(runtime, rx, published, clock, batch_max));
        writer
    }

    /// Starts a read server's thread for a city on PostgreSQL that another process may
    /// be writing: it publishes `follower`'s state as the writer thread publishes its
    /// own, folding new events as they are committed (every 50 ms), so every read
    /// handler works unchanged; writes queued here are refused (the server forwards them
    /// to the writer, [`Writer::writer_address`]). Every 200 ms it looks whether the
    /// city's writer lock is free; when it is, `take_over` opens the runtime and takes
    /// the lock (the lock decides between read servers trying at once), checking the
    /// log under it against what this server followed and verified (the
    /// [`crate::follower::Witnessed`] it is given: see [`Runtime::expect_witnessed`]; a
    /// writer that finds the log rewritten stops, signing nothing, `/health` 503
    /// `tampered`), the thread
    /// records `advertise` as the writer's address and from then on is the writer
    /// thread of [`Writer::start`] ([`Writer::leading`] turns `true`). `checkpoints`:
    /// the signed checkpoint file and its key, what history is checked against.
    pub fn follow(
        mut follower: crate::follower::Follower,
        calendar: crate::workdays::Calendar,
        checkpoints: Option<(std::path::PathBuf, crate::checkpoint::Key)>,
        clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
        batch_max: usize,
        advertise: String,
        mut take_over: Box<
            dyn FnMut(crate::follower::Witnessed) -> Result<Runtime, RuntimeError> + Send,
        >,
    ) -> Writer {
        let trust_of = move |f: &crate::follower::Follower| crate::trusted_history::Trust {
            head: Some(f.head()),
            checkpoints: checkpoints.clone(),
            tampered: f.tampered().map(str::to_string),
        };
        let (writer, mut rx, published) = Writer::handles(
            follower.state(),
            trust_of(&follower),
            calendar,
            Arc::from(clock),
            false,
        );
        let clock = writer.clock.clone();
        let prober = writer.tx.downgrade();
        std::thread::spawn(move || {
            let mut probed = std::time::Instant::now();
            let mut first = true;
            // Set once a take-over was refused for a log that does not match.
            let mut refused = false;
            // The writer that found the log rewritten: kept for its lock.
            let mut held: Option<Runtime> = None;
            // Whether the log could not be read at the last poll.
            let mut behind = false;
            loop {
                loop {
                    match rx.try_recv() {
                        Ok(Job::Write(_, reply)) => {
                            let _ = reply.send(error_answer(&RuntimeError::Storage(
                                "this server only reads the city: writes go to its writer, and none is reachable now; try again in a few seconds".into(),
                            )));
                        }
                        Ok(Job::Checkpoint(reply)) => {
                            let _ = reply.send(());
                        }
                        Ok(Job::Probe) => {}
                        Ok(Job::Stop(reply)) => {
                            drop(held.take());
                            let _ = reply.send(());
                            return;
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => return,
                    }
                }
                let caught_up = follower.catch_up();
                if behind && caught_up.is_ok() {
                    behind = false;
                    set(&published.condition, None);
                    tracing::info!("the read server reads the log again");
                }
                match caught_up {
                    Ok(true) => published.fold(&follower, trust_of(&follower)),
                    Ok(false) => {}
                    Err(RuntimeError::Tampered(why)) => {
                        published.fold(&follower, trust_of(&follower));
                        set(&published.condition, Some(("tampered".into(), why)));
                    }
                    Err(e) => {
                        // Cut off from the log, its state falls behind (a person moved
                        // out of a shield, a document withdrawn): it says so and serves
                        // no reads until it folds again.
                        if !behind {
                            tracing::warn!(error = %e, "the read server cannot read the log: it serves nothing until it can");
                            behind = true;
                        }
                        set(
                            &published.condition,
                            Some((
                                "degraded".into(),
                                format!(
                                    "this read server cannot read the city's log ({e}): its state, at event {}, may be behind, so it answers no reads until it can",
                                    follower.head().0
                                ),
                            )),
                        );
                    }
                }
                // A follower that found the log rewritten under what it folded still
                // takes the lock when it comes free: the writer it opens checks the log
                // against what it verified and, finding it rewritten, holds the lock
                // without signing, so that no server signs that log.
                if (first || probed.elapsed() >= TAKE_OVER_POLL) && !refused {
                    first = false;
                    probed = std::time::Instant::now();
                    if matches!(follower.writer_lock_free(), Ok(true)) {
                        match take_over(follower.witnessed().clone()) {
                            // The log was rewritten or cut back under what this server
                            // verified: it holds the lock, signing and writing nothing,
                            // and goes on serving what it verified (`tampered`).
                            Ok(runtime)
                                if runtime.condition().is_some_and(|(c, _)| c == "tampered") =>
                            {
                                let why = runtime
                                    .condition()
                                    .map(|(_, w)| w.to_string())
                                    .unwrap_or_default();
                                tracing::error!(reason = %why, "this server holds the city's writer lock without writing: the log does not agree with what it followed");
                                follower.stop(why.clone());
                                set(&published.condition, Some(("tampered".into(), why)));
                                refused = true;
                                held = Some(runtime);
                            }
                            Ok(runtime) => {
                                if let Err(e) = follower.advertise(&advertise) {
                                    tracing::warn!(error = %e, "the writer's address was not recorded: read servers cannot forward writes to it");
                                }
                                drop(follower);
                                published.take_over(&runtime, &advertise);
                                tracing::info!(address = %advertise, seq = runtime.state().last_seq, "this server took over as the city's writer");
                                probe_while_running(prober);
                                return commit_loop(runtime, rx, published, clock, batch_max);
                            }
                            // The log does not match this server's signed checkpoints
                            // (or anchors): it signs nothing on it, but goes on
                            // serving reads and following, and says why.
                            Err(RuntimeError::Tampered(why)) => {
                                let why = format!(
                                    "this server cannot take over as the city's writer: {why}; it goes on serving reads (every server of a city signs into the one checkpoint file, see docs/operations.md)"
                                );
                                tracing::error!(reason = %why, "this server does not take over");
                                set(&published.condition, Some(("tampered".into(), why)));
                                refused = true;
                            }
                            Err(e) => {
                                tracing::info!(error = %e, "the writer lock came free but another server took it")
                            }
                        }
                    }
                    match follower.writer_address() {
                        Ok(at) => set(&published.writer_at, at),
                        Err(e) => {
                            tracing::warn!(error = %e, "the writer's address could not be read")
                        }
                    }
                }
                std::thread::sleep(FOLLOW_POLL);
            }
        });
        writer
    }

    /// The handle and what its thread publishes through, starting from `state`.
    fn handles(
        state: &State,
        trust: crate::trusted_history::Trust,
        calendar: crate::workdays::Calendar,
        clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
        leading: bool,
    ) -> (Writer, mpsc::Receiver<Job>, Published) {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let writer = Writer {
            tx,
            committed: Arc::new(RwLock::new(Arc::new(state.clone()))),
            condition: Arc::new(RwLock::new(None)),
            commits: watch::Sender::new(state.last_seq),
            clock,
            trust: Arc::new(RwLock::new(trust)),
            calendar: Arc::new(calendar),
            leading: watch::Sender::new(leading),
            writer_at: Arc::new(RwLock::new(None)),
        };
        let published = Published {
            committed: writer.committed.clone(),
            condition: writer.condition.clone(),
            commits: writer.commits.clone(),
            trust: writer.trust.clone(),
            leading: writer.leading.clone(),
            writer_at: writer.writer_at.clone(),
        };
        (writer, rx, published)
    }

    /// Whether this process writes the city now: always on SQLite; on a read server
    /// once it took over.
    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// A receiver that turns `true` when this process becomes the city's writer (at
    /// once for [`Writer::start`]): the server starts its background work then.
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// Where the city's writer takes writes, as this read server last found it (`None`
    /// while no writer recorded a live address); this process's own when it leads.
    pub fn writer_address(&self) -> Option<String> {
        self.writer_at
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `command` against a copy of the latest committed state, at the writer's
    /// clock, and throws the copy away: what the writer would answer if the command were
    /// the next one. A handler asks before doing work a refusal would waste (storing a
    /// submission's content ahead, `api::ahead`); the writer still decides on its own.
    pub fn would_accept<T>(
        &self,
        command: impl FnOnce(&mut Emitter) -> Result<T, RuntimeError>,
    ) -> Result<T, RuntimeError> {
        let mut state = (*self.committed()).clone();
        let mut em = Emitter::new(&mut state, &self.calendar, self.now());
        command(&mut em)
    }

    /// The time now on the clock the writer commits with: the one clock readers (the
    /// web app's due dates and overdue marks) use, so they agree with the engine.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// A receiver that changes after every commit that added events (its value: the
    /// last event committed).
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// What keeps the writer from writing, after its last batch: `("tampered", why)`
    /// once the log changed under it, `("degraded", why)` while checkpoints cannot be
    /// written. `None` while it writes.
    pub fn condition(&self) -> Option<(String, String)> {
        self.condition
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What history read beside the writer is verified against (see
    /// [`crate::trusted_history::read_events`]), as of the last batch.
    pub fn history_trust(&self) -> crate::trusted_history::Trust {
        self.trust.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the writer thread still takes writes.
    pub fn running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// The latest committed state (everything in it is durable).
    pub fn committed(&self) -> Arc<State> {
        self.committed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs a read against the latest committed state, on the blocking pool: never on
    /// the writer thread.
    pub async fn read(&self, f: impl FnOnce(&State) -> Answer + Send + 'static) -> Answer {
        let state = self.committed();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .unwrap_or_else(|_| error_answer(&RuntimeError::Storage("a read failed".into())))
    }

    /// Finishes the writes already queued, closes the runtime (signing a last checkpoint)
    /// and stops the thread. Later requests answer 503.
    pub async fn stop(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Job::Stop(reply)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Has the writer sign a checkpoint of its current head (nothing when no event came
    /// since the last one) and waits for it: the anchoring thread calls this before each
    /// round, so the anchored head is never more than one round behind the committed one.
    /// Called from a thread outside the async runtime.
    pub fn checkpoint_blocking(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.blocking_send(Job::Checkpoint(reply)).is_ok() {
            let _ = rx.blocking_recv();
        }
    }

    /// Runs a write; answers after its commit.
    pub async fn write(&self, w: Write) -> Answer {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Job::Write(w, reply)).await.is_err() {
            return error_answer(&RuntimeError::Storage("the writer stopped".into()));
        }
        rx.await
            .unwrap_or_else(|_| error_answer(&RuntimeError::Storage("the writer stopped".into())))
    }
}

/// The writer thread: takes the queued jobs, commits the writes that arrived together in
/// one batch and publishes the committed state before acknowledging any.
fn commit_loop(
    mut runtime: Runtime,
    mut rx: mpsc::Receiver<Job>,
    published: Published,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    batch_max: usize,
) {
    let Published {
        committed: publish,
        condition: report,
        commits: told,
        trust: trusted,
        ..
    } = published;
    let mut pending: Vec<Job> = Vec::new();
    loop {
        if pending.is_empty() {
            match rx.blocking_recv() {
                Some(job) => pending.push(job),
                None => return,
            }
        }
        while pending.len() < batch_max {
            match rx.try_recv() {
                Ok(job) => pending.push(job),
                Err(_) => break,
            }
        }
        let jobs = std::mem::take(&mut pending);
        let mut writes = Vec::new();
        let mut stop = None;
        let mut sign = Vec::new();
        let mut keys = std::collections::BTreeSet::new();
        let mut probe = false;
        for job in jobs {
            match job {
                Job::Stop(reply) => stop = Some(reply),
                Job::Checkpoint(reply) => sign.push(reply),
                Job::Probe => probe = true,
                Job::Write(w, reply) => {
                    if let Some((key, hash)) = &w.idempotency {
                        let ids = runtime.state().ids_of(&w.person);
                        // The same key twice in one batch: the second waits for the next.
                        if !keys.insert((ids.clone(), key.clone())) {
                            pending.push(Job::Write(w, reply));
                            continue;
                        }
                        match runtime.store().idempotency(&ids, key) {
                            Ok(Some(rec)) if rec.request_sha256 == *hash => {
                                let answer = Answer {
                                    status: rec.status,
                                    body: rec.response,
                                };
                                let _ = reply.send(replayed(runtime.state(), &w.person, answer));
                                continue;
                            }
                            Ok(Some(_)) => {
                                let _ = reply.send(error_answer(&RuntimeError::Invalid(
                                    "this Idempotency-Key (or webhook reference) was used before for a different request".into(),
                                )));
                                continue;
                            }
                            Ok(None) => {}
                            Err(e) => {
                                let _ = reply.send(error_answer(&e));
                                continue;
                            }
                        }
                    }
                    writes.push((w, reply));
                }
            }
        }
        if !sign.is_empty() {
            // Signed before this batch's writes: those are signed by the next
            // round (or the closing checkpoint).
            if let Err(e) = runtime.checkpoint() {
                tracing::warn!(error = %e, "the anchoring round's checkpoint was not signed");
            }
            *report.write().unwrap_or_else(|p| p.into_inner()) = runtime
                .condition()
                .map(|(code, why)| (code.to_string(), why.to_string()));
            *trusted.write().unwrap_or_else(|p| p.into_inner()) = runtime.history_trust();
            for reply in sign {
                let _ = reply.send(());
            }
        }
        if probe {
            runtime.store().probe_connection();
        }
        if lost_connection(&runtime, &report) {
            return;
        }
        if writes.is_empty() {
            if let Some(reply) = stop {
                drop(runtime); // signs the last checkpoint
                let _ = reply.send(());
                return;
            }
            continue;
        }
        let mut replies = Vec::new();
        let items: Vec<crate::runtime::BatchItem<Answer>> = writes
            .into_iter()
            .map(|(w, reply)| {
                replies.push(reply);
                let Write {
                    person,
                    idempotency,
                    command,
                } = w;
                Box::new(move |e: &mut Emitter| {
                    let r = command(e);
                    let record = match (&r, idempotency) {
                        (Ok(a), Some((key, hash))) => Some(Idempotency {
                            person,
                            key,
                            request_sha256: hash,
                            status: a.status,
                            response: a.body.clone(),
                        }),
                        _ => None,
                    };
                    (r, record)
                }) as crate::runtime::BatchItem<Answer>
            })
            .collect();
        let results = runtime.execute_batch(clock(), items);
        // Published before any acknowledgement: a client reads its own write.
        let snapshot = Arc::new(runtime.state().clone());
        let seq = snapshot.last_seq;
        *publish.write().unwrap_or_else(|p| p.into_inner()) = snapshot;
        *report.write().unwrap_or_else(|p| p.into_inner()) = runtime
            .condition()
            .map(|(code, why)| (code.to_string(), why.to_string()));
        *trusted.write().unwrap_or_else(|p| p.into_inner()) = runtime.history_trust();
        told.send_if_modified(|last| std::mem::replace(last, seq) != seq);
        for (r, reply) in results.into_iter().zip(replies) {
            let _ = reply.send(r.unwrap_or_else(|e| error_answer(&e)));
        }
    }
}

/// Whether the runtime's store lost its connection (on PostgreSQL the city's writer
/// lock went with it, and another server may write the city now): then it says why
/// (`degraded`) and the writer thread stops, so nothing more is acknowledged here (a
/// failed commit stops the process already; this covers the reads before it, such as
/// an idempotency key's lookup); the writes still queued answer 503.
fn lost_connection(runtime: &Runtime, report: &RwLock<Option<(String, String)>>) -> bool {
    if !runtime.store().connection_lost() {
        return false;
    }
    let why = "the writer lost its connection to PostgreSQL and the city's writer lock with it: it writes nothing more (another server may write the city now); restart this server".to_string();
    tracing::error!("{why}");
    set(report, Some(("degraded".into(), why)));
    true
}

/// The first answer to a request, replayed for the same Idempotency-Key, as the caller
/// may know it now: an answer about a document (its `id`) the caller may no longer see
/// (they left, or moved out of its shield: `sender::check::recipient_now`, the test
/// notices pass) is the answer to a document that does not exist (hidden looks like
/// missing); any other answer is replayed as it was given.
fn replayed(state: &State, person: &str, answer: Answer) -> Answer {
    let doc = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|b| b.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .filter(|id| state.documents.contains_key(id));
    match doc {
        Some(doc) if crate::sender::check::recipient_now(state, person, &doc).is_err() => {
            error_answer(&RuntimeError::NotFound)
        }
        _ => answer,
    }
}
