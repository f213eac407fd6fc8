//! Content in a file of its own (`DB.contents`, #25 item 7): written before the events
//! that refer to it, found through the row the database records with them, checked
//! against its hash when read; rows no event refers to are never served and are
//! collected; content an older database kept in its `contents` table is still served.

mod support;

use paraaf_runtime::Runtime;
use paraaf_runtime::contents::{Staged, for_reader, owned, stage};
use paraaf_runtime::engine::{Emitter, RuntimeError};
use paraaf_runtime::runtime::BatchItem;
use paraaf_runtime::store::{Store, content_file};
use rusqlite::Connection;
use std::path::Path;
use support::content::{city, now, pdf, submission};

/// Submits one document per item (`bedrag`, content) in one batch: the results' ids.
fn submit(
    rt: &mut Runtime,
    uploader: &str,
    items: Vec<(&str, Staged)>,
) -> Vec<Result<String, RuntimeError>> {
    let batch: Vec<BatchItem<String>> = items
        .into_iter()
        .map(|(bedrag, content)| {
            let s = submission(uploader, bedrag, &content.sha256);
            Box::new(move |e: &mut Emitter| {
                e.contents.push(content);
                (e.submit(s), None)
            }) as BatchItem<String>
        })
        .collect();
    rt.execute_batch(now(), batch)
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn content_lies_in_its_own_file_and_is_read_through_its_document() {
    let (mut rt, db, uploader) = city("content-file");
    let bodies: Vec<Vec<u8>> = (1..=3).map(pdf).collect();
    let ids: Vec<String> = submit(
        &mut rt,
        &uploader,
        bodies
            .iter()
            .map(|b| ("10", stage(&uploader, b.clone()).unwrap()))
            .collect(),
    )
    .into_iter()
    .map(Result::unwrap)
    .collect();
    let file = content_file::path_of(&db);
    assert_eq!(count(&file, "SELECT count(*) FROM contents"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM content_rows"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM contents"), 0);
    assert_eq!(count(&file, "PRAGMA page_size"), 65536);
    for (id, body) in ids.iter().zip(&bodies) {
        let (media_type, read) = for_reader(rt.state(), &db, &uploader, id).unwrap().unwrap();
        assert_eq!((media_type.as_str(), &read), ("application/pdf", body));
    }
    // The same bytes again: one row, two documents.
    let again = submit(
        &mut rt,
        &uploader,
        vec![("20", stage(&uploader, bodies[0].clone()).unwrap())],
    );
    let id = again[0].as_ref().unwrap();
    assert_eq!(count(&file, "SELECT count(*) FROM contents"), 3);
    assert_eq!(
        for_reader(rt.state(), &db, &uploader, id)
            .unwrap()
            .unwrap()
            .1,
        bodies[0]
    );
    // A backup holds the content file too, next to its own path.
    let copy = db.with_file_name("backup.db");
    rt.store().backup_to(&copy).unwrap();
    let copied = content_file::path_of(&copy);
    assert_eq!(count(&copied, "SELECT count(*) FROM contents"), 3);
    let state = Store::open(&copy).unwrap().load().unwrap();
    assert_eq!(
        for_reader(&state, &copy, &uploader, &ids[2])
            .unwrap()
            .unwrap()
            .1,
        bodies[2]
    );
    // Restored over a database whose content file lost its rows: the backup's content
    // comes back with its log.
    drop(rt);
    Connection::open(&file)
        .unwrap()
        .execute("DELETE FROM contents", [])
        .unwrap();
    paraaf_runtime::restore::restore(&copy, &db, None).unwrap();
    let state = Store::open(&db).unwrap().load().unwrap();
    for (id, body) in ids.iter().zip(&bodies) {
        assert_eq!(
            &for_reader(&state, &db, &uploader, id).unwrap().unwrap().1,
            body
        );
    }
}

#[test]
fn a_tampered_content_row_is_refused() {
    let (mut rt, db, uploader) = city("content-tampered");
    let ids: Vec<String> = submit(
        &mut rt,
        &uploader,
        (1..=2)
            .map(|n| ("10", stage(&uploader, pdf(n)).unwrap()))
            .collect(),
    )
    .into_iter()
    .map(Result::unwrap)
    .collect();
    let file = Connection::open(content_file::path_of(&db)).unwrap();
    // Other bytes in the row the document's content lies in.
    let row: i64 = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT row FROM content_rows WHERE sha256 = ?1",
            [&rt.state().documents[&ids[0]].content_sha256],
            |r| r.get(0),
        )
        .unwrap();
    file.execute(
        "UPDATE contents SET body = ?1 WHERE id = ?2",
        rusqlite::params![pdf(7), row],
    )
    .unwrap();
    let read = for_reader(rt.state(), &db, &uploader, &ids[0]);
    assert!(
        matches!(&read, Err(RuntimeError::Tampered(w)) if w.contains("does not match its hash")),
        "{read:?}"
    );
    // The database pointed at another document's row: refused too, never served as
    // this document's content.
    let other: i64 = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT row FROM content_rows WHERE sha256 = ?1",
            [&rt.state().documents[&ids[1]].content_sha256],
            |r| r.get(0),
        )
        .unwrap();
    Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE content_rows SET row = ?1 WHERE row = ?2",
            [other, row],
        )
        .unwrap();
    let read = for_reader(rt.state(), &db, &uploader, &ids[0]);
    assert!(
        matches!(&read, Err(RuntimeError::Tampered(w)) if w.contains("holds other content")),
        "{read:?}"
    );
    // The untouched document still reads.
    assert_eq!(
        for_reader(rt.state(), &db, &uploader, &ids[1])
            .unwrap()
            .unwrap()
            .1,
        pdf(2)
    );
}

#[test]
fn content_no_event_refers_to_is_never_served_and_is_collected() {
    let (mut rt, db, uploader) = city("content-collected");
    let file = content_file::path_of(&db);
    // A submission the engine refuses writes no content at all.
    let refused = submit(
        &mut rt,
        &uploader,
        vec![("veel", stage(&uploader, pdf(1)).unwrap())],
    );
    assert!(refused[0].is_err());
    assert!(!file.exists() || count(&file, "SELECT count(*) FROM contents") == 0);
    // A commit that fails after its content was written (the database is held by
    // another connection past the busy timeout): the bytes are in the content file, no
    // event refers to them.
    let first = submit(
        &mut rt,
        &uploader,
        vec![("10", stage(&uploader, pdf(9)).unwrap())],
    );
    assert!(first[0].is_ok(), "{first:?}");
    let kept = stage(&uploader, pdf(2)).unwrap();
    let sha = kept.sha256.clone();
    let blocker = Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let failed = submit(&mut rt, &uploader, vec![("10", kept)]);
    assert!(failed[0].is_err(), "{failed:?}");
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    assert_eq!(count(&file, "SELECT count(*) FROM contents"), 2);
    assert!(
        rt.state()
            .documents
            .values()
            .all(|d| d.content_sha256 != sha)
    );
    // Never served: no document refers to it, and the bytes alone own nothing.
    assert!(!owned(&db, &sha, &uploader).unwrap());
    drop(rt);
    let mut store = Store::open(&db).unwrap();
    // Within the grace period it stays (a `contents::put` of another process may be
    // about to record it); past it, it goes.
    assert_eq!(
        store.collect_contents(content_file::GRACE_SECONDS).unwrap(),
        0
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(store.collect_contents(0).unwrap(), 1);
    assert_eq!(count(&file, "SELECT count(*) FROM contents"), 1);
    drop(store);
    // The same content sent again is stored afresh and served.
    let mut rt = Runtime::open(&db, Default::default()).unwrap();
    rt.lock_writer("test").unwrap();
    let ok = submit(
        &mut rt,
        &uploader,
        vec![("10", stage(&uploader, pdf(2)).unwrap())],
    );
    let id = ok[0].as_ref().unwrap();
    assert_eq!(
        for_reader(rt.state(), &db, &uploader, id)
            .unwrap()
            .unwrap()
            .1,
        pdf(2)
    );
    // Collecting keeps what an event refers to.
    drop(rt);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(Store::open(&db).unwrap().collect_contents(0).unwrap(), 0);
    assert_eq!(count(&file, "SELECT count(*) FROM contents"), 2);
}

/// A database whose content lies in its `contents` table (before the content file)
/// serves it as before, next to new content in the file.
#[test]
fn content_of_the_older_layout_is_still_served() {
    let (mut rt, db, uploader) = city("content-older");
    let ids: Vec<String> = submit(
        &mut rt,
        &uploader,
        (1..=2)
            .map(|n| ("10", stage(&uploader, pdf(n)).unwrap()))
            .collect(),
    )
    .into_iter()
    .map(Result::unwrap)
    .collect();
    drop(rt);
    // Move the bytes where an older database kept them, and drop the content file.
    let file = content_file::path_of(&db);
    let rows: Vec<(String, String, Vec<u8>)> = Connection::open(&file)
        .unwrap()
        .prepare("SELECT sha256, media_type, body FROM contents")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let conn = Connection::open(&db).unwrap();
    for (sha, media_type, body) in &rows {
        conn.execute(
            "INSERT INTO contents (sha256, media_type, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![sha, media_type, body],
        )
        .unwrap();
    }
    conn.execute("DELETE FROM content_rows", []).unwrap();
    conn.execute("DELETE FROM content_file", []).unwrap();
    drop(conn);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
    let mut rt = Runtime::open(&db, Default::default()).unwrap();
    rt.lock_writer("test").unwrap();
    for (id, n) in ids.iter().zip(1..) {
        assert_eq!(
            for_reader(rt.state(), &db, &uploader, id)
                .unwrap()
                .unwrap()
                .1,
            pdf(n)
        );
    }
    assert!(
        owned(
            &db,
            &rt.state().documents[&ids[0]].content_sha256,
            &uploader
        )
        .unwrap()
    );
    // The same bytes again are not stored twice; new bytes go to the content file.
    let more: Vec<String> = submit(
        &mut rt,
        &uploader,
        vec![
            ("10", stage(&uploader, pdf(1)).unwrap()),
            ("10", stage(&uploader, pdf(3)).unwrap()),
        ],
    )
    .into_iter()
    .map(Result::unwrap)
    .collect();
    assert_eq!(count(&file, "SELECT count(*) FROM contents"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM contents"), 2);
    for (id, n) in more.iter().zip([1, 3]) {
        assert_eq!(
            for_reader(rt.state(), &db, &uploader, id)
                .unwrap()
                .unwrap()
                .1,
            pdf(n)
        );
    }
}

/// A hard link to the database in another folder (or a copy without its `.contents`
/// file) never starts a second content file: content written through it is refused,
/// and through the database's own path it goes on as before.
#[test]
fn a_database_reached_without_its_content_file_refuses_content() {
    let (mut rt, db, uploader) = city("content-paired");
    let first = submit(
        &mut rt,
        &uploader,
        vec![("10", stage(&uploader, pdf(1)).unwrap())],
    );
    let id = first[0].clone().unwrap();
    drop(rt);
    let elsewhere = db.parent().unwrap().join("elders");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let link = elsewhere.join("city.db");
    std::fs::hard_link(&db, &link).unwrap();
    let mut rt = Runtime::open(&link, Default::default()).unwrap();
    rt.lock_writer("test").unwrap();
    let refused = submit(
        &mut rt,
        &uploader,
        vec![("10", stage(&uploader, pdf(2)).unwrap())],
    );
    assert!(
        matches!(&refused[0], Err(RuntimeError::Storage(w)) if w.contains("is not this database's content file")),
        "{refused:?}"
    );
    assert!(!content_file::path_of(&link).exists());
    drop(rt);
    std::fs::remove_file(&link).unwrap();
    let mut rt = Runtime::open(&db, Default::default()).unwrap();
    rt.lock_writer("test").unwrap();
    let ok = submit(
        &mut rt,
        &uploader,
        vec![("10", stage(&uploader, pdf(2)).unwrap())],
    );
    assert_eq!(
        for_reader(rt.state(), &db, &uploader, ok[0].as_ref().unwrap())
            .unwrap()
            .unwrap()
            .1,
        pdf(2)
    );
    assert_eq!(
        for_reader(rt.state(), &db, &uploader, &id)
            .unwrap()
            .unwrap()
            .1,
        pdf(1)
    );
}
