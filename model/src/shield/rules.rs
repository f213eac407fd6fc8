//! The shielding rules, stated once over the compiled model. [`Shielding`] checks a
//! project's declarations, each flow and each rule and returns [`Violation`]s: where
//! ([`Site`], by position in the model) and what ([`What`], with the people involved).
//! `deploy` and every fold of the log render the errors in words ([`super::verify`]);
//! `paraaf check` lowers each file's flows and rules with a source map from these sites
//! back to the source and reports the same violations with spans.

use super::any_holder::{Breach, group_breach, role_breach};
use super::{KindShield, ShieldIndex, is_field_based};
use crate::org_index::OrgIndex;
use crate::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// Where in a compiled project a violation is. Flows and rules are numbered as the caller
/// passed them ([`Shielding::flow`], [`Shielding::rule`]; in [`check`], their index in
/// the project).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// A group's declaration.
    Group(String),
    /// A document kind's declaration (its shield, a field's refinement).
    Kind(String),
    /// A flow as a whole.
    Flow(usize),
    /// The `index`-th audience of a flow's `visible to`.
    Audience {
        /// The flow.
        flow: usize,
        /// Position in `visible_to`.
        index: usize,
    },
    /// A signature of a step.
    Signature {
        /// The flow.
        flow: usize,
        /// Position of the step.
        step: usize,
        /// Position of the signature in the step.
        signature: usize,
    },
    /// A flow's escalation target.
    Escalation {
        /// The flow.
        flow: usize,
    },
    /// The `index`-th `notify` of a rule, in the order written (inside `if`s too).
    Notify {
        /// The rule.
        rule: usize,
        /// Position among the rule's `notify` statements.
        index: usize,
    },
}

/// What is wrong at a [`Site`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// A group marked `shielded` that shields no document kind.
    GroupShieldsNothing,
    /// A group whose stored members differ from what its definition gives.
    GroupMembersEdited,
    /// A field refined to a unit that does not exist.
    RefinedToNoUnit {
        /// The field.
        field: String,
        /// The unit named.
        unit: String,
    },
    /// A field refined to a group that does not exist.
    RefinedToNoGroup {
        /// The field.
        field: String,
        /// The group named.
        group: String,
    },
    /// A kind shielded by a group that does not exist.
    ShieldNoGroup {
        /// The group named.
        group: String,
    },
    /// An `allow` exception that is not a person field.
    AllowNotPersonField {
        /// The field named.
        field: String,
    },
    /// A flow for a document kind that does not exist.
    FlowNoKind {
        /// The kind named.
        kind: String,
    },
    /// An audience naming a group that does not exist.
    AudienceNoGroup {
        /// The group named.
        group: String,
    },
    /// A unit audience without a unit.
    AudienceNoUnit,
    /// A flow of a kind that is not shielded shows a group marked `shielded`: the group
    /// protects nothing there (its documents could still reach anyone).
    ShieldedGroupOfOtherKind {
        /// The group.
        group: String,
    },
    /// People outside the shield who hold the signer or audience today.
    Outside {
        /// Their ids, sorted.
        people: Vec<String>,
    },
    /// The signer or audience depends on a document field that is not refined to the
    /// group.
    Unrefined {
        /// The field.
        field: String,
    },
    /// A substitute declared for a role the signer resolves to is held by outsiders.
    SubstituteOutside {
        /// The role (`teamcoach of inkomen`).
        holder: String,
        /// Position of the declaration in `substitutes`.
        declaration: usize,
        /// Position of the substitute in the declaration.
        substitute: usize,
        /// The outsiders, sorted.
        people: Vec<String>,
    },
    /// A substitute that depends on a document field.
    SubstituteOnField {
        /// Position of the declaration in `substitutes`.
        declaration: usize,
        /// Position of the substitute in the declaration.
        substitute: usize,
    },
    /// An escalation to the `allow` field: it would hand the person in it another step.
    AllowEscalated {
        /// The field.
        field: String,
    },
    /// A rule starts a flow of a shielded kind and notifies outsiders.
    NotifyOutside {
        /// The flow started.
        flow: String,
        /// The kind of that flow.
        kind: String,
        /// The outsiders, sorted.
        people: Vec<String>,
    },
    /// A rule starts a flow of a shielded kind and notifies someone a field names.
    NotifyOnField {
        /// The flow started.
        flow: String,
        /// The kind of that flow.
        kind: String,
    },
    /// A rule starts a flow of a shielded kind and notifies a role that is inside today
    /// only because of who holds it (a warning).
    NotifyOnlyToday {
        /// The flow started.
        flow: String,
        /// The kind of that flow.
        kind: String,
        /// The change that would let an outsider be told.
        breach: Breach,
    },
    /// Inside today, but only because of who holds the roles today: `breach` names an
    /// organogram change that would let an outsider in (a warning, never refused).
    OnlyToday {
        /// The change.
        breach: Breach,
        /// For a substitute: the role, the declaration and the substitute's position.
        substitute: Option<(String, usize, usize)>,
    },
}

/// One violation of the shielding rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where.
    pub site: Site,
    /// What.
    pub what: What,
}

impl Violation {
    /// Whether it breaks the shield with today's organogram (refused by `deploy`), as
    /// opposed to holding only because of who holds the roles today (a warning).
    pub fn is_error(&self) -> bool {
        !matches!(
            self.what,
            What::OnlyToday { .. } | What::NotifyOnlyToday { .. }
        )
    }
}

/// Every violation of `project` on `org`: declarations, then each flow, then each rule.
pub fn check(project: &CompiledProject, org: &OrgIndex) -> Vec<Violation> {
    let s = Shielding::new(project, org);
    let mut out = s.declarations();
    for (i, f) in project.flows.iter().enumerate() {
        out.extend(s.flow(i, f));
    }
    for (i, r) in project.rules.iter().enumerate() {
        out.extend(s.rule(i, r));
    }
    out
}

/// The verifier over one project: its groups, kinds, substitutes and the organogram.
pub struct Shielding<'a> {
    project: &'a CompiledProject,
    org: &'a OrgIndex,
    idx: Cow<'a, ShieldIndex>,
}

impl<'a> Shielding<'a> {
    /// Indexes `project`'s shields on `org`.
    pub fn new(project: &'a CompiledProject, org: &'a OrgIndex) -> Shielding<'a> {
        Shielding {
            project,
            org,
            idx: Cow::Owned(ShieldIndex::new(project, org)),
        }
    }

    /// The verifier with `idx`, which must be `ShieldIndex::new(project, org)` (the
    /// checker keeps it across the flows and signers of one file).
    pub fn with_index(
        project: &'a CompiledProject,
        org: &'a OrgIndex,
        idx: &'a ShieldIndex,
    ) -> Shielding<'a> {
        Shielding {
            project,
            org,
            idx: Cow::Borrowed(idx),
        }
    }

    /// The shields and group memberships (recomputed from the definitions).
    pub fn index(&self) -> &ShieldIndex {
        &self.idx
    }

    /// The declarations: shielded groups, stored members, refinements, shields.
    pub fn declarations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut push = |site: Site, what: What| out.push(Violation { site, what });
        for g in &self.project.groups {
            let site = || Site::Group(g.name.clone());
            if g.shielded
                && !self
                    .project
                    .documents
                    .iter()
                    .any(|d| d.shielded_by.as_ref().is_some_and(|s| s.group == g.name))
            {
                push(site(), What::GroupShieldsNothing);
            }
            let stored: BTreeSet<String> = g.members.iter().cloned().collect();
            if self.idx.groups.get(&g.name) != Some(&stored) {
                push(site(), What::GroupMembersEdited);
            }
        }
        for d in &self.project.documents {
            let site = || Site::Kind(d.name.clone());
            for f in &d.fields {
                match &f.within {
                    Some(Within::Unit(u)) if !self.org.is_unit(u) => push(
                        site(),
                        What::RefinedToNoUnit {
                            field: f.name.clone(),
                            unit: u.clone(),
                        },
                    ),
                    Some(Within::Group(g)) if !self.idx.groups.contains_key(g) => push(
                        site(),
                        What::RefinedToNoGroup {
                            field: f.name.clone(),
                            group: g.clone(),
                        },
                    ),
                    _ => {}
                }
            }
            let Some(sh) = &d.shielded_by else { continue };
            if !self.idx.groups.contains_key(&sh.group) {
                push(
                    site(),
                    What::ShieldNoGroup {
                        group: sh.group.clone(),
                    },
                );
            }
            if let Some(a) = &sh.allow
                && !d.fields.iter().any(|f| &f.name == a && f.ty == "person")
            {
                push(site(), What::AllowNotPersonField { field: a.clone() });
            }
        }
        out
    }

    /// The violations of one flow (`i` numbers it in the sites).
    pub fn flow(&self, i: usize, flow: &Flow) -> Vec<Violation> {
        let mut out = Vec::new();
        let Some(doc) = self
            .project
            .documents
            .iter()
            .find(|d| d.name == flow.document)
        else {
            out.push(Violation {
                site: Site::Flow(i),
                what: What::FlowNoKind {
                    kind: flow.document.clone(),
                },
            });
            return out;
        };
        let Some(shield) = self.idx.kinds.get(&doc.name) else {
            for (index, a) in flow.visible_to.iter().enumerate() {
                if let Audience::Group { name } = a
                    && self
                        .project
                        .groups
                        .iter()
                        .any(|g| &g.name == name && g.shielded)
                {
                    out.push(Violation {
                        site: Site::Audience { flow: i, index },
                        what: What::ShieldedGroupOfOtherKind {
                            group: name.clone(),
                        },
                    });
                }
            }
            return out;
        };
        let v = FlowCheck {
            s: self,
            doc,
            shield,
            group: self
                .project
                .groups
                .iter()
                .find(|g| g.name == shield.group)
                .map(|g| &g.definition),
        };
        for (index, a) in flow.visible_to.iter().enumerate() {
            v.audience(a, Site::Audience { flow: i, index }, &mut out);
        }
        for (step, s) in flow.steps.iter().enumerate() {
            for (signature, sig) in s.signatures.iter().enumerate() {
                let site = Site::Signature {
                    flow: i,
                    step,
                    signature,
                };
                v.signer(&sig.signer, site, &mut out);
            }
        }
        if let Some(esc) = flow.deadline.as_ref().and_then(|d| d.escalate.as_ref()) {
            let site = Site::Escalation { flow: i };
            if self.idx.names_allow(&doc.name, &esc.to) {
                out.push(Violation {
                    site,
                    what: What::AllowEscalated {
                        field: shield.allow.clone().unwrap_or_default(),
                    },
                });
            } else {
                v.signer(&esc.to, site, &mut out);
            }
        }
        out
    }

    /// The violations of one rule (`i` numbers it in the sites): a rule that starts a
    /// flow of a shielded kind notifies only people inside its group.
    pub fn rule(&self, i: usize, rule: &Rule) -> Vec<Violation> {
        let mut started = Vec::new();
        let mut notified = Vec::new();
        collect(&rule.body, &mut started, &mut notified);
        let mut out = Vec::new();
        let none = BTreeMap::new();
        for f in started {
            let Some(kind) = self
                .project
                .flows
                .iter()
                .find(|x| x.name == f)
                .map(|x| &x.document)
            else {
                continue;
            };
            let Some(k) = self.idx.kinds.get(kind) else {
                continue;
            };
            for (index, to) in notified.iter().enumerate() {
                let site = Site::Notify { rule: i, index };
                let what = if is_field_based(to) {
                    What::NotifyOnField {
                        flow: f.clone(),
                        kind: kind.clone(),
                    }
                } else {
                    let people = outside(k, self.org.holders(to, &none));
                    if people.is_empty() {
                        let def = self.group_def(&k.group);
                        match def.and_then(|g| role_breach(g, to, self.org)) {
                            Some(breach) => What::NotifyOnlyToday {
                                flow: f.clone(),
                                kind: kind.clone(),
                                breach,
                            },
                            None => continue,
                        }
                    } else {
                        What::NotifyOutside {
                            flow: f.clone(),
                            kind: kind.clone(),
                            people,
                        }
                    }
                };
                out.push(Violation { site, what });
            }
        }
        out
    }

    fn group_def(&self, name: &str) -> Option<&'a GroupDefinition> {
        self.project
            .groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| &g.definition)
    }
}

/// Those of `people` outside the shield, sorted, once each.
fn outside(shield: &KindShield, people: impl IntoIterator<Item = String>) -> Vec<String> {
    people
        .into_iter()
        .filter(|p| !shield.members.contains(p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn collect<'a>(stmts: &'a [Stmt], started: &mut Vec<String>, notified: &mut Vec<&'a Signer>) {
    for s in stmts {
        match s {
            Stmt::If {
                then, otherwise, ..
            } => {
                collect(then, started, notified);
                collect(otherwise, started, notified);
            }
            Stmt::Start { flow, .. } => started.push(flow.clone()),
            Stmt::Notify { to, .. } => notified.push(to),
            _ => {}
        }
    }
}

/// One flow of a shielded kind.
struct FlowCheck<'s, 'a> {
    s: &'s Shielding<'a>,
    doc: &'a Document,
    shield: &'s KindShield,
    /// The shielding group's definition (absent: unknown group, nobody inside).
    group: Option<&'a GroupDefinition>,
}

impl FlowCheck<'_, '_> {
    fn field(&self, name: &str) -> Option<&Field> {
        self.doc.fields.iter().find(|f| f.name == name)
    }

    /// `Outside` when today's people include outsiders; else `OnlyToday` when `breach`
    /// finds an organogram change that would let one in.
    fn people(
        &self,
        people: impl IntoIterator<Item = String>,
        breach: impl FnOnce(&GroupDefinition) -> Option<Breach>,
        site: Site,
        out: &mut Vec<Violation>,
    ) {
        let people = outside(self.shield, people);
        let what = if !people.is_empty() {
            What::Outside { people }
        } else {
            match self.group.and_then(breach) {
                Some(breach) => What::OnlyToday {
                    breach,
                    substitute: None,
                },
                None => return,
            }
        };
        out.push(Violation { site, what });
    }

    fn audience(&self, a: &Audience, site: Site, out: &mut Vec<Violation>) {
        let org = self.s.org;
        match a {
            Audience::Uploader | Audience::Signers => {}
            Audience::Group { name } => match self.s.idx.groups.get(name) {
                Some(m) => {
                    let def = self.s.group_def(name);
                    self.people(
                        m.iter().cloned(),
                        |g| def.and_then(|d| group_breach(d, g, org)),
                        site,
                        out,
                    )
                }
                None => out.push(Violation {
                    site,
                    what: What::AudienceNoGroup {
                        group: name.clone(),
                    },
                }),
            },
            Audience::Unit {
                unit: UnitSel::Fixed(u),
            } => self.unit(u, site, out),
            Audience::Unit {
                unit: UnitSel::Field(f),
            } => match self.field(f).and_then(|f| f.within.as_ref()) {
                Some(Within::Unit(u)) => self.unit(u, site, out),
                _ => out.push(Violation {
                    site,
                    what: What::Unrefined { field: f.clone() },
                }),
            },
            Audience::Unit { unit: UnitSel::Any } => out.push(Violation {
                site,
                what: What::AudienceNoUnit,
            }),
            Audience::Signer { signer } => self.signer(signer, site, out),
        }
    }

    fn unit(&self, u: &str, site: Site, out: &mut Vec<Violation>) {
        let org = self.s.org;
        let def = GroupDefinition::Unit(u.to_string());
        self.people(
            org.members_of_unit(u),
            |g| group_breach(&def, g, org),
            site,
            out,
        );
    }

    /// The signer's reachable people stay inside, and so do the substitutes of every
    /// concrete role it resolves to.
    fn signer(&self, s: &Signer, site: Site, out: &mut Vec<Violation>) {
        let org = self.s.org;
        let none = BTreeMap::new();
        let unrefined = |field: &str, out: &mut Vec<Violation>| {
            out.push(Violation {
                site: site.clone(),
                what: What::Unrefined {
                    field: field.to_string(),
                },
            })
        };
        let roles: BTreeSet<String> = match s {
            // The person in the `allow` field signs themself: the runtime asks no
            // substitute for that step, so no substitute can reach it.
            Signer::PersonField { field } if self.shield.allow.as_ref() == Some(field) => {
                BTreeSet::new()
            }
            Signer::PersonField { field } => {
                match self.field(field).and_then(|f| f.within.as_ref()) {
                    Some(Within::Group(g)) => {
                        let m = self.s.idx.groups.get(g).cloned().unwrap_or_default();
                        let def = self.s.group_def(g);
                        self.people(
                            m.iter().cloned(),
                            |shield| def.and_then(|d| group_breach(d, shield, org)),
                            site.clone(),
                            out,
                        );
                        m
                    }
                    _ => {
                        unrefined(field, out);
                        return;
                    }
                }
            }
            Signer::Function {
                id,
                unit: UnitSel::Field(field),
            } => match self.field(field).and_then(|f| f.within.as_ref()) {
                Some(Within::Unit(u)) => {
                    let units = org.units_within(u);
                    self.people(
                        org.holders_within(id, u),
                        |g| {
                            units.iter().find_map(|unit| {
                                let role = Signer::Function {
                                    id: id.clone(),
                                    unit: UnitSel::Fixed(unit.clone()),
                                };
                                role_breach(g, &role, org)
                            })
                        },
                        site.clone(),
                        out,
                    );
                    units.iter().map(|unit| format!("{id} of {unit}")).collect()
                }
                _ => {
                    unrefined(field, out);
                    return;
                }
            },
            other => {
                self.people(
                    org.holders(other, &none),
                    |g| role_breach(g, other, org),
                    site.clone(),
                    out,
                );
                [org.role(other, &none)].into_iter().collect()
            }
        };
        for (declaration, decl) in self.s.project.substitutes.iter().enumerate() {
            if is_field_based(&decl.holder) || !roles.contains(&org.role(&decl.holder, &none)) {
                continue;
            }
            let holder = org.role(&decl.holder, &none);
            for (substitute, sub) in decl.substitutes.iter().enumerate() {
                let what = if is_field_based(sub) {
                    What::SubstituteOnField {
                        declaration,
                        substitute,
                    }
                } else {
                    let people = outside(self.shield, org.holders(sub, &none));
                    if !people.is_empty() {
                        What::SubstituteOutside {
                            holder: holder.clone(),
                            declaration,
                            substitute,
                            people,
                        }
                    } else {
                        match self.group.and_then(|g| role_breach(g, sub, org)) {
                            Some(breach) => What::OnlyToday {
                                breach,
                                substitute: Some((holder.clone(), declaration, substitute)),
                            },
                            None => continue,
                        }
                    }
                };
                out.push(Violation {
                    site: site.clone(),
                    what,
                });
            }
        }
    }
}
