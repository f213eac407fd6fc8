//! Shielding on the compiled model: the second line of defence. The checker proves the
//! shielding rules on the source (with spans, `check/shielding.rs`); this module states
//! the same rules on a compiled project, so that `deploy` refuses a hand-edited `.json`
//! ([`verify`]) and the runtime can ask, at every routing decision and read, whether a
//! person is inside a document's shield ([`ShieldIndex::inside`]). Group membership is
//! always recomputed from the group's definition and the organogram snapshot; the
//! `members` list stored in the JSON is only compared, never trusted.

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

fn is_field_based(s: &Signer) -> bool {
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

/// Checks the shielding invariants on a compiled project; returns every violation in
/// words an administrator understands (empty: the project may be deployed).
pub fn verify(project: &CompiledProject, org: &OrgIndex) -> Vec<String> {
    let idx = ShieldIndex::new(project, org);
    let mut out = Vec::new();
    for g in &project.groups {
        if g.shielded
            && !project
                .documents
                .iter()
                .any(|d| d.shielded_by.as_ref().is_some_and(|s| s.group == g.name))
        {
            out.push(format!(
                "the group `{}` is marked shielded, but no document kind is shielded by it",
                g.name
            ));
        }
        let stored: BTreeSet<String> = g.members.iter().cloned().collect();
        if idx.groups.get(&g.name) != Some(&stored) {
            out.push(format!(
                "the group `{}` lists members its definition does not give (the file was edited after compiling)",
                g.name
            ));
        }
    }
    for d in &project.documents {
        for f in &d.fields {
            match &f.within {
                Some(Within::Unit(u)) if !org.is_unit(u) => out.push(format!(
                    "the field `{}` of `{}` is restricted to `{u}`, which is not a unit",
                    f.name, d.name
                )),
                Some(Within::Group(g)) if !idx.groups.contains_key(g) => out.push(format!(
                    "the field `{}` of `{}` is restricted to `{g}`, which is not a group",
                    f.name, d.name
                )),
                _ => {}
            }
        }
        let Some(sh) = &d.shielded_by else { continue };
        if !idx.groups.contains_key(&sh.group) {
            out.push(format!(
                "`{}` is shielded by `{}`, which is not a group",
                d.name, sh.group
            ));
        }
        if let Some(a) = &sh.allow
            && !d.fields.iter().any(|f| &f.name == a && f.ty == "person")
        {
            out.push(format!(
                "`{}` allows `{a}`, which is not a person field",
                d.name
            ));
        }
    }
    for flow in &project.flows {
        let Some(doc) = project.documents.iter().find(|d| d.name == flow.document) else {
            out.push(format!(
                "the flow `{}` is for `{}`, which is not a document kind",
                flow.name, flow.document
            ));
            continue;
        };
        let Some(k) = idx.kinds.get(&doc.name) else {
            continue;
        };
        let v = Verifier {
            project,
            org,
            idx: &idx,
            doc,
            shield: k,
        };
        let at = |what: &str| format!("flow `{}`, {what}", flow.name);
        for a in &flow.visible_to {
            v.audience(a, &at("visible to"), &mut out);
        }
        for s in &flow.steps {
            for sig in &s.signatures {
                v.signer(&sig.signer, &at(&format!("step `{}`", s.name)), &mut out);
            }
        }
        if let Some(esc) = flow.deadline.as_ref().and_then(|d| d.escalate.as_ref()) {
            if idx.names_allow(&doc.name, &esc.to) {
                out.push(format!(
                    "{}: the person in `{}` (the `allow` exception of `{}`) may only sign the steps that name them; an escalation would hand them another step",
                    at("escalation"),
                    k.allow.as_deref().unwrap_or_default(),
                    doc.name
                ));
            } else {
                v.signer(&esc.to, &at("escalation"), &mut out);
            }
        }
    }
    for r in &project.rules {
        let mut started = Vec::new();
        let mut notified = Vec::new();
        collect(&r.body, &mut started, &mut notified);
        for f in started {
            let Some(kind) = project
                .flows
                .iter()
                .find(|x| x.name == f)
                .map(|x| &x.document)
            else {
                continue;
            };
            let Some(k) = idx.kinds.get(kind) else {
                continue;
            };
            for to in &notified {
                let people = if is_field_based(to) {
                    vec!["(a field value)".to_string()]
                } else {
                    org.holders(to, &BTreeMap::new())
                };
                for p in people.iter().filter(|p| !k.members.contains(*p)) {
                    out.push(format!(
                        "rule `{}` starts `{f}` ({kind}, shielded by `{}`) and notifies {}, who is outside it",
                        r.name, k.group, org.name(p)
                    ));
                }
            }
        }
    }
    out
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

struct Verifier<'a> {
    project: &'a CompiledProject,
    org: &'a OrgIndex,
    idx: &'a ShieldIndex,
    doc: &'a Document,
    shield: &'a KindShield,
}

impl Verifier<'_> {
    fn field(&self, name: &str) -> Option<&Field> {
        self.doc.fields.iter().find(|f| f.name == name)
    }

    fn outside(&self, people: impl IntoIterator<Item = String>, at: &str, out: &mut Vec<String>) {
        for p in people {
            if !self.shield.members.contains(&p) {
                out.push(format!(
                    "{at}: {} is outside the group `{}` that shields `{}`",
                    self.org.name(&p),
                    self.shield.group,
                    self.doc.name
                ));
            }
        }
    }

    fn unrefined(&self, field: &str, at: &str, out: &mut Vec<String>) {
        out.push(format!(
            "{at}: the field `{field}` of the shielded `{}` is not restricted to the group `{}`",
            self.doc.name, self.shield.group
        ));
    }

    fn audience(&self, a: &Audience, at: &str, out: &mut Vec<String>) {
        match a {
            Audience::Uploader | Audience::Signers => {}
            Audience::Group { name } => match self.idx.groups.get(name) {
                Some(m) => self.outside(m.iter().cloned(), at, out),
                None => out.push(format!("{at}: `{name}` is not a group")),
            },
            Audience::Unit {
                unit: UnitSel::Fixed(u),
            } => self.outside(self.org.members_of_unit(u), at, out),
            Audience::Unit {
                unit: UnitSel::Field(f),
            } => match self.field(f).and_then(|f| f.within.as_ref()) {
                Some(Within::Unit(u)) => self.outside(self.org.members_of_unit(u), at, out),
                _ => self.unrefined(f, at, out),
            },
            Audience::Unit { unit: UnitSel::Any } => {
                out.push(format!("{at}: a unit audience without a unit"))
            }
            Audience::Signer { signer } => self.signer(signer, at, out),
        }
    }

    /// The signer's reachable people stay inside, and so do the substitutes of every
    /// concrete role it resolves to.
    fn signer(&self, s: &Signer, at: &str, out: &mut Vec<String>) {
        let none = BTreeMap::new();
        let roles: BTreeSet<String> = match s {
            // The person in the `allow` field signs themself: the runtime asks no
            // substitute for that step, so no substitute can reach it.
            Signer::PersonField { field } if self.shield.allow.as_ref() == Some(field) => {
                BTreeSet::new()
            }
            Signer::PersonField { field } => {
                match self.field(field).and_then(|f| f.within.as_ref()) {
                    Some(Within::Group(g)) => {
                        let m = self.idx.groups.get(g).cloned().unwrap_or_default();
                        self.outside(m.iter().cloned(), at, out);
                        m
                    }
                    _ => {
                        self.unrefined(field, at, out);
                        return;
                    }
                }
            }
            Signer::Function {
                id,
                unit: UnitSel::Field(field),
            } => match self.field(field).and_then(|f| f.within.as_ref()) {
                Some(Within::Unit(u)) => {
                    self.outside(self.org.holders_within(id, u), at, out);
                    self.org
                        .units_within(u)
                        .into_iter()
                        .map(|unit| format!("{id} of {unit}"))
                        .collect()
                }
                _ => {
                    self.unrefined(field, at, out);
                    return;
                }
            },
            other => {
                self.outside(self.org.holders(other, &none), at, out);
                [self.org.role(other, &none)].into_iter().collect()
            }
        };
        for decl in &self.project.substitutes {
            if is_field_based(&decl.holder) || !roles.contains(&self.org.role(&decl.holder, &none))
            {
                continue;
            }
            for sub in &decl.substitutes {
                if is_field_based(sub) {
                    out.push(format!(
                        "{at}: a substitute that depends on a document field"
                    ));
                    continue;
                }
                let who = format!(
                    "{at}, substitute of `{}`",
                    self.org.role(&decl.holder, &none)
                );
                self.outside(self.org.holders(sub, &none), &who, out);
            }
        }
    }
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
