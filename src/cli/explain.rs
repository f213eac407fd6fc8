//! `paraaf explain`

use paraaf_compiler::diagnostics::Code;
use std::process::ExitCode;

/// Arguments of `paraaf explain`.
#[derive(clap::Args)]
pub struct Args {
    /// A code like P0011. Without it, every code is listed.
    code: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    match args.code {
        None => {
            for c in Code::ALL {
                println!(
                    "{}  {:<7}  {}",
                    c,
                    format!("{:?}", c.severity()).to_lowercase(),
                    c.title()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(text) => match Code::parse(&text) {
            Some(c) => {
                print!("{}", c.doc());
                Ok(ExitCode::SUCCESS)
            }
            None => Err(format!(
                "`{text}` is not a Paraaf diagnostic code; run `paraaf explain` for the list"
            )),
        },
    }
}
