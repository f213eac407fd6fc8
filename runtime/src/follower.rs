//! A read server's view of a city on PostgreSQL while another process writes it: the
//! state loaded as the writer loads it (the newest valid snapshot and the events after
//! it), then each new event folded in after the same chain checks a replay makes, so a
//! read server never shows an event it did not verify. [`crate::api::Writer::follow`]
//! publishes it to the handlers exactly as the writer thread publishes its own, and takes
//! over as the writer when the city's writer lock comes free.

pub mod forward;

use crate::backend::{Backend, StoreAddress};
use crate::checkpoint::HASH_PREFIX;
use crate::engine::{RuntimeError, State};
use crate::pg_store::PgStore;

/// What a read server followed and verified: the hashes of the events from `from` to
/// its head, as they were when it folded them (the first is the head it loaded). The
/// writer it becomes checks the log against them when it takes the lock
/// ([`crate::Runtime::expect_witnessed`]).
#[derive(Clone, Debug, Default)]
pub struct Witnessed {
    /// The first event whose hash is kept (0: none yet).
    pub from: u64,
    /// The first [`HASH_PREFIX`] characters of each event's hash, `from` to the head.
    pub prefixes: String,
    /// The last event folded and its whole hash.
    pub head: (u64, String),
}

impl Witnessed {
    /// Starts from the head a follower loaded (`seq`, its `hash`).
    fn starting_at(seq: u64, hash: &str) -> Witnessed {
        let mut w = Witnessed {
            from: seq,
            prefixes: String::new(),
            head: (seq, hash.to_string()),
        };
        if seq > 0 {
            w.prefixes.push_str(prefix(hash));
        }
        w
    }

    /// Adds the events folded after the head (`hashes`, in order).
    fn extend(&mut self, hashes: &[(u64, String)]) {
        for (seq, hash) in hashes {
            if self.from == 0 {
                self.from = *seq;
            }
            self.prefixes.push_str(prefix(hash));
            self.head = (*seq, hash.clone());
        }
    }

    /// Why the log in `store` (ending at event `log_head`) does not agree with what was
    /// witnessed, if it does not: events removed, or one of them with another hash now.
    pub fn disagrees(
        &self,
        store: &Backend,
        log_head: u64,
    ) -> Result<Option<String>, RuntimeError> {
        let (seq, hash) = &self.head;
        if *seq == 0 || self.from == 0 {
            return Ok(None);
        }
        if log_head < *seq {
            return Ok(Some(format!(
                "the log ends at event {log_head}, but this server followed and verified events up to {seq} as they were committed: events were removed (an older copy restored, or rows deleted); nothing is signed and nothing written"
            )));
        }
        let (prefixes, last) = store.hash_prefixes(self.from, *seq)?;
        if prefixes != self.prefixes || last != *hash {
            let at = prefixes
                .as_bytes()
                .chunks(HASH_PREFIX)
                .zip(self.prefixes.as_bytes().chunks(HASH_PREFIX))
                .position(|(a, b)| a != b)
                .map_or(*seq, |i| self.from + i as u64);
            return Ok(Some(format!(
                "event {at} is not in the log as this server followed and verified it when it was committed: the log was rewritten under it (events {}–{seq} were seen); nothing is signed and nothing written",
                self.from
            )));
        }
        Ok(None)
    }

    /// The note signed with a taken-in tail that ends after `signed` (the last event a
    /// checkpoint covers): which of its events this server saw committed.
    pub fn note(&self, signed: u64) -> Option<String> {
        let (seq, _) = self.head;
        let from = self.from.max(signed + 1);
        (self.from > 0 && seq >= from).then(|| {
            format!(
                "; events {from}–{seq} of them were followed and verified as they were committed by the read server that took over, and were still in the log as it saw them"
            )
        })
    }
}

/// The part of a hash a checkpoint line keeps.
fn prefix(hash: &str) -> &str {
    &hash[..HASH_PREFIX.min(hash.len())]
}

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
    /// The hashes of what was folded.
    witnessed: Witnessed,
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
        let witnessed = Witnessed::starting_at(state.last_seq, &prev);
        Ok(Follower {
            url: url.clone(),
            city: city.clone(),
            store: Some(store),
            state,
            prev,
            tampered: None,
            witnessed,
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

    /// Stops following for good: the log changed under what was folded (`why`, found
    /// when this server tried to take over).
    pub fn stop(&mut self, why: String) {
        self.tampered.get_or_insert(why);
    }

    /// The hashes of every event folded, as verified when it was committed.
    pub fn witnessed(&self) -> &Witnessed {
        &self.witnessed
    }

    /// Folds the events committed since the last call. `Ok(true)` when any came. A row
    /// that fails the chain's checks, or the last event folded no longer in the log with
    /// the hash it had, stops following for good ([`Follower::tampered`]):
    /// the state stays as it was verified. A lost connection is opened again on the
    /// next call.
    pub fn catch_up(&mut self) -> Result<bool, RuntimeError> {
        if let Some(why) = &self.tampered {
            return Err(RuntimeError::Tampered(why.clone()));
        }
        let mut next = self.state.clone();
        let prev = self.prev.clone();
        match self.with_store(|s| s.follow(&mut next, &prev)) {
            Ok(hashes) if hashes.is_empty() => Ok(false),
            Ok(hashes) => {
                self.state = next;
                self.witnessed.extend(&hashes);
                self.prev = self.witnessed.head.1.clone();
                Ok(true)
            }
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
