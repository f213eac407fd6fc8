//! `paraaf admin migrate-store`: copies a city's SQLite log into PostgreSQL with its hashes,
//! as the city's writer, in one transaction, and verifies the copy.

use super::PgStore;
use crate::engine::RuntimeError;
use crate::store::{GENESIS, Verified};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// What a copy did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migrated {
    /// The SQLite log's head: number of events and last hash.
    pub source: Verified,
    /// The PostgreSQL log's head after the copy, verified from its first event.
    pub target: Verified,
    /// Idempotency records copied (in the events' transaction).
    pub idempotency: u64,
    /// Contents copied (each checked against its SHA-256), with who sent them.
    pub contents: u64,
}

/// Copies the event log of the SQLite database `from` into the PostgreSQL store at `to`
/// (the application's role) for `city`: in sequence order with their hashes, each hash
/// recomputed and checked on the way, all in one transaction (a failure leaves the city
/// empty), as the city's writer (no one writes it meanwhile). Refused when the city
/// already has events. Then the copy's chain is verified and its head compared with the
/// SQLite log's. `progress` hears (copied, total) after each batch.
///
/// The idempotency records go in the same transaction, oldest first (the first response
/// for a key stays the one given). Then the content (from the content file or the older
/// `contents` table, each checked against its hash) and who sent it: a log refused on
/// the way leaves none of it either.
pub fn from_sqlite(
    from: &Path,
    to: &str,
    city: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Migrated, RuntimeError> {
    if !from.is_file() {
        return Err(RuntimeError::Invalid(format!(
            "there is no SQLite database at {}: give the city's database file with --from",
            from.display()
        )));
    }
    let sqlite = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    sqlite.busy_timeout(std::time::Duration::from_secs(5))?;
    let has_log = sqlite
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map_err(|e| {
            RuntimeError::Invalid(format!(
                "{} is not a SQLite database Paraaf can read: {e}",
                from.display()
            ))
        })?
        .is_some();
    if !has_log {
        return Err(RuntimeError::Invalid(format!(
            "{} is not a Paraaf database (it has no event log)",
            from.display()
        )));
    }
    let mut pg = PgStore::writer(to, city)?;
    let (head, _) = pg.head()?;
    if head > 0 {
        return Err(RuntimeError::Conflict(format!(
            "city {city} already has {head} events in PostgreSQL: nothing was copied; choose another city name, or have the provider's database administrator remove that city's rows first if they were a failed trial"
        )));
    }
    // One read transaction on SQLite: a consistent log even while a server writes it.
    sqlite.execute_batch("BEGIN")?;
    let total: u64 = sqlite.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    let idem = {
        let mut stmt = sqlite.prepare(
            "SELECT person, key, request_sha256, status, response FROM idempotency ORDER BY rowid",
        )?;
        stmt.query_map([], |r| {
            Ok(crate::store::Idempotency {
                person: r.get(0)?,
                key: r.get(1)?,
                request_sha256: r.get(2)?,
                status: r.get(3)?,
                response: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?
    };
    let mut stmt = sqlite.prepare("SELECT seq, at, body, hash FROM events ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut source_head = GENESIS.to_string();
    let mut next = || -> Result<_, RuntimeError> {
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let hash: String = r.get(3)?;
        source_head.clone_from(&hash);
        Ok(Some(((r.get(0)?, r.get(1)?, r.get(2)?), Some(hash))))
    };
    progress(0, total);
    let written = pg.append_from(&mut next, &idem, &mut |n| progress(n, total))?;
    drop(rows);
    drop(stmt);
    sqlite.execute_batch("COMMIT")?;
    // Only once the log is in (a log that does not match its hashes leaves nothing).
    let contents = copy_contents(from, &sqlite, &mut pg).map_err(|e| {
        let why = format!(
            "the log of city {city} was copied, but not all of its content: {e}; the documents whose content is missing cannot be read in PostgreSQL"
        );
        match e {
            RuntimeError::Tampered(_) => RuntimeError::Tampered(why),
            _ => RuntimeError::Storage(why),
        }
    })?;
    let source = Verified {
        events: written.len() as u64,
        head: source_head,
    };
    let target = pg.verify().map_err(|why| {
        RuntimeError::Tampered(format!("the copy in PostgreSQL does not verify: {why}"))
    })?;
    if target != source {
        return Err(RuntimeError::Tampered(format!(
            "the copy in PostgreSQL ends at event {} ({}), the SQLite log at event {} ({}): they differ",
            target.events, target.head, source.events, source.head
        )));
    }
    Ok(Migrated {
        source,
        target,
        idempotency: idem.len() as u64,
        contents,
    })
}

/// Copies every content of the SQLite database `from` (open as `sqlite`) and who sent it
/// into the city's `contents` and `content_owners`: the number of contents.
fn copy_contents(from: &Path, sqlite: &Connection, pg: &mut PgStore) -> Result<u64, RuntimeError> {
    let has = |table: &str| -> Result<bool, RuntimeError> {
        Ok(sqlite
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    };
    let mut shas: Vec<String> = Vec::new();
    for table in ["content_rows", "contents"] {
        if has(table)? {
            let mut stmt = sqlite.prepare(&format!("SELECT sha256 FROM {table}"))?;
            for sha in stmt.query_map([], |r| r.get::<_, String>(0))? {
                shas.push(sha?);
            }
        }
    }
    shas.sort();
    shas.dedup();
    for sha in &shas {
        let Some((media_type, body)) = crate::store::read_content(from, sha)? else {
            continue;
        };
        if pg.put_content(&media_type, &body)? != *sha {
            return Err(RuntimeError::Tampered(format!(
                "content {sha} of {} does not match its hash: nothing more is copied",
                from.display()
            )));
        }
    }
    if has("content_owners")? {
        let mut stmt = sqlite.prepare("SELECT sha256, person FROM content_owners")?;
        let owners = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        pg.put_owners(&owners)?;
    }
    Ok(shas.len() as u64)
}
