//! The Paraaf language server: a thin layer over the compiler's salsa queries.
//! Not built yet: see issue 4.
