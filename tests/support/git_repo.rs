//! A city's rule repository in git, for the tests of `paraaf diff` between revisions
//! (`tests/impact.rs`, `tests/impact_misses.rs`, `tests/impact_allow.rs`): the Aalst
//! example committed on `main`, edits committed on branches, `paraaf` run inside it.
//! Include it with `#[path = "support/git_repo.rs"] mod git_repo;` next to `mod support;`.
#![allow(dead_code)]

use crate::support;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `git args` in `dir` as a CI user; panics with git's error when it fails.
pub fn git(dir: &Path, args: &[&str]) {
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

/// Runs the `paraaf` binary in `dir`: its exit code, standard output and standard error.
pub fn paraaf_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
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

/// A new repository named after `name` with the Aalst example in `aalst/`, committed
/// on `main`.
pub fn aalst_repo(name: &str) -> PathBuf {
    let repo = support::tempdir(name);
    support::copy_dir(&support::root().join("examples/aalst"), &repo.join("aalst"));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    repo
}

/// Replaces the first `from` by `to` in `file` (under `aalst/`) and commits it on the
/// branch checked out, as `msg`.
pub fn commit_edit(repo: &Path, file: &str, from: &str, to: &str, msg: &str) {
    let f = repo.join("aalst").join(file);
    let text = std::fs::read_to_string(&f).unwrap();
    let changed = text.replacen(from, to, 1);
    assert_ne!(text, changed, "{from:?} not in {file}");
    std::fs::write(&f, changed).unwrap();
    git(repo, &["commit", "-q", "-am", msg]);
}
