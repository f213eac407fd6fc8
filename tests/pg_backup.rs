//! Backup and restore of cities in PostgreSQL with `pg_dump` and `pg_restore`, run as
//! docs/operations.md ("Backup and restore on PostgreSQL") writes them, against real
//! clusters (`pg_support` starts them): the whole database dumped and restored into a
//! fresh cluster, where `audit verify --checkpoints` passes and the writer goes on; an
//! older dump restored is caught by the signed checkpoints kept outside the database; one
//! city dumped and restored over its rolled-back rows, the other cities untouched.

#[path = "../runtime/tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use paraaf_runtime::pg_store::{PgStore, schema};
use pg_support::{APP, Cluster, DATABASE, OWNER, SUPERUSER};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::root;

/// Runs one of PostgreSQL's client programs of `pg`'s folder with `env`; panics with its
/// output unless it succeeds.
fn tool(pg: &Cluster, program: &str, args: &[&str], env: &[(&str, &str)]) {
    let o = Command::new(pg.bin().join(program))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A city's signing key and its checkpoint file, kept outside the database.
struct Keys {
    key: PathBuf,
    checkpoints: PathBuf,
}

/// `paraaf ARGS` on `city` at `url`, signing with `keys`: exit code, stdout, stderr.
fn paraaf(url: &str, city: &str, keys: &Keys, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .env("PARAAF_DB", url)
        .env("PARAAF_CITY", city)
        .env("PARAAF_NOW", "2026-11-25T10:00:00Z")
        .env("PARAAF_SIGNING_KEY", &keys.key)
        .env("PARAAF_CHECKPOINTS", &keys.checkpoints)
        .current_dir(root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Submits a certificate request on `city` (signed, checkpointed).
fn submit(url: &str, city: &str, keys: &Keys, pdf: &Path, name: &str) {
    let field = format!("aanvrager={name}");
    let (code, out, err) = paraaf(
        url,
        city,
        keys,
        &[
            "doc",
            "submit",
            "--kind",
            "attest",
            "--as",
            "jan-cools",
            "--field",
            "soort=gezinssamenstelling",
            "--field",
            &field,
            "--content",
            pdf.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_dump_restores_into_a_fresh_cluster_and_an_older_one_is_caught_by_the_checkpoints() {
    let Some(pg) = Cluster::start("backup") else {
        return;
    };
    schema::migrate(&pg.owner_url(), APP).unwrap();
    let dir = support::tempdir("pg-backup");
    let keys = Keys {
        key: dir.join("checkpoint.key"),
        checkpoints: dir.join("aalst.checkpoints"),
    };
    paraaf_runtime::checkpoint::generate(&keys.key).unwrap();
    let gent_keys = Keys {
        key: keys.key.clone(),
        checkpoints: dir.join("gent.checkpoints"),
    };
    let pdf = dir.join("request.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 a request").unwrap();
    let url = pg.app_url();
    for (city, keys) in [("aalst", &keys), ("gent", &gent_keys)] {
        let (code, out, err) = paraaf(&url, city, keys, &["deploy", "examples/aalst"]);
        assert_eq!(code, 0, "{out}{err}");
        submit(&url, city, keys, &pdf, "Jan");
    }
    // Paraaf's own backup refuses, naming the procedure below.
    let (code, _, err) = paraaf(
        &url,
        "aalst",
        &keys,
        &["admin", "backup", dir.join("aalst.db").to_str().unwrap()],
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("Backup and restore on PostgreSQL") && err.contains("paraaf.city=aalst"),
        "{err}"
    );
    let dump = |pg: &Cluster, file: &Path| {
        tool(
            pg,
            "pg_dump",
            &[
                "--format=custom",
                &format!("--file={}", file.display()),
                &pg.url(SUPERUSER, DATABASE),
            ],
            &[],
        );
    };
    // The tables' owner cannot dump the whole database: the policies bind it too.
    let o = Command::new(pg.bin().join("pg_dump"))
        .args(["--format=custom", "--file=/dev/null", &pg.owner_url()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("row-level security"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The whole database, then more of Aalst's work after it.
    let older = dir.join("paraaf-older.dump");
    dump(&pg, &older);
    let old_head = PgStore::reader(&url, "aalst").unwrap().head().unwrap();
    submit(&url, "aalst", &keys, &pdf, "Piet");
    submit(&url, "aalst", &keys, &pdf, "Joris");
    let head = PgStore::reader(&url, "aalst").unwrap().head().unwrap();
    assert!(head.0 > old_head.0);
    let current = dir.join("paraaf.dump");
    dump(&pg, &current);
    // One city, as the tables' owner: row-level security gives the dump only its rows
    // (as INSERT statements: COPY cannot write through row-level security).
    let aalst_dump = dir.join("aalst.dump");
    tool(
        &pg,
        "pg_dump",
        &[
            "--data-only",
            "--enable-row-security",
            "--rows-per-insert=1000",
            "--exclude-table=paraaf_schema",
            "--exclude-table=idempotency_recorded_seq",
            "--format=custom",
            &format!("--file={}", aalst_dump.display()),
            &pg.owner_url(),
        ],
        &[("PGOPTIONS", "-c paraaf.city=aalst")],
    );
    // The checkpoint file as it was when the dumps were taken (kept outside the
    // database, on another disk).
    let kept = Keys {
        key: keys.key.clone(),
        checkpoints: dir.join("aalst-kept.checkpoints"),
    };
    std::fs::copy(&keys.checkpoints, &kept.checkpoints).unwrap();
    let restore_all = |into: &Cluster, file: &Path| {
        tool(
            into,
            "pg_restore",
            &[
                "--exit-on-error",
                "--single-transaction",
                &format!("--dbname={}", into.url(SUPERUSER, DATABASE)),
                file.to_str().unwrap(),
            ],
            &[],
        );
    };
    let verify = ["audit", "verify"];

    // The current dump in a fresh cluster: it verifies against the checkpoints kept
    // outside, and the writer goes on.
    let Some(fresh) = Cluster::start("backup-fresh") else {
        return;
    };
    restore_all(&fresh, &current);
    let fresh_url = fresh.app_url();
    let (code, out, err) = paraaf(&fresh_url, "aalst", &keys, &verify);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok: "), "{out}");
    assert!(
        out.contains("signed checkpoints, the last at event"),
        "{out}"
    );
    submit(&fresh_url, "aalst", &keys, &pdf, "Mia");
    let (code, out, err) = paraaf(&fresh_url, "aalst", &keys, &verify);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        PgStore::reader(&fresh_url, "aalst")
            .unwrap()
            .head()
            .unwrap()
            .0,
        head.0 + 2
    );

    // The older dump: its log ends before events the checkpoints signed. Caught.
    let Some(rolled) = Cluster::start("backup-older") else {
        return;
    };
    restore_all(&rolled, &older);
    let rolled_url = rolled.app_url();
    let (code, out, err) = paraaf(&rolled_url, "aalst", &kept, &verify);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "the signed checkpoint covers events up to {}, but the log ends at {}",
            head.0, old_head.0
        )),
        "{out}"
    );
    let (code, out, err) = paraaf(&rolled_url, "aalst", &kept, &["tick"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("the log does not match its signed checkpoints")
            && err.contains("nothing was recorded"),
        "{err}"
    );
    // Gent, not written since, verifies.
    let (code, out, err) = paraaf(&rolled_url, "gent", &gent_keys, &verify);
    assert_eq!(code, 0, "{out}{err}");

    // Aalst alone back from its own dump over the rolled-back rows, as the owner with
    // the city set: only its rows are deleted and restored; Gent stays as it is.
    let owner_env = [("PGOPTIONS", "-c paraaf.city=aalst")];
    let gent_before = PgStore::reader(&rolled_url, "gent")
        .unwrap()
        .head()
        .unwrap();
    let delete = dir.join("delete-city.sql");
    std::fs::write(&delete, DELETE_CITY).unwrap();
    tool(
        &rolled,
        "psql",
        &[
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            "--no-psqlrc",
            &format!("--file={}", delete.display()),
            &rolled.url(OWNER, DATABASE),
        ],
        &owner_env,
    );
    assert_eq!(
        PgStore::reader(&rolled_url, "aalst")
            .unwrap()
            .head()
            .unwrap()
            .0,
        0
    );
    tool(
        &rolled,
        "pg_restore",
        &[
            "--data-only",
            "--enable-row-security",
            "--exit-on-error",
            "--single-transaction",
            &format!("--dbname={}", rolled.url(OWNER, DATABASE)),
            aalst_dump.to_str().unwrap(),
        ],
        &owner_env,
    );
    tool(
        &rolled,
        "psql",
        &[
            "--set=ON_ERROR_STOP=1",
            "--no-psqlrc",
            "--command",
            ADVANCE_SEQUENCE,
            &rolled.url(OWNER, DATABASE),
        ],
        &owner_env,
    );
    let (code, out, err) = paraaf(&rolled_url, "aalst", &kept, &verify);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        PgStore::reader(&rolled_url, "aalst")
            .unwrap()
            .head()
            .unwrap(),
        head
    );
    assert_eq!(
        PgStore::reader(&rolled_url, "gent")
            .unwrap()
            .head()
            .unwrap(),
        gent_before
    );
    // The writer goes on there too.
    submit(&rolled_url, "aalst", &kept, &pdf, "Mia");
    let (code, out, err) = paraaf(&rolled_url, "aalst", &kept, &verify);
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// docs/operations.md's statement that deletes one city's rows from every table of the
/// store, as the owner with `paraaf.city` set (row-level security keeps the others'
/// rows out of reach; without the setting it fails).
const DELETE_CITY: &str = "DO $$ DECLARE t text; BEGIN
    FOR t IN SELECT table_name FROM information_schema.columns
        WHERE column_name = 'city' AND table_schema = current_schema() LOOP
        EXECUTE format('DELETE FROM %I WHERE city = current_setting(''paraaf.city'')', t);
    END LOOP; END $$";

/// docs/operations.md's statement after a city's restore: the idempotency records'
/// shared counter past the restored city's records, never back.
const ADVANCE_SEQUENCE: &str = "SELECT setval('idempotency_recorded_seq', greatest(
    (SELECT last_value FROM idempotency_recorded_seq),
    (SELECT coalesce(max(recorded), 1) FROM idempotency)))";
