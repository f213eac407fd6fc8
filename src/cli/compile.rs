//! `paraaf compile`

use super::{Color, Format};
use paraaf_compiler::db::project_diagnostics;
use paraaf_compiler::load::load;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf compile`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folder (with paraaf.toml).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Where to write the compiled JSON (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Format of diagnostics, if there are any.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t)]
    color: Color,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let project = load(&args.path).map_err(|e| e.to_string())?;
    let diags = project_diagnostics(&project.db, project.project);
    let Some(out) = project.compiled() else {
        super::check::print(&project, diags, args.format, args.color);
        eprintln!("error: the project has errors; nothing was written");
        return Ok(ExitCode::from(1));
    };
    if !diags.is_empty() {
        // Warnings go to stderr so that stdout stays valid JSON.
        eprint!(
            "{}",
            paraaf_compiler::diagnostics::render_text(diags, |f| project.source(f), false)
        );
    }
    let json = serde_json::to_string_pretty(&out).map_err(|e| format!("cannot serialise: {e}"))?;
    match &args.output {
        Some(path) => {
            // Write to a temporary file and rename, so a crash never leaves half a file.
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, json + "\n")
                .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "compiled {} flows and {} rules to {}",
                out.flows.len(),
                out.rules.len(),
                path.display()
            );
        }
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}
