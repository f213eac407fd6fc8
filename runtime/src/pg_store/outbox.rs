//! The outbox sender's work on PostgreSQL: the same steps as SQLite's
//! ([`crate::store::outbox`]: plan a delivery before sending it, mark it sent after,
//! retry or give up), on the city's `outbox` and `deliveries` rows (the items themselves
//! are written with their events by [`super::commit`]). Each step is one transaction on
//! the sender's own connection, as the application's role with the city set.

use super::log::big;
use super::{PgStore, pg_error};
use crate::engine::{Event, RuntimeError};
use crate::outbox::Item;
use crate::store::outbox::{Counts, Delivery, Plan, Waiting, dropped_id, stamp};
use chrono::{DateTime, Utc};

/// A stored time (RFC 3339) as a moment; unreadable text as the earliest moment.
fn parse(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).map_or(DateTime::<Utc>::MIN_UTC, |t| t.to_utc())
}

/// A stored sequence number (never negative: `CHECK`ed on the events it names).
fn seq_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl PgStore {
    /// See [`crate::store::outbox::Outbox::waiting`].
    pub fn outbox_waiting(&mut self) -> Result<Vec<Waiting>, RuntimeError> {
        let rows = self
            .client
            .query(
                "SELECT seq, channel, recipient, urgent, at, payload FROM outbox
                WHERE city = $1 AND state = 'pending' AND delivery IS NULL ORDER BY seq",
                &[&self.city],
            )
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| Waiting {
                item: Item {
                    seq: seq_of(r.get(0)),
                    channel: r.get(1),
                    recipient: r.get(2),
                    urgent: r.get(3),
                    at: parse(r.get(4)),
                    payload: r.get(5),
                    dropped: None,
                },
            })
            .collect())
    }

    /// See [`crate::store::outbox::Outbox::plan`].
    pub fn outbox_plan(
        &mut self,
        plans: &[Plan<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), RuntimeError> {
        if plans.is_empty() {
            return Ok(());
        }
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        for p in plans {
            tx.execute(
                "INSERT INTO deliveries (city, id, channel, recipient, state, next_attempt, created)
                VALUES ($1, $2, $3, $4, 'sending', $5, $5) ON CONFLICT DO NOTHING",
                &[&city, &p.id, &p.channel, &p.recipient, &stamp(now)],
            )
            .map_err(pg_error)?;
            for i in &p.items {
                tx.execute(
                    "UPDATE outbox SET delivery = $2 WHERE city = $1 AND seq = $3
                    AND channel = $4 AND recipient = $5 AND delivery IS NULL",
                    &[&city, &p.id, &big(i.seq)?, &i.channel, &i.recipient],
                )
                .map_err(pg_error)?;
            }
        }
        tx.commit().map_err(pg_error)
    }

    /// See [`crate::store::outbox::Outbox::skip`].
    pub fn outbox_skip(&mut self, items: &[&Item]) -> Result<(), RuntimeError> {
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        for i in items {
            tx.execute(
                "UPDATE outbox SET state = 'skipped' WHERE city = $1 AND seq = $2
                AND channel = $3 AND recipient = $4 AND delivery IS NULL",
                &[&city, &big(i.seq)?, &i.channel, &i.recipient],
            )
            .map_err(pg_error)?;
        }
        tx.commit().map_err(pg_error)
    }

    /// See [`crate::store::outbox::Outbox::drop_item`].
    pub fn outbox_drop_item(
        &mut self,
        seq: u64,
        channel: &str,
        recipient: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RuntimeError> {
        let id = dropped_id(seq, channel, recipient);
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        tx.execute(
            "INSERT INTO deliveries (city, id, channel, recipient, state, next_attempt, created, last_error)
            VALUES ($1, $2, $3, $4, 'dropped', $5, $5, $6) ON CONFLICT DO NOTHING",
            &[&city, &id, &channel, &recipient, &stamp(now), &reason],
        )
        .map_err(pg_error)?;
        tx.execute(
            "UPDATE outbox SET delivery = $2, state = 'dropped' WHERE city = $1 AND seq = $3
            AND channel = $4 AND recipient = $5 AND state = 'pending'",
            &[&city, &id, &big(seq)?, &channel, &recipient],
        )
        .map_err(pg_error)?;
        tx.commit().map_err(pg_error)
    }

    /// See [`crate::store::outbox::Outbox::dropped`].
    pub fn outbox_dropped(&mut self, id: &str, reason: &str) -> Result<(), RuntimeError> {
        self.client
            .execute(
                "UPDATE deliveries SET state = 'dropped', last_error = $3
                WHERE city = $1 AND id = $2 AND state = 'sending'",
                &[&self.city, &id, &reason],
            )
            .map_err(pg_error)?;
        Ok(())
    }

    /// See [`crate::store::outbox::Outbox::event`].
    pub fn outbox_event(&mut self, seq: u64) -> Result<Option<Event>, RuntimeError> {
        let body: Option<String> = self
            .client
            .query_opt(
                "SELECT body FROM events WHERE city = $1 AND seq = $2",
                &[&self.city, &big(seq)?],
            )
            .map_err(pg_error)?
            .map(|r| r.get(0));
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// See [`crate::store::outbox::Outbox::submitted_by_source`].
    pub fn outbox_submitted_by_source(
        &mut self,
        source: &str,
        doc: &str,
    ) -> Result<bool, RuntimeError> {
        Ok(self
            .client
            .query_opt(
                "SELECT 1 FROM idempotency WHERE city = $1 AND person = $2
                AND strpos(response, $3) > 0 LIMIT 1",
                &[
                    &self.city,
                    &format!("webhook:{source}"),
                    &format!("\"{doc}\""),
                ],
            )
            .map_err(pg_error)?
            .is_some())
    }

    /// See [`crate::store::outbox::Outbox::due`].
    pub fn outbox_due(&mut self, now: DateTime<Utc>) -> Result<Vec<Delivery>, RuntimeError> {
        let heads = self
            .client
            .query(
                "SELECT id, channel, recipient, attempts FROM deliveries
                WHERE city = $1 AND state = 'sending' AND next_attempt <= $2 ORDER BY created, id",
                &[&self.city, &stamp(now)],
            )
            .map_err(pg_error)?;
        let mut out = Vec::with_capacity(heads.len());
        for h in heads {
            let id: String = h.get(0);
            let items = self
                .client
                .query(
                    "SELECT seq, payload FROM outbox WHERE city = $1 AND delivery = $2 ORDER BY seq",
                    &[&self.city, &id],
                )
                .map_err(pg_error)?;
            let (seqs, payloads) = items
                .iter()
                .map(|r| (seq_of(r.get(0)), r.get::<_, String>(1)))
                .unzip();
            out.push(Delivery {
                id,
                channel: h.get(1),
                recipient: h.get(2),
                attempts: u32::try_from(h.get::<_, i32>(3)).unwrap_or(0),
                payloads,
                seqs,
            });
        }
        Ok(out)
    }

    /// See [`crate::store::outbox::Outbox::sent`].
    pub fn outbox_sent(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), RuntimeError> {
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        tx.execute(
            "UPDATE deliveries SET state = 'sent', sent_at = $3, attempts = attempts + 1,
            last_error = NULL WHERE city = $1 AND id = $2",
            &[&city, &id, &stamp(now)],
        )
        .map_err(pg_error)?;
        tx.execute(
            "UPDATE outbox SET state = 'sent' WHERE city = $1 AND delivery = $2",
            &[&city, &id],
        )
        .map_err(pg_error)?;
        tx.commit().map_err(pg_error)
    }

    /// See [`crate::store::outbox::Outbox::failed`].
    pub fn outbox_failed(
        &mut self,
        id: &str,
        error: &str,
        retry: Option<DateTime<Utc>>,
    ) -> Result<(), RuntimeError> {
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        match retry {
            Some(at) => tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = $3, next_attempt = $4
                WHERE city = $1 AND id = $2",
                &[&city, &id, &error, &stamp(at)],
            ),
            None => {
                tx.execute(
                    "UPDATE outbox SET state = 'failed' WHERE city = $1 AND delivery = $2",
                    &[&city, &id],
                )
                .map_err(pg_error)?;
                tx.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = $3, state = 'failed'
                    WHERE city = $1 AND id = $2",
                    &[&city, &id, &error],
                )
            }
        }
        .map_err(pg_error)?;
        tx.commit().map_err(pg_error)
    }

    /// See [`crate::store::outbox::Outbox::next_attempt`].
    pub fn outbox_next_attempt(&mut self) -> Result<Option<DateTime<Utc>>, RuntimeError> {
        let t: Option<String> = self
            .client
            .query_one(
                "SELECT min(next_attempt) FROM deliveries WHERE city = $1 AND state = 'sending'",
                &[&self.city],
            )
            .map_err(pg_error)?
            .get(0);
        Ok(t.map(|t| parse(&t)))
    }

    /// See [`crate::store::outbox::Outbox::counts`].
    pub fn outbox_counts(&mut self) -> Result<Counts, RuntimeError> {
        let r = self
            .client
            .query_one(
                "SELECT
                    (SELECT count(*) FROM outbox WHERE city = $1 AND state = 'pending' AND delivery IS NULL),
                    (SELECT count(*) FROM deliveries WHERE city = $1 AND state = 'sending'),
                    (SELECT count(*) FROM deliveries WHERE city = $1 AND state = 'sent'),
                    (SELECT count(*) FROM deliveries WHERE city = $1 AND state = 'failed'),
                    (SELECT count(*) FROM outbox WHERE city = $1 AND state = 'skipped'),
                    (SELECT count(*) FROM outbox WHERE city = $1 AND state = 'dropped')",
                &[&self.city],
            )
            .map_err(pg_error)?;
        let n = |i: usize| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
        Ok(Counts {
            waiting: n(0),
            sending: n(1),
            sent: n(2),
            failed: n(3),
            skipped: n(4),
            dropped: n(5),
        })
    }
}
