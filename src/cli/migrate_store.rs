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
    /// The SQLite log's signed checkpoint file, to verify the copy against (default: the
    /// file the log was last signed with, when it was).
    #[arg(long)]
    checkpoints: Option<PathBuf>,
    /// The key that checks the checkpoints' signatures: the public key (`.pub`) or the
    /// signing key itself. Required when the log is signed.
    #[arg(long, env = "PARAAF_SIGNING_KEY")]
    public_key: Option<PathBuf>,
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
    // Read before anything is copied: a signed log moves only with its checkpoints checked.
    let signed = args
        .checkpoints
        .clone()
        .or_else(|| paraaf_runtime::store::signed_with(&args.from).map(PathBuf::from));
    let checkpoints = match (&signed, &args.public_key) {
        (Some(file), Some(key)) => {
            let key = paraaf_runtime::checkpoint::Key::read(key)?;
            let chain = paraaf_runtime::checkpoint::read_chain(file, &key)
                .map_err(|why| format!("{}: {why}", file.display()))?;
            Some((file, chain.list))
        }
        (Some(file), None) => {
            return Err(format!(
                "the log of {} is signed (checkpoints in {}): give --public-key FILE.pub (or PARAAF_SIGNING_KEY) so that the copy is verified against them; nothing was copied",
                args.from.display(),
                file.display()
            ));
        }
        (None, _) => None,
    };
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
    if let Some((file, list)) = checkpoints {
        let mut copy =
            paraaf_runtime::pg_store::PgStore::reader(&args.to, &args.city).map_err(fail)?;
        copy.verify_against(&list).map_err(|why| {
            fail(paraaf_runtime::engine::RuntimeError::Tampered(format!(
                "the copy in PostgreSQL does not match the signed checkpoints of {}: {why}",
                file.display()
            )))
        })?;
        println!(
            "verified against the {} signed checkpoints of {} (the last at event {}); sign on with this file: --checkpoints {}",
            list.len(),
            file.display(),
            list.last().map_or(0, |c| c.seq),
            file.display()
        );
    }
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
