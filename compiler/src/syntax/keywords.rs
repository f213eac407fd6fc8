//! The words of the language (reserved: never a name) and what a syntax error says when
//! one of them stands where a name is expected: either the name before it is missing
//! (`flow for besluit`) or the word was meant as the name (`step sign : …`).

use std::ops::Range;

/// Every reserved word of the language (the parser refuses each as a name), with what it
/// does.
pub const KEYWORDS: &[(&str, &str)] = &[
    (
        "document",
        "starts a document kind, and names the document in a flow",
    ),
    ("substitutes", "declares who stands in for whom"),
    ("group", "defines a group of people"),
    ("flow", "starts a flow"),
    ("rule", "starts a rule"),
    ("agency", "declares an outside agency"),
    ("for", "names the document kind a flow is for"),
    ("when", "starts a condition"),
    ("step", "starts a step of a flow"),
    ("signers", "is the audience of everyone who signs"),
    ("sign", "asks a signature"),
    ("of", "names the unit of a function"),
    ("all", "starts steps signed by all of them"),
    ("any", "starts steps signed by any one of them"),
    ("visible", "starts who may see a document"),
    ("to", "is part of `visible to`, `back to` and `escalate to`"),
    ("on", "starts `on refused` or the event of a rule"),
    ("refused", "is part of `on refused`"),
    ("back", "is part of `back to`"),
    ("deadline", "sets a flow's deadline"),
    ("remind", "is part of a deadline"),
    ("escalate", "is part of a deadline"),
    ("let", "names a value in a rule"),
    ("match", "looks a record up in a rule"),
    (
        "by",
        "is part of `match … by`, `shielded by` and `capped by`",
    ),
    ("if", "starts a condition in a rule"),
    ("else", "is part of `if … else`"),
    ("queue", "puts a document in a queue"),
    ("reason", "is part of `queue … reason`"),
    ("link", "links two records"),
    ("start", "starts a flow from a rule"),
    ("within", "is part of a comparison with a tolerance"),
    ("withhold", "withholds an amount"),
    ("with", "is part of `start … with`"),
    ("capped", "is part of `withhold … capped by`"),
    ("notify", "sends a notification"),
    ("not", "negates a condition"),
    ("and", "joins conditions"),
    ("or", "joins conditions"),
    ("true", "is a truth value"),
    ("false", "is a truth value"),
    ("none", "means a missing value"),
    ("shielded", "keeps documents inside a group"),
    ("people", "lists people in a group"),
    ("unit", "is a type, and an audience (`unit NAME`)"),
    ("in", "tests membership (`x in [..]`, `unit in NAME`)"),
    ("uploader", "is the person who uploaded the document"),
    ("stop", "ends a refused flow"),
    ("check", "is part of `check debts(…)`"),
    ("debts", "is part of `check debts(…)`"),
];

/// What `keyword` does, if it is a reserved word.
pub fn meaning(word: &str) -> Option<&'static str> {
    KEYWORDS.iter().find(|(k, _)| *k == word).map(|(_, m)| *m)
}

/// What a name after `before` names, for the help line (`flow` → "flow"); a name that
/// a colon follows inside a document kind is a field.
fn named_thing(before: &str, field: bool) -> &'static str {
    match before {
        _ if field => "field",
        "flow" | "start" => "flow",
        "rule" => "rule",
        "document" | "for" => "document kind",
        "group" => "group",
        "agency" => "agency",
        "step" => "step",
        "let" => "value",
        "queue" => "queue",
        "match" => "record kind",
        _ => "name",
    }
}

/// A reserved word where the grammar expected a name: its span, the message and a help
/// line naming the likely intent. `pos` is where the parse failed (at the word or just
/// after it), in the item starting at `item`; `name_missing` says whether the item parses
/// further with a name inserted before the word (then the name was left out, rather than
/// spelled as the word).
pub(super) fn keyword_as_name(
    text: &str,
    item: usize,
    pos: usize,
    name_missing: impl Fn(usize) -> bool,
) -> Option<(Range<usize>, String, String)> {
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let start = text[..pos]
        .char_indices()
        .rev()
        .take_while(|(_, c)| word_char(*c))
        .last()
        .map_or(pos, |(i, _)| i);
    let end = pos
        + text[pos..]
            .find(|c: char| !word_char(c))
            .unwrap_or(text.len() - pos);
    let word = &text[start..end];
    let what = meaning(word)?;
    // The word or bracket in front of the keyword: what the name would have named.
    let head = text[..start].trim_end();
    let before = head
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("");
    let field = text[item..].starts_with("document") && text[end..].trim_start().starts_with(':');
    let thing = named_thing(before, field);
    let message = format!("`{word}` is a word of the language, not a name");
    let help = if name_missing(start) {
        let example = if before.chars().all(|c| c.is_ascii_alphabetic()) && !before.is_empty() {
            format!(", e.g. `{before} my-{} {word}`", thing.replace(' ', "-"))
        } else {
            String::new()
        };
        format!("the {thing} has no name: write one before `{word}`{example}")
    } else {
        format!(
            "`{word}` {what}, so it cannot name a {thing}: did you mean `{word}-1`? (or another name of your choice)"
        )
    };
    Some((start..end, message, help))
}
