//! The type checker: resolves every name against the project and the organogram and
//! checks types, signers, shielding and conditions. Per-file checks run in
//! [`check_file`]; checks that need the whole project in [`check_project`].

pub mod conditions;
mod documents;
mod expr;
mod flows;
mod project;
mod record;
mod rules;
mod shielding;
mod shielding_report;
mod signers;
mod substitutes;
pub mod types;

pub use project::check_project;
pub use record::Recorded;
pub use signers::{SignerTarget, UnitRef};

use crate::diagnostics::{Code, Diagnostic, Span};
use crate::org::Organogram;
use crate::resolve::{Index, closest};
use crate::syntax::ast::{Item, Name, SourceAst};
use std::ops::Range;
use types::Ty;

/// Everything a check needs: the organogram, the project index and where to report.
pub struct Ctx<'a> {
    /// The organogram flows are checked against.
    pub org: &'a Organogram,
    /// Name of the organogram file (for labels pointing into it).
    pub org_file: &'a str,
    /// All definitions of the project.
    pub index: &'a Index,
    /// File being checked.
    pub file: &'a str,
    /// Findings so far.
    pub diags: Vec<Diagnostic>,
    /// What each name met so far denotes (the file's semantic model).
    pub recorded: Recorded,
}

/// A name bound in a rule (`let`, the event record).
#[derive(Clone, Debug)]
pub(crate) struct Binding {
    pub name: String,
    pub ty: Ty,
    pub span: Range<usize>,
    pub used: bool,
    /// Whether an unused binding is worth a warning (the event record is not).
    pub warn_unused: bool,
}

/// What bare names mean where an expression is checked.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    /// The flow's document kind: `document.x` and bare `x` are its fields.
    pub doc: Option<String>,
    /// A record whose fields are bare names (inside `match ... by`).
    pub implicit: Option<String>,
    /// Names bound by the rule.
    pub bindings: Vec<Binding>,
    /// Paths known not to be `none` here.
    pub narrowed: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// A checker for one file.
    pub fn new(org: &'a Organogram, org_file: &'a str, index: &'a Index, file: &'a str) -> Ctx<'a> {
        Ctx {
            org,
            org_file,
            index,
            file,
            diags: Vec::new(),
            recorded: Recorded::default(),
        }
    }

    pub(crate) fn span(&self, r: &Range<usize>) -> Span {
        Span::new(self.file, r.clone())
    }

    pub(crate) fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn diag(&self, code: Code, r: &Range<usize>, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, self.span(r), msg)
    }

    /// Reports an unknown name, suggesting the closest candidate.
    pub(crate) fn unknown<'c>(
        &mut self,
        name: &Name,
        what: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) {
        let mut d = self.diag(
            Code::UnknownName,
            &name.span,
            format!("there is no {what} called `{}`", name.text),
        );
        self.record_unresolved(&name.span, d.message.clone());
        match closest(&name.text, candidates) {
            Some(s) => {
                d = d
                    .with_help(format!("did you mean `{s}`?"))
                    .with_fix(self.span(&name.span), s);
            }
            None => d = d.with_help(format!("check the spelling, or define the {what}")),
        }
        self.report(d);
    }

    /// Label pointing at an organogram entry.
    pub(crate) fn org_label(&self, id: &str) -> Option<Span> {
        self.org.span_of(id).map(|r| Span::new(self.org_file, r))
    }

    /// Fields of a record type: a document kind of the project or a built-in record.
    pub(crate) fn record_fields(&self, name: &str) -> Vec<(String, Ty)> {
        if let Some(doc) = self.index.document(name) {
            return doc
                .fields
                .iter()
                .map(|f| (f.name.text.clone(), documents::field_type(f)))
                .collect();
        }
        types::builtin_fields(name)
            .unwrap_or_default()
            .into_iter()
            .map(|(n, t)| (n.to_string(), t))
            .collect()
    }
}

/// Checks the items of one file. Project-wide checks are in [`check_project`].
pub fn check_file(ctx: &mut Ctx, ast: &SourceAst) {
    for item in &ast.items {
        record::definitions(ctx, item);
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match item {
            Item::Document(d) => documents::check(ctx, d),
            Item::Flow(f) => flows::check(ctx, f),
            Item::Rule(r) => {
                rules::check(ctx, r);
                shielding::check_rule(ctx, r);
            }
            Item::Group(g) => signers::check_group(ctx, g),
            Item::Substitutes(s) => substitutes::check_decl(ctx, s),
            Item::Agency(_) => {}
        });
    }
}
