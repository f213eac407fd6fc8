//! The Paraaf compiler: source → parse → AST → resolve against the organogram →
//! type-check → compiled project. It does no IO except in [`load`].

pub mod diagnostics;
pub mod syntax;
pub mod org;
pub mod check;
pub mod resolve;
pub mod compile;
pub mod db;
pub mod load;
