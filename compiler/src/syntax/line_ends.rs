//! Line ends as editors and old systems write them: `\n` (Unix), `\r\n` (Windows) and a
//! lone `\r` (classic Mac OS, some exports). The compiler reads all three alike; the
//! formatter writes a file back with the line end it came with.

use std::borrow::Cow;

/// One way of ending lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnd {
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// A lone `\r`.
    Cr,
}

impl LineEnd {
    /// The characters of this line end.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnd::Lf => "\n",
            LineEnd::CrLf => "\r\n",
            LineEnd::Cr => "\r",
        }
    }

    /// The line end of `text`: that of its first line (`\n` for a single line).
    pub fn of(text: &str) -> LineEnd {
        let b = text.as_bytes();
        match b.iter().position(|c| *c == b'\n' || *c == b'\r') {
            Some(i) if b[i] == b'\n' => LineEnd::Lf,
            Some(i) if b.get(i + 1) == Some(&b'\n') => LineEnd::CrLf,
            Some(_) => LineEnd::Cr,
            None => LineEnd::Lf,
        }
    }
}

/// `text` with every lone `\r` made a `\n`. Byte offsets do not move (one byte for one),
/// so spans found in the result are spans of `text`; `\r\n` stays as it is (the `\r`
/// is whitespace before the `\n`).
pub fn lone_cr_as_lf(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let lone = |i: usize| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n');
    if !(0..b.len()).any(lone) {
        return Cow::Borrowed(text);
    }
    let mut out = b.to_vec();
    for (i, c) in out.iter_mut().enumerate() {
        if *c == b'\r' && b.get(i + 1) != Some(&b'\n') {
            *c = b'\n';
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// The byte offset where each line of `text` starts (the first is 0), whatever ends
/// its lines.
pub fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    for (i, c) in b.iter().enumerate() {
        if *c == b'\n' || (*c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// The lines of `text` without their line ends (`\n`, `\r\n` or `\r`), as
/// [`str::lines`] gives them for `\n` and `\r\n`.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let starts = line_starts(text);
    let n = starts.len();
    (0..n).filter_map(move |k| {
        let start = starts[k];
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        if k + 1 == n && start == text.len() {
            return None; // nothing after the last line end
        }
        let line = &text[start..end];
        Some(
            line.strip_suffix("\r\n")
                .or_else(|| line.strip_suffix('\n'))
                .or_else(|| line.strip_suffix('\r'))
                .unwrap_or(line),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_line_ends_read_alike() {
        for text in ["a\nbc\n\nd", "a\r\nbc\r\n\r\nd", "a\rbc\r\rd"] {
            assert_eq!(
                lines(text).collect::<Vec<_>>(),
                ["a", "bc", "", "d"],
                "{text:?}"
            );
            let starts = line_starts(text);
            assert_eq!(starts.len(), 4, "{text:?}");
            assert_eq!(&text[starts[1]..starts[1] + 2], "bc");
            assert_eq!(lone_cr_as_lf(text).len(), text.len());
        }
        assert_eq!(lines("a\n").collect::<Vec<_>>(), ["a"]);
        assert_eq!(lines("").count(), 0);
        assert_eq!(lone_cr_as_lf("a\rb\r\nc"), "a\nb\r\nc");
        assert_eq!(LineEnd::of("a\r\nb\n"), LineEnd::CrLf);
        assert_eq!(LineEnd::of("a\rb"), LineEnd::Cr);
        assert_eq!(LineEnd::of("a\nb\r\n"), LineEnd::Lf);
        assert_eq!(LineEnd::of("a"), LineEnd::Lf);
    }
}
