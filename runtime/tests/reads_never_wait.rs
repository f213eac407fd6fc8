//! Reads never hold up writes: a read keeps the committed state it started with (an
//! `Arc` of persistent maps) and runs on the blocking pool, while the writer thread goes
//! on committing. Here a read is held open until twenty submissions have committed:
//! were writes waiting for reads, the test would never finish (no time is measured).
//! Runs on both stores: the writer thread commits to a SQLite file or to a city in
//! PostgreSQL.

mod stores;

use chrono::{TimeZone, Utc};
use paraaf_runtime::api::{Answer, Write, Writer};
use paraaf_runtime::engine::Submission;
use std::path::Path;
use stores::{Stores, each_store};

fn submission(uploader: &str, i: usize) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
        fields: [
            ("dienst".to_string(), serde_json::json!("bevolking")),
            ("bron".to_string(), serde_json::json!("notula")),
            (
                "titel".to_string(),
                serde_json::json!(format!("besluit {i}")),
            ),
            ("bedrag".to_string(), serde_json::json!("100")),
        ]
        .into(),
        content_sha256: "0".repeat(64),
        title: format!("besluit {i}"),
        flow: None,
    }
}

#[test]
fn a_long_read_does_not_hold_up_writes() {
    each_store("reads-never-wait", a_long_read_on);
}

/// The body on one store: the runtime is opened outside the async runtime (PostgreSQL's
/// client blocks), the writer thread owns it from there.
fn a_long_read_on(db: &Stores) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project.organogram.people[20].id.clone();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let mut rt = db.runtime("reads");
    rt.execute(now, |e| e.deploy(project.clone())).unwrap();
    let writer = Writer::start(rt, Box::new(move || now), 16);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(reads_and_writes(writer, uploader));
}

async fn reads_and_writes(writer: Writer, uploader: String) {
    // A read that stays open until the writes below are done.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, reading) = tokio::sync::oneshot::channel::<()>();
    let reader = {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer
                .read(move |state| {
                    let _ = started.send(());
                    held.recv().unwrap();
                    Answer {
                        status: 200,
                        body: state.documents.len().to_string(),
                    }
                })
                .await
        })
    };
    reading.await.unwrap();
    for i in 0..20 {
        let s = submission(&uploader, i);
        let answer = writer
            .write(Write {
                person: uploader.clone(),
                idempotency: None,
                command: Box::new(move |e| {
                    e.submit(s).map(|id| Answer {
                        status: 201,
                        body: id,
                    })
                }),
            })
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    assert_eq!(writer.committed().documents.len(), 20);
    release.send(()).unwrap();
    // The read saw the state it started with, untouched by the writes.
    assert_eq!(reader.await.unwrap().body, "0");
}
