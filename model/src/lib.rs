//! Paraaf's compiled model: the IR the compiler produces from checked source and the
//! runtime executes and persists in its event log (`project_deployed`,
//! `organogram_deployed`). It owns its types — operators, durations, organogram kinds —
//! so the runtime needs no syntax; plus the rules stated over it: date validation, the
//! organogram index (holders, members, ancestry), the shielding verifier and renames.
//! No parser and no compiler: plain data and pure functions.
#![forbid(unsafe_code)]

mod dates;
mod expr;
mod organogram;
mod project;

pub mod org_index;
pub mod rename;
pub mod shield;

pub use dates::valid_date;
pub use expr::{CmpOp, Duration, DurationUnit, Expr, LogicOp};
pub use org_index::OrgIndex;
pub use organogram::{
    OrgEntry, OrgKind, OrgPerson, OrgPosition, OrgUnit, Organogram, identity, is_identity,
    same_person,
};
pub use project::*;

/// The persisted form's identifier, stored in every compiled project's `schema` field.
/// Bump [`SCHEMA_VERSION`] (and this) on any incompatible change; fields are only ever
/// added, with serde defaults, so that old logs still open.
pub const SCHEMA: &str = "paraaf.compiled/1";

/// The version number in [`SCHEMA`].
pub const SCHEMA_VERSION: u32 = 1;

/// The version of a persisted form's `schema` field (`paraaf.compiled/1` → 1); `None`
/// when the field names another format.
pub fn schema_version(schema: &str) -> Option<u32> {
    schema.strip_prefix("paraaf.compiled/")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_its_version() {
        assert_eq!(schema_version(SCHEMA), Some(SCHEMA_VERSION));
        assert_eq!(schema_version("paraaf.compiled/x"), None);
        assert_eq!(schema_version("other/1"), None);
    }
}
