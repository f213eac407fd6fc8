//! The regions of a document kind's field space that the flows tell apart: amounts on
//! both sides of every threshold a comparison names on that field, every unit (units
//! and their ancestry), every text a condition compares the field with (and any other
//! text), a few people for a person field, absent for an optional field; and the
//! smallest region (a box over the fields) where a change happens, in words.

use paraaf_model::CompiledProject;
use paraaf_model::{Document, Expr};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// The value of a text field that no condition names ("any other text").
pub const OTHER_TEXT: &str = "(other)";
/// The region's pseudo-field for who uploads the document.
pub const UPLOADER: &str = "uploader";
/// The uploader of every region but the first: the first representative the shield
/// admits.
pub const USUAL: &str = "(usual)";
/// The value of an optional field left out.
pub const ABSENT: &str = "(absent)";

/// Literals compared with each field (by the field's last name segment).
fn compared(
    e: &Expr,
    money: &mut BTreeMap<String, BTreeSet<Decimal>>,
    text: &mut BTreeMap<String, BTreeSet<String>>,
) {
    let field = |e: &Expr| match e {
        Expr::Field(path) => path.last().cloned(),
        _ => None,
    };
    let mut pair = |f: &Expr, lit: &Expr| {
        if let Some(name) = field(f) {
            match lit {
                Expr::Money(d) | Expr::Number(d) => {
                    money.entry(name).or_default().insert(*d);
                }
                Expr::Text(s) => {
                    text.entry(name).or_default().insert(s.clone());
                }
                _ => {}
            }
        }
    };
    match e {
        Expr::Compare { args, .. } => {
            pair(&args.0, &args.1);
            pair(&args.1, &args.0);
            compared(&args.0, money, text);
            compared(&args.1, money, text);
        }
        Expr::In { value, list } => {
            for l in list {
                pair(value, l);
            }
            compared(value, money, text);
        }
        Expr::Logic { args, .. } => {
            compared(&args.0, money, text);
            compared(&args.1, money, text);
        }
        Expr::Not(x) => compared(x, money, text),
        Expr::Call { args, .. } => args.iter().for_each(|a| compared(a, money, text)),
        Expr::PercentOf { value, .. } => compared(value, money, text),
        _ => {}
    }
}

/// The representative values of each field of `doc` (in field order), from the
/// conditions of both versions' flows for the kind.
pub fn field_values(
    doc: &Document,
    projects: &[&CompiledProject],
    people: &[String],
) -> Vec<(String, Vec<String>)> {
    let mut money = BTreeMap::new();
    let mut text = BTreeMap::new();
    for p in projects {
        for f in p.flows.iter().filter(|f| f.document == doc.name) {
            let conds = f.when.iter().chain(f.steps.iter().flat_map(|s| {
                s.when
                    .iter()
                    .chain(s.signatures.iter().filter_map(|g| g.when.as_ref()))
            }));
            for c in conds {
                compared(c, &mut money, &mut text);
            }
        }
    }
    let org = &projects[projects.len() - 1].organogram;
    let cent = Decimal::new(1, 2);
    doc.fields
        .iter()
        .map(|f| {
            let mut v: Vec<String> = match f.ty.as_str() {
                "unit" => org.units.iter().map(|u| u.id.clone()).collect(),
                "money" | "number" => {
                    let t = money.get(&f.name).cloned().unwrap_or_default();
                    let mut s = BTreeSet::from([Decimal::ZERO]);
                    for m in t {
                        s.extend(
                            [m - cent, m, m + cent]
                                .into_iter()
                                .filter(|m| *m >= Decimal::ZERO),
                        );
                    }
                    s.into_iter().map(|d| d.to_string()).collect()
                }
                "person" => people.to_vec(),
                "date" => vec!["2026-12-01".to_string()],
                _ => {
                    let mut t: Vec<String> = text
                        .get(&f.name)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .collect();
                    t.push(OTHER_TEXT.to_string());
                    t
                }
            };
            if f.optional {
                v.push(ABSENT.to_string());
            }
            (f.name.clone(), v)
        })
        .collect()
}

/// The regions to compare: every combination of the fields' values when there are at
/// most `limit`, else every pair of fields varied together (the others at their first
/// value); whether that was every combination.
pub fn regions(
    values: &[(String, Vec<String>)],
    limit: usize,
) -> (Vec<BTreeMap<String, String>>, bool) {
    let total = values
        .iter()
        .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len().max(1)));
    let base: BTreeMap<String, String> = values
        .iter()
        .filter_map(|(f, v)| Some((f.clone(), v.first()?.clone())))
        .collect();
    if total.is_some_and(|t| t <= limit) {
        let mut out = vec![BTreeMap::new()];
        for (f, vs) in values {
            out = out
                .into_iter()
                .flat_map(|c| {
                    vs.iter().map(move |v| {
                        let mut c = c.clone();
                        c.insert(f.clone(), v.clone());
                        c
                    })
                })
                .collect();
        }
        return (out, true);
    }
    let mut out = BTreeSet::new();
    for (i, (f, fv)) in values.iter().enumerate() {
        for (g, gv) in values.iter().skip(i + 1) {
            for a in fv {
                for b in gv {
                    let mut c = base.clone();
                    c.insert(f.clone(), a.clone());
                    c.insert(g.clone(), b.clone());
                    out.insert(c);
                }
            }
        }
        for a in fv {
            let mut c = base.clone();
            c.insert(f.clone(), a.clone());
            out.insert(c);
        }
    }
    (out.into_iter().collect(), false)
}

/// The smallest box holding `hit` (the regions where a change happens) among `all`, in
/// words ("bedrag ≥ 30000 EUR and dienst in financien"); empty when it holds everywhere.
pub fn describe(
    values: &[(String, Vec<String>)],
    types: &BTreeMap<String, String>,
    hit: &[&BTreeMap<String, String>],
    parents: &BTreeMap<String, Option<String>>,
) -> String {
    let mut parts = Vec::new();
    for (f, all) in values {
        let seen: BTreeSet<&String> = hit.iter().filter_map(|c| c.get(f)).collect();
        if seen.is_empty() || all.iter().all(|v| seen.contains(v)) {
            continue;
        }
        let absent_too = seen.contains(&ABSENT.to_string());
        let ty = if f == UPLOADER {
            UPLOADER
        } else {
            types.get(f).map(String::as_str).unwrap_or("text")
        };
        let part = match ty {
            "money" | "number" => {
                let nums: Vec<Decimal> = all.iter().filter_map(|v| v.parse().ok()).collect();
                let inside: Vec<bool> =
                    nums.iter().map(|n| seen.contains(&n.to_string())).collect();
                let lo = inside.iter().position(|b| *b);
                let hi = inside.iter().rposition(|b| *b);
                let unit = if ty == "money" { " EUR" } else { "" };
                match (lo, hi) {
                    (Some(lo), Some(hi)) if inside[lo..=hi].iter().all(|b| *b) => {
                        if lo == 0 && hi + 1 == nums.len() {
                            String::new()
                        } else if hi + 1 == nums.len() {
                            format!("{f} ≥ {}{unit}", nums[lo])
                        } else if lo == 0 {
                            format!("{f} < {}{unit}", nums[hi + 1])
                        } else {
                            format!("{} ≤ {f} < {}{unit}", nums[lo], nums[hi + 1])
                        }
                    }
                    (None, _) => String::new(),
                    _ => format!(
                        "{f} one of {}",
                        nums.iter()
                            .zip(&inside)
                            .filter(|(_, b)| **b)
                            .map(|(n, _)| format!("{n}{unit}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
            "unit" => {
                let set: BTreeSet<&str> = seen.iter().map(|s| s.as_str()).collect();
                let units: Vec<&str> = all
                    .iter()
                    .map(String::as_str)
                    .filter(|u| *u != ABSENT)
                    .collect();
                let inside = tops(&units, &set, parents);
                let rest: BTreeSet<&str> =
                    units.iter().copied().filter(|u| !set.contains(u)).collect();
                let outside = tops(&units, &rest, parents);
                if inside.is_empty() {
                    String::new()
                } else if outside.len() < inside.len() {
                    format!("{f} not in {}", outside.join(", "))
                } else {
                    format!("{f} in {}", inside.join(", "))
                }
            }
            "person" | UPLOADER => {
                let chosen: Vec<&str> = all
                    .iter()
                    .map(String::as_str)
                    .filter(|v| *v != USUAL && *v != ABSENT)
                    .collect();
                let is: Vec<&str> = chosen
                    .iter()
                    .copied()
                    .filter(|v| seen.contains(&v.to_string()))
                    .collect();
                let not: Vec<&str> = chosen
                    .iter()
                    .copied()
                    .filter(|v| !seen.contains(&v.to_string()))
                    .collect();
                let few = |v: &[&str], sep: &str| {
                    if v.len() > 4 {
                        format!("{}{sep}{} others", v[..3].join(sep), v.len() - 3)
                    } else {
                        v.join(sep)
                    }
                };
                if is.is_empty() {
                    String::new()
                } else if not.len() < is.len() && !seen.contains(&USUAL.to_string()) {
                    format!("{f} is not {}", few(&not, " or "))
                } else if not.len() < is.len() {
                    String::new()
                } else {
                    format!("{f} is {}", few(&is, " or "))
                }
            }
            _ => {
                let named: Vec<String> = seen
                    .iter()
                    .filter(|v| v.as_str() != ABSENT)
                    .map(|v| {
                        if v.as_str() == OTHER_TEXT {
                            "any other text".to_string()
                        } else {
                            format!("\"{v}\"")
                        }
                    })
                    .collect();
                if named.is_empty() {
                    String::new()
                } else if named.len() > 4 {
                    format!(
                        "{f} = {} or {} others",
                        named[..3].join(" or "),
                        named.len() - 3
                    )
                } else {
                    format!("{f} = {}", named.join(" or "))
                }
            }
        };
        match (part.is_empty(), absent_too) {
            (true, true) => parts.push(format!("{f} absent")),
            (false, true) => parts.push(format!("{part} or absent")),
            (false, false) => parts.push(part),
            (true, false) => {}
        }
    }
    parts.join(" and ")
}

/// The units of `set` (among `units`), each named by its highest ancestor whose whole
/// subtree is in `set`.
fn tops(
    units: &[&str],
    set: &BTreeSet<&str>,
    parents: &BTreeMap<String, Option<String>>,
) -> Vec<String> {
    let whole = |top: &str| {
        units
            .iter()
            .filter(|x| within(x, top, parents))
            .all(|x| set.contains(x))
    };
    let mut out = BTreeSet::new();
    for u in set.iter().filter(|u| **u != ABSENT) {
        let mut top = u.to_string();
        let mut cur = parents.get(*u).cloned().flatten();
        for _ in 0..64 {
            let Some(p) = cur else { break };
            if whole(&p) {
                top = p.clone();
            }
            cur = parents.get(&p).cloned().flatten();
        }
        out.insert(top);
    }
    out.into_iter().collect()
}

/// Whether unit `u` is `top` or inside it.
fn within(u: &str, top: &str, parents: &BTreeMap<String, Option<String>>) -> bool {
    let mut cur = Some(u.to_string());
    for _ in 0..64 {
        match cur {
            Some(c) if c == top => return true,
            Some(c) => cur = parents.get(&c).cloned().flatten(),
            None => return false,
        }
    }
    false
}
