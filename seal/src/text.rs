//! Text on the appended pages: the standard Helvetica fonts with WinAnsiEncoding (every
//! PDF reader has them, nothing is embedded), so names with accents (é, ë, ç) print.

use lopdf::content::Operation;
use lopdf::{Dictionary, Object, StringFormat};

/// The font resource name of regular text on pages Paraaf adds or stamps.
pub(crate) const REGULAR: &str = "ParaafF1";
/// The font resource name of bold text.
pub(crate) const BOLD: &str = "ParaafF2";

/// A standard Type 1 font dictionary with WinAnsiEncoding.
pub(crate) fn font(base: &str) -> Dictionary {
    let mut d = Dictionary::new();
    d.set("Type", Object::Name(b"Font".to_vec()));
    d.set("Subtype", Object::Name(b"Type1".to_vec()));
    d.set("BaseFont", Object::Name(base.as_bytes().to_vec()));
    d.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
    d
}

/// `text` in WinAnsiEncoding (Windows-1252); characters it lacks become `?`.
pub(crate) fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Splits `text` into lines of at most `width` characters, at spaces where possible.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let extra = if line.is_empty() { 0 } else { 1 };
        if line.chars().count() + extra + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The operations that show `text` at (`x`, `y`) in font `font` of `size` points.
pub(crate) fn show(font: &str, size: f32, x: f32, y: f32, text: &str) -> Vec<Operation> {
    vec![
        Operation::new("BT", vec![]),
        Operation::new(
            "Tf",
            vec![Object::Name(font.as_bytes().to_vec()), size.into()],
        ),
        Operation::new("Td", vec![x.into(), y.into()]),
        Operation::new(
            "Tj",
            vec![Object::String(win_ansi(text), StringFormat::Literal)],
        ),
        Operation::new("ET", vec![]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_win_ansi_and_others_a_question_mark() {
        assert_eq!(win_ansi("Zoë €5 – ok"), b"Zo\xeb \x805 \x96 ok".to_vec());
        assert_eq!(win_ansi("名"), b"?".to_vec());
    }

    #[test]
    fn wrap_keeps_every_word_and_the_width() {
        let text = "de burgemeester van de stad Aalst tekende dit besluit met een zeer-lang-woord-zonder-spaties-erin";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
        assert_eq!(wrap("", 20), vec![String::new()]);
    }
}
