//! The content writer: a thread of its own that stores submissions' bytes in the content
//! file (`DB.contents`, [`super::content_file`]) ahead of their commands, in group commits
//! of its own. The request handlers hand it content the engine would accept (see
//! `api::ahead`); it answers with the row once the row is synced, and the command then
//! goes to the event writer carrying that row instead of the bytes. While one batch of
//! events commits, the next batches' content is being written: the two syncs overlap
//! instead of following each other in every group commit.
//!
//! The order that keeps acknowledged content durable is unchanged: a row is synced before
//! the command that names it is even queued, and the event commit records which row holds
//! which content (`content_rows`), so a row no event came to name (the command refused
//! after all, the process killed in between) is never served and is collected once past
//! its grace period ([`super::content_file::collect`], run by the event writer).

use super::content_file;
use crate::contents::Staged;
use crate::engine::RuntimeError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Most content written in one group commit, in bytes (a batch is also cut at
/// [`BATCH_MAX`] items): enough to fill a sync, small enough to keep memory bounded.
pub const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// Most items written in one group commit (the event writer's default batch).
pub const BATCH_MAX: usize = 256;

/// How long the thread waits for more content after the first of a batch, while content
/// keeps arriving (a lone submission is written at once), unless the batch fills first.
/// Without it, content arriving steadily is synced a few items at a time, and those
/// syncs take the disk from the event writer's commits: a disk does a few hundred syncs
/// a second, whichever file they are for (see `benches/content.rs`).
pub const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

struct Job {
    staged: Staged,
    reply: oneshot::Sender<Result<Staged, (Staged, RuntimeError)>>,
}

/// Handle to the content writer thread of one database; cloned by every handler. The
/// thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct ContentWriter {
    tx: mpsc::Sender<Job>,
}

impl ContentWriter {
    /// Starts the content writer of the database at `db` (the schema must exist: open
    /// the runtime first). The content file is opened, and paired with the database, at
    /// the first write, as the event writer does.
    pub fn start(db: &Path) -> ContentWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        let db = db.to_path_buf();
        std::thread::Builder::new()
            .name("paraaf-content".into())
            .spawn(move || run(&db, rx))
            .expect("a thread starts");
        ContentWriter { tx }
    }

    /// Stores `staged` ahead of its command: the same content with `row` set to where its
    /// bytes lie, synced, and the bytes dropped. Content already stored (an event refers
    /// to it) is written again by no one: `row` stays `None` and the bytes go too, as the
    /// commit needs neither. When the write fails, the content comes back with the error
    /// (to leave to the event writer's own commit, which reports what is wrong); `None`
    /// with it only if the thread is gone.
    pub async fn store(&self, staged: Staged) -> Result<Staged, (Option<Staged>, RuntimeError)> {
        let (reply, rx) = oneshot::channel();
        let stopped = || RuntimeError::Storage("the content writer stopped".into());
        if let Err(mpsc::SendError(job)) = self.tx.send(Job { staged, reply }) {
            return Err((Some(job.staged), stopped()));
        }
        match rx.await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err((s, e))) => Err((Some(s), e)),
            Err(_) => Err((None, stopped())),
        }
    }
}

/// The thread: takes what is queued (up to a batch), writes the content no event refers
/// to yet in one transaction, and answers each with its row.
fn run(db: &Path, rx: mpsc::Receiver<Job>) {
    let mut files: Option<(Connection, Connection)> = None;
    while let Ok(first) = rx.recv() {
        let until = std::time::Instant::now() + LINGER;
        let mut jobs = vec![first];
        let mut bytes = jobs[0].staged.body.len();
        let mut busy = false;
        while jobs.len() < BATCH_MAX && bytes < BATCH_BYTES {
            let next = if busy {
                rx.recv_timeout(until.saturating_duration_since(std::time::Instant::now()))
            } else {
                rx.try_recv().map_err(|_| mpsc::RecvTimeoutError::Timeout)
            };
            busy = true;
            match next {
                Ok(job) => {
                    bytes += job.staged.body.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let result = match &mut files {
            Some((main, content)) => write_batch(main, content, &mut jobs),
            None => open(db).and_then(|(main, mut content)| {
                let r = write_batch(&main, &mut content, &mut jobs);
                files = Some((main, content));
                r
            }),
        };
        match result {
            Ok(rows) => {
                for (job, row) in jobs.into_iter().zip(rows) {
                    let Job { staged, reply } = job;
                    let _ = reply.send(Ok(Staged {
                        body: Vec::new(),
                        row,
                        ..staged
                    }));
                }
            }
            Err(e) => {
                // Opened again for the next batch (a full disk, a file replaced).
                files = None;
                for job in jobs {
                    // The bytes go back with the error: the caller leaves them to the
                    // event writer's commit, which reports what is wrong.
                    let _ = job.reply.send(Err((job.staged, e.clone())));
                }
            }
        }
    }
}

/// The database (to see which content is stored, and to pair the content file with it)
/// and the content file.
fn open(db: &Path) -> Result<(Connection, Connection), RuntimeError> {
    let main = Connection::open(db)?;
    main.busy_timeout(std::time::Duration::from_secs(5))?;
    let path: PathBuf = content_file::path_of(db);
    let content = content_file::open_paired(&main, &path)?;
    Ok((main, content))
}

/// Writes the jobs' content that is not stored yet (once per hash) in one synced
/// transaction: for each job, the row that holds its bytes (`None`: already stored).
fn write_batch(
    main: &Connection,
    content: &mut Connection,
    jobs: &mut [Job],
) -> Result<Vec<Option<i64>>, RuntimeError> {
    let mut new: Vec<(&str, &str, &[u8])> = Vec::new();
    let mut slot = Vec::with_capacity(jobs.len());
    for job in jobs.iter() {
        let s = &job.staged;
        if let Some(i) = new.iter().position(|(sha, ..)| *sha == s.sha256) {
            slot.push(Some(i));
        } else if super::stored(main, &s.sha256)? {
            slot.push(None);
        } else {
            new.push((&s.sha256, s.media_type, &s.body));
            slot.push(Some(new.len() - 1));
        }
    }
    let rows = if new.is_empty() {
        Vec::new()
    } else {
        content_file::write(content, &new)?
    };
    Ok(slot.into_iter().map(|i| i.map(|i| rows[i])).collect())
}
