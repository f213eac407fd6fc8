//! End-to-end tests of the `paraaf` command, run as a user would.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn paraaf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paraaf-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_aalst_is_clean() {
    let o = paraaf(&["check", "examples/aalst"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("checked 10 files against org.toml: 0 errors, 0 warnings"),
        "{}",
        stdout(&o)
    );
    let o = paraaf(&["check", "examples/hasselt", "--deny", "warnings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn every_broken_example_fails_with_its_code() {
    let dir = root().join("examples/broken");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('P') {
            continue;
        }
        let code = &name[..5];
        let o = paraaf(&[
            "check",
            path.to_str().unwrap(),
            "--deny",
            "warnings",
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let diags: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        let diags = diags.as_array().unwrap();
        assert!(!diags.is_empty(), "{name}");
        for d in diags {
            assert_eq!(d["code"], code, "{name}");
            assert!(
                d["location"]["line"].as_u64().unwrap() >= 1,
                "{name}: location"
            );
            assert!(
                d["help"].as_str().is_some_and(|h| !h.is_empty()),
                "{name}: help line"
            );
            assert!(
                d["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{name}: message"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 25);
}

#[test]
fn warnings_pass_unless_denied() {
    let f = "examples/broken/P0015-unhandled-kind.paraaf";
    assert_eq!(paraaf(&["check", f]).status.code(), Some(0));
    assert_eq!(
        paraaf(&["check", f, "--deny", "warnings"]).status.code(),
        Some(1)
    );
}

#[test]
fn text_output_shows_source_help_and_suggestion() {
    let o = paraaf(&[
        "check",
        "examples/broken/P0003-unknown-name.paraaf",
        "--color",
        "never",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "[P0003] Error: there is no function, mandate or person called `financieel-directuer`"
        ),
        "{out}"
    );
    assert!(out.contains("P0003-unknown-name.paraaf:7:21"), "{out}");
    assert!(
        out.contains("Help: did you mean `financieel-directeur`?"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no colour when not asked");
}

#[test]
fn compile_writes_versioned_json() {
    let dir = tempdir("compile");
    let out = dir.join("aalst.json");
    let o = paraaf(&["compile", "examples/aalst", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["schema"], "paraaf.compiled/1");
    assert_eq!(json["flows"].as_array().unwrap().len(), 9);
    // The names people read for the kinds (`[kinds]` of paraaf.toml) go along.
    let kind = |name: &str| {
        json["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap()["title"]
            .clone()
    };
    assert_eq!(kind("besluit"), "Collegebesluit");
    assert_eq!(kind("sociaal-dossier"), "Sociaal dossier");
    // A project with errors writes nothing.
    let bad = dir.join("bad.json");
    let o = paraaf(&[
        "compile",
        "examples/broken/P0011-shielded-leak.paraaf",
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!bad.exists());
    assert!(stderr(&o).contains("nothing was written"));
}

#[test]
fn io_errors_are_one_line_and_exit_2() {
    let o = paraaf(&["check", "examples/does-not-exist"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "error: examples/does-not-exist does not exist"
    );
    let dir = tempdir("noconfig");
    let o = paraaf(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: no paraaf.toml in"),
        "{}",
        stderr(&o)
    );
    std::fs::write(dir.join("paraaf.toml"), "organogram = 12\n").unwrap();
    let o = paraaf(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("paraaf.toml is not a valid project file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    std::fs::write(dir.join("paraaf.toml"), "organogram = \"missing.toml\"\n").unwrap();
    let o = paraaf(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read") && stderr(&o).contains("missing.toml"),
        "{}",
        stderr(&o)
    );
    // Usage errors are exit 2 too (clap).
    assert_eq!(paraaf(&["check", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn org_import_round_trips_and_reports_bad_rows() {
    let dir = tempdir("import");
    let out = dir.join("org.toml");
    let o = paraaf(&[
        "org",
        "import",
        "examples/aalst/people.csv",
        "-o",
        out.to_str().unwrap(),
        "--city",
        "Aalst",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(root().join("examples/aalst/org.toml")).unwrap()
    );

    let csv = dir.join("bad.csv");
    std::fs::write(
        &csv,
        "id,name,email,department,service,team,function,mandate\n\
         ,An Peeters,an@aalst.be,Financien,,,Diensthoofd,\n\
         ,,x@aalst.be,Financien,,,Boekhouder,\n\
         ,Jan Maes,not-an-email,Financien,,,Boekhouder,\n\
         ,Els Claes,els@aalst.be,,,,Boekhouder,\n\
         ,Wim Aerts,wim@aalst.be,Financien,,,Boekhouder,Burgemeester\n",
    )
    .unwrap();
    let o = paraaf(&[
        "org",
        "import",
        csv.to_str().unwrap(),
        "-o",
        dir.join("x.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for line in [
        "bad.csv:3: the name is empty",
        "bad.csv:4: `not-an-email` is not an e-mail address",
        "bad.csv:5: the function",
        "bad.csv:6: give either a function or a mandate",
    ] {
        assert!(err.contains(line), "missing `{line}` in:\n{err}");
    }
    assert!(!dir.join("x.toml").exists());
}

#[test]
fn explain_prints_the_page() {
    let o = paraaf(&["explain", "P0011"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("# P0011: shielded document routed outside its group"));
    let o = paraaf(&["explain"]);
    assert_eq!(stdout(&o).lines().count(), 26);
    assert_eq!(paraaf(&["explain", "P9999"]).status.code(), Some(2));
}

#[test]
fn help_teaches() {
    let o = paraaf(&["check", "--help"]);
    let out = stdout(&o);
    assert!(
        out.contains("Example: paraaf check examples/aalst"),
        "{out}"
    );
    assert!(out.contains("--deny"), "{out}");
}

#[test]
fn fmt_check_passes_on_examples_and_fixes_a_messy_file() {
    let o = paraaf(&["fmt", "--check", "examples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let dir = tempdir("fmt");
    let file = dir.join("messy.paraaf");
    std::fs::write(&file, "document d {\n      a:   text   // keep me\n}\n").unwrap();
    let o = paraaf(&["fmt", "--check", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("would reformat"));
    assert_eq!(
        paraaf(&["fmt", file.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "document d {\n  a: text // keep me\n}\n"
    );
}

/// HR spreadsheets as Belgian offices export them (tests/data/hr): `;` and tab
/// delimiters, Windows-1252 and UTF-8 with a BOM, CRLF, quoted fields; two people with
/// the same name stay two; ids are ASCII; a service named like a function is refused.
#[test]
fn org_import_reads_office_exports() {
    let dir = tempdir("import-office");
    let import = |name: &str| {
        let out = dir.join(format!("{name}.toml"));
        let csv = root().join("tests/data/hr").join(name);
        let o = paraaf(&[
            "org",
            "import",
            csv.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--city",
            "Stad",
        ]);
        (o, out)
    };
    for (file, second) in [
        ("excel-semicolon-1252.csv", "zoe-coppee"),
        ("excel-utf8-bom.csv", "ayse-yildiz"),
    ] {
        let (o, out) = import(file);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
        let toml = std::fs::read_to_string(&out).unwrap();
        for id in [
            "emile-vandeput",
            second,
            "jan-peeters",
            "jan-peeters-2",
            "financien",
            "medewerker-boekhouding",
        ] {
            assert!(
                toml.contains(&format!("id = \"{id}\"")),
                "{file}: no `{id}` in\n{toml}"
            );
        }
        assert!(toml.contains("name = \"Financiën\""), "{file}: {toml}");
        // The third row with Jan's e-mail is the first Jan (a second position).
        assert!(!toml.contains("jan-peeters-3"), "{file}");
        assert!(
            stderr(&o).contains(":5: Jan Peeters is another person than an earlier row"),
            "{file}: {}",
            stderr(&o)
        );
        // The result is a valid organogram.
        let o = paraaf(&["check", out.to_str().unwrap()]);
        assert_ne!(o.status.code(), Some(101), "{file}");
    }
    let (o, _) = import("excel-semicolon-1252.csv");
    assert!(
        stderr(&o).contains("read as Windows-1252"),
        "{}",
        stderr(&o)
    );
    let (o, out) = import("tab-separated.csv");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(out)
            .unwrap()
            .contains("emile-vandeput")
    );
    let (o, _) = import("service-named-like-function.csv");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("service-named-like-function.csv:3: `diensthoofd` would be both a function (line 2) and a unit"),
        "{}",
        stderr(&o)
    );
}

/// The JSON output, docs/json.md and docs/diagnostics.schema.json agree: every object has
/// exactly the fields the schema lists, of the types it gives; an unreadable project
/// still prints one diagnostic.
#[test]
fn json_output_matches_its_documented_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/diagnostics.schema.json")).unwrap(),
    )
    .unwrap();
    let doc = std::fs::read_to_string(root().join("docs/json.md")).unwrap();
    let defs = &schema["$defs"];
    let keys = |def: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = def["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    let check_location = |l: &serde_json::Value| {
        let mut got: Vec<String> = l.as_object().unwrap().keys().cloned().collect();
        got.sort();
        assert_eq!(got, keys(&defs["location"]));
        assert!(l["line"].as_u64().unwrap() >= 1 && l["column"].as_u64().unwrap() >= 1);
    };
    for field in keys(&defs["diagnostic"]) {
        assert!(
            doc.contains(&format!("| `{field}` |")),
            "docs/json.md does not describe `{field}`"
        );
    }
    let mut seen = 0;
    for e in std::fs::read_dir(root().join("examples/broken"))
        .unwrap()
        .flatten()
    {
        let o = paraaf(&["check", e.path().to_str().unwrap(), "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        for d in v.as_array().unwrap() {
            let mut got: Vec<String> = d.as_object().unwrap().keys().cloned().collect();
            got.sort();
            assert_eq!(got, keys(&defs["diagnostic"]), "{}", e.path().display());
            assert!(d["code"].as_str().unwrap().starts_with('P'));
            assert!(matches!(d["severity"].as_str(), Some("error" | "warning")));
            check_location(&d["location"]);
            for l in d["labels"].as_array().unwrap() {
                check_location(&l["location"]);
            }
            if !d["fix"].is_null() {
                check_location(&d["fix"]["location"]);
            }
            seen += 1;
        }
    }
    assert!(seen >= 23);
    let o = paraaf(&["check", "/nonexistent/project", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v[0]["code"].is_null() && v[0]["message"].as_str().unwrap().contains("does not exist"));
}

/// A folder with its own paraaf.toml inside a project is another project: `paraaf
/// check` of the outer one leaves its files out (they were merged and checked against
/// the wrong organogram), and checking it on its own finds them.
#[test]
fn a_nested_project_is_not_merged() {
    let dir = tempdir("nested");
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        let o = Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .output()
            .unwrap();
        assert!(o.status.success());
    };
    copy(&root().join("examples/aalst"), &dir.join("aalst"));
    let inner = dir.join("aalst/flows/hasselt");
    copy(&root().join("examples/hasselt"), &inner);
    let o = paraaf(&["check", dir.join("aalst").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("checked 10 files"), "{}", stdout(&o));
    let o = paraaf(&["check", inner.to_str().unwrap(), "--deny", "warnings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}
