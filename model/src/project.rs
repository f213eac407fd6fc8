//! The compiled project: what the runtime loads (JSON via serde, versioned). Every name
//! is resolved to organogram ids; the runtime never re-parses source.

use crate::expr::{Duration, Expr};
use crate::organogram::Organogram;
use serde::{Deserialize, Serialize};

/// A whole compiled project.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompiledProject {
    /// Always [`SCHEMA`](crate::SCHEMA).
    pub schema: String,
    /// City of the organogram.
    pub city: String,
    /// Document kinds.
    pub documents: Vec<Document>,
    /// Visibility groups with their members today.
    pub groups: Vec<Group>,
    /// Substitutes per role.
    pub substitutes: Vec<Substitutes>,
    /// Creditor agencies.
    pub agencies: Vec<Agency>,
    /// Flows.
    pub flows: Vec<Flow>,
    /// Rules.
    pub rules: Vec<Rule>,
    /// The organogram the project was checked against, as the runtime needs it to route.
    pub organogram: Organogram,
}

/// A document kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Document {
    /// Kind name.
    pub name: String,
    /// The name people read for the kind ("Collegebesluit"), from `[kinds]` of
    /// `paraaf.toml`; absent: the kind's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Fields.
    pub fields: Vec<Field>,
    /// No document of this kind ever reaches or shows itself to anyone outside this
    /// group (the runtime re-checks it at every routing decision and read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shielded_by: Option<Shield>,
}

/// The shielding of a document kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shield {
    /// The group documents of the kind never leave.
    pub group: String,
    /// A `person` field whose person may also read and sign (the employee concerned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<String>,
}

/// Where a field's value must lie (`unit in X`, `person in GROUP`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Within {
    /// A unit field: this unit or a unit below it.
    Unit(String),
    /// A person field: a member of this group.
    Group(String),
}

/// A typed field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Type name (`money`, `unit`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    /// May be absent.
    pub optional: bool,
    /// The value must lie within this unit or group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Within>,
}

/// A visibility group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Group {
    /// Name.
    pub name: String,
    /// Documents never leave the group.
    pub shielded: bool,
    /// How membership is defined.
    pub definition: GroupDefinition,
    /// Person ids who are members today.
    pub members: Vec<String>,
}

/// Group membership rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupDefinition {
    /// Everyone in this unit and below.
    Unit(String),
    /// Holders of these signers.
    People(Vec<Signer>),
    /// Everyone in any of these.
    Union(Vec<GroupDefinition>),
}

/// Whose holder signs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signer {
    /// A person.
    Person {
        /// Person id.
        id: String,
    },
    /// A mandate's holder.
    Mandate {
        /// Mandate id.
        id: String,
    },
    /// A function's holder in a unit.
    Function {
        /// Function id.
        id: String,
        /// Where.
        unit: UnitSel,
    },
    /// The person in a document field.
    PersonField {
        /// Field name.
        field: String,
    },
}

/// Which unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitSel {
    /// Any unit.
    Any,
    /// A fixed unit id.
    Fixed(String),
    /// The unit in this document field.
    Field(String),
}

/// Substitutes of a role, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Substitutes {
    /// The role.
    pub holder: Signer,
    /// In order of preference.
    pub substitutes: Vec<Signer>,
}

/// A creditor agency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Agency {
    /// Id.
    pub name: String,
    /// Display name.
    pub title: String,
}

/// A flow.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flow {
    /// Name.
    pub name: String,
    /// Document kind.
    pub document: String,
    /// Applies when.
    pub when: Option<Expr>,
    /// Who may see the document.
    pub visible_to: Vec<Audience>,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// What a refusal does.
    pub on_refused: OnRefused,
    /// Reminder and escalation.
    pub deadline: Option<Deadline>,
}

/// Who may see a document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// The uploader.
    Uploader,
    /// All signers.
    Signers,
    /// A group.
    Group {
        /// Group name.
        name: String,
    },
    /// A unit.
    Unit {
        /// Unit.
        unit: UnitSel,
    },
    /// A signer's holders.
    Signer {
        /// Who.
        signer: Signer,
    },
}

/// One step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    /// Name.
    pub name: String,
    /// `single`, `all` or `any`.
    pub mode: StepMode,
    /// Condition of the whole step.
    pub when: Option<Expr>,
    /// Signatures.
    pub signatures: Vec<Signature>,
}

/// How signatures of a step combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepMode {
    /// One signature.
    Single,
    /// All must sign.
    All,
    /// Any one suffices.
    Any,
}

/// One signature within a step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// Who.
    pub signer: Signer,
    /// Needed only when.
    pub when: Option<Expr>,
}

/// What a refusal does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRefused {
    /// Back to the uploader (the default).
    BackToUploader,
    /// Back to a step.
    BackToStep(String),
    /// End as refused.
    Stop,
}

/// Deadline of each step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// Remind after.
    pub remind_after: Duration,
    /// Escalate after, to.
    pub escalate: Option<Escalation>,
}

/// Escalation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Escalation {
    /// After.
    pub after: Duration,
    /// To.
    pub to: Signer,
}

/// A rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// Name.
    pub name: String,
    /// Event.
    pub event: String,
    /// Applies when.
    pub when: Option<Expr>,
    /// Body.
    pub body: Vec<Stmt>,
}

/// A rule statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "stmt", rename_all = "snake_case")]
pub enum Stmt {
    /// Bind a computed value.
    Let {
        /// Name.
        name: String,
        /// Value.
        value: LetValue,
    },
    /// Branch.
    If {
        /// Condition.
        cond: Expr,
        /// Then.
        then: Vec<Stmt>,
        /// Else.
        otherwise: Vec<Stmt>,
    },
    /// Manual queue.
    Queue {
        /// Queue.
        queue: String,
        /// Reason.
        reason: String,
    },
    /// Link.
    Link {
        /// From.
        from: Vec<String>,
        /// To.
        to: Vec<String>,
    },
    /// Start a flow.
    Start {
        /// Flow.
        flow: String,
        /// Field values.
        fields: Vec<(String, Expr)>,
    },
    /// Withhold.
    Withhold {
        /// Amount.
        amount: Expr,
        /// Cap (optional amount).
        cap: Option<Expr>,
        /// Agency.
        agency: String,
    },
    /// Notify.
    Notify {
        /// Who.
        to: Signer,
        /// Message.
        message: String,
    },
}

/// Value of a `let`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetValue {
    /// Match records.
    Match {
        /// Source.
        source: String,
        /// Condition.
        by: Expr,
    },
    /// Debt check.
    CheckDebts {
        /// KBO number.
        kbo: Expr,
        /// Date.
        on: Expr,
    },
    /// Expression.
    Expr(Expr),
}
