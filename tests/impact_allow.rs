//! `paraaf diff --fail-on shielded-widened` and the `allow` exception (#30 item 3), each
//! a commit on a git repository: widening the refinement of the exception's field lets
//! more people outside the group read the shielded file and fails the gate; narrowing it
//! does not. (An exception added fails it and a new shielded kind does not:
//! `impact_misses.rs`.)

mod support;

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.name=CI", "-c", "user.email=ci@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn paraaf_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Replaces `from` by `to` in `aalst/flows/documents.paraaf` and commits it on the
/// current branch; the result checks clean.
fn commit(repo: &Path, msg: &str, from: &str, to: &str) {
    let f = repo.join("aalst/flows/documents.paraaf");
    let text = std::fs::read_to_string(&f).unwrap();
    let changed = text.replacen(from, to, 1);
    assert_ne!(text, changed, "{from:?} not in documents.paraaf");
    std::fs::write(&f, changed).unwrap();
    git(repo, &["commit", "-q", "-am", msg]);
    let (code, out, err) = paraaf_in(&repo.join("aalst"), &["check", "."]);
    assert_eq!(code, 0, "{msg}: {out}{err}");
}

/// A repository with the Aalst example on `main`, the discipline file's employee
/// restricted to the staff of `personeel` in a second commit.
fn repo(name: &str) -> std::path::PathBuf {
    let repo = support::tempdir(name);
    support::copy_dir(&support::root().join("examples/aalst"), &repo.join("aalst"));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    commit(
        &repo,
        "only staff of personeel",
        "document tuchtdossier shielded by tucht allow medewerker {\n  medewerker: person\n}\n",
        "document tuchtdossier shielded by tucht allow medewerker {\n  medewerker: person in personeelsdienst\n}\n\ngroup personeelsdienst = unit personeel\n",
    );
    repo
}

/// `paraaf diff main HEAD --project aalst --fail-on shielded-widened`.
fn gate(repo: &Path) -> (i32, String, String) {
    paraaf_in(
        repo,
        &[
            "diff",
            "main",
            "HEAD",
            "--project",
            "aalst",
            "--fail-on",
            "shielded-widened",
        ],
    )
}

#[test]
fn widening_the_allow_fields_refinement_widens_the_shield() {
    let repo = repo("impact-allow-widened");
    git(&repo, &["checkout", "-q", "-b", "widen"]);
    commit(
        &repo,
        "anyone may be the employee",
        "medewerker: person in personeelsdienst",
        "medewerker: person",
    );
    let (code, out, err) = gate(&repo);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("shielded-widened"), "{out}{err}");
}

#[test]
fn narrowing_the_allow_fields_refinement_passes_the_gate() {
    let repo = repo("impact-allow-narrowed");
    git(&repo, &["checkout", "-q", "-b", "narrow"]);
    commit(
        &repo,
        "only the head of personeel's staff",
        "group personeelsdienst = unit personeel\n",
        "group personeelsdienst = people(diensthoofd of personeel)\n",
    );
    let (code, out, err) = gate(&repo);
    assert_eq!(code, 0, "{out}{err}");
}
