//! `paraaf notify PERSON --mail digest|immediate|nothing`: how a person is told by mail
//! (what they choose themselves in the web app under Instellingen).

use super::runtime_args::RuntimeArgs;
use super::terminal::say;
use paraaf_runtime::engine::NotifyMode;
use std::process::ExitCode;

/// Arguments of `paraaf notify`.
#[derive(clap::Args)]
pub struct Args {
    /// Person id.
    person: String,
    /// `digest`: one mail a day with new tasks, reminders and returned documents (at the
    /// hour in `[mail] digest_hour`); `immediate`: a mail per event; `nothing`: no mail.
    /// Escalations are mailed at once unless `nothing`.
    #[arg(long, value_parser = ["digest", "immediate", "nothing"])]
    mail: String,
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// Records the person's choice (an event in the log).
pub fn run(args: Args) -> Result<ExitCode, String> {
    let mode = match args.mail.as_str() {
        "immediate" => NotifyMode::Immediate,
        "nothing" => NotifyMode::Nothing,
        _ => NotifyMode::Digest,
    };
    let mut runtime = args.rt.open()?;
    let person = args.person.clone();
    runtime
        .execute(args.rt.now(), move |e| {
            e.choose_notifications(&person, mode)
        })
        .map_err(crate::cli::runtime_args::fail)?;
    say!("{}: mail {}", args.person, args.mail);
    Ok(ExitCode::SUCCESS)
}
