//! Checks that need the whole project: duplicates, substitution cycles, overlapping
//! flows, document kinds without a flow, unused definitions.

use super::Ctx;
use super::conditions::may_overlap;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::org::Organogram;
use crate::resolve::{InFile, Index};
use crate::syntax::ast::*;
use std::collections::{BTreeMap, BTreeSet};

/// Runs the project-wide checks.
pub fn check_project(org: &Organogram, org_file: &str, index: &Index) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    duplicates(&mut diags, "document kind", &index.documents, |d| &d.name);
    duplicates(&mut diags, "group", &index.groups, |d| &d.name);
    duplicates(&mut diags, "agency", &index.agencies, |d| &d.name);
    duplicates(&mut diags, "flow", &index.flows, |d| &d.name);
    duplicates(&mut diags, "rule", &index.rules, |d| &d.name);
    substitution_graph(&mut diags, org, org_file, index);
    overlapping_flows(&mut diags, index);
    unused(&mut diags, index);
    // A group marked `shielded` that shields no kind: the shielding verifier's finding.
    let mut ctx = super::Ctx::new(org, org_file, index, "");
    super::shielding::check_declarations(&mut ctx);
    diags.extend(ctx.diags);
    diags
}

fn duplicates<T>(
    diags: &mut Vec<Diagnostic>,
    what: &str,
    defs: &BTreeMap<String, Vec<InFile<T>>>,
    name: impl Fn(&T) -> &Name,
) {
    for (n, list) in defs {
        let first = &list[0];
        for dup in &list[1..] {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    Span::new(&dup.file, name(&dup.def).span.clone()),
                    format!("the {what} `{n}` is defined twice"),
                )
                .with_label(
                    Span::new(&first.file, name(&first.def).span.clone()),
                    "first defined here",
                )
                .with_help(format!(
                    "rename one of them, or remove the duplicate {what}"
                )),
            );
        }
    }
}

/// Holder key → (index of its declaration, substitute keys with their references).
type SubstituteGraph = BTreeMap<String, (usize, Vec<(String, SignerRef)>)>;

fn substitution_graph(
    diags: &mut Vec<Diagnostic>,
    org: &Organogram,
    org_file: &str,
    index: &Index,
) {
    let mut graph: SubstituteGraph = BTreeMap::new();
    for (i, decl) in index.substitutes.iter().enumerate() {
        let ctx = Ctx::new(org, org_file, index, &decl.file);
        let Some(h) = ctx.quiet_signer(&decl.def.holder) else {
            continue;
        };
        let subs: Vec<(String, SignerRef)> = decl
            .def
            .substitutes
            .iter()
            .filter_map(|s| ctx.quiet_signer(s).map(|t| (t.key(), s.clone())))
            .collect();
        match graph.get(&h.key()) {
            Some((first, _)) => {
                let f = &index.substitutes[*first];
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        Span::new(&decl.file, decl.def.holder.span.clone()),
                        format!("the substitutes of `{}` are declared twice", h.key()),
                    )
                    .with_label(
                        Span::new(&f.file, f.def.holder.span.clone()),
                        "first declared here",
                    )
                    .with_help("merge them into one ordered list"),
                );
            }
            None => {
                graph.insert(h.key(), (i, subs));
            }
        }
    }
    // Find cycles: depth-first from every holder, reporting each cycle once.
    let mut reported: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            let Some((_, subs)) = graph.get(&node) else {
                continue;
            };
            for (next, _) in subs {
                if next == start {
                    let members: BTreeSet<String> = path.iter().cloned().collect();
                    if path.len() > 1 && reported.insert(members) {
                        report_cycle(diags, index, &graph, &path);
                    }
                } else if !path.contains(next) && path.len() < 64 {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
}

fn report_cycle(
    diags: &mut Vec<Diagnostic>,
    index: &Index,
    graph: &SubstituteGraph,
    path: &[String],
) {
    let decl_of = |k: &String| &index.substitutes[graph[k].0];
    let first = decl_of(&path[0]);
    let mut chain = path.to_vec();
    chain.push(path[0].clone());
    let mut d = Diagnostic::new(
        Code::SubstitutionCycle,
        Span::new(&first.file, first.def.holder.span.clone()),
        format!("substitutes go round in a circle: {}", chain.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" → ")),
    )
    .with_help("when all of them are absent, nobody can sign; end the chain with someone who has no substitute back");
    for k in &path[1..] {
        let decl = decl_of(k);
        d = d.with_label(
            Span::new(&decl.file, decl.def.holder.span.clone()),
            format!("`{k}` is substituted here"),
        );
    }
    diags.push(d);
}

fn overlapping_flows(diags: &mut Vec<Diagnostic>, index: &Index) {
    let mut by_kind: BTreeMap<&str, Vec<&InFile<FlowDef>>> = BTreeMap::new();
    for list in index.flows.values() {
        if let Some(f) = list.first()
            && index.document(&f.def.kind.text).is_some()
        {
            by_kind.entry(&f.def.kind.text).or_default().push(f);
        }
    }
    for flows in by_kind.values_mut() {
        // In the order they are written: the later flow is the one reported.
        flows.sort_by(|a, b| (&a.file, a.def.span.start).cmp(&(&b.file, b.def.span.start)));
        for (i, b) in flows.iter().enumerate() {
            // One finding per flow, naming the first flow it overlaps: never a finding per
            // pair (3,000 flows without conditions would make 4.5 million).
            let Some(a) = flows[..i]
                .iter()
                .find(|a| may_overlap(a.def.when.as_ref(), b.def.when.as_ref()))
            else {
                continue;
            };
            diags.push(
                Diagnostic::new(
                    Code::AmbiguousFlows,
                    Span::new(&b.file, b.def.name.span.clone()),
                    format!(
                        "the flows `{}` and `{}` can both apply to the same {}",
                        a.def.name.text, b.def.name.text, a.def.kind.text
                    ),
                )
                .with_label(Span::new(&a.file, a.def.name.span.clone()), "the other flow")
                .with_help("give the flows conditions that exclude each other, e.g. `when bedrag < 8 500 EUR` and `when bedrag >= 8 500 EUR`"),
            );
        }
    }
}

fn unused(diags: &mut Vec<Diagnostic>, index: &Index) {
    let handled: BTreeSet<&str> = index
        .flows
        .values()
        .filter_map(|l| l.first())
        .map(|f| f.def.kind.text.as_str())
        .collect();
    for (name, list) in &index.documents {
        if !handled.contains(name.as_str()) {
            let d = &list[0];
            diags.push(
                Diagnostic::new(
                    Code::UnhandledKind,
                    Span::new(&d.file, d.def.name.span.clone()),
                    format!("no flow handles documents of kind `{name}`"),
                )
                .with_help(format!(
                    "add `flow NAME for {name} {{ ... }}`, or remove the document kind"
                )),
            );
        }
    }
    let mut used_groups: BTreeSet<&str> = BTreeSet::new();
    for d in index.documents.values().flatten() {
        if let Some(sh) = &d.def.shield {
            used_groups.insert(&sh.group.text);
        }
        for f in &d.def.fields {
            if let (Some(w), "person") = (&f.ty.within, f.ty.name.text.as_str()) {
                used_groups.insert(&w.text);
            }
        }
    }
    for f in index.flows.values().flatten() {
        for a in &f.def.visible {
            if let Audience::Group(g) = a {
                used_groups.insert(&g.text);
            }
        }
    }
    for (name, list) in &index.groups {
        if !used_groups.contains(name.as_str()) {
            let d = &list[0];
            diags.push(
                Diagnostic::new(
                    Code::Unused,
                    Span::new(&d.file, d.def.name.span.clone()),
                    format!("the group `{name}` is never used"),
                )
                .with_help(format!(
                    "use it in a flow (`visible to group {name}`), or remove it"
                )),
            );
        }
    }
    let mut used_agencies: BTreeSet<String> = BTreeSet::new();
    for r in index.rules.values().flatten() {
        collect_agencies(&r.def.body, &mut used_agencies);
    }
    for (name, list) in &index.agencies {
        if !used_agencies.contains(name) {
            let d = &list[0];
            diags.push(
                Diagnostic::new(
                    Code::Unused,
                    Span::new(&d.file, d.def.name.span.clone()),
                    format!("the agency `{name}` is never used"),
                )
                .with_help("withhold to it in a rule, or remove it"),
            );
        }
    }
}

fn collect_agencies(stmts: &[Stmt], out: &mut BTreeSet<String>) {
    for s in stmts {
        match s {
            Stmt::If {
                then, otherwise, ..
            } => {
                collect_agencies(then, out);
                collect_agencies(otherwise, out);
            }
            Stmt::Action(Action {
                kind: ActionKind::Withhold { agency, .. },
                ..
            }) => {
                out.insert(agency.text.clone());
            }
            _ => {}
        }
    }
}
