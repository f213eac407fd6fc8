//! The decision the read-server tests submit again and again, at one fixed moment: shared
//! by `pg_follow.rs` and `pg_witnessed.rs`.

use chrono::{DateTime, TimeZone, Utc};
use paraaf_runtime::engine::Submission;

/// The moment the tests act at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// Aalst's `besluit` number `n`, uploaded by `uploader` (8,500 EUR for sport).
pub fn submission(uploader: &str, n: usize) -> Submission {
    Submission {
        kind: "besluit".into(),
        uploader: uploader.into(),
        fields: [
            ("dienst".to_string(), serde_json::json!("sport")),
            ("bron".to_string(), serde_json::json!("notula")),
            ("titel".to_string(), serde_json::json!("Aankoop")),
            ("bedrag".to_string(), serde_json::json!("8500")),
        ]
        .into(),
        content_sha256: "0".repeat(64),
        title: format!("besluit {n}"),
        flow: None,
    }
}
