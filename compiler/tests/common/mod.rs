//! Shared helpers of the compiler's tests.
#![allow(dead_code)]

use paraaf_compiler::db::{Database, project_diagnostics};
use paraaf_compiler::diagnostics::{Diagnostic, render_text};
use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
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
