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
        // A line too long to show whole (a condition of thousands of terms on one
        // line) is shown as a window around the span: ariadne prints whole lines, so
        // 2,000 errors on an 18 kB line would print 36 MB.
        let long = std::iter::once(&d.span)
            .chain(d.labels.iter().map(|l| &l.span))
            .any(|s| {
                files
                    .get(&s.file)
                    .is_some_and(|(_, o)| o.line_chars(s.range.start) > MAX_LINE)
            });
        if long {
            let (_, o) = &files[&d.span.file];
            out.extend_from_slice(cropped(d, &files, o).as_bytes());
            continue;
        }
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

/// Lines longer than this (in characters) are shown as a window around the span.
const MAX_LINE: usize = 240;
/// Characters shown either side of a span on a long line.
const CONTEXT: usize = 40;
/// Characters of a span shown on a long line.
const MAX_SPAN: usize = 80;

/// A diagnostic on a line too long to print whole, in the layout ariadne uses.
fn cropped(d: &Diagnostic, files: &BTreeMap<String, (String, Offsets)>, o: &Offsets) -> String {
    use std::fmt::Write;
    let kind = match d.severity {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
    };
    let text = &files[&d.span.file].0;
    let (line, col) = o.line_col(d.span.range.start);
    let start = floor_char_boundary(text, d.span.range.start.min(text.len()));
    let end = floor_char_boundary(text, d.span.range.end.min(text.len())).max(start);
    let line_start = o.starts[line - 1];
    let line_end = text[line_start..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| line_start + i);
    // A span that starts on a line break (the `\n` of a `\r\n`) shows at the line's end.
    let start = start.clamp(line_start, line_end);
    let end = end.clamp(start, line_end);
    let before: Vec<char> = text[line_start..start]
        .chars()
        .rev()
        .take(CONTEXT + 1)
        .collect();
    let span: Vec<char> = text[start..end].chars().take(MAX_SPAN + 1).collect();
    let after: Vec<char> = text[end..line_end].chars().take(CONTEXT + 1).collect();
    let mut shown = String::new();
    if before.len() > CONTEXT {
        shown.push('…');
    }
    shown.extend(before.iter().take(CONTEXT).rev());
    let caret_at = shown.chars().count();
    shown.extend(span.iter().take(MAX_SPAN));
    let carets = span.len().clamp(1, MAX_SPAN);
    if span.len() > MAX_SPAN {
        shown.push('…');
    }
    shown.extend(after.iter().take(CONTEXT));
    if after.len() > CONTEXT {
        shown.push('…');
    }
    let shown: String = shown
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let n = format!(" {line}");
    let pad = " ".repeat(n.len());
    let mut s = String::new();
    let _ = writeln!(s, "[{}] {kind}: {}", d.code, d.message);
    let _ = writeln!(s, "{pad} ,-[ {}:{line}:{col} ]", d.span.file);
    let _ = writeln!(s, "{pad} |");
    let _ = writeln!(s, "{n} | {shown}");
    let _ = writeln!(
        s,
        "{pad} | {}{} {}",
        " ".repeat(caret_at),
        "^".repeat(carets),
        d.code.title()
    );
    for l in &d.labels {
        let (ll, lc) = files
            .get(&l.span.file)
            .map_or((1, 1), |(_, lo)| lo.line_col(l.span.range.start));
        let _ = writeln!(s, "{pad} | note: {}:{ll}:{lc}: {}", l.span.file, l.message);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(s, "{pad} |");
        let _ = writeln!(s, "{pad} | Help: {help}");
    }
    let _ = writeln!(s, "{}'", "-".repeat(pad.len() + 1));
    s
}

/// Byte offsets of a text turned into character offsets and lines, clamped into the text.
struct Offsets {
    /// The character index at each byte that starts a character; `None` for ASCII text,
    /// where both are the same.
    table: Option<Vec<u32>>,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
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
            // `\n`, `\r\n` and a lone `\r` end lines alike, as for ariadne.
            starts: crate::syntax::line_ends::line_starts(text),
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

    /// 1-based line and character column of a byte offset.
    fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.len);
        let line = self.starts.partition_point(|s| *s <= byte).max(1);
        let start = self.starts[line - 1];
        (line, self.char_at(byte) - self.char_at(start) + 1)
    }

    /// Characters on the line that holds a byte offset (without its line break).
    fn line_chars(&self, byte: usize) -> usize {
        let (line, _) = self.line_col(byte);
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map_or(self.len, |e| e - 1);
        self.char_at(end) - self.char_at(start)
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
    // Lines and characters per file, once: 16,000 diagnostics on one line stay linear.
    let mut lines: BTreeMap<String, Offsets> = BTreeMap::new();
    for d in diags {
        for f in std::iter::once(&d.span.file).chain(d.labels.iter().map(|l| &l.span.file)) {
            lines
                .entry(f.clone())
                .or_insert_with(|| Offsets::new(source(f).unwrap_or("")));
        }
    }
    let line_col = |file: &str, offset: usize| -> (usize, usize) {
        lines.get(file).map_or((1, 1), |o| o.line_col(offset))
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
