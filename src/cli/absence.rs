//! `paraaf absence ...`

use super::runtime_args::RuntimeArgs;
use chrono::NaiveDate;
use std::process::ExitCode;

/// Absence subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Record an absence (inclusive dates); open tasks move to substitutes.
    ///
    /// Example: paraaf absence add jan-peeters --from 2026-07-01 --to 2026-07-31
    Add {
        /// Person id.
        person: String,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: NaiveDate,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Withdraw an absence; tasks still open go back to the holder.
    Withdraw {
        /// Absence id (printed by `absence add`).
        id: String,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    let (rt, result) = match cmd {
        Command::Add {
            person,
            from,
            to,
            rt,
        } => {
            let mut runtime = rt.open()?;
            let r = runtime.execute(rt.now(), |e| e.add_absence(&person, from, to));
            (rt, r)
        }
        Command::Withdraw { id, rt } => {
            let mut runtime = rt.open()?;
            let r = runtime.execute(rt.now(), |e| e.withdraw_absence(&id).map(|()| id.clone()));
            (rt, r)
        }
    };
    let _ = rt;
    match result {
        Ok(id) => {
            println!("{id}");
            Ok(ExitCode::SUCCESS)
        }
        Err(paraaf_runtime::engine::RuntimeError::Storage(m)) => Err(m),
        Err(
            e @ (paraaf_runtime::engine::RuntimeError::Tampered(_)
            | paraaf_runtime::engine::RuntimeError::Locked(_)),
        ) => Err(crate::cli::runtime_args::fail(e)),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
