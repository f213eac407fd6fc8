//! The runtime's own line of defence for shielded kinds, with the checker bypassed: each
//! test takes the compiled Aalst project, opens one leak route by hand (as an edited
//! `.json` or an edited database would), makes it the deployed version without `deploy`'s
//! verification (by applying the event to the state, as a replayed log does), then drives
//! submissions, absences, escalations and signatures. After every command it asserts that
//! nobody outside the kind's group holds, is assigned or may see a shielded document.
//! Separately, `deploy` must refuse every one of these projects.

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_compiler::compile::CompiledProject;
use paraaf_compiler::compile::model::*;
use paraaf_runtime::engine::{Emitter, Event, State, Submission};
use paraaf_runtime::visibility::{inbox, may_see};
use paraaf_runtime::workdays::Calendar;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const MAYOR: &str = "ruben-van-damme";
const DIRECTOR: &str = "hans-de-backer";
const HEAD_SOCIAL: &str = "mohamed-wouters";
const COACH_INKOMEN: &str = "dirk-claes";
const STEDENBOUW_COACH: &str = "mohamed-de-cock";

fn aalst() -> CompiledProject {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).expect("aalst loads");
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .expect("aalst compiles")
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Who is inside the social service, computed here from the organogram snapshot alone
/// (an oracle independent of the runtime's index).
fn social_service(p: &CompiledProject) -> BTreeSet<String> {
    let mut units: BTreeSet<String> = ["sociale-zaken".to_string()].into();
    loop {
        let before = units.len();
        for u in &p.organogram.units {
            if u.parent.as_ref().is_some_and(|x| units.contains(x)) {
                units.insert(u.id.clone());
            }
        }
        if units.len() == before {
            break;
        }
    }
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

struct World {
    state: State,
    calendar: Calendar,
    now: DateTime<Utc>,
    inside: BTreeSet<String>,
    people: Vec<String>,
    kept_out: usize,
}

impl World {
    /// Deploys `p` as the log would replay it: no verification.
    fn forced(p: CompiledProject) -> World {
        let inside = social_service(&p);
        let people = p.organogram.people.iter().map(|x| x.id.clone()).collect();
        let mut state = State::default();
        state.apply(
            1,
            t0(),
            &Event::ProjectDeployed {
                version: 1,
                sha256: "0".repeat(64),
                project: Box::new(p),
            },
        );
        World {
            state,
            calendar: Calendar::default(),
            now: t0(),
            inside,
            people,
            kept_out: 0,
        }
    }

    fn run<T>(
        &mut self,
        f: impl FnOnce(&mut Emitter) -> Result<T, paraaf_runtime::engine::RuntimeError>,
    ) -> Option<T> {
        let mut em = Emitter::new(&mut self.state, &self.calendar, self.now);
        let out = f(&mut em).ok();
        self.kept_out += em
            .events
            .iter()
            .filter(|(_, _, e)| matches!(e, Event::ShieldRefused { .. }))
            .count();
        self.assert_no_leak();
        out
    }

    fn submit(&mut self, uploader: &str, fields: &[(&str, &str)]) -> Option<String> {
        let sub = Submission {
            kind: "sociaal-dossier".into(),
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
    fn sign_all(&mut self) {
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

    fn absent(&mut self, person: &str) {
        let from = self.now.date_naive();
        self.run(|e| e.add_absence(person, from, from + Duration::days(60)));
    }

    fn later(&mut self, days: i64) {
        self.now += Duration::days(days);
        self.run(|e| {
            e.tick();
            Ok(())
        });
    }

    /// Nobody outside the social service holds, is assigned, sees or has in their inbox
    /// a social file.
    fn assert_no_leak(&self) {
        for d in self
            .state
            .documents
            .values()
            .filter(|d| d.kind == "sociaal-dossier")
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
                        item.doc.kind != "sociaal-dossier" || self.inside.contains(p),
                        "{p} has {} in the inbox",
                        item.doc.id
                    );
                }
            }
        }
    }
}

fn social_flow(p: &mut CompiledProject) -> &mut Flow {
    p.flows
        .iter_mut()
        .find(|f| f.document == "sociaal-dossier")
        .expect("social flow")
}

fn mandate(id: &str) -> Signer {
    Signer::Mandate { id: id.into() }
}

/// Each route, as a hand-edit of the compiled project.
fn routes() -> Vec<(&'static str, Box<dyn Fn(&mut CompiledProject)>)> {
    vec![
        (
            "a step routed to the mayor",
            Box::new(|p| social_flow(p).steps[0].signatures[0].signer = mandate("burgemeester")),
        ),
        (
            "a signer from an unrestricted unit field",
            Box::new(|p| {
                for d in p
                    .documents
                    .iter_mut()
                    .filter(|d| d.name == "sociaal-dossier")
                {
                    for f in &mut d.fields {
                        f.within = None;
                    }
                }
                social_flow(p).steps[0].signatures[0].signer = Signer::Function {
                    id: "teamcoach".into(),
                    unit: UnitSel::Field("team".into()),
                };
            }),
        ),
        (
            "a person field signer",
            Box::new(|p| {
                for d in p
                    .documents
                    .iter_mut()
                    .filter(|d| d.name == "sociaal-dossier")
                {
                    d.fields.push(Field {
                        name: "behandelaar".into(),
                        ty: "person".into(),
                        optional: true,
                        within: None,
                    });
                }
                social_flow(p).steps[0].signatures[0].signer = Signer::PersonField {
                    field: "behandelaar".into(),
                };
            }),
        ),
        (
            "a substitute outside the group",
            Box::new(|p| {
                p.substitutes.push(Substitutes {
                    holder: Signer::Function {
                        id: "teamcoach".into(),
                        unit: UnitSel::Fixed("inkomen".into()),
                    },
                    substitutes: vec![mandate("burgemeester")],
                })
            }),
        ),
        (
            "an escalation outside the group",
            Box::new(|p| {
                social_flow(p)
                    .deadline
                    .as_mut()
                    .unwrap()
                    .escalate
                    .as_mut()
                    .unwrap()
                    .to = Signer::Function {
                    id: "algemeen-directeur".into(),
                    unit: UnitSel::Any,
                }
            }),
        ),
        (
            "audiences outside the group",
            Box::new(|p| {
                let f = social_flow(p);
                f.visible_to.push(Audience::Unit {
                    unit: UnitSel::Fixed("stedenbouw".into()),
                });
                f.visible_to.push(Audience::Signer {
                    signer: mandate("burgemeester"),
                });
            }),
        ),
        (
            "the group's member list edited",
            Box::new(|p| {
                for g in p.groups.iter_mut().filter(|g| g.name == "sociale-zaken") {
                    g.members.push(MAYOR.into());
                    g.members.push(DIRECTOR.into());
                }
                social_flow(p).visible_to.push(Audience::Group {
                    name: "sociale-zaken".into(),
                });
            }),
        ),
        (
            "a second flow for the kind",
            Box::new(|p| {
                let mut spoed = social_flow(p).clone();
                spoed.name = "spoed".into();
                spoed.steps.truncate(1);
                spoed.steps[0].signatures[0].signer = mandate("burgemeester");
                spoed.when = Some(Expr::Compare {
                    op: paraaf_compiler::syntax::ast::CmpOp::Eq,
                    args: Box::new((
                        Expr::Field(vec!["dossiernummer".into()]),
                        Expr::Text("SPOED".into()),
                    )),
                    within: None,
                });
                social_flow(p).when = Some(Expr::Compare {
                    op: paraaf_compiler::syntax::ast::CmpOp::Ne,
                    args: Box::new((
                        Expr::Field(vec!["dossiernummer".into()]),
                        Expr::Text("SPOED".into()),
                    )),
                    within: None,
                });
                p.flows.push(spoed);
            }),
        ),
    ]
}

/// Every way of using a document after one route was opened.
fn exercise(w: &mut World) {
    // Values an uploader might type, in and outside the group.
    let fields: Vec<Vec<(&str, &str)>> = vec![
        vec![("team", "inkomen"), ("dossiernummer", "A1")],
        vec![("team", "stedenbouw"), ("dossiernummer", "A2")],
        vec![("team", "inkomen"), ("dossiernummer", "SPOED")],
        vec![
            ("team", "inkomen"),
            ("dossiernummer", "A3"),
            ("behandelaar", MAYOR),
        ],
        vec![
            ("team", "schuldbemiddeling"),
            ("dossiernummer", "A4"),
            ("behandelaar", COACH_INKOMEN),
        ],
    ];
    for f in &fields {
        w.submit(HEAD_SOCIAL, f);
    }
    // An outsider may not submit a shielded kind at all.
    assert!(
        w.submit(MAYOR, &fields[0]).is_none(),
        "the mayor submitted a social file"
    );
    w.absent(COACH_INKOMEN);
    for f in &fields {
        w.submit(HEAD_SOCIAL, f);
    }
    w.later(8);
    w.absent(HEAD_SOCIAL);
    w.later(8);
    w.sign_all();
    w.later(8);
}

#[test]
fn every_route_is_refused_by_deploy() {
    for (name, edit) in routes() {
        let mut p = aalst();
        edit(&mut p);
        let mut state = State::default();
        let cal = Calendar::default();
        let mut em = Emitter::new(&mut state, &cal, t0());
        let err = em.deploy(p).expect_err(name);
        assert!(err.to_string().contains("shield"), "{name}: {err}");
    }
    // The untouched project deploys.
    let mut state = State::default();
    let cal = Calendar::default();
    Emitter::new(&mut state, &cal, t0())
        .deploy(aalst())
        .expect("aalst deploys");
}

#[test]
fn with_deploy_bypassed_the_runtime_keeps_every_route_closed() {
    for (name, edit) in routes() {
        let mut p = aalst();
        edit(&mut p);
        let mut w = World::forced(p);
        exercise(&mut w);
        assert!(
            !w.state.documents.is_empty(),
            "{name}: nothing was submitted, so nothing was tried"
        );
        // Routes that reach an outsider must have been stopped by the shield, visibly.
        if !matches!(
            name,
            "audiences outside the group" | "the group's member list edited"
        ) {
            assert!(
                w.kept_out > 0,
                "{name}: no shield_refused event was recorded"
            );
        }
    }
}

#[test]
fn a_new_version_may_not_drop_a_shield() {
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.deploy(aalst()).unwrap();
    let mut p = aalst();
    for d in &mut p.documents {
        d.shielded_by = None;
    }
    for g in &mut p.groups {
        g.shielded = false;
    }
    let err = em.deploy(p).expect_err("dropping the shield");
    assert!(
        err.to_string().contains("may not drop that shield"),
        "{err}"
    );
}

#[test]
fn refined_fields_refuse_values_outside_with_the_reason() {
    let mut w = World::forced(aalst());
    let mut em = Emitter::new(&mut w.state, &w.calendar, w.now);
    let sub = |team: &str| Submission {
        kind: "sociaal-dossier".into(),
        uploader: HEAD_SOCIAL.into(),
        fields: [
            ("team".to_string(), Value::String(team.into())),
            ("dossiernummer".to_string(), Value::String("X".into())),
        ]
        .into(),
        content_sha256: "a".repeat(64),
        title: String::new(),
        flow: None,
    };
    let err = em.submit(sub("stedenbouw")).expect_err("outside unit");
    assert!(
        err.to_string()
            .contains("only units in `sociale-zaken` are accepted"),
        "{err}"
    );
    em.submit(sub("schuldbemiddeling"))
        .expect("a unit below sociale-zaken");
}

#[test]
fn the_exception_lets_the_employee_sign_but_not_their_substitute() {
    let mut p = aalst();
    // The employee concerned has a substitute outside the discipline group.
    p.substitutes.push(Substitutes {
        holder: Signer::Person {
            id: STEDENBOUW_COACH.into(),
        },
        substitutes: vec![mandate("burgemeester")],
    });
    let mut w = World::forced(p);
    let tucht: BTreeSet<String> = w.state.current().unwrap().1.shields.groups["tucht"].clone();
    let mut em = Emitter::new(&mut w.state, &w.calendar, w.now);
    let uploader = tucht.iter().next().unwrap().clone();
    let doc = em
        .submit(Submission {
            kind: "tuchtdossier".into(),
            uploader,
            fields: [(
                "medewerker".to_string(),
                Value::String(STEDENBOUW_COACH.into()),
            )]
            .into(),
            content_sha256: "a".repeat(64),
            title: String::new(),
            flow: None,
        })
        .expect("submitted");
    // Before the receipt step, the flow does not show it to the employee; never to the mayor.
    assert!(!may_see(&w.state, STEDENBOUW_COACH, &doc));
    assert!(!may_see(&w.state, MAYOR, &doc));
    // Sign the first two steps; the receipt goes to the employee, who is absent: their
    // substitute outside the group never gets it.
    for _ in 0..2 {
        let d = &w.state.documents[&doc];
        let t = d
            .tasks
            .iter()
            .rev()
            .find(|t| t.status == paraaf_runtime::engine::TaskStatus::Open)
            .unwrap();
        let who = t.spec.assignees[0].clone();
        Emitter::new(&mut w.state, &w.calendar, w.now)
            .sign(&doc, &who)
            .unwrap();
    }
    let from = w.now.date_naive();
    Emitter::new(&mut w.state, &w.calendar, w.now)
        .add_absence(STEDENBOUW_COACH, from, from + Duration::days(10))
        .unwrap();
    // The employee concerned reads their own file (the exception); the mayor never does.
    assert!(may_see(&w.state, STEDENBOUW_COACH, &doc));
    let d = &w.state.documents[&doc];
    let t = d.tasks.last().unwrap();
    assert_eq!(t.spec.holders, vec![STEDENBOUW_COACH.to_string()]);
    assert!(!t.spec.assignees.iter().any(|a| a == MAYOR), "{:?}", t.spec);
    assert!(t.shield_refused.is_some(), "the hand-over was not recorded");
    assert!(!may_see(&w.state, MAYOR, &doc));
}
