//! pest → AST, one top-level item at a time, so a syntax error hides nothing else.

use super::ast::*;
use super::lexemes::Lexeme;
use crate::diagnostics::{Code, Diagnostic, Span};
use paraaf_model::valid_date;
use pest::Parser as _;
use pest::iterators::Pair;
use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/grammar.pest"]
struct Grammar;

/// Deepest bracket nesting accepted; pest has no limit of its own (pest issue 1129).
pub const MAX_DEPTH: usize = 64;

/// Keywords that start a top-level item (used for error recovery).
const TOP_LEVEL: &[&str] = &["document", "substitutes", "group", "agency", "flow", "rule"];

pub use super::parse::Parsed;

/// Parses `text` (named `file` in diagnostics).
pub fn parse(file: &str, text: &str) -> Parsed {
    pest::set_call_limit(std::num::NonZeroUsize::new(10_000_000));
    // A lone `\r` (an old Mac file) ends a line as `\n` does: without this a `//`
    // comment would run to the end of the file. Offsets are unchanged.
    let text = &*super::line_ends::lone_cr_as_lf(text);
    let mut out = Parsed::default();
    // One lexical pass serves both guards.
    let lexed = super::lexemes::lexemes(text);
    if let Some(pos) = too_deep(text, &lexed) {
        out.diagnostics.push(
            Diagnostic::new(
                Code::TooDeep,
                Span::new(file, pos..pos + 1),
                format!("brackets are nested more than {MAX_DEPTH} levels deep"),
            )
            .with_help("split the condition or block into simpler parts"),
        );
        return out;
    }
    if let Some(pos) = too_many_ifs(text, &lexed) {
        out.diagnostics.push(
            Diagnostic::new(
                Code::TooDeep,
                Span::new(file, pos..ceil_boundary(text, pos + 2)),
                format!(
                    "`if` statements are nested more than {MAX_IFS} deep (each `else if` of a chain counts one)"
                ),
            )
            .with_help(
                "split the chain into several rules with a `when` clause each, or compare with a list: `x in [\"a\", \"b\"]`",
            ),
        );
        return out;
    }
    if let Some(pos) = too_many_prefixes(text) {
        out.diagnostics.push(
            Diagnostic::new(
                Code::TooDeep,
                Span::new(file, pos..ceil_boundary(text, pos + 3)),
                format!("more than {MAX_PREFIXES} `not` or `% of` follow each other"),
            )
            .with_help("write the condition without stacking them: `not not x` is `x`"),
        );
        return out;
    }
    let mut offset = skip_trivia(text, 0);
    while offset < text.len() {
        // pest sees one item only (up to the next line that starts a definition): error
        // positions and line lookups stay within it, so 16,000 errors stay linear.
        let limit = next_item_start(text, offset + 1).unwrap_or(text.len());
        let item_text = &text[offset..limit];
        match Grammar::parse(Rule::item_entry, item_text) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                let end = offset + pair.as_span().end();
                let mut conv = Converter {
                    file,
                    offset,
                    diagnostics: &mut out.diagnostics,
                };
                if let Some(item) = conv.item(pair) {
                    out.ast.items.push(item);
                }
                offset = skip_trivia(text, ceil_boundary(text, end.max(offset + 1)));
            }
            Err(err) => {
                // Parse the failing item again collecting the expected tokens (slower, so
                // only on the error path) for an "expected `:`" message.
                pest::set_error_detail(true);
                let detailed = Grammar::parse(Rule::item_entry, item_text).err();
                pest::set_error_detail(false);
                out.diagnostics.push(syntax_error(
                    file,
                    text,
                    offset,
                    detailed.as_ref().unwrap_or(&err),
                ));
                if limit >= text.len() {
                    break;
                }
                offset = limit;
            }
        }
    }
    out
}

/// Whether `text` is a name as the grammar reads one (a letter or `_`, then letters,
/// digits, `_` and inner dashes; not a keyword): what a rename may write.
pub fn is_identifier(text: &str) -> bool {
    Grammar::parse(Rule::ident, text)
        .ok()
        .and_then(|mut p| p.next())
        .is_some_and(|p| p.as_span().end() == text.len())
}

/// Most `not` (or `% of`) in a row: each nests the expression one level deeper.
pub const MAX_PREFIXES: usize = 64;

/// Position of the first `not` or `of` that makes a run longer than [`MAX_PREFIXES`]
/// (words in between that are not `not`/`of`/a percentage end the run).
fn too_many_prefixes(text: &str) -> Option<usize> {
    let mut run = 0;
    let mut pos = 0;
    for word in text.split(|c: char| {
        !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '%' || c == '.')
    }) {
        let start = pos;
        pos += word.len() + 1;
        match word {
            "" => {}
            "not" | "of" => {
                run += 1;
                if run > MAX_PREFIXES {
                    return Some(start);
                }
            }
            w if w.ends_with('%') => {}
            _ => run = 0,
        }
    }
    None
}

/// Deepest nesting of `if` statements accepted. An `else if` is an `if` inside the
/// `else` of the one before (the syntax tree nests it, so every pass recurses once per
/// branch): a chain of 1,000 branches overflowed the stack.
pub const MAX_IFS: usize = 128;

/// Position of the first `if` nested deeper than [`MAX_IFS`], counting the `if`s that
/// enclose it and the branches of its chain before it. A bracket-level scan like
/// [`too_deep`] (strings and comments skipped); bracket depth is already bounded.
fn too_many_ifs(text: &str, lexed: &[(Lexeme, std::ops::Range<usize>)]) -> Option<usize> {
    // Per open `{`: the `if` depth inside it, and the depth of the current chain at
    // this level (0: no chain open).
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let mut last_word: &str = "";
    // A `}` just closed back to this level: the chain goes on only with `else`.
    let mut after_close = false;
    for (kind, r) in lexed.iter().cloned() {
        match (kind, &text[r.clone()]) {
            (Lexeme::Comment, _) => continue,
            (Lexeme::Punct, "{") => {
                let (base, chain) = *levels.last().unwrap_or(&(0, 0));
                levels.push((base.max(chain), 0));
                after_close = false;
                last_word = "";
            }
            (Lexeme::Punct, "}") => {
                if levels.len() > 1 {
                    levels.pop();
                }
                after_close = true;
                last_word = "";
            }
            (Lexeme::Word, word) => {
                let level = levels.last_mut().expect("the outer level stays");
                if after_close && word != "else" {
                    level.1 = 0;
                }
                after_close = false;
                if word == "if" {
                    let depth = if last_word == "else" && level.1 > 0 {
                        level.1 + 1
                    } else {
                        level.0 + 1
                    };
                    if depth > MAX_IFS {
                        return Some(r.start);
                    }
                    level.1 = depth;
                }
                last_word = word;
            }
            _ => {
                after_close = false;
                last_word = "";
            }
        }
    }
    None
}

/// Position of the first bracket nested deeper than [`MAX_DEPTH`], if any.
fn too_deep(text: &str, lexed: &[(Lexeme, std::ops::Range<usize>)]) -> Option<usize> {
    let mut depth = 0usize;
    for (kind, r) in lexed.iter().cloned() {
        if kind != Lexeme::Punct {
            continue;
        }
        match &text[r.clone()] {
            "{" | "(" | "[" => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(r.start);
                }
            }
            "}" | ")" | "]" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The first char boundary at or after `i` (or the end of the text).
fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i.min(text.len())
}

/// Skips whitespace and comments from `i`.
fn skip_trivia(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    loop {
        while i < b.len() {
            if b[i].is_ascii_whitespace() {
                i += 1;
            } else if let Some(c) = text[i..].chars().next()
                && (c.is_whitespace() || c == '\u{FEFF}')
            {
                i += c.len_utf8();
            } else {
                break;
            }
        }
        if b.get(i) == Some(&b'/') && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else {
            return i.min(text.len());
        }
    }
}

/// The next line at or after `from` that starts (in column 0) with a top-level keyword.
fn next_item_start(text: &str, from: usize) -> Option<usize> {
    let from = ceil_boundary(text, from);
    let mut line_start = text[..from.min(text.len())]
        .rfind('\n')
        .map_or(0, |p| p + 1);
    if line_start < from {
        line_start = from + text[from..].find('\n')? + 1;
    }
    let mut pos = line_start;
    while pos < text.len() {
        // At any indentation: a keyword that starts a definition cannot be anything else.
        let rest = &text[pos..];
        let line = rest.trim_start_matches([' ', '\t', '\u{A0}', '\u{FEFF}']);
        let indent = rest.len() - line.len();
        if TOP_LEVEL.iter().any(|kw| {
            line.starts_with(kw) && line[kw.len()..].starts_with(|c: char| c.is_whitespace())
        }) {
            return Some(pos + indent);
        }
        pos += indent + line.find('\n')? + 1;
    }
    None
}

fn syntax_error(
    file: &str,
    text: &str,
    offset: usize,
    err: &pest::error::Error<Rule>,
) -> Diagnostic {
    let mut pos = offset
        + match err.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
    let mut expected: Vec<String> = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives
            .iter()
            .filter_map(|r| rule_name(*r))
            .map(str::to_string)
            .collect(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    if let Some(attempts) = err.parse_attempts()
        && offset + attempts.max_position >= pos
    {
        pos = offset + attempts.max_position;
        let tokens: Vec<String> = attempts
            .expected_tokens()
            .iter()
            .map(|t| t.to_string())
            .filter(|t| {
                !t.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
                    .is_empty()
                    && !matches!(t.as_str(), "BUILTIN_RULE" | "//" | "_" | "-")
                    && !t.contains("..")
            })
            .map(|t| format!("`{t}`"))
            .collect();
        if !tokens.is_empty() {
            expected = tokens;
        }
    }
    expected.sort();
    expected.dedup();
    let pos = pos.min(text.len());
    let found: String = text[pos..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .chars()
        .take(30)
        .collect();
    let next_char = text[pos..].chars().next();
    let mut help = None;
    let found_text = match next_char {
        None => "the end of the file".to_string(),
        Some(c) if found.is_empty() || !c.is_ascii() && !c.is_alphanumeric() => {
            format!("{} (U+{:04X})", describe_char(c), c as u32)
        }
        Some(_) => format!("`{found}`"),
    };
    // A name with a letter outside ASCII (`schepen-van-financiën`): suggest the ASCII id.
    let word_start = text[..pos]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '-' || *c == '_')
        .last()
        .map_or(pos, |(i, _)| i);
    let word: String = text[word_start..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .take(200)
        .collect();
    if !word.is_ascii() && word.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
        let ascii = crate::org::ascii_id(&word);
        help = Some(format!(
            "names are written in ASCII letters, digits and dashes: write `{ascii}` (organogram ids are written the same way)"
        ));
    }
    // A word of the language where a name belongs (`flow for besluit`, `step sign :`).
    if help.is_none()
        && expected.iter().any(|e| e == "a name")
        && let Some((span, message, help)) =
            super::keywords::keyword_as_name(text, offset, pos, |at| name_missing(text, offset, at))
    {
        return Diagnostic::new(Code::SyntaxError, Span::new(file, span), message).with_help(help);
    }
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("unexpected {found_text}; expected {}", join_or(&expected))
    };
    let end = (pos + found.len().max(1)).min(text.len().max(pos));
    let help = if let Some(h) = help {
        h
    } else if text[offset..pos].matches('{').count() > text[offset..pos].matches('}').count()
        && (pos >= text.len()
            || TOP_LEVEL.iter().any(|kw| {
                text[pos..].starts_with(kw)
                    && text[pos + kw.len()..].starts_with(char::is_whitespace)
            }))
    {
        "a `{` is not closed: add the missing `}`".to_string()
    } else {
        "see docs/language.md for the syntax of each construct".to_string()
    };
    Diagnostic::new(Code::SyntaxError, Span::new(file, pos..end), message).with_help(help)
}

/// Whether the item at `item` parses past the word at `at` and the one after it once a
/// name is written in front of it: then a name was left out there (`flow for besluit`).
fn name_missing(text: &str, item: usize, at: usize) -> bool {
    let end = next_item_start(text, item + 1).unwrap_or(text.len());
    let word = |from: usize| {
        from + text[from..end]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(end - from)
    };
    let after = word(at);
    let next = after + (text[after..end].len() - text[after..end].trim_start().len());
    let next_end = word(next).max(ceil_boundary(text, next + 1)).min(end);
    let with_name = format!("{}x {}", &text[item..at], &text[at..end]);
    match Grammar::parse(Rule::item_entry, &with_name) {
        Ok(_) => true,
        Err(e) => {
            let p = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            p >= next_end - item + 2
        }
    }
}

/// `a op b op c ...` as a balanced tree (same meaning: `and`/`or` associate).
fn balanced(op: LogicOp, mut parts: Vec<Expr>) -> Expr {
    if parts.len() == 1 {
        return parts.pop().expect("one operand");
    }
    let right = parts.split_off(parts.len() / 2);
    let (a, b) = (balanced(op, parts), balanced(op, right));
    let span = a.span.start..b.span.end;
    Expr {
        kind: ExprKind::Logic(op, Box::new(a), Box::new(b)),
        span,
    }
}

/// A character that does not show, in words.
fn describe_char(c: char) -> String {
    match c {
        '\u{A0}' => "a no-break space".into(),
        '\u{202F}' => "a narrow no-break space".into(),
        '\u{FEFF}' => "a byte-order mark".into(),
        '\u{200B}' => "a zero-width space".into(),
        '\u{AD}' => "a soft hyphen".into(),
        c if c.is_whitespace() => "a space character".into(),
        c if c.is_control() => "a control character".into(),
        c => format!("`{c}`"),
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

/// Human names of grammar rules for "expected ..." messages.
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::path | Rule::path_head | Rule::field_name => "a name",
        Rule::string | Rule::string_inner => "a string in double quotes",
        Rule::money => "an amount like `8 500 EUR`",
        Rule::percent => "a percentage like `2%`",
        Rule::duration => "a duration like `5 workdays`",
        Rule::number | Rule::decimal => "a number",
        Rule::document_def
        | Rule::substitutes_def
        | Rule::group_def
        | Rule::agency_def
        | Rule::flow_def
        | Rule::rule_def => "a definition (document, substitutes, group, agency, flow, rule)",
        Rule::field_def => "a field like `bedrag: money`",
        Rule::type_ref | Rule::ident_or_kw_type => "a type",
        Rule::optional_mark => "`?`",
        Rule::when_clause => "`when`",
        Rule::visible_def => "`visible to`",
        Rule::step_def => "`step`",
        Rule::on_refused => "`on refused`",
        Rule::deadline_def => "`deadline`",
        Rule::sign_clause => "`sign`",
        Rule::parallel_block | Rule::parallel_kind => "`all {` or `any {`",
        Rule::signer_ref => "a function, mandate or person",
        Rule::audience => "an audience (uploader, signers, group NAME, unit NAME)",
        Rule::refused_target | Rule::back_to_uploader | Rule::back_to_step | Rule::stop => {
            "`back to uploader`, `back to step NAME` or `stop`"
        }
        Rule::let_stmt | Rule::if_stmt => {
            "a statement (let, if, queue, link, start, withhold, notify)"
        }
        Rule::queue_action
        | Rule::link_action
        | Rule::start_action
        | Rule::withhold_action
        | Rule::notify_action => "a statement (let, if, queue, link, start, withhold, notify)",
        Rule::block => "`{`",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::value => "an expression",
        Rule::cmp_op => "a comparison (==, !=, <, <=, >, >=, ~=)",
        Rule::or_op => "`or`",
        Rule::and_op => "`and`",
        Rule::in_op => "`in`",
        Rule::within => "`within`",
        Rule::literal => "a value",
        Rule::shielded => "`shielded`",
        Rule::group_members | Rule::unit_members | Rule::people_members | Rule::signer_member => {
            "`unit NAME`, `people(...)` or a function, mandate or person"
        }
        Rule::shield_clause | Rule::shield_allow => "`shielded by GROUP [allow FIELD]`",
        Rule::refinement => "`in NAME`",
        Rule::event_name => "an event like `invoice.received`",
        Rule::assignment => "`field = value`",
        _ => return None,
    })
}

struct Converter<'a> {
    file: &'a str,
    offset: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
}

type P<'i> = Pair<'i, Rule>;

impl Converter<'_> {
    fn span(&self, p: &P) -> std::ops::Range<usize> {
        let s = p.as_span();
        // pest includes the whitespace skipped before a trailing optional part; trim it.
        let len = trimmed_len(s.as_str());
        self.offset + s.start()..self.offset + s.start() + len
    }

    fn name(&self, p: P) -> Name {
        Name {
            span: self.span(&p),
            text: p.as_str().to_string(),
        }
    }

    fn item(&mut self, p: P) -> Option<Item> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::document_def => {
                let name = self.name(inner.next()?);
                let mut shield = None;
                let mut fields = Vec::new();
                for f in inner {
                    if f.as_rule() == Rule::shield_clause {
                        let span = self.span(&f);
                        let mut si = f.into_inner();
                        let group = self.name(si.next()?);
                        let allow = si
                            .next()
                            .and_then(|a| a.into_inner().find(|p| p.as_rule() == Rule::ident))
                            .map(|n| self.name(n));
                        shield = Some(Shield { group, allow, span });
                        continue;
                    }
                    let mut fi = f.into_inner();
                    let name = self.name(fi.next().expect("field name"));
                    let ty = fi.next().expect("field type");
                    let mut ti = ty.into_inner();
                    let tname = self.name(ti.next().expect("type name"));
                    let mut optional = false;
                    let mut within = None;
                    for part in ti {
                        match part.as_rule() {
                            Rule::optional_mark => optional = true,
                            Rule::refinement => {
                                within = part
                                    .into_inner()
                                    .find(|p| p.as_rule() == Rule::ident)
                                    .map(|n| self.name(n));
                            }
                            _ => {}
                        }
                    }
                    fields.push(FieldDef {
                        name,
                        ty: TypeRef {
                            name: tname,
                            optional,
                            within,
                        },
                    });
                }
                Item::Document(DocumentDef {
                    name,
                    shield,
                    fields,
                    span,
                })
            }
            Rule::substitutes_def => {
                let holder = self.signer(inner.next()?);
                let substitutes = inner.map(|s| self.signer(s)).collect();
                Item::Substitutes(SubstitutesDef {
                    holder,
                    substitutes,
                    span,
                })
            }
            Rule::group_def => {
                let name = self.name(inner.next()?);
                let mut terms = Vec::new();
                for t in inner.next()?.into_inner() {
                    terms.push(match t.as_rule() {
                        Rule::unit_members => GroupMembers::Unit(self.name(t.into_inner().next()?)),
                        Rule::signer_member => {
                            GroupMembers::People(vec![self.signer(t.into_inner().next()?)])
                        }
                        _ => GroupMembers::People(t.into_inner().map(|s| self.signer(s)).collect()),
                    });
                }
                let members = if terms.len() == 1 {
                    terms.pop()?
                } else {
                    GroupMembers::Union(terms)
                };
                let shielded = inner.next().map(|s| self.span(&s));
                Item::Group(GroupDef {
                    name,
                    members,
                    shielded,
                    span,
                })
            }
            Rule::agency_def => {
                let name = self.name(inner.next()?);
                let title = self.string(inner.next()?);
                Item::Agency(AgencyDef { name, title, span })
            }
            Rule::flow_def => self.flow(span, inner)?,
            Rule::rule_def => {
                let name = self.name(inner.next()?);
                let event = self.name(inner.next()?);
                let mut when = None;
                let mut body = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::when_clause => when = self.when(p),
                        Rule::block => body = self.block(p),
                        _ => {}
                    }
                }
                Item::Rule(RuleDef {
                    name,
                    event,
                    when,
                    body,
                    span,
                })
            }
            _ => return None,
        })
    }

    fn flow(
        &mut self,
        span: std::ops::Range<usize>,
        mut inner: pest::iterators::Pairs<Rule>,
    ) -> Option<Item> {
        let name = self.name(inner.next()?);
        let kind = self.name(inner.next()?);
        let mut flow = FlowDef {
            name,
            kind,
            when: None,
            visible: Vec::new(),
            steps: Vec::new(),
            on_refused: None,
            deadline: None,
            span,
        };
        for p in inner {
            let pspan = self.span(&p);
            match p.as_rule() {
                Rule::when_clause => flow.when = self.when(p),
                Rule::visible_def => {
                    for a in p.into_inner() {
                        let a = a.into_inner().next()?;
                        let aspan = self.span(&a);
                        flow.visible.push(match a.as_rule() {
                            Rule::uploader => Audience::Uploader(aspan),
                            Rule::signers => Audience::Signers(aspan),
                            Rule::group_audience => {
                                Audience::Group(self.name(a.into_inner().next()?))
                            }
                            Rule::unit_audience => {
                                Audience::Unit(self.path(a.into_inner().next()?))
                            }
                            _ => Audience::Signer(self.signer(a)),
                        });
                    }
                }
                Rule::step_def => {
                    let mut si = p.into_inner();
                    let name = self.name(si.next()?);
                    let body = si.next()?;
                    let body = match body.as_rule() {
                        Rule::sign_clause => StepBody::Sign(self.sign(body)),
                        _ => {
                            let mut bi = body.into_inner();
                            let mode = match bi.next()?.as_str() {
                                "all" => ParallelMode::All,
                                _ => ParallelMode::Any,
                            };
                            let mut signs = Vec::new();
                            let mut when = None;
                            for b in bi {
                                match b.as_rule() {
                                    Rule::sign_clause => signs.push(self.sign(b)),
                                    _ => when = self.when(b),
                                }
                            }
                            StepBody::Parallel { mode, signs, when }
                        }
                    };
                    flow.steps.push(Step {
                        name,
                        body,
                        span: pspan,
                    });
                }
                Rule::on_refused => {
                    let target = p.into_inner().next()?.into_inner().next()?;
                    let tspan = self.span(&target);
                    flow.on_refused = Some(match target.as_rule() {
                        Rule::back_to_uploader => Refused::BackToUploader(tspan),
                        Rule::back_to_step => {
                            Refused::BackToStep(self.name(target.into_inner().next()?))
                        }
                        _ => Refused::Stop(tspan),
                    });
                }
                Rule::deadline_def => {
                    let mut di = p.into_inner();
                    let remind = self.duration(di.next()?);
                    let escalate = match (di.next(), di.next()) {
                        (Some(d), Some(s)) => Some((self.duration(d), self.signer(s))),
                        _ => None,
                    };
                    flow.deadline = Some(Deadline {
                        remind,
                        escalate,
                        span: pspan,
                    });
                }
                _ => {}
            }
        }
        Some(Item::Flow(flow))
    }

    fn sign(&mut self, p: P) -> SignClause {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let signer = self.signer(inner.next().expect("signer"));
        let when = inner.next().and_then(|w| self.when(w));
        SignClause { signer, when, span }
    }

    fn signer(&mut self, p: P) -> SignerRef {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let name = self.name(inner.next().expect("signer name"));
        let of = inner.next().map(|o| self.path(o));
        SignerRef { name, of, span }
    }

    fn path(&self, p: P) -> Path {
        let span = self.span(&p);
        Path {
            segments: p.into_inner().map(|s| self.name(s)).collect(),
            span,
        }
    }

    fn when(&mut self, p: P) -> Option<Expr> {
        p.into_inner().next().map(|e| self.expr(e))
    }

    fn duration(&mut self, p: P) -> DurationLit {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let amount = self.decimal(inner.next().expect("amount"), span.clone());
        let unit = match inner.next().map(|u| u.as_str()) {
            Some(u) if u.starts_with("workday") => DurationUnit::Workdays,
            _ => DurationUnit::Days,
        };
        DurationLit { amount, unit, span }
    }

    fn string(&mut self, p: P) -> String {
        let raw = p.into_inner().next().map_or("", |s| s.as_str());
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                    out.push(
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or('\u{fffd}'),
                    );
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        out
    }

    fn decimal(&mut self, p: P, span: std::ops::Range<usize>) -> Decimal {
        let text: String = p.as_str().chars().filter(|c| !c.is_whitespace()).collect();
        Decimal::from_str(&text).unwrap_or_else(|_| {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    Span::new(self.file, span),
                    format!("`{text}` is too large"),
                )
                .with_help("numbers have at most 28 significant digits"),
            );
            Decimal::ZERO
        })
    }

    fn block(&mut self, p: P) -> Vec<Stmt> {
        p.into_inner().filter_map(|s| self.stmt(s)).collect()
    }

    fn stmt(&mut self, p: P) -> Option<Stmt> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kind = match rule {
            Rule::let_stmt => {
                let name = self.name(inner.next()?);
                let v = inner.next()?;
                let vspan = self.span(&v);
                let value = match v.as_rule() {
                    Rule::match_expr => {
                        let mut mi = v.into_inner();
                        let source = self.name(mi.next()?);
                        LetValue::Match {
                            source,
                            by: self.expr(mi.next()?),
                        }
                    }
                    Rule::check_expr => {
                        let mut ci = v.into_inner();
                        let kbo = self.expr(ci.next()?);
                        let on = self.expr(ci.next()?);
                        LetValue::CheckDebts {
                            kbo,
                            on,
                            span: vspan,
                        }
                    }
                    _ => LetValue::Expr(self.expr(v)),
                };
                return Some(Stmt::Let { name, value });
            }
            Rule::if_stmt => {
                let cond = self.expr(inner.next()?);
                let then = self.block(inner.next()?);
                let otherwise = match inner.next() {
                    Some(e) if e.as_rule() == Rule::if_stmt => self.stmt(e).into_iter().collect(),
                    Some(b) => self.block(b),
                    None => Vec::new(),
                };
                return Some(Stmt::If {
                    cond,
                    then,
                    otherwise,
                });
            }
            Rule::queue_action => {
                let queue = self.name(inner.next()?);
                let reason = self.string(inner.next()?);
                ActionKind::Queue { queue, reason }
            }
            Rule::link_action => {
                let from = self.path(inner.next()?);
                let to = self.path(inner.next()?);
                ActionKind::Link { from, to }
            }
            Rule::start_action => {
                let flow = self.name(inner.next()?);
                let mut args = Vec::new();
                for a in inner {
                    let mut ai = a.into_inner();
                    let field = self.name(ai.next()?);
                    args.push((field, self.expr(ai.next()?)));
                }
                ActionKind::Start { flow, args }
            }
            Rule::withhold_action => {
                let amount = self.expr(inner.next()?);
                let mut rest: Vec<P> = inner.collect();
                let agency = self.name(rest.pop()?);
                let cap = rest.pop().map(|c| self.expr(c));
                ActionKind::Withhold {
                    amount,
                    cap,
                    agency,
                }
            }
            Rule::notify_action => {
                let target = self.signer(inner.next()?);
                let message = self.string(inner.next()?);
                ActionKind::Notify { target, message }
            }
            _ => return None,
        };
        Some(Stmt::Action(Action { kind, span }))
    }

    fn expr(&mut self, p: P) -> Expr {
        // Deeply nested expressions recurse; grow the stack rather than overflow.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(p))
    }

    fn expr_inner(&mut self, p: P) -> Expr {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr | Rule::value => {
                let inner = p.into_inner().next().expect("expression");
                self.expr(inner)
            }
            Rule::or_expr | Rule::and_expr => {
                let op = if p.as_rule() == Rule::or_expr {
                    LogicOp::Or
                } else {
                    LogicOp::And
                };
                let parts: Vec<Expr> = p
                    .into_inner()
                    .filter(|x| !matches!(x.as_rule(), Rule::or_op | Rule::and_op))
                    .map(|x| self.expr(x))
                    .collect();
                // `and`/`or` associate, so a long chain becomes a balanced tree: 10,000
                // terms are 14 levels deep, and no pass over the tree runs out of stack.
                balanced(op, parts)
            }
            Rule::not_expr => {
                let mut inner = p.into_inner();
                let first = inner.next().expect("operand");
                if first.as_rule() == Rule::not_op {
                    let e = self.expr(inner.next().expect("operand"));
                    Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span,
                    }
                } else {
                    self.expr(first)
                }
            }
            Rule::cmp_expr => {
                let mut inner = p.into_inner();
                let lhs = self.expr(inner.next().expect("operand"));
                let Some(op) = inner.next() else { return lhs };
                if op.as_rule() == Rule::in_op {
                    let list = inner
                        .next()
                        .expect("list")
                        .into_inner()
                        .map(|v| self.expr(v))
                        .collect();
                    return Expr {
                        kind: ExprKind::In(Box::new(lhs), list),
                        span,
                    };
                }
                let op = match op.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    _ => CmpOp::Approx,
                };
                let rhs = self.expr(inner.next().expect("operand"));
                let within = inner.next().map(|w| {
                    let lit = w.into_inner().next().expect("tolerance");
                    Box::new(self.literal_expr(lit))
                });
                Expr {
                    kind: ExprKind::Compare {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                        within,
                    },
                    span,
                }
            }
            Rule::percent_of => {
                let mut inner = p.into_inner();
                let pct = inner.next().expect("percent");
                let pspan = self.span(&pct);
                let value = self.percent_value(pct, pspan);
                let e = self.expr(inner.next().expect("value"));
                Expr {
                    kind: ExprKind::PercentOf(value, Box::new(e)),
                    span,
                }
            }
            Rule::call => {
                let mut inner = p.into_inner();
                let name = self.name(inner.next().expect("function"));
                let args = inner.map(|a| self.expr(a)).collect();
                Expr {
                    kind: ExprKind::Call(name, args),
                    span,
                }
            }
            Rule::literal => {
                let lit = p.into_inner().next().expect("literal");
                self.literal_expr(lit)
            }
            Rule::path => Expr {
                kind: ExprKind::Path(self.path(p)),
                span,
            },
            _ => self.literal_expr(p),
        }
    }

    fn percent_value(&mut self, p: P, span: std::ops::Range<usize>) -> Decimal {
        let d = self.decimal(p.into_inner().next().expect("digits"), span.clone());
        if d > Decimal::from(100) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    Span::new(self.file, span),
                    format!("{d}% is more than 100%"),
                )
                .with_help("a percentage is between 0% and 100%"),
            );
        }
        d
    }

    fn literal_expr(&mut self, p: P) -> Expr {
        let span = self.span(&p);
        let lit = match p.as_rule() {
            Rule::money => {
                let written = p.as_str().to_string();
                let d = self.decimal(p.into_inner().next().expect("amount"), span.clone());
                if d.scale() > 2 {
                    let number = written.trim_end_matches("EUR").trim_end();
                    // `8.500 EUR`: a Belgian thousands separator, not three decimals.
                    let belgian = number.split('.').count() >= 2
                        && number.split('.').skip(1).all(|g| g.len() == 3)
                        && number
                            .split('.')
                            .next()
                            .is_some_and(|g| (1..=3).contains(&g.len()));
                    let help = if belgian {
                        let whole = number.replace('.', "");
                        format!(
                            "the point is the decimal point in Paraaf; for {} euro write `{} EUR` (or `{whole} EUR`)",
                            whole,
                            crate::syntax::print::grouped(
                                &Decimal::from_str(&whole).unwrap_or_default()
                            )
                        )
                    } else {
                        format!("write at most two decimals, e.g. `{} EUR`", d.round_dp(2))
                    };
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            Span::new(self.file, span.clone()),
                            "an amount in euro has at most two decimals",
                        )
                        .with_help(help),
                    );
                }
                Literal::Money(d)
            }
            Rule::percent => Literal::Percent(self.percent_value(p, span.clone())),
            Rule::duration => {
                let d = self.duration(p);
                Literal::Duration(d.amount, d.unit)
            }
            Rule::date => {
                let text = p.as_str().to_string();
                if !valid_date(&text) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            Span::new(self.file, span.clone()),
                            format!("`{text}` is not a date"),
                        )
                        .with_help("dates are written YYYY-MM-DD, e.g. 2026-07-01"),
                    );
                }
                Literal::Date(text)
            }
            Rule::number => Literal::Number(self.decimal(p, span.clone())),
            Rule::string => Literal::Text(self.string(p)),
            Rule::bool_lit => Literal::Bool(p.as_str() == "true"),
            _ => Literal::None,
        };
        Expr {
            kind: ExprKind::Literal(lit),
            span,
        }
    }
}

/// Length of `text` without trailing whitespace and trailing `//` comments.
fn trimmed_len(text: &str) -> usize {
    let mut t = text.trim_end();
    loop {
        let line_start = t.rfind('\n').map_or(0, |p| p + 1);
        let line = &t[line_start..];
        let mut in_string = false;
        let mut escaped = false;
        let mut comment = None;
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '/' if !in_string && line[i..].starts_with("//") => {
                    comment = Some(i);
                    break;
                }
                _ => {}
            }
        }
        match comment {
            Some(i) => t = t[..line_start + i].trim_end(),
            None => return t.len(),
        }
    }
}

#[cfg(test)]
mod if_depth {
    use super::*;

    fn depth(stmts: &[Stmt]) -> usize {
        stmts
            .iter()
            .map(|s| match s {
                Stmt::If {
                    then, otherwise, ..
                } => 1 + depth(then).max(depth(otherwise)),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// A rule body of `if` chains: `chain[i]` branches at level `i`, the next level
    /// inside the then-block of branch `inner[i]` (or in the final `else` when it is past
    /// the end), with comments and strings that say `else if` in the way.
    fn program(chains: &[usize], inner: &[usize]) -> String {
        fn level(chains: &[usize], inner: &[usize], out: &mut String) {
            let Some((&n, rest)) = chains.split_first() else {
                out.push_str("queue q reason \"else if { }\"\n");
                return;
            };
            let at = inner.first().copied().unwrap_or(0);
            for b in 0..n {
                if b > 0 {
                    out.push_str("} // else if\nelse ");
                }
                out.push_str(&format!("if e.x == \"{{ else if {b}\" {{\n"));
                if b == at {
                    level(rest, inner.get(1..).unwrap_or(&[]), out);
                } else {
                    out.push_str("queue q reason \"r\"\n");
                }
            }
            if at >= n {
                out.push_str("} else {\n");
                level(rest, inner.get(1..).unwrap_or(&[]), out);
            }
            out.push_str("}\n");
        }
        let mut out = String::from("rule r on e.x {\n");
        level(chains, inner, &mut out);
        out.push_str("if e.x == \"after\" { queue q reason \"r\" }\n}\n");
        out
    }

    fn expected_depth(chains: &[usize], inner: &[usize]) -> usize {
        let (mut base, mut expected) = (0, 1);
        for (&n, &at) in chains.iter().zip(inner) {
            expected = expected.max(base + n);
            base += if at >= n { n } else { at + 1 };
        }
        expected
    }

    #[test]
    fn the_scan_counts_what_the_tree_nests() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as usize
        };
        let mut refused = 0;
        for _ in 0..300 {
            let levels = 1 + next(5);
            let chains: Vec<usize> = (0..levels).map(|_| 1 + next(90)).collect();
            let inner: Vec<usize> = chains.iter().map(|&n| next(n + 1)).collect();
            let text = program(&chains, &inner);
            let scanned = too_many_ifs(&text, &super::super::lexemes::lexemes(&text));
            let parsed = parse("r.paraaf", &text);
            match scanned {
                Some(_) => {
                    assert!(parsed.diagnostics.iter().any(|d| d.code == Code::TooDeep));
                }
                None => {
                    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
                    let Some(Item::Rule(r)) = parsed.ast.items.first() else {
                        panic!("no rule:\n{text}")
                    };
                    assert_eq!(depth(&r.body), expected_depth(&chains, &inner));
                }
            }
            // The tree depth decides, when the tree can be built (up to the limit).
            let expected = expected_depth(&chains, &inner);
            assert_eq!(
                scanned.is_some(),
                expected > MAX_IFS,
                "{chains:?} {inner:?}"
            );
            refused += usize::from(scanned.is_some());
        }
        assert!(
            (20..280).contains(&refused),
            "both sides of the limit: {refused}"
        );
    }
}
