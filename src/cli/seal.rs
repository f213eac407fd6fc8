//! `paraaf seal` (seal the completed documents that wait for their seal, export a sealed
//! PDF) and `paraaf verify FILE.pdf` (check a sealed PDF, as anyone can).

use super::runtime_args::RuntimeArgs;
use paraaf_runtime::sealing::{SealConfig, TsaCheck};
use paraaf_seal::trust::Anchors;
use paraaf_seal::verify::TimestampCheck;
use std::path::PathBuf;
use std::process::ExitCode;

/// `paraaf seal`.
#[derive(clap::Args)]
pub struct SealArgs {
    /// The seal configuration (TOML, `[seal]`: city, pkcs12, password_file, tsa_url,
    /// trust, verify_url); see docs/sealing.md.
    #[arg(long, env = "PARAAF_SEAL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Write the sealed PDF of this document (as `--as` may read it) to `--out` instead
    /// of sealing.
    #[arg(long, requires_all = ["out", "reader"])]
    pub export: Option<String>,
    /// Where `--export` writes the PDF.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Who reads, for `--export` (a person id: what they may see is what they get).
    #[arg(long = "as")]
    pub reader: Option<String>,
    /// List the documents waiting for their seal, and seal nothing.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub rt: RuntimeArgs,
}

/// `paraaf verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The PDF to check.
    pub file: PathBuf,
    /// PEM file of the certificates to trust (the seal's root and the TSA's root).
    #[arg(long, env = "PARAAF_SEAL_TRUST")]
    pub trust: PathBuf,
    /// Also check the file against this city's log: it must be, byte for byte, the
    /// sealed PDF the log records for a completed document.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Print JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Use only the revocation data the file holds: do not fetch the CRL of a
    /// certificate whose status the file does not give.
    #[arg(long)]
    pub offline: bool,
}

/// Runs `paraaf seal`.
pub fn seal(args: SealArgs) -> Result<ExitCode, String> {
    let mut runtime = args.rt.open()?;
    let reads = paraaf_runtime::reads::Reads::open(&args.rt.address()?)
        .map_err(super::runtime_args::fail)?;
    if args.list {
        let waiting = runtime.state().waiting_for_seal();
        if waiting.is_empty() {
            println!("No document waits for its seal.");
        }
        for d in waiting {
            println!("{} ({}): completed, waits for its seal", d.id, d.title);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let (Some(doc), Some(out), Some(reader)) = (&args.export, &args.out, &args.reader) {
        let pdf = paraaf_runtime::sealing::sealed_for_reader(runtime.state(), &reads, reader, doc)
            .map_err(|e| e.to_string())?;
        let Some(pdf) = pdf else {
            eprintln!("error: no sealed PDF of {doc} that {reader} may read");
            eprintln!("help: `paraaf seal --list` shows documents still waiting for their seal");
            return Ok(ExitCode::from(1));
        };
        std::fs::write(out, pdf).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        println!("{}: sealed PDF of {doc}", out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = &args.config else {
        return Err("no seal configuration: give --config seal.toml (or PARAAF_SEAL_CONFIG); see docs/sealing.md".into());
    };
    let cfg = SealConfig::load(path)?;
    let results =
        paraaf_runtime::sealing::seal_pending_runtime(&mut runtime, &reads, &cfg, args.rt.now());
    let mut failed = false;
    if results.is_empty() {
        println!("No document waits for its seal.");
    }
    for (doc, r) in results {
        match r {
            Ok(code) => println!("{doc}: sealed, verification code {code}"),
            Err(e) => {
                failed = true;
                println!("{doc}: waits for its seal: {e}");
            }
        }
    }
    if failed {
        eprintln!(
            "help: documents that wait stay completed; run `paraaf seal` again (the server retries by itself)"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `paraaf verify`: exit 0 valid, 1 invalid, 2 when the file or trust cannot be read.
pub fn verify(args: VerifyArgs) -> Result<ExitCode, String> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let pem = std::fs::read(&args.trust)
        .map_err(|e| format!("cannot read {}: {e}", args.trust.display()))?;
    let anchors = Anchors::from_pem(&pem)?;
    let tsa = paraaf_runtime::tsa::Trust::from_pem(&pem)
        .map(TsaCheck)
        .map_err(|e| e.to_string())?;
    let fetch = paraaf_runtime::sealing::revocation::HttpFetch;
    let mut report = paraaf_seal::verify::verify_with(
        &bytes,
        &anchors,
        Some(&tsa as &dyn TimestampCheck),
        (!args.offline).then_some(&fetch as &dyn paraaf_seal::revocation::Fetch),
    );
    let mut log = None;
    if let Some(db) = &args.db {
        match against_log(db, &report.sha256) {
            Ok(doc) => log = Some(doc),
            Err(e) => report.problems.push(e),
        }
    }
    let valid = report.valid();
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        v["valid"] = valid.into();
        if let Some(doc) = &log {
            v["document"] = doc.clone().into();
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{}: {}",
            args.file.display(),
            if valid { "VALID" } else { "INVALID" }
        );
        if let Some(s) = &report.signer {
            println!("  sealed by: {s}");
        }
        if let Some(chain) = &report.chain {
            println!("  trusted through: {}", chain.join(" → "));
        }
        match report.timestamp {
            Some(t) => println!(
                "  time stamp: {} (Brussels: {})",
                t.to_rfc3339(),
                paraaf_seal::evidence::brussels(t)
            ),
            None if report.timestamped => println!("  time stamp: present, does not hold"),
            None => println!("  time stamp: none"),
        }
        for t in &report.archive_timestamps {
            println!("  document time stamp: {}", t.to_rfc3339());
        }
        for r in &report.revocation {
            println!("  revocation: {r}");
        }
        println!(
            "  covers the whole file but its signature{}: {}",
            if report.archive_timestamps.is_empty() {
                ""
            } else {
                " (then only validation data and document time stamps)"
            },
            if report.intact { "yes" } else { "no" }
        );
        if let Some(level) = &report.level {
            println!("  PAdES level: {level}");
        }
        if let Some(code) = &report.code {
            println!("  verification code: {code}");
        }
        if let Some(doc) = &log {
            println!("  matches the log: the sealed PDF of document {doc}");
        }
        for p in &report.problems {
            println!("  problem: {p}");
        }
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The document whose recorded seal (`document_sealed`, in a log whose chain verifies)
/// is this file, byte for byte (its SHA-256).
fn against_log(db: &std::path::Path, sha256: &str) -> Result<String, String> {
    if !db.exists() {
        return Err(format!("there is no database {}", db.display()));
    }
    let rt = paraaf_runtime::Runtime::open(db, Default::default()).map_err(|e| e.to_string())?;
    rt.verify_history()
        .map_err(|e| format!("the log does not verify: {e}"))?;
    rt.state()
        .documents
        .values()
        .find(|d| d.sealed.as_ref().is_some_and(|s| s.sha256 == sha256))
        .map(|d| d.id.clone())
        .ok_or_else(|| "the log records no seal with this file's SHA-256: this city did not seal it, or it was changed".into())
}
