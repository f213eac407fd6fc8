//! History (`paraaf log`) shows only verified events, and verifying them costs the range
//! shown, not the whole log: `Runtime::history` walks back from the head the open
//! verified, checking each event's hash, its link to the next and, with a key, the
//! signed checkpoints. An event altered inside the range is named; one altered before
//! it (older than the newest snapshot, which the open did not re-read) is not read at
//! all, and the whole history still refuses it. Each test runs on both stores.

mod stores;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::checkpoint::{self, Key};
use paraaf_runtime::engine::Submission;
use std::path::{Path, PathBuf};
use stores::{Stores, each_store, quoted};

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
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

/// A city of `days` days, one submission a day from `start`, a snapshot every few
/// events; with `key`, signed checkpoints every 3 events.
fn city(db: &Stores, name: &str, days: u64, key: Option<&Path>) -> DateTime<Utc> {
    let p = project();
    let uploader = p.organogram.people[20].id.clone();
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let mut rt = open(db, name, key);
    rt.snapshot_every = 4;
    rt.execute(start, |e| e.deploy(p.clone())).unwrap();
    for i in 1..=days {
        let s = submission(&uploader, i);
        rt.execute(start + Duration::days(i as i64), |e| e.submit(s))
            .unwrap();
    }
    start
}

/// The checkpoint file of city `name`.
fn checkpoints(db: &Stores, name: &str) -> PathBuf {
    db.files(name).join("city.checkpoints")
}

/// A new signing key for city `name`.
fn new_key(db: &Stores, name: &str) -> PathBuf {
    let key = db.files(name).join("checkpoint.key");
    checkpoint::generate(&key).unwrap();
    key
}

fn open(db: &Stores, name: &str, key: Option<&Path>) -> Runtime {
    let mut rt = db.runtime(name);
    if let Some(key) = key {
        rt.use_checkpoints(Key::read(key).unwrap(), checkpoints(db, name), 3)
            .unwrap();
    }
    rt
}

/// Rewrites event `seq`'s body and recomputes its hash and every later one: a chain that
/// holds on its own (only the signed checkpoints tell).
fn rewrite_from(db: &Stores, name: &str, seq: u64, from: &str, to: &str) {
    let store = db.store(name);
    let mut prev = store.hash_prefixes(seq - 1, seq - 1).unwrap().1;
    for (s, at, body) in store.events_after(seq - 1).unwrap() {
        let body = if s == seq {
            body.replace(from, to)
        } else {
            body
        };
        let h = paraaf_runtime::sha256_hex(format!("{prev}|{s}|{at}|{body}").as_bytes());
        db.sql(
            name,
            &format!(
                "UPDATE events SET body = {}, prev_hash = {}, hash = {} WHERE seq = {s}",
                quoted(&body),
                quoted(&prev),
                quoted(&h)
            ),
        );
        prev = h;
    }
}

/// Why `history` refused (never the events themselves: a refused history is the point).
fn refused<T>(r: Result<T, impl ToString>) -> String {
    match r {
        Ok(_) => panic!("the history was shown"),
        Err(e) => e.to_string(),
    }
}

/// The sequence number of the first event recorded on `day` days after `start`.
fn first_on(db: &Stores, name: &str, start: DateTime<Utc>, day: i64) -> u64 {
    let at = (start + Duration::days(day)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    db.store(name)
        .events()
        .unwrap()
        .into_iter()
        .find(|(_, t, _)| *t >= at)
        .unwrap()
        .0
}

#[test]
fn the_whole_history_is_the_log_and_a_range_is_its_end() {
    each_store("history-range", |db| {
        let start = city(db, "range", 12, None);
        let rt = open(db, "range", None);
        let all = rt.history(None).unwrap();
        assert_eq!(all, rt.store().events().unwrap());
        assert_eq!(all.first().map(|e| e.0), Some(1));
        let since = start + Duration::days(9);
        let from = first_on(db, "range", start, 9);
        let range = rt.history(Some(since)).unwrap();
        assert_eq!(range.first().map(|e| e.0), Some(from));
        assert_eq!(range.last(), all.last());
        assert_eq!(range.as_slice(), &all[(from - 1) as usize..]);
        // After the last event: nothing, and no error.
        let later = rt.history(Some(start + Duration::days(400))).unwrap();
        assert!(later.is_empty());
    });
}

#[test]
fn an_altered_event_is_named_inside_the_range_and_not_read_before_it() {
    each_store("history-altered", |db| {
        let start = city(db, "altered", 12, None);
        // Event 3 is older than the newest snapshot: the open does not read it again.
        db.sql(
            "altered",
            "UPDATE events SET body = body || ' ' WHERE seq = 3",
        );
        let rt = open(db, "altered", None);
        assert!(rt.store().load_counting().unwrap().1 > 3);
        let whole = refused(rt.history(None));
        assert!(whole.contains("event 3 was altered"), "{whole}");
        // A range that starts after it does not read it (the cost is the range).
        let range = rt.history(Some(start + Duration::days(6))).unwrap();
        assert!(!range.is_empty() && range.iter().all(|(seq, ..)| *seq > 3));
        // One that covers it names it.
        let covering = refused(rt.history(Some(start + Duration::days(1))));
        assert!(covering.contains("event 3 was altered"), "{covering}");

        // An event missing before the newest snapshot (the open does not see it) is
        // named by a range that covers it.
        let start = city(db, "gap", 12, None);
        let used = db.store("gap").load_counting().unwrap().1;
        let gone = used - 1;
        assert!(first_on(db, "gap", start, 2) < gone);
        db.sql("gap", &format!("DELETE FROM events WHERE seq = {gone}"));
        let rt = open(db, "gap", None);
        let gap = refused(rt.history(Some(start + Duration::days(2))));
        assert!(gap.contains(&format!("event {gone} is missing")), "{gap}");
    });
}

#[test]
fn a_rehashed_rewrite_is_refused_against_the_signed_checkpoints() {
    each_store("history-signed", |db| {
        let key = new_key(db, "signed");
        let start = city(db, "signed", 12, Some(&key));
        let rt = open(db, "signed", Some(&key));
        assert_eq!(rt.history(None).unwrap(), rt.store().events().unwrap());
        drop(rt);
        // A chain that holds on its own from event 4 (a submission) on, up to the head:
        // only the checkpoints tell. The history names the first event rewritten.
        rewrite_from(db, "signed", 4, "Aankoop", "Verkoop");
        let store = db.store("signed");
        let signed =
            checkpoint::read_file(&checkpoints(db, "signed"), &Key::read(&key).unwrap()).unwrap();
        let Err(whole) = store.history(None, &signed) else {
            panic!("the rewritten log was shown");
        };
        assert!(
            whole.contains("event 4 is not the event the checkpoint signed"),
            "{whole}"
        );
        // A range that covers only the end of the rewrite: the checkpoints disagree with
        // what it reads, and the first event rewritten is named.
        let Err(range) = store.history(Some(start + Duration::days(10)), &signed) else {
            panic!("the rewritten range was shown");
        };
        assert!(
            range.contains("event 4 is not the event the checkpoint signed"),
            "{range}"
        );
        // Deleted events at the end are named, whatever the range.
        let key2 = new_key(db, "cut");
        let start2 = city(db, "cut", 6, Some(&key2));
        let head2 = db.store("cut").head().unwrap().0;
        db.sql("cut", &format!("DELETE FROM events WHERE seq = {head2}"));
        let signed2 =
            checkpoint::read_file(&checkpoints(db, "cut"), &Key::read(&key2).unwrap()).unwrap();
        let cut = refused(
            db.store("cut")
                .history(Some(start2 + Duration::days(5)), &signed2),
        );
        assert!(cut.contains("were deleted"), "{cut}");
    });
}
