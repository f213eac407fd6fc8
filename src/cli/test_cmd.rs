//! `paraaf test`: scenario tests of a project's flows.

use paraaf_runtime::scenarios::{self, ScenarioFile};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf test`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder; its scenarios are `tests/*.toml` there.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Also list the flows and steps no scenario reached.
    #[arg(long)]
    coverage: bool,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let loaded = paraaf_compiler::load::load(&args.path).map_err(|e| e.to_string())?;
    let Some(project) = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone() else {
        return Err(format!(
            "{} has errors; `paraaf check {}` shows them",
            args.path.display(),
            args.path.display()
        ));
    };
    let dir = loaded.root.join("tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("no scenarios: cannot read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut outcomes = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let file: ScenarioFile = toml::from_str(&text)
            .map_err(|e| format!("{} is not a scenario file: {}", f.display(), e.message()))?;
        println!(
            "running {} scenarios from {}",
            file.scenarios.len(),
            f.display()
        );
        for s in &file.scenarios {
            let o = scenarios::run(&project, s);
            if o.failures.is_empty() {
                passed += 1;
                println!("test {} ... ok", o.name);
            } else {
                failed += 1;
                println!("test {} ... FAILED", o.name);
                for why in &o.failures {
                    println!("    {why}");
                }
            }
            outcomes.push(o);
        }
    }
    if args.coverage {
        let missing = scenarios::not_reached(&project, &outcomes);
        if missing.is_empty() {
            println!("coverage: every flow and step is reached by a scenario");
        } else {
            println!("coverage: not reached by any scenario:");
            for m in missing {
                println!("  {m}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
