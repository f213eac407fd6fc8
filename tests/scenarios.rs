//! `paraaf test`: the examples' scenarios pass; a wrong expectation fails with exit 1,
//! names what differs, and `--coverage` lists what no scenario reached.

mod support;

use std::process::Command;

fn paraaf(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .current_dir(support::root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn every_example_flow_has_passing_scenarios() {
    for project in ["examples/aalst", "examples/hasselt"] {
        let (code, out) = paraaf(&["test", project, "--coverage"]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("coverage: every flow and step is reached"),
            "{out}"
        );
        assert!(out.trim_end().ends_with(" 0 failed"), "{out}");
    }
}

#[test]
fn a_wrong_expectation_fails_and_says_what_differs() {
    let dir = support::tempdir("scenarios").join("aalst");
    let root = support::root().join("examples/aalst");
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    for f in ["paraaf.toml", "org.toml"] {
        std::fs::copy(root.join(f), dir.join(f)).unwrap();
    }
    for e in std::fs::read_dir(root.join("flows")).unwrap().flatten() {
        std::fs::copy(e.path(), dir.join("flows").join(e.file_name())).unwrap();
    }
    std::fs::write(
        dir.join("tests/wrong.toml"),
        r#"
[[scenario]]
name = "goed"
kind = "besluit"
uploader = "jan-cools"
fields = { dienst = "bevolking", bron = "notula", titel = "x" }
route = ["paraaf: dirk-lambert", "handtekening: ruben-van-damme | hans-de-backer"]

[[scenario]]
name = "fout: de visum vergeten en een collega die meekijkt"
kind = "besluit"
uploader = "jan-cools"
fields = { dienst = "bevolking", bron = "notula", titel = "x", bedrag = "9000" }
route = ["paraaf: dirk-lambert", "handtekening: ruben-van-damme | hans-de-backer"]
may_not_see = ["dirk-lambert"]
status = "returned"
"#,
    )
    .unwrap();
    let (code, out) = paraaf(&["test", dir.to_str().unwrap(), "--coverage"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("test goed ... ok"), "{out}");
    assert!(out.contains("... FAILED"), "{out}");
    assert!(
        out.contains("\"visum: griet-vermeulen\""),
        "the actual route is shown: {out}"
    );
    assert!(
        out.contains("dirk-lambert should not see the document, and may"),
        "{out}"
    );
    assert!(
        out.contains("status: expected returned, actual completed"),
        "{out}"
    );
    assert!(
        out.contains("flow raadsbesluit-tekenen"),
        "coverage lists unreached flows: {out}"
    );
    assert!(out.trim_end().ends_with("1 passed, 1 failed"), "{out}");
    // For CI: JSON, and an annotation on the failing scenario's line.
    let (code, json) = paraaf(&["test", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["scenarios"][1]["passed"], false);
    assert!(
        v["not_reached"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "flow raadsbesluit-tekenen")
    );
    let (code, gh) = paraaf(&["test", dir.to_str().unwrap(), "--format", "github"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = gh.lines().collect();
    assert_eq!(lines.len(), 1, "{gh}");
    assert!(
        lines[0].starts_with("::error file=") && lines[0].contains(",line=10,"),
        "{gh}"
    );
    // SARIF: one result per failing scenario, on its line, of rule `scenario-failed`.
    let (code, sarif) = paraaf(&["test", dir.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(sarif.trim()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif}");
    assert_eq!(results[0]["ruleId"], "scenario-failed");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("status: expected returned, actual completed")
    );
    // Each format, as a snapshot (the temporary folder written as [dir]).
    let d = dir.to_str().unwrap();
    insta::assert_snapshot!("test_text", out.replace(d, "[dir]"));
    insta::assert_snapshot!("test_json", json.replace(d, "[dir]"));
    insta::assert_snapshot!("test_github", gh.replace(d, "[dir]"));
    insta::assert_snapshot!("test_sarif", sarif.replace(d, "[dir]"));
}

#[test]
fn a_deadline_escalates_only_when_it_falls_due() {
    let dir = support::tempdir("scenarios-deadline").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::remove_dir_all(dir.join("tests")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("tests/deadline.toml"),
        r#"
[[scenario]]
name = "na 9 werkdagen verwacht iemand al een escalatie"
kind = "besluit"
uploader = "jan-cools"
fields = { dienst = "bevolking", bron = "notula", titel = "x" }
wait_at = "paraaf"
wait = "9 workdays"
route = ["paraaf: dirk-lambert", "(after 9 workdays)", "paraaf: dirk-lambert, hans-de-backer", "handtekening: ruben-van-damme | hans-de-backer"]

[[scenario]]
name = "wachten bij een stap die niet bestaat"
kind = "besluit"
uploader = "jan-cools"
fields = { dienst = "bevolking", bron = "notula", titel = "x" }
wait_at = "goedkeuring"

[[scenario]]
name = "een wachttijd die geen duur is"
kind = "besluit"
uploader = "jan-cools"
fields = { dienst = "bevolking", bron = "notula", titel = "x" }
wait_at = "paraaf"
wait = "twee weken"
"#,
    )
    .unwrap();
    let (code, out) = paraaf(&["test", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    // Nine workdays is before the ten of the deadline: nobody else was asked yet.
    assert!(
        out.contains(r#""(after 9 workdays)", "paraaf: dirk-lambert", "handtekening"#),
        "{out}"
    );
    assert!(
        out.contains("wait_at: the route never reached step `goedkeuring`"),
        "{out}"
    );
    assert!(
        out.contains(r#"wait = "twee weken": write `N workdays` or `N days`"#),
        "{out}"
    );
    assert!(out.trim_end().ends_with("0 passed, 3 failed"), "{out}");
}
