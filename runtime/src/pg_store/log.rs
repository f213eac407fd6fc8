//! The city's hash-chained log on PostgreSQL: the same chain as SQLite's
//! ([`crate::store::hash`] from [`crate::store::GENESIS`]), appended in one transaction per
//! commit by the city's one writer, only onto the end where it left the log; idempotency
//! records in the events' transaction; content by SHA-256.

use super::{PgStore, pg_error};
use crate::engine::{Event, RuntimeError};
use crate::store::{GENESIS, Idempotency, hash};
use chrono::{DateTime, Utc};

/// An event as stored: sequence number, time (RFC 3339, as hashed) and JSON body.
pub type RawEvent = (u64, String, String);

/// Events written per `INSERT`.
const BATCH: usize = 2_000;

/// A sequence number as PostgreSQL's BIGINT.
pub(super) fn big(seq: u64) -> Result<i64, RuntimeError> {
    i64::try_from(seq)
        .map_err(|_| RuntimeError::Invalid(format!("event number {seq} is too large")))
}

impl PgStore {
    /// The last event's sequence number and hash (`0` and [`GENESIS`] for an empty log).
    pub fn head(&mut self) -> Result<(u64, String), RuntimeError> {
        let row = self
            .client
            .query_opt(
                "SELECT seq, hash FROM events WHERE city = $1 ORDER BY seq DESC LIMIT 1",
                &[&self.city],
            )
            .map_err(pg_error)?;
        Ok(row
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .unwrap_or((0, GENESIS.to_string())))
    }

    /// The events after sequence number `seq`, oldest first, at most `limit` of them.
    pub fn events_after(&mut self, seq: u64, limit: usize) -> Result<Vec<RawEvent>, RuntimeError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                "SELECT seq, at, body FROM events WHERE city = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&self.city, &big(seq)?, &limit],
            )
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
            .collect())
    }

    /// Appends `events` (numbered from the log's end on) and the idempotency records
    /// `idem` in one transaction, chaining each event's hash to the one before. Returns
    /// the new events' numbers and hashes once the commit is durable.
    pub fn append(
        &mut self,
        events: &[(u64, DateTime<Utc>, Event)],
        idem: &[Idempotency],
    ) -> Result<Vec<(u64, String)>, RuntimeError> {
        let mut raw = Vec::with_capacity(events.len());
        for (seq, at, event) in events {
            let body =
                serde_json::to_string(event).map_err(|e| RuntimeError::Storage(e.to_string()))?;
            raw.push((
                *seq,
                at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                body,
            ));
        }
        self.append_raw(&raw, idem)
    }

    /// [`PgStore::append`] of events already written as text.
    pub fn append_raw(
        &mut self,
        events: &[RawEvent],
        idem: &[Idempotency],
    ) -> Result<Vec<(u64, String)>, RuntimeError> {
        let mut events = events.iter().cloned().map(|e| Ok(Some((e, None))));
        let mut next = || events.next().unwrap_or(Ok(None));
        self.append_from(&mut next, idem, &mut |_| {})
    }

    /// Appends the events `next` gives (with, optionally, the hash each must come out
    /// as: a copy of another log, where a mismatch is refused and nothing is written) and
    /// the idempotency records `idem` in one transaction, in batches, after checking that
    /// the log ends where this writer left it. `progress` hears the number appended
    /// after each batch. Returns the new events' numbers and hashes once durable.
    pub(crate) fn append_from(
        &mut self,
        next: &mut dyn FnMut() -> Result<Option<(RawEvent, Option<String>)>, RuntimeError>,
        idem: &[Idempotency],
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<(u64, String)>, RuntimeError> {
        let Some(tail) = self.tail.clone() else {
            return Err(RuntimeError::Invalid(
                "this connection reads only: open the city as its writer to append".into(),
            ));
        };
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        let (last, mut prev) = tx
            .query_opt(
                "SELECT seq, hash FROM events WHERE city = $1 ORDER BY seq DESC LIMIT 1",
                &[&city],
            )
            .map_err(pg_error)?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)))
            .unwrap_or((0, GENESIS.to_string()));
        if (last, prev.as_str()) != (tail.0, tail.1.as_str()) {
            return Err(RuntimeError::Tampered(format!(
                "city {city}'s log ends at event {last} ({}…), not where this writer left it (event {}, {}…): someone else wrote or removed events; nothing is appended",
                short(&prev),
                tail.0,
                short(&tail.1)
            )));
        }
        let insert = tx
            .prepare(
                "INSERT INTO events (city, seq, at, body, prev_hash, hash)
                SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])",
            )
            .map_err(pg_error)?;
        let mut out: Vec<(u64, String)> = Vec::new();
        let mut batch: Vec<RawEvent> = Vec::with_capacity(BATCH);
        let mut done = false;
        while !done {
            batch.clear();
            let (mut prevs, mut hs) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
            while batch.len() < BATCH {
                let Some(((seq, at, body), expected)) = next()? else {
                    done = true;
                    break;
                };
                let want = last + 1 + out.len() as u64;
                if seq != want {
                    return Err(RuntimeError::Storage(format!(
                        "event {seq} does not follow the log's end (event {}); nothing is appended",
                        want - 1
                    )));
                }
                let h = hash(&prev, seq, &at, &body);
                if expected.as_ref().is_some_and(|e| *e != h) {
                    return Err(RuntimeError::Tampered(format!(
                        "event {seq} of the copied log does not match its hash: its content or its link to event {} was altered; nothing is appended",
                        seq - 1
                    )));
                }
                prevs.push(std::mem::replace(&mut prev, h.clone()));
                hs.push(h.clone());
                out.push((seq, h));
                batch.push((seq, at, body));
            }
            if batch.is_empty() {
                break;
            }
            let seqs = batch
                .iter()
                .map(|(s, _, _)| big(*s))
                .collect::<Result<Vec<_>, _>>()?;
            let ats: Vec<&str> = batch.iter().map(|(_, a, _)| a.as_str()).collect();
            let bodies: Vec<&str> = batch.iter().map(|(_, _, b)| b.as_str()).collect();
            tx.execute(&insert, &[&city, &seqs, &ats, &bodies, &prevs, &hs])
                .map_err(pg_error)?;
            progress(out.len() as u64);
        }
        for i in idem {
            tx.execute(
                "INSERT INTO idempotency (city, person, key, request_sha256, status, response)
                VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &city,
                    &i.person,
                    &i.key,
                    &i.request_sha256,
                    &i32::from(i.status),
                    &i.response,
                ],
            )
            .map_err(pg_error)?;
        }
        tx.commit().map_err(pg_error)?;
        if let Some(end) = out.last() {
            self.tail = Some(end.clone());
        }
        Ok(out)
    }

    /// The first response recorded for an idempotency key under any of `persons`.
    pub fn idempotency(
        &mut self,
        persons: &[String],
        key: &str,
    ) -> Result<Option<Idempotency>, RuntimeError> {
        let row = self
            .client
            .query_opt(
                "SELECT person, request_sha256, status, response FROM idempotency
                WHERE city = $1 AND person = ANY($2) AND key = $3 ORDER BY recorded LIMIT 1",
                &[&self.city, &persons, &key],
            )
            .map_err(pg_error)?;
        Ok(row.map(|r| Idempotency {
            person: r.get(0),
            key: key.to_string(),
            request_sha256: r.get(1),
            status: u16::try_from(r.get::<_, i32>(2)).unwrap_or(500),
            response: r.get(3),
        }))
    }

    /// Stores content under its SHA-256 (once: storing it again changes nothing).
    pub fn put_content(&mut self, media_type: &str, body: &[u8]) -> Result<String, RuntimeError> {
        let sha = crate::sha256_hex(body);
        self.client
            .execute(
                "INSERT INTO contents (city, sha256, media_type, body) VALUES ($1, $2, $3, $4)
                ON CONFLICT (city, sha256) DO NOTHING",
                &[&self.city, &sha, &media_type, &body],
            )
            .map_err(pg_error)?;
        Ok(sha)
    }

    /// Records who sent which content (`(sha256, person)`; a pair already there is kept).
    pub fn put_owners(&mut self, owners: &[(String, String)]) -> Result<(), RuntimeError> {
        let (shas, persons): (Vec<&str>, Vec<&str>) =
            owners.iter().map(|(s, p)| (s.as_str(), p.as_str())).unzip();
        self.client
            .execute(
                "INSERT INTO content_owners (city, sha256, person)
                SELECT $1, * FROM unnest($2::text[], $3::text[]) ON CONFLICT DO NOTHING",
                &[&self.city, &shas, &persons],
            )
            .map_err(pg_error)?;
        Ok(())
    }

    /// Content by SHA-256 (media type and bytes), checked against its hash.
    pub fn read_content(
        &mut self,
        sha256: &str,
    ) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
        let row = self
            .client
            .query_opt(
                "SELECT media_type, body FROM contents WHERE city = $1 AND sha256 = $2",
                &[&self.city, &sha256],
            )
            .map_err(pg_error)?;
        let Some(row) = row else { return Ok(None) };
        let body: Vec<u8> = row.get(1);
        if crate::sha256_hex(&body) != sha256 {
            return Err(RuntimeError::Tampered(format!(
                "content {sha256} was altered: its bytes do not match its hash"
            )));
        }
        Ok(Some((row.get(0), body)))
    }
}

/// The first characters of a hash, for messages.
fn short(h: &str) -> String {
    h.chars().take(16).collect()
}
