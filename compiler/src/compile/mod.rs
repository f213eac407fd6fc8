//! Checked project → compiled project (serde, versioned schema).

mod lower;
pub mod model;

pub use lower::lower;
pub use model::{CompiledProject, SCHEMA};
