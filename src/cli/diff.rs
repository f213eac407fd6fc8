//! `paraaf diff BASE HEAD`: who gains or loses sight or signature with a rule change.

use paraaf_compiler::diagnostics::{
    Finding, render_findings_github, render_findings_sarif, repo_path,
};
use paraaf_runtime::impact::{KindImpact, impact};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `paraaf diff`.
#[derive(clap::Args)]
pub struct Args {
    /// The project before: a folder, a git revision `REV:PATH` (PATH relative to the
    /// current folder, as in `git show REV:./PATH`), or a bare revision `REV` (the project
    /// at the other side's path, or at `--project`).
    base: String,
    /// The project after, written the same way (e.g. a folder, or `HEAD`).
    head: String,
    /// The project's folder when both sides are bare revisions (`paraaf diff main HEAD`).
    #[arg(long, default_value = ".")]
    project: PathBuf,
    /// `text`, `json`, `markdown` (a pull-request comment), `github` (an annotation on the
    /// flow of each changed kind: error when `--fail-on` refuses it, else notice) or `sarif`.
    #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown", "github", "sarif"])]
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

/// The kinds of change, as `--fail-on` names them and SARIF rules.
const CHANGE_RULES: &[(&str, &str)] = &[
    (
        "shielded-widened",
        "Someone new may see documents of a shielded kind",
    ),
    (
        "sight-gained",
        "Someone may now see documents they could not see before",
    ),
    (
        "sight-lost",
        "Someone may no longer see documents they could see before",
    ),
    (
        "signer-added",
        "Someone is now asked to sign documents they did not sign before",
    ),
    (
        "signer-removed",
        "Someone is no longer asked to sign documents they signed before",
    ),
];

/// Whether `k` shows a change of kind `what`.
fn kind_hits(k: &KindImpact, what: &str) -> bool {
    match what {
        "shielded-widened" => k.shielded && !k.sight_gained.is_empty(),
        "sight-gained" => !k.sight_gained.is_empty(),
        "sight-lost" => !k.sight_lost.is_empty(),
        "signer-added" => !k.signers_added.is_empty(),
        "signer-removed" => !k.signers_removed.is_empty(),
        _ => false,
    }
}

/// One finding per kind of change in each changed document kind, on the line of the
/// head's flow for that kind (`paraaf.toml` when the kind has no flow any more).
fn findings(
    changed: &[&KindImpact],
    head_dir: &Path,
    prefix: &str,
    fail_on: &[String],
) -> Result<Vec<Finding>, String> {
    let loaded = paraaf_compiler::load::load(head_dir).map_err(|e| e.to_string())?;
    let index = paraaf_compiler::db::index(&loaded.db, loaded.project);
    let place = |kind: &str| -> (String, usize) {
        let flow = index
            .flows
            .values()
            .flatten()
            .find(|f| f.def.kind.text == kind);
        match flow {
            Some(f) => {
                let line = loaded.source(&f.file).map_or(1, |t| {
                    t[..f.def.name.span.start.min(t.len())]
                        .matches('\n')
                        .count()
                        + 1
                });
                (repo_path(prefix, &f.file), line)
            }
            None => (repo_path(prefix, "paraaf.toml"), 1),
        }
    };
    let mut out = Vec::new();
    for k in changed {
        let (file, line) = place(&k.kind);
        for (rule, _) in CHANGE_RULES {
            if !kind_hits(k, rule) {
                continue;
            }
            let who = match *rule {
                "shielded-widened" | "sight-gained" => &k.sight_gained,
                "sight-lost" => &k.sight_lost,
                "signer-added" => &k.signers_added,
                _ => &k.signers_removed,
            };
            let mut message = format!("{}: {}", k.kind, list(who));
            for e in &k.examples {
                message.push_str(&format!("\ne.g. {e}"));
            }
            out.push(Finding {
                rule: (*rule).to_string(),
                level: if fail_on.iter().any(|f| f == rule) {
                    "error"
                } else {
                    "note"
                },
                title: format!("{rule} ({})", k.kind),
                message,
                file: file.clone(),
                line,
            });
        }
    }
    Ok(out)
}

/// The folder of one side: itself when it is a folder, else the project unpacked from
/// a git revision into a temporary folder (kept alive by the returned guard); and the
/// project's path as the repository's files are named (for annotations).
fn side(
    arg: &str,
    other: &str,
    project: &Path,
) -> Result<(PathBuf, Option<tempfile::TempDir>, String), String> {
    if Path::new(arg).is_dir() {
        return Ok((
            PathBuf::from(arg),
            None,
            arg.trim_end_matches('/').to_string(),
        ));
    }
    let (rev, path) = match arg.split_once(':') {
        Some((rev, path)) => (rev.to_string(), PathBuf::from(path)),
        None if Path::new(other).is_dir() => (arg.to_string(), PathBuf::from(other)),
        None => (arg.to_string(), project.to_path_buf()),
    };
    let git = |args: &[&str]| -> Result<String, String> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .map_err(|e| format!("{arg} is not a folder, and git cannot run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{arg} is neither a folder nor a git revision: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    };
    // The path inside the repository: the current folder's place in it, then PATH.
    let here = git(&["rev-parse", "--show-prefix"])?;
    let inside = Path::new(&here).join(&path);
    let inside = inside.to_string_lossy().trim_end_matches('/').to_string();
    let inside = if inside.is_empty() {
        ".".to_string()
    } else {
        inside
    };
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?;
    let tmp = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let root = git(&["rev-parse", "--show-toplevel"])?;
    let archive = std::process::Command::new("git")
        .args(["-C", &root, "archive", "--format=tar", &rev, "--", &inside])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("git archive: {e}"))?;
    let status = std::process::Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(tmp.path())
        .stdin(archive.stdout.ok_or("git archive gave no output")?)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    let dir = tmp.path().join(&inside);
    if !status.success() || !dir.is_dir() {
        return Err(format!("{rev} has no folder {inside}"));
    }
    Ok((dir, Some(tmp), inside))
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    if let Some(bad) = args
        .fail_on
        .iter()
        .find(|f| !CHANGE_RULES.iter().any(|(id, _)| id == f))
    {
        let known: Vec<&str> = CHANGE_RULES.iter().map(|(id, _)| *id).collect();
        return Err(format!("--fail-on {bad}: choose from {}", known.join(", ")));
    }
    let (base_dir, _base_tmp, _) = side(&args.base, &args.head, &args.project)?;
    let (head_dir, _head_tmp, head_path) = side(&args.head, &args.base, &args.project)?;
    let base = compiled(&base_dir)?;
    let head = compiled(&head_dir)?;
    let kinds = impact(&base, &head);
    let changed: Vec<&KindImpact> = kinds.iter().filter(|k| k.changed()).collect();
    match args.format.as_str() {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&kinds).map_err(|e| e.to_string())?
        ),
        "github" | "sarif" => {
            let findings = findings(&changed, &head_dir, &head_path, &args.fail_on)?;
            if args.format == "github" {
                print!("{}", render_findings_github(&findings));
            } else {
                println!(
                    "{}",
                    render_findings_sarif("paraaf diff", CHANGE_RULES, &findings)
                );
            }
        }
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
    let hit = |what: &str| changed.iter().any(|k| kind_hits(k, what));
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
