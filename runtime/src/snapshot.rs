//! Snapshots of the state, so that start-up does not grow with the city's history.
//!
//! Every `snapshot_every` events the writer saves the state as JSON in the `snapshots`
//! table and then commits a `snapshot_taken` event holding the JSON's SHA-256. Opening
//! loads the newest snapshot whose event is in the log and matches it, and replays only
//! the events after it. A snapshot without its event (the process died in between) is
//! ignored; one whose content does not match its event was altered and is refused. Every
//! deployment is re-indexed and its shielding rules re-verified from the snapshot.

use crate::engine::{Absence, Document, ImportedInvoice, RuntimeError, State};
use paraaf_compiler::compile::CompiledProject;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Events between two snapshots.
pub const DEFAULT_EVERY: u64 = 10_000;

/// Version of the snapshot format; another version is ignored (full replay).
const FORMAT: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    projects: Vec<&'a CompiledProject>,
    documents: &'a imbl::OrdMap<String, Arc<Document>>,
    absences: &'a BTreeMap<String, Absence>,
    invoices: &'a imbl::OrdMap<String, Arc<ImportedInvoice>>,
    last_seq: u64,
    task_count: u64,
    absence_count: u64,
    organogram: &'a Option<crate::engine::OrgInForce>,
}

#[derive(Deserialize)]
struct SnapshotOwned {
    format: u32,
    projects: Vec<CompiledProject>,
    documents: imbl::OrdMap<String, Arc<Document>>,
    absences: BTreeMap<String, Absence>,
    invoices: imbl::OrdMap<String, Arc<ImportedInvoice>>,
    last_seq: u64,
    task_count: u64,
    absence_count: u64,
    #[serde(default)]
    organogram: Option<crate::engine::OrgInForce>,
}

/// The state as snapshot JSON.
pub fn encode(state: &State) -> Result<Vec<u8>, RuntimeError> {
    serde_json::to_vec(&SnapshotRef {
        format: FORMAT,
        projects: state.deployments.iter().map(|d| &*d.compiled).collect(),
        documents: &state.documents,
        absences: &state.absences,
        invoices: &state.invoices,
        last_seq: state.last_seq,
        task_count: state.task_count,
        absence_count: state.absence_count,
        organogram: &state.organogram,
    })
    .map_err(|e| RuntimeError::Storage(format!("cannot write a snapshot: {e}")))
}

/// The state a snapshot holds; `None` for another format version.
pub fn decode(body: &[u8]) -> Result<Option<State>, RuntimeError> {
    // The encoder writes the format first: another version is told without parsing.
    if !body.starts_with(format!("{{\"format\":{FORMAT},").as_bytes()) {
        return Ok(None);
    }
    let s: SnapshotOwned = serde_json::from_slice(body)
        .map_err(|e| RuntimeError::Tampered(format!("a snapshot is unreadable: {e}")))?;
    let mut state = State {
        documents: s.documents,
        absences: s.absences,
        invoices: s.invoices,
        last_seq: s.last_seq,
        task_count: s.task_count,
        absence_count: s.absence_count,
        ..State::default()
    };
    debug_assert_eq!(s.format, FORMAT);
    for p in s.projects {
        state.push_deployment(Arc::new(p));
    }
    state.organogram = s.organogram;
    state.reindex_deployments();
    state.reindex();
    Ok(Some(state))
}
