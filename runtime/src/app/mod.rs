//! The application layer: what an administrator or an accountant does with the runtime
//! (pay approved invoices, verify the audit trail, work the manual queue) as library
//! services. Each takes typed inputs — the runtime or its state, paths, options, the
//! moment to act at — and returns a typed report or an [`AppError`]; none prints or
//! exits. The `paraaf` command parses arguments, calls a service and prints its report;
//! the HTTP API and the web app call the same services.

pub mod audit;
pub mod error;
pub mod files;
pub mod finance_pay;
pub mod finance_run;
pub mod invoice_decision;
pub mod log;
pub mod lost_deployments;
pub mod lost_runs;
pub mod migrate_scenarios;
pub mod pay_files;
pub mod queue;
pub mod tokens;

pub use error::AppError;
