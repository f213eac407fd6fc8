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
    /// TOML file giving each person's bearer token for the JSON API (`[tokens]` then
    /// `an-peeters = "..."`) and the webhook sources (`[webhooks.notula]` with
    /// `secret = "whsec_..."` and `as = "person-id"`, who uploads what the source starts).
    /// Without it the JSON API answers 401 to everyone; the web app works on its own.
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// A try-out: seed an empty database with this project and documents waiting for its
    /// people, and offer the development login. E.g. `--demo examples/aalst`.
    #[arg(long, value_name = "PROJECT")]
    demo: Option<PathBuf>,
    /// Offer the development login on the web app: anyone can sign in as any person of
    /// the organogram. For the examples only, never for a city's real database.
    #[arg(long)]
    dev_login: bool,
    /// The city's OpenID Connect provider (issuer URL) for signing in to the web app.
    #[arg(long, requires_all = ["oidc_client_id", "oidc_client_secret_file"])]
    oidc_issuer: Option<String>,
    /// This app's client id at the provider.
    #[arg(long)]
    oidc_client_id: Option<String>,
    /// A file holding only the client secret (a systemd or docker secret).
    #[arg(long)]
    oidc_client_secret_file: Option<PathBuf>,
    /// The ID-token claim naming the person: `email` (matched to the organogram's e-mail
    /// addresses), `preferred_username` or `sub` (matched to person ids).
    #[arg(long, default_value = "email", value_parser = ["email", "preferred_username", "sub"])]
    oidc_claim: String,
    /// The address people open (the provider sends them back to PUBLIC_URL/app/auth/callback);
    /// default `http://ADDR`.
    #[arg(long)]
    public_url: Option<String>,
    /// A web session ends after this many seconds without a request.
    #[arg(long, default_value_t = 1800)]
    session_idle: u64,
    /// A web session ends after this many hours in all.
    #[arg(long, default_value_t = 10)]
    session_hours: u64,
    /// Send the session cookie without `Secure`, for a plain-http address other than
    /// localhost (browsers accept Secure cookies on http://localhost and 127.0.0.1).
    #[arg(long)]
    insecure_cookies: bool,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Largest number of writes committed together (group commit).
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[command(flatten)]
    rt: RuntimeArgs,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
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
        .unwrap_or_else(|_| EnvFilter::new("info,salsa=warn"));
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
    let file: TokensFile = match &args.tokens {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            toml::from_str(&text)
                .map_err(|e| format!("{} is not a tokens file: {}", path.display(), e.message()))?
        }
        None => TokensFile::default(),
    };
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
    if let Some(project) = &args.demo {
        let n = paraaf_web::demo::seed(&mut runtime, &args.rt.db, project)?;
        if n > 0 {
            println!(
                "demo: {} deployed, {n} documents waiting",
                project.display()
            );
        }
    }
    let calendar = match &args.rt.holidays {
        Some(path) => super::runtime_args::read_holidays(path)?,
        None => paraaf_runtime::workdays::Calendar::default(),
    };
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
    let mut app = router(writer.clone(), tokens, webhooks);
    let dev_login = args.dev_login || args.demo.is_some();
    if dev_login || args.oidc_issuer.is_some() {
        let public = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let oidc = match (
            &args.oidc_issuer,
            &args.oidc_client_id,
            &args.oidc_client_secret_file,
        ) {
            (Some(issuer), Some(id), Some(secret)) => Some(paraaf_web::OidcConfig {
                issuer: issuer.clone(),
                client_id: id.clone(),
                client_secret: std::fs::read_to_string(secret)
                    .map_err(|e| format!("cannot read {}: {e}", secret.display()))?
                    .trim()
                    .to_string(),
                redirect_url: format!("{}/app/auth/callback", public.trim_end_matches('/')),
                claim: args.oidc_claim.clone(),
            }),
            _ => None,
        };
        let web = paraaf_web::router(
            writer.clone(),
            paraaf_web::WebConfig {
                dev_login,
                oidc,
                session_idle: std::time::Duration::from_secs(args.session_idle.max(1)),
                session_max: std::time::Duration::from_secs(args.session_hours.max(1) * 3600),
                secure_cookies: !args.insecure_cookies,
                db: args.rt.db.clone(),
                calendar,
            },
        )?;
        app = app.merge(web);
        if dev_login {
            eprintln!(
                "warning: the development login is on: anyone who reaches {addr} can act as anyone"
            );
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(std_listener).map_err(|e| e.to_string())?;
        println!("listening on http://{addr}");
        if dev_login || args.oidc_issuer.is_some() {
            println!("web app: http://{addr}/app");
        }
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
