//! The CI examples of `docs/ci.md` run as written in clones of the shape each CI service
//! makes: GitHub's `actions/checkout` with `fetch-depth: 0` (every branch), GitLab's
//! shallow clone of the merge request's branch (the target fetched by the example's own
//! `git fetch` line). A shallow clone without that fetch fails with a message that says
//! to fetch the base.

mod support;

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, cmd: &str) -> (i32, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_paraaf")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("sh")
        .args(["-c", cmd])
        .env("PATH", path)
        .env("GIT_AUTHOR_NAME", "CI")
        .env("GIT_AUTHOR_EMAIL", "ci@example.invalid")
        .env("GIT_COMMITTER_NAME", "CI")
        .env("GIT_COMMITTER_EMAIL", "ci@example.invalid")
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(dir: &Path, cmd: &str) {
    let (code, out, err) = run(dir, cmd);
    assert_eq!(code, 0, "{cmd}: {out}{err}");
}

/// The lines of the fenced YAML block after `heading` in docs/ci.md that run `git` or
/// `paraaf diff`, as shell commands.
fn documented(heading: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(support::root().join("docs/ci.md")).unwrap();
    let block = doc
        .split(heading)
        .nth(1)
        .unwrap()
        .split("```")
        .nth(1)
        .unwrap();
    block
        .lines()
        .map(|l| {
            l.trim_start()
                .trim_start_matches("- run:")
                .trim_start_matches("- ")
        })
        .map(str::trim)
        .filter(|l| l.starts_with("git ") || l.starts_with("paraaf diff"))
        .map(String::from)
        .collect()
}

/// A remote with the Aalst example on `main` and a branch `mr` that adds the mayor to
/// the discipline group (a widened shield).
fn remote(name: &str) -> std::path::PathBuf {
    let root = support::tempdir(name);
    let remote = root.join("remote");
    support::copy_dir(
        &support::root().join("examples/aalst"),
        &remote.join("aalst"),
    );
    ok(
        &remote,
        "git init -q -b main && git add . && git commit -q -m base",
    );
    ok(&remote, "git checkout -q -b mr");
    let f = remote.join("aalst/flows/discipline.paraaf");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replace(
            "  adjunct-algemeen-directeur,\n) shielded",
            "  adjunct-algemeen-directeur,\n  burgemeester,\n) shielded",
        ),
    )
    .unwrap();
    ok(
        &remote,
        "git commit -q -am 'de burgemeester in de tuchtgroep'",
    );
    root
}

#[test]
fn github_example_runs_in_a_full_clone() {
    let root = remote("ci-checkout-github");
    // actions/checkout@v4 with fetch-depth: 0 fetches every branch.
    ok(&root, "git clone -q --no-local --branch mr remote gh");
    let clone = root.join("gh");
    let lines = documented("## GitHub Actions");
    assert!(lines.len() >= 2, "{lines:?}");
    for line in lines {
        let cmd = line
            .replace("${{ github.base_ref }}", "main")
            .replace(" > impact.md", "");
        let (code, out, err) = run(&clone, &cmd);
        if cmd.contains("--fail-on") {
            assert_eq!(code, 1, "{cmd}: {out}{err}");
            assert!(
                out.contains("::error file=aalst/flows/discipline.paraaf,line=8"),
                "{out}"
            );
        } else {
            assert_eq!(code, 0, "{cmd}: {out}{err}");
            assert!(out.contains("#### tuchtdossier (shielded)"), "{out}");
        }
    }
}

#[test]
fn gitlab_example_runs_in_a_shallow_clone_of_the_branch() {
    let root = remote("ci-checkout-gitlab");
    // GitLab's merge request pipeline: a shallow clone of the branch only.
    ok(
        &root,
        "git clone -q --depth 1 --single-branch --branch mr file://$PWD/remote gl",
    );
    let clone = root.join("gl");
    // Without the fetch, the base is not there: a clear error, not an empty reason.
    let (code, _, err) = run(&clone, "paraaf diff origin/main HEAD --project aalst");
    assert_eq!(code, 2);
    assert!(
        err.contains("has no commit `origin/main`") && err.contains("git fetch"),
        "{err}"
    );
    let lines = documented("## GitLab CI");
    assert!(
        lines.iter().any(|l| l.starts_with("git fetch")),
        "{lines:?}"
    );
    for line in lines {
        let cmd = line
            .replace("$CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            .replace(" | tee impact.md", "");
        let (code, out, err) = run(&clone, &cmd);
        if cmd.contains("--fail-on") {
            assert_eq!(code, 1, "{cmd}: {out}{err}");
            assert!(
                err.contains("refused by --fail-on: shielded-widened"),
                "{err}"
            );
        } else {
            assert_eq!(code, 0, "{cmd}: {out}{err}");
        }
    }
}
