//! Checked project → compiled project (serde, versioned schema).

mod lower;
pub mod model;
pub mod org_index;
pub mod shield;

pub use lower::lower;
pub use model::{CompiledProject, SCHEMA};
