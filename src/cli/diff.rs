//! `paraaf diff BASE HEAD`: who gains or loses sight or signature with a rule change.

use paraaf_compiler::compile::CompiledProject;
use paraaf_compiler::diagnostics::{
    Finding, render_findings_github, render_findings_sarif, repo_path,
};
use paraaf_runtime::impact::witness::Witnessed;
use paraaf_runtime::impact::{Compared, KindImpact, compare};
use std::collections::{BTreeMap, BTreeSet};
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
    /// (someone new may see a kind shielded before, its `allow` exception is new or
    /// widened, or it is no longer shielded; a new shielded kind is not; `paraaf deploy`
    /// asks `--widen-reason` on the same decision), sight-gained, sight-lost, signer-added,
    /// signer-removed, substitute-changed (who takes over when a holder is away),
    /// escalation-changed (to whom an overdue step goes), refusal-changed (where a
    /// refusal goes).
    #[arg(long, value_delimiter = ',')]
    fail_on: Vec<String>,
    /// Write every change as a scenario of `paraaf test` into DIR, one file per document
    /// kind (`DIR/KIND.toml`), each passing on HEAD and failing on BASE: who may see
    /// (`may_see`/`may_not_see`), who signs (`route`), who substitutes (`absent`), to
    /// whom an overdue step escalates (`wait_at`), where a refusal goes (`refuse_at`,
    /// `status`), a document one side refuses (`status = "refused"`). Each is run on
    /// both sides before it is written; a change no scenario shows that way is listed
    /// as not stated, with why (a new `allow F` exception that no flow uses yet: the
    /// person in F sees nothing more until a flow names F, so no scenario tells the
    /// versions apart). Running it again writes the same files; a file that would
    /// change is refused unless --force.
    #[arg(long, value_name = "DIR")]
    emit_scenarios: Option<PathBuf>,
    /// With --emit-scenarios: replace scenario files that differ.
    #[arg(long, requires = "emit_scenarios")]
    force: bool,
}

/// The compiled project in `dir`; when it has errors, they are printed first in
/// `format` when it is `sarif` or `github` (the error goes to standard error).
fn compiled(dir: &Path, format: &str) -> Result<paraaf_compiler::compile::CompiledProject, String> {
    let loaded = paraaf_compiler::load::load(dir).map_err(|e| e.to_string())?;
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .ok_or_else(|| {
            super::test_cmd::ci_diagnostics(&loaded, format);
            format!(
                "{} has errors; `paraaf check {}` shows them",
                dir.display(),
                dir.display()
            )
        })
}

/// `people` grouped by their unit, with counts and the first few of each ("financien
/// (2): griet-vermeulen, ruben-nowak; aankoop (12): an-peeters, … and 9 more").
fn by_unit(people: &BTreeSet<String>, units: &BTreeMap<String, String>) -> String {
    if people.is_empty() {
        return "—".to_string();
    }
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in people {
        groups
            .entry(units.get(p).map_or("(no unit)", String::as_str))
            .or_default()
            .push(p);
    }
    let mut groups: Vec<(&str, Vec<&str>)> = groups.into_iter().collect();
    groups.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    let shown: Vec<String> = groups
        .iter()
        .take(6)
        .map(|(u, v)| {
            let first: Vec<&str> = v.iter().take(3).copied().collect();
            let more = if v.len() > 3 {
                format!(" and {} more", v.len() - 3)
            } else {
                String::new()
            };
            format!("{u} ({}): {}{more}", v.len(), first.join(", "))
        })
        .collect();
    let rest = groups.len().saturating_sub(6);
    if rest > 0 {
        format!("{}; and {rest} more units", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

/// The unit of each person (their first position's).
fn units_of(project: &CompiledProject) -> BTreeMap<String, String> {
    project
        .organogram
        .people
        .iter()
        .filter_map(|p| {
            let unit = match p.positions.first()? {
                paraaf_compiler::compile::model::OrgPosition::Function { unit, .. } => unit.clone(),
                paraaf_compiler::compile::model::OrgPosition::Mandate { .. } => {
                    "college".to_string()
                }
            };
            Some((p.id.clone(), unit))
        })
        .collect()
}

/// One line per change: the region, what, and for whom.
fn change_lines(k: &KindImpact, units: &BTreeMap<String, String>) -> Vec<(String, String)> {
    k.changes
        .iter()
        .map(|c| {
            let on = if c.region.is_empty() {
                "every document".to_string()
            } else {
                c.region.clone()
            };
            let who = if c.people.is_empty() {
                String::new()
            } else {
                format!("{}: ", by_unit(&c.people, units))
            };
            (c.change.clone(), format!("{on}: {who}{}", c.what))
        })
        .collect()
}

/// The kind's label: new, removed, shielded.
fn label(k: &KindImpact) -> String {
    let mut l = Vec::new();
    match k.status.as_str() {
        "new" => l.push("new kind"),
        "removed" => l.push("removed kind"),
        _ => {}
    }
    if k.shielded {
        l.push("shielded");
    }
    if l.is_empty() {
        String::new()
    } else {
        format!(" ({})", l.join(", "))
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
    (
        "substitute-changed",
        "Someone else takes over a step when its holder is away",
    ),
    (
        "escalation-changed",
        "An overdue step escalates to someone else",
    ),
    ("refusal-changed", "A refusal goes somewhere else"),
];

/// Whether `k` shows a change of kind `what`.
fn kind_hits(k: &KindImpact, what: &str) -> bool {
    k.hits(what)
}

/// The `.paraaf` files under `dir`, relative to it.
fn sources(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let r = rel.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            sources(dir, &r, out);
        } else if r.extension().is_some_and(|x| x == "paraaf") {
            out.push(r);
        }
    }
}

/// The first line of `file` (relative to the project) that differs between the base and
/// the head, if any.
fn first_changed_line(base_dir: &Path, head_dir: &Path, file: &Path) -> Option<usize> {
    let head = std::fs::read_to_string(head_dir.join(file)).ok()?;
    let base = std::fs::read_to_string(base_dir.join(file)).unwrap_or_default();
    let (mut h, mut b) = (head.lines(), base.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (h.next(), b.next()) {
            (None, None) => return None,
            (Some(x), Some(y)) if x == y => continue,
            // Lines removed at the end: the last line of the head.
            (None, Some(_)) => return Some((n - 1).max(1)),
            _ => return Some(n),
        }
    }
}

/// One finding per kind of change in each changed document kind, on the first changed
/// line (of the kind's flow's file when it changed, else of the first changed file),
/// else on the line of the head's flow for the kind (`paraaf.toml` when it has none).
fn findings(
    changed: &[&KindImpact],
    base_dir: &Path,
    head_dir: &Path,
    prefix: &str,
    fail_on: &[String],
    units: &BTreeMap<String, String>,
) -> Result<Vec<Finding>, String> {
    let loaded = paraaf_compiler::load::load(head_dir).map_err(|e| e.to_string())?;
    let index = paraaf_compiler::db::index(&loaded.db, loaded.project);
    let mut files = Vec::new();
    sources(head_dir, Path::new(""), &mut files);
    let place = |kind: &str| -> (String, usize) {
        let flow = index
            .flows
            .values()
            .flatten()
            .find(|f| f.def.kind.text == kind);
        let flow_file = flow.map(|f| PathBuf::from(&f.file));
        let changed = flow_file
            .iter()
            .chain(files.iter())
            .find_map(|f| Some((f.clone(), first_changed_line(base_dir, head_dir, f)?)));
        if let Some((file, line)) = changed {
            return (repo_path(prefix, &file.to_string_lossy()), line);
        }
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
        let lines = change_lines(k, units);
        for (rule, _) in CHANGE_RULES {
            if !kind_hits(k, rule) {
                continue;
            }
            let rule_of = if *rule == "shielded-widened" {
                "sight-gained"
            } else {
                rule
            };
            let mut message = format!("{}{}", k.kind, label(k));
            if *rule == "shielded-widened"
                && let Some(f) = &k.allow_widened
            {
                message.push_str(&format!(
                    "\nthe person in `{f}` may now be admitted (a new or widened `allow {f}`)"
                ));
            }
            if *rule == "shielded-widened" && k.shield_dropped {
                message.push_str("\nthe kind is no longer shielded");
            }
            let mine: Vec<&String> = lines
                .iter()
                .filter(|(r, _)| r == rule_of)
                .map(|(_, l)| l)
                .collect();
            for l in mine.iter().take(8) {
                message.push_str(&format!("\n{l}"));
            }
            if mine.len() > 8 {
                message.push_str(&format!("\n… and {} more changes", mine.len() - 8));
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
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let why = if why.is_empty() {
                format!(
                    "this repository has no commit `{rev}`.\nhelp: a shallow clone has only \
                     the commit it checked out: fetch the base first (`git fetch --no-tags \
                     origin +refs/heads/main:refs/remotes/origin/main` for a base branch \
                     `main`), or check out with `fetch-depth: 0` (see docs/ci.md)"
                )
            } else {
                why
            };
            return Err(format!(
                "{arg} is neither a folder nor a git revision: {why}"
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
    let base = compiled(&base_dir, &args.format)?;
    let head = compiled(&head_dir, &args.format)?;
    let Compared { kinds, witnessed } = compare(&base, &head);
    let mut units = units_of(&base);
    units.extend(units_of(&head));
    let changed: Vec<&KindImpact> = kinds.iter().filter(|k| k.changed()).collect();
    match args.format.as_str() {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&kinds).map_err(|e| e.to_string())?
        ),
        "github" | "sarif" => {
            let findings = findings(
                &changed,
                &base_dir,
                &head_dir,
                &head_path,
                &args.fail_on,
                &units,
            )?;
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
                for k in &changed {
                    println!("#### {}{}\n", k.kind, label(k));
                    if let Some(f) = &k.allow_widened {
                        println!(
                            "- **shielded-widened**: a new or widened `allow {f}`: the person in `{f}` may be admitted"
                        );
                    }
                    if k.shield_dropped {
                        println!("- **shielded-widened**: the kind is no longer shielded");
                    }
                    for (rule, line) in change_lines(k, &units) {
                        println!("- **{rule}** {line}");
                    }
                    println!();
                }
            }
        }
        _ => {
            for k in &kinds {
                let how = if k.exhaustive {
                    "every combination of regions"
                } else {
                    "every pair of fields' regions"
                };
                if k.identical {
                    println!(
                        "{:<24} unchanged (the same declaration, flows, groups, substitutes and organogram)",
                        k.kind
                    );
                    continue;
                }
                if !k.changed() {
                    println!(
                        "{:<24} unchanged ({} documents compared, {how})",
                        k.kind, k.cases
                    );
                    continue;
                }
                println!(
                    "{}{} changed ({} documents compared, {how})",
                    k.kind,
                    label(k),
                    k.cases
                );
                if let Some(f) = &k.allow_widened {
                    println!(
                        "  shielded-widened: a new or widened `allow {f}`: the person in `{f}` may be admitted"
                    );
                }
                if k.shield_dropped {
                    println!("  shielded-widened: the kind is no longer shielded");
                }
                for (rule, line) in change_lines(k, &units) {
                    println!("  {rule}: {line}");
                }
            }
        }
    }
    if let Some(dir) = &args.emit_scenarios {
        let source = format!("paraaf diff {} {}", args.base, args.head);
        emit_scenarios(&base, &head, &witnessed, &changed, dir, args.force, &source)?;
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

/// `--emit-scenarios DIR`: the changes of `changed` as scenario files in `dir` (the
/// files listed on standard error, so the report on standard output stays as asked);
/// nothing is written when a file there would change, unless `force`. `found`: the
/// documents behind each change, from the comparison the report reads.
fn emit_scenarios(
    base: &CompiledProject,
    head: &CompiledProject,
    found: &BTreeMap<String, Vec<Witnessed>>,
    changed: &[&KindImpact],
    dir: &Path,
    force: bool,
    source: &str,
) -> Result<(), String> {
    use paraaf_runtime::scenarios::{NotStated, emit};
    let (files, mut missing) = emit(base, head, found, source);
    for k in changed {
        if let Some(f) = &k.allow_widened
            && !found.contains_key(&k.kind)
        {
            missing.push(NotStated {
                kind: k.kind.clone(),
                change: format!("shielded-widened: a new or widened `allow {f}`"),
                why: format!(
                    "the exception lets the person in `{f}` see the file only where a flow names the field (`visible to {f}`, `sign {f}`); in no document the comparison made does someone outside the group see it yet, so no scenario can tell the two versions apart: the widening is on paper until a flow names `{f}` (then it is a sight-gained change, stated as that person's may_see)"
                ),
            });
        }
    }
    let differs: Vec<String> = files
        .iter()
        .map(|f| dir.join(&f.file))
        .zip(&files)
        .filter(|(p, f)| p.exists() && std::fs::read_to_string(p).ok().as_deref() != Some(&f.text))
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !differs.is_empty() && !force {
        return Err(format!(
            "--emit-scenarios: {} exist{} with other scenarios; nothing was written (give --force to replace them)",
            differs.join(", "),
            if differs.len() == 1 { "s" } else { "" }
        ));
    }
    if !files.is_empty() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    }
    for f in &files {
        let path = dir.join(&f.file);
        let same = std::fs::read_to_string(&path).ok().as_deref() == Some(&f.text);
        if !same {
            std::fs::write(&path, &f.text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        eprintln!(
            "{} {} ({} scenario{})",
            if same { "unchanged" } else { "wrote" },
            path.display(),
            f.scenarios,
            if f.scenarios == 1 { "" } else { "s" }
        );
    }
    if files.is_empty() && missing.is_empty() {
        eprintln!("no change to write as a scenario");
    }
    for m in &missing {
        eprintln!(
            "not stated as a scenario ({}): {}: {}",
            m.kind, m.change, m.why
        );
    }
    Ok(())
}
