//! `paraaf serve` on a city in PostgreSQL: many servers per city. Each starts as a read
//! server ([`Writer::follow`]): it serves reads from the state it folds from the log and
//! forwards writes to the city's writer ([`forward_writes`]); the first to find the
//! city's writer lock free takes it and becomes the writer (at start, or within a
//! second of the writer dying), records `--advertise` as where writes go, and starts the
//! work only the writer does (scheduler, outbox sender, sealer).

use crate::cli::runtime_args::{RuntimeArgs, read_holidays};
use paraaf_runtime::api::Writer;
use paraaf_runtime::clock::Clock;
use paraaf_runtime::engine::RuntimeError;
use paraaf_runtime::follower::Follower;
pub use paraaf_runtime::follower::forward::forward_writes;

/// This server's writer handle on a city in PostgreSQL: a read server that takes over as
/// the writer when it can. `advertise`: where the other servers send writes while this
/// one writes.
pub fn start(
    rt: &RuntimeArgs,
    advertise: &str,
    clock: &Clock,
    batch: usize,
) -> Result<Writer, String> {
    let address = rt.address()?;
    let follower = Follower::open(&address).map_err(|e| format!("{}: {e}", rt.shown()))?;
    let calendar = match &rt.holidays {
        Some(path) => read_holidays(path)?,
        None => Default::default(),
    };
    // History is checked against the signed checkpoints, as beside the writer.
    let checkpoints = match &rt.signing_key {
        Some(path) => Some((
            rt.checkpoint_file(),
            paraaf_runtime::checkpoint::Key::Public(
                paraaf_runtime::checkpoint::Key::read_signing(path)?.public(),
            ),
        )),
        None => None,
    };
    let args = rt.clone();
    let who = format!(
        "`paraaf serve` at {advertise} (process {})",
        std::process::id()
    );
    let writer_clock = clock.clone();
    let writer = Writer::follow(
        follower,
        calendar,
        checkpoints,
        Box::new(move || writer_clock.now()),
        batch,
        advertise.to_string(),
        Box::new(move |witnessed| {
            // The whole open a writer makes: the newest snapshot and the events after
            // it, the tail checked against the signed checkpoints, and under the lock
            // the log against every event this server followed and verified.
            let mut runtime = args.open_for_take_over()?;
            runtime.expect_witnessed(witnessed);
            match runtime.lock_writer(&who) {
                Ok(()) => Ok(runtime),
                // The log was rewritten or cut back under what this server saw: it keeps
                // the lock as a writer that stopped (nothing signed, every write and
                // `/health` 503 `tampered`), so that no other server signs that log.
                Err(RuntimeError::Tampered(_)) if runtime.condition().is_some() => Ok(runtime),
                Err(e) => Err(e),
            }
        }),
    );
    // Served once there is a writer to take writes (this server, or one whose address
    // is recorded), so that a server started alone takes its first write; after
    // START_WAIT it serves anyway, reads first (writes answer 503 until a writer runs).
    let start = std::time::Instant::now();
    while !writer.is_leading() && writer.writer_address().is_none() && start.elapsed() < START_WAIT
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(writer)
}

/// How long a server waits at start for a writer of its city.
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until this server writes the city (at once on SQLite).
pub async fn leading(writer: &Writer) {
    let mut leading = writer.leading();
    let _ = leading.wait_for(|l| *l).await;
}

/// Work only the writer does (the scheduler, the outbox sender, the sealer), started
/// once this server leads.
pub struct WhenLeading<T> {
    task: tokio::task::JoinHandle<Option<T>>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Runs `start` once `writer` leads (at once on SQLite, or on the server that holds the
/// city's writer lock); never on a read server that does not take over.
pub fn when_leading<T: Send + 'static>(
    writer: &Writer,
    start: impl FnOnce(&Writer) -> T + Send + 'static,
) -> WhenLeading<T> {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let writer = writer.clone();
    let task = tokio::spawn(async move {
        tokio::select! {
            _ = leading(&writer) => Some(start(&writer)),
            _ = stopped.wait_for(|s| *s) => None,
        }
    });
    WhenLeading { task, stop }
}

impl<T> WhenLeading<T> {
    /// What `start` returned, if this server came to lead; it will not start after this.
    pub async fn finish(self) -> Option<T> {
        let _ = self.stop.send(true);
        self.task.await.ok().flatten()
    }
}

/// Passes on every value of `from` to `to` (the scheduler's settled time, to the test
/// clock's route made before the scheduler started), until either ends.
pub fn pass_on<T: Copy + Send + Sync + 'static>(
    mut from: tokio::sync::watch::Receiver<T>,
    to: tokio::sync::watch::Sender<T>,
) {
    tokio::spawn(async move {
        loop {
            to.send_replace(*from.borrow_and_update());
            if from.changed().await.is_err() || to.is_closed() {
                return;
            }
        }
    });
}

/// Resolves, with why, when this server led and then stopped writing (its database
/// connection, and the city's writer lock with it, was lost): another server may write
/// the city now, so this one must not go on.
pub async fn stopped_writing(writer: &Writer) -> String {
    leading(writer).await;
    while writer.running() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    writer
        .condition()
        .map(|(_, why)| why)
        .unwrap_or_else(|| "the writer stopped".into())
}
