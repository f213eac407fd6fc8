//! Shielding: a document kind `shielded by GROUP` never reaches or shows itself to anyone
//! outside GROUP. Every flow of the kind (in any file), its audiences, signers,
//! escalations, the substitutes of every concrete role a signer can resolve to, and the
//! `notify` of a rule that starts such a flow are checked here. The runtime re-checks the
//! same rules on the compiled model (`paraaf_model::shield`) and at every routing decision.

use super::signers::{SignerTarget, UnitRef};
use super::types::Ty;
use super::{Ctx, Scope};
use crate::diagnostics::{Code, Span};
use crate::org::OrgKind;
use crate::syntax::ast::*;
use std::collections::BTreeSet;

/// The shield of one document kind, resolved against the organogram.
pub(crate) struct ShieldScope {
    /// The document kind.
    pub kind: String,
    /// The group's name.
    pub group: String,
    /// Who is inside today.
    pub members: BTreeSet<String>,
    /// The exception field (`allow FIELD`).
    pub allow: Option<String>,
    /// Where the group is defined.
    pub label: Span,
}

/// A field's refinement as the checker needs it.
enum Refined {
    /// No `in`.
    No,
    /// `unit in U`.
    Unit(String),
    /// `person in G`: the group's members.
    Group(BTreeSet<String>),
}

impl ShieldScope {
    /// Those of `people` who are not inside.
    fn outside<S: AsRef<str>>(&self, people: impl IntoIterator<Item = S>) -> Vec<String> {
        people
            .into_iter()
            .filter(|p| !self.members.contains(p.as_ref()))
            .map(|p| p.as_ref().to_string())
            .collect()
    }
}

impl Ctx<'_> {
    /// The shield of document kind `kind`, if it is shielded by a known group.
    pub(crate) fn shield_of(&self, kind: &str) -> Option<ShieldScope> {
        let doc = self.index.document(kind)?;
        let sh = doc.shield.as_ref()?;
        let g = self.index.group(&sh.group.text)?;
        Some(ShieldScope {
            kind: kind.to_string(),
            group: sh.group.text.clone(),
            members: self.group_members(&g.def),
            allow: sh.allow.as_ref().map(|a| a.text.clone()),
            label: Span::new(&g.file, g.def.name.span.clone()),
        })
    }

    fn refinement(&self, kind: &str, field: &str) -> Refined {
        let Some(f) = self
            .index
            .document(kind)
            .and_then(|d| d.fields.iter().find(|f| f.name.text == field))
        else {
            return Refined::No;
        };
        let Some(w) = &f.ty.within else {
            return Refined::No;
        };
        match f.ty.name.text.as_str() {
            "unit" => Refined::Unit(w.text.clone()),
            "person" => match self.index.group(&w.text) {
                Some(g) => Refined::Group(self.group_members(&g.def)),
                None => Refined::Group(BTreeSet::new()),
            },
            _ => Refined::No,
        }
    }

    /// A help line showing how to refine `field` so that it stays inside the shield.
    fn refine_help(&self, sh: &ShieldScope, field: &str, ty: &str) -> String {
        let target = match ty {
            "unit" => self
                .index
                .group(&sh.group)
                .and_then(|g| {
                    g.def.members.terms().into_iter().find_map(|t| match t {
                        GroupMembers::Unit(u) => Some(u.text.clone()),
                        _ => None,
                    })
                })
                .unwrap_or_else(|| "UNIT".to_string()),
            _ => sh.group.clone(),
        };
        format!(
            "the uploader fills in `{field}`, so anyone could end up here; declare `{field}: {ty} in {target}` on `document {}` so that only values inside `{}` are accepted",
            sh.kind, sh.group
        )
    }

    fn leak(&mut self, sh: &ShieldScope, span: &std::ops::Range<usize>, msg: String, help: String) {
        let d = self
            .diag(Code::ShieldedLeak, span, msg)
            .with_label(sh.label.clone(), "shielded group defined here")
            .with_help(help);
        self.report(d);
    }

    fn names(&self, people: &[String]) -> String {
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

    /// Everyone who could hold `t` for some document the kind accepts; `Err` names a
    /// field that is not refined.
    fn reachable(&self, sh: &ShieldScope, t: &SignerTarget) -> Result<BTreeSet<String>, String> {
        match t {
            SignerTarget::Function(f, UnitRef::Field(field)) => {
                match self.refinement(&sh.kind, field) {
                    Refined::Unit(u) => Ok(self
                        .org
                        .unit_and_descendants(&u)
                        .into_iter()
                        .flat_map(|unit| self.org.holders(f, Some(unit)))
                        .map(str::to_string)
                        .collect()),
                    _ => Err(field.clone()),
                }
            }
            SignerTarget::PersonField(field) if sh.allow.as_deref() == Some(field) => {
                Ok(BTreeSet::new())
            }
            SignerTarget::PersonField(field) => match self.refinement(&sh.kind, field) {
                Refined::Group(members) => Ok(members),
                _ => Err(field.clone()),
            },
            other => Ok(self.possible_holders(other)),
        }
    }

    /// The role keys (as substitutes are declared) `t` can resolve to.
    fn concrete_roles(&self, sh: &ShieldScope, t: &SignerTarget) -> BTreeSet<String> {
        match t {
            SignerTarget::Function(f, UnitRef::Field(field)) => {
                match self.refinement(&sh.kind, field) {
                    Refined::Unit(u) => self
                        .org
                        .unit_and_descendants(&u)
                        .into_iter()
                        .map(|unit| format!("{f} of {unit}"))
                        .collect(),
                    _ => BTreeSet::new(),
                }
            }
            // The person in the `allow` field signs themself: the runtime asks no
            // substitute for that step, so no substitute declaration can reach it.
            SignerTarget::PersonField(field) if sh.allow.as_deref() == Some(field) => {
                BTreeSet::new()
            }
            SignerTarget::PersonField(field) => match self.refinement(&sh.kind, field) {
                Refined::Group(members) => members,
                _ => BTreeSet::new(),
            },
            other => [other.key()].into_iter().collect(),
        }
    }

    /// Checks one signer (a step's, an escalation's, an audience's) against the shield,
    /// and the substitutes of every role it can resolve to.
    pub(crate) fn shield_signer(&mut self, sh: &ShieldScope, sref: &SignerRef, t: &SignerTarget) {
        match self.reachable(sh, t) {
            Err(field) => {
                let ty = if matches!(t, SignerTarget::PersonField(_)) {
                    "person"
                } else {
                    "unit"
                };
                let help = self.refine_help(sh, &field, ty);
                self.leak(
                    sh,
                    &sref.span,
                    format!(
                        "`{}` depends on the field `{field}`, which may name someone outside the shielded group `{}`; a {} may not leave the group",
                        sref_text(sref),
                        sh.group,
                        sh.kind
                    ),
                    help,
                );
                return;
            }
            Ok(people) => {
                let outside = sh.outside(people);
                if !outside.is_empty() {
                    let names = self.names(&outside);
                    self.leak(
                        sh,
                        &sref.span,
                        format!(
                            "`{}` is outside the shielded group `{}` ({names} {} not in it); a {} may not leave the group",
                            sref_text(sref),
                            sh.group,
                            if outside.len() == 1 { "is" } else { "are" },
                            sh.kind
                        ),
                        format!(
                            "route this to a signer inside `{}`, or add them to the group",
                            sh.group
                        ),
                    );
                }
            }
        }
        let roles = self.concrete_roles(sh, t);
        let index = self.index;
        for decl in &index.substitutes {
            let Some(ht) = self.quiet_signer(&decl.def.holder) else {
                continue;
            };
            if !roles.contains(&ht.key()) {
                continue;
            }
            for sub in &decl.def.substitutes {
                let Some(st) = self.quiet_signer(sub) else {
                    continue;
                };
                let out = sh.outside(self.possible_holders(&st));
                if out.is_empty() {
                    continue;
                }
                let d = self
                    .diag(
                        Code::ShieldedLeak,
                        &sref.span,
                        format!(
                            "when `{}` is absent, the substitute `{}` ({}) would receive this {} of the shielded group `{}`",
                            ht.key(),
                            sref_text(sub),
                            self.names(&out),
                            sh.kind,
                            sh.group
                        ),
                    )
                    .with_label(Span::new(&decl.file, sub.span.clone()), "substitute declared here")
                    .with_label(sh.label.clone(), "shielded group defined here")
                    .with_help(format!(
                        "choose a substitute inside `{}` for `{}`",
                        sh.group,
                        ht.key()
                    ));
                self.report(d);
            }
        }
    }

    /// An escalation to the `allow` field would hand the person in it a step that does
    /// not name them (the late step, whoever it belonged to): refused with P0025.
    /// Returns whether `t` is that field (then it needs no other shielding check).
    pub(crate) fn shield_escalation(
        &mut self,
        sh: &ShieldScope,
        sref: &SignerRef,
        t: &SignerTarget,
    ) -> bool {
        let SignerTarget::PersonField(field) = t else {
            return false;
        };
        if sh.allow.as_deref() != Some(field.as_str()) {
            return false;
        }
        let d = self
            .diag(
                Code::AllowBeyondOwnSteps,
                &sref.span,
                format!(
                    "`{field}` is the `allow` exception of the shielded `{}`: the person in it may read the file and sign the steps that name `{field}`, but an escalation would hand them another step (whichever step is late, e.g. one of `{}` about their own file)",
                    sh.kind, sh.group
                ),
            )
            .with_label(sh.label.clone(), "shielded group defined here")
            .with_help(format!(
                "escalate to someone inside `{}`; the person in `{field}` only signs `sign {field}` steps",
                sh.group
            ));
        self.report(d);
        true
    }

    /// Checks a flow's `visible to` against the shield of its kind.
    pub(crate) fn shield_audience(&mut self, sh: &ShieldScope, a: &Audience, scope: &mut Scope) {
        match a {
            Audience::Uploader(_) | Audience::Signers(_) => {}
            Audience::Group(g) => {
                let Some(def) = self.index.group(&g.text) else {
                    return;
                };
                let outside = sh.outside(self.group_members(&def.def));
                if !outside.is_empty() {
                    let names = self.names(&outside);
                    self.leak(
                        sh,
                        &g.span,
                        format!(
                            "the group `{}` reaches outside the shielded group `{}` ({names}); a {} may not leave the group",
                            g.text, sh.group, sh.kind
                        ),
                        format!("show it to `group {}` or a group inside it", sh.group),
                    );
                }
            }
            Audience::Unit(p) => {
                let is_org_unit = p.segments.len() == 1
                    && self.org.kind_of(&p.segments[0].text) == Some(OrgKind::Unit)
                    && !self
                        .record_fields(&sh.kind)
                        .iter()
                        .any(|(n, _)| *n == p.segments[0].text);
                let unit = if is_org_unit {
                    Some(p.segments[0].text.clone())
                } else {
                    if !matches!(self.path_ty(p, scope).unwrap_optional(), Ty::Unit) {
                        return;
                    }
                    let field = super::conditions::field_key(p);
                    match self.refinement(&sh.kind, &field) {
                        Refined::Unit(u) => Some(u),
                        _ => {
                            let help = self.refine_help(sh, &field, "unit");
                            self.leak(
                                sh,
                                &p.span,
                                format!(
                                    "`unit {}` depends on the field `{field}`, which may name a unit outside the shielded group `{}`",
                                    p.text(),
                                    sh.group
                                ),
                                help,
                            );
                            None
                        }
                    }
                };
                if let Some(u) = unit {
                    let outside = sh.outside(self.org.members_of_unit(&u));
                    if !outside.is_empty() {
                        let names = self.names(&outside);
                        self.leak(
                            sh,
                            &p.span,
                            format!(
                                "the unit `{u}` reaches outside the shielded group `{}` ({names}); a {} may not leave the group",
                                sh.group, sh.kind
                            ),
                            format!("show it to a unit inside `{}`", sh.group),
                        );
                    }
                }
            }
            Audience::Signer(s) => {
                if let Some(t) = self.quiet_signer_in(s, scope) {
                    self.shield_signer(sh, s, &t);
                }
            }
        }
    }
}

/// A signer as written (`teamcoach of document.team`).
fn sref_text(s: &SignerRef) -> String {
    match &s.of {
        Some(p) => format!("{} of {}", s.name.text, p.text()),
        None => s.name.text.clone(),
    }
}

/// A rule that starts a flow of a shielded kind may only notify people inside the group.
pub(super) fn check_rule(ctx: &mut Ctx, r: &RuleDef) {
    let mut started = Vec::new();
    let mut notified = Vec::new();
    collect(&r.body, &mut started, &mut notified);
    for flow in started {
        let Some(kind) = ctx.index.flow(&flow).map(|f| f.kind.text.clone()) else {
            continue;
        };
        let Some(sh) = ctx.shield_of(&kind) else {
            continue;
        };
        for target in &notified {
            let Some(t) = ctx.quiet_signer(target) else {
                // `diensthoofd of decision.dienst`: a unit of the event's record (or a
                // `let`), which may lie anywhere in the organisation.
                if let Some(of) = target.of.as_ref().filter(|of| of.segments.len() > 1) {
                    ctx.leak(
                        &sh,
                        &target.span,
                        format!(
                            "this rule starts `{flow}`, a {kind} of the shielded group `{}`, and notifies `{}`, which depends on `{}` and may be anyone outside it",
                            sh.group,
                            sref_text(target),
                            of.text()
                        ),
                        format!(
                            "notify a fixed signer inside `{}` (e.g. `notify diensthoofd of UNIT`), or drop the notification",
                            sh.group
                        ),
                    );
                }
                continue;
            };
            let outside = sh.outside(ctx.possible_holders(&t));
            if !outside.is_empty() || matches!(t, SignerTarget::PersonField(_)) {
                let names = ctx.names(&outside);
                ctx.leak(
                    &sh,
                    &target.span,
                    format!(
                        "this rule starts `{flow}`, a {kind} of the shielded group `{}`, and notifies `{}` ({names}), who is outside it",
                        sh.group,
                        sref_text(target)
                    ),
                    format!("notify someone inside `{}`, or drop the notification", sh.group),
                );
            }
        }
    }
}

fn collect<'a>(stmts: &'a [Stmt], started: &mut Vec<String>, notified: &mut Vec<&'a SignerRef>) {
    for s in stmts {
        match s {
            Stmt::If {
                then, otherwise, ..
            } => {
                collect(then, started, notified);
                collect(otherwise, started, notified);
            }
            Stmt::Action(Action {
                kind: ActionKind::Start { flow, .. },
                ..
            }) => started.push(flow.text.clone()),
            Stmt::Action(Action {
                kind: ActionKind::Notify { target, .. },
                ..
            }) => notified.push(target),
            _ => {}
        }
    }
}
