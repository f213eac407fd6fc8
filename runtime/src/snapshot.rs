//! Snapshots of the state, so that start-up does not grow with the city's history.
//!
//! Every `snapshot_every` events (and at least once per document, see [`interval`]) the
//! writer saves the state in the `snapshots` table (deflated JSON in sections, decoded
//! in parallel at open) and then commits a `snapshot_taken` event holding the body's
//! SHA-256. Opening
//! loads the newest snapshot whose event is in the log and matches it, and replays only
//! the events after it. A snapshot without its event (the process died in between) is
//! ignored; one whose content does not match its event was altered and is refused. Every
//! deployment is re-indexed and its shielding rules re-verified from the snapshot.

use crate::engine::{Absence, Document, ImportedInvoice, RuntimeError, State};
use paraaf_compiler::compile::CompiledProject;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Events between two snapshots (at least; see [`interval`]).
pub const DEFAULT_EVERY: u64 = 10_000;

/// Events between two snapshots of `state`: at least `every`, and at least one event
/// per document, so the snapshot's share of each commit stays the same as the city's
/// state grows, while the events replayed at open stay bounded by the state's size.
pub fn interval(every: u64, state: &State) -> u64 {
    every.max(state.documents.len() as u64).max(2)
}

/// Version of the JSON snapshot format (read, no longer written).
const FORMAT: u32 = 1;

/// Start of a snapshot in the sectioned format: a header section, then the documents in
/// chunks, each section a length (8 bytes, little-endian) and deflated JSON. Chunks
/// decode on every core at open, and the deflated body is a fraction of the JSON the
/// writer would otherwise put through each commit's fsync.
const MAGIC: &[u8] = b"PARAAF-SNAPSHOT-2\n";

/// Documents per chunk.
const CHUNK: usize = 4_096;

/// The JSON format, as stop 18's writers wrote it (kept to test that it still opens).
#[cfg(test)]
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

/// Everything but the documents (section 0 of the sectioned format).
#[derive(Serialize)]
struct HeadRef<'a> {
    projects: Vec<&'a CompiledProject>,
    absences: &'a BTreeMap<String, Absence>,
    invoices: &'a imbl::OrdMap<String, Arc<ImportedInvoice>>,
    last_seq: u64,
    task_count: u64,
    absence_count: u64,
    organogram: &'a Option<crate::engine::OrgInForce>,
    documents: usize,
}

#[derive(Deserialize)]
struct HeadOwned {
    projects: Vec<CompiledProject>,
    absences: BTreeMap<String, Absence>,
    invoices: imbl::OrdMap<String, Arc<ImportedInvoice>>,
    last_seq: u64,
    task_count: u64,
    absence_count: u64,
    organogram: Option<crate::engine::OrgInForce>,
    documents: usize,
}

fn storage(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Storage(format!("cannot write a snapshot: {e}"))
}

fn unreadable(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Tampered(format!("a snapshot is unreadable: {e}"))
}

/// Appends one section: its length, then `value` as deflated JSON.
fn section(out: &mut Vec<u8>, value: &impl Serialize) -> Result<(), RuntimeError> {
    use std::io::Write;
    // JSON first, then deflated in one go: flate2 run on each of serde's small writes
    // spent most of its time clearing buffers.
    let json = serde_json::to_vec(value).map_err(storage)?;
    let mut z = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(json.len() / 4),
        flate2::Compression::fast(),
    );
    z.write_all(&json).map_err(storage)?;
    let bytes = z.finish().map_err(storage)?;
    z_len(out, bytes.len());
    out.extend_from_slice(&bytes);
    Ok(())
}

fn z_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

/// The state as a snapshot body.
pub fn encode(state: &State) -> Result<Vec<u8>, RuntimeError> {
    let mut out = MAGIC.to_vec();
    section(
        &mut out,
        &HeadRef {
            projects: state.deployments.iter().map(|d| &*d.compiled).collect(),
            absences: &state.absences,
            invoices: &state.invoices,
            last_seq: state.last_seq,
            task_count: state.task_count,
            absence_count: state.absence_count,
            organogram: &state.organogram,
            documents: state.documents.len(),
        },
    )?;
    let docs: Vec<(&String, &Arc<Document>)> = state.documents.iter().collect();
    for chunk in docs.chunks(CHUNK) {
        section(&mut out, &chunk)?;
    }
    Ok(out)
}

/// The sections of a sectioned body, deflated.
fn sections(mut body: &[u8]) -> Result<Vec<&[u8]>, RuntimeError> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let (len, rest) = body
            .split_first_chunk::<8>()
            .ok_or_else(|| unreadable("a section is cut"))?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(unreadable)?;
        if len > rest.len() {
            return Err(unreadable("a section is cut"));
        }
        out.push(&rest[..len]);
        body = &rest[len..];
    }
    Ok(out)
}

fn inflate<T: serde::de::DeserializeOwned>(section: &[u8]) -> Result<T, RuntimeError> {
    use std::io::Read;
    // Inflated whole, then parsed from the slice (serde_json is fastest on a slice).
    let mut json = Vec::with_capacity(section.len() * 4);
    flate2::read::DeflateDecoder::new(section)
        .read_to_end(&mut json)
        .map_err(unreadable)?;
    serde_json::from_slice(&json).map_err(unreadable)
}

/// The state a snapshot holds; `None` for another format version.
pub fn decode(body: &[u8]) -> Result<Option<State>, RuntimeError> {
    if let Some(rest) = body.strip_prefix(MAGIC) {
        return decode_sections(rest).map(Some);
    }
    // The JSON encoder wrote the format first: another version is told without parsing.
    if !body.starts_with(format!("{{\"format\":{FORMAT},").as_bytes()) {
        return Ok(None);
    }
    let s: SnapshotOwned = serde_json::from_slice(body).map_err(unreadable)?;
    debug_assert_eq!(s.format, FORMAT);
    let state = State {
        documents: s.documents,
        absences: s.absences,
        invoices: s.invoices,
        last_seq: s.last_seq,
        task_count: s.task_count,
        absence_count: s.absence_count,
        ..State::default()
    };
    Ok(Some(finish(state, s.projects, s.organogram)))
}

fn decode_sections(body: &[u8]) -> Result<State, RuntimeError> {
    let parts = sections(body)?;
    let (head, chunks) = parts.split_first().ok_or_else(|| unreadable("no header"))?;
    let head: HeadOwned = inflate(head)?;
    // The chunks on every core, in order.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let per = chunks.len().div_ceil(threads).max(1);
    type Chunk = Vec<(String, Arc<Document>)>;
    let decoded: Vec<Result<Vec<Chunk>, RuntimeError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .chunks(per)
            .map(|group| scope.spawn(move || group.iter().map(|c| inflate(c)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(unreadable("a chunk could not be read")))
            })
            .collect()
    });
    let mut documents = imbl::OrdMap::new();
    for group in decoded {
        for chunk in group? {
            for (id, doc) in chunk {
                documents.insert(id, doc);
            }
        }
    }
    if documents.len() != head.documents {
        return Err(unreadable(format!(
            "it holds {} documents, its header says {}",
            documents.len(),
            head.documents
        )));
    }
    let state = State {
        documents,
        absences: head.absences,
        invoices: head.invoices,
        last_seq: head.last_seq,
        task_count: head.task_count,
        absence_count: head.absence_count,
        ..State::default()
    };
    Ok(finish(state, head.projects, head.organogram))
}

/// Re-indexes the deployments (and re-verifies their shielding) and the open tasks.
fn finish(
    mut state: State,
    projects: Vec<CompiledProject>,
    organogram: Option<crate::engine::OrgInForce>,
) -> State {
    for p in projects {
        state.push_deployment(Arc::new(p));
    }
    state.organogram = organogram;
    state.reindex_deployments();
    state.reindex();
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_documents(n: usize) -> State {
        let mut state = State::default();
        for i in 0..n {
            let doc = Document {
                id: format!("d-{i}"),
                version: 1,
                flow: "collegebesluit".into(),
                kind: "besluit".into(),
                uploader: "hans-segers".into(),
                title: format!("besluit {i} — é\u{a0}🙂"),
                fields: [("bedrag".to_string(), serde_json::json!("12"))].into(),
                content_sha256: "0".repeat(64),
                status: crate::engine::Status::InProgress,
                step: 0,
                tasks: Vec::new(),
                signers: Default::default(),
                comments: Vec::new(),
                events: vec![i as u64],
                submitted_at: chrono::DateTime::UNIX_EPOCH,
            };
            state.documents.insert(doc.id.clone(), Arc::new(doc));
        }
        state.last_seq = 7 * n as u64;
        state.task_count = 3;
        state
    }

    /// Several chunks (decoded in parallel) give back the same documents in order.
    #[test]
    fn sections_round_trip() {
        let state = state_with_documents(CHUNK * 2 + 17);
        let body = encode(&state).unwrap();
        assert!(body.starts_with(MAGIC));
        let back = decode(&body).unwrap().unwrap();
        assert_eq!(back.last_seq, state.last_seq);
        assert_eq!(back.task_count, 3);
        assert_eq!(back.documents.len(), state.documents.len());
        for ((a, da), (b, db)) in back.documents.iter().zip(state.documents.iter()) {
            assert_eq!((a, &da.title), (b, &db.title));
        }
    }

    /// A cut or altered body is refused, never half-read.
    #[test]
    fn a_damaged_body_is_refused() {
        let body = encode(&state_with_documents(CHUNK + 1)).unwrap();
        for cut in [body.len() - 1, body.len() / 2, MAGIC.len() + 3] {
            assert!(decode(&body[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = body.clone();
        let at = body.len() - 20;
        flipped[at] ^= 0x55;
        assert!(decode(&flipped).is_err());
    }

    /// A snapshot in the JSON format of earlier versions still opens.
    #[test]
    fn the_json_format_still_opens() {
        let state = state_with_documents(3);
        let body = serde_json::to_vec(&SnapshotRef {
            format: FORMAT,
            projects: Vec::new(),
            documents: &state.documents,
            absences: &state.absences,
            invoices: &state.invoices,
            last_seq: state.last_seq,
            task_count: state.task_count,
            absence_count: state.absence_count,
            organogram: &state.organogram,
        })
        .unwrap();
        let back = decode(&body).unwrap().unwrap();
        assert_eq!(back.documents.len(), 3);
        assert_eq!(back.last_seq, 21);
    }
}
