//! Typing of expressions, with narrowing of optional values (`x != none and x > 0 EUR`).

use super::conditions::field_key;
use super::types::{FUNCTIONS, Ty};
use super::{Ctx, Scope};
use crate::diagnostics::Code;
use crate::org::OrgKind;
use crate::semantic::{Builtin, Entity};
use crate::syntax::ast::*;

impl Scope {
    fn binding(&mut self, name: &str) -> Option<&mut super::Binding> {
        self.bindings.iter_mut().rev().find(|b| b.name == name)
    }
}

/// Paths that are known present when `e` holds (`x != none`).
pub(super) fn present_when_true(e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Logic(LogicOp::And, a, b) => {
            let mut v = present_when_true(a);
            v.extend(present_when_true(b));
            v
        }
        ExprKind::Compare {
            op: CmpOp::Ne,
            lhs,
            rhs,
            ..
        } => none_check(lhs, rhs),
        ExprKind::Not(inner) => present_when_false(inner),
        _ => Vec::new(),
    }
}

/// Paths that are known present when `e` does not hold (`x == none`).
pub(super) fn present_when_false(e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Logic(LogicOp::Or, a, b) => {
            let mut v = present_when_false(a);
            v.extend(present_when_false(b));
            v
        }
        ExprKind::Compare {
            op: CmpOp::Eq,
            lhs,
            rhs,
            ..
        } => none_check(lhs, rhs),
        ExprKind::Not(inner) => present_when_true(inner),
        _ => Vec::new(),
    }
}

fn none_check(lhs: &Expr, rhs: &Expr) -> Vec<String> {
    match (&lhs.kind, &rhs.kind) {
        (ExprKind::Path(p), ExprKind::Literal(Literal::None))
        | (ExprKind::Literal(Literal::None), ExprKind::Path(p)) => {
            vec![field_key(p)]
        }
        _ => Vec::new(),
    }
}

fn literal_ty(l: &Literal) -> Ty {
    match l {
        Literal::Money(_) => Ty::Money,
        Literal::Number(_) => Ty::Number,
        Literal::Percent(_) => Ty::Percent,
        Literal::Duration(..) => Ty::Duration,
        Literal::Date(_) => Ty::Date,
        Literal::Text(_) => Ty::Text,
        Literal::Bool(_) => Ty::Bool,
        Literal::None => Ty::None,
    }
}

impl Ctx<'_> {
    /// Checks that `e` is a condition (bool) and reports otherwise.
    pub(crate) fn condition(&mut self, e: &Expr, scope: &mut Scope) {
        let ty = self.expr_ty(e, scope);
        self.expect_present(e, &ty, "a condition");
        if !matches!(ty.unwrap_optional(), Ty::Bool | Ty::Unknown) {
            let d = self
                .diag(
                    Code::TypeMismatch,
                    &e.span,
                    format!("a condition must be true or false, but this is a {ty}"),
                )
                .with_help("compare it with something, e.g. `bedrag >= 8 500 EUR`");
            self.report(d);
        }
    }

    /// Reports an optional value used where a present one is needed.
    pub(crate) fn expect_present(&mut self, e: &Expr, ty: &Ty, role: &str) -> bool {
        if let Ty::Optional(inner) = ty {
            let what = match &e.kind {
                ExprKind::Path(p) => format!("`{}`", p.text()),
                _ => "this value".into(),
            };
            let check = match &e.kind {
                ExprKind::Path(p) => format!("`{} != none and ...`", p.text()),
                _ => "`... != none and ...`".into(),
            };
            let d = self
                .diag(
                    Code::OptionalNotHandled,
                    &e.span,
                    format!(
                        "{what} is optional ({inner}?) and may be missing, but is used as {role}"
                    ),
                )
                .with_help(format!("check that it is present first: {check}"));
            self.report(d);
            return false;
        }
        true
    }

    /// The type of `e`; reports what is wrong inside it.
    pub(crate) fn expr_ty(&mut self, e: &Expr, scope: &mut Scope) -> Ty {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_ty_inner(e, scope))
    }

    fn expr_ty_inner(&mut self, e: &Expr, scope: &mut Scope) -> Ty {
        match &e.kind {
            ExprKind::Literal(l) => {
                if *l == Literal::None {
                    self.record_builtin(&e.span, Builtin::None);
                }
                literal_ty(l)
            }
            ExprKind::Path(p) => self.path_ty(p, scope),
            ExprKind::Not(inner) => {
                self.condition(inner, scope);
                Ty::Bool
            }
            ExprKind::Logic(op, a, b) => {
                self.condition(a, scope);
                let narrowed = match op {
                    LogicOp::And => present_when_true(a),
                    LogicOp::Or => present_when_false(a),
                };
                let before = scope.narrowed.len();
                scope.narrowed.extend(narrowed);
                self.condition(b, scope);
                scope.narrowed.truncate(before);
                Ty::Bool
            }
            ExprKind::Compare {
                op,
                lhs,
                rhs,
                within,
            } => {
                self.compare(*op, lhs, rhs, within.as_deref(), scope);
                Ty::Bool
            }
            ExprKind::In(value, list) => {
                let vt = self.expr_ty(value, scope);
                self.expect_present(value, &vt, "a value to look up");
                for item in list {
                    let it = self.expr_ty(item, scope);
                    self.same_type(vt.unwrap_optional(), &it, value, item);
                }
                Ty::Bool
            }
            ExprKind::Call(name, args) => {
                if !FUNCTIONS.contains(&name.text.as_str()) {
                    self.unknown(name, "function", FUNCTIONS.iter().copied());
                    return Ty::Unknown;
                }
                self.record_builtin(&name.span, Builtin::Function(name.text.clone()));
                let mut result = Ty::Unknown;
                for a in args {
                    let t = self.expr_ty(a, scope);
                    if !self.expect_present(a, &t, &format!("an argument of `{}`", name.text)) {
                        continue;
                    }
                    if !t.is_ordered() {
                        let d = self.diag(
                            Code::TypeMismatch,
                            &a.span,
                            format!(
                                "`{}` needs numbers or amounts, but this is a {t}",
                                name.text
                            ),
                        );
                        self.report(
                            d.with_help("pass amounts like `35% of payment.amount_excl_vat`"),
                        );
                    } else if result == Ty::Unknown {
                        result = t;
                    } else {
                        self.same_type(&result.clone(), &t, &args[0], a);
                    }
                }
                result
            }
            ExprKind::PercentOf(_, value) => {
                let t = self.expr_ty(value, scope);
                if !self.expect_present(value, &t, "an amount") {
                    return Ty::Unknown;
                }
                match t {
                    Ty::Money | Ty::Number | Ty::Unknown => t,
                    other => {
                        let d = self.diag(
                            Code::TypeMismatch,
                            &value.span,
                            format!("a percentage can only be taken of an amount or a number, not of a {other}"),
                        );
                        self.report(d.with_help("write e.g. `35% of payment.amount_excl_vat`"));
                        Ty::Unknown
                    }
                }
            }
        }
    }

    fn compare(
        &mut self,
        op: CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        within: Option<&Expr>,
        scope: &mut Scope,
    ) {
        let lt = self.expr_ty(lhs, scope);
        let rt = self.expr_ty(rhs, scope);
        if lt == Ty::Unknown || rt == Ty::Unknown {
            return;
        }
        if lt == Ty::None || rt == Ty::None {
            let (other, ot) = if lt == Ty::None {
                (rhs, &rt)
            } else {
                (lhs, &lt)
            };
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                let d = self.diag(
                    Code::TypeMismatch,
                    &(lhs.span.start.min(rhs.span.start)..rhs.span.end),
                    "`none` can only be compared with `==` or `!=`",
                );
                self.report(d.with_help("write `x == none` or `x != none`"));
            } else if !matches!(ot, Ty::Optional(_)) && *ot != Ty::None {
                let d = self.diag(
                    Code::TypeMismatch,
                    &other.span,
                    format!(
                        "this {ot} is always present, so comparing it with `none` makes no sense"
                    ),
                );
                self.report(d.with_help("only optional fields (declared with `?`) can be missing"));
            }
            return;
        }
        let lp = self.expect_present(lhs, &lt, "a value to compare");
        let rp = self.expect_present(rhs, &rt, "a value to compare");
        if !(lp && rp) {
            return;
        }
        if !self.same_type(&lt, &rt, lhs, rhs) {
            return;
        }
        match op {
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge if !lt.is_ordered() => {
                let d = self.diag(
                    Code::TypeMismatch,
                    &(lhs.span.start..rhs.span.end),
                    format!("a {lt} has no order: `{}` cannot compare it", op.as_str()),
                );
                self.report(d.with_help(
                    "use `==` or `!=`, or compare amounts, numbers, dates or durations",
                ));
            }
            CmpOp::Approx => {
                if !matches!(lt, Ty::Money | Ty::Number) {
                    let d = self.diag(
                        Code::TypeMismatch,
                        &(lhs.span.start..rhs.span.end),
                        format!("`~=` compares amounts or numbers, not a {lt}"),
                    );
                    self.report(d.with_help("use `==` for exact comparison"));
                }
                match within {
                    None => {
                        let d = self.diag(
                            Code::TypeMismatch,
                            &(lhs.span.start..rhs.span.end),
                            "`~=` needs a tolerance",
                        );
                        self.report(d.with_help("add `within 2%` or `within 5 EUR`"));
                    }
                    Some(w) => {
                        let wt = self.expr_ty(w, scope);
                        if !(wt == Ty::Percent || wt == lt) {
                            let d = self.diag(
                                Code::TypeMismatch,
                                &w.span,
                                format!("a tolerance for a {lt} must be a percentage or a {lt}"),
                            );
                            self.report(d.with_help("write `within 2%`"));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Reports when two operands have different types. Returns whether they agree.
    fn same_type(&mut self, lt: &Ty, rt: &Ty, lhs: &Expr, rhs: &Expr) -> bool {
        let (lt, rt) = (lt.unwrap_optional(), rt.unwrap_optional());
        if lt == rt || *lt == Ty::Unknown || *rt == Ty::Unknown {
            return true;
        }
        let msg = format!("cannot compare a {lt} with a {rt}");
        let mut d = self
            .diag(
                Code::TypeMismatch,
                &(lhs.span.start.min(rhs.span.start)..lhs.span.end.max(rhs.span.end)),
                msg,
            )
            .with_label(self.span(&lhs.span), format!("this is a {lt}"))
            .with_label(self.span(&rhs.span), format!("this is a {rt}"));
        let number_lit = |e: &Expr| match &e.kind {
            ExprKind::Literal(Literal::Number(n)) => Some(*n),
            _ => None,
        };
        d = match (lt, rt) {
            (Ty::Money, Ty::Number) | (Ty::Number, Ty::Money) => {
                let lit = if *rt == Ty::Number { rhs } else { lhs };
                match number_lit(lit) {
                    Some(n) => d
                        .with_help(format!("amounts are in euro: write `{n} EUR`"))
                        .with_fix(self.span(&lit.span), format!("{n} EUR")),
                    None => d.with_help("amounts are in euro: compare with an amount like `8 500 EUR`"),
                }
            }
            (Ty::Unit, Ty::Text) | (Ty::Text, Ty::Unit) => {
                d.with_help("a unit is compared with a unit name from the organogram (like `sociale-zaken`), not with text in quotes")
            }
            _ => d.with_help(format!("both sides must be of the same type; this compares a {lt} with a {rt}")),
        };
        self.report(d);
        false
    }

    /// Resolves a path to its type, reporting unknown names and fields.
    pub(crate) fn path_ty(&mut self, p: &Path, scope: &mut Scope) -> Ty {
        let head = &p.segments[0];
        let doc_fields = scope
            .doc
            .as_ref()
            .map(|d| self.record_fields(d))
            .unwrap_or_default();
        let implicit_fields = scope
            .implicit
            .as_ref()
            .map(|r| self.record_fields(r))
            .unwrap_or_default();
        let mut ty = if head.text == "document" {
            match &scope.doc {
                Some(d) => {
                    self.record_builtin(&head.span, Builtin::Document);
                    Ty::Record(d.clone())
                }
                None => {
                    let d = self.diag(
                        Code::UnknownName,
                        &head.span,
                        "`document` can only be used inside a flow",
                    );
                    self.record_unresolved(&head.span, d.message.clone());
                    self.report(
                        d.with_help("in a rule, use the event's record, e.g. `invoice.amount`"),
                    );
                    return Ty::Unknown;
                }
            }
        } else if let Some((_, t)) = implicit_fields.iter().find(|(n, _)| *n == head.text) {
            let record = scope.implicit.clone().unwrap_or_default();
            self.record_field(&head.span, &record, &head.text, t.clone());
            t.clone()
        } else if let Some(b) = scope.binding(&head.text) {
            b.used = true;
            let ty = b.ty.clone();
            self.record_local(&head.span, &head.text, ty.clone(), false);
            ty
        } else if let Some((_, t)) = doc_fields
            .iter()
            .find(|(n, _)| *n == head.text && self.org.kind_of(n).is_none())
        {
            // A field named like an organogram entry is P0023; the organogram keeps the name.
            let kind = scope.doc.clone().unwrap_or_default();
            self.record_field(&head.span, &kind, &head.text, t.clone());
            t.clone()
        } else if let Some(kind) = self.org.kind_of(&head.text) {
            self.record_org(&head.span, &head.text, kind);
            match kind {
                OrgKind::Unit => Ty::Unit,
                OrgKind::Function => Ty::Function,
                OrgKind::Mandate => Ty::Mandate,
                OrgKind::Person => Ty::Person,
            }
        } else if self.index.group(&head.text).is_some() {
            self.record(&head.span, Entity::Group(head.text.clone()));
            Ty::Group
        } else {
            let mut candidates: Vec<String> =
                implicit_fields.iter().map(|(n, _)| n.clone()).collect();
            candidates.extend(scope.bindings.iter().map(|b| b.name.clone()));
            candidates.extend(doc_fields.iter().map(|(n, _)| n.clone()));
            candidates.extend(self.org.ids().map(|(id, _)| id.to_string()));
            // `doucment.dienst`: inside a flow, `document` itself is a likely meaning.
            if scope.doc.is_some() && p.segments.len() > 1 {
                candidates.push("document".to_string());
            }
            // `nnoe`, `ture`: a misspelled value word.
            if p.segments.len() == 1 {
                candidates.extend(["none", "true", "false"].map(String::from));
            }
            let what = if scope.doc.is_some() {
                "field or organogram name"
            } else {
                "name"
            };
            self.unknown(head, what, candidates.iter().map(String::as_str));
            return Ty::Unknown;
        };
        for seg in &p.segments[1..] {
            ty = match ty {
                Ty::Record(r) => {
                    let fields = self.record_fields(&r);
                    match fields.iter().find(|(n, _)| *n == seg.text) {
                        Some((_, t)) => {
                            self.record_field(&seg.span, &r, &seg.text, t.clone());
                            t.clone()
                        }
                        None => {
                            let mut d = self.diag(
                                Code::UnknownField,
                                &seg.span,
                                format!("a {r} has no field `{}`", seg.text),
                            );
                            d = match crate::resolve::closest(
                                &seg.text,
                                fields.iter().map(|(n, _)| n.as_str()),
                            ) {
                                Some(s) => d
                                    .with_help(format!("did you mean `{s}`?"))
                                    .with_fix(self.span(&seg.span), s),
                                None => d.with_help(format!(
                                    "the fields of {r} are: {}",
                                    fields
                                        .iter()
                                        .map(|(n, _)| format!("`{n}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            };
                            self.record_unresolved(&seg.span, d.message.clone());
                            self.report(d);
                            return Ty::Unknown;
                        }
                    }
                }
                Ty::Unknown => return Ty::Unknown,
                other => {
                    let d = self.diag(
                        Code::UnknownField,
                        &seg.span,
                        format!("a {other} has no fields"),
                    );
                    self.record_unresolved(&seg.span, d.message.clone());
                    self.report(
                        d.with_help("only documents and records (like `invoice`) have fields"),
                    );
                    return Ty::Unknown;
                }
            };
        }
        if matches!(ty, Ty::Optional(_)) && scope.narrowed.contains(&field_key(p)) {
            ty = ty.unwrap_optional().clone();
        }
        ty
    }
}
