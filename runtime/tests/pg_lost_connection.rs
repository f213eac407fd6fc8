//! A server that can no longer keep its state current does not present itself as
//! healthy: an idle writer whose PostgreSQL connection (and the city's lock with it) is
//! gone stops within seconds without a write to notice it by; a read server cut off
//! from the log says so (`degraded`, which refuses its reads) until it reads again.

#[path = "pg_support/mod.rs"]
mod pg_support;

use chrono::{DateTime, TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::api::Writer;
use paraaf_runtime::backend::StoreAddress;
use paraaf_runtime::follower::Follower;
use paraaf_runtime::pg_store::schema;
use pg_support::{APP, Cluster, DATABASE};
use std::path::Path;
use std::time::{Duration, Instant};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn city(name: &str) -> Option<(Cluster, StoreAddress)> {
    let pg = Cluster::start(name)?;
    schema::migrate(&pg.owner_url(), APP).unwrap();
    let address = StoreAddress::Postgres {
        url: pg.app_url(),
        city: "aalst".into(),
    };
    Some((pg, address))
}

/// A writer of the city with the project deployed, holding the lock.
fn writer(address: &StoreAddress) -> Runtime {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let mut rt = Runtime::open_store(address, Default::default()).unwrap();
    rt.lock_writer("the writer").unwrap();
    rt.execute(now(), |e| e.deploy(project.clone())).unwrap();
    rt
}

fn until(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ends every connection of the application's role (a restarted PostgreSQL, a cut).
fn cut_off(pg: &Cluster) {
    pg.superuser(DATABASE)
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            &[&APP],
        )
        .unwrap();
}

#[test]
fn an_idle_writer_that_lost_its_connection_stops_without_a_write() {
    let Some((pg, address)) = city("lost-idle-writer") else {
        return;
    };
    let writer = Writer::start(writer(&address), Box::new(now), 64);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(writer.running() && writer.condition().is_none());
    cut_off(&pg);
    // No write comes: the writer finds out by itself.
    until(10, "the idle writer stops", || !writer.running());
    let (code, why) = writer.condition().unwrap();
    assert_eq!(code, "degraded");
    assert!(why.contains("lost its connection"), "{why}");
}

#[test]
fn a_read_server_cut_off_from_the_log_says_so_until_it_reads_again() {
    let Some((pg, address)) = city("lost-reader") else {
        return;
    };
    let rt = writer(&address);
    let to = address.clone();
    let server = Writer::follow(
        Follower::open(&address).unwrap(),
        Default::default(),
        None,
        Box::new(now),
        64,
        "http://reader.example:8080".into(),
        Box::new(move |_| Runtime::open_store(&to, Default::default())),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!server.is_leading());
    assert_eq!(server.condition(), None);
    // Its connection gone and no new one possible (the role may not log in).
    let mut su = pg.superuser(DATABASE);
    su.execute(&format!("ALTER ROLE {APP} NOLOGIN"), &[])
        .unwrap();
    cut_off(&pg);
    until(10, "the read server says it is cut off", || {
        server
            .condition()
            .is_some_and(|(c, w)| c == "degraded" && w.contains("cannot read the city's log"))
    });
    assert!(server.running());
    su.execute(&format!("ALTER ROLE {APP} LOGIN"), &[]).unwrap();
    until(10, "the read server reads again", || {
        server.condition().is_none()
    });
    std::mem::forget(rt);
}
