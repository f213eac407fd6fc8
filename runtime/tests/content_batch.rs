//! Content in a group commit (#25 item 7): in one batch, a refused submission takes its
//! staged content back with it while the accepted ones keep theirs, in their commit.

mod support;

use paraaf_runtime::engine::Emitter;
use paraaf_runtime::runtime::BatchItem;
use support::content::{city, now, submission};

#[test]
fn a_refused_submission_in_a_batch_keeps_no_content() {
    let (mut rt, db, uploader) = city("content-batch");
    let now = now();
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
