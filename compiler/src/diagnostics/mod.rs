//! Diagnostics: one internal type feeds the terminal renderer, JSON and (later) the LSP.

mod ci_formats;
mod codes;
mod render;

pub use ci_formats::{
    DEFAULT_DOCS_URL, Finding, docs_url, render_findings_github, render_findings_sarif,
    render_github, render_sarif, repo_path,
};
pub use codes::Code;
pub use render::{render_json, render_text};

use serde::Serialize;
use std::ops::Range;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a check.
    Warning,
    /// The project cannot be compiled.
    Error,
}

/// A location: a file (as named in the project) and a byte range in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    /// Path of the file relative to the project root (or as given).
    pub file: String,
    /// Byte range in the file's text.
    pub range: Range<usize>,
}

impl Span {
    /// A span in `file` covering `range`.
    pub fn new(file: impl Into<String>, range: Range<usize>) -> Span {
        Span {
            file: file.into(),
            range,
        }
    }
}

/// A secondary location with its own message ("defined here").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it.
    pub message: String,
}

/// A machine-applicable edit that fixes the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Fix {
    /// Text to replace.
    pub span: Span,
    /// Replacement text.
    pub replacement: String,
}

/// One finding about the project, with a stable code and a primary span.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// Stable code (`P0xxx`).
    pub code: Code,
    /// Error or warning (derived from the code).
    pub severity: Severity,
    /// What is wrong, in words an administrator understands.
    pub message: String,
    /// Where it is wrong.
    pub span: Span,
    /// Related locations.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
    /// An edit that fixes it, when there is exactly one obvious fix.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A diagnostic with `code` at `span`.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            span,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a related location.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds an automatic fix.
    pub fn with_fix(mut self, span: Span, replacement: impl Into<String>) -> Diagnostic {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        self
    }

    /// Whether this is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position and code, the order every output uses.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.span.file, a.span.range.start, a.code, &a.message).cmp(&(
            &b.span.file,
            b.span.range.start,
            b.code,
            &b.message,
        ))
    });
}
