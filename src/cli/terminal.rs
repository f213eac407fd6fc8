//! Output of text that people typed (titles, comments, reasons, field values) or that a
//! database holds: control, escape and text-direction characters are shown as
//! `\u{…}`, never sent to the terminal, where they could move the cursor, recolour or
//! reorder what an administrator reads.

use std::borrow::Cow;

/// `s` with every character the runtime refuses in typed text (except line breaks and
/// tabs) written as `\u{XXXX}`.
pub fn escape(s: &str) -> Cow<'_, str> {
    let bad = |c: char| paraaf_runtime::engine::text::forbidden(c, true) || c == '\r';
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if bad(c) {
                    format!("\\u{{{:04X}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `println!` through [`escape`].
macro_rules! say {
    ($($t:tt)*) => {
        println!("{}", $crate::cli::terminal::escape(&format!($($t)*)))
    };
}
pub(crate) use say;

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_would_drive_the_terminal() {
        assert_eq!(super::escape("Aankoop laptops"), "Aankoop laptops");
        assert_eq!(
            super::escape("a\u{1b}[31mb\u{0}c\u{202e}d\u{9b}e\nf"),
            "a\\u{001B}[31mb\\u{0000}c\\u{202E}d\\u{009B}e\nf"
        );
    }
}
