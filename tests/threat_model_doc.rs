//! docs/operations.md's threat model, held to the code: every attack it says is detected
//! names a test that exists and plays it, every message it quotes is one the code
//! prints, and what it says is not detected stays said (#25 item 9).

use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The section of the operations guide from `## Tamper evidence` to the next `## `.
fn tamper_section() -> String {
    let doc = read(&root().join("docs/operations.md"));
    let start = doc.find("## Tamper evidence").expect("the section");
    let end = doc[start + 3..]
        .find("\n## ")
        .map_or(doc.len(), |i| start + 3 + i);
    doc[start..end].to_string()
}

/// Every Rust source under `dir`, concatenated.
fn sources(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.push_str(&sources(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push_str(&read(&p));
        }
    }
    out
}

#[test]
fn each_detected_attack_names_a_test_that_exists() {
    let section = tamper_section();
    let tests = sources(&root().join("tests"));
    let table: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| attack |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(
        table.len() >= 12,
        "the table of detected attacks: {table:?}"
    );
    for row in table {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 3, "{row}");
        let names: Vec<&str> = cells[2]
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|n| !n.is_empty())
            .collect();
        assert!(!names.is_empty(), "no test named for: {row}");
        for name in names {
            let at = tests
                .find(&format!("fn {name}()"))
                .unwrap_or_else(|| panic!("no test `{name}` for: {}", cells[0]));
            let before = &tests[at.saturating_sub(2000)..at];
            let attribute = before.rfind("#[test]").expect("a #[test] before it");
            assert!(
                !before[attribute..].contains("\nfn "),
                "`{name}` is not a test"
            );
        }
    }
}

/// The text with its line breaks and runs of spaces as single spaces (the guide wraps
/// its sentences).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_messages_it_quotes_are_the_ones_printed() {
    let section = flat(&tamper_section());
    let code = sources(&root().join("runtime/src")) + &sources(&root().join("src"));
    for quote in [
        "is a copy of line",
        "was removed from the checkpoint file",
        "were appended to the log by someone other than its writer",
        "was rewritten under its writer",
        "were appended after the writer closed the log",
        "a torn last line",
        "the signed checkpoint cannot be written",
        "no write is accepted until it can",
        "were adopted on",
        "without a writer's signature",
        "checkpoint chain: line",
        "are of the older format",
        "is not the event the checkpoint signed",
        "differs from the signed checkpoint",
    ] {
        assert!(
            section.contains(quote),
            "the guide no longer says `{quote}`"
        );
        assert!(code.contains(quote), "the code no longer prints `{quote}`");
    }
    // The statuses /health answers.
    for status in [r#"{"status":"degraded"}"#, r#"{"status":"tampered"}"#] {
        assert!(section.contains(status), "{status}");
    }
    for word in ["\"degraded\"", "\"tampered\""] {
        assert!(code.contains(word), "{word}");
    }
}

#[test]
fn what_is_not_detected_stays_said() {
    let section = tamper_section();
    let not = flat(&section[section.find("Not detected:").expect("the list")..]);
    // A rollback is not bounded by any interval: without an anchor it passes however
    // long it is; with one, only back to the newest anchored head.
    assert!(
        not.contains("A rollback without an anchor")
            && not.contains("however many events")
            && not.contains("refused back to the newest anchored head")
            && not.contains("after the newest anchor still is not seen"),
        "{not}"
    );
    assert!(not.contains("holds the signing key"), "{not}");
    assert!(not.contains("crash's own unsigned tail"), "{not}");
    assert!(not.contains("Without a key"), "{not}");
    // "Two intervals" bounds only the crash tail, never a rollback.
    for line in section.lines().filter(|l| l.contains("two intervals")) {
        assert!(!line.to_lowercase().contains("rollback"), "{line}");
    }
}
