//! Content stored ahead of its command (#25 item 7): the API's path hands a submission's
//! bytes to the content writer when the engine would accept the submission now, and the
//! command carries the row. What stays true: an acknowledged document's content is
//! durable and served through its document, also after a restart; a submission the
//! engine refuses stores nothing; content stored ahead of a command the writer refused
//! after all is never served and is collected by the running writer.

mod support;

use paraaf_runtime::Runtime;
use paraaf_runtime::api::ahead::content_for;
use paraaf_runtime::api::{Answer, Write, Writer};
use paraaf_runtime::contents::{Staged, for_reader, owned, stage};
use paraaf_runtime::engine::{Emitter, RuntimeError};
use paraaf_runtime::store::content_file;
use paraaf_runtime::store::content_writer::ContentWriter;
use rusqlite::Connection;
use std::path::Path;
use support::content::{city, now, pdf, submission};

/// Rows in the content file of `db` (0 when it does not exist).
fn content_rows(db: &Path) -> i64 {
    let file = content_file::path_of(db);
    if !file.exists() {
        return 0;
    }
    Connection::open(file)
        .unwrap()
        .query_row("SELECT count(*) FROM contents", [], |r| r.get(0))
        .unwrap()
}

/// Queues `command` with the writer, with `content` pushed first: the answer.
async fn write(
    writer: &Writer,
    person: &str,
    content: Staged,
    command: impl FnOnce(&mut Emitter) -> Result<String, RuntimeError> + Send + 'static,
) -> Answer {
    writer
        .write(Write {
            person: person.to_string(),
            idempotency: None,
            command: Box::new(move |e: &mut Emitter| {
                e.contents.push(content);
                command(e).map(|id| Answer {
                    status: 201,
                    body: id,
                })
            }),
        })
        .await
}

/// Submits `bytes` the API's way: stored ahead when the engine would accept it now.
async fn submit_ahead(
    writer: &Writer,
    content: &ContentWriter,
    uploader: &str,
    bedrag: &str,
    bytes: Vec<u8>,
) -> (Answer, Option<i64>) {
    let staged = stage(uploader, bytes).unwrap();
    let sub = submission(uploader, bedrag, &staged.sha256);
    let staged = content_for(writer, content, staged, &sub).await.unwrap();
    let row = staged.row;
    (
        write(writer, uploader, staged, move |e| e.submit(sub)).await,
        row,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_stored_ahead_is_served_through_its_document_after_a_restart() {
    let (rt, db, uploader) = city("ahead-served");
    let writer = Writer::start(rt, Box::new(now), 16);
    let content = ContentWriter::start(&db);
    let (a, row) = submit_ahead(&writer, &content, &uploader, "10", pdf(1)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(row.is_some(), "content the engine accepts is stored ahead");
    // The same bytes again: already stored, written by no one.
    let (b, again) = submit_ahead(&writer, &content, &uploader, "20", pdf(1)).await;
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(again, None);
    assert_eq!(content_rows(&db), 1);
    writer.stop().await;
    drop(content);
    let rt = Runtime::open(&db, Default::default()).unwrap();
    for id in [&a.body, &b.body] {
        let (_, bytes) = for_reader(rt.state(), &db, &uploader, id).unwrap().unwrap();
        assert_eq!(bytes, pdf(1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_the_engine_would_refuse_stores_nothing_ahead() {
    let (rt, db, uploader) = city("ahead-refused");
    let writer = Writer::start(rt, Box::new(now), 16);
    let content = ContentWriter::start(&db);
    for (n, bedrag) in [(1, "veel"), (2, "-5"), (3, "")].into_iter() {
        let staged = stage(&uploader, pdf(n)).unwrap();
        let sub = submission(&uploader, bedrag, &staged.sha256);
        let back = content_for(&writer, &content, staged, &sub).await.unwrap();
        assert_eq!(back.row, None, "{bedrag:?}: nothing stored ahead");
        assert_eq!(back.body, pdf(n), "the bytes stay with the command");
        let answer = write(&writer, &uploader, back, move |e| e.submit(sub)).await;
        assert_eq!(answer.status, 422, "{bedrag:?}: {}", answer.body);
    }
    // Someone not in the organogram: refused, nothing stored.
    let staged = stage("niemand", pdf(4)).unwrap();
    let sub = submission("niemand", "10", &staged.sha256);
    let back = content_for(&writer, &content, staged, &sub).await.unwrap();
    assert_eq!(back.row, None);
    assert_eq!(content_rows(&db), 0);
    writer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_ahead_of_a_command_refused_at_the_writer_is_collected_by_the_running_writer() {
    let (mut rt, db, uploader) = city("ahead-collected");
    rt.content_grace = 0;
    rt.collect_every = std::time::Duration::ZERO;
    let writer = Writer::start(rt, Box::new(now), 16);
    let content = ContentWriter::start(&db);
    // The engine would accept it when asked; by the time the command runs, it does not
    // (here: the command the writer runs is refused, as after a redeploy in between).
    let staged = stage(&uploader, pdf(7)).unwrap();
    let sha = staged.sha256.clone();
    let sub = submission(&uploader, "10", &sha);
    let ahead = content_for(&writer, &content, staged, &sub).await.unwrap();
    assert!(ahead.row.is_some());
    let refused = submission(&uploader, "veel", &sha);
    let answer = write(&writer, &uploader, ahead, move |e| e.submit(refused)).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(content_rows(&db), 1, "the bytes are there");
    // Never served: no document refers to them, and the bytes alone own nothing.
    assert!(!owned(&db, &sha, &uploader).unwrap());
    // Past the grace period (whole seconds), the writer's next batch collects them,
    // and keeps what its own event refers to.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (b, _) = submit_ahead(&writer, &content, &uploader, "10", pdf(8)).await;
    assert_eq!(b.status, 201, "{}", b.body);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (c, _) = submit_ahead(&writer, &content, &uploader, "10", pdf(9)).await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(content_rows(&db), 2, "the refused command's bytes are gone");
    // The same bytes sent again with an accepted submission are stored afresh.
    let (d, row) = submit_ahead(&writer, &content, &uploader, "10", pdf(7)).await;
    assert_eq!(d.status, 201, "{}", d.body);
    assert!(row.is_some());
    let state = writer.committed();
    for (id, n) in [(&b.body, 8), (&c.body, 9), (&d.body, 7)] {
        let (_, bytes) = for_reader(&state, &db, &uploader, id).unwrap().unwrap();
        assert_eq!(bytes, pdf(n));
    }
    writer.stop().await;
}
