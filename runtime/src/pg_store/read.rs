//! What the runtime reads from a city's store on PostgreSQL: the state (the newest valid
//! snapshot and the events after it, or the whole log), and the audit walks (`verify`,
//! history, the tail against the last signed checkpoint). Rows stream from the server
//! and are checked by [`crate::log_chain`], as SQLite's are.

use super::log::big;
use super::{PgStore, pg_error};
use crate::checkpoint::Checkpoint;
use crate::engine::{RuntimeError, State};
use crate::log_chain::{self, Row};
use crate::store::{GENESIS, Verified};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;

/// The columns of an event row, as [`Row`] takes them.
const EVENT: &str = "seq, at, body, prev_hash, hash";

/// The rows `sql` (selecting [`EVENT`]) gives, streamed.
fn rows<'a>(
    client: &'a mut postgres::Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<impl Iterator<Item = Result<Row, RuntimeError>> + 'a, RuntimeError> {
    let mut it = client
        .query_raw(sql, params.iter().copied())
        .map_err(pg_error)?;
    Ok(std::iter::from_fn(move || {
        it.next()
            .map_err(pg_error)
            .map(|r| r.map(|r| event_row(&r)))
            .transpose()
    }))
}

/// An event row as [`log_chain`] checks it.
fn event_row(r: &postgres::Row) -> Row {
    Row {
        seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
        at: r.get(1),
        body: r.get(2),
        prev_hash: r.get(3),
        hash: r.get(4),
    }
}

impl PgStore {
    /// The state: the newest valid snapshot plus the events after it, or the whole log
    /// replayed, every replayed event checked (see [`crate::store::Store::load`]).
    pub fn load(&mut self) -> Result<State, RuntimeError> {
        Ok(self.load_counting()?.0)
    }

    /// [`PgStore::load`], also telling the sequence number of the snapshot used (0:
    /// none).
    pub fn load_counting(&mut self) -> Result<(State, u64), RuntimeError> {
        let snapshots = self
            .client
            .query(
                "SELECT seq, sha256, body, event_seq FROM snapshots
                WHERE city = $1 AND event_seq > seq ORDER BY seq DESC LIMIT 3",
                &[&self.city],
            )
            .map_err(pg_error)?;
        for s in snapshots {
            let (seq, sha, body, event_seq): (i64, String, Vec<u8>, i64) =
                (s.get(0), s.get(1), s.get(2), s.get(3));
            let event = self
                .client
                .query_opt(
                    &format!("SELECT {EVENT} FROM events WHERE city = $1 AND seq = $2"),
                    &[&self.city, &event_seq],
                )
                .map_err(pg_error)?
                .map(|r| event_row(&r));
            let seq = u64::try_from(seq).unwrap_or(0);
            let Some(mut state) = log_chain::snapshot_state(seq, &sha, &body, event)? else {
                continue;
            };
            // The chain goes on from the stored hash of event `seq`.
            let prev: String = self
                .client
                .query_one(
                    "SELECT hash FROM events WHERE city = $1 AND seq = $2",
                    &[&self.city, &big(seq)?],
                )
                .map_err(pg_error)?
                .get(0);
            self.replay(&mut state, prev)?;
            return Ok((state, seq));
        }
        Ok((self.replay_all()?, 0))
    }

    /// The whole log replayed from the first event, ignoring snapshots.
    pub fn replay_all(&mut self) -> Result<State, RuntimeError> {
        let mut state = State::default();
        self.replay(&mut state, GENESIS.to_string())?;
        Ok(state)
    }

    /// Applies the events after `state.last_seq`, the first of which must follow `prev`.
    fn replay(&mut self, state: &mut State, prev: String) -> Result<(), RuntimeError> {
        let after = big(state.last_seq)?;
        let city = self.city.clone();
        let rows = rows(
            &mut self.client,
            &format!("SELECT {EVENT} FROM events WHERE city = $1 AND seq > $2 ORDER BY seq"),
            &[&city, &after],
        )?;
        log_chain::replay(state, prev, rows)
    }

    /// Checks the whole chain and, against the signed `checkpoints`, each event's hash
    /// (see [`crate::store::Store::verify`]).
    pub fn verify_against(&mut self, checkpoints: &[Checkpoint]) -> Result<Verified, String> {
        let city = self.city.clone();
        let rows = rows(
            &mut self.client,
            &format!("SELECT {EVENT} FROM events WHERE city = $1 ORDER BY seq"),
            &[&city],
        )
        .map_err(|e| e.to_string())?;
        log_chain::verify(rows.map(|r| r.map_err(|e| e.to_string())), checkpoints)
    }

    /// Checks the whole chain from the first event (no checkpoints).
    pub fn verify(&mut self) -> Result<Verified, String> {
        self.verify_against(&[])
    }

    /// The events recorded at or after `since`, verified as read walking back from the
    /// head (see [`crate::store::Store::history`]); a failure is named as
    /// [`PgStore::verify_against`] names it.
    pub fn history(
        &mut self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        checkpoints: &[Checkpoint],
    ) -> Result<Vec<(u64, String, String)>, String> {
        let walked = self.history_back(since, checkpoints);
        walked.map_err(|why| self.verify_against(checkpoints).err().unwrap_or(why))
    }

    fn history_back(
        &mut self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        checkpoints: &[Checkpoint],
    ) -> Result<Vec<(u64, String, String)>, String> {
        let (head, _) = self.head().map_err(|e| e.to_string())?;
        log_chain::history_head(head, checkpoints)?;
        let city = self.city.clone();
        let rows = rows(
            &mut self.client,
            &format!("SELECT {EVENT} FROM events WHERE city = $1 ORDER BY seq DESC"),
            &[&city],
        )
        .map_err(|e| e.to_string())?;
        log_chain::history_back(
            head,
            rows.map(|r| r.map_err(|e| e.to_string())),
            since,
            checkpoints,
        )
    }

    /// Checks the events from the last signed checkpoint on against it (see
    /// [`crate::store::Store::verify_tail`]).
    pub fn verify_tail(&mut self, last: &Checkpoint) -> Result<(), String> {
        let end = self.head().map_err(|e| e.to_string())?.0;
        let city = self.city.clone();
        let from = big(last.seq).map_err(|e| e.to_string())?;
        let rows = rows(
            &mut self.client,
            &format!("SELECT {EVENT} FROM events WHERE city = $1 AND seq >= $2 ORDER BY seq"),
            &[&city, &from],
        )
        .map_err(|e| e.to_string())?;
        log_chain::verify_tail(rows.map(|r| r.map_err(|e| e.to_string())), last, || Ok(end))
    }

    /// The first [`crate::checkpoint::HASH_PREFIX`] characters of the hashes of events
    /// `from..=to`, concatenated, and the hash of event `to`.
    pub fn hash_prefixes(&mut self, from: u64, to: u64) -> Result<(String, String), RuntimeError> {
        let rows = self
            .client
            .query(
                "SELECT hash FROM events WHERE city = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
                &[&self.city, &big(from)?, &big(to)?],
            )
            .map_err(pg_error)?;
        let mut out = String::new();
        let mut head = String::new();
        for r in rows {
            head = r.get(0);
            out.push_str(&head[..crate::checkpoint::HASH_PREFIX.min(head.len())]);
        }
        Ok((out, head))
    }

    /// Raw events after sequence number `seq` (time and JSON as stored), oldest first.
    pub fn events_after_all(
        &mut self,
        seq: u64,
    ) -> Result<Vec<(u64, String, String)>, RuntimeError> {
        let rows = self
            .client
            .query(
                "SELECT seq, at, body FROM events WHERE city = $1 AND seq > $2 ORDER BY seq",
                &[&self.city, &big(seq)?],
            )
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                    r.get(1),
                    r.get(2),
                )
            })
            .collect())
    }

    /// The projection as sorted text rows, for comparing stored with rebuilt (the same
    /// text as [`crate::store::Store::projection_rows`]).
    pub fn projection_rows(&mut self) -> Result<Vec<String>, RuntimeError> {
        let mut out = Vec::new();
        for r in self
            .client
            .query(
                "SELECT id, kind, flow, version, uploader, title, status, step, last_seq, audiences, tasks
                FROM documents WHERE city = $1",
                &[&self.city],
            )
            .map_err(pg_error)?
        {
            let id: String = r.get(0);
            out.push(format!(
                "{id}|{}|{}|{}|{}|{}|{}|{}|{}",
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, i64>(3),
                r.get::<_, String>(4),
                r.get::<_, String>(5),
                r.get::<_, String>(6),
                r.get::<_, i64>(7),
                r.get::<_, i64>(8)
            ));
            out.push(format!("{id}|{}", r.get::<_, String>(9)));
            let tasks: Vec<serde_json::Value> =
                serde_json::from_str(&r.get::<_, String>(10)).unwrap_or_default();
            for t in tasks {
                let field = |k: &str| match &t[k] {
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                out.push(format!(
                    "{}|{id}|{}|{}|{}|{}",
                    field("id"),
                    field("step"),
                    field("role"),
                    field("assignees"),
                    field("status")
                ));
            }
        }
        out.sort();
        Ok(out)
    }
}
