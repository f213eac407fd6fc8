//! `paraaf org ...`

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
        /// The organogram in force (default: OUTPUT, when it exists). Every HR key keeps
        /// the id it has there; newcomers get ids nobody ever had (a namesake of someone
        /// who left gets `jan-cools-2`); people who left go under [retired].
        #[arg(long)]
        previous: Option<PathBuf>,
    },
    /// What changed between two organograms (TOML, or HR's CSV): units, functions,
    /// mandates and people added, removed, renamed (same name or members under a new id)
    /// and moved; holders changed; and, with --project, every place in the flows that
    /// names something removed or renamed.
    ///
    /// Example: paraaf org diff examples/aalst/org.toml new-org.toml --project examples/aalst
    ///
    /// Deployed versions: paraaf org diff @1 @current --db city.db; what a new export does
    /// to the documents in flight: paraaf org diff @current new-org.toml --tasks --db city.db
    Diff {
        /// The organogram before: a file, or `@N` / `@current` for a version deployed in
        /// the database (`--db`).
        old: String,
        /// The organogram after: a file, or `@N` / `@current`.
        new: String,
        /// A project whose flows to check against the change.
        #[arg(long)]
        project: Option<PathBuf>,
        /// Also list the open tasks in the database that deploying NEW would move, leave
        /// without a signer or relabel (a dry run of `org deploy`; nothing changes).
        #[arg(long)]
        tasks: bool,
        /// With --tasks: the migration plan the deploy would use (as `org deploy
        /// --plan`; without it, no renames, as `org deploy` without a plan).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// `text` or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[command(flatten)]
        rt: super::runtime_args::RuntimeArgs,
    },
    /// Put a new organogram in force in the runtime (an HR export, a restructure) without
    /// redeploying the flows: every routing decision, substitute and read uses it from
    /// now on, for documents of every flow version. Refused when the deployed flows name
    /// something it lacks (unless --force, which lists it). Open tasks whose signers
    /// change are moved, one audited event each (shield proven again); the absences of
    /// people who left end. `--dry-run` lists every move and changes nothing.
    ///
    /// Example: paraaf org deploy new-org.toml --plan migration.toml --dry-run
    Deploy {
        /// The new organogram (TOML, or HR's CSV).
        organogram: PathBuf,
        /// A migration plan whose [rename] tells what old ids in the flows become.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// List what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Deploy even though deployed flows name what the new organogram lacks.
        #[arg(long)]
        force: bool,
        /// The HR key of someone who left and really comes back (repeatable), whatever
        /// their name and e-mail address now. Without it a leaver's key in the new
        /// organogram is refused: HR may have reused the number for a newcomer.
        #[arg(long, value_name = "KEY")]
        returning: Vec<String>,
        #[command(flatten)]
        rt: super::runtime_args::RuntimeArgs,
    },
    /// Move a project to a new organogram. `--plan NEW` writes `migration.toml` (old name
    /// → new name, proposed from the diff: review it); `--apply` rewrites the flows by it
    /// (only the organogram names, through the syntax tree: comments and layout stay) and
    /// the scenario files in tests/ (people, units; a leaver as their [reassign]
    /// receiver; each changed line reported, then the scenarios that fail against the new
    /// organogram listed), installs the new organogram and checks the project. The result is checked before
    /// anything is written: when errors would be left, they are listed and nothing
    /// changes (unless --force).
    ///
    /// Example: paraaf org migrate --plan new-org.toml examples/aalst
    ///          paraaf org migrate --apply examples/aalst
    Migrate {
        /// Propose a plan for this new organogram.
        #[arg(long, conflicts_with = "apply")]
        plan: Option<PathBuf>,
        /// Apply the project's migration.toml.
        #[arg(long)]
        apply: bool,
        /// The project folder.
        #[arg(default_value = ".")]
        project: PathBuf,
        /// The plan file (default: migration.toml in the project).
        #[arg(long = "file")]
        file: Option<PathBuf>,
        /// With --apply: write the rewritten flows and the new organogram even when the
        /// result does not check clean (it is checked first; without --force nothing is
        /// written then).
        #[arg(long, requires = "apply")]
        force: bool,
    },
}

/// Reads an organogram from TOML or HR's CSV; errors name the file and line.
fn read_org(path: &std::path::Path) -> Result<paraaf_compiler::org::Organogram, String> {
    read_org_toml(path).map(|(org, _)| org)
}

/// The organogram of `path` and its TOML text (converted from HR's CSV if need be).
fn read_org_toml(
    path: &std::path::Path,
) -> Result<(paraaf_compiler::org::Organogram, String), String> {
    read_org_toml_against(path, None)
}

/// [`read_org_toml`], with HR's CSV imported against the organogram `before` it: every
/// HR key keeps its id, newcomers get ids nobody had (see `org import`).
fn read_org_toml_against(
    path: &std::path::Path,
    before: Option<&paraaf_compiler::org::Organogram>,
) -> Result<(paraaf_compiler::org::Organogram, String), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (text, _) = paraaf_compiler::encoding::decode(&bytes);
    let toml_text = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        paraaf_compiler::org::import_csv_against("", &text, before)
            .map_err(|errs| {
                errs.iter()
                    .map(|e| format!("{}:{}: {}", path.display(), e.line, e.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            })?
            .toml
    } else {
        text
    };
    let name = path.display().to_string();
    let (org, diags) = paraaf_compiler::org::load_toml(&name, &toml_text);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(format!("{name}: {}", d.message));
    }
    Ok((org, toml_text))
}

/// The project's organogram, index and files (name, text, tree).
struct ProjectView {
    loaded: paraaf_compiler::load::LoadedProject,
}

impl ProjectView {
    fn load(dir: &std::path::Path) -> Result<ProjectView, String> {
        Ok(ProjectView {
            loaded: paraaf_compiler::load::load(dir).map_err(|e| e.to_string())?,
        })
    }

    fn org(&self) -> &paraaf_compiler::org::Organogram {
        let db = &self.loaded.db;
        &paraaf_compiler::db::organogram(db, self.loaded.project.org(db)).org
    }

    fn org_file(&self) -> String {
        let db = &self.loaded.db;
        self.loaded.project.org(db).name(db).clone()
    }

    /// Who leaves each shielded group of the project (see `diff::shielded_losses`);
    /// nothing when the project does not compile.
    fn shielded_losses(
        &self,
        d: &paraaf_compiler::org::diff::OrgDiff,
        old: &paraaf_compiler::org::Organogram,
        new: &paraaf_compiler::org::Organogram,
    ) -> Vec<paraaf_compiler::compile::shield::Narrowing> {
        paraaf_compiler::db::compiled(&self.loaded.db, self.loaded.project)
            .as_ref()
            .map(|p| paraaf_compiler::org::diff::shielded_losses(d, p, old, new))
            .unwrap_or_default()
    }

    fn index(&self) -> &paraaf_compiler::resolve::Index {
        paraaf_compiler::db::index(&self.loaded.db, self.loaded.project)
    }

    fn files(&self) -> Vec<(String, &str, &paraaf_compiler::syntax::ast::SourceAst)> {
        let db = &self.loaded.db;
        self.loaded
            .project
            .files(db)
            .iter()
            .map(|f| {
                (
                    f.name(db).clone(),
                    f.text(db).as_str(),
                    &paraaf_compiler::db::parse(db, *f).ast,
                )
            })
            .collect()
    }
}

/// The project, city and organogram in force that a plan made here is bound to.
fn made_here(view: &ProjectView) -> paraaf_compiler::org::migrate::Made {
    let root = &view.loaded.root;
    let name = std::fs::read_to_string(root.join(paraaf_compiler::load::CONFIG_FILE))
        .ok()
        .and_then(|t| toml::from_str::<paraaf_compiler::load::ProjectConfig>(&t).ok())
        .and_then(|c| c.name)
        .filter(|n| !n.trim().is_empty());
    let folder = || {
        std::path::absolute(root)
            .ok()
            .and_then(|r| r.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default()
    };
    paraaf_compiler::org::migrate::Made {
        project: name.unwrap_or_else(folder),
        city: view.org().city.clone(),
        sha256: org_sha256(view.org()),
    }
}

/// SHA-256 of an organogram as `org deploy` records it.
fn org_sha256(org: &paraaf_compiler::org::Organogram) -> String {
    paraaf_runtime::engine::OrgInForce::sha256_of(&paraaf_compiler::compile::org_snapshot(org))
}

/// `path` relative to `base`, by their components (`../gedeeld/new-org.toml` for a file
/// beside the project); `None` when no relative path leads there (another drive).
fn relative_to(base: &std::path::Path, path: &std::path::Path) -> Option<PathBuf> {
    use std::path::Component;
    // The parts of an absolute path, `..` taken back lexically.
    let parts = |p: &std::path::Path| -> Option<Vec<std::ffi::OsString>> {
        let mut out = Vec::new();
        for c in std::path::absolute(p).ok()?.components() {
            match c {
                Component::Normal(n) => out.push(n.to_os_string()),
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir | Component::RootDir => {}
                Component::Prefix(_) => return None,
            }
        }
        Some(out)
    };
    let (b, p) = (parts(base)?, parts(path)?);
    let common = b.iter().zip(&p).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    for c in &p[common..] {
        rel.push(c);
    }
    Some(rel)
}

/// The migration plan in `p`.
fn read_plan(p: &std::path::Path) -> Result<paraaf_compiler::org::migrate::Plan, String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    paraaf_compiler::org::migrate::read(&text)
        .map_err(|e| format!("{} is not a migration plan: {e}", p.display()))
}

/// Refuses a plan made for another city or against another organogram than the one in
/// force in the database (unless deploying it would change nothing: the same plan again).
fn plan_fits_database(
    plan: &paraaf_compiler::org::migrate::Plan,
    path: &std::path::Path,
    runtime: &paraaf_runtime::Runtime,
) -> Result<(), String> {
    let state = runtime.state();
    let (Some(in_force), Some((_, dep))) = (&state.organogram, state.current()) else {
        return Ok(());
    };
    let here = paraaf_compiler::org::migrate::Made {
        project: String::new(),
        city: dep.compiled.city.clone(),
        sha256: paraaf_runtime::engine::OrgInForce::sha256_of(&in_force.organogram),
    };
    match plan.misfit(&here) {
        Some(why) => Err(format!(
            "{}: {why}; nothing was deployed (organogram version {} is in force)",
            path.display(),
            in_force.version
        )),
        None => Ok(()),
    }
}

fn print_diff(d: &paraaf_compiler::org::diff::OrgDiff, project: Option<&str>) {
    for r in &d.reused {
        println!(
            "  REUSED   person    {}: was {}, now {} — an id is given to one person only; `org deploy` refuses this",
            r.id, r.was, r.now
        );
    }
    for n in &d.shielded_losses {
        println!(
            "  SHIELD   group     {} no longer admits {} (inside before: they lose sight of its files)",
            n.group,
            n.who()
        );
    }
    for r in &d.renamed {
        println!(
            "  renamed  {:<9} {} → {}   ({})",
            r.kind, r.from, r.to, r.because
        );
    }
    for e in &d.removed {
        match d.replaced_by.iter().find(|r| r.from == e.id) {
            Some(r) => println!(
                "  removed  {:<9} {} ({}); taken over by {}: {}",
                e.kind, e.id, e.name, r.to, r.because
            ),
            None => println!("  removed  {:<9} {} ({})", e.kind, e.id, e.name),
        }
    }
    for e in &d.added {
        println!("  added    {:<9} {} ({})", e.kind, e.id, e.name);
    }
    for m in &d.moved {
        println!(
            "  moved    unit      {}: under {} → under {}",
            m.unit,
            m.from.as_deref().unwrap_or("(top)"),
            m.to.as_deref().unwrap_or("(top)")
        );
    }
    for h in &d.holders {
        let show = |v: &[String]| {
            if v.is_empty() {
                "nobody".to_string()
            } else {
                v.join(", ")
            }
        };
        println!(
            "  holders  {}: {} → {}",
            h.position,
            show(&h.before),
            show(&h.after)
        );
    }
    if let Some(p) = project {
        if d.affected.is_empty() {
            println!("the flows of {p} name nothing that was removed or renamed");
        } else {
            println!("in the flows of {p}:");
        }
        for a in &d.affected {
            match &a.renamed_to {
                Some(to) => println!("  {}:{}  `{}` → `{to}`", a.file, a.line, a.id),
                None => println!("  {}:{}  `{}` was removed", a.file, a.line, a.id),
            }
        }
    }
    println!(
        "{} renamed, {} removed, {} added, {} moved, {} positions with other holders{}",
        d.renamed.len(),
        d.removed.len(),
        d.added.len(),
        d.moved.len(),
        d.holders.len(),
        project.map_or(String::new(), |_| format!(
            "; {} places in the flows",
            d.affected.len()
        ))
    );
}

/// `plan` tried on the project in memory: its files are rewritten and `new_toml` put in
/// as the organogram (`view` then holds the result, for its diagnostics). Returns the
/// rewritten files and the shielded groups that admit more people than before, people
/// who only got a new id not counted (`None` when the project did not compile before or
/// does not after).
fn try_plan(
    view: &mut ProjectView,
    plan: &paraaf_compiler::org::migrate::Plan,
    new_toml: String,
) -> (
    Vec<(String, String)>,
    Option<Vec<paraaf_compiler::compile::shield::Widening>>,
) {
    use paraaf_compiler::compile::org_index::OrgIndex;
    let rewritten =
        paraaf_compiler::org::migrate::rewrite(plan, view.org(), view.index(), &view.files());
    let before = paraaf_compiler::db::compiled(&view.loaded.db, view.loaded.project).clone();
    view.loaded.set_texts(&rewritten, Some(new_toml));
    let after = paraaf_compiler::db::compiled(&view.loaded.db, view.loaded.project);
    let widened = before.as_ref().zip(after.as_ref()).map(|(b, a)| {
        paraaf_compiler::compile::shield::widenings(
            &b.groups,
            &OrgIndex::new(&b.organogram),
            &a.groups,
            &OrgIndex::new(&a.organogram),
            &plan.rename,
        )
    });
    (rewritten, widened)
}

/// The `[rename]` and `[widen]` tables of a migration plan (renames without a new name
/// left out).
fn plan_renames(plan: paraaf_compiler::org::migrate::Plan) -> (Renames, Renames) {
    (
        plan.rename
            .into_iter()
            .filter(|(_, to)| !to.is_empty())
            .collect(),
        plan.widen,
    )
}

type Renames = std::collections::BTreeMap<String, String>;

/// The scenario files `org migrate --apply` rewrote, each changed line before and after;
/// the ids they still name that the new organogram lacks; files it could not read.
fn print_scenarios(m: &paraaf_runtime::app::migrate_scenarios::ScenarioMigration) {
    for f in &m.files {
        println!("rewrote {}", f.name);
        for (line, before, after) in &f.lines {
            println!(
                "  {}:{line}\n    - {}\n    + {}",
                f.name,
                before.trim(),
                after.trim()
            );
        }
    }
    for (at, id) in &m.stale {
        println!(
            "note: {at} names `{id}`, who is not in the new organogram: hand their files to someone under [reassign] in the plan, or change the scenario"
        );
    }
    for (file, why) in &m.unreadable {
        println!("note: {file} is not a scenario file ({why}); left as it is");
    }
}

/// The organogram of version `v` (`N` or `current`) deployed in the database.
fn deployed_org(
    r: &paraaf_runtime::Runtime,
    v: &str,
) -> Result<paraaf_compiler::org::Organogram, String> {
    use paraaf_compiler::org::Organogram;
    if v == "current" {
        return r
            .state()
            .organogram
            .as_ref()
            .map(|o| Organogram::from_compiled(&o.organogram))
            .ok_or_else(|| "nothing is deployed in this database yet".to_string());
    }
    let n: u32 = v
        .parse()
        .map_err(|_| format!("`@{v}` is no organogram version: write @1, @2, … or @current"))?;
    for (_, _, body) in r.store().events().map_err(|e| e.to_string())? {
        if !body.contains("\"organogram_deployed\"") {
            continue;
        }
        if let Ok(paraaf_runtime::engine::Event::OrganogramDeployed {
            version,
            organogram,
            ..
        }) = serde_json::from_str(&body)
            && version == n
        {
            return Ok(Organogram::from_compiled(&organogram));
        }
    }
    Err(format!(
        "organogram version {n} was never deployed in this database{}",
        if n == 0 {
            " (version 0 is the organogram the project was compiled with: diff its org.toml)"
        } else {
            ""
        }
    ))
}

/// The documents in flight a new organogram would touch (a dry run of `org deploy`).
fn print_in_flight(t: &paraaf_runtime::engine::OrgDeployment, db: &std::path::Path) {
    use crate::cli::terminal::say;
    println!("open tasks in {}:", db.display());
    for m in &t.moves {
        say!("  would move: {m}");
    }
    for w in &t.stranded {
        say!("  without a signer (manual queue): {w}");
    }
    for r in &t.relabelled {
        say!("  renamed role: {r}");
    }
    for w in &t.shields_widened {
        say!("  shield would widen: {w}");
    }
    for n in &t.shields_narrowed {
        say!("  shield would narrow: {n}");
    }
    for h in &t.handed_over {
        say!("  would hand over: {h}");
    }
    for a in &t.absences_ended {
        say!("  absence would end: {a}");
    }
    for a in &t.absences_moved {
        say!("  absence would move: {a}");
    }
    for b in &t.breaks {
        say!("  breaks: {b}");
    }
    println!(
        "{} task{} would move, {} without a signer; nothing was changed (paraaf org deploy does it)",
        t.moves.len(),
        if t.moves.len() == 1 { "" } else { "s" },
        t.stranded.len()
    );
}

/// What an organogram deployment did or would do, one line each (`org deploy`, and
/// `deploy` of a project compiled against another organogram).
pub(super) fn print_deployed(report: &paraaf_runtime::engine::OrgDeployment) {
    for w in &report.shields_widened {
        println!("shield widened: {w}");
    }
    for n in &report.shields_narrowed {
        println!("shield narrowed: {n}");
    }
    for h in &report.handed_over {
        println!("handed over: {h}");
    }
    for b in &report.breaks {
        println!("breaks: {b}");
    }
    for m in &report.moves {
        println!("move: {m}");
    }
    for a in &report.absences_ended {
        println!("absence ended: {a}");
    }
    for a in &report.absences_moved {
        println!("absence moved: {a}");
    }
    for r in &report.relabelled {
        println!("renamed role: {r}");
    }
    for w in &report.stranded {
        println!("without a signer (manual queue): {w}");
    }
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    use paraaf_compiler::org::{diff, migrate};
    match cmd {
        Command::Diff {
            old,
            new,
            project,
            tasks,
            plan,
            format,
            rt,
        } => {
            // The database only when a deployed version or the open tasks are asked for.
            let runtime = if old.starts_with('@') || new.starts_with('@') || tasks {
                if !rt.db.exists() {
                    return Err(format!(
                        "there is no database at {} (give it with --db)",
                        rt.db.display()
                    ));
                }
                Some(rt.open()?)
            } else {
                None
            };
            let version = |arg: &str| -> Result<paraaf_compiler::org::Organogram, String> {
                match (arg.strip_prefix('@'), &runtime) {
                    (Some(v), Some(r)) => deployed_org(r, v),
                    _ => read_org(std::path::Path::new(arg)),
                }
            };
            let before = version(&old)?;
            let after = match new.strip_prefix('@') {
                // HR's export is read against the organogram before it, so that every
                // key keeps its id and a namesake is never taken for someone else.
                None => read_org_toml_against(std::path::Path::new(&new), Some(&before))?.0,
                Some(_) => version(&new)?,
            };
            let mut d = diff::diff(&before, &after);
            if let Some(dir) = &project {
                let view = ProjectView::load(dir)?;
                d.affected = diff::affected(&d, &before, view.index(), &view.files());
                d.shielded_losses = view.shielded_losses(&d, &before, &after);
            }
            // The open tasks: a dry run of deploying NEW (with the diff's renames).
            let in_flight =
                match (&runtime, tasks) {
                    (Some(r), true) => {
                        // Exactly what `org deploy` would do: the plan's renames, or none.
                        let (renames, widen, reassign) =
                            match &plan {
                                Some(p) => {
                                    let plan = read_plan(p)?;
                                    let (renames, widen) = plan_renames(plan.clone());
                                    let org = paraaf_compiler::compile::org_snapshot(&after);
                                    if !r.state().organogram.as_ref().is_some_and(|o| {
                                        o.holds_with(&org, &renames, &plan.reassign)
                                    }) {
                                        plan_fits_database(&plan, p, r)?;
                                    }
                                    (renames, widen, plan.reassign)
                                }
                                None => Default::default(),
                            };
                        let mut state = r.state().clone();
                        let mut em =
                            paraaf_runtime::engine::Emitter::new(&mut state, &r.calendar, rt.now());
                        Some(
                            em.deploy_organogram_with(
                                paraaf_compiler::compile::org_snapshot(&after),
                                renames,
                                widen,
                                reassign,
                                true,
                            )
                            .map_err(|e| e.to_string())?,
                        )
                    }
                    _ => None,
                };
            if format == "json" {
                let mut v = serde_json::to_value(&d).map_err(|e| e.to_string())?;
                if let Some(t) = &in_flight {
                    v["open_tasks"] = serde_json::json!({
                        "moved": t.moves,
                        "without_signer": t.stranded,
                        "relabelled": t.relabelled,
                        "shields_widened": t.shields_widened,
                        "shields_narrowed": t.shields_narrowed,
                        "handed_over": t.handed_over,
                        "absences_ended": t.absences_ended,
                        "absences_moved": t.absences_moved,
                        "breaks": t.breaks,
                    });
                }
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
                );
            } else {
                println!("{old} → {new}");
                print_diff(&d, project.as_ref().map(|p| p.to_str().unwrap_or("")));
                if let Some(t) = &in_flight {
                    print_in_flight(t, &rt.db);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate {
            plan: Some(new),
            project,
            file,
            ..
        } => {
            let mut view = ProjectView::load(&project)?;
            let (after, new_toml) = read_org_toml_against(&new, Some(view.org()))?;
            let mut d = diff::diff(view.org(), &after);
            d.affected = diff::affected(&d, view.org(), view.index(), &view.files());
            d.shielded_losses = view.shielded_losses(&d, view.org(), &after);
            let root = view.loaded.root.clone();
            // The new organogram by its path from the project (read from there by
            // --apply), so the plan means the same in every checkout of the project.
            let rel = relative_to(&root, &new).ok_or_else(|| {
                format!(
                    "{} has no path relative to the project {}: copy it into the project",
                    new.display(),
                    root.display()
                )
            })?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            let made = made_here(&view);
            let mut text = migrate::propose(&d, &rel, &made);
            let mut widen_open = 0;
            // The proposed renames tried on the project: a shielded group they widen gets
            // an undecided [widen] line, so --apply waits for the administrator's reason.
            if let Ok(proposed) = migrate::read(&text)
                && let (_, Some(widened)) = try_plan(&mut view, &proposed, new_toml)
            {
                widen_open = widened.iter().filter(|w| w.redefined).count();
                text.push_str(&migrate::propose_widen(&widened));
            }
            text.push_str(&migrate::propose_shrink(&d.shielded_losses));
            text.push_str(&migrate::propose_reassign(&d));
            let out = file.unwrap_or_else(|| root.join("migration.toml"));
            std::fs::write(&out, &text)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            print_diff(&d, Some(&project.display().to_string()));
            let open = migrate::read(&text)
                .map_or(0, |p| p.rename.values().filter(|to| to.is_empty()).count());
            let mut todo = Vec::new();
            if open > 0 {
                todo.push(format!(
                    "{open} removed name{} still need a replacement",
                    if open == 1 { "" } else { "s" }
                ));
            }
            if widen_open > 0 {
                todo.push(format!(
                    "{widen_open} shielded group{} would admit more people: give the reason under [widen] or change the mapping",
                    if widen_open == 1 { "" } else { "s" }
                ));
            }
            println!(
                "wrote {}{}; review it, then: paraaf org migrate --apply {}",
                out.display(),
                if todo.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", todo.join("; "))
                },
                project.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate {
            apply: true,
            project,
            file,
            force,
            ..
        } => {
            let view = ProjectView::load(&project)?;
            let root = view.loaded.root.clone();
            let plan_path = file.unwrap_or_else(|| root.join("migration.toml"));
            let plan_text = std::fs::read_to_string(&plan_path).map_err(|e| {
                format!(
                    "cannot read {}: {e} (write one with --plan NEW)",
                    plan_path.display()
                )
            })?;
            let plan = migrate::read(&plan_text)
                .map_err(|e| format!("{} is not a migration plan: {e}", plan_path.display()))?;
            if std::path::Path::new(&plan.organogram).is_absolute()
                || plan.organogram.starts_with(['/', '\\'])
            {
                return Err(format!(
                    "{}: `organogram = \"{}\"` is an absolute path; a plan names the new organogram relative to the project (`paraaf org migrate --plan NEW {}` writes it so)",
                    plan_path.display(),
                    plan.organogram,
                    project.display()
                ));
            }
            // The plan is this project's, made against the organogram it has now.
            let here = made_here(&view);
            if let Some(why) = plan.misfit(&here) {
                let applied = plan.made_against.is_some()
                    && plan.project.as_deref() == Some(here.project.as_str())
                    && read_org(&root.join(&plan.organogram))
                        .is_ok_and(|new| org_sha256(&new) == here.sha256);
                if applied {
                    println!(
                        "{} is applied already: the project's organogram is its new organogram; nothing was written",
                        plan_path.display()
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                return Err(format!(
                    "{}: {why}; nothing was written",
                    plan_path.display()
                ));
            }
            let undecided: Vec<&String> = plan
                .rename
                .iter()
                .filter(|(_, to)| to.is_empty())
                .map(|(from, _)| from)
                .collect();
            if !undecided.is_empty() {
                return Err(format!(
                    "{}: no replacement for {} yet; fill in each, then apply again",
                    plan_path.display(),
                    undecided
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let new_org_path = root.join(&plan.organogram);
            let (new_org, new_toml) = read_org_toml(&new_org_path)?;
            let onto_another =
                paraaf_compiler::org::migrate::person_onto_another(&plan, view.org(), &new_org);
            if !onto_another.is_empty() {
                return Err(format!(
                    "{}: the plan maps people onto other people; nothing was written:\n  - {}",
                    plan_path.display(),
                    onto_another.join("\n  - ")
                ));
            }
            // [reassign]: read as `org deploy` reads it; the files move at `org deploy`.
            let handover = migrate::reassign_problems(
                &plan.reassign,
                &plan.rename,
                |p| view.org().people.iter().any(|x| x.id == p),
                |p| new_org.people.iter().any(|x| x.id == p),
            );
            if !handover.is_empty() {
                return Err(format!(
                    "{}: the plan's [reassign] does not fit; nothing was written:\n  - {}",
                    plan_path.display(),
                    handover.join("\n  - ")
                ));
            }
            // The project as it compiles now: which scenario fields name a unit or person.
            let compiled_before =
                paraaf_compiler::db::compiled(&view.loaded.db, view.loaded.project).clone();
            // The result, checked as `paraaf check` would, before anything is written.
            let mut after = view;
            let (rewritten, widened) = try_plan(&mut after, &plan, new_toml.clone());
            let diags =
                paraaf_compiler::db::project_diagnostics(&after.loaded.db, after.loaded.project);
            let errors = diags.iter().filter(|d| d.is_error()).count();
            // A rename that maps what a shielded group names onto a larger entry lets more
            // people see its files: never without a reason in the plan's [widen] table
            // (not even with --force, which is for errors left to fix by hand).
            if let Some(widened) = widened {
                let refused = plan.unconsented(&widened);
                if !refused.is_empty() {
                    for w in &refused {
                        let why = migrate::consent(&plan.widen, &w.group)
                            .err()
                            .unwrap_or_default();
                        println!("{}; {why}", migrate::describe(w));
                    }
                    println!(
                        "nothing was written: the plan widens {} shielded group{}; map the entry onto one that keeps the group's people, or give the reason under [widen] in {} (\"{}\" = \"why\")",
                        refused.len(),
                        if refused.len() == 1 { "" } else { "s" },
                        plan_path.display(),
                        refused[0].group
                    );
                    return Ok(ExitCode::from(1));
                }
                for w in widened
                    .iter()
                    .filter(|w| !w.redefined || plan.widen.contains_key(&w.group))
                {
                    println!("note: {}", migrate::describe(w));
                }
            }
            if errors > 0 {
                print!(
                    "{}",
                    paraaf_compiler::diagnostics::render_text(
                        diags,
                        |f| after.loaded.source(f),
                        false
                    )
                );
            }
            if errors > 0 && !force {
                println!(
                    "{errors} error{} would be left: nothing was written; extend the plan, or apply with --force and fix them by hand",
                    if errors == 1 { "" } else { "s" }
                );
                return Ok(ExitCode::from(1));
            }
            // Every file or none: temporary files, a journal, then renames (a command
            // after a crash finishes or undoes it; see `load::write_all_or_none`).
            // The scenario files by the same plan: renamed ids, and a leaver as whoever
            // [reassign] hands their files to.
            let mut renames: Renames = plan
                .rename
                .iter()
                .filter(|(_, to)| !to.is_empty())
                .map(|(from, to)| (from.clone(), to.clone()))
                .collect();
            for (from, r) in &plan.reassign {
                if !new_org.people.iter().any(|p| p.id == *from) {
                    renames.insert(from.clone(), r.to.trim().to_string());
                }
            }
            let known = |id: &str| {
                new_org.people.iter().any(|p| p.id == id)
                    || new_org.units.iter().any(|u| u.id == id)
            };
            let scenarios = paraaf_runtime::app::migrate_scenarios::plan(
                &root,
                &renames,
                compiled_before.as_ref(),
                known,
            )
            .map_err(|e| e.to_string())?;
            let mut writes = rewritten.clone();
            writes.extend(
                scenarios
                    .files
                    .iter()
                    .map(|f| (f.name.clone(), f.text.clone())),
            );
            writes.push((after.org_file(), new_toml));
            paraaf_compiler::load::write_all_or_none(&root, &writes).map_err(|e| {
                format!(
                    "cannot write the migration into {}: {e} (the next paraaf command on the project completes the write or undoes it: all files or none)",
                    root.display()
                )
            })?;
            for (name, _) in &rewritten {
                println!("rewrote {name}");
            }
            print_scenarios(&scenarios);
            println!("installed {} as {}", plan.organogram, after.org_file());
            // What the restructure changes beyond names: the scenarios that now fail.
            if let Some(migrated) =
                paraaf_compiler::db::compiled(&after.loaded.db, after.loaded.project).as_ref()
            {
                let failing =
                    paraaf_runtime::app::migrate_scenarios::failing(&root, &scenarios, migrated);
                if !failing.is_empty() {
                    println!(
                        "{} scenario{} fail{} against the new organogram (what the restructure changes beyond names; `paraaf test {}` shows each):",
                        failing.len(),
                        if failing.len() == 1 { "" } else { "s" },
                        if failing.len() == 1 { "s" } else { "" },
                        project.display()
                    );
                    for (file, name, why) in &failing {
                        println!("  {file}: {name}: {why}");
                    }
                }
            }
            if errors == 0 {
                println!("the project checks clean against the new organogram");
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "{errors} error{} left: fix them by hand or extend the plan",
                    if errors == 1 { "" } else { "s" }
                );
                Ok(ExitCode::from(1))
            }
        }
        Command::Migrate { .. } => Err("give --plan NEW or --apply".into()),
        Command::Deploy {
            organogram,
            plan,
            dry_run,
            force,
            returning,
            rt,
        } => {
            let org = paraaf_compiler::compile::org_snapshot(&read_org(&organogram)?);
            let plan = match &plan {
                Some(p) => Some((read_plan(p)?, p)),
                None => None,
            };
            let (renames, widen) = plan
                .as_ref()
                .map(|(plan, _)| plan_renames(plan.clone()))
                .unwrap_or_default();
            let reassign = plan
                .as_ref()
                .map(|(plan, _)| plan.reassign.clone())
                .unwrap_or_default();
            let mut runtime = rt.open()?;
            // The plan must be this city's, made against the organogram in force — except
            // when this changes nothing (the same plan again), which is said below.
            if let Some((plan, p)) = &plan
                && !runtime
                    .state()
                    .organogram
                    .as_ref()
                    .is_some_and(|o| o.holds_with(&org, &renames, &plan.reassign))
            {
                plan_fits_database(plan, p, &runtime)?;
            }
            let now = rt.now();
            let has_renames = !renames.is_empty();
            let report = if dry_run {
                let mut state = runtime.state().clone();
                let mut em =
                    paraaf_runtime::engine::Emitter::new(&mut state, &runtime.calendar, now);
                em.returning = returning.iter().cloned().collect();
                em.deploy_organogram_with(org, renames, widen, reassign, force)
                    .map_err(|e| e.to_string())?
            } else {
                runtime
                    .execute(now, move |e| {
                        e.returning = returning.iter().cloned().collect();
                        e.deploy_organogram_with(org, renames, widen, reassign, force)
                    })
                    .map_err(crate::cli::runtime_args::fail)?
            };
            if report.unchanged {
                println!(
                    "organogram version {} in force is this organogram already{}: nothing was recorded",
                    report.version,
                    if has_renames {
                        ", with the plan's renames"
                    } else {
                        ""
                    }
                );
                return Ok(ExitCode::SUCCESS);
            }
            print_deployed(&report);
            println!(
                "{} organogram version {}: {} task{} moved, {} absence{} ended",
                if dry_run { "would deploy" } else { "deployed" },
                report.version,
                report.moves.len(),
                if report.moves.len() == 1 { "" } else { "s" },
                report.absences_ended.len(),
                if report.absences_ended.len() == 1 {
                    ""
                } else {
                    "s"
                },
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            csv,
            output,
            city,
            previous,
        } => {
            let bytes =
                std::fs::read(&csv).map_err(|e| format!("cannot read {}: {e}", csv.display()))?;
            let (text, encoding) = paraaf_compiler::encoding::decode(&bytes);
            if let Some(enc) = encoding {
                eprintln!("{}: read as {enc}", csv.display());
            }
            // The organogram in force: --previous, else the file written over. Ids are
            // chosen once: every HR key keeps its id, leavers' ids stay theirs.
            let previous = match previous.or_else(|| output.clone().filter(|o| o.exists())) {
                Some(p) => Some(read_org(&p)?),
                None => None,
            };
            match paraaf_compiler::org::import_csv_against(&city, &text, previous.as_ref()) {
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
