//! The social/tax debts connector: an HTTP service or a local file, behind one trait.

use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the debts service says about a supplier on a date.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct DebtsAnswer {
    /// Social-security debt (RSZ).
    #[serde(default)]
    pub social_debt: Decimal,
    /// Tax debt (FOD Financiën).
    #[serde(default)]
    pub tax_debt: Decimal,
    /// Unpaid social contributions as self-employed (RSVZ).
    #[serde(default)]
    pub self_employed_debt: Decimal,
    /// A certificate (attest) stating a smaller social debt, if handed in.
    #[serde(default)]
    pub social_attest: Option<Decimal>,
    /// A certificate stating a smaller tax debt, if handed in.
    #[serde(default)]
    pub tax_attest: Option<Decimal>,
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
        let map = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a debts file: {e}", path.display()))?;
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
                    return serde_json::from_str(&raw)
                        .map(|a| (a, raw.clone()))
                        .map_err(|e| format!("unexpected answer: {e}"));
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
