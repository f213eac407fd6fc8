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
pub mod impact;
mod log_chain;
pub mod org;
pub mod outbox;
pub mod pg_store;
mod projection;
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

/// Hex SHA-256 of some bytes (content files, request bodies).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
