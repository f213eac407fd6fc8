//! The documents behind each change `paraaf diff` reports: for every changed fact, the
//! regions (field values and uploader) where it happens, as concrete documents, so that
//! `paraaf diff --emit-scenarios` can write each change as a scenario that `paraaf test`
//! runs. The comparison is [`super::impact`]'s, case for case: the same regions, the
//! same uploaders, the same forks, the same grouping into changes on the smallest region.

use super::{Fact, MAX_COMBINATIONS, named, regions, representatives, simulate};
use crate::engine::State;
use paraaf_model::CompiledProject;
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
/// happen (kinds not in either version, or without changes, give nothing).
pub fn witnesses(
    base: &CompiledProject,
    head: &CompiledProject,
    kinds: &[String],
) -> BTreeMap<String, Vec<Witnessed>> {
    let (named, roles) = named(&[base, head]);
    let (base_v, head_v) = (
        simulate::Version::new(base, &named, &roles),
        simulate::Version::new(head, &named, &roles),
    );
    let (reps, field_people) = representatives(&[base, head], &named, &roles);
    let parents: BTreeMap<String, Option<String>> = head
        .organogram
        .units
        .iter()
        .map(|u| (u.id.clone(), u.parent.clone()))
        .collect();
    let mut out = BTreeMap::new();
    for kind in kinds {
        let before = base.documents.iter().find(|d| &d.name == kind);
        let after = head.documents.iter().find(|d| &d.name == kind);
        let Some(doc) = after.or(before) else {
            continue;
        };
        let values = regions::field_values(doc, &[base, head], &field_people);
        let types: BTreeMap<String, String> = doc
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.ty.clone()))
            .collect();
        let (cases, _) = regions::regions(&values, MAX_COMBINATIONS);
        let mut runs: Vec<(BTreeMap<String, String>, Option<&str>)> = cases
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.insert(regions::UPLOADER.into(), regions::USUAL.into());
                (c, None)
            })
            .collect();
        if let Some(first) = cases.first() {
            runs.extend(reps.iter().map(|r| {
                let mut c = first.clone();
                c.insert(regions::UPLOADER.into(), r.clone());
                (c, Some(r.as_str()))
            }));
        }
        let mut values = values;
        values.push((
            regions::UPLOADER.into(),
            std::iter::once(regions::USUAL.to_string())
                .chain(reps.iter().cloned())
                .collect(),
        ));
        type Hits<'c> = Vec<(&'c BTreeMap<String, String>, Case)>;
        let mut where_: BTreeMap<(Fact, bool), Hits> = BTreeMap::new();
        for (case, uploader) in &runs {
            let member = |st: &State, p: &str| {
                st.current()
                    .is_some_and(|(_, dep)| dep.shields.member(kind, p))
            };
            let about = |p: &String| {
                case.iter()
                    .any(|(f, v)| v == p && f.as_str() != regions::UPLOADER)
            };
            let uploader = uploader.map(str::to_string).or_else(|| {
                let free = || reps.iter().filter(|p| !about(p));
                free()
                    .find(|p| member(&base_v.state, p) && member(&head_v.state, p))
                    .or_else(|| {
                        free().find(|p| member(&base_v.state, p) || member(&head_v.state, p))
                    })
                    .cloned()
            });
            let Some(uploader) = uploader else { continue };
            let mut fields = case.clone();
            fields.remove(regions::UPLOADER);
            let b = simulate::simulate(&base_v, kind, &fields, &uploader, true).unwrap_or_default();
            let a = simulate::simulate(&head_v, kind, &fields, &uploader, true).unwrap_or_default();
            let concrete = Case {
                fields: fields
                    .iter()
                    .filter(|(_, v)| v.as_str() != regions::ABSENT)
                    .map(|(k, v)| {
                        let v = if v == regions::OTHER_TEXT { "x" } else { v };
                        (k.clone(), v.to_string())
                    })
                    .collect(),
                uploader: uploader.clone(),
            };
            for f in a.difference(&b) {
                where_
                    .entry((f.clone(), true))
                    .or_default()
                    .push((case, concrete.clone()));
            }
            for f in b.difference(&a) {
                where_
                    .entry((f.clone(), false))
                    .or_default()
                    .push((case, concrete.clone()));
            }
        }
        // Grouped as the report groups them: one change per (kind of change, what,
        // region), the region the smallest box over every document of its facts.
        let mut grouped: BTreeMap<(String, String, String), Facts> = BTreeMap::new();
        for ((fact, added), hit) in where_ {
            let boxes: Vec<&BTreeMap<String, String>> = hit.iter().map(|(c, _)| *c).collect();
            let region = regions::describe(&values, &types, &boxes, &parents);
            grouped
                .entry((
                    fact.change_kind(added).to_string(),
                    fact.words(added),
                    region,
                ))
                .or_default()
                .push((fact, added, hit.into_iter().map(|(_, c)| c).collect()));
        }
        let changes: Vec<Witnessed> = grouped
            .into_iter()
            .map(|((change, what, region), facts)| Witnessed {
                change,
                what,
                region,
                facts,
            })
            .collect();
        if !changes.is_empty() {
            out.insert(kind.clone(), changes);
        }
    }
    out
}
