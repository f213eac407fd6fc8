//! `paraaf serve`

use super::runtime_args::RuntimeArgs;
use paraaf_runtime::api::{Writer, router};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `paraaf serve`.
#[derive(clap::Args)]
pub struct Args {
    /// TOML file giving each person's bearer token (`[tokens]` then `an-peeters = "..."`)
    /// and the webhook sources (`[webhooks.notula]` with `secret = "whsec_..."` and
    /// `as = "person-id"`, who uploads what the source starts).
    #[arg(long)]
    tokens: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Largest number of writes committed together (group commit).
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[command(flatten)]
    rt: RuntimeArgs,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    tokens: BTreeMap<String, String>,
    /// `[webhooks.notula]` with `secret` and `as` (the uploader of what it starts).
    #[serde(default)]
    webhooks: BTreeMap<String, WebhookConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookConfig {
    /// The secret inline (`whsec_…`); or give `secret_file`.
    #[serde(default)]
    secret: Option<String>,
    /// A file holding only the secret (a systemd or docker secret), so the tokens file
    /// holds none.
    #[serde(default)]
    secret_file: Option<PathBuf>,
    #[serde(rename = "as")]
    person: String,
}

/// Structured logs on stderr: JSON lines when stderr is not a terminal (a service
/// manager, a container), readable lines otherwise; `PARAAF_LOG` (or `RUST_LOG`) filters,
/// default `info`.
fn init_logs() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PARAAF_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        let _ = builder.try_init();
    } else {
        let _ = builder.json().flatten_event(true).try_init();
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    init_logs();
    let text = std::fs::read_to_string(&args.tokens)
        .map_err(|e| format!("cannot read {}: {e}", args.tokens.display()))?;
    let file: TokensFile = toml::from_str(&text).map_err(|e| {
        format!(
            "{} is not a tokens file: {}",
            args.tokens.display(),
            e.message()
        )
    })?;
    // Kept by hash: a token is `sha256:<hex>` (as `paraaf admin token add` writes it), or
    // a plain token of at least 16 characters, hashed here and never kept.
    let mut tokens = BTreeMap::new();
    for (person, token) in file.tokens.clone() {
        let hash = match token.strip_prefix("sha256:") {
            Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                h.to_ascii_lowercase()
            }
            Some(_) => {
                return Err(format!(
                    "the token hash of {person} is not 64 hexadecimal digits"
                ));
            }
            None if token.len() < 16 => {
                return Err(format!(
                    "the token of {person} is shorter than 16 characters"
                ));
            }
            None => paraaf_runtime::sha256_hex(token.as_bytes()),
        };
        if let Some(other) = tokens.insert(hash, person.clone()) {
            return Err(format!(
                "{other} and {person} have the same token: each person needs their own"
            ));
        }
    }
    let mut runtime = args.rt.open()?;
    // Bind first, so the writer lock can name the address a refused CLI should use.
    let std_listener = std::net::TcpListener::bind(&args.addr)
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    runtime
        .lock_writer(&format!(
            "`paraaf serve` at http://{addr} (process {})",
            std::process::id()
        ))
        .map_err(|e| e.to_string())?;
    let fixed = args.rt.now;
    let clock = Box::new(move || fixed.unwrap_or_else(chrono::Utc::now));
    let writer = Writer::start(runtime, clock, args.batch.max(1));
    let mut webhooks = BTreeMap::new();
    for (source, c) in &file.webhooks {
        let secret = match (&c.secret, &c.secret_file) {
            (Some(s), None) => s.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("webhook `{source}`: cannot read {}: {e}", path.display()))?,
            _ => {
                return Err(format!(
                    "webhook `{source}`: give either `secret` or `secret_file`"
                ));
            }
        };
        webhooks.insert(
            source.clone(),
            paraaf_runtime::api::WebhookSource::new(&secret, &c.person),
        );
    }
    let app = router(writer.clone(), tokens, webhooks);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(std_listener).map_err(|e| e.to_string())?;
        println!("listening on http://{addr}");
        tracing::info!(%addr, db = %args.rt.db.display(), "listening");
        let _ = std::io::stdout().flush();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(|e| e.to_string());
        // The writes in flight are committed; the last checkpoint is signed.
        writer.stop().await;
        served
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (systemd, docker stop).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
