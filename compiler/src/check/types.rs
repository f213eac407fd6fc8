//! Types of the Paraaf language and the built-in records (events, purchase orders, debts).

use std::fmt;

/// A type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Text.
    Text,
    /// A plain number.
    Number,
    /// An amount in euro.
    Money,
    /// A calendar date.
    Date,
    /// A duration.
    Duration,
    /// True or false.
    Bool,
    /// A percentage.
    Percent,
    /// An organogram unit.
    Unit,
    /// An organogram function.
    Function,
    /// A mandate.
    Mandate,
    /// A person.
    Person,
    /// A visibility group.
    Group,
    /// A record (a document kind or a built-in record), by name.
    Record(String),
    /// A value that may be absent.
    Optional(Box<Ty>),
    /// The literal `none`.
    None,
    /// Error already reported; accepted everywhere to avoid follow-up errors.
    Unknown,
}

impl Ty {
    /// Parses a type name as written in a field declaration.
    pub fn from_name(name: &str) -> Option<Ty> {
        Some(match name {
            "text" => Ty::Text,
            "number" => Ty::Number,
            "money" => Ty::Money,
            "date" => Ty::Date,
            "duration" => Ty::Duration,
            "bool" => Ty::Bool,
            "unit" => Ty::Unit,
            "function" => Ty::Function,
            "mandate" => Ty::Mandate,
            "person" => Ty::Person,
            _ => return None,
        })
    }

    /// Type names accepted in field declarations.
    pub const NAMES: &'static [&'static str] = &[
        "text", "number", "money", "date", "duration", "bool", "unit", "function", "mandate",
        "person",
    ];

    /// The type without its optional marker.
    pub fn unwrap_optional(&self) -> &Ty {
        match self {
            Ty::Optional(t) => t,
            t => t,
        }
    }

    /// Whether values can be ordered with `<`.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Ty::Number | Ty::Money | Ty::Date | Ty::Duration | Ty::Percent | Ty::Unknown
        )
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Text => f.write_str("text"),
            Ty::Number => f.write_str("number"),
            Ty::Money => f.write_str("money"),
            Ty::Date => f.write_str("date"),
            Ty::Duration => f.write_str("duration"),
            Ty::Bool => f.write_str("bool"),
            Ty::Percent => f.write_str("percentage"),
            Ty::Unit => f.write_str("unit"),
            Ty::Function => f.write_str("function"),
            Ty::Mandate => f.write_str("mandate"),
            Ty::Person => f.write_str("person"),
            Ty::Group => f.write_str("group"),
            Ty::Record(n) => write!(f, "{n}"),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::None => f.write_str("none"),
            Ty::Unknown => f.write_str("unknown"),
        }
    }
}

/// A built-in record type: name and fields.
pub struct BuiltinRecord {
    /// Record name.
    pub name: &'static str,
    /// Fields and their types.
    pub fields: fn() -> Vec<(&'static str, Ty)>,
}

fn opt(t: Ty) -> Ty {
    Ty::Optional(Box::new(t))
}

/// Built-in records: the data events carry, purchase orders, match and debt-check results.
pub const RECORDS: &[BuiltinRecord] = &[
    BuiltinRecord {
        name: "invoice",
        fields: || {
            vec![
                ("number", Ty::Text),
                ("supplier", Ty::Text),
                ("supplier_name", Ty::Text),
                ("supplier_vat", opt(Ty::Text)),
                ("order_reference", opt(Ty::Text)),
                ("buyer_reference", opt(Ty::Text)),
                ("issue_date", Ty::Date),
                ("due_date", opt(Ty::Date)),
                ("amount", Ty::Money),
                ("amount_excl_vat", Ty::Money),
                ("credit_note", Ty::Bool),
                // Over- or partial invoicing of its order over all runs (set by `finance run`).
                ("flag", opt(Ty::Text)),
            ]
        },
    },
    BuiltinRecord {
        name: "payment",
        fields: || {
            vec![
                ("supplier", Ty::Text),
                ("supplier_name", Ty::Text),
                ("invoice_number", Ty::Text),
                ("category", Ty::Text),
                ("date", Ty::Date),
                ("amount", Ty::Money),
                ("amount_excl_vat", Ty::Money),
            ]
        },
    },
    BuiltinRecord {
        name: "purchase_order",
        fields: || {
            vec![
                ("reference", Ty::Text),
                ("supplier", Ty::Text),
                ("amount", Ty::Money),
                ("date", Ty::Date),
                ("dienst", Ty::Unit),
                ("category", Ty::Text),
            ]
        },
    },
    BuiltinRecord {
        name: "purchase_order_match",
        fields: || {
            let mut f = vec![
                ("none", Ty::Bool),
                ("ambiguous", Ty::Bool),
                ("found", Ty::Bool),
            ];
            f.extend((RECORDS[2].fields)());
            f
        },
    },
    BuiltinRecord {
        name: "debts",
        fields: || {
            vec![
                ("social", Ty::Bool),
                ("tax", Ty::Bool),
                ("self_employed", Ty::Bool),
                ("social_debt", Ty::Money),
                ("tax_debt", Ty::Money),
                ("self_employed_debt", Ty::Money),
                ("social_attest", opt(Ty::Money)),
                ("tax_attest", opt(Ty::Money)),
            ]
        },
    },
    BuiltinRecord {
        name: "decision",
        fields: || {
            vec![
                ("title", Ty::Text),
                ("body", Ty::Text),
                ("dienst", Ty::Unit),
                ("amount", opt(Ty::Money)),
                ("reference", Ty::Text),
            ]
        },
    },
    BuiltinRecord {
        name: "permit",
        fields: || {
            vec![
                ("reference", Ty::Text),
                ("kind", Ty::Text),
                ("applicant", Ty::Text),
                ("dienst", Ty::Unit),
            ]
        },
    },
    BuiltinRecord {
        name: "request",
        fields: || {
            vec![
                ("reference", Ty::Text),
                ("certificate", Ty::Text),
                ("citizen", Ty::Text),
            ]
        },
    },
];

/// Fields of a built-in record.
pub fn builtin_fields(name: &str) -> Option<Vec<(&'static str, Ty)>> {
    RECORDS
        .iter()
        .find(|r| r.name == name)
        .map(|r| (r.fields)())
}

/// Events rules can react to: event name, the name its record is bound to, record type.
pub const EVENTS: &[(&str, &str, &str)] = &[
    ("invoice.received", "invoice", "invoice"),
    ("payment.scheduled", "payment", "payment"),
    ("decision.received", "decision", "decision"),
    ("permit.requested", "permit", "permit"),
    ("certificate.requested", "request", "request"),
];

/// Record sources `match` can search, with the type of the match result.
pub const MATCH_SOURCES: &[(&str, &str)] = &[("purchase_order", "purchase_order_match")];

/// Built-in functions usable in expressions.
pub const FUNCTIONS: &[&str] = &["min", "max"];
