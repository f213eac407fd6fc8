//! Source text → syntax tree. Parsing never fails: it returns a tree and diagnostics.

pub mod ast;
mod format;
pub mod keywords;
pub mod lexemes;
pub mod line_ends;
pub mod parse;
pub mod print;

pub use format::format;
pub use parse::{MAX_DEPTH, Parsed, is_identifier, parse};
pub use print::{expr as print_expr, grouped, print};
