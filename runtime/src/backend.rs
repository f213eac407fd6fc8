//! The store seam: the one type the runtime keeps its log, projections, snapshots,
//! outbox, content and idempotency records in, SQLite's [`Store`] (one city in a file,
//! the default) or PostgreSQL's [`PgStore`] (many cities in one database), chosen by a
//! [`StoreAddress`].
//!
//! An enum that delegates rather than a trait: there are exactly two stores, both in this
//! crate; the runtime keeps one by value and callers name its methods as they named
//! [`Store`]'s, with no generic parameter spreading through the runtime, the API and the
//! CLI, and no boxed trait object. The checks of the log are shared by both
//! ([`crate::log_chain`]), not by the seam.

use crate::checkpoint::Checkpoint;
use crate::engine::{Event, RuntimeError, State};
use crate::pg_store::PgStore;
use crate::store::{Idempotency, Snapshot, Store, Verified};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Where a city's store lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreAddress {
    /// A SQLite database file (one city).
    File(PathBuf),
    /// A city in a PostgreSQL database, connected as the application's role.
    Postgres {
        /// `postgres://ROLE@HOST:PORT/DATABASE` (a password in it is never printed).
        url: String,
        /// The city (see [`crate::pg_store::valid_city`]).
        city: String,
    },
}

impl StoreAddress {
    /// The address `db` names: a `postgres://` or `postgresql://` URL (then `city` is
    /// required) or a file path (then `city` must be absent).
    pub fn parse(db: &str, city: Option<&str>) -> Result<StoreAddress, RuntimeError> {
        let url = db.starts_with("postgres://") || db.starts_with("postgresql://");
        match (url, city) {
            (true, Some(city)) => Ok(StoreAddress::Postgres {
                url: db.to_string(),
                city: city.to_string(),
            }),
            (true, None) => Err(RuntimeError::Invalid(format!(
                "{} holds many cities: name the city (`--city NAME` or PARAAF_CITY)",
                crate::pg_store::redact(db)
            ))),
            (false, None) => Ok(StoreAddress::File(PathBuf::from(db))),
            (false, Some(city)) => Err(RuntimeError::Invalid(format!(
                "a city ({city}) is named only with a PostgreSQL database; {db} is a file that holds one city"
            ))),
        }
    }
}

impl std::fmt::Display for StoreAddress {
    /// The file's path, or the URL without its password and the city.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreAddress::File(path) => write!(f, "{}", path.display()),
            StoreAddress::Postgres { url, city } => {
                write!(f, "city {city} at {}", crate::pg_store::redact(url))
            }
        }
    }
}

/// The store of one city, on SQLite or on PostgreSQL.
pub enum Backend {
    /// A SQLite file.
    Sqlite(Store),
    /// A city on PostgreSQL. Behind a mutex because its client needs `&mut` for every
    /// query while the runtime reads through `&self` (one thread uses it at a time).
    Pg(Mutex<PgStore>),
}

/// Delegates `$call` to whichever store this is (`s` names it in the call).
macro_rules! each {
    ($self:expr, $s:ident => $call:expr) => {
        match $self {
            Backend::Sqlite($s) => $call,
            Backend::Pg(pg) => {
                let $s = &mut *lock(pg);
                $call
            }
        }
    };
}

/// The PostgreSQL store behind its mutex (a panic elsewhere leaves it usable: every
/// call is one statement or one transaction).
fn lock(pg: &Mutex<PgStore>) -> MutexGuard<'_, PgStore> {
    pg.lock().unwrap_or_else(|p| p.into_inner())
}

impl Backend {
    /// Opens the store at `address`: the SQLite file (created and migrated when needed),
    /// or a connection to PostgreSQL as the application's role for the city (reading
    /// until the runtime takes the writer lock, see [`Backend::lock_writer`]).
    pub fn open(address: &StoreAddress) -> Result<Backend, RuntimeError> {
        Ok(match address {
            StoreAddress::File(path) => Backend::Sqlite(Store::open(path)?),
            StoreAddress::Postgres { url, city } => {
                Backend::Pg(Mutex::new(PgStore::reader(url, city)?))
            }
        })
    }

    /// The SQLite store, when this is one (tools that read its file).
    pub fn sqlite(&self) -> Option<&Store> {
        match self {
            Backend::Sqlite(s) => Some(s),
            Backend::Pg(_) => None,
        }
    }

    /// On PostgreSQL: takes the city's advisory writer lock on this store's connection,
    /// waiting up to `wait` for another writer (SQLite's writer lock is a file, taken by
    /// the runtime). Nothing on SQLite.
    pub fn lock_writer(&self, wait: std::time::Duration) -> Result<(), RuntimeError> {
        match self {
            Backend::Sqlite(_) => Ok(()),
            Backend::Pg(pg) => lock(pg).lock_writer(wait),
        }
    }

    /// Whether the store's connection is gone: on PostgreSQL the writer lock went with
    /// it (never on SQLite, whose lock is a file).
    pub fn connection_lost(&self) -> bool {
        match self {
            Backend::Sqlite(_) => false,
            Backend::Pg(pg) => lock(pg).connection_lost(),
        }
    }

    /// Asks the database whether the store's connection still works (a round trip on
    /// PostgreSQL: an idle connection learns only so that its server went away) and
    /// answers [`Backend::connection_lost`] after it.
    pub fn probe_connection(&self) -> bool {
        match self {
            Backend::Sqlite(_) => false,
            Backend::Pg(pg) => lock(pg).probe_connection(),
        }
    }

    /// See [`Store::load`].
    pub fn load(&self) -> Result<State, RuntimeError> {
        each!(self, s => s.load())
    }

    /// See [`Store::load_counting`].
    pub fn load_counting(&self) -> Result<(State, u64), RuntimeError> {
        each!(self, s => s.load_counting())
    }

    /// See [`Store::replay_all`].
    pub fn replay_all(&self) -> Result<State, RuntimeError> {
        each!(self, s => s.replay_all())
    }

    /// See [`Store::commit`].
    pub fn commit(
        &mut self,
        state: &State,
        events: &[(u64, DateTime<Utc>, Event)],
        idem: &[Idempotency],
        snapshot: Option<&Snapshot>,
        messages: &[crate::outbox::Item],
    ) -> Result<(), RuntimeError> {
        each!(self, s => s.commit(state, events, idem, snapshot, messages))
    }

    /// See [`Store::stage_contents`].
    pub fn stage_contents(&mut self, contents: Vec<crate::contents::Staged>) {
        each!(self, s => s.stage_contents(contents))
    }

    /// See [`Store::collect_contents`]. On PostgreSQL content is written in the
    /// transaction of the events that refer to it: there is never any to collect.
    pub fn collect_contents(&mut self, grace: i64) -> Result<usize, RuntimeError> {
        match self {
            Backend::Sqlite(s) => s.collect_contents(grace),
            Backend::Pg(_) => Ok(0),
        }
    }

    /// See [`Store::expect_tail`].
    pub fn expect_tail(&mut self, tail: Option<(u64, String)>) {
        each!(self, s => s.expect_tail(tail))
    }

    /// See [`Store::expected_tail`].
    pub fn expected_tail(&self) -> Option<(u64, String)> {
        each!(self, s => s.expected_tail().cloned())
    }

    /// See [`Store::take_written`].
    pub fn take_written(&mut self) -> Vec<(u64, String)> {
        each!(self, s => s.take_written())
    }

    /// See [`Store::tail_changed`].
    pub fn tail_changed(&self) -> Result<Option<String>, RuntimeError> {
        each!(self, s => s.tail_changed())
    }

    /// See [`Store::idempotency`].
    pub fn idempotency(
        &self,
        persons: &[String],
        key: &str,
    ) -> Result<Option<Idempotency>, RuntimeError> {
        each!(self, s => s.idempotency(persons, key))
    }

    /// See [`Store::verify`].
    pub fn verify(&self, checkpoints: &[Checkpoint]) -> Result<Verified, String> {
        match self {
            Backend::Sqlite(s) => s.verify(checkpoints),
            Backend::Pg(pg) => lock(pg).verify_against(checkpoints),
        }
    }

    /// See [`Store::history`].
    pub fn history(
        &self,
        since: Option<DateTime<Utc>>,
        checkpoints: &[Checkpoint],
    ) -> Result<Vec<(u64, String, String)>, String> {
        each!(self, s => s.history(since, checkpoints))
    }

    /// See [`Store::verify_tail`].
    pub fn verify_tail(&self, last: &Checkpoint) -> Result<(), String> {
        each!(self, s => s.verify_tail(last))
    }

    /// See [`Store::hash_prefixes`].
    pub fn hash_prefixes(&self, from: u64, to: u64) -> Result<(String, String), RuntimeError> {
        each!(self, s => s.hash_prefixes(from, to))
    }

    /// See [`Store::rebuild`].
    pub fn rebuild(&mut self) -> Result<State, RuntimeError> {
        each!(self, s => s.rebuild())
    }

    /// See [`Store::projection_rows`].
    pub fn projection_rows(&self) -> Result<Vec<String>, RuntimeError> {
        each!(self, s => s.projection_rows())
    }

    /// See [`Store::head`].
    pub fn head(&self) -> Result<(u64, String), RuntimeError> {
        each!(self, s => s.head())
    }

    /// See [`Store::events`].
    pub fn events(&self) -> Result<Vec<(u64, String, String)>, RuntimeError> {
        self.events_after(0)
    }

    /// See [`Store::events_after`].
    pub fn events_after(&self, seq: u64) -> Result<Vec<(u64, String, String)>, RuntimeError> {
        match self {
            Backend::Sqlite(s) => s.events_after(seq),
            Backend::Pg(pg) => lock(pg).events_after_all(seq),
        }
    }

    /// See [`Store::backup_to`]. A city on PostgreSQL is backed up with PostgreSQL's own
    /// tools (`pg_dump`, the procedure in docs/operations.md), not into a file of
    /// Paraaf's: refused, naming that procedure.
    pub fn backup_to(&self, path: &Path) -> Result<Verified, RuntimeError> {
        match self {
            Backend::Sqlite(s) => s.backup_to(path),
            Backend::Pg(pg) => {
                let city = lock(pg).city().to_string();
                Err(RuntimeError::Invalid(format!(
                    "city {city} lies in PostgreSQL: back it up with pg_dump as docs/operations.md (\"Backup and restore on PostgreSQL\") writes it (the whole database as a superuser, or one city as the tables' owner with PGOPTIONS='-c paraaf.city={city}'), not into {}; keep the checkpoint file apart from the dumps",
                    path.display()
                )))
            }
        }
    }
}
