//! The CLI on a city in PostgreSQL (`--db postgres://… --city NAME`, or PARAAF_DB and
//! PARAAF_CITY), against a real cluster (`pg_support` starts one): a deploy and a
//! submission written by the runtime's writer under the city's advisory lock, a city moved
//! from SQLite read and verified as it was, `admin rebuild`, signed checkpoints and an
//! altered event named by `audit verify`; a command without the city is refused saying
//! so. (`paraaf serve` on PostgreSQL: `tests/serve_pg.rs`.)

#[path = "../runtime/tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use paraaf_runtime::pg_store::{PgStore, schema};
use pg_support::{APP, Cluster};
use std::process::Command;
use support::{City, root};

/// `paraaf ARGS` on city `city` at `url` at `now`: exit code, stdout, stderr.
fn paraaf(url: &str, city: &str, args: &[&str], now: &str) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .env("PARAAF_DB", url)
        .env("PARAAF_CITY", city)
        .env("PARAAF_NOW", now)
        .current_dir(root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_cli_runs_a_city_in_postgres() {
    let Some(pg) = Cluster::start("cli") else {
        return;
    };
    schema::migrate(&pg.owner_url(), APP).unwrap();
    let url = pg.app_url();

    // A new city: deployed, and a document submitted with its content.
    let (code, out, err) = paraaf(&url, "gent", &["deploy", "examples/aalst"], "2026-11-23");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("deployed version 1"), "{out}");
    assert!(out.contains("city gent at postgres://"), "{out}");
    let pdf = std::env::temp_dir().join(format!("paraaf-pg-cli-{}.pdf", std::process::id()));
    std::fs::write(&pdf, b"%PDF-1.4 a decision of Gent").unwrap();
    let (code, out, err) = paraaf(
        &url,
        "gent",
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
            "aanvrager=Jan",
            "--content",
            pdf.to_str().unwrap(),
        ],
        "2026-11-24T10:00:00Z",
    );
    let _ = std::fs::remove_file(&pdf);
    assert_eq!(code, 0, "{out}{err}");
    let mut gent = PgStore::reader(&url, "gent").unwrap();
    let (events, _) = gent.head().unwrap();
    assert!(events >= 3, "{events} events");
    assert_eq!(gent.verify().unwrap().events, events);
    let sha = paraaf_runtime::sha256_hex(b"%PDF-1.4 a decision of Gent");
    assert_eq!(
        gent.read_content(&sha).unwrap().map(|(_, body)| body),
        Some(b"%PDF-1.4 a decision of Gent".to_vec())
    );

    // A city moved from SQLite reads as it did there, and its writer goes on.
    let city = City::aalst("pg-cli");
    city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        "2026-11-24T10:00:00Z",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["admin", "migrate-store", "--from"])
        .arg(&city.db)
        .args(["--to", &url, "--city", "aalst"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = ["log", "--as", "jan-cools"];
    let on_sqlite = city.ok(&log, "2026-11-25");
    let (code, on_pg, err) = paraaf(&url, "aalst", &log, "2026-11-25");
    assert_eq!(code, 0, "{err}");
    assert!(!on_sqlite.is_empty());
    assert_eq!(on_pg.trim(), on_sqlite);
    let (code, out, err) = paraaf(&url, "aalst", &["admin", "rebuild"], "2026-11-25");
    assert_eq!(code, 0, "{out}{err}");
    let verify = ["audit", "verify"];
    let (code, on_pg, err) = paraaf(&url, "aalst", &verify, "2026-11-25");
    assert_eq!(code, 0, "{err}");
    assert!(on_pg.starts_with("ok: "), "{on_pg}");
    assert_eq!(on_pg.trim(), city.ok(&verify, "2026-11-25"));

    // Signed checkpoints of a city in PostgreSQL, in the file --checkpoints names.
    let dir = std::env::temp_dir().join(format!("paraaf-pg-cli-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("checkpoint.key");
    paraaf_runtime::checkpoint::generate(&key).unwrap();
    let signed = |args: &[&str], checkpoints: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paraaf"));
        c.args(args)
            .env("PARAAF_DB", &url)
            .env("PARAAF_CITY", "brugge")
            .env("PARAAF_NOW", "2026-11-25")
            .env("PARAAF_SIGNING_KEY", &key)
            .current_dir(root());
        if checkpoints {
            c.env("PARAAF_CHECKPOINTS", dir.join("brugge.checkpoints"));
        }
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, _, err) = signed(&["deploy", "examples/aalst"], false);
    assert_ne!(code, 0);
    assert!(err.contains("--checkpoints"), "{err}");
    let (code, out, err) = signed(&["deploy", "examples/aalst"], true);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = signed(&verify, true);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("signed checkpoints, the last at event"),
        "{out}"
    );
    // An event altered behind the writer's back is named.
    pg.sql(
        pg_support::DATABASE,
        "UPDATE events SET body = body || ' ' WHERE city = 'brugge' AND seq = 1",
    );
    let (code, out, _) = signed(&verify, true);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("event 1 was altered"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);

    // A database of many cities needs the city.
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["log", "--as", "jan-cools", "--db", &url])
        .env_remove("PARAAF_CITY")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("name the city"), "{err}");
}
