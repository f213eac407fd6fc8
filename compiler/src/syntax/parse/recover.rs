//! Where an item ends (for recovery) and what a syntax error says: the place the parser
//! got furthest, what it expected there in words, and a help line.

use super::tokens::{Kind, Token};
use super::{Parser, Stop, TOP_LEVEL};
use crate::diagnostics::{Code, Diagnostic, Span};

/// Whether `word` is a word of the language (never a name).
pub(super) fn is_keyword(word: &str) -> bool {
    crate::syntax::keywords::meaning(word).is_some()
}

/// The first char boundary at or after `i` (or the end of the text).
pub(super) fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i.min(text.len())
}

/// Whether `t` starts a definition at the start of a line (after indentation): a
/// top-level keyword followed by a space. A broken item ends there.
fn starts_item(text: &str, t: &Token) -> bool {
    let word = &text[t.span.clone()];
    if t.kind != Kind::Word
        || !TOP_LEVEL.contains(&word)
        || !text[t.span.end..].starts_with(char::is_whitespace)
    {
        return false;
    }
    let line_start = text[..t.span.start].rfind('\n').map_or(0, |p| p + 1);
    text[line_start..t.span.start]
        .chars()
        .all(|c| matches!(c, ' ' | '\t' | '\u{A0}' | '\u{FEFF}'))
}

/// The token where the item starting at token `i` ends at the latest: the first token
/// on a later line that starts a definition (or the end).
pub(super) fn item_end(text: &str, toks: &[Token], i: usize) -> usize {
    let Some(first) = toks.get(i) else {
        return toks.len();
    };
    let Some(nl) = text[first.span.start..].find('\n') else {
        return toks.len();
    };
    let line_end = first.span.start + nl;
    toks[i + 1..]
        .iter()
        .position(|t| t.span.start > line_end && starts_item(text, t))
        .map_or(toks.len(), |k| i + 1 + k)
}

/// The diagnostic for the item at token `item` (ending before token `end`) that failed.
pub(super) fn syntax_error(p: &Parser, item: usize, end: usize) -> Diagnostic {
    let text = p.text;
    let offset = p.toks.get(item).map_or(text.len(), |t| t.span.start);
    let item_end = p.toks.get(end).map_or(text.len(), |t| t.span.start);
    let pos = ceil_boundary(text, p.fail.at.max(offset));
    let mut expected: Vec<String> = if p.fail.tokens.is_empty() {
        p.fail.things.iter().map(|t| t.to_string()).collect()
    } else {
        p.fail.tokens.iter().map(|t| format!("`{t}`")).collect()
    };
    expected.sort();
    expected.dedup();
    let found: String = text[pos..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .chars()
        .take(30)
        .collect();
    let next_char = text[pos..].chars().next();
    let mut help = None;
    let found_text = match next_char {
        None => "the end of the file".to_string(),
        Some(c) if found.is_empty() || !c.is_ascii() && !c.is_alphanumeric() => {
            format!("{} (U+{:04X})", describe_char(c), c as u32)
        }
        Some(_) => format!("`{found}`"),
    };
    // A name with a letter outside ASCII (`schepen-van-financiën`): suggest the ASCII id.
    let word_start = text[..pos]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '-' || *c == '_')
        .last()
        .map_or(pos, |(i, _)| i);
    let word: String = text[word_start..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .take(200)
        .collect();
    if !word.is_ascii() && word.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
        let ascii = crate::org::ascii_id(&word);
        help = Some(format!(
            "names are written in ASCII letters, digits and dashes: write `{ascii}` (organogram ids are written the same way)"
        ));
    }
    // A word of the language where a name belongs (`flow for besluit`, `step sign :`).
    if help.is_none()
        && expected.iter().any(|e| e == "a name")
        && let Some((span, message, help)) =
            crate::syntax::keywords::keyword_as_name(text, offset, pos, |at| {
                name_missing(p.file, text, offset, item_end, at)
            })
    {
        return Diagnostic::new(Code::SyntaxError, Span::new(p.file, span), message)
            .with_help(help);
    }
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("unexpected {found_text}; expected {}", join_or(&expected))
    };
    let end = (pos + found.len().max(1)).min(text.len().max(pos));
    let help = if let Some(h) = help {
        h
    } else if text[offset..pos].matches('{').count() > text[offset..pos].matches('}').count()
        && (pos >= text.len()
            || TOP_LEVEL.iter().any(|kw| {
                text[pos..].starts_with(kw)
                    && text[pos + kw.len()..].starts_with(char::is_whitespace)
            }))
    {
        "a `{` is not closed: add the missing `}`".to_string()
    } else {
        "see docs/language.md for the syntax of each construct".to_string()
    };
    Diagnostic::new(Code::SyntaxError, Span::new(p.file, pos..end), message).with_help(help)
}

/// Whether the item at `item` (ending at `end`) parses past the word at `at` and the one
/// after it once a name is written in front of it: then a name was left out there
/// (`flow for besluit`).
fn name_missing(file: &str, text: &str, item: usize, end: usize, at: usize) -> bool {
    let word = |from: usize| {
        from + text[from..end]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(end - from)
    };
    let after = word(at);
    let next = after + (text[after..end].len() - text[after..end].trim_start().len());
    let next_end = word(next).max(ceil_boundary(text, next + 1)).min(end);
    let with_name = format!("{}x {}", &text[item..at], &text[at..end]);
    let toks = super::tokens::tokens(&with_name);
    let mut p = Parser::new(file, &with_name, &toks);
    p.start_item(0, toks.len());
    match p.item() {
        Ok(_) => true,
        Err(Stop::Syntax) => p.location + item >= next_end + 2,
        Err(Stop::TooDeep(_)) => false,
    }
}

/// A character that does not show, in words.
fn describe_char(c: char) -> String {
    match c {
        '\u{A0}' => "a no-break space".into(),
        '\u{202F}' => "a narrow no-break space".into(),
        '\u{FEFF}' => "a byte-order mark".into(),
        '\u{200B}' => "a zero-width space".into(),
        '\u{AD}' => "a soft hyphen".into(),
        c if c.is_whitespace() => "a space character".into(),
        c if c.is_control() => "a control character".into(),
        c => format!("`{c}`"),
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}
