//! The persisted form stays what logs already hold. The fixtures were written by the code
//! before this crate existed, when the compiled model still borrowed the syntax's
//! operators (how: `tests/fixtures/README.md`): `compiled_*.json` by `paraaf compile`,
//! `log.jsonl` the event bodies of a small runtime database (`paraaf deploy`, documents
//! submitted, signed and refused, `org deploy`). Each must still deserialise into the
//! model and serialise back to the same JSON.

use paraaf_model::{CmpOp, CompiledProject, DurationUnit, LogicOp, OrgKind, Organogram};
use serde_json::Value;
use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `json` read as a compiled project, written back and compared as JSON values.
fn round_trips_project(json: &Value) -> CompiledProject {
    let project: CompiledProject = serde_json::from_value(json.clone()).expect("deserialises");
    assert_eq!(
        &serde_json::to_value(&project).expect("serialises"),
        json,
        "the compiled project must serialise to what was persisted"
    );
    project
}

#[test]
fn compiled_projects_of_the_examples_still_open_and_round_trip() {
    for name in [
        "compiled_aalst.json",
        "compiled_hasselt.json",
        "compiled_ops.json",
    ] {
        let json: Value = serde_json::from_str(&fixture(name)).expect("JSON");
        let project = round_trips_project(&json);
        assert_eq!(project.schema, paraaf_model::SCHEMA, "{name}");
        assert_eq!(
            paraaf_model::schema_version(&project.schema),
            Some(paraaf_model::SCHEMA_VERSION)
        );
        assert!(!project.flows.is_empty(), "{name} has flows");
    }
}

#[test]
fn a_log_written_before_the_model_crate_still_opens() {
    let (mut projects, mut organograms) = (0, 0);
    for line in fixture("log.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let event: Value = serde_json::from_str(line).expect("each line is an event");
        match event["type"].as_str() {
            Some("project_deployed") => {
                round_trips_project(&event["project"]);
                projects += 1;
            }
            Some("organogram_deployed") => {
                let org: Organogram =
                    serde_json::from_value(event["organogram"].clone()).expect("deserialises");
                assert_eq!(
                    serde_json::to_value(&org).expect("serialises"),
                    event["organogram"]
                );
                organograms += 1;
            }
            _ => {}
        }
    }
    assert!(projects > 0, "the fixture log holds a deployed project");
    assert!(
        organograms > 0,
        "the fixture log holds a deployed organogram"
    );
}

#[test]
fn operator_and_kind_names_are_the_persisted_ones() {
    let names = |v: Value| v.as_str().map(str::to_string).expect("a string");
    let ops = [
        (CmpOp::Eq, "=="),
        (CmpOp::Ne, "!="),
        (CmpOp::Lt, "<"),
        (CmpOp::Le, "<="),
        (CmpOp::Gt, ">"),
        (CmpOp::Ge, ">="),
        (CmpOp::Approx, "~="),
    ];
    for (op, text) in ops {
        assert_eq!(names(serde_json::to_value(op).unwrap()), text);
        assert_eq!(op.as_str(), text);
        assert_eq!(
            serde_json::from_value::<CmpOp>(Value::from(text)).unwrap(),
            op
        );
    }
    for (op, text) in [(LogicOp::And, "and"), (LogicOp::Or, "or")] {
        assert_eq!(names(serde_json::to_value(op).unwrap()), text);
    }
    for (unit, text) in [
        (DurationUnit::Days, "days"),
        (DurationUnit::Workdays, "workdays"),
    ] {
        assert_eq!(names(serde_json::to_value(unit).unwrap()), text);
    }
    for kind in [
        OrgKind::Unit,
        OrgKind::Function,
        OrgKind::Mandate,
        OrgKind::Person,
    ] {
        assert_eq!(names(serde_json::to_value(kind).unwrap()), kind.word());
    }
}

/// Every `op` and duration `unit` somewhere in `v`, as persisted.
fn persisted_names(v: &Value, ops: &mut Vec<String>, units: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("op", Value::String(s)) => ops.push(s.clone()),
                    ("unit", Value::String(s)) if s.ends_with("days") => units.push(s.clone()),
                    _ => persisted_names(inner, ops, units),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| persisted_names(i, ops, units)),
        _ => {}
    }
}

#[test]
fn every_operator_and_duration_unit_of_the_old_form_reads_as_the_models_own() {
    let json: Value = serde_json::from_str(&fixture("compiled_ops.json")).expect("JSON");
    let (mut ops, mut units) = (Vec::new(), Vec::new());
    persisted_names(&json, &mut ops, &mut units);
    let cmp: Vec<CmpOp> = ops
        .iter()
        .filter_map(|o| serde_json::from_value(Value::from(o.as_str())).ok())
        .collect();
    let logic: Vec<LogicOp> = ops
        .iter()
        .filter_map(|o| serde_json::from_value(Value::from(o.as_str())).ok())
        .collect();
    assert_eq!(
        cmp.len() + logic.len(),
        ops.len(),
        "every persisted op reads: {ops:?}"
    );
    for op in [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Approx,
    ] {
        assert!(cmp.contains(&op), "the fixture holds {}", op.as_str());
    }
    assert!(logic.contains(&LogicOp::And) && logic.contains(&LogicOp::Or));
    let units: Vec<DurationUnit> = units
        .iter()
        .map(|u| serde_json::from_value(Value::from(u.as_str())).expect("a duration unit"))
        .collect();
    assert!(units.contains(&DurationUnit::Days) && units.contains(&DurationUnit::Workdays));
}
