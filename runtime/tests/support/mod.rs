//! Shared by the shield tests: a runtime state driven in memory, and an oracle of who is
//! inside, computed from the organogram snapshot alone.
#![allow(dead_code)]

pub mod content;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_compiler::compile::CompiledProject;
use paraaf_compiler::compile::model::*;
use paraaf_runtime::engine::{Emitter, Event, State, Submission};
use paraaf_runtime::visibility::{inbox, may_see};
use paraaf_runtime::workdays::Calendar;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The folder of the Aalst example.
pub fn aalst_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst")
}

/// The Aalst example's flow files (`flows/NAME.paraaf`, text), in name order: to compile
/// the project against another organogram (`Database::from_texts`).
pub fn aalst_flows() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(aalst_dir().join("flows"))
        .expect("aalst flows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "paraaf"))
        .map(|p| {
            (
                format!("flows/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read_to_string(&p).expect("flow file"),
            )
        })
        .collect();
    out.sort();
    out
}

/// The units `root` and below, from the snapshot.
pub fn units_below(p: &CompiledProject, root: &str) -> BTreeSet<String> {
    let mut units: BTreeSet<String> = [root.to_string()].into();
    loop {
        let before = units.len();
        for u in &p.organogram.units {
            if u.parent.as_ref().is_some_and(|x| units.contains(x)) {
                units.insert(u.id.clone());
            }
        }
        if units.len() == before {
            return units;
        }
    }
}

/// People with a function in one of `units`.
pub fn people_in(p: &CompiledProject, units: &BTreeSet<String>) -> BTreeSet<String> {
    p.organogram
        .people
        .iter()
        .filter(|person| {
            person.positions.iter().any(
                |pos| matches!(pos, OrgPosition::Function { unit, .. } if units.contains(unit)),
            )
        })
        .map(|person| person.id.clone())
        .collect()
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Who is inside the social service (an oracle independent of the runtime's index).
pub fn social_service(p: &CompiledProject) -> BTreeSet<String> {
    people_in(p, &units_below(p, "sociale-zaken"))
}

pub struct World {
    pub state: State,
    pub calendar: Calendar,
    pub now: DateTime<Utc>,
    /// The oracle: who is inside the shield.
    pub inside: BTreeSet<String>,
    /// The shielded kind under test.
    pub kind: String,
    pub people: Vec<String>,
    /// `shield_refused` events that kept someone out.
    pub kept_out: usize,
}

impl World {
    /// Deploys `p` as a replayed log would, and then clears what the fold's own
    /// re-verification found: as if both the deploy check and the replay check had been
    /// fooled. Only the routing and read guards are left.
    pub fn forced(p: CompiledProject, kind: &str, inside: BTreeSet<String>) -> World {
        let people = p.organogram.people.iter().map(|x| x.id.clone()).collect();
        let mut state = State::default();
        state.apply(
            1,
            t0(),
            &Event::ProjectDeployed {
                version: 1,
                sha256: "0".repeat(64),
                project: Box::new(p),
                shields_widened: Vec::new(),
            },
        );
        for d in &mut state.deployments {
            d.broken.clear();
        }
        World {
            state,
            calendar: Calendar::default(),
            now: t0(),
            inside,
            kind: kind.to_string(),
            people,
            kept_out: 0,
        }
    }

    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut Emitter) -> Result<T, paraaf_runtime::engine::RuntimeError>,
    ) -> Option<T> {
        let mut em = Emitter::new(&mut self.state, &self.calendar, self.now);
        let out = f(&mut em).ok();
        self.kept_out += em
            .events
            .iter()
            .filter(|(_, _, e)| matches!(e, Event::ShieldRefused { refused, .. } if !refused.is_empty()))
            .count();
        self.assert_no_leak();
        out
    }

    pub fn submit(&mut self, uploader: &str, fields: &[(&str, &str)]) -> Option<String> {
        let sub = Submission {
            kind: self.kind.clone(),
            uploader: uploader.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
            content_sha256: "a".repeat(64),
            title: "dossier".into(),
            flow: None,
        };
        self.run(|e| e.submit(sub))
    }

    /// Signs every open task by its first assignee, until nothing moves.
    pub fn sign_all(&mut self) {
        for _ in 0..10 {
            let todo: Vec<(String, String)> = self
                .state
                .documents
                .values()
                .flat_map(|d| {
                    d.tasks
                        .iter()
                        .filter(|t| t.status == paraaf_runtime::engine::TaskStatus::Open)
                        .filter_map(|t| t.spec.assignees.first().map(|a| (d.id.clone(), a.clone())))
                        .collect::<Vec<_>>()
                })
                .collect();
            if todo.is_empty() {
                return;
            }
            for (doc, who) in todo {
                self.run(|e| e.sign(&doc, &who));
            }
        }
    }

    pub fn absent(&mut self, person: &str) {
        let from = self.now.date_naive();
        self.run(|e| e.add_absence(person, from, from + Duration::days(60)));
    }

    pub fn later(&mut self, days: i64) {
        self.now += Duration::days(days);
        self.run(|e| {
            e.tick();
            Ok(())
        });
    }

    /// Nobody outside the social service holds, is assigned, sees or has in their inbox
    /// a social file.
    pub fn assert_no_leak(&self) {
        for d in self
            .state
            .documents
            .values()
            .filter(|d| d.kind == self.kind)
        {
            for t in &d.tasks {
                for p in t.spec.holders.iter().chain(&t.spec.assignees) {
                    assert!(
                        self.inside.contains(p),
                        "{p} got task {} of {} ({})",
                        t.spec.id,
                        d.id,
                        t.spec.role
                    );
                }
            }
            for p in &self.people {
                if may_see(&self.state, p, &d.id) {
                    assert!(self.inside.contains(p), "{p} may see {}", d.id);
                }
                for item in inbox(&self.state, p) {
                    assert!(
                        item.doc.kind != self.kind || self.inside.contains(p),
                        "{p} has {} in the inbox",
                        item.doc.id
                    );
                }
            }
        }
    }
}
