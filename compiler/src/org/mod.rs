//! The organogram: data, not code. Loaded from TOML; imported from HR's CSV.

mod csv_import;
mod model;
mod toml_file;

pub mod diff;
pub mod migrate;
pub use csv_import::{Imported, RowError, import_csv, import_csv_against, slug};
pub use model::*;
pub use slug as ascii_id;
pub use toml_file::{OrgFile, is_kebab_id, load_toml};
