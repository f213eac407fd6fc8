//! Shielding on the compiled model, stated once. The rules live in [`check`] (module
//! `rules`): every flow, audience, signer, escalation, substitute and rule `notify` of a
//! shielded kind, as [`Violation`]s at a [`Site`] of the model; `any_holder` proves a
//! role inside for whoever HR appoints ([`Breach`]: the change that would let an outsider
//! in). `paraaf check` reports them with spans (the compiler lowers each file with a
//! source map onto these sites), `deploy` and every fold of the log refuse the errors
//! ([`verify`]), and the runtime asks, at every routing decision and read, whether a
//! person is inside a document's shield ([`ShieldIndex::inside`]). Group membership is
//! always recomputed from the group's definition and the organogram snapshot; the
//! `members` list stored in the JSON is only compared, never trusted.

mod any_holder;
mod rules;

pub use any_holder::{Breach, group_breach, role_breach};
pub use rules::{Shielding, Site, Violation, What, check};

use crate::org_index::OrgIndex;
use crate::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The shield of one document kind.
#[derive(Clone, Debug, Default)]
pub struct KindShield {
    /// The group's name.
    pub group: String,
    /// Who is inside (recomputed from the group's definition).
    pub members: BTreeSet<String>,
    /// The exception field: the person it names may read and sign too.
    pub allow: Option<String>,
}

/// Shields and group memberships of one compiled project.
#[derive(Clone, Debug, Default)]
pub struct ShieldIndex {
    /// Group name → members, recomputed from the definitions.
    pub groups: BTreeMap<String, BTreeSet<String>>,
    /// Document kind → its shield.
    pub kinds: BTreeMap<String, KindShield>,
}

/// Everyone a group definition denotes in the organogram snapshot.
pub fn group_members(def: &GroupDefinition, org: &OrgIndex) -> BTreeSet<String> {
    let none = BTreeMap::new();
    match def {
        GroupDefinition::Unit(u) => org.members_of_unit(u),
        GroupDefinition::People(signers) => signers
            .iter()
            .filter(|s| !is_field_based(s))
            .flat_map(|s| org.holders(s, &none))
            .filter(|p| org.is_person(p))
            .collect(),
        GroupDefinition::Union(parts) => parts.iter().flat_map(|p| group_members(p, org)).collect(),
    }
}

pub(crate) fn is_field_based(s: &Signer) -> bool {
    matches!(
        s,
        Signer::PersonField { .. }
            | Signer::Function {
                unit: UnitSel::Field(_),
                ..
            }
    )
}

impl ShieldIndex {
    /// Indexes the shields of `project`.
    pub fn new(project: &CompiledProject, org: &OrgIndex) -> ShieldIndex {
        let groups: BTreeMap<String, BTreeSet<String>> = project
            .groups
            .iter()
            .map(|g| (g.name.clone(), group_members(&g.definition, org)))
            .collect();
        let kinds = project
            .documents
            .iter()
            .filter_map(|d| {
                let sh = d.shielded_by.as_ref()?;
                Some((
                    d.name.clone(),
                    KindShield {
                        group: sh.group.clone(),
                        // An unknown group shields with nobody inside: deny, never allow.
                        members: groups.get(&sh.group).cloned().unwrap_or_default(),
                        allow: sh.allow.clone(),
                    },
                ))
            })
            .collect();
        ShieldIndex { groups, kinds }
    }

    /// The shield of a document kind, if it has one.
    pub fn shield(&self, kind: &str) -> Option<&KindShield> {
        self.kinds.get(kind)
    }

    /// May `person` see a document of `kind` with these `fields`, or sign a step that
    /// names the `allow` field? Always true for a kind without a shield. Any other step,
    /// a substitute hand-over, an escalation and a submission ask [`ShieldIndex::member`].
    pub fn inside(&self, kind: &str, fields: &BTreeMap<String, Value>, person: &str) -> bool {
        let Some(k) = self.kinds.get(kind) else {
            return true;
        };
        k.members.contains(person)
            || k.allow
                .as_ref()
                .is_some_and(|f| fields.get(f).and_then(Value::as_str) == Some(person))
    }

    /// Is `person` in the group that shields `kind` (the `allow` exception does not
    /// count)? Always true for a kind without a shield.
    pub fn member(&self, kind: &str, person: &str) -> bool {
        self.kinds
            .get(kind)
            .is_none_or(|k| k.members.contains(person))
    }

    /// Does `signer` name the `allow` field of `kind` (`sign medewerker` on
    /// `shielded by tucht allow medewerker`)? Only such a step may go to the person in
    /// that field, and nobody else signs it for them (no substitutes).
    pub fn names_allow(&self, kind: &str, signer: &Signer) -> bool {
        match (signer, self.kinds.get(kind).and_then(|k| k.allow.as_ref())) {
            (Signer::PersonField { field }, Some(allow)) => field == allow,
            _ => false,
        }
    }

    /// Whether a field value lies within the field's refinement (`unit in X`,
    /// `person in GROUP`); `Err` says why not.
    pub fn within(&self, field: &Field, value: &str, org: &OrgIndex) -> Result<(), String> {
        match &field.within {
            None => Ok(()),
            Some(Within::Unit(u)) if org.within(value, u) => Ok(()),
            Some(Within::Unit(u)) => Err(format!(
                "`{value}` is not the unit `{u}` nor a unit below it; only units in `{u}` are accepted here"
            )),
            Some(Within::Group(g)) if self.groups.get(g).is_some_and(|m| m.contains(value)) => {
                Ok(())
            }
            Some(Within::Group(g)) => Err(format!(
                "{} ({value}) is not a member of the group `{g}`; only members of `{g}` are accepted here",
                org.name(value)
            )),
        }
    }
}

/// Checks the shielding invariants on a compiled project; returns every violation with
/// today's organogram in words an administrator understands (empty: the project may be
/// deployed). The rules are [`check`]'s; a role inside only because of who holds it
/// today is the checker's warning, never refused here.
pub fn verify(project: &CompiledProject, org: &OrgIndex) -> Vec<String> {
    let mut out = Vec::new();
    for v in check(project, org).iter().filter(|v| v.is_error()) {
        describe(project, org, v, &mut out);
    }
    out
}

/// `v` in the words [`verify`] gives (one line per person outside).
fn describe(project: &CompiledProject, org: &OrgIndex, v: &Violation, out: &mut Vec<String>) {
    let flow = |i: usize| project.flows.get(i);
    let at = |what: &str, i: usize| {
        format!("flow `{}`, {what}", flow(i).map_or("", |f| f.name.as_str()))
    };
    let at_site = match &v.site {
        Site::Audience { flow, .. } => at("visible to", *flow),
        Site::Signature { flow: f, step, .. } => at(
            &format!(
                "step `{}`",
                flow(*f)
                    .and_then(|x| x.steps.get(*step))
                    .map_or("", |s| s.name.as_str())
            ),
            *f,
        ),
        Site::Escalation { flow } => at("escalation", *flow),
        Site::Group(n) | Site::Kind(n) => n.clone(),
        Site::Flow(i) => flow(*i).map_or(String::new(), |f| f.name.clone()),
        Site::Notify { rule, .. } => project
            .rules
            .get(*rule)
            .map_or(String::new(), |r| r.name.clone()),
    };
    // The flow's kind and its shield, for the sites inside a flow.
    let kind = match &v.site {
        Site::Audience { flow: f, .. }
        | Site::Signature { flow: f, .. }
        | Site::Escalation { flow: f } => flow(*f).map_or("", |x| x.document.as_str()),
        _ => "",
    };
    let group = project
        .documents
        .iter()
        .find(|d| d.name == kind)
        .and_then(|d| d.shielded_by.as_ref())
        .map_or("", |s| s.group.as_str());
    let outside = |at: &str, people: &[String], out: &mut Vec<String>| {
        for p in people {
            out.push(format!(
                "{at}: {} is outside the group `{group}` that shields `{kind}`",
                org.name(p)
            ));
        }
    };
    match &v.what {
        What::GroupShieldsNothing => out.push(format!(
            "the group `{at_site}` is marked shielded, but no document kind is shielded by it"
        )),
        What::GroupMembersEdited => out.push(format!(
            "the group `{at_site}` lists members its definition does not give (the file was edited after compiling)"
        )),
        What::RefinedToNoUnit { field, unit } => out.push(format!(
            "the field `{field}` of `{at_site}` is restricted to `{unit}`, which is not a unit"
        )),
        What::RefinedToNoGroup { field, group } => out.push(format!(
            "the field `{field}` of `{at_site}` is restricted to `{group}`, which is not a group"
        )),
        What::ShieldNoGroup { group } => out.push(format!(
            "`{at_site}` is shielded by `{group}`, which is not a group"
        )),
        What::AllowNotPersonField { field } => out.push(format!(
            "`{at_site}` allows `{field}`, which is not a person field"
        )),
        What::FlowNoKind { kind } => out.push(format!(
            "the flow `{at_site}` is for `{kind}`, which is not a document kind"
        )),
        What::AudienceNoGroup { group } => out.push(format!("{at_site}: `{group}` is not a group")),
        What::ShieldedGroupOfOtherKind { group } => out.push(format!(
            "{at_site}: the group `{group}` is shielded, but `{}` is not shielded by it: its documents could reach anyone",
            v_kind(project, &v.site)
        )),
        What::AudienceNoUnit => out.push(format!("{at_site}: a unit audience without a unit")),
        What::Outside { people } => outside(&at_site, people, out),
        What::Unrefined { field } => out.push(format!(
            "{at_site}: the field `{field}` of the shielded `{kind}` is not restricted to the group `{group}`"
        )),
        What::SubstituteOutside { holder, people, .. } => {
            outside(&format!("{at_site}, substitute of `{holder}`"), people, out)
        }
        What::SubstituteOnField { .. } => out.push(format!(
            "{at_site}: a substitute that depends on a document field"
        )),
        What::AllowEscalated { field } => out.push(format!(
            "{at_site}: the person in `{field}` (the `allow` exception of `{kind}`) may only sign the steps that name them; an escalation would hand them another step"
        )),
        What::NotifyOutside { flow, kind, people } => {
            let group = shield_group(project, kind);
            for p in people {
                out.push(format!(
                    "rule `{at_site}` starts `{flow}` ({kind}, shielded by `{group}`) and notifies {}, who is outside it",
                    org.name(p)
                ));
            }
        }
        What::NotifyOnField { flow, kind } => out.push(format!(
            "rule `{at_site}` starts `{flow}` ({kind}, shielded by `{}`) and notifies (a field value), who is outside it",
            shield_group(project, kind)
        )),
        What::OnlyToday { .. } | What::NotifyOnlyToday { .. } => {}
    }
}

/// The document kind of the flow a site lies in.
fn v_kind<'a>(project: &'a CompiledProject, site: &Site) -> &'a str {
    match site {
        Site::Audience { flow, .. } | Site::Signature { flow, .. } | Site::Escalation { flow } => {
            project.flows.get(*flow).map_or("", |f| f.document.as_str())
        }
        _ => "",
    }
}

fn shield_group<'a>(project: &'a CompiledProject, kind: &str) -> &'a str {
    project
        .documents
        .iter()
        .find(|d| d.name == kind)
        .and_then(|d| d.shielded_by.as_ref())
        .map_or("", |s| s.group.as_str())
}

/// A shielded group that admits people after an organogram change who were not inside
/// before: who they are, and whether the group's own definition changed (a migration
/// plan mapped what it names onto another entry) or only the organogram around it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Widening {
    /// The group.
    pub group: String,
    /// The migration plan changed what the group names (a removed unit mapped onto an
    /// existing, larger one): this needs the administrator's explicit consent.
    pub redefined: bool,
    /// Person ids inside now who were not inside before (read through the renames).
    pub admits: Vec<String>,
}

/// Every shielded group of `after` (on `after_org`) that admits someone its namesake in
/// `before` (on `before_org`) did not; `renames` (old id → new id) carries people who
/// only got a new id, so they are not counted as newcomers. A group new in `after` is
/// not a widening (the checker proves it like any group).
pub fn widenings(
    before: &[Group],
    before_org: &OrgIndex,
    after: &[Group],
    after_org: &OrgIndex,
    renames: &BTreeMap<String, String>,
) -> Vec<Widening> {
    let mut out = Vec::new();
    for g in after.iter().filter(|g| g.shielded) {
        let Some(old) = before.iter().find(|b| b.name == g.name) else {
            continue;
        };
        let was: BTreeSet<String> = group_members(&old.definition, before_org)
            .into_iter()
            .map(|p| renames.get(&p).cloned().unwrap_or(p))
            .collect();
        let admits: Vec<String> = group_members(&g.definition, after_org)
            .into_iter()
            .filter(|p| !was.contains(p))
            .collect();
        if !admits.is_empty() {
            out.push(Widening {
                group: g.name.clone(),
                redefined: g.definition != old.definition,
                admits,
            });
        }
    }
    out
}

/// A shielded group that keeps out people after an organogram change who were inside
/// before: they no longer see its files (those in flight too, their own uploads too).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Narrowing {
    /// The group.
    pub group: String,
    /// Person ids inside before (read through the renames) who are not inside now.
    pub loses: Vec<String>,
}

impl Narrowing {
    /// Who, in words: `9 people: dirk-segers, griet-de-cock, …`.
    pub fn who(&self) -> String {
        format!(
            "{} {}: {}",
            self.loses.len(),
            if self.loses.len() == 1 {
                "person"
            } else {
                "people"
            },
            self.loses.join(", ")
        )
    }
}

/// Every shielded group of `after` (on `after_org`) that keeps out someone its namesake
/// in `before` (on `before_org`) admitted; `renames` carries people who only got a new
/// id, so they are not counted as leaving. The counterpart of [`widenings`].
pub fn narrowings(
    before: &[Group],
    before_org: &OrgIndex,
    after: &[Group],
    after_org: &OrgIndex,
    renames: &BTreeMap<String, String>,
) -> Vec<Narrowing> {
    let mut out = Vec::new();
    for g in after.iter().filter(|g| g.shielded) {
        let Some(old) = before.iter().find(|b| b.name == g.name) else {
            continue;
        };
        let now = group_members(&g.definition, after_org);
        let loses: Vec<String> = group_members(&old.definition, before_org)
            .into_iter()
            .filter(|p| !now.contains(renames.get(p).unwrap_or(p)))
            .collect();
        if !loses.is_empty() {
            out.push(Narrowing {
                group: g.name.clone(),
                loses,
            });
        }
    }
    out
}

/// Names a compiled project defines twice (flows, groups, document kinds, rules,
/// agencies; steps of one flow, fields of one kind), in words. The checker refuses these
/// on the source (P0004); a hand-edited `.json` could still carry them, and then the
/// runtime would pick one silently (the wrong flow runs, the other group's members
/// decide). `deploy` refuses such a project.
pub fn duplicate_names(project: &CompiledProject) -> Vec<String> {
    fn twice<'a>(what: &str, names: impl IntoIterator<Item = &'a str>, out: &mut Vec<String>) {
        let mut seen = BTreeSet::new();
        let mut reported = BTreeSet::new();
        for n in names {
            if !seen.insert(n) && reported.insert(n) {
                out.push(format!("two {what} are called `{n}`"));
            }
        }
    }
    let mut out = Vec::new();
    twice(
        "flows",
        project.flows.iter().map(|f| f.name.as_str()),
        &mut out,
    );
    twice(
        "groups",
        project.groups.iter().map(|g| g.name.as_str()),
        &mut out,
    );
    twice(
        "document kinds",
        project.documents.iter().map(|d| d.name.as_str()),
        &mut out,
    );
    twice(
        "rules",
        project.rules.iter().map(|r| r.name.as_str()),
        &mut out,
    );
    twice(
        "agencies",
        project.agencies.iter().map(|a| a.name.as_str()),
        &mut out,
    );
    for f in &project.flows {
        twice(
            &format!("steps of the flow `{}`", f.name),
            f.steps.iter().map(|s| s.name.as_str()),
            &mut out,
        );
    }
    for d in &project.documents {
        twice(
            &format!("fields of `{}`", d.name),
            d.fields.iter().map(|f| f.name.as_str()),
            &mut out,
        );
    }
    out
}
