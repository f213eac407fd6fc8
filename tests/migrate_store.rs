//! `paraaf admin migrate-store` against a real PostgreSQL (`pg_support` starts one): a
//! city's SQLite log copied with its hashes and verified, refused onto a city that has
//! events, refused from a log that does not match its hashes (nothing copied), progress for
//! a long log; a city moved completely (projection, snapshots, outbox and deliveries,
//! idempotency records), refused while a server holds its SQLite database.

#[path = "../runtime/tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use paraaf_runtime::pg_store::PgStore;
use paraaf_runtime::store::{GENESIS, Store};
use pg_support::Cluster;
use std::path::Path;
use support::City;

/// `paraaf admin migrate-store ARGS`: exit code, standard output, standard error.
fn migrate(args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["admin", "migrate-store"])
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The head of the SQLite log at `db`.
fn sqlite_head(db: &Path) -> (u64, String) {
    Store::open(db).unwrap().head().unwrap()
}

#[test]
fn a_city_moves_with_its_history_and_verifies_in_postgres() {
    let Some(pg) = Cluster::start("migrate") else {
        return;
    };
    let city = City::aalst("migrate-store");
    for i in 0..3 {
        city.submit(
            "attest",
            "jan-cools",
            &["soort=gezinssamenstelling", &format!("aanvrager=Jan {i}")],
            "2026-11-24T10:00:00Z",
        );
    }
    let (events, head) = sqlite_head(&city.db);
    assert!(events > 3, "{events}");
    let db = city.db.to_str().unwrap();
    let (to, owner) = (pg.app_url(), pg.owner_url());

    // Without the schema: says to create it with --owner.
    let (code, _, err) = migrate(&["--from", db, "--to", &to, "--city", "aalst"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no Paraaf schema yet") && err.contains("--owner"),
        "{err}"
    );

    let (code, out, err) = migrate(&[
        "--from", db, "--to", &to, "--city", "aalst", "--owner", &owner,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.lines().take(2).collect::<Vec<_>>().join("\n"),
        format!(
            "copied {events} events and 0 idempotency records of {db} into city aalst (verified in PostgreSQL: head {head}, the same as the SQLite log's)\ncopied 1 contents with who sent them (each checked against its SHA-256)"
        )
    );
    // The version grows with the schema's steps; the grant is what counts here.
    assert!(
        err.contains("schema at version ") && err.contains(", granted to paraaf_app"),
        "{err}"
    );
    // The copy: the same events, times, bodies and hashes as the SQLite log.
    let mut pg_city = PgStore::reader(&to, "aalst").unwrap();
    assert_eq!(pg_city.head().unwrap(), (events, head.clone()));
    assert_eq!(
        pg_city.events_after(0, 1_000).unwrap(),
        Store::open(&city.db).unwrap().events().unwrap()
    );
    assert_eq!(pg_city.verify().unwrap().head, head);
    // The content the submissions sent, and who sent it.
    let pdf = std::fs::read(&city.content).unwrap();
    let sha = paraaf_runtime::sha256_hex(&pdf);
    assert_eq!(
        pg_city.read_content(&sha).unwrap(),
        Some(("application/pdf".to_string(), pdf))
    );
    let owners: Vec<String> = pg_city
        .client()
        .query(
            "SELECT person FROM content_owners WHERE sha256 = $1",
            &[&sha],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(owners, ["jan-cools"]);

    // Again onto the same city: refused, nothing added.
    let (code, _, err) = migrate(&["--from", db, "--to", &to, "--city", "aalst"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("city aalst already has {events} events")),
        "{err}"
    );
    assert_eq!(pg_city.head().unwrap().0, events);
    // The same log as another city is its own copy; other cities do not see it.
    let (code, out, err) = migrate(&["--from", db, "--to", &to, "--city", "gent"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(PgStore::reader(&to, "brugge").unwrap().head().unwrap().0, 0);

    // A wrong role, a missing file, a bad city name: clear errors, nothing copied.
    let (code, _, err) = migrate(&["--from", db, "--to", &owner, "--city", "brugge"]);
    assert_eq!(code, 2);
    assert!(err.contains("connect as the application's role"), "{err}");
    let (code, _, err) = migrate(&["--from", "missing.db", "--to", &to, "--city", "brugge"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("there is no SQLite database at missing.db"),
        "{err}"
    );
    let (code, _, err) = migrate(&["--from", db, "--to", &to, "--city", "Brugge"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a usable city name"), "{err}");
    assert_eq!(PgStore::reader(&to, "brugge").unwrap().head().unwrap().0, 0);
}

#[test]
fn a_log_that_does_not_match_its_hashes_is_not_copied() {
    let Some(pg) = Cluster::start("migrate-tampered") else {
        return;
    };
    paraaf_runtime::pg_store::schema::migrate(&pg.owner_url(), pg_support::APP).unwrap();
    let city = City::aalst("migrate-tampered");
    city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        "2026-11-24T10:00:00Z",
    );
    let store = Store::open(&city.db).unwrap();
    let conn = store.connection();
    let altered: u64 = conn
        .query_row(
            "SELECT min(seq) FROM events WHERE body LIKE '%\"Jan\"%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE events SET body = replace(body, '\"Jan\"', '\"Piet\"') WHERE seq = ?1",
        [altered],
    )
    .unwrap();
    drop(store);
    let (code, _, err) = migrate(&[
        "--from",
        city.db.to_str().unwrap(),
        "--to",
        &pg.app_url(),
        "--city",
        "aalst",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "event {altered} of the copied log does not match its hash"
        )),
        "{err}"
    );
    // One transaction: none of the events before it were kept either, nor the content.
    let mut pg_city = PgStore::reader(&pg.app_url(), "aalst").unwrap();
    assert_eq!(pg_city.head().unwrap(), (0, GENESIS.to_string()));
    let sha = paraaf_runtime::sha256_hex(&std::fs::read(&city.content).unwrap());
    assert_eq!(pg_city.read_content(&sha).unwrap(), None);
}

#[test]
fn a_long_log_reports_its_progress() {
    let Some(pg) = Cluster::start("migrate-long") else {
        return;
    };
    paraaf_runtime::pg_store::schema::migrate(&pg.owner_url(), pg_support::APP).unwrap();
    // A log of 25,000 comment events written straight into a new database, chained as the
    // store chains them.
    let dir = support::tempdir("migrate-long");
    let db = dir.join("long.db");
    let store = Store::open(&db).unwrap();
    let conn = store.connection();
    conn.execute_batch("BEGIN").unwrap();
    let mut prev = GENESIS.to_string();
    for seq in 1..=25_000u64 {
        let at = format!("2026-12-07T09:00:00.{:06}Z", seq % 1_000_000);
        let body = format!(
            r#"{{"type":"commented","doc":"D-1","by":"dirk-lambert","text":"comment {seq}"}}"#
        );
        let h = paraaf_runtime::sha256_hex(format!("{prev}|{seq}|{at}|{body}").as_bytes());
        conn.execute(
            "INSERT INTO events (seq, at, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![seq, at, body, prev, h],
        )
        .unwrap();
        prev = h;
    }
    // Two responses recorded for one key under a person's two ids: the first stays first.
    for (person, key, status) in [
        ("jan-cools-old", "k-1", 201),
        ("jan-cools", "k-1", 409),
        ("jan-cools", "k-2", 201),
    ] {
        conn.execute(
            "INSERT INTO idempotency (person, key, request_sha256, status, response) VALUES (?1, ?2, 'ab', ?3, '{}')",
            rusqlite::params![person, key, status],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
    drop(store);
    let start = std::time::Instant::now();
    let (code, out, err) = migrate(&[
        "--from",
        db.to_str().unwrap(),
        "--to",
        &pg.app_url(),
        "--city",
        "aalst",
    ]);
    eprintln!("migrate-store of 25,000 events: {:?}", start.elapsed());
    assert_eq!(code, 0, "{out}{err}");
    let mut copy = PgStore::reader(&pg.app_url(), "aalst").unwrap();
    let first = copy
        .idempotency(&["jan-cools".into(), "jan-cools-old".into()], "k-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.person.as_str(), first.status),
        ("jan-cools-old", 201)
    );
    assert_eq!(
        copy.idempotency(&["jan-cools".into()], "k-2")
            .unwrap()
            .map(|i| i.status),
        Some(201)
    );
    assert!(
        out.contains("copied 25000 events and 3 idempotency records") && out.contains(&prev),
        "{out}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.contains(&"copied 4000 of 25000 events"), "{err}");
    assert_eq!(lines.last(), Some(&"copied 25000 of 25000 events"), "{err}");
}

#[test]
fn a_city_moves_completely_its_unsent_mail_sent_once_its_retries_answered() {
    use paraaf_compiler::compile::model::OrgPosition;
    use paraaf_runtime::Runtime;
    use paraaf_runtime::backend::StoreAddress;
    use paraaf_runtime::runtime::BatchItem;
    use paraaf_runtime::store::Idempotency;
    use paraaf_runtime::store::outbox::{Outbox, Plan};
    let Some(pg) = Cluster::start("migrate-complete") else {
        return;
    };
    paraaf_runtime::pg_store::schema::migrate(&pg.owner_url(), pg_support::APP).unwrap();
    let city = City::aalst("migrate-complete");
    const NOW: &str = "2026-07-01T10:00:00Z";
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    // The registrars want their mail at once: each certificate puts mail in the outbox.
    let signers: Vec<String> = city
        .org
        .people
        .iter()
        .filter(|p| {
            p.positions.iter().any(|pos| {
                matches!(pos, OrgPosition::Function { function, .. }
                    if function == "ambtenaar-burgerlijke-stand")
            })
        })
        .map(|p| p.id.clone())
        .collect();
    assert!(!signers.is_empty());
    for p in &signers {
        city.ok(&["notify", p, "--mail", "immediate"], NOW);
    }
    for i in 0..3 {
        city.submit(
            "attest",
            "jan-cools",
            &["soort=gezinssamenstelling", &format!("aanvrager=Jan {i}")],
            NOW,
        );
    }
    // A response recorded for a request's idempotency key, and a snapshot, as a server
    // writes them.
    let record = Idempotency {
        person: "jan-cools".into(),
        key: "retry-1".into(),
        request_sha256: "ab".repeat(32),
        status: 201,
        response: r#"{"document":"first answer"}"#.into(),
    };
    {
        let mut rt =
            Runtime::open_store(&StoreAddress::File(city.db.clone()), Default::default()).unwrap();
        rt.snapshot_every = 2;
        let item: BatchItem<()> = Box::new({
            let record = record.clone();
            move |_| (Ok(()), Some(record))
        });
        for r in rt.execute_batch(now, vec![item]) {
            r.unwrap();
        }
    }
    let snapshots: u64 = Store::open(&city.db)
        .unwrap()
        .connection()
        .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert!(snapshots > 0, "no snapshot was taken");
    // One mail sent before the move; the others wait.
    let key = |w: &paraaf_runtime::store::outbox::Waiting| {
        (w.item.seq, w.item.channel.clone(), w.item.recipient.clone())
    };
    let mut outbox = Outbox::open(&city.db).unwrap();
    let waiting = outbox.waiting().unwrap();
    assert!(waiting.len() >= 2, "{}", waiting.len());
    let first = &waiting[0].item;
    outbox
        .plan(
            &[Plan {
                id: "sent-before-the-move".into(),
                channel: &first.channel,
                recipient: &first.recipient,
                items: vec![first],
            }],
            now,
        )
        .unwrap();
    outbox.sent("sent-before-the-move", now).unwrap();
    let unsent: Vec<_> = outbox.waiting().unwrap().iter().map(key).collect();
    assert_eq!(unsent.len(), waiting.len() - 1);
    drop(outbox);
    let (events, head) = sqlite_head(&city.db);
    let before = Store::open(&city.db).unwrap().projection_rows().unwrap();

    // While a server holds the SQLite database, the city does not move.
    let held =
        Runtime::open_store(&StoreAddress::File(city.db.clone()), Default::default()).unwrap();
    let mut holder = held;
    for r in holder.execute_batch::<()>(now, vec![]) {
        r.unwrap();
    }
    let db = city.db.to_str().unwrap();
    let to = pg.app_url();
    let (code, _, err) = migrate(&["--from", db, "--to", &to, "--city", "aalst"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("paraaf (process"), "{err}");
    assert_eq!(PgStore::reader(&to, "aalst").unwrap().head().unwrap().0, 0);
    drop(holder);

    let (code, out, err) = migrate(&["--from", db, "--to", &to, "--city", "aalst"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "copied {} outbox items ({} not sent yet, sent from PostgreSQL from now on), 1 delivery records and {snapshots} snapshots (the city loads from the snapshot at event",
            waiting.len(),
            unsent.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{db} is now the old copy: do not serve it again")),
        "{out}"
    );
    let mut copy = PgStore::reader(&to, "aalst").unwrap();
    assert_eq!(copy.head().unwrap(), (events, head));
    // The projection, rebuilt from the copied log, is the SQLite database's.
    assert_eq!(copy.projection_rows().unwrap(), before);
    // It loads from the copied snapshot.
    assert!(copy.load_counting().unwrap().1 > 0);
    // A retried request gets the response recorded before the move.
    let answer = copy
        .idempotency(&["jan-cools".into()], "retry-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        (answer.status, answer.response.as_str()),
        (201, record.response.as_str())
    );
    // The mail not sent before the move waits in PostgreSQL, the sent one does not; once
    // sent there, none waits any more: each is sent once.
    let mut moved = Outbox::on_postgres(PgStore::reader(&to, "aalst").unwrap());
    let waiting_now = moved.waiting().unwrap();
    assert_eq!(waiting_now.iter().map(key).collect::<Vec<_>>(), unsent);
    let plans: Vec<Plan<'_>> = waiting_now
        .iter()
        .enumerate()
        .map(|(i, w)| Plan {
            id: format!("after-the-move-{i}"),
            channel: &w.item.channel,
            recipient: &w.item.recipient,
            items: vec![&w.item],
        })
        .collect();
    moved.plan(&plans, now).unwrap();
    for p in &plans {
        moved.sent(&p.id, now).unwrap();
    }
    assert!(moved.waiting().unwrap().is_empty());
}

#[test]
fn a_signed_city_moves_only_verified_against_its_checkpoints() {
    let Some(pg) = Cluster::start("migrate-signed") else {
        return;
    };
    paraaf_runtime::pg_store::schema::migrate(&pg.owner_url(), pg_support::APP).unwrap();
    let city = City::aalst("migrate-signed");
    let key = city.dir.join("checkpoint.key");
    paraaf_runtime::checkpoint::generate(&key).unwrap();
    // The city starts signing its log, and goes on with the key.
    let keyed = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", &city.db)
            .env("PARAAF_NOW", "2026-11-24T10:00:00Z")
            .env("PARAAF_SIGNING_KEY", &key)
            .current_dir(support::root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    keyed(&[
        "audit",
        "checkpoint",
        "--adopt",
        "--reason",
        "the city signs its log from now on",
    ]);
    let content = city.content.to_str().unwrap();
    keyed(&[
        "doc",
        "submit",
        "--kind",
        "attest",
        "--as",
        "jan-cools",
        "--field",
        "soort=gezinssamenstelling",
        "--field",
        "aanvrager=Jan",
        "--content",
        content,
    ]);
    let db = city.db.to_str().unwrap();
    let to = pg.app_url();
    let (events, _) = sqlite_head(&city.db);

    // Signed, and no key to check the checkpoints with: nothing is copied.
    let (code, _, err) = migrate(&["--from", db, "--to", &to, "--city", "aalst"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is signed (checkpoints in"), "{err}");
    assert_eq!(PgStore::reader(&to, "aalst").unwrap().head().unwrap().0, 0);
    // Another key: the checkpoints' signatures do not verify; nothing is copied.
    let other = city.dir.join("other.key");
    paraaf_runtime::checkpoint::generate(&other).unwrap();
    let (code, _, err) = migrate(&[
        "--from",
        db,
        "--to",
        &to,
        "--city",
        "aalst",
        "--public-key",
        other.to_str().unwrap(),
    ]);
    assert_ne!(code, 0, "{err}");
    assert_eq!(PgStore::reader(&to, "aalst").unwrap().head().unwrap().0, 0);
    // With the key: copied and verified against every signed checkpoint.
    let (code, out, err) = migrate(&[
        "--from",
        db,
        "--to",
        &to,
        "--city",
        "aalst",
        "--public-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("signed checkpoints of")
            && out.contains(&format!("(the last at event {events})")),
        "{out}"
    );
}
