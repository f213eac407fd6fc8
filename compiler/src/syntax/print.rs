//! Prints a syntax tree as canonical Paraaf source. `parse(print(ast))` gives the same
//! tree again (tested); comments are not kept — the formatter (issue 4) will build on this.

use super::ast::*;
use rust_decimal::Decimal;
use std::fmt::Write;

/// Canonical source text of `ast`.
pub fn print(ast: &SourceAst) -> String {
    let mut out = String::new();
    for (i, item) in ast.items.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        item_text(&mut out, item);
    }
    out
}

fn item_text(o: &mut String, item: &Item) {
    match item {
        Item::Document(d) => {
            let _ = write!(o, "document {}", d.name.text);
            if let Some(sh) = &d.shield {
                let _ = write!(o, " shielded by {}", sh.group.text);
                if let Some(a) = &sh.allow {
                    let _ = write!(o, " allow {}", a.text);
                }
            }
            o.push_str(" {\n");
            for f in &d.fields {
                let _ = write!(
                    o,
                    "  {}: {}{}",
                    f.name.text,
                    f.ty.name.text,
                    if f.ty.optional { "?" } else { "" }
                );
                if let Some(w) = &f.ty.within {
                    let _ = write!(o, " in {}", w.text);
                }
                o.push('\n');
            }
            o.push_str("}\n");
        }
        Item::Substitutes(s) => {
            let subs: Vec<String> = s.substitutes.iter().map(signer).collect();
            let _ = writeln!(o, "substitutes {} = {}", signer(&s.holder), subs.join(", "));
        }
        Item::Group(g) => {
            let members = group_members(&g.members);
            let _ = writeln!(
                o,
                "group {} = {}{}",
                g.name.text,
                members,
                if g.shielded.is_some() {
                    " shielded"
                } else {
                    ""
                }
            );
        }
        Item::Agency(a) => {
            let _ = writeln!(o, "agency {} {}", a.name.text, string(&a.title));
        }
        Item::Flow(f) => flow(o, f),
        Item::Rule(r) => {
            let _ = write!(o, "rule {} on {}", r.name.text, r.event.text);
            if let Some(w) = &r.when {
                let _ = write!(o, " when {}", expr(w));
            }
            o.push_str(" {\n");
            block(o, &r.body, 1);
            o.push_str("}\n");
        }
    }
}

/// `unit x`, `people(a, b)`, or terms joined with ` + `.
pub fn group_members(m: &GroupMembers) -> String {
    match m {
        GroupMembers::Unit(u) => format!("unit {}", u.text),
        GroupMembers::People(p) => format!(
            "people({})",
            p.iter().map(signer).collect::<Vec<_>>().join(", ")
        ),
        GroupMembers::Union(parts) => parts
            .iter()
            .map(group_members)
            .collect::<Vec<_>>()
            .join(" + "),
    }
}

fn flow(o: &mut String, f: &FlowDef) {
    let _ = write!(o, "flow {} for {}", f.name.text, f.kind.text);
    if let Some(w) = &f.when {
        let _ = write!(o, " when {}", expr(w));
    }
    o.push_str(" {\n");
    if !f.visible.is_empty() {
        let aud: Vec<String> = f
            .visible
            .iter()
            .map(|a| match a {
                Audience::Uploader(_) => "uploader".to_string(),
                Audience::Signers(_) => "signers".to_string(),
                Audience::Group(g) => format!("group {}", g.text),
                Audience::Unit(p) => format!("unit {}", p.text()),
                Audience::Signer(s) => signer(s),
            })
            .collect();
        let _ = writeln!(o, "  visible to {}", aud.join(", "));
    }
    for s in &f.steps {
        let _ = write!(o, "  step {} : ", s.name.text);
        match &s.body {
            StepBody::Sign(c) => {
                let _ = writeln!(o, "{}", sign(c));
            }
            StepBody::Parallel { mode, signs, when } => {
                let _ = writeln!(
                    o,
                    "{} {{",
                    if *mode == ParallelMode::All {
                        "all"
                    } else {
                        "any"
                    }
                );
                for c in signs {
                    let _ = writeln!(o, "    {}", sign(c));
                }
                o.push_str("  }");
                if let Some(w) = when {
                    let _ = write!(o, " when {}", expr(w));
                }
                o.push('\n');
            }
        }
    }
    match &f.on_refused {
        Some(Refused::BackToUploader(_)) => o.push_str("  on refused -> back to uploader\n"),
        Some(Refused::BackToStep(s)) => {
            let _ = writeln!(o, "  on refused -> back to step {}", s.text);
        }
        Some(Refused::Stop(_)) => o.push_str("  on refused -> stop\n"),
        None => {}
    }
    if let Some(d) = &f.deadline {
        let _ = write!(o, "  deadline {} remind", duration(&d.remind));
        if let Some((after, to)) = &d.escalate {
            let _ = write!(o, ", {} escalate to {}", duration(after), signer(to));
        }
        o.push('\n');
    }
    o.push_str("}\n");
}

fn block(o: &mut String, stmts: &[Stmt], depth: usize) {
    let pad = "  ".repeat(depth);
    for s in stmts {
        o.push_str(&pad);
        stmt(o, s, depth);
        o.push('\n');
    }
}

fn stmt(o: &mut String, s: &Stmt, depth: usize) {
    let pad = "  ".repeat(depth);
    match s {
        Stmt::Let { name, value } => {
            let v = match value {
                LetValue::Match { source, by } => format!("match {} by {}", source.text, expr(by)),
                LetValue::CheckDebts { kbo, on, .. } => {
                    format!("check debts({}) on {}", expr(kbo), expr(on))
                }
                LetValue::Expr(e) => expr(e),
            };
            let _ = write!(o, "let {} = {v}", name.text);
        }
        Stmt::If {
            cond,
            then,
            otherwise,
        } => {
            let _ = writeln!(o, "if {} {{", expr(cond));
            block(o, then, depth + 1);
            o.push_str(&pad);
            o.push('}');
            match otherwise.as_slice() {
                [] => {}
                [elif @ Stmt::If { .. }] => {
                    o.push_str(" else ");
                    stmt(o, elif, depth);
                }
                other => {
                    o.push_str(" else {\n");
                    block(o, other, depth + 1);
                    o.push_str(&pad);
                    o.push('}');
                }
            }
        }
        Stmt::Action(a) => match &a.kind {
            ActionKind::Queue { queue, reason } => {
                let _ = write!(o, "queue {} reason {}", queue.text, string(reason));
            }
            ActionKind::Link { from, to } => {
                let _ = write!(o, "link {} to {}", from.text(), to.text());
            }
            ActionKind::Start { flow, args } => {
                let _ = write!(o, "start {}", flow.text);
                if !args.is_empty() {
                    let a: Vec<String> = args
                        .iter()
                        .map(|(n, e)| format!("{} = {}", n.text, expr(e)))
                        .collect();
                    let _ = write!(o, " with {}", a.join(", "));
                }
            }
            ActionKind::Withhold {
                amount,
                cap,
                agency,
            } => {
                let _ = write!(o, "withhold {}", expr(amount));
                if let Some(c) = cap {
                    let _ = write!(o, " capped by {}", expr(c));
                }
                let _ = write!(o, " to {}", agency.text);
            }
            ActionKind::Notify { target, message } => {
                let _ = write!(o, "notify {} {}", signer(target), string(message));
            }
        },
    }
}

fn signer(s: &SignerRef) -> String {
    match &s.of {
        Some(p) => format!("{} of {}", s.name.text, p.text()),
        None => s.name.text.clone(),
    }
}

fn sign(c: &SignClause) -> String {
    match &c.when {
        Some(w) => format!("sign {} when {}", signer(&c.signer), expr(w)),
        None => format!("sign {}", signer(&c.signer)),
    }
}

fn duration(d: &DurationLit) -> String {
    let unit = match (d.unit, d.amount == Decimal::ONE) {
        (DurationUnit::Days, true) => "day",
        (DurationUnit::Days, false) => "days",
        (DurationUnit::Workdays, true) => "workday",
        (DurationUnit::Workdays, false) => "workdays",
    };
    format!("{} {unit}", d.amount)
}

/// Canonical text of a string literal.
pub fn string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// An amount with thousands separated by spaces: `8 500`, `30 000.50`.
pub fn grouped(d: &Decimal) -> String {
    let text = d.to_string();
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let (sign, digits) = int
        .strip_prefix('-')
        .map_or(("", int.as_str()), |d| ("-", d));
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    let mut out = format!("{sign}{}", groups.join(" "));
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

/// Precedence levels: or < and < not < comparison < value.
fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Logic(LogicOp::Or, ..) => 0,
        ExprKind::Logic(LogicOp::And, ..) => 1,
        ExprKind::Not(_) => 2,
        ExprKind::Compare { .. } | ExprKind::In(..) => 3,
        _ => 4,
    }
}

fn at(e: &Expr, min: u8) -> String {
    if level(e) < min {
        format!("({})", expr(e))
    } else {
        expr(e)
    }
}

/// Canonical text of an expression.
pub fn expr(e: &Expr) -> String {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || match &e.kind {
        ExprKind::Literal(l) => literal(l),
        ExprKind::Path(p) => p.text(),
        ExprKind::Logic(LogicOp::Or, a, b) => format!("{} or {}", at(a, 0), at(b, 1)),
        ExprKind::Logic(LogicOp::And, a, b) => format!("{} and {}", at(a, 1), at(b, 2)),
        ExprKind::Not(a) => format!("not {}", at(a, 2)),
        ExprKind::Compare {
            op,
            lhs,
            rhs,
            within,
        } => {
            let mut s = format!("{} {} {}", at(lhs, 4), op.as_str(), at(rhs, 4));
            if let Some(w) = within {
                let _ = write!(s, " within {}", expr(w));
            }
            s
        }
        ExprKind::In(v, list) => {
            format!(
                "{} in [{}]",
                at(v, 4),
                list.iter().map(|x| at(x, 4)).collect::<Vec<_>>().join(", ")
            )
        }
        ExprKind::Call(f, args) => format!(
            "{}({})",
            f.text,
            args.iter().map(expr).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::PercentOf(p, v) => format!("{p}% of {}", at(v, 4)),
    })
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Money(d) => format!("{} EUR", grouped(d)),
        Literal::Number(d) => d.to_string(),
        Literal::Percent(d) => format!("{d}%"),
        Literal::Duration(d, u) => duration(&DurationLit {
            amount: *d,
            unit: *u,
            span: 0..0,
        }),
        Literal::Date(s) => s.clone(),
        Literal::Text(s) => string(s),
        Literal::Bool(b) => b.to_string(),
        Literal::None => "none".into(),
    }
}
