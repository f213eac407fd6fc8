//! The content guarantees on both stores (the test matrix, `stores::each_store`), read
//! through the server's handle (`paraaf_runtime::reads::Reads`): a submission's content
//! is stored with the events that refer to it and read back after a reopen; the same
//! bytes are kept once; a refused submission stores nothing; a city's handle never reads
//! another city's content or outbox. (What is about SQLite's content file alone stays in
//! `content_file.rs` and `content_ahead.rs`.)

mod stores;
mod support;

use paraaf_runtime::Runtime;
use paraaf_runtime::contents::{for_reader, owned, stage};
use paraaf_runtime::engine::RuntimeError;
use paraaf_runtime::reads::Reads;
use stores::{Stores, each_store};
use support::content::{now, pdf, submission};

/// The Aalst project and an uploader (someone with a dash in their id).
fn project() -> (paraaf_compiler::compile::CompiledProject, String) {
    let loaded = paraaf_compiler::load::load(&support::aalst_dir()).unwrap();
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
    (project, uploader)
}

/// `city` with the project deployed: its runtime and the uploader.
fn deployed(stores: &Stores, city: &str) -> (Runtime, String) {
    let (project, uploader) = project();
    let mut rt = stores.runtime(city);
    rt.execute(now(), |e| e.deploy(project.clone())).unwrap();
    (rt, uploader)
}

/// Submits a `besluit` of `bedrag` with `body` as its content, the content staged with
/// the command: the document's id, or why it was refused.
fn submit(
    rt: &mut Runtime,
    uploader: &str,
    bedrag: &str,
    body: Vec<u8>,
) -> Result<String, RuntimeError> {
    let staged = stage(uploader, body).unwrap();
    let sub = submission(uploader, bedrag, &staged.sha256);
    rt.execute(now(), move |e| {
        e.contents.push(staged);
        e.submit(sub)
    })
}

/// How many contents the store of `city` holds (SQLite: rows of its content file named
/// by the database; PostgreSQL: the city's rows).
fn stored(stores: &Stores, city: &str) -> u64 {
    let sql = if stores.is_postgres() {
        "SELECT count(*) FROM contents"
    } else {
        "SELECT count(*) FROM content_rows"
    };
    stores.text(city, sql).parse().unwrap()
}

#[test]
fn content_is_stored_with_its_events_and_read_back_after_a_reopen() {
    each_store("content-reopen", |stores| {
        let (mut rt, uploader) = deployed(stores, "aalst");
        let id = submit(&mut rt, &uploader, "10", pdf(1)).unwrap();
        drop(rt);
        let rt = stores.runtime("aalst");
        let reads = Reads::open(&stores.address("aalst")).unwrap();
        let (media, bytes) = for_reader(rt.state(), &reads, &uploader, &id)
            .unwrap()
            .unwrap();
        assert_eq!((media.as_str(), bytes), ("application/pdf", pdf(1)));
        let sha = &rt.state().documents[&id].content_sha256;
        assert!(owned(&reads, sha, &uploader).unwrap());
        assert!(!owned(&reads, sha, "someone-else").unwrap());
        // Only through a document its reader may see: not for a document id that is not.
        assert_eq!(
            for_reader(rt.state(), &reads, &uploader, "d-nope").unwrap(),
            None
        );
    });
}

#[test]
fn the_same_bytes_are_kept_once() {
    each_store("content-once", |stores| {
        let (mut rt, uploader) = deployed(stores, "aalst");
        let a = submit(&mut rt, &uploader, "10", pdf(2)).unwrap();
        let b = submit(&mut rt, &uploader, "20", pdf(2)).unwrap();
        assert_ne!(a, b);
        assert_eq!(stored(stores, "aalst"), 1);
        let reads = Reads::open(&stores.address("aalst")).unwrap();
        for id in [&a, &b] {
            let (_, bytes) = for_reader(rt.state(), &reads, &uploader, id)
                .unwrap()
                .unwrap();
            assert_eq!(bytes, pdf(2));
        }
    });
}

#[test]
fn a_refused_submission_stores_nothing() {
    each_store("content-refused", |stores| {
        let (mut rt, uploader) = deployed(stores, "aalst");
        let sha = paraaf_runtime::sha256_hex(&pdf(3));
        for bedrag in ["veel", "-5", ""] {
            assert!(
                submit(&mut rt, &uploader, bedrag, pdf(3)).is_err(),
                "{bedrag:?}"
            );
        }
        assert_eq!(stored(stores, "aalst"), 0);
        let reads = Reads::open(&stores.address("aalst")).unwrap();
        assert_eq!(reads.read_content(&sha).unwrap(), None);
        assert!(!owned(&reads, &sha, &uploader).unwrap());
    });
}

#[test]
fn a_citys_handle_reads_nothing_of_another_city() {
    each_store("content-apart", |stores| {
        let (mut aalst, uploader) = deployed(stores, "aalst");
        let (gent, _) = deployed(stores, "gent");
        let id = submit(&mut aalst, &uploader, "10", pdf(4)).unwrap();
        let sha = aalst.state().documents[&id].content_sha256.clone();
        let event = aalst.state().documents[&id].events[0];
        let gent_reads = Reads::open(&stores.address("gent")).unwrap();
        assert_eq!(gent_reads.read_content(&sha).unwrap(), None);
        assert!(!owned(&gent_reads, &sha, &uploader).unwrap());
        assert_eq!(
            for_reader(aalst.state(), &gent_reads, &uploader, &id).unwrap(),
            None
        );
        // Its log is its own: the same sequence number is another event, or none.
        let aalst_reads = Reads::open(&stores.address("aalst")).unwrap();
        assert_ne!(
            gent_reads.event_hash(event).unwrap(),
            aalst_reads.event_hash(event).unwrap()
        );
        assert!(gent.state().documents.is_empty());
        // Its outbox holds none of Aalst's items.
        let outbox = gent_reads.outbox().unwrap();
        assert!(outbox.waiting().unwrap().is_empty());
        assert_eq!(outbox.counts().unwrap(), Default::default());
        assert!(outbox.due(chrono::Utc::now()).unwrap().is_empty());
        assert_eq!(
            outbox.event(event).unwrap().is_some(),
            event <= gent.state().last_seq
        );
        // Content put through Gent's handle is Gent's only.
        let other = gent_reads
            .put_content(
                &paraaf_runtime::sha256_hex(b"%PDF-1.4 gent"),
                "application/pdf",
                b"%PDF-1.4 gent",
                "demo",
            )
            .map(|()| paraaf_runtime::sha256_hex(b"%PDF-1.4 gent"))
            .unwrap();
        assert!(gent_reads.read_content(&other).unwrap().is_some());
        assert_eq!(aalst_reads.read_content(&other).unwrap(), None);
        assert_eq!(outbox.next_attempt().unwrap(), None);
    });
}
