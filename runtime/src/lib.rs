//! The Paraaf runtime executes compiled projects (`paraaf compile` output) durably.
//! Not built yet: see issue 3. The crate exists so the workspace shape is final.

/// Schema identifier of compiled projects this runtime accepts.
pub const ACCEPTS_SCHEMA: &str = "paraaf.compiled/1";
