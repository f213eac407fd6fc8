//! The formatter: a conservative, comment-keeping layout of Paraaf source. Indentation
//! follows bracket depth (two spaces), runs of blanks between tokens become one space,
//! spaces just inside brackets and before `,` go, one space follows a `,` and a `:`,
//! operators (`=`, `==`, `!=`, `<=`, `>=`, `~=`, `<`, `>`, `+`, `->`) stand between
//! single spaces and so does the `:` of a `step`, a space goes before `{` and between `}`
//! and a word after it (`} else`); trailing blanks go, at most one empty
//! line in a row, one line end at the end. Lines end as the file's first line does
//! (`\n`, `\r\n` or `\r`). Tokens, comments and strings are kept as written, so
//! formatting never changes meaning; formatting twice changes nothing.

use super::line_ends::{self, LineEnd};

/// Formats `text`.
pub fn format(text: &str) -> String {
    let eol = LineEnd::of(text).as_str();
    let mut out = String::new();
    let mut stack: Vec<char> = Vec::new();
    let mut blank_run = 0;
    let mut in_block_start = true;
    let mut prev_code = String::new();
    for raw in line_ends::lines(text) {
        let line = normalise_line(raw.trim());
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        // A definition keyword at the start of a line always starts at the margin, even
        // after an unclosed bracket: that is where the parser resumes after an error.
        let top_level = TOP_LEVEL
            .iter()
            .any(|kw| line.starts_with(kw) && line[kw.len()..].starts_with(' '));
        if top_level {
            stack.clear();
        }
        let closes = line
            .chars()
            .take_while(|c| matches!(c, '}' | ')' | ']'))
            .count();
        let indent = stack.len().saturating_sub(closes)
            + usize::from(closes == 0 && !top_level && continues(&prev_code, &line, &stack));
        if blank_run > 0 && !out.is_empty() && !in_block_start && closes == 0 {
            out.push_str(eol);
        }
        blank_run = 0;
        out.push_str(&"  ".repeat(indent));
        out.push_str(&line);
        out.push_str(eol);
        for (kind, tok) in tokens(&line) {
            if kind == Tok::Punct {
                match tok {
                    "{" | "(" | "[" => stack.push(tok.chars().next().unwrap_or('{')),
                    "}" | ")" | "]" => {
                        stack.pop();
                    }
                    _ => {}
                }
            }
        }
        let code = code_part(&line);
        if !code.is_empty() {
            prev_code = code;
        }
        in_block_start = line.ends_with('{') || line.ends_with('(') || line.ends_with('[');
    }
    out
}

/// Keywords that start a top-level definition.
const TOP_LEVEL: &[&str] = &["document", "substitutes", "group", "agency", "flow", "rule"];

/// The line without its trailing comment.
fn code_part(line: &str) -> String {
    tokens(line)
        .into_iter()
        .filter(|(k, _)| *k != Tok::Comment)
        .map(|(_, t)| t)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Whether `line` continues the statement of the previous code line (one extra level).
fn continues(prev: &str, line: &str, stack: &[char]) -> bool {
    const STARTS: &[&str] = &["when ", "by ", "or ", "and ", "with "];
    const ENDS: &[&str] = &["=", "with", "and", "or", "by", "when", "of", "to"];
    if STARTS.iter().any(|s| line.starts_with(s)) {
        return true;
    }
    let in_block = stack.last().is_none_or(|c| *c == '{');
    let word_end =
        |w: &str| prev.ends_with(w) && prev[..prev.len() - w.len()].ends_with([' ', '\t']);
    in_block && (prev.ends_with(',') || prev.ends_with('=') || ENDS.iter().any(|w| word_end(w)))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    Word,
    Str,
    Comment,
    Punct,
    /// An operator, or the `:` of a field or step.
    Op,
    Space,
}

/// The operator at the start of `b`, if any, and its length.
fn operator(b: &[u8]) -> Option<usize> {
    match b {
        [b'=' | b'!' | b'<' | b'>' | b'~', b'=', ..] | [b'-', b'>', ..] => Some(2),
        [b'=' | b'<' | b'>' | b'+' | b':', ..] => Some(1),
        _ => None,
    }
}

/// Splits a line into tokens, keeping strings and comments whole.
fn tokens(line: &str) -> Vec<(Tok, &str)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let kind = match b[i] {
            b' ' | b'\t' => {
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                Tok::Space
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                Tok::Str
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = b.len();
                Tok::Comment
            }
            b'{' | b'}' | b'(' | b')' | b'[' | b']' | b',' => {
                i += 1;
                Tok::Punct
            }
            _ if operator(&b[i..]).is_some() => {
                i += operator(&b[i..]).unwrap_or(1);
                Tok::Op
            }
            _ => {
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t' | b'"' | b'{' | b'}' | b'(' | b')' | b'[' | b']' | b','
                    )
                    && operator(&b[i..]).is_none()
                {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
                        break;
                    }
                    i += 1;
                }
                Tok::Word
            }
        };
        // Stay on char boundaries (multi-byte text inside words).
        while i < b.len() && !line.is_char_boundary(i) {
            i += 1;
        }
        out.push((kind, &line[start..i]));
    }
    out
}

fn normalise_line(line: &str) -> String {
    let toks: Vec<(Tok, &str)> = tokens(line)
        .into_iter()
        .filter(|(k, _)| *k != Tok::Space)
        .collect();
    // Whether blanks stood between token `i - 1` and token `i` in the line as written.
    let spaced: Vec<bool> = {
        let mut v = Vec::new();
        let mut blank = false;
        for (k, _) in tokens(line) {
            if k == Tok::Space {
                blank = true;
            } else {
                v.push(blank);
                blank = false;
            }
        }
        v
    };
    // The `:` of `step NAME :` stands between spaces; that of `field: type` follows its name.
    let step = toks.first().is_some_and(|(_, t)| *t == "step");
    let mut out = String::new();
    for (i, (kind, tok)) in toks.iter().enumerate() {
        if i > 0 {
            let (pk, prev) = toks[i - 1];
            let space = if pk == Tok::Op || *tok == "{" || (prev == "}" && *kind == Tok::Word) {
                true
            } else if *kind == Tok::Op {
                *tok != ":" || step
            } else if *tok == "," || matches!(*tok, ")" | "]") {
                false
            } else if prev == "," {
                true
            } else if matches!(prev, "(" | "[") {
                false
            } else {
                spaced[i]
            };
            if space {
                out.push(' ');
            }
        }
        out.push_str(tok);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn indents_and_keeps_comments() {
        let src = "// head\ndocument d {\n      a:   text   // the a\n\n\n\tb: money?\n}\nflow f for d {\n step s : all {\n sign x\n   }\n}";
        let want = "// head\ndocument d {\n  a: text // the a\n\n  b: money?\n}\nflow f for d {\n  step s : all {\n    sign x\n  }\n}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want);
    }

    #[test]
    fn continuation_lines_are_indented_once() {
        let src = "rule r on invoice.received\nwhen x {\nlet po = match purchase_order\nby a\nor b\nstart f with\na = 1,\nb = 2\n}\ngroup g = people(\na,\nb,\n) shielded\n";
        let want = "rule r on invoice.received\n  when x {\n  let po = match purchase_order\n    by a\n    or b\n  start f with\n    a = 1,\n    b = 2\n}\ngroup g = people(\n  a,\n  b,\n) shielded\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want);
    }

    #[test]
    fn strings_are_untouched() {
        let src = "rule r on invoice.received {\n  queue q reason \"two  spaces { here\"\n}\n";
        assert_eq!(format(src), src);
    }
}
