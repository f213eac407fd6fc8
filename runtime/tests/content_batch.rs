//! Content in a group commit (#25 item 7): in one batch, a refused submission takes its
//! staged content back with it while the accepted ones keep theirs, in their commit.

use chrono::{TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::engine::{Emitter, Submission};
use paraaf_runtime::runtime::BatchItem;
use std::path::Path;

fn submission(uploader: &str, bedrag: &str, sha: &str) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
        fields: [
            ("dienst".to_string(), serde_json::json!("bevolking")),
            ("bron".to_string(), serde_json::json!("notula")),
            ("titel".to_string(), serde_json::json!("Aankoop")),
            ("bedrag".to_string(), serde_json::json!(bedrag)),
        ]
        .into(),
        content_sha256: sha.into(),
        title: "Aankoop".into(),
        flow: None,
    }
}

#[test]
fn a_refused_submission_in_a_batch_keeps_no_content() {
    let dir = std::env::temp_dir().join(format!("paraaf-content-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("city.db");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project
        .organogram
        .people
        .iter()
        .find(|p| p.id.contains('-'))
        .unwrap()
        .id
        .clone();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let mut rt = Runtime::open(&db, Default::default()).unwrap();
    rt.execute(now, |e| e.deploy(project.clone())).unwrap();
    let staged = |n: u32| {
        paraaf_runtime::contents::stage(&uploader, format!("%PDF-1.4 document {n}").into_bytes())
            .unwrap()
    };
    let (a, b, c) = (staged(1), staged(2), staged(3));
    let (sa, sb, sc) = (a.sha256.clone(), b.sha256.clone(), c.sha256.clone());
    let mut items: Vec<BatchItem<()>> = Vec::new();
    for (content, bedrag, sha) in [
        (a, "10", sa.clone()),
        (b, "veel", sb.clone()),
        (c, "20", sc.clone()),
    ] {
        let s = submission(&uploader, bedrag, &sha);
        items.push(Box::new(move |e: &mut Emitter| {
            e.contents.push(content);
            (e.submit(s).map(|_| ()), None)
        }));
    }
    let results = rt.execute_batch(now, items);
    assert!(
        results[0].is_ok() && results[1].is_err() && results[2].is_ok(),
        "{results:?}"
    );
    drop(rt);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let file =
        rusqlite::Connection::open(paraaf_runtime::store::content_file::path_of(&db)).unwrap();
    let stored: Vec<String> = file
        .prepare("SELECT sha256 FROM contents ORDER BY sha256")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut want = vec![sa, sc];
    want.sort();
    assert_eq!(
        stored, want,
        "the refused submission's content ({sb}) must not be kept"
    );
    let owners: i64 = conn
        .query_row("SELECT count(*) FROM content_owners", [], |r| r.get(0))
        .unwrap();
    assert_eq!(owners, 2);
}
