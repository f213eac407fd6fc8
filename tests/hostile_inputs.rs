//! Files as Word, Excel and Notepad produce them, and files made to break the checker:
//! `paraaf check` and `paraaf fmt` answer every one with exit 0, 1 or 2 and a message,
//! never a panic, a stack overflow or a hang. Each input here once crashed or misled.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ORG: &str = include_str!("../examples/broken/org.toml");

fn project(name: &str, source: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paraaf-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("org.toml"), ORG).unwrap();
    std::fs::write(dir.join("paraaf.toml"), "organogram = \"org.toml\"\n").unwrap();
    std::fs::write(dir.join("flows.paraaf"), source).unwrap();
    dir
}

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .arg(dir)
        .output()
        .expect("runs")
}

/// Checks and formats `source`; asserts a proper exit code and no panic; returns the
/// output of `check`.
fn survive(name: &str, source: &[u8]) -> (Option<i32>, String) {
    let dir = project(name, source);
    let check = run(&["check", "--color", "never"], &dir);
    let err = String::from_utf8_lossy(&check.stderr).to_string();
    assert!(
        matches!(check.status.code(), Some(0..=2)),
        "{name}: check exited {:?}\n{err}",
        check.status
    );
    assert!(!err.contains("panicked"), "{name}: {err}");
    let fmt = run(&["fmt", "--check"], &dir);
    assert!(
        matches!(fmt.status.code(), Some(0..=2)),
        "{name}: fmt exited {:?}",
        fmt.status
    );
    assert!(
        !String::from_utf8_lossy(&fmt.stderr).contains("panicked"),
        "{name}"
    );
    (
        check.status.code(),
        String::from_utf8_lossy(&check.stdout).to_string() + &err,
    )
}

fn flow_when(cond: &str) -> Vec<u8> {
    format!("document besluit {{ bedrag: money }}\nflow a for besluit {{\n  step s : sign burgemeester when {cond}\n}}\n").into_bytes()
}

#[test]
fn spaces_from_word() {
    // A syntax error right at a no-break space once panicked in the renderer.
    let (code, out) = survive("nbsp-error", "document besluit { bedrag: money }\nflow a for besluit {\n  step s : sign burgemeester when bedrag >= 8 500 EUR \u{a0}x\n}\n".as_bytes());
    assert_eq!(code, Some(1), "{out}");
    // No-break and narrow no-break spaces are thousands separators, and a BOM is ignored.
    let mut src = b"\xef\xbb\xbf".to_vec();
    src.extend(flow_when(
        "bedrag >= 8\u{a0}500 EUR and bedrag < 1\u{202f}000\u{202f}000 EUR",
    ));
    let (code, out) = survive("nbsp-money", &src);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn files_from_notepad() {
    // Windows-1252 (a comment with `ë`) reads as text.
    let mut src = b"// financi\xebn\n".to_vec();
    src.extend(flow_when("bedrag >= 10 EUR"));
    let (code, out) = survive("cp1252", &src);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn conditions_with_thousands_of_terms() {
    for (name, op, n) in [("or", " or ", 6_000), ("and", " and ", 10_000)] {
        let cond: Vec<String> = (0..n).map(|i| format!("bedrag > {i} EUR")).collect();
        let (code, out) = survive(name, &flow_when(&cond.join(op)));
        assert!(matches!(code, Some(0 | 1)), "{name}: {out}");
    }
    let (code, out) = survive(
        "not",
        &flow_when(&format!("{}bedrag > 1 EUR", "not ".repeat(20_000))),
    );
    assert_eq!(code, Some(1));
    assert!(out.contains("P0002"), "{out}");
    let deep = format!("{}bedrag > 1 EUR{}", "(".repeat(20_000), ")".repeat(20_000));
    let (code, out) = survive("brackets", &flow_when(&deep));
    assert_eq!(code, Some(1));
    assert!(out.contains("P0002"), "{out}");
}

#[test]
fn huge_names_and_many_errors() {
    let long = "x".repeat(1_000_000);
    let (code, _) = survive(
        "long-name",
        format!("flow a for besluit {{\n  step s : sign {long}\n}}\n").as_bytes(),
    );
    assert_eq!(code, Some(1));
    let many: String = (0..16_000)
        .map(|i| format!("flow a{i} for besluit {{\n  step s sign x\n}}\n"))
        .collect();
    let (code, out) = survive("many-errors", many.as_bytes());
    assert_eq!(code, Some(1));
    assert!(
        out.contains("16000 errors"),
        "{}",
        &out[out.len().saturating_sub(200)..]
    );
}

#[test]
fn thousands_of_errors_on_one_line() {
    // 2,000 unknown names in one 60 kB condition (with no-break spaces): each error
    // shows a window of its line, not the whole line (that printed 36 MB in 46 s).
    let cond: Vec<String> = (0..2_000)
        .map(|i| format!("onbekend{i} > 1\u{a0}000 EUR"))
        .collect();
    let (code, out) = survive("long-line-errors", &flow_when(&cond.join(" and ")));
    assert_eq!(code, Some(1));
    assert!(out.contains("2000 errors"), "{}", &out[out.len() - 300..]);
    assert!(out.len() < 2_000_000, "{} bytes", out.len());
    // The excerpt of error 1000 points at its name, at the right line and column.
    let at = out.find("called `onbekend1000`").unwrap();
    let excerpt: Vec<&str> = out[at..].lines().take(5).collect();
    let col = flow_when(&cond.join(" and "))
        .split(|b| *b == b'\n')
        .nth(2)
        .map(|l| {
            let l = String::from_utf8_lossy(l).to_string();
            l[..l.find("onbekend1000 ").unwrap()].chars().count() + 1
        })
        .unwrap();
    assert!(
        excerpt[1].ends_with(&format!("flows.paraaf:3:{col} ]")),
        "{excerpt:#?}"
    );
    let caret = excerpt[4].chars().position(|c| c == '^').unwrap();
    let under: String = excerpt[3].chars().skip(caret).take(12).collect();
    assert!(under.starts_with("onbekend1000"), "{excerpt:#?}");
}

#[test]
fn messages_for_what_office_users_type() {
    let (_, out) = survive("belgian-amount", &flow_when("bedrag >= 8.500 EUR"));
    assert!(out.contains("for 8500 euro write `8 500 EUR`"), "{out}");
    let (_, out) = survive(
        "accented-name",
        "flow a for besluit {\n  step s : sign schepen-van-financiën\n}\n".as_bytes(),
    );
    assert!(out.contains("write `schepen-van-financien`"), "{out}");
    // Indented definitions: the first error does not hide the second.
    let (_, out) = survive("indented", b"  document besluit { bedrag money }\n  flow a for besluit {\n    step s sign burgemeester\n  }\n");
    assert!(
        out.contains("expected `:`") && out.contains("unexpected `sign`"),
        "{out}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let many: String = (0..3_000)
        .map(|i| format!("flow a{i} for besluit {{\n  step s sign x\n}}\n"))
        .collect();
    let dir = project("pipe", many.as_bytes());
    let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["check", "--color", "never"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one chunk, then close the pipe, like `| head`.
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    std::io::Read::read(&mut out, &mut buf).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

/// Files a project folder may hold that are no flow files: a pipe named `.paraaf`, a
/// link to `/dev/zero`, folder links back up the tree (one, and two: exponential), and a
/// 17 MB file. `paraaf check` ends, checks the real files once, and never blocks or
/// fills the memory (a pipe blocked it for good; `/dev/zero` took 12 GB).
#[cfg(unix)]
#[test]
fn pipes_devices_and_link_loops_in_a_project() {
    let dir = project("odd-files", &flow_when("bedrag >= 10 EUR"));
    let sub = dir.join("flows");
    std::fs::create_dir_all(&sub).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(sub.join("pijp.paraaf"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", sub.join("nul.paraaf")).unwrap();
    std::os::unix::fs::symlink("..", sub.join("lus")).unwrap();
    std::os::unix::fs::symlink(".", sub.join("a")).unwrap();
    std::os::unix::fs::symlink(".", sub.join("b")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("paraaf check did not end");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    // A file over the size limit is refused with the reason, not read whole.
    let big = dir.join("export.paraaf");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(17 * 1024 * 1024).unwrap();
    let (code, out) = (
        run(&["check"], &dir).status.code(),
        String::from_utf8_lossy(&run(&["check"], &dir).stderr).to_string(),
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("larger than the 16 MB"), "{out}");
}

/// A rule body of one `if` and `n - 1` `else if`s.
fn else_if_chain(n: usize) -> Vec<u8> {
    let mut s = String::from(
        "document besluit { bedrag: money }\nrule keten on decision.received {\n  if decision.body == \"b0\" { queue besluit reason \"0\" }\n",
    );
    for i in 1..n {
        s.push_str(&format!(
            "  else if decision.body == \"b{i}\" {{ queue besluit reason \"{i}\" }}\n"
        ));
    }
    s.push_str("}\n");
    s.into_bytes()
}

#[test]
fn long_else_if_chains() {
    // 1,000 and 5,000 branches overflowed the stack; 20,000 gave a bogus syntax error.
    // Up to the limit a chain checks as any rule; past it, one clear P0002.
    let (code, out) = survive("chain-128", &else_if_chain(128));
    assert!(!out.contains("P0002") && !out.contains("P0001"), "{out}");
    assert!(matches!(code, Some(0 | 1)), "{out}");
    for n in [129, 1_000, 5_000, 20_000] {
        let (code, out) = survive(&format!("chain-{n}"), &else_if_chain(n));
        assert_eq!(code, Some(1), "{n}: {out}");
        assert!(
            out.contains("P0002")
                && out.contains("nested more than 128 deep")
                && !out.contains("P0001"),
            "{n}: {out}"
        );
    }
}
