//! The runtime's commit on PostgreSQL: a batch's events, chained onto the end where this
//! writer left the log, with the projections of the documents they touch, the snapshot
//! they record, the mails and webhooks they cause, the content sent with them and the
//! idempotency records, in one transaction (as [`crate::store::Store::commit`] on
//! SQLite); and `admin rebuild`.

use super::log::big;
use super::{PgStore, pg_error};
use crate::engine::{Event, RuntimeError, State};
use crate::store::{GENESIS, Idempotency, Snapshot, hash};
use chrono::{DateTime, Utc};

/// A batch's common part as one statement, so that a commit without a snapshot or a
/// dropped message is one round trip (PostgreSQL runs a lone
/// statement in a transaction of its own and syncs it before answering): the log's head
/// is read and compared with where this writer left it (`$2`, `$3`), and only when they
/// are equal are the events, the projection rows, the outbox items, the content with who
/// sent it and the idempotency records inserted, each from arrays (`unnest`). Answers
/// the head it found and whether it appended.
const APPEND: &str = "WITH head AS (
        SELECT seq, hash FROM events WHERE city = $1 ORDER BY seq DESC LIMIT 1),
    fine AS (
        SELECT coalesce((SELECT seq FROM head), 0) = $2
            AND coalesce((SELECT hash FROM head), $4) = $3 AS fine),
    e AS (INSERT INTO events (city, seq, at, body, prev_hash, hash)
        SELECT $1, * FROM unnest($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
        WHERE (SELECT fine FROM fine)),
    d AS (INSERT INTO documents (city, n, id, kind, flow, version, uploader, title, status,
            step, last_seq, audiences, tasks)
        SELECT $1, * FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[],
            $14::bigint[], $15::text[], $16::text[], $17::text[], $18::bigint[], $19::bigint[],
            $20::text[], $21::text[])
        WHERE (SELECT fine FROM fine)
        ON CONFLICT (city, n) DO UPDATE SET id = excluded.id, kind = excluded.kind,
            flow = excluded.flow, version = excluded.version, uploader = excluded.uploader,
            title = excluded.title, status = excluded.status, step = excluded.step,
            last_seq = excluded.last_seq, audiences = excluded.audiences, tasks = excluded.tasks),
    o AS (INSERT INTO outbox (city, seq, channel, recipient, urgent, at, payload)
        SELECT $1, * FROM unnest($22::bigint[], $23::text[], $24::text[], $25::boolean[],
            $26::text[], $27::text[])
        WHERE (SELECT fine FROM fine)
        ON CONFLICT DO NOTHING),
    c AS (INSERT INTO contents (city, sha256, media_type, body)
        SELECT $1, * FROM unnest($28::text[], $29::text[], $30::bytea[])
        WHERE (SELECT fine FROM fine)
        ON CONFLICT (city, sha256) DO NOTHING),
    co AS (INSERT INTO content_owners (city, sha256, person)
        SELECT $1, * FROM unnest($31::text[], $32::text[])
        WHERE (SELECT fine FROM fine)
        ON CONFLICT DO NOTHING),
    i AS (INSERT INTO idempotency (city, person, key, request_sha256, status, response)
        SELECT $1, * FROM unnest($33::text[], $34::text[], $35::text[], $36::int[], $37::text[])
        WHERE (SELECT fine FROM fine))
    SELECT (SELECT seq FROM head), (SELECT hash FROM head), (SELECT fine FROM fine)";

impl PgStore {
    /// Appends `events` and the idempotency records `idem` in one transaction with the
    /// projections of the documents they touch (from `state`, which has them applied),
    /// `snapshot` (saved with the event that records it), the outbox `messages` and the
    /// staged content. Only the writer commits, and only onto the log's end as it left
    /// it. Returns once the commit is durable.
    ///
    /// Usually one round trip ([`APPEND`], prepared once per connection): the chain is
    /// hashed onto where this writer left the log and the statement checks that the log
    /// still ends there. A snapshot or a dropped message adds a transaction around it.
    pub fn commit(
        &mut self,
        state: &State,
        events: &[(u64, DateTime<Utc>, Event)],
        idem: &[Idempotency],
        snapshot: Option<&Snapshot>,
        messages: &[crate::outbox::Item],
    ) -> Result<(), RuntimeError> {
        let staged = std::mem::take(&mut self.staged);
        if !self.locked {
            return Err(RuntimeError::Invalid(format!(
                "this connection does not hold city {}'s writer lock: nothing is appended",
                self.city
            )));
        }
        let first = events.first().map(|(s, _, _)| *s);
        // Where the events go: where this writer left the log when they follow on from
        // it (checked by the statement itself), else where the log ends now, checked here
        // first as before every append.
        let (expect_seq, mut prev) = match &self.tail {
            Some((seq, hash)) if first.is_none_or(|f| f == seq + 1) => (*seq, hash.clone()),
            tail => {
                let tail = tail.clone();
                let (last, prev) = self.head()?;
                crate::log_chain::check_append(tail.as_ref(), last, &prev, first)?;
                (last, prev)
            }
        };
        let expected = prev.clone();
        let mut written = Vec::with_capacity(events.len());
        let mut log = Columns::default();
        for (seq, at, event) in events {
            let body =
                serde_json::to_string(event).map_err(|e| RuntimeError::Storage(e.to_string()))?;
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let h = hash(&prev, *seq, &at, &body);
            log.seqs.push(big(*seq)?);
            log.ats.push(at);
            log.bodies.push(body);
            log.prevs.push(std::mem::replace(&mut prev, h.clone()));
            log.hashes.push(h.clone());
            written.push((*seq, h));
        }
        let docs = crate::projection::documents_changed(state, events.iter().map(|(_, _, e)| e));
        let rows = projection_rows(state, docs.into_iter())?;
        let outbox = OutboxColumns::of(messages)?;
        let mut contents = ContentColumns::default();
        for c in &staged {
            // Content the commit holds the bytes of (content stored ahead in a content
            // file of SQLite's store never reaches this store).
            if crate::sha256_hex(&c.body) != c.sha256 {
                return Err(RuntimeError::Storage(format!(
                    "content {} came without its bytes: nothing is appended",
                    c.sha256
                )));
            }
            contents.add(c);
        }
        let extras = snapshot.is_some() || !outbox.dropped.is_empty();
        let statement = match &self.append {
            Some(s) => s.clone(),
            None => {
                let s = self.client.prepare(APPEND).map_err(pg_error)?;
                self.append = Some(s.clone());
                s
            }
        };
        let city = self.city.clone();
        let (seq, genesis) = (big(expect_seq)?, GENESIS.to_string());
        let idem_status: Vec<i32> = idem.iter().map(|i| i32::from(i.status)).collect();
        let idem_text = |f: fn(&Idempotency) -> &str| -> Vec<&str> { idem.iter().map(f).collect() };
        let params: [&(dyn postgres::types::ToSql + Sync); 37] = [
            &city,
            &seq,
            &expected,
            &genesis,
            &log.seqs,
            &log.ats,
            &log.bodies,
            &log.prevs,
            &log.hashes,
            &rows.n,
            &rows.id,
            &rows.kind,
            &rows.flow,
            &rows.version,
            &rows.uploader,
            &rows.title,
            &rows.status,
            &rows.step,
            &rows.last_seq,
            &rows.audiences,
            &rows.tasks,
            &outbox.seqs,
            &outbox.channels,
            &outbox.recipients,
            &outbox.urgent,
            &outbox.ats,
            &outbox.payloads,
            &contents.shas,
            &contents.media_types,
            &contents.bodies,
            &contents.owner_shas,
            &contents.owners,
            &idem_text(|i| &i.person),
            &idem_text(|i| &i.key),
            &idem_text(|i| &i.request_sha256),
            &idem_status,
            &idem_text(|i| &i.response),
        ];
        let found = if extras {
            let mut tx = self.client.transaction().map_err(pg_error)?;
            let row = tx.query_one(&statement, &params).map_err(pg_error)?;
            let found = found_head(&row);
            if found.2 {
                if let Some(snap) = snapshot {
                    save_snapshot(&mut tx, &city, snap, events)?;
                }
                insert_dropped(&mut tx, &city, &outbox.dropped)?;
                tx.commit().map_err(pg_error)?;
            }
            found
        } else {
            found_head(
                &self
                    .client
                    .query_one(&statement, &params)
                    .map_err(pg_error)?,
            )
        };
        if let (last, prev, false) = found {
            // The log no longer ends where this writer left it: nothing was appended.
            crate::log_chain::check_append(self.tail.as_ref(), last, &prev, first)?;
            return Err(RuntimeError::Storage(format!(
                "the log of city {} ends at event {last}, not at {expect_seq} where this commit was to follow: nothing is appended",
                self.city
            )));
        }
        if let Some((seq, hash)) = written.last()
            && self.tail.is_some()
        {
            self.tail = Some((*seq, hash.clone()));
        }
        self.written.extend(written);
        Ok(())
    }

    /// Drops the projection and the snapshots and rebuilds the projection from the whole
    /// log, as the writer; returns the rebuilt state.
    pub fn rebuild(&mut self) -> Result<State, RuntimeError> {
        if !self.locked {
            return Err(RuntimeError::Invalid(format!(
                "this connection does not hold city {}'s writer lock: nothing is rebuilt",
                self.city
            )));
        }
        let state = self.replay_all()?;
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        // Snapshots go too (one may be what was altered); the next is taken afresh.
        for table in ["documents", "snapshots"] {
            tx.execute(&format!("DELETE FROM {table} WHERE city = $1"), &[&city])
                .map_err(pg_error)?;
        }
        write_projection(
            &mut tx,
            &city,
            &state,
            state.documents.keys().map(|d| d.as_str()),
        )?;
        tx.commit().map_err(pg_error)?;
        Ok(state)
    }
}

/// The log's columns of a batch, one array per column.
#[derive(Default)]
struct Columns {
    seqs: Vec<i64>,
    ats: Vec<String>,
    bodies: Vec<String>,
    prevs: Vec<String>,
    hashes: Vec<String>,
}

/// The `documents` rows of a batch, one array per column.
#[derive(Default)]
struct ProjectionColumns {
    n: Vec<i64>,
    id: Vec<String>,
    kind: Vec<String>,
    flow: Vec<String>,
    version: Vec<i64>,
    uploader: Vec<String>,
    title: Vec<String>,
    status: Vec<String>,
    step: Vec<i64>,
    last_seq: Vec<i64>,
    audiences: Vec<String>,
    tasks: Vec<String>,
}

/// The projection rows of the documents `docs` as columns.
fn projection_rows<'a>(
    state: &State,
    docs: impl Iterator<Item = &'a str>,
) -> Result<ProjectionColumns, RuntimeError> {
    let mut c = ProjectionColumns::default();
    for doc in docs {
        // A document the state no longer holds has no row to write.
        if let Some(d) = crate::projection::document_row(state, doc)? {
            c.n.push(d.n);
            c.id.push(d.id.to_string());
            c.kind.push(d.kind.to_string());
            c.flow.push(d.flow.to_string());
            c.version.push(d.version);
            c.uploader.push(d.uploader.to_string());
            c.title.push(d.title.to_string());
            c.status.push(d.status.to_string());
            c.step.push(d.step);
            c.last_seq.push(d.last_seq);
            c.audiences.push(d.audiences.clone());
            c.tasks.push(d.tasks.clone());
        }
    }
    Ok(c)
}

/// Writes (over) the projection rows of the documents `docs`, in one statement (a
/// round trip per batch, not per document).
fn write_projection<'a>(
    tx: &mut postgres::Transaction<'_>,
    city: &str,
    state: &State,
    docs: impl Iterator<Item = &'a str>,
) -> Result<(), RuntimeError> {
    let c = projection_rows(state, docs)?;
    if c.n.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO documents (city, n, id, kind, flow, version, uploader, title, status, step, last_seq, audiences, tasks)
        SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
            $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::text[])
        ON CONFLICT (city, n) DO UPDATE SET id = excluded.id, kind = excluded.kind,
            flow = excluded.flow, version = excluded.version, uploader = excluded.uploader,
            title = excluded.title, status = excluded.status, step = excluded.step,
            last_seq = excluded.last_seq, audiences = excluded.audiences, tasks = excluded.tasks",
        &[
            &city, &c.n, &c.id, &c.kind, &c.flow, &c.version, &c.uploader, &c.title, &c.status,
            &c.step, &c.last_seq, &c.audiences, &c.tasks,
        ],
    )
    .map_err(pg_error)?;
    Ok(())
}

/// The outbox items of a batch: those to send as columns, and those dropped (written
/// with a delivery record giving the reason, in statements of their own).
#[derive(Default)]
struct OutboxColumns<'a> {
    seqs: Vec<i64>,
    channels: Vec<&'a str>,
    recipients: Vec<&'a str>,
    urgent: Vec<bool>,
    ats: Vec<String>,
    payloads: Vec<&'a str>,
    dropped: Vec<&'a crate::outbox::Item>,
}

impl<'a> OutboxColumns<'a> {
    /// Splits `items` into the columns to send and the dropped ones.
    fn of(items: &'a [crate::outbox::Item]) -> Result<OutboxColumns<'a>, RuntimeError> {
        let mut c = OutboxColumns::default();
        for i in items {
            if i.dropped.is_some() {
                c.dropped.push(i);
                continue;
            }
            c.seqs.push(big(i.seq)?);
            c.channels.push(i.channel.as_str());
            c.recipients.push(i.recipient.as_str());
            c.urgent.push(i.urgent);
            c.ats.push(crate::store::outbox::stamp(i.at));
            c.payloads.push(i.payload.as_str());
        }
        Ok(c)
    }
}

/// The content of a batch and who sent it, as columns (each content once).
#[derive(Default)]
struct ContentColumns<'a> {
    shas: Vec<&'a str>,
    media_types: Vec<&'a str>,
    bodies: Vec<&'a [u8]>,
    owner_shas: Vec<&'a str>,
    owners: Vec<&'a str>,
}

impl<'a> ContentColumns<'a> {
    /// Adds `c` (its bytes once, its sender once per content).
    fn add(&mut self, c: &'a crate::contents::Staged) {
        if !self.shas.contains(&c.sha256.as_str()) {
            self.shas.push(&c.sha256);
            self.media_types.push(c.media_type);
            self.bodies.push(&c.body);
        }
        let owner = (c.sha256.as_str(), c.owner.as_str());
        if !self
            .owner_shas
            .iter()
            .zip(&self.owners)
            .any(|(s, o)| (*s, *o) == owner)
        {
            self.owner_shas.push(owner.0);
            self.owners.push(owner.1);
        }
    }
}

/// The head [`APPEND`] found (0 and the genesis hash for an empty log) and whether it
/// appended.
fn found_head(row: &postgres::Row) -> (u64, String, bool) {
    let seq: Option<i64> = row.get(0);
    let hash: Option<String> = row.get(1);
    (
        seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        hash.unwrap_or_else(|| GENESIS.to_string()),
        row.get::<_, Option<bool>>(2).unwrap_or(false),
    )
}

/// Saves `snap` with the event of `events` that records it; all but the newest two
/// snapshots are dropped.
fn save_snapshot(
    tx: &mut postgres::Transaction<'_>,
    city: &str,
    snap: &Snapshot,
    events: &[(u64, DateTime<Utc>, Event)],
) -> Result<(), RuntimeError> {
    let event_seq = events
        .iter()
        .find(|(_, _, e)| matches!(e, Event::SnapshotTaken { seq, .. } if *seq == snap.seq))
        .map(|(s, _, _)| *s)
        .ok_or_else(|| RuntimeError::Storage("a snapshot without its event".into()))?;
    tx.execute(
        "INSERT INTO snapshots (city, seq, sha256, body, event_seq) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (city, seq) DO UPDATE
            SET sha256 = excluded.sha256, body = excluded.body, event_seq = excluded.event_seq",
        &[
            &city,
            &big(snap.seq)?,
            &snap.sha256,
            &snap.body,
            &big(event_seq)?,
        ],
    )
    .map_err(pg_error)?;
    tx.execute(
        "DELETE FROM snapshots WHERE city = $1 AND seq < (
            SELECT seq FROM snapshots WHERE city = $1 ORDER BY seq DESC LIMIT 1 OFFSET 1)",
        &[&city],
    )
    .map_err(pg_error)?;
    Ok(())
}

/// Writes the dropped outbox `items` as SQLite's store does (see
/// [`crate::store::outbox`]): an item already there is kept; a dropped item is written
/// dropped, with a delivery record of its own giving the reason.
fn insert_dropped(
    tx: &mut postgres::Transaction<'_>,
    city: &str,
    items: &[&crate::outbox::Item],
) -> Result<(), RuntimeError> {
    use crate::store::outbox::{dropped_id, stamp};
    for i in items {
        let Some(why) = &i.dropped else { continue };
        let (seq, at) = (big(i.seq)?, stamp(i.at));
        let id = dropped_id(i.seq, &i.channel, &i.recipient);
        tx.execute(
            "INSERT INTO deliveries (city, id, channel, recipient, state, next_attempt, created, last_error)
            VALUES ($1, $2, $3, $4, 'dropped', $5, $5, $6) ON CONFLICT DO NOTHING",
            &[&city, &id, &i.channel, &i.recipient, &at, why],
        )
        .map_err(pg_error)?;
        tx.execute(
            "INSERT INTO outbox (city, seq, channel, recipient, urgent, at, payload, delivery, state)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'dropped') ON CONFLICT DO NOTHING",
            &[&city, &seq, &i.channel, &i.recipient, &i.urgent, &at, &i.payload, &id],
        )
        .map_err(pg_error)?;
    }
    Ok(())
}
