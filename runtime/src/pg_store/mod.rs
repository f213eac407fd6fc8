//! The PostgreSQL store of a provider that serves many cities (#32, first slice): one
//! city's hash-chained event log, idempotency records and content in tables keyed by
//! city, kept apart by row-level security ([`schema`]), with one writer per city held by
//! an advisory lock ([`lock`]) and a copy from a city's SQLite log ([`migrate`]).
//!
//! The runtime runs on it through [`crate::backend::Backend`] ([`read`]: the state from
//! snapshots and the log, audit walks; [`commit`]: a batch's events with projections,
//! snapshot, outbox, content and idempotency records in one transaction). It uses the
//! synchronous `postgres` client, which runs its own small tokio runtime: call it from a
//! plain thread (the runtime's writer), never from inside an async task.

pub mod commit;
pub mod follow;
pub mod lock;
pub mod log;
pub mod migrate;
pub mod outbox;
pub mod read;
pub mod reads;
pub mod schema;
pub mod sessions;

use crate::engine::RuntimeError;

/// The PostgreSQL client crate, for callers (tests, tools) that hold its connections.
pub use postgres;

/// The store of one city on PostgreSQL, connected as the application's role with the
/// city set for the whole connection.
pub struct PgStore {
    client: postgres::Client,
    city: String,
    /// Where the log ends as this writer left it; `None`: a reader, which never appends.
    tail: Option<(u64, String)>,
    /// Whether this connection holds the city's writer lock ([`PgStore::lock_writer`]).
    locked: bool,
    /// The hashes of the events this writer committed, oldest first, until the runtime
    /// takes them to sign ([`PgStore::take_written`]).
    written: Vec<(u64, String)>,
    /// Content to write with the next commit ([`PgStore::stage_contents`]).
    staged: Vec<crate::contents::Staged>,
    /// The commit's statement, prepared on this connection at the first commit.
    append: Option<postgres::Statement>,
}

/// Whether `city` is a usable city name: 1–63 lowercase letters, digits, `-` or `_`,
/// starting with a letter (it names the city in settings, lock keys and messages).
pub fn valid_city(city: &str) -> bool {
    let mut chars = city.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && city.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A PostgreSQL error as a storage error, with the server's own message and detail.
pub(crate) fn pg_error(e: postgres::Error) -> RuntimeError {
    match e.as_db_error() {
        Some(db) => RuntimeError::Storage(match db.detail() {
            Some(detail) => format!("PostgreSQL: {} ({detail})", db.message()),
            None => format!("PostgreSQL: {}", db.message()),
        }),
        None => RuntimeError::Storage(format!("PostgreSQL: {e}")),
    }
}

/// A role name as a quoted SQL identifier, refused unless it is a plain name.
pub(crate) fn quote_role(role: &str) -> Result<String, RuntimeError> {
    let plain = role
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && role.len() <= 63
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(format!("\"{role}\""))
    } else {
        Err(RuntimeError::Invalid(format!(
            "`{role}` is not a usable role name: use lowercase letters, digits and `_`"
        )))
    }
}

impl PgStore {
    /// Connects to `url` as the application's role for `city`, reading only. Refused when
    /// the role could read other cities' rows: a superuser, a role with `BYPASSRLS`, or
    /// the tables' owner (the policies would not bind it).
    pub fn reader(url: &str, city: &str) -> Result<PgStore, RuntimeError> {
        if !valid_city(city) {
            return Err(RuntimeError::Invalid(format!(
                "`{city}` is not a usable city name: 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter"
            )));
        }
        let mut config: postgres::Config = url.parse().map_err(|e| {
            RuntimeError::Invalid(format!(
                "`{}` is not a PostgreSQL address ({e}); write it as postgres://ROLE@HOST:PORT/DATABASE",
                redact(url)
            ))
        })?;
        config.application_name(&format!(
            "paraaf {city} pid {} on {}",
            std::process::id(),
            host_name()
        ));
        let mut client = config.connect(postgres::NoTls).map_err(|e| {
            RuntimeError::Storage(format!(
                "cannot connect to PostgreSQL at {}: {e}",
                redact(url)
            ))
        })?;
        let row = client
            .query_one(
                "SELECT r.rolsuper, r.rolbypassrls,
                    coalesce(pg_has_role(current_user, t.tableowner, 'USAGE'), false),
                    t.tableowner IS NOT NULL
                FROM pg_roles r LEFT JOIN pg_tables t
                    ON t.tablename = 'events' AND t.schemaname = current_schema()
                WHERE r.rolname = current_user",
                &[],
            )
            .map_err(pg_error)?;
        let (superuser, bypass, owner, exists): (bool, bool, bool, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !exists {
            return Err(RuntimeError::Storage(
                "the database has no Paraaf schema yet: create it as the schema owner first (`paraaf admin migrate-store --owner postgres://OWNER@…`)".into(),
            ));
        }
        if superuser || bypass || owner {
            return Err(RuntimeError::Invalid(
                "connect as the application's role, not as a superuser, a role with BYPASSRLS or the tables' owner: row-level security would not keep the cities apart".into(),
            ));
        }
        client
            .execute(
                "SELECT set_config($1, $2, false)",
                &[&schema::CITY_SETTING, &city],
            )
            .map_err(pg_error)?;
        Ok(PgStore {
            client,
            city: city.to_string(),
            tail: None,
            locked: false,
            written: Vec::new(),
            staged: Vec::new(),
            append: None,
        })
    }

    /// Connects for `city` as its one writer: takes the city's advisory lock (refused,
    /// naming the holder, when another connection has it; released when this connection
    /// ends, however it ends) and from then on appends only onto the log's end as this
    /// writer found it and left it.
    pub fn writer(url: &str, city: &str) -> Result<PgStore, RuntimeError> {
        let mut store = PgStore::reader(url, city)?;
        lock::take(&mut store.client, city)?;
        store.locked = true;
        store.tail = Some(store.head()?);
        Ok(store)
    }

    /// Takes the city's writer lock on this connection (kept until the connection ends),
    /// trying for up to `wait` while another writer holds it, then refusing naming it.
    pub fn lock_writer(&mut self, wait: std::time::Duration) -> Result<(), RuntimeError> {
        if self.locked {
            return Ok(());
        }
        let start = std::time::Instant::now();
        loop {
            match lock::take(&mut self.client, &self.city) {
                Ok(()) => break,
                Err(RuntimeError::Locked(_)) if start.elapsed() < wait => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
        self.locked = true;
        Ok(())
    }

    /// Whether this connection took the city's writer lock.
    pub fn is_writer(&self) -> bool {
        self.locked
    }

    /// From now on, commits only onto the log ending at `tail` (see
    /// [`crate::store::Store::expect_tail`]).
    pub fn expect_tail(&mut self, tail: Option<(u64, String)>) {
        self.tail = tail;
    }

    /// Where this writer left the log.
    pub fn expected_tail(&self) -> Option<&(u64, String)> {
        self.tail.as_ref()
    }

    /// Takes the hashes of the events this writer committed since the last call.
    pub fn take_written(&mut self) -> Vec<(u64, String)> {
        std::mem::take(&mut self.written)
    }

    /// What changed at the end of the log, if it no longer ends where this writer left
    /// it.
    pub fn tail_changed(&mut self) -> Result<Option<String>, RuntimeError> {
        let Some((seq, hash)) = self.tail.clone() else {
            return Ok(None);
        };
        let (last, prev) = self.head()?;
        Ok(crate::log_chain::changed_tail(seq, &hash, last, &prev))
    }

    /// Content to write in the next commit's transaction (replacing what was staged).
    pub fn stage_contents(&mut self, contents: Vec<crate::contents::Staged>) {
        self.staged = contents;
    }

    /// The city this store works for.
    pub fn city(&self) -> &str {
        &self.city
    }

    /// The PostgreSQL backend process of this connection (its lock holder's id).
    pub fn backend_pid(&mut self) -> Result<i32, RuntimeError> {
        Ok(self
            .client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(pg_error)?
            .get(0))
    }

    /// Direct access for tests that attack the separation of cities.
    #[doc(hidden)]
    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// `url` without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            match user.split_once(':') {
                Some((name, _)) => format!("{}{name}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// This machine's name, for the lock holder's description.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
}
