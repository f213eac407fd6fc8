//! Source text → syntax tree. Parsing never fails: it returns a tree and diagnostics.

pub mod ast;
mod parser;

pub use parser::{MAX_DEPTH, Parsed, parse, valid_date};
