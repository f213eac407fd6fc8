//! Substitute declarations: names, and a substitute who is the holder themself.

use super::{Ctx, Scope};
use crate::diagnostics::Code;
use crate::syntax::ast::SubstitutesDef;

pub(super) fn check_decl(ctx: &mut Ctx, s: &SubstitutesDef) {
    let holder = ctx.signer(&s.holder, &mut Scope::default());
    let holder_people = holder
        .as_ref()
        .map(|h| ctx.possible_holders(h))
        .unwrap_or_default();
    for sub in &s.substitutes {
        let Some(t) = ctx.signer(sub, &mut Scope::default()) else {
            continue;
        };
        let same_role = holder.as_ref().is_some_and(|h| h.key() == t.key());
        let people = ctx.possible_holders(&t);
        let same_person =
            !people.is_empty() && !holder_people.is_empty() && people.is_subset(&holder_people);
        if same_role || same_person {
            let who = people
                .iter()
                .next()
                .map(|p| ctx.org.person_name(p).to_string())
                .unwrap_or_default();
            let msg = if same_role {
                format!("`{}` cannot substitute for itself", sub.name.text)
            } else {
                format!(
                    "{who} holds both `{}` and `{}`: when {who} is absent, the substitute is absent too",
                    s.holder.name.text, sub.name.text
                )
            };
            let d = ctx
                .diag(Code::SubstituteIsHolder, &sub.span, msg)
                .with_label(ctx.span(&s.holder.span), "the holder")
                .with_help("choose a substitute who is another person");
            ctx.report(d);
        }
    }
}
