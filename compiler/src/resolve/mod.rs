//! Name resolution: the project index of definitions and "did you mean" suggestions.

mod index;
mod suggest;

pub use index::{InFile, Index};
pub use suggest::closest;
