//! Shielding in the checker: a document kind `shielded by GROUP` never reaches or shows
//! itself to anyone outside GROUP. The rules are not stated here but once, over the
//! compiled model (`paraaf_model::shield`): each audience, signer, escalation and rule
//! `notify` the checker resolved is lowered to the model (with the project's document
//! kinds, groups and substitutes as this file's checks see them), the verifier checks
//! it, and its violations are reported with the source's spans (the words are in
//! `shielding_report.rs`) as P0011 (outside the group today), P0025 (an escalation to
//! the `allow` person) or P0026 (inside only because of who holds a role today).
//! `deploy` and the runtime run the same verifier.

use super::shielding_report::{only_today_help, sref_text};
use super::signers::SignerTarget;
use super::types::Ty;
use super::{Ctx, Scope};
use crate::compile::model_signer;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::org::OrgKind;
use crate::syntax::ast::*;
use paraaf_model as m;
use paraaf_model::shield::{Shielding, Site, Violation, What};
use std::rc::Rc;

/// The project's declarations lowered to the model, as this file's checks see them.
pub(crate) struct ShieldModel<'o> {
    /// Document kinds, groups, resolved substitutes, and every flow as its name and
    /// kind (no organogram: the verifier reads `org`).
    project: m::CompiledProject,
    /// The organogram's index (the one the checker's organogram holds).
    org: &'o m::OrgIndex,
    /// The shields and group members of `project` on `org`.
    shields: m::shield::ShieldIndex,
    /// For each of `project.substitutes`: the declaration of the index it was lowered
    /// from, and the position there of each of its substitutes.
    pub(super) substitutes: Vec<(usize, Vec<usize>)>,
}

/// The shield of one document kind, with the model the verifier checks against.
pub(crate) struct ShieldScope<'o> {
    /// The document kind.
    pub kind: String,
    /// The group's name.
    pub group: String,
    /// Where the group is defined.
    pub label: Span,
    pub(super) model: Rc<ShieldModel<'o>>,
}

/// Where a lowered audience or signer was written, to report the verifier's findings.
pub(super) enum Source<'a> {
    /// A signer (a step's, an escalation's, an audience's).
    Signer(&'a SignerRef, &'a SignerTarget),
    /// `group NAME`.
    Group(&'a Name),
    /// `unit X`, with the unit whose members it shows (the refinement of a field).
    Unit(&'a Path, Option<String>),
}

impl<'a> Ctx<'a> {
    /// The shield of document kind `kind`, if it is shielded by a known group.
    pub(crate) fn shield_of(&self, kind: &str) -> Option<ShieldScope<'a>> {
        self.shield_declared(kind)?;
        self.shield_scope(kind, &Rc::new(self.shield_model()))
    }

    fn shield_declared(&self, kind: &str) -> Option<(String, Span)> {
        let sh = self.index.document(kind)?.shield.as_ref()?;
        let g = self.index.group(&sh.group.text)?;
        Some((
            sh.group.text.clone(),
            Span::new(&g.file, g.def.name.span.clone()),
        ))
    }

    fn shield_scope(&self, kind: &str, model: &Rc<ShieldModel<'a>>) -> Option<ShieldScope<'a>> {
        let (group, label) = self.shield_declared(kind)?;
        Some(ShieldScope {
            kind: kind.to_string(),
            group,
            label,
            model: model.clone(),
        })
    }

    /// Lowers the document kinds, groups and substitutes of the project (as far as
    /// this file's checks read them) and every flow's name and kind.
    fn shield_model(&self) -> ShieldModel<'a> {
        let mut project = m::CompiledProject {
            schema: m::SCHEMA.to_string(),
            city: String::new(),
            documents: crate::compile::documents(self.index),
            groups: crate::compile::groups(self.org, self.index),
            substitutes: Vec::new(),
            agencies: Vec::new(),
            flows: Vec::new(),
            rules: Vec::new(),
            organogram: m::Organogram::default(),
        };
        let mut substitutes = Vec::new();
        for (i, decl) in self.index.substitutes.iter().enumerate() {
            // Unresolved names are reported where they are declared.
            let Some(holder) = self.quiet_signer(&decl.def.holder) else {
                continue;
            };
            let (subs, at): (Vec<m::Signer>, Vec<usize>) = decl
                .def
                .substitutes
                .iter()
                .enumerate()
                .filter_map(|(j, s)| Some((model_signer(self.quiet_signer(s)?), j)))
                .unzip();
            project.substitutes.push(m::Substitutes {
                holder: model_signer(holder),
                substitutes: subs,
            });
            substitutes.push((i, at));
        }
        project.flows = self
            .index
            .flows
            .values()
            .filter_map(|v| v.first())
            .map(|f| flow(&f.def.name.text, &f.def.kind.text))
            .collect();
        let org = &self.org.lookup;
        let shields = m::shield::ShieldIndex::new(&project, org);
        ShieldModel {
            project,
            org,
            shields,
            substitutes,
        }
    }

    /// Checks one signer (a step's or an audience's) against the shield, and the
    /// substitutes of every role it can resolve to.
    pub(crate) fn shield_signer(&mut self, sh: &ShieldScope, sref: &SignerRef, t: &SignerTarget) {
        let mut f = flow("", &sh.kind);
        f.steps.push(m::Step {
            name: String::new(),
            mode: m::StepMode::Single,
            when: None,
            signatures: vec![m::Signature {
                signer: model_signer(t.clone()),
                when: None,
            }],
        });
        for v in self.verify_flow(sh, &f) {
            self.report_at(sh, &Source::Signer(sref, t), &v);
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
        let mut f = flow("", &sh.kind);
        f.deadline = Some(m::Deadline {
            remind_after: m::Duration {
                amount: Default::default(),
                unit: m::DurationUnit::Days,
            },
            escalate: Some(m::Escalation {
                after: m::Duration {
                    amount: Default::default(),
                    unit: m::DurationUnit::Days,
                },
                to: model_signer(t.clone()),
            }),
        });
        // The other findings are the signer's, reported as such by `shield_signer`.
        let allow: Vec<Violation> = self
            .verify_flow(sh, &f)
            .into_iter()
            .filter(|v| matches!(v.what, What::AllowEscalated { .. }))
            .collect();
        for v in &allow {
            self.report_at(sh, &Source::Signer(sref, t), v);
        }
        !allow.is_empty()
    }

    /// Checks a flow's `visible to` against the shield of its kind.
    pub(crate) fn shield_audience(&mut self, sh: &ShieldScope, a: &Audience, scope: &mut Scope) {
        let (audience, target) = match a {
            Audience::Uploader(_) | Audience::Signers(_) => return,
            Audience::Group(g) => {
                if self.index.group(&g.text).is_none() {
                    return;
                }
                let aud = m::Audience::Group {
                    name: g.text.clone(),
                };
                (aud, None)
            }
            Audience::Unit(p) => {
                let is_org_unit = p.segments.len() == 1
                    && self.org.kind_of(&p.segments[0].text) == Some(OrgKind::Unit)
                    && !self
                        .record_fields(&sh.kind)
                        .iter()
                        .any(|(n, _)| *n == p.segments[0].text);
                let unit = if is_org_unit {
                    m::UnitSel::Fixed(p.segments[0].text.clone())
                } else if matches!(self.path_ty(p, scope).unwrap_optional(), Ty::Unit) {
                    m::UnitSel::Field(super::conditions::field_key(p))
                } else {
                    return;
                };
                (m::Audience::Unit { unit }, None)
            }
            Audience::Signer(s) => match self.quiet_signer_in(s, scope) {
                Some(t) => {
                    let signer = model_signer(t.clone());
                    (m::Audience::Signer { signer }, Some((s, t)))
                }
                None => return,
            },
        };
        let shown = match &audience {
            m::Audience::Unit {
                unit: m::UnitSel::Fixed(u),
            } => Some(u.clone()),
            m::Audience::Unit {
                unit: m::UnitSel::Field(f),
            } => sh.model.refined_unit(&sh.kind, f),
            _ => None,
        };
        let mut f = flow("", &sh.kind);
        f.visible_to.push(audience);
        let found = self.verify_flow(sh, &f);
        let source = match (a, &target) {
            (_, Some((s, t))) => Source::Signer(s, t),
            (Audience::Group(g), _) => Source::Group(g),
            (Audience::Unit(p), _) => Source::Unit(p, shown),
            _ => return,
        };
        for v in &found {
            self.report_at(sh, &source, v);
        }
    }

    /// A flow of a kind that is not shielded may not show a group marked `shielded`: the
    /// group would protect nothing there.
    pub(crate) fn shield_other_kind(&mut self, f: &FlowDef) {
        if self.index.document(&f.kind.text).is_none() {
            return;
        }
        let shown: Vec<&Name> = f
            .visible
            .iter()
            .filter_map(|a| match a {
                Audience::Group(g) if self.index.group(&g.text).is_some() => Some(g),
                _ => None,
            })
            .collect();
        if shown.is_empty() {
            return;
        }
        let mut lowered = flow("", &f.kind.text);
        lowered.visible_to = shown
            .iter()
            .map(|g| m::Audience::Group {
                name: g.text.clone(),
            })
            .collect();
        let found = self.shield_model().verifier().flow(0, &lowered);
        for v in found {
            let (Site::Audience { index, .. }, What::ShieldedGroupOfOtherKind { group }) =
                (&v.site, &v.what)
            else {
                continue;
            };
            let (Some(g), Some(def)) = (shown.get(*index), self.index.group(group)) else {
                continue;
            };
            let label = Span::new(&def.file, def.def.name.span.clone());
            let d = self
                .diag(
                    Code::ShieldedLeak,
                    &g.span,
                    format!(
                        "the group `{group}` is shielded, but the document kind `{}` is not shielded by it: its documents could still reach anyone",
                        f.kind.text
                    ),
                )
                .with_label(label, "shielded group defined here")
                .with_help(format!(
                    "declare the shield on the kind: `document {} shielded by {group} {{ ... }}`",
                    f.kind.text
                ));
            self.report(d);
        }
    }

    fn verify_flow(&self, sh: &ShieldScope, f: &m::Flow) -> Vec<Violation> {
        sh.model.verifier().flow(0, f)
    }
}

impl ShieldModel<'_> {
    fn verifier(&self) -> Shielding<'_> {
        Shielding::with_index(&self.project, self.org, &self.shields)
    }

    /// The unit a `unit` field of `kind` is refined to.
    fn refined_unit(&self, kind: &str, field: &str) -> Option<String> {
        let d = self.project.documents.iter().find(|d| d.name == kind)?;
        match &d.fields.iter().find(|f| f.name == field)?.within {
            Some(m::Within::Unit(u)) => Some(u.clone()),
            _ => None,
        }
    }
}

/// A flow of `kind` with nothing in it yet.
fn flow(name: &str, kind: &str) -> m::Flow {
    m::Flow {
        name: name.to_string(),
        document: kind.to_string(),
        when: None,
        visible_to: Vec::new(),
        steps: Vec::new(),
        on_refused: m::OnRefused::Stop,
        deadline: None,
    }
}

/// The declarations' violations the checker reports as P0011: a group marked `shielded`
/// that shields no document kind (at its `shielded`).
pub(super) fn check_declarations(ctx: &mut Ctx) {
    if !ctx
        .index
        .groups
        .values()
        .flatten()
        .any(|g| g.def.shielded.is_some())
    {
        return;
    }
    let found = ctx.shield_model().verifier().declarations();
    for v in found {
        let (Site::Group(name), What::GroupShieldsNothing) = (&v.site, &v.what) else {
            continue;
        };
        let Some(g) = ctx.index.groups.get(name).and_then(|l| l.first()) else {
            continue;
        };
        let Some(kw) = &g.def.shielded else { continue };
        let d = Diagnostic::new(
            Code::ShieldedLeak,
            Span::new(&g.file, kw.clone()),
            format!("the group `{name}` is shielded, but no document kind is shielded by it, so nothing is protected"),
        )
        .with_label(Span::new(&g.file, g.def.name.span.clone()), "the group")
        .with_help(format!("declare the shield on the document kind: `document KIND shielded by {name} {{ ... }}`"));
        ctx.report(d);
    }
}

/// A rule that starts a flow of a shielded kind may only notify people inside the group.
pub(super) fn check_rule(ctx: &mut Ctx, r: &RuleDef) {
    let mut started = Vec::new();
    let mut notified = Vec::new();
    collect(&r.body, &mut started, &mut notified);
    let shielded = started.iter().any(|f| {
        ctx.index
            .flow(f)
            .is_some_and(|f| ctx.shield_declared(&f.kind.text).is_some())
    });
    if !shielded {
        return;
    }
    // Lowered: the flows started, then every `notify` that names someone (the written
    // target of each, by position, in `written`).
    let mut body: Vec<m::Stmt> = started
        .iter()
        .map(|f| m::Stmt::Start {
            flow: f.clone(),
            fields: Vec::new(),
        })
        .collect();
    let mut written = Vec::new();
    for target in notified {
        let to = match ctx.quiet_signer(target) {
            Some(t) => model_signer(t),
            // `diensthoofd of decision.dienst`: a unit of the event's record (or a
            // `let`), which may lie anywhere in the organisation.
            None => match target.of.as_ref().filter(|of| of.segments.len() > 1) {
                Some(of) => m::Signer::Function {
                    id: target.name.text.clone(),
                    unit: m::UnitSel::Field(of.text()),
                },
                // Unknown: reported where it is written.
                None => continue,
            },
        };
        body.push(m::Stmt::Notify {
            to,
            message: String::new(),
        });
        written.push(target);
    }
    let rule = m::Rule {
        name: r.name.text.clone(),
        event: r.event.text.clone(),
        when: None,
        body,
    };
    let model = Rc::new(ctx.shield_model());
    let found = model.verifier().rule(0, &rule);
    for v in found {
        let Site::Notify { index, .. } = v.site else {
            continue;
        };
        let Some(target) = written.get(index).copied() else {
            continue;
        };
        let (flow, kind) = match &v.what {
            What::NotifyOutside { flow, kind, .. }
            | What::NotifyOnField { flow, kind }
            | What::NotifyOnlyToday { flow, kind, .. } => (flow, kind),
            _ => continue,
        };
        let Some(sh) = ctx.shield_scope(kind, &model) else {
            continue;
        };
        let group = &sh.group;
        match &v.what {
            What::NotifyOnField { .. }
                if target.of.as_ref().is_some_and(|of| of.segments.len() > 1) =>
            {
                let of = target.of.as_ref().map(Path::text).unwrap_or_default();
                ctx.leak(
                    &sh,
                    &target.span,
                    format!(
                        "this rule starts `{flow}`, a {kind} of the shielded group `{group}`, and notifies `{}`, which depends on `{of}` and may be anyone outside it",
                        sref_text(target),
                    ),
                    format!(
                        "notify a fixed signer inside `{group}` (e.g. `notify diensthoofd of UNIT`), or drop the notification"
                    ),
                );
            }
            What::NotifyOnField { .. } | What::NotifyOutside { .. } => {
                let people = match &v.what {
                    What::NotifyOutside { people, .. } => people.as_slice(),
                    _ => &[],
                };
                let names = ctx.names(people);
                ctx.leak(
                    &sh,
                    &target.span,
                    format!(
                        "this rule starts `{flow}`, a {kind} of the shielded group `{group}`, and notifies `{}` ({names}), who is outside it",
                        sref_text(target)
                    ),
                    format!("notify someone inside `{group}`, or drop the notification"),
                );
            }
            What::NotifyOnlyToday { breach, .. } => {
                let d: Diagnostic = ctx
                    .diag(
                        Code::ShieldedOnlyToday,
                        &target.span,
                        format!(
                            "this rule starts `{flow}`, a {kind} of the shielded group `{group}`, and notifies `{}`, who is inside it only because of who holds that role today",
                            sref_text(target)
                        ),
                    )
                    .with_label(sh.label.clone(), "shielded group defined here")
                    .with_help(only_today_help(
                        breach,
                        "be told of",
                        kind,
                        group,
                        &format!("notify a role whose every holder is inside `{group}`, or drop the notification"),
                    ));
                ctx.report(d);
            }
            _ => {}
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
