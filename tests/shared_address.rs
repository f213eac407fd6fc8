//! Two people with one e-mail address (the outside tester's finding 7): an HR typo gives
//! Dirk Claes (social service) An Maes's mailbox. `org import`, `org deploy` and `paraaf
//! check` refuse it, case-insensitively, naming both people and their lines; nothing is
//! deployed.

mod support;

use std::path::{Path, PathBuf};

fn paraaf(dir: &Path, args: &[&str]) -> (i32, String) {
    let db = dir.join("city.db");
    support::paraaf_env(dir, args, &[("PARAAF_DB", db.to_str().unwrap())])
}

fn aalst(name: &str) -> PathBuf {
    let dir = support::tempdir(&format!("address-{name}")).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    dir
}

fn names_both(out: &str) {
    for want in ["Dirk Claes", "An Maes", "an.maes@aalst.be", "line "] {
        assert!(
            out.to_lowercase().contains(&want.to_lowercase()),
            "{want} missing: {out}"
        );
    }
}

#[test]
fn org_import_refuses_one_address_for_two_people() {
    let dir = aalst("import");
    let csv = std::fs::read_to_string(dir.join("people.csv"))
        .unwrap()
        .replace(
            "P10101,,Dirk Claes,dirk.claes@aalst.be,",
            "P10101,,Dirk Claes,AN.MAES@aalst.be,",
        );
    std::fs::write(dir.join("typo.csv"), csv).unwrap();
    let (code, out) = paraaf(
        &dir,
        &[
            "org",
            "import",
            "typo.csv",
            "-o",
            "new.toml",
            "--city",
            "Aalst",
            "--previous",
            "org.toml",
        ],
    );
    assert_eq!(code, 1, "{out}");
    names_both(&out);
    assert!(
        out.contains("line 102") || out.contains("line 194"),
        "{out}"
    );
    assert!(!dir.join("new.toml").exists(), "{out}");
}

#[test]
fn org_deploy_and_check_refuse_one_address_for_two_people() {
    let dir = aalst("deploy");
    let (code, out) = paraaf(&dir, &["deploy", "."]);
    assert_eq!(code, 0, "{out}");
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let typo = org.replace(
        "name = \"Dirk Claes\"\nemail = \"dirk.claes@aalst.be\"",
        "name = \"Dirk Claes\"\nemail = \"An.Maes@aalst.be\"",
    );
    assert_ne!(org, typo);
    std::fs::write(dir.join("typo.toml"), &typo).unwrap();
    let (code, out) = paraaf(&dir, &["org", "deploy", "typo.toml"]);
    assert_ne!(code, 0, "{out}");
    names_both(&out);
    // Nothing was deployed: the organogram in force is still the first.
    let (_, log) = paraaf(&dir, &["log", "--as", "dirk-claes"]);
    assert!(!log.contains("organogram version 2"), "{log}");
    // The project's own organogram with the typo: `paraaf check` says so.
    std::fs::write(dir.join("org.toml"), &typo).unwrap();
    let (code, out) = paraaf(&dir, &["check", "."]);
    assert_ne!(code, 0, "{out}");
    names_both(&out);
}
