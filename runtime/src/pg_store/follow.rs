//! What a read server needs from a city's store on PostgreSQL: the events after the
//! ones it folded, checked against the chain as a replay checks them; whether the
//! city's writer lock is free (to take over); and where the writer takes writes.

use super::lock::KEY;
use super::log::big;
use super::{PgStore, pg_error};
use crate::engine::{RuntimeError, State};
use crate::log_chain::{self, Row};

/// The holder of the city's writer lock (`$1`: the city), as a condition on `pg_locks`
/// aliased `l`.
fn holds_lock() -> String {
    format!(
        "l.locktype = 'advisory' AND l.granted
        AND l.classid = (({KEY} >> 32) & 4294967295)::bigint::text::oid
        AND l.objid = ({KEY} & 4294967295)::bigint::text::oid AND l.objsubid = 1"
    )
}

impl PgStore {
    /// Whether this store's connection is gone (a writer's lock went with it).
    pub fn connection_lost(&self) -> bool {
        self.client.is_closed()
    }

    /// Whether this store's connection is gone, after a round trip that finds out (a
    /// restarted server closed it; at most 5 s). A server merely slow to answer does not
    /// count: the connection, and a writer's lock with it, may still be there.
    pub fn probe_connection(&mut self) -> bool {
        let _ = self.client.is_valid(std::time::Duration::from_secs(5));
        self.client.is_closed()
    }

    /// Folds into `state` the events after `state.last_seq`, the first of which must
    /// follow `prev` (the hash of event `state.last_seq`), each checked against its hash
    /// and its predecessor ([`log_chain::replay`]). Event `state.last_seq` itself must
    /// still be in the log with the hash `prev` it was folded with: a log rewritten or cut
    /// back under what was folded is [`RuntimeError::Tampered`]. Returns each new event
    /// with its hash (none when no event came). On an error `state` may hold part of the
    /// events: fold into a copy and keep it only on success.
    pub fn follow(
        &mut self,
        state: &mut State,
        prev: &str,
    ) -> Result<Vec<(u64, String)>, RuntimeError> {
        let folded = state.last_seq;
        let rows = self
            .client
            .query(
                "SELECT seq, at, body, prev_hash, hash FROM events
                WHERE city = $1 AND seq >= $2 ORDER BY seq",
                &[&self.city, &big(folded)?],
            )
            .map_err(pg_error)?;
        let rows: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                at: r.get(1),
                body: r.get(2),
                prev_hash: r.get(3),
                hash: r.get(4),
            })
            .collect();
        let mut rows = rows.into_iter().peekable();
        if folded > 0 {
            match rows.next_if(|r| r.seq == folded) {
                Some(r) if r.hash == prev => {}
                Some(_) => {
                    return Err(RuntimeError::Tampered(format!(
                        "event {folded}, which this server had folded and verified, has another hash in the log now: the log was rewritten"
                    )));
                }
                None => {
                    return Err(RuntimeError::Tampered(format!(
                        "event {folded}, which this server had folded and verified, is not in the log any more: events were removed (an older copy restored, or rows deleted)"
                    )));
                }
            }
        }
        let rows: Vec<Row> = rows.collect();
        let hashes: Vec<(u64, String)> = rows.iter().map(|r| (r.seq, r.hash.clone())).collect();
        if hashes.is_empty() {
            return Ok(hashes);
        }
        log_chain::replay(state, prev.to_string(), rows.into_iter().map(Ok))?;
        Ok(hashes)
    }

    /// The hash of event `seq` as stored (the genesis hash for 0), where a follower
    /// that loaded the state goes on from: the next event must name it.
    pub fn hash_of(&mut self, seq: u64) -> Result<String, RuntimeError> {
        if seq == 0 {
            return Ok(crate::store::GENESIS.to_string());
        }
        Ok(self
            .client
            .query_one(
                "SELECT hash FROM events WHERE city = $1 AND seq = $2",
                &[&self.city, &big(seq)?],
            )
            .map_err(pg_error)?
            .get(0))
    }

    /// Whether no connection holds the city's writer lock now (a read server then tries
    /// to take over; the lock itself decides who does).
    pub fn writer_lock_free(&mut self) -> Result<bool, RuntimeError> {
        Ok(!self
            .client
            .query_one(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE {})",
                    holds_lock()
                ),
                &[&self.city],
            )
            .map_err(pg_error)?
            .get::<_, bool>(0))
    }

    /// Records `address` as where the city's writer takes writes, with the backend that
    /// holds the writer lock now. Called by the writer right after it took the lock:
    /// that backend is its own connection.
    pub fn advertise(&mut self, address: &str) -> Result<(), RuntimeError> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let n = self
            .client
            .execute(
                &format!(
                    "INSERT INTO writers (city, address, pid, since)
                    SELECT $1, $2, l.pid, $3 FROM pg_locks l WHERE {} LIMIT 1
                    ON CONFLICT (city) DO UPDATE
                        SET address = excluded.address, pid = excluded.pid, since = excluded.since",
                    holds_lock()
                ),
                &[&self.city, &address, &now],
            )
            .map_err(pg_error)?;
        if n == 0 {
            return Err(RuntimeError::Storage(format!(
                "no connection holds city {}'s writer lock: its address is not recorded",
                self.city
            )));
        }
        Ok(())
    }

    /// Where the city's writer takes writes: the recorded address, only while the
    /// backend recorded with it still holds the writer lock (`None`: no writer, or one
    /// that has not recorded its address yet).
    pub fn writer_address(&mut self) -> Result<Option<String>, RuntimeError> {
        Ok(self
            .client
            .query_opt(
                &format!(
                    "SELECT w.address FROM writers w
                    JOIN pg_locks l ON l.pid = w.pid AND {}
                    WHERE w.city = $1",
                    holds_lock()
                ),
                &[&self.city],
            )
            .map_err(pg_error)?
            .map(|r| r.get(0)))
    }
}
