//! Input a submission must never accept: non-hex content hashes, megabyte titles, control characters (they would reach a terminal raw).

use chrono::{TimeZone, Utc};
use paraaf_runtime::engine::{Emitter, State, Submission};
use paraaf_runtime::workdays::Calendar;
use serde_json::Value;
use std::path::PathBuf;

fn submission(title: &str, sha: &str, bedrag: &str) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: "jan-cools".into(),
        fields: [
            ("dienst".to_string(), Value::String("bevolking".into())),
            ("bron".to_string(), Value::String("notula".into())),
            ("titel".to_string(), Value::String("Aankoop".into())),
            ("bedrag".to_string(), Value::String(bedrag.into())),
        ]
        .into(),
        content_sha256: sha.into(),
        title: title.into(),
        flow: None,
    }
}

#[test]
fn submissions_are_bounded() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let mut state = State::default();
    let cal = Calendar::default();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let mut em = Emitter::new(&mut state, &cal, now);
    em.deploy(project).unwrap();
    let good = "a".repeat(64);
    for (sub, why) in [
        (submission("ok", &"z".repeat(64), "100"), "hexadecimal"),
        (
            submission(&"x".repeat(2_000_000), &good, "100"),
            "longer than",
        ),
        (
            submission("a\u{1b}[31mred", &good, "100"),
            "contains a control",
        ),
        (submission("nul\0", &good, "100"), "contains a control"),
        // Money is never negative, whichever way it is written.
        (submission("ok", &good, "-5"), "negative"),
        (submission("ok", &good, "-0.01 EUR"), "negative"),
        (submission("ok", &good, " - 5"), "negative"),
    ] {
        let err = em.submit(sub).expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
    em.submit(submission("Aankoop laptops", &good, "100"))
        .expect("a normal submission");
    em.submit(submission("Nul euro", &good, "0.00"))
        .expect("zero is an amount");
    // Without a title, the `titel` field is the title (CLI, HTTP and webhooks alike).
    let id = em.submit(submission("", &good, "100")).unwrap();
    assert_eq!(em.state.documents[&id].title, "Aankoop");
}
