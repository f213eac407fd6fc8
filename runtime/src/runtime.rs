//! The runtime: a state rebuilt from the store, and commands that are committed to the
//! store before their effects become visible.

use crate::engine::{Emitter, RuntimeError, State};
use crate::store::{Idempotency, Store};
use crate::workdays::Calendar;
use chrono::{DateTime, Utc};
use std::path::Path;

/// A city's runtime on one database file.
pub struct Runtime {
    store: Store,
    state: State,
    /// Working days for deadlines.
    pub calendar: Calendar,
}

/// One command of a batch: runs against the emitter, and may ask to record an
/// idempotency response for its result.
pub type BatchItem<'a, T> =
    Box<dyn FnOnce(&mut Emitter) -> (Result<T, RuntimeError>, Option<Idempotency>) + Send + 'a>;

impl Runtime {
    /// Opens the database and replays the log.
    pub fn open(path: &Path, calendar: Calendar) -> Result<Runtime, RuntimeError> {
        let store = Store::open(path)?;
        let state = store.load()?;
        Ok(Runtime {
            store,
            state,
            calendar,
        })
    }

    /// The current state (everything in it is committed).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, mutably (rebuild).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Runs one command at `now` and commits its events (one transaction, one fsync).
    pub fn execute<T>(
        &mut self,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut Emitter) -> Result<T, RuntimeError> + Send,
    ) -> Result<T, RuntimeError> {
        let mut results = self.execute_batch(
            now,
            vec![Box::new(move |e: &mut Emitter| (f(e), None)) as BatchItem<T>],
        );
        results
            .pop()
            .unwrap_or(Err(RuntimeError::Storage("no result".into())))
    }

    /// Group commit: runs several commands and commits all their events in one
    /// transaction. Each command succeeds or fails on its own; a failed commit fails all.
    pub fn execute_batch<T>(
        &mut self,
        now: DateTime<Utc>,
        items: Vec<BatchItem<'_, T>>,
    ) -> Vec<Result<T, RuntimeError>> {
        let mut results = Vec::with_capacity(items.len());
        let mut idem = Vec::new();
        let mut events = Vec::new();
        let mut dirty = false;
        {
            let mut em = Emitter::new(&mut self.state, &self.calendar, now);
            for item in items {
                let before = em.events.len();
                let (r, record) = item(&mut em);
                if r.is_err() && em.events.len() != before {
                    dirty = true; // a command failed half-way: should not happen; reload below
                }
                if r.is_ok() {
                    idem.extend(record);
                }
                results.push(r);
            }
            events.append(&mut em.events);
        }
        let committed = if dirty {
            Err(RuntimeError::Storage(
                "a command failed after emitting events".into(),
            ))
        } else if events.is_empty() && idem.is_empty() {
            Ok(())
        } else {
            self.store.commit(&self.state, &events, &idem)
        };
        if let Err(e) = committed {
            // Nothing is visible: go back to what the log says.
            self.state = self.store.load().unwrap_or_default();
            return results.into_iter().map(|_| Err(e.clone())).collect();
        }
        results
    }
}
