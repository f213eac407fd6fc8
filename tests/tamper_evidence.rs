//! The log nobody rewrites unseen: signed checkpoints outside the database, `audit
//! verify` naming the first altered event, and every open refusing a log that does not
//! match (exit 3). Each case is an attacker with write access to the database file only.

#[path = "support/signed.rs"]
mod signed;
mod support;

use signed::{NOW, Signed};
use std::path::{Path, PathBuf};
use std::process::Command;

impl Signed {
    /// A copy of the database and its checkpoint file, to tamper with.
    fn copy(&self, name: &str) -> PathBuf {
        let db = self.city.dir.join(format!("{name}.db"));
        std::fs::copy(&self.city.db, &db).unwrap();
        std::fs::copy(cp_file(&self.city.db), cp_file(&db)).unwrap();
        db
    }
}

fn cp_file(db: &Path) -> PathBuf {
    paraaf_runtime::checkpoint::default_file(db)
}

fn sql(db: &Path, statement: &str) {
    let store = paraaf_runtime::store::Store::open(db).unwrap();
    store.connection().execute_batch(statement).unwrap();
}

/// Rewrites event `seq`'s body and recomputes the hash of it and every later event: a
/// chain that verifies on its own.
fn rewrite_from(db: &Path, seq: u64, from: &str, to: &str) {
    let store = paraaf_runtime::store::Store::open(db).unwrap();
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

fn events(db: &Path) -> u64 {
    let store = paraaf_runtime::store::Store::open(db).unwrap();
    store.head().unwrap().0
}

#[test]
fn checkpoints_are_signed_every_n_events_and_at_close() {
    let s = Signed::new("tamper-signed", "5");
    for _ in 0..4 {
        assert!(s.submit(&s.city.db).status.success());
    }
    let head = events(&s.city.db);
    let text = std::fs::read_to_string(cp_file(&s.city.db)).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 4, "{text}");
    assert_eq!(lines[0]["from"], 1);
    assert_eq!(
        lines.last().unwrap()["seq"],
        head,
        "the close signs the head"
    );
    let (code, out) = s.verify(&s.city.db);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("signed checkpoints, the last at event"),
        "{out}"
    );
    // Nothing new: `audit checkpoint` says so.
    let o = s.run(&s.city.db, &["audit", "checkpoint"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("nothing to sign"),
        "{o:?}"
    );
}

#[test]
fn every_rewrite_of_the_log_is_named_and_refused() {
    let s = Signed::new("tamper-cases", "5");
    for _ in 0..8 {
        assert!(s.submit(&s.city.db).status.success());
    }
    let head = events(&s.city.db);
    assert!(head >= 14, "{head}");

    // Each case: the tampering, then what `audit verify` must say.
    type Tamper = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Tamper, String)> = vec![
        (
            "delete-last",
            Box::new(move |db| sql(db, &format!("DELETE FROM events WHERE seq = {head}"))),
            format!("events {head}–{head} were deleted"),
        ),
        (
            "delete-last-10",
            Box::new(move |db| sql(db, &format!("DELETE FROM events WHERE seq > {}", head - 10))),
            format!("events {}–{head} were deleted", head - 9),
        ),
        (
            "edit-and-rehash",
            Box::new(|db| rewrite_from(db, 6, "Aankoop", "Verkoop")),
            "event 6 is not the event the checkpoint signed".to_string(),
        ),
        (
            "edit-first-and-rehash",
            Box::new(|db| rewrite_from(db, 2, "bevolking", "burgerzaken")),
            "event 2 is not the event the checkpoint signed".to_string(),
        ),
        (
            "edit-only",
            Box::new(|db| {
                sql(
                    db,
                    "UPDATE events SET body = replace(body, 'Aankoop', 'Verkoop') WHERE seq = 6",
                )
            }),
            "event 6 was altered".to_string(),
        ),
        (
            "delete-middle",
            Box::new(|db| sql(db, "DELETE FROM events WHERE seq = 3")),
            "event 3 is missing".to_string(),
        ),
    ];
    for (name, tamper, expected) in cases {
        let db = s.copy(name);
        let before = events(&db);
        tamper(&db);
        let (code, out) = s.verify(&db);
        assert_eq!(code, Some(1), "{name}: {out}");
        assert!(
            out.starts_with("FAILED: ") && out.contains(&expected),
            "{name}: {out}"
        );
        // Nothing is appended to it: a write exits 3 and the log stays as it is.
        let tampered_len = events(&db);
        let o = s.submit(&db);
        assert_eq!(o.status.code(), Some(3), "{name}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("does not match its signed checkpoints"),
            "{name}: {err}"
        );
        assert_eq!(events(&db), tampered_len, "{name}");
        assert!(tampered_len <= before);
        // Reads refuse too, and so does the server.
        let o = s.run(&db, &["inbox", "someone"]);
        assert_eq!(o.status.code(), Some(3), "{name}");
    }
    let db = s.copy("serve");
    sql(&db, &format!("DELETE FROM events WHERE seq = {head}"));
    let tokens = s.city.dir.join("tokens.toml");
    std::fs::write(&tokens, "[tokens]\n").unwrap();
    let o = s.run(
        &db,
        &[
            "serve",
            "--tokens",
            tokens.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{o:?}");
}

#[test]
fn a_forged_or_incomplete_checkpoint_file_is_refused() {
    let s = Signed::new("tamper-file", "5");
    for _ in 0..3 {
        assert!(s.submit(&s.city.db).status.success());
    }
    let file = cp_file(&s.city.db);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3);

    // A checkpoint re-signed with another key (the attacker's own).
    let db = s.copy("forged");
    let other = s.city.dir.join("keys").join("other.key");
    s.city
        .ok(&["admin", "key", "new", other.to_str().unwrap()], NOW);
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args([
            "audit",
            "checkpoint",
            "--adopt",
            "--reason",
            "checkpoints start today",
        ])
        .env("PARAAF_DB", &db)
        .env("PARAAF_SIGNING_KEY", &other)
        .env("PARAAF_CHECKPOINTS", s.city.dir.join("other.checkpoints"))
        .current_dir(support::root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    std::fs::copy(s.city.dir.join("other.checkpoints"), cp_file(&db)).unwrap();
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(1));
    assert!(out.contains("is not signed by this key"), "{out}");

    // A head edited in the file.
    let db = s.copy("edited-line");
    let last = lines.last().unwrap();
    let mut v: serde_json::Value = serde_json::from_str(last).unwrap();
    v["seq"] = serde_json::json!(v["seq"].as_u64().unwrap() - 1);
    let mut edited = lines[..lines.len() - 1].join("\n");
    edited.push('\n');
    edited.push_str(&v.to_string());
    std::fs::write(cp_file(&db), edited).unwrap();
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(1));
    assert!(out.contains("is not signed by this key"), "{out}");

    // A checkpoint in the middle removed: the file says one is missing.
    let db = s.copy("missing-line");
    let mut kept: Vec<&str> = lines.clone();
    // One that covers events (a session mark covers none).
    let covering = (1..lines.len() - 1)
        .find(|&i| !lines[i].contains("\"hashes\":\"\""))
        .unwrap();
    kept.remove(covering);
    std::fs::write(cp_file(&db), kept.join("\n")).unwrap();
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("was removed from the checkpoint file"),
        "{out}"
    );
    assert_eq!(s.submit(&db).status.code(), Some(3));
}

/// Checkpoints removed from the end of the file (or the whole file) leave more unsigned
/// events than the writer ever does: refused until an operator adopts the log on purpose.
/// A database with checkpoints is not opened without its key.
#[test]
fn removed_checkpoints_and_a_missing_key_are_refused() {
    let s = Signed::new("tamper-truncate", "5");
    for _ in 0..10 {
        assert!(s.submit(&s.city.db).status.success());
    }
    let text = std::fs::read_to_string(cp_file(&s.city.db)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 10, "{text}");

    // The last checkpoints (over 12 events) and the last two events removed: the file
    // has no gap.
    let db = s.copy("truncated");
    let head = events(&db);
    let kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
                + 13
                <= head
        })
        .collect();
    assert!(kept.len() < lines.len() && !kept.is_empty());
    std::fs::write(cp_file(&db), kept.join("\n")).unwrap();
    sql(
        &db,
        "DELETE FROM events WHERE seq > (SELECT max(seq) - 2 FROM events)",
    );
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("covered by no signed checkpoint"), "{out}");
    let o = s.submit(&db);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("audit checkpoint --adopt"),
        "{o:?}"
    );

    // The whole file removed: the same.
    let db = s.copy("no-file");
    std::fs::remove_file(cp_file(&db)).unwrap();
    assert_eq!(s.submit(&db).status.code(), Some(3));
    // An operator who starts checkpoints on an existing database adopts it explicitly.
    let o = s.run(
        &db,
        &[
            "audit",
            "checkpoint",
            "--adopt",
            "--reason",
            "checkpoints start today",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(s.submit(&db).status.success());
    assert_eq!(s.verify(&db).0, Some(0));

    // Without the key, a database with checkpoints is neither written nor read, and the
    // chain alone is not reported as verified.
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["inbox", "dirk-lambert"])
        .env("PARAAF_DB", &s.city.db)
        .current_dir(support::root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("PARAAF_SIGNING_KEY"),
        "{o:?}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["audit", "verify"])
        .env("PARAAF_DB", &s.city.db)
        .current_dir(support::root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("--public-key"),
        "{o:?}"
    );
}

/// A backup older than the last checkpoint is restored with a signed record of what it
/// gives up: the restored log opens and takes writes, `audit verify` names the lost
/// events. A backup that is not the signed log is refused (exit 3).
#[test]
fn a_backup_is_restored_under_signed_checkpoints() {
    let s = Signed::new("tamper-restore", "5");
    assert!(s.submit(&s.city.db).status.success());
    let backup = s.city.dir.join("backup.db");
    let o = s.run(&s.city.db, &["admin", "backup", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let at_backup = events(&backup);
    for _ in 0..8 {
        assert!(s.submit(&s.city.db).status.success());
    }
    let before = events(&s.city.db);
    assert!(before > at_backup + 10);

    // An edited backup (rehashed) is not the signed log.
    let forged = s.city.dir.join("forged.db");
    std::fs::copy(&backup, &forged).unwrap();
    rewrite_from(&forged, 3, "bevolking", "burgerzaken");
    let o = s.run(&s.city.db, &["admin", "restore", forged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not the signed log"),
        "{o:?}"
    );
    assert_eq!(
        events(&s.city.db),
        before,
        "a refused restore changes nothing"
    );

    let o = s.run(&s.city.db, &["admin", "restore", backup.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{o:?}");
    assert!(
        out.contains(&format!(
            "events {}–{before} of the replaced log are gone",
            at_backup + 1
        )),
        "{out}"
    );
    assert_eq!(events(&s.city.db), at_backup);
    // The restored log opens, takes writes and verifies, naming what was given up.
    assert!(s.submit(&s.city.db).status.success());
    let (code, out) = s.verify(&s.city.db);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("restored from a backup at event {at_backup}")),
        "{out}"
    );
    // A restore record cannot be replayed onto the log it replaced: deleting events
    // after the restore point is still caught.
    sql(
        &s.city.db,
        "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)",
    );
    assert_eq!(s.verify(&s.city.db).0, Some(1));
}

/// Two signing CLI commands at the same moment (cron's `tick` beside an operator): the
/// lock serialises them, and the second reads the checkpoint file under the lock, so
/// its checkpoint follows the first one's. Before, it started from the file as it was
/// when it opened and every later open was refused.
#[test]
fn two_signing_writers_one_after_the_other_keep_the_file_whole() {
    let s = Signed::new("two-signers", "5");
    let db = s.city.db.clone();
    assert!(s.submit(&db).status.success());
    for _ in 0..6 {
        let a = {
            let (key, db, root) = (s.key.clone(), db.clone(), support::root());
            let uploader = s.city.staff("bevolking", "diensthoofd")[0].clone();
            let content = s.city.content.clone();
            std::thread::spawn(move || {
                Command::new(env!("CARGO_BIN_EXE_paraaf"))
                    .args(["doc", "submit", "--kind", "besluit", "--as", &uploader])
                    .args(["--field", "dienst=bevolking", "--field", "bron=notula"])
                    .args(["--field", "titel=Gelijktijdig", "--field", "bedrag=10"])
                    .arg("--content")
                    .arg(&content)
                    .env("PARAAF_DB", &db)
                    .env("PARAAF_NOW", NOW)
                    .env("PARAAF_SIGNING_KEY", &key)
                    .env("PARAAF_CHECKPOINT_EVERY", "5")
                    .current_dir(&root)
                    .output()
                    .unwrap()
            })
        };
        let b = s.run(&db, &["tick"]);
        let a = a.join().unwrap();
        assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    }
    assert!(s.submit(&db).status.success());
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(0), "{out}");
}

/// Events removed while the server runs (acknowledged submissions gone): the server does
/// not take the shorter log as another writer's and goes on; it refuses every write as
/// tampering, and signs nothing over it.
#[test]
fn a_log_shortened_under_the_server_is_refused() {
    let s = Signed::new("shortened-live", "5");
    let db = s.city.db.clone();
    let first = s.submit(&db);
    assert!(first.status.success());
    // Document ids are random: the one `doc submit` printed.
    let first = String::from_utf8_lossy(&first.stdout).trim().to_string();
    assert!(s.submit(&db).status.success());
    let uploader = s.city.staff("bevolking", "diensthoofd")[0].clone();
    let token = "t".repeat(32);
    let server = support::Server::start_env(
        &db,
        &[(uploader.as_str(), token.as_str())],
        "",
        &[
            ("PARAAF_SIGNING_KEY", s.key.as_os_str()),
            ("PARAAF_CHECKPOINT_EVERY", std::ffi::OsStr::new("5")),
        ],
        &s.city.dir,
    );
    let head = events(&db);
    sql(&db, &format!("DELETE FROM events WHERE seq > {}", head - 2));
    let (status, body) = server.call(
        "POST",
        &format!("/documents/{first}/comment"),
        Some(&token),
        None,
        Some(r#"{"text":"na het wissen"}"#),
    );
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("tampered") && body.contains("removed"),
        "{body}"
    );
    drop(server);
    assert_eq!(events(&db), head - 2, "nothing appended");
}

/// A writer that crashed (no clean close) leaves unsigned events: the next writer takes
/// them. Events appended with a valid chain after a clean close are someone else's:
/// refused at every open and named by `audit verify`.
#[test]
fn events_after_a_clean_close_are_refused_and_a_crash_tail_is_not() {
    use paraaf_runtime::checkpoint::Key;
    let s = Signed::new("closed-mark", "5");
    assert!(s.submit(&s.city.db).status.success());
    let file = cp_file(&s.city.db);
    let open = |db: &Path| {
        let mut r = paraaf_runtime::Runtime::open(db, Default::default()).unwrap();
        r.use_checkpoints(Key::read(&s.key).unwrap(), cp_file(db), 5)
            .map(|()| r)
    };
    let absence = |r: &mut paraaf_runtime::Runtime, day: u32| {
        let from = chrono::NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        r.execute(chrono::Utc::now(), |e| {
            e.add_absence("dirk-lambert", from, from)
        })
        .unwrap();
    };

    // The crash: a writer appends two events and dies before it signs (the files as
    // they are on disk at that moment, copied: the log and its write-ahead part).
    let live = s.copy("live");
    let mut r = open(&live).unwrap();
    r.lock_writer("test").unwrap();
    absence(&mut r, 1);
    absence(&mut r, 2);
    let crashed = s.city.dir.join("crashed.db");
    for ext in ["", "-wal", ".checkpoints"] {
        let from = PathBuf::from(format!("{}{ext}", live.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{ext}", crashed.display())).unwrap();
        }
    }
    drop(r);
    assert_eq!(events(&crashed), events(&live));
    let r = open(&crashed).expect("a crash tail is accepted");
    drop(r);
    assert!(s.submit(&crashed).status.success());
    assert_eq!(s.verify(&crashed).0, Some(0));

    // The forgery: the same two events appended by someone without the key, who keeps
    // the chain valid (a copy of the log where a writer appended them, signing nothing).
    let forged = s.copy("forged-tail");
    let keep = std::fs::read(&file).unwrap();
    {
        let mut r = paraaf_runtime::Runtime::open(&forged, Default::default()).unwrap();
        r.lock_writer("attacker").unwrap();
        absence(&mut r, 3);
        absence(&mut r, 4);
    }
    std::fs::write(cp_file(&forged), &keep).unwrap();
    let head = events(&forged);
    let err = match open(&forged) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a forged tail after a clean close was accepted"),
    };
    assert!(
        err.contains(&format!(
            "events {}–{head} were appended after the writer closed the log",
            head - 1
        )),
        "{err}"
    );
    let o = s.submit(&forged);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let (code, out) = s.verify(&forged);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("were appended after the writer closed the log"),
        "{out}"
    );
}

/// The checkpoint file deleted together with the last events: a database whose writer
/// has a key signs before its first event, so a log without any checkpoint is refused
/// however short the cut.
#[test]
fn a_deleted_checkpoint_file_with_a_shortened_log_is_refused() {
    let s = Signed::new("no-file-cut", "5");
    for _ in 0..2 {
        assert!(s.submit(&s.city.db).status.success());
    }
    let db = s.copy("cut");
    std::fs::remove_file(cp_file(&db)).unwrap();
    sql(
        &db,
        "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)",
    );
    let o = s.submit(&db);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holds no signed checkpoint"),
        "{o:?}"
    );
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("holds no signed checkpoint"), "{out}");

    // A brand-new database with a key starts its file before its first event.
    let fresh = s.city.dir.join("fresh.db");
    let o = s.run(&fresh, &["deploy", "examples/aalst"]);
    assert!(o.status.success(), "{o:?}");
    let text = std::fs::read_to_string(cp_file(&fresh)).unwrap();
    assert!(
        text.lines().next().unwrap().contains("\"mark\":\"opened\""),
        "{text}"
    );
    assert_eq!(s.verify(&fresh).0, Some(0));
}

/// A checkpoint file whose last line lost its line break (an editor) is appended to on a
/// new line, and still verifies.
#[test]
fn a_checkpoint_file_without_a_final_line_break_stays_whole() {
    let s = Signed::new("no-newline", "5");
    assert!(s.submit(&s.city.db).status.success());
    let file = cp_file(&s.city.db);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.trim_end()).unwrap();
    assert!(s.submit(&s.city.db).status.success());
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.lines().count() > text.lines().count());
    assert_eq!(s.verify(&s.city.db).0, Some(0));
}

/// An altered snapshot stops the runtime from opening (exit 3), but not its auditor or
/// its repair: `audit verify` checks the log and names the snapshot, `admin rebuild`
/// replays the log and drops the snapshots, and the database opens again.
#[test]
fn an_altered_snapshot_is_named_and_rebuilt() {
    let s = Signed::new("bad-snapshot", "5");
    for _ in 0..3 {
        assert!(s.submit(&s.city.db).status.success());
    }
    {
        let mut r = paraaf_runtime::Runtime::open(&s.city.db, Default::default()).unwrap();
        let key = paraaf_runtime::checkpoint::Key::read(&s.key).unwrap();
        r.use_checkpoints(key, cp_file(&s.city.db), 5).unwrap();
        r.lock_writer("test").unwrap();
        r.snapshot_now(chrono::Utc::now()).unwrap();
    }
    let n: u64 = paraaf_runtime::store::Store::open(&s.city.db)
        .unwrap()
        .connection()
        .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert!(n > 0);
    sql(&s.city.db, "UPDATE snapshots SET body = x'00' || body");
    assert_eq!(s.submit(&s.city.db).status.code(), Some(3));
    let (code, out) = s.verify(&s.city.db);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("snapshot") && out.contains("the log itself is intact"),
        "{out}"
    );
    let o = s.run(&s.city.db, &["admin", "rebuild"]);
    assert!(o.status.success(), "{o:?}");
    assert!(s.submit(&s.city.db).status.success());
    assert_eq!(s.verify(&s.city.db).0, Some(0));
}

/// The last line of the checkpoint file (the `closed` mark that signed the last command's
/// events) cut short by someone without the key, and the events it signed rewritten with
/// a correct chain (attack 5, finding 14: a payment proposal's IBAN). Nothing local tells
/// this from a writer that stopped before signing (a crash, a full disk, which must go on
/// without `--adopt`), so the next writer takes those events in, but on the record: in a
/// line of their own whose note names them, which every `audit verify` prints from then
/// on; never as if their writer had signed them (before, verify said a plain `ok`).
#[test]
fn events_unsigned_after_a_cut_short_line_are_taken_in_on_the_record() {
    let s = Signed::new("torn-close", "5");
    assert!(s.submit(&s.city.db).status.success());
    let db = s.copy("torn");
    let head = events(&db);
    // The task of the last event goes to someone else.
    let before = paraaf_runtime::store::Store::open(&db)
        .unwrap()
        .events()
        .unwrap();
    rewrite_from(&db, head, "\"dirk-lambert\"", "\"jan-desmet\"");
    let after = paraaf_runtime::store::Store::open(&db)
        .unwrap()
        .events()
        .unwrap();
    assert_ne!(
        before.last(),
        after.last(),
        "the last event was not rewritten"
    );
    let file = cp_file(&db);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    assert!(last.contains("\"closed\""), "{last}");
    std::fs::write(
        &file,
        format!("{}\n{}", lines.join("\n"), &last[..last.len() / 2]),
    )
    .unwrap();
    // The next writer opens and writes.
    assert!(s.submit(&db).status.success());
    let (code, out) = s.verify(&db);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("without a writer's signature")
            && out.contains("the line that signed them was removed or cut short"),
        "the taken-in events are not named: {out}"
    );
    // And it stays on record at every later verify.
    assert!(s.submit(&db).status.success());
    let (code, again) = s.verify(&db);
    assert_eq!(code, Some(0), "{again}");
    assert!(again.contains("without a writer's signature"), "{again}");
}

/// Found by an outside attacker (stop 38): with the checkpoint file kept on another disk
/// (`--checkpoints`, as the guide advises) a command run without the key and without
/// naming that file wrote unsigned and exited 0; so did one through a hard link to the
/// database in another folder. The database now records that its log is signed: every
/// command without the key is refused (exit 3), wherever the checkpoint file is, and
/// writes nothing.
#[test]
fn a_signed_log_is_not_written_without_its_key_wherever_its_checkpoints_are() {
    let dir = support::tempdir("signed-elsewhere");
    let project = support::root().join("examples/aalst");
    let (db, key) = (dir.join("city.db"), dir.join("k.key"));
    std::fs::create_dir_all(dir.join("worm")).unwrap();
    std::fs::create_dir_all(dir.join("other")).unwrap();
    let checkpoints = dir.join("worm/aalst.checkpoints");
    let run = |db: &std::path::Path, keyed: bool, args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"));
        c.args(args)
            .env("PARAAF_DB", db)
            .env("PARAAF_NOW", "2026-11-23")
            .env_remove("PARAAF_SIGNING_KEY")
            .env_remove("PARAAF_CHECKPOINTS");
        if keyed {
            c.env("PARAAF_SIGNING_KEY", &key)
                .env("PARAAF_CHECKPOINTS", &checkpoints);
        }
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, out) = run(&db, false, &["admin", "key", "new", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&db, true, &["deploy", project.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let events = || {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let before = events();
    let link = dir.join("other/city.db");
    std::fs::hard_link(&db, &link).unwrap();
    let pdf = dir.join("b.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 besluit").unwrap();
    let submit = [
        "doc",
        "submit",
        "--kind",
        "besluit",
        "--as",
        "jan-cools",
        "--content",
        pdf.to_str().unwrap(),
        "--field",
        "dienst=bevolking",
        "--field",
        "bron=notula",
        "--field",
        "titel=Aankoop",
        "--field",
        "bedrag=100",
    ];
    for (via, path) in [("its own path", &db), ("a hard link elsewhere", &link)] {
        let (code, out) = run(path, false, &submit);
        assert_eq!(code, 3, "a keyless write through {via}: {out}");
        assert!(out.contains("is opened only with its key"), "{out}");
        assert_eq!(events(), before, "written through {via}");
    }
    // With the key and the file named, it goes on.
    let (code, out) = run(&db, true, &submit);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&db, true, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
}
