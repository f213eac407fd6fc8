//! The web app's sessions on PostgreSQL (table `web_sessions`, keyed by city under
//! row-level security): every server of a city knows every session, so a server that
//! takes over from a writer that died, or a restarted one, signs no one out. Rows are keyed by the SHA-256 of the secret the browser holds, never
//! the secret itself; times are milliseconds since the epoch on the server's clock.

use super::{PgStore, pg_error};
use crate::engine::RuntimeError;

/// A live session's person and form token, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebSession {
    /// The session: its person and form token.
    Live {
        /// The person.
        person: String,
        /// The form token.
        csrf: String,
    },
    /// No such session.
    Missing,
    /// It existed and timed out (now removed).
    Expired,
}

impl PgStore {
    /// Records a row of `kind` under `key` (replacing one there), and removes the city's
    /// rows not seen since `stale_before`.
    #[allow(clippy::too_many_arguments)]
    pub fn web_put(
        &mut self,
        key: &str,
        kind: &str,
        person: &str,
        csrf: &str,
        nonce: &str,
        verifier: &str,
        now: i64,
        stale_before: i64,
    ) -> Result<(), RuntimeError> {
        let city = self.city.clone();
        let mut tx = self.client.transaction().map_err(pg_error)?;
        tx.execute(
            "DELETE FROM web_sessions WHERE city = $1 AND last_seen < $2",
            &[&city, &stale_before],
        )
        .map_err(pg_error)?;
        tx.execute(
            "INSERT INTO web_sessions (city, key, kind, person, csrf, nonce, verifier, created, last_seen)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            ON CONFLICT (city, key) DO UPDATE SET kind = excluded.kind, person = excluded.person,
                csrf = excluded.csrf, nonce = excluded.nonce, verifier = excluded.verifier,
                flash = NULL, created = excluded.created, last_seen = excluded.last_seen",
            &[&city, &key, &kind, &person, &csrf, &nonce, &verifier, &now],
        )
        .map_err(pg_error)?;
        tx.commit().map_err(pg_error)
    }

    /// The session under `key`, touched at `now` unless it ended: `idle` milliseconds
    /// after it was last seen, or `max` after it began (then it is removed).
    pub fn web_session(
        &mut self,
        key: &str,
        idle: i64,
        max: i64,
        now: i64,
    ) -> Result<WebSession, RuntimeError> {
        let row = self
            .client
            .query_opt(
                "SELECT person, csrf, created, last_seen FROM web_sessions
                WHERE city = $1 AND key = $2 AND kind = 'session'",
                &[&self.city, &key],
            )
            .map_err(pg_error)?;
        let Some(row) = row else {
            return Ok(WebSession::Missing);
        };
        let (created, last_seen): (i64, i64) = (row.get(2), row.get(3));
        if now - last_seen > idle || now - created > max {
            self.web_remove(key)?;
            return Ok(WebSession::Expired);
        }
        self.client
            .execute(
                "UPDATE web_sessions SET last_seen = $3 WHERE city = $1 AND key = $2",
                &[&self.city, &key, &now],
            )
            .map_err(pg_error)?;
        Ok(WebSession::Live {
            person: row.get(0),
            csrf: row.get(1),
        })
    }

    /// Sets (`Some`) or takes (`None`: returned and cleared) the message of the session
    /// under `key`.
    pub fn web_flash(
        &mut self,
        key: &str,
        message: Option<&str>,
    ) -> Result<Option<String>, RuntimeError> {
        match message {
            Some(m) => {
                self.client
                    .execute(
                        "UPDATE web_sessions SET flash = $3 WHERE city = $1 AND key = $2",
                        &[&self.city, &key, &m],
                    )
                    .map_err(pg_error)?;
                Ok(None)
            }
            None => Ok(self
                .client
                .query_opt(
                    "WITH old AS (SELECT flash FROM web_sessions
                        WHERE city = $1 AND key = $2 FOR UPDATE)
                    UPDATE web_sessions w SET flash = NULL FROM old
                    WHERE w.city = $1 AND w.key = $2 RETURNING old.flash",
                    &[&self.city, &key],
                )
                .map_err(pg_error)?
                .and_then(|r| r.get(0))),
        }
    }

    /// Takes (removes) the row of `kind` under `key`: its nonce, verifier and creation
    /// time.
    pub fn web_take(
        &mut self,
        key: &str,
        kind: &str,
    ) -> Result<Option<(String, String, i64)>, RuntimeError> {
        Ok(self
            .client
            .query_opt(
                "DELETE FROM web_sessions WHERE city = $1 AND key = $2 AND kind = $3
                RETURNING nonce, verifier, created",
                &[&self.city, &key, &kind],
            )
            .map_err(pg_error)?
            .map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// Removes the row under `key`.
    pub fn web_remove(&mut self, key: &str) -> Result<(), RuntimeError> {
        self.client
            .execute(
                "DELETE FROM web_sessions WHERE city = $1 AND key = $2",
                &[&self.city, &key],
            )
            .map_err(pg_error)?;
        Ok(())
    }
}
