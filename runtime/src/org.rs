//! Organogram lookups: the one index (holders, members, ancestry) lives in the compiler's
//! compiled model, so the deploy-time shielding verifier and the runtime share it.

pub use paraaf_model::OrgIndex;
