//! `paraaf inbox`

use super::runtime_args::RuntimeArgs;
use super::terminal::say;
use std::process::ExitCode;

/// Arguments of `paraaf inbox`.
#[derive(clap::Args)]
pub struct Args {
    /// Person id.
    person: String,
    #[command(flatten)]
    rt: RuntimeArgs,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = args.rt.open()?;
    let items = paraaf_runtime::visibility::inbox(runtime.state(), &args.person);
    if items.is_empty() {
        say!("nothing to sign for {}", args.person);
    }
    for i in items {
        match i.on_behalf_of {
            Some(f) => say!("{}\t{}\tas {} (for {f})", i.doc.id, i.doc.title, i.role),
            None => say!("{}\t{}\tas {}", i.doc.id, i.doc.title, i.role),
        }
    }
    Ok(ExitCode::SUCCESS)
}
