//! What people may type into the log: titles, field values, comments and reasons. Text
//! that shows other than it reads (text-direction overrides, invisible characters only),
//! or that a terminal or a page would act on (control characters), is refused.

use super::RuntimeError;

/// Longest comment or refusal reason accepted, in characters (a line break counts one,
/// as a browser's `maxlength` counts it, whether it arrives as LF or CRLF).
pub const MAX_NOTE: usize = 4_000;

/// Whether `c` may not appear in text people type: control characters (except line
/// breaks and tabs where `lines`), text-direction overrides, embeddings and isolates,
/// line and paragraph separators, tag characters, noncharacters, and every other
/// invisible format character (Unicode category Cf: U+200B, U+2060, U+00AD, U+FEFF, ...),
/// except the joiners U+200C and U+200D (emoji sequences, Persian, Indic scripts) and
/// the direction marks that [`misleading_marks`] judges.
pub fn forbidden(c: char, lines: bool) -> bool {
    let u = c as u32;
    (c.is_control() && !(lines && matches!(c, '\n' | '\t' | '\r')))
        || (format_character(c) && !matches!(u, 0x200C | 0x200D | 0x200E | 0x200F | 0x061C))
        || (0x202A..=0x202E).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || u == 0x2028
        || u == 0x2029
        || (0xE0000..=0xE007F).contains(&u)
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
}

/// Whether `c` is a format character (Unicode general category Cf).
pub fn format_character(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.general_category() == GeneralCategory::Format
}

/// Whether `text` holds a direction mark (U+200E, U+200F, U+061C) but no right-to-left
/// letter: in Arabic or Hebrew text such marks place punctuation and numbers, elsewhere
/// they only make text show in another order than it reads (`100\u{200f}-5`).
pub fn misleading_marks(text: &str) -> bool {
    let mark = |c: char| matches!(c as u32, 0x200E | 0x200F | 0x061C);
    let rtl = |c: char| {
        let u = c as u32;
        c.is_alphabetic()
            && ((0x0590..=0x08FF).contains(&u)
                || (0xFB1D..=0xFDFF).contains(&u)
                || (0xFE70..=0xFEFF).contains(&u)
                || (0x10800..=0x10FFF).contains(&u)
                || (0x1E800..=0x1EFFF).contains(&u))
    };
    text.chars().any(mark) && !text.chars().any(rtl)
}

/// Whether `c` shows nothing (spaces, zero-width and joining characters, variation
/// selectors, fillers, the soft hyphen).
pub fn invisible(c: char) -> bool {
    let u = c as u32;
    c.is_whitespace()
        || (0x200B..=0x200F).contains(&u)
        || (0x2060..=0x206F).contains(&u)
        || (0xFE00..=0xFE0F).contains(&u)
        || (0xE0100..=0xE01EF).contains(&u)
        || matches!(
            u,
            0x00AD
                | 0x034F
                | 0x061C
                | 0x115F
                | 0x1160
                | 0x17B4
                | 0x17B5
                | 0x180E
                | 0x3164
                | 0xFEFF
                | 0xFFA0
        )
}

/// A comment or reason: something visible, at most [`MAX_NOTE`] characters, nothing
/// [`forbidden`], no carriage return but in CRLF.
pub fn check_note(what: &str, text: &str) -> Result<(), RuntimeError> {
    let mut chars = text.chars().peekable();
    let mut count = 0usize;
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() != Some(&'\n') {
                return Err(RuntimeError::Invalid(format!(
                    "{what} contains a carriage return without a line feed"
                )));
            }
            continue;
        }
        if forbidden(c, true) {
            return Err(RuntimeError::Invalid(format!(
                "{what} contains a control, text-direction or invisible formatting character (U+{:04X})",
                c as u32
            )));
        }
        count += 1;
    }
    if misleading_marks(text) {
        return Err(RuntimeError::Invalid(format!(
            "{what} contains a text-direction mark (U+200E, U+200F or U+061C) but no right-to-left text"
        )));
    }
    if count > MAX_NOTE {
        return Err(RuntimeError::Invalid(format!(
            "{what} is longer than {MAX_NOTE} characters"
        )));
    }
    if text.chars().all(invisible) {
        return Err(RuntimeError::Invalid(format!("{what} is empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_counted_as_a_browser_counts_them() {
        let lines = vec!["b".repeat(399); 9].join("\r\n") + "\r\n" + &"b".repeat(400);
        assert_eq!(lines.replace("\r\n", "\n").chars().count(), 4000);
        assert!(check_note("x", &lines).is_ok());
        assert!(check_note("x", &("a".repeat(4000) + "b")).is_err());
        assert!(check_note("x", &"é".repeat(4000)).is_ok());
    }

    #[test]
    fn what_shows_other_than_it_reads_is_refused() {
        for bad in [
            "a\u{0}b",
            "a\u{1b}[31m",
            "x\u{202e}gnp.exe",
            "\u{2066}x",
            "a\rb",
            "a\u{2028}b",
            "tag\u{e0041}",
            "\u{fffe}",
            "\u{200d}\u{200d}\u{200d}",
            "\u{3164}",
            " \u{fe0f} ",
            "\u{feff}",
            "100\u{200f}-5 EUR",
            "Akkoord\u{200e}",
            "a\u{61c}b",
            "Akkoord\u{200b}",
            "Ak\u{2060}koord",
            "Ak\u{ad}koord",
            "\u{feff}Akkoord",
            "x\u{180e}y",
            "x\u{2061}y",
            "x\u{fff9}y",
            "x\u{1d173}y",
            "x\u{e0001}y",
        ] {
            assert!(check_note("x", bad).is_err(), "{bad:?}");
        }
        for good in [
            "Akkoord.",
            "Zie bijlage\r\nen de nota",
            "مرحبا \u{200f}",
            "👍",
            "e\u{301}",
            "👨\u{200d}👩\u{200d}👧",
            "می\u{200c}خواهم",
        ] {
            assert!(check_note("x", good).is_ok(), "{good:?}");
        }
    }
}
