//! One document through one version, in memory: who is asked to sign each step, who
//! takes over when a holder is away, where an overdue step escalates, where a refusal
//! goes, and who may see the document at the end.
//!
//! What keeps it fast without leaving anyone out: the version is deployed once and each
//! path forks that state (persistent maps; the identities of the organogram in force are
//! dropped, as a simulation never renames anyone and they are read only then); and who
//! may see the document is decided once per class of people (functions in the same
//! units, the same roles that either version names, named by id nowhere in either
//! version and nowhere in the document), as the decision reads a person only through
//! their id, the units they work in and the roles they hold; for the people it does not
//! name, a document is seen as every document of its kind and flow with the same values
//! in the fields its audiences and shield read, so that answer is kept per version.

use super::Fact;
use crate::engine::{Emitter, State, Status, Submission, TaskStatus};
use crate::visibility::may_see;
use crate::workdays::Calendar;
use paraaf_model::CompiledProject;
use paraaf_model::OrgPosition;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The moment every simulation happens at, plus `days`.
fn at(days: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 0, 0).single()?;
    Some(t + chrono::Duration::days(days))
}

/// One version, deployed in an empty state, with its people in classes.
pub(super) struct Version<'a> {
    /// The compiled project.
    pub project: &'a CompiledProject,
    /// The project deployed (no deployment when it is refused).
    pub state: State,
    /// Each person of the organogram with their class: people of one class may see the
    /// same documents unless the document names one of them.
    people: Vec<(String, usize)>,
    /// Whether each class may see a document, by what decides it for people the
    /// document does not name: its kind, its flow and the fields its audiences and
    /// shield read.
    sight: RefCell<HashMap<String, HashMap<usize, bool>>>,
}

impl<'a> Version<'a> {
    /// `project` deployed; `named`: the people either version names by id, `roles`: the
    /// functions and mandates either version names.
    pub fn new(
        project: &'a CompiledProject,
        named: &BTreeSet<String>,
        roles: &BTreeSet<String>,
    ) -> Self {
        let mut state = State::default();
        let cal = Calendar::default();
        if let Some(now) = at(0) {
            let _ = Emitter::new(&mut state, &cal, now).deploy(project.clone());
        }
        // Read only when an old id is resolved or an organogram comes into force, which
        // no simulation does; every fork would copy them otherwise.
        if let Some(o) = state.organogram.as_mut() {
            o.identities.clear();
        }
        let mut classes: HashMap<String, usize> = HashMap::new();
        let people = project
            .organogram
            .people
            .iter()
            .map(|p| {
                // What a decision reads of a person not named by id: the units their
                // functions are in (membership of a unit and the units above it) and
                // the roles they hold that a flow, group or substitute names.
                let key = if named.contains(&p.id) {
                    format!("id:{}", p.id)
                } else {
                    let places: BTreeSet<(&str, &str)> = p
                        .positions
                        .iter()
                        .map(|pos| match pos {
                            OrgPosition::Function { function, unit } => (
                                unit.as_str(),
                                if roles.contains(function) {
                                    function.as_str()
                                } else {
                                    ""
                                },
                            ),
                            OrgPosition::Mandate { mandate } => ("", mandate.as_str()),
                        })
                        .collect();
                    format!("{places:?}")
                };
                let n = classes.len();
                (p.id.clone(), *classes.entry(key).or_insert(n))
            })
            .collect();
        Version {
            project,
            state,
            people,
            sight: RefCell::default(),
        }
    }
}

/// Every text in `v` (the ids a document names).
fn texts(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(m) => m.values().for_each(|x| texts(x, out)),
        _ => {}
    }
}

/// What a document of `kind` with `fields`, uploaded by `uploader`, shows through one
/// version; `None` when the version refuses it (no flow applies, a field out of range,
/// the uploader outside the shield). `forks`: also each holder away, the deadline
/// passed and a refusal at every step (without: who signs and who sees, as the sampled
/// comparison did).
pub(super) fn simulate(
    version: &Version,
    kind: &str,
    fields: &BTreeMap<String, String>,
    uploader: &str,
    forks: bool,
) -> Option<BTreeSet<Fact>> {
    let project = version.project;
    // A copy of the deployed state (persistent maps: no cost until it changes).
    let mut state = version.state.clone();
    let cal = Calendar::default();
    let now = at(0)?;
    // Only the fields this version's kind has (a field may be new or removed).
    let declared = project.documents.iter().find(|d| d.name == kind)?;
    let fields: BTreeMap<String, Value> = fields
        .iter()
        .filter(|(k, v)| {
            v.as_str() != super::regions::ABSENT && declared.fields.iter().any(|f| &f.name == *k)
        })
        .map(|(k, v)| {
            let v = if v == super::regions::OTHER_TEXT {
                "x"
            } else {
                v
            };
            (k.clone(), Value::String(v.to_string()))
        })
        .collect();
    let uploader = uploader.to_string();
    let mut em = Emitter::new(&mut state, &cal, now);
    // In memory only: the same ids at every run.
    em.doc_ids = crate::engine::DocIds::Numbered;
    let doc = em
        .submit(Submission {
            kind: kind.to_string(),
            uploader: uploader.clone(),
            fields,
            content_sha256: "0".repeat(64),
            title: String::new(),
            flow: None,
        })
        .ok()?;
    drop(em);
    let mut facts = BTreeSet::new();
    let step_name = |s: &State, i: usize| -> String {
        let d = &s.documents[&doc];
        s.deployment(d.version)
            .and_then(|dep| dep.flow(&d.flow))
            .and_then(|f| f.steps.get(i))
            .map_or_else(|| format!("step {}", i + 1), |st| st.name.clone())
    };
    for _ in 0..64 {
        let d = &state.documents[&doc];
        if d.status != Status::InProgress {
            break;
        }
        let open: Vec<(String, usize, Vec<String>, Vec<String>)> = d
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .map(|t| {
                (
                    t.spec.id.clone(),
                    t.step,
                    t.spec.holders.clone(),
                    t.spec.assignees.clone(),
                )
            })
            .collect();
        let Some(first) = open.first() else { break };
        let step = step_name(&state, first.1);
        for (task, _, holders, assignees) in &open {
            for a in assignees {
                facts.insert(Fact::Signs {
                    step: step.clone(),
                    person: a.clone(),
                });
            }
            // Each holder away: who is asked instead.
            for h in holders.iter().filter(|_| forks) {
                let mut fork = state.clone();
                let mut em = Emitter::new(&mut fork, &cal, now);
                let day = now.date_naive();
                if em
                    .add_absence(h, day, day + chrono::Duration::days(7))
                    .is_err()
                {
                    continue;
                }
                let asked: Vec<String> = fork.documents[&doc]
                    .tasks
                    .iter()
                    .filter(|t| &t.spec.id == task && t.status == TaskStatus::Open)
                    .flat_map(|t| t.spec.assignees.clone())
                    .filter(|a| a != h)
                    .collect();
                if asked.is_empty() {
                    facts.insert(Fact::Substitute {
                        step: step.clone(),
                        holder: h.clone(),
                        substitute: "nobody".into(),
                    });
                }
                for s in asked {
                    facts.insert(Fact::Substitute {
                        step: step.clone(),
                        holder: h.clone(),
                        substitute: s,
                    });
                }
            }
        }
        // The deadline long past: to whom it escalates.
        if forks {
            let mut fork = state.clone();
            if let Some(later) = at(120) {
                Emitter::new(&mut fork, &cal, later).tick();
            }
            for t in fork.documents[&doc].tasks.iter() {
                for to in &t.escalated_to {
                    facts.insert(Fact::Escalation {
                        step: step_name(&fork, t.step),
                        to: to.clone(),
                    });
                }
            }
        }
        // A refusal by the first asked: where it goes.
        if let Some(who) = first.3.first().filter(|_| forks) {
            let mut fork = state.clone();
            let refused = Emitter::new(&mut fork, &cal, now)
                .refuse(&doc, who, "paraaf diff")
                .is_ok();
            if refused {
                let d = &fork.documents[&doc];
                let goes = match d.status {
                    Status::Returned => "back to the uploader".to_string(),
                    Status::Stopped => "to a stop".to_string(),
                    _ => {
                        let open: Vec<&crate::engine::Task> = d
                            .tasks
                            .iter()
                            .filter(|t| t.status == TaskStatus::Open)
                            .collect();
                        let people: BTreeSet<&String> =
                            open.iter().flat_map(|t| &t.spec.assignees).collect();
                        format!(
                            "back to {} ({})",
                            open.first()
                                .map_or_else(String::new, |t| step_name(&fork, t.step)),
                            people.into_iter().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }
                };
                facts.insert(Fact::Refusal {
                    step: step.clone(),
                    goes,
                });
            }
        }
        let mut em = Emitter::new(&mut state, &cal, now);
        let mut progressed = false;
        for (_, _, _, assignees) in &open {
            if let Some(who) = assignees.first()
                && em.sign(&doc, who).is_ok()
            {
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    // Who may see it: once per class, and on their own for everyone the document names
    // (uploader, fields, holders, assignees, signers, escalation targets).
    let mut named = BTreeSet::new();
    if let Ok(v) = serde_json::to_value(&*state.documents[&doc]) {
        texts(&v, &mut named);
    }
    let d = &state.documents[&doc];
    let read = {
        let shield = declared.shielded_by.as_ref();
        let flow = state
            .deployment(d.version)
            .and_then(|dep| dep.flow(&d.flow));
        let mut read = BTreeSet::new();
        if let Ok(v) = serde_json::to_value((shield, flow.map(|f| &f.visible_to))) {
            texts(&v, &mut read);
        }
        let fields: BTreeMap<&String, &Value> =
            d.fields.iter().filter(|(k, _)| read.contains(*k)).collect();
        serde_json::to_string(&(kind, &d.flow, fields)).unwrap_or_default()
    };
    let mut memo = version.sight.borrow_mut();
    let per_class = memo.entry(read).or_default();
    for (p, class) in &version.people {
        let sees = if named.contains(p) {
            may_see(&state, p, &doc)
        } else {
            *per_class
                .entry(*class)
                .or_insert_with(|| may_see(&state, p, &doc))
        };
        if sees {
            facts.insert(Fact::Sees { person: p.clone() });
        }
    }
    Some(facts)
}
