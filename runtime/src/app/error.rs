//! The errors of the application services. Each front end maps them to its own answer
//! (the command line to an exit code, the API to a problem document).

use crate::engine::RuntimeError;
use std::fmt;

/// Why a service did nothing, or stopped.
#[derive(Debug)]
pub enum AppError {
    /// An input cannot be used: a file that cannot be read or written, an option that
    /// does not hold. Nothing was recorded.
    Input(String),
    /// The runtime refused or failed while doing `doing` (e.g. "recording the payments").
    Runtime {
        /// What the service was doing, for the message.
        doing: &'static str,
        /// The runtime's error.
        error: RuntimeError,
    },
    /// Rows of an input file that do not hold, each with where and why; nothing was
    /// recorded.
    Rows(Vec<String>),
}

impl AppError {
    /// The runtime's error while `doing` something.
    pub fn runtime(doing: &'static str) -> impl FnOnce(RuntimeError) -> AppError {
        move |error| AppError::Runtime { doing, error }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Input(m) => write!(f, "{m}"),
            AppError::Runtime { doing, error } => write!(f, "{doing}: {error}"),
            AppError::Rows(rows) => write!(f, "{} bad row(s): {}", rows.len(), rows.join("; ")),
        }
    }
}

impl std::error::Error for AppError {}

impl From<String> for AppError {
    fn from(m: String) -> AppError {
        AppError::Input(m)
    }
}
