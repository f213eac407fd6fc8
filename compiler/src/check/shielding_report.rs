//! The words of the shielding diagnostics: each violation the model's verifier finds
//! (`paraaf_model::shield`) as the administrator reads it, at the name as written, with
//! the codes P0011 (outside the group today), P0025 (an escalation to the `allow`
//! person) and P0026 (inside only because of who holds a role today, with the HR change
//! that would break it).

use super::Ctx;
use super::shielding::{ShieldScope, Source};
use super::signers::{SignerTarget, UnitRef};
use crate::diagnostics::{Code, Span};
use crate::syntax::ast::*;
use paraaf_model::shield::{Breach, Violation, What};
use std::ops::Range;

impl Ctx<'_> {
    /// Reports one violation the verifier found at `source`.
    pub(super) fn report_at(&mut self, sh: &ShieldScope, source: &Source, v: &Violation) {
        let kind = &sh.kind;
        let group = &sh.group;
        let (span, written) = match source {
            Source::Signer(s, _) => (&s.span, sref_text(s)),
            Source::Group(g) => (&g.span, g.text.clone()),
            Source::Unit(p, _) => (&p.span, format!("unit {}", p.text())),
        };
        let d = match (&v.what, source) {
            (What::Outside { people }, Source::Signer(..)) => {
                let names = self.names(people);
                self.diag(
                    Code::ShieldedLeak,
                    span,
                    format!(
                        "`{written}` is outside the shielded group `{group}` ({names} {} not in it); a {kind} may not leave the group",
                        if people.len() == 1 { "is" } else { "are" },
                    ),
                )
                .with_help(format!(
                    "route this to a signer inside `{group}`, or add them to the group"
                ))
            }
            (What::Outside { people }, Source::Group(g)) => self
                .diag(
                    Code::ShieldedLeak,
                    span,
                    format!(
                        "the group `{}` reaches outside the shielded group `{group}` ({}); a {kind} may not leave the group",
                        g.text,
                        self.names(people)
                    ),
                )
                .with_help(format!("show it to `group {group}` or a group inside it")),
            (What::Outside { people }, Source::Unit(_, u)) => self
                .diag(
                    Code::ShieldedLeak,
                    span,
                    format!(
                        "the unit `{}` reaches outside the shielded group `{group}` ({}); a {kind} may not leave the group",
                        u.as_deref().unwrap_or_default(),
                        self.names(people)
                    ),
                )
                .with_help(format!("show it to a unit inside `{group}`")),
            (What::Unrefined { field }, Source::Signer(_, t)) => {
                let ty = if matches!(t, SignerTarget::PersonField(_)) {
                    "person"
                } else {
                    "unit"
                };
                self.diag(
                    Code::ShieldedLeak,
                    span,
                    format!(
                        "`{written}` depends on the field `{field}`, which may name someone outside the shielded group `{group}`; a {kind} may not leave the group"
                    ),
                )
                .with_help(self.refine_help(sh, field, ty))
            }
            (What::Unrefined { field }, _) => self
                .diag(
                    Code::ShieldedLeak,
                    span,
                    format!(
                        "`{written}` depends on the field `{field}`, which may name a unit outside the shielded group `{group}`"
                    ),
                )
                .with_help(self.refine_help(sh, field, "unit")),
            (
                What::SubstituteOutside {
                    holder,
                    declaration,
                    substitute,
                    people,
                },
                _,
            ) => {
                let Some((file, sub)) = self.substitute(sh, *declaration, *substitute) else {
                    return;
                };
                self.diag(
                    Code::ShieldedLeak,
                    span,
                    format!(
                        "when `{holder}` is absent, the substitute `{}` ({}) would receive this {kind} of the shielded group `{group}`",
                        sref_text(&sub),
                        self.names(people)
                    ),
                )
                .with_label(Span::new(&file, sub.span.clone()), "substitute declared here")
                .with_help(format!(
                    "choose a substitute inside `{group}` for `{holder}`"
                ))
            }
            (What::AllowEscalated { field }, _) => self
                .diag(
                    Code::AllowBeyondOwnSteps,
                    span,
                    format!(
                        "`{field}` is the `allow` exception of the shielded `{kind}`: the person in it may read the file and sign the steps that name `{field}`, but an escalation would hand them another step (whichever step is late, e.g. one of `{group}` about their own file)"
                    ),
                )
                .with_help(format!(
                    "escalate to someone inside `{group}`; the person in `{field}` only signs `sign {field}` steps"
                )),
            (What::OnlyToday { breach, substitute }, _) => {
                let mut d;
                let verb;
                match substitute {
                    Some((holder, declaration, at)) => {
                        let Some((file, sub)) = self.substitute(sh, *declaration, *at) else {
                            return;
                        };
                        d = self
                            .diag(
                                Code::ShieldedOnlyToday,
                                span,
                                format!(
                                    "when `{holder}` is absent, the substitute `{}` keeps this {kind} inside the shielded group `{group}` only because of who holds that role today",
                                    sref_text(&sub)
                                ),
                            )
                            .with_label(
                                Span::new(&file, sub.span.clone()),
                                "substitute declared here",
                            );
                        verb = "receive";
                    }
                    None => {
                        let (what, v) = match source {
                            Source::Signer(..) => ("who holds its roles", "receive"),
                            Source::Group(_) => ("who is in it", "see"),
                            Source::Unit(..) => ("who works there", "see"),
                        };
                        d = self.diag(
                            Code::ShieldedOnlyToday,
                            span,
                            format!(
                                "`{written}` keeps this {kind} inside the shielded group `{group}` only because of {what} today"
                            ),
                        );
                        verb = v;
                    }
                }
                let fix = match source {
                    Source::Signer(_, SignerTarget::Function(_, UnitRef::Field(field)))
                        if substitute.is_none() =>
                    {
                        format!(
                            "narrow the field: `{field}: unit in {}`",
                            self.group_unit(sh)
                        )
                    }
                    _ => format!(
                        "name a role whose every holder is inside `{group}` (a function of a unit inside it, or a role the group names)"
                    ),
                };
                d = d.with_help(only_today_help(breach, verb, kind, group, &fix));
                d
            }
            _ => return,
        };
        let d = d.with_label(sh.label.clone(), "shielded group defined here");
        self.report(d);
    }

    /// The substitute at `at` of the model's declaration `declaration`: its file and
    /// how it is written.
    fn substitute(
        &self,
        sh: &ShieldScope,
        declaration: usize,
        at: usize,
    ) -> Option<(String, SignerRef)> {
        let (decl, subs) = sh.model.substitutes.get(declaration)?;
        let decl = self.index.substitutes.get(*decl)?;
        let sub = decl.def.substitutes.get(*subs.get(at)?)?;
        Some((decl.file.clone(), sub.clone()))
    }

    /// The first unit the shielding group names (`UNIT` if none), for help lines.
    fn group_unit(&self, sh: &ShieldScope) -> String {
        self.index
            .group(&sh.group)
            .and_then(|g| {
                g.def.members.terms().into_iter().find_map(|t| match t {
                    GroupMembers::Unit(u) => Some(u.text.clone()),
                    _ => None,
                })
            })
            .unwrap_or_else(|| "UNIT".to_string())
    }

    /// A help line showing how to refine `field` so that it stays inside the shield.
    fn refine_help(&self, sh: &ShieldScope, field: &str, ty: &str) -> String {
        let target = match ty {
            "unit" => self.group_unit(sh),
            _ => sh.group.clone(),
        };
        format!(
            "the uploader fills in `{field}`, so anyone could end up here; declare `{field}: {ty} in {target}` on `document {}` so that only values inside `{}` are accepted",
            sh.kind, sh.group
        )
    }

    pub(super) fn names(&self, people: &[String]) -> String {
        let shown: Vec<&str> = people
            .iter()
            .take(3)
            .map(|p| self.org.person_name(p))
            .collect();
        let more = people.len().saturating_sub(3);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    }

    pub(super) fn leak(
        &mut self,
        sh: &ShieldScope,
        span: &Range<usize>,
        msg: String,
        help: String,
    ) {
        let d = self
            .diag(Code::ShieldedLeak, span, msg)
            .with_label(sh.label.clone(), "shielded group defined here")
            .with_help(help);
        self.report(d);
    }
}

/// The help of a P0026: which HR change would let an outsider in, and `fix`.
pub(super) fn only_today_help(
    breach: &Breach,
    verb: &str,
    kind: &str,
    group: &str,
    fix: &str,
) -> String {
    let change = match breach {
        Breach::Function { function, unit } => {
            format!("appointing someone `{function} of {unit}` (outside `{group}`)")
        }
        Breach::Mandate { mandate } => {
            format!("giving the mandate `{mandate}` to someone outside `{group}`")
        }
        Breach::UnitMember { unit } => {
            format!("a new position in `{unit}` for someone outside `{group}`")
        }
    };
    format!("an HR change would break this: {change} would let them {verb} this {kind}; {fix}")
}

/// A signer as written (`teamcoach of document.team`).
pub(super) fn sref_text(s: &SignerRef) -> String {
    match &s.of {
        Some(p) => format!("{} of {}", s.name.text, p.text()),
        None => s.name.text.clone(),
    }
}
