//! Document kinds: field types and duplicate fields.

use super::Ctx;
use super::types::Ty;
use crate::diagnostics::Code;
use crate::org::OrgKind;
use crate::semantic::Entity;
use crate::syntax::ast::{DocumentDef, FieldDef, Name, Shield};

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
    if let Some(sh) = &d.shield {
        check_shield(ctx, d, sh);
    }
    for (i, f) in d.fields.iter().enumerate() {
        shadowing(ctx, d, f);
        if let Some(w) = &f.ty.within {
            refinement(ctx, f, w);
        }
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

/// `shielded by GROUP [allow FIELD]`: the group exists, the exception is a person field.
fn check_shield(ctx: &mut Ctx, d: &DocumentDef, sh: &Shield) {
    if ctx.index.group(&sh.group.text).is_none() {
        let groups: Vec<String> = ctx.index.groups.keys().cloned().collect();
        ctx.unknown(&sh.group, "group", groups.iter().map(String::as_str));
    } else {
        ctx.record(&sh.group.span, Entity::Group(sh.group.text.clone()));
    }
    let Some(allow) = &sh.allow else { return };
    if let Some(f) = d.fields.iter().find(|f| f.name.text == allow.text) {
        let e = Entity::Field {
            kind: d.name.text.clone(),
            field: f.name.text.clone(),
            ty: field_type(f),
        };
        ctx.record(&allow.span, e);
    }
    match d.fields.iter().find(|f| f.name.text == allow.text) {
        None => {
            let names: Vec<&str> = d.fields.iter().map(|f| f.name.text.as_str()).collect();
            ctx.unknown(allow, &format!("field of `{}`", d.name.text), names);
        }
        Some(f) if f.ty.name.text != "person" => {
            let dd = ctx
                .diag(
                    Code::WrongKind,
                    &allow.span,
                    format!(
                        "`allow {}` names a {} field; only the person in a `person` field can be the exception",
                        allow.text, f.ty.name.text
                    ),
                )
                .with_label(ctx.span(&f.name.span), "declared here")
                .with_help(format!("declare it as `{}: person`", allow.text));
            ctx.report(dd);
        }
        Some(_) => {}
    }
}

/// `unit in UNIT` and `person in GROUP`.
fn refinement(ctx: &mut Ctx, f: &FieldDef, w: &Name) {
    match f.ty.name.text.as_str() {
        "unit" => {
            if ctx.org.kind_of(&w.text) != Some(OrgKind::Unit) {
                let units: Vec<String> = ctx.org.units.iter().map(|u| u.id.clone()).collect();
                ctx.unknown(w, "unit", units.iter().map(String::as_str));
            } else {
                ctx.record_org(&w.span, &w.text, OrgKind::Unit);
            }
        }
        "person" => {
            if ctx.index.group(&w.text).is_some() {
                ctx.record(&w.span, Entity::Group(w.text.clone()));
            } else {
                let mut d = ctx.diag(
                    Code::UnknownName,
                    &w.span,
                    format!("there is no group called `{}`", w.text),
                );
                let groups: Vec<String> = ctx.index.groups.keys().cloned().collect();
                d = match crate::resolve::closest(&w.text, groups.iter().map(String::as_str)) {
                    Some(g) => d.with_help(format!("did you mean `{g}`?")).with_fix(ctx.span(&w.span), g),
                    None if ctx.org.kind_of(&w.text) == Some(OrgKind::Unit) => d.with_help(format!(
                        "`person in` takes a group; declare `group {0} = unit {0}` and write `person in {0}`",
                        w.text
                    )),
                    None => d.with_help("`person in` takes a group of the project"),
                };
                ctx.record_unresolved(&w.span, d.message.clone());
                ctx.report(d);
            }
        }
        other => {
            let d = ctx
                .diag(
                    Code::WrongKind,
                    &w.span,
                    format!("a {other} field cannot be restricted with `in`"),
                )
                .with_help("only `unit in UNIT` and `person in GROUP` restrict a field");
            ctx.record_unresolved(&w.span, d.message.clone());
            ctx.report(d);
        }
    }
}

/// A field may not take over a name of the organogram or of the project: inside its
/// kind, `sign diensthoofd of sociale-zaken` would mean "of whatever the uploader typed".
fn shadowing(ctx: &mut Ctx, d: &DocumentDef, f: &FieldDef) {
    let name = &f.name.text;
    let Some(what) = taken(ctx, name) else {
        return;
    };
    let suggestion = format!("{name}-veld");
    let mut dd = ctx
        .diag(
            Code::ShadowedName,
            &f.name.span,
            format!(
                "the field `{name}` of `{}` has the same name as {what}; in this kind `{name}` would no longer mean it",
                d.name.text
            ),
        )
        .with_help(format!(
            "rename the field, e.g. to `{suggestion}` (and write `document.{suggestion}` where you use it)"
        ))
        .with_fix(ctx.span(&f.name.span), suggestion);
    if let Some(l) = ctx.org_label(name) {
        dd = dd.with_label(l, "defined here");
    }
    ctx.report(dd);
}

/// What `name` already means in the organogram or the project (`the unit `x` of the
/// organogram`), if anything: a field or a `let` may not take it over (P0023).
pub(super) fn taken(ctx: &Ctx, name: &str) -> Option<String> {
    Some(if let Some(k) = ctx.org.kind_of(name) {
        format!("the {} `{name}` of the organogram", k.word())
    } else if ctx.index.documents.contains_key(name) {
        format!("the document kind `{name}`")
    } else if ctx.index.groups.contains_key(name) {
        format!("the group `{name}`")
    } else if ctx.index.flows.contains_key(name) {
        format!("the flow `{name}`")
    } else if ctx.index.rules.contains_key(name) {
        format!("the rule `{name}`")
    } else if ctx.index.agencies.contains_key(name) {
        format!("the agency `{name}`")
    } else {
        return None;
    })
}
