//! Time inside the server and what people are told (#26), on the engine in memory:
//!
//! - a model-based property: ticking only at `schedule::next_due` moments (what the
//!   server's scheduler does) gives the same reminders, escalations and hand-overs as
//!   ticking every quarter of an hour (the model), over generated documents, absences,
//!   signatures and weeks with holidays;
//! - the outbox for events: who is told what, urgent or in the digest, nothing for whoever
//!   chose nothing, a shielded kind's mail naming no title and no field, webhooks for
//!   completed and refused documents only.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use paraaf_runtime::engine::{Emitter, Event, NotifyMode, State, Submission};
use paraaf_runtime::outbox::{self, Hook, Mail};
use paraaf_runtime::schedule::next_due;
use paraaf_runtime::workdays::Calendar;
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn project() -> paraaf_compiler::compile::CompiledProject {
    static P: OnceLock<paraaf_compiler::compile::CompiledProject> = OnceLock::new();
    P.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
        let loaded = paraaf_compiler::load::load(&root).unwrap();
        paraaf_compiler::db::compiled(&loaded.db, loaded.project)
            .clone()
            .unwrap()
    })
    .clone()
}

fn sub(kind: &str, uploader: &str, fields: &[(&str, &str)], title: &str) -> Submission {
    Submission {
        kind: kind.into(),
        uploader: uploader.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect(),
        content_sha256: "0".repeat(64),
        title: title.into(),
        flow: None,
    }
}

fn besluit() -> Submission {
    sub(
        "besluit",
        "jan-cools",
        &[
            ("dienst", "bevolking"),
            ("bron", "notula"),
            ("titel", "Aankoop laptops"),
        ],
        "Aankoop laptops",
    )
}

fn attest() -> Submission {
    sub(
        "attest",
        "jan-cools",
        &[("soort", "gezinssamenstelling"), ("aanvrager", "Jan")],
        "Attest",
    )
}

fn dossier() -> Submission {
    sub(
        "sociaal-dossier",
        "bart-verhoeven",
        &[("team", "inkomen"), ("dossiernummer", "LL-2026-0042")],
        "Leefloon Peeters",
    )
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 29, 7, 0, 0).unwrap() // Monday, 09:00 in Brussels
}

/// The mails of `items` to `person`.
fn mails_to(items: &[outbox::Item], person: &str) -> Vec<(outbox::Item, Mail)> {
    items
        .iter()
        .filter(|i| i.channel == "mail" && i.recipient == person)
        .map(|i| (i.clone(), serde_json::from_str(&i.payload).unwrap()))
        .collect()
}

#[test]
fn who_is_told_what() {
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.deploy(project()).unwrap();
    em.choose_notifications("ruben-van-damme", NotifyMode::Nothing)
        .unwrap();
    em.choose_notifications("dirk-claes", NotifyMode::Immediate)
        .unwrap();
    let doc = em.submit(besluit()).unwrap();
    let social = em.submit(dossier()).unwrap();
    let items = outbox::derive(em.state, &em.events);
    // A new task: in the digest by default, with the title, the kind and the role.
    let to_head = mails_to(&items, "dirk-lambert");
    assert_eq!(to_head.len(), 1);
    let (item, mail) = &to_head[0];
    assert!(!item.urgent, "the digest by default");
    assert_eq!(mail.what, "task");
    assert_eq!(mail.doc, doc);
    assert_eq!(mail.to, "dirk.lambert@aalst.be");
    let about = mail.about.as_ref().expect("not shielded");
    assert_eq!(about.title, "Aankoop laptops");
    assert_eq!(about.role, "Diensthoofd Bevolking");
    // A shielded kind: the mail says only that a task waits; immediate as chosen.
    let to_coach = mails_to(&items, "dirk-claes");
    assert_eq!(to_coach.len(), 1);
    let (item, mail) = &to_coach[0];
    assert!(item.urgent, "dirk-claes chose immediate mail");
    assert_eq!(mail.doc, social);
    assert!(mail.about.is_none());
    assert!(!item.payload.contains("Leefloon") && !item.payload.contains("LL-2026"));
    // No webhook: nothing completed or was refused.
    assert!(items.iter().all(|i| i.channel == "mail"));

    // The decision reaches the mayor, who chose nothing, and the general director.
    em.events.clear();
    em.sign(&doc, "dirk-lambert").unwrap();
    let items = outbox::derive(em.state, &em.events);
    assert!(mails_to(&items, "ruben-van-damme").is_empty());
    assert_eq!(mails_to(&items, "hans-de-backer").len(), 1);

    // Ten workdays later: escalated, at once (also for a digest reader).
    em.events.clear();
    em.now = cal.add_workdays(t0(), 11);
    em.tick();
    let items = outbox::derive(em.state, &em.events);
    assert!(
        em.events
            .iter()
            .any(|(_, _, e)| matches!(e, Event::Escalated { .. }))
    );
    let escalated: Vec<_> = mails_to(&items, "hans-de-backer")
        .into_iter()
        .filter(|(_, m)| m.what == "escalation")
        .collect();
    // Both tasks of the step (the mayor's and his own) escalate to the general
    // director: one item per event; the sender sends urgent items of a round as one mail.
    assert_eq!(escalated.len(), 2, "{items:#?}");
    assert!(escalated.iter().all(|(i, _)| i.urgent));
    let reminded: Vec<_> = mails_to(&items, "hans-de-backer")
        .into_iter()
        .filter(|(_, m)| m.what == "reminder")
        .collect();
    // Both reminders fell due in the same tick as the escalations: he is told of the
    // escalation only, the mayor (nothing chosen) of neither.
    assert!(reminded.is_empty(), "{reminded:#?}");
    assert!(mails_to(&items, "ruben-van-damme").is_empty());

    // Refused: back to the uploader (a mail) and the source is told (a webhook).
    em.events.clear();
    em.refuse(&doc, "hans-de-backer", "Offerte ontbreekt")
        .unwrap();
    let items = outbox::derive(em.state, &em.events);
    let back = mails_to(&items, "jan-cools");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].1.what, "returned");
    let hooks: Vec<Hook> = items
        .iter()
        .filter(|i| i.channel == "webhook")
        .map(|i| serde_json::from_str(&i.payload).unwrap())
        .collect();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].kind, "document.refused");
    assert_eq!(hooks[0].data["document"], doc.as_str());
    assert_eq!(hooks[0].data["outcome"], "returned");
}

#[test]
fn a_completed_document_is_told_to_its_source() {
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.deploy(project()).unwrap();
    let doc = em.submit(attest()).unwrap();
    em.events.clear();
    em.sign(&doc, "dirk-lambert").unwrap();
    let items = outbox::derive(em.state, &em.events);
    let hooks: Vec<&outbox::Item> = items.iter().filter(|i| i.channel == "webhook").collect();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0].recipient, "jan-cools",
        "addressed to the uploader's source"
    );
    let hook: Hook = serde_json::from_str(&hooks[0].payload).unwrap();
    assert_eq!(hook.kind, "document.completed");
    assert_eq!(hook.data["kind"], "attest");
}

/// One step of a generated history.
#[derive(Clone, Debug)]
enum Step {
    /// Submit a document of one of the kinds with deadlines.
    Submit(u8),
    /// Someone asked signs the first open task of a document.
    Sign(u8),
    /// The mayor or the general director is absent from day `from` for `days` days.
    Absence(bool, u8, u8),
    /// Time passes (hours).
    Wait(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..3).prop_map(Step::Submit),
        2 => any::<u8>().prop_map(Step::Sign),
        1 => (any::<bool>(), 0u8..20, 1u8..15).prop_map(|(m, f, d)| Step::Absence(m, f, d)),
        4 => (1u16..120).prop_map(Step::Wait),
    ]
}

/// What happened, without the moments: the events about time, per document and task.
fn outcome(state: &State, events: &[(u64, DateTime<Utc>, Event)]) -> Vec<String> {
    let mut out: Vec<String> = events
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Reminded { doc, task } => Some(format!("reminded {doc} {task}")),
            Event::Escalated { doc, task, to, .. } => {
                Some(format!("escalated {doc} {task} {to:?}"))
            }
            Event::EscalationUnreached { doc, task, .. } => Some(format!("unreached {doc} {task}")),
            _ => None,
        })
        .collect();
    out.sort();
    for d in state.documents.values() {
        for t in &d.tasks {
            out.push(format!(
                "{} {} {:?} {:?} {} {}",
                d.id, t.spec.id, t.status, t.spec.assignees, t.reminded, t.escalated
            ));
        }
    }
    out
}

/// Runs `steps` from `t0`, ticking by `tick(state, from, to)` whenever time passes.
fn run(
    steps: &[Step],
    mut tick: impl FnMut(&mut Emitter, DateTime<Utc>, DateTime<Utc>),
) -> Vec<String> {
    let mut state = State::default();
    let mut cal = Calendar::default();
    cal.extra
        .insert(NaiveDate::from_ymd_opt(2026, 7, 3).unwrap()); // a city day off
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.doc_ids = paraaf_runtime::engine::DocIds::Numbered;
    em.deploy(project()).unwrap();
    let mut docs: Vec<String> = Vec::new();
    let start = t0();
    for s in steps {
        match s {
            Step::Submit(k) => {
                let s = match k {
                    0 => besluit(),
                    1 => attest(),
                    _ => dossier(),
                };
                if let Ok(d) = em.submit(s) {
                    docs.push(d);
                }
            }
            Step::Sign(i) => {
                if docs.is_empty() {
                    continue;
                }
                let d = &docs[*i as usize % docs.len()];
                let who = em.state.documents[d]
                    .tasks
                    .iter()
                    .find(|t| t.status == paraaf_runtime::engine::TaskStatus::Open)
                    .and_then(|t| t.spec.assignees.first().cloned());
                if let Some(who) = who {
                    let _ = em.sign(d, &who);
                }
            }
            Step::Absence(mayor, from, days) => {
                let who = if *mayor {
                    "ruben-van-damme"
                } else {
                    "hans-de-backer"
                };
                let first = paraaf_runtime::clock::date(start) + Duration::days(*from as i64);
                let _ = em.add_absence(who, first, first + Duration::days(*days as i64));
            }
            Step::Wait(h) => {
                let from = em.now;
                let to = from + Duration::hours(*h as i64);
                tick(&mut em, from, to);
                em.now = to;
            }
        }
    }
    let events = std::mem::take(&mut em.events);
    outcome(em.state, &events)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// The scheduler ticks only at the next due moments; the model ticks every quarter
    /// of an hour. Both see the same reminders, escalations and hand-overs.
    #[test]
    fn ticking_at_the_next_due_moments_is_ticking_all_the_time(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let model = run(&steps, |em, from, to| {
            let mut t = from;
            while t < to {
                t = (t + Duration::minutes(15)).min(to);
                em.now = t;
                em.tick();
            }
        });
        let scheduled = run(&steps, |em, from, to| {
            let cal = em.calendar.clone();
            let mut last = from;
            while let Some(next) = next_due(em.state, &cal, last) {
                if next > to {
                    break;
                }
                // The moment itself, or now when it is already past.
                let at = next.max(last);
                em.now = at;
                em.tick();
                last = at;
                if next_due(em.state, &cal, last).is_some_and(|n| n <= at) {
                    // Something due that tick did not take: the scheduler would wait.
                    break;
                }
            }
        });
        prop_assert_eq!(model, scheduled);
    }
}

/// Each person's choice survives a snapshot (start-up reads the newest one): else someone
/// who chose no mail would be mailed again after a restart.
#[test]
fn the_choices_survive_a_snapshot() {
    let mut state = State::default();
    let cal = Calendar::default();
    let mut em = Emitter::new(&mut state, &cal, t0());
    em.deploy(project()).unwrap();
    em.choose_notifications("ruben-van-damme", NotifyMode::Nothing)
        .unwrap();
    em.choose_notifications("dirk-lambert", NotifyMode::Immediate)
        .unwrap();
    let body = paraaf_runtime::snapshot::encode(&state).unwrap();
    let back = paraaf_runtime::snapshot::decode(&body).unwrap().unwrap();
    assert_eq!(back.notify, state.notify);
    assert_eq!(back.notify.len(), 2);
}
