//! `paraaf org deploy`: a new organogram in force, and every document in flight moved to
//! its new signers. Each move is one audited `task_moved` event with the reason; the
//! shield is proven again for each (an outsider is kept out and the task waits in the
//! manual queue); the absences of people who left end.

use super::{Emitter, Event, RuntimeError, Status, TaskStatus, shield_split};
use paraaf_compiler::compile::model::{Organogram, Signer, UnitSel};
use paraaf_compiler::compile::rename::rename_org_ids;
use paraaf_compiler::compile::shield::verify;
use std::collections::{BTreeMap, BTreeSet};

/// What `deploy_organogram` did or would do.
#[derive(Clone, Debug, Default)]
pub struct OrgDeployment {
    /// The new organogram version.
    pub version: u32,
    /// What the deployed flows name that the new organogram lacks (deployed only with
    /// `force`).
    pub breaks: Vec<String>,
    /// One line per task moved: document, task, old → new signers, why.
    pub moves: Vec<String>,
    /// Absences ended because the person left.
    pub absences_ended: Vec<String>,
}

/// Every organogram id a signer names that `org` lacks.
fn missing(s: &Signer, org: &Organogram) -> Vec<String> {
    let unit = |u: &str| org.units.iter().any(|x| x.id == u);
    let mut out = Vec::new();
    match s {
        Signer::Person { id } if !org.people.iter().any(|p| p.id == *id) => {
            out.push(format!("person `{id}`"))
        }
        Signer::Mandate { id } if !org.mandates.iter().any(|m| m.id == *id) => {
            out.push(format!("mandate `{id}`"))
        }
        Signer::Function { id, unit: sel } => {
            if !org.functions.iter().any(|f| f.id == *id) {
                out.push(format!("function `{id}`"));
            }
            if let UnitSel::Fixed(u) = sel
                && !unit(u)
            {
                out.push(format!("unit `{u}`"));
            }
        }
        _ => {}
    }
    out
}

impl Emitter<'_> {
    /// Puts `organogram` in force (with `renames`: old id → new id for what the flows
    /// still name) and moves every open task whose signers change. Refuses, changing
    /// nothing, when a deployed flow names something the new organogram lacks or its
    /// shielding would break — unless `force`, and then lists it.
    pub fn deploy_organogram(
        &mut self,
        organogram: Organogram,
        renames: BTreeMap<String, String>,
        force: bool,
    ) -> Result<OrgDeployment, RuntimeError> {
        let mut report = OrgDeployment::default();
        let Some(current) = self.state.organogram.clone() else {
            return Err(RuntimeError::Invalid(
                "no project is deployed yet: deploy one first (`paraaf deploy`)".into(),
            ));
        };
        let mut all = current.renames.clone();
        for v in all.values_mut() {
            if let Some(n) = renames.get(v) {
                *v = n.clone();
            }
        }
        all.extend(renames.clone());
        // The checker's second opinion on the compiled flows of every version.
        let index = paraaf_compiler::compile::org_index::OrgIndex::new(&organogram);
        for (i, d) in self.state.deployments.iter().enumerate() {
            let mut routed = rename_org_ids(&d.compiled, &all);
            for g in &mut routed.groups {
                g.members = paraaf_compiler::compile::shield::group_members(&g.definition, &index)
                    .into_iter()
                    .collect();
            }
            let mut names = BTreeSet::new();
            for f in &routed.flows {
                for step in &f.steps {
                    for sig in &step.signatures {
                        for m in missing(&sig.signer, &organogram) {
                            names.insert(format!(
                                "version {}: flow `{}`, step `{}` signs by {m}, which the new organogram lacks",
                                i + 1,
                                f.name,
                                step.name
                            ));
                        }
                    }
                }
            }
            report.breaks.extend(names);
            report.breaks.extend(
                verify(&routed, &index)
                    .into_iter()
                    .map(|v| format!("version {}: {v}", i + 1)),
            );
        }
        if !report.breaks.is_empty() && !force {
            return Err(RuntimeError::Invalid(format!(
                "the new organogram breaks the deployed flows; nothing was deployed (add renames to the plan, or --force):\n  - {}",
                report.breaks.join("\n  - ")
            )));
        }
        let json =
            serde_json::to_string(&organogram).map_err(|e| RuntimeError::Invalid(e.to_string()))?;
        report.version = current.version + 1;
        self.emit(Event::OrganogramDeployed {
            version: report.version,
            sha256: crate::sha256_hex(json.as_bytes()),
            organogram: Box::new(organogram.clone()),
            renames,
        });
        // People who left: their absences end.
        let people: BTreeSet<&str> = organogram.people.iter().map(|p| p.id.as_str()).collect();
        let gone: Vec<(String, String)> = self
            .state
            .absences
            .iter()
            .filter(|(_, a)| !people.contains(a.person.as_str()))
            .map(|(id, a)| (id.clone(), a.person.clone()))
            .collect();
        for (id, person) in gone {
            self.emit(Event::AbsenceWithdrawn { id: id.clone() });
            report
                .absences_ended
                .push(format!("{id} of {person} (no longer in the organogram)"));
        }
        self.move_tasks(report.version, &mut report.moves);
        Ok(report)
    }

    /// Every open task re-routed through the organogram in force: its role's holders
    /// now, then absences and substitutes, then the shield.
    fn move_tasks(&mut self, version: u32, moves: &mut Vec<String>) {
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
            let Some(flow) = dep.flow(&d.flow) else {
                continue;
            };
            for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                let Some(sig) = flow
                    .steps
                    .get(t.step)
                    .and_then(|s| s.signatures.get(t.spec.signature))
                else {
                    continue;
                };
                let (holders, mut kept_out) = shield_split(
                    self.state,
                    d.version,
                    &d.kind,
                    &d.fields,
                    dep.org.holders(&sig.signer, &d.fields),
                );
                let role = dep.org.role(&sig.signer, &d.fields);
                let (assignees, out) =
                    self.route(dep, d.version, &d.kind, &role, &holders, &d.fields);
                kept_out.extend(out);
                if holders != t.spec.holders || assignees != t.spec.assignees {
                    let show = |v: &[String]| {
                        if v.is_empty() {
                            "nobody".to_string()
                        } else {
                            v.join(", ")
                        }
                    };
                    let reason = format!(
                        "organogram version {version}: {role} is now held by {} (was {})",
                        show(&holders),
                        show(&t.spec.holders)
                    );
                    moves.push(format!(
                        "{} {}: {} → {} ({reason})",
                        d.id,
                        t.spec.id,
                        show(&t.spec.assignees),
                        show(&assignees)
                    ));
                    changes.push((
                        d.id.clone(),
                        t.spec.id.clone(),
                        holders,
                        assignees.clone(),
                        reason,
                    ));
                }
                if !kept_out.is_empty() {
                    refusals.push((
                        d.id.clone(),
                        d.kind.clone(),
                        t.spec.id.clone(),
                        kept_out,
                        assignees.is_empty(),
                        d.version,
                    ));
                }
            }
        }
        for (doc, task, holders, assignees, reason) in changes {
            self.emit(Event::TaskMoved {
                doc,
                task,
                holders,
                assignees,
                reason,
            });
        }
        for (doc, kind, task, refused, empty, version) in refusals {
            if let Some(dep) = self.state.deployment(version).cloned() {
                self.refuse_by_shield(&dep, &kind, &doc, task, refused, empty);
            }
        }
    }
}
