//! Events: the append-only log is the source of truth; everything else is a fold over it.

use chrono::NaiveDate;
use paraaf_model::CompiledProject;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One task: a signature someone must give.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Task id.
    pub id: String,
    /// The role, resolved for the document (`diensthoofd of bevolking`).
    pub role: String,
    /// Index of the signature within the step (to find its signer in the flow).
    pub signature: usize,
    /// Who holds the role today.
    pub holders: Vec<String>,
    /// Who may sign now (holders, or substitutes when all holders are absent).
    pub assignees: Vec<String>,
}

/// A shield that admits more people, recorded with the administrator's reason: a
/// shielded group after an organogram deployment whose migration plan mapped what it
/// names onto a larger entry (the plan's `[widen]` table), or a shielded kind of a new
/// project version (`paraaf deploy --widen-reason`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShieldWidened {
    /// The group (of a project version: the one that shields `kind` in it).
    pub group: String,
    /// Person ids who may see its files now and could not before.
    pub admits: Vec<String>,
    /// Why, in the administrator's words.
    pub reason: String,
    /// The document kind whose shield a project version widened (none for a group an
    /// organogram deployment widened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The kind's `allow` exception, when it is new or widened: the person an uploader
    /// names in this field may read the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<String>,
}

/// Something that happened. Serialised as one JSON object per log row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A compiled project became the current version. Documents keep their version.
    /// A new organogram (HR export, reorganisation): from now on every routing decision,
    /// substitute and read uses it, for documents of every flow version; old ids the flows
    /// still name are read through `renames`.
    OrganogramDeployed {
        /// Organogram version (1, 2, ...).
        version: u32,
        /// SHA-256 of its JSON.
        sha256: String,
        /// The organogram.
        organogram: Box<paraaf_model::Organogram>,
        /// Old id → new id, from the migration plan.
        #[serde(default)]
        renames: std::collections::BTreeMap<String, String>,
        /// Shielded groups the plan's renames widened, with the administrator's reason.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        shields_widened: Vec<ShieldWidened>,
    },
    /// An open task moved to other people after an organogram change: who holds its
    /// role now, and who may sign.
    TaskMoved {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// The role's holders now.
        holders: Vec<String>,
        /// Who may sign now.
        assignees: Vec<String>,
        /// The role's new label, when the organogram renamed it (`diensthoofd of
        /// burgerzaken` after a merge).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// Why, in words (organogram version, old and new signer).
        reason: String,
        /// Who of `assignees` an administrator put on the task (`queue assign`, a plan's
        /// `[reassign]`): they keep it, whoever holds the role, until they leave the
        /// organogram or the kind's shield.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        assigned: Vec<String>,
    },
    /// The state after event `seq` was saved as a snapshot whose JSON has this SHA-256
    /// (start-up loads it and replays only later events). Changes nothing.
    SnapshotTaken {
        /// The last event the snapshot contains.
        seq: u64,
        /// SHA-256 (hex) of the snapshot's JSON.
        sha256: String,
    },
    ProjectDeployed {
        /// Version number (1, 2, ...).
        version: u32,
        /// SHA-256 of the compiled JSON.
        sha256: String,
        /// The compiled project.
        project: Box<CompiledProject>,
        /// Shielded groups this version widened (`paraaf deploy --widen-reason`), whom
        /// each admits and the administrator's reason.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        shields_widened: Vec<ShieldWidened>,
    },
    /// A document was submitted.
    DocumentSubmitted {
        /// Document id.
        doc: String,
        /// Version of the project it runs on.
        version: u32,
        /// Flow that handles it.
        flow: String,
        /// Document kind.
        kind: String,
        /// Who submitted it.
        uploader: String,
        /// Field values (normalised).
        fields: BTreeMap<String, Value>,
        /// SHA-256 of the content file.
        content_sha256: String,
        /// Title shown in lists.
        title: String,
    },
    /// A step started; its tasks are open.
    StepOpened {
        /// Document.
        doc: String,
        /// Step index in the flow.
        step: usize,
        /// Step name.
        name: String,
        /// The tasks.
        tasks: Vec<TaskSpec>,
    },
    /// A step was not needed (its conditions do not hold).
    StepSkipped {
        /// Document.
        doc: String,
        /// Step index.
        step: usize,
        /// Step name.
        name: String,
    },
    /// A task was signed.
    Signed {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// Who signed.
        by: String,
        /// For whom, when a substitute signed.
        for_whom: Option<String>,
    },
    /// A task was refused.
    Refused {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// Who refused.
        by: String,
        /// For whom, when a substitute refused.
        for_whom: Option<String>,
        /// Why.
        reason: String,
    },
    /// A comment.
    Commented {
        /// Document.
        doc: String,
        /// Who.
        by: String,
        /// Text.
        text: String,
    },
    /// A person's files handed over to another by the migration plan's `[reassign]`
    /// (`org deploy --plan`): the person fields of this document that named `from`
    /// name `to` from now on. The tasks `from` was asked for move by `task_moved` events
    /// with the same reason; `from` keeps their past (uploads, signatures).
    FilesHandedOver {
        /// Document.
        doc: String,
        /// Whose files they were.
        from: String,
        /// Who takes them over.
        to: String,
        /// The person fields that named `from`.
        fields: Vec<String>,
        /// Why, in the administrator's words.
        reason: String,
    },
    /// Who may sign a task changed (absence, return, escalation).
    TaskReassigned {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// Who may sign now.
        assignees: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Open tasks that are no longer needed (another signed an `any` step; refusal).
    TasksCancelled {
        /// Document.
        doc: String,
        /// Tasks.
        tasks: Vec<String>,
    },
    /// A reminder was sent for a task.
    Reminded {
        /// Document.
        doc: String,
        /// Task.
        task: String,
    },
    /// A task was escalated.
    Escalated {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// Who is asked now: the escalation role's holders, or their substitutes while
        /// they are away.
        to: Vec<String>,
        /// The holders `to` substitute for (all of them away): the escalation is theirs,
        /// and goes to them when they are back. Empty when `to` are the holders.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        for_whom: Vec<String>,
    },
    /// An overdue task could not be escalated: nobody holds the role it escalates to (a
    /// vacancy, holders absent without a substitute, or only people outside the shield).
    /// The task stays with its signers; the escalation happens at the first tick after
    /// someone holds the role.
    EscalationUnreached {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// Why, in words.
        reason: String,
    },
    /// All steps are signed.
    DocumentCompleted {
        /// Document.
        doc: String,
    },
    /// The completed document was sealed (#28): its sealed PDF (the original bytes, the
    /// evidence page and the city's PAdES seal) is stored as content with this SHA-256,
    /// and `code` is the verification code printed on its pages.
    DocumentSealed {
        /// Document.
        doc: String,
        /// SHA-256 (hex) of the sealed PDF.
        sha256: String,
        /// The verification code (`K7QF-3M9X-T2PA`).
        code: String,
        /// Whether the seal carries an RFC 3161 time stamp (PAdES B-T).
        timestamped: bool,
    },
    /// Refused and sent back to the uploader.
    DocumentReturned {
        /// Document.
        doc: String,
    },
    /// Refused and stopped.
    DocumentStopped {
        /// Document.
        doc: String,
    },
    /// The shield of the document's kind kept people from receiving it (the second line
    /// of defence: the checker should have refused the flow). When nobody inside is left,
    /// the task waits in the manual queue with this reason.
    ShieldRefused {
        /// Document.
        doc: String,
        /// Task.
        task: String,
        /// Who was kept out.
        refused: Vec<String>,
        /// Why, in words.
        reason: String,
    },
    /// An invoice was imported (by `finance run`): what it says and the purchase order it
    /// was matched to, kept until it is paid; `doc` is its approval flow, if one started.
    InvoiceImported {
        /// Identity: SHA-256 of seller, number and issue date.
        id: String,
        /// The approval document, if a flow started (none: the manual queue).
        doc: Option<String>,
        /// The invoice as parsed (JSON).
        invoice: Value,
        /// The matched purchase order (JSON), if any.
        order: Option<Value>,
    },
    /// A person decided which of the documents recorded under one invoice identity
    /// (seller, number without case or separators, issue date, type) is the invoice:
    /// the others are not payable (their approval flows, if in progress, are stopped).
    /// Until then neither is paid.
    InvoiceDecided {
        /// The document that is the invoice (its id among the imported invoices).
        chosen: String,
        /// The other documents under the same identity: not payable.
        not_payable: Vec<String>,
        /// Who decided.
        by: String,
        /// Why (recorded).
        reason: String,
        /// When the chosen document waited in the manual queue: what matching it to its
        /// purchase order with the rules in force gave.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matched: Option<Rematched>,
    },
    /// A payment was proposed for an approved invoice (by `finance pay`).
    PaymentProposed {
        /// The invoice identity.
        id: String,
        /// Payment date.
        date: NaiveDate,
        /// The proposal (JSON: amounts to the supplier and per agency, or why blocked).
        proposal: Value,
    },
    /// A person will be absent (inclusive dates).
    AbsenceAdded {
        /// Absence id.
        id: String,
        /// Who.
        person: String,
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// An absence was withdrawn.
    AbsenceWithdrawn {
        /// Absence id.
        id: String,
        /// Why, when not withdrawn by hand: the person left the organogram, or it moved
        /// to their new id (`organogram version 2: …`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A person chose how they are told of their tasks by mail (the web app's settings).
    NotificationsChosen {
        /// Who.
        person: String,
        /// Their choice.
        mode: NotifyMode,
    },
    /// A debts check before a payment (withholding obligation): what was asked, a hash
    /// of the answer, and the decision.
    DebtsChecked {
        /// Invoice.
        invoice: String,
        /// The request made.
        request: String,
        /// SHA-256 of the raw response (empty when none came).
        response_sha256: String,
        /// What was decided.
        decision: String,
    },
    /// A restore (`paraaf admin restore`) gave up events `events` of the replaced log,
    /// and among them these payment proposals: their pay runs' files may have gone to the
    /// bank, so each invoice waits until a person confirms with the bank whether it was
    /// paid ([`Event::LostRunSettled`]).
    PaymentsLost {
        /// The events given up (`8–12`).
        events: String,
        /// The proposals those events held.
        payments: Vec<LostPayment>,
    },
    /// A person confirmed with the bank whether pay run `run`, which the log no longer
    /// holds, paid its invoices: paid ones are never proposed again, unpaid ones are
    /// proposed once more.
    LostRunSettled {
        /// The pay run.
        run: String,
        /// Whether the bank executed its transfers.
        paid: bool,
        /// Its proposals (from the restore's record or the run's `proposal.json`).
        payments: Vec<LostPayment>,
    },
}

/// A document chosen as the invoice, matched when the decision was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rematched {
    /// Its approval document, if a flow started.
    pub doc: Option<String>,
    /// The purchase order it was matched to (JSON), if any.
    pub order: Option<Value>,
    /// The manual queue and why, when it still waits for a person.
    pub queue: Option<(String, String)>,
    /// Over- or partial invoicing of its order, shown to the approver.
    pub flags: Vec<String>,
}

/// A payment proposal of a pay run the log no longer holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostPayment {
    /// The pay run (`PARAAF-20261208-…`).
    pub run: String,
    /// Its payment date.
    pub date: NaiveDate,
    /// The proposal as that run wrote it (`invoice`, `supplier`, the amounts).
    pub proposal: Value,
    /// Where it is known from: the restore that gave it up, or the file that holds it.
    pub source: String,
}

impl LostPayment {
    /// The invoice number the proposal pays.
    pub fn invoice(&self) -> &str {
        self.proposal
            .get("invoice")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// The supplier's KBO number the proposal pays.
    pub fn supplier(&self) -> &str {
        self.proposal
            .get("supplier")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// Its key in [`crate::engine::State::lost_payments`]: supplier and invoice number.
    pub fn key(&self) -> String {
        lost_key(self.supplier(), self.invoice())
    }
}

/// The key of an invoice among lost payments: its supplier's KBO number and its number
/// as finance compares numbers everywhere ([`crate::finance::imports::normalise_number`]:
/// `l 1` is `L-1`), so a re-spelled import of an invoice a lost run paid is that invoice.
pub fn lost_key(supplier: &str, number: &str) -> String {
    format!(
        "{supplier}/{}",
        crate::finance::imports::normalise_number(number)
    )
}

/// How a person is told of new tasks, reminders and returned documents by mail.
/// Escalations are always sent at once, unless they chose nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyMode {
    /// One mail a day, at the configured hour, with everything since the last one.
    #[default]
    Digest,
    /// A mail for each event, at once.
    Immediate,
    /// No mail at all.
    Nothing,
}

impl Event {
    /// The document an event is about, if any.
    pub fn doc(&self) -> Option<&str> {
        match self {
            Event::DocumentSubmitted { doc, .. }
            | Event::StepOpened { doc, .. }
            | Event::StepSkipped { doc, .. }
            | Event::Signed { doc, .. }
            | Event::Refused { doc, .. }
            | Event::Commented { doc, .. }
            | Event::TaskReassigned { doc, .. }
            | Event::TasksCancelled { doc, .. }
            | Event::Reminded { doc, .. }
            | Event::Escalated { doc, .. }
            | Event::EscalationUnreached { doc, .. }
            | Event::TaskMoved { doc, .. }
            | Event::FilesHandedOver { doc, .. }
            | Event::DocumentCompleted { doc }
            | Event::DocumentReturned { doc }
            | Event::DocumentSealed { doc, .. }
            | Event::DocumentStopped { doc }
            | Event::ShieldRefused { doc, .. } => Some(doc),
            Event::InvoiceImported { doc: Some(doc), .. } => Some(doc),
            Event::InvoiceDecided {
                matched: Some(Rematched { doc: Some(doc), .. }),
                ..
            } => Some(doc),
            _ => None,
        }
    }
}
