//! `paraaf tick`, `paraaf log`, `paraaf admin rebuild`, `paraaf audit ...`

use super::runtime_args::RuntimeArgs;
use super::terminal::say;
use paraaf_runtime::engine::Event;
use paraaf_runtime::visibility::may_see;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf tick`.
#[derive(clap::Args)]
pub struct TickArgs {
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// Process the passing of time: absences that start or end, reminders, escalations.
pub fn tick(args: TickArgs) -> Result<ExitCode, String> {
    let mut runtime = args.rt.open()?;
    let before = runtime.state().last_seq;
    runtime
        .execute(args.rt.now(), |e| {
            e.tick();
            Ok(())
        })
        .map_err(crate::cli::runtime_args::fail)?;
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
    /// Show the events this person may see (documents they may see, their own absences).
    #[arg(long = "as")]
    person: String,
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// The audit listing, filtered by visibility.
pub fn log(args: LogArgs) -> Result<ExitCode, String> {
    let runtime = args.rt.open()?;
    let state = runtime.state();
    for (seq, at, body) in runtime.store().events().map_err(|e| e.to_string())? {
        let Ok(event) = serde_json::from_str::<Event>(&body) else {
            continue;
        };
        let visible = match &event {
            Event::ProjectDeployed {
                version, sha256, ..
            } => {
                println!("{seq}\t{at}\tproject version {version} deployed ({sha256})");
                continue;
            }
            Event::OrganogramDeployed {
                version,
                sha256,
                renames,
                shields_widened,
                ..
            } => {
                println!("{seq}\t{at}\torganogram version {version} deployed ({sha256})");
                // The plan's renames: what the flows in flight are read with from now on.
                for (from, to) in renames {
                    println!(
                        "{seq}\t{at}\t  renamed {} → {}",
                        crate::cli::terminal::escape(from),
                        crate::cli::terminal::escape(to)
                    );
                }
                for w in shields_widened {
                    println!(
                        "{seq}\t{at}\t  shielded group {} widened to admit {}: {}",
                        w.group,
                        w.admits.join(", "),
                        crate::cli::terminal::escape(&w.reason)
                    );
                }
                continue;
            }
            Event::AbsenceAdded { person, .. } => person == &args.person,
            Event::AbsenceWithdrawn { id, .. } => state
                .absences
                .get(id)
                .is_none_or(|a| a.person == args.person),
            // Finance: a debts check or payment is visible to whoever may see the
            // invoice's approval document (the ordering service, the accounting unit).
            Event::PaymentProposed { id, .. } => state
                .invoices
                .get(id)
                .and_then(|i| i.doc.as_deref())
                .is_some_and(|d| may_see(state, &args.person, d)),
            Event::DebtsChecked { invoice, .. } => state.invoices.values().any(|i| {
                i.invoice.get("number").and_then(|n| n.as_str()) == Some(invoice.as_str())
                    && i.doc
                        .as_deref()
                        .is_some_and(|d| may_see(state, &args.person, d))
            }),
            other => other.doc().is_some_and(|d| may_see(state, &args.person, d)),
        };
        if visible {
            say!("{seq}\t{at}\t{body}");
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
        /// The person (an organogram id).
        person: String,
        /// The tokens file (created when missing).
        #[arg(long)]
        tokens: PathBuf,
    },
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
        AdminCommand::Token { person, tokens, .. } => {
            let random = paraaf_runtime::checkpoint::random_bytes()?;
            let token = format!("pf_{}", paraaf_runtime::sha256_hex(&random));
            let text = std::fs::read_to_string(&tokens).unwrap_or_default();
            let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
                format!("{} is not a tokens file: {}", tokens.display(), e.message())
            })?;
            let section = table
                .entry("tokens")
                .or_insert_with(|| toml::Value::Table(Default::default()));
            let Some(section) = section.as_table_mut() else {
                return Err(format!("{}: `tokens` is not a table", tokens.display()));
            };
            section.insert(
                person.clone(),
                toml::Value::String(format!(
                    "sha256:{}",
                    paraaf_runtime::sha256_hex(token.as_bytes())
                )),
            );
            let out = toml::to_string(&table).map_err(|e| e.to_string())?;
            let tmp = tokens.with_extension("tmp");
            let write = || -> std::io::Result<()> {
                use std::io::Write as _;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                // Readable by its owner only: it names who may act, and may still hold
                // plain tokens of older entries.
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut f = options.open(&tmp)?;
                f.write_all(out.as_bytes())?;
                f.sync_all()?;
                std::fs::rename(&tmp, &tokens)
            };
            write().map_err(|e| format!("cannot write {}: {e}", tokens.display()))?;
            eprintln!(
                "the token of {person} (shown once; {} keeps only its hash):",
                tokens.display()
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Restore { backup, rt } => {
            let key = match &rt.signing_key {
                Some(p) => Some(paraaf_runtime::checkpoint::Key::read(p)?),
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
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(crate::cli::runtime_args::fail(e)),
            }
        }
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
        /// that only now starts using checkpoints (you vouch for its history).
        #[arg(long)]
        adopt: bool,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

pub fn audit(cmd: AuditCommand) -> Result<ExitCode, String> {
    use paraaf_runtime::checkpoint::{Key, read_file};
    match cmd {
        AuditCommand::Verify { public_key, rt } => {
            let store = paraaf_runtime::store::Store::open(&rt.db)
                .map_err(|e| format!("{}: {e}", rt.db.display()))?;
            let key = match (&public_key, &rt.signing_key) {
                (Some(p), _) | (None, Some(p)) => Some(Key::read(p)?),
                (None, None) => None,
            };
            if key.is_none() && rt.has_checkpoints() {
                println!(
                    "FAILED: {} has signed checkpoints in {}: verify with --public-key KEY.pub (the hash chain alone cannot tell a rewritten log)",
                    rt.db.display(),
                    rt.checkpoint_file().display()
                );
                return Ok(ExitCode::from(1));
            }
            let checkpoints = match &key {
                Some(k) => match read_file(&rt.checkpoint_file(), k) {
                    Ok(list) => list,
                    Err(why) => {
                        println!("FAILED: {why}");
                        return Ok(ExitCode::from(1));
                    }
                },
                None => Vec::new(),
            };
            match store.verify(&checkpoints) {
                Ok(v) => {
                    let runtime = rt.open_replaying()?;
                    let broken: Vec<String> = runtime
                        .state()
                        .deployments
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| !d.broken.is_empty())
                        .map(|(i, d)| {
                            format!(
                                "version {} breaks the shielding rules: {}",
                                i + 1,
                                d.broken.join("; ")
                            )
                        })
                        .collect();
                    if !broken.is_empty() {
                        for b in &broken {
                            println!("FAILED: {b}");
                        }
                        return Ok(ExitCode::from(1));
                    }
                    if key.is_some()
                        && let Err(why) = paraaf_runtime::checkpoint::unsigned_tail(
                            &checkpoints,
                            v.events,
                            rt.checkpoint_every,
                            &rt.checkpoint_file(),
                        )
                    {
                        println!("FAILED: {why}");
                        return Ok(ExitCode::from(1));
                    }
                    // The log is sound; a snapshot is only a cache of its fold, but one
                    // that was altered would be read at the next start.
                    if let Err(paraaf_runtime::engine::RuntimeError::Tampered(why)) =
                        store.load_counting()
                    {
                        println!(
                            "FAILED: {why}: the log itself is intact; `paraaf admin rebuild` replays it and drops the snapshots"
                        );
                        return Ok(ExitCode::from(1));
                    }
                    for r in paraaf_runtime::checkpoint::restores(&rt.checkpoint_file()) {
                        println!(
                            "note: restored from a backup at event {} on {}: events {}–{} of the earlier log were given up",
                            r.seq,
                            r.at,
                            r.seq + 1,
                            r.restored_over.unwrap_or(r.seq)
                        );
                    }
                    match (key.is_some(), checkpoints.last()) {
                        (false, _) => println!(
                            "ok: {} events, head {} (the chain only: without --signing-key or --public-key a rewritten log cannot be told)",
                            v.events, v.head
                        ),
                        (true, None) => println!(
                            "ok: {} events, head {} (no signed checkpoint yet in {})",
                            v.events,
                            v.head,
                            rt.checkpoint_file().display()
                        ),
                        (true, Some(cp)) => println!(
                            "ok: {} events, head {}; {} signed checkpoints, the last at event {} ({}){}",
                            v.events,
                            v.head,
                            checkpoints.len(),
                            cp.seq,
                            cp.at,
                            if cp.seq < v.events {
                                format!("; events {}–{} are not signed yet", cp.seq + 1, v.events)
                            } else {
                                String::new()
                            }
                        ),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    println!("FAILED: {why}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Checkpoint { adopt, rt } => {
            let Some(key_path) = &rt.signing_key else {
                return Err(
                    "a checkpoint needs --signing-key (or PARAAF_SIGNING_KEY); create one with `paraaf admin key new FILE`".into(),
                );
            };
            let mut runtime = if adopt {
                let mut runtime = rt.open_unchecked()?;
                if let Err(e) = runtime.adopt_checkpoints(
                    Key::read(key_path)?,
                    rt.checkpoint_file(),
                    rt.checkpoint_every,
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
