//! Source text → syntax tree: a hand-written recursive-descent parser over the tokens of
//! [`tokens`]. It parses one top-level item at a time; a syntax error drops that item and
//! the parser goes on at the next line that starts a definition, so one mistake hides
//! nothing else. Nesting is bounded by counters inside the parser ([`MAX_DEPTH`],
//! [`MAX_IFS`], [`MAX_PREFIXES`]), so no input recurses without limit.

mod exprs;
mod items;
mod recover;
pub mod tokens;

use super::ast::SourceAst;
use crate::diagnostics::{Code, Diagnostic, Span};
use std::ops::Range;
use tokens::{Kind, Token};

/// Deepest bracket nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Deepest nesting of `if` statements accepted. An `else if` is an `if` inside the
/// `else` of the one before (the syntax tree nests it, so every pass recurses once per
/// branch): a chain of 1,000 branches overflowed the stack.
pub const MAX_IFS: usize = 128;

/// Most `not` (or `% of`) in a row: each nests the expression one level deeper.
pub const MAX_PREFIXES: usize = 64;

/// Keywords that start a top-level item.
pub(crate) const TOP_LEVEL: &[&str] =
    &["document", "substitutes", "group", "agency", "flow", "rule"];

/// Result of parsing one file: never fails, returns what parsed plus diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Parsed {
    /// Items that parsed.
    pub ast: SourceAst,
    /// Syntax errors and invalid literals.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text` (named `file` in diagnostics).
pub fn parse(file: &str, text: &str) -> Parsed {
    // A lone `\r` (an old Mac file) ends a line as `\n` does: without this a `//`
    // comment would run to the end of the file. Offsets are unchanged.
    let text = &*super::line_ends::lone_cr_as_lf(text);
    let toks = tokens::tokens(text);
    let mut p = Parser::new(file, text, &toks);
    let mut out = Parsed::default();
    let mut i = 0;
    while i < toks.len() {
        let end = recover::item_end(text, &toks, i);
        p.start_item(i, end);
        match p.item() {
            Ok(item) => {
                out.diagnostics.append(&mut p.literals);
                out.ast.items.push(item);
                i = p.pos;
            }
            Err(Stop::Syntax) => {
                out.diagnostics.push(recover::syntax_error(&p, i, end));
                i = end;
            }
            Err(Stop::TooDeep(d)) => {
                return Parsed {
                    ast: SourceAst::default(),
                    diagnostics: vec![*d],
                };
            }
        }
    }
    out
}

/// Whether `text` is a name as the grammar reads one (a letter or `_`, then letters,
/// digits, `_` and inner dashes; not a keyword): what a rename may write.
pub fn is_identifier(text: &str) -> bool {
    match tokens::tokens(text).as_slice() {
        [t] => t.kind == Kind::Word && t.span == (0..text.len()) && !recover::is_keyword(text),
        _ => false,
    }
}

/// Why the parser stopped.
#[derive(Debug)]
enum Stop {
    /// A syntax error; what was expected is in [`Parser::fail`].
    Syntax,
    /// Nesting beyond a limit: the file is refused as a whole.
    TooDeep(Box<Diagnostic>),
}

type Res<T> = Result<T, Stop>;

/// The furthest place the parser got to and what it expected there.
#[derive(Debug, Default)]
struct Fail {
    at: usize,
    /// Words and punctuation expected (shown in backticks).
    tokens: Vec<&'static str>,
    /// Constructs expected, in words (used when no token was).
    things: Vec<&'static str>,
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    toks: &'a [Token],
    /// The next token.
    pos: usize,
    /// The item ends before this token (the next line that starts a definition).
    end: usize,
    /// End of the last token taken.
    last_end: usize,
    /// Invalid literals of the current item (kept only when the item parses).
    literals: Vec<Diagnostic>,
    fail: Fail,
    /// The furthest place the parse stopped at (a refused word counts at its start).
    location: usize,
    brackets: usize,
    ifs: usize,
    prefixes: usize,
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, text: &'a str, toks: &'a [Token]) -> Self {
        Parser {
            file,
            text,
            toks,
            pos: 0,
            end: 0,
            last_end: 0,
            literals: Vec::new(),
            fail: Fail::default(),
            location: 0,
            brackets: 0,
            ifs: 0,
            prefixes: 0,
        }
    }

    fn start_item(&mut self, at: usize, end: usize) {
        self.pos = at;
        self.end = end;
        self.last_end = self.toks.get(at).map_or(0, |t| t.span.start);
        self.literals.clear();
        self.fail = Fail::default();
        self.location = 0;
        self.brackets = 0;
        self.ifs = 0;
        self.prefixes = 0;
    }

    /// The next token of this item, if any.
    fn peek(&self) -> Option<&'a Token> {
        self.peek_at(0)
    }

    fn peek_at(&self, k: usize) -> Option<&'a Token> {
        let i = self.pos + k;
        if i < self.end { self.toks.get(i) } else { None }
    }

    fn text_of(&self, t: &Token) -> &'a str {
        &self.text[t.span.clone()]
    }

    /// Where the next token starts (or where this item's text ends).
    fn here(&self) -> usize {
        self.toks
            .get(self.pos.min(self.end))
            .map_or(self.text.len(), |t| t.span.start)
    }

    /// Takes the next token.
    fn bump(&mut self) -> &'a Token {
        let t = &self.toks[self.pos];
        self.pos += 1;
        self.last_end = t.span.end;
        t
    }

    /// Records that `what` was expected at the next token.
    fn miss(&mut self, token: Option<&'static str>, thing: Option<&'static str>) {
        let at = match self.peek() {
            Some(t) if t.kind == Kind::Unknown => t.number.start.max(t.span.start),
            _ => self.here(),
        };
        self.miss_at(at, token, thing);
    }

    /// Records that a name or value was expected where the word of the language `t`
    /// stands: the parse got as far as its end (the message points there), but it
    /// stopped at its start (where [`Parser::location`] says it stopped).
    fn miss_keyword(&mut self, t: &Token, thing: &'static str) {
        self.record(t.span.end, t.span.start, None, Some(thing));
    }

    /// Records that `what` was expected at byte `at`.
    fn miss_at(&mut self, at: usize, token: Option<&'static str>, thing: Option<&'static str>) {
        self.record(at, at, token, thing);
    }

    fn record(
        &mut self,
        at: usize,
        location: usize,
        token: Option<&'static str>,
        thing: Option<&'static str>,
    ) {
        self.location = self.location.max(location);
        if at > self.fail.at || (self.fail.tokens.is_empty() && self.fail.things.is_empty()) {
            self.fail = Fail {
                at,
                ..Fail::default()
            };
        }
        if at == self.fail.at {
            self.fail.tokens.extend(token);
            self.fail.things.extend(thing);
        }
    }

    /// Whether the next token is the punctuation `p` (recorded as expected if not).
    fn at_punct(&mut self, p: &'static str) -> bool {
        match self.peek() {
            Some(t) if t.kind == Kind::Punct && self.text_of(t) == p => true,
            _ => {
                self.miss(Some(p), None);
                false
            }
        }
    }

    fn eat_punct(&mut self, p: &'static str) -> bool {
        let yes = self.at_punct(p);
        if yes {
            self.open_or_close(p);
            self.bump();
        }
        yes
    }

    fn expect_punct(&mut self, p: &'static str) -> Res<Range<usize>> {
        if self.at_punct(p) {
            self.open_or_close(p);
            Ok(self.bump().span.clone())
        } else {
            Err(Stop::Syntax)
        }
    }

    /// Counts bracket depth; the error surfaces at the next check.
    fn open_or_close(&mut self, p: &str) {
        match p {
            "{" | "(" | "[" => self.brackets += 1,
            "}" | ")" | "]" => self.brackets = self.brackets.saturating_sub(1),
            _ => {}
        }
    }

    /// Takes an opening bracket, refusing nesting beyond [`MAX_DEPTH`].
    fn open(&mut self, p: &'static str) -> Res<Range<usize>> {
        if !self.at_punct(p) {
            return Err(Stop::Syntax);
        }
        let at = self.here();
        if self.brackets + 1 > MAX_DEPTH {
            return Err(Stop::TooDeep(Box::new(
                Diagnostic::new(
                    Code::TooDeep,
                    Span::new(self.file, at..at + 1),
                    format!("brackets are nested more than {MAX_DEPTH} levels deep"),
                )
                .with_help("split the condition or block into simpler parts"),
            )));
        }
        self.expect_punct(p)
    }

    /// Whether the next token is the word `w` (recorded as expected if not).
    fn at_word(&mut self, w: &'static str) -> bool {
        match self.peek() {
            Some(t) if t.kind == Kind::Word && self.text_of(t) == w => true,
            _ => {
                self.miss(Some(w), None);
                false
            }
        }
    }

    fn eat_word(&mut self, w: &'static str) -> bool {
        let yes = self.at_word(w);
        if yes {
            self.bump();
        }
        yes
    }

    fn expect_word(&mut self, w: &'static str) -> Res<Range<usize>> {
        if self.at_word(w) {
            Ok(self.bump().span.clone())
        } else {
            Err(Stop::Syntax)
        }
    }

    /// Whether the next token is a word that is no keyword: a name.
    fn at_name(&mut self) -> bool {
        match self.peek() {
            Some(t) if t.kind == Kind::Word && !recover::is_keyword(self.text_of(t)) => true,
            // A word of the language read as far as it goes before it is refused.
            Some(t) if t.kind == Kind::Word => {
                self.miss_keyword(t, "a name");
                false
            }
            _ => {
                self.miss(None, Some("a name"));
                false
            }
        }
    }

    /// A name (a word that is no keyword).
    fn name(&mut self) -> Res<super::ast::Name> {
        if !self.at_name() {
            return Err(Stop::Syntax);
        }
        let t = self.bump();
        Ok(super::ast::Name {
            text: self.text_of(t).to_string(),
            span: t.span.clone(),
        })
    }

    /// Runs `f`; on a syntax error puts the parser back where it was and gives `None`,
    /// keeping what was expected furthest (an optional or repeated part that does not
    /// parse ends the construct before it, as in a PEG).
    fn backtrack<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<Option<T>> {
        let saved = (
            self.pos,
            self.last_end,
            self.literals.len(),
            self.brackets,
            self.ifs,
            self.prefixes,
        );
        match f(self) {
            Ok(v) => Ok(Some(v)),
            Err(Stop::Syntax) => {
                let literals;
                (
                    self.pos,
                    self.last_end,
                    literals,
                    self.brackets,
                    self.ifs,
                    self.prefixes,
                ) = saved;
                self.literals.truncate(literals);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the next token is of `kind` (recorded as `thing` expected if not).
    fn at_kind(&mut self, kind: Kind, thing: &'static str) -> bool {
        match self.peek() {
            Some(t) if t.kind == kind => true,
            _ => {
                self.miss(None, Some(thing));
                false
            }
        }
    }
}

#[cfg(test)]
mod if_depth;
