//! `paraaf org ...`

use paraaf_compiler::org::import_csv;
use std::path::PathBuf;
use std::process::ExitCode;

/// Organogram subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Turn HR's spreadsheet (CSV, one row per person and position) into an organogram TOML.
    ///
    /// Columns: id, name, email, department, service, team, function, mandate.
    /// Units come from department → service → team; a row has a function or a mandate.
    ///
    /// Example: paraaf org import people.csv -o org.toml --city Aalst
    Import {
        /// The CSV file.
        csv: PathBuf,
        /// Where to write the organogram (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// City name written into the organogram.
        #[arg(long, default_value = "")]
        city: String,
    },
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::Import { csv, output, city } => {
            let bytes =
                std::fs::read(&csv).map_err(|e| format!("cannot read {}: {e}", csv.display()))?;
            let (text, encoding) = paraaf_compiler::encoding::decode(&bytes);
            if let Some(enc) = encoding {
                eprintln!("{}: read as {enc}", csv.display());
            }
            match import_csv(&city, &text) {
                Ok(imported) => {
                    for w in &imported.warnings {
                        eprintln!("warning: {}:{}: {}", csv.display(), w.line, w.message);
                    }
                    let toml = imported.toml;
                    match output {
                        Some(path) => {
                            std::fs::write(&path, toml)
                                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                            eprintln!("wrote {}", path.display());
                        }
                        None => print!("{toml}"),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{}: {}", csv.display(), e.line, e.message);
                    }
                    eprintln!(
                        "error: {} bad row{}; nothing was written",
                        errors.len(),
                        if errors.len() == 1 { "" } else { "s" }
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
