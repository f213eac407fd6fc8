//! The parser's tokens: one pass over the text, whitespace and comments dropped. Literals
//! that the language writes with spaces inside (`8 500 EUR`, `5 workdays`) are one token,
//! so the parser above never looks at characters.

use std::ops::Range;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Letters, digits, `_` and inner dashes, starting with a letter or `_` (ASCII only):
    /// a name or a word of the language.
    Word,
    /// A string in double quotes with valid escapes.
    Str,
    /// `8 500 EUR`; `number` is the span of the amount.
    Money,
    /// `5 workdays`; `number` is the span of the amount.
    Duration,
    /// `2%`; `number` is the span of the amount.
    Percent,
    /// `2026-07-01` (four, two and two digits).
    Date,
    /// Digits with an optional fraction.
    Number,
    /// Punctuation: `{ } ( ) [ ] , : ; = + . ?` and the operators.
    Punct,
    /// Anything else (a stray character, a string that does not end, `5x`): the parser
    /// stops at it; `number` is where the text stops making sense.
    Unknown,
}

/// One token: its kind and span (for literals, also the span of the amount).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// Where it is.
    pub span: Range<usize>,
    /// The amount of a money, duration or percentage literal; for `Unknown`, where the
    /// text stops making sense (an error points there).
    pub number: Range<usize>,
}

/// Whitespace between tokens: ASCII and the spaces office software pastes (no-break,
/// narrow no-break, thin, figure) and a byte-order mark.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{A0}' | '\u{202F}' | '\u{2009}' | '\u{2007}' | '\u{FEFF}'
    )
}

/// A space inside a grouped number or between an amount and its unit.
pub fn is_group_sep(c: char) -> bool {
    matches!(c, ' ' | '\u{A0}' | '\u{202F}' | '\u{2009}')
}

/// Whether the word character at `i` continues a word: letters, digits, `_`, and a dash
/// followed by one of those.
pub fn word_continues(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => true,
        Some(b'-') => b
            .get(i + 1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_'),
        _ => false,
    }
}

/// The tokens of `text`. Never fails and costs one pass.
pub fn tokens(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        if is_space(c) {
            i += c.len_utf8();
            continue;
        }
        if text[i..].starts_with("//") {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
            continue;
        }
        let start = i;
        let tok = |kind, end: usize, number: Range<usize>| Token {
            kind,
            span: start..end,
            number,
        };
        let t = match c {
            '"' => string(text, start),
            '0'..='9' => number(text, start),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut e = start + 1;
                while word_continues(b, e) {
                    e += 1;
                }
                tok(Kind::Word, e, start..start)
            }
            _ => {
                let two = text.get(start..start + 2).unwrap_or("");
                if matches!(two, "==" | "!=" | "<=" | ">=" | "~=" | "->") {
                    tok(Kind::Punct, start + 2, start..start)
                } else if "{}()[],:;=+.?<>".contains(c) {
                    tok(Kind::Punct, start + 1, start..start)
                } else {
                    let e = start + c.len_utf8();
                    tok(Kind::Unknown, e, start..start)
                }
            }
        };
        i = t.span.end.max(start + 1);
        while !text.is_char_boundary(i) {
            i += 1;
        }
        out.push(t);
    }
    out
}

/// A string from the quote at `start`: up to the closing quote, or `Unknown` when it
/// does not close on its line or holds an escape that is not `\" \\ \n \t \u{…}`.
fn string(text: &str, start: usize) -> Token {
    let b = text.as_bytes();
    let mut i = start + 1;
    let bad = |at: usize, end: usize| Token {
        kind: Kind::Unknown,
        span: start..end,
        number: at..at,
    };
    loop {
        match b.get(i) {
            None => return bad(i, i),
            Some(b'"') => {
                return Token {
                    kind: Kind::Str,
                    span: start..i + 1,
                    number: start + 1..i,
                };
            }
            Some(b'\n') => return bad(i, i),
            Some(b'\\') => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'n' | b't') => i += 2,
                Some(b'u') if b.get(i + 2) == Some(&b'{') => {
                    let hex = b[i + 3..]
                        .iter()
                        .take(7)
                        .take_while(|c| c.is_ascii_hexdigit())
                        .count();
                    if (1..=6).contains(&hex) && b.get(i + 3 + hex) == Some(&b'}') {
                        i += 4 + hex;
                    } else {
                        let end = line_end(text, i);
                        return bad(i + 3 + hex.min(6), end);
                    }
                }
                _ => {
                    let end = line_end(text, i);
                    return bad(i + 1, end);
                }
            },
            Some(_) => i += 1,
        }
    }
}

fn line_end(text: &str, from: usize) -> usize {
    from + text[from..].find('\n').unwrap_or(text.len() - from)
}

/// Digits from `start`, as the grammar tries them: money, then a duration, a
/// percentage, a date, a plain number (`Unknown` if none fits, as in `5x`).
fn number(text: &str, start: usize) -> Token {
    let b = text.as_bytes();
    let digits = |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    // `1234.5`: digits with an optional fraction.
    let decimal = |from: usize| {
        let e = digits(from);
        if b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
            digits(e + 1)
        } else {
            e
        }
    };
    let seps = |from: usize| {
        let mut e = from;
        while let Some(c) = text[e..].chars().next().filter(|c| is_group_sep(*c)) {
            e += c.len_utf8();
        }
        e
    };
    let tok = |kind, end: usize, number: Range<usize>| Token {
        kind,
        span: start..end,
        number,
    };
    let plain = decimal(start);
    // Money: `8 500` (groups of three) or a plain decimal, spaces, `EUR`.
    let grouped = {
        let head = start
            + b[start..]
                .iter()
                .take(3)
                .take_while(|c| c.is_ascii_digit())
                .count();
        let mut e = head;
        let mut groups = 0;
        loop {
            let s = seps_one(text, e);
            if s > e && digits(s) >= s + 3 {
                e = s + 3;
                groups += 1;
            } else {
                break;
            }
        }
        if groups == 0 {
            None
        } else if b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
            Some(digits(e + 1))
        } else {
            Some(e)
        }
    };
    let amount = grouped.unwrap_or(plain);
    let after = seps(amount);
    if text[after..].starts_with("EUR") && !word_continues(b, after + 3) {
        return tok(Kind::Money, after + 3, start..amount);
    }
    // A duration: a decimal, at least one space, a unit.
    let after = seps(plain);
    if after > plain {
        for unit in ["workdays", "workday", "days", "day"] {
            if text[after..].starts_with(unit) {
                if !word_continues(b, after + unit.len()) {
                    return tok(Kind::Duration, after + unit.len(), start..plain);
                }
                break;
            }
        }
    }
    if b.get(plain) == Some(&b'%') {
        return tok(Kind::Percent, plain + 1, start..plain);
    }
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if (0..4).all(|k| d(start + k))
        && b.get(start + 4) == Some(&b'-')
        && d(start + 5)
        && d(start + 6)
        && b.get(start + 7) == Some(&b'-')
        && d(start + 8)
        && d(start + 9)
    {
        return tok(Kind::Date, start + 10, start..start + 10);
    }
    if word_continues(b, plain) {
        return tok(Kind::Unknown, plain, plain..plain);
    }
    tok(Kind::Number, plain, start..plain)
}

/// Past one group separator at `at`, or `at`.
fn seps_one(text: &str, at: usize) -> usize {
    match text[at..].chars().next() {
        Some(c) if is_group_sep(c) => at + c.len_utf8(),
        _ => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokens(text)
            .into_iter()
            .map(|t| (t.kind, &text[t.span]))
            .collect()
    }

    #[test]
    fn literals_with_spaces_are_one_token() {
        assert_eq!(
            kinds("8 500 EUR 5 workdays 2% 2026-07-01 3.5 a-b.c -> \"x\\\"y\" // c\n5x"),
            vec![
                (Kind::Money, "8 500 EUR"),
                (Kind::Duration, "5 workdays"),
                (Kind::Percent, "2%"),
                (Kind::Date, "2026-07-01"),
                (Kind::Number, "3.5"),
                (Kind::Word, "a-b"),
                (Kind::Punct, "."),
                (Kind::Word, "c"),
                (Kind::Punct, "->"),
                (Kind::Str, "\"x\\\"y\""),
                (Kind::Unknown, "5"),
                (Kind::Word, "x"),
            ]
        );
    }
}
