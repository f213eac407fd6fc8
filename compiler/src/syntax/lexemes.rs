//! The one lexical view of source text that holds whatever the text is, also mid-edit
//! when it does not parse: strings, comments, numbers, words and punctuation. The
//! language server asks it whether the cursor is in a comment or string, and colours
//! keywords, strings, numbers and comments by it. (The parser has its own tokens,
//! `parse::tokens`, which read literals such as `8 500 EUR` as one token.) What a *name*
//! denotes is never decided here: that is the resolver's.

use std::ops::Range;

/// What a stretch of source text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lexeme {
    /// A string literal, quotes included (an unterminated one ends at the line end).
    Str,
    /// `//` to the end of the line.
    Comment,
    /// Digits (and dots).
    Number,
    /// A word: letters, digits, `_` and `-` (letters beyond ASCII included, so `éif`
    /// is one word and no `if`).
    Word,
    /// One punctuation character (a bracket, an operator); whitespace is skipped.
    Punct,
}

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80
}

/// The lexemes of `text`, in order. Never fails and costs one pass, whatever the text.
pub fn lexemes(text: &str) -> Vec<(Lexeme, Range<usize>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' && b[i] != b'\r' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.push((Lexeme::Str, start..i));
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                out.push((Lexeme::Comment, start..i));
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                out.push((Lexeme::Number, start..i));
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && word_byte(b[i]) {
                    i += 1;
                }
                // A run of non-ASCII bytes that are not letters (a no-break space, an
                // emoji) is no word.
                let w = &text[start..ceil(text, i)];
                if w.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                {
                    out.push((Lexeme::Word, start..ceil(text, i)));
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                out.push((Lexeme::Punct, start..i));
            }
        }
        i = ceil(text, i);
    }
    out
}

fn ceil(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i.min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_splits_into_lexemes() {
        let text = "if x == \"a // b\" { // note\n  naïef-1 9.5 }\u{a0}🙂 \"open";
        let got: Vec<(Lexeme, &str)> = lexemes(text)
            .into_iter()
            .map(|(k, r)| (k, &text[r]))
            .collect();
        assert_eq!(
            got,
            vec![
                (Lexeme::Word, "if"),
                (Lexeme::Word, "x"),
                (Lexeme::Punct, "="),
                (Lexeme::Punct, "="),
                (Lexeme::Str, "\"a // b\""),
                (Lexeme::Punct, "{"),
                (Lexeme::Comment, "// note"),
                (Lexeme::Word, "naïef-1"),
                (Lexeme::Number, "9.5"),
                (Lexeme::Punct, "}"),
                (Lexeme::Str, "\"open"),
            ]
        );
    }
}
