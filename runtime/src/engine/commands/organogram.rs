//! `paraaf org deploy`: a new organogram in force, and every document in flight moved to
//! its new signers. Each move is one audited `task_moved` event with the reason; the
//! shield is proven again for each (an outsider is kept out and the task waits in the
//! manual queue); the absences of people who left end.

use super::{Emitter, Event, RuntimeError};
use paraaf_compiler::org::migrate::Reassign;
use paraaf_model::rename::rename_org_ids;
use paraaf_model::shield::verify;
use paraaf_model::{Organogram, Signer, UnitSel};
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
    /// Absences carried to a person's new id (the plan renames them).
    pub absences_moved: Vec<String>,
    /// Documents in flight the new organogram would leave without a signer, or whose
    /// unit field names a unit it lacks (deployed only with `force`).
    pub stranded: Vec<String>,
    /// Tasks whose signers stay but whose role was renamed (`diensthoofd` →
    /// `hoofd-van-dienst`): recorded as a `task_moved` with the new label.
    pub relabelled: Vec<String>,
    /// Shielded groups that admit people who were not inside before, in words: by the
    /// organogram alone (someone joined the unit), or by the plan with the reason given.
    pub shields_widened: Vec<String>,
    /// Shielded groups that keep out people who were inside before, in words: the group
    /// and who, then for each of them the files in flight they no longer see, their own
    /// uploads named separately.
    pub shields_narrowed: Vec<String>,
    /// The plan's `[reassign]` hand-overs, one line per document: whose person fields
    /// and open tasks go to whom, and why.
    pub handed_over: Vec<String>,
    /// Hand-overs the shield refuses (the receiver is outside the group of a shielded
    /// kind whose files would move): the deployment is refused, never forced.
    pub handover_refused: Vec<String>,
    /// The organogram is the one in force already, and the plan renames nothing that is
    /// not renamed already: nothing was recorded (`version` is the one in force).
    pub unchanged: bool,
}

/// What `deploy` did (see [`Emitter::deploy_reported`]).
#[derive(Clone, Debug)]
pub struct Deployed {
    /// The new flow version.
    pub version: u32,
    /// The organogram change the project brought (it was compiled against another
    /// organogram than the one in force), reported as `org deploy` reports it.
    pub organogram: Option<OrgDeployment>,
    /// The shields this version widens, with the reason given (what the
    /// `project_deployed` event records).
    pub shields_widened: Vec<crate::engine::ShieldWidened>,
    /// The shielded kinds people no longer see with this version (reported).
    pub shields_narrowed: Vec<super::ShieldNarrowed>,
}

impl crate::engine::state::OrgInForce {
    /// SHA-256 of an organogram as `org deploy` records it (its JSON): what a migration
    /// plan names as `made_against`.
    pub fn sha256_of(organogram: &Organogram) -> String {
        crate::sha256_hex(
            serde_json::to_string(organogram)
                .unwrap_or_default()
                .as_bytes(),
        )
    }

    /// Deploying `organogram` with `renames` would change nothing: it is the organogram
    /// in force and every rename is one in force already.
    pub fn holds(&self, organogram: &Organogram, renames: &BTreeMap<String, String>) -> bool {
        *self.organogram == *organogram
            && renames
                .iter()
                .all(|(from, to)| self.renames.get(from) == Some(to))
    }

    /// [`Self::holds`], and every person the plan's `[reassign]` hands over has left
    /// already (the plan was deployed): nothing is handed over again. A hand-over of
    /// someone still in the organogram in force is done at every deployment of the plan.
    pub fn holds_with(
        &self,
        organogram: &Organogram,
        renames: &BTreeMap<String, String>,
        reassign: &BTreeMap<String, Reassign>,
    ) -> bool {
        self.holds(organogram, renames)
            && reassign
                .keys()
                .all(|p| !self.organogram.people.iter().any(|x| x.id == *p))
    }
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

/// An organogram name a compiled project uses: a signer, or a unit by id.
enum OrgRef<'a> {
    Signer(&'a Signer),
    Unit(&'a str),
}

impl OrgRef<'_> {
    fn missing(&self, org: &Organogram) -> Vec<String> {
        match self {
            OrgRef::Signer(s) => missing(s, org),
            OrgRef::Unit(u) if !org.units.iter().any(|x| x.id == *u) => {
                vec![format!("unit `{u}`")]
            }
            OrgRef::Unit(_) => Vec::new(),
        }
    }
}

/// Every place a compiled project names the organogram, with where, in words: step
/// signers, escalation targets, audiences, groups, substitutes and field restrictions.
fn references(p: &paraaf_model::CompiledProject) -> Vec<(String, OrgRef<'_>)> {
    use paraaf_model::{Audience, GroupDefinition, Within};
    fn group<'a>(name: &str, d: &'a GroupDefinition, out: &mut Vec<(String, OrgRef<'a>)>) {
        match d {
            GroupDefinition::Unit(u) => {
                out.push((format!("group `{name}` holds"), OrgRef::Unit(u)))
            }
            GroupDefinition::People(list) => out.extend(
                list.iter()
                    .map(|s| (format!("group `{name}` holds"), OrgRef::Signer(s))),
            ),
            GroupDefinition::Union(parts) => parts.iter().for_each(|d| group(name, d, out)),
        }
    }
    let mut out = Vec::new();
    for f in &p.flows {
        for step in &f.steps {
            for sig in &step.signatures {
                out.push((
                    format!("flow `{}`, step `{}` signs by", f.name, step.name),
                    OrgRef::Signer(&sig.signer),
                ));
            }
        }
        if let Some(e) = f.deadline.as_ref().and_then(|d| d.escalate.as_ref()) {
            out.push((
                format!("flow `{}` escalates to", f.name),
                OrgRef::Signer(&e.to),
            ));
        }
        for a in &f.visible_to {
            match a {
                Audience::Unit {
                    unit: UnitSel::Fixed(u),
                } => out.push((format!("flow `{}` is visible to", f.name), OrgRef::Unit(u))),
                Audience::Signer { signer } => out.push((
                    format!("flow `{}` is visible to", f.name),
                    OrgRef::Signer(signer),
                )),
                _ => {}
            }
        }
    }
    for g in &p.groups {
        group(&g.name, &g.definition, &mut out);
    }
    for s in &p.substitutes {
        out.push(("a substitute rule is for".into(), OrgRef::Signer(&s.holder)));
        out.extend(
            s.substitutes
                .iter()
                .map(|x| ("a substitute rule names".into(), OrgRef::Signer(x))),
        );
    }
    for d in &p.documents {
        for f in &d.fields {
            if let Some(Within::Unit(u)) = &f.within {
                out.push((
                    format!("field `{}` of `{}` is restricted to", f.name, d.name),
                    OrgRef::Unit(u),
                ));
            }
        }
    }
    out
}

impl Emitter<'_> {
    /// A project compiled against another organogram than the one in force changes the
    /// organogram like `org deploy` without a plan: the same checks (ids, the deployed
    /// flows, shields, documents in flight left without a signer), the same moves of
    /// open tasks and the same report, recorded as the next organogram version before
    /// the project. What `org deploy` would refuse (or need `--force` or a plan for) is
    /// refused here, naming the command to run first; nothing is recorded then.
    pub(super) fn redeploy_organogram(
        &mut self,
        project: &paraaf_model::CompiledProject,
    ) -> Result<Option<OrgDeployment>, RuntimeError> {
        let Some(current) = &self.state.organogram else {
            return Ok(None);
        };
        if *current.organogram == project.organogram {
            return Ok(None);
        }
        let version = current.version;
        self.deploy_organogram(
            project.organogram.clone(),
            BTreeMap::new(),
            BTreeMap::new(),
            false,
        )
        .map(Some)
        .map_err(|e| {
            RuntimeError::Invalid(format!(
                "the project was compiled against another organogram than organogram version {version} in force, so deploying it is an organogram change, and `paraaf org deploy` would refuse this one; nothing was deployed.\n{e}\nhelp: put the project's organogram in force first with `paraaf org deploy ORGANOGRAM` (`--dry-run` shows every move; a migration plan or --force, as it asks), then deploy the project; or compile the project against the organogram in force"
            ))
        })
    }

    /// The people of `organogram` who are not in the organogram in force but carry the
    /// HR key of someone who left (any id the runtime ever put in force or retired under
    /// that key, through `org deploy` or a project), and whose key [`Emitter::returning`]
    /// does not confirm: each key, and in words the leaver, when they left and the
    /// newcomer.
    /// Whatever the name and e-mail address: a person is their key, not a spelling, and
    /// a namesake with a leaver's reused number would get the leaver's id and files.
    fn unconfirmed_returns(
        &self,
        current: &crate::engine::state::OrgInForce,
        organogram: &Organogram,
    ) -> Vec<(String, String)> {
        let present: BTreeSet<String> = current
            .organogram
            .people
            .iter()
            .map(|p| p.identity())
            .collect();
        let mut out = Vec::new();
        for n in &organogram.people {
            let Some(key) = n.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) else {
                continue;
            };
            let who = n.identity();
            if present.contains(&who) || self.returning.contains(key) {
                continue;
            }
            let known =
                current.identities.values().any(|w| *w == who) || current.left.contains_key(&who);
            if !known {
                continue;
            }
            let was = match current.left.get(&who) {
                Some(l) => format!(
                    "{} ({}, id `{}`), who left on {} (organogram version {})",
                    l.name,
                    l.email,
                    l.id,
                    l.at.format("%Y-%m-%d"),
                    l.version
                ),
                // Left before the runtime recorded leavers (an older snapshot): named as
                // the newest deployed project's organogram had them, else by id.
                None => {
                    let id = current
                        .identities
                        .iter()
                        .find(|(_, w)| **w == who)
                        .map_or("?", |(id, _)| id.as_str());
                    match self
                        .state
                        .deployments
                        .iter()
                        .rev()
                        .flat_map(|d| d.compiled.organogram.people.iter())
                        .find(|p| p.identity() == who)
                    {
                        Some(p) => format!(
                            "{} ({}, id `{}`), who left before organogram version {}",
                            p.name, p.email, p.id, current.version
                        ),
                        None => format!(
                            "`{id}`, who left before organogram version {}",
                            current.version
                        ),
                    }
                }
            };
            out.push((
                key.to_string(),
                format!(
                    "key `{key}` was {was}; now {} ({}, id `{}`)",
                    n.name, n.email, n.id
                ),
            ));
        }
        out
    }

    /// Puts `organogram` in force (with `renames`: old id → new id for what the flows
    /// still name) and moves every open task whose signers change. Refuses, changing
    /// nothing, when a deployed flow names something the new organogram lacks, or a
    /// document in flight would be left without a signer — unless `force`, and then
    /// lists it — and always when the shielding of a deployed flow would break.
    pub fn deploy_organogram(
        &mut self,
        organogram: Organogram,
        renames: BTreeMap<String, String>,
        widen: BTreeMap<String, String>,
        force: bool,
    ) -> Result<OrgDeployment, RuntimeError> {
        self.deploy_organogram_with(organogram, renames, widen, BTreeMap::new(), force)
    }

    /// [`Self::deploy_organogram`] with the plan's `[reassign]` hand-overs: the person
    /// fields of documents in flight that name a person handed over name the receiver,
    /// and the open tasks that person was asked for go to the receiver, each recorded
    /// with the plan's reason. Refused (never forced) when a line does not fit (see
    /// `migrate::reassign_problems`) or a receiver is outside the group of a shielded
    /// kind whose files would move.
    pub fn deploy_organogram_with(
        &mut self,
        organogram: Organogram,
        renames: BTreeMap<String, String>,
        widen: BTreeMap<String, String>,
        reassign: BTreeMap<String, Reassign>,
        force: bool,
    ) -> Result<OrgDeployment, RuntimeError> {
        let mut report = OrgDeployment::default();
        let mut shield_breaks = Vec::new();
        let Some(current) = self.state.organogram.clone() else {
            return Err(RuntimeError::Invalid(
                "no project is deployed yet: deploy one first (`paraaf deploy`)".into(),
            ));
        };
        // The same organogram again, renaming nothing new (the same plan deployed twice):
        // no new version, nothing moves.
        if current.holds_with(&organogram, &renames, &reassign) {
            report.version = current.version;
            report.unchanged = true;
            return Ok(report);
        }
        // Each line of the plan must rename something that is gone to something that is
        // there: renaming an id the new organogram still has would move its tasks, files
        // and shields to another entry (a shielded file to another service).
        let ids = |o: &Organogram| -> BTreeSet<String> {
            o.units
                .iter()
                .map(|u| u.id.clone())
                .chain(o.functions.iter().map(|f| f.id.clone()))
                .chain(o.mandates.iter().map(|m| m.id.clone()))
                .chain(o.people.iter().map(|p| p.id.clone()))
                .collect()
        };
        let (old_ids, new_ids) = (ids(&current.organogram), ids(&organogram));
        // A person is their HR key: an id never names another person (never forced).
        let reused = current.reused_ids(&organogram);
        if !reused.is_empty() {
            return Err(RuntimeError::Invalid(format!(
                "the new organogram gives ids of people to other people; nothing was deployed, and --force does not change that:\n  - {}",
                reused.join("\n  - ")
            )));
        }
        // A key that belonged to someone who left, back in the organogram: a return, or
        // HR reusing the number for a newcomer (a namesake too), who would inherit the
        // leaver's id and files. Refused unless the administrator confirms the return.
        let returns = self.unconfirmed_returns(&current, &organogram);
        if !returns.is_empty() {
            let (keys, lines): (Vec<String>, Vec<String>) = returns
                .into_iter()
                .map(|(k, line)| (format!("--returning {k}"), line))
                .unzip();
            return Err(RuntimeError::Invalid(format!(
                "the new organogram gives the HR key of someone who left to a person again: a return, or HR reusing the personnel number for a newcomer, who would get the leaver's id and files (a discipline file naming them); the same name or e-mail address does not tell; nothing was deployed, and --force does not change that:\n  - {}\n  help: if it is the same person coming back, confirm it: deploy again with {}; if it is someone else, ask HR for the newcomer's own personnel number and import the export again",
                lines.join("\n  - "),
                keys.join(" ")
            )));
        }
        let identities =
            crate::engine::state::OrgInForce::identities_with(Some(&current), &organogram);
        let person_of = |id: &str| organogram.people.iter().find(|p| p.id == id);
        // The same key under a new id is the same person (a marriage): renamed by the
        // key, whether or not the plan says so.
        let mut renames = renames;
        for p in &current.organogram.people {
            if new_ids.contains(&p.id) || renames.contains_key(&p.id) {
                continue;
            }
            let who = &identities[&p.id];
            if who.starts_with("id:") {
                continue;
            }
            if let Some(n) = organogram.people.iter().find(|n| {
                !old_ids.contains(&n.id)
                    && paraaf_model::is_identity(who, n.key.as_deref(), &n.email, &n.id)
                    && n.key.is_some()
            }) {
                renames.insert(p.id.clone(), n.id.clone());
            }
        }
        let mut wrong = Vec::new();
        // A plan renames a person only to that person's own new id: mapping a leaver
        // onto someone else would hand them the leaver's files (a discipline file to a
        // colleague).
        for (from, to) in &renames {
            let (Some(was), Some(n)) = (identities.get(from), person_of(to)) else {
                continue;
            };
            wrong.extend(paraaf_compiler::org::migrate::onto_another(
                from,
                was,
                &n.id,
                &n.name,
                n.key.as_deref(),
                &n.email,
            ));
        }
        wrong.extend(paraaf_compiler::org::migrate::reassign_problems(
            &reassign,
            &renames,
            |p| current.organogram.people.iter().any(|x| x.id == p),
            |p| person_of(p).is_some(),
        ));
        for (from, to) in &renames {
            if new_ids.contains(from) {
                wrong.push(format!(
                    "`{from}` = `{to}`: the new organogram still has `{from}`; a rename is for an id that is gone"
                ));
            } else if !old_ids.contains(from) && !current.renames.contains_key(from) {
                wrong.push(format!(
                    "`{from}` = `{to}`: the organogram in force has no `{from}`"
                ));
            } else if !new_ids.contains(to) {
                wrong.push(format!(
                    "`{from}` = `{to}`: the new organogram has no `{to}`"
                ));
            }
        }
        if !wrong.is_empty() {
            return Err(RuntimeError::Invalid(format!(
                "the migration plan does not fit these organograms; nothing was deployed:\n  - {}",
                wrong.join("\n  - ")
            )));
        }
        let mut all = current.renames.clone();
        for v in all.values_mut() {
            if let Some(n) = renames.get(v) {
                *v = n.clone();
            }
        }
        all.extend(renames.clone());
        // The checker's second opinion on the compiled flows of every version.
        let index = paraaf_model::OrgIndex::new(&organogram);
        let current_index = paraaf_model::OrgIndex::new(&current.organogram);
        let mut widened: BTreeMap<String, (bool, BTreeSet<String>)> = BTreeMap::new();
        let mut narrowed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (i, d) in self.state.deployments.iter().enumerate() {
            let mut routed = rename_org_ids(&d.compiled, &all);
            for g in &mut routed.groups {
                g.members = paraaf_model::shield::group_members(&g.definition, &index)
                    .into_iter()
                    .collect();
            }
            // Who each shielded group admits now that it did not: the plan may map what
            // a group names onto a larger entry (a social service merged into a
            // department), which needs the administrator's reason in [widen].
            let before = rename_org_ids(&d.compiled, &current.renames);
            for n in paraaf_model::shield::narrowings(
                &before.groups,
                &current_index,
                &routed.groups,
                &index,
                &all,
            ) {
                narrowed.entry(n.group).or_default().extend(n.loses);
            }
            for w in paraaf_model::shield::widenings(
                &before.groups,
                &current_index,
                &routed.groups,
                &index,
                &renames,
            ) {
                let e = widened.entry(w.group).or_default();
                e.0 |= w.redefined;
                e.1.extend(w.admits);
            }
            let mut names = BTreeSet::new();
            for (place, lacks) in references(&routed).into_iter().flat_map(|(place, r)| {
                r.missing(&organogram)
                    .into_iter()
                    .map(move |m| (place.clone(), m))
            }) {
                names.insert(format!(
                    "version {}: {place} {lacks}, which the new organogram lacks",
                    i + 1
                ));
            }
            report.breaks.extend(names);
            shield_breaks.extend(
                verify(&routed, &index)
                    .into_iter()
                    .map(|v| format!("version {}: {v}", i + 1)),
            );
        }
        let mut consented = Vec::new();
        for (group, (redefined, admits)) in &widened {
            let who = admits.iter().cloned().collect::<Vec<_>>();
            let reason = paraaf_compiler::org::migrate::consent(&widen, group);
            match (redefined, reason) {
                (true, Err(why)) => shield_breaks.push(format!(
                    "the plan widens the shielded group `{group}`: {} would see its files ({}); {why}. Map the entry onto one that keeps the group's people, or give the reason under [widen] in the plan",
                    who.len(),
                    who.join(", ")
                )),
                (true, Ok(r)) => {
                    report.shields_widened.push(format!(
                        "`{group}` admits {} by the plan ({r})",
                        who.join(", ")
                    ));
                    consented.push(crate::engine::ShieldWidened {
                        group: group.clone(),
                        admits: who,
                        reason: r.to_string(),
                        kind: None,
                        allow: None,
                    });
                }
                (false, _) => report.shields_widened.push(format!(
                    "`{group}` admits {} (new in its units)",
                    who.join(", ")
                )),
            }
        }
        if !shield_breaks.is_empty() {
            // Never forced: a deployment that breaks its shield takes every document of
            // that version out of use (nobody may receive or see them).
            return Err(RuntimeError::Invalid(format!(
                "the new organogram breaks the shielding of the deployed flows; nothing was deployed, and --force does not change that (keep the group's members inside, or change the group first):\n  - {}",
                shield_breaks.join("\n  - ")
            )));
        }
        if !report.breaks.is_empty() && !force {
            return Err(RuntimeError::Invalid(format!(
                "the new organogram breaks the deployed flows; nothing was deployed (add renames to the plan, or --force):\n  - {}",
                report.breaks.join("\n  - ")
            )));
        }
        // A trial on a copy of the state (an O(1) clone): which documents in flight would
        // be left without a signer.
        let mut trial_state = self.state.clone();
        let mut trial = Emitter::new(&mut trial_state, self.calendar, self.now);
        let tried = trial.apply_organogram(
            &current,
            organogram.clone(),
            renames.clone(),
            consented.clone(),
            &all,
            &reassign,
        );
        drop(trial);
        report.shields_narrowed = self.narrowed(&narrowed, &trial_state, &all);
        if !tried.handover_refused.is_empty() {
            return Err(RuntimeError::Invalid(format!(
                "the plan's [reassign] would take shielded files outside their group; nothing was deployed, and --force does not change that (hand them to someone inside the group, or widen the group first):\n  - {}",
                tried.handover_refused.join("\n  - ")
            )));
        }
        if !tried.stranded.is_empty() && !force {
            return Err(RuntimeError::Invalid(format!(
                "the new organogram leaves documents in flight without a signer; nothing was deployed (map what they name in the plan, or --force to send them to the manual queue):\n  - {}",
                tried.stranded.join("\n  - ")
            )));
        }
        let mut done =
            self.apply_organogram(&current, organogram, renames, consented, &all, &reassign);
        done.breaks = report.breaks;
        done.shields_widened = report.shields_widened;
        done.shields_narrowed = report.shields_narrowed;
        Ok(done)
    }

    /// The people each shielded group keeps out (`narrowed`), in words, and for each the
    /// files in flight they may see now and would not in `after`, their own uploads apart.
    fn narrowed(
        &self,
        narrowed: &BTreeMap<String, BTreeSet<String>>,
        after: &crate::engine::State,
        renames: &BTreeMap<String, String>,
    ) -> Vec<String> {
        use crate::visibility::may_see;
        let mut out = Vec::new();
        for (group, people) in narrowed {
            out.push(format!(
                "`{group}` keeps out {} {} inside before: {}",
                people.len(),
                if people.len() == 1 {
                    "person who was"
                } else {
                    "people who were"
                },
                people.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            let files: Vec<&crate::engine::Document> = self
                .state
                .documents
                .values()
                .filter(|d| d.status == super::Status::InProgress)
                .filter(|d| {
                    self.state
                        .deployment(d.version)
                        .and_then(|dep| dep.shields.shield(&d.kind))
                        .is_some_and(|s| s.group == *group)
                })
                .map(|d| &**d)
                .collect();
            for p in people {
                let now = renames.get(p).unwrap_or(p);
                let lost: Vec<&crate::engine::Document> = files
                    .iter()
                    .copied()
                    .filter(|d| may_see(self.state, p, &d.id) && !may_see(after, now, &d.id))
                    .collect();
                if lost.is_empty() {
                    continue;
                }
                let ids = |v: &[&crate::engine::Document]| {
                    v.iter()
                        .map(|d| d.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let own: Vec<&crate::engine::Document> =
                    lost.iter().copied().filter(|d| d.uploader == *p).collect();
                out.push(format!(
                    "{p} no longer sees {} file{} in flight of `{group}`: {}{}",
                    lost.len(),
                    if lost.len() == 1 { "" } else { "s" },
                    ids(&lost),
                    if own.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; their own upload{}: {}",
                            if own.len() == 1 { "" } else { "s" },
                            ids(&own)
                        )
                    }
                ));
            }
        }
        out
    }

    /// Records the organogram version and moves what it changes (see `deploy_organogram`).
    fn apply_organogram(
        &mut self,
        current: &crate::engine::state::OrgInForce,
        organogram: Organogram,
        renames: BTreeMap<String, String>,
        shields_widened: Vec<crate::engine::ShieldWidened>,
        all: &BTreeMap<String, String>,
        reassign: &BTreeMap<String, Reassign>,
    ) -> OrgDeployment {
        let mut report = OrgDeployment::default();
        // Unit and person fields of documents in flight must still name a unit or a
        // person (through the renames): a task that signs by such a field would be left
        // with nobody.
        let units: BTreeSet<&str> = organogram.units.iter().map(|u| u.id.as_str()).collect();
        let persons: BTreeSet<&str> = organogram.people.iter().map(|p| p.id.as_str()).collect();
        for d in self
            .state
            .documents
            .values()
            .filter(|d| d.status == super::Status::InProgress)
        {
            let Some(kind) = self
                .state
                .deployment(d.version)
                .and_then(|dep| dep.compiled.documents.iter().find(|k| k.name == d.kind))
            else {
                continue;
            };
            // The person a shielded file is about (its `allow` field) is never handed
            // over (`hand_over_fields`): only a rename changes it.
            let subject = self
                .state
                .deployment(d.version)
                .and_then(|dep| dep.shields.shield(&d.kind))
                .and_then(|s| s.allow.clone());
            for f in kind
                .fields
                .iter()
                .filter(|f| f.ty == "unit" || f.ty == "person")
            {
                let Some(v) = d.fields.get(&f.name).and_then(|v| v.as_str()) else {
                    continue;
                };
                let now = reassign
                    .get(v)
                    .filter(|_| subject.as_deref() != Some(f.name.as_str()))
                    .map(|r| r.to.as_str())
                    .unwrap_or_else(|| all.get(v).map_or(v, |n| n.as_str()));
                let known = if f.ty == "unit" { &units } else { &persons };
                if !known.contains(now) {
                    report.stranded.push(format!(
                        "{}: field `{}` names {} `{now}`, which the new organogram lacks",
                        d.id, f.name, f.ty
                    ));
                }
            }
        }
        let Ok(json) = serde_json::to_string(&organogram) else {
            return report;
        };
        // The open tasks each person handed over is asked for now, before anything moves.
        let asked: Vec<(String, String, String)> = self
            .state
            .documents
            .values()
            .filter(|d| d.status == super::Status::InProgress)
            .flat_map(|d| {
                d.tasks
                    .iter()
                    .filter(|t| t.status == super::TaskStatus::Open)
                    .flat_map(move |t| {
                        t.spec
                            .assignees
                            .iter()
                            .filter(|a| reassign.contains_key(*a))
                            .map(move |a| (d.id.clone(), t.spec.id.clone(), a.clone()))
                    })
            })
            .collect();
        report.version = current.version + 1;
        self.emit(Event::OrganogramDeployed {
            version: report.version,
            sha256: crate::sha256_hex(json.as_bytes()),
            organogram: Box::new(organogram.clone()),
            renames,
            shields_widened,
        });
        // People who left: their absences end. Someone who only got a new id (the plan
        // renames them) keeps the absence under that id.
        let people: BTreeSet<&str> = organogram.people.iter().map(|p| p.id.as_str()).collect();
        let gone: Vec<(String, crate::engine::Absence)> = self
            .state
            .absences
            .iter()
            .filter(|(_, a)| !people.contains(a.person.as_str()))
            .map(|(id, a)| (id.clone(), a.clone()))
            .collect();
        for (id, a) in gone {
            let renamed = all
                .get(&a.person)
                .filter(|to| people.contains(to.as_str()))
                .cloned();
            let reason = match &renamed {
                Some(to) => format!(
                    "organogram version {}: {} is now {to}",
                    report.version, a.person
                ),
                None => format!(
                    "organogram version {}: {} is no longer in the organogram",
                    report.version, a.person
                ),
            };
            self.emit(Event::AbsenceWithdrawn {
                id: id.clone(),
                reason: Some(reason),
            });
            match renamed {
                Some(to) => {
                    let new_id = format!("a-{}", self.state.absence_count + 1);
                    self.emit(Event::AbsenceAdded {
                        id: new_id.clone(),
                        person: to.clone(),
                        from: a.from,
                        to: a.to,
                    });
                    report.absences_moved.push(format!(
                        "{id} of {} is {new_id} of {to} ({} to {})",
                        a.person, a.from, a.to
                    ));
                }
                None => report.absences_ended.push(format!(
                    "{id} of {} (no longer in the organogram)",
                    a.person
                )),
            }
        }
        // Someone who only got a new id (the same HR key) keeps how they chose to be told
        // by mail, under that id, in this commit (as their absences).
        let chosen: Vec<(String, crate::engine::NotifyMode)> = self
            .state
            .notify
            .iter()
            .filter(|(p, mode)| {
                !people.contains(p.as_str()) && **mode != crate::engine::NotifyMode::default()
            })
            .filter_map(|(p, mode)| {
                let to = self.state.person_now(p)?;
                (!self.state.notify.contains_key(&to)).then_some((to, *mode))
            })
            .collect();
        for (person, mode) in chosen {
            self.emit(Event::NotificationsChosen { person, mode });
        }
        self.hand_over_fields(reassign, &mut report);
        self.reroute(super::Reroute::Organogram(report.version), &mut report);
        self.hand_over_tasks(reassign, &asked, &mut report);
        report
    }
}

/// Why organogram version `version` moved `task` to `assignees`: the role and who holds
/// it now, who substitutes when the holders are absent (by name: the holder who is away
/// and the substitute who signs instead), and who is no longer asked.
pub(super) fn move_reason(
    version: u32,
    task: &crate::engine::state::Task,
    holders: &[String],
    assignees: &[String],
    role: &str,
) -> String {
    let show = |v: &[&String]| {
        if v.is_empty() {
            "nobody".to_string()
        } else {
            v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        }
    };
    let all = |v: &[String]| show(&v.iter().collect::<Vec<_>>());
    let before = &task.spec;
    let mut why = if role != before.role {
        format!("{} is now {role}, held by {}", before.role, all(holders))
    } else if holders != before.holders {
        format!(
            "{role} is now held by {} (was {})",
            all(holders),
            all(&before.holders)
        )
    } else {
        format!("{role} is held by {}", all(holders))
    };
    // Substitutes: asked instead of holders who are away (whom it was escalated to is
    // asked besides the holders, not instead of them).
    let substitutes: Vec<&String> = assignees
        .iter()
        .filter(|a| {
            !holders.contains(a) && !task.escalated_to.contains(a) && !task.assigned.contains(a)
        })
        .collect();
    let away: Vec<&String> = holders.iter().filter(|h| !assignees.contains(h)).collect();
    if !substitutes.is_empty() && !away.is_empty() {
        why.push_str(&format!(
            ", who {} absent: {} {}",
            if away.len() == 1 { "is" } else { "are" },
            show(&substitutes),
            if substitutes.len() == 1 {
                "substitutes"
            } else {
                "substitute"
            }
        ));
    }
    // An administrator's assignment stands beside the role's holders.
    let standing: Vec<&String> = assignees
        .iter()
        .filter(|a| task.assigned.contains(a) && !holders.contains(a))
        .collect();
    if !standing.is_empty() {
        why.push_str(&format!(
            "; {} {} it (assigned by an administrator)",
            show(&standing),
            if standing.len() == 1 { "keeps" } else { "keep" }
        ));
    }
    // Whoever was asked and is not any more (a holder who left is named by "was").
    let gone: Vec<&String> = before
        .assignees
        .iter()
        .filter(|a| !assignees.contains(a) && !before.holders.contains(a))
        .collect();
    if gone.is_empty() {
        format!("organogram version {version}: {why}")
    } else {
        format!(
            "organogram version {version}: {} no longer asked; {why}",
            show(&gone)
        )
    }
}
