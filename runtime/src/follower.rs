//! A read server's view of a city on PostgreSQL while another process writes it: the
//! state loaded as the writer loads it (the newest valid snapshot and the events after
//! it), then each new event folded in after the same chain checks a replay makes, so a
//! read server never shows an event it did not verify. [`crate::api::Writer::follow`]
//! publishes it to the handlers exactly as the writer thread publishes its own, and takes
//! over as the writer when the city's writer lock comes free.

pub mod forward;

use crate::backend::StoreAddress;
use crate::engine::{RuntimeError, State};
use crate::pg_store::PgStore;

/// The folded state of a city written by another process.
pub struct Follower {
    url: String,
    city: String,
    /// `None` after the connection failed, until the next successful reconnect.
    store: Option<PgStore>,
    state: State,
    /// The hash of event `state.last_seq`.
    prev: String,
    /// Why following stopped: the log no longer matches what was folded.
    tampered: Option<String>,
}

impl Follower {
    /// Loads the city at `address` (only a city on PostgreSQL has other servers to
    /// follow).
    pub fn open(address: &StoreAddress) -> Result<Follower, RuntimeError> {
        let StoreAddress::Postgres { url, city } = address else {
            return Err(RuntimeError::Invalid(format!(
                "{address} is a SQLite file: only a city in PostgreSQL is served by many servers"
            )));
        };
        let mut store = PgStore::reader(url, city)?;
        let state = store.load()?;
        let prev = store.hash_of(state.last_seq)?;
        Ok(Follower {
            url: url.clone(),
            city: city.clone(),
            store: Some(store),
            state,
            prev,
            tampered: None,
        })
    }

    /// The state folded so far.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The last event folded and its hash.
    pub fn head(&self) -> (u64, String) {
        (self.state.last_seq, self.prev.clone())
    }

    /// Why following stopped, if it did: the log changed under what was folded.
    pub fn tampered(&self) -> Option<&str> {
        self.tampered.as_deref()
    }

    /// Folds the events committed since the last call. `Ok(true)` when any came. A row
    /// that fails the chain's checks stops following for good ([`Follower::tampered`]):
    /// the state stays as it was verified. A lost connection is opened again on the
    /// next call.
    pub fn catch_up(&mut self) -> Result<bool, RuntimeError> {
        if let Some(why) = &self.tampered {
            return Err(RuntimeError::Tampered(why.clone()));
        }
        let mut next = self.state.clone();
        let prev = self.prev.clone();
        match self.with_store(|s| s.follow(&mut next, &prev)) {
            Ok(Some(hash)) => {
                self.state = next;
                self.prev = hash;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(RuntimeError::Tampered(why)) => {
                self.tampered = Some(why.clone());
                Err(RuntimeError::Tampered(why))
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the city's writer lock is free now.
    pub fn writer_lock_free(&mut self) -> Result<bool, RuntimeError> {
        self.with_store(PgStore::writer_lock_free)
    }

    /// Where the city's writer takes writes (see [`PgStore::writer_address`]).
    pub fn writer_address(&mut self) -> Result<Option<String>, RuntimeError> {
        self.with_store(PgStore::writer_address)
    }

    /// Records `address` as the writer's (called once this process holds the lock; see
    /// [`PgStore::advertise`]).
    pub fn advertise(&mut self, address: &str) -> Result<(), RuntimeError> {
        self.with_store(|s| s.advertise(address))
    }

    /// Runs `f` on the connection, connecting again first when the last call lost it;
    /// a storage error drops the connection.
    fn with_store<T>(
        &mut self,
        f: impl FnOnce(&mut PgStore) -> Result<T, RuntimeError>,
    ) -> Result<T, RuntimeError> {
        let store = match &mut self.store {
            Some(s) => s,
            None => self.store.insert(PgStore::reader(&self.url, &self.city)?),
        };
        let r = f(store);
        if matches!(r, Err(RuntimeError::Storage(_))) {
            self.store = None;
        }
        r
    }
}
