//! Shared by the content tests: a new Aalst database, a submission with content and
//! PDFs that differ by a number.

use chrono::{DateTime, TimeZone, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::engine::Submission;
use std::path::PathBuf;

/// The clock of the content tests.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

/// A `besluit` of `bedrag` by `uploader` naming content `sha`.
pub fn submission(uploader: &str, bedrag: &str, sha: &str) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
        fields: [
            ("dienst".to_string(), serde_json::json!("bevolking")),
            ("bron".to_string(), serde_json::json!("notula")),
            ("titel".to_string(), serde_json::json!("Aankoop")),
            ("bedrag".to_string(), serde_json::json!(bedrag)),
        ]
        .into(),
        content_sha256: sha.into(),
        title: "Aankoop".into(),
        flow: None,
    }
}

/// A runtime on a new Aalst database (`city.db`) in a folder of its own named after
/// `name`, with the project deployed, and an uploader (someone with a dash in their id).
pub fn city(name: &str) -> (Runtime, PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("paraaf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("city.db");
    let loaded = paraaf_compiler::load::load(&super::aalst_dir()).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let uploader = project
        .organogram
        .people
        .iter()
        .find(|p| p.id.contains('-'))
        .unwrap()
        .id
        .clone();
    let mut rt = Runtime::open(&db, Default::default()).unwrap();
    rt.execute(now(), |e| e.deploy(project.clone())).unwrap();
    (rt, db, uploader)
}

/// A PDF of about 20 KB, different for each `n`.
pub fn pdf(n: u32) -> Vec<u8> {
    let mut body = format!("%PDF-1.4 document {n}\n").into_bytes();
    body.extend((0..20_000u32).map(|i| b"0123456789abcdef"[((i * 7 + n) % 16) as usize]));
    body
}
