//! The server's handle on a city's store beside the one writer ([`Reads`]): what the
//! API, the web app, the outbox sender and the sealer read (a document's events checked
//! against their hashes, an event's hash, content through its owner) and the little they
//! write themselves (content no event refers to: a sealed PDF, the demo's). Cheap to
//! clone: every handler holds one.
//!
//! On SQLite it is the database's path, and every read opens a read-only connection as
//! before (so a page never waits for the writer). On PostgreSQL it is a few idle
//! connections as the application's role with the city set ([`PgStore::reader`]), taken
//! for one call and given back: every query runs under the city's row-level security.
//! The `postgres` client is synchronous: call these from a blocking thread
//! (`spawn_blocking`, the writer's thread), never from an async task.

use crate::backend::StoreAddress;
use crate::engine::{Event, RuntimeError};
use crate::pg_store::PgStore;
use crate::pg_store::reads::ChainRow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// Most idle PostgreSQL connections kept for reads; more are opened while more calls run
/// at once (up to [`MAX_CONNECTIONS`]), and closed after.
pub const IDLE_CONNECTIONS: usize = 4;

/// Most PostgreSQL connections one server holds for reads at once; a call beyond waits
/// for one to come back, so a burst of requests cannot take the database's connections
/// from the other cities' servers (PostgreSQL allows 100 by default).
pub const MAX_CONNECTIONS: usize = 16;

/// Where the server reads a city's store beside its writer.
#[derive(Clone)]
pub enum Reads {
    /// The SQLite database file (one city).
    File(PathBuf),
    /// A city on PostgreSQL.
    Pg(Arc<PgReads>),
}

/// The PostgreSQL side of [`Reads`]: where to connect, and the idle connections.
pub struct PgReads {
    url: String,
    city: String,
    idle: Mutex<Pool>,
    /// Signalled when a connection comes back (or a slot frees).
    freed: Condvar,
}

/// The idle connections, and how many are in use.
#[derive(Default)]
struct Pool {
    idle: Vec<PgStore>,
    in_use: usize,
}

impl Drop for PgReads {
    /// Closes the idle connections on a thread of their own: the synchronous client
    /// blocks on its own runtime when it closes, which is refused inside an async task
    /// (the server drops its router in one).
    fn drop(&mut self) {
        let pool = self.idle.get_mut().unwrap_or_else(|p| p.into_inner());
        let idle = std::mem::take(&mut pool.idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

impl From<PathBuf> for Reads {
    fn from(path: PathBuf) -> Reads {
        Reads::File(path)
    }
}

impl From<&PathBuf> for Reads {
    fn from(path: &PathBuf) -> Reads {
        Reads::File(path.clone())
    }
}

impl From<&Path> for Reads {
    fn from(path: &Path) -> Reads {
        Reads::File(path.to_path_buf())
    }
}

impl From<&Reads> for Reads {
    fn from(reads: &Reads) -> Reads {
        reads.clone()
    }
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reads({self})")
    }
}

impl std::fmt::Display for Reads {
    /// The file's path, or the city and the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reads::File(path) => write!(f, "{}", path.display()),
            Reads::Pg(pg) => write!(
                f,
                "city {} at {}",
                pg.city,
                crate::pg_store::redact(&pg.url)
            ),
        }
    }
}

impl Reads {
    /// The handle for the store at `address`. On PostgreSQL one connection is opened at
    /// once (and kept), so a wrong address or role fails here, not at the first page.
    pub fn open(address: &StoreAddress) -> Result<Reads, RuntimeError> {
        Ok(match address {
            StoreAddress::File(path) => Reads::File(path.clone()),
            StoreAddress::Postgres { url, city } => {
                let first = PgStore::reader(url, city)?;
                Reads::Pg(Arc::new(PgReads {
                    url: url.clone(),
                    city: city.clone(),
                    idle: Mutex::new(Pool {
                        idle: vec![first],
                        in_use: 0,
                    }),
                    freed: Condvar::new(),
                }))
            }
        })
    }

    /// The SQLite file, when this is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Reads::File(path) => Some(path),
            Reads::Pg(_) => None,
        }
    }

    /// Runs `f` on a PostgreSQL connection of the city: an idle one, or a new one while
    /// fewer than [`MAX_CONNECTIONS`] are in use (else it waits for one). It is given
    /// back unless `f` failed (a broken connection is not kept).
    fn with_pg<T>(
        pg: &PgReads,
        f: impl FnOnce(&mut PgStore) -> Result<T, RuntimeError>,
    ) -> Result<T, RuntimeError> {
        let taken = {
            let mut pool = pg.idle.lock().unwrap_or_else(|p| p.into_inner());
            while pool.idle.is_empty() && pool.in_use >= MAX_CONNECTIONS {
                pool = pg.freed.wait(pool).unwrap_or_else(|p| p.into_inner());
            }
            pool.in_use += 1;
            pool.idle.pop()
        };
        let give_back = |store: Option<PgStore>| {
            let mut pool = pg.idle.lock().unwrap_or_else(|p| p.into_inner());
            pool.in_use -= 1;
            if let Some(store) = store
                && pool.idle.len() < IDLE_CONNECTIONS
            {
                pool.idle.push(store);
            }
            drop(pool);
            pg.freed.notify_one();
        };
        let mut store = match taken {
            Some(s) => s,
            None => match PgStore::reader(&pg.url, &pg.city) {
                Ok(s) => s,
                Err(e) => {
                    give_back(None);
                    return Err(e);
                }
            },
        };
        let out = f(&mut store);
        give_back(out.is_ok().then_some(store));
        out
    }

    /// Runs `f` on one of the city's PostgreSQL connections (the web app's sessions,
    /// `crate::pg_store::sessions`); `None` on SQLite, which keeps no such rows.
    pub fn on_postgres<T>(
        &self,
        f: impl FnOnce(&mut PgStore) -> Result<T, RuntimeError>,
    ) -> Option<Result<T, RuntimeError>> {
        match self {
            Reads::File(_) => None,
            Reads::Pg(pg) => Some(Reads::with_pg(pg, f)),
        }
    }

    /// The events with these sequence numbers, each checked against its hash and the
    /// next event's link (see [`crate::store::read_events`]).
    pub fn read_events(&self, seqs: &[u64]) -> Result<Vec<(u64, String, Event)>, RuntimeError> {
        match self {
            Reads::File(db) => crate::store::read_events(db, seqs),
            Reads::Pg(pg) => Reads::with_pg(pg, |s| s.read_events_checked(seqs)),
        }
    }

    /// Runs `f` with a reader of stored event rows `(at, body, prev_hash, hash)` by
    /// sequence number (`None`: no such event), on one connection for the whole walk,
    /// for walks that check the chain themselves ([`crate::trusted_history`]).
    pub fn with_rows<T>(
        &self,
        f: impl FnOnce(
            &mut dyn FnMut(u64) -> Result<Option<ChainRow>, RuntimeError>,
        ) -> Result<T, RuntimeError>,
    ) -> Result<T, RuntimeError> {
        match self {
            Reads::File(db) => {
                let conn = crate::store::reader(db)?;
                f(&mut |seq| crate::store::chain_row(&conn, seq))
            }
            Reads::Pg(pg) => Reads::with_pg(pg, |s| f(&mut |seq| s.chain_row(seq))),
        }
    }

    /// The hash of event `seq`, as stored (see [`crate::store::event_hash`]).
    pub fn event_hash(&self, seq: u64) -> Result<Option<String>, RuntimeError> {
        match self {
            Reads::File(db) => crate::store::event_hash(db, seq),
            Reads::Pg(pg) => Reads::with_pg(pg, |s| s.event_hash(seq)),
        }
    }

    /// The sequence numbers of the deployment events up to `until`, oldest first.
    pub fn deployment_seqs(&self, until: u64) -> Result<Vec<u64>, RuntimeError> {
        match self {
            Reads::File(db) => crate::store::deployment_seqs(db, until),
            Reads::Pg(pg) => Reads::with_pg(pg, |s| s.deployment_seqs(until)),
        }
    }

    /// The stored content with this SHA-256 (see [`crate::store::read_content`]).
    pub fn read_content(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
        match self {
            Reads::File(db) => crate::store::read_content(db, sha256),
            Reads::Pg(pg) => Reads::with_pg(pg, |s| s.read_content(sha256)),
        }
    }

    /// Whether `person` sent the content with this SHA-256 (see
    /// [`crate::store::owns_content`]).
    pub fn owns_content(&self, sha256: &str, person: &str) -> Result<bool, RuntimeError> {
        match self {
            Reads::File(db) => crate::store::owns_content(db, sha256, person),
            Reads::Pg(pg) => Reads::with_pg(pg, |s| s.owns_content(sha256, person)),
        }
    }

    /// Stores content no event refers to, recording who sent it (see
    /// [`crate::store::put_content`]).
    pub fn put_content(
        &self,
        sha256: &str,
        media_type: &str,
        body: &[u8],
        owner: &str,
    ) -> Result<(), RuntimeError> {
        match self {
            Reads::File(db) => crate::store::put_content(db, sha256, media_type, body, owner),
            Reads::Pg(pg) => {
                Reads::with_pg(pg, |s| s.put_content_owned(sha256, media_type, body, owner))
            }
        }
    }

    /// The outbox sender's own connection (see [`crate::store::outbox::Outbox`]).
    pub fn outbox(&self) -> Result<crate::store::outbox::Outbox, RuntimeError> {
        match self {
            Reads::File(db) => crate::store::outbox::Outbox::open(db),
            Reads::Pg(pg) => Ok(crate::store::outbox::Outbox::on_postgres(PgStore::reader(
                &pg.url, &pg.city,
            )?)),
        }
    }
}
