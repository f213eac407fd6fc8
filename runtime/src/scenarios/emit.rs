//! `paraaf diff --emit-scenarios`: each change the comparison finds, written as a
//! scenario of `paraaf test` that passes on the head and fails on the base.
//!
//! A change is stated by what the scenario language can check: who may (not) see the
//! document (`may_see`, `may_not_see`), who signs each step (`route`), who substitutes
//! (`absent` and the route), to whom an overdue step escalates (`wait_at` and the route),
//! where a refusal goes (`refuse_at`, the route and `status`), and a document one side
//! refuses (`status = "refused"`). Every scenario is run on both versions before it is
//! written; one that does not pass on the head and fail on the base is not written, and
//! the change is listed as not stated, with why.

use super::{Scenario, run};
use crate::impact::Fact;
use crate::impact::witness::{Case, Witnessed};
use paraaf_model::CompiledProject;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// How long nobody acts at a step whose escalation is stated: as the comparison waits.
const WAIT: &str = "120 days";
/// At most this many documents are tried for one change before it is listed as not
/// stated.
const TRIES: usize = 24;

/// The scenario file of one document kind.
#[derive(Clone, Debug)]
pub struct Emitted {
    /// The document kind.
    pub kind: String,
    /// The file's name (`KIND.toml`).
    pub file: String,
    /// Its text.
    pub text: String,
    /// How many scenarios it holds.
    pub scenarios: usize,
}

/// A change no scenario could state.
#[derive(Clone, Debug)]
pub struct NotStated {
    /// The document kind.
    pub kind: String,
    /// The change as the report says it ("every document: x now may see it").
    pub change: String,
    /// Why not.
    pub why: String,
}

/// What a scenario must set up to show a fact.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Setup {
    /// Nothing: submit and sign through.
    Plain,
    /// The holder away for the whole scenario.
    Absent(String),
    /// Nobody acts at the step for [`WAIT`].
    Wait(String),
    /// The step refused.
    Refuse(String),
}

fn setup(f: &Fact) -> Setup {
    match f {
        Fact::Sees { .. } | Fact::Signs { .. } => Setup::Plain,
        Fact::Substitute { holder, .. } => Setup::Absent(holder.clone()),
        Fact::Escalation { step, .. } => Setup::Wait(step.clone()),
        Fact::Refusal { step, .. } => Setup::Refuse(step.clone()),
    }
}

/// The scenario files for `changes` (per kind, from `impact::witness::witnesses`), each
/// scenario checked to pass on `head` and fail on `base`; `source` says in each file's
/// header where it came from (`paraaf diff main HEAD`).
pub fn emit(
    base: &CompiledProject,
    head: &CompiledProject,
    changes: &BTreeMap<String, Vec<Witnessed>>,
    source: &str,
) -> (Vec<Emitted>, Vec<NotStated>) {
    let names = Names::new(base, head);
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for (kind, list) in changes {
        let mut body = String::new();
        if !head.documents.iter().any(|d| &d.name == kind) {
            // A removed kind: every change is the one fact that its documents are
            // refused now.
            let (text, left) = removed(base, head, kind, list, &names);
            let n = usize::from(text.is_some());
            body.push_str(&text.unwrap_or_default());
            if let Some(why) = left {
                let said = format!("the kind `{kind}` is removed ({} changes)", list.len());
                let _ = writeln!(body, "\n# not stated as a scenario: {said}\n#   {why}");
                missing.push(NotStated {
                    kind: kind.clone(),
                    change: said,
                    why,
                });
            }
            files.push(file(kind, source, body, n));
            continue;
        }
        let mut book = Book::default();
        let mut unsaid = String::new();
        for w in list {
            let said = said(w);
            if let Some(why) = state(base, head, kind, w, &names, &mut book) {
                let _ = writeln!(unsaid, "\n# not stated as a scenario: {said}\n#   {why}");
                missing.push(NotStated {
                    kind: kind.clone(),
                    change: said,
                    why,
                });
            }
        }
        for t in &book.texts {
            body.push('\n');
            body.push_str(t);
        }
        body.push_str(&unsaid);
        let count = book.texts.len();
        files.push(file(kind, source, body, count));
    }
    (files, missing)
}

/// The file of `kind`: a header, then `body` (`count` scenarios).
fn file(kind: &str, source: &str, body: String, count: usize) -> Emitted {
    let mut text = format!(
        "# Scenarios of `{kind}` written by `{source} --emit-scenarios`: each states one\n\
         # change and passes on the head and fails on the base. Keep the ones the review\n\
         # accepts in the project's tests/ folder: the decision becomes a test.\n"
    );
    text.push_str(&body);
    Emitted {
        kind: kind.to_string(),
        file: format!("{kind}.toml"),
        text,
        scenarios: count,
    }
}

/// The one scenario of a kind the head removed: a document of it is refused (from the
/// first document of the first change); why not, when it cannot be stated.
fn removed(
    base: &CompiledProject,
    head: &CompiledProject,
    kind: &str,
    list: &[Witnessed],
    names: &Names,
) -> (Option<String>, Option<String>) {
    let Some((case, fact)) = list
        .iter()
        .flat_map(|w| &w.facts)
        .find_map(|(f, _, cases)| Some((cases.first()?, f)))
    else {
        return (None, Some("no document of the kind was compared".into()));
    };
    match scenario(base, head, kind, case, &Setup::Plain, &[(fact, false)]) {
        Ok((s, on_base)) => {
            let s = Scenario {
                name: format!("every document: `{kind}` is removed: a document of it is refused"),
                ..s
            };
            let change = format!("{} changes (the kind removed)", list.len());
            (
                Some(format!("\n{}", write(&s, &change, &on_base, names))),
                None,
            )
        }
        Err(why) => (None, Some(why)),
    }
}

/// The change as the report says it: `CHANGE: REGION: PEOPLE WHAT`.
fn said(w: &Witnessed) -> String {
    let people = people(w.facts.iter().map(|(f, _, _)| f));
    format!("{}: {}", w.change, title(&w.region, &people, &w.what))
}

/// A scenario's name: the region and the change in words.
fn title(region: &str, people: &[String], what: &str) -> String {
    let on = if region.is_empty() {
        "every document"
    } else {
        region
    };
    let who = match people.len() {
        0 => String::new(),
        1..=3 => format!("{} ", people.join(", ")),
        n => format!("{} and {} more ", people[..3].join(", "), n - 3),
    };
    format!("{on}: {who}{what}")
}

/// The people the facts name, in order, once each.
fn people<'a>(facts: impl Iterator<Item = &'a Fact>) -> Vec<String> {
    let set: BTreeSet<String> = facts
        .filter_map(|f| f.person().map(str::to_string))
        .collect();
    set.into_iter().collect()
}

/// The scenarios of one file as they are written.
#[derive(Default)]
struct Book {
    /// Each scenario's text, in order.
    texts: Vec<String>,
    /// Each scenario without its name and comments → its place in `texts`: a change
    /// shown by a scenario written already is added to its comment, not written again.
    seen: BTreeMap<String, usize>,
    /// The names given.
    used: BTreeSet<String>,
}

/// Scenarios stating every fact of `w`, into `book`; why some are left (`None`: none).
fn state(
    base: &CompiledProject,
    head: &CompiledProject,
    kind: &str,
    w: &Witnessed,
    names: &Names,
    book: &mut Book,
) -> Option<String> {
    // Every (document, set-up) that shows a fact, with the facts it shows.
    let mut candidates: BTreeMap<(Case, Setup), BTreeSet<usize>> = BTreeMap::new();
    for (i, (fact, _, cases)) in w.facts.iter().enumerate() {
        for c in cases {
            candidates
                .entry((c.clone(), setup(fact)))
                .or_default()
                .insert(i);
        }
    }
    let mut left: BTreeSet<usize> = (0..w.facts.len()).collect();
    let mut why = None;
    let mut tries = 0;
    while !left.is_empty() && tries < TRIES {
        // The document that shows most of what is left (the first of equals).
        let Some(((case, set), _)) = candidates
            .iter()
            .map(|(k, v)| (k, v.intersection(&left).count()))
            .filter(|(_, n)| *n > 0)
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| (k.clone(), ()))
        else {
            break;
        };
        tries += 1;
        let covered: BTreeSet<usize> = candidates
            .remove(&(case.clone(), set.clone()))
            .unwrap_or_default()
            .intersection(&left)
            .copied()
            .collect();
        let facts: Vec<(&Fact, bool)> = covered
            .iter()
            .map(|i| (&w.facts[*i].0, w.facts[*i].1))
            .collect();
        match scenario(base, head, kind, &case, &set, &facts) {
            Ok((s, on_base)) => {
                let people = people(facts.iter().map(|(f, _)| *f));
                let title = title(&w.region, &people, &w.what);
                let key = write(&s, "", &[], names);
                if let Some(at) = book.seen.get(&key) {
                    // The same scenario shows an earlier change: it states this one too.
                    let also = format!("# also states {}: {title}\n", w.change);
                    book.texts[*at].insert_str(0, &also);
                } else {
                    let mut name = title.clone();
                    let mut n = 1;
                    while book.used.contains(&name) {
                        n += 1;
                        name = format!("{title} ({n})");
                    }
                    book.used.insert(name.clone());
                    let s = Scenario { name, ..s };
                    book.seen.insert(key, book.texts.len());
                    book.texts.push(write(&s, &w.change, &on_base, names));
                }
                left.retain(|i| !covered.contains(i));
            }
            Err(e) => why = Some(e),
        }
    }
    if left.is_empty() {
        return None;
    }
    let who = people(left.iter().map(|i| &w.facts[*i].0));
    let why = why.unwrap_or_else(|| format!("{TRIES} documents tried, none showed it"));
    let why = if who.is_empty() {
        why
    } else {
        format!("for {}: {why}", who.join(", "))
    };
    Some(why)
}

/// The scenario of `case` set up by `set` that states `facts`, with why it fails on the
/// base; an error when it does not pass on the head or does not fail on the base.
fn scenario(
    base: &CompiledProject,
    head: &CompiledProject,
    kind: &str,
    case: &Case,
    set: &Setup,
    facts: &[(&Fact, bool)],
) -> Result<(Scenario, Vec<String>), String> {
    let mut s = Scenario {
        name: "(emitted)".into(),
        kind: kind.to_string(),
        uploader: case.uploader.clone(),
        fields: case.fields.clone(),
        absent: Vec::new(),
        route: None,
        may_see: Vec::new(),
        may_not_see: Vec::new(),
        refuse_at: None,
        status: None,
        wait_at: None,
        wait: None,
    };
    match set {
        Setup::Plain => {}
        Setup::Absent(h) => s.absent.push(h.clone()),
        Setup::Wait(step) => {
            s.wait_at = Some(step.clone());
            s.wait = Some(WAIT.into());
        }
        Setup::Refuse(step) => s.refuse_at = Some(step.clone()),
    }
    let on_head = run(head, &s);
    if !on_head.failures.is_empty() && on_head.status != "refused" {
        return Err(format!(
            "on the head: {}",
            on_head.failures.join("; ").replace('\n', " ")
        ));
    }
    if on_head.status == "refused" {
        s.status = Some("refused".into());
    } else {
        for (f, added) in facts {
            if let Fact::Sees { person } = f {
                if *added {
                    s.may_see.push(person.clone());
                } else {
                    s.may_not_see.push(person.clone());
                }
            }
        }
        if facts.iter().any(|(f, _)| !matches!(f, Fact::Sees { .. })) {
            s.route = Some(on_head.route.clone());
        }
        if matches!(set, Setup::Refuse(_)) {
            s.status = Some(on_head.status.clone());
        }
    }
    let on_head = run(head, &s);
    if !on_head.failures.is_empty() {
        return Err(format!(
            "on the head: {}",
            on_head.failures.join("; ").replace('\n', " ")
        ));
    }
    let on_base = run(base, &s);
    if on_base.failures.is_empty() {
        return Err("the scenario that shows it on the head passes on the base too".into());
    }
    Ok((s, on_base.failures))
}

/// People's and units' names, for the comments beside their ids.
struct Names(BTreeMap<String, String>);

impl Names {
    fn new(base: &CompiledProject, head: &CompiledProject) -> Self {
        let mut m = BTreeMap::new();
        for p in [base, head] {
            for u in &p.organogram.units {
                m.insert(u.id.clone(), u.name.clone());
            }
            for x in &p.organogram.people {
                m.insert(x.id.clone(), x.name.clone());
            }
        }
        Names(m)
    }

    /// The names of the ids in `text` (a route entry: `STEP: a, b | c`), `; `-joined.
    fn of(&self, text: &str) -> String {
        let people = text.split_once(": ").map_or(text, |(_, p)| p);
        people
            .split([',', '|'])
            .filter_map(|id| self.0.get(id.trim()))
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `value` quoted, with the names it holds in a comment.
fn with_names(value: &str, names: &Names) -> String {
    let n = names.of(value);
    if n.is_empty() {
        quote(value)
    } else {
        format!("{}  # {n}", quote(value))
    }
}

/// A key whose value is a list, one entry a line with its names.
fn list(out: &mut String, key: &str, values: &[String], names: &Names) {
    if values.is_empty() {
        return;
    }
    let _ = writeln!(out, "{key} = [");
    for v in values {
        let v = with_names(v, names);
        // The comma before the comment.
        match v.split_once("  # ") {
            Some((q, c)) => {
                let _ = writeln!(out, "  {q},  # {c}");
            }
            None => {
                let _ = writeln!(out, "  {v},");
            }
        }
    }
    out.push_str("]\n");
}

/// The scenario as a `[[scenario]]` table, with the change and why it fails on the base
/// in a comment above it.
fn write(s: &Scenario, change: &str, on_base: &[String], names: &Names) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {change}: passes on the head; on the base:");
    for f in on_base {
        for l in f.lines() {
            // The route's expected and actual lines, indented under it.
            let _ = writeln!(out, "#   {}", l.trim_end().replacen("      ", "  ", 1));
        }
    }
    out.push_str("[[scenario]]\n");
    let _ = writeln!(out, "name = {}", quote(&s.name));
    let _ = writeln!(out, "kind = {}", quote(&s.kind));
    let _ = writeln!(out, "uploader = {}", with_names(&s.uploader, names));
    list(&mut out, "absent", &s.absent, names);
    if let Some(step) = &s.wait_at {
        let _ = writeln!(out, "wait_at = {}", quote(step));
    }
    if let Some(wait) = &s.wait {
        let _ = writeln!(out, "wait = {}", quote(wait));
    }
    if let Some(step) = &s.refuse_at {
        let _ = writeln!(out, "refuse_at = {}", quote(step));
    }
    if let Some(route) = &s.route {
        list(&mut out, "route", route, names);
    }
    list(&mut out, "may_see", &s.may_see, names);
    list(&mut out, "may_not_see", &s.may_not_see, names);
    if let Some(status) = &s.status {
        let _ = writeln!(out, "status = {}", quote(status));
    }
    if !s.fields.is_empty() {
        out.push_str("\n[scenario.fields]\n");
        for (k, v) in &s.fields {
            let key = if k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                k.clone()
            } else {
                quote(k)
            };
            let _ = writeln!(out, "{key} = {}", with_names(v, names));
        }
    }
    out
}
