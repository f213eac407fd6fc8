//! Values as the city writes them: amounts of money in euro with Belgian separators.

use crate::i18n::Lang;

/// An amount of money as people read it: `€ 12 000,00` in Dutch (a no-break space
/// between thousands, a decimal comma), `€12,000.00` in English. `None` when `text` is
/// not a plain decimal number (then it is shown as it was sent).
pub fn money(text: &str, lang: Lang) -> Option<String> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, cents) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 15 || !ok(whole) || !ok(cents) || cents.len() > 2 {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let cents = format!("{cents:0<2}");
    let (group, decimal, sign_space) = match lang {
        Lang::Nl => ('\u{a0}', ',', "\u{a0}"),
        Lang::En => (',', '.', ""),
    };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let minus = if negative { "-" } else { "" };
    Some(format!("{minus}€{sign_space}{grouped}{decimal}{cents}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_belgian_dutch_and_in_english() {
        let nl = |t| money(t, Lang::Nl).map(|s| s.replace('\u{a0}', " "));
        assert_eq!(nl("12000").as_deref(), Some("€ 12 000,00"));
        assert_eq!(nl("8500.5").as_deref(), Some("€ 8 500,50"));
        assert_eq!(nl("1234567.89").as_deref(), Some("€ 1 234 567,89"));
        assert_eq!(nl("999").as_deref(), Some("€ 999,00"));
        assert_eq!(nl("0.07").as_deref(), Some("€ 0,07"));
        assert_eq!(nl("-40").as_deref(), Some("-€ 40,00"));
        assert_eq!(money("12000", Lang::En).as_deref(), Some("€12,000.00"));
        for bad in ["", "12a", "1.234", "1,5", "--1", ".5", "1e5"] {
            assert_eq!(money(bad, Lang::Nl), None, "{bad}");
        }
    }
}
