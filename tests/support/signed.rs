//! A city whose runtime signs checkpoints every `every` events: the harness of the audit
//! trail's tests (`tests/audit_trail.rs`, `tests/tamper_evidence.rs`). Include it with
//! `#[path = "support/signed.rs"] mod signed;` next to `mod support;`.

use crate::support::{self, City};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The day every command of these tests runs on.
pub const NOW: &str = "2026-11-23";

/// A city with a signing key, its log adopted under it.
pub struct Signed {
    pub city: City,
    pub key: PathBuf,
    pub every: &'static str,
}

impl Signed {
    /// A new Aalst city named `name` with a fresh key; the operator adopts the log it was
    /// deployed with before it had a key.
    pub fn new(name: &str, every: &'static str) -> Signed {
        let city = City::aalst(name);
        let key = city.dir.join("keys").join("checkpoint.key");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        let out = city.ok(&["admin", "key", "new", key.to_str().unwrap()], NOW);
        assert!(out.contains("paraaf-ed25519-public:"), "{out}");
        let s = Signed { city, key, every };
        let o = s.run(
            &s.city.db,
            &[
                "audit",
                "checkpoint",
                "--adopt",
                "--reason",
                "checkpoints start today",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        s
    }

    /// `paraaf ARGS` on `db` with the key and the checkpoint interval, not yet run.
    pub fn command(&self, db: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paraaf"));
        c.args(args)
            .env("PARAAF_DB", db)
            .env("PARAAF_NOW", NOW)
            .env("PARAAF_SIGNING_KEY", &self.key)
            .env("PARAAF_CHECKPOINT_EVERY", self.every)
            .current_dir(support::root());
        c
    }

    /// `paraaf ARGS` on `db`, run to its end.
    pub fn run(&self, db: &Path, args: &[&str]) -> Output {
        self.command(db, args).output().expect("runs")
    }

    /// The head of Bevolking, who submits the tests' decisions.
    pub fn uploader(&self) -> String {
        self.city.staff("bevolking", "diensthoofd")[0].clone()
    }

    /// One college decision submitted on `db`.
    pub fn submit(&self, db: &Path) -> Output {
        let uploader = self.uploader();
        self.run(
            db,
            &[
                "doc",
                "submit",
                "--kind",
                "besluit",
                "--as",
                &uploader,
                "--field",
                "dienst=bevolking",
                "--field",
                "bron=notula",
                "--field",
                "titel=Aankoop laptops",
                "--field",
                "bedrag=100",
                "--content",
                self.city.content.to_str().unwrap(),
            ],
        )
    }

    /// `audit verify` as an auditor with the public key only: (exit code, stdout).
    pub fn verify(&self, db: &Path) -> (Option<i32>, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(["audit", "verify", "--public-key"])
            .arg(paraaf_runtime::checkpoint::public_path(&self.key))
            .env("PARAAF_DB", db)
            .current_dir(support::root())
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        )
    }
}
