//! Answers to editor requests, each computed from compiler queries.

// The compiler's lexical view (strings, comments, words): the one lexer there is.
use crate::lines::{LineIndex, name_token_at};
use crate::workspace::Workspace;
use paraaf_compiler::check::UnitRef;
use paraaf_compiler::db::{Project, index, organogram, parse, semantic};
use paraaf_compiler::org::{OrgKind, Organogram, Position as OrgPosition};
use paraaf_compiler::resolve::{Index, Meaning, NameRef};
use paraaf_compiler::semantic::{Entity, Semantic};
use paraaf_compiler::syntax::ast::{Item, SourceAst, StepBody};
use paraaf_compiler::syntax::lexemes::{Lexeme, lexemes as lex};
use std::path::Path;
use tower_lsp_server::ls_types::{self as lsp, Uri};

/// Keywords offered by completion and coloured by semantic tokens.
pub const KEYWORDS: &[&str] = &[
    "document",
    "substitutes",
    "group",
    "agency",
    "flow",
    "rule",
    "for",
    "when",
    "step",
    "sign",
    "signers",
    "of",
    "all",
    "any",
    "visible",
    "to",
    "on",
    "refused",
    "back",
    "deadline",
    "remind",
    "escalate",
    "let",
    "match",
    "by",
    "if",
    "else",
    "queue",
    "reason",
    "link",
    "start",
    "with",
    "within",
    "withhold",
    "capped",
    "notify",
    "not",
    "and",
    "or",
    "true",
    "false",
    "none",
    "shielded",
    "people",
    "unit",
    "in",
    "uploader",
    "stop",
    "check",
    "debts",
    "workdays",
    "days",
    "EUR",
];

pub(crate) struct Ctx<'a> {
    pub(crate) ws: &'a Workspace,
    pub(crate) project: Project,
    pub(crate) text: String,
    pub(crate) ast: &'a SourceAst,
    /// What each name of the file denotes, as the checker resolved it.
    pub(crate) semantic: &'a Semantic,
    pub(crate) index: &'a Index,
    pub(crate) org: &'a Organogram,
    pub(crate) org_name: String,
}

pub(crate) fn ctx<'a>(ws: &'a Workspace, path: &Path) -> Option<Ctx<'a>> {
    let project = ws.project?;
    let file = *ws.files.get(path)?;
    let org_src = project.org(&ws.db);
    Some(Ctx {
        ws,
        project,
        text: file.text(&ws.db).clone(),
        ast: &parse(&ws.db, file).ast,
        semantic: semantic(&ws.db, project, file),
        index: index(&ws.db, project),
        org: &organogram(&ws.db, org_src).org,
        org_name: org_src.name(&ws.db).clone(),
    })
}

impl Ctx<'_> {
    /// The document kind of the flow around `offset`. While the flow does not parse (mid
    /// edit), the nearest `flow NAME for KIND` header above the cursor is used.
    /// The step names of the flow around `offset`: from the syntax tree, or, while the
    /// flow does not parse yet, from its text so far.
    pub(crate) fn steps_of_flow_at(&self, offset: usize) -> Vec<String> {
        if let Some(f) = self.ast.items.iter().find_map(|i| match i {
            Item::Flow(f) if f.span.contains(&offset) || f.span.end == offset => Some(f),
            _ => None,
        }) {
            return f.steps.iter().map(|s| s.name.text.clone()).collect();
        }
        let start = self.text[..offset].rfind("flow ").unwrap_or(0);
        let words: Vec<&str> = lex(&self.text[start..offset])
            .into_iter()
            .filter(|(k, _)| *k == Lexeme::Word)
            .map(|(_, r)| &self.text[start + r.start..start + r.end])
            .collect();
        let mut out: Vec<String> = words
            .windows(2)
            .filter(|w| w[0] == "step" && w[1] != "step")
            .map(|w| w[1].to_string())
            .collect();
        out.dedup();
        out
    }

    pub(crate) fn flow_kind(&self, offset: usize) -> Option<String> {
        let parsed = self.ast.items.iter().find_map(|i| match i {
            Item::Flow(f) if f.span.contains(&offset) || f.span.end == offset => {
                Some(f.kind.text.clone())
            }
            _ => None,
        });
        parsed.or_else(|| {
            let before = &self.text[..offset.min(self.text.len())];
            let header = before.rfind("flow ").map(|i| &before[i..])?;
            let mut words = header.split_whitespace();
            (words.next()? == "flow").then_some(())?;
            words.next()?;
            (words.next()? == "for").then_some(())?;
            Some(words.next()?.to_string())
        })
    }

    /// The name at `offset` as the checker resolved it, if it has a meaning.
    pub(crate) fn name_at(&self, offset: usize) -> Option<NameRef> {
        self.semantic.at(offset).and_then(NameRef::of)
    }

    /// Where the rule `rule` binds `name` (its first `let` of it, or its event's
    /// record), as the checker recorded it in the rule's file.
    fn local_definition(
        &self,
        rule: &str,
        name: &str,
    ) -> Option<paraaf_compiler::diagnostics::Span> {
        let file = &self.index.rules.get(rule)?.first()?.file;
        let source = *self.ws.files.get(&self.ws.path_of(file))?;
        let want = Meaning::Local {
            rule: rule.to_string(),
            name: name.to_string(),
        };
        semantic(&self.ws.db, self.project, source)
            .occurrences()
            .iter()
            .filter(|o| o.definition)
            .find(|o| Meaning::of(&o.entity).as_ref() == Some(&want))
            .map(|o| paraaf_compiler::diagnostics::Span::new(file, o.span.clone()))
    }

    fn field_type(
        &self,
        kind: &str,
        field: &str,
    ) -> Option<(String, paraaf_compiler::diagnostics::Span)> {
        let docs = self.index.documents.get(kind)?;
        let d = docs.first()?;
        let f = d.def.fields.iter().find(|f| f.name.text == field)?;
        let ty = format!("{}{}", f.ty.name.text, if f.ty.optional { "?" } else { "" });
        Some((
            ty,
            paraaf_compiler::diagnostics::Span::new(&d.file, f.name.span.clone()),
        ))
    }
}

fn md(text: String) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: text,
        }),
        range: None,
    }
}

/// Hover: what a name is (organogram entry with holders and substitutes, a field's type,
/// a flow's steps, a document kind's fields, a group's members).
pub fn hover(ws: &Workspace, path: &Path, pos: lsp::Position) -> Option<lsp::Hover> {
    let c = ctx(ws, path)?;
    let offset = LineIndex::new(&c.text).offset(pos);
    if in_comment_or_string(&c.text, offset) {
        return None;
    }
    // What the checker recorded for the name decides: the tree (also the part of a
    // broken file that parsed) and its semantic model. The token alone only where it
    // recorded nothing (an item that does not parse, a name it does not resolve).
    if let Some(o) = c.semantic.at(offset) {
        match &o.entity {
            Entity::Group(g) => return hover_group(&c, g),
            Entity::Step { flow, step } => return hover_step(&c, flow, step),
            Entity::Local { rule, name, .. } => return Some(hover_local(&c, rule, name)),
            Entity::Field { kind, field, .. } => return hover_field(&c, kind, field),
            Entity::RecordField { record, field, ty } => {
                // The owner is the name before the `.`, as the checker recorded it; a
                // bare field (of the record a `match` looks up) is the record's.
                let owner = o
                    .span
                    .start
                    .checked_sub(1)
                    .filter(|dot| c.text[*dot..].starts_with('.'))
                    .and_then(|dot| c.semantic.at(dot))
                    .and_then(|n| c.text.get(n.span.clone()))
                    .map_or_else(|| record.clone(), str::to_string);
                return Some(record_field_hover(&owner, field, record, ty));
            }
            Entity::Person { .. } | Entity::Unit(_) | Entity::Role { .. } => {
                return hover_org(&c, &o.entity);
            }
            Entity::Flow(f) => return hover_flow(&c, f),
            Entity::DocumentKind(k) => return hover_document(&c, k),
            Entity::Agency(_)
            | Entity::Rule(_)
            | Entity::Builtin(_)
            | Entity::Unresolved { .. } => {}
        }
    }
    let (word, range) = name_token_at(&c.text, offset)?;
    // `invoice.amount`, `po.found`, `debt.social_attest`: a field of a built-in record.
    if let Some(h) = hover_record_field(&c, &word, range.start) {
        return Some(h);
    }
    if let Some(kind) = c.flow_kind(offset)
        && let Some(h) = hover_field(&c, &kind, &word)
    {
        return Some(h);
    }
    if let Some(kind) = c.org.kind_of(&word) {
        // `teamcoach of inkomen` as typed: the function in exactly that unit.
        let end = c.text[offset..]
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'))
            .map_or(c.text.len(), |i| offset + i);
        let of = (kind == OrgKind::Function)
            .then(|| {
                let rest = c.text[end..].lines().next().unwrap_or("");
                let unit = rest.trim_start().strip_prefix("of ")?.trim_start();
                let unit: String = unit
                    .chars()
                    .take_while(|ch| {
                        ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_' || *ch == '.'
                    })
                    .collect();
                (!unit.is_empty()).then_some(unit)
            })
            .flatten();
        let entity = match of {
            Some(u) => Entity::Role {
                id: word.clone(),
                kind,
                unit: if c.org.unit(&u).is_some() {
                    UnitRef::Fixed(u)
                } else {
                    UnitRef::Field(u.strip_prefix("document.").unwrap_or(&u).to_string())
                },
            },
            None => Entity::org(c.org, &word, kind),
        };
        return hover_org(&c, &entity);
    }
    if let Some(h) = hover_flow(&c, &word) {
        return Some(h);
    }
    if let Some(h) = hover_document(&c, &word) {
        return Some(h);
    }
    hover_group(&c, &word)
}

/// Hover of a name a rule binds.
fn hover_local(c: &Ctx, rule: &str, name: &str) -> lsp::Hover {
    let what = c
        .index
        .rules
        .get(rule)
        .and_then(|v| v.first())
        .filter(|r| r.def.event.text.split('.').next() == Some(name))
        .map_or("bound with `let`", |_| "the record of the rule's event");
    md(format!("**{name}** — {what} in rule `{rule}`"))
}

/// Hover of a field of a document kind: its declared type.
fn hover_field(c: &Ctx, kind: &str, field: &str) -> Option<lsp::Hover> {
    let (ty, _) = c.field_type(kind, field)?;
    Some(md(format!(
        "**{field}**: `{ty}` — field of document kind `{kind}`"
    )))
}

/// Hover of an organogram entry. A function `of` a unit lists the holders in exactly
/// that unit, as the checker and the runtime route (not the units below it).
fn hover_org(c: &Ctx, e: &Entity) -> Option<lsp::Hover> {
    let (kind, word) = e.org_id()?;
    let word = word.to_string();
    let unit = match e {
        Entity::Role { unit, .. } => unit.clone(),
        _ => UnitRef::Any,
    };
    let name = c.org.display_name(&word).unwrap_or(&word);
    let mut out = match &unit {
        UnitRef::Fixed(u) => {
            format!("**{name} of {u}** (`{word} of {u}`) — function in the organogram")
        }
        UnitRef::Field(f) => format!(
            "**{name} of document.{f}** (`{word} of document.{f}`) — function in the organogram, held in the unit the field `{f}` names"
        ),
        UnitRef::Any => format!("**{name}** (`{word}`) — {} in the organogram", kind.word()),
    };
    match kind {
        OrgKind::Function | OrgKind::Mandate => {
            let holders: Vec<String> = c
                .org
                .people
                .iter()
                .flat_map(|p| p.positions.iter().map(move |pos| (p, pos)))
                .filter_map(|(p, pos)| match pos {
                    OrgPosition::Function {
                        function,
                        unit: held,
                    } if *function == word && !matches!(&unit, UnitRef::Fixed(u) if u != held) => {
                        Some(format!("{} ({held})", p.name))
                    }
                    OrgPosition::Mandate(m) if *m == word => Some(p.name.clone()),
                    _ => None,
                })
                .collect();
            let shown: Vec<&String> = holders.iter().take(8).collect();
            out.push_str(&format!(
                "\n\nHolders today: {}{}",
                if holders.is_empty() {
                    "nobody".to_string()
                } else {
                    shown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                if holders.len() > 8 {
                    format!(" and {} more", holders.len() - 8)
                } else {
                    String::new()
                }
            ));
            for s in c
                .index
                .substitutes
                .iter()
                .filter(|s| s.def.holder.name.text == word)
            {
                let subs: Vec<String> = s
                    .def
                    .substitutes
                    .iter()
                    .map(|x| format!("`{}`", x.name.text))
                    .collect();
                let holder = match &s.def.holder.of {
                    Some(u) => format!("{word} of {}", u.text()),
                    None => word.clone(),
                };
                out.push_str(&format!(
                    "\n\nSubstitutes of `{holder}`: {}",
                    subs.join(", ")
                ));
            }
        }
        OrgKind::Unit => {
            let unit = c.org.unit(&word)?;
            out = format!(
                "**{}** (`{word}`) — {} in the organogram",
                unit.name, unit.kind
            );
            if let Some(p) = &unit.parent {
                out.push_str(&format!(", part of `{p}`"));
            }
            out.push_str(&format!(
                "\n\n{} people",
                c.org.members_of_unit(&word).len()
            ));
        }
        OrgKind::Person => {
            if let Some(p) = c.org.people.iter().find(|p| p.id == word) {
                out.push_str(&format!("\n\n{}", p.email));
                for pos in &p.positions {
                    match pos {
                        OrgPosition::Function { function, unit } => {
                            out.push_str(&format!("\n- {function} of {unit}"))
                        }
                        OrgPosition::Mandate(m) => out.push_str(&format!("\n- {m}")),
                    }
                }
            }
        }
    }
    Some(md(out))
}

/// Hover of a flow: its steps and who signs them.
fn hover_flow(c: &Ctx, word: &str) -> Option<lsp::Hover> {
    let f = c.index.flows.get(word).and_then(|v| v.first())?;
    let steps: Vec<String> = f
        .def
        .steps
        .iter()
        .map(|s| match &s.body {
            StepBody::Sign(sc) => {
                format!("- `{}`: sign `{}`", s.name.text, sc.signer.name.text)
            }
            StepBody::Parallel { mode, signs, .. } => format!(
                "- `{}`: {:?} of {}",
                s.name.text,
                mode,
                signs
                    .iter()
                    .map(|x| format!("`{}`", x.signer.name.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect();
    Some(md(format!(
        "**flow {word}** for `{}`\n\n{}",
        f.def.kind.text,
        steps.join("\n")
    )))
}

/// Hover of a document kind: its fields and its shield.
fn hover_document(c: &Ctx, word: &str) -> Option<lsp::Hover> {
    let d = c.index.documents.get(word).and_then(|v| v.first())?;
    let fields: Vec<String> = d
        .def
        .fields
        .iter()
        .map(|f| {
            format!(
                "- `{}`: `{}{}{}`",
                f.name.text,
                f.ty.name.text,
                if f.ty.optional { "?" } else { "" },
                f.ty.within
                    .as_ref()
                    .map(|w| format!(" in {}", w.text))
                    .unwrap_or_default()
            )
        })
        .collect();
    let shield = match &d.def.shield {
        None => String::new(),
        Some(sh) => format!(
            "\n\nShielded by group `{}`: no document of this kind ever reaches or shows itself to anyone outside it.{}",
            sh.group.text,
            sh.allow
                .as_ref()
                .map(|a| format!(" **Exception**: the person in the field `{}` (the person concerned) may read and sign it too.", a.text))
                .unwrap_or_default()
        ),
    };
    Some(md(format!(
        "**document {word}**{shield}\n\n{}",
        fields.join("\n")
    )))
}

/// Hover of `NAME.field` where NAME holds a built-in record in the rule around it.
fn hover_record_field(c: &Ctx, field: &str, start: usize) -> Option<lsp::Hover> {
    let owner_end = start
        .checked_sub(1)
        .filter(|i| c.text.as_bytes()[*i] == b'.')?;
    let (owner, _) = name_token_at(&c.text, owner_end)?;
    let record = crate::records::record_of(&c.text, start, &owner)?;
    let fields = paraaf_compiler::check::types::builtin_fields(record)?;
    let (_, ty) = fields.iter().find(|(n, _)| *n == field)?;
    Some(record_field_hover(&owner, field, record, ty))
}

/// The hover of `OWNER.field`, a field of the built-in record `record`.
fn record_field_hover(
    owner: &str,
    field: &str,
    record: &str,
    ty: &paraaf_compiler::check::types::Ty,
) -> lsp::Hover {
    let optional = matches!(ty, paraaf_compiler::check::types::Ty::Optional(_));
    md(format!(
        "**{owner}.{field}**: `{ty}` — field of the built-in record `{record}`{}",
        if optional {
            "; it may be `none`, so compare it with `none` first or use it where `none` is allowed"
        } else {
            ""
        }
    ))
}

/// Hover of a step: who signs, under which condition, and its place in the flow.
fn hover_step(c: &Ctx, flow: &str, step: &str) -> Option<lsp::Hover> {
    let f = c.index.flows.get(flow)?.first()?;
    let steps = &f.def.steps;
    let n = steps.iter().position(|s| s.name.text == step)?;
    let sign = |sc: &paraaf_compiler::syntax::ast::SignClause| {
        let mut s = format!("sign `{}`", sc.signer.name.text);
        if let Some(w) = &sc.when {
            s.push_str(&format!(
                " when `{}`",
                paraaf_compiler::syntax::print_expr(w)
            ));
        }
        s
    };
    let what = match &steps[n].body {
        StepBody::Sign(sc) => sign(sc),
        StepBody::Parallel { mode, signs, when } => format!(
            "{} of:\n{}{}",
            if *mode == paraaf_compiler::syntax::ast::ParallelMode::All {
                "all"
            } else {
                "any one"
            },
            signs
                .iter()
                .map(|sc| format!("- {}", sign(sc)))
                .collect::<Vec<_>>()
                .join("\n"),
            when.as_ref()
                .map(|w| format!("\n\nwhen `{}`", paraaf_compiler::syntax::print_expr(w)))
                .unwrap_or_default()
        ),
    };
    Some(md(format!(
        "**step {step}** — step {} of {} of flow `{flow}` (for `{}`)\n\n{what}",
        n + 1,
        steps.len(),
        f.def.kind.text
    )))
}

/// Hover of a group: its members and the kinds it shields.
fn hover_group(c: &Ctx, word: &str) -> Option<lsp::Hover> {
    let word = word.to_string();
    {
        let g = c.index.groups.get(&word).and_then(|v| v.first())?;
        let members = format!(
            "`{}`",
            paraaf_compiler::syntax::print::group_members(&g.def.members)
        );
        let shields: Vec<String> = c
            .index
            .documents
            .values()
            .filter_map(|v| v.first())
            .filter(|d| d.def.shield.as_ref().is_some_and(|s| s.group.text == word))
            .map(|d| format!("`{}`", d.def.name.text))
            .collect();
        let members = if shields.is_empty() {
            members
        } else {
            format!("{members}\n\nShields: {}", shields.join(", "))
        };
        Some(md(format!(
            "**group {word}**{}: {members}",
            if g.def.shielded.is_some() {
                " (shielded)"
            } else {
                ""
            }
        )))
    }
}

/// Where a name is defined: a project definition, a field, or the organogram entry.
pub fn definition(ws: &Workspace, path: &Path, pos: lsp::Position) -> Option<lsp::Location> {
    let c = ctx(ws, path)?;
    let offset = LineIndex::new(&c.text).offset(pos);
    if in_comment_or_string(&c.text, offset) {
        return None;
    }
    let span = |file: &str, r: &std::ops::Range<usize>| {
        paraaf_compiler::diagnostics::Span::new(file, r.clone())
    };
    // The tree's name decides (also in the part of a broken file that parsed); the
    // token alone only where the tree has no name.
    if let Some(n) = c.name_at(offset) {
        return definition_of(&c, &n.meaning).and_then(|s| c.ws.location(&s));
    }
    let (word, _) = name_token_at(&c.text, offset)?;
    if let Some(kind) = c.flow_kind(offset)
        && let Some((_, s)) = c.field_type(&kind, &word)
    {
        return c.ws.location(&s);
    }
    let found = c
        .index
        .documents
        .get(&word)
        .and_then(|v| v.first())
        .map(|d| span(&d.file, &d.def.name.span))
        .or_else(|| {
            c.index
                .flows
                .get(&word)
                .and_then(|v| v.first())
                .map(|d| span(&d.file, &d.def.name.span))
        })
        .or_else(|| {
            c.index
                .groups
                .get(&word)
                .and_then(|v| v.first())
                .map(|d| span(&d.file, &d.def.name.span))
        })
        .or_else(|| {
            c.index
                .agencies
                .get(&word)
                .and_then(|v| v.first())
                .map(|d| span(&d.file, &d.def.name.span))
        })
        .or_else(|| c.org.span_of(&word).map(|r| span(&c.org_name, &r)))?;
    c.ws.location(&found)
}

/// Where the definition of `m` is.
fn definition_of(c: &Ctx, m: &Meaning) -> Option<paraaf_compiler::diagnostics::Span> {
    fn first<T>(
        v: Option<&Vec<paraaf_compiler::resolve::InFile<T>>>,
    ) -> Option<&paraaf_compiler::resolve::InFile<T>> {
        v.and_then(|v| v.first())
    }
    use paraaf_compiler::diagnostics::Span;
    Some(match m {
        Meaning::DocumentKind(k) => {
            let d = first(c.index.documents.get(k))?;
            Span::new(&d.file, d.def.name.span.clone())
        }
        Meaning::Flow(f) | Meaning::Step { flow: f, .. } => {
            let d = first(c.index.flows.get(f))?;
            let span = match m {
                Meaning::Step { step, .. } => d
                    .def
                    .steps
                    .iter()
                    .find(|s| &s.name.text == step)
                    .map(|s| s.name.span.clone())?,
                _ => d.def.name.span.clone(),
            };
            Span::new(&d.file, span)
        }
        Meaning::Group(g) => {
            let d = first(c.index.groups.get(g))?;
            Span::new(&d.file, d.def.name.span.clone())
        }
        Meaning::Agency(a) => {
            let d = first(c.index.agencies.get(a))?;
            Span::new(&d.file, d.def.name.span.clone())
        }
        Meaning::Rule(r) => {
            let d = first(c.index.rules.get(r))?;
            Span::new(&d.file, d.def.name.span.clone())
        }
        Meaning::Field { kind, field } => c.field_type(kind, field)?.1,
        Meaning::Org(_, id) => Span::new(&c.org_name, c.org.span_of(id)?),
        Meaning::Local { rule, name } => c.local_definition(rule, name)?,
    })
}

/// Every occurrence of `m` in the workspace's files, as the resolver sees them.
fn occurrences(c: &Ctx, m: &Meaning, with_definitions: bool) -> Vec<lsp::Location> {
    let mut out = Vec::new();
    for (p, f) in &c.ws.files {
        let Some(uri) = Uri::from_file_path(p) else {
            continue;
        };
        let text = f.text(&c.ws.db);
        let lines = LineIndex::new(text);
        let model = semantic(&c.ws.db, c.project, *f);
        for n in model.occurrences().iter().filter_map(NameRef::of) {
            if &n.meaning == m && (with_definitions || !n.definition) {
                out.push(lsp::Location::new(uri.clone(), lines.range(&n.span)));
            }
        }
    }
    out
}

/// Whether `offset` is inside a comment or a string literal: no name is there, whatever
/// the words spell (hover, definition and completion answer nothing).
pub(crate) fn in_comment_or_string(text: &str, offset: usize) -> bool {
    lex(text).iter().any(|(kind, r)| {
        matches!(kind, Lexeme::Comment | Lexeme::Str)
            && r.start < offset
            && (offset < r.end || (offset == r.end && !text[..r.end].ends_with('"')))
    })
}

/// Every use of the name under the cursor in the project's files.
pub fn references(
    ws: &Workspace,
    path: &Path,
    pos: lsp::Position,
    include_declaration: bool,
) -> Vec<lsp::Location> {
    let Some(c) = ctx(ws, path) else {
        return Vec::new();
    };
    let offset = LineIndex::new(&c.text).offset(pos);
    // Only what the checker says the name denotes: never the same spelling elsewhere.
    let Some(n) = c.name_at(offset) else {
        return Vec::new();
    };
    let mut out = occurrences(&c, &n.meaning, include_declaration);
    if include_declaration
        && let Meaning::Org(..) = n.meaning
        && let Some(l) = definition_of(&c, &n.meaning).and_then(|s| ws.location(&s))
    {
        out.push(l);
    }
    out
}

/// Renames a project-defined name (document kind, flow, group, agency) everywhere.
/// Organogram names are renamed in the organogram, not here.
pub fn rename(
    ws: &Workspace,
    path: &Path,
    pos: lsp::Position,
    new_name: &str,
) -> Result<lsp::WorkspaceEdit, String> {
    let c = ctx(ws, path).ok_or("the file is not part of a project")?;
    let offset = LineIndex::new(&c.text).offset(pos);
    let Some(n) = c.name_at(offset) else {
        let (word, _) = name_token_at(&c.text, offset).ok_or("no name here")?;
        return Err(format!(
            "`{word}` is not a name of this project here (a keyword, or not defined)"
        ));
    };
    // The name as the tree holds it.
    let word = c.text.get(n.span.clone()).unwrap_or_default().to_string();
    if !n.meaning.is_project_name() {
        return Err(format!(
            "`{word}` comes from the organogram; rename it there"
        ));
    }
    if !paraaf_compiler::syntax::is_identifier(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name (a letter or `_`, then letters, digits, `_` and dashes; not a keyword)"
        ));
    }
    if new_name != word {
        // One meaning per name: the new name may not be taken already.
        let in_scope = match &n.meaning {
            Meaning::Field { kind, .. } => c
                .field_type(kind, new_name)
                .map(|_| format!("a field of `{kind}`")),
            Meaning::Step { flow, .. } => c
                .index
                .flows
                .get(flow)
                .and_then(|v| v.first())
                .filter(|f| f.def.steps.iter().any(|s| s.name.text == new_name))
                .map(|_| format!("a step of `{flow}`")),
            Meaning::Local { rule, .. } => c
                .local_definition(rule, new_name)
                .map(|_| format!("a name bound in rule `{rule}`")),
            _ => None,
        };
        let taken = if in_scope.is_some() {
            in_scope
        } else if matches!(n.meaning, Meaning::Step { .. }) {
            None // step names live in their flow only
        } else if matches!(n.meaning, Meaning::Local { .. })
            && c.org.kind_of(new_name).is_none()
            && !c.index.groups.contains_key(new_name)
        {
            // A rule's own name shadows nothing but organogram names and groups (which
            // a bare name in a condition could mean).
            None
        } else if c.index.documents.contains_key(new_name) {
            Some("a document kind".to_string())
        } else if c.index.flows.contains_key(new_name) {
            Some("a flow".to_string())
        } else if c.index.groups.contains_key(new_name) {
            Some("a group".to_string())
        } else if c.index.agencies.contains_key(new_name) {
            Some("an agency".to_string())
        } else if c.index.rules.contains_key(new_name) {
            Some("a rule".to_string())
        } else if let Some(kind) = (!matches!(n.meaning, Meaning::Field { .. }))
            .then(|| {
                c.index.documents.iter().find(|(_, v)| {
                    v.iter()
                        .any(|d| d.def.fields.iter().any(|f| f.name.text == new_name))
                })
            })
            .flatten()
        {
            // A field may not share a name with a project name (P0023).
            Some(format!("a field of `{}`", kind.0))
        } else {
            c.org
                .kind_of(new_name)
                .map(|k| format!("the {k:?} `{new_name}` of the organogram").to_lowercase())
        };
        if let Some(what) = taken {
            return Err(format!(
                "cannot rename `{word}` to `{new_name}`: `{new_name}` is already {what}; every name has one meaning"
            ));
        }
    }
    let mut changes: std::collections::HashMap<Uri, Vec<lsp::TextEdit>> = Default::default();
    let locations = occurrences(&c, &n.meaning, true);
    for l in locations {
        changes
            .entry(l.uri)
            .or_default()
            .push(lsp::TextEdit::new(l.range, new_name.to_string()));
    }
    Ok(lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    })
}

/// Token types of semantic highlighting, in legend order.
pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::TYPE,
    lsp::SemanticTokenType::PROPERTY,
];

/// Semantic tokens: keywords, strings, numbers, comments, organogram names (type) and
/// other names (property).
pub fn semantic_tokens(
    ws: &Workspace,
    path: &Path,
    range: Option<lsp::Range>,
) -> Vec<lsp::SemanticToken> {
    use salsa::Database as _;
    let Some(c) = ctx(ws, path) else {
        return Vec::new();
    };
    // Only the range the editor shows, when it asks for one (a 2 MB file's screen).
    let within = range.map(|r| {
        let l = LineIndex::new(&c.text);
        l.offset(r.start)..l.offset(r.end)
    });
    let lines = LineIndex::new(&c.text);
    // Names are coloured by what the checker says they denote, not by their spelling.
    let meanings: std::collections::HashMap<usize, bool> = c
        .semantic
        .occurrences()
        .iter()
        .filter_map(NameRef::of)
        .map(|n| (n.span.start, matches!(n.meaning, Meaning::Org(..))))
        .collect();
    let raw = lex(&c.text).into_iter().filter_map(|(kind, r)| {
        if within
            .as_ref()
            .is_some_and(|w| r.end < w.start || r.start > w.end)
        {
            return None;
        }
        let ty = match kind {
            Lexeme::Str => 1,
            Lexeme::Number => 2,
            Lexeme::Comment => 3,
            Lexeme::Word => match meanings.get(&r.start) {
                Some(true) => 4,
                Some(false) => 5,
                None if KEYWORDS.contains(&&c.text[r.clone()]) => 0,
                None => return None,
            },
            Lexeme::Punct => return None,
        };
        Some((r, ty))
    });
    let mut out = Vec::new();
    let (mut last_line, mut last_col) = (0u32, 0u32);
    // Positions advance with the tokens (in order), so a 10,000-term condition on one
    // line costs linear time, not a scan from the line start per token.
    let mut cursor: Option<(usize, lsp::Position)> = None;
    let mut at = |offset: usize| -> lsp::Position {
        let p = match cursor {
            Some((o, p)) if o <= offset && !c.text[o..offset].contains(['\n', '\r']) => {
                lsp::Position {
                    line: p.line,
                    character: p.character
                        + c.text[o..offset]
                            .chars()
                            .map(|ch| ch.len_utf16() as u32)
                            .sum::<u32>(),
                }
            }
            _ => lines.position(offset),
        };
        cursor = Some((offset, p));
        p
    };
    for (n, (r, ty)) in raw.enumerate() {
        // An edit or `$/cancelRequest` stops a long colouring here.
        if n % 4096 == 4095 {
            ws.db.unwind_if_revision_cancelled();
        }
        let s = at(r.start);
        let e = at(r.end);
        if s.line != e.line {
            continue;
        }
        let delta_line = s.line - last_line;
        let delta_start = if delta_line == 0 {
            s.character - last_col
        } else {
            s.character
        };
        out.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length: e.character - s.character,
            token_type: ty,
            token_modifiers_bitset: 0,
        });
        (last_line, last_col) = (s.line, s.character);
    }
    out
}

/// Quick fixes for the diagnostics under `range`, computed from the file's current text
/// (never from offsets an older diagnostic carried, which a later edit makes stale).
pub fn code_actions(
    ws: &Workspace,
    path: &Path,
    uri: &Uri,
    range: lsp::Range,
) -> Vec<lsp::CodeActionOrCommand> {
    let (Some(project), Some(file)) = (ws.project, ws.files.get(path).copied()) else {
        return Vec::new();
    };
    let text = file.text(&ws.db);
    let lines = LineIndex::new(text);
    let key = |p: lsp::Position| (p.line, p.character);
    paraaf_compiler::db::file_diagnostics(&ws.db, project, file)
        .iter()
        .filter(|d| d.span.file == *file.name(&ws.db))
        .filter_map(|d| {
            let fix = d.fix.as_ref()?;
            let at = lines.range(&d.span.range);
            if key(at.end) < key(range.start) || key(range.end) < key(at.start) {
                return None;
            }
            let edit = lsp::TextEdit::new(lines.range(&fix.span.range), fix.replacement.clone());
            Some(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: format!("Replace with `{}`", fix.replacement),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: None,
                edit: Some(lsp::WorkspaceEdit {
                    changes: Some([(uri.clone(), vec![edit])].into_iter().collect()),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }))
        })
        .collect()
}

/// Formatting: the same formatter as `paraaf fmt`, as one whole-file edit.
pub fn formatting(ws: &Workspace, path: &Path) -> Option<Vec<lsp::TextEdit>> {
    let file = ws.files.get(path)?;
    let text = file.text(&ws.db);
    // Nesting the parser refuses (P0002) is not re-indented either: the result would be
    // quadratic in size.
    if parse(&ws.db, *file)
        .diagnostics
        .iter()
        .any(|d| d.code == paraaf_compiler::diagnostics::Code::TooDeep)
    {
        return None;
    }
    let formatted = paraaf_compiler::syntax::format(text);
    if &formatted == text {
        return Some(Vec::new());
    }
    let lines = LineIndex::new(text);
    Some(vec![lsp::TextEdit::new(
        lines.range(&(0..text.len())),
        formatted,
    )])
}
