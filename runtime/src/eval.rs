//! Evaluation of compiled conditions against a document's fields.

use paraaf_model::Expr;
use paraaf_model::{CmpOp, LogicOp};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

/// A runtime value.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    /// Money, number or percentage.
    Num(Decimal),
    /// Text, dates and organogram ids.
    Text(String),
    /// Bool.
    Bool(bool),
    /// Absent.
    None,
}

/// Where field paths get their values.
pub trait Lookup {
    /// The value at `path` (`None` when absent).
    fn field(&self, path: &[String]) -> V;
}

/// Records by name (`invoice`, `po`, `debt`, ...), for rules.
#[derive(Clone, Debug, Default)]
pub struct Records {
    /// name → field → value.
    pub records: BTreeMap<String, BTreeMap<String, V>>,
}

impl Lookup for Records {
    fn field(&self, path: &[String]) -> V {
        match path {
            [record, field, ..] => self
                .records
                .get(record)
                .and_then(|r| r.get(field))
                .cloned()
                .unwrap_or(V::None),
            _ => V::None,
        }
    }
}

/// Field values of a document plus the declared type of each field.
pub struct Env<'a> {
    /// Values as stored (normalised at submission).
    pub fields: &'a BTreeMap<String, Value>,
    /// Declared types (`money`, `text`, ...).
    pub types: &'a BTreeMap<String, String>,
}

impl Lookup for Env<'_> {
    fn field(&self, path: &[String]) -> V {
        let Some(name) = path.last() else {
            return V::None;
        };
        match (
            self.fields.get(name),
            self.types.get(name).map(String::as_str),
        ) {
            (None | Some(Value::Null), _) => V::None,
            (Some(Value::Bool(b)), _) => V::Bool(*b),
            (Some(Value::Number(n)), _) => {
                Decimal::from_str(&n.to_string()).map_or(V::None, V::Num)
            }
            (Some(Value::String(s)), Some("money" | "number")) => {
                Decimal::from_str(s).map_or(V::None, V::Num)
            }
            (Some(Value::String(s)), _) => V::Text(s.clone()),
            _ => V::None,
        }
    }
}

/// Evaluates `e`; anything that cannot be evaluated counts as false (deny by default).
pub fn holds(e: &Expr, env: &dyn Lookup) -> bool {
    matches!(eval(e, env), V::Bool(true))
}

/// The value of `e`.
pub fn eval(e: &Expr, env: &dyn Lookup) -> V {
    match e {
        Expr::Money(d) | Expr::Number(d) | Expr::Percent(d) => V::Num(*d),
        Expr::Duration(d) => V::Num(d.amount),
        Expr::Date(s) | Expr::Text(s) | Expr::Group(s) => V::Text(s.clone()),
        Expr::Org { id, .. } => V::Text(id.clone()),
        Expr::Bool(b) => V::Bool(*b),
        Expr::None => V::None,
        Expr::Field(path) => env.field(path),
        Expr::Logic { op, args } => {
            let a = holds(&args.0, env);
            V::Bool(match op {
                LogicOp::And => a && holds(&args.1, env),
                LogicOp::Or => a || holds(&args.1, env),
            })
        }
        Expr::Not(a) => V::Bool(!holds(a, env)),
        Expr::Compare { op, args, within } => {
            let (a, b) = (eval(&args.0, env), eval(&args.1, env));
            V::Bool(compare(
                *op,
                &a,
                &b,
                within.as_deref().map(|w| (w, eval(w, env))),
            ))
        }
        Expr::In { value, list } => {
            let v = eval(value, env);
            V::Bool(list.iter().any(|x| eval(x, env) == v))
        }
        Expr::Call { function, args } => {
            let nums: Vec<Decimal> = args
                .iter()
                .filter_map(|a| {
                    if let V::Num(n) = eval(a, env) {
                        Some(n)
                    } else {
                        None
                    }
                })
                .collect();
            if nums.len() != args.len() || nums.is_empty() {
                return V::None;
            }
            match function.as_str() {
                "min" => nums.into_iter().min().map_or(V::None, V::Num),
                "max" => nums.into_iter().max().map_or(V::None, V::Num),
                _ => V::None,
            }
        }
        Expr::PercentOf { percent, value } => match eval(value, env) {
            V::Num(n) => V::Num(n * percent / Decimal::ONE_HUNDRED),
            _ => V::None,
        },
    }
}

fn compare(op: CmpOp, a: &V, b: &V, within: Option<(&Expr, V)>) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (V::Num(x), V::Num(y)) => Some(x.cmp(y)),
        (V::Text(x), V::Text(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Approx => match (a, b, within) {
            (V::Num(x), V::Num(y), Some((Expr::Percent(p), _))) => {
                (*x - *y).abs() <= y.abs() * *p / Decimal::ONE_HUNDRED
            }
            (V::Num(x), V::Num(y), Some((_, V::Num(tol)))) => (*x - *y).abs() <= tol,
            _ => false,
        },
    }
}
