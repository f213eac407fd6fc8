//! `paraaf diff BASE HEAD`: a change that widens who sees discipline files is caught by
//! `--fail-on shielded-widened`; an unchanged project changes nothing for anyone.

#[path = "support/git_repo.rs"]
mod git_repo;
mod support;

use git_repo::{aalst_repo, commit_edit, paraaf_in};
use std::process::Command;

/// `paraaf args` from the repository root.
fn paraaf(args: &[&str]) -> (i32, String, String) {
    paraaf_in(&support::root(), args)
}

#[test]
fn widening_a_shielded_kind_is_caught() {
    let head = support::tempdir("impact").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &head);
    // The mayor joins the discipline group: it still checks clean (the shield holds),
    // but one more person may read every discipline file.
    let f = head.join("flows/discipline.paraaf");
    let text = std::fs::read_to_string(&f).unwrap();
    let widened = text.replace(
        "  adjunct-algemeen-directeur,\n) shielded",
        "  adjunct-algemeen-directeur,\n  burgemeester,\n) shielded",
    );
    assert_ne!(text, widened);
    std::fs::write(&f, widened).unwrap();
    let h = head.to_str().unwrap();
    assert_eq!(paraaf(&["check", h]).0, 0);

    let (code, out, err) = paraaf(&["diff", "examples/aalst", h, "--fail-on", "shielded-widened"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("tuchtdossier (shielded) changed"), "{out}");
    assert!(
        out.contains("sight-gained: medewerker is not ruben-van-damme and uploader is hans-de-backer or hilde-baert or fatima-claes or 2 others: college (1): ruben-van-damme: now may see it"),
        "{out}"
    );
    assert!(
        err.contains("refused by --fail-on: shielded-widened"),
        "{err}"
    );
    // Only signer changes are asked about: this change has none.
    let (code, _, _) = paraaf(&["diff", "examples/aalst", h, "--fail-on", "signer-removed"]);
    assert_eq!(code, 0);
    // The pull-request comment and the JSON say the same.
    let (_, md, _) = paraaf(&["diff", "examples/aalst", h, "--format", "markdown"]);
    insta::assert_snapshot!(md);
    // The other formats, as snapshots (the temporary folder written as [head]).
    for format in ["text", "json", "github", "sarif"] {
        let (_, o, _) = paraaf(&[
            "diff",
            "examples/aalst",
            h,
            "--format",
            format,
            "--fail-on",
            "shielded-widened",
        ]);
        insta::assert_snapshot!(format!("diff_{format}"), o.replace(h, "[head]"));
    }
    let (_, json, _) = paraaf(&["diff", "examples/aalst", h, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t = v
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "tuchtdossier")
        .unwrap();
    assert_eq!(t["shielded"], true);
    assert_eq!(t["shielded_before"], true);
    // The mayor reads every discipline file (and, as a member now, may upload one).
    assert!(
        t["sight_gained"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("ruben-van-damme")),
        "{t}"
    );
}

#[test]
fn the_same_project_changes_nothing() {
    let (code, out, _) = paraaf(&[
        "diff",
        "examples/aalst",
        "examples/aalst",
        "--fail-on",
        "shielded-widened,sight-gained,sight-lost,signer-added,signer-removed",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().all(|l| l.contains("unchanged")), "{out}");
    assert_eq!(
        paraaf(&[
            "diff",
            "examples/aalst",
            "examples/aalst",
            "--fail-on",
            "nonsense"
        ])
        .0,
        2
    );
}

/// A pull request in a city's rule repository: the base branch and the change are git
/// revisions; annotations and SARIF point at the flow of the changed kind.
#[test]
fn git_revisions_are_compared_and_annotated() {
    let repo = aalst_repo("impact-git");
    commit_edit(
        &repo,
        "flows/discipline.paraaf",
        "  adjunct-algemeen-directeur,\n) shielded",
        "  adjunct-algemeen-directeur,\n  burgemeester,\n) shielded",
        "de burgemeester in de tuchtgroep",
    );

    // Two bare revisions with --project, from the repository root.
    let (code, gh, err) = paraaf_in(
        &repo,
        &[
            "diff",
            "main~1",
            "main",
            "--project",
            "aalst",
            "--format",
            "github",
            "--fail-on",
            "shielded-widened",
        ],
    );
    assert_eq!(code, 1, "{gh}{err}");
    insta::assert_snapshot!(gh);
    // REV:PATH against the working tree, from inside the project: same finding, as a
    // note (nothing refused), in SARIF, with the repository's path of the flow.
    let (code, sarif, err) = paraaf_in(
        &repo.join("aalst"),
        &["diff", "main~1:.", ".", "--format", "sarif"],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let widened = results
        .iter()
        .find(|r| r["ruleId"] == "shielded-widened")
        .unwrap_or_else(|| panic!("{sarif}"));
    assert_eq!(widened["level"], "note");
    assert_eq!(
        widened["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "flows/discipline.paraaf"
    );
    // The temporary checkouts are gone; a revision that does not exist is a usage error.
    let (code, _, err) = paraaf_in(&repo, &["diff", "nope", "main", "--project", "aalst"]);
    assert_eq!(code, 2);
    assert!(err.contains("neither a folder nor a git revision"), "{err}");
}

/// A project with errors still gives a report in the CI formats (its diagnostics, so
/// the job shows why), the error itself on standard error; and the SARIF `helpUri`s
/// are absolute, under `PARAAF_DOCS_URL` when a city publishes the documentation.
#[test]
fn ci_formats_report_project_errors_and_absolute_help() {
    let broken = support::tempdir("impact-broken").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &broken);
    let f = broken.join("flows/reviews.paraaf");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("sign medewerker", "sign medewerkr")).unwrap();
    let b = broken.to_str().unwrap();
    for args in [
        vec!["test", b, "--format", "sarif"],
        vec!["diff", "examples/aalst", b, "--format", "sarif"],
    ] {
        let (code, out, err) = paraaf(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("has errors"), "{args:?}: {err}");
        let log: serde_json::Value = serde_json::from_str(&out).expect("SARIF on stdout");
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert!(
            results.iter().any(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .ends_with("flows/reviews.paraaf")
            }),
            "{args:?}: {out}"
        );
    }
    let (_, out, _) = paraaf(&["test", b, "--format", "github"]);
    assert!(out.contains("::error file="), "{out}");

    // The documentation's address: absolute by default, the city's when it says so.
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args([
            "diff",
            "examples/aalst",
            "examples/aalst",
            "--format",
            "sarif",
        ])
        .env("PARAAF_DOCS_URL", "https://intranet.aalst.be/paraaf-docs/")
        .current_dir(support::root())
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for r in log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        assert_eq!(r["helpUri"], "https://intranet.aalst.be/paraaf-docs/ci.md");
    }
}
