//! Project paths and line ends through the binary (#31): a project reached by any
//! relative path (`../../examples/aalst` from several depths), and sources with `\n`,
//! `\r\n` or a lone `\r` checked, compiled and formatted alike.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn paraaf(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `<tmp>/examples/aalst` and the folders `<tmp>/a`, `<tmp>/a/b`, `<tmp>/a/b/c`.
fn layout(name: &str) -> PathBuf {
    let dir = support::tempdir(name);
    support::copy_dir(
        &support::root().join("examples/aalst"),
        &dir.join("examples/aalst"),
    );
    std::fs::create_dir_all(dir.join("a/b/c")).unwrap();
    dir
}

/// `paraaf check ../../examples/aalst` once exited 2: the second leading `..` was dropped
/// (`include` then named a folder that does not exist).
#[test]
fn a_project_is_found_by_any_relative_path() {
    let dir = layout("paths-relative");
    let cases = [
        ("", "examples/aalst"),
        ("", "./examples/aalst/"),
        ("a", "../examples/aalst"),
        ("a/b", "../../examples/aalst"),
        ("a/b/c", "../../../examples/aalst"),
        ("a/b/c", "../../../a/../examples/./aalst"),
        ("a/b", "../../examples/aalst/flows"),
    ];
    for (cwd, path) in cases {
        let o = paraaf(&dir.join(cwd), &["check", path]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "check {path} from {cwd:?}: {}",
            text(&o)
        );
        assert!(text(&o).contains("0 errors"), "{path}: {}", text(&o));
    }
    // An include that leaves the project by `..`, reached through `../..`.
    let shared = dir.join("examples/gedeeld");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::rename(
        dir.join("examples/aalst/flows/college.paraaf"),
        shared.join("college.paraaf"),
    )
    .unwrap();
    std::fs::write(
        dir.join("examples/aalst/paraaf.toml"),
        "organogram = \"org.toml\"\ninclude = [\"flows\", \"../gedeeld\"]\n",
    )
    .unwrap();
    let o = paraaf(&dir.join("a/b"), &["check", "../../examples/aalst"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("checked 10 files"), "{}", text(&o));
}

/// Every `.paraaf` of `project` rewritten with `eol` for its line ends.
fn with_line_ends(project: &Path, eol: &str) {
    for e in walk(project) {
        if e.extension().is_some_and(|x| x == "paraaf") {
            let t = std::fs::read_to_string(&e).unwrap();
            std::fs::write(&e, t.replace("\r\n", "\n").replace('\n', eol)).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A CR-only file was one long comment: no diagnostics, and `compile` silently left its
/// flows out. Now the compiled project is the same whatever ends the lines, and an
/// error is reported on the same line.
#[test]
fn line_ends_do_not_change_what_compiles() {
    let base = support::tempdir("line-ends-compile");
    let mut compiled = Vec::new();
    for (name, eol) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        let dir = base.join(name);
        support::copy_dir(&support::root().join("examples/aalst"), &dir);
        with_line_ends(&dir, eol);
        let out = base.join(format!("{name}.json"));
        let o = paraaf(&dir, &["compile", ".", "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(json["flows"].as_array().map(Vec::len), Some(9), "{name}");
        compiled.push((name, json["flows"].clone(), json["rules"].clone()));
        // A typo on line 5 of college.paraaf is reported on line 5.
        let college = dir.join("flows/college.paraaf");
        let t = std::fs::read_to_string(&college).unwrap();
        std::fs::write(
            &college,
            t.replacen("sign burgemeester", "sign burgmeester", 1),
        )
        .unwrap();
        let o = paraaf(&dir, &["check", ".", "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let d = &v[0];
        assert_eq!(d["code"], "P0003", "{name}: {v}");
        let line = t
            .split(eol)
            .position(|l| l.contains("sign burgemeester"))
            .unwrap()
            + 1;
        assert_eq!(d["location"]["line"], line, "{name}: {d}");
    }
    for (name, flows, rules) in &compiled[1..] {
        assert_eq!(flows, &compiled[0].1, "{name}");
        assert_eq!(rules, &compiled[0].2, "{name}");
    }
}

/// `paraaf fmt` keeps CRLF and CR files as they are ended, and normalises spacing.
#[test]
fn fmt_keeps_line_ends() {
    let dir = support::tempdir("fmt-line-ends");
    for (name, eol) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        let path = dir.join(format!("{name}.paraaf"));
        let src = "flow f for d {\n  step a:sign x\n  visible to uploader,signers\n}\n";
        std::fs::write(&path, src.replace('\n', eol)).unwrap();
        let o = paraaf(&dir, &["fmt", path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
        let want = "flow f for d {\n  step a : sign x\n  visible to uploader, signers\n}\n";
        let got = std::fs::read_to_string(&path).unwrap();
        assert_eq!(got.replace(eol, "\n"), want, "{name}");
        assert_eq!(got.matches(eol).count(), 4, "{name}: {got:?}");
        let o = paraaf(&dir, &["fmt", "--check", path.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", text(&o));
    }
}
