//! What changed between two organograms, and what it does to a project: units,
//! functions, mandates and people added, removed, renamed (a new id for the same thing:
//! for units, functions and mandates told by name and members or holders; for people
//! only by their HR key, never by name or e-mail) and moved; ids given to another
//! person (refused); who holds each position
//! before and after; and every place in the flows that names something removed or
//! renamed, found through the resolver (never by spelling).

use super::{OrgKind, Organogram, Position};
use crate::resolve::{Index, Meaning, names};
use crate::syntax::ast::SourceAst;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An entry that exists in both, under another id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Renamed {
    /// What it is (`unit`, `function`, `mandate`, `person`).
    pub kind: &'static str,
    /// Old id.
    pub from: String,
    /// New id.
    pub to: String,
    /// Why it is taken for the same entry.
    pub because: String,
}

/// An entry added or removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// What it is.
    pub kind: &'static str,
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// A unit under another parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The unit (its new id).
    pub unit: String,
    /// Old parent.
    pub from: Option<String>,
    /// New parent.
    pub to: Option<String>,
}

/// Who holds a position, before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holders {
    /// `diensthoofd of bevolking`, `burgemeester`.
    pub position: String,
    /// Before.
    pub before: Vec<String>,
    /// After.
    pub after: Vec<String>,
}

/// A place in the project that names an entry removed or renamed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// Project-relative file.
    pub file: String,
    /// Line (1-based).
    pub line: usize,
    /// Byte range of the name.
    pub start: usize,
    /// End of the range.
    pub end: usize,
    /// The old id.
    pub id: String,
    /// The new id, when renamed.
    pub renamed_to: Option<String>,
}

/// An id the new organogram gives to another person than the old one did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reused {
    /// The id.
    pub id: String,
    /// Who had it (name and identity).
    pub was: String,
    /// Who has it now.
    pub now: String,
}

/// The whole difference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrgDiff {
    /// New entries.
    pub added: Vec<Entry>,
    /// Entries gone.
    pub removed: Vec<Entry>,
    /// Entries with a new id.
    pub renamed: Vec<Renamed>,
    /// For removed units, functions and mandates: the added one that took over (nearly
    /// all their members or holders are there now). A proposal for the migration plan,
    /// not a rename.
    pub replaced_by: Vec<Renamed>,
    /// Units with another parent.
    pub moved: Vec<Moved>,
    /// Positions whose holders changed.
    pub holders: Vec<Holders>,
    /// Places in the project that name a removed or renamed entry.
    pub affected: Vec<Affected>,
    /// Ids given to another person (a namesake under the id of someone in force or
    /// retired): `org deploy` refuses such an organogram.
    pub reused: Vec<Reused>,
    /// With a project: the people each of its shielded groups would keep out (they no
    /// longer see its files), read through the renames and take-overs (see
    /// [`shielded_losses`]).
    pub shielded_losses: Vec<paraaf_model::shield::Narrowing>,
}

impl OrgDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
            && self.moved.is_empty()
            && self.holders.is_empty()
            && self.reused.is_empty()
    }

    /// Old id → new id for every rename.
    pub fn renames(&self) -> BTreeMap<String, String> {
        self.renamed
            .iter()
            .map(|r| (r.from.clone(), r.to.clone()))
            .collect()
    }
}

fn kind_word(k: OrgKind) -> &'static str {
    k.word()
}

/// People with a position in `unit` (not below it).
fn members(org: &Organogram, unit: &str) -> BTreeSet<String> {
    org.people
        .iter()
        .filter(|p| {
            p.positions
                .iter()
                .any(|pos| matches!(pos, Position::Function { unit: u, .. } if u == unit))
        })
        .map(|p| p.id.clone())
        .collect()
}

/// Holders of a function (people with that function anywhere) or a mandate.
fn holders_of(org: &Organogram, id: &str) -> BTreeSet<String> {
    org.people
        .iter()
        .filter(|p| {
            p.positions.iter().any(|pos| match pos {
                Position::Function { function, .. } => function == id,
                Position::Mandate(m) => m == id,
            })
        })
        .map(|p| p.id.clone())
        .collect()
}

fn person<'a>(o: &'a Organogram, id: &str) -> Option<&'a super::Person> {
    o.people.iter().find(|p| p.id == id)
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    a.intersection(b).count() as f64 / a.union(b).count() as f64
}

/// The difference between `old` and `new`.
pub fn diff(old: &Organogram, new: &Organogram) -> OrgDiff {
    let mut out = OrgDiff::default();
    let ids = |o: &Organogram, k: OrgKind| -> BTreeSet<String> {
        o.ids()
            .filter(|(_, kk)| *kk == k)
            .map(|(id, _)| id.to_string())
            .collect()
    };
    for kind in [
        OrgKind::Unit,
        OrgKind::Function,
        OrgKind::Mandate,
        OrgKind::Person,
    ] {
        let before = ids(old, kind);
        let after = ids(new, kind);
        let mut gone: Vec<String> = before.difference(&after).cloned().collect();
        let mut fresh: Vec<String> = after.difference(&before).cloned().collect();
        // Members (units) or holders (functions, mandates) of each id, once.
        let who_of = |o: &Organogram, id: &str| match kind {
            OrgKind::Unit => members(o, id),
            OrgKind::Function | OrgKind::Mandate => holders_of(o, id),
            OrgKind::Person => BTreeSet::new(),
        };
        let before_who: BTreeMap<&String, BTreeSet<String>> =
            gone.iter().map(|g| (g, who_of(old, g))).collect();
        let after_who: BTreeMap<&String, BTreeSet<String>> =
            fresh.iter().map(|f| (f, who_of(new, f))).collect();
        // Pair gone and fresh ids that are the same entry: best score first.
        let mut pairs: Vec<(f64, String, String, String)> = Vec::new();
        for g in &gone {
            for f in &fresh {
                let old_name = old.display_name(g).unwrap_or(g);
                let new_name = new.display_name(f).unwrap_or(f);
                let name_sim = strsim::normalized_levenshtein(
                    &old_name.to_lowercase(),
                    &new_name.to_lowercase(),
                );
                let (who, who_sim) = match kind {
                    OrgKind::Unit => ("members", jaccard(&before_who[g], &after_who[f])),
                    OrgKind::Function | OrgKind::Mandate => {
                        ("holders", jaccard(&before_who[g], &after_who[f]))
                    }
                    // A person is their key: the same key under a new id is the same
                    // person (a marriage); a name or an e-mail alone never is.
                    OrgKind::Person => {
                        if let (Some(a), Some(b)) = (person(old, g), person(new, f))
                            && a.key.is_some()
                            && a.key == b.key
                        {
                            pairs.push((
                                2.0,
                                g.clone(),
                                f.clone(),
                                format!("the same HR key `{}`", a.identity()),
                            ));
                        }
                        continue;
                    }
                };
                let score = name_sim.max(who_sim);
                if score >= 0.75 || (name_sim >= 0.5 && who_sim >= 0.5) {
                    let because = if who_sim >= name_sim {
                        format!("the same {who} ({:.0}%)", who_sim * 100.0)
                    } else if name_sim >= 0.999 {
                        format!("the same name `{new_name}`")
                    } else {
                        format!("a similar name: `{old_name}` → `{new_name}`")
                    };
                    pairs.push((score, g.clone(), f.clone(), because));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, g, f, because) in pairs {
            if gone.contains(&g) && fresh.contains(&f) {
                gone.retain(|x| *x != g);
                fresh.retain(|x| *x != f);
                out.renamed.push(Renamed {
                    kind: kind_word(kind),
                    from: g,
                    to: f,
                    because,
                });
            }
        }
        for g in &gone {
            let who = match kind {
                OrgKind::Unit => "members",
                OrgKind::Function | OrgKind::Mandate => "holders",
                OrgKind::Person => continue,
            };
            let before = who_of(old, g);
            if before.is_empty() {
                continue;
            }
            // A removed unit may also be merged into one that stays (Sociale Zaken into
            // Zorg): of the units holding its members now, the smallest.
            let pool: Vec<&String> = match kind {
                OrgKind::Unit => after.iter().collect(),
                _ => fresh.iter().collect(),
            };
            let best = pool
                .into_iter()
                .map(|f| {
                    let after = who_of(new, f);
                    let share = before.intersection(&after).count() as f64 / before.len() as f64;
                    (share, std::cmp::Reverse(after.len()), f)
                })
                .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(a.2)))
                .map(|(share, _, f)| (share, f));
            if let Some((share, f)) = best
                && share >= 0.8
            {
                out.replaced_by.push(Renamed {
                    kind: kind_word(kind),
                    from: g.clone(),
                    to: f.clone(),
                    because: format!("{:.0}% of its {who} are there now", share * 100.0),
                });
            }
        }
        for g in gone {
            out.removed.push(Entry {
                kind: kind_word(kind),
                name: old.display_name(&g).unwrap_or(&g).to_string(),
                id: g,
            });
        }
        for f in fresh {
            out.added.push(Entry {
                kind: kind_word(kind),
                name: new.display_name(&f).unwrap_or(&f).to_string(),
                id: f,
            });
        }
    }
    out.renamed
        .sort_by(|a, b| (a.kind, &a.from).cmp(&(b.kind, &b.from)));
    // An id that stays but names another person now, or an id of someone who left given
    // to a newcomer: never the same person.
    for p in &new.people {
        let now = p.identity();
        let was = match person(old, &p.id) {
            Some(o)
                if !super::same_person(
                    (o.key.as_deref(), &o.email),
                    (p.key.as_deref(), &p.email),
                ) =>
            {
                Some(format!("{} ({})", o.name, o.identity()))
            }
            Some(_) => None,
            None => old
                .retired
                .get(&p.id)
                .filter(|w| !super::is_identity(w, p.key.as_deref(), &p.email, &p.id))
                .map(|w| format!("someone who left ({w})")),
        };
        if let Some(was) = was {
            out.reused.push(Reused {
                id: p.id.clone(),
                was,
                now: format!("{} ({now})", p.name),
            });
        }
    }
    // Units under another parent (by their new id).
    let renames = out.renames();
    let now = |id: &str| renames.get(id).cloned().unwrap_or_else(|| id.to_string());
    for u in &old.units {
        let Some(n) = new.unit(&now(&u.id)) else {
            continue;
        };
        let was = u.parent.as_deref().map(now);
        if was != n.parent {
            out.moved.push(Moved {
                unit: n.id.clone(),
                from: u.parent.clone(),
                to: n.parent.clone(),
            });
        }
    }
    // Holders of every position, in the new ids.
    let positions = |o: &Organogram, map: &dyn Fn(&str) -> String| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in &o.people {
            for pos in &p.positions {
                let key = match pos {
                    Position::Function { function, unit } => {
                        format!("{} of {}", map(function), map(unit))
                    }
                    Position::Mandate(x) => map(x),
                };
                m.entry(key).or_default().insert(map(&p.id));
            }
        }
        m
    };
    // A removed entry that another took over counts as that one for holders.
    let mut taken = renames.clone();
    taken.extend(
        out.replaced_by
            .iter()
            .map(|r| (r.from.clone(), r.to.clone())),
    );
    let then = |id: &str| taken.get(id).cloned().unwrap_or_else(|| id.to_string());
    let before = positions(old, &then);
    let after = positions(new, &|s: &str| s.to_string());
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let none = BTreeSet::new();
    for k in keys {
        let b = before.get(k).unwrap_or(&none);
        let a = after.get(k).unwrap_or(&none);
        if a != b {
            out.holders.push(Holders {
                position: k.clone(),
                before: b.iter().cloned().collect(),
                after: a.iter().cloned().collect(),
            });
        }
    }
    out
}

/// Who leaves each shielded group of `project` when `new` replaces `old`: the groups as
/// defined on `old`, against the groups read through the diff's renames and take-overs
/// (what `org migrate --plan` proposes) on `new`. Splitting a shielded service is a
/// rename of one half (most members stayed) and a loss of the other half: this says so.
pub fn shielded_losses(
    d: &OrgDiff,
    project: &paraaf_model::CompiledProject,
    old: &Organogram,
    new: &Organogram,
) -> Vec<paraaf_model::shield::Narrowing> {
    use paraaf_model::OrgIndex;
    let mut renames = d.renames();
    renames.extend(d.replaced_by.iter().map(|r| (r.from.clone(), r.to.clone())));
    let after = paraaf_model::rename::rename_org_ids(project, &renames);
    paraaf_model::shield::narrowings(
        &project.groups,
        &OrgIndex::new(&crate::compile::org_snapshot(old)),
        &after.groups,
        &OrgIndex::new(&crate::compile::org_snapshot(new)),
        &renames,
    )
}

/// Every place in `files` (name, text, syntax tree) that names an entry of `old` that
/// `d` removes or renames, resolved against `old` and the project index.
pub fn affected(
    d: &OrgDiff,
    old: &Organogram,
    index: &Index,
    files: &[(String, &str, &SourceAst)],
) -> Vec<Affected> {
    let renames = d.renames();
    let removed: BTreeSet<&str> = d.removed.iter().map(|e| e.id.as_str()).collect();
    let mut out = Vec::new();
    for (name, text, ast) in files {
        for n in names(ast, index, old) {
            let Meaning::Org(_, id) = &n.meaning else {
                continue;
            };
            if n.definition {
                continue;
            }
            let renamed_to = renames.get(id).cloned();
            if renamed_to.is_none() && !removed.contains(id.as_str()) {
                continue;
            }
            out.push(Affected {
                file: name.clone(),
                line: text[..n.span.start.min(text.len())].matches('\n').count() + 1,
                start: n.span.start,
                end: n.span.end,
                id: id.clone(),
                renamed_to,
            });
        }
    }
    out.sort_by(|a, b| (&a.file, a.start).cmp(&(&b.file, b.start)));
    out
}
