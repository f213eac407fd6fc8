//! The Paraaf runtime executes compiled projects (`paraaf compile` output) durably: an
//! append-only, hash-chained event log in SQLite is the source of truth; documents, tasks
//! and absences are a fold over it. It never parses Paraaf source.
#![forbid(unsafe_code)]

pub mod anchor;
pub mod api;
pub mod app;
pub mod backend;
pub mod checkpoint;
pub mod clock;
pub mod contents;
pub mod engine;
pub mod eval;
pub mod finance;
pub mod follower;
pub mod impact;
mod log_chain;
pub mod org;
pub mod outbox;
pub mod pg_store;
mod projection;
pub mod reads;
pub mod restore;
pub mod runtime;
pub mod scenarios;
pub mod schedule;
pub mod sealing;
pub mod sender;
pub mod snapshot;
pub mod store;
pub mod trusted_history;
pub mod tsa;
pub mod visibility;
pub mod workdays;

/// Schema identifier of compiled projects this runtime accepts.
pub const ACCEPTS_SCHEMA: &str = paraaf_model::SCHEMA;

pub use runtime::Runtime;

/// The file `DB` + `suffix` next to the database's real path (a symlink to the database
/// finds the same file): its lock, checkpoint, anchors and content files, and what a
/// restore keeps of the database it replaces.
pub fn beside(db: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let real = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let mut p = real.into_os_string();
    p.push(suffix);
    std::path::PathBuf::from(p)
}

/// Hex SHA-256 of some bytes (content files, request bodies).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
