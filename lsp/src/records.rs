//! Which built-in record a name inside a rule holds — `invoice` in
//! `rule r on invoice.received`, `po` in `let po = match purchase_order by …`, `debt` in
//! `let debt = check debts(…)` — read from the rule's text up to the cursor, so it also
//! holds mid-edit, when the rule does not parse. Completion after `po.` and hover on
//! `debt.social_attest` ask it; the types are the checker's (`check::types`).

use paraaf_compiler::check::types::{EVENTS, MATCH_SOURCES};
use paraaf_compiler::syntax::lexemes::{Lexeme, lexemes};

/// The record type (`invoice`, `purchase_order_match`, `debts`, …) that `name` holds at
/// `offset`, in the rule around it; `None` outside a rule or for another name.
pub fn record_of(text: &str, offset: usize, name: &str) -> Option<&'static str> {
    let offset = offset.min(text.len());
    // The rule: from the last line that starts with `rule ` before the cursor.
    let start = text[..offset]
        .rmatch_indices("rule ")
        .map(|(i, _)| i)
        .find(|i| *i == 0 || matches!(text.as_bytes()[i - 1], b'\n' | b'\r'))?;
    let rule = &text[start..offset];
    // Past the rule: another definition starts at the margin of a later line.
    const TOP: &[&str] = &[
        "document ",
        "substitutes ",
        "group ",
        "agency ",
        "flow ",
        "rule ",
    ];
    if paraaf_compiler::syntax::line_ends::lines(rule)
        .skip(1)
        .any(|l| TOP.iter().any(|k| l.starts_with(k)))
    {
        return None;
    }
    let toks: Vec<(Lexeme, &str)> = lexemes(rule)
        .into_iter()
        .filter(|(k, _)| *k != Lexeme::Comment)
        .map(|(k, r)| (k, &rule[r]))
        .collect();
    let word = |i: usize| toks.get(i).map(|(_, t)| *t).unwrap_or("");
    let mut found = None;
    for i in 0..toks.len() {
        // `on EVENT.NAME` of the rule's header.
        if word(i) == "on" && word(i + 2) == "." {
            let event = format!("{}.{}", word(i + 1), word(i + 3));
            if let Some((_, bound, ty)) = EVENTS.iter().find(|(e, _, _)| *e == event)
                && *bound == name
            {
                found = Some(*ty);
            }
        }
        // `let NAME = match SOURCE` and `let NAME = check debts`.
        if word(i) == "let" && word(i + 1) == name && word(i + 2) == "=" {
            found = match (word(i + 3), word(i + 4)) {
                ("match", src) => MATCH_SOURCES
                    .iter()
                    .find(|(s, _)| *s == src)
                    .map(|(_, ty)| *ty),
                ("check", "debts") => Some("debts"),
                _ => None,
            };
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::record_of;

    #[test]
    fn names_bound_in_a_rule_have_their_record() {
        let text = "rule r on invoice.received {\n  let po = match purchase_order by reference == invoice.order_reference\n  let debt = check debts(invoice.supplier) on invoice.issue_date\n  if po.\n}\nflow f for d {\n";
        let at = text.find("if po.").unwrap() + 6;
        assert_eq!(record_of(text, at, "invoice"), Some("invoice"));
        assert_eq!(record_of(text, at, "po"), Some("purchase_order_match"));
        assert_eq!(record_of(text, at, "debt"), Some("debts"));
        assert_eq!(record_of(text, at, "payment"), None);
        // Before the `let`, `po` is nothing yet; outside a rule nothing is a record.
        assert_eq!(record_of(text, 20, "po"), None);
        assert_eq!(record_of("flow f for d {\n  invoice.", 24, "invoice"), None);
        assert_eq!(
            record_of(text, text.len(), "invoice"),
            None,
            "in the flow after it"
        );
    }
}
