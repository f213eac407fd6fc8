//! Shared helpers of the compiler's tests.
#![allow(dead_code)]

use paraaf_compiler::db::{Database, project_diagnostics};
use paraaf_compiler::diagnostics::Severity;
use paraaf_compiler::diagnostics::{Diagnostic, render_text};
use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.paraaf` file of the examples (path, text), sorted: seeds and fixtures.
pub fn example_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in [
        "examples/aalst/flows",
        "examples/hasselt/rules",
        "examples/broken",
    ] {
        for e in std::fs::read_dir(root().join(dir))
            .unwrap()
            .filter_map(Result::ok)
        {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "paraaf") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The small organogram of `examples/broken/`.
pub fn broken_org() -> String {
    std::fs::read_to_string(root().join("examples/broken/org.toml")).expect("broken org")
}

/// Checks one source text against the `examples/broken` organogram.
pub fn diagnostics(src: &str) -> Vec<Diagnostic> {
    let org = broken_org();
    let (db, project) = Database::from_texts(("org.toml", &org), &[("test.paraaf", src)]);
    project_diagnostics(&db, project).clone()
}

/// Renders diagnostics of `src` without colour (org labels included).
pub fn rendered(src: &str, diags: &[Diagnostic]) -> String {
    let org = broken_org();
    render_text(
        diags,
        |f| {
            if f == "org.toml" {
                Some(org.as_str())
            } else {
                Some(src)
            }
        },
        false,
    )
}

/// Checks `src` and compares its diagnostics with the annotations in it.
#[track_caller]
pub fn check_diagnostics(src: &str) {
    let mut expected = Vec::new();
    let mut line_starts = vec![0];
    for (i, c) in src.char_indices() {
        if c == '\n' {
            line_starts.push(i + 1);
        }
    }
    let lines: Vec<&str> = src.lines().collect();
    let mut last_code_line = 0;
    for (n, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("//")
            && let Some(caret) = rest.find('^')
        {
            let col = line.len() - trimmed.len() + 2 + caret;
            let carets = rest[caret..].chars().take_while(|c| *c == '^').count();
            let label = rest[caret + carets..].trim();
            let (sev, code) = label.split_once('[').expect("annotation like error[P0003]");
            let code = code.trim_end_matches(']');
            let start = line_starts[last_code_line] + col;
            expected.push((sev.to_string(), code.to_string(), start..start + carets));
            continue;
        }
        last_code_line = n;
    }
    let diags = diagnostics(src);
    let mut actual: Vec<(String, String, std::ops::Range<usize>)> = diags
        .iter()
        .filter(|d| d.span.file == "test.paraaf")
        .map(|d| {
            let sev = if d.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            (sev.to_string(), d.code.to_string(), d.span.range.clone())
        })
        .collect();
    actual.sort_by_key(|a| a.2.start);
    expected.sort_by_key(|a| a.2.start);
    assert_eq!(actual, expected, "\n{}", rendered(src, &diags));
}
