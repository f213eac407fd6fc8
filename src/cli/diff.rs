//! `paraaf diff BASE HEAD`: who gains or loses sight or signature with a rule change.

use paraaf_runtime::impact::{KindImpact, impact};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `paraaf diff`.
#[derive(clap::Args)]
pub struct Args {
    /// The project before (a folder).
    base: PathBuf,
    /// The project after (a folder).
    head: PathBuf,
    /// `text`, `json` or `markdown` (a pull-request comment).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
    /// Exit 1 when a change of these kinds happens (comma-separated): shielded-widened
    /// (someone new may see a shielded kind), sight-gained, sight-lost, signer-added,
    /// signer-removed.
    #[arg(long, value_delimiter = ',')]
    fail_on: Vec<String>,
}

fn compiled(dir: &Path) -> Result<paraaf_compiler::compile::CompiledProject, String> {
    let loaded = paraaf_compiler::load::load(dir).map_err(|e| e.to_string())?;
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .ok_or_else(|| {
            format!(
                "{} has errors; `paraaf check {}` shows them",
                dir.display(),
                dir.display()
            )
        })
}

fn list(s: &std::collections::BTreeSet<String>) -> String {
    if s.is_empty() {
        "—".to_string()
    } else {
        s.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    const KNOWN: &[&str] = &[
        "shielded-widened",
        "sight-gained",
        "sight-lost",
        "signer-added",
        "signer-removed",
    ];
    if let Some(bad) = args.fail_on.iter().find(|f| !KNOWN.contains(&f.as_str())) {
        return Err(format!("--fail-on {bad}: choose from {}", KNOWN.join(", ")));
    }
    let base = compiled(&args.base)?;
    let head = compiled(&args.head)?;
    let kinds = impact(&base, &head);
    let changed: Vec<&KindImpact> = kinds.iter().filter(|k| k.changed()).collect();
    match args.format.as_str() {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&kinds).map_err(|e| e.to_string())?
        ),
        "markdown" => {
            println!("### Paraaf: who gains or loses sight or signature\n");
            if changed.is_empty() {
                println!(
                    "No document kind changes for anyone ({} kinds compared).",
                    kinds.len()
                );
            } else {
                println!(
                    "| kind | may now see | may no longer see | now signs | no longer signs |"
                );
                println!("|---|---|---|---|---|");
                for k in &changed {
                    println!(
                        "| {}{} | {} | {} | {} | {} |",
                        k.kind,
                        if k.shielded { " 🔒 **shielded**" } else { "" },
                        list(&k.sight_gained),
                        list(&k.sight_lost),
                        list(&k.signers_added),
                        list(&k.signers_removed)
                    );
                }
                println!();
                for k in &changed {
                    for e in &k.examples {
                        println!("- {e}");
                    }
                }
            }
        }
        _ => {
            for k in &kinds {
                if !k.changed() {
                    println!("{:<24} unchanged ({} documents compared)", k.kind, k.cases);
                    continue;
                }
                println!(
                    "{:<24} {}changed ({} documents compared)",
                    k.kind,
                    if k.shielded { "SHIELDED, " } else { "" },
                    k.cases
                );
                println!("  may now see:        {}", list(&k.sight_gained));
                println!("  may no longer see:  {}", list(&k.sight_lost));
                println!("  now signs:          {}", list(&k.signers_added));
                println!("  no longer signs:    {}", list(&k.signers_removed));
                for e in &k.examples {
                    println!("  e.g. {e}");
                }
            }
        }
    }
    let hit = |what: &str| -> bool {
        changed.iter().any(|k| match what {
            "shielded-widened" => k.shielded && !k.sight_gained.is_empty(),
            "sight-gained" => !k.sight_gained.is_empty(),
            "sight-lost" => !k.sight_lost.is_empty(),
            "signer-added" => !k.signers_added.is_empty(),
            "signer-removed" => !k.signers_removed.is_empty(),
            _ => false,
        })
    };
    let failed: Vec<&String> = args.fail_on.iter().filter(|f| hit(f)).collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: the change is refused by --fail-on: {}",
            failed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(ExitCode::from(1))
    }
}
