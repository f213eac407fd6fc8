//! Pay runs the log no longer holds. A restore gives up the events after the backup's
//! head, and with them the proposals of a `finance pay` run whose SEPA file may already
//! be at the bank: its invoices must not be proposed again until a person has checked
//! with the bank. Such runs are found two ways: `admin restore` records the proposals it
//! gave up ([`lost_in`], [`record_restore`]), and `finance pay` reads the files of earlier
//! runs in the folder it writes to ([`in_folder`]). A person settles a run with
//! `--lost-run RUN=paid` or `RUN=unpaid` ([`Settlement`], [`settle`]).

use super::AppError;
use crate::Runtime;
use crate::engine::{Event, LostPayment, RuntimeError, State, lost_key};
use crate::store::Store;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A person's word on a lost pay run, after checking with the bank: `RUN=paid` (its
/// invoices are never proposed again) or `RUN=unpaid` (they are proposed once more).
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    /// The pay run (`PARAAF-20261208-…`).
    pub run: String,
    /// Whether the bank executed its transfers.
    pub paid: bool,
}

impl std::str::FromStr for Settlement {
    type Err = String;

    /// `RUN=paid` or `RUN=unpaid`.
    fn from_str(s: &str) -> Result<Settlement, String> {
        let (run, word) = s.split_once('=').unwrap_or((s, ""));
        let paid = match word.trim() {
            "paid" => true,
            "unpaid" => false,
            _ => {
                return Err(format!(
                    "--lost-run {s}: write RUN=paid or RUN=unpaid (what the bank says it did with that run's transfers)"
                ));
            }
        };
        Ok(Settlement {
            run: run.trim().to_string(),
            paid,
        })
    }
}

/// A pay run the log does not hold, with its payments and the files that hold them.
#[derive(Clone, Debug)]
pub struct LostRun {
    /// The pay run.
    pub run: String,
    /// Its proposed payments.
    pub payments: Vec<LostPayment>,
    /// Its files in the output folder (none when only a restore's record names it).
    pub files: Vec<PathBuf>,
}

impl LostRun {
    /// Its invoices, `F-1 (0123456749, 1210.00 EUR)`, comma-separated.
    pub fn invoices(&self) -> String {
        self.payments
            .iter()
            .map(|p| {
                format!(
                    "{} ({}, {} EUR)",
                    p.invoice(),
                    p.supplier(),
                    p.proposal
                        .get("amount")
                        .and_then(|a| a.as_str())
                        .unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The payment proposals in events `after + 1..` of `store` (the log a restore is about
/// to replace): each proposal recorded there, and each lost payment recorded there and
/// not settled as unpaid (a lost run stays lost across a second restore).
pub fn lost_in(store: &Store, after: u64, source: &str) -> Result<Vec<LostPayment>, RuntimeError> {
    let mut lost: Vec<LostPayment> = Vec::new();
    for (_, _, body) in store.events_after(after)? {
        let Ok(event) = serde_json::from_str::<Event>(&body) else {
            continue;
        };
        match event {
            Event::PaymentProposed { date, proposal, .. } => {
                // A credit note set off in a payment is no transfer of its own.
                if proposal.get("set_off_against").is_some() {
                    continue;
                }
                let run = proposal
                    .get("run")
                    .and_then(|r| r.as_str())
                    .unwrap_or("PARAAF-unnamed")
                    .to_string();
                lost.push(LostPayment {
                    run,
                    date,
                    proposal,
                    source: source.to_string(),
                });
            }
            Event::PaymentsLost { payments, .. } => lost.extend(payments),
            Event::LostRunSettled {
                run,
                paid,
                payments,
            } => {
                lost.retain(|p| p.run != run);
                if paid {
                    lost.extend(payments);
                }
            }
            _ => {}
        }
    }
    Ok(lost)
}

/// Records in the restored log the proposals the restore gave up with events `events`
/// (`8–12`): their invoices wait for a person ([`settle`]). Nothing to record: nothing
/// happens.
pub fn record_restore(
    runtime: &mut Runtime,
    events: &str,
    lost: Vec<LostPayment>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if lost.is_empty() {
        return Ok(());
    }
    runtime
        .execute(now, |e| {
            e.record_lost_payments(events, lost);
            Ok(())
        })
        .map_err(AppError::runtime(
            "recording the pay runs the restore gave up",
        ))
}

/// The lost pay runs in the state (recorded by a restore), not yet settled.
pub fn in_state(state: &State) -> Vec<LostRun> {
    by_run(
        state
            .lost_payments
            .values()
            .filter(|e| !e.confirmed_paid)
            .map(|e| &e.payment),
    )
}

/// `payments` grouped by their run.
pub fn by_run<'a>(payments: impl IntoIterator<Item = &'a LostPayment>) -> Vec<LostRun> {
    let mut runs: BTreeMap<String, LostRun> = BTreeMap::new();
    for p in payments {
        runs.entry(p.run.clone())
            .or_insert_with(|| LostRun {
                run: p.run.clone(),
                payments: Vec::new(),
                files: Vec::new(),
            })
            .payments
            .push(p.clone());
    }
    runs.into_values().collect()
}

/// The runs that paid each invoice in the log, by [`lost_key`] (`None`: a payment
/// without a run, or none).
fn paid_runs(state: &State) -> BTreeMap<String, Vec<Option<String>>> {
    let mut paid: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for i in state.invoices.values() {
        let (Some(supplier), Some(number), Some((_, p))) = (
            i.invoice.get("supplier").and_then(|v| v.as_str()),
            i.invoice.get("number").and_then(|v| v.as_str()),
            i.paid.as_ref(),
        ) else {
            continue;
        };
        paid.entry(lost_key(supplier, number))
            .or_default()
            .push(p.get("run").and_then(|v| v.as_str()).map(str::to_string));
    }
    paid
}

/// Whether the log holds the payment `key` by run `run` (`None`: a file written before
/// runs were named in it), or a person settled the run.
fn held(
    state: &State,
    paid: &BTreeMap<String, Vec<Option<String>>>,
    run: Option<&str>,
    key: &str,
) -> bool {
    if run.is_some_and(|r| state.settled_runs.contains_key(r)) {
        return true;
    }
    paid.get(key).is_some_and(|runs| {
        runs.iter()
            .any(|r| run.is_none_or(|run| r.as_deref() == Some(run)))
    })
}

/// The runs of the proposal files in `dir` (`proposal.json`, `proposal-N.json` and the
/// SEPA file beside each) whose payments the log does not hold: a restore gave them up,
/// or the files came from another database. `today` dates a file that names no date.
pub fn in_folder(dir: &Path, state: &State, today: NaiveDate) -> Vec<LostRun> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, String)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let suffix = name.strip_prefix("proposal")?.strip_suffix(".json")?;
            (suffix.is_empty()
                || suffix
                    .strip_prefix('-')
                    .is_some_and(|n| n.parse::<u32>().is_ok()))
            .then(|| (p.clone(), suffix.to_string()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Vec::new();
    }
    let paid = paid_runs(state);
    let mut runs: BTreeMap<String, LostRun> = BTreeMap::new();
    for (json, suffix) in files {
        let Ok(text) = std::fs::read_to_string(&json) else {
            continue;
        };
        let Ok(Value::Array(payments)) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        // A file written before runs were named in it is its own run.
        let unnamed = format!("file-{}", &crate::sha256_hex(text.as_bytes())[..16]);
        let pain = dir.join(format!("pain.001{suffix}.xml"));
        for p in payments {
            if !p.get("blocked").is_none_or(Value::is_null) {
                continue;
            }
            let named = p.get("run").and_then(|r| r.as_str()).map(str::to_string);
            let lost = LostPayment {
                run: named.clone().unwrap_or_else(|| unnamed.clone()),
                date: p
                    .get("date")
                    .and_then(|d| d.as_str())
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(today),
                proposal: p,
                source: format!("{}", json.display()),
            };
            if held(state, &paid, named.as_deref(), &lost.key()) {
                continue;
            }
            let run = runs.entry(lost.run.clone()).or_insert_with(|| LostRun {
                run: lost.run.clone(),
                payments: Vec::new(),
                files: Vec::new(),
            });
            for f in [&json, &pain] {
                if f.exists() && !run.files.contains(f) {
                    run.files.push(f.clone());
                }
            }
            run.payments.push(lost);
        }
    }
    runs.into_values().collect()
}

/// Records each settlement of a lost run found in `dir` or in the state: an error names
/// a run that is neither (nothing is recorded then).
pub fn settle(
    runtime: &mut Runtime,
    dir: &Path,
    settlements: &[Settlement],
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    if settlements.is_empty() {
        return Ok(Vec::new());
    }
    let state = runtime.state();
    let mut known = in_folder(dir, state, today);
    known.extend(in_state(state));
    let mut settled = Vec::new();
    for s in settlements {
        let mut payments: BTreeMap<String, LostPayment> = BTreeMap::new();
        for r in known.iter().filter(|r| r.run == s.run) {
            for p in &r.payments {
                payments
                    .entry(lost_key(p.supplier(), p.invoice()))
                    .or_insert_with(|| p.clone());
            }
        }
        if payments.is_empty() {
            return Err(AppError::Input(format!(
                "--lost-run {}: no pay run `{}` waits for a decision (not in {} nor recorded by a restore); nothing was recorded\nhelp: `paraaf finance pay` names the runs that wait, with their files and invoices",
                s.run,
                s.run,
                dir.display()
            )));
        }
        settled.push((s.clone(), payments.into_values().collect::<Vec<_>>()));
    }
    let lines = settled
        .iter()
        .map(|(s, p)| {
            format!(
                "recorded: pay run {} {} {} invoice(s), as a person confirmed with the bank",
                s.run,
                if s.paid {
                    "paid its"
                } else {
                    "did not pay its"
                },
                p.len()
            )
        })
        .collect();
    runtime
        .execute(now, |e| {
            for (s, payments) in settled {
                e.settle_lost_run(&s.run, s.paid, payments)?;
            }
            Ok(())
        })
        .map_err(AppError::runtime("recording the lost pay runs settled"))?;
    Ok(lines)
}

/// The refusal of a pay run into `dir` that holds `lost` runs' files: each run with its
/// files and invoices, and what to do.
pub fn refusal(dir: &Path, lost: &[LostRun]) -> AppError {
    let runs: Vec<String> = lost
        .iter()
        .map(|r| {
            format!(
                "pay run {} (files {}; invoices {})",
                r.run,
                r.files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                r.invoices()
            )
        })
        .collect();
    AppError::Input(format!(
        "{} holds the files of {} the log does not hold (a restore gave it up, or the files come from another database): its transfers may have gone to the bank, so its invoices are not proposed again; nothing was recorded: {}\nhelp: check with the bank whether it executed that run, then pay again with --lost-run RUN=paid (its invoices are recorded as paid and never proposed again) or --lost-run RUN=unpaid (they are proposed once more)",
        dir.display(),
        if lost.len() == 1 {
            "a pay run"
        } else {
            "pay runs"
        },
        runs.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settlement_is_run_equals_paid_or_unpaid() {
        let s: Settlement = "PARAAF-20261208-aa=paid".parse().unwrap();
        assert_eq!((s.run.as_str(), s.paid), ("PARAAF-20261208-aa", true));
        let s: Settlement = " PARAAF-20261208-aa = unpaid".parse().unwrap();
        assert_eq!((s.run.as_str(), s.paid), ("PARAAF-20261208-aa", false));
        for bad in ["PARAAF-20261208-aa", "PARAAF-20261208-aa=yes", "="] {
            let err = bad.parse::<Settlement>().unwrap_err();
            assert!(err.contains("RUN=paid or RUN=unpaid"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_folder_file_the_log_does_not_hold_is_a_lost_run() {
        let dir = std::env::temp_dir().join(format!("paraaf-lost-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let proposal = r#"[{"invoice":"F-1","supplier":"0123456749","amount":"1210.00","blocked":null,"run":"PARAAF-20261208-aa","date":"2026-12-08"},
                           {"invoice":"F-2","supplier":"0123456749","amount":"5.00","blocked":"no debts statement"}]"#;
        std::fs::write(dir.join("proposal.json"), proposal).unwrap();
        std::fs::write(dir.join("pain.001.xml"), "<Document/>").unwrap();
        std::fs::write(dir.join("proposal-x.json"), "not a run's").unwrap();
        let lost = in_folder(&dir, &State::default(), today);
        assert_eq!(lost.len(), 1, "{lost:?}");
        assert_eq!(lost[0].run, "PARAAF-20261208-aa");
        assert_eq!(lost[0].invoices(), "F-1 (0123456749, 1210.00 EUR)");
        assert_eq!(lost[0].files.len(), 2, "{lost:?}");
        let mut settled = State::default();
        settled
            .settled_runs
            .insert("PARAAF-20261208-aa".into(), false);
        assert!(in_folder(&dir, &settled, today).is_empty());
        // Not JSON, or not a list: no run, no panic.
        std::fs::write(dir.join("proposal.json"), "{\"a\": 1}").unwrap();
        assert!(in_folder(&dir, &State::default(), today).is_empty());
    }
}
