//! The one registry of diagnostic codes. Every code has a page in `docs/diagnostics/`.

use serde::Serialize;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $title:literal; )*) => {
        /// A stable diagnostic code (`P0xxx`). Codes are never reused or renumbered.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( #[doc = $title] $variant, )* }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as users write it, e.g. `P0003`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// Severity a diagnostic with this code has.
            pub fn severity(self) -> super::Severity {
                match self { $(Code::$variant => super::Severity::$severity,)* }
            }

            /// One-line title of the code, as shown by `paraaf explain`.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }

            /// The documentation page of this code (Markdown).
            pub fn doc(self) -> &'static str {
                match self { $(Code::$variant => include_str!(concat!("../../../docs/diagnostics/", $code, ".md")),)* }
            }
        }
    };
}

codes! {
    SyntaxError = "P0001", Error, "syntax error";
    TooDeep = "P0002", Error, "nesting too deep";
    UnknownName = "P0003", Error, "unknown name";
    DuplicateName = "P0004", Error, "duplicate definition";
    WrongKind = "P0005", Error, "name of the wrong kind";
    UnknownField = "P0006", Error, "unknown field";
    TypeMismatch = "P0007", Error, "type mismatch";
    OptionalNotHandled = "P0008", Error, "optional value used without a check";
    SubstitutionCycle = "P0009", Error, "substitution cycle";
    SubstituteIsHolder = "P0010", Error, "substitute is the holder";
    ShieldedLeak = "P0011", Error, "shielded document routed outside its group";
    AlwaysFalse = "P0012", Error, "condition is always false";
    AlwaysTrue = "P0013", Warning, "condition is always true";
    AmbiguousFlows = "P0014", Error, "flows overlap";
    UnhandledKind = "P0015", Warning, "document kind without a flow";
    Unused = "P0016", Warning, "unused definition";
    NoHolder = "P0017", Warning, "nobody holds this function";
    VacantInUnit = "P0018", Warning, "function vacant in this unit";
    MissingField = "P0019", Error, "required field not given";
    UnknownEvent = "P0020", Error, "unknown event";
    InvalidLiteral = "P0021", Error, "invalid literal";
    OrganogramError = "P0022", Error, "invalid organogram";
    ShadowedName = "P0023", Error, "field or binding named like an organogram or project name";
    NotInProject = "P0024", Warning, "file in no project";
    AllowBeyondOwnSteps = "P0025", Error, "the `allow` person handed a step that does not name them";
    ShieldedOnlyToday = "P0026", Warning, "shielded document kept inside only by who holds a role today";
}

impl Code {
    /// Looks a code up by its text, case-insensitively (`p0003` works).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
