//! `paraaf inbox`

use super::runtime_args::RuntimeArgs;
use paraaf_runtime::engine::{Status, TaskStatus};
use paraaf_runtime::visibility::may_see;
use std::process::ExitCode;

/// Arguments of `paraaf inbox`.
#[derive(clap::Args)]
pub struct Args {
    /// Person id.
    person: String,
    #[command(flatten)]
    rt: RuntimeArgs,
}

/// Open tasks of `person`: (document id, title, role, on behalf of).
pub fn inbox(
    state: &paraaf_runtime::engine::State,
    person: &str,
) -> Vec<(String, String, String, Option<String>)> {
    let mut out = Vec::new();
    for d in state
        .documents
        .values()
        .filter(|d| d.status == Status::InProgress)
    {
        for t in d.tasks.iter().filter(|t| {
            t.status == TaskStatus::Open && t.spec.assignees.iter().any(|a| a == person)
        }) {
            if may_see(state, person, &d.id) {
                let for_whom = (!t.spec.holders.iter().any(|h| h == person))
                    .then(|| t.spec.holders.join(", "));
                out.push((d.id.clone(), d.title.clone(), t.spec.role.clone(), for_whom));
            }
        }
    }
    out
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = args.rt.open()?;
    let items = inbox(runtime.state(), &args.person);
    if items.is_empty() {
        println!("nothing to sign for {}", args.person);
    }
    for (id, title, role, for_whom) in items {
        match for_whom {
            Some(f) => println!("{id}\t{title}\tas {role} (for {f})"),
            None => println!("{id}\t{title}\tas {role}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
