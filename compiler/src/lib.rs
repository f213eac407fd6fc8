//! The Paraaf compiler: source → parse → AST → resolve against the organogram →
//! type-check → compiled project. It does no IO except in [`load`].
#![forbid(unsafe_code)]

pub mod check;
pub mod compile;
pub mod db;
pub mod diagnostics;
pub mod encoding;
pub mod load;
pub mod org;
pub mod resolve;
pub mod semantic;
pub mod syntax;
