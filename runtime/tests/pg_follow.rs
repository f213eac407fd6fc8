//! Read servers of a city on PostgreSQL, in one process: a follower folds each event the
//! writer commits and ends in the writer's state; it refuses a row that breaks the hash
//! chain and keeps what it verified; a read server publishes what it folds, finds the
//! writer's address, and takes over as the writer when the writer's connection ends.

#[path = "pg_support/besluit.rs"]
mod besluit;
#[path = "pg_support/mod.rs"]
mod pg_support;

use besluit::{now, submission};
use paraaf_runtime::Runtime;
use paraaf_runtime::api::{Answer, Write, Writer};
use paraaf_runtime::backend::StoreAddress;
use paraaf_runtime::engine::RuntimeError;
use paraaf_runtime::follower::Follower;
use paraaf_runtime::pg_store::{PgStore, schema};
use pg_support::{APP, Cluster};
use std::path::Path;
use std::time::{Duration, Instant};

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

/// A cluster with the schema, and the address of `city` in it.
fn city(name: &str, city: &str) -> Option<(Cluster, StoreAddress)> {
    let c = Cluster::start(name)?;
    schema::migrate(&c.owner_url(), APP).unwrap();
    let address = StoreAddress::Postgres {
        url: c.app_url(),
        city: city.into(),
    };
    Some((c, address))
}

/// A writer of the city with the project deployed; the uploader to submit as.
fn writer(address: &StoreAddress) -> (Runtime, String) {
    let project = project();
    let uploader = project.organogram.people[20].id.clone();
    let mut rt = Runtime::open_store(address, Default::default()).unwrap();
    rt.snapshot_every = 5;
    rt.execute(now(), |e| e.deploy(project.clone())).unwrap();
    (rt, uploader)
}

/// The state as snapshot bytes: equal bytes, equal state.
fn image(state: &paraaf_runtime::engine::State) -> Vec<u8> {
    paraaf_runtime::snapshot::encode(state).unwrap()
}

/// Waits up to `secs` for `done`.
fn until(secs: u64, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

#[test]
fn a_follower_folds_each_new_event_into_the_writers_state() {
    let Some((_pg, address)) = city("follow", "aalst") else {
        return;
    };
    let (mut rt, uploader) = writer(&address);
    rt.execute(now(), |e| e.submit(submission(&uploader, 0)))
        .unwrap();
    let mut follower = Follower::open(&address).unwrap();
    assert_eq!(image(follower.state()), image(rt.state()));
    assert!(!follower.catch_up().unwrap(), "nothing new yet");
    // Several commits, snapshots among them (every 5 events), folded in one call and
    // one by one.
    for n in 1..8 {
        rt.execute(now(), |e| e.submit(submission(&uploader, n)))
            .unwrap();
    }
    assert!(follower.catch_up().unwrap());
    assert_eq!(image(follower.state()), image(rt.state()));
    for n in 8..12 {
        rt.execute(now(), |e| e.submit(submission(&uploader, n)))
            .unwrap();
        assert!(follower.catch_up().unwrap());
        assert_eq!(follower.state().last_seq, rt.state().last_seq);
    }
    assert_eq!(image(follower.state()), image(rt.state()));
    let head = PgStore::reader(&pg_url(&address), "aalst")
        .unwrap()
        .head()
        .unwrap();
    assert_eq!(follower.head(), head);
}

fn pg_url(address: &StoreAddress) -> String {
    match address {
        StoreAddress::Postgres { url, .. } => url.clone(),
        StoreAddress::File(_) => unreachable!("a city in PostgreSQL"),
    }
}

#[test]
fn a_follower_refuses_a_row_that_breaks_the_chain_and_keeps_what_it_verified() {
    let Some((_pg, address)) = city("follow-forged", "aalst") else {
        return;
    };
    let (mut rt, uploader) = writer(&address);
    rt.execute(now(), |e| e.submit(submission(&uploader, 0)))
        .unwrap();
    let mut follower = Follower::open(&address).unwrap();
    let before = image(follower.state());
    let (seq, hash) = follower.head();
    drop(rt);
    // An insider with the application's rights appends a row whose hash does not
    // follow from its content (the log's tables take INSERT from the application).
    let mut forger = PgStore::reader(&pg_url(&address), "aalst").unwrap();
    forger
        .client()
        .execute(
            "INSERT INTO events (city, seq, at, body, prev_hash, hash)
            VALUES ('aalst', $1, '2026-03-02T09:00:00.000000Z',
                '{\"Commented\":{\"doc\":\"D-1\",\"by\":\"x\",\"text\":\"forged\"}}', $2, $3)",
            &[&((seq + 1) as i64), &hash, &"0".repeat(64)],
        )
        .unwrap();
    let e = follower.catch_up().unwrap_err();
    assert!(matches!(e, RuntimeError::Tampered(_)), "{e}");
    assert!(e.to_string().contains(&format!("event {}", seq + 1)), "{e}");
    assert_eq!(image(follower.state()), before, "nothing of the forged row");
    // It stays refused: following does not go on past it.
    assert!(matches!(
        follower.catch_up(),
        Err(RuntimeError::Tampered(_))
    ));
    assert!(follower.tampered().is_some());
}

/// A submission as the API's writer runs it.
fn write(uploader: &str, n: usize) -> Write {
    let s = submission(uploader, n);
    Write {
        person: uploader.to_string(),
        idempotency: None,
        command: Box::new(move |e| {
            let id = e.submit(s)?;
            Ok(Answer {
                status: 201,
                body: serde_json::json!({ "id": id }).to_string(),
            })
        }),
    }
}

#[test]
fn a_read_server_publishes_what_it_folds_and_takes_over_when_the_writer_goes() {
    let Some((_pg, address)) = city("follow-take-over", "aalst") else {
        return;
    };
    let (mut rt, uploader) = writer(&address);
    // The writer records where it takes writes (as `paraaf serve` does on taking the
    // lock).
    PgStore::reader(&pg_url(&address), "aalst")
        .unwrap()
        .advertise("http://writer.example:8080")
        .unwrap();
    let to = address.clone();
    let server = Writer::follow(
        Follower::open(&address).unwrap(),
        Default::default(),
        None,
        Box::new(now),
        64,
        "http://reader.example:8080".into(),
        Box::new(move |_witnessed| {
            let mut r = Runtime::open_store(&to, Default::default())?;
            r.lock_writer("the read server taking over")?;
            Ok(r)
        }),
    );
    assert!(!server.is_leading(), "the lock is held: it reads");
    until(5, "the writer's address", || {
        server.writer_address().as_deref() == Some("http://writer.example:8080")
    });
    let tokio = tokio::runtime::Runtime::new().unwrap();
    // A write queued on a read server is refused as nothing recorded (the server
    // forwards writes before they reach it).
    let refused = tokio.block_on(server.write(write(&uploader, 99)));
    assert_eq!(refused.status, 503, "{}", refused.body);
    for n in 0..3 {
        rt.execute(now(), |e| e.submit(submission(&uploader, n)))
            .unwrap();
    }
    let commits = server.commits();
    until(5, "the read server's published state", || {
        server.committed().last_seq == rt.state().last_seq
    });
    assert!(commits.has_changed().unwrap());
    assert_eq!(image(&server.committed()), image(rt.state()));
    assert_eq!(
        server.history_trust().head,
        Some(
            PgStore::reader(&pg_url(&address), "aalst")
                .unwrap()
                .head()
                .unwrap()
        )
    );
    // The writer goes (its connection ends): the read server takes over within seconds.
    let head = rt.state().last_seq;
    drop(rt);
    let took = until(10, "the take-over", || server.is_leading());
    eprintln!("took over in {took:?}");
    assert_eq!(
        server.writer_address().as_deref(),
        Some("http://reader.example:8080")
    );
    assert_eq!(
        PgStore::reader(&pg_url(&address), "aalst")
            .unwrap()
            .writer_address()
            .unwrap()
            .as_deref(),
        Some("http://reader.example:8080"),
        "the address other read servers forward to"
    );
    // It writes now, and publishes before it answers.
    let answer = tokio.block_on(server.write(write(&uploader, 3)));
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert!(server.committed().last_seq > head);
    let stored = Runtime::open_store(&address, Default::default()).unwrap();
    assert_eq!(image(stored.state()), image(&server.committed()));
    tokio.block_on(server.stop());
}
