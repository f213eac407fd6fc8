//! `paraaf queue ...`: the manual queue, where tasks wait that nobody can be asked for.

use super::runtime_args::RuntimeArgs;
use std::process::ExitCode;

/// Manual queue subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// List the open tasks nobody is asked for, with why and what to do.
    ///
    /// A task waits here when its role is vacant, when the person a flow or a document's
    /// person field names has left the organisation, or when a shield kept everyone out.
    /// Imported invoices that wait for a person (no purchase order, a duplicate, another
    /// document under an invoice's number, a credit note without its invoice) are listed
    /// after the tasks (in --json too: each object's `item` is `task` or `invoice`).
    /// A conflict between documents under one invoice is resolved with `paraaf queue
    /// decide`.
    /// Example: paraaf queue list --db aalst.db
    List {
        /// Print JSON (an array, one object per item: tasks, then invoices) instead of lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Give a waiting task to a person, with the reason (recorded in the history).
    ///
    /// The person must be in the organogram and, for a shielded kind, inside its group
    /// (the person of an `allow` field only for a step that names them).
    /// Example: paraaf queue assign d-7k2m… --to tom-nowak --reason "acting HR head"
    Assign {
        /// The document id.
        doc: String,
        /// The task id, when more than one task of the document waits.
        #[arg(long)]
        task: Option<String>,
        /// Who takes the task (a person id).
        #[arg(long)]
        to: String,
        /// Why this person (at least two words; recorded).
        #[arg(long)]
        reason: String,
        /// Who assigns (recorded; default: `administrator`).
        #[arg(long, default_value = "administrator")]
        by: String,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Decide which document under one invoice is the invoice, with the reason (recorded).
    ///
    /// When another document arrives under an imported invoice's identity (the seller,
    /// the number without case or separators, the issue date: a corrected copy, other
    /// amounts), nothing under it is paid until a person decides. Name the queue item
    /// (ITEM: a file name, or the first characters of a document id when two share a
    /// name) and the document that is the invoice; the others are recorded as not payable
    /// and their approval flows, if in progress, stopped. A chosen document that waited in
    /// the queue is matched to the first document's purchase order with the rules in force
    /// and its approval flow started as the person deciding.
    /// Example: paraaf queue decide f1-corrected.xml --invoice f1-corrected.xml --as katrien-moors --reason "the supplier confirmed the correction"
    Decide {
        /// A document of the conflict in the manual queue (file name or id prefix).
        item: String,
        /// The document that is the invoice (file name or id prefix).
        #[arg(long)]
        invoice: String,
        /// Who decides (a person in the organogram; recorded).
        #[arg(long = "as")]
        person: String,
        /// Why this document is the invoice (at least two words; recorded).
        #[arg(long)]
        reason: String,
        /// Percent of partial and over-invoicing, as for `finance run`.
        #[arg(long, default_value = "2")]
        tolerance: rust_decimal::Decimal,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

/// Runs a queue subcommand.
pub fn run(cmd: Command) -> Result<ExitCode, String> {
    use paraaf_runtime::app::queue::{self, Assignment};
    use paraaf_runtime::engine::RuntimeError;
    match cmd {
        Command::List { json, rt } => {
            let runtime = rt.open()?;
            let list = queue::list(runtime.state());
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list.items()).map_err(|e| e.to_string())?
                );
            } else if list.is_empty() {
                println!("The manual queue is empty.");
            } else {
                for q in &list.tasks {
                    println!(
                        "{} {} ({}, {}): {}",
                        q.doc, q.task, q.title, q.role, q.reason
                    );
                }
                for i in &list.invoices {
                    println!(
                        "invoice {} {} ({}, {}): {}",
                        i.file, i.number, i.supplier_name, i.queue, i.reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Decide {
            item,
            invoice,
            person,
            reason,
            tolerance,
            rt,
        } => {
            use paraaf_runtime::app::{AppError, invoice_decision};
            let mut runtime = rt.open()?;
            let decision = invoice_decision::Decision {
                item: &item,
                invoice: &invoice,
                by: &person,
                reason: &reason,
                tolerance,
            };
            match invoice_decision::decide(&mut runtime, rt.now(), &decision) {
                Ok(d) => {
                    println!(
                        "invoice {} ({}): {} ({} EUR due) is the invoice, decided by {person}",
                        d.chosen.number, d.supplier_name, d.chosen.file, d.chosen.amount
                    );
                    for n in &d.not_payable {
                        println!(
                            "not payable: {} {} ({} EUR due)",
                            n.file, n.number, n.amount
                        );
                    }
                    for s in &d.stopped {
                        println!("approval flow {s} stopped (its invoice is not payable)");
                    }
                    match (&d.doc, &d.queue) {
                        (_, Some((queue, why))) => {
                            println!(
                                "{} waits in the manual queue ({queue}): {why}",
                                d.chosen.file
                            )
                        }
                        (Some(doc), None) => println!(
                            "approval flow {doc}; pay it when approved with `paraaf finance pay`"
                        ),
                        (None, None) => {}
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(AppError::Runtime {
                    error: e @ (RuntimeError::Tampered(_) | RuntimeError::Locked(_)),
                    ..
                }) => Err(crate::cli::runtime_args::fail(e)),
                Err(AppError::Runtime {
                    error: RuntimeError::Storage(m),
                    ..
                }) => Err(m),
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Assign {
            doc,
            task,
            to,
            reason,
            by,
            rt,
        } => {
            let mut runtime = rt.open()?;
            let assignment = Assignment {
                doc: &doc,
                task: task.as_deref(),
                to: &to,
                by: &by,
                reason: &reason,
            };
            match queue::assign(&mut runtime, rt.now(), &assignment) {
                Ok(task) => {
                    println!("{doc} {task}: assigned to {to}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(RuntimeError::Storage(m)) => Err(m),
                Err(e @ (RuntimeError::Tampered(_) | RuntimeError::Locked(_))) => {
                    Err(crate::cli::runtime_args::fail(e))
                }
                Err(RuntimeError::NotFound) => {
                    eprintln!("error: there is no document {doc}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
