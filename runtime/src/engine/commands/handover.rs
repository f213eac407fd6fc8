//! The migration plan's `[reassign]` at `org deploy`: a person's files handed over to
//! another. The person fields of documents in flight that name them name the receiver
//! (`files_handed_over`), and the open tasks they were asked for go to the receiver
//! (`task_moved`), each with the plan's reason. Their past (uploads, signatures) stays
//! theirs. For a shielded kind the receiver must be a member of its group: the same
//! shield check as `queue assign`, without the `allow` exception; and the field of that
//! exception (the person a discipline file is about) is never handed over at all.

use super::organogram::OrgDeployment;
use super::{Emitter, Event, shield_split};
use crate::engine::state::{Status, TaskStatus};
use paraaf_compiler::org::migrate::Reassign;
use serde_json::Value;
use std::collections::BTreeMap;

impl Emitter<'_> {
    /// Why `to` may not take over the files of `from` in document `doc` (with the
    /// `fields` it would have): a shielded kind whose group does not hold `to`. `None`
    /// when they may.
    fn kept_out_of(
        &self,
        doc: &crate::engine::Document,
        fields: &BTreeMap<String, Value>,
        from: &str,
        to: &str,
    ) -> Option<String> {
        let (inside, _) = shield_split(
            self.state,
            doc.version,
            &doc.kind,
            fields,
            vec![to.to_string()],
            false,
        );
        if !inside.is_empty() {
            return None;
        }
        let group = self
            .state
            .deployment(doc.version)
            .and_then(|dep| dep.shields.shield(&doc.kind))
            .map_or(String::new(), |s| s.group.clone());
        Some(format!(
            "{} ({}): `{to}` is outside the shielded group `{group}`; the files of `{from}` in it may only go to someone inside it",
            doc.id, doc.kind
        ))
    }

    /// Hands over the person fields of documents in flight that name a person of
    /// `reassign` (one `files_handed_over` event per document and person), or lists the
    /// refusal in `report.handover_refused`.
    pub(super) fn hand_over_fields(
        &mut self,
        reassign: &BTreeMap<String, Reassign>,
        report: &mut OrgDeployment,
    ) {
        if reassign.is_empty() {
            return;
        }
        let mut events = Vec::new();
        for d in self
            .state
            .documents
            .values()
            .filter(|d| d.status == Status::InProgress)
        {
            let Some(kind) = self
                .state
                .deployment(d.version)
                .and_then(|dep| dep.compiled.documents.iter().find(|k| k.name == d.kind))
            else {
                continue;
            };
            // The field of a shield's `allow` exception names the person the file is
            // about (the employee of a discipline file): the file is never about anyone
            // else, so it is not handed over; the steps that name it wait for a person
            // in the manual queue once that person left.
            let subject = self
                .state
                .deployment(d.version)
                .and_then(|dep| dep.shields.shield(&d.kind))
                .and_then(|s| s.allow.clone());
            for (from, r) in reassign {
                let named: Vec<String> = kind
                    .fields
                    .iter()
                    .filter(|f| f.ty == "person")
                    .filter(|f| d.fields.get(&f.name).and_then(|v| v.as_str()) == Some(from))
                    .map(|f| f.name.clone())
                    .collect();
                let (kept, fields): (Vec<String>, Vec<String>) = named
                    .into_iter()
                    .partition(|f| subject.as_deref() == Some(f.as_str()));
                for f in &kept {
                    report.handed_over.push(format!(
                        "{} ({}): {f} stays {from}, not {}: it names the person the file is about (the shield's `allow` exception), who is never handed over",
                        d.id, d.kind, r.to
                    ));
                }
                if fields.is_empty() {
                    continue;
                }
                let mut after = d.fields.clone();
                for f in &fields {
                    after.insert(f.clone(), Value::String(r.to.clone()));
                }
                if let Some(why) = self.kept_out_of(d, &after, from, &r.to) {
                    report.handover_refused.push(why);
                    continue;
                }
                report.handed_over.push(format!(
                    "{} ({}): {} {from} → {} ({})",
                    d.id,
                    d.kind,
                    fields.join(", "),
                    r.to,
                    r.reason.trim()
                ));
                events.push(Event::FilesHandedOver {
                    doc: d.id.clone(),
                    from: from.clone(),
                    to: r.to.clone(),
                    fields,
                    reason: r.reason.trim().to_string(),
                });
            }
        }
        for e in events {
            self.emit(e);
        }
    }

    /// Gives the receiver the open tasks `asked` (document, task, person handed over)
    /// in place of the person handed over, after the organogram's own moves: one
    /// `task_moved` event each with the plan's reason, or the refusal in
    /// `report.handover_refused`.
    pub(super) fn hand_over_tasks(
        &mut self,
        reassign: &BTreeMap<String, Reassign>,
        asked: &[(String, String, String)],
        report: &mut OrgDeployment,
    ) {
        for (doc, task, from) in asked {
            let Some(r) = reassign.get(from) else {
                continue;
            };
            let Some(d) = self.state.documents.get(doc).cloned() else {
                continue;
            };
            let Some(t) = d
                .tasks
                .iter()
                .find(|t| t.spec.id == *task && t.status == TaskStatus::Open)
            else {
                continue;
            };
            if t.spec.assignees.contains(&r.to) && !t.spec.assignees.contains(from) {
                continue;
            }
            if let Some(why) = self.kept_out_of(&d, &d.fields, from, &r.to) {
                report.handover_refused.push(why);
                continue;
            }
            let mut assignees: Vec<String> = t
                .spec
                .assignees
                .iter()
                .filter(|a| *a != from)
                .cloned()
                .collect();
            if !assignees.contains(&r.to) {
                assignees.push(r.to.clone());
            }
            // Not stranded after all: the reroute before this found nobody, the plan names
            // who takes it over.
            let line = format!("{doc} {task}: ");
            report.stranded.retain(|l| !l.starts_with(&line));
            report.handed_over.push(format!(
                "{doc} {task} ({}): {from} → {} ({})",
                d.kind,
                r.to,
                r.reason.trim()
            ));
            self.emit(Event::TaskMoved {
                doc: doc.clone(),
                task: task.clone(),
                holders: t.spec.holders.clone(),
                assignees,
                role: None,
                reason: format!(
                    "handed over from {from} to {} by the migration plan ([reassign]): {}",
                    r.to,
                    r.reason.trim()
                ),
                assigned: vec![r.to.clone()],
            });
        }
    }
}
