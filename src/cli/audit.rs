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
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// The audit listing, filtered by visibility. Its first column numbers the events this
/// reader is shown (1, 2, 3, …), never the log's global sequence: gaps in that would
/// tell how many hidden events happened in between.
pub fn log(args: LogArgs) -> Result<ExitCode, String> {
    let runtime = args.rt.open()?;
    // Only verified history is shown: also the events before the newest snapshot.
    runtime
        .verify_history()
        .map_err(crate::cli::runtime_args::fail)?;
    let state = runtime.state();
    let mut shown: u64 = 0;
    for (_, at, body) in runtime.store().events().map_err(|e| e.to_string())? {
        let Ok(event) = serde_json::from_str::<Event>(&body) else {
            continue;
        };
        let seq = shown + 1;
        let visible = match &event {
            Event::ProjectDeployed {
                version, sha256, ..
            } => {
                shown = seq;
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
                shown = seq;
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
            shown = seq;
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
fn person_in_force(rt: &RuntimeArgs, person: &str) -> Result<(), String> {
    if !rt.db.exists() {
        return Err(format!(
            "there is no database at {} (give it with --db): a token is for a person in the organogram in force there",
            rt.db.display()
        ));
    }
    let runtime = rt.open()?;
    let state = runtime.state();
    let Some(org) = &state.organogram else {
        return Err(format!(
            "nothing is deployed in {} yet: deploy the project first (`paraaf deploy`); a token is for a person in its organogram",
            rt.db.display()
        ));
    };
    match state.person_now(person) {
        Some(now) if now == person => Ok(()),
        Some(now) => Err(format!(
            "`{person}` is `{now}` now (the same person under a new id, organogram version {}); give the token to `{now}`",
            org.version
        )),
        None if org.identities.contains_key(person) => Err(format!(
            "`{person}` is not in the organogram in force (organogram version {}): they left, so they get no token (and their tokens stopped working); nothing was written",
            org.version
        )),
        None => Err(format!(
            "`{person}` is not a person in the organogram in force (organogram version {}); check the id (`paraaf org diff` lists people); nothing was written",
            org.version
        )),
    }
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
            if !monitoring {
                person_in_force(&rt, &person)?;
            }
            let kind = if monitoring { "monitoring" } else { "tokens" };
            let random = paraaf_runtime::checkpoint::random_bytes()?;
            let token = format!("pf_{}", paraaf_runtime::sha256_hex(&random));
            let text = std::fs::read_to_string(&tokens).unwrap_or_default();
            let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
                format!("{} is not a tokens file: {}", tokens.display(), e.message())
            })?;
            let section = table
                .entry(kind)
                .or_insert_with(|| toml::Value::Table(Default::default()));
            let Some(section) = section.as_table_mut() else {
                return Err(format!("{}: `{kind}` is not a table", tokens.display()));
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

pub fn audit(cmd: AuditCommand) -> Result<ExitCode, String> {
    use paraaf_runtime::checkpoint::{Key, read_chain};
    match cmd {
        AuditCommand::Anchor { public_key, rt } => anchor_now(public_key, rt),
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
            let chain = match &key {
                Some(k) => match read_chain(&rt.checkpoint_file(), k) {
                    Ok(chain) => chain,
                    Err(why) => {
                        println!("FAILED: {why}");
                        return Ok(ExitCode::from(1));
                    }
                },
                None => Default::default(),
            };
            let checkpoints = chain.list.clone();
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
                    // The newest anchored head (a TSA's stamp, the witness file): a log or
                    // a checkpoint file shorter than it was rolled back.
                    let anchored = match paraaf_runtime::anchor::newest(&rt.anchor_config()?) {
                        Err(why) => {
                            println!("FAILED: {why}");
                            return Ok(ExitCode::from(1));
                        }
                        Ok(None) => None,
                        Ok(Some(newest)) => {
                            let seq = newest.anchor.seq;
                            let hash = store
                                .hash_prefixes(seq, seq)
                                .ok()
                                .map(|(_, h)| h)
                                .filter(|h| !h.is_empty());
                            if let Err(why) = paraaf_runtime::anchor::check(
                                &newest,
                                v.events,
                                hash.as_deref(),
                                chain.lines,
                            ) {
                                println!("FAILED: {why}");
                                return Ok(ExitCode::from(1));
                            }
                            Some(newest.describe())
                        }
                    };
                    if let Some(torn) = &chain.torn {
                        println!("note: {torn}");
                    }
                    if chain.legacy > 0 {
                        println!(
                            "note: the first {} lines of {} are of the older format (not numbered), sealed by the numbered line after them",
                            chain.legacy,
                            rt.checkpoint_file().display()
                        );
                    }
                    for a in &chain.adoptions {
                        println!(
                            "note: events {}–{} were adopted on {} without a writer's signature: {}",
                            a.from,
                            a.seq,
                            a.at,
                            crate::cli::terminal::escape(a.adopted.as_deref().unwrap_or(""))
                        );
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
                            "ok: {} events, head {}; {} signed checkpoints, the last at event {} ({}); checkpoint chain: line {}, {}{}",
                            v.events,
                            v.head,
                            checkpoints.len(),
                            cp.seq,
                            cp.at,
                            chain.lines,
                            chain.head,
                            if cp.seq < v.events {
                                format!("; events {}–{} are not signed yet", cp.seq + 1, v.events)
                            } else {
                                String::new()
                            }
                        ),
                    }
                    if let Some(line) = anchored {
                        println!("{line}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    println!("FAILED: {why}");
                    Ok(ExitCode::from(1))
                }
            }
        }
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
