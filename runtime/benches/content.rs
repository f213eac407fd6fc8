//! `cargo bench -p paraaf-runtime --bench content`: submissions with their content,
//! through the API's path (a handler per caller, 128 callers, the event writer's group
//! commit of 64), three ways in turns in the same run, each timed only while it runs;
//! medians of five rounds:
//! - the same PDF every time (the baseline: after the first, no content is written);
//! - a PDF of its own per document, stored ahead by the content writer
//!   (`store::content_writer`: its syncs overlap the event commits), as the API does;
//! - a PDF of its own per document, written by the event writer in its commit (content
//!   synced, then the events: the path before the content writer).
//!
//! Every side stages (checks and hashes) the bytes as the API does. Each round also
//! writes the PDFs to a plain file with one `fdatasync` per 64: the disk's own rate.
//! `PARAAF_BENCH_PDF_KB` sets the PDF's size (default 100 KB).

use chrono::{TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::api::ahead::content_for;
use paraaf_runtime::api::{Answer, Write, Writer};
use paraaf_runtime::engine::{Emitter, Submission};
use paraaf_runtime::store::content_writer::ContentWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("paraaf-bench-{name}-{}.db", std::process::id()));
    remove(&p);
    p
}

/// Removes the database at `p` and the files next to it (WAL, content file).
fn remove(p: &Path) {
    for ext in [
        "",
        "-wal",
        "-shm",
        ".checkpoints",
        ".lock",
        ".contents",
        ".contents-wal",
        ".contents-shm",
    ] {
        let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
    }
}

fn submission(uploader: &str, i: usize, sha: String) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
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
        content_sha256: sha,
        title: format!("besluit {i}"),
        flow: None,
    }
}

/// A PDF of `kb` kilobytes; `n` makes it unique (a counter in its first line and spread
/// through its body, as two scans never share pages).
fn pdf(kb: usize, n: usize) -> Vec<u8> {
    let mut body = format!("%PDF-1.4 document {n}\n").into_bytes();
    let mut x = n as u64 * 0x9E37_79B9_7F4A_7C15 + 1;
    while body.len() < kb * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        body.extend_from_slice(&x.to_le_bytes());
    }
    body
}

/// How a submission's content reaches the disk.
#[derive(Clone, Copy, PartialEq)]
enum Path_ {
    /// The same PDF every time (after the first, nothing is written): the baseline.
    Same,
    /// A PDF of its own per document, stored ahead by the content writer (the API's path).
    Ahead,
    /// A PDF of its own per document, written by the event writer in its commit (the
    /// path before the content writer: content synced, then the events).
    InCommit,
}

/// Submits `pdfs` the way the API does, from `clients` concurrent callers: each one
/// stages (checks and hashes) its PDF, then (`Ahead`, `Same`) asks the writer whether
/// it would accept the submission and has the content writer store it, then queues the
/// command with the event writer (`batch_max` per group commit) and waits for its
/// commit. Seconds taken from the first submission to the last acknowledgement.
fn submit(
    tokio: &tokio::runtime::Runtime,
    db: &Path,
    rt: Runtime,
    uploader: &str,
    pdfs: Vec<Vec<u8>>,
    path: Path_,
    clients: usize,
) -> (f64, f64) {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let _guard = tokio.enter();
    let writer = Writer::start(rt, Box::new(move || now), 64);
    let content = ContentWriter::start(db);
    let per = pdfs.len() / clients;
    let mut queues: Vec<Vec<(usize, Vec<u8>)>> = vec![Vec::new(); clients];
    for (i, p) in pdfs.into_iter().enumerate() {
        queues[i / per.max(1) % clients].push((i, p));
    }
    let start = Instant::now();
    let cpu = cpu_seconds();
    tokio.block_on(async {
        let mut tasks = Vec::new();
        for queue in queues {
            let (writer, content, uploader) =
                (writer.clone(), content.clone(), uploader.to_string());
            tasks.push(tokio::spawn(async move {
                for (i, bytes) in queue {
                    let staged = paraaf_runtime::contents::stage(&uploader, bytes).unwrap();
                    let sub = submission(&uploader, i, staged.sha256.clone());
                    let staged = if path == Path_::InCommit {
                        staged
                    } else {
                        content_for(&writer, &content, staged, &sub).await.unwrap()
                    };
                    let answer = writer
                        .write(Write {
                            person: uploader.clone(),
                            idempotency: None,
                            command: Box::new(move |e: &mut Emitter| {
                                e.contents.push(staged);
                                e.submit(sub).map(|id| Answer {
                                    status: 201,
                                    body: id,
                                })
                            }),
                        })
                        .await;
                    assert_eq!(answer.status, 201, "{}", answer.body);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let took = start.elapsed().as_secs_f64();
    let used = cpu_seconds() - cpu;
    tokio.block_on(writer.stop());
    (took, used)
}

/// The disk's own rate for the bytes the unique side adds: `count` PDFs written to a
/// plain file 64 at a time, each 64 followed by `fdatasync` (what one WAL commit costs
/// at the least, once; SQLite writes content twice: to the WAL, then into the database
/// at its checkpoint). Submissions per second.
fn disk(path: &Path, count: usize, kb: usize) -> f64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let start = Instant::now();
    for batch in 0..count / 64 {
        for i in 0..64 {
            f.write_all(&pdf(kb, batch * 64 + i + 1)).unwrap();
        }
        f.sync_data().unwrap();
    }
    let took = start.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(path);
    count as f64 / took
}

/// CPU seconds this process used so far (user and system, all threads), from
/// `/proc/self/stat` (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let kb: usize = std::env::var("PARAAF_BENCH_PDF_KB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let count = 1024;
    let clients: usize = std::env::var("PARAAF_BENCH_CALLERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project.organogram.people[20].id.clone();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sides = [Path_::Same, Path_::Ahead, Path_::InCommit];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    let mut raw = Vec::new();
    for round in 0..5 {
        for (k, side) in sides.iter().enumerate() {
            let path = temp(&format!("content-{round}-{k}"));
            let mut rt = Runtime::open(&path, Default::default()).unwrap();
            rt.execute(now, |e| e.deploy(project.clone())).unwrap();
            // Made before the clock starts: both sides send bytes already in memory.
            let pdfs: Vec<Vec<u8>> = (0..count)
                .map(|i| pdf(kb, if *side == Path_::Same { 0 } else { i + 1 }))
                .collect();
            let (took, used) = submit(&tokio, &path, rt, &uploader, pdfs, *side, clients);
            rates[k].push(count as f64 / took);
            cpu[k].push(used * 1e6 / count as f64);
            remove(&path);
        }
        raw.push(disk(&temp(&format!("disk-{round}")), count, kb));
    }
    let range = |v: &[f64]| {
        (
            v.iter().cloned().fold(f64::INFINITY, f64::min),
            v.iter().cloned().fold(0.0, f64::max),
        )
    };
    let (s, a, c) = (
        median(rates[0].clone()),
        median(rates[1].clone()),
        median(rates[2].clone()),
    );
    println!(
        "{count} submissions with a {kb} KB PDF through the API's path ({clients} callers, group commit of 64; medians of 5 rounds, sides in turns, same run):"
    );
    for (label, v, r, u) in [
        (
            "the same PDF every time (baseline)            ",
            s,
            &rates[0],
            &cpu[0],
        ),
        (
            "a PDF of its own, stored ahead (content writer)",
            a,
            &rates[1],
            &cpu[1],
        ),
        (
            "a PDF of its own, written in the event commit ",
            c,
            &rates[2],
            &cpu[2],
        ),
    ] {
        let (lo, hi) = range(r);
        println!(
            "  {label} {v:>8.0} submissions/s = {:.2}x  (rounds {lo:.0}–{hi:.0}); CPU {:.0} µs per submission",
            v / s,
            median(u.clone())
        );
    }
    let r = median(raw.clone());
    let (lo, hi) = range(&raw);
    println!(
        "  the PDFs alone, written to a file with fdatasync per 64 (the disk)   {r:>8.0} /s = {:.0} MB/s (rounds {lo:.0}–{hi:.0})",
        r * (kb * 1024) as f64 / 1e6,
    );
    // In the commit: each batch waits for its content's sync, then its events' commit.
    // Stored ahead: the two overlap, so the slower of the two bounds the rate.
    println!(
        "  bound with content synced before its events, in turns 1/(1/same + 1/disk) {:>8.0} /s = {:.2}x; overlapped min(same, disk) {:>8.0} /s = {:.2}x",
        1.0 / (1.0 / s + 1.0 / r),
        1.0 / (1.0 / s + 1.0 / r) / s,
        s.min(r),
        s.min(r) / s
    );
}
