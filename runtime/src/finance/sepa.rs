//! SEPA credit transfers for a payment proposal: an ISO 20022 `pain.001.001.09` file as
//! Belgian banks take it (Febelfin guidelines): one transfer per supplier payment (to the
//! invoice's IBAN, with its Belgian structured communication when it has one) and one per
//! withheld amount to its agency (RSZ, FOD Financiën) with the agency's reference. Also the
//! checks on what goes in: IBAN check digits (ISO 13616 mod 97), BIC form, structured
//! communication check digits (mod 97).

use super::Payment;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Why banks execute no credit transfer on `day`: a weekend or a closing day of TARGET2
/// (1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December), when SEPA
/// transfers are not settled; `None` on a bank day.
pub fn bank_closed(day: NaiveDate) -> Option<&'static str> {
    use chrono::{Datelike, Weekday};
    let easter = crate::workdays::easter(day.year());
    match (day.weekday(), day.month(), day.day()) {
        (Weekday::Sat | Weekday::Sun, _, _) => Some("a weekend day"),
        (_, 1, 1) => Some("New Year's Day (TARGET2 closed)"),
        (_, 5, 1) => Some("Labour Day (TARGET2 closed)"),
        (_, 12, 25 | 26) => Some("Christmas (TARGET2 closed)"),
        _ if day == easter - chrono::Duration::days(2) => Some("Good Friday (TARGET2 closed)"),
        _ if day == easter + chrono::Duration::days(1) => Some("Easter Monday (TARGET2 closed)"),
        _ => None,
    }
}

/// The first bank day on or after `day`.
pub fn next_bank_day(day: NaiveDate) -> NaiveDate {
    day.iter_days()
        .find(|d| bank_closed(*d).is_none())
        .unwrap_or(day)
}

/// An IBAN without spaces, in upper case.
pub fn normalise_iban(iban: &str) -> String {
    iban.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether `iban` (normalised) is an IBAN: two letters, two check digits, up to 30
/// letters or digits (a Belgian one has 16 characters), check digits 02 to 98, and mod
/// 97 of the rearranged number is 1.
pub fn iban_valid(iban: &str) -> bool {
    let b = iban.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        || (iban.starts_with("BE") && b.len() != 16)
    {
        return false;
    }
    // Check digits are 02 to 98 (00, 01 and 99 pass mod 97 but are never issued).
    let check = u32::from(b[2] - b'0') * 10 + u32::from(b[3] - b'0');
    if !(2..=98).contains(&check) {
        return false;
    }
    let mut rest: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rest = if v >= 10 {
            (rest * 100 + v) % 97
        } else {
            (rest * 10 + v) % 97
        };
    }
    rest == 1
}

/// Whether `bic` has the form of a BIC: 4 letters (bank), 2 (country), 2 letters or
/// digits (place), optionally 3 more (branch).
pub fn bic_valid(bic: &str) -> bool {
    let b = bic.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A Belgian structured communication (`+++123/4567/89012+++`, `***…***`, or the 12
/// digits), if `text` is written as one: `Some(Ok(digits))` when its check digits hold
/// (the first ten mod 97, 97 for 0, are the last two), `Some(Err(why))` when not, `None`
/// when it is free text.
pub fn structured_communication(text: &str) -> Option<Result<String, String>> {
    let t = text.trim();
    let inner = t
        .strip_prefix("+++")
        .and_then(|r| r.strip_suffix("+++"))
        .or_else(|| t.strip_prefix("***").and_then(|r| r.strip_suffix("***")));
    let digits: String = inner.unwrap_or(t).chars().filter(|c| *c != '/').collect();
    let looks = inner.is_some() || (digits.len() == 12 && t.len() == 12);
    if !looks {
        return None;
    }
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(Err(format!(
            "`{text}` is not a structured communication (12 digits)"
        )));
    }
    let base: u64 = digits[..10].parse().unwrap_or(0);
    let check: u64 = digits[10..].parse().unwrap_or(0);
    let expected = match base % 97 {
        0 => 97,
        r => r,
    };
    if check == expected {
        Some(Ok(digits))
    } else {
        Some(Err(format!(
            "the structured communication `{text}` fails its check digits ({check}, expected {expected:02})"
        )))
    }
}

/// A bank account of the city or an agency.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The holder's name.
    pub name: String,
    /// IBAN.
    pub iban: String,
    /// BIC.
    pub bic: String,
    /// For an agency: the reference its transfers carry (before the supplier and invoice).
    #[serde(default)]
    pub reference: Option<String>,
}

/// The accounts file of `finance pay --accounts`: the city's account (the debtor) and
/// one per agency of the project.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// The city's account, which pays.
    pub debtor: Account,
    /// Per agency (the name in the rules): its account and reference.
    pub agencies: BTreeMap<String, Account>,
}

impl Accounts {
    /// Reads the file; every account is checked (IBAN check digits, BIC form) and every
    /// agency of `agencies` must have one with a reference.
    pub fn open(path: &std::path::Path, agencies: &[String]) -> Result<Accounts, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut a: Accounts = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not an accounts file: {e}", path.display()))?;
        let named = std::iter::once(("the city (debtor)".to_string(), &mut a.debtor))
            .chain(a.agencies.iter_mut().map(|(n, acc)| (n.clone(), acc)));
        for (who, acc) in named {
            acc.iban = normalise_iban(&acc.iban);
            if !iban_valid(&acc.iban) {
                return Err(format!(
                    "{}: the IBAN of {who} (`{}`) fails its check digits",
                    path.display(),
                    acc.iban
                ));
            }
            if !bic_valid(&acc.bic) {
                return Err(format!(
                    "{}: the BIC of {who} (`{}`) is not a BIC",
                    path.display(),
                    acc.bic
                ));
            }
        }
        for agency in agencies {
            match a.agencies.get(agency) {
                None => {
                    return Err(format!(
                        "{}: no account for the agency `{agency}`: its withholdings could not be transferred",
                        path.display()
                    ));
                }
                Some(acc) if acc.reference.as_deref().is_none_or(str::is_empty) => {
                    return Err(format!(
                        "{}: the agency `{agency}` has no reference for its transfers",
                        path.display()
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(a)
    }
}

/// One credit transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// End-to-end id (at most 35 characters): the run's date and unique part and the
    /// transfer's position in the file ([`end_to_end`]), unique per transfer and run.
    pub end_to_end: String,
    /// The index in the payments of the payment it belongs to (its invoice number is in
    /// the remittance text).
    pub payment: usize,
    /// Amount in EUR.
    pub amount: Decimal,
    /// Who receives it.
    pub name: String,
    /// Their IBAN.
    pub iban: String,
    /// Their BIC, if known.
    pub bic: Option<String>,
    /// A Belgian structured communication (12 digits), else free text.
    pub structured: Option<String>,
    /// The free text (when not structured).
    pub text: String,
}

/// The end-to-end id of the `n`th transfer (from 1) of pay run `run`
/// (`PARAAF-20261123-e7bf3df1ed992612` gives `20261123-e7bf3df1ed992612-1`): unique per
/// transfer in the file and, as the run id is, across runs; at most 35 characters in
/// the SEPA character set. A returned transfer (R-message) names the run and position.
pub fn end_to_end(run: &str, n: usize) -> String {
    let tail = run.strip_prefix("PARAAF-").unwrap_or(run);
    let suffix = format!("-{n}");
    let keep = 35usize.saturating_sub(suffix.len());
    let head: String = id35(tail).chars().take(keep).collect();
    format!("{head}{suffix}")
}

/// The transfers of the proposed payments (not blocked, with an IBAN) of pay run `run`:
/// the supplier's part and each agency's, each with its own end-to-end id
/// ([`end_to_end`]) and the invoice number in its remittance text. Payments without an
/// IBAN are left out (returned by invoice number, for a person to pay).
pub fn transfers(
    payments: &[Payment],
    accounts: &Accounts,
    run: &str,
) -> (Vec<Transfer>, Vec<String>) {
    let mut out: Vec<Transfer> = Vec::new();
    let mut left_out = Vec::new();
    for (i, p) in payments
        .iter()
        .enumerate()
        .filter(|(_, p)| p.blocked.is_none())
    {
        let Some(iban) = &p.iban else {
            left_out.push(p.invoice.clone());
            continue;
        };
        if p.to_supplier > Decimal::ZERO {
            out.push(Transfer {
                end_to_end: end_to_end(run, out.len() + 1),
                payment: i,
                amount: p.to_supplier,
                name: p.payee.clone().unwrap_or_else(|| p.supplier_name.clone()),
                iban: iban.clone(),
                bic: p.bic.clone(),
                structured: p.structured.clone(),
                text: format!("Factuur {}", p.invoice),
            });
        }
        for (agency, amount) in p.withheld.iter().filter(|(_, a)| **a > Decimal::ZERO) {
            let Some(acc) = accounts.agencies.get(agency) else {
                continue;
            };
            out.push(Transfer {
                end_to_end: end_to_end(run, out.len() + 1),
                payment: i,
                amount: *amount,
                name: acc.name.clone(),
                iban: acc.iban.clone(),
                bic: Some(acc.bic.clone()),
                structured: None,
                text: format!(
                    "{} KBO {} factuur {}",
                    acc.reference.as_deref().unwrap_or_default(),
                    p.supplier,
                    p.invoice
                ),
            });
        }
    }
    (out, left_out)
}

/// Text in the SEPA character set (Latin letters, digits, `/ - ? : ( ) . , ' +` and
/// space): anything else becomes a space, spaces are collapsed, at most `max` characters.
fn sepa_text(s: &str, max: usize) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/-?:().,'+".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    mapped
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

/// An id of at most 35 characters, without spaces, never starting with `/` or holding `//`.
fn id35(s: &str) -> String {
    let t: String = sepa_text(s, 35).replace([' ', '/'], "-");
    if t.is_empty() {
        "NOTPROVIDED".into()
    } else {
        t
    }
}

/// The `pain.001.001.09` file of pay run `run`: one payment information block paying
/// `transfers` from `debtor` on `date`, created at `created` (`YYYY-MM-DDThh:mm:ss`); the
/// control sums add the amounts. The message id is the run id (unique per run, and the
/// name the operator checks with the bank), the payment information id the run id and
/// `-1`.
pub fn pain001(
    debtor: &Account,
    run: &str,
    date: &str,
    created: &str,
    transfers: &[Transfer],
) -> String {
    let sum: Decimal = transfers.iter().map(|t| t.amount).sum();
    let msg_id: String = id35(run).chars().take(33).collect();
    let name = |n: &str| sepa_text(n, 70);
    let mut x = String::new();
    x.push_str(&format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>{msg_id}</MsgId>
      <CreDtTm>{created}</CreDtTm>
      <NbOfTxs>{n}</NbOfTxs>
      <CtrlSum>{sum:.2}</CtrlSum>
      <InitgPty><Nm>{debtor_name}</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>{msg_id}-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>{n}</NbOfTxs>
      <CtrlSum>{sum:.2}</CtrlSum>
      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>
      <ReqdExctnDt><Dt>{date}</Dt></ReqdExctnDt>
      <Dbtr><Nm>{debtor_name}</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>{debtor_iban}</IBAN></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BICFI>{debtor_bic}</BICFI></FinInstnId></DbtrAgt>
      <ChrgBr>SLEV</ChrgBr>
"#,
        n = transfers.len(),
        debtor_name = escape(&name(&debtor.name)),
        debtor_iban = debtor.iban,
        debtor_bic = debtor.bic,
    ));
    for t in transfers {
        let agent = t
            .bic
            .as_ref()
            .filter(|b| bic_valid(b))
            .map(|b| {
                format!("\n        <CdtrAgt><FinInstnId><BICFI>{b}</BICFI></FinInstnId></CdtrAgt>")
            })
            .unwrap_or_default();
        let remittance = match &t.structured {
            Some(digits) => format!(
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>BBA</Issr></Tp><Ref>{digits}</Ref></CdtrRefInf><AddtlRmtInf>{}</AddtlRmtInf></Strd>",
                escape(&sepa_text(&t.text, 140))
            ),
            None => format!("<Ustrd>{}</Ustrd>", escape(&sepa_text(&t.text, 140))),
        };
        x.push_str(&format!(
            r#"      <CdtTrfTxInf>
        <PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="EUR">{amount:.2}</InstdAmt></Amt>{agent}
        <Cdtr><Nm>{name}</Nm></Cdtr>
        <CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>
        <RmtInf>{remittance}</RmtInf>
      </CdtTrfTxInf>
"#,
            e2e = escape(&t.end_to_end),
            amount = t.amount,
            name = escape(&name(&t.name)),
            iban = t.iban,
        ));
    }
    x.push_str("    </PmtInf>\n  </CstmrCdtTrfInitn>\n</Document>\n");
    x
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banks_execute_on_target2_days_only() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(bank_closed(d("2026-12-07")), None);
        assert_eq!(bank_closed(d("2026-12-05")), Some("a weekend day"));
        assert!(bank_closed(d("2026-04-03")).is_some_and(|w| w.contains("Good Friday")));
        assert!(bank_closed(d("2026-04-06")).is_some_and(|w| w.contains("Easter Monday")));
        assert_eq!(next_bank_day(d("2026-12-25")), d("2026-12-28"));
        // A Belgian public holiday that TARGET2 keeps open (21 July) is a bank day.
        assert_eq!(bank_closed(d("2026-07-21")), None);
    }

    #[test]
    fn end_to_end_ids_name_the_run_and_position_within_35_characters() {
        let run = "PARAAF-20261123-e7bf3df1ed992612";
        assert_eq!(end_to_end(run, 1), "20261123-e7bf3df1ed992612-1");
        assert_ne!(end_to_end(run, 1), end_to_end(run, 2));
        assert_ne!(
            end_to_end(run, 1),
            end_to_end("PARAAF-20261123-0123456789abcdef", 1)
        );
        let long = end_to_end(&"x".repeat(60), 123_456);
        assert_eq!(long.chars().count(), 35);
        assert!(long.ends_with("-123456"), "{long}");
    }
}
