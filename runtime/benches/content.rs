//! `cargo bench -p paraaf-runtime --bench content`: submissions with their content in the
//! group commit (64 commands per transaction; the content written to the content file
//! `DB.contents` and synced, then the events committed): a different PDF for every
//! document next to the same PDF every time, in turns in the same run, each side timed
//! only while it runs; medians of five rounds. Both sides hash and stage the bytes as the
//! API does; the difference is the rows written. Each round also writes the unique
//! side's bytes to a plain file with one `fdatasync` per 64 (the disk's own rate: the
//! ceiling for any store that keeps the content durable with its commit).
//! `PARAAF_BENCH_PDF_KB` sets the PDF's size (default 100 KB).

use chrono::{TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::engine::{Emitter, Submission};
use paraaf_runtime::runtime::BatchItem;
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

/// Submits `count` documents from `next`, 64 per transaction: seconds taken.
fn submit(
    rt: &mut Runtime,
    uploader: &str,
    next: &mut usize,
    count: usize,
    unique: bool,
    kb: usize,
) -> f64 {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let same = pdf(kb, 0);
    let start = Instant::now();
    for _ in 0..count / 64 {
        let items: Vec<BatchItem<String>> = (*next..*next + 64)
            .map(|i| {
                let bytes = if unique { pdf(kb, i + 1) } else { same.clone() };
                let staged = paraaf_runtime::contents::stage(uploader, bytes).unwrap();
                let s = submission(uploader, i, staged.sha256.clone());
                Box::new(move |e: &mut Emitter| {
                    e.contents.push(staged);
                    (e.submit(s), None)
                }) as BatchItem<String>
            })
            .collect();
        *next += 64;
        for r in rt.execute_batch(now, items) {
            r.unwrap();
        }
    }
    start.elapsed().as_secs_f64()
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let kb: usize = std::env::var("PARAAF_BENCH_PDF_KB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project.organogram.people[20].id.clone();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let (mut same, mut unique, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..5 {
        let per_side = |is_unique: bool| {
            let path = temp(&format!("content-{round}-{is_unique}"));
            let mut rt = Runtime::open(&path, Default::default()).unwrap();
            rt.execute(now, |e| e.deploy(project.clone())).unwrap();
            (rt, path, 0usize, 0.0f64)
        };
        let (mut a, mut b) = (per_side(false), per_side(true));
        // In turns of 8 transactions, 1,024 submissions per side.
        for _ in 0..2 {
            a.3 += submit(&mut a.0, &uploader, &mut a.2, 512, false, kb);
            b.3 += submit(&mut b.0, &uploader, &mut b.2, 512, true, kb);
        }
        same.push(a.2 as f64 / a.3);
        unique.push(b.2 as f64 / b.3);
        raw.push(disk(&temp(&format!("disk-{round}")), 1024, kb));
        for (rt, path, ..) in [a, b] {
            drop(rt);
            remove(&path);
        }
    }
    let (s, u) = (median(same.clone()), median(unique.clone()));
    println!(
        "submissions with a {kb} KB PDF, group commit of 64, content in the content file first (same run):"
    );
    println!(
        "  the same PDF every time (baseline)  {s:>8.0} submissions/s  (rounds {:.0}–{:.0})",
        same.iter().cloned().fold(f64::INFINITY, f64::min),
        same.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "  a different PDF per document        {u:>8.0} submissions/s  (rounds {:.0}–{:.0})",
        unique.iter().cloned().fold(f64::INFINITY, f64::min),
        unique.iter().cloned().fold(0.0, f64::max)
    );
    println!("  unique / same                       {:>8.2}x", u / s);
    let r = median(raw.clone());
    println!(
        "  the unique PDFs alone, written to a file with fdatasync per 64 (the disk)  {r:>8.0} /s = {:.0} MB/s (rounds {:.0}–{:.0}); unique side at {:.2}x of it",
        r * (kb * 1024) as f64 / 1e6,
        raw.iter().cloned().fold(f64::INFINITY, f64::min),
        raw.iter().cloned().fold(0.0, f64::max),
        u / r
    );
    // Content durable before the events that refer to it: each batch waits for its
    // content's sync, then for its events' commit. At the disk's own rate for the content
    // and the same-PDF rate for the rest, no store that keeps this order does better.
    let ceiling = 1.0 / (1.0 / s + 1.0 / r);
    println!(
        "  ceiling for content synced before its events commit, 1/(1/same + 1/disk)  {ceiling:>8.0} /s = {:.2}x of the same PDF; unique side at {:.2}x of it",
        ceiling / s,
        u / ceiling
    );
}
