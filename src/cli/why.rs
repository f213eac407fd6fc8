//! `paraaf why`: the reasons behind a visibility or signing decision.

use super::runtime_args::RuntimeArgs;
use super::terminal::say;
use std::process::ExitCode;

/// Arguments of `paraaf why`.
#[derive(clap::Args)]
pub struct Args {
    /// The document.
    doc: String,
    /// The person asked about.
    #[arg(long = "as")]
    person: String,
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// Why may PERSON see DOC (or not), and why are they asked to sign it — from the same
/// decision code every read and routing uses.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = args.rt.open()?;
    let state = runtime.state();
    let (ok, reasons) = paraaf_runtime::visibility::why_may_see(state, &args.person, &args.doc);
    say!(
        "{} {} see {}:",
        args.person,
        if ok { "may" } else { "may not" },
        args.doc
    );
    for r in &reasons {
        say!("  - {r}");
    }
    // Only someone who may see the document learns about its tasks.
    if ok {
        let asked = paraaf_runtime::visibility::why_asked(state, &args.person, &args.doc);
        let now = paraaf_runtime::visibility::asked_now(state, &args.person, &args.doc);
        if asked.is_empty() {
            say!("{} is not asked to sign {}", args.person, args.doc);
        } else {
            if now {
                say!("{} is asked to sign {}:", args.person, args.doc);
            } else {
                say!(
                    "{} is not asked to sign {} now; their tasks:",
                    args.person,
                    args.doc
                );
            }
            for a in asked {
                say!("  - {a}");
            }
        }
    }
    // Tasks they were taken off (their own: they were asked, so they know the file).
    if let Some(d) = state.documents.get(&args.doc) {
        let trust = runtime.history_trust();
        let reads = paraaf_runtime::reads::Reads::open(&args.rt.address()?)
            .map_err(super::runtime_args::fail)?;
        let events: Vec<_> =
            paraaf_runtime::trusted_history::read_events(&reads, &d.events, &trust)
                .map_err(super::runtime_args::fail)?
                .into_iter()
                .map(|(_, _, e)| e)
                .collect();
        let before =
            paraaf_runtime::visibility::asked_before(state, &events, &args.person, &args.doc);
        if !before.is_empty() {
            say!("{} was asked before:", args.person);
            for b in before {
                say!("  - {b}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
