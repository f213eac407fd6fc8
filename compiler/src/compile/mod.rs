//! Checked project → compiled project (serde, versioned schema).

mod lower;

pub(crate) use lower::{documents, groups, model_signer};
pub use lower::{lower, snapshot as org_snapshot};
/// The compiled model lives in `paraaf-model`; these paths keep the crates that still
/// name it through the compiler compiling.
pub use paraaf_model as model;
pub use paraaf_model::{CompiledProject, SCHEMA, org_index, shield};

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
