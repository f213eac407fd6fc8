//! Snapshots of the state, so that start-up does not grow with the city's history.
//!
//! Every `snapshot_every` events (more apart as the city grows, at most [`MAX_LAG`], see
//! [`interval`]) the writer saves the state in the `snapshots` table (MessagePack in lz4
//! sections, decoded in parallel at open; the deflated JSON of earlier versions still
//! opens) and then commits a `snapshot_taken` event holding the body's SHA-256. Opening
//! loads the newest snapshot whose event is in the log and matches it, and replays only
//! the events after it. A snapshot without its event (the process died in between) is
//! ignored; one whose content does not match its event was altered and is refused. Every
//! deployment is re-indexed and its shielding rules re-verified from the snapshot.

use crate::engine::{Absence, Document, ImportedInvoice, RuntimeError, State};
use paraaf_model::CompiledProject;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Events between two snapshots (at least; see [`interval`]).
pub const DEFAULT_EVERY: u64 = 10_000;

/// The most events a snapshot lags behind the head by policy (unless `every` is set
/// higher): replaying them costs under a fifth of a second on 2 cores, so opening stays
/// bounded by the state however large the city grows (the lag once grew with it, to
/// 150,000 events behind; 50,000 cost a quarter of the open of a 1M-event log).
pub const MAX_LAG: u64 = 20_000;

/// Events between two snapshots of `state`: at least `every`, and one event per document
/// up to [`MAX_LAG`], so the snapshot's share of each commit stays the same as a small
/// city grows, while snapshots are taken at most `MAX_LAG` (or `every`) events apart.
pub fn interval(every: u64, state: &State) -> u64 {
    every
        .max((state.documents.len() as u64).min(MAX_LAG))
        .max(2)
}

/// Version of the JSON snapshot format (read, no longer written).
const FORMAT: u32 = 1;

/// Start of a snapshot in the sectioned format of deflated JSON (read, no longer
/// written): a header section, then the documents in chunks, each section a length (8
/// bytes, little-endian) and deflated JSON. Chunks decode on every core at open.
const MAGIC: &[u8] = b"PARAAF-SNAPSHOT-2\n";

/// Start of a snapshot in the format written now: the same sections, each a length and
/// an lz4 block (its inflated length first, 4 bytes) of MessagePack with named fields.
/// No text to parse and no inflating: opening 1M events' state took 10–40% less time and
/// 15% less memory than from deflated JSON (`cargo bench -p paraaf-runtime --bench
/// startup`, docs/operations.md).
const MAGIC_MSGPACK: &[u8] = b"PARAAF-SNAPSHOT-3\n";

/// How a snapshot body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Sections of deflated JSON (`PARAAF-SNAPSHOT-2`), as written before #25.
    DeflatedJson,
    /// Sections of MessagePack in lz4 blocks (`PARAAF-SNAPSHOT-3`), written now.
    MessagePack,
}

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
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    notify: &'a BTreeMap<String, crate::engine::NotifyMode>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    lost_payments: &'a BTreeMap<String, crate::engine::LostEntry>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    settled_runs: &'a BTreeMap<String, bool>,
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
    #[serde(default)]
    notify: BTreeMap<String, crate::engine::NotifyMode>,
    #[serde(default)]
    lost_payments: BTreeMap<String, crate::engine::LostEntry>,
    #[serde(default)]
    settled_runs: BTreeMap<String, bool>,
}

fn storage(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Storage(format!("cannot write a snapshot: {e}"))
}

fn unreadable(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Tampered(format!("a snapshot is unreadable: {e}"))
}

/// Appends one section: its length, then `value` in `format`.
fn section(out: &mut Vec<u8>, format: Format, value: &impl Serialize) -> Result<(), RuntimeError> {
    let bytes = match format {
        Format::DeflatedJson => {
            use std::io::Write;
            // JSON first, then deflated in one go: flate2 run on each of serde's small
            // writes spent most of its time clearing buffers.
            let json = serde_json::to_vec(value).map_err(storage)?;
            let mut z = flate2::write::DeflateEncoder::new(
                Vec::with_capacity(json.len() / 4),
                flate2::Compression::fast(),
            );
            z.write_all(&json).map_err(storage)?;
            z.finish().map_err(storage)?
        }
        Format::MessagePack => {
            // Named fields (maps, not arrays): the Task's flatten and the fields skipped
            // when empty read back, and a field added later reads with its default.
            let packed = rmp_serde::to_vec_named(value).map_err(storage)?;
            lz4_flex::block::compress_prepend_size(&packed)
        }
    };
    z_len(out, bytes.len());
    out.extend_from_slice(&bytes);
    Ok(())
}

fn z_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

/// The state as a snapshot body, in the format written now.
pub fn encode(state: &State) -> Result<Vec<u8>, RuntimeError> {
    encode_as(state, Format::MessagePack)
}

/// The state as a snapshot body in `format` (the older one for tests and the startup
/// bench, which opens both).
pub fn encode_as(state: &State, format: Format) -> Result<Vec<u8>, RuntimeError> {
    let mut out = match format {
        Format::DeflatedJson => MAGIC.to_vec(),
        Format::MessagePack => MAGIC_MSGPACK.to_vec(),
    };
    section(
        &mut out,
        format,
        &HeadRef {
            projects: state.deployments.iter().map(|d| &*d.compiled).collect(),
            absences: &state.absences,
            invoices: &state.invoices,
            last_seq: state.last_seq,
            task_count: state.task_count,
            absence_count: state.absence_count,
            organogram: &state.organogram,
            documents: state.documents.len(),
            notify: &state.notify,
            lost_payments: &state.lost_payments,
            settled_runs: &state.settled_runs,
        },
    )?;
    let docs: Vec<(&String, &Arc<Document>)> = state.documents.iter().collect();
    for chunk in docs.chunks(CHUNK) {
        section(&mut out, format, &chunk)?;
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

fn unpack<T: serde::de::DeserializeOwned>(section: &[u8]) -> Result<T, RuntimeError> {
    // lz4 expands at most 255 times: a larger length in front is refused before anything
    // is allocated for it.
    let (len, block) = section
        .split_first_chunk::<4>()
        .ok_or_else(|| unreadable("a section is cut"))?;
    if u32::from_le_bytes(*len) as usize > block.len().saturating_mul(255) + 16 {
        return Err(unreadable("a section claims more than it can hold"));
    }
    let packed = lz4_flex::block::decompress_size_prepended(section).map_err(unreadable)?;
    rmp_serde::from_slice(&packed).map_err(unreadable)
}

/// The state a snapshot holds; `None` for another format version.
pub fn decode(body: &[u8]) -> Result<Option<State>, RuntimeError> {
    if let Some(rest) = body.strip_prefix(MAGIC_MSGPACK) {
        return decode_sections(rest, Format::MessagePack).map(Some);
    }
    if let Some(rest) = body.strip_prefix(MAGIC) {
        return decode_sections(rest, Format::DeflatedJson).map(Some);
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

/// One section in `format`.
fn read_section<T: serde::de::DeserializeOwned>(
    section: &[u8],
    format: Format,
) -> Result<T, RuntimeError> {
    match format {
        Format::DeflatedJson => inflate(section),
        Format::MessagePack => unpack(section),
    }
}

fn decode_sections(body: &[u8], format: Format) -> Result<State, RuntimeError> {
    let parts = sections(body)?;
    let (head, chunks) = parts.split_first().ok_or_else(|| unreadable("no header"))?;
    let head: HeadOwned = read_section(head, format)?;
    // The chunks on every core, in order.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let per = chunks.len().div_ceil(threads).max(1);
    type Chunk = Vec<(String, Arc<Document>)>;
    // Each chunk's documents and their inbox entries, derived on the thread that read it.
    type Derived = (Chunk, Vec<(String, String)>);
    let derive = |c: &[u8]| -> Result<Derived, RuntimeError> {
        let mut docs: Chunk = read_section(c, format)?;
        let mut open = Vec::new();
        for (id, doc) in &mut docs {
            open.extend(
                Document::derive_loaded(doc)
                    .into_iter()
                    .map(|p| (p, id.clone())),
            );
        }
        Ok((docs, open))
    };
    let decoded: Vec<Result<Vec<Derived>, RuntimeError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .chunks(per)
            .map(|group| scope.spawn(move || group.iter().map(|c| derive(c)).collect()))
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
    let mut open = Vec::new();
    for group in decoded {
        for (chunk, pairs) in group? {
            for (id, doc) in chunk {
                documents.insert(id, doc);
            }
            open.extend(pairs);
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
        notify: head.notify,
        lost_payments: head.lost_payments,
        settled_runs: head.settled_runs,
        ..State::default()
    };
    let mut state = deployed(state, head.projects, head.organogram);
    state.index_open_tasks(open);
    Ok(state)
}

/// Re-indexes the deployments (and re-verifies their shielding) and the open tasks.
fn finish(
    state: State,
    projects: Vec<CompiledProject>,
    organogram: Option<crate::engine::OrgInForce>,
) -> State {
    let mut state = deployed(state, projects, organogram);
    state.reindex();
    state
}

/// The deployments re-indexed (and their shielding re-verified).
fn deployed(
    mut state: State,
    projects: Vec<CompiledProject>,
    organogram: Option<crate::engine::OrgInForce>,
) -> State {
    for p in projects {
        state.push_deployment(Arc::new(p));
    }
    state.organogram = organogram;
    state.reindex_deployments();
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
                sealed: None,
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
        assert!(body.starts_with(MAGIC_MSGPACK));
        let back = decode(&body).unwrap().unwrap();
        assert_eq!(back.last_seq, state.last_seq);
        assert_eq!(back.task_count, 3);
        assert_eq!(back.documents.len(), state.documents.len());
        for ((a, da), (b, db)) in back.documents.iter().zip(state.documents.iter()) {
            assert_eq!((a, &da.title), (b, &db.title));
        }
    }

    /// A cut or altered body is refused, never half-read, in either format.
    #[test]
    fn a_damaged_body_is_refused() {
        for format in [Format::MessagePack, Format::DeflatedJson] {
            let body = encode_as(&state_with_documents(CHUNK + 1), format).unwrap();
            for cut in [body.len() - 1, body.len() / 2, MAGIC.len() + 3] {
                assert!(decode(&body[..cut]).is_err(), "{format:?} cut at {cut}");
            }
            let mut flipped = body.clone();
            let at = body.len() - 20;
            flipped[at] ^= 0x55;
            assert!(decode(&flipped).is_err(), "{format:?}");
        }
    }

    /// A state with every optional part filled: tasks (flattened specs, a waiting
    /// escalation and none), a seal, JSON fields of every kind, absences, mail choices.
    fn rich_state() -> State {
        let mut state = state_with_documents(5);
        let spec = crate::engine::TaskSpec {
            id: "t-1".into(),
            role: "diensthoofd of bevolking".into(),
            signature: 1,
            holders: vec!["griet-vermeulen".into()],
            assignees: vec!["griet-vermeulen".into(), "jan-desmet".into()],
        };
        let task = crate::engine::Task {
            spec,
            step: 1,
            status: crate::engine::TaskStatus::Signed,
            opened_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::milliseconds(1_234),
            decided_by: Some(("jan-desmet".into(), Some("griet-vermeulen".into()))),
            reminded: true,
            escalated: true,
            escalated_to: vec!["an-peeters".into()],
            assigned: vec!["jan-desmet".into()],
            shield_refused: Some("buiten de groep".into()),
            escalation_waits: None,
        };
        let mut waiting = task.clone();
        waiting.escalation_waits = Some("niemand bekleedt de rol".into());
        waiting.decided_by = None;
        let mut doc = (*state.documents["d-1"]).clone();
        doc.tasks = vec![task, waiting];
        doc.fields = [
            ("bedrag".to_string(), serde_json::json!(-12.5)),
            ("aantal".to_string(), serde_json::json!(u64::MAX)),
            ("negatief".to_string(), serde_json::json!(-3)),
            ("leeg".to_string(), serde_json::Value::Null),
            (
                "lijst".to_string(),
                serde_json::json!([1, "twee", {"drie": true}]),
            ),
        ]
        .into();
        doc.signers = doc.current_signers(); // derived: reindexed at open
        doc.comments = vec![("jan-desmet".into(), "akkoord\n".into())];
        doc.sealed = Some(crate::engine::Sealed {
            sha256: "a".repeat(64),
            code: "ABCD-EFGH".into(),
            timestamped: true,
            at: chrono::DateTime::UNIX_EPOCH,
        });
        state.documents.insert(doc.id.clone(), Arc::new(doc));
        state.absences.insert(
            "a-1".into(),
            Absence {
                person: "griet-vermeulen".into(),
                from: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
                to: chrono::NaiveDate::from_ymd_opt(2026, 7, 31).unwrap(),
            },
        );
        state.absence_count = 1;
        state
            .notify
            .insert("jan-desmet".into(), crate::engine::NotifyMode::Immediate);
        let lost = crate::engine::LostPayment {
            run: "PARAAF-20261208-aa".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            proposal: serde_json::json!({"invoice": "F-1", "supplier": "0123456749"}),
            source: "the restore of nightly.db gave up events 8–8".into(),
        };
        state.lost_payments.insert(
            lost.key(),
            crate::engine::LostEntry {
                payment: lost,
                confirmed_paid: false,
            },
        );
        state.settled_runs.insert("PARAAF-20261207-bb".into(), true);
        state
    }

    /// MessagePack reads back everything the JSON format does: the state it gives
    /// encodes to the same deflated JSON as the original.
    #[test]
    fn messagepack_reads_back_what_json_does() {
        let state = rich_state();
        let body = encode(&state).unwrap();
        assert!(body.starts_with(MAGIC_MSGPACK));
        let back = decode(&body).unwrap().unwrap();
        assert_eq!(back.notify, state.notify);
        assert_eq!(back.lost_payments, state.lost_payments);
        assert_eq!(back.settled_runs, state.settled_runs);
        assert_eq!(
            serde_json::to_string(&back.documents).unwrap(),
            serde_json::to_string(&state.documents).unwrap()
        );
        assert_eq!(
            encode_as(&back, Format::DeflatedJson).unwrap(),
            encode_as(&state, Format::DeflatedJson).unwrap()
        );
    }

    /// A snapshot in the deflated JSON sections of earlier versions still opens.
    #[test]
    fn the_deflated_json_sections_still_open() {
        let state = rich_state();
        let body = encode_as(&state, Format::DeflatedJson).unwrap();
        assert!(body.starts_with(MAGIC));
        let back = decode(&body).unwrap().unwrap();
        assert_eq!(
            encode(&back).unwrap(),
            encode(&state).unwrap(),
            "the old format gives the same state"
        );
    }

    /// An lz4 section claiming more than lz4 can expand to is refused before anything
    /// is allocated for it.
    #[test]
    fn an_impossible_section_length_is_refused() {
        let mut body = MAGIC_MSGPACK.to_vec();
        let mut section = u32::MAX.to_le_bytes().to_vec();
        section.extend_from_slice(&[0u8; 16]);
        z_len(&mut body, section.len());
        body.extend_from_slice(&section);
        match decode(&body) {
            Err(RuntimeError::Tampered(why)) => assert!(why.contains("more than"), "{why}"),
            other => panic!("{:?}", other.map(|s| s.map(|s| s.last_seq))),
        }
    }

    /// The snapshot policy keeps the events replayed at open bounded: one snapshot per
    /// document's worth of events while the city is small, never more than `MAX_LAG`
    /// apart however many documents there are, and never closer than `every`.
    #[test]
    fn snapshots_lag_at_most_max_lag_behind() {
        let mut state = State::default();
        let doc = state_with_documents(1).documents["d-0"].clone();
        let mut check = |docs: usize, every: u64, expected: u64| {
            while state.documents.len() < docs {
                state
                    .documents
                    .insert(format!("d-{}", state.documents.len()), doc.clone());
            }
            assert_eq!(interval(every, &state), expected, "{docs} documents");
        };
        check(0, DEFAULT_EVERY, DEFAULT_EVERY);
        check(15_000, DEFAULT_EVERY, 15_000);
        check(MAX_LAG as usize + 1, DEFAULT_EVERY, MAX_LAG);
        check(150_000, DEFAULT_EVERY, MAX_LAG);
        check(150_000, 2 * MAX_LAG, 2 * MAX_LAG);
        check(150_000, 0, MAX_LAG);
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
