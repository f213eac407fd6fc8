//! Found by an attack from the outside: an escalation asked the general director for the
//! mayor's signature too, so one person gave both signatures of `all { burgemeester,
//! algemeen-directeur }`; and a substitute kept an escalated task after the mayor came
//! back. The class: whatever routes a second task of a step to someone (escalation,
//! substitution), one person signs one task of a step; and who substitutes for an absence
//! stops when it ends, while who was escalated to stays.

use chrono::{Duration, TimeZone, Utc};
use paraaf_runtime::engine::{Emitter, RuntimeError, State, Submission, TaskStatus};
use paraaf_runtime::visibility::{inbox, may_see};
use paraaf_runtime::workdays::Calendar;
use std::path::Path;

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

fn besluit() -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: "jan-cools".into(),
        fields: [
            ("dienst".to_string(), serde_json::json!("bevolking")),
            ("bron".to_string(), serde_json::json!("notula")),
            ("titel".to_string(), serde_json::json!("Aankoop")),
        ]
        .into(),
        content_sha256: "0".repeat(64),
        title: "Aankoop".into(),
        flow: None,
    }
}

fn assignees(state: &State, doc: &str, role: &str) -> Vec<String> {
    state.documents[doc]
        .tasks
        .iter()
        .find(|t| t.spec.role == role && t.status == TaskStatus::Open)
        .map(|t| t.spec.assignees.clone())
        .unwrap_or_default()
}

#[test]
fn one_person_signs_one_task_of_a_step_even_when_escalated_to_both() {
    let mut state = State::default();
    let cal = Calendar::default();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let mut em = Emitter::new(&mut state, &cal, t0);
    em.deploy(project()).unwrap();
    let doc = em.submit(besluit()).unwrap();
    em.sign(&doc, "dirk-lambert").unwrap();
    // Ten workdays later the handtekening step escalates to the general director.
    em.now = cal.add_workdays(t0, 11);
    em.tick();
    assert!(assignees(em.state, &doc, "burgemeester").contains(&"hans-de-backer".to_string()));
    // His inbox lists the document once, for his own role.
    let items = inbox(em.state, "hans-de-backer");
    let mine: Vec<_> = items.iter().filter(|i| i.doc.id == doc).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].role, "algemeen-directeur");
    em.sign(&doc, "hans-de-backer").unwrap();
    let d = &em.state.documents[&doc];
    let own = d
        .tasks
        .iter()
        .find(|t| t.spec.role == "algemeen-directeur")
        .unwrap();
    assert_eq!(
        own.decided_by,
        Some(("hans-de-backer".into(), None)),
        "his own role first"
    );
    // The mayor's signature is not his to give as well.
    match em.sign(&doc, "hans-de-backer") {
        Err(RuntimeError::Forbidden(why)) => {
            assert!(why.contains("already signed this step"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        inbox(em.state, "hans-de-backer")
            .iter()
            .all(|i| i.doc.id != doc)
    );
    em.sign(&doc, "ruben-van-damme").unwrap();
    assert_eq!(em.state.documents[&doc].status.as_str(), "completed");
}

#[test]
fn a_substitute_stops_when_the_absence_ends_and_the_escalation_stays() {
    let mut state = State::default();
    let cal = Calendar::default();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let mut em = Emitter::new(&mut state, &cal, t0);
    em.deploy(project()).unwrap();
    let absence = em
        .add_absence(
            "ruben-van-damme",
            t0.date_naive(),
            t0.date_naive() + Duration::days(60),
        )
        .unwrap();
    let doc = em.submit(besluit()).unwrap();
    em.sign(&doc, "dirk-lambert").unwrap();
    assert_eq!(
        assignees(em.state, &doc, "burgemeester"),
        vec!["jan-desmet".to_string()]
    );
    em.now = cal.add_workdays(t0, 11);
    em.tick();
    let asked = assignees(em.state, &doc, "burgemeester");
    assert!(
        asked.contains(&"jan-desmet".to_string()) && asked.contains(&"hans-de-backer".to_string())
    );
    // The mayor is back: the task is his again, and the general director's by the
    // escalation; his substitute, who never acted, no longer has it nor sees it.
    em.withdraw_absence(&absence).unwrap();
    let asked = assignees(em.state, &doc, "burgemeester");
    assert!(asked.contains(&"ruben-van-damme".to_string()), "{asked:?}");
    assert!(asked.contains(&"hans-de-backer".to_string()), "{asked:?}");
    assert!(!asked.contains(&"jan-desmet".to_string()), "{asked:?}");
    assert!(!may_see(em.state, "jan-desmet", &doc));
    assert!(matches!(
        em.sign(&doc, "jan-desmet"),
        Err(RuntimeError::NotFound)
    ));
}

/// What people do, in any order: absences of the mayor start and end, days pass
/// (reminders, escalations), anyone tries to sign anything.
#[derive(Clone, Debug)]
enum Step {
    Away(u8),
    Back,
    Days(u8),
    Sign(usize, usize),
    Submit,
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        1 => (1u8..30).prop_map(Step::Away),
        1 => Just(Step::Back),
        2 => (1u8..12).prop_map(Step::Days),
        4 => (0usize..5, 0usize..3).prop_map(|(p, d)| Step::Sign(p, d)),
        1 => Just(Step::Submit),
    ]
}

/// The independent oracle, in the test's own words: in every round of a step, one
/// person decided at most one task; and whoever may sign an open task holds its role,
/// or substitutes for a holder who is away today, or had it escalated to them.
#[test]
fn four_eyes_and_substitutes_hold_whatever_happens() {
    use proptest::prelude::*;
    // Who signs at the steps of a college decision, and the mayor's substitute.
    const PEOPLE: [&str; 5] = [
        "dirk-lambert",
        "griet-vermeulen",
        "ruben-van-damme",
        "hans-de-backer",
        "jan-desmet",
    ];
    let project = project();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(step(), 1..40), |steps| {
            let mut state = State::default();
            let cal = Calendar::default();
            let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
            let mut em = Emitter::new(&mut state, &cal, t0);
            em.deploy(project.clone()).unwrap();
            let mut docs = vec![em.submit(besluit()).unwrap()];
            let mut away: Option<String> = None;
            for s in &steps {
                match s {
                    Step::Away(days) if away.is_none() => {
                        let from = em.now.date_naive();
                        away = em
                            .add_absence("ruben-van-damme", from, from + Duration::days(i64::from(*days)))
                            .ok();
                    }
                    Step::Back => {
                        if let Some(a) = away.take() {
                            em.withdraw_absence(&a).unwrap();
                        }
                    }
                    Step::Days(n) => {
                        em.now = cal.add_workdays(em.now, u32::from(*n));
                        em.tick();
                    }
                    Step::Sign(p, d) => {
                        let _ = em.sign(&docs[d % docs.len()], PEOPLE[*p]);
                    }
                    Step::Submit => docs.push(em.submit(besluit()).unwrap()),
                    Step::Away(_) => {}
                }
                let today = em.now.date_naive();
                for d in em.state.documents.values() {
                    // Rounds: runs of consecutive tasks of one step.
                    let mut round: Vec<&paraaf_runtime::engine::Task> = Vec::new();
                    let mut rounds = Vec::new();
                    for t in &d.tasks {
                        if round.last().is_some_and(|l| l.step != t.step) {
                            rounds.push(std::mem::take(&mut round));
                        }
                        round.push(t);
                    }
                    rounds.push(round);
                    for r in &rounds {
                        let deciders: Vec<&str> = r
                            .iter()
                            .filter_map(|t| t.decided_by.as_ref().map(|(by, _)| by.as_str()))
                            .collect();
                        let mut unique = deciders.clone();
                        unique.sort();
                        unique.dedup();
                        prop_assert_eq!(unique.len(), deciders.len(), "{} signed twice in one step: {:?}", d.id, deciders);
                    }
                    for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                        let holder_away = t.spec.holders.iter().all(|h| em.state.is_absent(h, today));
                        for a in &t.spec.assignees {
                            let ok = t.spec.holders.contains(a)
                                || t.escalated_to.contains(a)
                                || holder_away;
                            prop_assert!(ok, "{} may sign {} of {} (holders {:?}, escalated to {:?}, holders away: {holder_away})",
                                a, t.spec.role, d.id, t.spec.holders, t.escalated_to);
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
