//! Expressions, paths and literals (with the checks a literal gets: at most two decimals
//! in euro, at most 100%, a real date, at most 28 digits).

use super::tokens::{Kind, Token};
use super::{MAX_PREFIXES, Parser, Res, Stop};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::syntax::ast::*;
use paraaf_model::valid_date;
use rust_decimal::Decimal;
use std::ops::Range;
use std::str::FromStr;

impl Parser<'_> {
    /// `a or b`, `a and b`, `not a`, comparisons, `in [..]`, values.
    pub(super) fn expr(&mut self) -> Res<Expr> {
        // Nesting is bounded by the counters; grow the stack rather than rely on its size.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.or_expr())
    }

    fn or_expr(&mut self) -> Res<Expr> {
        let mut parts = vec![self.and_expr()?];
        while self.eat_word("or") {
            parts.push(self.and_expr()?);
        }
        Ok(balanced(LogicOp::Or, parts))
    }

    fn and_expr(&mut self) -> Res<Expr> {
        let mut parts = vec![self.not_expr()?];
        while self.eat_word("and") {
            parts.push(self.not_expr()?);
        }
        Ok(balanced(LogicOp::And, parts))
    }

    fn not_expr(&mut self) -> Res<Expr> {
        if self.at_word("not") {
            let at = self.here();
            self.prefix(at)?;
            self.bump();
            let e = self.not_expr()?;
            self.prefixes -= 1;
            return Ok(Expr {
                span: at..self.last_end,
                kind: ExprKind::Not(Box::new(e)),
            });
        }
        self.cmp_expr()
    }

    /// One more `not` or `% of` around what follows, refused past [`MAX_PREFIXES`].
    fn prefix(&mut self, at: usize) -> Res<()> {
        self.prefixes += 1;
        if self.prefixes > MAX_PREFIXES {
            let end = super::recover::ceil_boundary(self.text, at + 3);
            return Err(Stop::TooDeep(Box::new(
                Diagnostic::new(
                    Code::TooDeep,
                    Span::new(self.file, at..end),
                    format!("more than {MAX_PREFIXES} `not` or `% of` follow each other"),
                )
                .with_help("write the condition without stacking them: `not not x` is `x`"),
            )));
        }
        Ok(())
    }

    fn cmp_expr(&mut self) -> Res<Expr> {
        let start = self.here();
        let lhs = self.value()?;
        if self.eat_word("in") {
            self.open("[")?;
            let mut list = Vec::new();
            while !self.at_punct("]") {
                list.push(self.value()?);
                if !self.eat_punct(",") {
                    break;
                }
            }
            self.expect_punct("]")?;
            return Ok(Expr {
                kind: ExprKind::In(Box::new(lhs), list),
                span: start..self.last_end,
            });
        }
        let op = match self.peek() {
            Some(t) if t.kind == Kind::Punct => match self.text_of(t) {
                "==" => Some(CmpOp::Eq),
                "!=" => Some(CmpOp::Ne),
                "<" => Some(CmpOp::Lt),
                "<=" => Some(CmpOp::Le),
                ">" => Some(CmpOp::Gt),
                ">=" => Some(CmpOp::Ge),
                "~=" => Some(CmpOp::Approx),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            for t in ["!=", "<", "<=", "==", ">", ">=", "~="] {
                self.miss(Some(t), None);
            }
            return Ok(lhs);
        };
        self.bump();
        let rhs = self.value()?;
        let within = if self.eat_word("within") {
            let ok =
                matches!(self.peek(), Some(t) if matches!(t.kind, Kind::Percent | Kind::Money));
            if !ok {
                self.miss(None, Some("a number"));
                self.miss(None, Some("an amount like `8 500 EUR`"));
                return Err(Stop::Syntax);
            }
            let t = self.bump();
            Some(Box::new(self.literal(t)))
        } else {
            None
        };
        Ok(Expr {
            kind: ExprKind::Compare {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                within,
            },
            span: start..self.last_end,
        })
    }

    /// A percentage of a value, a call, a literal, a path or `( expr )`.
    fn value(&mut self) -> Res<Expr> {
        let Some(t) = self.peek() else {
            for t in ["\"", "(", "document", "false", "none", "true"] {
                self.miss(Some(t), None);
            }
            return Err(Stop::Syntax);
        };
        let is_of = |p: &Self| {
            p.peek_at(1)
                .is_some_and(|o| o.kind == Kind::Word && p.text_of(o) == "of")
        };
        match t.kind {
            Kind::Percent if is_of(self) => {
                let pct = self.bump();
                let at = self.here();
                self.prefix(at)?;
                self.bump();
                let value = self.percent_value(pct);
                let e = self.value()?;
                self.prefixes -= 1;
                Ok(Expr {
                    span: pct.span.start..self.last_end,
                    kind: ExprKind::PercentOf(value, Box::new(e)),
                })
            }
            Kind::Money
            | Kind::Duration
            | Kind::Percent
            | Kind::Date
            | Kind::Number
            | Kind::Str => {
                let t = self.bump();
                self.after_amount(t);
                Ok(self.literal(t))
            }
            Kind::Word => match self.text_of(t) {
                "true" | "false" | "none" => {
                    let t = self.bump();
                    Ok(self.literal(t))
                }
                w if w != "document" && super::recover::is_keyword(w) => {
                    self.miss_keyword(t, "an expression");
                    Err(Stop::Syntax)
                }
                _ if self.at_name()
                    && self
                        .peek_at(1)
                        .is_some_and(|p| p.kind == Kind::Punct && self.text_of(p) == "(") =>
                {
                    let name = self.name()?;
                    self.open("(")?;
                    let mut args = vec![self.expr()?];
                    while self.eat_punct(",") {
                        args.push(self.expr()?);
                    }
                    self.expect_punct(")")?;
                    Ok(Expr {
                        span: name.span.start..self.last_end,
                        kind: ExprKind::Call(name, args),
                    })
                }
                _ => {
                    let path = self.path()?;
                    if path.segments.len() == 1 && path.segments[0].text != "document" {
                        // It could have been a call.
                        self.miss(Some("("), None);
                    }
                    Ok(Expr {
                        span: path.span.clone(),
                        kind: ExprKind::Path(path),
                    })
                }
            },
            Kind::Punct if self.text_of(t) == "(" => {
                self.open("(")?;
                let e = self.expr()?;
                self.expect_punct(")")?;
                Ok(e)
            }
            _ => {
                self.unclosed_string();
                for t in ["\"", "(", "document", "false", "none", "true"] {
                    self.miss(Some(t), None);
                }
                Err(Stop::Syntax)
            }
        }
    }

    /// A string that does not end on its line: the closing quote is expected where
    /// the text stops being a string.
    fn unclosed_string(&mut self) {
        if let Some(t) = self.peek()
            && t.kind == Kind::Unknown
            && self.text[t.span.start..].starts_with('"')
        {
            self.miss_at(t.number.start, Some("\""), None);
        }
    }

    /// What could have continued the literal `t` (a unit after a number, `of` after a
    /// percentage), recorded as expected at the next token.
    fn after_amount(&mut self, t: &Token) {
        let next = self.here();
        let gap = &self.text[t.span.end..next.max(t.span.end)];
        let spaced = gap.chars().all(super::tokens::is_group_sep);
        match t.kind {
            Kind::Number if spaced => {
                self.miss_at(next, Some("EUR"), None);
                if !gap.is_empty() {
                    for unit in ["day", "days", "workday", "workdays"] {
                        self.miss_at(next, Some(unit), None);
                    }
                }
            }
            Kind::Percent => self.miss(Some("of"), None),
            _ => {}
        }
    }

    /// `document` or a name, then `.field` parts written without spaces.
    pub(super) fn path(&mut self) -> Res<Path> {
        let head = match self.peek() {
            Some(t)
                if t.kind == Kind::Word
                    && (self.text_of(t) == "document"
                        || !super::recover::is_keyword(self.text_of(t))) =>
            {
                let t = self.bump();
                Name {
                    text: self.text_of(t).to_string(),
                    span: t.span.clone(),
                }
            }
            Some(t) if t.kind == Kind::Word => self.name()?,
            _ => {
                self.miss(Some("document"), Some("a name"));
                return Err(Stop::Syntax);
            }
        };
        let start = head.span.start;
        let mut segments = vec![head];
        while let Some(dot) = self.peek_at(0) {
            if dot.span.start != self.last_end {
                break;
            }
            if dot.kind != Kind::Punct || self.text_of(dot) != "." {
                self.miss_at(self.last_end, Some("."), None);
                break;
            }
            let field = self.peek_at(1);
            if field.is_none_or(|f| f.kind != Kind::Word || f.span.start != dot.span.end) {
                self.miss_at(dot.span.end, None, Some("a name"));
                break;
            }
            self.bump();
            let f = self.bump();
            segments.push(Name {
                text: self.text_of(f).to_string(),
                span: f.span.clone(),
            });
        }
        Ok(Path {
            segments,
            span: start..self.last_end,
        })
    }

    /// A string literal, unescaped.
    pub(super) fn string(&mut self) -> Res<String> {
        self.unclosed_string();
        if !self.at_kind(Kind::Str, "a string in double quotes") {
            self.miss(Some("\""), None);
            return Err(Stop::Syntax);
        }
        let t = self.bump();
        Ok(unescape(&self.text[t.number.clone()]))
    }

    /// `5 workdays`.
    pub(super) fn duration(&mut self) -> Res<DurationLit> {
        if let Some(t) = self.peek()
            && t.kind == Kind::Number
        {
            // The unit is missing.
            let next = self.peek_at(1).map_or(self.text.len(), |n| n.span.start);
            if self.text[t.span.end..next]
                .chars()
                .all(super::tokens::is_group_sep)
                && next > t.span.end
            {
                for unit in ["day", "days", "workday", "workdays"] {
                    self.miss_at(next, Some(unit), None);
                }
                return Err(Stop::Syntax);
            }
        }
        if !self.at_kind(Kind::Duration, "a number") {
            return Err(Stop::Syntax);
        }
        let t = self.bump();
        Ok(self.duration_lit(t))
    }

    fn duration_lit(&mut self, t: &Token) -> DurationLit {
        let amount = self.decimal(t.number.clone(), t.span.clone());
        let unit = if self.text[t.number.end..t.span.end]
            .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
            .starts_with("workday")
        {
            DurationUnit::Workdays
        } else {
            DurationUnit::Days
        };
        DurationLit {
            amount,
            unit,
            span: t.span.clone(),
        }
    }

    fn percent_value(&mut self, t: &Token) -> Decimal {
        let span = t.span.clone();
        let d = self.decimal(t.number.clone(), span.clone());
        if d > Decimal::from(100) {
            self.literals.push(
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

    /// The literal token `t` as an expression.
    fn literal(&mut self, t: &Token) -> Expr {
        let span = t.span.clone();
        let written = &self.text[span.clone()];
        let lit = match t.kind {
            Kind::Money => {
                let d = self.decimal(t.number.clone(), span.clone());
                if d.scale() > 2 {
                    self.too_many_decimals(written, d, span.clone());
                }
                Literal::Money(d)
            }
            Kind::Percent => Literal::Percent(self.percent_value(t)),
            Kind::Duration => {
                let d = self.duration_lit(t);
                Literal::Duration(d.amount, d.unit)
            }
            Kind::Date => {
                if !valid_date(written) {
                    self.literals.push(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            Span::new(self.file, span.clone()),
                            format!("`{written}` is not a date"),
                        )
                        .with_help("dates are written YYYY-MM-DD, e.g. 2026-07-01"),
                    );
                }
                Literal::Date(written.to_string())
            }
            Kind::Number => Literal::Number(self.decimal(t.number.clone(), span.clone())),
            Kind::Str => Literal::Text(unescape(&self.text[t.number.clone()])),
            _ => match written {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                _ => Literal::None,
            },
        };
        Expr {
            kind: ExprKind::Literal(lit),
            span,
        }
    }

    fn too_many_decimals(&mut self, written: &str, d: Decimal, span: Range<usize>) {
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
                crate::syntax::print::grouped(&Decimal::from_str(&whole).unwrap_or_default())
            )
        } else {
            format!("write at most two decimals, e.g. `{} EUR`", d.round_dp(2))
        };
        self.literals.push(
            Diagnostic::new(
                Code::InvalidLiteral,
                Span::new(self.file, span),
                "an amount in euro has at most two decimals",
            )
            .with_help(help),
        );
    }

    /// The number at `digits` (spaces between groups dropped); too large is reported on
    /// `span` and reads as zero.
    fn decimal(&mut self, digits: Range<usize>, span: Range<usize>) -> Decimal {
        let text: String = self.text[digits]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        Decimal::from_str(&text).unwrap_or_else(|_| {
            self.literals.push(
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
}

/// The text of a string literal with its escapes (`\n`, `\t`, `\u{…}`, `\"`, `\\`) read.
fn unescape(raw: &str) -> String {
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

/// `a op b op c ...` as a balanced tree (same meaning: `and`/`or` associate): 10,000
/// terms are 14 levels deep, and no pass over the tree runs out of stack.
fn balanced(op: LogicOp, mut parts: Vec<Expr>) -> Expr {
    if parts.len() == 1
        && let Some(only) = parts.pop()
    {
        return only;
    }
    let right = parts.split_off(parts.len() / 2);
    let (a, b) = (balanced(op, parts), balanced(op, right));
    let span = a.span.start..b.span.end;
    Expr {
        kind: ExprKind::Logic(op, Box::new(a), Box::new(b)),
        span,
    }
}
