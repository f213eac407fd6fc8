//! Source text → syntax tree. Parsing never fails: it returns a tree and diagnostics.

pub mod ast;
mod format;
pub mod keywords;
pub mod lexemes;
pub mod line_ends;
#[doc(hidden)]
pub mod parse;
mod parser;
pub mod print;

pub use format::format;
pub use parser::{MAX_DEPTH, Parsed, is_identifier, parse};
pub use print::{expr as print_expr, grouped, print};
