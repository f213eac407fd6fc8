//! Organogram and project versions a restore gave up. A backup from before an HR export
//! holds the organogram of that day: restored as it is, it would bring back people who
//! left (their tokens and sessions name someone again) and put people moved out of a
//! shielded group back inside it. HR's decisions do not go back in time with the log, so
//! `admin restore` reads the versions put in force in the events it gives up ([`lost_in`])
//! and puts them in force again on the restored log, in their order, with the renames
//! and reasons they were deployed with ([`reapply`]).

use super::AppError;
use crate::Runtime;
use crate::engine::{Event, RuntimeError};
use crate::store::Store;
use chrono::{DateTime, Utc};
use paraaf_model::CompiledProject;
use paraaf_model::Organogram;
use std::collections::BTreeMap;

/// One organogram version put in force in the events a restore gave up.
#[derive(Clone, Debug)]
pub struct LostOrganogram {
    /// Its version number in the replaced log.
    pub version: u32,
    /// The organogram.
    pub organogram: Organogram,
    /// Old id → new id, as it was deployed with.
    pub renames: BTreeMap<String, String>,
    /// Shielded group → the reason given for widening it, as it was deployed with.
    pub widen: BTreeMap<String, String>,
}

/// What the events a restore gave up put in force.
#[derive(Clone, Debug, Default)]
pub struct LostDeployments {
    /// Organogram versions, oldest first.
    pub organograms: Vec<LostOrganogram>,
    /// The newest project version (its version number, the compiled project and the
    /// reason given for the shields it widened, if any).
    pub project: Option<(u32, CompiledProject, Option<String>)>,
    /// Versions in events no signed checkpoint vouches for, not put in force again (an
    /// event appended without the key may be an insider's), in words.
    pub unvouched: Vec<String>,
}

impl LostDeployments {
    /// Whether the given-up events put nothing in force.
    pub fn is_empty(&self) -> bool {
        self.organograms.is_empty() && self.project.is_none()
    }
}

/// The organogram and project versions put in force in events `after + 1..` of `store`
/// (the log a restore is about to replace). Only events up to `vouched` (what signed
/// checkpoints cover) are taken; versions after it are named in `unvouched`.
pub fn lost_in(store: &Store, after: u64, vouched: u64) -> Result<LostDeployments, RuntimeError> {
    let mut lost = LostDeployments::default();
    for (seq, _, body) in store.events_after(after)? {
        let Ok(event) = serde_json::from_str::<Event>(&body) else {
            continue;
        };
        if seq > vouched {
            match &event {
                Event::OrganogramDeployed { version, .. } => lost
                    .unvouched
                    .push(format!("organogram version {version} (event {seq})")),
                Event::ProjectDeployed { version, .. } => lost
                    .unvouched
                    .push(format!("project version {version} (event {seq})")),
                _ => {}
            }
            continue;
        }
        match event {
            Event::OrganogramDeployed {
                version,
                organogram,
                renames,
                shields_widened,
                ..
            } => lost.organograms.push(LostOrganogram {
                version,
                organogram: *organogram,
                renames,
                widen: shields_widened
                    .into_iter()
                    .map(|w| (w.group, w.reason))
                    .collect(),
            }),
            Event::ProjectDeployed {
                version,
                project,
                shields_widened,
                ..
            } => {
                let reason = shields_widened.first().map(|w| w.reason.clone());
                lost.project = Some((version, *project, reason));
            }
            _ => {}
        }
    }
    Ok(lost)
}

/// What [`reapply`] put in force again, one line each, in words.
pub type Reapplied = Vec<String>;

/// Puts the lost versions in force again on the restored log of `runtime`, in their
/// order: each organogram as `org deploy --force` would with its own renames and
/// reasons (people who left leave again, tasks move to who holds the roles now), then
/// the newest project. A version the restored log already has in force is skipped.
pub fn reapply(
    runtime: &mut Runtime,
    lost: LostDeployments,
    now: DateTime<Utc>,
) -> Result<Reapplied, AppError> {
    let mut done = Vec::new();
    for LostOrganogram {
        version,
        organogram,
        renames,
        widen,
    } in lost.organograms
    {
        // Returns in it were confirmed when it was deployed (else it would not be in the
        // log): its keys are confirmed again.
        let returning: std::collections::BTreeSet<String> = organogram
            .people
            .iter()
            .filter_map(|p| p.key.clone())
            .collect();
        let result = runtime.execute(now, |e| {
            e.returning = returning;
            e.deploy_organogram(organogram, renames, widen, true)
        });
        match result {
            Ok(report) => {
                // Who left with it, as the fold records leavers (by HR key).
                let left: Vec<String> = runtime
                    .state()
                    .organogram
                    .as_ref()
                    .map(|o| {
                        o.left
                            .values()
                            .filter(|l| l.version == report.version)
                            .map(|l| l.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                done.push(format!(
                    "organogram version {version} of the replaced log is in force again as version {}{}",
                    report.version,
                    if left.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} left again: {})", left.len(), names(&left))
                    }
                ))
            }
            Err(RuntimeError::Conflict(_)) => {}
            Err(error) => {
                return Err(AppError::Runtime {
                    doing: "putting in force again an organogram version the restore gave up",
                    error,
                });
            }
        }
    }
    if let Some((version, project, reason)) = lost.project {
        match runtime.execute(now, |e| e.deploy_widening(project, reason.as_deref())) {
            Ok(d) => done.push(format!(
                "project version {version} of the replaced log is deployed again as version {}",
                d.version
            )),
            Err(RuntimeError::Conflict(_)) => {}
            Err(error) => {
                return Err(AppError::Runtime {
                    doing: "deploying again the project version the restore gave up",
                    error,
                });
            }
        }
    }
    Ok(done)
}

/// `a, b, c and 4 more`.
fn names(list: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = list
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(&format!(" and {} more", list.len() - SHOWN));
    }
    s
}
