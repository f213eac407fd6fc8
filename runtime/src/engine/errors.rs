//! Why a command was refused. A refused command changes nothing.

use std::fmt;

/// A command that cannot be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeError {
    /// The input is wrong (unknown kind, missing field, bad value, ...).
    Invalid(String),
    /// The document does not exist or the caller may not see it (the two are
    /// indistinguishable on purpose).
    NotFound,
    /// The caller sees the document but may not do this.
    Forbidden(String),
    /// The document is not in a state that allows this (e.g. already completed).
    Conflict(String),
    /// The store failed; nothing was recorded.
    Storage(String),
    /// The log does not match its signed checkpoints: nothing may be appended to it.
    Tampered(String),
    /// Another process is the database's writer (its description given).
    Locked(String),
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Invalid(m) => write!(f, "{m}"),
            RuntimeError::NotFound => write!(f, "no such document"),
            RuntimeError::Forbidden(m) => write!(f, "not allowed: {m}"),
            RuntimeError::Conflict(m) => write!(f, "{m}"),
            RuntimeError::Storage(m) => write!(f, "storage error, nothing was recorded: {m}"),
            RuntimeError::Locked(m) => write!(f, "{m}"),
            RuntimeError::Tampered(m) => write!(
                f,
                "the log does not match its signed checkpoints: {m}; nothing was recorded (run `paraaf audit verify` and restore from a backup)"
            ),
        }
    }
}

impl std::error::Error for RuntimeError {}

impl From<rusqlite::Error> for RuntimeError {
    fn from(e: rusqlite::Error) -> Self {
        RuntimeError::Storage(e.to_string())
    }
}
