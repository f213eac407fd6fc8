//! `paraaf tick`, `paraaf log`, `paraaf admin rebuild`, `paraaf audit ...`

use super::runtime_args::RuntimeArgs;
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
        .map_err(|e| e.to_string())?;
    for (seq, at, body) in runtime
        .store()
        .events_after(before)
        .map_err(|e| e.to_string())?
    {
        println!("{seq}\t{at}\t{body}");
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
            Event::AbsenceAdded { person, .. } => person == &args.person,
            Event::AbsenceWithdrawn { id } => state
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
            println!("{seq}\t{at}\t{body}");
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
        AdminCommand::Token { person, tokens, .. } => {
            let mut random = [0u8; 32];
            std::io::Read::read_exact(
                &mut std::fs::File::open("/dev/urandom").map_err(|e| e.to_string())?,
                &mut random,
            )
            .map_err(|e| format!("no random source: {e}"))?;
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
            std::fs::write(&tmp, out)
                .and_then(|()| std::fs::rename(&tmp, &tokens))
                .map_err(|e| format!("cannot write {}: {e}", tokens.display()))?;
            eprintln!(
                "the token of {person} (shown once; {} keeps only its hash):",
                tokens.display()
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Rebuild { rt } => {
            let mut runtime = rt.open()?;
            let state = runtime.store_mut().rebuild().map_err(|e| e.to_string())?;
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
    /// Verify the hash chain of the log (and a checkpoint, if given). Exit 1 names the
    /// first bad event.
    Verify {
        /// A checkpoint file written by `paraaf audit checkpoint` (its last line is used).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Print (or append to a file kept outside the database) the current head:
    /// `sequence hash time`. Archive it; `verify --checkpoint` checks against it.
    Checkpoint {
        /// Append to this file instead of printing.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

pub fn audit(cmd: AuditCommand) -> Result<ExitCode, String> {
    match cmd {
        AuditCommand::Verify { checkpoint, rt } => {
            let runtime = rt.open()?;
            let cp = match &checkpoint {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let line = text
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .ok_or("the checkpoint file is empty")?;
                    let mut parts = line.split_whitespace();
                    let seq: u64 = parts
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or("bad checkpoint line")?;
                    let hash = parts.next().ok_or("bad checkpoint line")?.to_string();
                    Some((seq, hash))
                }
                None => None,
            };
            match runtime
                .store()
                .verify(cp.as_ref().map(|(s, h)| (*s, h.as_str())))
            {
                Ok(v) => {
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
                    println!("ok: {} events, head {}", v.events, v.head);
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    println!("FAILED: {why}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Checkpoint { output, rt } => {
            let runtime = rt.open()?;
            let (seq, hash) = runtime.store().head().map_err(|e| e.to_string())?;
            let line = format!("{seq} {hash} {}\n", rt.now().to_rfc3339());
            match output {
                Some(path) => {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    f.write_all(line.as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                None => print!("{line}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
