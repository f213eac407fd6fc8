//! Options shared by the runtime subcommands: the database and the clock.

use chrono::{DateTime, NaiveDate, Utc};
use paraaf_runtime::Runtime;
use paraaf_runtime::backend::StoreAddress;
use paraaf_runtime::workdays::Calendar;
use std::path::PathBuf;

/// `--db`, `--city` and `--now`.
#[derive(clap::Args, Clone)]
pub struct RuntimeArgs {
    /// The city's database file (created when missing), or a PostgreSQL database that
    /// holds many cities, `postgres://ROLE@HOST:PORT/DATABASE` (then `--city` names the
    /// city; the schema is created by `paraaf admin migrate-store --owner`).
    #[arg(long, env = "PARAAF_DB", default_value = "paraaf.db")]
    pub db: PathBuf,
    /// The city, with a PostgreSQL `--db` (lowercase letters, digits, `-`, `_`).
    #[arg(long, env = "PARAAF_CITY")]
    pub city: Option<String>,
    /// Pretend it is this moment (RFC 3339 or YYYY-MM-DD); for tests and replays.
    #[arg(long, env = "PARAAF_NOW", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// The city's own days off (one YYYY-MM-DD per line, `#` comments), on top of the
    /// Belgian public holidays and 11 July, for workday deadlines.
    #[arg(long, env = "PARAAF_HOLIDAYS")]
    pub holidays: Option<PathBuf>,
    /// The ed25519 key (from `paraaf admin key new`) that signs checkpoints of the log.
    /// Keep it outside the database, readable by the service only. With a key, every open
    /// checks the log against the last checkpoint and refuses a log that does not match
    /// (exit 3); the writer signs a checkpoint every `--checkpoint-every` events and when
    /// it closes.
    #[arg(long, env = "PARAAF_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// The signed checkpoint file (default: DB.checkpoints next to the database; better
    /// on another disk or a write-once share).
    #[arg(long, env = "PARAAF_CHECKPOINTS")]
    pub checkpoints: Option<PathBuf>,
    /// Events between two signed checkpoints.
    #[arg(long, env = "PARAAF_CHECKPOINT_EVERY", default_value_t = paraaf_runtime::checkpoint::DEFAULT_EVERY)]
    pub checkpoint_every: u64,
    /// An RFC 3161 time-stamp authority that stamps the checkpoint head (`paraaf serve`
    /// every `--anchor-every` seconds and at stop, `paraaf audit anchor`); its tokens are
    /// kept in DB.anchors and the witness file, and `audit verify` refuses a log shorter
    /// than the newest. Needs --tsa-trust.
    #[arg(long, env = "PARAAF_TSA_URL", requires = "tsa_trust")]
    pub tsa_url: Option<String>,
    /// PEM file of the certificates a time-stamp authority must chain to (its root).
    #[arg(long, env = "PARAAF_TSA_TRUST")]
    pub tsa_trust: Option<PathBuf>,
    /// A file on another host (an append-only share) that takes one line per anchored
    /// checkpoint head; `audit verify` refuses a log shorter than its newest line.
    #[arg(long, env = "PARAAF_WITNESS")]
    pub witness: Option<PathBuf>,
    /// Seconds between two anchoring rounds of `paraaf serve`.
    #[arg(long, env = "PARAAF_ANCHOR_EVERY", default_value_t = paraaf_runtime::anchor::DEFAULT_EVERY)]
    pub anchor_every: u64,
}

/// Exit code of every runtime command on a log that does not match its signed checkpoints.
pub const EXIT_TAMPERED: i32 = 3;

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

/// Exit code when another process (`paraaf serve`, another command) is the database's
/// writer and the command would write.
pub const EXIT_LOCKED: i32 = 4;

/// A runtime error as every command reports it: a log that does not match its
/// checkpoints stops the process with exit 3, a database another process writes with
/// exit 4 (whatever the command); anything else is the message.
pub fn fail(e: paraaf_runtime::engine::RuntimeError) -> String {
    use paraaf_runtime::engine::RuntimeError;
    match e {
        RuntimeError::Tampered(_) => {
            eprintln!("error: {e}");
            std::process::exit(EXIT_TAMPERED);
        }
        RuntimeError::Locked(_) => {
            eprintln!("error: {e}");
            std::process::exit(EXIT_LOCKED);
        }
        e => e.to_string(),
    }
}

impl RuntimeArgs {
    /// Where the city's store lies: the file `--db`, or `--city` in the PostgreSQL
    /// database `--db` names.
    pub fn address(&self) -> Result<StoreAddress, String> {
        StoreAddress::parse(&self.db.to_string_lossy(), self.city.as_deref())
            .map_err(|e| e.to_string())
    }

    /// Whether the city lies in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.address(), Ok(StoreAddress::Postgres { .. }))
    }

    /// The store as messages name it (a PostgreSQL address without its password).
    pub fn shown(&self) -> String {
        match self.address() {
            Ok(a) => a.to_string(),
            Err(_) => self.db.display().to_string(),
        }
    }

    /// Opens the runtime and, with a signing key, checks the log's tail against the last
    /// signed checkpoint: a log that does not match stops the command (exit 3).
    pub fn open(&self) -> Result<Runtime, String> {
        self.open_checked(false)
    }

    /// [`RuntimeArgs::open`]; `replay`: from the whole log, snapshots unread.
    pub fn open_checked(&self, replay: bool) -> Result<Runtime, String> {
        if !self.is_postgres()
            && let Some(why) = paraaf_runtime::restore::interrupted(&self.db)
        {
            return Err(format!("{}: {why}", self.shown()));
        }
        self.open_checked_during_restore(replay)
    }

    /// [`RuntimeArgs::open_checked`] while a restore finishes (it puts what it gave up
    /// on the restored log): the only opening a restore that did not finish allows.
    pub fn open_checked_during_restore(&self, replay: bool) -> Result<Runtime, String> {
        if self.is_postgres()
            && self.checkpoints.is_none()
            && (self.signing_key.is_some() || self.tsa_url.is_some() || self.witness.is_some())
        {
            return Err(format!(
                "{}: name the signed checkpoint file with --checkpoints (PARAAF_CHECKPOINTS): a city in PostgreSQL has no folder beside it to keep it in",
                self.shown()
            ));
        }
        if self.signing_key.is_none()
            && !self.is_postgres()
            && let Some(file) = paraaf_runtime::store::signed_with(&self.db)
        {
            eprintln!(
                "error: {}'s log is signed (its checkpoints were in {file}), so it is opened only with its key: set PARAAF_SIGNING_KEY (or --signing-key) and, when the checkpoint file is kept elsewhere, --checkpoints; without it a write would go unsigned",
                self.shown()
            );
            std::process::exit(EXIT_TAMPERED);
        }
        if self.signing_key.is_none() && self.has_checkpoints() {
            eprintln!(
                "error: {} has signed checkpoints in {}, so it is opened only with its key: set PARAAF_SIGNING_KEY (or --signing-key); without it a rewritten log would go unnoticed",
                self.shown(),
                self.checkpoint_file().display()
            );
            std::process::exit(EXIT_TAMPERED);
        }
        let mut runtime = if replay {
            self.open_replaying()?
        } else {
            self.open_unchecked()?
        };
        if let Some(path) = &self.signing_key {
            let key = paraaf_runtime::checkpoint::Key::read_signing(path)?;
            if let Err(e) =
                runtime.use_checkpoints(key, self.checkpoint_file(), self.checkpoint_every)
            {
                eprintln!("error: {}: {e}", self.shown());
                std::process::exit(EXIT_TAMPERED);
            }
            if !self.is_postgres()
                && let Err(e) =
                    paraaf_runtime::store::mark_signed(&self.db, &self.checkpoint_file())
            {
                tracing::warn!(error = %e, "could not record that the log is signed");
            }
            if let Err(why) = self.check_anchored(&runtime) {
                eprintln!("error: {}: {why}", self.shown());
                std::process::exit(EXIT_TAMPERED);
            }
        }
        Ok(runtime)
    }

    /// The open of a read server taking over as the writer: as [`RuntimeArgs::open`],
    /// but a log that does not match this server's checkpoint file (or its anchors) is
    /// an error it reports, never an exit: the read server goes on serving reads and
    /// says on `/health` why it cannot take over.
    pub fn open_for_take_over(&self) -> Result<Runtime, paraaf_runtime::engine::RuntimeError> {
        use paraaf_runtime::engine::RuntimeError;
        let mut runtime = self.open_unchecked().map_err(RuntimeError::Storage)?;
        if let Some(path) = &self.signing_key {
            let key = paraaf_runtime::checkpoint::Key::read_signing(path)
                .map_err(RuntimeError::Storage)?;
            runtime.use_checkpoints(key, self.checkpoint_file(), self.checkpoint_every)?;
            self.check_anchored(&runtime)
                .map_err(RuntimeError::Tampered)?;
        }
        Ok(runtime)
    }

    /// With a witness or a TSA configured, the log must reach the newest anchored head:
    /// a log cut back (rolled back) behind it, or with another event at its position, is
    /// refused before anything reads or signs on it, naming the events missing. Going on
    /// from such a log is deliberate: a new witness file (the old one kept as evidence).
    fn check_anchored(&self, runtime: &Runtime) -> Result<(), String> {
        let config = self.anchor_config()?;
        if !config.is_active() {
            return Ok(());
        }
        let Some(newest) = paraaf_runtime::anchor::newest(&config)? else {
            return Ok(());
        };
        let seq = newest.anchor.seq;
        let events = runtime.state().last_seq;
        let hash = runtime
            .store()
            .hash_prefixes(seq, seq)
            .ok()
            .map(|(_, h)| h)
            .filter(|h| !h.is_empty());
        let lines = runtime.chain_head().map_or(0, |(lines, _)| lines);
        let restores = runtime.restore_records();
        paraaf_runtime::anchor::check(&newest, events, hash.as_deref(), lines, restores).map_err(|why| {
            let missing = if events < seq {
                format!(" (events {}–{seq} are missing)", events + 1)
            } else {
                String::new()
            };
            format!(
                "{why}{missing}; nothing is read or signed on this log (to go on from it deliberately, keep the witness file as evidence and start a new one)"
            )
        })
    }

    /// Opens the runtime without checking checkpoints (`audit verify` checks everything).
    pub fn open_unchecked(&self) -> Result<Runtime, String> {
        self.open_with(Runtime::open_store)
    }

    fn open_with(
        &self,
        open: fn(&StoreAddress, Calendar) -> Result<Runtime, paraaf_runtime::engine::RuntimeError>,
    ) -> Result<Runtime, String> {
        let calendar = match &self.holidays {
            Some(path) => read_holidays(path)?,
            None => Calendar::default(),
        };
        match open(&self.address()?, calendar) {
            Ok(r) => Ok(r),
            Err(e @ paraaf_runtime::engine::RuntimeError::Tampered(_)) => {
                eprintln!("error: {}: {e}", self.shown());
                std::process::exit(EXIT_TAMPERED);
            }
            Err(e) => Err(format!("{}: {e}", self.shown())),
        }
    }

    /// Opens the runtime from the whole log, snapshots unread, checkpoints unchecked.
    pub fn open_replaying(&self) -> Result<Runtime, String> {
        self.open_with(Runtime::open_store_replaying)
    }

    /// Whether the checkpoint file exists and holds anything.
    pub fn has_checkpoints(&self) -> bool {
        std::fs::metadata(self.checkpoint_file()).is_ok_and(|m| m.len() > 0)
    }

    /// The signed checkpoint file.
    pub fn checkpoint_file(&self) -> PathBuf {
        self.checkpoints
            .clone()
            .unwrap_or_else(|| paraaf_runtime::checkpoint::default_file(&self.db))
    }

    /// Where the checkpoint head is anchored (`--tsa-url`, `--tsa-trust`, `--witness`).
    pub fn anchor_config(&self) -> Result<paraaf_runtime::anchor::Config, String> {
        let trust = match &self.tsa_trust {
            Some(p) => {
                Some(paraaf_runtime::tsa::Trust::from_pem_file(p).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        Ok(paraaf_runtime::anchor::Config {
            tsa_url: self.tsa_url.clone(),
            trust,
            witness: self.witness.clone(),
            file: paraaf_runtime::anchor::default_file(&self.db),
            every: self.anchor_every,
        })
    }

    /// The server's anchoring thread when a TSA or a witness is configured (it anchors
    /// the signed checkpoint head, so it needs the signing key).
    /// `before` runs before each round (the server's writer signs its current head).
    pub fn anchorer(
        &self,
        before: Option<Box<dyn Fn() + Send>>,
    ) -> Result<Option<paraaf_runtime::anchor::Anchorer>, String> {
        let config = self.anchor_config()?;
        if !config.is_active() {
            return Ok(None);
        }
        let Some(path) = &self.signing_key else {
            return Err("--tsa-url and --witness anchor the signed checkpoint head: they need --signing-key (PARAAF_SIGNING_KEY)".into());
        };
        let key = paraaf_runtime::checkpoint::Key::read_signing(path)?;
        Ok(Some(paraaf_runtime::anchor::Anchorer::spawn(
            config,
            self.checkpoint_file(),
            key,
            before,
        )))
    }

    /// The moment to act at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }
}

/// A service's error as every command reports it: the runtime's through [`fail`] (exit
/// 3 or 4 where it says so), prefixed with what the service was doing; anything else is
/// the message.
pub fn fail_app(e: paraaf_runtime::app::AppError) -> String {
    use paraaf_runtime::app::AppError;
    match e {
        AppError::Runtime { doing, error } => format!("{doing}: {}", fail(error)),
        e => e.to_string(),
    }
}
