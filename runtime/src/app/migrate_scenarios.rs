//! `org migrate --apply`, for the project's scenario files: the same plan that rewrites
//! the flows rewrites the organogram names in `tests/*.toml` (renamed people, units and
//! roles; a person who leaves, to whoever the plan's `[reassign]` hands their files), in
//! place, comments and layout kept; and the scenarios are run against the migrated
//! project, so what the restructure really changes is shown, not hidden.

use super::AppError;
use crate::scenarios::{self, Rewritten, ScenarioFile};
use paraaf_model::CompiledProject;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One scenario file the plan changes.
#[derive(Clone, Debug, Serialize)]
pub struct FileRewrite {
    /// Its name, relative to the project (`tests/scenarios.toml`).
    pub name: String,
    /// Its new text.
    #[serde(skip)]
    pub text: String,
    /// Each line changed: (line, before, after).
    pub lines: Vec<(usize, String, String)>,
}

/// What the plan does to the project's scenario files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScenarioMigration {
    /// The files that change.
    pub files: Vec<FileRewrite>,
    /// Ids the scenarios still name that the new organogram lacks: (file:line, id).
    pub stale: Vec<(String, String)>,
    /// Files in `tests/` that are no scenario files, left as they are: (file, why).
    pub unreadable: Vec<(String, String)>,
}

/// The scenario files of the project at `root` rewritten by `renames` (old id → new id:
/// the plan's `[rename]`, and each leaver's `[reassign]` receiver); `before` is the
/// project as it compiles before the migration (which fields hold a unit or a person),
/// `known` whether an id is a person or unit of the new organogram. Nothing is written.
pub fn plan(
    root: &Path,
    renames: &BTreeMap<String, String>,
    before: Option<&CompiledProject>,
    known: impl Fn(&str) -> bool,
) -> Result<ScenarioMigration, AppError> {
    let mut out = ScenarioMigration::default();
    let Ok(files) = scenarios::files(root) else {
        return Ok(out);
    };
    let org_field = |kind: &str, field: &str| {
        before
            .and_then(|p| p.documents.iter().find(|d| d.name == kind))
            .and_then(|d| d.fields.iter().find(|f| f.name == field))
            .is_some_and(|f| f.ty == "unit" || f.ty == "person")
    };
    for path in files {
        let name = format!(
            "tests/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AppError::Input(format!("cannot read {}: {e}", path.display())))?;
        let renamed = match scenarios::rename_in(&text, renames, org_field, &known) {
            Ok(r) => r,
            Err(why) => {
                out.unreadable.push((name, why));
                continue;
            }
        };
        out.stale.extend(
            renamed
                .stale
                .into_iter()
                .map(|(line, id)| (format!("{name}:{line}"), id)),
        );
        if renamed.text != text {
            out.files.push(FileRewrite {
                name,
                text: renamed.text,
                lines: renamed
                    .lines
                    .into_iter()
                    .map(
                        |Rewritten {
                             line,
                             before,
                             after,
                         }| (line, before, after),
                    )
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// The scenarios of the project at `root` (its files as `migration` leaves them) that
/// fail against `project`: (file, scenario, first reason).
pub fn failing(
    root: &Path,
    migration: &ScenarioMigration,
    project: &CompiledProject,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Ok(files) = scenarios::files(root) else {
        return out;
    };
    for path in files {
        let name = format!(
            "tests/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let text = match migration.files.iter().find(|f| f.name == name) {
            Some(f) => f.text.clone(),
            None => std::fs::read_to_string(&path).unwrap_or_default(),
        };
        let Ok(file) = toml::from_str::<ScenarioFile>(&text) else {
            continue;
        };
        for s in &file.scenarios {
            let o = scenarios::run(project, s);
            if let Some(why) = o.failures.first() {
                let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
                out.push((name.clone(), o.name, why));
            }
        }
    }
    out
}
