//! Checked project → compiled project (serde, versioned schema).

mod lower;
pub mod model;
pub mod org_index;
pub mod rename;
pub mod shield;

pub use lower::{lower, snapshot as org_snapshot};
pub use model::{CompiledProject, SCHEMA};
