//! The SQLite store: the hash-chained event log (source of truth), projections that can
//! be rebuilt from it, and idempotency records. Only this module knows SQLite.

use crate::checkpoint::Checkpoint;
use crate::engine::{Event, RuntimeError, State};
use crate::log_chain;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Hash of the (virtual) event before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The `tasks` view: a document's tasks (a JSON array in its row) read as rows. Created
/// by the migration that moved tasks into the row and again by the one that rebuilt the
/// table under it.
macro_rules! tasks_view {
    () => {
        "CREATE VIEW tasks AS
            SELECT d.id AS doc_id,
                json_extract(t.value, '$.id') AS id,
                json_extract(t.value, '$.step') AS step,
                json_extract(t.value, '$.role') AS role,
                json_extract(t.value, '$.assignees') AS assignees,
                json_extract(t.value, '$.status') AS status
            FROM documents d, json_each(d.tasks) t;"
    };
}

pub mod content_file;
pub mod content_writer;
pub mod outbox;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            body TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        );
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            flow TEXT NOT NULL,
            version INTEGER NOT NULL,
            uploader TEXT NOT NULL,
            title TEXT NOT NULL,
            status TEXT NOT NULL,
            step INTEGER NOT NULL,
            last_seq INTEGER NOT NULL
        );
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            doc_id TEXT NOT NULL REFERENCES documents(id),
            step INTEGER NOT NULL,
            role TEXT NOT NULL,
            assignees TEXT NOT NULL,
            status TEXT NOT NULL
        );
        CREATE INDEX tasks_by_doc ON tasks(doc_id);
        CREATE TABLE visibility (
            doc_id TEXT NOT NULL REFERENCES documents(id),
            person TEXT NOT NULL,
            PRIMARY KEY (doc_id, person)
        );
        CREATE INDEX visibility_by_person ON visibility(person);
        CREATE TABLE idempotency (
            person TEXT NOT NULL,
            key TEXT NOT NULL,
            request_sha256 TEXT NOT NULL,
            status INTEGER NOT NULL,
            response TEXT NOT NULL,
            PRIMARY KEY (person, key)
        );",
        ),
        // Who may see a document, as audiences (a few rows per document) instead of one
        // row per person; projections keyed by their text ids (WITHOUT ROWID: one B-tree
        // each); no index on `events.hash` (the chain is checked by walking it, and a
        // unique index on random hashes dirtied a random page per event). Group commit
        // went from 0.13x the raw batched insert rate to the figures in docs/operations.md.
        M::up(
            "DROP TABLE visibility;
            CREATE TABLE audiences (
                doc_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                PRIMARY KEY (doc_id, kind, name)
            ) WITHOUT ROWID;
            CREATE TABLE documents_new (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                flow TEXT NOT NULL,
                version INTEGER NOT NULL,
                uploader TEXT NOT NULL,
                title TEXT NOT NULL,
                status TEXT NOT NULL,
                step INTEGER NOT NULL,
                last_seq INTEGER NOT NULL
            ) WITHOUT ROWID;
            INSERT INTO documents_new SELECT id, kind, flow, version, uploader, title, status, step, last_seq FROM documents;
            CREATE TABLE tasks_new (
                doc_id TEXT NOT NULL,
                id TEXT NOT NULL,
                step INTEGER NOT NULL,
                role TEXT NOT NULL,
                assignees TEXT NOT NULL,
                status TEXT NOT NULL,
                PRIMARY KEY (doc_id, id)
            ) WITHOUT ROWID;
            INSERT INTO tasks_new SELECT doc_id, id, step, role, assignees, status FROM tasks;
            DROP TABLE tasks;
            DROP TABLE documents;
            ALTER TABLE documents_new RENAME TO documents;
            ALTER TABLE tasks_new RENAME TO tasks;
            CREATE TABLE events_new (
                seq INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                body TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            );
            INSERT INTO events_new SELECT seq, at, body, prev_hash, hash FROM events;
            DROP TABLE events;
            ALTER TABLE events_new RENAME TO events;",
        ),
        // Snapshots of the state (see `snapshot`): start-up replays only later events.
        M::up(
            "CREATE TABLE snapshots (
                seq INTEGER PRIMARY KEY,
                sha256 TEXT NOT NULL,
                body BLOB NOT NULL,
                event_seq INTEGER NOT NULL
            );",
        ),
        // The documents' content (a PDF), addressed by the SHA-256 their events record
        // (see `contents`).
        M::up(
            "CREATE TABLE contents (
                sha256 TEXT PRIMARY KEY,
                media_type TEXT NOT NULL,
                body BLOB NOT NULL
            ) WITHOUT ROWID;",
        ),
        // A document's audiences in its own row (`kind:name,kind:name`), not a row each:
        // the writer inserted four to six rows per submission into a second B-tree,
        // which kept group commit under half the raw insert rate.
        M::up(
            "ALTER TABLE documents ADD COLUMN audiences TEXT NOT NULL DEFAULT '';
            UPDATE documents SET audiences = coalesce((
                SELECT group_concat(a, ',') FROM (
                    SELECT kind || ':' || name AS a FROM audiences
                    WHERE doc_id = documents.id ORDER BY kind, name
                )
            ), '');
            DROP TABLE audiences;",
        ),
        // A document's tasks in its own row too (a JSON array), read as before through
        // the `tasks` view: one B-tree row per submission instead of two (group commit
        // went from 0.45x to the figure in docs/operations.md).
        M::up(concat!(
            "ALTER TABLE documents ADD COLUMN tasks TEXT NOT NULL DEFAULT '[]';
            UPDATE documents SET tasks = coalesce((
                SELECT json_group_array(json_object(
                    'id', id, 'step', step, 'role', role, 'assignees', assignees, 'status', status
                )) FROM (SELECT * FROM tasks WHERE doc_id = documents.id ORDER BY id)
            ), '[]');
            DROP TABLE tasks;
            ",
            tasks_view!()
        ),
        ),
        // Documents keyed by their number (`d-N` → N) instead of their text id: new
        // documents go at the B-tree's right edge, where the text ids (`d-6400` sorts
        // between `d-640` and `d-641`) scattered each commit's rows over a page per
        // position. The projection's writes were a quarter of group commit's time.
        M::up(concat!(
            "DROP VIEW tasks;
            CREATE TABLE documents_new (
                n INTEGER PRIMARY KEY,
                id TEXT NOT NULL,
                kind TEXT NOT NULL,
                flow TEXT NOT NULL,
                version INTEGER NOT NULL,
                uploader TEXT NOT NULL,
                title TEXT NOT NULL,
                status TEXT NOT NULL,
                step INTEGER NOT NULL,
                last_seq INTEGER NOT NULL,
                audiences TEXT NOT NULL DEFAULT '',
                tasks TEXT NOT NULL DEFAULT '[]'
            );
            INSERT INTO documents_new
                SELECT CAST(substr(id, 3) AS INTEGER), id, kind, flow, version, uploader, title,
                    status, step, last_seq, audiences, tasks
                FROM documents;
            DROP TABLE documents;
            ALTER TABLE documents_new RENAME TO documents;
            ",
            tasks_view!()
        ),
        ),
        // Public document ids are random (`d-` and 16 letters and digits, see
        // `Emitter::submit`): the row key stays an internal, increasing number (see
        // `projection_key`) and the public id gets its own index. Who uploaded which
        // content (`content_owners`, see `contents`): a hash alone no longer lets anyone
        // reference content. Existing content is owned by the uploader of the first
        // document that referenced it, the one who could have sent its bytes; whoever
        // referenced it later by its hash alone owns nothing.
        M::up(
            "CREATE UNIQUE INDEX documents_by_id ON documents(id);
            CREATE TABLE content_owners (
                sha256 TEXT NOT NULL,
                person TEXT NOT NULL,
                PRIMARY KEY (sha256, person)
            ) WITHOUT ROWID;
            INSERT OR IGNORE INTO content_owners (sha256, person)
                SELECT json_extract(e.body, '$.content_sha256'), json_extract(e.body, '$.uploader')
                FROM events e JOIN (
                    SELECT min(seq) AS seq FROM events
                    WHERE json_extract(body, '$.type') = 'document_submitted'
                    GROUP BY json_extract(body, '$.content_sha256')
                ) first ON first.seq = e.seq
                WHERE json_extract(e.body, '$.content_sha256') IN (SELECT sha256 FROM contents);",
        ),
        // Mails and webhooks, written with the events that cause them (`outbox`).
        M::up(outbox::SCHEMA),
        // Content moves to a file of its own (`content_file`, 64 KB pages): which row of
        // it holds which content is recorded here, in the transaction of the event that
        // refers to it. Older content stays in `contents` and is read from there.
        M::up(
            "CREATE TABLE content_rows (
                sha256 TEXT PRIMARY KEY,
                row INTEGER NOT NULL
            ) WITHOUT ROWID;",
        ),
        // The content file this database was paired with (`content_file::open_paired`):
        // a copy of the path (a hard link elsewhere) never writes to another file.
        M::up("CREATE TABLE content_file (id TEXT NOT NULL);"),
        // That the log is signed, and where its checkpoint file was (`mark_signed`): a
        // command without the key is refused also where the file is not found (kept on
        // another disk and not named, a hard link in another folder).
        M::up("CREATE TABLE signing (file TEXT NOT NULL);"),
    ])
}

/// Records in the database at `db` that its log is signed, with checkpoints in `file`
/// (once: the first record stays). Called after a command opened it with the key.
pub fn mark_signed(db: &Path, file: &Path) -> Result<(), RuntimeError> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute(
        "INSERT INTO signing (file) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM signing)",
        [file.display().to_string()],
    )?;
    Ok(())
}

/// Where the checkpoint file of the database at `db` was when a command last opened it
/// with the key, if it ever was (`None` also for a database without the record).
pub fn signed_with(db: &Path) -> Option<String> {
    let conn = open_read_only(db).ok()?;
    conn.query_row("SELECT file FROM signing LIMIT 1", [], |r| r.get(0))
        .ok()
}

/// An idempotency record: a write request's key, its hash and the response given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotency {
    /// Caller.
    pub person: String,
    /// `Idempotency-Key` header.
    pub key: String,
    /// SHA-256 of the request body.
    pub request_sha256: String,
    /// HTTP status given.
    pub status: u16,
    /// Response body given.
    pub response: String,
}

/// The store of one city.
pub struct Store {
    conn: Connection,
    /// Where the log ends as this writer left it (sequence number and hash), once it
    /// writes (see [`Store::expect_tail`]): a commit on any other end is refused.
    tail: Option<(u64, String)>,
    /// The hashes of the events this writer committed, oldest first, until the runtime
    /// takes them to sign ([`Store::take_written`]).
    written: Vec<(u64, String)>,
    /// Content to write with the next commit ([`Store::stage_contents`]).
    staged: Vec<crate::contents::Staged>,
    /// The content file (`DB.contents`, see [`content_file`]), opened at its first write.
    content: Option<Connection>,
    /// Where it lies.
    content_path: std::path::PathBuf,
}

impl Store {
    /// Copies the whole database to `path` with SQLite's online backup API: a consistent
    /// copy while the database stays in use. The copy is verified before this returns.
    pub fn backup_to(&self, path: &Path) -> Result<Verified, RuntimeError> {
        let storage = |e: rusqlite::Error| RuntimeError::Storage(e.to_string());
        let mut dst = Connection::open(path).map_err(storage)?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut dst).map_err(storage)?;
            backup
                .run_to_completion(256, std::time::Duration::from_millis(5), None)
                .map_err(storage)?;
        }
        drop(dst);
        // Then the content file: copied after the log, it holds at least what the copied
        // log refers to (content is written before the events that refer to it).
        content_file::copy(&self.content_path, &content_file::path_of(path))?;
        Store::open(path)?
            .verify(&[])
            .map_err(|why| RuntimeError::Storage(format!("the copy does not verify: {why}")))
    }
}

/// A snapshot of the state after event `seq`, encoded (see `snapshot`).
pub struct Snapshot {
    /// The last event it holds.
    pub seq: u64,
    /// SHA-256 (hex) of `body`.
    pub sha256: String,
    /// The JSON.
    pub body: Vec<u8>,
}

/// Outcome of `verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Number of events checked.
    pub events: u64,
    /// Hash of the last event.
    pub head: String,
}

pub(crate) fn hash(prev: &str, seq: u64, at: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"|");
    h.update(seq.to_string().as_bytes());
    h.update(b"|");
    h.update(at.as_bytes());
    h.update(b"|");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

impl Store {
    /// Opens (creating if needed) the database at `path`: WAL, `synchronous=FULL`,
    /// foreign keys, a busy timeout, and the schema migrated to the latest version.
    pub fn open(path: &Path) -> Result<Store, RuntimeError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| RuntimeError::Storage(e.to_string()))?;
        Ok(Store {
            conn,
            tail: None,
            written: Vec::new(),
            staged: Vec::new(),
            content: None,
            content_path: content_file::path_of(path),
        })
    }

    /// The state: the newest valid snapshot plus the events after it (see `snapshot`),
    /// or the whole log replayed when there is none. Every replayed event is checked
    /// against its hash and its predecessor first: the state is a fold of verified events.
    pub fn load(&self) -> Result<State, RuntimeError> {
        Ok(self.load_counting()?.0)
    }

    /// [`Store::load`], also telling the sequence number of the snapshot used (0: none).
    pub fn load_counting(&self) -> Result<(State, u64), RuntimeError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, sha256, body, event_seq FROM snapshots ORDER BY seq DESC LIMIT 3",
        )?;
        // Rows of another shape (an edited table) are not snapshots: only the recorded
        // event can make one valid.
        let snapshots: Vec<(u64, String, Vec<u8>, u64)> = stmt
            .query_map([], |r| {
                use rusqlite::types::ValueRef;
                let body = match r.get_ref(2)? {
                    ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
                    _ => Vec::new(),
                };
                Ok((
                    r.get::<_, u64>(0).ok(),
                    r.get::<_, String>(1).ok(),
                    body,
                    r.get::<_, u64>(3).ok(),
                ))
            })?
            .filter_map(|row| match row {
                Ok((Some(seq), Some(sha), body, Some(event_seq))) if event_seq > seq => {
                    Some(Ok((seq, sha, body, event_seq)))
                }
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()?;
        for (seq, sha, body, event_seq) in snapshots {
            let event = self
                .conn
                .query_row(
                    "SELECT seq, at, body, prev_hash, hash FROM events WHERE seq = ?1",
                    [event_seq],
                    row,
                )
                .optional()?;
            let Some(mut state) = log_chain::snapshot_state(seq, &sha, &body, event)? else {
                continue;
            };
            // The chain goes on from the stored hash of event `seq` (the open's tail check
            // and `audit verify` check what lies before).
            let prev: String =
                self.conn
                    .query_row("SELECT hash FROM events WHERE seq = ?1", [seq], |r| {
                        r.get(0)
                    })?;
            self.replay(&mut state, prev)?;
            return Ok((state, seq));
        }
        let mut state = State::default();
        self.replay(&mut state, GENESIS.to_string())?;
        Ok((state, 0))
    }

    /// The whole log replayed from the first event, ignoring snapshots (`admin rebuild`).
    pub fn replay_all(&self) -> Result<State, RuntimeError> {
        let mut state = State::default();
        self.replay(&mut state, GENESIS.to_string())?;
        Ok(state)
    }

    /// Applies the events after `state.last_seq`, the first of which must follow `prev`.
    fn replay(&self, state: &mut State, prev: String) -> Result<(), RuntimeError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, body, prev_hash, hash FROM events WHERE seq > ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([state.last_seq], row)?;
        log_chain::replay(state, prev, rows.map(|r| r.map_err(RuntimeError::from)))
    }

    /// Appends events (and an idempotency record) in one `BEGIN IMMEDIATE` transaction and
    /// updates the projections of the documents they touch from `state` (which already has
    /// them applied). Returns only after the commit is durable.
    pub fn commit(
        &mut self,
        state: &State,
        events: &[(u64, DateTime<Utc>, Event)],
        idem: &[Idempotency],
        snapshot: Option<&Snapshot>,
        messages: &[crate::outbox::Item],
    ) -> Result<(), RuntimeError> {
        // Staged for this commit only, whether it succeeds or not. The bytes go to the
        // content file first, durable before the events that refer to them commit.
        let staged = std::mem::take(&mut self.staged);
        let rows = self.write_contents(&staged)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (last, mut prev): (u64, String) = tx
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS.to_string()));
        log_chain::check_append(
            self.tail.as_ref(),
            last,
            &prev,
            events.first().map(|(s, _, _)| *s),
        )?;
        let mut written = Vec::with_capacity(events.len());
        for (seq, at, event) in events {
            let body =
                serde_json::to_string(event).map_err(|e| RuntimeError::Storage(e.to_string()))?;
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let h = hash(&prev, *seq, &at, &body);
            tx.prepare_cached(
                "INSERT INTO events (seq, at, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![seq, at, body, prev, h])?;
            written.push((*seq, h.clone()));
            prev = h;
        }
        for doc in crate::projection::documents_changed(state, events.iter().map(|(_, _, e)| e)) {
            write_projection(&tx, state, doc)?;
        }
        if let Some(snap) = snapshot {
            // Saved in the transaction of the event that records it; all but the newest
            // two are dropped.
            let event_seq = events
                .iter()
                .find(|(_, _, e)| matches!(e, Event::SnapshotTaken { seq, .. } if *seq == snap.seq))
                .map(|(s, _, _)| *s)
                .ok_or_else(|| RuntimeError::Storage("a snapshot without its event".into()))?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO snapshots (seq, sha256, body, event_seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![snap.seq, snap.sha256, snap.body, event_seq])?;
            tx.execute(
                "DELETE FROM snapshots WHERE seq < (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 1 OFFSET 1)",
                [],
            )?;
        }
        outbox::insert(&tx, messages)?;
        // Where the content sent with these commands lies, and who sent it, in their
        // transaction: a commit that fails refers to none of it (its rows in the content
        // file are never served and are collected), and a refused submission never
        // staged any.
        for (sha, row) in rows {
            tx.prepare_cached("INSERT OR IGNORE INTO content_rows (sha256, row) VALUES (?1, ?2)")?
                .execute(params![sha, row])?;
        }
        for c in staged {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO content_owners (sha256, person) VALUES (?1, ?2)",
            )?
            .execute(params![c.sha256, c.owner])?;
        }
        for i in idem {
            tx.prepare_cached(
                "INSERT INTO idempotency (person, key, request_sha256, status, response) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![i.person, i.key, i.request_sha256, i.status, i.response])?;
        }
        tx.commit()?;
        if let Some((seq, hash)) = written.last()
            && self.tail.is_some()
        {
            self.tail = Some((*seq, hash.clone()));
        }
        self.written.extend(written);
        Ok(())
    }

    /// Content to write in the next [`Store::commit`]'s transaction (replacing what was
    /// staged before and not committed).
    pub fn stage_contents(&mut self, contents: Vec<crate::contents::Staged>) {
        self.staged = contents;
    }

    /// Writes the staged content not stored yet to the content file, in one transaction
    /// synced before this returns, and adds the rows the content writer stored ahead
    /// (already synced): `(sha256, row)` of each row the commit is to record.
    fn write_contents(
        &mut self,
        staged: &[crate::contents::Staged],
    ) -> Result<Vec<(String, i64)>, RuntimeError> {
        let mut ahead: Vec<(String, i64)> = Vec::new();
        for c in staged {
            if let Some(row) = c.row
                && !ahead.iter().any(|(sha, _)| *sha == c.sha256)
            {
                ahead.push((c.sha256.clone(), row));
            }
        }
        let mut new: Vec<(&str, &str, &[u8])> = Vec::new();
        for c in staged {
            if c.row.is_none()
                && !c.body.is_empty()
                && !ahead.iter().any(|(sha, _)| *sha == c.sha256)
                && !new.iter().any(|(sha, ..)| *sha == c.sha256)
                && !stored(&self.conn, &c.sha256)?
            {
                new.push((&c.sha256, c.media_type, &c.body));
            }
        }
        if new.is_empty() {
            return Ok(ahead);
        }
        let conn = match &mut self.content {
            Some(c) => c,
            None => self
                .content
                .insert(content_file::open_paired(&self.conn, &self.content_path)?),
        };
        let rows = content_file::write(conn, &new)?;
        ahead.extend(
            new.iter()
                .zip(rows)
                .map(|((sha, ..), row)| (sha.to_string(), row)),
        );
        Ok(ahead)
    }

    /// Deletes the content file's rows no event refers to that were written at least
    /// `grace` seconds ago (see [`content_file::collect`]; the writer calls it when it
    /// takes the lock): the number deleted.
    pub fn collect_contents(&mut self, grace: i64) -> Result<usize, RuntimeError> {
        if self.content.is_none() && !self.content_path.exists() {
            return Ok(0);
        }
        let conn = match &mut self.content {
            Some(c) => c,
            None => self
                .content
                .insert(content_file::open_paired(&self.conn, &self.content_path)?),
        };
        let main = &self.conn;
        content_file::collect(conn, grace, |sha, row| {
            Ok(main
                .prepare_cached("SELECT 1 FROM content_rows WHERE sha256 = ?1 AND row = ?2")?
                .query_row(params![sha, row], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }

    /// From now on, commits only onto the log ending at `tail` (sequence number and
    /// hash), and after each commit at its own last event: anything else at the end of
    /// the log (events appended, rewritten or removed by someone else) is refused as
    /// [`RuntimeError::Tampered`], naming what changed. `None`: no such check.
    pub fn expect_tail(&mut self, tail: Option<(u64, String)>) {
        self.tail = tail;
    }

    /// Where this writer left the log (see [`Store::expect_tail`]).
    pub fn expected_tail(&self) -> Option<&(u64, String)> {
        self.tail.as_ref()
    }

    /// Takes the hashes of the events this writer committed since the last call.
    pub fn take_written(&mut self) -> Vec<(u64, String)> {
        std::mem::take(&mut self.written)
    }

    /// What changed at the end of the log, if it is no longer `tail` (see
    /// [`Store::expect_tail`]).
    pub fn tail_changed(&self) -> Result<Option<String>, RuntimeError> {
        let Some((seq, hash)) = &self.tail else {
            return Ok(None);
        };
        let (last, prev) = self.head()?;
        Ok(log_chain::changed_tail(*seq, hash, last, &prev))
    }

    /// The first response recorded for an idempotency key under any of `persons` (the
    /// ids one person has had: a record stays theirs across a rename), if any.
    pub fn idempotency(
        &self,
        persons: &[String],
        key: &str,
    ) -> Result<Option<Idempotency>, RuntimeError> {
        let mut first: Option<(i64, Idempotency)> = None;
        for person in persons {
            let found = self
                .conn
                .prepare_cached(
                    "SELECT rowid, request_sha256, status, response FROM idempotency WHERE person = ?1 AND key = ?2",
                )?
                .query_row(params![person, key], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        Idempotency {
                            person: person.clone(),
                            key: key.to_string(),
                            request_sha256: r.get(1)?,
                            status: r.get(2)?,
                            response: r.get(3)?,
                        },
                    ))
                })
                .optional()?;
            if let Some((row, rec)) = found
                && first.as_ref().is_none_or(|(f, _)| row < *f)
            {
                first = Some((row, rec));
            }
        }
        Ok(first.map(|(_, rec)| rec))
    }

    /// Checks the hash chain from the first event and, against the signed checkpoints
    /// (kept outside the database), each event's hash: names the first event that is
    /// missing, altered or not the one a checkpoint signed, and deleted events at the end.
    pub fn verify(&self, checkpoints: &[Checkpoint]) -> Result<Verified, String> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, body, prev_hash, hash FROM events ORDER BY seq")
            .map_err(|e| e.to_string())?;
        let rows = stmt.query_map([], row).map_err(|e| e.to_string())?;
        log_chain::verify(rows.map(|r| r.map_err(|e| e.to_string())), checkpoints)
    }

    /// The events recorded at or after `since` (`None`: the whole log), oldest first as
    /// `(seq, time, JSON)`, each verified as it is read, walking back from the
    /// head: its content against its hash, its hash against the next event's link to it
    /// (so the range hangs from the head the open verified) and, against the signed
    /// `checkpoints`, against the prefix the checkpoint covering it signed. The walk stops
    /// at the first event before `since`: the work is the range shown, not the log.
    /// Fails on anything [`Store::verify`] would refuse in that range, and on events
    /// deleted from the end or appended after a `closed` mark; the failure is then
    /// named as [`Store::verify`] names it (the first event altered, walking the whole
    /// log forward: only a tampered log pays for that).
    pub fn history(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        checkpoints: &[Checkpoint],
    ) -> Result<Vec<(u64, String, String)>, String> {
        self.history_back(since, checkpoints)
            .map_err(|why| self.verify(checkpoints).err().unwrap_or(why))
    }

    /// [`Store::history`]'s walk back from the head.
    fn history_back(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        checkpoints: &[Checkpoint],
    ) -> Result<Vec<(u64, String, String)>, String> {
        let (head, _) = self.head().map_err(|e| e.to_string())?;
        log_chain::history_head(head, checkpoints)?;
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, body, prev_hash, hash FROM events ORDER BY seq DESC")
            .map_err(|e| e.to_string())?;
        let rows = stmt.query_map([], row).map_err(|e| e.to_string())?;
        log_chain::history_back(
            head,
            rows.map(|r| r.map_err(|e| e.to_string())),
            since,
            checkpoints,
        )
    }

    /// Checks the tail of the log against the last signed checkpoint: the event it names
    /// still has its hash and every later event follows from it. Costs only the events
    /// after the checkpoint, so every open can afford it.
    pub fn verify_tail(&self, last: &Checkpoint) -> Result<(), String> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, at, body, prev_hash, hash FROM events WHERE seq >= ?1 ORDER BY seq",
            )
            .map_err(|e| e.to_string())?;
        let rows = stmt.query_map([last.seq], row).map_err(|e| e.to_string())?;
        log_chain::verify_tail(rows.map(|r| r.map_err(|e| e.to_string())), last, || {
            Ok(self.head().map_err(|e| e.to_string())?.0)
        })
    }

    /// The first [`crate::checkpoint::HASH_PREFIX`] characters of the hashes of events
    /// `from..=to`, concatenated, and the hash of event `to`.
    pub fn hash_prefixes(&self, from: u64, to: u64) -> Result<(String, String), RuntimeError> {
        let mut stmt = self
            .conn
            .prepare("SELECT hash FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq")?;
        let mut rows = stmt.query([from, to])?;
        let mut out = String::new();
        let mut head = String::new();
        while let Some(row) = rows.next()? {
            head = row.get(0)?;
            out.push_str(&head[..crate::checkpoint::HASH_PREFIX.min(head.len())]);
        }
        Ok((out, head))
    }

    /// Drops the projections and rebuilds them from the log; returns the rebuilt state.
    pub fn rebuild(&mut self) -> Result<State, RuntimeError> {
        let state = self.replay_all()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Snapshots go too (one may be what was altered); the next is taken afresh.
        tx.execute_batch("DELETE FROM documents; DELETE FROM snapshots;")?;
        for doc in state.documents.keys() {
            write_projection(&tx, &state, doc)?;
        }
        tx.commit()?;
        Ok(state)
    }

    /// The projections as sorted text rows, for comparing stored with rebuilt.
    pub fn projection_rows(&self) -> Result<Vec<String>, RuntimeError> {
        let mut out = Vec::new();
        for sql in [
            "SELECT id || '|' || kind || '|' || flow || '|' || version || '|' || uploader || '|' || title || '|' || status || '|' || step || '|' || last_seq FROM documents",
            "SELECT id || '|' || doc_id || '|' || step || '|' || role || '|' || assignees || '|' || status FROM tasks",
            "SELECT id || '|' || audiences FROM documents",
        ] {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for r in rows {
                out.push(r?);
            }
        }
        out.sort();
        Ok(out)
    }

    /// `PRAGMA integrity_check` result (`ok` when healthy).
    pub fn integrity_check(&self) -> Result<String, RuntimeError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// The last event's sequence number and hash (for checkpoints).
    pub fn head(&self) -> Result<(u64, String), RuntimeError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS.to_string())))
    }

    /// Raw events (seq, time, JSON body), for the audit listing.
    pub fn events(&self) -> Result<Vec<(u64, String, String)>, RuntimeError> {
        self.events_after(0)
    }

    /// Raw events after sequence number `seq`.
    pub fn events_after(&self, seq: u64) -> Result<Vec<(u64, String, String)>, RuntimeError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, body FROM events WHERE seq > ?1 ORDER BY seq")?;
        let rows = stmt.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Direct access for tests that tamper with the log.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// An event row as [`log_chain`] checks it.
fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<log_chain::Row> {
    Ok(log_chain::Row {
        seq: r.get(0)?,
        at: r.get(1)?,
        body: r.get(2)?,
        prev_hash: r.get(3)?,
        hash: r.get(4)?,
    })
}

fn write_projection(
    tx: &rusqlite::Transaction,
    state: &State,
    doc: &str,
) -> Result<(), RuntimeError> {
    let Some(d) = crate::projection::document_row(state, doc)? else {
        return Ok(());
    };
    // The document's one row, written over (its tasks and audiences are columns).
    tx.prepare_cached(
        "INSERT OR REPLACE INTO documents (n, id, kind, flow, version, uploader, title, status, step, last_seq, audiences, tasks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        d.n,
        d.id,
        d.kind,
        d.flow,
        d.version,
        d.uploader,
        d.title,
        d.status,
        d.step,
        d.last_seq,
        d.audiences,
        d.tasks
    ])?;
    Ok(())
}

/// The key of a document's row in the `documents` projection: internal, never shown,
/// and increasing with each new document, so each commit's new rows go at the B-tree's
/// right edge (the public id, random, has its own index). A document of an older
/// database, `d-N`, keeps N; any other is keyed by the sequence number of the event that
/// submitted it. The two never meet: the N-th document was submitted by an event after
/// the first deployment, so at sequence number N + 1 or later, and every random id came
/// after every `d-N` (see `Emitter::submit`, which never draws one that reads as `d-N`).
pub fn projection_key(d: &crate::engine::Document) -> i64 {
    number(&d.id).unwrap_or_else(|| d.events.first().copied().unwrap_or(0) as i64)
}

/// The number of a document of an older database, `d-N` (digits only).
pub fn number(id: &str) -> Option<i64> {
    let digits = id.strip_prefix("d-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads the events with these sequence numbers (a document's history) through a
/// read-only connection, so a page never waits for the writer: `(seq, time, event)`.
/// Each is verified as it is read: its content against its hash, and its hash against
/// the next event's link to it; an event that fails is refused as
/// [`RuntimeError::Tampered`], never shown (the fold may have been made from a snapshot
/// taken after it). A rewrite that recomputes every later hash changes the head, which
/// the writer and every open with a key check against the signed checkpoints.
pub fn read_events(db: &Path, seqs: &[u64]) -> Result<Vec<(u64, String, Event)>, RuntimeError> {
    let conn = open_read_only(db)?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.at, e.body, e.prev_hash, e.hash, n.prev_hash FROM events e
         LEFT JOIN events n ON n.seq = e.seq + 1 WHERE e.seq = ?1",
    )?;
    let mut out = Vec::with_capacity(seqs.len());
    for &seq in seqs {
        let row: Option<(String, String, String, String, Option<String>)> = stmt
            .query_row([seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((at, body, prev_hash, hash, next_prev)) = row else {
            continue;
        };
        let row = crate::log_chain::Row {
            seq,
            at,
            body,
            prev_hash,
            hash,
        };
        out.extend(crate::log_chain::checked_event(row, next_prev)?);
    }
    Ok(out)
}

/// A read-only connection to the database at `db` (a reader beside the one writer).
fn open_read_only(db: &Path) -> Result<Connection, RuntimeError> {
    let conn = Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Whether content with this SHA-256 is stored: a row of the content file recorded in
/// `content_rows`, or (in an older database) a row of `contents`.
pub(crate) fn stored(conn: &Connection, sha256: &str) -> Result<bool, RuntimeError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM content_rows WHERE sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM contents WHERE sha256 = ?1)",
        )?
        .query_row([sha256], |r| r.get(0))?)
}

/// Stores content by its SHA-256 (the same content twice is stored once) and records
/// that `owner` uploaded it (`content_owners`): the bytes go to the content file first,
/// synced, then where they lie and who sent them to the database, in one transaction.
pub fn put_content(
    db: &Path,
    sha256: &str,
    media_type: &str,
    body: &[u8],
    owner: &str,
) -> Result<(), RuntimeError> {
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let row = if stored(&conn, sha256)? {
        None
    } else {
        let mut content = content_file::open_paired(&conn, &content_file::path_of(db))?;
        content_file::write(&mut content, &[(sha256, media_type, body)])?.pop()
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(row) = row {
        tx.execute(
            "INSERT OR IGNORE INTO content_rows (sha256, row) VALUES (?1, ?2)",
            params![sha256, row],
        )?;
    }
    tx.execute(
        "INSERT OR IGNORE INTO content_owners (sha256, person) VALUES (?1, ?2)",
        params![sha256, owner],
    )?;
    tx.commit()?;
    Ok(())
}

/// Whether `person` uploaded the content with this SHA-256 (its bytes, not only its hash).
pub fn owns_content(db: &Path, sha256: &str, person: &str) -> Result<bool, RuntimeError> {
    let conn = open_read_only(db)?;
    Ok(conn
        .query_row(
            "SELECT 1 FROM content_owners WHERE sha256 = ?1 AND person = ?2",
            [sha256, person],
            |_| Ok(()),
        )
        .optional()?
        .is_some()
        && stored(&conn, sha256)?)
}

/// The stored content with this SHA-256, as stored: `(media type, bytes)`. Read from the
/// row of the content file that `content_rows` names, or from `contents` in an older
/// database. A row that holds other content than the one named is refused as tampered.
pub(crate) fn read_content(
    db: &Path,
    sha256: &str,
) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let conn = open_read_only(db)?;
    let row: Option<i64> = conn
        .query_row(
            "SELECT row FROM content_rows WHERE sha256 = ?1",
            [sha256],
            |r| r.get(0),
        )
        .optional()?;
    let Some(row) = row else {
        return Ok(conn
            .query_row(
                "SELECT media_type, body FROM contents WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?);
    };
    let path = content_file::path_of(db);
    match content_file::read(&path, row)? {
        Some((stored, media_type, body)) if stored == sha256 => Ok(Some((media_type, body))),
        Some(_) => Err(RuntimeError::Tampered(format!(
            "row {row} of {} holds other content than {sha256}",
            path.display()
        ))),
        None => Err(RuntimeError::Storage(format!(
            "the content {sha256} is missing from {} (restore the file with its database)",
            path.display()
        ))),
    }
}

/// The stored row `(at, body, prev_hash, hash)` of event `seq` through a read-only
/// connection (for walks that check the chain themselves); `None`: no such event.
pub fn chain_row(
    conn: &Connection,
    seq: u64,
) -> Result<Option<(String, String, String, String)>, RuntimeError> {
    Ok(conn
        .prepare_cached("SELECT at, body, prev_hash, hash FROM events WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?)
}

/// A read-only connection to the database at `db`, for [`chain_row`].
pub fn reader(db: &Path) -> Result<Connection, RuntimeError> {
    open_read_only(db)
}

/// The sequence numbers of the deployment events (`project_deployed`,
/// `organogram_deployed`) up to `until`, oldest first, through a read-only connection.
pub fn deployment_seqs(db: &Path, until: u64) -> Result<Vec<u64>, RuntimeError> {
    let conn = open_read_only(db)?;
    let mut stmt = conn.prepare(
        "SELECT seq FROM events WHERE seq <= ?1 AND (body LIKE '{\"type\":\"project_deployed\"%' \
         OR body LIKE '{\"type\":\"organogram_deployed\"%') ORDER BY seq",
    )?;
    let seqs = stmt
        .query_map([until], |r| r.get::<_, u64>(0))?
        .collect::<Result<Vec<u64>, _>>()?;
    Ok(seqs)
}

/// The hash of event `seq` in the log's chain (hex), as stored; `None` when there is
/// no such event. The evidence page of a sealed document prints it (#28).
pub fn event_hash(db: &Path, seq: u64) -> Result<Option<String>, RuntimeError> {
    Ok(open_read_only(db)?
        .query_row("SELECT hash FROM events WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written before documents were keyed by their number opens with every
    /// row, its number and its tasks (through the view) intact.
    #[test]
    fn documents_keyed_by_text_move_to_their_number() {
        let dir = std::env::temp_dir().join(format!("paraaf-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("city.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations().to_version(&mut conn, 6).unwrap();
            for id in ["d-10", "d-9", "d-100"] {
                conn.execute(
                    "INSERT INTO documents (id, kind, flow, version, uploader, title, status, step, last_seq, audiences, tasks)
                     VALUES (?1, 'besluit', 'collegebesluit', 1, 'hans', 'titel', 'in_progress', 0, 3, 'unit:sport',
                     '[{\"id\":\"t-1\",\"step\":0,\"role\":\"diensthoofd\",\"assignees\":\"hilde\",\"status\":\"open\"}]')",
                    [id],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        let rows: Vec<(i64, String)> = store
            .conn
            .prepare("SELECT n, id FROM documents ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            [
                (9, "d-9".into()),
                (10, "d-10".into()),
                (100, "d-100".into())
            ]
        );
        let tasks: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM tasks WHERE assignees = 'hilde'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tasks, 3);
        assert_eq!(number("d-123"), Some(123));
        assert_eq!(number("x-1"), None);
        // A random id is never read as a number (it is keyed by its submission's seq).
        assert_eq!(number("d-2mq7ahxkcw3bz4ro"), None);
        assert_eq!(number("d-"), None);
        assert_eq!(number("d-+5"), None);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An older database's content is owned by the uploader of the first document that
    /// referenced it: whoever referenced it later by its hash alone owns nothing. Public
    /// ids are unique in the projection.
    #[test]
    fn content_is_owned_by_its_first_uploader_after_the_migration() {
        let dir = std::env::temp_dir().join(format!("paraaf-owners-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("city.db");
        let (secret, other, never) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations().to_version(&mut conn, 7).unwrap();
            let events = [
                (1, r#"{"type":"project_deployed"}"#.to_string()),
                (
                    2,
                    format!(
                        r#"{{"type":"document_submitted","doc":"d-1","uploader":"dirk-claes","content_sha256":"{secret}"}}"#
                    ),
                ),
                (
                    3,
                    format!(
                        r#"{{"type":"document_submitted","doc":"d-2","uploader":"jan-cools","content_sha256":"{secret}"}}"#
                    ),
                ),
                (
                    4,
                    format!(
                        r#"{{"type":"document_submitted","doc":"d-3","uploader":"jan-cools","content_sha256":"{other}"}}"#
                    ),
                ),
                (
                    5,
                    format!(
                        r#"{{"type":"document_submitted","doc":"d-4","uploader":"jan-cools","content_sha256":"{never}"}}"#
                    ),
                ),
            ];
            for (seq, body) in events {
                conn.execute(
                    "INSERT INTO events (seq, at, body, prev_hash, hash) VALUES (?1, 'x', ?2, 'p', ?1)",
                    params![seq, body],
                )
                .unwrap();
            }
            for sha in [&secret, &other] {
                conn.execute(
                    "INSERT INTO contents (sha256, media_type, body) VALUES (?1, 'text/plain', x'00')",
                    [sha],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        let owners: Vec<(String, String)> = store
            .conn
            .prepare("SELECT sha256, person FROM content_owners ORDER BY sha256")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            owners,
            [
                (secret.clone(), "dirk-claes".to_string()),
                (other.clone(), "jan-cools".to_string())
            ]
        );
        assert!(owns_content(&path, &secret, "dirk-claes").unwrap());
        assert!(!owns_content(&path, &secret, "jan-cools").unwrap());
        assert!(!owns_content(&path, &never, "jan-cools").unwrap());
        // Content sent later is owned by whoever sent it, in the same transaction.
        put_content(&path, &never, "text/plain", b"x", "jan-cools").unwrap();
        assert!(owns_content(&path, &never, "jan-cools").unwrap());
        // One row per public id.
        let row = |n: i64, id: &str| {
            store.conn.execute(
                "INSERT INTO documents (n, id, kind, flow, version, uploader, title, status, step, last_seq)
                 VALUES (?1, ?2, 'besluit', 'f', 1, 'u', 't', 'in_progress', 0, 1)",
                params![n, id],
            )
        };
        row(9, "d-abcdefghijklmnop").unwrap();
        assert!(row(10, "d-abcdefghijklmnop").is_err());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database from before the content file (its content in `contents`) migrates and
    /// serves that content as it was; new content goes to the content file beside it.
    #[test]
    fn content_of_a_database_before_the_content_file_is_read_after_the_migration() {
        let dir = std::env::temp_dir().join(format!("paraaf-content-old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("city.db");
        let old = b"%PDF-1.4 kept in the database".to_vec();
        let sha = crate::sha256_hex(&old);
        {
            let mut conn = Connection::open(&path).unwrap();
            // The last version before `content_rows`.
            migrations().to_version(&mut conn, 9).unwrap();
            conn.execute(
                "INSERT INTO contents (sha256, media_type, body) VALUES (?1, 'application/pdf', ?2)",
                params![sha, old],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO content_owners (sha256, person) VALUES (?1, 'dirk-claes')",
                [&sha],
            )
            .unwrap();
        }
        drop(Store::open(&path).unwrap());
        assert!(!content_file::path_of(&path).exists());
        assert_eq!(
            read_content(&path, &sha).unwrap(),
            Some(("application/pdf".to_string(), old.clone()))
        );
        assert!(owns_content(&path, &sha, "dirk-claes").unwrap());
        // The same bytes again stay where they are; new bytes go to the content file.
        put_content(&path, &sha, "application/pdf", &old, "jan-cools").unwrap();
        assert!(!content_file::path_of(&path).exists());
        assert!(owns_content(&path, &sha, "jan-cools").unwrap());
        let new = b"%PDF-1.4 new".to_vec();
        let new_sha = crate::sha256_hex(&new);
        put_content(&path, &new_sha, "application/pdf", &new, "jan-cools").unwrap();
        assert!(content_file::path_of(&path).exists());
        assert_eq!(read_content(&path, &new_sha).unwrap().unwrap().1, new);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
