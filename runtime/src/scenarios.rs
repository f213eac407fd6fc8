//! `paraaf test`: scenarios of flows, run through the real runtime code in memory.
//!
//! A scenario file (TOML, `tests/*.toml` in a project) lists scenarios: given these
//! absences and this document, the route is these steps and people; these may see it,
//! those may not; after a refusal it goes back to the uploader, to a step, or stops.
//! Each scenario submits the document to a fresh in-memory state with the compiled
//! project deployed, then signs (or refuses) every open task as its first assignee, step
//! by step, recording who was asked.
//!
//! `emit.rs` writes the changes `paraaf diff` finds as such scenarios; `rename.rs`
//! rewrites the organogram names in scenario files by a migration plan.

mod emit;
mod rename;

pub use emit::{Emitted, NotStated, emit};
pub use rename::{Renamed, Rewritten, rename_in};

use crate::engine::{Emitter, State, Status, Submission, TaskStatus};
use crate::visibility::may_see;
use crate::workdays::Calendar;
use chrono::{DateTime, Duration, Utc};
use paraaf_model::CompiledProject;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The scenario files of the project at `root`: `tests/*.toml`, sorted by path.
pub fn files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// A scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The scenarios, in order.
    #[serde(rename = "scenario", default)]
    pub scenarios: Vec<Scenario>,
}

/// One scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it shows (the test's name).
    pub name: String,
    /// Document kind.
    pub kind: String,
    /// Who submits it.
    pub uploader: String,
    /// Field values (as a form would give them: text).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// People absent during the whole scenario.
    #[serde(default)]
    pub absent: Vec<String>,
    /// The expected route: one entry per step reached, `STEP: person, person` (several
    /// tasks of one step separated by ` | `).
    #[serde(default)]
    pub route: Option<Vec<String>>,
    /// People who must be able to see the document (checked at the end, when everyone
    /// on the route has been asked).
    #[serde(default)]
    pub may_see: Vec<String>,
    /// People who must not.
    #[serde(default)]
    pub may_not_see: Vec<String>,
    /// Refuse at this step (its first task, by its first assignee).
    #[serde(default)]
    pub refuse_at: Option<String>,
    /// The expected status at the end: `completed`, `returned`, `stopped`,
    /// `in_progress`, or `refused` (the document is refused when it is submitted: no flow
    /// takes it, a field is out of range, the uploader may not submit it).
    #[serde(default)]
    pub status: Option<String>,
    /// Nobody acts at this step for `wait` (its deadline's reminder and escalation run);
    /// the route then shows `(after WAIT)` and the step again with whoever is asked now.
    #[serde(default)]
    pub wait_at: Option<String>,
    /// How long nobody acts at `wait_at`: `N workdays` or `N days` (default 10 workdays).
    #[serde(default)]
    pub wait: Option<String>,
}

/// `N workdays` / `N days` (also `workday`, `day`).
fn parse_wait(text: &str) -> Option<(u32, bool)> {
    let mut it = text.split_whitespace();
    let n: u32 = it.next()?.parse().ok()?;
    let workdays = match it.next()? {
        "workdays" | "workday" => true,
        "days" | "day" => false,
        _ => return None,
    };
    it.next().is_none().then_some((n, workdays))
}

/// What a scenario gave.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The scenario's name.
    pub name: String,
    /// Why it failed (empty: passed).
    pub failures: Vec<String>,
    /// The flow it followed and the steps it reached.
    pub reached: Vec<(String, String)>,
    /// The route it took, written as a scenario's `route` is.
    pub route: Vec<String>,
    /// The status at the end (`refused` when the document was refused).
    pub status: String,
}

fn t0() -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Runs one scenario against `project`.
pub fn run(project: &CompiledProject, s: &Scenario) -> Outcome {
    let mut out = Outcome {
        name: s.name.clone(),
        ..Outcome::default()
    };
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    // In memory only: the same ids at every run.
    em.doc_ids = crate::engine::DocIds::Numbered;
    if let Err(e) = em.deploy(project.clone()) {
        out.failures
            .push(format!("the project does not deploy: {e}"));
        return out;
    }
    let today = t0().date_naive();
    for p in &s.absent {
        if let Err(e) = em.add_absence(p, today, today + Duration::days(60)) {
            out.failures.push(format!("absence of {p}: {e}"));
        }
    }
    let doc = match em.submit(Submission {
        kind: s.kind.clone(),
        uploader: s.uploader.clone(),
        fields: s
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
        content_sha256: "0".repeat(64),
        title: s.name.clone(),
        flow: None,
    }) {
        Ok(d) => d,
        Err(e) => {
            out.status = "refused".into();
            if s.status.as_deref() != Some("refused") {
                out.failures.push(format!("the document is refused: {e}"));
            }
            return out;
        }
    };
    if s.status.as_deref() == Some("refused") {
        out.failures
            .push("status: expected refused, and the document was accepted".into());
    }
    let wait_text = s.wait.clone().unwrap_or_else(|| "10 workdays".into());
    let Some((wait_n, wait_workdays)) = parse_wait(&wait_text) else {
        out.failures.push(format!(
            "wait = {wait_text:?}: write `N workdays` or `N days`"
        ));
        return out;
    };
    let mut waited = false;
    let mut route = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    for _ in 0..64 {
        let d = &em.state.documents[&doc];
        if d.status != Status::InProgress {
            break;
        }
        let flow = em
            .state
            .deployment(d.version)
            .and_then(|dep| dep.flow(&d.flow))
            .cloned();
        let open: Vec<(String, usize, Vec<String>)> = d
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open && !done.contains(&t.spec.id))
            .map(|t| (t.spec.id.clone(), t.step, t.spec.assignees.clone()))
            .collect();
        let Some(step) = open.first().map(|(_, s, _)| *s) else {
            route.push("(waiting: nobody can sign)".to_string());
            break;
        };
        let step_name = flow
            .as_ref()
            .and_then(|f| f.steps.get(step))
            .map_or(format!("step {step}"), |s| s.name.clone());
        out.reached.push((d.flow.clone(), step_name.clone()));
        let tasks: Vec<&(String, usize, Vec<String>)> =
            open.iter().filter(|(_, s, _)| *s == step).collect();
        if !waited && s.wait_at.as_deref() == Some(step_name.as_str()) {
            // Nobody acts: time passes, reminders and escalations fall due.
            waited = true;
            route.push(step_line(&step_name, &tasks));
            em.now = if wait_workdays {
                cal.add_workdays(em.now, wait_n)
            } else {
                em.now + Duration::days(i64::from(wait_n))
            };
            em.tick();
            route.push(format!("(after {wait_text})"));
            continue;
        }
        route.push(step_line(&step_name, &tasks));
        let mut progressed = false;
        for (id, _, assignees) in tasks {
            done.insert(id.clone());
            // An `any` step ends with its first signature; the others are cancelled.
            let d = &em.state.documents[&doc];
            if d.status != Status::InProgress
                || !d
                    .tasks
                    .iter()
                    .any(|t| t.spec.id == *id && t.status == TaskStatus::Open)
            {
                continue;
            }
            let Some(who) = assignees.first() else {
                continue;
            };
            let r = if s.refuse_at.as_deref() == Some(step_name.as_str()) {
                em.refuse(&doc, who, "scenario: refused")
            } else {
                em.sign(&doc, who)
            };
            match r {
                Ok(()) => progressed = true,
                Err(e) => out
                    .failures
                    .push(format!("{who} cannot act at `{step_name}`: {e}")),
            }
            if s.refuse_at.as_deref() == Some(step_name.as_str()) {
                break;
            }
        }
        if !progressed {
            break;
        }
        if s.refuse_at.as_deref() == Some(step_name.as_str()) {
            // One refusal, then see where the document went.
            // Where it went: the step it is back at, with whoever is asked there.
            let d = &em.state.documents[&doc];
            if d.status == Status::InProgress {
                route.push("(after the refusal)".to_string());
                let open: Vec<(String, usize, Vec<String>)> = d
                    .tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Open)
                    .map(|t| (t.spec.id.clone(), t.step, t.spec.assignees.clone()))
                    .collect();
                if let Some(back) = open.first().map(|(_, s, _)| *s) {
                    let name = flow
                        .as_ref()
                        .and_then(|f| f.steps.get(back))
                        .map_or(format!("step {back}"), |s| s.name.clone());
                    let tasks: Vec<&(String, usize, Vec<String>)> =
                        open.iter().filter(|(_, s, _)| *s == back).collect();
                    route.push(step_line(&name, &tasks));
                }
            }
            break;
        }
    }
    // Who may see it, once everyone on the route was asked.
    for p in &s.may_see {
        if !may_see(em.state, p, &doc) {
            out.failures
                .push(format!("{p} should see the document, and may not"));
        }
    }
    for p in &s.may_not_see {
        if may_see(em.state, p, &doc) {
            out.failures
                .push(format!("{p} should not see the document, and may"));
        }
    }
    if let Some(expected) = &s.route
        && *expected != route
    {
        out.failures.push(format!(
            "route:\n      expected {expected:?}\n      actual   {route:?}"
        ));
    }
    if let Some(at) = &s.wait_at
        && !waited
    {
        out.failures
            .push(format!("wait_at: the route never reached step `{at}`"));
    }
    let status = em.state.documents[&doc].status.as_str();
    if let Some(want) = &s.status
        && want != status
        && want != "refused"
    {
        out.failures
            .push(format!("status: expected {want}, actual {status}"));
    }
    out.status = status.to_string();
    out.route = route;
    out
}

/// A route entry: `STEP: person, person | person` (`nobody` for a task no one may sign).
fn step_line(step: &str, tasks: &[&(String, usize, Vec<String>)]) -> String {
    let people: Vec<String> = tasks
        .iter()
        .map(|(_, _, a)| {
            if a.is_empty() {
                "nobody".to_string()
            } else {
                a.join(", ")
            }
        })
        .collect();
    format!("{step}: {}", people.join(" | "))
}

/// The flows and steps of `project` that no outcome reached, as `flow` or `flow/step`.
pub fn not_reached(project: &CompiledProject, outcomes: &[Outcome]) -> Vec<String> {
    let reached: BTreeSet<(String, String)> = outcomes
        .iter()
        .flat_map(|o| o.reached.iter().cloned())
        .collect();
    let mut out = Vec::new();
    for f in &project.flows {
        let steps: Vec<&str> = f
            .steps
            .iter()
            .filter(|s| !reached.contains(&(f.name.clone(), s.name.clone())))
            .map(|s| s.name.as_str())
            .collect();
        if steps.len() == f.steps.len() {
            out.push(format!("flow {}", f.name));
        } else {
            out.extend(steps.iter().map(|s| format!("step {}/{s}", f.name)));
        }
    }
    out
}
