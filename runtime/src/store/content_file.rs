//! The content file, `DB.contents` next to the database's real path: the documents' bytes
//! in a SQLite database of their own (a rowid table, 64 KB pages, WAL), so that a PDF is
//! written as a few large pages instead of the log's 4 KB ones (see docs/operations.md,
//! "Write throughput").
//!
//! Which row holds which content is recorded in the city's database (`content_rows`,
//! with the event that refers to it), never here: a row this file holds that no
//! `content_rows` entry names (a commit that failed after its content was written, a
//! process killed between the two commits) is never served, and is collected once it is
//! older than a grace period ([`collect`]). The content is written and synced before the
//! events' commit: SQLite's commits are not atomic across two files in WAL mode, so the
//! order is what keeps every acknowledged document's content durable.

use crate::engine::RuntimeError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};

/// How long a content row no event refers to is kept before it is collected: long
/// enough for a `contents::put` from another process (which writes its `content_rows`
/// entry right after the bytes) to finish.
pub const GRACE_SECONDS: i64 = 3600;

/// The content file of the database at `db`: `DB.contents` next to its real path (a
/// symlink to the database finds the same file).
pub fn path_of(db: &Path) -> PathBuf {
    crate::beside(db, ".contents")
}

/// Opens (creating if needed) the content file for writing: 64 KB pages (set before the
/// first table, or they cannot change in WAL mode), WAL, `synchronous=FULL` (a commit
/// returns once its content is on the disk).
pub(crate) fn open(path: &Path) -> Result<Connection, RuntimeError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "page_size", 65536)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // The bytes last, so a row's small columns sit in its first page; the index by time
    // (appended at its right edge) is what collection reads, never the bytes.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS contents (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            media_type TEXT NOT NULL,
            stored_at INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS contents_by_time ON contents (stored_at, sha256);
        CREATE TABLE IF NOT EXISTS collected (upto INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS file (id TEXT NOT NULL);",
    )?;
    Ok(conn)
}

/// Opens the content file at `path` for the database on `main`, checking that they
/// belong together: both record the same random id, given when the first content was
/// written. A database whose content file is elsewhere (opened through a hard link in
/// another folder, copied without its `.contents` file) or a content file of another
/// database is refused, never written to: the content would be split over two files.
pub(crate) fn open_paired(main: &Connection, path: &Path) -> Result<Connection, RuntimeError> {
    let existed = path.exists();
    let conn = open(path)?;
    let theirs: Option<String> = main
        .query_row("SELECT id FROM content_file", [], |r| r.get(0))
        .optional()?;
    let mine: Option<String> = conn
        .query_row("SELECT id FROM file", [], |r| r.get(0))
        .optional()?;
    match (theirs, mine) {
        (Some(a), Some(b)) if a == b => Ok(conn),
        (None, Some(b)) => {
            // A database from before the pairing (or restored from such a backup).
            main.execute("INSERT INTO content_file (id) VALUES (?1)", [b])?;
            Ok(conn)
        }
        (None, None) => {
            let id = hex::encode(crate::checkpoint::random_bytes().map_err(RuntimeError::Storage)?);
            conn.execute("INSERT INTO file (id) VALUES (?1)", [&id])?;
            main.execute("INSERT INTO content_file (id) VALUES (?1)", [&id])?;
            Ok(conn)
        }
        (Some(_), mine) => {
            drop(conn);
            if !existed {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                }
            }
            Err(RuntimeError::Storage(format!(
                "{} {}: this database's content lies in the content file made with it, next to the path the database was created at; open the database by that path, or restore the database and its `.contents` file together",
                path.display(),
                if mine.is_some() {
                    "belongs to another database"
                } else {
                    "is not this database's content file"
                }
            )))
        }
    }
}

/// Seconds since the Unix epoch on this machine's clock (housekeeping only: when a row
/// was written, for the grace period of [`collect`]).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Writes each `(sha256, media type, bytes)` as a new row in one transaction, durable
/// when this returns; the row numbers, in order.
pub(crate) fn write(
    conn: &mut Connection,
    items: &[(&str, &str, &[u8])],
) -> Result<Vec<i64>, RuntimeError> {
    let at = unix_now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut rows = Vec::with_capacity(items.len());
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO contents (sha256, media_type, stored_at, body) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (sha, media_type, body) in items {
            stmt.execute(params![sha, media_type, at, body])?;
            rows.push(tx.last_insert_rowid());
        }
    }
    tx.commit()?;
    Ok(rows)
}

/// Row `row` of the content file at `path` through a read-only connection:
/// `(sha256, media type, bytes)` as stored; `None` when there is no such file or row.
pub(crate) fn read(
    path: &Path,
    row: i64,
) -> Result<Option<(String, String, Vec<u8>)>, RuntimeError> {
    if !path.exists() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn
        .query_row(
            "SELECT sha256, media_type, body FROM contents WHERE id = ?1",
            [row],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// Deletes the rows written at least `grace` seconds ago that `referenced(sha256, row)`
/// says no event refers to, among those not yet looked at (a mark in the file keeps
/// where the last collection stopped); the number deleted. Only the database's one
/// writer calls this, so no commit of its own is between its two halves.
pub(crate) fn collect(
    conn: &mut Connection,
    grace: i64,
    referenced: impl Fn(&str, i64) -> Result<bool, RuntimeError>,
) -> Result<usize, RuntimeError> {
    let cutoff = unix_now() - grace;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from: i64 = tx
        .query_row("SELECT max(upto) FROM collected", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?
        .unwrap_or(i64::MIN);
    let candidates: Vec<(i64, String)> = tx
        .prepare(
            "SELECT id, sha256 FROM contents INDEXED BY contents_by_time
             WHERE stored_at >= ?1 AND stored_at < ?2",
        )?
        .query_map([from, cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut deleted = 0;
    for (row, sha) in candidates {
        if !referenced(&sha, row)? {
            deleted += tx.execute("DELETE FROM contents WHERE id = ?1", [row])?;
        }
    }
    if cutoff > from {
        tx.execute("DELETE FROM collected", [])?;
        tx.execute("INSERT INTO collected (upto) VALUES (?1)", [cutoff])?;
    }
    tx.commit()?;
    Ok(deleted)
}

/// Copies the content file at `from` to `to` with SQLite's online backup API (a
/// consistent copy while it is written); nothing when there is no file at `from`.
pub(crate) fn copy(from: &Path, to: &Path) -> Result<(), RuntimeError> {
    if !from.exists() {
        return Ok(());
    }
    let storage = |e: rusqlite::Error| RuntimeError::Storage(e.to_string());
    let src = Connection::open(from).map_err(storage)?;
    src.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(storage)?;
    let mut dst = Connection::open(to).map_err(storage)?;
    dst.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(storage)?;
    let backup = rusqlite::backup::Backup::new(&src, &mut dst).map_err(storage)?;
    backup
        .run_to_completion(64, std::time::Duration::from_millis(5), None)
        .map_err(storage)?;
    Ok(())
}
