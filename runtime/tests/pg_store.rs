//! The PostgreSQL store (#32, first slice) against a real PostgreSQL started for each test
//! (`pg_support`): one city's hash chain, row-level security keeping cities apart under
//! every query path, and one writer per city through an advisory lock.

mod pg_support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_runtime::engine::{Event, RuntimeError};
use paraaf_runtime::pg_store::{PgStore, postgres, schema};
use paraaf_runtime::store::{GENESIS, Idempotency};
use pg_support::{APP, Cluster, DATABASE};
use std::time::Instant;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()
}

/// `n` comment events numbered from `from` on.
fn comments(from: u64, n: u64, text: &str) -> Vec<(u64, DateTime<Utc>, Event)> {
    (from..from + n)
        .map(|seq| {
            (
                seq,
                t0() + Duration::seconds(seq as i64),
                Event::Commented {
                    doc: "D-1".into(),
                    by: "dirk-lambert".into(),
                    text: format!("{text} {seq}"),
                },
            )
        })
        .collect()
}

/// A cluster with the schema created by the owner for the application's role.
fn cluster(name: &str) -> Option<Cluster> {
    let c = Cluster::start(name)?;
    assert_eq!(
        schema::migrate(&c.owner_url(), APP).unwrap(),
        4,
        "schema version"
    );
    Some(c)
}

/// The message of the PostgreSQL error `sql` ends in, as the application's connection.
fn refused(client: &mut postgres::Client, sql: &str) -> String {
    match client.batch_execute(sql) {
        Ok(()) => panic!("PostgreSQL accepted: {sql}"),
        Err(e) => e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

fn count(client: &mut postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

fn rows_changed(client: &mut postgres::Client, sql: &str) -> u64 {
    client.execute(sql, &[]).unwrap()
}

#[test]
fn a_city_log_chains_as_sqlite_does_and_verifies() {
    let Some(pg) = cluster("chain") else { return };
    let mut w = PgStore::writer(&pg.app_url(), "aalst").unwrap();
    assert_eq!(w.head().unwrap(), (0, GENESIS.to_string()));
    let idem = Idempotency {
        person: "dirk-lambert".into(),
        key: "k-1".into(),
        request_sha256: "ab".repeat(32),
        status: 201,
        response: "{\"id\":\"D-1\"}".into(),
    };
    let first = w
        .append(&comments(1, 3, "first"), std::slice::from_ref(&idem))
        .unwrap();
    let second = w.append(&comments(4, 2, "second"), &[]).unwrap();
    assert_eq!(first.len() + second.len(), 5);
    // The chain is SQLite's: SHA-256 of `prev|seq|at|body` from the genesis hash.
    let events = w.events_after(0, 100).unwrap();
    assert_eq!(events.len(), 5);
    let mut prev = GENESIS.to_string();
    for ((seq, at, body), (wseq, whash)) in events.iter().zip(first.iter().chain(&second)) {
        let h = paraaf_runtime::sha256_hex(format!("{prev}|{seq}|{at}|{body}").as_bytes());
        assert_eq!((seq, &h), (wseq, whash));
        prev = h;
    }
    assert_eq!(events[0].1, "2026-12-07T09:00:01.000000Z");
    assert!(events[4].2.contains("second 5"), "{}", events[4].2);
    assert_eq!(w.head().unwrap(), (5, prev.clone()));
    let v = w.verify().unwrap();
    assert_eq!((v.events, v.head), (5, prev.clone()));
    assert_eq!(w.events_after(3, 1).unwrap()[0].0, 4);
    // A reader of the city sees the same log and the idempotency record.
    let mut r = PgStore::reader(&pg.app_url(), "aalst").unwrap();
    assert_eq!(r.head().unwrap(), (5, prev));
    assert_eq!(
        r.idempotency(&["old-id".into(), "dirk-lambert".into()], "k-1")
            .unwrap(),
        Some(idem)
    );
    assert_eq!(
        r.idempotency(&["dirk-lambert".into()], "k-2").unwrap(),
        None
    );
    // Content by its hash, checked when read; a reader does not append.
    let sha = w
        .put_content("application/pdf", b"%PDF-1.4 a decision")
        .unwrap();
    assert_eq!(
        r.read_content(&sha).unwrap(),
        Some(("application/pdf".into(), b"%PDF-1.4 a decision".to_vec()))
    );
    let e = r.append(&comments(6, 1, "reader"), &[]).unwrap_err();
    assert!(e.to_string().contains("reads only"), "{e}");
    // A writer appends only at the log's end.
    let e = w.append(&comments(7, 1, "gap"), &[]).unwrap_err();
    assert!(e.to_string().contains("does not follow"), "{e}");
    assert_eq!(w.head().unwrap().0, 5);
}

#[test]
fn a_writer_refuses_a_log_changed_behind_it_and_verify_names_the_altered_event() {
    let Some(pg) = cluster("tamper") else { return };
    let mut w = PgStore::writer(&pg.app_url(), "aalst").unwrap();
    w.append(&comments(1, 3, "c"), &[]).unwrap();
    // Someone with the database's superuser appends behind the writer's back.
    let mut admin = pg.superuser(DATABASE);
    admin
        .batch_execute(
            "INSERT INTO events (city, seq, at, body, prev_hash, hash)
            SELECT city, 4, at, body, hash, hash FROM events WHERE city = 'aalst' AND seq = 3",
        )
        .unwrap();
    let e = w.append(&comments(5, 1, "c"), &[]).unwrap_err();
    assert!(matches!(e, RuntimeError::Tampered(_)), "{e}");
    assert!(
        e.to_string().contains("not where this writer left it"),
        "{e}"
    );
    assert_eq!(
        w.verify().unwrap_err(),
        "event 4 was altered: its content does not match its hash"
    );
    admin
        .batch_execute("DELETE FROM events WHERE seq = 4; UPDATE events SET body = replace(body, 'c 2', 'x 2') WHERE seq = 2")
        .unwrap();
    assert_eq!(
        w.verify().unwrap_err(),
        "event 2 was altered: its content does not match its hash"
    );
    admin
        .batch_execute("UPDATE events SET body = replace(body, 'x 2', 'c 2') WHERE seq = 2; DELETE FROM events WHERE seq = 2")
        .unwrap();
    assert_eq!(
        w.verify().unwrap_err(),
        "event 2 is missing (the next one is 3)"
    );
}

#[test]
fn the_owner_and_roles_that_bypass_row_level_security_are_refused() {
    let Some(pg) = cluster("roles") else { return };
    let e = PgStore::reader(&pg.owner_url(), "aalst").err().unwrap();
    assert!(
        e.to_string()
            .contains("not as a superuser, a role with BYPASSRLS or the tables' owner"),
        "{e}"
    );
    pg.sql(
        DATABASE,
        "CREATE ROLE sneaky LOGIN BYPASSRLS; GRANT paraaf_app TO sneaky;",
    );
    let e = PgStore::reader(&pg.url("sneaky", DATABASE), "aalst")
        .err()
        .unwrap();
    assert!(e.to_string().contains("BYPASSRLS"), "{e}");
    let e = PgStore::reader(&pg.url(pg_support::SUPERUSER, DATABASE), "aalst")
        .err()
        .unwrap();
    assert!(e.to_string().contains("superuser"), "{e}");
    for city in ["", "Aalst", "aalst'; --", "1aalst", &"a".repeat(64)] {
        let e = PgStore::reader(&pg.app_url(), city).err().unwrap();
        assert!(
            e.to_string().contains("not a usable city name"),
            "{city}: {e}"
        );
    }
    // A database without the schema says how to create it.
    pg.sql("postgres", "CREATE DATABASE empty");
    let e = PgStore::reader(&pg.url(APP, "empty"), "aalst")
        .err()
        .unwrap();
    assert!(e.to_string().contains("no Paraaf schema yet"), "{e}");
    // Running the schema step again changes nothing and keeps the data.
    let mut w = PgStore::writer(&pg.app_url(), "aalst").unwrap();
    w.append(&comments(1, 2, "c"), &[]).unwrap();
    assert_eq!(schema::migrate(&pg.owner_url(), APP).unwrap(), 4);
    assert_eq!(w.verify().unwrap().events, 2);
}

/// City A's connection tries every query path on every table against city B: it reads
/// nothing of B and changes nothing of B, by row-level security and by the grants, and
/// still not when the grants are widened by mistake.
#[test]
fn a_connection_for_one_city_neither_reads_nor_writes_another() {
    let Some(pg) = cluster("attack") else { return };
    let mut gent = PgStore::writer(&pg.app_url(), "gent").unwrap();
    gent.append(
        &comments(1, 4, "gent"),
        &[Idempotency {
            person: "p".into(),
            key: "k".into(),
            request_sha256: "s".into(),
            status: 201,
            response: "{}".into(),
        }],
    )
    .unwrap();
    let gent_content = gent.put_content("text/plain", b"gent's secret").unwrap();
    let gent_head = gent.verify().unwrap();
    let mut aalst = PgStore::writer(&pg.app_url(), "aalst").unwrap();
    aalst
        .append(
            &comments(1, 1, "aalst"),
            &[Idempotency {
                person: "q".into(),
                key: "k".into(),
                request_sha256: "s".into(),
                status: 201,
                response: "{}".into(),
            }],
        )
        .unwrap();
    aalst.put_content("text/plain", b"aalst's note").unwrap();

    // Through the store's own functions: gent's content and records are not there.
    assert_eq!(aalst.read_content(&gent_content).unwrap(), None);
    assert_eq!(aalst.idempotency(&["p".into()], "k").unwrap(), None);
    assert_eq!(aalst.head().unwrap().0, 1);

    let attack = |c: &mut postgres::Client| {
        for table in schema::TABLES {
            // Reads: a query that forgets the city, one that names the other city.
            assert_eq!(
                count(
                    c,
                    &format!("SELECT count(*) FROM {table} WHERE city = 'gent'")
                ),
                0,
                "{table}"
            );
            assert_eq!(
                count(
                    c,
                    &format!("SELECT count(*) FROM {table} WHERE city <> 'aalst'")
                ),
                0,
                "{table}"
            );
            // Writes of a row in the other city's name.
            let insert = match table {
                "events" => "INSERT INTO events VALUES ('gent', 99, 'x', 'x', 'x', 'x')",
                "idempotency" => {
                    "INSERT INTO idempotency (city, person, key, request_sha256, status, response) VALUES ('gent', 'p', 'k2', 's', 200, '{}')"
                }
                _ => "INSERT INTO contents VALUES ('gent', 'ff', 'text/plain', 'x')",
            };
            let e = refused(c, insert);
            assert!(
                e.contains("violates row-level security policy"),
                "{table}: {e}"
            );
        }
        // Reading every city at once (COPY, a join, a subquery) still gives A's rows only.
        assert_eq!(
            count(
                c,
                "SELECT count(*) FROM events e JOIN contents USING (city)"
            ),
            1
        );
        assert_eq!(
            count(
                c,
                "SELECT count(*) FROM (SELECT DISTINCT city FROM events) x"
            ),
            1
        );
        let mut copied = String::new();
        std::io::Read::read_to_string(
            &mut c
                .copy_out("COPY (SELECT city FROM events) TO STDOUT")
                .unwrap(),
            &mut copied,
        )
        .unwrap();
        assert_eq!(copied, "aalst\n");
        // Dropping the protection is not the application's to do.
        for (sql, why) in [
            (
                "ALTER TABLE events DISABLE ROW LEVEL SECURITY",
                "must be owner",
            ),
            (
                "ALTER TABLE events NO FORCE ROW LEVEL SECURITY",
                "must be owner",
            ),
            ("DROP POLICY events_of_city ON events", "must be owner"),
            ("TRUNCATE events", "permission denied"),
            ("TRUNCATE contents", "permission denied"),
            (
                "SET row_security = off; SELECT * FROM events",
                "row-level security",
            ),
            (
                "CREATE TABLE public.stolen AS SELECT * FROM events",
                "permission denied",
            ),
        ] {
            let e = refused(c, sql);
            assert!(e.contains(why), "{sql}: {e}");
            c.batch_execute("RESET row_security").unwrap();
        }
    };

    let c = aalst.client();
    attack(c);
    // The log is append-only for the application, its own city's rows too.
    for table in schema::TABLES {
        for sql in [
            format!("UPDATE {table} SET city = city WHERE city = 'gent'"),
            format!("DELETE FROM {table} WHERE city = 'gent'"),
            format!("UPDATE {table} SET city = 'gent'"),
            format!("DELETE FROM {table}"),
        ] {
            let e = refused(c, &sql);
            assert!(e.contains("permission denied"), "{sql}: {e}");
        }
    }

    // Defence in depth: grants widened by mistake still leave gent's rows out of reach.
    pg.sql(
        DATABASE,
        &format!("GRANT UPDATE, DELETE ON events, idempotency, contents TO {APP}"),
    );
    let c = aalst.client();
    attack(c);
    for table in schema::TABLES {
        assert_eq!(
            rows_changed(
                c,
                &format!("UPDATE {table} SET city = city WHERE city = 'gent'")
            ),
            0
        );
        assert_eq!(
            rows_changed(c, &format!("DELETE FROM {table} WHERE city = 'gent'")),
            0
        );
        let e = refused(
            c,
            &format!("UPDATE {table} SET city = 'gent' WHERE city = 'aalst'"),
        );
        assert!(
            e.contains("violates row-level security policy"),
            "{table}: {e}"
        );
    }
    assert_eq!(
        rows_changed(c, "DELETE FROM events"),
        1,
        "only aalst's one event"
    );

    // A connection of the application's role that never named a city sees nothing and
    // writes nothing.
    let mut bare = postgres::Client::connect(&pg.app_url(), postgres::NoTls).unwrap();
    for table in schema::TABLES {
        assert_eq!(
            count(&mut bare, &format!("SELECT count(*) FROM {table}")),
            0
        );
    }
    let e = refused(
        &mut bare,
        "INSERT INTO events VALUES ('gent', 99, 'x', 'x', 'x', 'x')",
    );
    assert!(e.contains("violates row-level security policy"), "{e}");

    // Gent's log, records and content are whole.
    let mut admin = pg.superuser(DATABASE);
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM events WHERE city = 'gent'"
        ),
        4
    );
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM idempotency WHERE city = 'gent'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM contents WHERE city = 'gent'"
        ),
        1
    );
    assert_eq!(gent.verify().unwrap(), gent_head);
    assert_eq!(
        gent.read_content(&gent_content).unwrap().unwrap().1,
        b"gent's secret"
    );
}

/// A row of `table` (one of `schema::WORK_TABLES`) in city `city`, numbered `n`.
fn work_row(table: &str, city: &str, n: u32) -> String {
    match table {
        "content_owners" => {
            format!("INSERT INTO content_owners VALUES ('{city}', 'sha{n}', 'p{n}')")
        }
        "documents" => format!(
            "INSERT INTO documents (city, n, id, kind, flow, version, uploader, title, status, step, last_seq, audiences, tasks)
            VALUES ('{city}', {n}, 'd-{n}', 'k', 'f', 1, 'u', 't', 'in_progress', 0, 1, '', '[]')"
        ),
        "snapshots" => {
            format!("INSERT INTO snapshots VALUES ('{city}', {n}, 'x', '\\x00', {})", n + 1)
        }
        "outbox" => format!(
            "INSERT INTO outbox (city, seq, channel, recipient, urgent, at, payload)
            VALUES ('{city}', {n}, 'mail', 'p', false, 'x', '{{}}')"
        ),
        "deliveries" => format!(
            "INSERT INTO deliveries (city, id, channel, recipient, state, next_attempt, created)
            VALUES ('{city}', 'x{n}', 'mail', 'p', 'sending', 'x', 'x')"
        ),
        "writers" => format!(
            "INSERT INTO writers (city, address, pid, since) VALUES ('{city}', 'http://x{n}', {n}, 'x')"
        ),
        "web_sessions" => format!(
            "INSERT INTO web_sessions (city, key, kind, person, created, last_seen)
            VALUES ('{city}', 'k{n}', 'session', 'p{n}', {n}, {n})"
        ),
        other => panic!("no row for {other}"),
    }
}

/// The tables the runtime keeps beside the log (projection, snapshots, outbox, delivery
/// records, content owners), which the application may also change or delete in: city A's
/// connection reads, changes, deletes and moves nothing of city B there either.
#[test]
fn the_runtime_tables_of_one_city_are_out_of_reach_of_another() {
    let Some(pg) = cluster("attack-work") else {
        return;
    };
    // One row of each city in every table, written as the tables' owner with the city
    // set (the owner is bound by the policies too: FORCE ROW LEVEL SECURITY).
    let mut owner = postgres::Client::connect(&pg.owner_url(), postgres::NoTls).unwrap();
    for (city, n) in [("gent", 1), ("aalst", 2)] {
        owner
            .execute(
                "SELECT set_config($1, $2, false)",
                &[&schema::CITY_SETTING, &city],
            )
            .unwrap();
        for (table, _) in schema::WORK_TABLES {
            owner.batch_execute(&work_row(table, city, n)).unwrap();
        }
        let e = refused(&mut owner, &work_row("documents", "brugge", 9));
        assert!(e.contains("violates row-level security policy"), "{e}");
    }
    let mut aalst = PgStore::reader(&pg.app_url(), "aalst").unwrap();
    let c = aalst.client();
    for (table, grants) in schema::WORK_TABLES {
        assert_eq!(
            count(c, &format!("SELECT count(*) FROM {table}")),
            1,
            "{table}"
        );
        assert_eq!(
            count(
                c,
                &format!("SELECT count(*) FROM {table} WHERE city = 'gent'")
            ),
            0,
            "{table}"
        );
        let e = refused(c, &work_row(table, "gent", 3));
        assert!(
            e.contains("violates row-level security policy"),
            "{table}: {e}"
        );
        if grants.contains("UPDATE") {
            assert_eq!(
                rows_changed(
                    c,
                    &format!("UPDATE {table} SET city = city WHERE city = 'gent'")
                ),
                0,
                "{table}"
            );
            let e = refused(c, &format!("UPDATE {table} SET city = 'gent'"));
            assert!(
                e.contains("violates row-level security policy"),
                "{table}: {e}"
            );
        } else {
            let e = refused(c, &format!("UPDATE {table} SET city = city"));
            assert!(e.contains("permission denied"), "{table}: {e}");
        }
        if grants.contains("DELETE") {
            assert_eq!(
                rows_changed(c, &format!("DELETE FROM {table} WHERE city = 'gent'")),
                0,
                "{table}"
            );
        } else {
            let e = refused(c, &format!("DELETE FROM {table}"));
            assert!(e.contains("permission denied"), "{table}: {e}");
        }
        let e = refused(c, &format!("TRUNCATE {table}"));
        assert!(e.contains("permission denied"), "{table}: {e}");
    }
    // Gent's rows are whole.
    let mut admin = pg.superuser(DATABASE);
    for (table, _) in schema::WORK_TABLES {
        assert_eq!(
            count(
                &mut admin,
                &format!("SELECT count(*) FROM {table} WHERE city = 'gent'")
            ),
            1,
            "{table}"
        );
    }
}

/// Tries to become the writer of `city` until it works or `secs` pass; the time it took.
fn take_over(url: &str, city: &str, secs: u64) -> (PgStore, std::time::Duration) {
    let start = Instant::now();
    loop {
        match PgStore::writer(url, city) {
            Ok(w) => return (w, start.elapsed()),
            Err(RuntimeError::Locked(_)) if start.elapsed().as_secs() < secs => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e) => panic!("no take-over within {secs} s: {e}"),
        }
    }
}

#[test]
fn a_second_writer_of_a_city_is_refused_until_the_first_connection_ends() {
    let Some(pg) = cluster("lock") else { return };
    let mut first = PgStore::writer(&pg.app_url(), "aalst").unwrap();
    first.append(&comments(1, 1, "c"), &[]).unwrap();
    assert!(paraaf_runtime::pg_store::lock::held(first.client(), "aalst").unwrap());
    let pid = first.backend_pid().unwrap();
    let e = PgStore::writer(&pg.app_url(), "aalst").err().unwrap();
    assert!(matches!(e, RuntimeError::Locked(_)), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("another writer holds city aalst"), "{msg}");
    assert!(msg.contains(&format!("PostgreSQL backend {pid}")), "{msg}");
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    // Another city has its own writer; readers need no lock.
    let mut gent = PgStore::writer(&pg.app_url(), "gent").unwrap();
    assert!(!paraaf_runtime::pg_store::lock::held(gent.client(), "aalst").unwrap());
    PgStore::reader(&pg.app_url(), "aalst").unwrap();
    // The first writer's connection closes: the next one takes over and appends.
    drop(first);
    let (mut second, took) = take_over(&pg.app_url(), "aalst", 10);
    eprintln!("take-over after the writer closed its connection: {took:?}");
    second.append(&comments(2, 1, "c"), &[]).unwrap();
    // Its backend is killed (the server lost it): the next one takes over.
    let pid = second.backend_pid().unwrap();
    let mut admin = pg.superuser(DATABASE);
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    let (mut third, took) = take_over(&pg.app_url(), "aalst", 10);
    eprintln!("take-over after the writer's backend was terminated: {took:?}");
    assert!(second.append(&comments(3, 1, "c"), &[]).is_err());
    third.append(&comments(3, 1, "c"), &[]).unwrap();
    assert_eq!(third.verify().unwrap().events, 3);
}

const HOLD_URL: &str = "PARAAF_PG_HOLD_URL";

/// Run by `the_lock_goes_when_the_writer_process_is_killed` in a child process: holds
/// the writer lock of `aalst` until killed (at most two minutes).
#[test]
#[ignore = "run by the_lock_goes_when_the_writer_process_is_killed in a child process"]
fn hold_the_writer_lock_until_killed() {
    let url =
        std::env::var(HOLD_URL).expect("run by the_lock_goes_when_the_writer_process_is_killed");
    // The parent probes by taking the lock for a moment: wait for it to let go.
    let start = Instant::now();
    let _w = loop {
        match PgStore::writer(&url, "aalst") {
            Ok(w) => break w,
            Err(RuntimeError::Locked(_)) if start.elapsed().as_secs() < 30 => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    };
    println!("holding");
    std::thread::sleep(std::time::Duration::from_secs(120));
}

#[test]
fn the_lock_goes_when_the_writer_process_is_killed() {
    let Some(pg) = cluster("kill") else { return };
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hold_the_writer_lock_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(HOLD_URL, pg.app_url())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child holds the lock.
    let start = Instant::now();
    loop {
        match PgStore::writer(&pg.app_url(), "aalst") {
            Err(RuntimeError::Locked(msg)) => {
                assert!(msg.contains(&format!("pid {}", child.id())), "{msg}");
                break;
            }
            Ok(w) => {
                drop(w);
                assert!(
                    start.elapsed().as_secs() < 30,
                    "the child never took the lock"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("{e}"),
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (mut w, took) = take_over(&pg.app_url(), "aalst", 10);
    eprintln!("take-over after kill -9 of the writer's process: {took:?}");
    w.append(&comments(1, 1, "after"), &[]).unwrap();
}

/// Rows of the city `aalst` in `table`, as the superuser.
fn aalst_rows(pg: &Cluster, table: &str) -> i64 {
    count(
        &mut pg.superuser(DATABASE),
        &format!("SELECT count(*) FROM {table} WHERE city = 'aalst'"),
    )
}

#[test]
fn a_commit_writes_all_its_parts_in_one_transaction_or_nothing() {
    use paraaf_runtime::contents::Staged;
    use paraaf_runtime::engine::State;
    use paraaf_runtime::outbox::Item;
    use paraaf_runtime::store::Snapshot;
    let Some(pg) = cluster("commit-parts") else {
        return;
    };
    let mut w = PgStore::writer(&pg.app_url(), "aalst").unwrap();
    let item = |seq: u64, recipient: &str, dropped: Option<&str>| Item {
        seq,
        channel: "mail".into(),
        recipient: recipient.into(),
        urgent: true,
        at: t0(),
        payload: "{}".into(),
        dropped: dropped.map(String::from),
    };
    let idem = |key: &str| Idempotency {
        person: "dirk-lambert".into(),
        key: key.into(),
        request_sha256: "ab".repeat(32),
        status: 201,
        response: "{}".into(),
    };
    let pdf = b"%PDF-1.4 a decision".to_vec();
    let staged = || Staged {
        sha256: paraaf_runtime::sha256_hex(&pdf),
        media_type: "application/pdf",
        body: pdf.clone(),
        owner: "dirk-lambert".into(),
        row: None,
    };
    // Events, a mail to send, one dropped (with its delivery record), content with its
    // sender and an idempotency record: one commit.
    w.stage_contents(vec![staged()]);
    w.commit(
        &State::default(),
        &comments(1, 2, "first"),
        &[idem("k-1")],
        None,
        &[item(1, "jan-cools", None), item(2, "piet", Some("left"))],
    )
    .unwrap();
    let all = [
        "events",
        "outbox",
        "deliveries",
        "idempotency",
        "contents",
        "content_owners",
        "snapshots",
    ];
    let counts = |pg: &Cluster| all.map(|t| aalst_rows(pg, t));
    assert_eq!(counts(&pg), [2, 2, 1, 1, 1, 1, 0]);
    assert_eq!(
        count(
            &mut pg.superuser(DATABASE),
            "SELECT count(*) FROM outbox WHERE city = 'aalst' AND state = 'dropped' AND recipient = 'piet'"
        ),
        1
    );
    // A snapshot goes with the event that records it.
    let body = b"{}".to_vec();
    let snap = Snapshot {
        seq: 2,
        sha256: paraaf_runtime::sha256_hex(&body),
        body,
    };
    let taken = vec![(
        3,
        t0(),
        Event::SnapshotTaken {
            seq: 2,
            sha256: snap.sha256.clone(),
        },
    )];
    w.commit(&State::default(), &taken, &[], Some(&snap), &[])
        .unwrap();
    assert_eq!(counts(&pg), [3, 2, 1, 1, 1, 1, 1]);
    // The log changed behind the writer: neither the plain commit nor one with a
    // snapshot and a dropped mail writes any of its parts.
    pg.sql(
        DATABASE,
        "INSERT INTO events (city, seq, at, body, prev_hash, hash)
        SELECT city, 4, at, body, hash, hash FROM events WHERE city = 'aalst' AND seq = 3",
    );
    let before = counts(&pg);
    for snapshot in [None, Some(&snap)] {
        w.stage_contents(vec![staged()]);
        let e = w
            .commit(
                &State::default(),
                &comments(4, 1, "after"),
                &[idem("k-2")],
                snapshot,
                &[item(4, "jan-cools", None), item(4, "piet", Some("left"))],
            )
            .unwrap_err();
        assert!(matches!(e, RuntimeError::Tampered(_)), "{e}");
        assert_eq!(counts(&pg), before);
    }
}
