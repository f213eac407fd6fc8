//! What the checker records of each name it resolves: the semantic model of the file
//! ([`crate::semantic`]). Recorded where the checker decides, so no second resolver
//! can disagree with it.

use super::Ctx;
use super::types::Ty;
use crate::org::OrgKind;
use crate::semantic::{Builtin, Entity, Occurrence};
use std::ops::Range;

/// The names recorded so far, and the rule being checked (locals live in it).
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    /// Every occurrence recorded, in the order the checker met them.
    pub occurrences: Vec<Occurrence>,
    /// The rule whose body is being checked.
    pub(crate) rule: Option<String>,
}

impl Ctx<'_> {
    /// Records that the name at `span` denotes `entity`.
    pub(crate) fn record(&mut self, span: &Range<usize>, entity: Entity) {
        self.recorded.occurrences.push(Occurrence {
            span: span.clone(),
            entity,
            definition: false,
        });
    }

    /// Records the definition of `entity` at `span`.
    pub(crate) fn record_definition(&mut self, span: &Range<usize>, entity: Entity) {
        self.recorded.occurrences.push(Occurrence {
            span: span.clone(),
            entity,
            definition: true,
        });
    }

    /// Records an organogram name of a known kind (a role held in any unit).
    pub(crate) fn record_org(&mut self, span: &Range<usize>, id: &str, kind: OrgKind) {
        let e = Entity::org(self.org, id, kind);
        self.record(span, e);
    }

    /// Records a built-in word.
    pub(crate) fn record_builtin(&mut self, span: &Range<usize>, b: Builtin) {
        self.record(span, Entity::Builtin(b));
    }

    /// Records a field of a record type: a document kind's field or a built-in record's.
    pub(crate) fn record_field(&mut self, span: &Range<usize>, record: &str, field: &str, ty: Ty) {
        let e = if self.index.document(record).is_some() {
            Entity::Field {
                kind: record.to_string(),
                field: field.to_string(),
                ty,
            }
        } else {
            Entity::RecordField {
                record: record.to_string(),
                field: field.to_string(),
                ty,
            }
        };
        self.record(span, e);
    }

    /// Records a name bound in the current rule.
    pub(crate) fn record_local(&mut self, span: &Range<usize>, name: &str, ty: Ty, def: bool) {
        let e = Entity::Local {
            rule: self.recorded.rule.clone().unwrap_or_default(),
            name: name.to_string(),
            ty,
        };
        if def {
            self.record_definition(span, e);
        } else {
            self.record(span, e);
        }
    }

    /// Records a name that denotes nothing here, with the reason.
    pub(crate) fn record_unresolved(&mut self, span: &Range<usize>, reason: impl Into<String>) {
        self.record(
            span,
            Entity::Unresolved {
                reason: reason.into(),
            },
        );
    }
}

/// Records the names `item` defines: a kind and its fields (with their declared types),
/// a group, an agency, a flow and its steps, a rule.
pub(super) fn definitions(ctx: &mut Ctx, item: &crate::syntax::ast::Item) {
    use crate::syntax::ast::Item;
    match item {
        Item::Document(d) => {
            ctx.record_definition(&d.name.span, Entity::DocumentKind(d.name.text.clone()));
            for f in &d.fields {
                let e = Entity::Field {
                    kind: d.name.text.clone(),
                    field: f.name.text.clone(),
                    ty: super::documents::field_type(f),
                };
                ctx.record_definition(&f.name.span, e);
            }
        }
        Item::Group(g) => ctx.record_definition(&g.name.span, Entity::Group(g.name.text.clone())),
        Item::Agency(a) => ctx.record_definition(&a.name.span, Entity::Agency(a.name.text.clone())),
        Item::Flow(f) => {
            ctx.record_definition(&f.name.span, Entity::Flow(f.name.text.clone()));
            for s in &f.steps {
                let e = Entity::Step {
                    flow: f.name.text.clone(),
                    step: s.name.text.clone(),
                };
                ctx.record_definition(&s.name.span, e);
            }
        }
        Item::Rule(r) => ctx.record_definition(&r.name.span, Entity::Rule(r.name.text.clone())),
        Item::Substitutes(_) => {}
    }
}
