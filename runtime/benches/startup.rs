//! `cargo bench -p paraaf-runtime --bench startup`: opening a city database of 1,000,000
//! events (submissions and signatures of the Aalst example: years of a city's history).
//! Prints, from the same run: a raw `SELECT count(*)` over the log (the baseline), the
//! open from a snapshot at the head in the deflated JSON of earlier versions and in the
//! MessagePack written now (each with its ratio to the count), a full replay of the log
//! (what every open cost before snapshots) and what the most a snapshot may lag costs of
//! it, one person's inbox, and memory.
//!
//! The database is built once and kept (`PARAAF_BENCH_DB`, default
//! `target/paraaf-bench-1m.db`); `PARAAF_BENCH_EVENTS` sets another size.

use chrono::{Duration, TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::engine::{Emitter, Status, Submission, TaskStatus};
use paraaf_runtime::runtime::BatchItem;
use paraaf_runtime::snapshot::{Format, MAX_LAG};
use paraaf_runtime::store::Store;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The allocator the `paraaf` binary ships with (src/main.rs), so the open measured here
/// allocates as the server's does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn build(db: &Path, target: u64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project.organogram.people[20].id.clone();
    let mut rt = Runtime::open(db, Default::default()).unwrap();
    let mut now = Utc.with_ymd_and_hms(2023, 1, 2, 9, 0, 0).unwrap();
    if rt.state().last_seq == 0 {
        rt.execute(now, |e| e.deploy(project.clone())).unwrap();
    }
    let start = Instant::now();
    let mut i = 0usize;
    let mut queue: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    while rt.state().last_seq < target {
        now += Duration::minutes(5);
        // 12 submissions and signatures on the oldest documents in progress.
        let mut items: Vec<BatchItem<Option<String>>> = Vec::new();
        for _ in 0..12 {
            i += 1;
            let s = Submission {
                kind: "besluit".into(),
                uploader: uploader.clone(),
                fields: [
                    (
                        "dienst".to_string(),
                        serde_json::json!(["bevolking", "sport", "cultuur", "inkomen"][i % 4]),
                    ),
                    ("bron".to_string(), serde_json::json!("notula")),
                    (
                        "titel".to_string(),
                        serde_json::json!(format!("besluit {i}")),
                    ),
                    (
                        "bedrag".to_string(),
                        serde_json::json!(format!("{}", (i * 37) % 20000)),
                    ),
                ]
                .into(),
                content_sha256: "0".repeat(64),
                title: format!("besluit {i}"),
                flow: None,
            };
            items.push(Box::new(move |e: &mut Emitter| {
                (e.submit(s).map(Some), None)
            }));
        }
        // Sign the oldest documents in progress first: documents flow through to
        // completion, as in a city (about 7 events per document).
        let mut open: Vec<(String, String)> = Vec::new();
        while open.len() < 48 {
            let Some(id) = queue.front().cloned() else {
                break;
            };
            let Some(d) = rt.state().documents.get(&id) else {
                queue.pop_front();
                continue;
            };
            if d.status != Status::InProgress {
                queue.pop_front();
                continue;
            }
            let tasks: Vec<(String, String)> = d
                .tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Open)
                .filter_map(|t| t.spec.assignees.first().map(|a| (id.clone(), a.clone())))
                .collect();
            if tasks.is_empty() {
                queue.pop_front(); // waits for someone else (a vacancy): leave it
                continue;
            }
            open.extend(tasks);
            queue.rotate_left(1);
            if open.len() >= queue.len() {
                break;
            }
        }
        for (doc, who) in open {
            items.push(Box::new(move |e: &mut Emitter| {
                (e.sign(&doc, &who).map(|_| None), None)
            }));
        }
        for r in rt.execute_batch(now, items) {
            if let Ok(Some(id)) = r {
                queue.push_back(id);
            }
        }
        if i.is_multiple_of(12_000) {
            eprintln!(
                "  built {} events ({:.0} events/s)",
                rt.state().last_seq,
                rt.state().last_seq as f64 / start.elapsed().as_secs_f64()
            );
        }
    }
}

/// In a fresh process (so memory is the state's alone): open, time the inbox, print
/// `open_ms rss_mb docs inbox_ms items person`.
fn open_only(db: &Path) {
    let before = rss_mb();
    let start = Instant::now();
    let rt = Runtime::open(db, Default::default()).unwrap();
    let open = start.elapsed();
    let after = rss_mb();
    let person = rt
        .state()
        .open_tasks
        .iter()
        .max_by_key(|(_, docs)| docs.len())
        .map(|(p, _)| p.clone())
        .unwrap_or_default();
    let start = Instant::now();
    let items = paraaf_runtime::visibility::inbox(rt.state(), &person).len();
    let inbox = start.elapsed();
    println!(
        "{} {:.0} {} {} {items} {person}",
        open.as_secs_f64() * 1000.0,
        after - before,
        rt.state().documents.len(),
        inbox.as_secs_f64() * 1000.0,
    );
}

fn main() {
    let target: u64 = std::env::var("PARAAF_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let db: PathBuf = std::env::var_os("PARAAF_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../target/paraaf-bench-{target}.db"))
        });
    if std::env::var_os("PARAAF_BENCH_OPEN_ONLY").is_some() {
        open_only(&db);
        return;
    }
    let have = Store::open(&db).unwrap().head().unwrap().0;
    if have < target {
        eprintln!("building {} ({have} of {target} events)…", db.display());
        build(&db, target);
    }

    // A snapshot at the head in each format, each opened in a fresh process right after
    // it is taken (the newest snapshot is the one an open reads).
    let mut opens = Vec::new();
    let mut raws = Vec::new();
    for format in [Format::DeflatedJson, Format::MessagePack] {
        let mut rt = Runtime::open(&db, Default::default()).unwrap();
        rt.snapshot_format = format;
        rt.snapshot_now(Utc::now()).unwrap();
        drop(rt);
        // Warm the page cache the same way for both sides.
        let _ = std::fs::read(&db);

        // Baseline: the cheapest look at the whole log.
        let start = Instant::now();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let count: u64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        raws.push((count, start.elapsed()));
        drop(conn);

        let (_, snapshot_at) = Store::open(&db).unwrap().load_counting().unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("PARAAF_BENCH_OPEN_ONLY", "1")
            .env("PARAAF_BENCH_DB", &db)
            .env("PARAAF_BENCH_EVENTS", target.to_string())
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let f: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        opens.push((format, snapshot_at, f));
    }
    let (count, _) = *raws.last().unwrap();
    let (_, _, f) = opens.last().unwrap();
    let (docs, inbox_ms, items, person) = (&f[2], f[3].parse::<f64>().unwrap(), &f[4], &f[5]);

    let start = Instant::now();
    let full = Store::open(&db).unwrap().replay_all().unwrap();
    let replay = start.elapsed();
    assert_eq!(full.last_seq, count);
    drop(full);

    println!("start-up on {count} events, {docs} documents (same machine, same run):");
    for (count, raw) in &raws {
        println!("  raw SQLite SELECT count(*) FROM events ({count})  {raw:>10.2?}");
    }
    for ((format, at, f), (count, raw)) in opens.iter().zip(&raws) {
        let open_ms = f[0].parse::<f64>().unwrap();
        println!(
            "  paraaf open, {format:?} snapshot of event {at} + {} events  {open_ms:>8.1} ms = {:.1}x count(*), {} MB resident for the state",
            count - at,
            open_ms / (raw.as_secs_f64() * 1000.0),
            f[1]
        );
    }
    let per_event = replay.as_secs_f64() * 1000.0 / count as f64;
    println!(
        "  full replay of the whole log (no snapshot)       {replay:>10.2?} ({:.0} ms for the {} events a snapshot may lag at most)",
        per_event * MAX_LAG as f64,
        MAX_LAG
    );
    // The most an open costs by policy: the newest snapshot at its greatest lag.
    let (count, raw) = raws.last().unwrap();
    let open_ms = opens.last().unwrap().2[0].parse::<f64>().unwrap();
    let worst = open_ms + per_event * MAX_LAG as f64;
    println!(
        "  at most (MessagePack open + {MAX_LAG} events replayed)  {worst:>8.1} ms = {:.1}x count(*) of {count}",
        worst / (raw.as_secs_f64() * 1000.0)
    );
    println!("  inbox of {person} ({items} tasks)                {inbox_ms:>8.3} ms");
}
