//! `paraaf admin migrate-store`: moves a city's event log from its SQLite database into the
//! PostgreSQL store of a provider serving many cities (the copying and checking live in
//! `paraaf_runtime::pg_store::migrate`).

use crate::cli::runtime_args::fail;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf admin migrate-store`.
#[derive(clap::Args)]
pub struct MigrateStore {
    /// The city's SQLite database (its writer lock is held while the city moves; nothing
    /// in it changes).
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL store, as the application's role (not the tables' owner):
    /// postgres://ROLE[:PASSWORD]@HOST:PORT/DATABASE.
    #[arg(long, env = "PARAAF_POSTGRES")]
    to: String,
    /// The city's name in the store (lowercase letters, digits, `-`, `_`); it must have
    /// no events there yet.
    #[arg(long)]
    city: String,
    /// Create or update the schema first, connected as the role that owns the tables
    /// (postgres://OWNER@…); it grants the role of --to what the store needs.
    #[arg(long, env = "PARAAF_POSTGRES_OWNER")]
    owner: Option<String>,
}

/// Runs `paraaf admin migrate-store`.
pub fn run(args: MigrateStore) -> Result<ExitCode, String> {
    use paraaf_runtime::pg_store::{migrate, postgres, schema};
    if let Some(owner) = &args.owner {
        let config: postgres::Config = args.to.parse().map_err(|e| {
            format!("--to is not a PostgreSQL address ({e}); write it as postgres://ROLE@HOST:PORT/DATABASE")
        })?;
        let role = config.get_user().ok_or(
            "--to names no role: write it as postgres://ROLE@HOST:PORT/DATABASE (the application's role, which --owner grants the store to)",
        )?;
        let version = schema::migrate(owner, role).map_err(fail)?;
        eprintln!("schema at version {version}, granted to {role}");
    }
    let mut bar = Bar::default();
    let done = migrate::from_sqlite(&args.from, &args.to, &args.city, &mut |copied, total| {
        bar.show(copied, total)
    });
    bar.end();
    let m = done.map_err(fail)?;
    println!(
        "copied {} events and {} idempotency records of {} into city {} (verified in PostgreSQL: head {}, the same as the SQLite log's)",
        m.target.events,
        m.idempotency,
        args.from.display(),
        args.city,
        m.target.head
    );
    if m.contents > 0 {
        println!(
            "copied {} contents with who sent them (each checked against its SHA-256)",
            m.contents
        );
    }
    println!(
        "copied {} outbox items ({} not sent yet, sent from PostgreSQL from now on), {} delivery records and {} snapshots (the city loads from {}); the projection rebuilt from the copied log ({} documents) equals the SQLite database's",
        m.outbox.0,
        m.outbox.1,
        m.deliveries,
        m.snapshots.0,
        match m.snapshots.1 {
            0 => "its first event".to_string(),
            seq => format!("the snapshot at event {seq}"),
        },
        m.documents
    );
    println!(
        "{} is now the old copy: do not serve it again (its unsent mail would be sent twice); keep it with the backups",
        args.from.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Progress on standard error: a bar on a terminal, a line per 10% elsewhere (a long log
/// in a job's output); nothing for a log shorter than one batch.
#[derive(Default)]
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    /// The last tenth a line was printed for.
    tenth: u64,
}

impl Bar {
    fn show(&mut self, copied: u64, total: u64) {
        use std::io::IsTerminal;
        if total < 10_000 {
            return;
        }
        if std::io::stderr().is_terminal() {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "copying events [{bar:30}] {pos}/{len} ({eta} left)",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            });
            bar.set_position(copied);
        } else if copied * 10 / total > self.tenth {
            self.tenth = copied * 10 / total;
            eprintln!("copied {copied} of {total} events");
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
