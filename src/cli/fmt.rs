//! `paraaf fmt`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `paraaf fmt`.
#[derive(clap::Args)]
pub struct Args {
    /// Files or folders (every .paraaf below them). Default: the current folder.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if any.
    #[arg(long)]
    check: bool,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if p.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
            collect(&p, out)?;
        } else if name.ends_with(".paraaf") {
            out.push(p);
        }
    }
    Ok(())
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let mut files = Vec::new();
    for p in &args.paths {
        if !p.exists() {
            return Err(format!("{} does not exist", p.display()));
        }
        collect(p, &mut files)?;
    }
    files.sort();
    let mut changed = 0;
    for f in &files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let formatted = paraaf_compiler::syntax::format(&text);
        if formatted == text {
            continue;
        }
        changed += 1;
        if args.check {
            println!("would reformat {}", f.display());
        } else {
            std::fs::write(f, formatted)
                .map_err(|e| format!("cannot write {}: {e}", f.display()))?;
            println!("formatted {}", f.display());
        }
    }
    if args.check && changed > 0 {
        return Ok(ExitCode::from(1));
    }
    if changed == 0 {
        eprintln!(
            "{} file{} already formatted",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
