//! The misses of issue #30, each a pull request on a git repository (a commit with the
//! base, a branch with the change): `paraaf diff main BRANCH --project aalst` reports it
//! on the smallest region where it happens and fails the matching `--fail-on`.

#[path = "support/git_repo.rs"]
mod git_repo;
mod support;

use git_repo::{aalst_repo as repo, commit_edit, git, paraaf_in};
use std::path::Path;

/// A change on its own branch: the first `from` in `file` (under `aalst/`) made `to`.
struct Edit {
    branch: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
}

/// A visum only for one unit above one amount: a combination of two fields.
const VISUM_BOEKHOUDING: Edit = Edit {
    branch: "visum-boekhouding",
    file: "flows/purchasing.paraaf",
    from: "sign financieel-directeur when bedrag >= 30 000 EUR",
    to: "sign financieel-directeur when bedrag >= 30 000 EUR or (bedrag >= 8 500 EUR and document.dienst == boekhouding)",
};

/// Another substitute for the financial director.
const ANDERE_VERVANGER: Edit = Edit {
    branch: "andere-vervanger",
    file: "flows/substitutes.paraaf",
    from: "substitutes financieel-directeur = adjunct-financieel-directeur",
    to: "substitutes financieel-directeur = algemeen-directeur",
};

/// College decisions escalate to the mayor.
const ANDERE_ESCALATIE: Edit = Edit {
    branch: "andere-escalatie",
    file: "flows/college.paraaf",
    from: "10 workdays escalate to algemeen-directeur",
    to: "10 workdays escalate to burgemeester",
};

/// A refused purchase order stops.
const WEIGERING_STOPT: Edit = Edit {
    branch: "weigering-stopt",
    file: "flows/purchasing.paraaf",
    from: "  on refused -> back to uploader",
    to: "  on refused -> stop",
};

/// The social file's client may read it: a new `allow` exception.
const ALLOW_CLIENT: Edit = Edit {
    branch: "allow-client",
    file: "flows/documents.paraaf",
    from: "document sociaal-dossier shielded by sociale-zaken {\n  team: unit in sociale-zaken\n",
    to: "document sociaal-dossier shielded by sociale-zaken allow client {\n  team: unit in sociale-zaken\n  client: person\n",
};

/// Branch `edit.branch` off `main` with the edit committed; back on `main`, which checks
/// clean.
fn change(repo: &Path, edit: &Edit) {
    git(repo, &["checkout", "-q", "-b", edit.branch, "main"]);
    commit_edit(repo, edit.file, edit.from, edit.to, edit.branch);
    git(repo, &["checkout", "-q", "main"]);
    assert_eq!(
        paraaf_in(&repo.join("aalst"), &["check", "."]).0,
        0,
        "{} checks clean on main's tree",
        edit.branch
    );
}

/// `paraaf diff main BRANCH --project aalst --fail-on FAIL` (exit code, stdout, stderr).
fn diff(repo: &Path, branch: &str, fail: &str, format: &str) -> (i32, String, String) {
    paraaf_in(
        repo,
        &[
            "diff",
            "main",
            branch,
            "--project",
            "aalst",
            "--fail-on",
            fail,
            "--format",
            format,
        ],
    )
}

#[test]
fn every_person_and_every_region_is_compared() {
    let repo = repo("impact-regions");
    // The general director (the organogram's first person) sees every purchase order.
    change(
        &repo,
        &Edit {
            branch: "directeur-ziet-bestelbonnen",
            file: "flows/purchasing.paraaf",
            from: "  visible to uploader, signers, unit aankoop",
            to: "  visible to uploader, signers, unit aankoop, algemeen-directeur",
        },
    );
    let (code, out, err) = diff(&repo, "directeur-ziet-bestelbonnen", "sight-gained", "text");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "sight-gained: every document: algemene-directie (1): hans-de-backer: now may see it"
        ),
        "{out}"
    );
    // A visum only for one unit above one amount: a combination of two fields.
    change(&repo, &VISUM_BOEKHOUDING);
    let (code, out, err) = diff(&repo, "visum-boekhouding", "signer-added", "text");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "signer-added: dienst in boekhouding and 8500 ≤ bedrag < 30000 EUR: financien (1): griet-vermeulen: now signs visum"
        ),
        "{out}"
    );
    // Nothing else changes for purchase orders of other services or amounts.
    assert!(!out.contains("signer-removed"), "{out}");
}

#[test]
fn substitutes_escalations_and_refusals_are_compared() {
    let repo = repo("impact-paths");
    change(&repo, &ANDERE_VERVANGER);
    change(&repo, &ANDERE_ESCALATIE);
    change(&repo, &WEIGERING_STOPT);
    for (branch, kind, line) in [
        (
            "andere-vervanger",
            "substitute-changed",
            "algemene-directie (1): hans-de-backer: now substitutes for griet-vermeulen at visum",
        ),
        (
            "andere-escalatie",
            "escalation-changed",
            "now gets handtekening when it escalates",
        ),
        (
            "weigering-stopt",
            "refusal-changed",
            ": a refusal at paraaf now goes to a stop",
        ),
    ] {
        let (code, out, err) = diff(&repo, branch, kind, "text");
        assert_eq!(code, 1, "{branch}: {out}{err}");
        assert!(
            out.contains(&format!("{kind}: ")) && out.contains(line),
            "{branch}: {out}"
        );
        assert!(
            err.contains(&format!("refused by --fail-on: {kind}")),
            "{err}"
        );
        // Only that kind of change: who signs and who sees stay the same.
        let (code, out, _) = diff(
            &repo,
            branch,
            "signer-added,signer-removed,sight-gained,sight-lost",
            "json",
        );
        assert_eq!(code, 0, "{branch}: {out}");
    }
}

#[test]
fn a_new_allow_exception_widens_the_shield_and_a_new_shielded_kind_does_not() {
    let repo = repo("impact-allow");
    change(&repo, &ALLOW_CLIENT);
    let (code, out, err) = diff(&repo, "allow-client", "shielded-widened", "github");
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("allow client"), "{out}");
    // The annotation is on the changed line, not on the flow's.
    assert!(
        out.starts_with("::error file=aalst/flows/documents.paraaf,line=37,"),
        "{out}"
    );
    change(
        &repo,
        &Edit {
            branch: "nieuw-afgeschermd",
            file: "flows/social.paraaf",
            from: "flow sociaal-dossier-beslissing",
            to: "document geheim shielded by sociale-zaken {\n  team: unit in sociale-zaken\n}\n\nflow geheim-tekenen for geheim {\n  visible to uploader, signers, group sociale-zaken\n  step beslissing : sign diensthoofd of sociale-zaken\n}\n\nflow sociaal-dossier-beslissing",
        },
    );
    let (code, out, err) = diff(&repo, "nieuw-afgeschermd", "shielded-widened", "text");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("geheim (new kind, shielded) changed"), "{out}");
}

/// The scenarios in `out` (from `--emit-scenarios`) in place of the project's own:
/// `paraaf test aalst` on the checkout of `rev` (exit code, stdout).
fn test_on(repo: &Path, rev: &str, out: &Path) -> (i32, String) {
    git(repo, &["checkout", "-q", rev]);
    let tests = repo.join("aalst/tests");
    let own = tests.join("scenarios.toml");
    std::fs::rename(&own, tests.join("scenarios.off")).unwrap();
    let mut copied = Vec::new();
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let to = tests.join(format!("emitted-{}", e.file_name().to_string_lossy()));
        std::fs::copy(e.path(), &to).unwrap();
        copied.push(to);
    }
    let (code, stdout, stderr) = paraaf_in(repo, &["test", "aalst"]);
    for c in copied {
        std::fs::remove_file(c).unwrap();
    }
    std::fs::rename(tests.join("scenarios.off"), &own).unwrap();
    git(repo, &["checkout", "-q", "main"]);
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn every_change_is_written_as_a_scenario_that_passes_on_head_and_fails_on_base() {
    let repo = repo("impact-emit");
    change(&repo, &VISUM_BOEKHOUDING);
    change(&repo, &ANDERE_VERVANGER);
    change(&repo, &ANDERE_ESCALATIE);
    change(&repo, &WEIGERING_STOPT);
    for (branch, file, says) in [
        (
            "visum-boekhouding",
            "bestelbon.toml",
            vec![
                // A new signer, on the smallest region where it happens.
                "name = \"dienst in boekhouding and 8500 ≤ bedrag < 30000 EUR: griet-vermeulen now signs visum\"",
                // Sight gained by one person, above one amount, in one unit.
                "name = \"dienst in boekhouding and 8500 ≤ bedrag < 30000 EUR: griet-vermeulen now may see it\"",
                "may_see = [\n  \"griet-vermeulen\",  # Griet Vermeulen\n]",
                "dienst = \"boekhouding\"  # Boekhouding",
            ],
        ),
        (
            "andere-vervanger",
            "bestelbon.toml",
            vec![
                "hans-de-backer now substitutes for griet-vermeulen at visum",
                "absent = [\n  \"griet-vermeulen\",  # Griet Vermeulen\n]",
                "  \"visum: hans-de-backer\",  # Hans De Backer\n",
            ],
        ),
        (
            "andere-escalatie",
            "besluit.toml",
            vec![
                "now gets handtekening when it escalates",
                "wait_at = \"handtekening\"\nwait = \"120 days\"",
            ],
        ),
        (
            "weigering-stopt",
            "bestelbon.toml",
            vec![
                ": a refusal at paraaf now goes to a stop",
                "refuse_at = \"paraaf\"",
                "status = \"stopped\"",
            ],
        ),
    ] {
        let out = repo.join(format!("emitted-{branch}"));
        let o = out.to_str().unwrap();
        let args = [
            "diff",
            "main",
            branch,
            "--project",
            "aalst",
            "--emit-scenarios",
            o,
        ];
        let (code, report, err) = paraaf_in(&repo, &args);
        assert_eq!(code, 0, "{branch}: {report}{err}");
        assert!(
            err.contains(&format!("wrote {o}/{file}")),
            "{branch}: {err}"
        );
        assert!(!err.contains("not stated"), "{branch}: {err}");
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        for s in says {
            assert!(text.contains(s), "{branch}: {s:?} not in\n{text}");
        }
        let emitted: usize = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap()
                    .matches("[[scenario]]")
                    .count()
            })
            .sum();
        assert!(emitted > 0, "{text}");
        // Every scenario passes on the head and fails on the base.
        let (code, run) = test_on(&repo, branch, &out);
        assert_eq!(code, 0, "{branch} on the head:\n{run}\n{text}");
        let (code, run) = test_on(&repo, "main", &out);
        assert_eq!(code, 1, "{branch} on the base:\n{run}");
        assert!(
            run.contains(&format!(" {emitted} failed")),
            "{branch}: {emitted} emitted, on the base:\n{run}"
        );
        // Again: the same files, said so; a file edited since is not overwritten.
        let (code, _, err) = paraaf_in(&repo, &args);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("unchanged {o}/{file}")), "{err}");
        assert_eq!(std::fs::read_to_string(out.join(file)).unwrap(), text);
        std::fs::write(out.join(file), format!("# reviewed\n{text}")).unwrap();
        let (code, _, err) = paraaf_in(&repo, &args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("nothing was written"), "{err}");
        assert!(
            std::fs::read_to_string(out.join(file))
                .unwrap()
                .starts_with("# reviewed\n")
        );
        let mut forced = args.to_vec();
        forced.push("--force");
        let (code, _, err) = paraaf_in(&repo, &forced);
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read_to_string(out.join(file)).unwrap(), text);
    }
}

#[test]
fn a_removed_kind_is_one_refused_scenario_and_an_unused_allow_is_said_not_stated() {
    let repo = repo("impact-emit-kinds");
    // The council decisions leave Paraaf: the kind and its flow are removed.
    git(
        &repo,
        &["checkout", "-q", "-b", "geen-raadsbesluit", "main"],
    );
    for (file, from) in [
        (
            "flows/documents.paraaf",
            "document raadsbesluit {\n  titel: text\n  bron: text\n}\n",
        ),
        (
            "flows/college.paraaf",
            "flow raadsbesluit-tekenen for raadsbesluit {\n  visible to uploader, signers\n  step handtekening : all {\n    sign voorzitter-gemeenteraad\n    sign algemeen-directeur\n  }\n  deadline 5 workdays remind, 10 workdays escalate to adjunct-algemeen-directeur\n}\n",
        ),
    ] {
        let f = repo.join("aalst").join(file);
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains(from), "{file}");
        std::fs::write(&f, text.replacen(from, "", 1)).unwrap();
    }
    git(&repo, &["commit", "-q", "-am", "geen-raadsbesluit"]);
    git(&repo, &["checkout", "-q", "main"]);
    let out = repo.join("emitted-removed");
    let (code, report, err) = paraaf_in(
        &repo,
        &[
            "diff",
            "main",
            "geen-raadsbesluit",
            "--project",
            "aalst",
            "--emit-scenarios",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{report}{err}");
    assert!(
        report.contains("raadsbesluit (removed kind) changed"),
        "{report}"
    );
    let text = std::fs::read_to_string(out.join("raadsbesluit.toml")).unwrap();
    assert_eq!(text.matches("[[scenario]]").count(), 1, "{text}");
    assert!(
        text.contains(
            "name = \"every document: `raadsbesluit` is removed: a document of it is refused\""
        ) && text.contains("status = \"refused\""),
        "{text}"
    );
    // The project's own scenarios name the removed kind: only the emitted ones run.
    let (code, run) = test_on(&repo, "geen-raadsbesluit", &out);
    assert_eq!(code, 0, "{run}");
    let (code, run) = test_on(&repo, "main", &out);
    assert_eq!(code, 1, "{run}");
    assert!(
        run.contains("status: expected refused, and the document was accepted"),
        "{run}"
    );

    change(&repo, &ALLOW_CLIENT);
    let out = repo.join("emitted-allow");
    let (code, report, err) = paraaf_in(
        &repo,
        &[
            "diff",
            "main",
            "allow-client",
            "--project",
            "aalst",
            "--fail-on",
            "shielded-widened",
            "--emit-scenarios",
            out.to_str().unwrap(),
        ],
    );
    // The gate still fails; no scenario can tell the versions apart until a flow names
    // `client`, and that is said.
    assert_eq!(code, 1, "{report}{err}");
    assert!(
        err.contains("not stated as a scenario (sociaal-dossier): shielded-widened: a new or widened `allow client`: the exception lets the person in `client` see the file only where a flow names the field"),
        "{err}"
    );
    assert!(!out.exists(), "{err}");
}
