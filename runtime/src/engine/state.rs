//! The state: a pure fold over events. `apply` never fails and never does IO.

use super::events::{Event, TaskSpec};
use crate::finance::imports::normalise_number;
use crate::org::OrgIndex;
use chrono::{DateTime, NaiveDate, Utc};
use paraaf_model::CompiledProject;
use paraaf_model::shield::ShieldIndex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A deployed project version with its organogram index.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// The compiled project as deployed.
    pub compiled: Arc<CompiledProject>,
    /// The compiled project as documents are routed now: organogram ids read through the
    /// renames of the organogram in force.
    pub project: Arc<CompiledProject>,
    /// Lookups in its organogram.
    pub org: Arc<OrgIndex>,
    /// Shields of its document kinds, with group members recomputed from definitions.
    pub shields: Arc<ShieldIndex>,
    /// Why this version breaks the shielding rules (re-verified whenever the log is
    /// folded, so an edited log is caught); nobody receives or sees its documents then.
    pub broken: Vec<String>,
}

impl Deployment {
    /// The flow with this name in this version.
    pub fn flow(&self, name: &str) -> Option<&paraaf_model::Flow> {
        self.project.flows.iter().find(|f| f.name == name)
    }
}

/// Where a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being signed.
    InProgress,
    /// Every step signed.
    Completed,
    /// Refused, back with the uploader.
    Returned,
    /// Refused and stopped.
    Stopped,
}

impl Status {
    /// As stored in projections.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Returned => "returned",
            Status::Stopped => "stopped",
        }
    }
}

/// State of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for a signature.
    Open,
    /// Signed.
    Signed,
    /// Refused.
    Refused,
    /// No longer needed.
    Cancelled,
}

impl TaskStatus {
    /// As stored in projections (the same words as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Signed => "signed",
            TaskStatus::Refused => "refused",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

/// A task and what happened to it. Serialised flat (the spec's fields beside the
/// task's); read back through [`TaskRepr`], since serde's `flatten` is slow to read and a
/// snapshot holds hundreds of thousands of tasks.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "TaskRepr")]
pub struct Task {
    /// As opened.
    #[serde(flatten)]
    pub spec: TaskSpec,
    /// Step index.
    pub step: usize,
    /// Status.
    pub status: TaskStatus,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Who signed or refused, and for whom.
    pub decided_by: Option<(String, Option<String>)>,
    /// Reminder sent.
    pub reminded: bool,
    /// Escalated.
    pub escalated: bool,
    /// Who it was escalated to: the escalation role's holders (kept when substitutes
    /// change; their substitutes are asked only while they are away).
    pub escalated_to: Vec<String>,
    /// Whom an administrator put on it (`queue assign`, a plan's `[reassign]`): they keep
    /// it, whoever holds the role, while they are in the organogram in force and inside
    /// the kind's shield.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assigned: Vec<String>,
    /// Why the shield kept people from this task (the manual queue when no assignee is left).
    pub shield_refused: Option<String>,
    /// The task is overdue but its escalation found nobody to ask (why): it stays with
    /// its signers and escalates as soon as someone holds the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_waits: Option<String>,
}

/// The flat form of a [`Task`], as serialised.
#[derive(Deserialize)]
struct TaskRepr {
    id: String,
    role: String,
    signature: usize,
    holders: Vec<String>,
    assignees: Vec<String>,
    step: usize,
    status: TaskStatus,
    opened_at: DateTime<Utc>,
    decided_by: Option<(String, Option<String>)>,
    reminded: bool,
    escalated: bool,
    #[serde(default)]
    escalated_to: Vec<String>,
    #[serde(default)]
    assigned: Vec<String>,
    shield_refused: Option<String>,
    #[serde(default)]
    escalation_waits: Option<String>,
}

impl From<TaskRepr> for Task {
    fn from(r: TaskRepr) -> Task {
        Task {
            spec: TaskSpec {
                id: r.id,
                role: r.role,
                signature: r.signature,
                holders: r.holders,
                assignees: r.assignees,
            },
            step: r.step,
            status: r.status,
            opened_at: r.opened_at,
            decided_by: r.decided_by,
            reminded: r.reminded,
            escalated: r.escalated,
            escalated_to: r.escalated_to,
            assigned: r.assigned,
            shield_refused: r.shield_refused,
            escalation_waits: r.escalation_waits,
        }
    }
}

/// A document and its progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Document {
    /// Id.
    pub id: String,
    /// Project version.
    pub version: u32,
    /// Flow.
    pub flow: String,
    /// Kind.
    pub kind: String,
    /// Uploader.
    pub uploader: String,
    /// Title.
    pub title: String,
    /// Fields.
    pub fields: BTreeMap<String, Value>,
    /// SHA-256 of the content.
    pub content_sha256: String,
    /// Status.
    pub status: Status,
    /// Current step index.
    pub step: usize,
    /// All tasks, in order.
    pub tasks: Vec<Task>,
    /// The signers who see it (visibility "signers"): the holders of every task's role,
    /// whoever signed or refused, and whoever is asked now. A substitute or escalation
    /// target asked once, whose task went back or was taken by someone else before they
    /// acted, is no longer one (see [`Document::current_signers`]).
    pub signers: BTreeSet<String>,
    /// Comments: (who, text).
    pub comments: Vec<(String, String)>,
    /// Sequence numbers of the events about this document.
    pub events: Vec<u64>,
    /// Submitted at.
    pub submitted_at: DateTime<Utc>,
    /// The seal, once the completed document was sealed (#28); a completed document
    /// without one waits for sealing ([`State::waiting_for_seal`]).
    #[serde(default)]
    pub sealed: Option<Sealed>,
}

/// A completed document's seal: its sealed PDF (stored as content) and verification code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sealed {
    /// SHA-256 (hex) of the sealed PDF.
    pub sha256: String,
    /// The verification code printed on its pages.
    pub code: String,
    /// Whether the seal is time-stamped (PAdES B-T).
    pub timestamped: bool,
    /// When it was sealed.
    pub at: DateTime<Utc>,
}

impl Document {
    /// The task of the current step that `person` decided, if any (four eyes: then they
    /// sign nothing else in this step).
    pub fn decided_in_step(&self, person: &str) -> Option<&Task> {
        // The current round only: the tasks last opened (a refusal that sends the
        // document back to a step opens it anew, after its earlier tasks).
        self.tasks
            .iter()
            .rev()
            .take_while(|t| t.step == self.step)
            .find(|t| t.decided_by.as_ref().is_some_and(|(by, _)| by == person))
    }

    /// The open task `person` signs now: their own role before one they hold for someone
    /// else; none when they have no open task or already decided one of this step.
    pub fn task_for(&self, person: &str) -> Option<&Task> {
        if self.decided_in_step(person).is_some() {
            return None;
        }
        let mut mine = self.tasks.iter().filter(|t| {
            t.status == TaskStatus::Open && t.spec.assignees.iter().any(|a| a == person)
        });
        let first = mine.next()?;
        if first.spec.holders.iter().any(|h| h == person) {
            return Some(first);
        }
        Some(
            mine.find(|t| t.spec.holders.iter().any(|h| h == person))
                .unwrap_or(first),
        )
    }

    /// Re-derives what a document loaded from a snapshot holds that its tasks define
    /// (its signers, which a snapshot of an older version may have computed otherwise)
    /// and returns who is assigned an open task of it while it is in progress: the
    /// document's entries in [`State::open_tasks`]. Copies the document only when its
    /// signers change.
    pub fn derive_loaded(doc: &mut Arc<Document>) -> Vec<String> {
        let signers = doc.current_signers();
        if doc.signers != signers {
            Arc::make_mut(doc).signers = signers;
        }
        if doc.status != Status::InProgress {
            return Vec::new();
        }
        let mut open: Vec<String> = doc
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .flat_map(|t| t.spec.assignees.iter().cloned())
            .collect();
        open.sort_unstable();
        open.dedup();
        open
    }

    /// The signers as the tasks say now: holders of every task, who decided, and the
    /// assignees of open tasks.
    pub fn current_signers(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for t in &self.tasks {
            out.extend(t.spec.holders.iter().cloned());
            if let Some((by, _)) = &t.decided_by {
                out.insert(by.clone());
            }
            if t.status == TaskStatus::Open {
                out.extend(t.spec.assignees.iter().cloned());
            }
        }
        out
    }
}

/// An absence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Absence {
    /// Who.
    pub person: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// Everything the runtime knows, rebuilt from the log.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Deployed versions (index = version - 1).
    pub deployments: Vec<Deployment>,
    /// Documents by id. A persistent map of shared documents: cloning the state (a
    /// snapshot for readers) costs O(1), and a change copies only what it touches.
    pub documents: imbl::OrdMap<String, Arc<Document>>,
    /// Absences by id.
    pub absences: BTreeMap<String, Absence>,
    /// Number of the last event applied.
    pub last_seq: u64,
    /// Counter for task ids.
    pub task_count: u64,
    /// Counter for absence ids.
    pub absence_count: u64,
    /// Imported invoices by identity, until and after they are paid.
    pub invoices: imbl::OrdMap<String, Arc<ImportedInvoice>>,
    /// The organogram in force (the last deployed, with a project or on its own), its
    /// version number, and the renames of old ids every version's flows are read with.
    pub organogram: Option<OrgInForce>,
    /// Person → documents in progress where they are assigned an open task (derived:
    /// kept up to date by `apply`, rebuilt when a snapshot is loaded). The inbox reads
    /// it instead of every document.
    pub open_tasks: imbl::OrdMap<String, imbl::OrdSet<String>>,
    /// How each person chose to be told by mail (absent: the daily digest).
    pub notify: BTreeMap<String, crate::engine::NotifyMode>,
    /// Payments of pay runs the log no longer holds (a restore gave them up), by
    /// [`crate::engine::lost_key`]: the invoice waits until a person confirms with the
    /// bank; a confirmed-paid one whose invoice is not imported (yet) is marked paid when
    /// it is.
    pub lost_payments: BTreeMap<String, LostEntry>,
    /// Lost pay runs a person settled: whether the bank executed them.
    pub settled_runs: BTreeMap<String, bool>,
}

/// A payment of a lost pay run, in the state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostEntry {
    /// The proposal.
    pub payment: crate::engine::LostPayment,
    /// A person confirmed that the bank paid it (the invoice was not imported then).
    pub confirmed_paid: bool,
}

/// The organogram every decision uses now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgInForce {
    /// Organogram version (0: the one a project was compiled with).
    pub version: u32,
    /// The organogram.
    pub organogram: Arc<paraaf_model::Organogram>,
    /// Old id → new id, accumulated over organogram versions.
    pub renames: BTreeMap<String, String>,
    /// Every person id ever in force (or retired) → the identity (HR key) it was given
    /// to, first come: an id names one person for the life of the log, so the ids in
    /// events keep the key (see `org::identity`).
    #[serde(default)]
    pub identities: BTreeMap<String, String>,
    /// Identity (HR key) → how many times it came back into the organogram in force
    /// after it had left: a credential issued before the last return no longer counts
    /// (see `engine::credentials`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub returns: BTreeMap<String, u32>,
    /// Identity (HR key) → the person who left under it, as the last organogram in force
    /// that had them named them, and when they left: what `org deploy` names when the
    /// key comes back. A snapshot of before this field lacks it: the leavers are still
    /// known by [`Self::identities`], only not by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left: BTreeMap<String, Leaver>,
}

/// Someone who left the organogram in force (see [`OrgInForce::left`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaver {
    /// Their id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// When the organogram without them came into force (the time of its event).
    pub at: DateTime<Utc>,
    /// The organogram version without them.
    pub version: u32,
}

impl OrgInForce {
    /// The identities after `org` comes into force on top of `before`: the ids it and
    /// its `[retired]` give, never overwriting an id's first owner.
    pub fn identities_with(
        before: Option<&OrgInForce>,
        org: &paraaf_model::Organogram,
    ) -> BTreeMap<String, String> {
        let mut out = before.map(|o| o.identities.clone()).unwrap_or_default();
        for p in &org.people {
            out.entry(p.id.clone()).or_insert_with(|| p.identity());
        }
        for (id, who) in &org.retired {
            out.entry(id.clone()).or_insert_with(|| who.clone());
        }
        out
    }

    /// The return counts after `org` comes into force on top of `before`: one more for
    /// each person of `org` who is not in `before` (by identity, nor by id) but whose
    /// identity was given an id there: they left and came back.
    pub fn returns_with(
        before: Option<&OrgInForce>,
        org: &paraaf_model::Organogram,
    ) -> BTreeMap<String, u32> {
        let Some(before) = before else {
            return BTreeMap::new();
        };
        let mut out = before.returns.clone();
        let present: BTreeSet<String> = before
            .organogram
            .people
            .iter()
            .flat_map(|p| [p.identity(), p.id.clone()])
            .collect();
        let known: BTreeSet<&String> = before.identities.values().collect();
        for p in &org.people {
            let who = p.identity();
            if !present.contains(&who) && !present.contains(&p.id) && known.contains(&who) {
                *out.entry(who).or_insert(0) += 1;
            }
        }
        out
    }

    /// The leavers after `org` (organogram version `version`) comes into force on top of
    /// `before` at `at`: everyone of `before` whose identity `org` lacks joins them (as
    /// `before` named them), everyone `org` has again is no longer one.
    pub fn left_with(
        before: Option<&OrgInForce>,
        org: &paraaf_model::Organogram,
        at: DateTime<Utc>,
        version: u32,
    ) -> BTreeMap<String, Leaver> {
        let Some(before) = before else {
            return BTreeMap::new();
        };
        let now: BTreeSet<String> = org.people.iter().map(|p| p.identity()).collect();
        let mut out = before.left.clone();
        out.retain(|who, _| !now.contains(who));
        for p in &before.organogram.people {
            let who = p.identity();
            if !now.contains(&who) {
                out.insert(
                    who,
                    Leaver {
                        id: p.id.clone(),
                        name: p.name.clone(),
                        email: p.email.clone(),
                        at,
                        version,
                    },
                );
            }
        }
        out
    }

    /// The ids `org` gives to another person than the one they were given to before, in
    /// words: never allowed (a namesake would read and sign the first one's files).
    pub fn reused_ids(&self, org: &paraaf_model::Organogram) -> Vec<String> {
        org.people
            .iter()
            .filter_map(|p| {
                let was = self.identities.get(&p.id)?;
                // An export without keys: the same e-mail as the entry in force is the
                // same person (its key was only left out).
                let key_left_out = p.key.is_none()
                    && self.organogram.people.iter().any(|o| {
                        o.id == p.id
                            && paraaf_model::same_person(
                                (o.key.as_deref(), &o.email),
                                (None, &p.email),
                            )
                    });
                (!key_left_out
                    && !paraaf_model::is_identity(was, p.key.as_deref(), &p.email, &p.id))
                    .then(|| {
                        format!(
                            "`{}` ({}, {}) has the id of another person (`{was}`); an id is given to one person only — give the newcomer another id (`paraaf org import` does)",
                            p.id,
                            p.name,
                            p.identity()
                        )
                    })
            })
            .collect()
    }
}

/// An invoice `finance run` imported.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportedInvoice {
    /// Its approval document, if a flow started.
    pub doc: Option<String>,
    /// The invoice (JSON).
    pub invoice: Value,
    /// The matched purchase order (JSON).
    pub order: Option<Value>,
    /// When a payment was proposed, and the proposal.
    pub paid: Option<(NaiveDate, Value)>,
    /// A person's decision between it and the other documents under its invoice identity
    /// ([`crate::engine::Event::InvoiceDecided`]): payable only when it is the one chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<InvoiceDecision>,
}

/// Which document under one invoice identity a person decided is the invoice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDecision {
    /// The id of the document that is the invoice.
    pub chosen: String,
    /// Who decided.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl ImportedInvoice {
    /// Whether a person decided another document under its identity is the invoice.
    pub fn not_payable(&self, id: &str) -> bool {
        self.decided.as_ref().is_some_and(|d| d.chosen != id)
    }
}

/// A payment that counts as made ([`State::payments`]).
#[derive(Clone, Copy, Debug)]
pub struct Made<'a> {
    /// Its payment date.
    pub date: NaiveDate,
    /// The proposal (`supplier`, `iban`, `withheld`, the amounts).
    pub proposal: &'a Value,
    /// The lost pay run's payment it is, when the log does not hold its run.
    pub lost: Option<&'a crate::engine::LostPayment>,
}

/// The proposal of a lost run's payment as the invoice records it when a person
/// confirmed it paid: the run's proposal, its run and the confirmation.
fn lost_proposal(p: &crate::engine::LostPayment) -> Value {
    let mut proposal = p.proposal.clone();
    if let Some(o) = proposal.as_object_mut() {
        o.insert("run".into(), Value::String(p.run.clone()));
        o.insert(
            "confirmed_paid_by_lost_run".into(),
            Value::String(p.source.clone()),
        );
    }
    proposal
}

impl State {
    /// The id of the imported, unpaid invoice (not a credit note) of `supplier` with
    /// number `number` (compared as finance compares numbers: `normalise_number`).
    pub fn unpaid_invoice(&self, supplier: &str, number: &str) -> Option<String> {
        self.invoices
            .iter()
            .find(|(_, i)| {
                i.paid.is_none()
                    && i.invoice.get("supplier").and_then(|v| v.as_str()) == Some(supplier)
                    && i.invoice
                        .get("number")
                        .and_then(|v| v.as_str())
                        .map(normalise_number)
                        == Some(normalise_number(number))
                    && i.invoice.get("credit_note").and_then(|v| v.as_bool()) != Some(true)
            })
            .map(|(id, _)| id.clone())
    }

    /// Every payment that counts as made: each proposal the log holds (an invoice's
    /// payment, also one a person confirmed a lost pay run made) and each payment of a lost
    /// pay run not settled unpaid (a restore gave up its proposal; until a person settles
    /// the run, the bank may have executed it). What was withheld on a day and the account
    /// a supplier was last paid on are read here, so a lost run counts as a held one does.
    pub fn payments(&self) -> impl Iterator<Item = Made<'_>> {
        let held = self.invoices.values().filter_map(|i| {
            i.paid.as_ref().map(|(date, proposal)| Made {
                date: *date,
                proposal,
                lost: None,
            })
        });
        let lost = self.lost_payments.values().map(|e| Made {
            date: e.payment.date,
            proposal: &e.payment.proposal,
            lost: Some(&e.payment),
        });
        held.chain(lost)
    }

    /// The current (latest) deployment.
    pub fn current(&self) -> Option<(u32, &Deployment)> {
        self.deployments
            .last()
            .map(|d| (self.deployments.len() as u32, d))
    }

    /// A deployment by version.
    pub fn deployment(&self, version: u32) -> Option<&Deployment> {
        self.deployments.get((version as usize).checked_sub(1)?)
    }

    /// Whether `person` may receive or see a document of `kind` deployed in `version`:
    /// inside the kind's shield in that version and, when the current version shields the
    /// kind too, in today's organogram. Always true for a kind without a shield.
    pub fn inside_shield(
        &self,
        version: u32,
        kind: &str,
        fields: &BTreeMap<String, Value>,
        person: &str,
    ) -> bool {
        let in_version = self
            .deployment(version)
            .is_some_and(|d| d.broken.is_empty() && d.shields.inside(kind, fields, person));
        // Someone who left the group since (a newer organogram) is outside too.
        let in_current = self
            .current()
            .is_none_or(|(_, d)| d.shields.inside(kind, fields, person));
        in_version && in_current
    }

    /// Whether `person` has left: an organogram is in force and they are not in it (nor
    /// renamed to an id in it). People who left sign, submit and read nothing; their
    /// tokens and sessions stop working at the `org deploy` that removes them.
    pub fn has_left(&self, person: &str) -> bool {
        self.person_now(person).is_none_or(|p| p != person)
    }

    /// The id `person` (named by a token, a session or `--as`) has today: the same id,
    /// the new id of the same person after a rename (the same HR key), or `None` when
    /// they left. Before any organogram is in force, everyone is who they say.
    pub fn person_now(&self, person: &str) -> Option<String> {
        let Some(o) = &self.organogram else {
            return Some(person.to_string());
        };
        // The current deployment's index is built on the organogram in force: a set
        // lookup, not a scan of every person (this runs on every API request).
        let present = |id: &str| match self.current() {
            Some((_, d)) => d.org.is_person(id),
            None => o.organogram.people.iter().any(|p| p.id == id),
        };
        if present(person) {
            return Some(person.to_string());
        }
        let to = o.renames.get(person)?;
        let who = o.identities.get(person)?;
        (o.identities.get(to) == Some(who) && present(to)).then(|| to.clone())
    }

    /// Every id `person` has had, sorted: the ids the organograms gave to the same
    /// identity (HR key; an id is given to one identity only). What is kept under a
    /// person's id outside the events (idempotency records, who sent content) is looked
    /// up under all of them: it follows the person across a rename or a return and never
    /// reaches a newcomer or a namesake (another identity).
    pub fn ids_of(&self, person: &str) -> Vec<String> {
        let mut ids = BTreeSet::from([person.to_string()]);
        if let Some(o) = &self.organogram
            && let Some(who) = o.identities.get(person)
        {
            ids.extend(
                o.identities
                    .iter()
                    .filter(|(_, w)| *w == who)
                    .map(|(id, _)| id.clone()),
            );
        }
        ids.into_iter().collect()
    }

    /// Completed documents whose seal is still to be made (sealing failed or has not run
    /// yet; #28), oldest first. The server's scheduler seals them (`schedule::seals`).
    pub fn waiting_for_seal(&self) -> Vec<&Document> {
        let mut out: Vec<&Document> = self
            .documents
            .values()
            .filter(|d| d.status == Status::Completed && d.sealed.is_none())
            .map(|d| d.as_ref())
            .collect();
        out.sort_by_key(|d| d.events.last().copied().unwrap_or(0));
        out
    }

    /// The document whose seal has verification code `code`, if any.
    pub fn sealed_with_code(&self, code: &str) -> Option<&Document> {
        self.documents
            .values()
            .find(|d| d.sealed.as_ref().is_some_and(|s| s.code == code))
            .map(|d| d.as_ref())
    }

    /// Whether `person` is absent on `day`.
    pub fn is_absent(&self, person: &str, day: NaiveDate) -> bool {
        self.absences
            .values()
            .any(|a| a.person == person && a.from <= day && day <= a.to)
    }

    /// Applies one event (sequence number `seq`, time `at`).
    pub fn apply(&mut self, seq: u64, at: DateTime<Utc>, event: &Event) {
        let before = event.doc().map(|id| self.open_assignees(id));
        self.apply_event(seq, at, event);
        if let Some(id) = event.doc() {
            self.refresh_signers(id);
        }
        if let (Some(id), Some(before)) = (event.doc(), before) {
            let after = self.open_assignees(id);
            for gone in before.difference(&after) {
                if let Some(set) = self.open_tasks.get_mut(gone) {
                    set.remove(id);
                    if set.is_empty() {
                        self.open_tasks.remove(gone);
                    }
                }
            }
            for new in after.difference(&before) {
                self.open_tasks
                    .entry(new.clone())
                    .or_default()
                    .insert(id.to_string());
            }
        }
    }

    fn refresh_signers(&mut self, id: &str) {
        let Some(now) = self.documents.get(id).map(|d| d.current_signers()) else {
            return;
        };
        if self.documents.get(id).is_some_and(|d| d.signers != now)
            && let Some(d) = self.doc_mut(id)
        {
            d.signers = now;
        }
    }

    /// Who is assigned an open task of `doc`, while it is in progress.
    fn open_assignees(&self, doc: &str) -> BTreeSet<String> {
        self.documents
            .get(doc)
            .filter(|d| d.status == Status::InProgress)
            .map(|d| {
                d.tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Open)
                    .flat_map(|t| t.spec.assignees.iter().cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Rebuilds the derived indexes from the documents (after loading a snapshot).
    pub fn reindex(&mut self) {
        let mut pairs = Vec::new();
        self.documents = std::mem::take(&mut self.documents)
            .into_iter()
            .map(|(id, mut doc)| {
                pairs.extend(
                    Document::derive_loaded(&mut doc)
                        .into_iter()
                        .map(|p| (p, id.clone())),
                );
                (id, doc)
            })
            .collect();
        self.index_open_tasks(pairs);
    }

    /// Sets the inbox index from `(person, document)` pairs, as [`Document::derive_loaded`]
    /// returns them (the snapshot decoder derives them on every core, chunk by chunk).
    pub fn index_open_tasks(&mut self, mut pairs: Vec<(String, String)>) {
        pairs.sort_unstable();
        pairs.dedup();
        let mut index = imbl::OrdMap::new();
        let mut pairs = pairs.into_iter().peekable();
        while let Some((person, doc)) = pairs.next() {
            let mut docs = imbl::OrdSet::unit(doc);
            while let Some((_, doc)) = pairs.next_if(|(p, _)| *p == person) {
                docs.insert(doc);
            }
            index.insert(person, docs);
        }
        self.open_tasks = index;
    }

    fn apply_event(&mut self, seq: u64, at: DateTime<Utc>, event: &Event) {
        self.last_seq = seq;
        if let Some(id) = event.doc()
            && let Some(d) = self.doc_mut(id)
        {
            d.events.push(seq);
        }
        match event {
            Event::ProjectDeployed { project, .. } => {
                // A project brings the organogram it was compiled with; it is in force.
                // The same organogram as in force (the rule after `org deploy`) keeps
                // its renames: older versions still name the old ids.
                let version = self.organogram.as_ref().map_or(0, |o| o.version);
                let renames = match &self.organogram {
                    Some(o) if *o.organogram == project.organogram => o.renames.clone(),
                    _ => BTreeMap::new(),
                };
                let identities =
                    OrgInForce::identities_with(self.organogram.as_ref(), &project.organogram);
                let returns =
                    OrgInForce::returns_with(self.organogram.as_ref(), &project.organogram);
                let left = OrgInForce::left_with(
                    self.organogram.as_ref(),
                    &project.organogram,
                    at,
                    version,
                );
                self.organogram = Some(OrgInForce {
                    version,
                    organogram: Arc::new(project.organogram.clone()),
                    renames,
                    identities,
                    returns,
                    left,
                });
                self.push_deployment(Arc::new((**project).clone()));
                self.reindex_deployments();
            }
            Event::OrganogramDeployed {
                version,
                organogram,
                renames,
                ..
            } => {
                let mut all = self
                    .organogram
                    .as_ref()
                    .map(|o| o.renames.clone())
                    .unwrap_or_default();
                // a → b then b → c: a → c.
                for v in all.values_mut() {
                    if let Some(n) = renames.get(v) {
                        *v = n.clone();
                    }
                }
                all.extend(renames.clone());
                // Unit and person fields of every document name organogram entries by
                // id: read them through the renames too (`dienst = bevolking` after the
                // merge into `loket`; `medewerker` after a person's new id).
                let changed: Vec<(String, Vec<(String, String)>)> = self
                    .documents
                    .values()
                    .filter_map(|d| {
                        let dep = self.deployment(d.version)?;
                        let kind = dep.compiled.documents.iter().find(|k| k.name == d.kind)?;
                        let edits: Vec<(String, String)> = kind
                            .fields
                            .iter()
                            .filter(|f| f.ty == "unit" || f.ty == "person")
                            .filter_map(|f| {
                                let v = d.fields.get(&f.name)?.as_str()?;
                                Some((f.name.clone(), renames.get(v)?.clone()))
                            })
                            .collect();
                        (!edits.is_empty()).then(|| (d.id.clone(), edits))
                    })
                    .collect();
                for (id, edits) in changed {
                    if let Some(d) = self.doc_mut(&id) {
                        for (field, value) in edits {
                            d.fields.insert(field, Value::String(value));
                        }
                    }
                }
                // A person under a new id (the same HR key: a marriage) keeps what they
                // uploaded and signed; only a rename between ids of one identity does.
                let identities = OrgInForce::identities_with(self.organogram.as_ref(), organogram);
                let people: BTreeMap<&str, &str> = renames
                    .iter()
                    .filter(|(from, to)| {
                        matches!((identities.get(*from), identities.get(*to)), (Some(a), Some(b)) if a == b)
                    })
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                if !people.is_empty() {
                    let touched: Vec<String> = self
                        .documents
                        .values()
                        .filter(|d| {
                            people.contains_key(d.uploader.as_str())
                                || d.signers.iter().any(|s| people.contains_key(s.as_str()))
                                || d.tasks.iter().any(|t| {
                                    t.escalated_to
                                        .iter()
                                        .chain(&t.assigned)
                                        .any(|s| people.contains_key(s.as_str()))
                                })
                        })
                        .map(|d| d.id.clone())
                        .collect();
                    let now =
                        |s: &String| people.get(s.as_str()).map_or(s.clone(), |t| t.to_string());
                    for id in touched {
                        if let Some(d) = self.doc_mut(&id) {
                            d.uploader = now(&d.uploader);
                            d.signers = d.signers.iter().map(now).collect();
                            for t in &mut d.tasks {
                                t.spec.holders = t.spec.holders.iter().map(now).collect();
                                t.spec.assignees = t.spec.assignees.iter().map(now).collect();
                                t.escalated_to = t.escalated_to.iter().map(now).collect();
                                t.assigned = t.assigned.iter().map(now).collect();
                                if let Some((by, _)) = &mut t.decided_by {
                                    *by = now(by);
                                }
                            }
                        }
                    }
                    for (from, to) in &people {
                        if let Some(set) = self.open_tasks.remove(*from) {
                            self.open_tasks
                                .entry(to.to_string())
                                .or_default()
                                .extend(set);
                        }
                    }
                }
                let returns = OrgInForce::returns_with(self.organogram.as_ref(), organogram);
                let left =
                    OrgInForce::left_with(self.organogram.as_ref(), organogram, at, *version);
                self.organogram = Some(OrgInForce {
                    version: *version,
                    organogram: Arc::new((**organogram).clone()),
                    renames: all,
                    identities,
                    returns,
                    left,
                });
                self.reindex_deployments();
            }
            Event::TaskMoved {
                doc,
                task,
                holders,
                assignees,
                role,
                assigned,
                ..
            } => {
                if let Some(t) = self.task_mut(doc, task) {
                    t.spec.holders = holders.clone();
                    t.spec.assignees = assignees.clone();
                    if let Some(r) = role {
                        t.spec.role = r.clone();
                    }
                    t.shield_refused = None;
                    // An assignment ends when its person is taken off the task (they left,
                    // or left the shield); one given now stands from here.
                    t.assigned.retain(|a| assignees.contains(a));
                    for a in assigned {
                        if assignees.contains(a) && !t.assigned.contains(a) {
                            t.assigned.push(a.clone());
                        }
                    }
                }
            }
            Event::FilesHandedOver {
                doc, to, fields, ..
            } => {
                if let Some(d) = self.doc_mut(doc) {
                    for f in fields {
                        d.fields.insert(f.clone(), Value::String(to.clone()));
                    }
                }
            }
            Event::SnapshotTaken { .. } => {}
            Event::DocumentSubmitted {
                doc,
                version,
                flow,
                kind,
                uploader,
                fields,
                content_sha256,
                title,
            } => {
                self.documents.insert(
                    doc.clone(),
                    Arc::new(Document {
                        id: doc.clone(),
                        version: *version,
                        flow: flow.clone(),
                        kind: kind.clone(),
                        uploader: uploader.clone(),
                        title: title.clone(),
                        fields: fields.clone(),
                        content_sha256: content_sha256.clone(),
                        status: Status::InProgress,
                        step: 0,
                        tasks: Vec::new(),
                        signers: BTreeSet::new(),
                        comments: Vec::new(),
                        events: vec![seq],
                        submitted_at: at,
                        sealed: None,
                    }),
                );
            }
            Event::StepOpened {
                doc, step, tasks, ..
            } => {
                self.task_count += tasks.len() as u64;
                if let Some(d) = self.doc_mut(doc) {
                    d.step = *step;
                    for t in tasks {
                        d.tasks.push(Task {
                            spec: t.clone(),
                            step: *step,
                            status: TaskStatus::Open,
                            opened_at: at,
                            decided_by: None,
                            reminded: false,
                            escalated: false,
                            escalated_to: Vec::new(),
                            assigned: Vec::new(),
                            shield_refused: None,
                            escalation_waits: None,
                        });
                    }
                }
            }
            Event::StepSkipped { doc, step, .. } => {
                if let Some(d) = self.doc_mut(doc) {
                    d.step = *step;
                }
            }
            Event::Signed {
                doc,
                task,
                by,
                for_whom,
            }
            | Event::Refused {
                doc,
                task,
                by,
                for_whom,
                ..
            } => {
                let status = if matches!(event, Event::Signed { .. }) {
                    TaskStatus::Signed
                } else {
                    TaskStatus::Refused
                };
                if let Some(t) = self.task_mut(doc, task) {
                    t.status = status;
                    t.decided_by = Some((by.clone(), for_whom.clone()));
                }
            }
            Event::Commented { doc, by, text } => {
                if let Some(d) = self.doc_mut(doc) {
                    d.comments.push((by.clone(), text.clone()));
                }
            }
            Event::TaskReassigned {
                doc,
                task,
                assignees,
                ..
            }
            | Event::Escalated {
                doc,
                task,
                to: assignees,
                ..
            } => {
                let escalated = match event {
                    // The escalation is the holders' when `to` substitute for them.
                    Event::Escalated { for_whom, .. } if !for_whom.is_empty() => Some(for_whom),
                    Event::Escalated { .. } => Some(assignees),
                    _ => None,
                };
                if let Some(t) = self.task_mut(doc, task) {
                    if let Some(targets) = escalated {
                        t.escalated = true;
                        t.escalation_waits = None;
                        for a in targets {
                            if !t.escalated_to.contains(a) {
                                t.escalated_to.push(a.clone());
                            }
                        }
                        for a in assignees {
                            if !t.spec.assignees.contains(a) {
                                t.spec.assignees.push(a.clone());
                            }
                        }
                    } else {
                        t.spec.assignees = assignees.clone();
                        t.assigned.retain(|a| assignees.contains(a));
                    }
                }
            }
            Event::EscalationUnreached { doc, task, reason } => {
                if let Some(t) = self.task_mut(doc, task) {
                    t.escalation_waits = Some(reason.clone());
                }
            }
            Event::ShieldRefused {
                doc, task, reason, ..
            } => {
                if let Some(t) = self.task_mut(doc, task) {
                    t.shield_refused = Some(reason.clone());
                }
            }
            Event::TasksCancelled { doc, tasks } => {
                for id in tasks {
                    if let Some(t) = self.task_mut(doc, id) {
                        t.status = TaskStatus::Cancelled;
                    }
                }
            }
            Event::Reminded { doc, task } => {
                if let Some(t) = self.task_mut(doc, task) {
                    t.reminded = true;
                }
            }
            Event::DocumentCompleted { doc } => self.set_status(doc, Status::Completed),
            Event::DocumentSealed {
                doc,
                sha256,
                code,
                timestamped,
            } => {
                if let Some(d) = self.doc_mut(doc) {
                    d.sealed = Some(Sealed {
                        sha256: sha256.clone(),
                        code: code.clone(),
                        timestamped: *timestamped,
                        at,
                    });
                }
            }
            Event::DocumentReturned { doc } => self.set_status(doc, Status::Returned),
            Event::DocumentStopped { doc } => self.set_status(doc, Status::Stopped),
            Event::AbsenceAdded {
                id,
                person,
                from,
                to,
            } => {
                self.absence_count += 1;
                self.absences.insert(
                    id.clone(),
                    Absence {
                        person: person.clone(),
                        from: *from,
                        to: *to,
                    },
                );
            }
            Event::AbsenceWithdrawn { id, .. } => {
                self.absences.remove(id);
            }
            Event::NotificationsChosen { person, mode } => {
                self.notify.insert(person.clone(), *mode);
            }
            Event::DebtsChecked { .. } => {}
            Event::InvoiceImported {
                id,
                doc,
                invoice,
                order,
            } => {
                // An invoice a lost pay run paid (a person confirmed it) is paid.
                let paid = (!self.lost_payments.is_empty())
                    .then(|| {
                        let record = invoice;
                        let key = crate::engine::lost_key(
                            record.get("supplier")?.as_str()?,
                            record.get("number")?.as_str()?,
                        );
                        self.lost_payments
                            .get(&key)
                            .filter(|e| e.confirmed_paid)
                            .map(|e| (key, (e.payment.date, lost_proposal(&e.payment))))
                    })
                    .flatten()
                    .map(|(key, paid)| {
                        self.lost_payments.remove(&key);
                        paid
                    });
                self.invoices.insert(
                    id.clone(),
                    Arc::new(ImportedInvoice {
                        doc: doc.clone(),
                        invoice: invoice.clone(),
                        order: order.clone(),
                        paid,
                        decided: None,
                    }),
                );
            }
            Event::InvoiceDecided {
                chosen,
                not_payable,
                by,
                reason,
                matched,
            } => {
                let decision = InvoiceDecision {
                    chosen: chosen.clone(),
                    by: by.clone(),
                    reason: reason.clone(),
                    at,
                };
                // In the history of every approval document it concerns.
                let docs: Vec<String> = std::iter::once(chosen)
                    .chain(not_payable)
                    .filter_map(|id| self.invoices.get(id)?.doc.clone())
                    .collect();
                for doc in docs {
                    if let Some(d) = self.doc_mut(&doc)
                        && d.events.last() != Some(&seq)
                    {
                        d.events.push(seq);
                    }
                }
                for id in std::iter::once(chosen).chain(not_payable) {
                    if let Some(i) = self.invoices.get_mut(id).map(Arc::make_mut) {
                        i.decided = Some(decision.clone());
                    }
                }
                // The chosen document waited in the manual queue: now it is matched.
                if let Some(m) = matched
                    && let Some(i) = self.invoices.get_mut(chosen).map(Arc::make_mut)
                {
                    i.doc = m.doc.clone();
                    i.order = m.order.clone();
                    if let Some(record) = i.invoice.as_object_mut() {
                        record.insert(
                            "queue".into(),
                            serde_json::to_value(&m.queue).unwrap_or(Value::Null),
                        );
                        record.insert(
                            "flags".into(),
                            serde_json::to_value(&m.flags).unwrap_or(Value::Null),
                        );
                    }
                }
            }
            Event::PaymentProposed { id, date, proposal } => {
                if let Some(i) = self.invoices.get_mut(id).map(Arc::make_mut) {
                    i.paid = Some((*date, proposal.clone()));
                }
            }
            Event::PaymentsLost { payments, .. } => {
                for p in payments {
                    if !self.settled_runs.contains_key(&p.run) {
                        self.lost_payments.insert(
                            p.key(),
                            LostEntry {
                                payment: p.clone(),
                                confirmed_paid: false,
                            },
                        );
                    }
                }
            }
            Event::LostRunSettled {
                run,
                paid,
                payments,
            } => {
                self.settled_runs.insert(run.clone(), *paid);
                for p in payments {
                    self.lost_payments.remove(&p.key());
                    if !*paid {
                        continue;
                    }
                    match self.unpaid_invoice(p.supplier(), p.invoice()) {
                        Some(id) => {
                            if let Some(i) = self.invoices.get_mut(&id).map(Arc::make_mut) {
                                i.paid = Some((p.date, lost_proposal(p)));
                            }
                        }
                        None => {
                            self.lost_payments.insert(
                                p.key(),
                                LostEntry {
                                    payment: p.clone(),
                                    confirmed_paid: true,
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// Adds a deployed version: indexes its organogram and shields, and re-verifies the
    /// shielding rules (also when a snapshot is loaded: a second line of defence).
    pub fn push_deployment(&mut self, project: Arc<CompiledProject>) {
        let org = Arc::new(OrgIndex::new(&project.organogram));
        let shields = Arc::new(ShieldIndex::new(&project, &org));
        let mut broken = paraaf_model::shield::verify(&project, &org);
        if let Some((v, prev)) = self.current() {
            for k in prev.shields.kinds.keys() {
                if !shields.kinds.contains_key(k) {
                    broken.push(format!(
                        "version {v} shields `{k}`; this version dropped the shield"
                    ));
                }
            }
        }
        self.deployments.push(Deployment {
            compiled: project.clone(),
            project,
            org,
            shields,
            broken,
        });
    }

    /// Re-indexes every deployed version against the organogram in force: flows read
    /// through its renames, group members recomputed, shielding rules verified again.
    pub fn reindex_deployments(&mut self) {
        let Some(org) = self.organogram.clone() else {
            return;
        };
        let index = Arc::new(OrgIndex::new(&org.organogram));
        let mut prev_kinds: Option<(u32, Vec<String>)> = None;
        for (i, d) in self.deployments.iter_mut().enumerate() {
            let mut routed = paraaf_model::rename::rename_org_ids(&d.compiled, &org.renames);
            // Group members as the organogram in force defines them (the compiled list
            // was taken with the organogram the project was compiled against).
            for g in &mut routed.groups {
                g.members = paraaf_model::shield::group_members(&g.definition, &index)
                    .into_iter()
                    .collect();
            }
            let routing = Arc::new(routed);
            let shields = Arc::new(ShieldIndex::new(&routing, &index));
            // As deployed, against its own organogram (an edited log shows here), and as
            // routed now, against the organogram in force.
            let own = OrgIndex::new(&d.compiled.organogram);
            let mut broken = paraaf_model::shield::verify(&d.compiled, &own);
            for v in paraaf_model::shield::verify(&routing, &index) {
                if !broken.contains(&v) {
                    broken.push(v);
                }
            }
            if let Some((v, kinds)) = &prev_kinds {
                for k in kinds {
                    if !shields.kinds.contains_key(k) {
                        broken.push(format!(
                            "version {v} shields `{k}`; this version dropped the shield"
                        ));
                    }
                }
            }
            prev_kinds = Some((i as u32 + 1, shields.kinds.keys().cloned().collect()));
            d.project = routing;
            d.org = index.clone();
            d.shields = shields;
            d.broken = broken;
        }
    }

    /// A document to change: copied first if a reader's snapshot still shares it.
    fn doc_mut(&mut self, doc: &str) -> Option<&mut Document> {
        self.documents.get_mut(doc).map(Arc::make_mut)
    }

    fn set_status(&mut self, doc: &str, status: Status) {
        if let Some(d) = self.doc_mut(doc) {
            d.status = status;
        }
    }

    fn task_mut(&mut self, doc: &str, task: &str) -> Option<&mut Task> {
        self.doc_mut(doc)?
            .tasks
            .iter_mut()
            .find(|t| t.spec.id == task)
    }
}
