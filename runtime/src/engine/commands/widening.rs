//! Whether a new project version widens a shield, decided once: as `paraaf diff
//! --fail-on shielded-widened` decides it ([`crate::impact::shields_widened`]), on what
//! each kind shielded in the deployed version admits, never on group names. A widening
//! needs the administrator's reason (`paraaf deploy --widen-reason`), which the
//! `project_deployed` event records.

use super::Emitter;
use crate::engine::errors::RuntimeError;
use crate::engine::events::ShieldWidened;
use paraaf_model::{CompiledProject, OrgIndex, OrgPosition, Organogram};
use std::collections::BTreeSet;

/// At most this many names (people, units) are listed before "and N more".
const SHOWN: usize = 5;

impl Emitter<'_> {
    /// The kinds shielded in the current version whose shield `project` widens: someone
    /// may see a document of the kind who could not (its group, or the group it points
    /// at now, or an audience admits more people), or its `allow` exception is new or
    /// widened. Both versions are read on `project`'s organogram (the one in force once
    /// it is deployed), so only the rules' change counts; people moved by HR go through
    /// `org deploy`. A kind whose shield is dropped is not listed: `deploy` refuses that
    /// version whatever the reason.
    pub fn widened_by(&self, project: &CompiledProject) -> Vec<ShieldWidened> {
        self.shield_changes(project).0
    }

    /// [`Emitter::widened_by`], and the kinds shielded in the current version that
    /// people who could see some of their documents no longer may see, from the same
    /// comparison.
    pub fn shield_changes(
        &self,
        project: &CompiledProject,
    ) -> (Vec<ShieldWidened>, Vec<ShieldNarrowed>) {
        let Some((_, dep)) = self.state.current() else {
            return (Vec::new(), Vec::new());
        };
        let org = OrgIndex::new(&project.organogram);
        // The deployed version on the new organogram (its groups' member lists
        // recomputed there); when its definitions do not fit it, as deployed.
        let mut base = (*dep.project).clone();
        base.organogram = project.organogram.clone();
        for g in &mut base.groups {
            g.members = paraaf_model::shield::group_members(&g.definition, &org)
                .into_iter()
                .collect();
        }
        if !paraaf_model::shield::verify(&base, &org).is_empty() {
            base = (*dep.project).clone();
        }
        let group_of = |kind: &str| {
            project
                .documents
                .iter()
                .find(|d| d.name == kind)
                .and_then(|d| d.shielded_by.as_ref())
                .map_or_else(String::new, |s| s.group.clone())
        };
        let (mut widened, mut narrowed) = (Vec::new(), Vec::new());
        for k in crate::impact::shielded_kinds(&base, project) {
            if k.hits("shielded-widened") {
                if !k.shield_dropped {
                    widened.push(ShieldWidened {
                        group: group_of(&k.kind),
                        admits: k.sight_gained.into_iter().collect(),
                        reason: String::new(),
                        kind: Some(k.kind),
                        allow: k.allow_widened,
                    });
                }
            } else if !k.sight_lost.is_empty() && k.status == "kept" {
                narrowed.push(ShieldNarrowed {
                    group: group_of(&k.kind),
                    loses: k.sight_lost.into_iter().collect(),
                    kind: k.kind,
                });
            }
        }
        (widened, narrowed)
    }

    /// [`Emitter::deploy_reported`] with the administrator's reason for widening shields
    /// (`paraaf deploy --widen-reason`): a version that widens the shield of a kind
    /// ([`Emitter::widened_by`]) is refused without a reason of `[widen]` quality (the
    /// consent rule of `org migrate`, `migrate::says_why`), naming the kind and who would
    /// newly see it; with one, the `project_deployed` event records each widened kind,
    /// its group, whom it admits and why.
    pub fn deploy_widening(
        &mut self,
        project: CompiledProject,
        widen_reason: Option<&str>,
    ) -> Result<super::Deployed, RuntimeError> {
        let (mut widened, narrowed) = self.shield_changes(&project);
        if !widened.is_empty() {
            let reason = match widen_reason {
                None => Err("no reason is given (--widen-reason)".to_string()),
                Some(r) => paraaf_compiler::org::migrate::says_why(
                    r,
                    "--widen-reason",
                    "the wider shield is intended",
                )
                .map(str::to_string),
            };
            match reason {
                Ok(reason) => widened.iter_mut().for_each(|w| w.reason = reason.clone()),
                Err(why) => {
                    let lines: Vec<String> = widened
                        .iter()
                        .map(|w| w.words(&project.organogram))
                        .collect();
                    return Err(RuntimeError::Invalid(format!(
                        "this version widens the shield of {} document kind{}; {why}, so nothing was deployed:\n  - {}\n  help: if that is intended, deploy again with --widen-reason \"...\" (who decided it, and when); the reason is recorded in the log",
                        widened.len(),
                        if widened.len() == 1 { "" } else { "s" },
                        lines.join("\n  - ")
                    )));
                }
            }
        }
        let mut deployed = self.deploy_checked(project, widened)?;
        deployed.shields_narrowed = narrowed;
        Ok(deployed)
    }
}

/// A kind shielded in the current version that people who could see some of its
/// documents no longer may see under a new version (reported, never refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShieldNarrowed {
    /// The document kind.
    pub kind: String,
    /// The group that shields it in the new version.
    pub group: String,
    /// Person ids who could see some of its documents and no longer may.
    pub loses: Vec<String>,
}

impl ShieldNarrowed {
    /// In words, with names on `organogram`: ``the shielded `sociaal-dossier` (group
    /// `sociale-zaken`): 64 people no longer see its files: An Van den Broeck, … and
    /// 59 more``.
    pub fn words(&self, organogram: &Organogram) -> String {
        let org = OrgIndex::new(organogram);
        let names: Vec<&str> = self.loses.iter().map(|p| org.name(p)).collect();
        format!(
            "the shielded `{}` (group `{}`): {} {} no longer see its files: {}",
            self.kind,
            self.group,
            self.loses.len(),
            if self.loses.len() == 1 {
                "person"
            } else {
                "people"
            },
            few(&names, "")
        )
    }
}

impl ShieldWidened {
    /// The widening in an administrator's words, with names (not ids) on `organogram`:
    /// ``the shielded `sociaal-dossier` (group `samenleving-breed`): 64 people who may
    /// not see its files now would, in Sport, Cultuur, … and 3 more units: Hilde
    /// Peeters, … and 59 more``, and the `allow` exception that is new or widened.
    pub fn words(&self, organogram: &Organogram) -> String {
        let org = OrgIndex::new(organogram);
        let kind = self.kind.as_deref().unwrap_or(self.group.as_str());
        let mut out = format!("the shielded `{kind}` (group `{}`)", self.group);
        if let Some(f) = &self.allow {
            out.push_str(&format!(
                ": the person an uploader names in `{f}` may read it (a new or widened `allow {f}`)"
            ));
        }
        if !self.admits.is_empty() {
            let units: BTreeSet<&str> = self
                .admits
                .iter()
                .filter_map(|p| organogram.people.iter().find(|x| &x.id == p))
                .flat_map(|p| &p.positions)
                .filter_map(|pos| match pos {
                    OrgPosition::Function { unit, .. } => Some(org.name(unit)),
                    OrgPosition::Mandate { .. } => None,
                })
                .collect();
            let names: Vec<&str> = self.admits.iter().map(|p| org.name(p)).collect();
            out.push_str(&format!(
                "{}{} {} who may not see its files now would",
                if self.allow.is_some() {
                    "; in the documents compared, "
                } else {
                    ": "
                },
                self.admits.len(),
                if self.admits.len() == 1 {
                    "person"
                } else {
                    "people"
                },
            ));
            if !units.is_empty() {
                out.push_str(&format!(
                    ", in {}",
                    few(&units.into_iter().collect::<Vec<_>>(), "units")
                ));
            }
            out.push_str(&format!(": {}", few(&names, "")));
        }
        out
    }
}

/// The first few of `items`, then "and N more" (`what`: "units" after the count).
fn few(items: &[&str], what: &str) -> String {
    let shown = items[..items.len().min(SHOWN)].join(", ");
    match items.len().saturating_sub(SHOWN) {
        0 => shown,
        n if what.is_empty() => format!("{shown} and {n} more"),
        n => format!("{shown} and {n} more {what}"),
    }
}
