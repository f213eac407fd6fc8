//! Document kinds: field types and duplicate fields.

use super::Ctx;
use super::types::Ty;
use crate::diagnostics::Code;
use crate::syntax::ast::{DocumentDef, FieldDef};

/// The type a field declares (`Unknown` if the type name is unknown).
pub fn field_type(f: &FieldDef) -> Ty {
    let base = Ty::from_name(&f.ty.name.text).unwrap_or(Ty::Unknown);
    if f.ty.optional {
        Ty::Optional(Box::new(base))
    } else {
        base
    }
}

pub(super) fn check(ctx: &mut Ctx, d: &DocumentDef) {
    for (i, f) in d.fields.iter().enumerate() {
        if Ty::from_name(&f.ty.name.text).is_none() {
            ctx.unknown(&f.ty.name, "type", Ty::NAMES.iter().copied());
        }
        if let Some(first) = d.fields[..i].iter().find(|g| g.name.text == f.name.text) {
            let dd = ctx
                .diag(
                    Code::DuplicateName,
                    &f.name.span,
                    format!("the field `{}` is declared twice", f.name.text),
                )
                .with_label(ctx.span(&first.name.span), "first declared here")
                .with_help("remove one of the two, or rename it");
            ctx.report(dd);
        }
    }
}
