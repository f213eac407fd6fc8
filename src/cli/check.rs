//! `paraaf check`

use super::{Color, Format};
use paraaf_compiler::db::project_diagnostics;
use paraaf_compiler::diagnostics::{Diagnostic, render_json, render_text};
use paraaf_compiler::load::{LoadedProject, load};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf check`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folder (with paraaf.toml) or a single .paraaf file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Treat warnings as errors (`--deny warnings`).
    #[arg(long, value_parser = ["warnings"])]
    deny: Option<String>,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t)]
    color: Color,
}

/// Prints diagnostics in the chosen format.
pub fn print(project: &LoadedProject, diags: &[Diagnostic], format: Format, color: Color) {
    // CI formats name files from the repository root: the project folder as given.
    let prefix = project.root.to_string_lossy();
    match format {
        Format::Json => println!("{}", render_json(diags, |f| project.source(f))),
        Format::Sarif => println!(
            "{}",
            paraaf_compiler::diagnostics::render_sarif(diags, |f| project.source(f), &prefix)
        ),
        Format::Github => print!(
            "{}",
            paraaf_compiler::diagnostics::render_github(diags, |f| project.source(f), &prefix)
        ),
        Format::Text => print!(
            "{}",
            render_text(diags, |f| project.source(f), color.enabled())
        ),
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let mut loose = None;
    let project = match load(&args.path) {
        Ok(p) => p,
        // A lone file: checked on its own, with the P0024 warning that it is in no project.
        Err(paraaf_compiler::load::LoadError::NoConfig(_)) if args.path.is_file() => {
            let (p, warning) =
                paraaf_compiler::load::load_loose(&args.path).map_err(|e| e.to_string())?;
            loose = Some(warning);
            p
        }
        // A machine reading JSON gets the failure as one diagnostic too (docs/json.md).
        Err(e) if args.format == Format::Json => {
            let d = serde_json::json!([{
                "code": null,
                "severity": "error",
                "message": e.to_string(),
                "location": {"file": args.path.display().to_string(), "start": 0, "end": 0, "line": 1, "column": 1},
                "labels": [],
                "help": "give a project folder with a paraaf.toml, or a .paraaf file inside one",
                "fix": null
            }]);
            println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut all: Vec<Diagnostic> = loose.into_iter().collect();
    all.extend(
        project_diagnostics(&project.db, project.project)
            .iter()
            .cloned(),
    );
    let diags = &all[..];
    print(&project, diags, args.format, args.color);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if args.format == Format::Text {
        let files = project.project.files(&project.db).len();
        println!(
            "checked {files} file{} against {}: {errors} error{}, {warnings} warning{}",
            if files == 1 { "" } else { "s" },
            project.project.org(&project.db).name(&project.db),
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
        );
    }
    let fail = errors > 0 || (args.deny.is_some() && warnings > 0);
    Ok(if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
