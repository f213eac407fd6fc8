//! The scenario language states what `paraaf diff` compares: a refusal that sends a
//! document back to an earlier step shows that step (with whoever is asked there) after
//! `(after the refusal)`, and `status = "refused"` states a document a version refuses;
//! a change of where a refusal goes is written by `scenarios::emit` as a scenario that
//! passes on the head and fails on the base.

use paraaf_model::CompiledProject;
use paraaf_runtime::impact::witness::witnesses;
use paraaf_runtime::scenarios::{Scenario, ScenarioFile, emit, run};
use std::path::Path;

/// The Aalst example, with `from` replaced by `to` in `file` when given.
fn aalst(change: Option<(&str, &str, &str)>) -> CompiledProject {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let mut loaded = paraaf_compiler::load::load(&root).unwrap();
    if let Some((file, from, to)) = change {
        let text = loaded.source(file).unwrap().to_string();
        assert!(text.contains(from), "{from:?} not in {file}");
        loaded.set_texts(&[(file.to_string(), text.replacen(from, to, 1))], None);
    }
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

const BACK_TO_PARAAF: (&str, &str, &str) = (
    "flows/purchasing.paraaf",
    "  on refused -> back to uploader",
    "  on refused -> back to step paraaf",
);

fn bestelbon(refuse_at: &str) -> Scenario {
    toml::from_str::<ScenarioFile>(&format!(
        r#"[[scenario]]
name = "bestelbon geweigerd bij {refuse_at}"
kind = "bestelbon"
uploader = "jan-cools"
fields = {{ dienst = "bevolking", bedrag = "1200", leverancier = "Kantoor NV" }}
refuse_at = "{refuse_at}"
"#
    ))
    .unwrap()
    .scenarios
    .remove(0)
}

#[test]
fn a_refusal_back_to_a_step_shows_that_step() {
    let project = aalst(Some(BACK_TO_PARAAF));
    let o = run(&project, &bestelbon("aankoop"));
    assert!(o.failures.is_empty(), "{:?}", o.failures);
    assert_eq!(
        o.route,
        [
            "paraaf: dirk-lambert",
            "aankoop: yasmine-peeters",
            "(after the refusal)",
            "paraaf: dirk-lambert"
        ]
    );
    assert_eq!(o.status, "in_progress");
}

#[test]
fn status_refused_states_a_document_the_version_refuses() {
    let project = aalst(None);
    let mut s = bestelbon("aankoop");
    s.status = Some("refused".into());
    // Accepted: the expectation fails.
    let o = run(&project, &s);
    assert_eq!(
        o.failures,
        ["status: expected refused, and the document was accepted"]
    );
    // A unit the organogram lacks: refused, as expected.
    s.fields.insert("dienst".into(), "nergens".into());
    let o = run(&project, &s);
    assert!(o.failures.is_empty(), "{:?}", o.failures);
    assert_eq!(o.status, "refused");
    // Without the expectation the refusal is the failure.
    s.status = None;
    let o = run(&project, &s);
    assert!(
        o.failures[0].starts_with("the document is refused: "),
        "{:?}",
        o.failures
    );
}

#[test]
fn a_refusal_sent_to_another_step_is_emitted_as_a_scenario_that_tells_the_versions_apart() {
    let (base, head) = (aalst(None), aalst(Some(BACK_TO_PARAAF)));
    let found = witnesses(&base, &head, &["bestelbon".to_string()]);
    let (files, missing) = emit(&base, &head, &found, "paraaf diff base head");
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(files.len(), 1);
    let text = &files[0].text;
    assert!(
        text.contains("a refusal at aankoop now goes back to paraaf (")
            && text.contains("  \"(after the refusal)\",\n"),
        "{text}"
    );
    let file: ScenarioFile = toml::from_str(text).unwrap();
    assert_eq!(file.scenarios.len(), files[0].scenarios);
    for s in &file.scenarios {
        assert!(run(&head, s).failures.is_empty(), "{}", s.name);
        assert!(!run(&base, s).failures.is_empty(), "{}", s.name);
    }
    // The same input, the same bytes.
    let again = emit(&base, &head, &found, "paraaf diff base head").0;
    assert_eq!(again[0].text, *text);
}
