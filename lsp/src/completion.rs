//! Completion: what the position expects (signers after `sign`, audiences after
//! `visible to … ,`, units after `of`, fields after `document.`, a record's fields after
//! `invoice.` or `po.`), filtered by the word typed so far and capped at [`MAX_ITEMS`]
//! (`isIncomplete`, so the editor asks again as the word grows): a city of 50,000
//! people never sends 50,000 items per keystroke. Which record a name holds is what the
//! checker recorded for it (`db::semantic`), else, while the rule does not parse, what
//! the rule's text says.

use crate::features::{KEYWORDS, ctx, in_comment_or_string};
use crate::lines::LineIndex;
use crate::records::record_of;
use crate::workspace::Workspace;
use paraaf_compiler::check::types::Ty;
use paraaf_compiler::org::OrgKind;
use paraaf_compiler::semantic::Entity;
use std::path::Path;
use tower_lsp_server::ls_types as lsp;

/// The most items one answer carries; more matches make the list `isIncomplete`.
pub const MAX_ITEMS: usize = 50;

/// One candidate: cheap to make (an organogram id is only turned into an item with its
/// display name once it made the cut), ranked by what the position expects (lower first).
enum Cand<'a> {
    Org(&'a str, OrgKind),
    Item(Box<lsp::CompletionItem>),
}

impl Cand<'_> {
    fn label(&self) -> &str {
        match self {
            Cand::Org(id, _) => id,
            Cand::Item(i) => &i.label,
        }
    }
}

fn item(label: &str, kind: lsp::CompletionItemKind, detail: &str) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail.to_string()),
        ..Default::default()
    }
}

/// How well `label` matches the typed `prefix`: 0 a prefix (case ignored), 1 a prefix of
/// a later dash- or underscore-separated part (`dir` finds `financieel-directeur`);
/// `None` no match.
fn quality(label: &str, prefix: &str) -> Option<u8> {
    if prefix.is_empty() {
        return Some(0);
    }
    let starts = |s: &str| {
        s.len() >= prefix.len()
            && s.is_char_boundary(prefix.len())
            && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if starts(label) {
        return Some(0);
    }
    label
        .match_indices(['-', '_', '.'])
        .any(|(i, _)| starts(&label[i + 1..]))
        .then_some(1)
}

/// The record a rule's name holds, as the checker recorded it for the name that ends at
/// `dot` (`po` in `po.`); `None` where nothing is recorded (the rule does not parse yet:
/// then the rule's text says, [`record_of`]).
fn recorded_record(c: &crate::features::Ctx, dot: usize, name: &str) -> Option<String> {
    let start = dot.checked_sub(name.len())?;
    match &c.semantic.at(start)?.entity {
        Entity::Local {
            ty: Ty::Record(r), ..
        } => Some(r.clone()),
        _ => None,
    }
}

/// Completion at `pos` of `path`.
pub fn completion(ws: &Workspace, path: &Path, pos: lsp::Position) -> lsp::CompletionList {
    let empty = lsp::CompletionList {
        is_incomplete: false,
        items: Vec::new(),
    };
    let Some(c) = ctx(ws, path) else {
        return empty;
    };
    let offset = LineIndex::new(&c.text).offset(pos);
    // Nothing to complete inside a comment or a string.
    if in_comment_or_string(&c.text, offset) {
        return empty;
    }
    let line_start = c.text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let before = &c.text[line_start..offset];
    let partial_len = before
        .chars()
        .rev()
        .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_')
        .count();
    let partial = &before[before.len() - partial_len..];
    let head = before[..before.len() - partial_len].trim_end();
    let prev_word = head
        .rsplit(|ch: char| ch.is_whitespace() || ch == '(' || ch == ',')
        .next()
        .unwrap_or("");
    let kind = c.flow_kind(offset);
    let fields: Vec<(String, String)> = kind
        .as_ref()
        .and_then(|k| c.index.documents.get(k))
        .and_then(|v| v.first())
        .map(|d| {
            d.def
                .fields
                .iter()
                .map(|f| (f.name.text.clone(), f.ty.name.text.clone()))
                .collect()
        })
        .unwrap_or_default();
    let field = |n: &str, t: &str| Cand::Item(Box::new(item(n, lsp::CompletionItemKind::FIELD, t)));
    let kw = |k: &str, detail: &str| {
        Cand::Item(Box::new(item(k, lsp::CompletionItemKind::KEYWORD, detail)))
    };
    // (rank, candidate): lower ranks first.
    let mut cands: Vec<(u8, Cand)> = Vec::new();
    let in_people = head.contains("people(");
    let words: Vec<&str> = head.split_whitespace().collect();
    let audience = words.contains(&"visible") && (prev_word == "to" || head.ends_with(','));
    if let Some(record) = head.strip_suffix('.') {
        // After `NAME.`: the fields of what NAME is, never keywords.
        let name = record
            .rsplit(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'))
            .next()
            .unwrap_or("");
        if name == "document" {
            cands.extend(fields.iter().map(|(n, t)| (0, field(n, t))));
        } else if let Some(rec) = recorded_record(&c, line_start + head.len() - 1, name)
            .or_else(|| record_of(&c.text, offset, name).map(str::to_string))
        {
            let rec = rec.as_str();
            let fields = paraaf_compiler::check::types::builtin_fields(rec).unwrap_or_default();
            cands.extend(
                fields
                    .iter()
                    .map(|(n, t)| (0, field(n, &format!("{t} — field of {rec}")))),
            );
        }
    } else if prev_word == "step" && words.ends_with(&["back", "to", "step"]) {
        cands.extend(c.steps_of_flow_at(offset).into_iter().map(|n| {
            (
                0,
                Cand::Item(Box::new(item(
                    &n,
                    lsp::CompletionItemKind::ENUM_MEMBER,
                    "step of this flow",
                ))),
            )
        }));
    } else if audience {
        // `visible to uploader, signers, group g, unit u, SIGNER`.
        cands.push((0, kw("uploader", "who submitted the document")));
        cands.push((0, kw("signers", "everyone asked to sign it")));
        cands.push((1, kw("group", "the members of a group")));
        cands.push((1, kw("unit", "the people of a unit")));
        cands.extend(c.index.groups.keys().map(|g| {
            (
                2,
                Cand::Item(Box::new(item(
                    &format!("group {g}"),
                    lsp::CompletionItemKind::ENUM,
                    "group",
                ))),
            )
        }));
        cands.extend(
            fields
                .iter()
                .filter(|(_, t)| t == "person")
                .map(|(n, t)| (2, field(n, t))),
        );
        org_cands(
            c.org,
            partial,
            &mut cands,
            &[
                (OrgKind::Function, 3),
                (OrgKind::Mandate, 3),
                (OrgKind::Person, 4),
            ],
        );
    } else {
        match prev_word {
            "sign" | "to" | "substitutes" | "notify" | "=" => {
                cands.extend(
                    fields
                        .iter()
                        .filter(|(_, t)| t == "person")
                        .map(|(n, t)| (0, field(n, t))),
                );
                org_cands(
                    c.org,
                    partial,
                    &mut cands,
                    &[
                        (OrgKind::Function, 1),
                        (OrgKind::Mandate, 1),
                        (OrgKind::Person, 2),
                    ],
                );
            }
            _ if in_people && (head.ends_with('(') || head.ends_with(',')) => org_cands(
                c.org,
                partial,
                &mut cands,
                &[
                    (OrgKind::Function, 0),
                    (OrgKind::Mandate, 0),
                    (OrgKind::Person, 1),
                ],
            ),
            "of" | "unit" => {
                cands.extend(fields.iter().filter(|(_, t)| t == "unit").map(|(n, _)| {
                    (
                        0,
                        Cand::Item(Box::new(item(
                            &format!("document.{n}"),
                            lsp::CompletionItemKind::FIELD,
                            "unit",
                        ))),
                    )
                }));
                org_cands(c.org, partial, &mut cands, &[(OrgKind::Unit, 1)]);
            }
            "for" => cands.extend(c.index.documents.keys().map(|k| {
                (
                    0,
                    Cand::Item(Box::new(item(
                        k,
                        lsp::CompletionItemKind::STRUCT,
                        "document kind",
                    ))),
                )
            })),
            "group" => cands.extend(c.index.groups.keys().map(|k| {
                (
                    0,
                    Cand::Item(Box::new(item(k, lsp::CompletionItemKind::ENUM, "group"))),
                )
            })),
            "start" => cands.extend(c.index.flows.keys().map(|k| {
                (
                    0,
                    Cand::Item(Box::new(item(k, lsp::CompletionItemKind::FUNCTION, "flow"))),
                )
            })),
            _ => {
                cands.extend(fields.iter().map(|(n, t)| (0, field(n, t))));
                cands.extend(KEYWORDS.iter().map(|k| (1, kw(k, "keyword"))));
            }
        }
    }
    finish(cands, partial, |id, k| {
        let kind = if k == OrgKind::Unit {
            lsp::CompletionItemKind::MODULE
        } else {
            lsp::CompletionItemKind::CLASS
        };
        item(
            id,
            kind,
            &format!("{} — {}", k.word(), c.org.display_name(id).unwrap_or(id)),
        )
    })
}

/// The organogram ids of the kinds in `want` (with their rank) that match `partial`.
fn org_cands<'a>(
    org: &'a paraaf_compiler::org::Organogram,
    partial: &str,
    cands: &mut Vec<(u8, Cand<'a>)>,
    want: &[(OrgKind, u8)],
) {
    for (id, k) in org.ids() {
        if let Some((_, r)) = want.iter().find(|(w, _)| *w == k)
            && quality(id, partial).is_some()
        {
            cands.push((*r, Cand::Org(id, k)));
        }
    }
}

/// Keeps the candidates that match `partial`, best first (match, then rank, then the
/// order given), at most [`MAX_ITEMS`] of them; `isIncomplete` when some were left out.
fn finish(
    cands: Vec<(u8, Cand)>,
    partial: &str,
    org_item: impl Fn(&str, OrgKind) -> lsp::CompletionItem,
) -> lsp::CompletionList {
    let mut kept: Vec<(u8, u8, usize, Cand)> = cands
        .into_iter()
        .enumerate()
        .filter_map(|(i, (rank, cand))| Some((quality(cand.label(), partial)?, rank, i, cand)))
        .collect();
    let total = kept.len();
    if total > MAX_ITEMS {
        kept.select_nth_unstable_by_key(MAX_ITEMS, |(q, r, i, _)| (*q, *r, *i));
        kept.truncate(MAX_ITEMS);
    }
    kept.sort_by_key(|(q, r, i, _)| (*q, *r, *i));
    let items = kept
        .into_iter()
        .enumerate()
        .map(|(n, (_, _, _, cand))| {
            let mut it = match cand {
                Cand::Org(id, k) => org_item(id, k),
                Cand::Item(it) => *it,
            };
            // The editor keeps this order (it sorts by `sortText`).
            it.sort_text = Some(format!("{n:04}"));
            it
        })
        .collect();
    lsp::CompletionList {
        is_incomplete: total > MAX_ITEMS,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::quality;

    #[test]
    fn prefixes_match_whole_labels_first_then_parts() {
        assert_eq!(quality("financieel-directeur", ""), Some(0));
        assert_eq!(quality("financieel-directeur", "Fin"), Some(0));
        assert_eq!(quality("financieel-directeur", "dir"), Some(1));
        assert_eq!(quality("social_attest", "att"), Some(1));
        assert_eq!(quality("burgemeester", "x"), None);
        assert_eq!(quality("é", "e"), None);
    }
}
