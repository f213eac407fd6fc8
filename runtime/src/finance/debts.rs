//! The social/tax debts connector: an HTTP service or a local file, behind one trait.

use rust_decimal::Decimal;
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the debts service says about a supplier on a date. Strict: the three debts are
/// required and nothing else is accepted (`[]`, `{}`, `{"error": ...}`, camelCase or a
/// typo never read as "no debts": the payment is blocked instead).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DebtsAnswer {
    /// Social-security debt (RSZ).
    pub social_debt: Decimal,
    /// Tax debt (FOD Financiën).
    pub tax_debt: Decimal,
    /// Unpaid social contributions as self-employed (RSVZ).
    pub self_employed_debt: Decimal,
    /// A certificate (attest) stating a smaller social debt, if handed in.
    #[serde(default)]
    pub social_attest: Option<Decimal>,
    /// A certificate stating a smaller tax debt, if handed in.
    #[serde(default)]
    pub tax_attest: Option<Decimal>,
    /// The enterprise the answer is about (required from a service; in a file the entry's
    /// key names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kbo: Option<String>,
    /// The date the answer is valid for (required from a service; in a file, the file's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl DebtsAnswer {
    /// Debts and attests are never negative.
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            Some(self.social_debt),
            Some(self.tax_debt),
            Some(self.self_employed_debt),
            self.social_attest,
            self.tax_attest,
        ];
        if all.iter().flatten().any(|d| d.is_sign_negative()) {
            return Err("a debt or attest is negative".into());
        }
        Ok(())
    }
}

/// A source of debt information.
pub trait Debts {
    /// Checks `kbo` on `date` (YYYY-MM-DD). Returns the answer and the raw response, or
    /// why the check could not be done (the payment is then blocked).
    fn check(&self, kbo: &str, date: &str) -> Result<(DebtsAnswer, String), String>;
    /// Describes the request for the audit log.
    fn describe(&self, kbo: &str, date: &str) -> String;
    /// The date of a statement that holds for one date only (a debts file): where it
    /// comes from and its date (YYYY-MM-DD); `None` for a source asked per date.
    fn stated_on(&self) -> Option<(&str, &str)> {
        None
    }
}

/// A debts file: a statement of one date naming every supplier it is used for:
/// `{ "date": "2026-11-23", "suppliers": { "0123456789": { "social_debt": "1200.00", ... } } }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DebtsFile {
    date: String,
    suppliers: BTreeMap<String, DebtsAnswer>,
}

/// Debts from a dated JSON file. A supplier it does not name, or a payment on another day
/// than the file's date, is blocked with the reason: never "no debts".
pub struct FileDebts {
    map: BTreeMap<String, DebtsAnswer>,
    path: String,
    date: String,
}

impl FileDebts {
    /// Reads the file; refuses one without a date, with an entry twice, or with an entry
    /// that is not an enterprise number or a well-formed answer.
    pub fn open(path: &std::path::Path) -> Result<FileDebts, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: DebtsFile = serde_json::from_str(&text).map_err(|e| {
            let dated = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .is_some_and(|v| v.get("date").is_some());
            if dated {
                format!("{} is not a debts file: {e}", path.display())
            } else {
                format!(
                    "{} is not a dated debts file ({e}): write {{\"date\": \"YYYY-MM-DD\", \"suppliers\": {{\"0123456789\": {{\"social_debt\": \"0.00\", \"tax_debt\": \"0.00\", \"self_employed_debt\": \"0.00\"}}}}}}, one entry per supplier paid, as stated on that date",
                    path.display()
                )
            }
        })?;
        if !paraaf_model::valid_date(&file.date) {
            return Err(format!(
                "{}: `{}` is not a date (YYYY-MM-DD)",
                path.display(),
                file.date
            ));
        }
        for (kbo, a) in &file.suppliers {
            // serde keeps the last of two equal keys: a second entry must not erase a debt.
            if text.matches(&format!("\"{kbo}\"")).count() > 1 {
                return Err(format!(
                    "{}: `{kbo}` appears more than once",
                    path.display()
                ));
            }
            if kbo.len() != 10 || !kbo.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "{}: `{kbo}` is not an enterprise number (10 digits, no `BE`, dots or spaces)",
                    path.display()
                ));
            }
            if a.kbo.as_ref().is_some_and(|k| k != kbo)
                || a.date.as_ref().is_some_and(|d| *d != file.date)
            {
                return Err(format!(
                    "{}: the entry of `{kbo}` names another enterprise or date",
                    path.display()
                ));
            }
            a.validate()
                .map_err(|why| format!("{}: {kbo}: {why}", path.display()))?;
        }
        Ok(FileDebts {
            map: file.suppliers,
            path: path.display().to_string(),
            date: file.date,
        })
    }
}

impl Debts for FileDebts {
    fn check(&self, kbo: &str, date: &str) -> Result<(DebtsAnswer, String), String> {
        if date != self.date {
            return Err(format!(
                "the debts file {} states the debts of {}, not of the payment date {date}",
                self.path, self.date
            ));
        }
        let a = self.map.get(kbo).cloned().ok_or_else(|| {
            format!(
                "the debts file {} ({}) does not name the supplier {kbo}",
                self.path, self.date
            )
        })?;
        let raw = serde_json::to_string(&a).unwrap_or_default();
        Ok((a, raw))
    }

    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("file {} of {} kbo={kbo} date={date}", self.path, self.date)
    }

    fn stated_on(&self) -> Option<(&str, &str)> {
        Some((&self.path, &self.date))
    }
}

/// Checks in a row without an answer (timeouts, refused connections, HTTP 5xx) after which
/// the debts service is not asked again in this run.
pub const BREAKER_AFTER: u32 = 3;

/// Debts over HTTP: `GET {endpoint}/debts/{kbo}?date=YYYY-MM-DD` answering JSON that names
/// the enterprise and the date (`"kbo"`, `"date"`). Redirects are refused; after
/// [`BREAKER_AFTER`] checks in a row without an answer the service is not asked again and
/// every further check is blocked with the reason (a circuit breaker).
pub struct HttpDebts {
    /// Base URL.
    pub endpoint: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Extra attempts after a failure.
    pub retries: u32,
    /// Checks in a row without an answer, and the last reason.
    dead: RefCell<(u32, String)>,
}

impl HttpDebts {
    /// A connector to `endpoint`.
    pub fn new(endpoint: impl Into<String>, timeout: Duration, retries: u32) -> HttpDebts {
        HttpDebts {
            endpoint: endpoint.into(),
            timeout,
            retries,
            dead: RefCell::new((0, String::new())),
        }
    }

    fn url(&self, kbo: &str) -> String {
        format!("{}/debts/{kbo}", self.endpoint.trim_end_matches('/'))
    }

    /// One check, retried on failures that are not an answer.
    fn ask(&self, kbo: &str, date: &str) -> Result<(DebtsAnswer, String), (bool, String)> {
        let agent = ureq::AgentBuilder::new()
            .timeout(self.timeout)
            .redirects(0)
            .build();
        let url = self.url(kbo);
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 * attempt as u64));
            }
            match agent.get(&url).query("date", date).call() {
                Ok(resp) if resp.status() != 200 => {
                    // A redirect is never followed: another host answering "no debts"
                    // would pay a debtor in full.
                    let status = resp.status();
                    let to = resp.header("location").unwrap_or("nowhere").to_string();
                    return Err((
                        false,
                        if (300..400).contains(&status) {
                            format!(
                                "the debts service answered HTTP {status} (a redirect to {to}): redirects are refused"
                            )
                        } else {
                            format!("the debts service answered HTTP {status}, not 200")
                        },
                    ));
                }
                Ok(resp) => {
                    let raw = resp
                        .into_string()
                        .map_err(|e| (false, format!("unreadable answer: {e}")))?;
                    let answer: DebtsAnswer = serde_json::from_str(&raw).map_err(|e| {
                        (
                            false,
                            format!(
                                "unexpected answer from the debts service ({e}): the payment is blocked; answer: {}",
                                short(&raw)
                            ),
                        )
                    })?;
                    answer.validate().map_err(|why| {
                        (
                            false,
                            format!("unexpected answer: {why}; answer: {}", short(&raw)),
                        )
                    })?;
                    if answer.kbo.as_deref() != Some(kbo) || answer.date.as_deref() != Some(date) {
                        return Err((
                            false,
                            format!(
                                "the answer does not name {kbo} on {date} (kbo {:?}, date {:?}): an answer must say whom and which day it is about; answer: {}",
                                answer.kbo.as_deref().unwrap_or("missing"),
                                answer.date.as_deref().unwrap_or("missing"),
                                short(&raw)
                            ),
                        ));
                    }
                    return Ok((answer, raw));
                }
                Err(ureq::Error::Status(code, _)) if code < 500 => {
                    return Err((false, format!("the debts service answered HTTP {code}")));
                }
                Err(ureq::Error::Status(code, _)) => {
                    last = format!("the debts service answered HTTP {code}")
                }
                Err(e) => last = format!("the debts service cannot be reached: {e}"),
            }
        }
        Err((
            true,
            format!("{last} (after {} attempts)", self.retries + 1),
        ))
    }
}

/// At most 300 characters of an answer, for reasons and the audit log.
pub fn short(raw: &str) -> String {
    let mut s: String = raw.chars().take(300).collect();
    if s.len() < raw.len() {
        s.push('…');
    }
    s
}

impl Debts for HttpDebts {
    fn check(&self, kbo: &str, date: &str) -> Result<(DebtsAnswer, String), String> {
        {
            let dead = self.dead.borrow();
            if dead.0 >= BREAKER_AFTER {
                return Err(format!(
                    "the debts service did not answer {} checks in a row (last: {}): it is not asked again in this run",
                    dead.0, dead.1
                ));
            }
        }
        match self.ask(kbo, date) {
            Ok(a) => {
                *self.dead.borrow_mut() = (0, String::new());
                Ok(a)
            }
            Err((no_answer, why)) => {
                let mut dead = self.dead.borrow_mut();
                *dead = if no_answer {
                    (dead.0 + 1, why.clone())
                } else {
                    (0, String::new())
                };
                Err(why)
            }
        }
    }

    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("GET {}?date={date}", self.url(kbo))
    }
}
