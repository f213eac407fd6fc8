//! Name resolution: the project index of definitions, what each name in a file denotes
//! (`names`), and "did you mean" suggestions.

mod index;
pub mod names;
mod suggest;

pub use index::{InFile, Index};
pub use names::{Meaning, NameRef, local_definitions, name_at, names};
pub use suggest::closest;
