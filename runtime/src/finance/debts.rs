//! The social/tax debts connector: an HTTP service or a local file, behind one trait.

use rust_decimal::Decimal;
use serde::Deserialize;
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
}

/// Debts from a JSON file: `{ "0123456789": { "social_debt": "1200.00", ... } }`.
pub struct FileDebts {
    map: BTreeMap<String, DebtsAnswer>,
    path: String,
}

impl FileDebts {
    /// Reads the file.
    pub fn open(path: &std::path::Path) -> Result<FileDebts, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let map: BTreeMap<String, DebtsAnswer> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a debts file: {e}", path.display()))?;
        for (kbo, a) in &map {
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
            a.validate()
                .map_err(|why| format!("{}: {kbo}: {why}", path.display()))?;
        }
        Ok(FileDebts {
            map,
            path: path.display().to_string(),
        })
    }
}

impl Debts for FileDebts {
    fn check(&self, kbo: &str, _date: &str) -> Result<(DebtsAnswer, String), String> {
        let a = self.map.get(kbo).cloned().unwrap_or_default();
        let raw = serde_json::to_string(&a).unwrap_or_default();
        Ok((a, raw))
    }

    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("file {} kbo={kbo} date={date}", self.path)
    }
}

/// Debts over HTTP: `GET {endpoint}/debts/{kbo}?date=YYYY-MM-DD` answering JSON.
pub struct HttpDebts {
    /// Base URL.
    pub endpoint: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Extra attempts after a failure.
    pub retries: u32,
}

impl Debts for HttpDebts {
    fn check(&self, kbo: &str, date: &str) -> Result<(DebtsAnswer, String), String> {
        let agent = ureq::AgentBuilder::new().timeout(self.timeout).build();
        let url = format!("{}/debts/{kbo}", self.endpoint.trim_end_matches('/'));
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 * attempt as u64));
            }
            match agent.get(&url).query("date", date).call() {
                Ok(resp) => {
                    let raw = resp
                        .into_string()
                        .map_err(|e| format!("unreadable answer: {e}"))?;
                    let answer: DebtsAnswer = serde_json::from_str(&raw).map_err(|e| {
                        format!(
                            "unexpected answer from the debts service ({e}): the payment is blocked"
                        )
                    })?;
                    answer
                        .validate()
                        .map_err(|why| format!("unexpected answer: {why}"))?;
                    return Ok((answer, raw));
                }
                Err(ureq::Error::Status(code, _)) => {
                    last = format!("the debts service answered HTTP {code}")
                }
                Err(e) => last = format!("the debts service cannot be reached: {e}"),
            }
        }
        Err(format!("{last} (after {} attempts)", self.retries + 1))
    }

    fn describe(&self, kbo: &str, date: &str) -> String {
        format!(
            "GET {}/debts/{kbo}?date={date}",
            self.endpoint.trim_end_matches('/')
        )
    }
}
