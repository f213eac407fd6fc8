//! `paraaf diff --fail-on shielded-widened` and the `allow` exception (#30 item 3), each
//! a commit on a git repository: widening the refinement of the exception's field lets
//! more people outside the group read the shielded file and fails the gate; narrowing it
//! does not. (An exception added fails it and a new shielded kind does not:
//! `impact_misses.rs`.)

#[path = "support/git_repo.rs"]
mod git_repo;
mod support;

use git_repo::{aalst_repo, commit_edit, git, paraaf_in};
use std::path::{Path, PathBuf};

/// Replaces `from` by `to` in `aalst/flows/documents.paraaf` and commits it on the
/// current branch; the result checks clean.
fn commit(repo: &Path, msg: &str, from: &str, to: &str) {
    commit_edit(repo, "flows/documents.paraaf", from, to, msg);
    let (code, out, err) = paraaf_in(&repo.join("aalst"), &["check", "."]);
    assert_eq!(code, 0, "{msg}: {out}{err}");
}

/// A repository with the Aalst example on `main`, the discipline file's employee
/// restricted to the staff of `personeel` in a second commit.
fn repo(name: &str) -> PathBuf {
    let repo = aalst_repo(name);
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
