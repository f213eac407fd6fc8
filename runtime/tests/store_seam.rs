//! What the runtime asks of its store, on both stores (SQLite and a city on PostgreSQL,
//! see `stores`): a batch's idempotency records and the mails its events cause commit
//! with its events and are read back after a reopen; `admin rebuild` gives back the
//! projection the commits wrote; one writer at a time; a log changed under its writer
//! stops it.

mod stores;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_runtime::engine::{Emitter, RuntimeError, Submission};
use paraaf_runtime::runtime::BatchItem;
use paraaf_runtime::store::Idempotency;
use std::path::Path;
use stores::each_store;

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn submission(uploader: &str, i: u64) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
        fields: [
            ("dienst".to_string(), serde_json::json!("sport")),
            ("bron".to_string(), serde_json::json!("notula")),
            (
                "titel".to_string(),
                serde_json::json!(format!("Aankoop {i}")),
            ),
            ("bedrag".to_string(), serde_json::json!("100")),
        ]
        .into(),
        content_sha256: "0".repeat(64),
        title: format!("besluit {i}"),
        flow: None,
    }
}

/// The idempotency record of the `i`-th request of `person`.
fn record(person: &str, i: u64) -> Idempotency {
    Idempotency {
        person: person.into(),
        key: format!("key-{i}"),
        request_sha256: format!("{i:064}"),
        status: 201,
        response: format!("{{\"n\":{i}}}"),
    }
}

#[test]
fn a_batch_commits_its_idempotency_records_and_mails_and_rebuild_gives_its_projection() {
    each_store("seam-batch", |db| {
        let p = project();
        let uploader = p.organogram.people[20].id.clone();
        let mut rt = db.runtime("batch");
        rt.execute(t0(), |e| e.deploy(p.clone())).unwrap();
        let items: Vec<BatchItem<String>> = (1..=3)
            .map(|i| {
                let s = submission(&uploader, i);
                let rec = record(&uploader, i);
                Box::new(move |e: &mut Emitter| (e.submit(s), Some(rec))) as BatchItem<String>
            })
            .collect();
        let docs: Vec<String> = rt
            .execute_batch(t0() + Duration::hours(1), items)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(docs.len(), 3);

        // The records are there for the writer, and for a reader after it closes.
        let found = rt
            .store()
            .idempotency(&["someone-else".into(), uploader.clone()], "key-2")
            .unwrap();
        assert_eq!(found, Some(record(&uploader, 2)));
        assert_eq!(
            rt.store()
                .idempotency(&["someone-else".into()], "key-2")
                .unwrap(),
            None
        );
        let state = rt.state().clone();
        drop(rt);
        let store = db.store("batch");
        assert_eq!(
            store
                .idempotency(std::slice::from_ref(&uploader), "key-3")
                .unwrap(),
            Some(record(&uploader, 3))
        );

        // Every assignee of each new document's open tasks has its mail in the outbox,
        // written with the events.
        for doc in &docs {
            let d = &state.documents[doc.as_str()];
            assert!(!d.tasks.is_empty(), "{doc} has tasks");
            for person in d.tasks.iter().flat_map(|t| &t.spec.assignees) {
                let mails: u64 = db
                    .text(
                        "batch",
                        &format!(
                            "SELECT count(*) FROM outbox WHERE channel = 'mail' AND recipient = '{person}'"
                        ),
                    )
                    .parse()
                    .unwrap();
                assert!(mails >= 1, "no mail to {person} about {doc}");
            }
        }

        // The projection the commits wrote is the one a rebuild from the log writes.
        let written = store.projection_rows().unwrap();
        assert!(
            docs.iter()
                .all(|d| written.iter().any(|r| r.starts_with(d))),
            "{written:?}"
        );
        drop(store);
        let mut rt = db.runtime("batch");
        let rebuilt = rt.rebuild().unwrap().clone();
        assert_eq!(
            paraaf_runtime::snapshot::encode(&rebuilt).unwrap(),
            paraaf_runtime::snapshot::encode(&state).unwrap()
        );
        assert_eq!(rt.store().projection_rows().unwrap(), written);
    });
}

#[test]
fn one_writer_at_a_time_and_a_log_changed_under_it_stops_it() {
    each_store("seam-writer", |db| {
        let p = project();
        let uploader = p.organogram.people[20].id.clone();
        let mut writer = db.runtime("writer");
        writer.execute(t0(), |e| e.deploy(p.clone())).unwrap();
        let s = submission(&uploader, 1);
        writer.execute(t0(), |e| e.submit(s)).unwrap();

        // A second runtime of the same city reads, and is refused as a writer.
        let mut second = db.runtime("writer");
        assert_eq!(second.state().last_seq, writer.state().last_seq);
        let s = submission(&uploader, 2);
        match second.execute(t0(), |e| e.submit(s)) {
            Err(RuntimeError::Locked(_)) => {}
            other => panic!("a second writer was not refused: {other:?}"),
        }
        drop(second);

        // The writer's last event removed behind its back: it appends nothing more.
        let head = db.store("writer").head().unwrap().0;
        db.sql("writer", &format!("DELETE FROM events WHERE seq = {head}"));
        let s = submission(&uploader, 3);
        match writer.execute(t0(), |e| e.submit(s)) {
            Err(RuntimeError::Tampered(why)) => {
                assert!(why.contains("gone from the log"), "{why}")
            }
            other => panic!("the writer went on: {other:?}"),
        }
        assert_eq!(db.store("writer").head().unwrap().0, head - 1);
    });
}
