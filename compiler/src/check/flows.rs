//! Flows: document kind, conditions, steps, signers, shielding, refusal and deadlines.

use super::conditions::{Truth, truth};
use super::expr::present_when_true;
use super::signers::SignerTarget;
use super::{Ctx, Scope};
use crate::diagnostics::Code;
use crate::semantic::{Builtin, Entity};
use crate::syntax::ast::*;

pub(super) fn check(ctx: &mut Ctx, f: &FlowDef) {
    let mut scope = Scope::default();
    if ctx.index.document(&f.kind.text).is_some() {
        ctx.record(&f.kind.span, Entity::DocumentKind(f.kind.text.clone()));
        scope.doc = Some(f.kind.text.clone());
    } else {
        let kinds: Vec<String> = ctx.index.documents.keys().cloned().collect();
        ctx.unknown(&f.kind, "document kind", kinds.iter().map(String::as_str));
    }
    if let Some(w) = &f.when {
        check_condition(
            ctx,
            w,
            &mut scope,
            &format!("the flow `{}` never applies", f.name.text),
        );
        // Inside the flow, what its condition proves present counts as present.
        scope.narrowed.extend(present_when_true(w));
    }
    for a in &f.visible {
        match a {
            Audience::Group(g) => {
                if ctx.index.group(&g.text).is_none() {
                    let groups: Vec<String> = ctx.index.groups.keys().cloned().collect();
                    ctx.unknown(g, "group", groups.iter().map(String::as_str));
                } else {
                    ctx.record(&g.span, Entity::Group(g.text.clone()));
                }
            }
            Audience::Unit(p) => {
                let is_org_unit = p.segments.len() == 1
                    && ctx.org.kind_of(&p.segments[0].text) == Some(crate::org::OrgKind::Unit);
                if is_org_unit {
                    let u = &p.segments[0];
                    ctx.record_org(&u.span, &u.text, crate::org::OrgKind::Unit);
                } else {
                    let ty = ctx.path_ty(p, &mut scope);
                    if !matches!(
                        ty.unwrap_optional(),
                        super::types::Ty::Unit | super::types::Ty::Unknown
                    ) {
                        let d = ctx.diag(
                            Code::WrongKind,
                            &p.span,
                            format!(
                                "`visible to unit` needs a unit, but `{}` is a {ty}",
                                p.text()
                            ),
                        );
                        ctx.report(d.with_help(
                            "name a unit from the organogram or a field of type `unit`",
                        ));
                    }
                }
            }
            // `visible to uploadr`: the audience word, not an organogram name.
            Audience::Signer(s) => match audience_word_typo(ctx, s, &scope) {
                Some(word) => ctx.unknown(&s.name, "function, mandate or person", [word]),
                None => {
                    ctx.signer(s, &mut scope);
                }
            },
            Audience::Uploader(at) => ctx.record_builtin(at, Builtin::Uploader),
            Audience::Signers(at) => ctx.record_builtin(at, Builtin::Signers),
        }
    }
    // Steps.
    let mut signers: Vec<(SignerRef, SignerTarget)> = Vec::new();
    for (i, step) in f.steps.iter().enumerate() {
        if let Some(first) = f.steps[..i].iter().find(|s| s.name.text == step.name.text) {
            let d = ctx
                .diag(
                    Code::DuplicateName,
                    &step.name.span,
                    format!(
                        "the flow `{}` has two steps called `{}`",
                        f.name.text, step.name.text
                    ),
                )
                .with_label(ctx.span(&first.name.span), "first step with this name")
                .with_help("give each step its own name");
            ctx.report(d);
        }
        let (clauses, block_when): (Vec<&SignClause>, Option<&Expr>) = match &step.body {
            StepBody::Sign(c) => (vec![c], None),
            StepBody::Parallel { signs, when, .. } => (signs.iter().collect(), when.as_ref()),
        };
        let step_start = scope.narrowed.len();
        if let Some(w) = block_when {
            check_condition(
                ctx,
                w,
                &mut scope,
                &format!("the step `{}` can never be reached", step.name.text),
            );
            scope.narrowed.extend(present_when_true(w));
        }
        for c in clauses {
            let clause_start = scope.narrowed.len();
            if let Some(w) = &c.when {
                check_condition(
                    ctx,
                    w,
                    &mut scope,
                    &format!(
                        "the signature of `{}` in step `{}` is never needed",
                        c.signer.name.text, step.name.text
                    ),
                );
                scope.narrowed.extend(present_when_true(w));
            }
            if let Some(t) = ctx.signer(&c.signer, &mut scope) {
                ctx.warn_vacant(&c.signer, &t);
                signers.push((c.signer.clone(), t));
            }
            scope.narrowed.truncate(clause_start);
        }
        scope.narrowed.truncate(step_start);
    }
    if f.steps.is_empty() {
        let d = ctx.diag(
            Code::SyntaxError,
            &f.name.span,
            format!("the flow `{}` has no steps", f.name.text),
        );
        ctx.report(d.with_help("add at least one `step NAME : sign SIGNER`"));
    }
    match &f.on_refused {
        Some(Refused::BackToStep(s)) if !f.steps.iter().any(|st| st.name.text == s.text) => {
            let names: Vec<&str> = f.steps.iter().map(|s| s.name.text.as_str()).collect();
            ctx.unknown(s, "step in this flow", names);
        }
        Some(Refused::BackToStep(s)) => {
            let e = Entity::Step {
                flow: f.name.text.clone(),
                step: s.text.clone(),
            };
            ctx.record(&s.span, e);
        }
        _ => {}
    }
    if let Some(dl) = &f.deadline
        && let Some((after, to)) = &dl.escalate
    {
        if after.unit == dl.remind.unit && after.amount <= dl.remind.amount {
            let d = ctx.diag(
                Code::AlwaysFalse,
                &after.span,
                "the escalation comes before (or with) the reminder",
            );
            ctx.report(d.with_help("escalate later than you remind, e.g. `deadline 5 workdays remind, 10 workdays escalate to ...`"));
        }
        if let Some(t) = ctx.signer(to, &mut scope) {
            ctx.warn_vacant(to, &t);
            let allow = ctx
                .shield_of(&f.kind.text)
                .is_some_and(|sh| ctx.shield_escalation(&sh, to, &t));
            if !allow {
                signers.push((to.clone(), t));
            }
        }
    }
    check_shielding(ctx, f, &signers, &mut scope);
}

/// `uploader` or `signers` when an audience names neither an organogram entry nor a
/// field but is a likely misspelling of one of those words (`uploadr`, `signres`).
fn audience_word_typo(ctx: &Ctx, s: &SignerRef, scope: &Scope) -> Option<&'static str> {
    let name = s.name.text.as_str();
    let known = ctx.org.kind_of(name).is_some()
        || scope
            .doc
            .as_ref()
            .is_some_and(|d| ctx.record_fields(d).iter().any(|(n, _)| n == name));
    if known || s.of.is_some() {
        return None;
    }
    let org = ctx.org.ids().map(|(id, _)| id);
    if crate::resolve::closest(name, org).is_some() {
        return None;
    }
    crate::resolve::closest(name, ["uploader", "signers"])
}

fn check_condition(ctx: &mut Ctx, w: &Expr, scope: &mut Scope, never: &str) {
    let before = ctx.diags.len();
    ctx.condition(w, scope);
    if ctx.diags.len() != before {
        return;
    }
    match truth(w) {
        Truth::Never => {
            let d = ctx.diag(
                Code::AlwaysFalse,
                &w.span,
                format!("this condition can never be true: {never}"),
            );
            ctx.report(d.with_help(
                "the parts of the condition contradict each other; check the amounts and operators",
            ));
        }
        Truth::Always => {
            let d = ctx.diag(Code::AlwaysTrue, &w.span, "this condition is always true");
            ctx.report(d.with_help("remove the `when` clause, or fix the condition"));
        }
        Truth::Depends => {}
    }
}

/// A flow of a shielded kind: every audience, signer, escalation and substitute stays in
/// the group. A flow of another kind may not show a group marked `shielded`.
fn check_shielding(
    ctx: &mut Ctx,
    f: &FlowDef,
    signers: &[(SignerRef, SignerTarget)],
    scope: &mut Scope,
) {
    let Some(sh) = ctx.shield_of(&f.kind.text) else {
        ctx.shield_other_kind(f);
        return;
    };
    for a in &f.visible {
        ctx.shield_audience(&sh, a, scope);
    }
    for (sref, target) in signers {
        ctx.shield_signer(&sh, sref, target);
    }
}
