//! A migration plan after an organogram change (`migration.toml`), and rewriting the
//! flows by it: each organogram name the resolver finds in a file is replaced at its
//! span, so comments, layout and every other name (a group called like a unit) stay
//! exactly as they were.

use super::Organogram;
use super::diff::OrgDiff;
use crate::resolve::{Index, Meaning, names};
use crate::syntax::ast::SourceAst;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `migration.toml`: the new organogram and what each old name becomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The new organogram file, relative to the project (written so by `--plan`; an
    /// absolute path is refused, so a plan copied to another checkout or city never
    /// reaches into a folder that is not its project's).
    pub organogram: String,
    /// The project the plan was made for (the `name` of its `paraaf.toml`, else its
    /// folder's name): `--apply` refuses it in another project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The city of the organogram the plan was made against: `org deploy --plan`
    /// refuses it in a database that runs another city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// SHA-256 of the organogram in force in the project when the plan was made (of its
    /// compiled snapshot as JSON, the same hash `org deploy` records): `--apply` and
    /// `org deploy --plan` refuse a plan made against another organogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_against: Option<String>,
    /// Old id → new id (renamed entries, and removed ones with a replacement). An empty
    /// new id means "not decided yet": `--apply` refuses until it is filled in.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Shielded group → why it may admit more people: consent to a rename that maps what
    /// a shielded group names onto a larger entry (a social service merged into a
    /// department). Without it, `--apply` and `org deploy` refuse such a plan.
    #[serde(default)]
    pub widen: BTreeMap<String, String>,
    /// Person → who takes over their files: a deliberate hand-over of someone's open
    /// tasks and the person fields naming them, with the reason (see [`Reassign`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reassign: BTreeMap<String, Reassign>,
}

/// One line of a plan's `[reassign]` section: `"jan-cools" = { to = "hans-willems",
/// reason = "…" }`. Counts as a widening for every shielded kind whose files move.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reassign {
    /// The person (id in the new organogram) who takes over the open tasks and the
    /// person fields.
    pub to: String,
    /// Why, in the administrator's words (read as a `[widen]` reason is).
    #[serde(default)]
    pub reason: String,
    /// The person handed over stays in the organogram: must be said, or the line is
    /// refused (a hand-over is meant for someone who leaves).
    #[serde(default)]
    pub still_present: bool,
}

/// Why the `[reassign]` lines of a plan cannot be used, one line each: a person unknown
/// to the organogram in force (`was_person`), a receiver not in the new one
/// (`is_person`), a hand-over to oneself, someone still present without
/// `still_present = true`, a person the plan also renames, a reason that says nothing.
/// The one reading of `[reassign]`, for `org migrate --apply` and `org deploy` alike.
pub fn reassign_problems(
    plan_reassign: &BTreeMap<String, Reassign>,
    rename: &BTreeMap<String, String>,
    was_person: impl Fn(&str) -> bool,
    is_person: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (from, r) in plan_reassign {
        let to = r.to.trim();
        let line = format!("[reassign] `{from}` → `{to}`");
        if !was_person(from) {
            out.push(format!(
                "{line}: the organogram in force has no person `{from}`"
            ));
        } else if to.is_empty() {
            out.push(format!(
                "{line}: name who takes over the files (`to = \"PERSON\"`)"
            ));
        } else if to == from {
            out.push(format!(
                "{line}: a person cannot take over their own files; name someone else or remove the line"
            ));
        } else if !is_person(to) {
            out.push(format!(
                "{line}: `{to}` is not a person in the new organogram; files go only to someone who is there"
            ));
        } else if rename.get(from).is_some_and(|n| !n.is_empty()) {
            out.push(format!(
                "{line}: the plan also renames `{from}` under [rename]; a person is either given a new id or handed over, not both"
            ));
        } else if is_person(from) && !r.still_present {
            out.push(format!(
                "{line}: `{from}` is still in the new organogram; to hand over the files of someone who stays, say so with `still_present = true`"
            ));
        }
        if let Err(why) = says_why(&r.reason, "[reassign]", "this person takes over the files") {
            out.push(format!("{line}: {why}"));
        }
    }
    out
}

impl Plan {
    /// The widenings this plan does not consent to (no `[widen]` line with a reason).
    pub fn unconsented<'a>(
        &self,
        widenings: &'a [paraaf_model::shield::Widening],
    ) -> Vec<&'a paraaf_model::shield::Widening> {
        widenings
            .iter()
            .filter(|w| w.redefined)
            .filter(|w| consent(&self.widen, &w.group).is_err())
            .collect()
    }
}

/// Words that stand in for a reason without giving one.
const PLACEHOLDERS: &[&str] = &[
    "x", "xx", "xxx", "ok", "oke", "okay", "todo", "tbd", "fixme", "reden", "reason", "why",
    "waarom", "ja", "yes", "nvt", "n/a", "na", "idem", "test", "zie", "see", "later", "nodig",
    "needed", "akkoord", "goed", "fine", "-", "?", "...",
];

/// The reason a plan's `[widen]` table gives for widening `group`, or why it is no
/// consent: no line, a blank one, or one that says nothing (fewer than three words, or
/// only placeholders such as `ok`, `todo`, `reden`). The one reading of a reason, for
/// `org migrate --apply` and `org deploy` alike.
pub fn consent<'a>(widen: &'a BTreeMap<String, String>, group: &str) -> Result<&'a str, String> {
    let Some(reason) = widen.get(group) else {
        return Err("no reason is given under [widen]".into());
    };
    says_why(reason, "[widen]", "the wider group is intended")
}

/// `reason` (under `section`) trimmed, or why it says nothing: blank, fewer than three
/// words of two letters or more, or only placeholders (`ok`, `todo`, `reden`). `what`
/// finishes "write in a sentence why …".
pub fn says_why<'a>(reason: &'a str, section: &str, what: &str) -> Result<&'a str, String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(format!("the reason under {section} is empty"));
    }
    let words: std::collections::BTreeSet<String> = reason
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect();
    let meaningful = words
        .iter()
        .filter(|w| !PLACEHOLDERS.contains(&w.as_str()))
        .count();
    if words.len() < 3 || meaningful < 2 {
        return Err(format!(
            "the reason {} says nothing: write in a sentence why {what} (who decided, and when)",
            quote(reason)
        ));
    }
    Ok(reason)
}

/// One widening in words: `group `x` would admit 3 people: a, b, c`.
pub fn describe(w: &paraaf_model::shield::Widening) -> String {
    const SHOWN: usize = 10;
    let names: Vec<&str> = w.admits.iter().take(SHOWN).map(String::as_str).collect();
    let more = w.admits.len().saturating_sub(SHOWN);
    let extra = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "shielded group `{}` would admit {} {} who {} not inside before: {}{extra}",
        w.group,
        w.admits.len(),
        if w.admits.len() == 1 {
            "person"
        } else {
            "people"
        },
        if w.admits.len() == 1 { "was" } else { "were" },
        names.join(", ")
    )
}

/// The `[widen]` section the plan proposes: one undecided line per shielded group the
/// proposed renames widen, so `--apply` waits for the administrator's reason.
pub fn propose_widen(widenings: &[paraaf_model::shield::Widening]) -> String {
    let mut out = String::new();
    let redefined: Vec<_> = widenings.iter().filter(|w| w.redefined).collect();
    if redefined.is_empty() {
        return out;
    }
    out.push_str(
        "\n# The renames above let shielded files be seen by more people. Write why this\n",
    );
    out.push_str("# is intended for each group, or map the entry elsewhere and remove the line.\n");
    out.push_str("[widen]\n");
    for w in redefined {
        out.push_str(&format!(
            "{} = {}   # {}\n",
            quote(&w.group),
            quote(""),
            describe(w)
        ));
    }
    out
}

/// The plan's section on shielded groups the change keeps people out of: commented, as
/// the choice is explicit either way. Accepting needs nothing written; keeping someone
/// inside is a mapping under `[rename]` or a line in the group's definition.
pub fn propose_shrink(losses: &[paraaf_model::shield::Narrowing]) -> String {
    let mut out = String::new();
    if losses.is_empty() {
        return out;
    }
    out.push_str(
        "\n# Shielded groups this change keeps people out of. They no longer see the group's\n",
    );
    out.push_str(
        "# files, those in flight and their own uploads included (`paraaf org deploy NEW\n",
    );
    out.push_str("# --plan THIS --dry-run --db DB` lists the files each loses).\n");
    for n in losses {
        out.push_str(&format!("#   `{}` loses {}\n", n.group, n.who()));
    }
    out.push_str(
        "# To accept it, leave this as it is. To keep someone inside, map the entry onto one\n",
    );
    out.push_str("# that holds them under [rename], or after --apply name them in the group's\n");
    out.push_str(
        "# definition in the flows (`group NAME = unit … + people(PERSON)`), with the reason\n",
    );
    out.push_str("# in a comment beside it, and deploy the flows.\n");
    out
}

/// The plan's commented `[reassign]` section for the people who leave: what happens to
/// their files without it, and how to hand them to someone by name, with the reason.
/// Nothing is handed over unless the administrator writes the line.
pub fn propose_reassign(d: &OrgDiff) -> String {
    let leavers: Vec<&super::diff::Entry> =
        d.removed.iter().filter(|e| e.kind == "person").collect();
    if leavers.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    out.push_str(
        "\n# People who leave. Their open tasks go to whoever holds their roles now, or wait\n",
    );
    out.push_str(
        "# in the manual queue; documents naming them stay visible to the group only. To hand\n",
    );
    out.push_str(
        "# someone's files (open tasks, person fields of documents in flight) to another\n",
    );
    out.push_str(
        "# person, write the line with the reason (`paraaf org deploy NEW --plan THIS --dry-run\n",
    );
    out.push_str("# --db DB` lists what would move). A shielded file goes only to someone inside its group.\n");
    out.push_str("# [reassign]\n");
    for e in leavers {
        out.push_str(&format!(
            "# {} = {{ to = \"PERSON\", reason = \"…\" }}   # {} leaves\n",
            quote(&e.id),
            e.name
        ));
    }
    out
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// What a plan is bound to: the project, the city and the organogram it was made against
/// (see [`Plan::project`], [`Plan::city`], [`Plan::made_against`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Made {
    /// The project's name.
    pub project: String,
    /// The city of its organogram.
    pub city: String,
    /// SHA-256 of the organogram in force in the project.
    pub sha256: String,
}

impl Plan {
    /// Why this plan may not be used where `here` holds (another project or city, or
    /// another organogram in force), in words with what to run; `None` when it fits.
    /// `project` is compared only when `here.project` is given (the runtime knows the
    /// city, not the project's folder).
    pub fn misfit(&self, here: &Made) -> Option<String> {
        const AGAIN: &str = "make the plan again in this project (`paraaf org migrate --plan NEW PROJECT`) and review it";
        let (Some(city), Some(sha)) = (&self.city, &self.made_against) else {
            return Some(format!(
                "the plan does not say which project and organogram it was made for (`project`, `city`, `made_against`): {AGAIN}"
            ));
        };
        let project = self.project.as_deref().unwrap_or("");
        if (!here.project.is_empty() && project != here.project) || *city != here.city {
            return Some(format!(
                "the plan was made for project `{project}` ({city}), not for `{}` ({}): {AGAIN}",
                if here.project.is_empty() {
                    "this one"
                } else {
                    &here.project
                },
                here.city
            ));
        }
        if *sha != here.sha256 {
            return Some(format!(
                "the plan was made against another organogram (sha256 {}) than the one in force (sha256 {}): the organogram changed since; {AGAIN}",
                short(sha),
                short(&here.sha256)
            ));
        }
        None
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The plan proposed from a diff, as commented TOML for the administrator to review:
/// renames filled in (with the reason), removed entries that the project uses left empty
/// with the closest added entry suggested; bound to the project and organogram `made`.
pub fn propose(d: &OrgDiff, organogram: &str, made: &Made) -> String {
    let mut out = String::new();
    out.push_str(
        "# Migration plan from `paraaf org migrate --plan`. Review every line, then run\n",
    );
    out.push_str(
        "# `paraaf org migrate --apply`: it rewrites the flows and installs the new organogram.\n",
    );
    out.push_str("# It is for this project and the organogram in force when it was made only.\n");
    out.push_str(&format!(
        "organogram = {}\nproject = {}\ncity = {}\nmade_against = {}\n\n[rename]\n",
        quote(organogram),
        quote(&made.project),
        quote(&made.city),
        quote(&made.sha256)
    ));
    for r in &d.renamed {
        out.push_str(&format!(
            "{} = {}   # {} renamed: {}\n",
            quote(&r.from),
            quote(&r.to),
            r.kind,
            r.because
        ));
    }
    let used: std::collections::BTreeSet<&str> = d
        .affected
        .iter()
        .filter(|a| a.renamed_to.is_none())
        .map(|a| a.id.as_str())
        .collect();
    // Removed entries the flows use, and those taken over by another even when no flow
    // names them: documents in flight may (a `dienst` field naming a merged service).
    for e in d
        .removed
        .iter()
        .filter(|e| used.contains(e.id.as_str()) || d.replaced_by.iter().any(|r| r.from == e.id))
    {
        let candidates: Vec<&str> = d
            .added
            .iter()
            .filter(|a| a.kind == e.kind)
            .map(|a| a.id.as_str())
            .collect();
        let best = candidates
            .iter()
            .max_by(|a, b| {
                strsim::normalized_levenshtein(&e.id, a)
                    .total_cmp(&strsim::normalized_levenshtein(&e.id, b))
            })
            .copied();
        let places = d.affected.iter().filter(|a| a.id == e.id).count();
        if let Some(r) = d.replaced_by.iter().find(|r| r.from == e.id) {
            out.push_str(&format!(
                "{} = {}   # {} `{}` removed, used {places}× in the flows; taken over by `{}`: {}\n",
                quote(&e.id),
                quote(&r.to),
                e.kind,
                e.name,
                r.to,
                r.because
            ));
            continue;
        }
        out.push_str(&format!(
            "{} = {}   # {} `{}` removed, used {places}×: name its replacement{}\n",
            quote(&e.id),
            quote(""),
            e.kind,
            e.name,
            match best {
                Some(b) if candidates.len() == 1 => format!(" (new: `{b}`)"),
                Some(_) => format!(" (new {}s: {})", e.kind, candidates.join(", ")),
                None => String::new(),
            }
        ));
    }
    out
}

/// The plan line `from` = `to_id` in words when it maps the person `from` was given to
/// (`was`: their recorded [`super::identity`]) onto another person (`to_key`, `to_email`:
/// who has `to_id`); `None` when `to_id` is their own new id — the same HR key, or for
/// someone recorded without one the same e-mail (never an id alone). The one rule of
/// `org migrate --apply` and `org deploy`: a plan never hands someone's files to another.
pub fn onto_another(
    from: &str,
    was: &str,
    to_id: &str,
    to_name: &str,
    to_key: Option<&str>,
    to_email: &str,
) -> Option<String> {
    let same = super::is_identity(was, to_key, to_email, to_id)
        && !(was.starts_with("id:") && from != to_id);
    (!same).then(|| {
        format!(
            "`{from}` = `{to_id}`: `{to_id}` ({to_name}) is another person than `{from}` ({was}); a plan gives a person only their own new id (the same HR key). To hand someone's files to another person, write it under [reassign] with the reason (`\"{from}\" = {{ to = \"{to_id}\", reason = \"…\" }}`)"
        )
    })
}

/// The `[rename]` lines that map a person of `old` onto another person of `new` (see
/// [`onto_another`]), in words.
pub fn person_onto_another(plan: &Plan, old: &Organogram, new: &Organogram) -> Vec<String> {
    plan.rename
        .iter()
        .filter(|(from, to)| from != to)
        .filter_map(|(from, to)| {
            let a = old.people.iter().find(|p| p.id == *from)?;
            let b = new.people.iter().find(|p| p.id == *to)?;
            onto_another(
                from,
                &a.identity(),
                &b.id,
                &b.name,
                b.key.as_deref(),
                &b.email,
            )
        })
        .collect()
}

/// Reads a plan.
pub fn read(text: &str) -> Result<Plan, String> {
    toml::from_str(text).map_err(|e| e.message().to_string())
}

/// The files rewritten by the plan: `(name, new text)` for each file that changes.
/// Names are resolved against the old organogram and the project index.
pub fn rewrite(
    plan: &Plan,
    old: &Organogram,
    index: &Index,
    files: &[(String, &str, &SourceAst)],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, text, ast) in files {
        let mut edits: Vec<(std::ops::Range<usize>, &str)> = names(ast, index, old)
            .into_iter()
            .filter_map(|n| match &n.meaning {
                Meaning::Org(_, id) => plan
                    .rename
                    .get(id)
                    .filter(|to| !to.is_empty() && *to != id)
                    .map(|to| (n.span.clone(), to.as_str())),
                _ => None,
            })
            .collect();
        if edits.is_empty() {
            continue;
        }
        edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        edits.dedup_by_key(|(r, _)| r.start);
        let mut new = text.to_string();
        for (r, to) in edits {
            if new.get(r.clone()).is_some() {
                new.replace_range(r, to);
            }
        }
        out.push((name.clone(), new));
    }
    out
}
