//! Commands: validate, then emit events. Events are applied to the state as they are
//! emitted so later decisions in the same command see them; the caller commits them to
//! the store before anyone can observe the new state.

mod handover;
mod invoices;
mod notify;
mod organogram;
mod queue;
mod seal;
mod widening;

pub use organogram::{Deployed, OrgDeployment};
pub use queue::{Queued, queued};
pub use widening::ShieldNarrowed;

use super::errors::RuntimeError;
use super::events::{Event, ShieldWidened, TaskSpec};
use super::state::{Deployment, State, Status, TaskStatus};
use crate::eval::{Env, holds};
use crate::visibility::may_see;
use crate::workdays::Calendar;
use chrono::{DateTime, NaiveDate, Utc};
use paraaf_model::{CompiledProject, SCHEMA};
use paraaf_model::{Duration as FlowDuration, OnRefused, Signer, StepMode};
use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Emits events onto a state, collecting them for the store.
pub struct Emitter<'a> {
    /// The state being changed.
    pub state: &'a mut State,
    /// The time of the command.
    pub now: DateTime<Utc>,
    /// Working days.
    pub calendar: &'a Calendar,
    /// Events emitted, with their sequence numbers.
    pub events: Vec<(u64, DateTime<Utc>, Event)>,
    /// How new documents are named.
    pub doc_ids: DocIds,
    /// Content sent with the commands (checked already), written in the same transaction
    /// as their events; a command that fails takes its content back with it.
    pub contents: Vec<crate::contents::Staged>,
    /// HR keys the administrator confirmed as people coming back (`org deploy
    /// --returning KEY`): the key of someone who left is refused otherwise, whatever the
    /// name and e-mail address (HR may have reused the number for a newcomer).
    pub returning: std::collections::BTreeSet<String>,
}

/// How [`Emitter::submit`] names a new document. The id is drawn here, in the command,
/// and recorded in the `document_submitted` event: the fold never draws anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocIds {
    /// `d-` and 16 random characters (`a`–`z`, `2`–`7`: 80 bits from the operating
    /// system's CSPRNG). An id tells nothing: not how many documents there are, not
    /// whether another one exists, not when it came (sequential ids did: `d-17` then
    /// `d-19` showed that `d-18` existed, hidden or not).
    #[default]
    Random,
    /// `d-1`, `d-2`, … in order: for states that never reach anyone, so that their
    /// output is the same at every run (`paraaf test`, `paraaf diff`).
    Numbered,
}

/// A fresh random document id (see [`DocIds::Random`]).
fn random_doc_id() -> Result<String, RuntimeError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes)
        .map_err(|e| RuntimeError::Storage(format!("no random source for a document id: {e}")))?;
    // 80 bits, 5 at a time.
    let mut bits: u128 = 0;
    for b in bytes {
        bits = bits << 8 | u128::from(b);
    }
    let mut id = String::with_capacity(18);
    id.push_str("d-");
    for i in (0..16).rev() {
        id.push(ALPHABET[(bits >> (5 * i)) as usize & 31] as char);
    }
    Ok(id)
}

/// What a submission carries.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    /// Document kind.
    pub kind: String,
    /// Uploader (person id).
    pub uploader: String,
    /// Field values as given (strings from the CLI, JSON from the API).
    pub fields: BTreeMap<String, Value>,
    /// SHA-256 of the content file.
    pub content_sha256: String,
    /// Title.
    pub title: String,
    /// The flow a rule named (`start FLOW`); it must apply to the document. `None`: the
    /// one flow whose condition holds.
    pub flow: Option<String>,
}

impl<'a> Emitter<'a> {
    /// A new emitter at `now`.
    pub fn new(state: &'a mut State, calendar: &'a Calendar, now: DateTime<Utc>) -> Emitter<'a> {
        Emitter {
            state,
            now,
            calendar,
            events: Vec::new(),
            doc_ids: DocIds::Random,
            contents: Vec::new(),
            returning: Default::default(),
        }
    }

    /// The id of the next document (see [`DocIds`]): never one that exists, nor (when
    /// random) one that reads as an older database's `d-N`, which keys the projection by
    /// its number (see `store::projection_key`).
    fn new_doc_id(&self) -> Result<String, RuntimeError> {
        match self.doc_ids {
            DocIds::Numbered => Ok(format!("d-{}", self.state.documents.len() + 1)),
            DocIds::Random => loop {
                let id = random_doc_id()?;
                if crate::store::number(&id).is_none() && !self.state.documents.contains_key(&id) {
                    return Ok(id);
                }
            },
        }
    }

    fn emit(&mut self, e: Event) {
        let seq = self.state.last_seq + 1;
        self.state.apply(seq, self.now, &e);
        self.events.push((seq, self.now, e));
    }

    /// Records that the state after event `seq` was saved as a snapshot.
    pub fn snapshot_taken(&mut self, seq: u64, sha256: String) {
        self.emit(Event::SnapshotTaken { seq, sha256 });
    }

    /// Today in Brussels (absences are Brussels dates).
    fn today(&self) -> NaiveDate {
        crate::clock::date(self.now)
    }

    /// Deploys a compiled project as the next version.
    pub fn deploy(&mut self, project: CompiledProject) -> Result<u32, RuntimeError> {
        self.deploy_reported(project).map(|d| d.version)
    }

    /// [`Emitter::deploy`], with the organogram change it brings: a project compiled
    /// against another organogram than the one in force puts its organogram in force
    /// exactly as `org deploy` without a plan would (same checks, moves, report), or is
    /// refused with the command to run first. A version that widens the shield of a kind
    /// (someone may see its files who could not) is refused: see
    /// [`Emitter::deploy_widening`].
    pub fn deploy_reported(&mut self, project: CompiledProject) -> Result<Deployed, RuntimeError> {
        self.deploy_widening(project, None)
    }

    fn deploy_checked(
        &mut self,
        project: CompiledProject,
        shields_widened: Vec<ShieldWidened>,
    ) -> Result<Deployed, RuntimeError> {
        if project.schema != SCHEMA {
            return Err(RuntimeError::Invalid(format!(
                "compiled project has schema `{}`; this runtime reads `{SCHEMA}`",
                project.schema
            )));
        }
        let twice = paraaf_model::shield::duplicate_names(&project);
        if !twice.is_empty() {
            return Err(RuntimeError::Invalid(format!(
                "the compiled project defines a name twice, so the runtime could not tell which one is meant; nothing was deployed (was the .json edited? compile it again with `paraaf compile`):\n  - {}",
                twice.join("\n  - ")
            )));
        }
        let org = crate::org::OrgIndex::new(&project.organogram);
        let violations = paraaf_model::shield::verify(&project, &org);
        if !violations.is_empty() {
            return Err(RuntimeError::Invalid(format!(
                "the compiled project breaks its shielding, nothing was deployed:\n  - {}",
                violations.join("\n  - ")
            )));
        }
        if let Some((current, dep)) = self.state.current() {
            for d in dep
                .project
                .documents
                .iter()
                .filter(|d| d.shielded_by.is_some())
            {
                let still = project
                    .documents
                    .iter()
                    .any(|n| n.name == d.name && n.shielded_by.is_some());
                if !still {
                    return Err(RuntimeError::Invalid(format!(
                        "version {current} shields `{}` (by `{}`); a new version may not drop that shield, nothing was deployed",
                        d.name,
                        d.shielded_by.as_ref().map_or("", |s| s.group.as_str())
                    )));
                }
            }
        }
        let json =
            serde_json::to_string(&project).map_err(|e| RuntimeError::Invalid(e.to_string()))?;
        let sha256 = hex::encode(Sha256::digest(json.as_bytes()));
        if self
            .state
            .current()
            .is_some_and(|(_, d)| *d.project == project)
        {
            return Err(RuntimeError::Conflict(
                "this compiled project is already the current version".into(),
            ));
        }
        // Checked last, as it records the organogram version when it passes.
        let organogram = self.redeploy_organogram(&project)?;
        let version = self.state.deployments.len() as u32 + 1;
        self.emit(Event::ProjectDeployed {
            version,
            sha256,
            project: Box::new(project),
            shields_widened: shields_widened.clone(),
        });
        Ok(Deployed {
            version,
            organogram,
            shields_widened,
            shields_narrowed: Vec::new(),
        })
    }

    /// Whether `uploader` may submit a document that names content by its hash alone.
    /// Refused when every document `uploader` submitted with that content is one they may
    /// no longer see (they moved out of its shield, or left it): what they lost sight of
    /// does not come back through a new document of another kind, which its signers would
    /// read. Allowed when one of their own documents with it is still theirs to see, and
    /// when they submitted none with it (whether they sent those bytes at all is the
    /// submit path's `contents::owned`, and reading checks it again). Only the uploader's
    /// own documents are looked at, and the refusal is worded as for a hash nobody
    /// uploaded ([`crate::contents::NOT_YOURS`]), so it tells nothing about anyone else's.
    fn content_reference_allowed(&self, uploader: &str, sha256: &str) -> Result<(), RuntimeError> {
        let mut lost = false;
        for d in self.state.documents.values() {
            if d.uploader != uploader || !d.content_sha256.eq_ignore_ascii_case(sha256) {
                continue;
            }
            if may_see(self.state, uploader, &d.id) {
                return Ok(());
            }
            lost = true;
        }
        if lost {
            Err(RuntimeError::Invalid(crate::contents::NOT_YOURS.into()))
        } else {
            Ok(())
        }
    }

    /// Submits a document; returns its id.
    pub fn submit(&mut self, sub: Submission) -> Result<String, RuntimeError> {
        let (version, dep) = self.state.current().ok_or_else(|| {
            RuntimeError::Invalid("no project is deployed; run `paraaf deploy` first".into())
        })?;
        let dep = dep.clone();
        if !dep.broken.is_empty() {
            return Err(RuntimeError::Invalid(format!(
                "version {version} breaks the shielding rules, so it accepts no documents (was the database edited? run `paraaf audit verify`): {}",
                dep.broken.join("; ")
            )));
        }
        if self.state.has_left(&sub.uploader) || !dep.org.is_person(&sub.uploader) {
            return Err(RuntimeError::Invalid(format!(
                "`{}` is not a person in the organogram",
                sub.uploader
            )));
        }
        let kinds: Vec<&str> = dep
            .project
            .documents
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        let Some(kind) = dep.project.documents.iter().find(|d| d.name == sub.kind) else {
            return Err(RuntimeError::Invalid(format!(
                "unknown document kind `{}`; kinds: {}",
                sub.kind,
                kinds.join(", ")
            )));
        };
        let mut fields = BTreeMap::new();
        for (name, value) in &sub.fields {
            let Some(f) = kind.fields.iter().find(|f| &f.name == name) else {
                let names: Vec<&str> = kind.fields.iter().map(|f| f.name.as_str()).collect();
                return Err(RuntimeError::Invalid(format!(
                    "a {} has no field `{name}`; fields: {}",
                    kind.name,
                    names.join(", ")
                )));
            };
            let v = normalise(&f.ty, value, &dep.org)
                .map_err(|why| RuntimeError::Invalid(format!("field `{name}`: {why}")))?;
            if let Some(text) = v.as_str() {
                dep.shields
                    .within(f, text, &dep.org)
                    .map_err(|why| RuntimeError::Invalid(format!("field `{name}`: {why}")))?;
            }
            if !v.is_null() {
                fields.insert(name.clone(), v);
            }
        }
        for f in &kind.fields {
            if !f.optional && !fields.contains_key(&f.name) {
                return Err(RuntimeError::Invalid(format!(
                    "the required field `{}` ({}) is missing",
                    f.name, f.ty
                )));
            }
        }
        // Members only: the `allow` exception lets the person in the field read and sign
        // their own file, never submit one (about themself or anyone).
        if let Some(sh) = dep.shields.shield(&kind.name)
            && dep.org.is_person(&sub.uploader)
            && !dep.shields.member(&kind.name, &sub.uploader)
        {
            return Err(RuntimeError::Forbidden(format!(
                "{} is not in the group `{}`; only its members may submit a {} (it is shielded{})",
                dep.org.name(&sub.uploader),
                sh.group,
                kind.name,
                match &sh.allow {
                    Some(f) => format!("; the person in `{f}` may read and sign it, not submit it"),
                    None => String::new(),
                }
            )));
        }
        let types: BTreeMap<String, String> = kind
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.ty.clone()))
            .collect();
        let env = Env {
            fields: &fields,
            types: &types,
        };
        let flows: Vec<_> = dep
            .project
            .flows
            .iter()
            .filter(|f| f.document == sub.kind && f.when.as_ref().is_none_or(|w| holds(w, &env)))
            .collect();
        if let Some(named) = &sub.flow
            && !flows.iter().any(|f| &f.name == named)
        {
            return Err(RuntimeError::Invalid(format!(
                "the flow `{named}` does not apply to this {}",
                sub.kind
            )));
        }
        let flows: Vec<_> = match &sub.flow {
            Some(named) => flows.into_iter().filter(|f| &f.name == named).collect(),
            None => flows,
        };
        let flow = match flows.as_slice() {
            [one] => one.name.clone(),
            [] => {
                return Err(RuntimeError::Invalid(format!(
                    "no flow applies to this {}",
                    sub.kind
                )));
            }
            _ => {
                return Err(RuntimeError::Invalid(format!(
                    "several flows apply to this {}",
                    sub.kind
                )));
            }
        };
        if sub.content_sha256.len() != 64
            || !sub.content_sha256.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(RuntimeError::Invalid(
                "the content's SHA-256 is missing or not 64 hexadecimal digits".into(),
            ));
        }
        // Content belongs to a document. A submission that does not bring the bytes in
        // this command may name only content its uploader brought with a document they
        // may still see: whoever moved out of a shield, or noted a hash, gets nothing
        // through a new document of another kind (the API's `contents::owned` is the
        // first line; this is the one every path passes).
        if !self.contents.iter().any(|c| c.sha256 == sub.content_sha256) {
            self.content_reference_allowed(&sub.uploader, &sub.content_sha256)?;
        }
        if sub.title.chars().count() > MAX_TITLE {
            return Err(RuntimeError::Invalid(format!(
                "the title is longer than {MAX_TITLE} characters"
            )));
        }
        if let Some(c) = sub
            .title
            .chars()
            .find(|c| super::text::forbidden(*c, false))
        {
            return Err(RuntimeError::Invalid(format!(
                "the title contains a control, text-direction or invisible formatting character (U+{:04X}); send the title as it reads",
                c as u32
            )));
        }
        if super::text::misleading_marks(&sub.title) {
            return Err(RuntimeError::Invalid(
                "the title contains a text-direction mark (U+200E, U+200F or U+061C) but no right-to-left text".into(),
            ));
        }
        // Only spaces (or nothing visible) would list as an empty, unclickable link.
        if !sub.title.is_empty() && sub.title.chars().all(super::text::invisible) {
            return Err(RuntimeError::Invalid(
                "the title is blank (only spaces or invisible characters); give a title, or leave it out to use the `titel` field".into(),
            ));
        }
        let doc = self.new_doc_id()?;
        // Without a title, a `titel` (or `title`) field is the title shown in inboxes,
        // whichever way the document came in (CLI, HTTP, webhook).
        let from_field = ["titel", "title"]
            .iter()
            .find_map(|k| fields.get(*k).and_then(|v| v.as_str()))
            .map(|t| t.chars().take(MAX_TITLE).collect::<String>())
            .filter(|t| {
                !t.trim().is_empty()
                    && !t.chars().any(|c| super::text::forbidden(c, false))
                    && !super::text::misleading_marks(t)
            });
        let title = match (sub.title.is_empty(), from_field) {
            (false, _) => sub.title,
            (true, Some(t)) => t,
            (true, None) => format!("{} {doc}", sub.kind),
        };
        self.emit(Event::DocumentSubmitted {
            doc: doc.clone(),
            version,
            flow,
            kind: sub.kind,
            uploader: sub.uploader,
            fields,
            content_sha256: sub.content_sha256,
            title,
        });
        self.advance(&doc, 0);
        Ok(doc)
    }

    /// Opens the first needed step at or after `from`, or completes the document.
    fn advance(&mut self, doc: &str, from: usize) {
        let Some(d) = self.state.documents.get(doc) else {
            return;
        };
        let Some(dep) = self.state.deployment(d.version).cloned() else {
            return;
        };
        let Some(flow) = dep.flow(&d.flow) else {
            return;
        };
        let kind = dep.project.documents.iter().find(|k| k.name == d.kind);
        let types: BTreeMap<String, String> = kind
            .map(|k| {
                k.fields
                    .iter()
                    .map(|f| (f.name.clone(), f.ty.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let fields = d.fields.clone();
        let d_kind = d.kind.clone();
        let version = d.version;
        // Task ids count within their document (after its highest, also of an older log
        // whose ids counted over all documents): a global count told a reader how many
        // tasks opened on documents they may not see.
        let task_base = d
            .tasks
            .iter()
            .filter_map(|t| t.spec.id.strip_prefix("t-")?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let env = Env {
            fields: &fields,
            types: &types,
        };
        for (i, step) in flow.steps.iter().enumerate().skip(from) {
            let active = step.when.as_ref().is_none_or(|w| holds(w, &env));
            let signatures: Vec<(usize, &Signer)> = step
                .signatures
                .iter()
                .enumerate()
                .filter(|(_, s)| active && s.when.as_ref().is_none_or(|w| holds(w, &env)))
                .map(|(j, s)| (j, &s.signer))
                .collect();
            if signatures.is_empty() {
                self.emit(Event::StepSkipped {
                    doc: doc.to_string(),
                    step: i,
                    name: step.name.clone(),
                });
                continue;
            }
            let mut tasks = Vec::new();
            let mut refusals = Vec::new();
            for (j, signer) in signatures {
                let own = dep.shields.names_allow(&d_kind, signer);
                let (holders, mut kept_out) = shield_split(
                    self.state,
                    version,
                    &d_kind,
                    &fields,
                    dep.org.holders(signer, &fields),
                    own,
                );
                let role = dep.org.role(signer, &fields);
                let (assignees, subs_out) = if own {
                    // The person in the `allow` field signs themself; nobody substitutes.
                    (holders.clone(), Vec::new())
                } else {
                    self.route(&dep, version, &d_kind, &role, &holders, &fields)
                };
                kept_out.extend(subs_out);
                let id = format!("t-{}", task_base + tasks.len() as u64 + 1);
                // A shield kept someone out, or a shielded task has nobody inside (a
                // plain vacancy is no shield matter).
                let shielded = dep.shields.shield(&d_kind).is_some();
                if !kept_out.is_empty() || shielded && assignees.is_empty() && holders.is_empty() {
                    refusals.push((id.clone(), kept_out, assignees.is_empty()));
                }
                tasks.push(TaskSpec {
                    id,
                    role,
                    signature: j,
                    holders,
                    assignees,
                });
            }
            self.emit(Event::StepOpened {
                doc: doc.to_string(),
                step: i,
                name: step.name.clone(),
                tasks,
            });
            for (task, refused, empty) in refusals {
                self.refuse_by_shield(&dep, &d_kind, doc, task, refused, empty);
            }
            return;
        }
        self.emit(Event::DocumentCompleted {
            doc: doc.to_string(),
        });
    }

    /// Who may sign for `role` today: present holders, else the first substitute with a
    /// present holder, else the holders (the task waits for them). Substitutes outside the
    /// shield of the document's kind are never chosen; they are returned second.
    fn route(
        &self,
        dep: &Deployment,
        version: u32,
        kind: &str,
        role: &str,
        holders: &[String],
        fields: &BTreeMap<String, Value>,
    ) -> (Vec<String>, Vec<String>) {
        let day = self.today();
        let present: Vec<String> = holders
            .iter()
            .filter(|p| !self.state.is_absent(p, day))
            .cloned()
            .collect();
        if !present.is_empty() {
            return (present, Vec::new());
        }
        let mut kept_out = Vec::new();
        for decl in &dep.project.substitutes {
            if dep.org.role(&decl.holder, fields) != role {
                continue;
            }
            for sub in &decl.substitutes {
                let candidates: Vec<String> = dep
                    .org
                    .holders(sub, fields)
                    .into_iter()
                    .filter(|p| !self.state.is_absent(p, day) && !holders.contains(p))
                    .collect();
                let (subs, out) =
                    shield_split(self.state, version, kind, fields, candidates, false);
                kept_out.extend(out);
                if !subs.is_empty() {
                    return (subs, kept_out);
                }
            }
        }
        (holders.to_vec(), kept_out)
    }

    /// Records that the shield kept `refused` from `task`; `empty`: nobody inside is left,
    /// so the task waits in the manual queue.
    fn refuse_by_shield(
        &mut self,
        dep: &Deployment,
        kind: &str,
        doc: &str,
        task: String,
        refused: Vec<String>,
        empty: bool,
    ) {
        let mut reason = shield_reason(dep, kind, &refused);
        if empty {
            reason.push_str("; the task waits in the manual queue for a signer inside the group");
        }
        self.emit(Event::ShieldRefused {
            doc: doc.to_string(),
            task,
            refused,
            reason,
        });
    }

    /// Finds the open task of `person` on a document they may see.
    fn open_task(&self, doc: &str, person: &str) -> Result<(String, Option<String>), RuntimeError> {
        // Someone who left signs nothing, whatever a task still says.
        if self.state.has_left(person) || !may_see(self.state, person, doc) {
            return Err(RuntimeError::NotFound);
        }
        let d = &self.state.documents[doc];
        if d.status != Status::InProgress {
            return Err(RuntimeError::Conflict(format!(
                "document {doc} is {}; nothing to sign",
                d.status.as_str()
            )));
        }
        // Four eyes: the signatures of one step come from different people, even when an
        // escalation or a substitution asks one person for two of them.
        if let Some(done) = d.decided_in_step(person)
            && d.tasks.iter().any(|t| {
                t.status == TaskStatus::Open && t.spec.assignees.iter().any(|a| a == person)
            })
        {
            return Err(RuntimeError::Forbidden(format!(
                "{person} already signed this step (as {}); its other signatures need other people",
                done.spec.role
            )));
        }
        let task = d.task_for(person).ok_or_else(|| {
            RuntimeError::Forbidden(format!("{person} has no open task on document {doc}"))
        })?;
        let for_whom =
            (!task.spec.holders.iter().any(|h| h == person)).then(|| task.spec.holders.join(", "));
        Ok((task.spec.id.clone(), for_whom))
    }

    /// `person` signs their open task on `doc`.
    pub fn sign(&mut self, doc: &str, person: &str) -> Result<(), RuntimeError> {
        let (task, for_whom) = self.open_task(doc, person)?;
        self.emit(Event::Signed {
            doc: doc.into(),
            task,
            by: person.into(),
            for_whom,
        });
        let d = &self.state.documents[doc];
        let step = d.step;
        let dep = self.state.deployment(d.version).cloned();
        let mode = dep
            .as_ref()
            .and_then(|dep| dep.flow(&d.flow).map(|f| f.steps[step].mode))
            .unwrap_or(StepMode::Single);
        let open: Vec<String> = d
            .tasks
            .iter()
            .filter(|t| t.step == step && t.status == TaskStatus::Open)
            .map(|t| t.spec.id.clone())
            .collect();
        if mode == StepMode::Any && !open.is_empty() {
            self.emit(Event::TasksCancelled {
                doc: doc.into(),
                tasks: open,
            });
            self.advance(doc, step + 1);
        } else if open.is_empty() {
            self.advance(doc, step + 1);
        }
        Ok(())
    }

    /// `person` refuses their open task on `doc`.
    pub fn refuse(&mut self, doc: &str, person: &str, reason: &str) -> Result<(), RuntimeError> {
        if reason.trim().is_empty() {
            return Err(RuntimeError::Invalid("a refusal needs a reason".into()));
        }
        super::text::check_note("the reason", reason)?;
        let (task, for_whom) = self.open_task(doc, person)?;
        self.emit(Event::Refused {
            doc: doc.into(),
            task,
            by: person.into(),
            for_whom,
            reason: reason.into(),
        });
        let d = &self.state.documents[doc];
        let open: Vec<String> = d
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .map(|t| t.spec.id.clone())
            .collect();
        let on_refused = self
            .state
            .deployment(d.version)
            .and_then(|dep| dep.flow(&d.flow).map(|f| f.on_refused.clone()))
            .unwrap_or(OnRefused::BackToUploader);
        let step_index = |name: &str| {
            self.state
                .deployment(d.version)
                .and_then(|dep| dep.flow(&d.flow))
                .and_then(|f| f.steps.iter().position(|s| s.name == name))
        };
        let back_to = match &on_refused {
            OnRefused::BackToStep(s) => step_index(s),
            _ => None,
        };
        if !open.is_empty() {
            self.emit(Event::TasksCancelled {
                doc: doc.into(),
                tasks: open,
            });
        }
        match (on_refused, back_to) {
            (OnRefused::BackToStep(_), Some(i)) => self.advance(doc, i),
            (OnRefused::Stop, _) => self.emit(Event::DocumentStopped { doc: doc.into() }),
            _ => self.emit(Event::DocumentReturned { doc: doc.into() }),
        }
        Ok(())
    }

    /// `person` comments on `doc`.
    pub fn comment(&mut self, doc: &str, person: &str, text: &str) -> Result<(), RuntimeError> {
        if !may_see(self.state, person, doc) {
            return Err(RuntimeError::NotFound);
        }
        if text.trim().is_empty() {
            return Err(RuntimeError::Invalid("the comment is empty".into()));
        }
        super::text::check_note("the comment", text)?;
        let mine = self.state.documents.get(doc).map_or(0, |d| {
            d.comments.iter().filter(|(by, _)| by == person).count()
        });
        if mine >= MAX_COMMENTS_EACH {
            return Err(RuntimeError::Conflict(format!(
                "{person} wrote {MAX_COMMENTS_EACH} comments on this document, the most one person may"
            )));
        }
        self.emit(Event::Commented {
            doc: doc.into(),
            by: person.into(),
            text: text.into(),
        });
        Ok(())
    }

    /// Records an absence and moves open tasks to substitutes.
    pub fn add_absence(
        &mut self,
        person: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<String, RuntimeError> {
        if !self
            .state
            .current()
            .is_some_and(|(_, d)| d.org.is_person(person))
        {
            return Err(RuntimeError::Invalid(format!(
                "`{person}` is not a person in the organogram"
            )));
        }
        if to < from {
            return Err(RuntimeError::Invalid(format!(
                "the absence ends ({to}) before it starts ({from})"
            )));
        }
        use chrono::Datelike;
        if !(2000..=2100).contains(&from.year()) || !(2000..=2100).contains(&to.year()) {
            return Err(RuntimeError::Invalid(format!(
                "an absence from {from} to {to} is not a real one: give dates between 2000 and 2100"
            )));
        }
        if (to - from).num_days() + 1 > MAX_ABSENCE_DAYS {
            return Err(RuntimeError::Invalid(format!(
                "an absence is at most {MAX_ABSENCE_DAYS} days long; enter a longer one in parts"
            )));
        }
        let id = format!("a-{}", self.state.absence_count + 1);
        self.emit(Event::AbsenceAdded {
            id: id.clone(),
            person: person.into(),
            from,
            to,
        });
        self.reassign("absence");
        Ok(id)
    }

    /// Withdraws an absence; tasks go back to their holders if still open.
    pub fn withdraw_absence(&mut self, id: &str) -> Result<(), RuntimeError> {
        if !self.state.absences.contains_key(id) {
            return Err(RuntimeError::Invalid(format!("there is no absence `{id}`")));
        }
        self.emit(Event::AbsenceWithdrawn {
            id: id.into(),
            reason: None,
        });
        self.reassign("absence withdrawn");
        Ok(())
    }

    /// Re-routes every open task for today's absences.
    fn reassign(&mut self, reason: &str) {
        self.reroute(Reroute::Absences(reason), &mut OrgDeployment::default());
    }

    /// Every open task routed again — the one loop for absences and organogram changes:
    /// the role's holders (recomputed from the organogram in force after an organogram
    /// change), then absences and substitutes, then whom it was escalated to (while they
    /// are still in the organogram; their substitute while they are away), then whom an
    /// administrator assigned it to (while they are in the organogram), each through the
    /// shield. A task whose signers change
    /// gets one event (`task_moved` with the reason and the new role label for an
    /// organogram change, `task_reassigned` otherwise); outsiders kept out are recorded.
    pub(super) fn reroute(&mut self, why: Reroute<'_>, report: &mut OrgDeployment) {
        let mut changes = Vec::new();
        let mut refusals = Vec::new();
        for d in self
            .state
            .documents
            .values()
            .filter(|d| d.status == Status::InProgress)
        {
            let Some(dep) = self.state.deployment(d.version) else {
                continue;
            };
            for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                // Only a step that names the `allow` field may go to the person in it.
                let own = dep
                    .flow(&d.flow)
                    .and_then(|f| f.steps.get(t.step))
                    .and_then(|s| s.signatures.get(t.spec.signature))
                    .is_some_and(|sig| dep.shields.names_allow(&d.kind, &sig.signer));
                let (holders, role) = match why {
                    Reroute::Absences(_) => (t.spec.holders.clone(), t.spec.role.clone()),
                    Reroute::Organogram(_) => {
                        let Some(sig) = dep
                            .flow(&d.flow)
                            .and_then(|f| f.steps.get(t.step))
                            .and_then(|s| s.signatures.get(t.spec.signature))
                        else {
                            continue;
                        };
                        (
                            dep.org.holders(&sig.signer, &d.fields),
                            dep.org.role(&sig.signer, &d.fields),
                        )
                    }
                };
                let (holders, mut kept_out) =
                    shield_split(self.state, d.version, &d.kind, &d.fields, holders, own);
                let (mut fresh, out) = if own {
                    (holders.clone(), Vec::new())
                } else {
                    self.route(dep, d.version, &d.kind, &role, &holders, &d.fields)
                };
                kept_out.extend(out);
                // Whoever it was escalated to keeps it while they are in the organogram
                // (and inside the shield), asked as the escalation's role asks: their
                // substitute while they are away, they themselves when they are back. A
                // substitute of an absence that ended does not keep it, escalated or not.
                if t.escalated {
                    let targets: Vec<String> = t
                        .escalated_to
                        .iter()
                        .filter(|a| dep.org.is_person(a))
                        .cloned()
                        .collect();
                    let (targets, out) =
                        shield_split(self.state, d.version, &d.kind, &d.fields, targets, false);
                    kept_out.extend(out);
                    let escalation_role = dep
                        .flow(&d.flow)
                        .and_then(|f| f.deadline.as_ref())
                        .and_then(|dl| dl.escalate.as_ref())
                        .map(|e| dep.org.role(&e.to, &d.fields));
                    let asked = match escalation_role {
                        Some(r) if !targets.is_empty() => {
                            let (asked, out) =
                                self.route(dep, d.version, &d.kind, &r, &targets, &d.fields);
                            kept_out.extend(out);
                            asked
                        }
                        _ => targets,
                    };
                    for a in asked {
                        if !fresh.contains(&a) && !holders.contains(&a) {
                            fresh.push(a);
                        }
                    }
                }
                // Whom an administrator assigned it to (`queue assign`, `[reassign]`)
                // keeps it, whoever holds the role, until they leave the organogram or
                // the shield: neither the next HR export nor an absence undoes it.
                let standing: Vec<String> = t
                    .assigned
                    .iter()
                    .filter(|a| dep.org.is_person(a))
                    .cloned()
                    .collect();
                let (standing, out) =
                    shield_split(self.state, d.version, &d.kind, &d.fields, standing, own);
                kept_out.extend(out);
                for a in standing {
                    if !fresh.contains(&a) {
                        fresh.push(a);
                    }
                }
                // The same people in another order is no move.
                let changed = fresh.len() != t.spec.assignees.len()
                    || fresh.iter().any(|a| !t.spec.assignees.contains(a));
                let moved = match why {
                    Reroute::Absences(_) => changed,
                    Reroute::Organogram(_) => {
                        holders != t.spec.holders || changed || role != t.spec.role
                    }
                };
                if moved {
                    changes.push((d.id.clone(), t.clone(), holders, fresh.clone(), role));
                }
                if !kept_out.is_empty() && (t.shield_refused.is_none() || moved) {
                    refusals.push((
                        d.id.clone(),
                        d.kind.clone(),
                        t.spec.id.clone(),
                        kept_out,
                        fresh.is_empty(),
                        d.version,
                    ));
                }
            }
        }
        let show = |v: &[String]| {
            if v.is_empty() {
                "nobody".to_string()
            } else {
                v.join(", ")
            }
        };
        for (doc, t, holders, assignees, role) in changes {
            match why {
                Reroute::Absences(reason) => self.emit(Event::TaskReassigned {
                    doc,
                    task: t.spec.id.clone(),
                    assignees,
                    reason: reason.into(),
                }),
                Reroute::Organogram(version) => {
                    let reason = organogram::move_reason(version, &t, &holders, &assignees, &role);
                    let line = format!(
                        "{doc} {}: {} → {} ({reason})",
                        t.spec.id,
                        show(&t.spec.assignees),
                        show(&assignees)
                    );
                    if assignees.is_empty() && !t.spec.assignees.is_empty() {
                        report.stranded.push(line.clone());
                    }
                    if holders == t.spec.holders && assignees == t.spec.assignees {
                        report.relabelled.push(line);
                    } else {
                        report.moves.push(line);
                    }
                    self.emit(Event::TaskMoved {
                        doc,
                        task: t.spec.id.clone(),
                        holders,
                        assignees,
                        role: (role != t.spec.role).then_some(role),
                        reason,
                        assigned: Vec::new(),
                    });
                }
            }
        }
        for (doc, kind, task, refused, empty, version) in refusals {
            if let Some(dep) = self.state.deployment(version).cloned() {
                self.refuse_by_shield(&dep, &kind, &doc, task, refused, empty);
            }
        }
    }

    /// Records an imported invoice (and its approval document, if any).
    pub fn import_invoice(
        &mut self,
        id: &str,
        doc: Option<String>,
        invoice: Value,
        order: Option<Value>,
    ) {
        self.emit(Event::InvoiceImported {
            id: id.into(),
            doc,
            invoice,
            order,
        });
    }

    /// Records a payment proposal; an invoice is proposed for payment once.
    pub fn propose_payment(
        &mut self,
        id: &str,
        date: NaiveDate,
        proposal: Value,
    ) -> Result<(), RuntimeError> {
        match self.state.invoices.get(id) {
            None => return Err(RuntimeError::Invalid(format!("no imported invoice `{id}`"))),
            Some(i) if i.paid.is_some() => {
                return Err(RuntimeError::Conflict(format!(
                    "invoice `{id}` is already proposed for payment"
                )));
            }
            Some(_) => {}
        }
        self.emit(Event::PaymentProposed {
            id: id.into(),
            date,
            proposal,
        });
        Ok(())
    }

    /// Records the payment proposals a restore gave up with events `events`: their
    /// invoices wait until a person settles their run.
    pub fn record_lost_payments(
        &mut self,
        events: &str,
        payments: Vec<crate::engine::LostPayment>,
    ) {
        self.emit(Event::PaymentsLost {
            events: events.into(),
            payments,
        });
    }

    /// Records that a person confirmed with the bank whether the lost pay run `run` paid
    /// `payments` (`paid`), or did not.
    pub fn settle_lost_run(
        &mut self,
        run: &str,
        paid: bool,
        payments: Vec<crate::engine::LostPayment>,
    ) -> Result<(), RuntimeError> {
        if let Some(before) = self.state.settled_runs.get(run) {
            return Err(RuntimeError::Conflict(format!(
                "pay run `{run}` was settled already (paid: {before})"
            )));
        }
        self.emit(Event::LostRunSettled {
            run: run.into(),
            paid,
            payments,
        });
        Ok(())
    }

    /// Records a debts check in the audit log.
    pub fn record_debts_check(
        &mut self,
        invoice: &str,
        request: &str,
        response_sha256: &str,
        decision: &str,
    ) {
        self.emit(Event::DebtsChecked {
            invoice: invoice.into(),
            request: request.into(),
            response_sha256: response_sha256.into(),
            decision: decision.into(),
        });
    }

    /// Moves time forward: absences that start or end, reminders and escalations.
    pub fn tick(&mut self) {
        self.reassign("absence");
        let mut due = Vec::new();
        for d in self
            .state
            .documents
            .values()
            .filter(|d| d.status == Status::InProgress)
        {
            let Some(dep) = self.state.deployment(d.version) else {
                continue;
            };
            let Some(flow) = dep.flow(&d.flow) else {
                continue;
            };
            let Some(deadline) = &flow.deadline else {
                continue;
            };
            for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                if !t.reminded && self.now >= self.after(t.opened_at, &deadline.remind_after) {
                    due.push(Event::Reminded {
                        doc: d.id.clone(),
                        task: t.spec.id.clone(),
                    });
                }
                if let Some(esc) = &deadline.escalate
                    && !t.escalated
                    && self.now >= self.after(t.opened_at, &esc.after)
                {
                    // As a step would ask: the present holders inside the shield, else
                    // their substitute.
                    let (holders, mut kept_out) = shield_split(
                        self.state,
                        d.version,
                        &d.kind,
                        &d.fields,
                        dep.org.holders(&esc.to, &d.fields),
                        false,
                    );
                    let role = dep.org.role(&esc.to, &d.fields);
                    let (mut to, subs_out) =
                        self.route(dep, d.version, &d.kind, &role, &holders, &d.fields);
                    kept_out.extend(subs_out);
                    let day = self.today();
                    to.retain(|p| !self.state.is_absent(p, day));
                    // Substitutes of holders who are all away ask for them: the escalation
                    // is the holders', and goes to them when they are back.
                    let for_whom = if to.iter().any(|p| holders.contains(p)) {
                        Vec::new()
                    } else {
                        holders.clone()
                    };
                    if to.is_empty() {
                        // Nobody to ask: said once, in the log and on the document; the
                        // next tick after someone holds the role escalates.
                        if t.escalation_waits.is_none() {
                            let reason = if holders.is_empty() && kept_out.is_empty() {
                                format!("nobody holds {role} now")
                            } else if holders.is_empty() {
                                shield_reason(dep, &d.kind, &kept_out)
                            } else {
                                format!("{role} is absent and has no substitute")
                            };
                            due.push(Event::EscalationUnreached {
                                doc: d.id.clone(),
                                task: t.spec.id.clone(),
                                reason: format!(
                                    "the escalation to {role} found nobody: {reason}; the task stays with {} and escalates as soon as someone holds the role",
                                    if t.spec.assignees.is_empty() {
                                        "the manual queue".to_string()
                                    } else {
                                        t.spec.assignees.join(", ")
                                    }
                                ),
                            });
                        } else {
                            continue;
                        }
                    } else {
                        due.push(Event::Escalated {
                            doc: d.id.clone(),
                            task: t.spec.id.clone(),
                            to,
                            for_whom,
                        });
                    }
                    if !kept_out.is_empty() {
                        due.push(Event::ShieldRefused {
                            doc: d.id.clone(),
                            task: t.spec.id.clone(),
                            reason: format!(
                                "escalation: {}",
                                shield_reason(dep, &d.kind, &kept_out)
                            ),
                            refused: kept_out,
                        });
                    }
                }
            }
        }
        for e in due {
            self.emit(e);
        }
    }

    fn after(&self, from: DateTime<Utc>, d: &FlowDuration) -> DateTime<Utc> {
        self.calendar.after(from, d)
    }
}

/// Why the shield of `kind` kept `refused` out, in words (`refused` empty: nobody inside
/// the group holds the role).
fn shield_reason(dep: &Deployment, kind: &str, refused: &[String]) -> String {
    let group = dep.shields.shield(kind).map_or("", |s| s.group.as_str());
    let names: Vec<&str> = refused.iter().map(|p| dep.org.name(p)).collect();
    if names.is_empty() {
        format!("nobody inside the group `{group}` holds this role")
    } else {
        format!(
            "{} {} outside the group `{group}` that shields a {kind}",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" }
        )
    }
}

/// Splits `people` into those inside the shield of `kind` and those kept out. `own`: the
/// step names the kind's `allow` field, so the person in it is admitted; for every other
/// step, substitute and escalation only the group's members are (in the document's
/// version and today's).
fn shield_split(
    state: &State,
    version: u32,
    kind: &str,
    fields: &BTreeMap<String, Value>,
    people: Vec<String>,
    own: bool,
) -> (Vec<String>, Vec<String>) {
    let member = |p: &str| {
        state
            .deployment(version)
            .is_some_and(|d| d.shields.member(kind, p))
            && state
                .current()
                .is_none_or(|(_, d)| d.shields.member(kind, p))
    };
    people
        .into_iter()
        .partition(|p| state.inside_shield(version, kind, fields, p) && (own || member(p)))
}

/// Longest title accepted.
const MAX_TITLE: usize = 300;
/// Longest absence accepted at once (two years, both ends counted).
const MAX_ABSENCE_DAYS: i64 = 731;
/// Most comments one person writes on one document (everyone who sees it may comment).
const MAX_COMMENTS_EACH: usize = 50;

/// Longest field value accepted.
const MAX_FIELD: usize = 2_000;

/// Checks and normalises a field value for its declared type.
fn normalise(ty: &str, v: &Value, org: &crate::org::OrgIndex) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    if let Value::String(s) = v {
        if s.chars().count() > MAX_FIELD {
            return Err(format!("longer than {MAX_FIELD} characters"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| *c != '\n' && super::text::forbidden(*c, false))
        {
            return Err(format!(
                "contains a control, text-direction or invisible formatting character (U+{:04X})",
                c as u32
            ));
        }
        if super::text::misleading_marks(s) {
            return Err(
                "contains a text-direction mark (U+200E, U+200F or U+061C) but no right-to-left text"
                    .into(),
            );
        }
    }
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(format!("expected a {ty}, got {v}")),
    };
    match ty {
        "money" | "number" => {
            let cleaned: String = text
                .trim_end_matches("EUR")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let d = Decimal::from_str(&cleaned).map_err(|_| {
                format!(
                    "`{text}` is not {}",
                    if ty == "money" {
                        "an amount like 8500.00"
                    } else {
                        "a number"
                    }
                )
            })?;
            if ty == "money" && d.scale() > 2 {
                return Err(format!("`{text}` has more than two decimals"));
            }
            if ty == "money" && d.is_sign_negative() && !d.is_zero() {
                return Err(format!(
                    "`{text}` is negative: an amount is never below zero"
                ));
            }
            Ok(Value::String(d.to_string()))
        }
        "bool" => match text.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not true or false")),
        },
        "date" => paraaf_model::valid_date(&text)
            .then(|| Value::String(text.clone()))
            .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)")),
        "unit" => org
            .is_unit(&text)
            .then(|| Value::String(text.clone()))
            .ok_or_else(|| format!("`{text}` is not a unit in the organogram")),
        "person" => org
            .is_person(&text)
            .then(|| Value::String(text.clone()))
            .ok_or_else(|| format!("`{text}` is not a person in the organogram")),
        "text" => match v {
            Value::String(_) => Ok(Value::String(text)),
            _ => Err(format!("expected text, got {v}")),
        },
        _ => Ok(Value::String(text)),
    }
}

/// Why open tasks are routed again (see `Emitter::reroute`).
#[derive(Clone, Copy)]
pub(super) enum Reroute<'a> {
    /// Absences changed (added, withdrawn, begun or ended): the holders stay.
    Absences(&'a str),
    /// This organogram version is now in force: holders and role labels are recomputed.
    Organogram(u32),
}
