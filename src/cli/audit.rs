//! `paraaf tick`, `paraaf log`, `paraaf admin rebuild`, `paraaf audit ...`

use super::runtime_args::RuntimeArgs;
use super::terminal::say;
use paraaf_runtime::app::AppError;
use paraaf_runtime::engine::RuntimeError;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf tick`.
#[derive(clap::Args)]
pub struct TickArgs {
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// Process the passing of time: absences that start or end, reminders, escalations.
/// While `paraaf serve` runs, it does this itself at every due moment: `tick` says so
/// and succeeds (a cron job left in place does no harm).
pub fn tick(args: TickArgs) -> Result<ExitCode, String> {
    let mut runtime = args.rt.open()?;
    let before = runtime.state().last_seq;
    match runtime.execute(args.rt.now(), |e| {
        e.tick();
        Ok(())
    }) {
        Ok(()) => {}
        Err(paraaf_runtime::engine::RuntimeError::Locked(why))
            if why.contains("`paraaf serve`") =>
        {
            let who = why.split("; write through").next().unwrap_or(&why);
            say!(
                "nothing to do: {who}, which processes absences, reminders, escalations and deadlines itself at each due moment"
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(crate::cli::runtime_args::fail(e)),
    }
    for (seq, at, body) in runtime
        .store()
        .events_after(before)
        .map_err(|e| e.to_string())?
    {
        say!("{seq}\t{at}\t{body}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `paraaf log`.
#[derive(clap::Args)]
pub struct LogArgs {
    /// Show the events this person may see (documents they may see, their own absences),
    /// numbered 1, 2, 3, … in the order shown (not the log's global sequence).
    #[arg(long = "as")]
    person: String,
    /// Only the events recorded at or after this moment: an RFC 3339 time
    /// (2026-12-01T08:00:00+01:00) or a date (2026-12-01, from midnight UTC). Only that
    /// range is read and verified, so a long log answers quickly.
    #[arg(long, value_parser = parse_since)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// `--since`: an RFC 3339 time or a date (midnight UTC).
fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| format!("`{s}` is neither a date (2026-12-01) nor an RFC 3339 time (2026-12-01T08:00:00+01:00)"))
}

/// The audit listing, filtered by visibility. Its first column numbers the events this
/// reader is shown (1, 2, 3, …), never the log's global sequence: gaps in that would
/// tell how many hidden events happened in between.
pub fn log(args: LogArgs) -> Result<ExitCode, String> {
    use paraaf_runtime::app::log::{self, What};
    let runtime = args.rt.open()?;
    let entries = log::for_person(&runtime, &args.person, args.since)
        .map_err(crate::cli::runtime_args::fail)?;
    for log::Entry { n, at, what } in entries {
        match what {
            What::ProjectDeployed { version, sha256 } => {
                println!("{n}\t{at}\tproject version {version} deployed ({sha256})");
            }
            What::OrganogramDeployed {
                version,
                sha256,
                renames,
                shields_widened,
            } => {
                println!("{n}\t{at}\torganogram version {version} deployed ({sha256})");
                // The plan's renames: what the flows in flight are read with from now on.
                for (from, to) in renames {
                    println!(
                        "{n}\t{at}\t  renamed {} → {}",
                        crate::cli::terminal::escape(&from),
                        crate::cli::terminal::escape(&to)
                    );
                }
                for w in shields_widened {
                    println!(
                        "{n}\t{at}\t  shielded group {} widened to admit {}: {}",
                        w.group,
                        w.admits.join(", "),
                        crate::cli::terminal::escape(&w.reason)
                    );
                }
            }
            What::Event { body } => say!("{n}\t{at}\t{body}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Admin subcommands.
#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Drop the projections (documents, tasks, visibility) and rebuild them from the log.
    Rebuild {
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Copy the database to FILE (SQLite's online backup API: safe while `paraaf serve`
    /// runs); the copy's hash chain is verified. Restore by using FILE as `--db`.
    ///
    /// Example: paraaf admin backup /backups/aalst-2026-12-01.db
    Backup {
        /// Where the copy goes (must not exist yet).
        file: PathBuf,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Replace the database with a backup made by `paraaf admin backup`. With the signing
    /// key, the backup is first checked against every signed checkpoint up to its head
    /// (refused, exit 3, if it is not the signed log's start), then a signed restore record
    /// is added to the checkpoint file naming the events given up, so the restored log
    /// opens and `audit verify` reports the loss. Refused while `paraaf serve` runs.
    ///
    /// Example: paraaf admin restore /backups/aalst-2026-12-01.db --db aalst.db
    Restore {
        /// The backup to restore.
        backup: PathBuf,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Copy a city's event log from its SQLite database into the PostgreSQL store of a
    /// provider serving many cities, with its hashes, in one transaction as the city's
    /// writer; the copy's chain is verified and must end at the SQLite log's head. Refused
    /// when the city already has events there. Only the log is copied for now: `paraaf
    /// serve` still runs on SQLite (see docs/operations.md).
    ///
    /// Example: paraaf admin migrate-store --from aalst.db --to postgres://paraaf_app@db:5432/paraaf --city aalst
    MigrateStore(crate::cli::migrate_store::MigrateStore),
    /// Create the ed25519 key that signs checkpoints of the log: FILE (private, readable
    /// by you only: give it to the runtime as `--signing-key`) and FILE.pub (for
    /// auditors: `paraaf audit verify --public-key FILE.pub`). Keep both outside the
    /// database's directory.
    ///
    /// Example: paraaf admin key new /etc/paraaf/checkpoint.key
    Key {
        /// `new`.
        #[arg(value_parser = ["new"])]
        action: String,
        /// The private key file to create (must not exist).
        file: PathBuf,
    },
    /// Give PERSON a new bearer token for `paraaf serve`: printed once, kept in the
    /// tokens file only as its SHA-256 hash (a previous token of PERSON stops working).
    ///
    /// Example: paraaf admin token add dirk-lambert --tokens tokens.toml
    #[command(name = "token")]
    Token {
        /// `add`.
        #[arg(value_parser = ["add"])]
        action: String,
        /// The person (an id in the organogram in force in the database), or with
        /// `--monitoring` the monitoring system's name.
        person: String,
        /// The tokens file (created when missing).
        #[arg(long)]
        tokens: PathBuf,
        /// A monitoring token (`[monitoring]`), not a person's: it reads `/health`'s
        /// counts (events, versions) and nothing else. A person's token never gets them.
        ///
        /// Example: paraaf admin token add zabbix --monitoring --tokens tokens.toml
        #[arg(long)]
        monitoring: bool,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

/// `Ok` when `person` is in the organogram in force in the database of `rt`; otherwise
/// why not, and what to do.
fn person_in_force(rt: &RuntimeArgs, person: &str) -> Result<u32, String> {
    if !rt.is_postgres() && !rt.db.exists() {
        return Err(format!(
            "there is no database at {} (give it with --db): a token is for a person in the organogram in force there",
            rt.db.display()
        ));
    }
    let runtime = rt.open()?;
    paraaf_runtime::app::tokens::person_in_force(runtime.state(), &rt.shown(), person)
        .map_err(|e| e.to_string())
}

pub fn admin(cmd: AdminCommand) -> Result<ExitCode, String> {
    match cmd {
        AdminCommand::Backup { file, rt } => {
            if file.exists() {
                return Err(format!(
                    "{} exists already; choose a new file",
                    file.display()
                ));
            }
            let runtime = rt.open()?;
            let v = runtime
                .store()
                .backup_to(&file)
                .map_err(|e| e.to_string())?;
            println!(
                "backed up {} events to {} (verified, head {})",
                v.events,
                file.display(),
                v.head
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Key { file, .. } => {
            let public = paraaf_runtime::checkpoint::generate(&file)?;
            println!(
                "wrote {} (private: give it as --signing-key) and {} ({public})",
                file.display(),
                paraaf_runtime::checkpoint::public_path(&file).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Token {
            person,
            tokens,
            monitoring,
            rt,
            ..
        } => {
            // A token is for someone in the organogram in force: never for a person who
            // left (their tokens stop at the `org deploy` that removes them). A
            // monitoring token is nobody's.
            let returns = if monitoring {
                0
            } else {
                person_in_force(&rt, &person)?
            };
            let city = rt.is_postgres().then_some(rt.city.as_deref()).flatten();
            let token =
                paraaf_runtime::app::tokens::add(&tokens, &person, monitoring, returns, city)
                    .map_err(|e| e.to_string())?;
            eprintln!(
                "the token of {person} (shown once; {} keeps only its hash):",
                tokens.display()
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Restore { backup, rt } => {
            let key = match &rt.signing_key {
                Some(p) => Some(paraaf_runtime::checkpoint::Key::read_signing(p)?),
                None if rt.has_checkpoints() => {
                    return Err(format!(
                        "{} has signed checkpoints in {}: a restore needs the signing key (--signing-key or PARAAF_SIGNING_KEY) to check the backup and sign what it gives up",
                        rt.db.display(),
                        rt.checkpoint_file().display()
                    ));
                }
                None => None,
            };
            let file = rt.checkpoint_file();
            match paraaf_runtime::restore::restore(
                &backup,
                &rt.db,
                key.as_ref().map(|k| (k, file.as_path())),
            ) {
                Ok(r) => {
                    println!(
                        "restored {} events into {} from {} (head {}; checked against {} signed checkpoints)",
                        r.events,
                        rt.db.display(),
                        backup.display(),
                        r.head,
                        r.checked_against
                    );
                    if r.replaced > r.events {
                        println!(
                            "events {}–{} of the replaced log are gone{}",
                            r.events + 1,
                            r.replaced,
                            match &r.recorded_in {
                                Some(f) =>
                                    format!("; a signed restore record in {} says so", f.display()),
                                None => String::new(),
                            }
                        );
                    }
                    restored_pay_runs(&rt, r)?;
                    if let Some(kept) = paraaf_runtime::restore::finish(&rt.db, rt.now())
                        .map_err(crate::cli::runtime_args::fail)?
                    {
                        println!(
                            "the replaced database is kept as {} (the events given up, for an auditor)",
                            kept.display()
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(crate::cli::runtime_args::fail(e)),
            }
        }
        AdminCommand::MigrateStore(args) => crate::cli::migrate_store::run(args),
        AdminCommand::Rebuild { rt } => {
            // From the events alone: an altered snapshot must not stop its own repair.
            let mut runtime = rt.open_checked(true)?;
            let state = runtime.rebuild().map_err(crate::cli::runtime_args::fail)?;
            println!(
                "rebuilt {} documents from {} events",
                state.documents.len(),
                state.last_seq
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Puts in force again the organogram and project versions the restore gave up (HR's
/// decisions do not go back with the log), records the pay runs it gave up, and says
/// what to do.
fn restored_pay_runs(
    rt: &RuntimeArgs,
    mut r: paraaf_runtime::restore::Restored,
) -> Result<(), String> {
    use paraaf_runtime::app::lost_runs;
    if let Some(why) = &r.unread {
        println!(
            "the replaced log could not be read ({why}): if a `finance pay` ran after the backup, its files tell what went to the bank; `finance pay` refuses a folder that holds them until a person settles the run"
        );
    }
    if r.unread.is_some() {
        println!(
            "if an organogram (HR export) or project was deployed after the backup, it is not in force now: run `paraaf org deploy` and `paraaf deploy` again before serving, or people who left are people again"
        );
    }
    for version in &r.lost_deployments.unvouched {
        println!(
            "{version} of the replaced log is not signed by any checkpoint (written without the key, or after the last checkpoint before a crash): it is not put in force again; if it is HR's own export or your own project, deploy it again (`paraaf org deploy`, `paraaf deploy`)"
        );
    }
    if !r.lost_deployments.is_empty() {
        let mut runtime = rt.open_checked_during_restore(false)?;
        let lost = std::mem::take(&mut r.lost_deployments);
        let done = paraaf_runtime::app::lost_deployments::reapply(&mut runtime, lost, rt.now())
            .map_err(|e| {
                format!(
                    "{}; the restore is done, but what HR decided after the backup is not in force: run `paraaf org deploy` with the newest organogram before serving",
                    crate::cli::runtime_args::fail_app(e)
                )
            })?;
        for line in done {
            println!("{line}");
        }
    }
    let runs = lost_runs::by_run(&r.lost_payments);
    if runs.is_empty() {
        return Ok(());
    }
    let given_up = r.given_up();
    let mut runtime = rt.open_checked_during_restore(false)?;
    lost_runs::record_restore(&mut runtime, &given_up, r.lost_payments, rt.now())
        .map_err(crate::cli::runtime_args::fail_app)?;
    for run in &runs {
        println!(
            "pay run {} was among the events given up: its invoices {} wait; check with the bank, then `paraaf finance pay … --lost-run {}=paid` (or `=unpaid`)",
            run.run,
            run.invoices(),
            run.run
        );
    }
    Ok(())
}

/// Audit subcommands.
#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the log: the hash chain from the first event and, with a key, every signed
    /// checkpoint. Exit 1 names the first missing, altered or rewritten event (or the
    /// deleted ones at the end).
    ///
    /// Example (an auditor with the public key only):
    ///   paraaf audit verify --db aalst.db --public-key checkpoint.key.pub
    Verify {
        /// The public key (`KEY.pub`) to check the checkpoints with, when you do not hold
        /// the signing key.
        #[arg(long)]
        public_key: Option<PathBuf>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Sign a checkpoint of the current head now and append it to the checkpoint file
    /// (the writer also does so every `--checkpoint-every` events and when it closes).
    /// Needs `--signing-key`; refused while `paraaf serve` writes the database.
    Checkpoint {
        /// Sign the log as it is, also events no checkpoint covers yet: for a database
        /// that only now starts using checkpoints, or events a writer refused as not its
        /// own (you vouch for them). Needs --reason, which is signed into the checkpoint
        /// and shown by `audit verify`.
        ///
        /// Example: paraaf audit checkpoint --adopt --reason "checkpoints start today (ticket 4411)"
        #[arg(long, requires = "reason")]
        adopt: bool,
        /// Why you vouch for the adopted events (who checked them, a ticket).
        #[arg(long, requires = "adopt")]
        reason: Option<String>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Anchor the checkpoint head outside the machine now: an RFC 3161 time-stamp
    /// authority stamps it (--tsa-url, --tsa-trust) and/or it is appended to the witness
    /// file (--witness). `paraaf serve` does this by itself; run this from cron when only
    /// the command line writes. Exit 1 when an anchor could not be made (try again).
    ///
    /// Example:
    ///   paraaf audit anchor --db aalst.db --public-key checkpoint.key.pub \
    ///     --tsa-url https://tsa.example.be --tsa-trust tsa-root.pem --witness /mnt/witness/aalst
    Anchor {
        /// The public key the checkpoint file is signed with (default: --signing-key's).
        #[arg(long)]
        public_key: Option<PathBuf>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

/// `paraaf audit anchor`.
fn anchor_now(public_key: Option<PathBuf>, rt: RuntimeArgs) -> Result<ExitCode, String> {
    let config = rt.anchor_config()?;
    if !config.is_active() {
        return Err("nothing to anchor with: give --tsa-url and --tsa-trust (PARAAF_TSA_URL, PARAAF_TSA_TRUST) and/or --witness (PARAAF_WITNESS)".into());
    }
    let key = match (&public_key, &rt.signing_key) {
        (Some(p), _) | (None, Some(p)) => paraaf_runtime::checkpoint::Key::read(p)?,
        (None, None) => {
            return Err("the checkpoint head is read from the signed checkpoint file: give --public-key (or --signing-key)".into());
        }
    };
    let chain = paraaf_runtime::checkpoint::read_chain(&rt.checkpoint_file(), &key)?;
    let Some(head) = paraaf_runtime::anchor::Anchor::head(&chain) else {
        return Err(format!(
            "{} holds no signed checkpoint yet: nothing to anchor",
            rt.checkpoint_file().display()
        ));
    };
    let out = paraaf_runtime::anchor::anchor(&config, head);
    if let Some(a) = &out.anchor {
        if let Some(s) = &out.stamped {
            println!(
                "event {} (checkpoint line {}) stamped {} by {}, kept in {}",
                a.seq,
                a.lines,
                s.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                s.tsa,
                config.file.display()
            );
        }
        if out.witnessed
            && let Some(w) = &config.witness
        {
            println!(
                "event {} (checkpoint line {}) written to the witness {}",
                a.seq,
                a.lines,
                w.display()
            );
        }
    }
    match out.pending {
        Some(why) => {
            eprintln!("error: not anchored: {why}");
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `paraaf audit verify`: the service's verdict, printed; exit 1 when the log fails.
fn verify(public_key: Option<PathBuf>, rt: RuntimeArgs) -> Result<ExitCode, String> {
    use paraaf_runtime::app::audit::{self, Signed, Verdict, VerifyOptions};
    let calendar = match &rt.holidays {
        Some(path) => crate::cli::runtime_args::read_holidays(path)?,
        None => Default::default(),
    };
    let anchor = rt.anchor_config()?;
    let file = rt.checkpoint_file();
    let address = rt.address()?;
    let verdict = audit::verify(VerifyOptions {
        db: &address,
        key: public_key.as_deref().or(rt.signing_key.as_deref()),
        checkpoint_file: &file,
        checkpoint_every: rt.checkpoint_every,
        anchor: &anchor,
        calendar,
    });
    let sound = match verdict {
        Ok(Verdict::Sound(sound)) => sound,
        Ok(Verdict::Failed { findings }) => {
            for why in findings {
                println!("FAILED: {why}");
            }
            return Ok(ExitCode::from(1));
        }
        Err(AppError::Runtime {
            error: e @ RuntimeError::Tampered(_),
            ..
        }) => {
            eprintln!("error: {}: {e}", rt.shown());
            std::process::exit(crate::cli::runtime_args::EXIT_TAMPERED);
        }
        Err(AppError::Runtime { error, .. }) => {
            return Err(format!("{}: {error}", rt.shown()));
        }
        Err(e) => return Err(e.to_string()),
    };
    for note in &sound.notes {
        say!("note: {note}");
    }
    let (events, head) = (sound.events, &sound.head);
    match &sound.signed {
        Signed::Unkeyed => println!(
            "ok: {events} events, head {head} (the chain only: without --signing-key or --public-key a rewritten log cannot be told)"
        ),
        Signed::NoneYet { file } => println!(
            "ok: {events} events, head {head} (no signed checkpoint yet in {})",
            file.display()
        ),
        Signed::Checkpoints {
            count,
            last_seq,
            last_at,
            chain_line,
            chain_head,
        } => println!(
            "ok: {events} events, head {head}; {count} signed checkpoints, the last at event {last_seq} ({last_at}); checkpoint chain: line {chain_line}, {chain_head}{}",
            if *last_seq < events {
                format!("; events {}–{events} are not signed yet", last_seq + 1)
            } else {
                String::new()
            }
        ),
    }
    if let Some(line) = &sound.anchored {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit(cmd: AuditCommand) -> Result<ExitCode, String> {
    use paraaf_runtime::checkpoint::Key;
    match cmd {
        AuditCommand::Anchor { public_key, rt } => anchor_now(public_key, rt),
        AuditCommand::Verify { public_key, rt } => verify(public_key, rt),
        AuditCommand::Checkpoint { adopt, reason, rt } => {
            let Some(key_path) = &rt.signing_key else {
                return Err(
                    "a checkpoint needs --signing-key (or PARAAF_SIGNING_KEY); create one with `paraaf admin key new FILE`".into(),
                );
            };
            let mut runtime = if adopt {
                let mut runtime = rt.open_unchecked()?;
                if let Err(e) = runtime.adopt_checkpoints(
                    Key::read_signing(key_path)?,
                    rt.checkpoint_file(),
                    rt.checkpoint_every,
                    reason.as_deref().unwrap_or_default(),
                ) {
                    eprintln!("error: {}: {e}", rt.db.display());
                    return Ok(ExitCode::from(
                        crate::cli::runtime_args::EXIT_TAMPERED as u8,
                    ));
                }
                runtime
            } else {
                rt.open()?
            };
            runtime
                .lock_writer(&format!(
                    "`paraaf audit checkpoint` (process {})",
                    std::process::id()
                ))
                .map_err(crate::cli::runtime_args::fail)?;
            match runtime
                .checkpoint()
                .map_err(crate::cli::runtime_args::fail)?
            {
                Some(cp) => println!(
                    "signed checkpoint of events {}–{} (head {}) appended to {}",
                    cp.from,
                    cp.seq,
                    cp.head,
                    rt.checkpoint_file().display()
                ),
                None => println!(
                    "nothing to sign: the last checkpoint already covers event {}",
                    runtime.state().last_seq
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
