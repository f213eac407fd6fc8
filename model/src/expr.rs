//! Expressions of the compiled model and the model's own operators and durations (the
//! syntax has its own; the compiler lowers them, see `compile/lower.rs`). Their serde names
//! are those of the persisted `paraaf.compiled/1` form: never rename one.

use crate::organogram::OrgKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A duration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Duration {
    /// Amount.
    pub amount: Decimal,
    /// Unit.
    pub unit: DurationUnit,
}

/// A compiled expression; names are resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// Money in euro.
    Money(Decimal),
    /// Number.
    Number(Decimal),
    /// Percentage.
    Percent(Decimal),
    /// Duration.
    Duration(Duration),
    /// Date `YYYY-MM-DD`.
    Date(String),
    /// Text.
    Text(String),
    /// Bool.
    Bool(bool),
    /// Absent.
    None,
    /// Field path from the document or a bound record.
    Field(Vec<String>),
    /// Organogram entry.
    Org {
        /// `unit`, `function`, `mandate`, `person`.
        kind: OrgKind,
        /// Id.
        id: String,
    },
    /// Group.
    Group(String),
    /// `and`/`or`.
    Logic {
        /// Operator.
        op: LogicOp,
        /// Operands.
        args: Box<(Expr, Expr)>,
    },
    /// `not`.
    Not(Box<Expr>),
    /// Comparison.
    Compare {
        /// Operator.
        op: CmpOp,
        /// Operands.
        args: Box<(Expr, Expr)>,
        /// Tolerance.
        within: Option<Box<Expr>>,
    },
    /// Membership.
    In {
        /// Value.
        value: Box<Expr>,
        /// List.
        list: Vec<Expr>,
    },
    /// Built-in call.
    Call {
        /// Function.
        function: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// Percentage of.
    PercentOf {
        /// Percentage (35 for 35%).
        percent: Decimal,
        /// Of.
        value: Box<Expr>,
    },
}

/// `and` / `or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogicOp {
    /// Both.
    And,
    /// Either.
    Or,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `~=` (approximately, with `within`)
    #[serde(rename = "~=")]
    Approx,
}

impl CmpOp {
    /// The operator as the language writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Approx => "~=",
        }
    }
}

/// The unit of a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    /// Calendar days.
    Days,
    /// Days that are not weekends or holidays.
    Workdays,
}
