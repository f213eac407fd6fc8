//! What a read server followed and verified is what it holds the log to: a follower
//! whose folded events are rewritten (hashes recomputed) or removed under it stops; a
//! read server that takes over after the writer died (its tail not signed yet) refuses a
//! log rewritten or cut back in the meantime, signs nothing and answers `tampered`; on
//! a log that agrees it takes over and signs the tail with a note that it saw those
//! events committed.

#[path = "pg_support/besluit.rs"]
mod besluit;
#[path = "pg_support/mod.rs"]
mod pg_support;

use besluit::{now, submission};
use paraaf_runtime::Runtime;
use paraaf_runtime::api::Writer;
use paraaf_runtime::backend::StoreAddress;
use paraaf_runtime::checkpoint::{self, Key};
use paraaf_runtime::engine::RuntimeError;
use paraaf_runtime::follower::Follower;
use paraaf_runtime::pg_store::{postgres, schema};
use pg_support::{APP, Cluster, DATABASE, SUPERUSER};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How a writer of the city opens it: its address, signing key and checkpoint file.
#[derive(Clone)]
struct Opener {
    address: StoreAddress,
    key: PathBuf,
    checkpoints: PathBuf,
}

impl Opener {
    /// The writer's open: checkpoints checked (the lock is taken after).
    fn open(&self) -> Result<Runtime, RuntimeError> {
        let mut rt = Runtime::open_store(&self.address, Default::default())?;
        rt.use_checkpoints(
            Key::read_signing(&self.key).unwrap(),
            self.checkpoints.clone(),
            1000,
        )?;
        Ok(rt)
    }
}

/// A city in a cluster of its own, with a signing key and a checkpoint file.
struct City {
    pg: Cluster,
    opener: Opener,
}

impl City {
    fn start(name: &str) -> Option<City> {
        let pg = Cluster::start(name)?;
        schema::migrate(&pg.owner_url(), APP).unwrap();
        let key = pg.dir().join("city.key");
        checkpoint::generate(&key).unwrap();
        Some(City {
            opener: Opener {
                address: StoreAddress::Postgres {
                    url: pg.app_url(),
                    city: "aalst".into(),
                },
                checkpoints: pg.dir().join("city.checkpoints"),
                key,
            },
            pg,
        })
    }

    fn address(&self) -> &StoreAddress {
        &self.opener.address
    }

    fn open(&self) -> Result<Runtime, RuntimeError> {
        self.opener.open()
    }

    /// A writer with the project deployed and `n` documents submitted, none signed yet
    /// (a checkpoint every 1000 events); the uploader.
    fn writer(&self, n: usize) -> (Runtime, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
        let loaded = paraaf_compiler::load::load(&root).unwrap();
        let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
            .clone()
            .unwrap();
        let uploader = project.organogram.people[20].id.clone();
        let mut rt = self.open().unwrap();
        rt.lock_writer("the first writer").unwrap();
        rt.execute(now(), |e| e.deploy(project.clone())).unwrap();
        for i in 0..n {
            rt.execute(now(), |e| e.submit(submission(&uploader, i)))
                .unwrap();
        }
        (rt, uploader)
    }

    /// A read server of the city, taking over as `paraaf serve` does: the writer's open,
    /// then the lock with what it followed checked under it (a writer that stopped on a
    /// rewritten log is kept, holding the lock).
    fn read_server(&self) -> Writer {
        let opener = self.opener.clone();
        Writer::follow(
            Follower::open(self.address()).unwrap(),
            Default::default(),
            None,
            Box::new(now),
            64,
            "http://reader.example:8080".into(),
            Box::new(move |witnessed| {
                let mut rt = opener.open()?;
                rt.expect_witnessed(witnessed);
                match rt.lock_writer("the read server taking over") {
                    Ok(()) => Ok(rt),
                    Err(RuntimeError::Tampered(_)) if rt.condition().is_some() => Ok(rt),
                    Err(e) => Err(e),
                }
            }),
        )
    }

    fn superuser(&self) -> postgres::Client {
        self.pg.superuser(DATABASE)
    }

    /// Ends the writer's connection (its process killed): its lock goes, nothing is
    /// signed at close. A session of the superuser's takes the lock as it goes and holds
    /// it until the returned client is dropped, so that nobody takes over meanwhile.
    fn kill_writer_and_hold_its_lock(&self, rt: Runtime) -> postgres::Client {
        let url = self.pg.url(SUPERUSER, DATABASE);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.execute(
                "SELECT pg_advisory_lock(hashtextextended('paraaf:writer:aalst', 0))",
                &[],
            )
            .unwrap();
            tx.send(c).unwrap();
        });
        std::thread::sleep(Duration::from_millis(300));
        let mut su = self.superuser();
        su.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
        std::mem::forget(rt);
        rx.recv_timeout(Duration::from_secs(10)).unwrap()
    }

    /// Rewrites the first event whose body holds `from` to hold `to`, and every later
    /// event's hashes as the chain computes them: a rewrite that follows the chain.
    fn rewrite(&self, from: &str, to: &str) {
        let mut su = self.superuser();
        let rows = su
            .query(
                "SELECT seq, at, body, hash FROM events WHERE city = 'aalst' ORDER BY seq",
                &[],
            )
            .unwrap();
        let mut prev = String::new();
        let mut changed = false;
        for r in rows {
            let (seq, at, mut body, hash): (i64, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            if !changed && body.contains(from) {
                body = body.replacen(from, to, 1);
                changed = true;
            }
            if !changed {
                prev = hash;
                continue;
            }
            let hash = paraaf_runtime::sha256_hex(format!("{prev}|{seq}|{at}|{body}").as_bytes());
            su.execute(
                "UPDATE events SET body = $1, prev_hash = $2, hash = $3
                WHERE city = 'aalst' AND seq = $4",
                &[&body, &prev, &hash, &seq],
            )
            .unwrap();
            prev = hash;
        }
        assert!(changed, "an event to rewrite");
    }

    /// Removes the events after `seq` (an older copy of the city restored).
    fn cut_back_to(&self, seq: u64) {
        self.superuser()
            .execute(
                "DELETE FROM events WHERE city = 'aalst' AND seq > $1",
                &[&(seq as i64)],
            )
            .unwrap();
    }

    fn checkpoint_lines(&self) -> String {
        std::fs::read_to_string(&self.opener.checkpoints).unwrap()
    }
}

/// Waits up to `secs` for `done`.
fn until(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn titles(w: &Writer) -> Vec<String> {
    w.committed()
        .documents
        .values()
        .map(|d| d.title.clone())
        .collect()
}

#[test]
fn a_follower_stops_when_what_it_folded_is_rewritten_or_removed() {
    let Some(city) = City::start("witness-follow") else {
        return;
    };
    let (mut rt, uploader) = city.writer(3);
    // Rewritten, the chain recomputed through the head it folded.
    let mut follower = Follower::open(city.address()).unwrap();
    city.rewrite("besluit 1", "FORGED");
    let e = follower.catch_up().unwrap_err();
    assert!(
        matches!(&e, RuntimeError::Tampered(w) if w.contains("another hash")),
        "{e}"
    );
    assert!(follower.tampered().is_some());
    // Cut back behind it (its head removed), even with new events after.
    let mut follower = Follower::open(city.address()).unwrap();
    let head = follower.head().0;
    city.cut_back_to(head - 2);
    drop(rt.execute(now(), |e| e.submit(submission(&uploader, 9))));
    let e = follower.catch_up().unwrap_err();
    assert!(
        matches!(&e, RuntimeError::Tampered(w) if w.contains("not in the log any more")),
        "{e}"
    );
    std::mem::forget(rt);
}

/// The read server's condition once it had its chance to take over.
fn after_take_over(city: &City, change: impl FnOnce(&City)) -> (Writer, String, String) {
    let (rt, _) = city.writer(4);
    let server = city.read_server();
    let head = rt.state().last_seq;
    until(10, "the read server folds the writer's events", || {
        server.committed().last_seq == head
    });
    let before = city.checkpoint_lines();
    let held = city.kill_writer_and_hold_its_lock(rt);
    change(city);
    drop(held);
    until(10, "the read server tries to take over", || {
        server.is_leading() || server.condition().is_some()
    });
    let why = server.condition().map(|(c, w)| format!("{c}: {w}"));
    (server, before, why.unwrap_or_default())
}

#[test]
fn a_take_over_refuses_a_tail_rewritten_under_what_it_followed_and_signs_nothing() {
    let Some(city) = City::start("witness-rewrite") else {
        return;
    };
    let (server, before, why) = after_take_over(&city, |c| {
        c.rewrite("besluit 2", "FORGED");
    });
    // The follower notices (its head rewritten) or the take-over does (under the lock);
    // either way it takes the lock and holds it without writing or signing, so that no
    // other server signs that log, and serves what it verified.
    assert!(why.starts_with("tampered"), "{why}");
    assert!(why.contains("the log was rewritten"), "{why}");
    until(10, "the lock held", || {
        city.superuser()
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 1
    });
    let refused = city.open().unwrap().lock_writer("another server");
    assert!(refused.is_err(), "the lock is held");
    assert!(!server.is_leading(), "it does not write");
    assert_eq!(city.checkpoint_lines(), before, "nothing signed");
    assert!(!titles(&server).contains(&"FORGED".to_string()));
    assert!(titles(&server).contains(&"besluit 2".to_string()));
    let tokio = tokio::runtime::Runtime::new().unwrap();
    tokio.block_on(server.stop());
    assert_eq!(city.checkpoint_lines(), before, "nothing signed at close");
}

#[test]
fn a_take_over_refuses_a_log_cut_back_behind_what_it_followed() {
    let Some(city) = City::start("witness-cut") else {
        return;
    };
    let (_server, before, why) = after_take_over(&city, |c| c.cut_back_to(3));
    assert!(why.starts_with("tampered"), "{why}");
    assert!(why.contains("events were removed"), "{why}");
    assert_eq!(city.checkpoint_lines(), before, "nothing signed");
}

#[test]
fn a_take_over_on_the_log_it_followed_signs_its_tail_as_seen_committed() {
    let Some(city) = City::start("witness-clean") else {
        return;
    };
    let (server, before, why) = after_take_over(&city, |_| {});
    assert_eq!(why, "", "no condition");
    until(10, "the take-over", || server.is_leading());
    let signed = city.checkpoint_lines();
    let new = &signed[before.len()..];
    assert!(
        new.contains("were followed and verified as they were committed by the read server"),
        "{new}"
    );
    let tokio = tokio::runtime::Runtime::new().unwrap();
    tokio.block_on(server.stop());
}

#[test]
fn the_writer_taking_over_checks_every_event_it_followed_under_the_lock() {
    for change in ["rewrite", "cut"] {
        let Some(city) = City::start(&format!("witness-lock-{change}")) else {
            return;
        };
        let (rt, _) = city.writer(4);
        let mut follower = Follower::open(city.address()).unwrap();
        assert!(!follower.catch_up().unwrap());
        let witnessed = follower.witnessed().clone();
        assert_eq!(witnessed.head, follower.head());
        let before = city.checkpoint_lines();
        let held = city.kill_writer_and_hold_its_lock(rt);
        // Rewritten after it was folded, the head included, or cut back behind it.
        match change {
            "rewrite" => city.rewrite("besluit 1", "FORGED"),
            _ => city.cut_back_to(witnessed.head.0 - 1),
        }
        drop(held);
        let mut rt = city.open().unwrap();
        rt.expect_witnessed(witnessed);
        let e = rt.lock_writer("the read server taking over").unwrap_err();
        assert!(
            matches!(&e, RuntimeError::Tampered(w) if w.contains("followed and verified")),
            "{change}: {e}"
        );
        assert_eq!(rt.condition().map(|(c, _)| c), Some("tampered"), "{change}");
        drop(rt);
        assert_eq!(city.checkpoint_lines(), before, "{change}: nothing signed");
    }
}

#[test]
fn a_read_server_that_cannot_take_over_says_why_and_goes_on_reading() {
    let Some(city) = City::start("witness-cannot-lead") else {
        return;
    };
    let (rt, uploader) = city.writer(2);
    // Its own checkpoint file does not match the log (another server's copy, stale).
    let server = Writer::follow(
        Follower::open(city.address()).unwrap(),
        Default::default(),
        None,
        Box::new(now),
        64,
        "http://reader.example:8080".into(),
        Box::new(|_| {
            Err(RuntimeError::Tampered(
                "events 2–9 were appended after the writer closed the log".into(),
            ))
        }),
    );
    drop(rt);
    until(10, "it says why it cannot take over", || {
        server
            .condition()
            .is_some_and(|(c, w)| c == "tampered" && w.contains("cannot take over"))
    });
    assert!(server.running() && !server.is_leading());
    // Another server writes the city: this one goes on folding what it writes.
    let mut other = city.open().unwrap();
    other.lock_writer("the other server").unwrap();
    other
        .execute(now(), |e| e.submit(submission(&uploader, 7)))
        .unwrap();
    let head = other.state().last_seq;
    until(10, "it goes on reading", || {
        server.committed().last_seq == head
    });
    assert!(titles(&server).contains(&"besluit 7".to_string()));
}
