//! The syntax tree of one `.paraaf` file. Every node keeps its byte span.

use rust_decimal::Decimal;
use std::ops::Range;

/// An identifier with its position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    /// The identifier as written (kebab-case).
    pub text: String,
    /// Byte range in the file.
    pub span: Range<usize>,
}

/// A parsed file: the items that parsed, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SourceAst {
    /// Top-level definitions.
    pub items: Vec<Item>,
}

/// A top-level definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// `document NAME { fields }`
    Document(DocumentDef),
    /// `substitutes HOLDER = A, B`
    Substitutes(SubstitutesDef),
    /// `group NAME = unit X | people(...) [shielded]`
    Group(GroupDef),
    /// `agency NAME "title"`
    Agency(AgencyDef),
    /// `flow NAME for KIND [when COND] { ... }`
    Flow(FlowDef),
    /// `rule NAME on EVENT [when COND] { ... }`
    Rule(RuleDef),
}

impl Item {
    /// The whole item's span.
    pub fn span(&self) -> Range<usize> {
        match self {
            Item::Document(d) => d.span.clone(),
            Item::Substitutes(d) => d.span.clone(),
            Item::Group(d) => d.span.clone(),
            Item::Agency(d) => d.span.clone(),
            Item::Flow(d) => d.span.clone(),
            Item::Rule(d) => d.span.clone(),
        }
    }
}

/// A document kind and its typed fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DocumentDef {
    /// Kind name.
    pub name: Name,
    /// `shielded by GROUP [allow FIELD]`.
    pub shield: Option<Shield>,
    /// Fields in declaration order.
    pub fields: Vec<FieldDef>,
    /// Whole definition.
    pub span: Range<usize>,
}

/// `shielded by GROUP [allow FIELD]` on a document kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shield {
    /// The group no document of the kind may leave.
    pub group: Name,
    /// The person field whose person may read and sign too (the employee concerned).
    pub allow: Option<Name>,
    /// The whole clause.
    pub span: Range<usize>,
}

/// `name: type[?]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldDef {
    /// Field name.
    pub name: Name,
    /// Declared type.
    pub ty: TypeRef,
}

/// A type as written: a name and an optional marker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeRef {
    /// `text`, `money`, `unit`, ...
    pub name: Name,
    /// Whether `?` follows.
    pub optional: bool,
    /// `in NAME`: a `unit` field's value lies in that unit (or below); a `person`
    /// field's value is a member of that group.
    pub within: Option<Name>,
}

/// Who signs: a function, mandate or person, optionally restricted to a unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignerRef {
    /// Function, mandate or person id.
    pub name: Name,
    /// `of UNIT` or `of document.field`.
    pub of: Option<Path>,
    /// Whole reference.
    pub span: Range<usize>,
}

/// Ordered substitutes of a holder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubstitutesDef {
    /// Whose substitutes these are.
    pub holder: SignerRef,
    /// In order of preference.
    pub substitutes: Vec<SignerRef>,
    /// Whole definition.
    pub span: Range<usize>,
}

/// A visibility group.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupDef {
    /// Group name.
    pub name: Name,
    /// Who belongs to it.
    pub members: GroupMembers,
    /// Span of the `shielded` keyword, if present.
    pub shielded: Option<Range<usize>>,
    /// Whole definition.
    pub span: Range<usize>,
}

/// Members of a group.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GroupMembers {
    /// Everyone holding a position in a unit (or its sub-units).
    Unit(Name),
    /// The holders of the listed functions, mandates or persons.
    People(Vec<SignerRef>),
    /// Several terms joined with `+`: everyone in any of them.
    Union(Vec<GroupMembers>),
}

impl GroupMembers {
    /// The terms: itself, or the parts of a union.
    pub fn terms(&self) -> Vec<&GroupMembers> {
        match self {
            GroupMembers::Union(parts) => parts.iter().flat_map(|p| p.terms()).collect(),
            other => vec![other],
        }
    }
}

/// A creditor agency (for withholdings).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AgencyDef {
    /// Agency id.
    pub name: Name,
    /// Display name.
    pub title: String,
    /// Whole definition.
    pub span: Range<usize>,
}

/// A signing flow for one document kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowDef {
    /// Flow name.
    pub name: Name,
    /// Document kind it handles.
    pub kind: Name,
    /// When the flow applies.
    pub when: Option<Expr>,
    /// `visible to` audiences (all clauses together).
    pub visible: Vec<Audience>,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// `on refused` behaviour.
    pub on_refused: Option<Refused>,
    /// Deadline.
    pub deadline: Option<Deadline>,
    /// Whole definition.
    pub span: Range<usize>,
}

/// Who may see a document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The person who submitted it.
    Uploader(Range<usize>),
    /// Everyone who signs or signed it.
    Signers(Range<usize>),
    /// A declared group.
    Group(Name),
    /// Everyone in a unit (a unit name or a `unit` field).
    Unit(Path),
    /// Holders of a function/mandate, or a person.
    Signer(SignerRef),
}

/// One step of a flow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// Step name.
    pub name: Name,
    /// What has to happen.
    pub body: StepBody,
    /// Whole step.
    pub span: Range<usize>,
}

/// The content of a step.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StepBody {
    /// One signature.
    Sign(SignClause),
    /// Several signatures in parallel: `all` must sign, or `any` one of them.
    Parallel {
        /// `all` or `any`.
        mode: ParallelMode,
        /// The signatures.
        signs: Vec<SignClause>,
        /// Condition on the whole block.
        when: Option<Expr>,
    },
}

/// All or any of a parallel block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParallelMode {
    /// Everyone signs.
    All,
    /// One signature suffices.
    Any,
}

/// `sign SIGNER [when COND]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignClause {
    /// Who signs.
    pub signer: SignerRef,
    /// Only needed when.
    pub when: Option<Expr>,
    /// Whole clause.
    pub span: Range<usize>,
}

/// `on refused -> ...`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Refused {
    /// Back to the uploader.
    BackToUploader(Range<usize>),
    /// Back to a named step.
    BackToStep(Name),
    /// The flow ends as refused.
    Stop(Range<usize>),
}

/// `deadline N remind[, M escalate to SIGNER]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Deadline {
    /// Remind after.
    pub remind: DurationLit,
    /// Escalate after, to.
    pub escalate: Option<(DurationLit, SignerRef)>,
    /// Whole clause.
    pub span: Range<usize>,
}

/// A duration literal with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DurationLit {
    /// Amount of units.
    pub amount: Decimal,
    /// Days or workdays.
    pub unit: DurationUnit,
    /// Span.
    pub span: Range<usize>,
}

/// Unit of a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    /// Calendar days.
    Days,
    /// Days that are not weekends or holidays.
    Workdays,
}

/// An automation rule: event → condition → actions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleDef {
    /// Rule name.
    pub name: Name,
    /// Event, e.g. `invoice.received`.
    pub event: Name,
    /// When the rule applies.
    pub when: Option<Expr>,
    /// Statements.
    pub body: Vec<Stmt>,
    /// Whole definition.
    pub span: Range<usize>,
}

/// A statement in a rule body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `let NAME = VALUE`
    Let {
        /// Bound name.
        name: Name,
        /// Value.
        value: LetValue,
    },
    /// `if COND { } else { }`
    If {
        /// Condition.
        cond: Expr,
        /// Then branch.
        then: Vec<Stmt>,
        /// Else branch (empty when absent).
        otherwise: Vec<Stmt>,
    },
    /// An action.
    Action(Action),
}

/// Right-hand side of `let`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LetValue {
    /// `match SOURCE by COND`
    Match {
        /// What to match against, e.g. `purchase_order`.
        source: Name,
        /// Match condition (bare names are fields of the source record).
        by: Expr,
    },
    /// `check debts(KBO) on DATE`
    CheckDebts {
        /// Enterprise number.
        kbo: Expr,
        /// Date of the check.
        on: Expr,
        /// Span of the whole check.
        span: Range<usize>,
    },
    /// Any expression.
    Expr(Expr),
}

/// An effect of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Action {
    /// What to do.
    pub kind: ActionKind,
    /// Whole action.
    pub span: Range<usize>,
}

/// The kinds of action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// Put on a manual queue.
    Queue {
        /// Queue name.
        queue: Name,
        /// Reason shown to the person handling it.
        reason: String,
    },
    /// Link two records.
    Link {
        /// From.
        from: Path,
        /// To.
        to: Path,
    },
    /// Start a flow.
    Start {
        /// Flow name.
        flow: Name,
        /// Field values of the new document.
        args: Vec<(Name, Expr)>,
    },
    /// Withhold an amount for an agency.
    Withhold {
        /// Amount.
        amount: Expr,
        /// Optional cap (e.g. a certified debt amount).
        cap: Option<Expr>,
        /// Agency.
        agency: Name,
    },
    /// Notify someone.
    Notify {
        /// Who.
        target: SignerRef,
        /// Message.
        message: String,
    },
}

/// A dotted path: `document.dienst`, `po.dienst`, `bedrag`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// Segments in order.
    pub segments: Vec<Name>,
    /// Whole path.
    pub span: Range<usize>,
}

impl Path {
    /// The path as written, with dots.
    pub fn text(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Range<usize>,
}

/// Expression kinds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// A name or field path.
    Path(Path),
    /// `a and b`, `a or b`
    Logic(LogicOp, Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `a OP b [within X]`
    Compare {
        /// Operator.
        op: CmpOp,
        /// Left.
        lhs: Box<Expr>,
        /// Right.
        rhs: Box<Expr>,
        /// Tolerance for `~=`.
        within: Option<Box<Expr>>,
    },
    /// `a in [x, y]`
    In(Box<Expr>, Vec<Expr>),
    /// `min(a, b)`, `max(a, b)`
    Call(Name, Vec<Expr>),
    /// `35% of amount`
    PercentOf(Decimal, Box<Expr>),
}

/// `and` / `or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogicOp {
    /// Both.
    And,
    /// Either.
    Or,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    /// The operator as written.
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

/// Literal values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Literal {
    /// An amount in euro.
    Money(Decimal),
    /// A plain number.
    Number(Decimal),
    /// A percentage (35 for `35%`).
    Percent(Decimal),
    /// A duration.
    Duration(Decimal, DurationUnit),
    /// `YYYY-MM-DD`
    Date(String),
    /// A string.
    Text(String),
    /// `true` / `false`
    Bool(bool),
    /// `none`
    None,
}
