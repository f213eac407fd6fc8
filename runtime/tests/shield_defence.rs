//! The runtime's own line of defence for shielded kinds, with the checker bypassed: each
//! test takes the compiled Aalst project, opens one leak route by hand (as an edited
//! `.json` or an edited database would), makes it the deployed version without `deploy`'s
//! verification (by applying the event to the state, as a replayed log does), then drives
//! submissions, absences, escalations and signatures. After every command it asserts that
//! nobody outside the kind's group holds, is assigned or may see a shielded document.
//! Separately, `deploy` must refuse every one of these projects.

mod support;

use chrono::Duration;
use paraaf_compiler::compile::CompiledProject;
use paraaf_compiler::compile::model::*;
use paraaf_runtime::engine::{Emitter, State, Submission};
use paraaf_runtime::visibility::may_see;
use paraaf_runtime::workdays::Calendar;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use support::{World, social_service, t0};

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
/// A named hand-edit of the compiled project.
type Route = (&'static str, Box<dyn Fn(&mut CompiledProject)>);

fn routes() -> Vec<Route> {
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
                    op: paraaf_model::CmpOp::Eq,
                    args: Box::new((
                        Expr::Field(vec!["dossiernummer".into()]),
                        Expr::Text("SPOED".into()),
                    )),
                    within: None,
                });
                social_flow(p).when = Some(Expr::Compare {
                    op: paraaf_model::CmpOp::Ne,
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
fn an_edited_log_is_caught_when_it_is_folded() {
    for (name, edit) in routes() {
        let mut p = aalst();
        edit(&mut p);
        let mut state = State::default();
        state.apply(
            1,
            t0(),
            &paraaf_runtime::engine::Event::ProjectDeployed {
                version: 1,
                sha256: "0".repeat(64),
                project: Box::new(p),
                shields_widened: Vec::new(),
            },
        );
        assert!(!state.deployments[0].broken.is_empty(), "{name}");
        let cal = Calendar::default();
        let err = Emitter::new(&mut state, &cal, t0())
            .submit(Submission {
                kind: "besluit".into(),
                uploader: HEAD_SOCIAL.into(),
                content_sha256: "a".repeat(64),
                ..Submission::default()
            })
            .expect_err(name);
        assert!(
            err.to_string().contains("breaks the shielding rules"),
            "{name}: {err}"
        );
    }
}

#[test]
fn with_deploy_bypassed_the_runtime_keeps_every_route_closed() {
    for (name, edit) in routes() {
        let mut p = aalst();
        edit(&mut p);
        let inside = social_service(&p);
        let mut w = World::forced(p, "sociaal-dossier", inside);
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
    let p = aalst();
    let inside = social_service(&p);
    let mut w = World::forced(p, "sociaal-dossier", inside);
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
    let inside = social_service(&p);
    let mut w = World::forced(p, "sociaal-dossier", inside);
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
    // Nobody signs the receipt for the employee: no substitute is even asked, so the
    // task waits for them (#24).
    assert_eq!(t.spec.assignees, vec![STEDENBOUW_COACH.to_string()]);
    assert!(!may_see(&w.state, MAYOR, &doc));
}

#[test]
fn someone_who_left_the_group_loses_documents_in_flight() {
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.deploy(aalst()).unwrap();
    let doc = em
        .submit(Submission {
            kind: "sociaal-dossier".into(),
            uploader: "koen-dubois".into(),
            fields: [
                ("team".to_string(), Value::String("inkomen".into())),
                ("dossiernummer".to_string(), Value::String("D1".into())),
            ]
            .into(),
            content_sha256: "a".repeat(64),
            title: String::new(),
            flow: None,
        })
        .unwrap();
    // Version 2: the head of the social service and the uploader moved to culture.
    let mut v2 = aalst();
    for p in &mut v2.organogram.people {
        if p.id == HEAD_SOCIAL || p.id == "koen-dubois" {
            p.positions = vec![OrgPosition::Function {
                function: "cultuurbeleidscoordinator".into(),
                unit: "cultuur".into(),
            }];
        }
    }
    for g in &mut v2.groups {
        let org = paraaf_runtime::org::OrgIndex::new(&v2.organogram);
        g.members = paraaf_compiler::compile::shield::group_members(&g.definition, &org)
            .into_iter()
            .collect();
    }
    em.deploy(v2).unwrap();
    em.sign(&doc, COACH_INKOMEN).unwrap();
    let d = &em.state.documents[&doc];
    let t = d.tasks.last().unwrap();
    assert!(
        !t.spec.assignees.iter().any(|a| a == HEAD_SOCIAL),
        "{:?}",
        t.spec
    );
    // The next step is routed through today's organogram: to whoever holds the role or
    // substitutes inside the group now, or to the manual queue.
    let (_, current) = em.state.current().unwrap();
    assert!(
        t.shield_refused.is_some()
            || t.spec.assignees.iter().all(|a| current.shields.inside(
                "sociaal-dossier",
                &d.fields,
                a
            )),
        "{:?}",
        t.spec
    );
    assert!(!may_see(em.state, HEAD_SOCIAL, &doc));
    assert!(!may_see(em.state, "koen-dubois", &doc));
    assert!(may_see(em.state, COACH_INKOMEN, &doc));
    // The uploader who moved out cannot carry the file's content into a document of
    // another kind by its hash (its signers would read it there); content of his own
    // he still sees, or never submitted, he may name.
    let order = |sha: String| Submission {
        kind: "bestelbon".into(),
        uploader: "koen-dubois".into(),
        fields: [
            ("dienst".to_string(), Value::String("cultuur".into())),
            ("bedrag".to_string(), Value::String("100.00".into())),
            ("leverancier".to_string(), Value::String("Drukkerij".into())),
        ]
        .into(),
        content_sha256: sha,
        title: "Bestelbon".into(),
        flow: None,
    };
    let refused = em.submit(order("a".repeat(64))).unwrap_err();
    assert!(
        refused.to_string().contains("not only its hash"),
        "{refused}"
    );
    assert!(
        em.submit(order("A".repeat(64))).is_err(),
        "the hash in capitals"
    );
    let fresh = em.submit(order("b".repeat(64))).unwrap();
    assert!(
        em.submit(order("b".repeat(64))).is_ok(),
        "his own, still seen"
    );
    assert!(may_see(em.state, "koen-dubois", &fresh));
}

// ------------------------------------------------------------------ the `allow` exception (#24)

/// The employee concerned in the Aalst discipline files: outside `tucht`.
const EMPLOYEE: &str = STEDENBOUW_COACH;

fn discipline_flow(p: &mut CompiledProject) -> &mut Flow {
    p.flows
        .iter_mut()
        .find(|f| f.document == "tuchtdossier")
        .expect("discipline flow")
}

fn hr_head() -> Signer {
    Signer::Function {
        id: "diensthoofd".into(),
        unit: UnitSel::Fixed("personeel".into()),
    }
}

/// Submits a discipline file about `EMPLOYEE` by a member of `tucht`; returns its id.
fn discipline_file(w: &mut World) -> String {
    let uploader = w.state.current().unwrap().1.shields.groups["tucht"]
        .iter()
        .next()
        .unwrap()
        .clone();
    w.run(|e| {
        e.submit(Submission {
            kind: "tuchtdossier".into(),
            uploader,
            fields: [("medewerker".to_string(), Value::String(EMPLOYEE.into()))].into(),
            content_sha256: "a".repeat(64),
            title: String::new(),
            flow: None,
        })
    })
    .expect("a member submits")
}

/// The employee holds, is assigned or was escalated no task but the receipt.
fn only_the_receipt(w: &World, doc: &str) {
    let d = &w.state.documents[doc];
    let flow = &w.state.deployment(d.version).unwrap().project.flows;
    let flow = flow.iter().find(|f| f.name == d.flow).unwrap();
    for t in &d.tasks {
        let named = matches!(
            &flow.steps[t.step].signatures[t.spec.signature].signer,
            Signer::PersonField { field } if field == "medewerker"
        );
        let reached = t
            .spec
            .holders
            .iter()
            .chain(&t.spec.assignees)
            .chain(&t.escalated_to);
        for p in reached {
            assert!(
                named || p != EMPLOYEE,
                "the employee got task {} (step `{}`, {}) of their own file",
                t.spec.id,
                flow.steps[t.step].name,
                t.spec.role
            );
        }
    }
}

#[test]
fn an_escalation_to_the_field_is_refused_and_never_routed() {
    let mut p = aalst();
    let mut deadline = p
        .flows
        .iter()
        .find_map(|f| f.deadline.clone())
        .expect("a flow with a deadline");
    deadline.escalate.as_mut().expect("an escalation").to = Signer::PersonField {
        field: "medewerker".into(),
    };
    discipline_flow(&mut p).deadline = Some(deadline);
    let mut state = State::default();
    let cal = Calendar::default();
    let err = Emitter::new(&mut state, &cal, t0())
        .deploy(p.clone())
        .expect_err("escalation to the allow field");
    assert!(
        err.to_string().contains("escalation") && err.to_string().contains("medewerker"),
        "{err}"
    );
    // With deploy bypassed, the late step of HR's head never goes to the employee.
    let inside = social_service(&p);
    let mut w = World::forced(p, "sociaal-dossier", inside);
    let doc = discipline_file(&mut w);
    w.later(30);
    only_the_receipt(&w, &doc);
    assert!(w.kept_out > 0, "the refused escalation was not recorded");
    assert!(
        w.run(|e| e.sign(&doc, EMPLOYEE)).is_none(),
        "the employee signed the step of HR's head"
    );
    assert_eq!(w.state.documents[&doc].step, 0);
}

#[test]
fn a_substitute_hand_over_never_reaches_the_employee() {
    let mut p = aalst();
    // HR's head has the employee as substitute (an edited .json: check and deploy refuse).
    p.substitutes.insert(
        0,
        Substitutes {
            holder: hr_head(),
            substitutes: vec![Signer::Person {
                id: EMPLOYEE.into(),
            }],
        },
    );
    let mut state = State::default();
    let cal = Calendar::default();
    assert!(
        Emitter::new(&mut state, &cal, t0())
            .deploy(p.clone())
            .is_err()
    );
    let inside = social_service(&p);
    let mut w = World::forced(p, "sociaal-dossier", inside);
    let org = w.state.current().unwrap().1.org.clone();
    for head in org.holders(&hr_head(), &Default::default()) {
        w.absent(&head);
    }
    let doc = discipline_file(&mut w);
    only_the_receipt(&w, &doc);
    assert!(w.kept_out > 0, "the refused hand-over was not recorded");
    // Deadlines pass and the absence ends: rerouting keeps the employee out too.
    w.later(70);
    only_the_receipt(&w, &doc);
}

#[test]
fn the_employee_may_not_submit_a_file_about_themself() {
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.deploy(aalst()).unwrap();
    let err = em
        .submit(Submission {
            kind: "tuchtdossier".into(),
            uploader: EMPLOYEE.into(),
            fields: [("medewerker".to_string(), Value::String(EMPLOYEE.into()))].into(),
            content_sha256: "a".repeat(64),
            title: String::new(),
            flow: None,
        })
        .expect_err("an outsider submitted a discipline file about themself");
    assert!(err.to_string().contains("not submit it"), "{err}");
    assert!(em.state.documents.is_empty());
}

#[test]
fn visible_to_the_field_shows_the_employee_their_file_from_the_start() {
    let mut p = aalst();
    discipline_flow(&mut p).visible_to.push(Audience::Signer {
        signer: Signer::PersonField {
            field: "medewerker".into(),
        },
    });
    let mut state = State::default();
    let cal = Calendar::default();
    Emitter::new(&mut state, &cal, t0())
        .deploy(p.clone())
        .expect("showing the file to the employee concerned is within the shield");
    let inside = social_service(&p);
    let mut w = World::forced(p, "sociaal-dossier", inside);
    let doc = discipline_file(&mut w);
    assert_eq!(w.state.documents[&doc].step, 0);
    assert!(may_see(&w.state, EMPLOYEE, &doc));
    assert!(!may_see(&w.state, MAYOR, &doc));
    assert!(!may_see(&w.state, HEAD_SOCIAL, &doc));
    only_the_receipt(&w, &doc);
}

#[test]
fn deploy_refuses_a_name_defined_twice() {
    type Edit = (&'static str, fn(&mut CompiledProject));
    let edits: [Edit; 4] = [
        ("two flows are called", |p| {
            let mut other = p.flows[1].clone();
            other.name = p.flows[0].name.clone();
            p.flows.push(other);
        }),
        ("two groups are called", |p| {
            let g = p.groups[0].clone();
            p.groups.push(g);
        }),
        ("two document kinds are called", |p| {
            let d = p.documents[0].clone();
            p.documents.push(d);
        }),
        ("two rules are called", |p| {
            let r = p.rules[0].clone();
            p.rules.push(r);
        }),
    ];
    for (said, edit) in edits {
        let mut p = aalst();
        edit(&mut p);
        let mut state = State::default();
        let cal = Calendar::default();
        let err = Emitter::new(&mut state, &cal, t0())
            .deploy(p)
            .expect_err(said);
        assert!(err.to_string().contains(said), "{said}: {err}");
        assert!(state.deployments.is_empty(), "{said}");
    }
}
