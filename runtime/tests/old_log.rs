//! A log written before the compiled model had its own crate (`paraaf-model`) still
//! opens: every event of `model/tests/fixtures/log.jsonl` (the event bodies of a small
//! Aalst database made by the binary of commit 18e083d) reads as today's `Event`, writes
//! back as the same JSON, and folds into the state those commands left.

use chrono::{TimeZone, Utc};
use paraaf_runtime::engine::{Event, State, Status};
use serde_json::Value;
use std::path::Path;

fn events() -> Vec<(Value, Event)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/tests/fixtures/log.jsonl");
    let text = std::fs::read_to_string(&path).expect("the fixture log");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let json: Value = serde_json::from_str(line).expect("one JSON object per line");
            let event: Event = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{e}: {}", &line[..line.len().min(120)]));
            (json, event)
        })
        .collect()
}

#[test]
fn every_event_reads_and_writes_back_the_same() {
    let events = events();
    assert_eq!(events.len(), 13, "the fixture's events");
    for (json, event) in &events {
        assert_eq!(
            &serde_json::to_value(event).expect("serialises"),
            json,
            "event {} writes back as it was logged",
            json["type"]
        );
    }
}

#[test]
fn the_old_log_folds_into_the_state_its_commands_left() {
    let mut state = State::default();
    let at = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("a time");
    for (seq, (_, event)) in events().iter().enumerate() {
        state.apply(seq as u64 + 1, at, event);
    }
    let (version, deployment) = state.current().expect("the project was deployed");
    assert_eq!(version, 1);
    assert!(
        deployment.broken.is_empty(),
        "the old project verifies: {:?}",
        deployment.broken
    );
    assert_eq!(deployment.compiled.schema, paraaf_model::SCHEMA);
    let org = state.organogram.as_ref().expect("an organogram in force");
    assert_eq!(org.version, 1, "the organogram deployed after the project");
    assert!(
        org.organogram
            .units
            .iter()
            .any(|u| u.id == "fixture-eenheid")
    );
    let statuses: Vec<Status> = state.documents.values().map(|d| d.status).collect();
    assert_eq!(statuses.len(), 2, "two documents were submitted");
    assert!(statuses.contains(&Status::Returned), "one was refused");
    assert!(
        statuses.contains(&Status::InProgress),
        "one waits for its last step"
    );
}
