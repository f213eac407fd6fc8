//! Automation rules: events, `let`, `match`, debt checks, `if`, and actions.

use super::expr::{present_when_false, present_when_true};
use super::types::{EVENTS, MATCH_SOURCES, Ty};
use super::{Binding, Ctx, Scope};
use crate::diagnostics::Code;
use crate::syntax::ast::*;

pub(super) fn check(ctx: &mut Ctx, r: &RuleDef) {
    let mut scope = Scope::default();
    ctx.recorded.rule = Some(r.name.text.clone());
    match EVENTS.iter().find(|(e, _, _)| *e == r.event.text) {
        Some((event, binder, record)) => {
            // The record is defined by the event: at its first word when that is the
            // record's name (`invoice` in `invoice.received`), else at the whole event.
            let at = match event.split_once('.') {
                Some((word, _)) if word == *binder => {
                    r.event.span.start..r.event.span.start + word.len()
                }
                _ => r.event.span.clone(),
            };
            let ty = Ty::Record(record.to_string());
            ctx.record_local(&at, binder, ty.clone(), true);
            scope.bindings.push(Binding {
                name: binder.to_string(),
                ty,
                span: r.event.span.clone(),
                used: false,
                warn_unused: false,
            })
        }
        None => {
            let mut d = ctx.diag(
                Code::UnknownEvent,
                &r.event.span,
                format!("there is no event `{}`", r.event.text),
            );
            d = match crate::resolve::closest(&r.event.text, EVENTS.iter().map(|e| e.0)) {
                Some(s) => d
                    .with_help(format!("did you mean `{s}`?"))
                    .with_fix(ctx.span(&r.event.span), s),
                None => d.with_help(format!(
                    "rules react to one of: {}",
                    EVENTS
                        .iter()
                        .map(|e| format!("`{}`", e.0))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            ctx.record_unresolved(&r.event.span, d.message.clone());
            ctx.report(d);
        }
    }
    if let Some(w) = &r.when {
        ctx.condition(w, &mut scope);
        // What the rule's condition proves present counts as present in its body.
        scope.narrowed.extend(present_when_true(w));
    }
    block(ctx, &r.body, &mut scope);
    ctx.recorded.rule = None;
}

fn block(ctx: &mut Ctx, stmts: &[Stmt], scope: &mut Scope) {
    let depth = scope.bindings.len();
    for s in stmts {
        stmt(ctx, s, scope);
    }
    for b in scope.bindings.drain(depth..).collect::<Vec<_>>() {
        if !b.used && b.warn_unused {
            let d = ctx.diag(
                Code::Unused,
                &b.span,
                format!("`{}` is computed but never used", b.name),
            );
            ctx.report(d.with_help("use it, or remove the `let`"));
        }
    }
}

fn stmt(ctx: &mut Ctx, s: &Stmt, scope: &mut Scope) {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || match s {
        Stmt::Let { name, value } => {
            let ty = match value {
                LetValue::Match { source, by } => {
                    match MATCH_SOURCES.iter().find(|(n, _)| *n == source.text) {
                        Some((record, result)) => {
                            let mut inner = scope.clone();
                            inner.implicit = Some(record.to_string());
                            ctx.condition(by, &mut inner);
                            for (b, ib) in scope.bindings.iter_mut().zip(inner.bindings) {
                                b.used |= ib.used;
                            }
                            Ty::Record(result.to_string())
                        }
                        None => {
                            ctx.unknown(
                                source,
                                "record source to match against",
                                MATCH_SOURCES.iter().map(|m| m.0),
                            );
                            Ty::Unknown
                        }
                    }
                }
                LetValue::CheckDebts { kbo, on, .. } => {
                    expect(ctx, kbo, scope, &Ty::Text, "the enterprise (KBO) number");
                    expect(ctx, on, scope, &Ty::Date, "the date of the check");
                    Ty::Record("debts".into())
                }
                LetValue::Expr(e) => ctx.expr_ty(e, scope),
            };
            if let Some(what) = super::documents::taken(ctx, &name.text) {
                // One meaning per name: after this `let`, `diensthoofd of x` or
                // `notify x` would silently mean the value instead of the organogram's.
                let suggestion = format!("{}-waarde", name.text);
                let mut d = ctx
                    .diag(
                        Code::ShadowedName,
                        &name.span,
                        format!(
                            "`let {}` has the same name as {what}; in this rule `{}` would no longer mean it",
                            name.text, name.text
                        ),
                    )
                    .with_help(format!(
                        "choose another name for the value, e.g. `{suggestion}`, and use that name in the rule"
                    ));
                if let Some(l) = ctx.org_label(&name.text) {
                    d = d.with_label(l, "defined here");
                }
                ctx.report(d);
            } else if let Some(prev) = scope
                .bindings
                .iter()
                .find(|b| b.name == name.text && b.warn_unused)
            {
                let d = ctx
                    .diag(
                        Code::DuplicateName,
                        &name.span,
                        format!("`{}` is already defined in this rule", name.text),
                    )
                    .with_label(ctx.span(&prev.span), "first defined here")
                    .with_help("choose another name");
                ctx.report(d);
            }
            ctx.record_local(&name.span, &name.text, ty.clone(), true);
            scope.bindings.push(Binding {
                name: name.text.clone(),
                ty,
                span: name.span.clone(),
                used: false,
                warn_unused: true,
            });
        }
        Stmt::If {
            cond,
            then,
            otherwise,
        } => {
            ctx.condition(cond, scope);
            let before = scope.narrowed.len();
            scope.narrowed.extend(present_when_true(cond));
            block(ctx, then, scope);
            scope.narrowed.truncate(before);
            scope.narrowed.extend(present_when_false(cond));
            block(ctx, otherwise, scope);
            scope.narrowed.truncate(before);
        }
        Stmt::Action(a) => action(ctx, a, scope),
    })
}

/// Checks `e` has type `want` (present), reporting otherwise.
fn expect(ctx: &mut Ctx, e: &Expr, scope: &mut Scope, want: &Ty, role: &str) {
    let t = ctx.expr_ty(e, scope);
    if !ctx.expect_present(e, &t, role) || t == Ty::Unknown || t == *want {
        return;
    }
    let d = ctx.diag(
        Code::TypeMismatch,
        &e.span,
        format!("{role} must be a {want}, but this is a {t}"),
    );
    ctx.report(d.with_help(format!("give a {want} here")));
}

fn action(ctx: &mut Ctx, a: &Action, scope: &mut Scope) {
    match &a.kind {
        ActionKind::Queue { .. } => {}
        ActionKind::Link { from, to } => {
            for p in [from, to] {
                let t = ctx.path_ty(p, scope);
                if !matches!(t, Ty::Record(_) | Ty::Unknown) {
                    let d = ctx.diag(
                        Code::WrongKind,
                        &p.span,
                        format!("only records can be linked, but `{}` is a {t}", p.text()),
                    );
                    ctx.report(d.with_help("link e.g. `invoice to po`"));
                }
            }
        }
        ActionKind::Start { flow, args } => {
            let f = ctx.index.flow(&flow.text).cloned();
            if f.is_some() {
                ctx.record(&flow.span, crate::semantic::Entity::Flow(flow.text.clone()));
            }
            let Some(f) = f else {
                let flows: Vec<String> = ctx.index.flows.keys().cloned().collect();
                ctx.unknown(flow, "flow", flows.iter().map(String::as_str));
                for (_, e) in args {
                    ctx.expr_ty(e, scope);
                }
                return;
            };
            let fields = ctx.record_fields(&f.kind.text);
            for (name, e) in args {
                let t = ctx.expr_ty(e, scope);
                match fields.iter().find(|(n, _)| *n == name.text) {
                    None => {
                        let mut d = ctx.diag(
                            Code::UnknownField,
                            &name.span,
                            format!("a {} has no field `{}`", f.kind.text, name.text),
                        );
                        if let Some(s) = crate::resolve::closest(
                            &name.text,
                            fields.iter().map(|(n, _)| n.as_str()),
                        ) {
                            d = d
                                .with_help(format!("did you mean `{s}`?"))
                                .with_fix(ctx.span(&name.span), s);
                        } else {
                            d = d.with_help("give only fields of the flow's document kind");
                        }
                        ctx.record_unresolved(&name.span, d.message.clone());
                        ctx.report(d);
                    }
                    Some((_, ft)) => {
                        ctx.record_field(&name.span, &f.kind.text, &name.text, ft.clone());
                        let required = !matches!(ft, Ty::Optional(_));
                        if required
                            && !ctx.expect_present(
                                e,
                                &t,
                                &format!("the required field `{}`", name.text),
                            )
                        {
                            continue;
                        }
                        let (want, got) = (ft.unwrap_optional(), t.unwrap_optional());
                        if want != got && *got != Ty::Unknown && *want != Ty::Unknown {
                            let d = ctx.diag(
                                Code::TypeMismatch,
                                &e.span,
                                format!(
                                    "the field `{}` is a {want}, but this is a {got}",
                                    name.text
                                ),
                            );
                            ctx.report(d.with_help(format!("give a {want} for `{}`", name.text)));
                        }
                    }
                }
            }
            let missing: Vec<&str> = fields
                .iter()
                .filter(|(n, t)| {
                    !matches!(t, Ty::Optional(_)) && !args.iter().any(|(a, _)| a.text == *n)
                })
                .map(|(n, _)| n.as_str())
                .collect();
            if !missing.is_empty() {
                let d = ctx.diag(
                    Code::MissingField,
                    &a.span,
                    format!(
                        "starting `{}` needs the required field{} {} of a {}",
                        flow.text,
                        if missing.len() == 1 { "" } else { "s" },
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        f.kind.text
                    ),
                );
                let add: Vec<String> = missing.iter().map(|m| format!("{m} = ...")).collect();
                let help = if args.is_empty() {
                    format!("add `with {}`", add.join(", "))
                } else {
                    format!("add `, {}` after the last field given", add.join(", "))
                };
                ctx.report(d.with_help(help));
            }
        }
        ActionKind::Withhold {
            amount,
            cap,
            agency,
        } => {
            expect(ctx, amount, scope, &Ty::Money, "the amount to withhold");
            if let Some(c) = cap {
                let t = ctx.expr_ty(c, scope);
                if !matches!(t.unwrap_optional(), Ty::Money | Ty::Unknown) {
                    let d = ctx.diag(
                        Code::TypeMismatch,
                        &c.span,
                        format!("a cap must be an amount, but this is a {t}"),
                    );
                    ctx.report(d.with_help("cap with e.g. `debt.social_attest`"));
                }
            }
            if !ctx.index.agencies.contains_key(&agency.text) {
                let names: Vec<String> = ctx.index.agencies.keys().cloned().collect();
                ctx.unknown(agency, "agency", names.iter().map(String::as_str));
            } else {
                let e = crate::semantic::Entity::Agency(agency.text.clone());
                ctx.record(&agency.span, e);
            }
        }
        ActionKind::Notify { target, .. } => {
            ctx.signer(target, scope);
        }
    }
}
