//! Options shared by the runtime subcommands: the database and the clock.

use chrono::{DateTime, NaiveDate, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::workdays::Calendar;
use std::path::PathBuf;

/// `--db` and `--now`.
#[derive(clap::Args, Clone)]
pub struct RuntimeArgs {
    /// The city's database file (created when missing).
    #[arg(long, env = "PARAAF_DB", default_value = "paraaf.db")]
    pub db: PathBuf,
    /// Pretend it is this moment (RFC 3339 or YYYY-MM-DD); for tests and replays.
    #[arg(long, env = "PARAAF_NOW", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// The city's own days off (one YYYY-MM-DD per line, `#` comments), on top of the
    /// Belgian public holidays and 11 July, for workday deadlines.
    #[arg(long, env = "PARAAF_HOLIDAYS")]
    pub holidays: Option<PathBuf>,
}

/// Reads a holiday file: one date per line; blank lines and `#` comments are skipped.
pub fn read_holidays(path: &std::path::Path) -> Result<Calendar, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut cal = Calendar::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let day = NaiveDate::parse_from_str(line, "%Y-%m-%d").map_err(|_| {
            format!(
                "{}:{}: `{line}` is not a date (YYYY-MM-DD)",
                path.display(),
                i + 1
            )
        })?;
        cal.extra.insert(day);
    }
    Ok(cal)
}

/// Parses `--now`.
pub fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(9, 0, 0).expect("valid time").and_utc())
        .map_err(|_| format!("`{s}` is not a moment (2026-07-01 or 2026-07-01T09:00:00Z)"))
}

impl RuntimeArgs {
    /// Opens the runtime.
    pub fn open(&self) -> Result<Runtime, String> {
        let calendar = match &self.holidays {
            Some(path) => read_holidays(path)?,
            None => Calendar::default(),
        };
        Runtime::open(&self.db, calendar).map_err(|e| format!("{}: {e}", self.db.display()))
    }

    /// The moment to act at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }
}
