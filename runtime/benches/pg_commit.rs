//! `cargo bench -p paraaf-runtime --bench pg_commit`: durable events per second of the
//! runtime's group commit on a city in PostgreSQL, next to raw batched `INSERT`s into the
//! same PostgreSQL in the same run (a cluster this bench starts with PostgreSQL's durable
//! defaults, `fsync=on`, in a temporary folder; see `tests/pg_support`). Without
//! PostgreSQL's binaries it says so and stops (`PARAAF_SKIP_PG=1`).

#[path = "../tests/pg_support/mod.rs"]
mod pg_support;

use chrono::{TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::backend::StoreAddress;
use paraaf_runtime::engine::{Emitter, Submission};
use paraaf_runtime::pg_store::{postgres, schema};
use paraaf_runtime::runtime::BatchItem;
use std::path::Path;
use std::time::Instant;

fn submission(uploader: &str, i: usize) -> Submission {
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
        content_sha256: "0".repeat(64),
        title: format!("besluit {i}"),
        flow: None,
    }
}

/// One round: `docs` submissions, 64 commands per transaction, into a new city, in turns
/// with raw inserts of 64 rows (300 bytes each) per transaction into plain tables, one
/// `INSERT` per row and one `INSERT … unnest` of all 64 (16 transactions each turn, each
/// side timed only while it runs): raw rows/s one by one, raw rows/s in one statement,
/// events/s, submissions/s.
fn round(
    cluster: &pg_support::Cluster,
    city: &str,
    project: &paraaf_compiler::compile::CompiledProject,
    uploader: &str,
    docs: usize,
) -> (f64, f64, f64, f64) {
    let mut raw = postgres::Client::connect(&cluster.owner_url(), postgres::NoTls).unwrap();
    let table = format!("raw_{}", city.replace('-', "_"));
    raw.batch_execute(&format!(
        "CREATE TABLE {table} (seq BIGINT PRIMARY KEY, body TEXT NOT NULL);
        CREATE TABLE {table}_many (seq BIGINT PRIMARY KEY, body TEXT NOT NULL)"
    ))
    .unwrap();
    let insert = raw
        .prepare(&format!("INSERT INTO {table} (seq, body) VALUES ($1, $2)"))
        .unwrap();
    let insert_many = raw
        .prepare(&format!(
            "INSERT INTO {table}_many (seq, body) SELECT * FROM unnest($1::bigint[], $2::text[])"
        ))
        .unwrap();
    let body = "x".repeat(300);
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let address = StoreAddress::Postgres {
        url: cluster.app_url(),
        city: city.to_string(),
    };
    let mut rt = Runtime::open_store(&address, Default::default()).unwrap();
    rt.execute(now, |e| e.deploy(project.clone())).unwrap();
    let before = rt.state().last_seq;
    let (mut raw_time, mut many_time, mut group_time) = (0.0, 0.0, 0.0);
    let (mut rows, mut many_rows, mut doc) = (0i64, 0i64, 0usize);
    let bodies: Vec<&str> = vec![body.as_str(); 64];
    while doc < docs {
        let start = Instant::now();
        for _ in 0..16 {
            let mut tx = raw.transaction().unwrap();
            for _ in 0..64 {
                tx.execute(&insert, &[&rows, &body]).unwrap();
                rows += 1;
            }
            tx.commit().unwrap();
        }
        raw_time += start.elapsed().as_secs_f64();
        let start = Instant::now();
        for _ in 0..16 {
            let mut tx = raw.transaction().unwrap();
            let seqs: Vec<i64> = (many_rows..many_rows + 64).collect();
            tx.execute(&insert_many, &[&seqs, &bodies]).unwrap();
            many_rows += 64;
            tx.commit().unwrap();
        }
        many_time += start.elapsed().as_secs_f64();
        let start = Instant::now();
        for _ in 0..16 {
            let end = (doc + 64).min(docs);
            let items: Vec<BatchItem<String>> = (doc..end)
                .map(|i| {
                    let s = submission(uploader, i);
                    Box::new(move |e: &mut Emitter| (e.submit(s), None)) as BatchItem<String>
                })
                .collect();
            doc = end;
            for r in rt.execute_batch(now, items) {
                r.unwrap();
            }
        }
        group_time += start.elapsed().as_secs_f64();
    }
    (
        rows as f64 / raw_time,
        many_rows as f64 / many_time,
        (rt.state().last_seq - before) as f64 / group_time,
        docs as f64 / group_time,
    )
}

fn main() {
    let Some(cluster) = pg_support::Cluster::start_durable("bench") else {
        return;
    };
    schema::migrate(&cluster.owner_url(), pg_support::APP).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project.organogram.people[20].id.clone();
    let docs: usize = std::env::var("PARAAF_BENCH_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let rounds: Vec<(f64, f64, f64, f64)> = (0..3)
        .map(|r| round(&cluster, &format!("bench-{r}"), &project, &uploader, docs))
        .collect();
    let median = |f: fn(&(f64, f64, f64, f64)) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (raw, many) = (median(|r| r.0), median(|r| r.1));
    let (events, subs) = (median(|r| r.2), median(|r| r.3));
    println!("PostgreSQL (fsync=on, local cluster), medians of 3 rounds of {docs} submissions:");
    println!("  raw INSERT, 64 rows per transaction, one by one   {raw:>10.0} rows/s");
    println!("  raw INSERT, 64 rows per transaction, one unnest   {many:>10.0} rows/s");
    println!(
        "  paraaf, group commit of 64 commands               {events:>10.0} events/s ({subs:.0} submissions/s; {:.2}x one by one, {:.2}x unnest)",
        events / raw,
        events / many
    );
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "  round {}: raw {:.0} and {:.0} rows/s, paraaf {:.0} events/s ({:.2}x, {:.2}x)",
            i + 1,
            r.0,
            r.1,
            r.2,
            r.2 / r.0,
            r.2 / r.1
        );
    }
}
