//! The semantic model of a file: every name occurrence with the entity it denotes, as
//! the checker resolved it while checking the file (one place decides what a name
//! means). The salsa query [`crate::db::semantic`] holds it per file; the resolver view
//! (`resolve::names`), the language server's hover, definition, references, rename,
//! semantic tokens and completion, and the organogram migration read it.

mod entity;

pub use entity::{Builtin, Entity};
use std::ops::Range;

/// One occurrence of a name in a file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Occurrence {
    /// Byte range in the file.
    pub span: Range<usize>,
    /// What it denotes.
    pub entity: Entity,
    /// Whether this occurrence defines it.
    pub definition: bool,
}

/// Every name occurrence of one file, sorted by position; one entity per span.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Semantic {
    occurrences: Vec<Occurrence>,
}

impl Semantic {
    /// The model from what the checker recorded, in any order and with repeats (a name
    /// checked twice, e.g. by the shielding rules, is recorded twice with one meaning):
    /// the first recorded entity of a span is kept.
    pub fn new(mut recorded: Vec<Occurrence>) -> Semantic {
        // Stable: of two records of one span, the earlier stays first.
        recorded.sort_by_key(|o| (o.span.start, o.span.end));
        recorded.dedup_by(|later, first| later.span == first.span);
        Semantic {
            occurrences: recorded,
        }
    }

    /// Every occurrence, by position.
    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }

    /// The occurrence at byte `offset` (its start up to and including its end).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        // The first whose end is not before `offset`; names do not overlap.
        let i = self.occurrences.partition_point(|o| o.span.end < offset);
        self.occurrences[i..]
            .iter()
            .take_while(|o| o.span.start <= offset)
            .find(|o| o.span.start <= offset && offset <= o.span.end)
    }

    /// The resolved occurrences (not [`Entity::Unresolved`]).
    pub fn resolved(&self) -> impl Iterator<Item = &Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| !matches!(o.entity, Entity::Unresolved { .. }))
    }
}

/// Checks one file against the organogram and the project's definitions: its
/// diagnostics, and its semantic model as the checker resolved each name on the way.
pub fn check_file(
    org: &crate::org::Organogram,
    org_file: &str,
    index: &crate::resolve::Index,
    file: &str,
    ast: &crate::syntax::ast::SourceAst,
) -> (Vec<crate::diagnostics::Diagnostic>, Semantic) {
    let mut ctx = crate::check::Ctx::new(org, org_file, index, file);
    crate::check::check_file(&mut ctx, ast);
    let semantic = Semantic::new(std::mem::take(&mut ctx.recorded.occurrences));
    (ctx.diags, semantic)
}
