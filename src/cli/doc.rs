//! `paraaf doc ...`: submit, sign, refuse, comment, show.

use super::runtime_args::RuntimeArgs;
use super::terminal::say;
use paraaf_runtime::engine::{RuntimeError, Submission, TaskStatus};
use paraaf_runtime::visibility::may_see;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Document subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Submit a document: it starts the flow that applies to it.
    ///
    /// Example: paraaf doc submit --kind besluit --as an-peeters --field dienst=bevolking
    ///          --field bron=notula --field titel="Aankoop laptops" --field bedrag=9000 --content besluit.pdf
    Submit {
        /// Document kind.
        #[arg(long)]
        kind: String,
        /// The uploader (person id).
        #[arg(long = "as")]
        person: String,
        /// A field value, `name=value` (repeat for each field).
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(String, String)>,
        /// The document's content: its SHA-256 is recorded, and a PDF or text file is kept
        /// for the web app to show.
        #[arg(long)]
        content: PathBuf,
        /// Title shown in inboxes (default: the `titel` or `title` field, if the kind has one).
        #[arg(long, default_value = "")]
        title: String,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Sign your open task on a document.
    Sign {
        /// Document id.
        id: String,
        /// Who signs (person id).
        #[arg(long = "as")]
        person: String,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Refuse your open task on a document, with a reason.
    Refuse {
        /// Document id.
        id: String,
        /// Who refuses.
        #[arg(long = "as")]
        person: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Comment on a document.
    Comment {
        /// Document id.
        id: String,
        /// Who comments.
        #[arg(long = "as")]
        person: String,
        /// The comment.
        #[arg(long)]
        text: String,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Show a document as a person sees it.
    Show {
        /// Document id.
        id: String,
        /// Who is looking.
        #[arg(long = "as")]
        person: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not name=value"))
}

/// Exit code for a refused command: 1 (the input was wrong or not allowed).
fn refused(e: RuntimeError) -> Result<ExitCode, String> {
    match e {
        RuntimeError::Storage(m) => Err(m),
        e @ (RuntimeError::Tampered(_) | RuntimeError::Locked(_)) => {
            Err(crate::cli::runtime_args::fail(e))
        }
        other => {
            eprintln!("error: {other}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::Submit {
            kind,
            person,
            fields,
            content,
            title,
            rt,
        } => {
            let bytes = std::fs::read(&content)
                .map_err(|e| format!("cannot read {}: {e}", content.display()))?;
            let uploader = person.clone();
            let sub = Submission {
                kind,
                uploader: person,
                fields: fields
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect::<BTreeMap<_, _>>(),
                content_sha256: paraaf_runtime::sha256_hex(&bytes),
                title,
                flow: None,
            };
            let mut runtime = rt.open()?;
            // The content is kept too (addressed by its hash), for the web app to show,
            // with the uploader who sent its bytes (only they may reference it by its
            // hash later, and only their documents show it: see `contents`).
            runtime
                .lock_writer(&format!("paraaf (process {})", std::process::id()))
                .map_err(crate::cli::runtime_args::fail)?;
            // Written in the submission's transaction: a refused one keeps nothing.
            // Content that is neither a PDF nor text is recorded by its hash only.
            let staged = match paraaf_runtime::contents::media_type_of(&bytes) {
                Some(_) => Some(
                    paraaf_runtime::contents::stage(&uploader, bytes)
                        .map_err(crate::cli::runtime_args::fail)?,
                ),
                None => None,
            };
            match runtime.execute(rt.now(), |e| {
                e.contents.extend(staged);
                e.submit(sub)
            }) {
                Ok(id) => {
                    let d = &runtime.state().documents[&id];
                    say!("{id}");
                    for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                        match (&t.shield_refused, t.spec.assignees.is_empty()) {
                            (Some(why), true) => {
                                eprintln!("  manual queue ({}): {why}", t.spec.role)
                            }
                            _ => eprintln!(
                                "  waiting for {} ({})",
                                t.spec.assignees.join(", "),
                                t.spec.role
                            ),
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
        Command::Sign { id, person, rt } => act(&rt, &id, &person, |e| e.sign(&id, &person)),
        Command::Refuse {
            id,
            person,
            reason,
            rt,
        } => act(&rt, &id, &person, |e| e.refuse(&id, &person, &reason)),
        Command::Comment {
            id,
            person,
            text,
            rt,
        } => act(&rt, &id, &person, |e| e.comment(&id, &person, &text)),
        Command::Show {
            id,
            person,
            json,
            rt,
        } => {
            let runtime = rt.open()?;
            if !may_see(runtime.state(), &person, &id) {
                return refused(RuntimeError::NotFound);
            }
            let d = &runtime.state().documents[&id];
            if json {
                say!(
                    "{}",
                    serde_json::to_string_pretty(d).map_err(|e| e.to_string())?
                );
            } else {
                say!(
                    "{} — {} ({}, flow {}, version {})",
                    d.id,
                    d.title,
                    d.kind,
                    d.flow,
                    d.version
                );
                say!("status: {}", d.status.as_str());
                say!(
                    "uploaded by {} on {}",
                    d.uploader,
                    d.submitted_at.format("%Y-%m-%d %H:%M")
                );
                // The document's fields, as the approver sees them (a finance flag too).
                for (name, value) in &d.fields {
                    match value {
                        serde_json::Value::Null => {}
                        serde_json::Value::String(s) => say!("  {name}: {s}"),
                        other => say!("  {name}: {other}"),
                    }
                }
                for t in &d.tasks {
                    let who = match &t.decided_by {
                        Some((by, Some(for_whom))) => format!("{by} for {for_whom}"),
                        Some((by, None)) => by.clone(),
                        None if t.spec.assignees.is_empty()
                            && t.status == paraaf_runtime::engine::TaskStatus::Open =>
                        {
                            "nobody can sign it now: manual queue".to_string()
                        }
                        None => t.spec.assignees.join(", "),
                    };
                    say!(
                        "  step {} {:<28} {:<10} {}",
                        t.step + 1,
                        t.spec.role,
                        t.status.as_str(),
                        who
                    );
                    if let Some(why) = &t.shield_refused {
                        say!("         shield: {why}");
                    }
                    if let Some(why) = &t.escalation_waits {
                        say!("         escalation waits: {why}");
                    }
                }
                for (by, text) in &d.comments {
                    say!("  comment by {by}: {text}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn act(
    rt: &RuntimeArgs,
    id: &str,
    person: &str,
    f: impl FnOnce(&mut paraaf_runtime::engine::Emitter) -> Result<(), RuntimeError> + Send,
) -> Result<ExitCode, String> {
    let mut runtime = rt.open()?;
    match runtime.execute(rt.now(), f) {
        Ok(()) => {
            let d = &runtime.state().documents[id];
            say!("{id}: {}", d.status.as_str());
            for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                eprintln!(
                    "  waiting for {} ({})",
                    t.spec.assignees.join(", "),
                    t.spec.role
                );
            }
            let _ = person;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}
