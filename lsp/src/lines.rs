//! Byte offsets ↔ LSP positions (lines and UTF-16 columns).

use tower_lsp_server::ls_types::{Position, Range};

/// Line starts of a text, and where it is not ASCII: positions are found in O(log n),
/// so a thousand diagnostics on one 20 kB line convert in microseconds, not seconds.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Byte offset of each non-ASCII character, ascending.
    wide: Vec<usize>,
    /// For each entry of `wide`, the bytes minus UTF-16 units of the non-ASCII
    /// characters before it (a prefix sum).
    saved: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        // `\n`, `\r\n` and a lone `\r` end lines alike, as the protocol says.
        let starts = paraaf_compiler::syntax::line_ends::line_starts(text);
        let (mut wide, mut saved) = (Vec::new(), Vec::new());
        if !text.is_ascii() {
            let mut sum = 0;
            for (i, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
                wide.push(i);
                saved.push(sum);
                sum += c.len_utf8() - c.len_utf16();
            }
            saved.push(sum);
        }
        LineIndex {
            text,
            starts,
            wide,
            saved,
        }
    }

    /// Bytes minus UTF-16 units of the characters that start before `offset`.
    fn saved_before(&self, offset: usize) -> usize {
        if self.wide.is_empty() {
            return 0;
        }
        self.saved[self.wide.partition_point(|w| *w < offset)]
    }

    /// The position of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = (end - start) - (self.saved_before(end) - self.saved_before(start));
        Position::new(line as u32, col as u32)
    }

    /// The range of a byte range.
    pub fn range(&self, r: &std::ops::Range<usize>) -> Range {
        Range::new(self.position(r.start), self.position(r.end))
    }

    /// The byte offset of a position (clamped to the text). One per request: linear in
    /// the line is fine here.
    pub fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return self.text.len();
        };
        let mut col = 0u32;
        for (i, c) in self.text[start..].char_indices() {
            if col >= p.character || c == '\n' || c == '\r' {
                return start + i;
            }
            col += c.len_utf16() as u32;
        }
        self.text.len()
    }
}

/// The word around `offset` as the parser reads it (a token of
/// `paraaf_compiler::syntax::parse::tokens`), with its byte range: used only where the
/// tree has no name there (an item that does not parse).
pub fn name_token_at(text: &str, offset: usize) -> Option<(String, std::ops::Range<usize>)> {
    use paraaf_compiler::syntax::parse::tokens::{Kind, tokens};
    tokens(text)
        .into_iter()
        .take_while(|t| t.span.start <= offset)
        .find(|t| t.kind == Kind::Word && t.span.start <= offset && offset <= t.span.end)
        .map(|t| (text[t.span.clone()].to_string(), t.span))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index agrees with counting UTF-16 units one character at a time.
    #[test]
    fn positions_match_a_character_count() {
        let text = "ab\u{a0}c 🙂 é\nx\u{202f}y🙂🙂z\n\nlast é";
        let lines = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            let mut end = offset.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let line = text[..end].matches('\n').count();
            let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
            let col: usize = text[start..end].chars().map(char::len_utf16).sum();
            assert_eq!(
                lines.position(offset),
                Position::new(line as u32, col as u32),
                "offset {offset}"
            );
            if text.is_char_boundary(offset) {
                assert_eq!(lines.offset(lines.position(offset)), offset);
            }
        }
    }

    /// `\r\n` and a lone `\r` end lines as `\n` does.
    #[test]
    fn every_line_end_starts_a_line() {
        for text in ["ab\ncd\n", "ab\r\ncd\r\n", "ab\rcd\r"] {
            let lines = LineIndex::new(text);
            let c = text.find('c').unwrap();
            assert_eq!(lines.position(c), Position::new(1, 0), "{text:?}");
            assert_eq!(lines.offset(Position::new(1, 1)), c + 1, "{text:?}");
            // A column past the end of the first line stops before its line end.
            assert_eq!(lines.offset(Position::new(0, 9)), 2, "{text:?}");
        }
    }
}
