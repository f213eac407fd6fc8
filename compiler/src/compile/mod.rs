//! Checked project → compiled project (serde, versioned schema).

mod lower;
pub mod model;
pub mod org_index;
pub mod rename;
pub mod shield;

pub use lower::{lower, snapshot as org_snapshot};
pub use model::{CompiledProject, SCHEMA};

/// `project` with the names people read for its document kinds (`[kinds]` of
/// `paraaf.toml`); a name for a kind the project does not define is left out.
pub fn with_titles(
    mut project: CompiledProject,
    titles: &std::collections::BTreeMap<String, String>,
) -> CompiledProject {
    for d in &mut project.documents {
        d.title = titles.get(&d.name).cloned();
    }
    project
}
