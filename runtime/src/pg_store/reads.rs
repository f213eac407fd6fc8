//! What `paraaf serve` reads and writes beside the writer on PostgreSQL, through
//! [`crate::reads::Reads`]: a document's events checked against their hashes, one event's
//! row or hash, the deployment events, content and who sent it. The same answers as
//! SQLite's ([`crate::store::read_events`], [`crate::store::owns_content`], …), from the
//! city's rows only.

use super::log::big;
use super::{PgStore, pg_error};
use crate::engine::{Event, RuntimeError};

/// An event row as stored: `(at, body, prev_hash, hash)`.
pub type ChainRow = (String, String, String, String);

impl PgStore {
    /// See [`crate::store::read_events`]: each event verified against its own hash and
    /// the next event's link to it.
    pub fn read_events_checked(
        &mut self,
        seqs: &[u64],
    ) -> Result<Vec<(u64, String, Event)>, RuntimeError> {
        let stmt = self
            .client
            .prepare(
                "SELECT e.at, e.body, e.prev_hash, e.hash, n.prev_hash FROM events e
                LEFT JOIN events n ON n.city = e.city AND n.seq = e.seq + 1
                WHERE e.city = $1 AND e.seq = $2",
            )
            .map_err(pg_error)?;
        let mut out = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            let Some(r) = self
                .client
                .query_opt(&stmt, &[&self.city, &big(seq)?])
                .map_err(pg_error)?
            else {
                continue;
            };
            let row = crate::log_chain::Row {
                seq,
                at: r.get(0),
                body: r.get(1),
                prev_hash: r.get(2),
                hash: r.get(3),
            };
            out.extend(crate::log_chain::checked_event(row, r.get(4))?);
        }
        Ok(out)
    }

    /// The stored row of event `seq` (`None`: no such event).
    pub fn chain_row(&mut self, seq: u64) -> Result<Option<ChainRow>, RuntimeError> {
        Ok(self
            .client
            .query_opt(
                "SELECT at, body, prev_hash, hash FROM events WHERE city = $1 AND seq = $2",
                &[&self.city, &big(seq)?],
            )
            .map_err(pg_error)?
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
    }

    /// See [`crate::store::event_hash`].
    pub fn event_hash(&mut self, seq: u64) -> Result<Option<String>, RuntimeError> {
        Ok(self
            .client
            .query_opt(
                "SELECT hash FROM events WHERE city = $1 AND seq = $2",
                &[&self.city, &big(seq)?],
            )
            .map_err(pg_error)?
            .map(|r| r.get(0)))
    }

    /// The sequence numbers of the deployment events (`project_deployed`,
    /// `organogram_deployed`) up to `until`, oldest first.
    pub fn deployment_seqs(&mut self, until: u64) -> Result<Vec<u64>, RuntimeError> {
        let rows = self
            .client
            .query(
                "SELECT seq FROM events WHERE city = $1 AND seq <= $2
                AND (body LIKE '{\"type\":\"project_deployed\"%'
                    OR body LIKE '{\"type\":\"organogram_deployed\"%') ORDER BY seq",
                &[&self.city, &big(until)?],
            )
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
            .collect())
    }

    /// See [`crate::store::owns_content`]: `person` sent the content with this SHA-256
    /// and its bytes are stored.
    pub fn owns_content(&mut self, sha256: &str, person: &str) -> Result<bool, RuntimeError> {
        Ok(self
            .client
            .query_opt(
                "SELECT 1 FROM content_owners o JOIN contents c
                    ON c.city = o.city AND c.sha256 = o.sha256
                WHERE o.city = $1 AND o.sha256 = $2 AND o.person = $3",
                &[&self.city, &sha256, &person],
            )
            .map_err(pg_error)?
            .is_some())
    }

    /// See [`crate::store::put_content`]: the bytes (once per SHA-256) and their sender,
    /// in one transaction.
    pub fn put_content_owned(
        &mut self,
        sha256: &str,
        media_type: &str,
        body: &[u8],
        owner: &str,
    ) -> Result<(), RuntimeError> {
        if crate::sha256_hex(body) != sha256 {
            return Err(RuntimeError::Invalid(format!(
                "the content given is not the content {sha256}"
            )));
        }
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        tx.execute(
            "INSERT INTO contents (city, sha256, media_type, body) VALUES ($1, $2, $3, $4)
            ON CONFLICT (city, sha256) DO NOTHING",
            &[&city, &sha256, &media_type, &body],
        )
        .map_err(pg_error)?;
        tx.execute(
            "INSERT INTO content_owners (city, sha256, person) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING",
            &[&city, &sha256, &owner],
        )
        .map_err(pg_error)?;
        tx.commit().map_err(pg_error)
    }
}
