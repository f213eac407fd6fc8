//! History (`paraaf log`) shows only verified events, and verifying them costs the range
//! shown, not the whole log: `Runtime::history` walks back from the head the open
//! verified, checking each event's hash, its link to the next and, with a key, the
//! signed checkpoints. An event altered inside the range is named; one altered before
//! it (older than the newest snapshot, which the open did not re-read) is not read at
//! all, and the whole history still refuses it.

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::checkpoint::{self, Key};
use paraaf_runtime::engine::Submission;
use paraaf_runtime::store::Store;
use std::path::{Path, PathBuf};

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paraaf-history-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("city.db")
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
fn city(db: &Path, days: u64, key: Option<&Path>) -> DateTime<Utc> {
    let p = project();
    let uploader = p.organogram.people[20].id.clone();
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let mut rt = open(db, key);
    rt.snapshot_every = 4;
    rt.execute(start, |e| e.deploy(p.clone())).unwrap();
    for i in 1..=days {
        let s = submission(&uploader, i);
        rt.execute(start + Duration::days(i as i64), |e| e.submit(s))
            .unwrap();
    }
    start
}

fn open(db: &Path, key: Option<&Path>) -> Runtime {
    let mut rt = Runtime::open(db, Default::default()).unwrap();
    if let Some(key) = key {
        rt.use_checkpoints(Key::read(key).unwrap(), checkpoint::default_file(db), 3)
            .unwrap();
    }
    rt
}

fn sql(db: &Path, statement: &str) {
    Store::open(db)
        .unwrap()
        .connection()
        .execute_batch(statement)
        .unwrap();
}

/// Rewrites event `seq`'s body and recomputes its hash and every later one: a chain that
/// holds on its own (only the signed checkpoints tell).
fn rewrite_from(db: &Path, seq: u64, from: &str, to: &str) {
    let store = Store::open(db).unwrap();
    let conn = store.connection();
    conn.execute(
        "UPDATE events SET body = replace(body, ?1, ?2) WHERE seq = ?3",
        (from, to, seq),
    )
    .unwrap();
    let rows: Vec<(u64, String, String)> = {
        let mut st = conn
            .prepare("SELECT seq, at, body FROM events WHERE seq >= ?1 ORDER BY seq")
            .unwrap();
        st.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut prev: String = conn
        .query_row("SELECT hash FROM events WHERE seq = ?1", [seq - 1], |r| {
            r.get(0)
        })
        .unwrap();
    for (s, at, body) in rows {
        let h = paraaf_runtime::sha256_hex(format!("{prev}|{s}|{at}|{body}").as_bytes());
        conn.execute(
            "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            (&prev, &h, s),
        )
        .unwrap();
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
fn first_on(db: &Path, start: DateTime<Utc>, day: i64) -> u64 {
    let at = (start + Duration::days(day)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    Store::open(db)
        .unwrap()
        .connection()
        .query_row("SELECT min(seq) FROM events WHERE at >= ?1", [at], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn the_whole_history_is_the_log_and_a_range_is_its_end() {
    let db = temp("range");
    let start = city(&db, 12, None);
    let rt = open(&db, None);
    let all = rt.history(None).unwrap();
    assert_eq!(all, rt.store().events().unwrap());
    assert_eq!(all.first().map(|e| e.0), Some(1));
    let since = start + Duration::days(9);
    let from = first_on(&db, start, 9);
    let range = rt.history(Some(since)).unwrap();
    assert_eq!(range.first().map(|e| e.0), Some(from));
    assert_eq!(range.last(), all.last());
    assert_eq!(range.as_slice(), &all[(from - 1) as usize..]);
    // After the last event: nothing, and no error.
    let later = rt.history(Some(start + Duration::days(400))).unwrap();
    assert!(later.is_empty());
}

#[test]
fn an_altered_event_is_named_inside_the_range_and_not_read_before_it() {
    let db = temp("altered");
    let start = city(&db, 12, None);
    // Event 3 is older than the newest snapshot: the open does not read it again.
    sql(&db, "UPDATE events SET body = body || ' ' WHERE seq = 3");
    let rt = open(&db, None);
    assert!(rt.store().load_counting().unwrap().1 > 3);
    let whole = refused(rt.history(None));
    assert!(whole.contains("event 3 was altered"), "{whole}");
    // A range that starts after it does not read it (the cost is the range).
    let range = rt.history(Some(start + Duration::days(6))).unwrap();
    assert!(!range.is_empty() && range.iter().all(|(seq, ..)| *seq > 3));
    // One that covers it names it.
    let covering = refused(rt.history(Some(start + Duration::days(1))));
    assert!(covering.contains("event 3 was altered"), "{covering}");

    // An event missing before the newest snapshot (the open does not see it) is named
    // by a range that covers it.
    let db = temp("gap");
    let start = city(&db, 12, None);
    let used = Store::open(&db).unwrap().load_counting().unwrap().1;
    let gone = used - 1;
    assert!(first_on(&db, start, 2) < gone);
    sql(&db, &format!("DELETE FROM events WHERE seq = {gone}"));
    let rt = open(&db, None);
    let gap = refused(rt.history(Some(start + Duration::days(2))));
    assert!(gap.contains(&format!("event {gone} is missing")), "{gap}");
}

#[test]
fn a_rehashed_rewrite_is_refused_against_the_signed_checkpoints() {
    let db = temp("signed");
    let key = db.with_file_name("checkpoint.key");
    checkpoint::generate(&key).unwrap();
    let start = city(&db, 12, Some(&key));
    let rt = open(&db, Some(&key));
    assert_eq!(rt.history(None).unwrap(), rt.store().events().unwrap());
    drop(rt);
    // A chain that holds on its own from event 4 (a submission) on, up to the head:
    // only the checkpoints tell. The history names the first event rewritten.
    rewrite_from(&db, 4, "Aankoop", "Verkoop");
    let store = Store::open(&db).unwrap();
    let signed =
        checkpoint::read_file(&checkpoint::default_file(&db), &Key::read(&key).unwrap()).unwrap();
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
    let db2 = temp("signed-cut");
    let key2 = db2.with_file_name("checkpoint.key");
    checkpoint::generate(&key2).unwrap();
    let start2 = city(&db2, 6, Some(&key2));
    let head2 = Store::open(&db2).unwrap().head().unwrap().0;
    sql(&db2, &format!("DELETE FROM events WHERE seq = {head2}"));
    let signed2 =
        checkpoint::read_file(&checkpoint::default_file(&db2), &Key::read(&key2).unwrap()).unwrap();
    let cut = refused(
        Store::open(&db2)
            .unwrap()
            .history(Some(start2 + Duration::days(5)), &signed2),
    );
    assert!(cut.contains("were deleted"), "{cut}");
}
