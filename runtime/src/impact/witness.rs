//! The comparison `paraaf diff` reports, kind by kind ([`walk`]): every region of a
//! kind's fields, by every kind of uploader, through both versions; each fact that holds
//! in one of them only, with the documents (field values and uploader) where it does,
//! grouped into changes on the smallest region. [`super::impact`] reports these changes
//! and `paraaf diff --emit-scenarios` writes each as a scenario that `paraaf test` runs,
//! from the same walk ([`super::compare`]).

use super::{Fact, MAX_COMBINATIONS, Setup, regions, simulate};
use crate::engine::State;
use paraaf_model::{CompiledProject, Document};
use std::collections::BTreeMap;

/// One document as a form submits it: its field values and who uploads it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Case {
    /// Field values (an optional field left out is absent; a text no condition names is
    /// `x`, as the comparison submits it).
    pub fields: BTreeMap<String, String>,
    /// Who uploads it.
    pub uploader: String,
}

/// Facts that hold only in the head (`true`) or only in the base, each with the
/// documents where it does.
pub type Facts = Vec<(Fact, bool, Vec<Case>)>;

/// One change of a kind (as the report groups it) and the facts behind it.
#[derive(Clone, Debug)]
pub struct Witnessed {
    /// The `--fail-on` kind of the change.
    pub change: String,
    /// What changed, in words ("now signs visum").
    pub what: String,
    /// The smallest region where it happens, in words (empty: every document).
    pub region: String,
    /// Each fact that holds only in the head (`true`) or only in the base, with the
    /// documents where it does.
    pub facts: Facts,
}

/// The changes of each of `kinds` from `base` to `head` with the documents where they
/// happen (kinds not in either version, or without changes, give nothing): the
/// comparison [`super::impact`] reports, on those kinds only.
pub fn witnesses(
    base: &CompiledProject,
    head: &CompiledProject,
    kinds: &[String],
) -> BTreeMap<String, Vec<Witnessed>> {
    super::compare_kinds(base, head, Some(kinds)).witnessed
}

/// One kind compared document by document.
pub(super) struct Walked {
    /// Documents compared (regions times uploaders).
    pub cases: usize,
    /// Whether every combination of the fields' regions was compared (else every pair).
    pub exhaustive: bool,
    /// The changes, in the report's order.
    pub changes: Vec<Witnessed>,
}

/// Every region of `doc`'s fields uploaded by the usual uploader, and the first region
/// by every kind of uploader, through both versions; each fact that holds in one version
/// only, with the documents where it does, grouped as the report groups them: one change
/// per (kind of change, what, region), the region the smallest box over every document
/// of its facts.
pub(super) fn walk(s: &Setup, doc: &Document, kind: &str) -> Walked {
    let values = regions::field_values(doc, &[s.base, s.head], &s.field_people);
    let types: BTreeMap<String, String> = doc
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.ty.clone()))
        .collect();
    let (cases, exhaustive) = regions::regions(&values, MAX_COMBINATIONS);
    // Every region with the usual uploader; every kind of uploader on the first (the
    // uploader as one more dimension of the region, `(usual)` on the others).
    let mut runs: Vec<(BTreeMap<String, String>, Option<&str>)> = cases
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.insert(regions::UPLOADER.into(), regions::USUAL.into());
            (c, None)
        })
        .collect();
    if let Some(first) = cases.first() {
        runs.extend(s.reps.iter().map(|r| {
            let mut c = first.clone();
            c.insert(regions::UPLOADER.into(), r.clone());
            (c, Some(r.as_str()))
        }));
    }
    let mut values = values;
    values.push((
        regions::UPLOADER.into(),
        std::iter::once(regions::USUAL.to_string())
            .chain(s.reps.iter().cloned())
            .collect(),
    ));
    // Each changed fact (and whether it was added) with the regions and documents it
    // happens on.
    type Hits<'c> = Vec<(&'c BTreeMap<String, String>, Case)>;
    let mut where_: BTreeMap<(Fact, bool), Hits> = BTreeMap::new();
    let mut compared = 0;
    for (case, uploader) in &runs {
        compared += 1;
        // The usual uploader: the first the shield admits in both versions (else in
        // either), not a person the document is about.
        let member = |st: &State, p: &str| {
            st.current()
                .is_some_and(|(_, dep)| dep.shields.member(kind, p))
        };
        let about = |p: &String| {
            case.iter()
                .any(|(f, v)| v == p && f.as_str() != regions::UPLOADER)
        };
        let (base, head) = (&s.base_v.state, &s.head_v.state);
        let uploader = uploader.map(str::to_string).or_else(|| {
            let free = || s.reps.iter().filter(|p| !about(p));
            free()
                .find(|p| member(base, p) && member(head, p))
                .or_else(|| free().find(|p| member(base, p) || member(head, p)))
                .cloned()
        });
        let Some(uploader) = uploader else { continue };
        let mut fields = case.clone();
        fields.remove(regions::UPLOADER);
        let b = simulate::simulate(&s.base_v, kind, &fields, &uploader, true).unwrap_or_default();
        let a = simulate::simulate(&s.head_v, kind, &fields, &uploader, true).unwrap_or_default();
        let changed: Vec<(&Fact, bool)> = a
            .difference(&b)
            .map(|f| (f, true))
            .chain(b.difference(&a).map(|f| (f, false)))
            .collect();
        if changed.is_empty() {
            continue;
        }
        let concrete = Case {
            fields: fields
                .iter()
                .filter(|(_, v)| v.as_str() != regions::ABSENT)
                .map(|(k, v)| {
                    let v = if v == regions::OTHER_TEXT { "x" } else { v };
                    (k.clone(), v.to_string())
                })
                .collect(),
            uploader,
        };
        for (f, added) in changed {
            where_
                .entry((f.clone(), added))
                .or_default()
                .push((case, concrete.clone()));
        }
    }
    let mut grouped: BTreeMap<(String, String, String), Facts> = BTreeMap::new();
    for ((fact, added), hit) in where_ {
        let boxes: Vec<&BTreeMap<String, String>> = hit.iter().map(|(c, _)| *c).collect();
        let region = regions::describe(&values, &types, &boxes, &s.parents);
        grouped
            .entry((
                fact.change_kind(added).to_string(),
                fact.words(added),
                region,
            ))
            .or_default()
            .push((fact, added, hit.into_iter().map(|(_, c)| c).collect()));
    }
    Walked {
        cases: compared,
        exhaustive,
        changes: grouped
            .into_iter()
            .map(|((change, what, region), facts)| Witnessed {
                change,
                what,
                region,
                facts,
            })
            .collect(),
    }
}
