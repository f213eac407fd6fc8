//! Dates as the language and the runtime write them.

/// Whether `YYYY-MM-DD` names a real calendar day.
pub fn valid_date(text: &str) -> bool {
    let parts: Vec<u32> = text.split('-').filter_map(|p| p.parse().ok()).collect();
    let [y, m, d] = parts[..] else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::valid_date;

    #[test]
    fn calendar_days_only() {
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("1900-02-29"));
        assert!(valid_date("2000-02-29"));
        assert!(!valid_date("2024-04-31"));
        assert!(!valid_date("2024-13-01"));
        assert!(!valid_date("2024-00-10"));
        assert!(!valid_date("2024-01"));
        assert!(!valid_date("2024-01-01-01"));
        assert!(!valid_date(""));
    }
}
