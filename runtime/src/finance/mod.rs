//! Finance automation: incoming UBL invoices are matched to purchase orders by the
//! project's `invoice.received` rules, and payments get the withholdings its
//! `payment.scheduled` rules demand (inhoudingsplicht), checked on the payment date.

pub mod debts;
pub mod generate;
pub mod imports;
pub mod orders;
pub mod sepa;
pub mod ubl;

use crate::eval::{Lookup, Records, V, eval, holds};
use debts::Debts;
use orders::PurchaseOrder;
use paraaf_model::CompiledProject;
use paraaf_model::{CmpOp, LogicOp};
use paraaf_model::{Expr, LetValue, Rule, Stmt};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use ubl::Invoice;

/// What the matching rules decided for one invoice.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MatchOutcome {
    /// Invoice number.
    pub invoice: String,
    /// Source file.
    pub file: String,
    /// The linked purchase order, if any.
    pub purchase_order: Option<String>,
    /// Manual queue and reason, if the invoice went there.
    pub queue: Option<(String, String)>,
    /// Flow to start and its field values.
    pub start: Option<(String, BTreeMap<String, Value>)>,
    /// Warnings (partial invoice, over-invoicing).
    pub flags: Vec<String>,
    /// For a credit note: the invoice it is set off against (number, id in the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: Option<(String, String)>,
    /// The approval document `finance run` started for it (to approve or show).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

/// One line of the payment proposal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Payment {
    /// Invoice number.
    pub invoice: String,
    /// Supplier KBO.
    pub supplier: String,
    /// Supplier name.
    pub supplier_name: String,
    /// Amount due, VAT included.
    pub amount: Decimal,
    /// Amount excluding VAT of this payment, after prepayments (the base of withholdings).
    pub amount_excl_vat: Decimal,
    /// Withheld per agency.
    pub withheld: BTreeMap<String, Decimal>,
    /// Paid to the supplier.
    pub to_supplier: Decimal,
    /// Why the payment is blocked (then nothing is paid).
    pub blocked: Option<String>,
    /// The debts checks made: (request, SHA-256 of the response, decision).
    pub checks: Vec<(String, String, String)>,
    /// The credit notes set off in `amount` (their numbers).
    pub set_off: Vec<String>,
    /// The supplier's account (from the invoice), checked.
    pub iban: Option<String>,
    /// Its bank.
    pub bic: Option<String>,
    /// The invoice's Belgian structured communication (12 digits), checked.
    pub structured: Option<String>,
    /// Who is paid, when not the seller (factoring).
    pub payee: Option<String>,
}

fn text(s: &str) -> V {
    V::Text(s.to_string())
}

fn opt(s: &Option<String>) -> V {
    s.as_deref().map_or(V::None, text)
}

/// The `invoice` record rules see (`flag` is none: see [`invoice_record_flagged`]).
pub fn invoice_record(i: &Invoice) -> BTreeMap<String, V> {
    invoice_record_flagged(i, None)
}

/// The `invoice` record with its flag (over- or partial invoicing of its order, over all
/// runs), which a rule passes to the approval document for the approver to see.
pub fn invoice_record_flagged(i: &Invoice, flag: Option<&str>) -> BTreeMap<String, V> {
    BTreeMap::from([
        ("number".into(), text(&i.number)),
        ("supplier".into(), text(&i.supplier)),
        ("supplier_name".into(), text(&i.supplier_name)),
        ("supplier_vat".into(), opt(&i.supplier_vat)),
        ("order_reference".into(), opt(&i.order_reference)),
        ("buyer_reference".into(), opt(&i.buyer_reference)),
        ("issue_date".into(), text(&i.issue_date)),
        ("due_date".into(), opt(&i.due_date)),
        ("amount".into(), V::Num(i.amount)),
        ("amount_excl_vat".into(), V::Num(i.amount_excl_vat)),
        ("credit_note".into(), V::Bool(i.credit_note)),
        ("flag".into(), flag.map_or(V::None, text)),
    ])
}

fn order_record(p: &PurchaseOrder) -> BTreeMap<String, V> {
    BTreeMap::from([
        ("reference".into(), text(&p.reference)),
        ("supplier".into(), text(&p.supplier)),
        ("amount".into(), V::Num(p.amount)),
        ("date".into(), text(&p.date)),
        ("dienst".into(), text(&p.dienst)),
        ("category".into(), text(&p.category)),
    ])
}

fn to_json(v: &V) -> Value {
    match v {
        V::Num(n) => Value::String(n.to_string()),
        V::Text(t) => Value::String(t.clone()),
        V::Bool(b) => Value::Bool(*b),
        V::None => Value::Null,
    }
}

/// Rounds to the cent, half away from zero.
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Everything a rule run can do.
#[derive(Default)]
struct Effects {
    linked: Option<String>,
    queue: Option<(String, String)>,
    start: Option<(String, BTreeMap<String, Value>)>,
    withheld: BTreeMap<String, Decimal>,
    blocked: Option<String>,
    checks: Vec<(String, String, String)>,
    /// Already withheld under a cap, per (supplier, payment date, agency): an attest caps
    /// what is withheld from a supplier on a day, across all its invoices.
    capped: BTreeMap<(String, String, String), Decimal>,
}

struct Run<'a> {
    /// The purchase orders as records (built once per run).
    orders: &'a [BTreeMap<String, V>],
    /// The same, indexed by their text fields (built once per run).
    index: Option<&'a OrderIndex>,
    debts: Option<&'a dyn Debts>,
    fx: Effects,
}

impl Run<'_> {
    fn block(&mut self, stmts: &[Stmt], env: &mut Records) {
        for s in stmts {
            if self.fx.blocked.is_some() {
                return;
            }
            match s {
                Stmt::Let { name, value } => {
                    let record = match value {
                        LetValue::Match { by, .. } => {
                            // Only the orders an equality in the condition allows (an
                            // index lookup), then the whole condition on each.
                            let candidates: Box<dyn Iterator<Item = &BTreeMap<String, V>>> =
                                match self.index.and_then(|ix| ix.candidates(by, env)) {
                                    Some(ids) => Box::new(ids.into_iter().map(|i| &self.orders[i])),
                                    None => Box::new(self.orders.iter()),
                                };
                            let found: Vec<&BTreeMap<String, V>> = candidates
                                .filter(|po| {
                                    holds(
                                        by,
                                        &Overlay {
                                            base: env,
                                            name: "purchase_order",
                                            record: po,
                                        },
                                    )
                                })
                                .collect();
                            let mut r = match found.as_slice() {
                                [one] => (*one).clone(),
                                _ => BTreeMap::new(),
                            };
                            r.insert("none".into(), V::Bool(found.is_empty()));
                            r.insert("ambiguous".into(), V::Bool(found.len() > 1));
                            r.insert("found".into(), V::Bool(found.len() == 1));
                            r
                        }
                        LetValue::CheckDebts { kbo, on } => {
                            let (V::Text(kbo), V::Text(date)) = (eval(kbo, env), eval(on, env))
                            else {
                                self.fx.blocked =
                                    Some("the debts check has no enterprise number or date".into());
                                return;
                            };
                            if kbo.len() != 10 || !kbo.chars().all(|c| c.is_ascii_digit()) {
                                self.fx.blocked = Some(format!(
                                    "the supplier has no Belgian enterprise number (`{kbo}`): the withholding obligation cannot be checked automatically; a person must decide"
                                ));
                                return;
                            }
                            let Some(debts) = self.debts else {
                                self.fx.blocked = Some("no debts service is configured: the withholding obligation cannot be checked".into());
                                return;
                            };
                            match debts.check(&kbo, &date) {
                                Ok((a, raw)) => {
                                    let decision = format!(
                                        "social {} tax {} self-employed {}; answer: {}",
                                        a.social_debt,
                                        a.tax_debt,
                                        a.self_employed_debt,
                                        debts::short(&raw)
                                    );
                                    self.fx.checks.push((
                                        debts.describe(&kbo, &date),
                                        crate::sha256_hex(raw.as_bytes()),
                                        decision,
                                    ));
                                    BTreeMap::from([
                                        ("social".into(), V::Bool(a.social_debt > Decimal::ZERO)),
                                        ("tax".into(), V::Bool(a.tax_debt > Decimal::ZERO)),
                                        (
                                            "self_employed".into(),
                                            V::Bool(a.self_employed_debt > Decimal::ZERO),
                                        ),
                                        ("social_debt".into(), V::Num(a.social_debt)),
                                        ("tax_debt".into(), V::Num(a.tax_debt)),
                                        ("self_employed_debt".into(), V::Num(a.self_employed_debt)),
                                        (
                                            "social_attest".into(),
                                            a.social_attest.map_or(V::None, V::Num),
                                        ),
                                        ("tax_attest".into(), a.tax_attest.map_or(V::None, V::Num)),
                                    ])
                                }
                                Err(why) => {
                                    self.fx.checks.push((
                                        debts.describe(&kbo, &date),
                                        crate::sha256_hex(why.as_bytes()),
                                        format!("blocked: {why}"),
                                    ));
                                    self.fx.blocked = Some(format!("payment blocked: {why}"));
                                    return;
                                }
                            }
                        }
                        LetValue::Expr(_) => BTreeMap::new(),
                    };
                    env.records.insert(name.clone(), record);
                }
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    let branch = if holds(cond, env) { then } else { otherwise };
                    self.block(branch, env);
                }
                Stmt::Queue { queue, reason } => {
                    self.fx.queue = Some((queue.clone(), reason.clone()))
                }
                Stmt::Link { to, .. } => {
                    self.fx.linked = env.field(&[to[0].clone(), "reference".into()]).text();
                }
                Stmt::Start { flow, fields } => {
                    let values = fields
                        .iter()
                        .map(|(k, e)| (k.clone(), to_json(&eval(e, env))))
                        .collect();
                    self.fx.start = Some((flow.clone(), values));
                }
                Stmt::Withhold {
                    amount,
                    cap,
                    agency,
                } => {
                    let V::Num(a) = eval(amount, env) else {
                        continue;
                    };
                    let a = a.max(Decimal::ZERO);
                    let a = if let Some(V::Num(c)) = cap.as_ref().map(|c| eval(c, env)) {
                        let key = (
                            env.field(&["payment".into(), "supplier".into()])
                                .text()
                                .unwrap_or_default(),
                            env.field(&["payment".into(), "date".into()])
                                .text()
                                .unwrap_or_default(),
                            agency.clone(),
                        );
                        let used = self.fx.capped.entry(key).or_default();
                        let room = (c - *used).max(Decimal::ZERO);
                        let a = cents(a.min(room));
                        *used += a;
                        a
                    } else {
                        cents(a)
                    };
                    *self.fx.withheld.entry(agency.clone()).or_default() += a;
                }
                Stmt::Notify { .. } => {}
            }
        }
    }
}

/// One more record on top of others, without copying (the hot loop of matching).
struct Overlay<'a> {
    base: &'a Records,
    name: &'a str,
    record: &'a BTreeMap<String, V>,
}

impl Lookup for Overlay<'_> {
    fn field(&self, path: &[String]) -> V {
        match path {
            [record, field, ..] if record == self.name => {
                self.record.get(field).cloned().unwrap_or(V::None)
            }
            _ => self.base.field(path),
        }
    }
}

impl V {
    fn text(&self) -> Option<String> {
        match self {
            V::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

/// Purchase orders by the value of each text field: `match purchase_order by reference ==
/// invoice.order_reference and ...` looks up instead of scanning every order.
struct OrderIndex {
    by: BTreeMap<String, std::collections::HashMap<String, Vec<usize>>>,
}

impl OrderIndex {
    fn new(orders: &[BTreeMap<String, V>]) -> OrderIndex {
        let mut by: BTreeMap<String, std::collections::HashMap<String, Vec<usize>>> =
            BTreeMap::new();
        for (i, o) in orders.iter().enumerate() {
            for (field, v) in o {
                if let V::Text(t) = v {
                    by.entry(field.clone())
                        .or_default()
                        .entry(t.clone())
                        .or_default()
                        .push(i);
                }
            }
        }
        OrderIndex { by }
    }

    /// The orders an equality conjunct of `cond` allows, or `None` to scan them all.
    fn candidates(&self, cond: &Expr, env: &Records) -> Option<Vec<usize>> {
        let mut keys = Vec::new();
        equalities(cond, &mut keys);
        keys.into_iter().find_map(|(field, value)| {
            let index = self.by.get(field)?;
            match eval(value, env) {
                V::Text(t) => Some(index.get(&t).cloned().unwrap_or_default()),
                // `field == none` holds for no order: nothing to look at.
                V::None => Some(Vec::new()),
                _ => None,
            }
        })
    }
}

/// `purchase_order.F == E` conjuncts (E not about the purchase order) of a condition.
fn equalities<'e>(e: &'e Expr, out: &mut Vec<(&'e str, &'e Expr)>) {
    match e {
        Expr::Logic {
            op: LogicOp::And,
            args,
        } => {
            equalities(&args.0, out);
            equalities(&args.1, out);
        }
        Expr::Compare {
            op: CmpOp::Eq,
            args,
            within: None,
        } => match (&args.0, &args.1) {
            (Expr::Field(p), other) | (other, Expr::Field(p))
                if p.len() == 2 && p[0] == "purchase_order" && !about_order(other) =>
            {
                out.push((&p[1], other));
            }
            _ => {}
        },
        _ => {}
    }
}

fn about_order(e: &Expr) -> bool {
    match e {
        Expr::Field(p) => p.first().is_some_and(|h| h == "purchase_order"),
        Expr::Logic { args, .. } | Expr::Compare { args, .. } => {
            about_order(&args.0) || about_order(&args.1)
        }
        Expr::Not(a) => about_order(a),
        Expr::PercentOf { value, .. } => about_order(value),
        Expr::In { value, list } => about_order(value) || list.iter().any(about_order),
        Expr::Call { args, .. } => args.iter().any(about_order),
        _ => false,
    }
}

fn rules<'a>(project: &'a CompiledProject, event: &str) -> Vec<&'a Rule> {
    project.rules.iter().filter(|r| r.event == event).collect()
}

/// Matches every invoice to its purchase order with the project's rules, then flags
/// duplicates, partial invoices and over-invoicing (beyond `tolerance_percent`).
pub fn match_invoices(
    project: &CompiledProject,
    invoices: &[Invoice],
    orders: &[PurchaseOrder],
    tolerance_percent: Decimal,
) -> Vec<MatchOutcome> {
    match_invoices_after(
        project,
        invoices,
        orders,
        tolerance_percent,
        &imports::History::default(),
    )
}

/// [`match_invoices`], knowing what earlier runs imported: a supplier's invoice number
/// (normalised, per type) seen before, even with another date, is a duplicate for a
/// person, never a second payment; partial and over-invoicing count every invoice linked
/// to the order in any run. A flagged invoice's rules run again with `invoice.flag` set,
/// so the flow they start shows the flag to the approver.
pub fn match_invoices_after(
    project: &CompiledProject,
    invoices: &[Invoice],
    orders: &[PurchaseOrder],
    tolerance_percent: Decimal,
    history: &imports::History,
) -> Vec<MatchOutcome> {
    let records: Vec<BTreeMap<String, V>> = orders.iter().map(order_record).collect();
    let index = OrderIndex::new(&records);
    // Orders by their reference as invoice numbers are compared (`BB-1` is `bb 1`).
    let by_reference = orders::by_reference(orders);
    let mut seen = history.numbers.clone();
    // Invoices a credit note can name: the earlier runs' and this batch's.
    let mut invoiced = history.invoices.clone();
    let run_rules = |inv: &Invoice, flag: Option<&str>| {
        let mut run = Run {
            orders: &records,
            index: Some(&index),
            debts: None,
            fx: Effects::default(),
        };
        // The rules see the order reference as the export spells that order, so
        // `reference == invoice.order_reference` holds for `bb-1` on order `BB-1`.
        let mut record = invoice_record_flagged(inv, flag);
        if let Some(po) = inv
            .order_reference
            .as_deref()
            .and_then(|r| by_reference.get(&imports::normalise_number(r)))
        {
            record.insert("order_reference".into(), text(&po.reference));
        }
        for rule in rules(project, "invoice.received") {
            let mut env = Records::default();
            env.records.insert("invoice".into(), record.clone());
            if rule.when.as_ref().is_none_or(|w| holds(w, &env)) {
                run.block(&rule.body, &mut env);
            }
        }
        run.fx
    };
    // Credit notes after every invoice of the run is known: whether one is set off must
    // not depend on how its file sorts against its invoice's.
    let mut slots: Vec<Option<MatchOutcome>> = vec![None; invoices.len()];
    let order = (0..invoices.len())
        .filter(|&i| !invoices[i].credit_note)
        .chain((0..invoices.len()).filter(|&i| invoices[i].credit_note));
    for i in order {
        let inv = &invoices[i];
        let mut outcome = MatchOutcome {
            invoice: inv.number.clone(),
            file: inv.file.clone(),
            ..Default::default()
        };
        if inv.currency != "EUR" {
            outcome.queue = Some((
                "manuele-koppeling".into(),
                format!(
                    "the invoice is in {}: the city pays in EUR, so a person converts it (nothing was proposed)",
                    inv.currency
                ),
            ));
            slots[i] = Some(outcome);
            continue;
        }
        if !seen.insert((
            inv.supplier.clone(),
            imports::kind(inv).to_string(),
            imports::normalise_number(&inv.number),
        )) {
            outcome.queue = Some((
                "manuele-koppeling".into(),
                format!(
                    "duplicate: this supplier sent {} {} before (numbers are compared without case or separators)",
                    imports::kind(inv),
                    inv.number
                ),
            ));
            slots[i] = Some(outcome);
            continue;
        }
        if inv.credit_note {
            credit_note(inv, &invoiced, &mut outcome);
            slots[i] = Some(outcome);
            continue;
        }
        let fx = run_rules(inv, None);
        outcome.purchase_order = fx.linked;
        outcome.queue = fx.queue;
        outcome.start = fx.start;
        // Whatever the rules say: an invoice is never linked to another supplier's order
        // (a contractor quoting someone else's "supplies" order would escape withholding).
        if let Some(po) = outcome
            .purchase_order
            .as_deref()
            .and_then(|r| by_reference.get(&imports::normalise_number(r)).copied())
            && po.supplier != inv.supplier
        {
            outcome.queue = Some((
                "manuele-koppeling".into(),
                format!(
                    "the purchase order {} belongs to another supplier ({}), not to {}",
                    po.reference, po.supplier, inv.supplier
                ),
            ));
            outcome.purchase_order = None;
            outcome.start = None;
        }
        if outcome.queue.is_none() {
            invoiced.insert(
                (inv.supplier.clone(), imports::normalise_number(&inv.number)),
                imports::Invoiced {
                    id: imports::identity(inv, None),
                    number: inv.number.clone(),
                    order: outcome.purchase_order.clone(),
                    paid: None,
                },
            );
        }
        slots[i] = Some(outcome);
    }
    let mut out: Vec<MatchOutcome> = slots.into_iter().map(Option::unwrap_or_default).collect();
    // Partial invoices and over-invoicing per purchase order, over every run (by the
    // reference as invoice numbers are compared: an order re-exported as `bb-1` is the
    // order earlier runs billed as `BB-1`).
    let mut billed: BTreeMap<String, Decimal> = history.billed.clone();
    for (o, inv) in out.iter().zip(invoices) {
        if let (Some(po), None) = (&o.purchase_order, &o.queue) {
            let sum = billed.entry(imports::normalise_number(po)).or_default();
            *sum = sum.checked_add(inv.amount_excl_vat).unwrap_or(*sum);
        }
    }
    let percent = |amount: Decimal, p: Decimal| {
        amount
            .checked_mul(p)
            .map_or(amount, |x| x / Decimal::ONE_HUNDRED)
    };
    let flags: BTreeMap<String, String> = billed
        .iter()
        .filter_map(|(key, sum)| {
            let order = *by_reference.get(key)?;
            let po = &order.reference;
            let before = history.billed.get(key).copied().unwrap_or_default();
            let earlier = if before.is_zero() {
                String::new()
            } else {
                format!(" ({before} EUR of it in earlier runs)")
            };
            if *sum > percent(order.amount, Decimal::ONE_HUNDRED + tolerance_percent) {
                Some((
                    key.clone(),
                    format!(
                        "over-invoiced: {sum} EUR billed on purchase order {po} of {} EUR{earlier}",
                        order.amount
                    ),
                ))
            } else if *sum < percent(order.amount, Decimal::ONE_HUNDRED - tolerance_percent) {
                Some((
                    key.clone(),
                    format!(
                        "partial: {sum} of {} EUR billed on purchase order {po} so far{earlier}",
                        order.amount
                    ),
                ))
            } else {
                None
            }
        })
        .collect();
    for (o, inv) in out.iter_mut().zip(invoices) {
        let Some(f) = o
            .purchase_order
            .as_ref()
            .filter(|_| o.queue.is_none())
            .and_then(|po| flags.get(&imports::normalise_number(po)))
        else {
            continue;
        };
        o.flags.push(f.clone());
        // The approval flow shows the flag: the rules again, with `invoice.flag`.
        if o.start.is_some() {
            o.start = run_rules(inv, Some(f)).start;
        }
    }
    out
}

/// A credit note is set off against the invoice it names (`BillingReference`, the same
/// supplier) when that invoice is paid; one naming no imported invoice, or an invoice
/// already proposed for payment, waits for a person. Never dropped, never a flow of its own.
fn credit_note(
    inv: &Invoice,
    invoiced: &BTreeMap<(String, String), imports::Invoiced>,
    outcome: &mut MatchOutcome,
) {
    let queue = |why: String| Some(("manuele-koppeling".to_string(), why));
    let Some(reference) = &inv.billing_reference else {
        outcome.queue = queue(format!(
            "credit note {} of {} names no invoice (BillingReference): a person sets it off",
            inv.number, inv.supplier_name
        ));
        return;
    };
    let key = (inv.supplier.clone(), imports::normalise_number(reference));
    match invoiced.get(&key) {
        None => {
            outcome.queue = queue(format!(
                "credit note {} names invoice {reference}, which was not imported from {}: a person sets it off",
                inv.number, inv.supplier_name
            ))
        }
        Some(i) if i.paid.is_some() => {
            outcome.queue = queue(format!(
                "credit note {} is for invoice {}, already proposed for payment on {}: a person reclaims {} EUR",
                inv.number,
                i.number,
                i.paid.as_deref().unwrap_or_default(),
                -inv.amount
            ))
        }
        Some(i) => {
            outcome.purchase_order = i.order.clone();
            outcome.credits = Some((i.number.clone(), i.id.clone()));
        }
    }
}

/// An invoice with its credit notes set off: what is left to pay (the amounts add up;
/// credit notes' amounts are negative). Overflow leaves the invoice as it is.
pub fn set_off(inv: &Invoice, credit_notes: &[Invoice]) -> Invoice {
    let mut out = inv.clone();
    for c in credit_notes {
        let (Some(a), Some(e), Some(i)) = (
            out.amount.checked_add(c.amount),
            out.amount_excl_vat.checked_add(c.amount_excl_vat),
            out.amount_incl_vat.checked_add(c.amount_incl_vat),
        ) else {
            return inv.clone();
        };
        (out.amount, out.amount_excl_vat, out.amount_incl_vat) = (a, e, i);
    }
    out
}

/// The payment proposal for matched invoices on `date`: withholdings per the project's
/// `payment.scheduled` rules, checked against `debts` on that date.
pub fn propose_payments(
    project: &CompiledProject,
    invoices: &[Invoice],
    matches: &[MatchOutcome],
    orders: &[PurchaseOrder],
    debts: &dyn Debts,
    date: &str,
) -> Vec<Payment> {
    propose_payments_after(
        project,
        invoices,
        matches,
        orders,
        debts,
        date,
        BTreeMap::new(),
    )
}

/// What was already withheld per (supplier, payment date, agency) by earlier proposals:
/// an attest caps a supplier's withholdings on a day across payment runs too.
pub type Withheld = BTreeMap<(String, String, String), Decimal>;

/// [`propose_payments`], counting what earlier runs of the same day withheld.
pub fn propose_payments_after(
    project: &CompiledProject,
    invoices: &[Invoice],
    matches: &[MatchOutcome],
    orders: &[PurchaseOrder],
    debts: &dyn Debts,
    date: &str,
    earlier: Withheld,
) -> Vec<Payment> {
    propose_payments_known(
        project,
        invoices,
        matches,
        orders,
        debts,
        date,
        earlier,
        &mut KnownAccounts::new(),
    )
}

/// Per supplier: the IBAN it was last paid on, and the date.
pub type KnownAccounts = BTreeMap<String, (String, String)>;

/// Why the money cannot go to the invoice's account: its check digits fail, or it is not
/// the account the supplier was paid on before (a person confirms a new one).
fn account_problem(inv: &Invoice, iban: Option<&str>, known: &KnownAccounts) -> Option<String> {
    let iban = iban?;
    if !sepa::iban_valid(iban) {
        return Some(format!(
            "the IBAN on the invoice (`{iban}`) fails its check digits: a person checks it"
        ));
    }
    if let Some(b) = inv.bic.as_deref()
        && !sepa::bic_valid(b)
    {
        return Some(format!(
            "the BIC on the invoice (`{b}`) is not a BIC: a person checks it"
        ));
    }
    match known.get(&inv.supplier) {
        Some((before, when)) if before != iban => Some(format!(
            "the IBAN changed: {} was paid on {before} (on {when}), this invoice asks for {iban}; a person confirms the new account with the supplier (the classic invoice fraud)",
            inv.supplier_name
        )),
        _ => None,
    }
}

/// [`propose_payments_after`], knowing the accounts suppliers were paid on before (and
/// learning the accounts of the payments it proposes).
#[allow(clippy::too_many_arguments)]
pub fn propose_payments_known(
    project: &CompiledProject,
    invoices: &[Invoice],
    matches: &[MatchOutcome],
    orders: &[PurchaseOrder],
    debts: &dyn Debts,
    date: &str,
    earlier: Withheld,
    accounts: &mut KnownAccounts,
) -> Vec<Payment> {
    let mut out = Vec::new();
    let mut capped = earlier;
    let by_ref = orders::by_reference(orders);
    for (inv, m) in invoices.iter().zip(matches) {
        let Some(po) = m
            .purchase_order
            .as_deref()
            .and_then(|r| by_ref.get(&imports::normalise_number(r)).copied())
        else {
            continue;
        };
        if m.queue.is_some() {
            continue;
        }
        // The base of every withholding: the amount excl. VAT of this payment.
        let base = excl_vat_paid_now(inv);
        let payment = BTreeMap::from([
            ("supplier".into(), text(&inv.supplier)),
            ("supplier_name".into(), text(&inv.supplier_name)),
            ("invoice_number".into(), text(&inv.number)),
            ("category".into(), text(&po.category)),
            ("date".into(), text(date)),
            ("amount".into(), V::Num(inv.amount)),
            ("amount_excl_vat".into(), V::Num(base)),
        ]);
        let mut run = Run {
            orders: &[],
            index: None,
            debts: Some(debts),
            fx: Effects {
                capped: capped.clone(),
                ..Effects::default()
            },
        };
        for rule in rules(project, "payment.scheduled") {
            let mut env = Records::default();
            env.records.insert("payment".into(), payment.clone());
            if rule.when.as_ref().is_none_or(|w| holds(w, &env)) {
                run.block(&rule.body, &mut env);
            }
        }
        let total: Decimal = run.fx.withheld.values().sum();
        let mut blocked = run.fx.blocked.clone();
        // The account and reference the money goes to: check digits, and the account
        // the supplier was paid on before (another one is the classic invoice fraud).
        let iban = inv.iban.as_deref().map(sepa::normalise_iban);
        let mut structured = None;
        if blocked.is_none() {
            blocked = account_problem(inv, iban.as_deref(), accounts);
        }
        if blocked.is_none()
            && let Some(reference) = &inv.payment_id
        {
            match sepa::structured_communication(reference) {
                Some(Ok(digits)) => structured = Some(digits),
                Some(Err(why)) => blocked = Some(format!("{why}: a person checks it")),
                None => {}
            }
        }
        if blocked.is_none() && inv.amount <= Decimal::ZERO && !inv.credit_note {
            blocked = Some(format!(
                "nothing is due ({} after prepayments and credit notes): a person decides",
                inv.amount
            ));
        }
        if blocked.is_none() && total > inv.amount && !inv.credit_note {
            blocked = Some(format!(
                "the withholdings ({total}) exceed the amount due ({}, after prepayments): a person must decide",
                inv.amount
            ));
        }
        // Only the withholdings of a payment actually proposed count against an attest:
        // a blocked payment withholds nothing, so it uses none of the day's cap.
        if blocked.is_none() {
            capped = std::mem::take(&mut run.fx.capped);
            if let Some(i) = &iban {
                accounts.insert(inv.supplier.clone(), (i.clone(), date.to_string()));
            }
        }
        out.push(Payment {
            invoice: inv.number.clone(),
            supplier: inv.supplier.clone(),
            supplier_name: inv.supplier_name.clone(),
            amount: inv.amount,
            amount_excl_vat: base,
            to_supplier: if blocked.is_some() {
                Decimal::ZERO
            } else {
                inv.amount - total
            },
            withheld: if blocked.is_some() {
                BTreeMap::new()
            } else {
                run.fx.withheld
            },
            blocked,
            checks: run.fx.checks,
            set_off: Vec::new(),
            iban,
            bic: inv.bic.clone(),
            structured,
            payee: inv.payee.clone(),
        });
    }
    out
}

/// The amount excl. VAT of what is paid now: the invoice's total excl. VAT, or with
/// prepayments its share in what is still due (`excl × payable ÷ incl`, to the cent). A
/// rounding amount alone changes nothing. Never panics: an overflow gives the total.
pub fn excl_vat_paid_now(inv: &Invoice) -> Decimal {
    if inv.prepaid.is_zero() || inv.amount_incl_vat.is_zero() {
        return inv.amount_excl_vat;
    }
    inv.amount_excl_vat
        .checked_mul(inv.amount)
        .and_then(|x| x.checked_div(inv.amount_incl_vat))
        .map_or(inv.amount_excl_vat, cents)
}

/// What an integration event (decision, permit, certificate request) asks for.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EventOutcome {
    /// Flows to start, with their field values.
    pub start: Vec<(String, BTreeMap<String, Value>)>,
    /// Manual queue and reason.
    pub queue: Option<(String, String)>,
}

/// Runs the project's rules for `event` on a JSON record (typed by the event's built-in
/// record: amounts become exact decimals).
pub fn run_event(
    project: &CompiledProject,
    event: &str,
    data: &serde_json::Map<String, Value>,
) -> Result<EventOutcome, String> {
    let (_, binder, record) = paraaf_compiler::check::types::EVENTS
        .iter()
        .find(|(e, _, _)| *e == event)
        .ok_or_else(|| format!("unknown event `{event}`"))?;
    let types = paraaf_compiler::check::types::builtin_fields(record).unwrap_or_default();
    let mut fields = BTreeMap::new();
    use paraaf_compiler::check::types::Ty;
    for (name, ty) in &types {
        let v = match (data.get(*name), ty.unwrap_optional()) {
            (None | Some(Value::Null), _) if matches!(ty, Ty::Optional(_)) => V::None,
            (None | Some(Value::Null), _) => return Err(format!("`{name}` is missing")),
            (Some(Value::Bool(b)), _) => V::Bool(*b),
            (Some(v), Ty::Money | Ty::Number) => {
                let t = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                V::Num(
                    Decimal::from_str_exact(&t)
                        .map_err(|_| format!("`{name}`: `{t}` is not an amount"))?,
                )
            }
            (Some(Value::String(s)), _) => V::Text(s.clone()),
            (Some(other), _) => return Err(format!("`{name}`: unexpected {other}")),
        };
        fields.insert(name.to_string(), v);
    }
    let mut out = EventOutcome::default();
    for rule in rules(project, event) {
        let mut env = Records::default();
        env.records.insert(binder.to_string(), fields.clone());
        if rule.when.as_ref().is_none_or(|w| holds(w, &env)) {
            let mut run = Run {
                orders: &[],
                index: None,
                debts: None,
                fx: Effects::default(),
            };
            run.block(&rule.body, &mut env);
            out.start.extend(run.fx.start);
            if run.fx.queue.is_some() {
                out.queue = run.fx.queue;
            }
        }
    }
    Ok(out)
}
