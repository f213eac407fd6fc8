//! Name resolution: the project index of definitions, what each name in a file denotes
//! (`names`, a view of the semantic model the checker records), and "did you mean" suggestions.

mod index;
pub mod names;
mod suggest;

pub use index::{InFile, Index};
pub use names::{Meaning, NameRef, name_at, names};
pub use suggest::closest;
