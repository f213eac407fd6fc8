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
use std::collections::BTreeSet;

impl PgStore {
    /// Appends `events` and the idempotency records `idem` in one transaction with the
    /// projections of the documents they touch (from `state`, which has them applied),
    /// `snapshot` (saved with the event that records it), the outbox `messages` and the
    /// staged content. Only the writer commits, and only onto the log's end as it left
    /// it. Returns once the commit is durable.
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
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        let (last, mut prev) = tx
            .query_opt(
                "SELECT seq, hash FROM events WHERE city = $1 ORDER BY seq DESC LIMIT 1",
                &[&city],
            )
            .map_err(pg_error)?
            .map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1)))
            .unwrap_or((0, GENESIS.to_string()));
        crate::log_chain::check_append(
            self.tail.as_ref(),
            last,
            &prev,
            events.first().map(|(s, _, _)| *s),
        )?;
        let mut docs = BTreeSet::new();
        let mut written = Vec::with_capacity(events.len());
        let (mut seqs, mut ats, mut bodies, mut prevs, mut hashes) =
            (vec![], vec![], vec![], vec![], vec![]);
        for (seq, at, event) in events {
            let body =
                serde_json::to_string(event).map_err(|e| RuntimeError::Storage(e.to_string()))?;
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let h = hash(&prev, *seq, &at, &body);
            seqs.push(big(*seq)?);
            ats.push(at);
            bodies.push(body);
            prevs.push(std::mem::replace(&mut prev, h.clone()));
            hashes.push(h.clone());
            written.push((*seq, h));
            // Absences change no projection: the tasks they move are events of their own.
            if let Some(d) = event.doc() {
                docs.insert(d.to_string());
            }
        }
        if !seqs.is_empty() {
            tx.execute(
                "INSERT INTO events (city, seq, at, body, prev_hash, hash)
                SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])",
                &[&city, &seqs, &ats, &bodies, &prevs, &hashes],
            )
            .map_err(pg_error)?;
        }
        write_projection(&mut tx, &city, state, docs.iter().map(String::as_str))?;
        if let Some(snap) = snapshot {
            // Saved in the transaction of the event that records it; all but the newest
            // two are dropped.
            let event_seq = events
                .iter()
                .find(|(_, _, e)| matches!(e, Event::SnapshotTaken { seq, .. } if *seq == snap.seq))
                .map(|(s, _, _)| *s)
                .ok_or_else(|| RuntimeError::Storage("a snapshot without its event".into()))?;
            tx.execute(
                "INSERT INTO snapshots (city, seq, sha256, body, event_seq) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (city, seq) DO UPDATE
                    SET sha256 = excluded.sha256, body = excluded.body, event_seq = excluded.event_seq",
                &[&city, &big(snap.seq)?, &snap.sha256, &snap.body, &big(event_seq)?],
            )
            .map_err(pg_error)?;
            tx.execute(
                "DELETE FROM snapshots WHERE city = $1 AND seq < (
                    SELECT seq FROM snapshots WHERE city = $1 ORDER BY seq DESC LIMIT 1 OFFSET 1)",
                &[&city],
            )
            .map_err(pg_error)?;
        }
        insert_outbox(&mut tx, &city, messages)?;
        for c in &staged {
            // Content the commit holds the bytes of (content stored ahead in a content
            // file of SQLite's store never reaches this store).
            if crate::sha256_hex(&c.body) != c.sha256 {
                return Err(RuntimeError::Storage(format!(
                    "content {} came without its bytes: nothing is appended",
                    c.sha256
                )));
            }
            tx.execute(
                "INSERT INTO contents (city, sha256, media_type, body) VALUES ($1, $2, $3, $4)
                ON CONFLICT (city, sha256) DO NOTHING",
                &[&city, &c.sha256, &c.media_type, &c.body],
            )
            .map_err(pg_error)?;
            tx.execute(
                "INSERT INTO content_owners (city, sha256, person) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING",
                &[&city, &c.sha256, &c.owner],
            )
            .map_err(pg_error)?;
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

/// Writes (over) the projection rows of the documents `docs`, in one statement (a
/// round trip per batch, not per document).
fn write_projection<'a>(
    tx: &mut postgres::Transaction<'_>,
    city: &str,
    state: &State,
    docs: impl Iterator<Item = &'a str>,
) -> Result<(), RuntimeError> {
    let mut rows = Vec::new();
    for doc in docs {
        rows.extend(crate::projection::document_row(state, doc)?);
    }
    if rows.is_empty() {
        return Ok(());
    }
    let text = |f: fn(&crate::projection::DocumentRow<'_>) -> String| -> Vec<String> {
        rows.iter().map(f).collect()
    };
    let number = |f: fn(&crate::projection::DocumentRow<'_>) -> i64| -> Vec<i64> {
        rows.iter().map(f).collect()
    };
    tx.execute(
        "INSERT INTO documents (city, n, id, kind, flow, version, uploader, title, status, step, last_seq, audiences, tasks)
        SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
            $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::text[])
        ON CONFLICT (city, n) DO UPDATE SET id = excluded.id, kind = excluded.kind,
            flow = excluded.flow, version = excluded.version, uploader = excluded.uploader,
            title = excluded.title, status = excluded.status, step = excluded.step,
            last_seq = excluded.last_seq, audiences = excluded.audiences, tasks = excluded.tasks",
        &[
            &city,
            &number(|d| d.n),
            &text(|d| d.id.to_string()),
            &text(|d| d.kind.to_string()),
            &text(|d| d.flow.to_string()),
            &number(|d| d.version),
            &text(|d| d.uploader.to_string()),
            &text(|d| d.title.to_string()),
            &text(|d| d.status.to_string()),
            &number(|d| d.step),
            &number(|d| d.last_seq),
            &text(|d| d.audiences.clone()),
            &text(|d| d.tasks.clone()),
        ],
    )
    .map_err(pg_error)?;
    Ok(())
}

/// Writes the outbox `items` in the commit's transaction, as SQLite's store does (see
/// [`crate::store::outbox`]): an item already there is kept; a dropped item is written
/// dropped, with a delivery record of its own giving the reason. The items to send go in
/// one statement.
fn insert_outbox(
    tx: &mut postgres::Transaction<'_>,
    city: &str,
    items: &[crate::outbox::Item],
) -> Result<(), RuntimeError> {
    use crate::store::outbox::{dropped_id, stamp};
    let (mut seqs, mut channels, mut recipients, mut urgent, mut ats, mut payloads) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in items {
        let (seq, at) = (big(i.seq)?, stamp(i.at));
        let Some(why) = &i.dropped else {
            seqs.push(seq);
            channels.push(i.channel.as_str());
            recipients.push(i.recipient.as_str());
            urgent.push(i.urgent);
            ats.push(at);
            payloads.push(i.payload.as_str());
            continue;
        };
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
    if !seqs.is_empty() {
        tx.execute(
            "INSERT INTO outbox (city, seq, channel, recipient, urgent, at, payload)
            SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[])
            ON CONFLICT DO NOTHING",
            &[&city, &seqs, &channels, &recipients, &urgent, &ats, &payloads],
        )
        .map_err(pg_error)?;
    }
    Ok(())
}
