//! Start-up from a snapshot plus the events after it gives exactly the state a replay of
//! the whole log gives (the oracle), whatever the commands; an altered snapshot is
//! refused; a snapshot whose event never committed is ignored. Each test runs on both
//! stores.

mod stores;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::engine::{Emitter, RuntimeError, Status, Submission, TaskStatus};
use paraaf_runtime::runtime::BatchItem;
use std::path::Path;
use stores::{Stores, each_store};

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

/// A small deterministic generator (xorshift), one stream per seed.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn submission(g: &mut Gen, uploader: &str) -> Submission {
    let dienst = ["bevolking", "sport", "cultuur", "inkomen"][g.below(4)];
    let bedrag = [100, 8_499, 8_500, 8_501, 20_000][g.below(5)];
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
        fields: [
            ("dienst".to_string(), serde_json::json!(dienst)),
            ("bron".to_string(), serde_json::json!("notula")),
            ("titel".to_string(), serde_json::json!("Aankoop")),
            ("bedrag".to_string(), serde_json::json!(bedrag.to_string())),
        ]
        .into(),
        content_sha256: "0".repeat(64),
        title: format!("besluit {}", g.next() % 1000),
        flow: None,
    }
}

/// The state as snapshot JSON: equal JSON, equal state.
fn image(rt: &Runtime) -> Vec<u8> {
    paraaf_runtime::snapshot::encode(rt.state()).unwrap()
}

fn oracle(db: &Stores, city: &str) -> Vec<u8> {
    let full = db.store(city).replay_all().unwrap();
    paraaf_runtime::snapshot::encode(&full).unwrap()
}

#[test]
fn snapshot_plus_tail_equals_a_full_replay() {
    each_store("snap-prop", snapshot_plus_tail);
}

fn snapshot_plus_tail(db: &Stores) {
    let p = project();
    let people: Vec<String> = p.organogram.people.iter().map(|x| x.id.clone()).collect();
    for seed in [7u64, 1234, 99_991] {
        let city = format!("prop-{seed}");
        let city = city.as_str();
        let mut g = Gen(seed);
        let mut rt = db.runtime(city);
        rt.snapshot_every = 5 + (seed % 7);
        let mut now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        rt.execute(now, |e| e.deploy(p.clone())).unwrap();
        let uploader = people[20].clone();
        let mut snapshots_used = 0;
        for round in 0..40 {
            now += Duration::hours(3);
            let mut items: Vec<BatchItem<()>> = Vec::new();
            for _ in 0..1 + g.below(6) {
                match g.below(7) {
                    0..=2 => {
                        let s = submission(&mut g, &uploader);
                        items.push(Box::new(move |e: &mut Emitter| {
                            (e.submit(s).map(|_| ()), None)
                        }));
                    }
                    3 | 4 => {
                        // Sign (or, sometimes, refuse) an open task.
                        let open: Vec<(String, String)> = rt
                            .state()
                            .documents
                            .values()
                            .filter(|d| d.status == Status::InProgress)
                            .flat_map(|d| {
                                d.tasks
                                    .iter()
                                    .filter(|t| t.status == TaskStatus::Open)
                                    .filter_map(|t| {
                                        t.spec.assignees.first().map(|a| (d.id.clone(), a.clone()))
                                    })
                                    .collect::<Vec<_>>()
                            })
                            .collect();
                        if !open.is_empty() {
                            let (doc, who) = open[g.below(open.len())].clone();
                            let refuse = g.below(5) == 0;
                            items.push(Box::new(move |e: &mut Emitter| {
                                let r = if refuse {
                                    e.refuse(&doc, &who, "onvolledig")
                                } else {
                                    e.sign(&doc, &who)
                                };
                                (r, None)
                            }));
                        }
                    }
                    5 => {
                        let who = people[g.below(people.len())].clone();
                        let from = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
                        let days = g.below(10) as i64;
                        items.push(Box::new(move |e: &mut Emitter| {
                            (
                                e.add_absence(&who, from, from + Duration::days(days))
                                    .map(|_| ()),
                                None,
                            )
                        }));
                    }
                    _ => {
                        if let Some(id) = rt.state().absences.keys().next().cloned() {
                            items.push(Box::new(move |e: &mut Emitter| {
                                (e.withdraw_absence(&id), None)
                            }));
                        } else {
                            items.push(Box::new(|e: &mut Emitter| {
                                e.tick();
                                (Ok(()), None)
                            }));
                        }
                    }
                }
            }
            for r in rt.execute_batch(now, items) {
                // Refused commands (a task signed twice in one batch) change nothing.
                let _ = r;
            }
            if round % 4 == 3 {
                let (_, used) = db.store(city).load_counting().unwrap();
                snapshots_used += usize::from(used > 0);
                let reopened = db.runtime(city);
                let expected = oracle(db, city);
                assert_eq!(image(&reopened), expected, "seed {seed}, round {round}");
                // The inbox index (derived, rebuilt from a snapshot) against a scan of
                // every document.
                for person in &people {
                    for state in [reopened.state(), rt.state()] {
                        assert_eq!(
                            inbox_ids(state, person),
                            scanned_inbox(state, person),
                            "seed {seed}, round {round}, {person}"
                        );
                    }
                }
                assert_eq!(
                    image(&rt),
                    expected,
                    "seed {seed}, round {round}: live state"
                );
            }
        }
        assert!(
            snapshots_used >= 5,
            "seed {seed}: snapshots used {snapshots_used} times"
        );
    }
}

#[test]
fn an_altered_snapshot_is_refused_and_an_orphan_is_ignored() {
    each_store("snap-tamper", an_altered_snapshot);
}

fn an_altered_snapshot(db: &Stores) {
    let p = project();
    let uploader = p.organogram.people[20].id.clone();
    let city = "tamper";
    let mut rt = db.runtime(city);
    rt.snapshot_every = 4;
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    rt.execute(now, |e| e.deploy(p.clone())).unwrap();
    let mut g = Gen(5);
    for _ in 0..6 {
        let s = submission(&mut g, &uploader);
        rt.execute(now, move |e| e.submit(s)).unwrap();
        rt.snapshot_now(now).unwrap();
    }
    drop(rt);
    let expected = oracle(db, city);

    // A snapshot row whose event does not exist (an edited table) is no snapshot.
    let store = db.store(city);
    let head = store.head().unwrap().0;
    let (columns, values) = if db.is_postgres() {
        ("city, ", format!("'{}', ", db.city(city)))
    } else {
        ("", String::new())
    };
    db.sql(
        city,
        &format!(
            "INSERT INTO snapshots ({columns}seq, sha256, body, event_seq) VALUES ({values}{head}, 'x', {}, {})",
            db.blob(b"{}"),
            head + 5
        ),
    );
    let (state, used) = store.load_counting().unwrap();
    assert!(used > 0 && used < head, "an older, valid snapshot is used");
    assert_eq!(paraaf_runtime::snapshot::encode(&state).unwrap(), expected);

    // The newest valid snapshot edited (one byte of its documents): refused.
    let mut body = db.bytes(
        city,
        &format!("SELECT body FROM snapshots WHERE seq = {used}"),
    );
    let at = body.len() - 40;
    body[at] ^= 0x20;
    db.sql(
        city,
        &format!(
            "UPDATE snapshots SET body = {} WHERE seq = {used}",
            db.blob(&body)
        ),
    );
    match Runtime::open_store(&db.address(city), Default::default()) {
        Err(RuntimeError::Tampered(why)) => assert!(why.contains("snapshot"), "{why}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("an altered snapshot was accepted"),
    }
}

/// The newest snapshot's body as stored.
fn newest_body(db: &Stores, city: &str) -> (u64, Vec<u8>) {
    let seq = db.text(city, "SELECT max(seq) FROM snapshots");
    let body = db.bytes(
        city,
        &format!("SELECT body FROM snapshots WHERE seq = {seq}"),
    );
    (seq.parse().unwrap(), body)
}

/// A database whose newest snapshot is in the deflated JSON of earlier versions opens
/// from it (not by a replay of the whole log) to the state a full replay gives; the next
/// snapshot is written in MessagePack and opens the same way.
#[test]
fn a_snapshot_in_the_old_format_still_opens() {
    each_store("snap-old-format", old_format);
}

fn old_format(db: &Stores) {
    use paraaf_runtime::snapshot::Format;
    let p = project();
    let uploader = p.organogram.people[20].id.clone();
    let city = "old-format";
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let mut g = Gen(11);
    let mut rt = db.runtime(city);
    rt.snapshot_format = Format::DeflatedJson;
    rt.execute(now, |e| e.deploy(p.clone())).unwrap();
    for _ in 0..5 {
        let s = submission(&mut g, &uploader);
        rt.execute(now, move |e| e.submit(s)).unwrap();
    }
    rt.snapshot_now(now).unwrap();
    let s = submission(&mut g, &uploader);
    rt.execute(now, move |e| e.submit(s)).unwrap();
    drop(rt);
    let (old_at, body) = newest_body(db, city);
    assert!(
        body.starts_with(b"PARAAF-SNAPSHOT-2\n"),
        "written in the old format"
    );
    let (state, used) = db.store(city).load_counting().unwrap();
    assert_eq!(used, old_at, "opened from the old snapshot");
    assert_eq!(
        paraaf_runtime::snapshot::encode(&state).unwrap(),
        oracle(db, city)
    );

    // The runtime writes the next snapshot in the format of today.
    let mut rt = db.runtime(city);
    assert_eq!(image(&rt), oracle(db, city));
    let s = submission(&mut g, &uploader);
    rt.execute(now, move |e| e.submit(s)).unwrap();
    rt.snapshot_now(now).unwrap();
    drop(rt);
    let (new_at, body) = newest_body(db, city);
    assert!(new_at > old_at);
    assert!(
        body.starts_with(b"PARAAF-SNAPSHOT-3\n"),
        "written in MessagePack"
    );
    let (state, used) = db.store(city).load_counting().unwrap();
    assert_eq!(used, new_at);
    assert_eq!(
        paraaf_runtime::snapshot::encode(&state).unwrap(),
        oracle(db, city)
    );
}

fn inbox_ids(state: &paraaf_runtime::engine::State, person: &str) -> Vec<(String, String)> {
    paraaf_runtime::visibility::inbox(state, person)
        .into_iter()
        .map(|i| (i.doc.id.clone(), i.role.to_string()))
        .collect()
}

/// The oracle: every document in progress, every open task assigned to `person`.
fn scanned_inbox(state: &paraaf_runtime::engine::State, person: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for d in state.documents.values() {
        if d.status != Status::InProgress
            || !paraaf_runtime::visibility::may_see(state, person, &d.id)
        {
            continue;
        }
        for t in &d.tasks {
            if t.status == TaskStatus::Open && t.spec.assignees.iter().any(|a| a == person) {
                out.push((d.id.clone(), t.spec.role.clone()));
            }
        }
    }
    out
}

/// A writer that runs one command and closes (every CLI write) saves the snapshot the
/// policy asks for before it closes: the events an open replays stay bounded however
/// many such writers come and go (they once never saved one, and every open replayed
/// the whole log).
#[test]
fn one_command_writers_save_the_snapshot_they_owe() {
    each_store("snap-one-command", one_command_writers);
}

fn one_command_writers(db: &Stores) {
    let city = "one-command";
    let project = project();
    let uploader = project.organogram.people[20].id.clone();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let every = 6;
    let mut g = Gen(7);
    let mut lags = Vec::new();
    for i in 0..20 {
        let mut rt = db.runtime(city);
        rt.snapshot_every = every;
        if i == 0 {
            rt.execute(now, |e| e.deploy(project.clone())).unwrap();
        } else {
            let s = submission(&mut g, &uploader);
            rt.execute(now, |e| e.submit(s)).unwrap();
        }
        drop(rt);
        let (state, used) = db.store(city).load_counting().unwrap();
        let interval = paraaf_runtime::snapshot::interval(every, &state);
        lags.push((state.last_seq - used, interval));
    }
    let head = db.store(city).head().unwrap().0;
    assert!(head > 3 * every, "{head} events");
    // Never further behind than the policy's interval plus one command's events (two)
    // and the snapshot's own event.
    assert!(
        lags.iter().all(|&(lag, interval)| lag <= interval + 3),
        "(lag, interval): {lags:?}"
    );
    let snapshots: u64 = db
        .text(
            city,
            "SELECT count(*) FROM events WHERE body LIKE '{\"type\":\"snapshot_taken\"%'",
        )
        .parse()
        .unwrap();
    assert!(snapshots >= 3, "{snapshots} snapshots in {head} events");
    let (state, used) = db.store(city).load_counting().unwrap();
    assert!(used > 0);
    assert_eq!(
        paraaf_runtime::snapshot::encode(&state).unwrap(),
        oracle(db, city)
    );
}
