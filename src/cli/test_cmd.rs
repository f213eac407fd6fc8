//! `paraaf test`: scenario tests of a project's flows.

use paraaf_compiler::diagnostics::{Finding, render_findings_github, render_findings_sarif};
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
    /// `text`, `json` (one object: scenarios, not_reached, passed, failed), `github` (an
    /// `::error` annotation on the scenario's line for each failure) or `sarif` (each
    /// failure a result of rule `scenario-failed`).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "github", "sarif"])]
    format: String,
}

/// For `--format sarif` or `github`: the project's diagnostics on standard output in
/// that format, so a CI job that reads the report sees why the project does not compile
/// (the error itself goes to standard error as in every format).
pub(super) fn ci_diagnostics(loaded: &paraaf_compiler::load::LoadedProject, format: &str) {
    let format = match format {
        "sarif" => super::Format::Sarif,
        "github" => super::Format::Github,
        _ => return,
    };
    let diags = paraaf_compiler::db::project_diagnostics(&loaded.db, loaded.project);
    super::check::print(loaded, diags, format, super::Color::Never);
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let loaded = paraaf_compiler::load::load(&args.path).map_err(|e| e.to_string())?;
    let Some(project) = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone() else {
        ci_diagnostics(&loaded, &args.format);
        return Err(format!(
            "{} has errors; `paraaf check {}` shows them",
            args.path.display(),
            args.path.display()
        ));
    };
    let files = scenarios::files(&loaded.root).map_err(|e| {
        format!(
            "no scenarios: cannot read {}: {e}",
            loaded.root.join("tests").display()
        )
    })?;
    let mut outcomes = Vec::new();
    let mut results: Vec<serde_json::Value> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let plain = args.format == "text";
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let file: ScenarioFile = toml::from_str(&text)
            .map_err(|e| format!("{} is not a scenario file: {}", f.display(), e.message()))?;
        if plain {
            println!(
                "running {} scenarios from {}",
                file.scenarios.len(),
                f.display()
            );
        }
        for s in &file.scenarios {
            let o = scenarios::run(&project, s);
            let ok = o.failures.is_empty();
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
            match args.format.as_str() {
                "json" => results.push(serde_json::json!({
                    "file": f.display().to_string(),
                    "name": o.name,
                    "passed": ok,
                    "failures": o.failures,
                })),
                "github" | "sarif" => {
                    if !ok {
                        findings.push(Finding {
                            rule: "scenario-failed".into(),
                            level: "error",
                            title: format!("scenario failed: {}", o.name),
                            message: o.failures.join("\n"),
                            file: f.display().to_string(),
                            line: line_of(&text, &o.name),
                        });
                    }
                }
                _ if ok => println!("test {} ... ok", o.name),
                _ => {
                    println!("test {} ... FAILED", o.name);
                    for why in &o.failures {
                        println!("    {why}");
                    }
                }
            }
            outcomes.push(o);
        }
    }
    match args.format.as_str() {
        "github" => print!("{}", render_findings_github(&findings)),
        "sarif" => println!(
            "{}",
            render_findings_sarif(
                "paraaf test",
                &[(
                    "scenario-failed",
                    "A scenario of the project's flows does not hold"
                )],
                &findings
            )
        ),
        _ => {}
    }
    if args.format == "json" {
        let missing = scenarios::not_reached(&project, &outcomes);
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "scenarios": results,
                "not_reached": missing,
                "passed": passed,
                "failed": failed,
            }))
            .unwrap_or_default()
        );
    } else if args.coverage && plain {
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
    if plain {
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The 1-based line of the scenario named `name` in its file (1 when not found).
fn line_of(text: &str, name: &str) -> usize {
    let needle = format!("name = {}", toml::Value::String(name.to_string()));
    text.lines()
        .position(|l| l.trim() == needle)
        .map_or(1, |i| i + 1)
}
