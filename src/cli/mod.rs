//! Every subcommand of `paraaf`, in one place. Exit codes: 0 clean, 1 findings,
//! 2 usage or I/O error.

mod absence;
mod audit;
mod check;
mod compile;
mod deploy;
mod diff;
mod doc;
mod explain;
mod finance;
mod fmt;
mod inbox;
mod migrate_store;
mod notify;
mod org;
mod queue;
mod runtime_args;
mod seal;
mod serve;
mod terminal;
mod test_cmd;
mod why;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Paraaf: signing flows, visibility groups and automation rules for a city's back office.
///
/// A project is a folder with a `paraaf.toml` that names the organogram (TOML) and holds
/// `.paraaf` files. Start with `paraaf check examples/aalst`.
#[derive(Parser)]
#[command(name = "paraaf", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a project (or one file) against its organogram and report every problem.
    ///
    /// Exits 0 when there are no errors, 1 when there are errors (or warnings with
    /// `--deny warnings`), 2 when the project cannot be read.
    ///
    /// Example: paraaf check examples/aalst
    Check(check::Args),
    /// Compile a project to JSON for the runtime (only when it has no errors).
    ///
    /// Example: paraaf compile examples/aalst -o aalst.json
    Compile(compile::Args),
    /// Work with the organogram.
    #[command(subcommand)]
    Org(org::Command),
    /// Explain a diagnostic code: what it means, an example, and how to fix it.
    ///
    /// Example: paraaf explain P0011
    Explain(explain::Args),
    /// Format .paraaf files (indentation, spacing; comments kept). `--check` for CI.
    ///
    /// Example: paraaf fmt examples --check
    Fmt(fmt::Args),
    /// Run the language server over stdio (started by the editor extension).
    Lsp,
    /// Deploy a project (or compiled .json) to the runtime database as the next version.
    ///
    /// Documents in flight keep the version they started on. A project compiled against
    /// another organogram than the one in force changes the organogram too, exactly as
    /// `paraaf org deploy` without a plan would (its checks, moves and report), or is
    /// refused with the commands to run first; `--dry-run` shows it and records nothing.
    ///
    /// Example: paraaf deploy examples/aalst --db aalst.db
    Deploy(deploy::Args),
    /// Submit, sign, refuse, comment on and show documents.
    #[command(subcommand)]
    Doc(doc::Command),
    /// What a person has to sign.
    Inbox(inbox::Args),
    /// Absences: substitutes take over open tasks.
    #[command(subcommand)]
    Absence(absence::Command),
    /// The manual queue: tasks nobody can be asked for, and assigning them; invoices that
    /// wait for a person, and deciding between documents under one invoice.
    #[command(subcommand)]
    Queue(queue::Command),
    /// Let time pass: start/end absences, send reminders, escalate overdue tasks (while
    /// `paraaf serve` runs, it does this itself at each due moment).
    Tick(audit::TickArgs),
    /// How a person is told by mail: a daily digest, a mail per event, or nothing.
    ///
    /// Example: paraaf notify ruben-van-damme --mail immediate
    Notify(notify::Args),
    /// The audit log, as far as a person may see it.
    Log(audit::LogArgs),
    /// Maintenance of the runtime database.
    #[command(subcommand)]
    Admin(audit::AdminCommand),
    /// Verify the hash-chained audit trail; write checkpoints.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Finance automation: match invoices to purchase orders, withholding check, payments.
    #[command(subcommand)]
    Finance(finance::Command),
    /// Run the project's scenario tests (`tests/*.toml`): the route, who may see, where a
    /// refusal goes — through the real runtime, in memory. Exit 1 when one fails.
    ///
    /// Example: paraaf test examples/aalst --coverage
    Test(test_cmd::Args),
    /// What a rule change does to people: for every document kind, representative
    /// documents through BASE and HEAD (folders); who gains or loses sight or signature;
    /// shielded kinds marked. `--format markdown` for a pull-request comment; `--fail-on
    /// shielded-widened` exits 1 when someone new may see a shielded kind.
    ///
    /// Example: paraaf diff base/examples/aalst examples/aalst --fail-on shielded-widened
    Diff(diff::Args),
    /// Why PERSON may (or may not) see DOC, and why they are asked to sign it: the group
    /// (or the `allow` exception, by name), unit, function and substitution behind the
    /// answer, from the same decision code the runtime uses; who is asked now (a holder
    /// who is away is not), and the tasks PERSON was taken off since, with the recorded
    /// reason. An administrator's tool on the database (like `audit`): it tells hidden
    /// and missing documents apart, which no read path for signers does.
    ///
    /// Example: paraaf why d-1 --as jan-desmet
    Why(why::Args),
    /// Serve the signers' web app (under /app) and the HTTP JSON API (bearer token per
    /// person). The web app signs people in through the city's OpenID Connect provider
    /// (--oidc-issuer …) or, for the examples, a development login (--dev-login).
    /// While it runs it keeps time itself (absences that start or end at midnight in
    /// Brussels, reminders, escalations) and sends what the outbox holds: mail through
    /// the city's SMTP server (`[mail]` in the --tokens file) and webhooks to sources
    /// (`notify_url`); see docs/operations.md.
    ///
    /// Try it: paraaf serve --demo examples/aalst   (then open the printed address)
    ///
    /// Example: paraaf serve --db aalst.db --tokens tokens.toml --oidc-issuer https://login.aalst.be --oidc-client-id paraaf --oidc-client-secret-file /run/secrets/oidc --public-url https://paraaf.aalst.be
    Serve(serve::Args),
    /// Seal the completed documents that wait for their seal (the server does it by
    /// itself), list them (`--list`), or export a sealed PDF (`--export DOC --as PERSON
    /// --out FILE`, through who may see it).
    ///
    /// Example: paraaf seal --db aalst.db --config seal.toml
    Seal(seal::SealArgs),
    /// Check a sealed PDF: the city's seal (CMS signature, certificate chain to --trust,
    /// the RFC 3161 time stamp, the signature covering the whole file) and, with --db,
    /// that the log records this very file. Exit 0 VALID, 1 INVALID.
    ///
    /// Example: paraaf verify besluit.pdf --trust trust.pem
    Verify(seal::VerifyArgs),
}

/// Output format of diagnostics.
#[derive(Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Format {
    /// Annotated source excerpts for people.
    #[default]
    Text,
    /// A JSON array; fields are only ever added.
    Json,
    /// SARIF 2.1.0 for code scanning (upload it with github/codeql-action/upload-sarif).
    Sarif,
    /// GitHub workflow commands (`::error file=…,line=…::…`): annotations on the diff.
    Github,
}

/// When to use colour.
#[derive(Clone, Copy, ValueEnum, Default)]
pub enum Color {
    /// When writing to a terminal.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Color {
    fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
            Color::Always => true,
            Color::Never => false,
        }
    }
}

/// Parses arguments and runs the subcommand.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Org(c) => org::run(c),
        Command::Explain(a) => explain::run(a),
        Command::Fmt(a) => fmt::run(a),
        // 0 after `shutdown` then `exit`; 1 otherwise (the client restarts the server).
        Command::Lsp => Ok(ExitCode::from(paraaf_lsp::run_stdio() as u8)),
        Command::Deploy(a) => deploy::run(a),
        Command::Doc(c) => doc::run(c),
        Command::Inbox(a) => inbox::run(a),
        Command::Absence(c) => absence::run(c),
        Command::Queue(c) => queue::run(c),
        Command::Tick(a) => audit::tick(a),
        Command::Notify(a) => notify::run(a),
        Command::Log(a) => audit::log(a),
        Command::Admin(c) => audit::admin(c),
        Command::Audit(c) => audit::audit(c),
        Command::Serve(a) => serve::run(a),
        Command::Seal(a) => seal::seal(a),
        Command::Verify(a) => seal::verify(a),
        Command::Finance(c) => finance::run(c),
        Command::Test(a) => test_cmd::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Why(a) => why::run(a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
