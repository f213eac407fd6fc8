//! `paraaf check --format sarif|github`: what CI shows on a pull request. The SARIF log is
//! also validated against the official 2.1.0 schema in `.ci/run`
//! (`scripts/validate_sarif.py`).

mod support;

use std::process::Command;

fn check(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .arg("check")
        .args(args)
        .env_remove("PARAAF_DOCS_URL")
        .current_dir(support::root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn github_annotations_name_the_file_from_the_repository_root() {
    let (code, out) = check(&[
        "examples/broken/P0003-unknown-name.paraaf",
        "--format",
        "github",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
    // Every line is one workflow command; newlines in messages are escaped.
    let (_, all) = check(&["examples/broken", "--format", "github"]);
    for line in all.lines() {
        assert!(
            line.starts_with("::error file=examples/broken/")
                || line.starts_with("::warning file=examples/broken/"),
            "{line}"
        );
        assert!(line.contains(",line=") && line.contains(",col=") && line.contains(",title=P0"));
    }
    let (code, clean) = check(&["examples/aalst", "--format", "github"]);
    assert_eq!((code, clean.as_str()), (0, ""));
}

#[test]
fn sarif_has_the_rules_of_the_code_registry() {
    let (code, out) = check(&["examples/broken", "--format", "sarif"]);
    assert_eq!(code, 1);
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), paraaf_compiler::diagnostics::Code::ALL.len());
    for r in rules {
        let id = r["id"].as_str().unwrap();
        // Absolute (SARIF wants URIs), into the documentation's page of the code.
        let uri = r["helpUri"].as_str().unwrap();
        assert_eq!(
            uri,
            format!("https://paraaf.be/docs/diagnostics/{id}.md"),
            "the default PARAAF_DOCS_URL"
        );
        let page = uri
            .strip_prefix(paraaf_compiler::diagnostics::DEFAULT_DOCS_URL)
            .unwrap();
        assert!(support::root().join("docs").join(page).is_file(), "{page}");
        assert!(
            r["help"]["markdown"]
                .as_str()
                .unwrap()
                .starts_with(&format!("# {id}: "))
        );
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        let uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(support::root().join(uri).is_file(), "{uri}");
        assert!(
            res["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    // Every code of examples/broken shows up.
    let codes: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(codes.len() >= 15, "{codes:?}");
}
