//! `paraaf deploy`

use super::runtime_args::RuntimeArgs;
use paraaf_compiler::compile::CompiledProject;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf deploy`.
#[derive(clap::Args)]
pub struct Args {
    /// A project folder (compiled now) or a compiled .json file.
    path: PathBuf,
    #[command(flatten)]
    rt: RuntimeArgs,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let project: CompiledProject = if args.path.is_file()
        && args.path.extension().is_some_and(|e| e == "json")
    {
        let text = std::fs::read_to_string(&args.path)
            .map_err(|e| format!("cannot read {}: {e}", args.path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a compiled Paraaf project: {e}",
                args.path.display()
            )
        })?
    } else {
        let loaded = paraaf_compiler::load::load(&args.path).map_err(|e| e.to_string())?;
        match paraaf_compiler::db::compiled(&loaded.db, loaded.project) {
            Some(p) => p.clone(),
            None => {
                let diags = paraaf_compiler::db::project_diagnostics(&loaded.db, loaded.project);
                print!(
                    "{}",
                    paraaf_compiler::diagnostics::render_text(diags, |f| loaded.source(f), false)
                );
                eprintln!("error: the project has errors; nothing was deployed");
                return Ok(ExitCode::from(1));
            }
        }
    };
    // The runtime refuses it too; here the administrator gets the list and exit 1.
    let org = paraaf_runtime::org::OrgIndex::new(&project.organogram);
    let violations = paraaf_compiler::compile::shield::verify(&project, &org);
    if !violations.is_empty() {
        for v in &violations {
            println!("shielding: {v}");
        }
        eprintln!(
            "error: the compiled project breaks its shielding ({} problems); nothing was deployed",
            violations.len()
        );
        return Ok(ExitCode::from(1));
    }
    let mut rt = args.rt.open()?;
    let flows = project.flows.len();
    let version = rt
        .execute(args.rt.now(), |e| e.deploy(project))
        .map_err(crate::cli::runtime_args::fail)?;
    println!(
        "deployed version {version} ({flows} flows) to {}",
        args.rt.db.display()
    );
    Ok(ExitCode::SUCCESS)
}
