//! The sampling comparison `paraaf diff` made before its regions were exact (#30),
//! kept as the baseline the benchmark measures the exhaustive one against: a document
//! of each field's values one field at a time (the others at their first value), all
//! uploaded by the first person of the organogram, compared on who signs and who sees
//! (no absent holder, passed deadline or refusal).

use super::simulate::{Version, simulate};
use super::{Change, Fact, KindImpact, named, regions};
use paraaf_model::CompiledProject;
use std::collections::{BTreeMap, BTreeSet};

/// What the sampling comparison finds from `base` to `head`, per document kind (one
/// change per fact, without its region).
pub fn impact_sampled(base: &CompiledProject, head: &CompiledProject) -> Vec<KindImpact> {
    let (ids, roles) = named(&[base, head]);
    let (base_v, head_v) = (
        Version::new(base, &ids, &roles),
        Version::new(head, &ids, &roles),
    );
    let Some(uploader) = head.organogram.people.first().map(|p| p.id.clone()) else {
        return Vec::new();
    };
    let kinds: BTreeSet<&String> = base
        .documents
        .iter()
        .chain(&head.documents)
        .map(|d| &d.name)
        .collect();
    let mut out = Vec::new();
    for kind in kinds {
        let doc = head
            .documents
            .iter()
            .chain(&base.documents)
            .find(|d| &d.name == kind);
        let Some(doc) = doc else { continue };
        let values = regions::field_values(doc, &[base, head], std::slice::from_ref(&uploader));
        let first: BTreeMap<String, String> = values
            .iter()
            .filter_map(|(f, v)| Some((f.clone(), v.first()?.clone())))
            .collect();
        let mut cases = vec![first.clone()];
        for (f, vs) in &values {
            for v in vs.iter().skip(1) {
                let mut c = first.clone();
                c.insert(f.clone(), v.clone());
                cases.push(c);
            }
        }
        let mut k = KindImpact {
            kind: kind.clone(),
            ..KindImpact::default()
        };
        let mut found: BTreeSet<(Fact, bool)> = BTreeSet::new();
        for c in &cases {
            k.cases += 1;
            let b = simulate(&base_v, kind, c, &uploader, false).unwrap_or_default();
            let a = simulate(&head_v, kind, c, &uploader, false).unwrap_or_default();
            found.extend(a.difference(&b).map(|f| (f.clone(), true)));
            found.extend(b.difference(&a).map(|f| (f.clone(), false)));
        }
        for (fact, added) in found {
            k.changes.push(Change {
                change: fact.change_kind(added).to_string(),
                what: fact.words(added),
                region: String::new(),
                people: fact.person().map(str::to_string).into_iter().collect(),
            });
        }
        out.push(k);
    }
    out
}
