//! Organogram names in a scenario file rewritten by a migration plan (`org migrate
//! --apply`): each id is replaced where it stands, as the flows are rewritten at the
//! resolver's spans, so comments, layout and every other value stay as they were.
//!
//! What names the organogram in a scenario: `uploader`, `absent`, `may_see`,
//! `may_not_see`, the people of each `route` entry (`STEP: a, b | c`), and the values of
//! the fields whose type is a unit or a person. A scenario's name and steps are words,
//! not names, and are left alone.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// One line the rewrite changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewritten {
    /// The line (1-based).
    pub line: usize,
    /// The line before.
    pub before: String,
    /// The line after.
    pub after: String,
}

/// A scenario file after the rewrite.
#[derive(Clone, Debug, Default)]
pub struct Renamed {
    /// The new text.
    pub text: String,
    /// The lines that changed.
    pub lines: Vec<Rewritten>,
    /// Ids left that the new organogram does not know (line and id: a person who left
    /// without a successor named in the plan).
    pub stale: Vec<(usize, String)>,
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "scenario", default)]
    scenarios: Vec<Names>,
}

/// The values of a scenario that name the organogram, with where they stand.
#[derive(Deserialize)]
struct Names {
    kind: String,
    uploader: Spanned<String>,
    #[serde(default)]
    fields: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    absent: Vec<Spanned<String>>,
    #[serde(default)]
    route: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    may_see: Vec<Spanned<String>>,
    #[serde(default)]
    may_not_see: Vec<Spanned<String>>,
}

/// `text` (a scenario file) with every id `renames` maps rewritten; `known`: whether an
/// id is in the new organogram; `org_field(kind, field)`: whether the field holds a
/// unit or a person.
pub fn rename_in(
    text: &str,
    renames: &BTreeMap<String, String>,
    org_field: impl Fn(&str, &str) -> bool,
    known: impl Fn(&str) -> bool,
) -> Result<Renamed, String> {
    let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut stale = Vec::new();
    // The values that are one id each.
    let mut ids: Vec<&Spanned<String>> = Vec::new();
    for s in &file.scenarios {
        ids.push(&s.uploader);
        ids.extend(s.absent.iter().chain(&s.may_see).chain(&s.may_not_see));
        ids.extend(
            s.fields
                .iter()
                .filter(|(field, _)| org_field(&s.kind, field))
                .map(|(_, v)| v),
        );
        for entry in s.route.iter().flatten() {
            let (new, named) = route_entry(entry.get_ref(), renames);
            if new != *entry.get_ref() {
                edits.push((entry.span(), quote(&new)));
            }
            for id in named.into_iter().filter(|id| !known(id)) {
                stale.push((line_of(entry.span().start), id));
            }
        }
    }
    for v in ids {
        let id = v.get_ref();
        let now = renames.get(id).filter(|to| !to.is_empty()).unwrap_or(id);
        if now != id {
            edits.push((v.span(), quote(now)));
        }
        if !known(now) {
            stale.push((line_of(v.span().start), now.clone()));
        }
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    edits.dedup_by_key(|(r, _)| r.start);
    let mut new = text.to_string();
    for (r, to) in edits {
        if new.get(r.clone()).is_some() {
            new.replace_range(r, &to);
        }
    }
    let changed = text
        .lines()
        .zip(new.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| Rewritten {
            line: i + 1,
            before: a.to_string(),
            after: b.to_string(),
        })
        .collect();
    stale.sort();
    stale.dedup();
    Ok(Renamed {
        text: new,
        lines: changed,
        stale,
    })
}

/// A route entry (`STEP: a, b | c`, or a note such as `(after 10 workdays)`) with its
/// people renamed, and the people it names after the rewrite (`nobody` left out).
fn route_entry(entry: &str, renames: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let Some((step, people)) = entry.split_once(": ") else {
        return (entry.to_string(), Vec::new());
    };
    if entry.starts_with('(') {
        return (entry.to_string(), Vec::new());
    }
    let mut ids = Vec::new();
    let tasks: Vec<String> = people
        .split(" | ")
        .map(|task| {
            task.split(", ")
                .map(|id| {
                    let now = renames
                        .get(id)
                        .filter(|to| !to.is_empty())
                        .map_or(id, String::as_str);
                    if now != "nobody" {
                        ids.push(now.to_string());
                    }
                    now
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    (format!("{step}: {}", tasks.join(" | ")), ids)
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# Scenarios of the purchase orders.
[[scenario]]
name = "bestelbon van bevolking"   # the name is words: kept
kind = "bestelbon"
uploader = 'jan-cools'
fields = { dienst = "bevolking", leverancier = "bevolking" }
absent = ["dirk-lambert"]
route = [
  "paraaf: dirk-lambert, jan-cools | nobody",   # two tasks
  "(after 10 workdays)",
]
may_see = ["dirk-lambert", "yasmine-peeters"]
"#;

    #[test]
    fn ids_are_renamed_where_they_stand_and_the_rest_is_kept() {
        let renames = BTreeMap::from([
            ("bevolking".to_string(), "loket".to_string()),
            ("dirk-lambert".to_string(), "sara-nieuwe".to_string()),
            ("jan-cools".to_string(), String::new()),
        ]);
        let r = rename_in(
            FILE,
            &renames,
            |_, f| f == "dienst",
            |id| id != "yasmine-peeters",
        )
        .unwrap();
        assert_eq!(
            r.text,
            FILE.replace("dienst = \"bevolking\"", "dienst = \"loket\"")
                .replace("dirk-lambert", "sara-nieuwe")
        );
        let lines: Vec<usize> = r.lines.iter().map(|l| l.line).collect();
        assert_eq!(lines, vec![6, 7, 9, 12]);
        assert_eq!(
            r.lines[2].after,
            "  \"paraaf: sara-nieuwe, jan-cools | nobody\",   # two tasks"
        );
        // An id the new organogram lacks is said, with its line.
        assert_eq!(r.stale, vec![(12, "yasmine-peeters".to_string())]);
    }

    #[test]
    fn a_file_that_is_no_scenario_file_is_an_error() {
        assert!(
            rename_in(
                "[[scenario]]\nname = 1\n",
                &BTreeMap::new(),
                |_, _| true,
                |_| true
            )
            .is_err()
        );
    }
}
