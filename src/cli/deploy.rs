//! `paraaf deploy`

use super::runtime_args::RuntimeArgs;
use paraaf_compiler::compile::CompiledProject;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf deploy`.
#[derive(clap::Args)]
pub struct Args {
    /// A project folder (compiled now) or a compiled .json file.
    path: PathBuf,
    /// Say what would happen (the organogram change it brings, every task it moves);
    /// record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Why a shielded kind may be seen by more people than in the deployed version (who
    /// decided it, and when): its group (or the group it points at now) or an audience
    /// admits more people, or its `allow` exception is new or widened. Without it such a
    /// version is refused, naming the kind and who would newly see it; with it the reason
    /// is recorded in the log. A shielded group that admits fewer people is reported,
    /// never refused.
    ///
    /// Example: paraaf deploy . --widen-reason "College 2026-12-01: the department head reads social files"
    #[arg(long)]
    widen_reason: Option<String>,
    #[command(flatten)]
    rt: RuntimeArgs,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    // The project's organogram file, when deployed from its folder (for the help line).
    let mut org_file = None;
    let project: CompiledProject = if args.path.is_file()
        && args.path.extension().is_some_and(|e| e == "json")
    {
        let text = std::fs::read_to_string(&args.path)
            .map_err(|e| format!("cannot read {}: {e}", args.path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a compiled Paraaf project: {e}",
                args.path.display()
            )
        })?
    } else {
        let loaded = paraaf_compiler::load::load(&args.path).map_err(|e| e.to_string())?;
        let org = loaded.project.org(&loaded.db);
        org_file = Some(loaded.root.join(org.name(&loaded.db)));
        match loaded.compiled() {
            Some(p) => p,
            None => {
                let diags = paraaf_compiler::db::project_diagnostics(&loaded.db, loaded.project);
                print!(
                    "{}",
                    paraaf_compiler::diagnostics::render_text(diags, |f| loaded.source(f), false)
                );
                eprintln!("error: the project has errors; nothing was deployed");
                return Ok(ExitCode::from(1));
            }
        }
    };
    // The runtime refuses it too; here the administrator gets the list and exit 1.
    let org = paraaf_runtime::org::OrgIndex::new(&project.organogram);
    let violations = paraaf_compiler::compile::shield::verify(&project, &org);
    if !violations.is_empty() {
        for v in &violations {
            println!("shielding: {v}");
        }
        eprintln!(
            "error: the compiled project breaks its shielding ({} problems); nothing was deployed",
            violations.len()
        );
        return Ok(ExitCode::from(1));
    }
    let mut rt = args.rt.open()?;
    let flows = project.flows.len();
    // A project compiled against another organogram than the one in force changes the
    // organogram too: the engine runs `org deploy`'s checks and moves (see
    // `Emitter::deploy_reported`).
    let org_changes = rt
        .state()
        .organogram
        .as_ref()
        .is_some_and(|o| *o.organogram != project.organogram);
    let reason = args.widen_reason.as_deref();
    let organogram = project.organogram.clone();
    let result = if args.dry_run {
        let mut state = rt.state().clone();
        let mut e = paraaf_runtime::engine::Emitter::new(&mut state, &rt.calendar, args.rt.now());
        e.deploy_widening(project, reason)
    } else {
        rt.execute(args.rt.now(), |e| e.deploy_widening(project, reason))
    };
    let deployed = match result {
        Ok(d) => d,
        Err(e) => {
            let msg = crate::cli::runtime_args::fail(e);
            if org_changes && let Some(org) = org_file {
                // The commands to run first, with this project's own files.
                let db = args.rt.db.display();
                return Err(format!(
                    "{msg}\n  for this project: paraaf org deploy {org} --dry-run --db {db}, then without --dry-run (with --plan FILE or --force, as it asks), then paraaf deploy {} --db {db}",
                    args.path.display(),
                    org = org.display(),
                ));
            }
            return Err(msg);
        }
    };
    if let Some(report) = &deployed.organogram {
        super::org::print_deployed(report);
        println!(
            "{} organogram version {} (the project's): {} task{} moved",
            if args.dry_run {
                "would put in force"
            } else {
                "put in force"
            },
            report.version,
            report.moves.len(),
            if report.moves.len() == 1 { "" } else { "s" },
        );
    }
    for n in &deployed.shields_narrowed {
        println!("shield narrowed: {}", n.words(&organogram));
    }
    for w in &deployed.shields_widened {
        println!(
            "shield widened: {}; because: {}",
            w.words(&organogram),
            w.reason
        );
    }
    println!(
        "{} version {} ({flows} flows) to {}",
        if args.dry_run {
            "would deploy"
        } else {
            "deployed"
        },
        deployed.version,
        args.rt.shown()
    );
    Ok(ExitCode::SUCCESS)
}
