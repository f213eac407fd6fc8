//! Rendering diagnostics for people (ariadne) and machines (JSON).

use super::{Diagnostic, Severity};
use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Renders diagnostics as annotated source excerpts. `source` returns a file's text
/// by the name used in the diagnostic's spans.
pub fn render_text<'a>(
    diags: &[Diagnostic],
    source: impl Fn(&str) -> Option<&'a str>,
    color: bool,
) -> String {
    let mut out = Vec::new();
    for d in diags {
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for file in std::iter::once(&d.span.file).chain(d.labels.iter().map(|l| &l.span.file)) {
            let text = source(file).unwrap_or("");
            files.insert(file.clone(), text.to_string());
        }
        let clamp = |file: &str, r: &std::ops::Range<usize>| {
            let len = files.get(file).map_or(0, |t| t.len());
            let start = r.start.min(len);
            start..r.end.clamp(start, len)
        };
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let primary = (d.span.file.clone(), clamp(&d.span.file, &d.span.range));
        let mut report = Report::build(kind, primary.clone())
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Byte)
                    .with_char_set(if color {
                        CharSet::Unicode
                    } else {
                        CharSet::Ascii
                    }),
            )
            .with_code(d.code)
            .with_message(&d.message)
            .with_label(
                Label::new(primary)
                    .with_message(d.code.title())
                    .with_order(-1),
            );
        for l in &d.labels {
            report = report.with_label(
                Label::new((l.span.file.clone(), clamp(&l.span.file, &l.span.range)))
                    .with_message(&l.message),
            );
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        let _ = report.finish().write(ariadne::sources(files), &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Line and column (both 1-based, column in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Serialize)]
struct JsonLocation {
    file: String,
    start: usize,
    end: usize,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    location: JsonLocation,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    location: JsonLocation,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    replacement: &'a str,
    location: JsonLocation,
}

/// Renders diagnostics as a JSON array (one object per diagnostic, with line/column).
/// Fields are only ever added, never renamed or removed.
pub fn render_json<'a>(diags: &[Diagnostic], source: impl Fn(&str) -> Option<&'a str>) -> String {
    let loc = |s: &super::Span| {
        let (line, column) = line_col(source(&s.file).unwrap_or(""), s.range.start);
        JsonLocation {
            file: s.file.clone(),
            start: s.range.start,
            end: s.range.end,
            line,
            column,
        }
    };
    let items: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            message: &d.message,
            location: loc(&d.span),
            labels: d
                .labels
                .iter()
                .map(|l| JsonLabel {
                    message: &l.message,
                    location: loc(&l.span),
                })
                .collect(),
            help: d.help.as_deref(),
            fix: d.fix.as_ref().map(|f| JsonFix {
                replacement: &f.replacement,
                location: loc(&f.span),
            }),
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}
