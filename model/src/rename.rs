//! Organogram ids renamed in a compiled project, by type: signers, fixed units,
//! audiences, substitutes, group definitions and `unit in` restrictions (never a flow,
//! group or field that happens to be spelled like a unit). The runtime applies the
//! renames of a deployed organogram to the flows that documents in flight follow.

use crate::*;
use std::collections::BTreeMap;

/// `project` with every organogram id in `map` replaced by its new id.
pub fn rename_org_ids(
    project: &CompiledProject,
    map: &BTreeMap<String, String>,
) -> CompiledProject {
    let mut p = project.clone();
    if map.is_empty() {
        return p;
    }
    let id = |s: &mut String| {
        if let Some(n) = map.get(s.as_str()) {
            *s = n.clone();
        }
    };
    let unit_sel = |u: &mut UnitSel| {
        if let UnitSel::Fixed(s) = u {
            id(s);
        }
    };
    let signer = |s: &mut Signer| match s {
        Signer::Person { id: x } | Signer::Mandate { id: x } => id(x),
        Signer::Function { id: x, unit } => {
            id(x);
            unit_sel(unit);
        }
        Signer::PersonField { .. } => {}
    };
    fn group_def(d: &mut GroupDefinition, id: &dyn Fn(&mut String), signer: &dyn Fn(&mut Signer)) {
        match d {
            GroupDefinition::Unit(u) => id(u),
            GroupDefinition::People(v) => v.iter_mut().for_each(signer),
            GroupDefinition::Union(v) => v.iter_mut().for_each(|d| group_def(d, id, signer)),
        }
    }
    fn expr(e: &mut Expr, id: &dyn Fn(&mut String)) {
        match e {
            Expr::Org { id: x, .. } => id(x),
            Expr::Logic { args, .. } => {
                expr(&mut args.0, id);
                expr(&mut args.1, id);
            }
            Expr::Compare { args, within, .. } => {
                expr(&mut args.0, id);
                expr(&mut args.1, id);
                if let Some(w) = within {
                    expr(w, id);
                }
            }
            Expr::Not(a) => expr(a, id),
            Expr::In { value, list } => {
                expr(value, id);
                list.iter_mut().for_each(|x| expr(x, id));
            }
            Expr::Call { args, .. } => args.iter_mut().for_each(|x| expr(x, id)),
            _ => {}
        }
    }
    fn stmts(v: &mut [Stmt], signer: &dyn Fn(&mut Signer)) {
        for s in v {
            match s {
                Stmt::If {
                    then, otherwise, ..
                } => {
                    stmts(then, signer);
                    stmts(otherwise, signer);
                }
                Stmt::Notify { to, .. } => signer(to),
                _ => {}
            }
        }
    }
    for d in &mut p.documents {
        for f in &mut d.fields {
            if let Some(Within::Unit(u)) = &mut f.within {
                id(u);
            }
        }
    }
    for g in &mut p.groups {
        group_def(&mut g.definition, &id, &signer);
    }
    for s in &mut p.substitutes {
        signer(&mut s.holder);
        s.substitutes.iter_mut().for_each(signer);
    }
    for f in &mut p.flows {
        if let Some(w) = &mut f.when {
            expr(w, &id);
        }
        for step in &mut f.steps {
            if let Some(w) = &mut step.when {
                expr(w, &id);
            }
            for sig in &mut step.signatures {
                if let Some(w) = &mut sig.when {
                    expr(w, &id);
                }
            }
        }
        for a in &mut f.visible_to {
            match a {
                Audience::Unit { unit } => unit_sel(unit),
                Audience::Signer { signer: s } => signer(s),
                _ => {}
            }
        }
        for step in &mut f.steps {
            for sig in &mut step.signatures {
                signer(&mut sig.signer);
            }
        }
        if let Some(e) = f.deadline.as_mut().and_then(|d| d.escalate.as_mut()) {
            signer(&mut e.to);
        }
    }
    for r in &mut p.rules {
        stmts(&mut r.body, &signer);
    }
    p
}
