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
    // Every file once (not once per diagnostic: 16,000 errors stay linear), with its
    // byte → character offsets: ariadne counts characters, spans count bytes, and a
    // multi-byte character (a non-breaking space pasted from Word) must never be cut.
    let mut files: BTreeMap<String, (String, Offsets)> = BTreeMap::new();
    for d in diags {
        for file in std::iter::once(&d.span.file).chain(d.labels.iter().map(|l| &l.span.file)) {
            if !files.contains_key(file) {
                let text = source(file).unwrap_or("").to_string();
                let offsets = Offsets::new(&text);
                files.insert(file.clone(), (text, offsets));
            }
        }
    }
    let chars = |file: &str, r: &std::ops::Range<usize>| match files.get(file) {
        Some((_, o)) => o.char_range(r),
        None => 0..0,
    };
    let mut cache = ariadne::sources(files.iter().map(|(f, (t, _))| (f.clone(), t.clone())));
    let mut out = Vec::new();
    for d in diags {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let primary = (d.span.file.clone(), chars(&d.span.file, &d.span.range));
        let mut report = Report::build(kind, primary.clone())
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Char)
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
                Label::new((l.span.file.clone(), chars(&l.span.file, &l.span.range)))
                    .with_message(&l.message),
            );
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        let _ = report.finish().write(&mut cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Byte offsets of a text turned into character offsets, clamped into the text.
struct Offsets {
    /// The character index at each byte that starts a character; `None` for ASCII text,
    /// where both are the same.
    table: Option<Vec<u32>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let table = (!text.is_ascii()).then(|| {
            let mut t = vec![0u32; text.len() + 1];
            let mut n = 0u32;
            let mut last = 0;
            for (i, _) in text.char_indices() {
                for slot in &mut t[last..=i] {
                    *slot = n;
                }
                last = i + 1;
                n += 1;
            }
            for slot in &mut t[last..] {
                *slot = n;
            }
            t
        });
        Offsets {
            table,
            len: text.len(),
        }
    }

    fn char_at(&self, byte: usize) -> usize {
        let byte = byte.min(self.len);
        match &self.table {
            None => byte,
            Some(t) => t[byte] as usize,
        }
    }

    fn char_range(&self, r: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start = self.char_at(r.start);
        start..self.char_at(r.end).max(start)
    }
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
    // Line starts per file, once: 16,000 diagnostics stay linear.
    let mut lines: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for d in diags {
        for f in std::iter::once(&d.span.file).chain(d.labels.iter().map(|l| &l.span.file)) {
            lines.entry(f.clone()).or_insert_with(|| {
                let text = source(f).unwrap_or("");
                std::iter::once(0)
                    .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect()
            });
        }
    }
    let line_col = |file: &str, offset: usize| -> (usize, usize) {
        let text = source(file).unwrap_or("");
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let starts = lines.get(file).map(Vec::as_slice).unwrap_or(&[0]);
        let line = starts.partition_point(|s| *s <= offset).max(1);
        let start = starts[line - 1].min(offset);
        (line, text[start..offset].chars().count() + 1)
    };
    let loc = |s: &super::Span| {
        let (line, column) = line_col(&s.file, s.range.start);
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
