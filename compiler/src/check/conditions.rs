//! Static analysis of conditions: always true/false, and whether two conditions overlap.
//!
//! A condition is brought into disjunctive normal form over simple constraints on one
//! field each (`bedrag >= 8 500 EUR`, `bron == "notula"`, `x in [..]`, `x != none`).
//! Anything else (field against field, functions) is an unknown atom: it constrains
//! nothing, so the analysis only ever claims what it can prove.

use crate::syntax::ast::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// What is statically known of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// Holds for every document.
    Always,
    /// Holds for no document.
    Never,
    /// Depends on the document.
    Depends,
}

/// A comparable constant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    None,
    Bool(bool),
    Num(Decimal),
    Text(String),
}

fn key(lit: &Literal) -> Option<Key> {
    Some(match lit {
        Literal::None => Key::None,
        Literal::Bool(b) => Key::Bool(*b),
        Literal::Money(d) | Literal::Number(d) | Literal::Percent(d) | Literal::Duration(d, _) => {
            Key::Num(*d)
        }
        Literal::Date(s) | Literal::Text(s) => Key::Text(s.clone()),
    })
}

/// Constraints on one field within one conjunction.
#[derive(Clone, Debug, Default)]
struct Range {
    allowed: Option<BTreeSet<Key>>,
    excluded: BTreeSet<Key>,
    lower: Option<(Key, bool)>,
    upper: Option<(Key, bool)>,
}

impl Range {
    fn satisfiable(&self) -> bool {
        let bounded = self.lower.is_some() || self.upper.is_some();
        let in_bounds = |k: &Key| {
            if bounded && *k == Key::None {
                return false;
            }
            let lo_ok = self
                .lower
                .as_ref()
                .is_none_or(|(l, incl)| if *incl { k >= l } else { k > l });
            let hi_ok = self
                .upper
                .as_ref()
                .is_none_or(|(h, incl)| if *incl { k <= h } else { k < h });
            lo_ok && hi_ok && !self.excluded.contains(k)
        };
        if let Some(allowed) = &self.allowed {
            return allowed.iter().any(in_bounds);
        }
        match (&self.lower, &self.upper) {
            (Some((l, li)), Some((h, hi))) => {
                if std::mem::discriminant(l) != std::mem::discriminant(h) {
                    return true;
                }
                l < h || (l == h && *li && *hi && !self.excluded.contains(l))
            }
            _ => true,
        }
    }

    fn merge(&mut self, other: &Range) {
        if let Some(o) = &other.allowed {
            self.allowed = Some(match self.allowed.take() {
                Some(a) => a.intersection(o).cloned().collect(),
                None => o.clone(),
            });
        }
        self.excluded.extend(other.excluded.iter().cloned());
        if let Some((k, incl)) = &other.lower {
            let tighter = match &self.lower {
                Some((cur, cur_incl)) => k > cur || (k == cur && !incl && *cur_incl),
                None => true,
            };
            if tighter {
                self.lower = Some((k.clone(), *incl));
            }
        }
        if let Some((k, incl)) = &other.upper {
            let tighter = match &self.upper {
                Some((cur, cur_incl)) => k < cur || (k == cur && !incl && *cur_incl),
                None => true,
            };
            if tighter {
                self.upper = Some((k.clone(), *incl));
            }
        }
    }
}

/// A conjunction: constraints per field; `false` when a constant false was met.
#[derive(Clone, Debug, Default)]
struct Conj {
    fields: BTreeMap<String, Range>,
    contradiction: bool,
}

impl Conj {
    fn satisfiable(&self) -> bool {
        !self.contradiction && self.fields.values().all(Range::satisfiable)
    }

    fn and(&self, other: &Conj) -> Conj {
        let mut out = self.clone();
        out.contradiction |= other.contradiction;
        for (f, r) in &other.fields {
            out.fields.entry(f.clone()).or_default().merge(r);
        }
        out
    }
}

const MAX_CONJUNCTS: usize = 256;

/// Normalises a path for comparison: `document.bedrag` and `bedrag` are the same field.
pub fn field_key(p: &Path) -> String {
    let text = p.text();
    text.strip_prefix("document.")
        .map(str::to_string)
        .unwrap_or(text)
}

/// DNF of `e` (negated when `neg`), or `None` when it grows too large.
fn dnf(e: &Expr, neg: bool) -> Option<Vec<Conj>> {
    match &e.kind {
        ExprKind::Not(inner) => dnf(inner, !neg),
        ExprKind::Logic(op, a, b) => {
            let and = matches!((op, neg), (LogicOp::And, false) | (LogicOp::Or, true));
            let (da, db) = (dnf(a, neg)?, dnf(b, neg)?);
            if and {
                if da.len() * db.len() > MAX_CONJUNCTS {
                    return None;
                }
                Some(
                    da.iter()
                        .flat_map(|x| db.iter().map(move |y| x.and(y)))
                        .collect(),
                )
            } else {
                Some(da.into_iter().chain(db).collect())
            }
        }
        ExprKind::Literal(Literal::Bool(b)) => Some(vec![Conj {
            contradiction: *b == neg,
            ..Default::default()
        }]),
        ExprKind::Compare {
            op,
            lhs,
            rhs,
            within: None,
        } => Some(vec![atom(*op, lhs, rhs, neg)]),
        ExprKind::In(value, list) => {
            let (ExprKind::Path(p), Some(keys)) = (
                &value.kind,
                list.iter().map(lit_key).collect::<Option<BTreeSet<Key>>>(),
            ) else {
                return Some(vec![Conj::default()]);
            };
            let mut r = Range::default();
            if neg {
                r.excluded = keys;
            } else {
                r.allowed = Some(keys);
            }
            Some(vec![Conj {
                fields: [(field_key(p), r)].into(),
                contradiction: false,
            }])
        }
        _ => Some(vec![Conj::default()]),
    }
}

fn lit_key(e: &Expr) -> Option<Key> {
    match &e.kind {
        ExprKind::Literal(l) => key(l),
        _ => None,
    }
}

fn atom(op: CmpOp, lhs: &Expr, rhs: &Expr, neg: bool) -> Conj {
    // Constant against constant folds to true/false.
    if let (Some(a), Some(b)) = (lit_key(lhs), lit_key(rhs)) {
        let holds = match op {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Approx => return Conj::default(),
        };
        return Conj {
            contradiction: holds == neg,
            ..Default::default()
        };
    }
    let (path, k, op) = match (&lhs.kind, &rhs.kind) {
        (ExprKind::Path(p), _) if lit_key(rhs).is_some() => {
            (p, lit_key(rhs).unwrap_or(Key::None), op)
        }
        (_, ExprKind::Path(p)) if lit_key(lhs).is_some() => {
            (p, lit_key(lhs).unwrap_or(Key::None), flip(op))
        }
        _ => return Conj::default(),
    };
    let op = if neg { negate(op) } else { op };
    let mut r = Range::default();
    match op {
        CmpOp::Eq => r.allowed = Some([k].into()),
        CmpOp::Ne => {
            r.excluded.insert(k);
        }
        CmpOp::Lt => r.upper = Some((k, false)),
        CmpOp::Le => r.upper = Some((k, true)),
        CmpOp::Gt => r.lower = Some((k, false)),
        CmpOp::Ge => r.lower = Some((k, true)),
        CmpOp::Approx => return Conj::default(),
    }
    Conj {
        fields: [(field_key(path), r)].into(),
        contradiction: false,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Approx => CmpOp::Approx,
    }
}

/// Whether `e` always holds, never holds, or depends on the document.
pub fn truth(e: &Expr) -> Truth {
    let Some(pos) = dnf(e, false) else {
        return Truth::Depends;
    };
    if !pos.iter().any(Conj::satisfiable) {
        return Truth::Never;
    }
    match dnf(e, true) {
        Some(neg) if !neg.iter().any(Conj::satisfiable) => Truth::Always,
        _ => Truth::Depends,
    }
}

/// Whether some document could satisfy both conditions (`None` = no condition).
/// Errs on the side of "yes" when the conditions are too complex to analyse.
pub fn may_overlap(a: Option<&Expr>, b: Option<&Expr>) -> bool {
    let all = || Some(vec![Conj::default()]);
    let (Some(da), Some(db)) = (
        a.map_or_else(all, |e| dnf(e, false)),
        b.map_or_else(all, |e| dnf(e, false)),
    ) else {
        return true;
    };
    da.iter().any(|x| db.iter().any(|y| x.and(y).satisfiable()))
}
