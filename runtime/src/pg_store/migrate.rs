//! `paraaf admin migrate-store`: moves a city from its SQLite database into PostgreSQL, as
//! the writer of both: the log with its hashes and the idempotency records in one
//! transaction, the content, then the outbox with its delivery records and the snapshots
//! in another, with the projection rebuilt from the copied log; and verifies the copy.

use super::{PgStore, pg_error};
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
    /// Outbox items copied, and how many of them are not sent yet.
    pub outbox: (u64, u64),
    /// Delivery records copied.
    pub deliveries: u64,
    /// Snapshots copied, and the one PostgreSQL's store now starts from (0: none valid).
    pub snapshots: (u64, u64),
    /// Documents in the projection rebuilt from the copied log (equal to the SQLite
    /// database's).
    pub documents: u64,
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
/// the way leaves none of it either. Then the projection is rebuilt from the copied log
/// and compared with the SQLite database's, and the outbox and its delivery records (an
/// item still to send stays to send, one sent stays sent) and the snapshots are copied
/// in one transaction; the store must then load from the newest valid snapshot to the
/// log's head.
///
/// The SQLite database's writer lock is held throughout: no server may write the log or
/// send from its outbox while it moves (it is refused, naming the holder, while one
/// runs). After the move the SQLite database is the old copy: serving it again would
/// send its pending mail a second time.
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
    let has_log = has_table(&sqlite, "events").map_err(|e| {
        RuntimeError::Invalid(format!(
            "{} is not a SQLite database Paraaf can read: {e}",
            from.display()
        ))
    })?;
    if !has_log {
        return Err(RuntimeError::Invalid(format!(
            "{} is not a Paraaf database (it has no event log)",
            from.display()
        )));
    }
    // No server writes the log or sends its mail while it moves.
    let _held = crate::runtime::take_lock(
        from,
        &format!(
            "paraaf admin migrate-store (process {})",
            std::process::id()
        ),
    )?;
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
    let moved = move_work(from, &sqlite, &mut pg, source.events).map_err(|e| {
        RuntimeError::Storage(format!(
            "the log and content of city {city} were copied, but not the rest: {e}; do not serve the city from PostgreSQL, have the provider's database administrator remove its rows and move it again"
        ))
    })?;
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
        outbox: moved.outbox,
        deliveries: moved.deliveries,
        snapshots: moved.snapshots,
        documents: moved.documents,
    })
}

/// What [`move_work`] moved.
struct Work {
    outbox: (u64, u64),
    deliveries: u64,
    snapshots: (u64, u64),
    documents: u64,
}

/// Rebuilds the projection of the copied log (`events` long) and compares it with the
/// SQLite database's; copies the outbox, the delivery records and the snapshots in one
/// transaction; checks that the store loads from the newest valid snapshot to the head.
fn move_work(
    from: &Path,
    sqlite: &Connection,
    pg: &mut PgStore,
    events: u64,
) -> Result<Work, RuntimeError> {
    let rebuilt = pg.rebuild()?;
    let theirs = crate::store::Store::open(from)?.projection_rows()?;
    let ours = pg.projection_rows()?;
    if ours != theirs {
        let differs = ours
            .iter()
            .zip(&theirs)
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("PostgreSQL has `{a}`, SQLite `{b}`"))
            .unwrap_or_else(|| format!("{} rows against {}", ours.len(), theirs.len()));
        return Err(RuntimeError::Tampered(format!(
            "the projection rebuilt from the copied log differs from the SQLite database's ({differs}); run `paraaf admin rebuild` on the SQLite database, check it, and move it again"
        )));
    }
    let mut tx = pg.client.transaction().map_err(pg_error)?;
    let city = pg.city.clone();
    let (mut outbox, mut pending, mut deliveries, mut snapshots) = (0, 0, 0, 0);
    if has_table(sqlite, "outbox")? {
        let mut stmt = sqlite.prepare(
            "SELECT seq, channel, recipient, urgent, at, payload, delivery, state FROM outbox",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)? != 0,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (seq, channel, recipient, urgent, at, payload, delivery, state) in &rows {
            tx.execute(
                "INSERT INTO outbox (city, seq, channel, recipient, urgent, at, payload, delivery, state)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[&city, seq, channel, recipient, urgent, at, payload, delivery, state],
            )
            .map_err(pg_error)?;
            outbox += 1;
            // Not sent yet (planned or not): the sender in PostgreSQL sends it once.
            if state == "pending" {
                pending += 1;
            }
        }
    }
    if has_table(sqlite, "deliveries")? {
        let mut stmt = sqlite.prepare(
            "SELECT id, channel, recipient, state, attempts, next_attempt, last_error, created, sent_at
            FROM deliveries",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i32>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, channel, recipient, state, attempts, next, error, created, sent) in &rows {
            // A delivery planned and not marked sent stays so: the sender sends it again
            // (under the same Message-ID), as after a crash of the SQLite server.
            tx.execute(
                "INSERT INTO deliveries (city, id, channel, recipient, state, attempts, next_attempt, last_error, created, sent_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[&city, id, channel, recipient, state, attempts, next, error, created, sent],
            )
            .map_err(pg_error)?;
            deliveries += 1;
        }
    }
    if has_table(sqlite, "snapshots")? {
        let mut stmt = sqlite.prepare("SELECT seq, sha256, body, event_seq FROM snapshots")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (seq, sha, body, event_seq) in &rows {
            tx.execute(
                "INSERT INTO snapshots (city, seq, sha256, body, event_seq) VALUES ($1, $2, $3, $4, $5)",
                &[&city, seq, sha, body, event_seq],
            )
            .map_err(pg_error)?;
            snapshots += 1;
        }
    }
    tx.commit().map_err(pg_error)?;
    // The store starts from the newest snapshot its event vouches for, up to the head.
    let (state, from_snapshot) = pg.load_counting()?;
    if state.last_seq != events || rebuilt.last_seq != events {
        return Err(RuntimeError::Tampered(format!(
            "the copied city loads up to event {}, not to the log's head {events}",
            state.last_seq
        )));
    }
    Ok(Work {
        outbox: (outbox, pending),
        deliveries,
        snapshots: (snapshots, from_snapshot),
        documents: rebuilt.documents.len() as u64,
    })
}

/// Copies every content of the SQLite database `from` (open as `sqlite`) and who sent it
/// into the city's `contents` and `content_owners`: the number of contents.
fn copy_contents(from: &Path, sqlite: &Connection, pg: &mut PgStore) -> Result<u64, RuntimeError> {
    let mut shas: Vec<String> = Vec::new();
    for table in ["content_rows", "contents"] {
        if has_table(sqlite, table)? {
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
    if has_table(sqlite, "content_owners")? {
        let mut stmt = sqlite.prepare("SELECT sha256, person FROM content_owners")?;
        let owners = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        pg.put_owners(&owners)?;
    }
    Ok(shas.len() as u64)
}

/// Whether the SQLite database open as `sqlite` has a table named `table` (older files
/// lack the newer tables).
fn has_table(sqlite: &Connection, table: &str) -> rusqlite::Result<bool> {
    Ok(sqlite
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}
