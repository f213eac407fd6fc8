//! The outbox and its delivery records in SQLite. Items are inserted by `Store::commit`
//! in the transaction of the events that cause them; the sender (`crate::sender`) reads
//! them through its own connection, groups them into deliveries, and records each
//! delivery before it sends and again after:
//!
//! 1. `plan`: a delivery row (`sending`, its Message-ID or webhook-id derived from its
//!    items) and the items marked with it, in one transaction;
//! 2. the mail or webhook goes out, carrying that id;
//! 3. `sent`: the delivery and its items are marked sent, in one transaction.
//!
//! A crash before 1 plans the items again; between 1 and 3 the delivery is sent again,
//! with the same id and the same items (the one unavoidable window: SMTP has no way to
//! ask whether a message arrived, so a crash after the server accepted it and before 3
//! committed sends it a second time, under the same Message-ID); after 3 nothing is sent.

use crate::engine::RuntimeError;
use crate::outbox::Item;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;

/// The tables (a migration of the store).
pub(super) const SCHEMA: &str = "
    CREATE TABLE outbox (
        seq INTEGER NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        urgent INTEGER NOT NULL,
        at TEXT NOT NULL,
        payload TEXT NOT NULL,
        delivery TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        PRIMARY KEY (seq, channel, recipient)
    ) WITHOUT ROWID;
    CREATE INDEX outbox_by_delivery ON outbox(delivery);
    CREATE INDEX outbox_waiting ON outbox(state, delivery);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error TEXT,
        created TEXT NOT NULL,
        sent_at TEXT
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_by_state ON deliveries(state, next_attempt);";

/// Writes `items` in the commit's transaction (an item already there, the same event
/// and recipient, is kept as it is). An item whose recipient failed the check when it
/// was queued (`Item::dropped`) is written dropped, with a delivery record of its own
/// giving the reason, as the sender records what it drops.
pub(super) fn insert(tx: &rusqlite::Transaction<'_>, items: &[Item]) -> Result<(), RuntimeError> {
    for i in items {
        let Some(why) = &i.dropped else {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO outbox (seq, channel, recipient, urgent, at, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![i.seq, i.channel, i.recipient, i.urgent, stamp(i.at), i.payload])?;
            continue;
        };
        let id = dropped_id(i.seq, &i.channel, &i.recipient);
        tx.prepare_cached(
            "INSERT OR IGNORE INTO deliveries (id, channel, recipient, state, next_attempt, created, last_error)
             VALUES (?1, ?2, ?3, 'dropped', ?4, ?4, ?5)",
        )?
        .execute(params![id, i.channel, i.recipient, stamp(i.at), why])?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO outbox (seq, channel, recipient, urgent, at, payload, delivery, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'dropped')",
        )?
        .execute(params![i.seq, i.channel, i.recipient, i.urgent, stamp(i.at), i.payload, id])?;
    }
    Ok(())
}

/// The id of the delivery record of a dropped item: one per event, channel and recipient.
pub(crate) fn dropped_id(seq: u64, channel: &str, recipient: &str) -> String {
    format!(
        "dropped_{}",
        &crate::sha256_hex(format!("{channel}|{recipient}|{seq}").as_bytes())[..32]
    )
}

/// A time as stored: RFC 3339 in UTC with microseconds, so that text order is time order.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).map_or(DateTime::<Utc>::MIN_UTC, |t| t.to_utc())
}

/// An item not yet in a delivery.
#[derive(Clone, Debug)]
pub struct Waiting {
    /// The item.
    pub item: Item,
}

/// A delivery to send (or send again): its id, where it goes, and its items' payloads
/// in event order.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Message-ID (mail) or webhook-id.
    pub id: String,
    /// `mail` or `webhook`.
    pub channel: String,
    /// Person id (mail) or uploader (webhook).
    pub recipient: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The items' payloads.
    pub payloads: Vec<String>,
    /// The items' events.
    pub seqs: Vec<u64>,
}

/// A delivery to record: its id, where it goes, and its items.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    /// Message-ID or webhook-id.
    pub id: String,
    /// `mail` or `webhook`.
    pub channel: &'a str,
    /// Person id or uploader.
    pub recipient: &'a str,
    /// The items it holds.
    pub items: Vec<&'a Item>,
}

/// How many items and deliveries are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Items not yet in a delivery.
    pub waiting: u64,
    /// Deliveries being sent (or to be sent again).
    pub sending: u64,
    /// Deliveries sent.
    pub sent: u64,
    /// Deliveries given up after every retry.
    pub failed: u64,
    /// Items nobody is configured to receive (a webhook without a source).
    pub skipped: u64,
    /// Items the check kept back when they were queued, planned or sent (the recipient,
    /// or a webhook source's person, may no longer see the document or left the
    /// organogram, or the source did not submit the shielded file).
    pub dropped: u64,
}

/// The sender's connection to the outbox: the SQLite database, or the city's rows on
/// PostgreSQL ([`crate::pg_store::outbox`], the same steps).
pub struct Outbox {
    conn: Conn,
}

/// Where the outbox lies.
enum Conn {
    File(Connection),
    /// `None` only while it is being dropped.
    Pg(Option<Box<std::sync::Mutex<crate::pg_store::PgStore>>>),
}

impl Drop for Outbox {
    /// Closes a PostgreSQL connection on a thread of its own: its synchronous client
    /// blocks while closing, which is refused inside an async task (the sender's).
    fn drop(&mut self) {
        if let Conn::Pg(pg) = &mut self.conn
            && let Some(pg) = pg.take()
        {
            let _ = std::thread::spawn(move || drop(pg)).join();
        }
    }
}

/// The outbox's SQLite connection, or the PostgreSQL store's method called instead.
macro_rules! sqlite_or {
    ($conn:expr, $pg:ident => $call:expr) => {
        match $conn {
            Conn::File(c) => c,
            Conn::Pg(Some(pg)) => {
                let $pg = &mut *pg.lock().unwrap_or_else(|p| p.into_inner());
                return $call;
            }
            Conn::Pg(None) => {
                return Err(RuntimeError::Storage("the outbox is closed".into()));
            }
        }
    };
}

impl Outbox {
    /// Opens the database's outbox (the store's migrations applied first).
    pub fn open(path: &Path) -> Result<Outbox, RuntimeError> {
        drop(super::Store::open(path)?);
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Outbox {
            conn: Conn::File(conn),
        })
    }

    /// The outbox of the city `store` works for, on PostgreSQL.
    pub fn on_postgres(store: crate::pg_store::PgStore) -> Outbox {
        Outbox {
            conn: Conn::Pg(Some(Box::new(std::sync::Mutex::new(store)))),
        }
    }

    /// Items not yet in a delivery, in event order.
    pub fn waiting(&self) -> Result<Vec<Waiting>, RuntimeError> {
        let conn = sqlite_or!(&self.conn, pg => pg.outbox_waiting());
        let mut stmt = conn.prepare_cached(
            "SELECT seq, channel, recipient, urgent, at, payload FROM outbox
             WHERE state = 'pending' AND delivery IS NULL ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Waiting {
                    item: Item {
                        seq: r.get(0)?,
                        channel: r.get(1)?,
                        recipient: r.get(2)?,
                        urgent: r.get(3)?,
                        at: parse(&r.get::<_, String>(4)?),
                        payload: r.get(5)?,
                        dropped: None,
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records deliveries before anything is sent (step 1), all in one transaction:
    /// each under its id, its items marked with it. An id recorded before is left as it
    /// is (the same items planned again after a crash).
    pub fn plan(&mut self, plans: &[Plan<'_>], now: DateTime<Utc>) -> Result<(), RuntimeError> {
        let conn = sqlite_or!(&mut self.conn, pg => pg.outbox_plan(plans, now));
        if plans.is_empty() {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for p in plans {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO deliveries (id, channel, recipient, state, next_attempt, created)
                 VALUES (?1, ?2, ?3, 'sending', ?4, ?4)",
            )?
            .execute(params![p.id, p.channel, p.recipient, stamp(now)])?;
            for i in &p.items {
                tx.prepare_cached(
                    "UPDATE outbox SET delivery = ?1 WHERE seq = ?2 AND channel = ?3 AND recipient = ?4 AND delivery IS NULL",
                )?
                .execute(params![p.id, i.seq, i.channel, i.recipient])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks items nobody receives (a webhook whose uploader is no configured source).
    pub fn skip(&mut self, items: &[&Item]) -> Result<(), RuntimeError> {
        let conn = sqlite_or!(&mut self.conn, pg => pg.outbox_skip(items));
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for i in items {
            tx.execute(
                "UPDATE outbox SET state = 'skipped' WHERE seq = ?1 AND channel = ?2 AND recipient = ?3 AND delivery IS NULL",
                params![i.seq, i.channel, i.recipient],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that an item is not sent (the check when planned or sent, `sender::check`): it
    /// leaves any delivery it was planned in and gets a delivery record of its own in
    /// the state `dropped`, with the reason as its `last_error`.
    pub fn drop_item(
        &mut self,
        seq: u64,
        channel: &str,
        recipient: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RuntimeError> {
        let conn = sqlite_or!(&mut self.conn, pg => pg.outbox_drop_item(seq, channel, recipient, reason, now));
        let id = dropped_id(seq, channel, recipient);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR IGNORE INTO deliveries (id, channel, recipient, state, next_attempt, created, last_error)
             VALUES (?1, ?2, ?3, 'dropped', ?4, ?4, ?5)",
            params![id, channel, recipient, stamp(now), reason],
        )?;
        tx.execute(
            "UPDATE outbox SET delivery = ?1, state = 'dropped' WHERE seq = ?2 AND channel = ?3 AND recipient = ?4 AND state = 'pending'",
            params![id, seq, channel, recipient],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Marks a planned delivery whose every item was dropped: nothing of it is sent.
    pub fn dropped(&mut self, id: &str, reason: &str) -> Result<(), RuntimeError> {
        let conn = sqlite_or!(&mut self.conn, pg => pg.outbox_dropped(id, reason));
        conn.execute(
            "UPDATE deliveries SET state = 'dropped', last_error = ?2 WHERE id = ?1 AND state = 'sending'",
            params![id, reason],
        )?;
        Ok(())
    }

    /// The logged event `seq`, as the log holds it (`None`: no such event, or one this
    /// version cannot read). The sender checks that an item is the one its event causes.
    pub fn event(&self, seq: u64) -> Result<Option<crate::engine::Event>, RuntimeError> {
        let conn = sqlite_or!(&self.conn, pg => pg.outbox_event(seq));
        let body: Option<String> = conn
            .query_row("SELECT body FROM events WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// Whether the webhook source `source` submitted document `doc` (its answer, kept
    /// as the source's idempotency record, names the document).
    pub fn submitted_by_source(&self, source: &str, doc: &str) -> Result<bool, RuntimeError> {
        let conn = sqlite_or!(&self.conn, pg => pg.outbox_submitted_by_source(source, doc));
        Ok(conn
            .query_row(
                "SELECT 1 FROM idempotency WHERE person = ?1 AND instr(response, ?2) > 0 LIMIT 1",
                params![format!("webhook:{source}"), format!("\"{doc}\"")],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Deliveries to send now (step 2): planned and not sent, whose next attempt is due.
    pub fn due(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>, RuntimeError> {
        let conn = sqlite_or!(&self.conn, pg => pg.outbox_due(now));
        let mut stmt = conn.prepare_cached(
            "SELECT id, channel, recipient, attempts FROM deliveries
             WHERE state = 'sending' AND next_attempt <= ?1 ORDER BY created, id",
        )?;
        let heads = stmt
            .query_map(params![stamp(now)], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<Vec<(String, String, String, u32)>, _>>()?;
        let mut out = Vec::new();
        for (id, channel, recipient, attempts) in heads {
            let mut items = conn.prepare_cached(
                "SELECT seq, payload FROM outbox WHERE delivery = ?1 ORDER BY seq",
            )?;
            let (seqs, payloads): (Vec<u64>, Vec<String>) = items
                .query_map(params![id], |r| {
                    Ok((r.get::<_, u64>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .unzip();
            out.push(Delivery {
                id,
                channel,
                recipient,
                attempts,
                payloads,
                seqs,
            });
        }
        Ok(out)
    }

    /// Marks a delivery and its items sent (step 3).
    pub fn sent(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), RuntimeError> {
        let conn = sqlite_or!(&mut self.conn, pg => pg.outbox_sent(id, now));
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE deliveries SET state = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
            params![id, stamp(now)],
        )?;
        tx.execute(
            "UPDATE outbox SET state = 'sent' WHERE delivery = ?1",
            params![id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt: tried again at `retry`, or given up (`None`).
    pub fn failed(
        &mut self,
        id: &str,
        error: &str,
        retry: Option<DateTime<Utc>>,
    ) -> Result<(), RuntimeError> {
        let conn = sqlite_or!(&mut self.conn, pg => pg.outbox_failed(id, error, retry));
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match retry {
            Some(at) => tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt = ?3 WHERE id = ?1",
                params![id, error, stamp(at)],
            )?,
            None => {
                tx.execute(
                    "UPDATE outbox SET state = 'failed' WHERE delivery = ?1",
                    params![id],
                )?;
                tx.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, state = 'failed' WHERE id = ?1",
                    params![id, error],
                )?
            }
        };
        tx.commit()?;
        Ok(())
    }

    /// The earliest next attempt of a delivery not yet sent.
    pub fn next_attempt(&self) -> Result<Option<DateTime<Utc>>, RuntimeError> {
        let conn = sqlite_or!(&self.conn, pg => pg.outbox_next_attempt());
        let t: Option<String> = conn
            .query_row(
                "SELECT min(next_attempt) FROM deliveries WHERE state = 'sending'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(t.map(|t| parse(&t)))
    }

    /// How many items and deliveries are in each state.
    pub fn counts(&self) -> Result<Counts, RuntimeError> {
        let conn = sqlite_or!(&self.conn, pg => pg.outbox_counts());
        let one =
            |sql: &str| -> Result<u64, RuntimeError> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(Counts {
            waiting: one(
                "SELECT count(*) FROM outbox WHERE state = 'pending' AND delivery IS NULL",
            )?,
            sending: one("SELECT count(*) FROM deliveries WHERE state = 'sending'")?,
            sent: one("SELECT count(*) FROM deliveries WHERE state = 'sent'")?,
            failed: one("SELECT count(*) FROM deliveries WHERE state = 'failed'")?,
            skipped: one("SELECT count(*) FROM outbox WHERE state = 'skipped'")?,
            dropped: one("SELECT count(*) FROM outbox WHERE state = 'dropped'")?,
        })
    }
}
