//! Signers (function, mandate or person, optionally `of` a unit) and groups.

use super::conditions::field_key;
use super::types::Ty;
use super::{Ctx, Scope};
use crate::diagnostics::Code;
use crate::org::OrgKind;
use crate::syntax::ast::{GroupDef, GroupMembers, SignerRef};
use std::collections::BTreeSet;

/// Which unit a function is held in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitRef {
    /// Any unit (a function held once in the organisation).
    Any,
    /// A fixed unit.
    Fixed(String),
    /// The unit in a document field.
    Field(String),
}

/// A resolved signer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SignerTarget {
    /// A named person.
    Person(String),
    /// Whoever holds a mandate.
    Mandate(String),
    /// Whoever holds a function (in a unit).
    Function(String, UnitRef),
    /// The person named in a document field (e.g. the reviewed employee).
    PersonField(String),
}

impl SignerTarget {
    /// A key identifying the role, as used for substitutes (`diensthoofd of x`).
    pub fn key(&self) -> String {
        match self {
            SignerTarget::Person(id) | SignerTarget::Mandate(id) => id.clone(),
            SignerTarget::Function(id, UnitRef::Any) => id.clone(),
            SignerTarget::Function(id, UnitRef::Fixed(u) | UnitRef::Field(u)) => {
                format!("{id} of {u}")
            }
            SignerTarget::PersonField(f) => format!("document.{f}"),
        }
    }
}

impl Ctx<'_> {
    /// Resolves `s` to a signer; reports unknown or wrong names. `scope` resolves `of document.x`.
    pub(crate) fn signer(&mut self, s: &SignerRef, scope: &mut Scope) -> Option<SignerTarget> {
        let id = s.name.text.clone();
        let field = scope
            .doc
            .as_ref()
            .and_then(|d| self.record_fields(d).into_iter().find(|(n, _)| *n == id));
        // An organogram name keeps its meaning; a field named like it is P0023.
        let field = field.filter(|_| self.org.kind_of(&id).is_none());
        if let (Some((_, ty)), None, Some(kind)) = (field, &s.of, scope.doc.clone()) {
            self.record_field(&s.name.span, &kind, &id, ty.clone());
            return match ty {
                Ty::Person => Some(SignerTarget::PersonField(id)),
                Ty::Optional(inner) if *inner == Ty::Person && scope.narrowed.contains(&id) => {
                    Some(SignerTarget::PersonField(id))
                }
                Ty::Optional(inner) if *inner == Ty::Person => {
                    let d = self.diag(
                        Code::OptionalNotHandled,
                        &s.name.span,
                        format!("the field `{id}` is optional (person?) and may be missing, but signs here"),
                    );
                    self.report(d.with_help(format!(
                        "ask for the signature only when it is there: `sign {id} when {id} != none`"
                    )));
                    None
                }
                other => {
                    let d = self.diag(
                        Code::WrongKind,
                        &s.name.span,
                        format!("the field `{id}` is a {other}; only a person field can sign"),
                    );
                    self.report(d.with_help(
                        "declare the field as `person`, or name a function, mandate or person",
                    ));
                    None
                }
            };
        }
        let kind = match self.org.kind_of(&id) {
            Some(k) => k,
            None => {
                let cands: Vec<String> = self
                    .org
                    .ids()
                    .filter(|(_, k)| *k != OrgKind::Unit)
                    .map(|(i, _)| i.to_string())
                    .collect();
                self.unknown(
                    &s.name,
                    "function, mandate or person",
                    cands.iter().map(String::as_str),
                );
                return None;
            }
        };
        let target = self.signer_of_kind(s, kind, scope);
        let unit = match &target {
            Some(SignerTarget::Function(_, u)) => u.clone(),
            _ => UnitRef::Any,
        };
        let entity = match kind {
            OrgKind::Function | OrgKind::Mandate => crate::semantic::Entity::Role {
                id: id.clone(),
                kind,
                unit,
            },
            _ => crate::semantic::Entity::org(self.org, &id, kind),
        };
        self.record(&s.name.span, entity);
        target
    }

    /// The signer `s`, whose name is an organogram entry of `kind`: reports what is wrong
    /// with it or with its `of`.
    fn signer_of_kind(
        &mut self,
        s: &SignerRef,
        kind: OrgKind,
        scope: &mut Scope,
    ) -> Option<SignerTarget> {
        let id = s.name.text.clone();
        // `of UNIT`: the unit itself, whatever the signer's kind.
        if let Some([one]) = s.of.as_ref().map(|of| of.segments.as_slice())
            && self.org.kind_of(&one.text) == Some(OrgKind::Unit)
        {
            self.record_org(&one.span, &one.text, OrgKind::Unit);
        }
        match (kind, &s.of) {
            (OrgKind::Unit, _) => {
                let mut d = self.diag(
                    Code::WrongKind,
                    &s.name.span,
                    format!(
                        "`{id}` is a unit; a unit cannot sign, a function, mandate or person signs"
                    ),
                );
                if let Some(l) = self.org_label(&id) {
                    d = d.with_label(l, "the unit is defined here");
                }
                self.report(d.with_help(format!("write e.g. `diensthoofd of {id}`")));
                None
            }
            (OrgKind::Function, None) => Some(SignerTarget::Function(id, UnitRef::Any)),
            (OrgKind::Function, Some(of)) => {
                if of.segments.len() == 1
                    && self.org.kind_of(&of.segments[0].text) == Some(OrgKind::Unit)
                {
                    // Held in exactly this unit: not in the units below it.
                    return Some(SignerTarget::Function(
                        id,
                        UnitRef::Fixed(of.segments[0].text.clone()),
                    ));
                }
                if of.segments.len() == 1
                    && scope.doc.is_none()
                    && self.org.kind_of(&of.segments[0].text).is_none()
                {
                    let units: Vec<String> = self.org.units.iter().map(|u| u.id.clone()).collect();
                    self.unknown(&of.segments[0], "unit", units.iter().map(String::as_str));
                    return None;
                }
                let ty = self.path_ty(of, scope);
                let e = crate::syntax::ast::Expr {
                    kind: crate::syntax::ast::ExprKind::Path(of.clone()),
                    span: of.span.clone(),
                };
                if !self.expect_present(&e, &ty, "the unit of a signer") {
                    return None;
                }
                match ty {
                    Ty::Unit => Some(SignerTarget::Function(id, UnitRef::Field(field_key(of)))),
                    Ty::Unknown => None,
                    other => {
                        let d = self.diag(
                            Code::WrongKind,
                            &of.span,
                            format!("`of` needs a unit, but `{}` is a {other}", of.text()),
                        );
                        self.report(d.with_help(
                            "name a unit from the organogram or a field of type `unit`",
                        ));
                        None
                    }
                }
            }
            (k, Some(of)) => {
                let d = self.diag(
                    Code::WrongKind,
                    &of.span,
                    format!(
                        "`{id}` is a {}; only a function is held in a unit",
                        k.word()
                    ),
                );
                self.report(d.with_help(format!("remove `of {}`", of.text())));
                None
            }
            (OrgKind::Mandate, None) => Some(SignerTarget::Mandate(id)),
            (OrgKind::Person, None) => Some(SignerTarget::Person(id)),
        }
    }

    /// Everyone who could be asked to sign as `t` today.
    pub(crate) fn possible_holders(&self, t: &SignerTarget) -> BTreeSet<String> {
        let set = match t {
            SignerTarget::Person(id) | SignerTarget::Mandate(id) => self.org.holders(id, None),
            SignerTarget::Function(id, UnitRef::Fixed(u)) => self.org.holders(id, Some(u)),
            SignerTarget::Function(id, _) => self.org.holders(id, None),
            SignerTarget::PersonField(_) => {
                return self.org.people.iter().map(|p| p.id.clone()).collect();
            }
        };
        set.into_iter().map(str::to_string).collect()
    }

    /// Warns when nobody holds the signer's function or mandate today.
    pub(crate) fn warn_vacant(&mut self, s: &SignerRef, t: &SignerTarget) {
        if matches!(t, SignerTarget::Person(_) | SignerTarget::PersonField(_))
            || !self.possible_holders(t).is_empty()
        {
            return;
        }
        let name = self
            .org
            .display_name(&s.name.text)
            .unwrap_or(&s.name.text)
            .to_string();
        let d = match t {
            SignerTarget::Function(_, UnitRef::Fixed(u)) => {
                self.diag(
                    Code::VacantInUnit,
                    &s.span,
                    format!("nobody is {name} of `{u}` today: the step would wait forever"),
                )
                .with_help("appoint someone in the organogram, or route the step to another signer")
            }
            SignerTarget::Person(_) | SignerTarget::PersonField(_) => return,
            _ => {
                self.diag(
                    Code::NoHolder,
                    &s.name.span,
                    format!("nobody holds `{}` ({name}) today", s.name.text),
                )
                .with_help("appoint someone in the organogram, or route the step to another signer")
            }
        };
        let d = match self.org_label(&s.name.text) {
            Some(l) => d.with_label(l, "defined here, without holder"),
            None => d,
        };
        self.report(d);
    }

    /// People in a group.
    pub(crate) fn group_members(&self, g: &GroupDef) -> BTreeSet<String> {
        self.members_of(&g.members)
    }

    fn members_of(&self, m: &GroupMembers) -> BTreeSet<String> {
        match m {
            GroupMembers::Union(parts) => parts.iter().flat_map(|p| self.members_of(p)).collect(),
            GroupMembers::Unit(u) => self
                .org
                .members_of_unit(&u.text)
                .into_iter()
                .map(str::to_string)
                .collect(),
            GroupMembers::People(refs) => refs
                .iter()
                .filter_map(|r| self.quiet_signer(r))
                .flat_map(|t| self.possible_holders(&t))
                .collect(),
        }
    }

    /// Resolves a signer in a flow's scope without reporting (reported where it is
    /// written). The compiler lowers signers through this too: one resolver of signers.
    pub(crate) fn quiet_signer_in(&self, s: &SignerRef, scope: &mut Scope) -> Option<SignerTarget> {
        let mut quiet = Ctx::new(self.org, self.org_file, self.index, self.file);
        quiet.signer(s, scope)
    }

    /// Resolves a signer without reporting (it is reported where it is declared).
    pub(crate) fn quiet_signer(&self, s: &SignerRef) -> Option<SignerTarget> {
        self.quiet_signer_in(s, &mut Scope::default())
    }
}

pub(super) fn check_group(ctx: &mut Ctx, g: &GroupDef) {
    for term in g.members.terms() {
        match term {
            GroupMembers::Unit(u) => {
                if ctx.org.kind_of(&u.text) != Some(OrgKind::Unit) {
                    let units: Vec<String> = ctx.org.units.iter().map(|u| u.id.clone()).collect();
                    ctx.unknown(u, "unit", units.iter().map(String::as_str));
                } else {
                    ctx.record_org(&u.span, &u.text, OrgKind::Unit);
                }
            }
            GroupMembers::People(refs) => {
                for r in refs {
                    ctx.signer(r, &mut Scope::default());
                }
            }
            GroupMembers::Union(_) => {}
        }
    }
}
