//! Content inside the submission's transaction (#25 item 7): the bytes are checked with
//! the submission and written in the same commit as its event. Submissions the engine
//! refuses (422) leave nothing behind; an accepted one keeps its content, readable
//! through its document.

mod support;

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

#[test]
fn forty_refused_submissions_leave_nothing_behind() {
    let city = City::aalst("content-tx");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let token = "content-token-0123456789";
    let server = Server::start(&city.db, &[(uploader.as_str(), token)], &city.dir);
    let size_before = std::fs::metadata(&city.db).unwrap().len();
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
    assert_eq!(count(&city.db, "contents"), 0);
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
    assert_eq!(count(&city.db, "contents"), 1);
    assert_eq!(count(&city.db, "content_owners"), 1);
    drop(server);
    // 40 × 100 KB were sent; the database grew by about one of them (WAL included).
    let wal = std::fs::metadata(format!("{}-wal", city.db.display())).map_or(0, |m| m.len());
    let grown = std::fs::metadata(&city.db).unwrap().len() + wal - size_before;
    assert!(grown < 2_000_000, "the database grew by {grown} bytes");
}
