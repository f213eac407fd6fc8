//! "Did you mean" suggestions.

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = name.chars().count();
    let limit = (len / 3).max(2);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        // The distance is at least the difference in length: skip the quadratic
        // comparison when that alone is too far (a 1-million-character name).
        .filter(|c| {
            let cl = c.chars().count();
            cl.abs_diff(len) <= limit
                || (c.len() > 3 && (c.starts_with(name) || name.starts_with(*c)))
        })
        .map(|c| {
            let d = if c.chars().count().abs_diff(len) <= limit {
                strsim::damerau_levenshtein(name, c)
            } else {
                usize::MAX
            };
            (d, c)
        })
        .filter(|(d, c)| {
            *d <= limit || (c.len() > 3 && (c.starts_with(name) || name.starts_with(*c)))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}
