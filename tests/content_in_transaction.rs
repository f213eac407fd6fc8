//! Content with the submission's commit (#25 item 7): the bytes are checked with the
//! submission, written to the content file (`DB.contents`) and synced before the event
//! that refers to them commits. Submissions the engine refuses (422) leave nothing
//! behind; an accepted one keeps its content, readable through its document, also when
//! the server is killed (`kill -9`) in the middle of a stream of them.

mod support;

use std::collections::BTreeMap;
use support::{City, Server};

/// A PDF of about 100 KB (as the JSON `content` text), different for each `n`.
fn pdf(n: usize) -> String {
    let mut body = format!("%PDF-1.4 besluit {n} ");
    body.extend((0..100_000).map(|i| b"0123456789abcdef"[(i * 7 + n) % 16] as char));
    body
}

fn count(db: &std::path::Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Rows in the content file of `db` (0 when it does not exist).
fn content_rows(db: &std::path::Path) -> i64 {
    let file = paraaf_runtime::store::content_file::path_of(db);
    if file.exists() {
        count(&file, "contents")
    } else {
        0
    }
}

/// The size of the files at `path` and its WAL.
fn size(path: &std::path::Path) -> u64 {
    let wal = std::fs::metadata(format!("{}-wal", path.display())).map_or(0, |m| m.len());
    std::fs::metadata(path).map_or(0, |m| m.len()) + wal
}

#[test]
fn forty_refused_submissions_leave_nothing_behind() {
    let city = City::aalst("content-tx");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let token = "content-token-0123456789";
    let server = Server::start(&city.db, &[(uploader.as_str(), token)], &city.dir);
    let size_before = size(&city.db);
    for i in 0..40 {
        // Refused by the engine after the body was read: an amount that is not one, a
        // kind that does not exist, a field the kind does not have, a missing field.
        let fields = match i % 4 {
            0 => {
                r#""kind":"besluit","fields":{"dienst":"bevolking","bron":"notula","titel":"x","bedrag":"veel"}"#
            }
            1 => r#""kind":"bestaat-niet","fields":{}"#,
            2 => {
                r#""kind":"besluit","fields":{"dienst":"bevolking","bron":"notula","titel":"x","bedrag":"10","kleur":"rood"}"#
            }
            _ => r#""kind":"besluit","fields":{"bron":"notula"}"#,
        };
        let body = format!(r#"{{{fields},"content":"{}"}}"#, pdf(i));
        let (status, answer) = server
            .request("POST", "/documents", Some(token), None, Some(&body))
            .unwrap();
        assert_eq!(status, 422, "{answer}");
    }
    // Content the API itself refuses (neither PDF nor text) never gets near the store.
    let (status, _) = server
        .request(
            "POST",
            "/documents",
            Some(token),
            None,
            Some(r#"{"kind":"besluit","content_base64":"//79/A==","fields":{"dienst":"bevolking","bron":"notula","titel":"x","bedrag":"10"}}"#),
        )
        .unwrap();
    assert_eq!(status, 422);
    assert_eq!(content_rows(&city.db), 0);
    assert_eq!(count(&city.db, "content_rows"), 0);
    assert_eq!(count(&city.db, "content_owners"), 0);

    // An accepted one keeps its content, and it is read back through the document.
    let body = format!(
        r#"{{"kind":"besluit","fields":{{"dienst":"bevolking","bron":"notula","titel":"Aankoop","bedrag":"10"}},"content":"{}"}}"#,
        pdf(99)
    );
    let (status, answer) = server
        .request("POST", "/documents", Some(token), None, Some(&body))
        .unwrap();
    assert_eq!(status, 201, "{answer}");
    let id = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, content) = server
        .request(
            "GET",
            &format!("/documents/{id}/content"),
            Some(token),
            None,
            None,
        )
        .unwrap();
    assert_eq!(status, 200);
    assert!(content.starts_with("%PDF-1.4 besluit 99"));
    assert_eq!(content_rows(&city.db), 1);
    assert_eq!(count(&city.db, "content_rows"), 1);
    assert_eq!(count(&city.db, "content_owners"), 1);
    drop(server);
    // 40 × 100 KB were sent; the database and its content file grew by about one of
    // them (WALs included).
    let file = paraaf_runtime::store::content_file::path_of(&city.db);
    let grown = size(&city.db) + size(&file) - size_before;
    assert!(grown < 2_000_000, "the database grew by {grown} bytes");
}

/// kill -9 of the server in the middle of a stream of submissions, each with a PDF of
/// its own, several times: after each restart every acknowledged document serves
/// exactly the bytes that were sent with it.
#[test]
fn kill_9_during_unique_content_loses_no_acknowledged_content() {
    let city = City::aalst("content-kill");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let token = "content-kill-token-0123456789";
    let tokens = [(uploader.as_str(), token)];
    let cycles: usize = std::env::var("PARAAF_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut acked: BTreeMap<String, usize> = BTreeMap::new(); // doc id -> pdf number
    let mut next = 0;
    for round in 0..cycles {
        let server = Server::start(&city.db, &tokens, &city.dir);
        let addr = server.addr.clone();
        let (tx, rx) = std::sync::mpsc::channel::<(usize, String)>();
        let mut handles = Vec::new();
        // Four writers in parallel, so the server commits several at a time.
        for w in 0..4 {
            let tx = tx.clone();
            let addr = addr.clone();
            let first = next + w * 100;
            handles.push(std::thread::spawn(move || {
                let s = Server {
                    child: std::process::Command::new("true").spawn().unwrap(),
                    addr,
                };
                for n in first..first + 100 {
                    let body = format!(
                        r#"{{"kind":"besluit","fields":{{"dienst":"bevolking","bron":"notula","titel":"Aankoop","bedrag":"10"}},"content":"{}"}}"#,
                        pdf(n)
                    );
                    match s.request("POST", "/documents", Some(token), None, Some(&body)) {
                        Some((201, answer)) => {
                            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                            let id = v["id"].as_str().unwrap().to_string();
                            if tx.send((n, id)).is_err() {
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            }));
        }
        next += 400;
        drop(tx);
        let mut child = server;
        let kill_after = 5 + round * 7;
        let mut this_round = 0;
        for (n, id) in rx.iter() {
            acked.insert(id, n);
            this_round += 1;
            if this_round == kill_after {
                child.child.kill().unwrap(); // SIGKILL, mid-stream
                let _ = child.child.wait();
            }
        }
        for h in handles {
            let _ = h.join();
        }
        assert!(
            this_round >= kill_after,
            "round {round}: {this_round} acknowledged"
        );
        drop(child);
    }
    let server = Server::start(&city.db, &tokens, &city.dir);
    let mut lost = Vec::new();
    for (id, n) in &acked {
        let got = server.request(
            "GET",
            &format!("/documents/{id}/content"),
            Some(token),
            None,
            None,
        );
        if got.as_ref().map(|(s, b)| (*s, b.as_str())) != Some((200, pdf(*n).as_str())) {
            lost.push(format!("{id} (pdf {n}): {:?}", got.map(|(s, _)| s)));
        }
    }
    println!(
        "kill -9 with unique content: {cycles} cycles, {} acknowledged documents, lost {}",
        acked.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "content lost: {lost:?}");
}
