//! `paraaf serve`

mod background;
mod follow;

use super::runtime_args::RuntimeArgs;
use paraaf_runtime::api::{Writer, monitored_router};
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
    /// `secret = "whsec_..."` and `as = "person-id"`, who uploads what the source starts;
    /// `notify_url = "https://..."` to tell it when its documents complete or are
    /// refused), and `[mail]` (`host`, `port`, `tls`, `username`, `password_file`, `from`,
    /// `base_url`, `digest_hour`) for mail to people; `[monitoring]` (`zabbix = "..."`,
    /// from `paraaf admin token add NAME --monitoring`): tokens that read `/health`'s
    /// counts, which a person's token never gets. Without it the JSON API answers 401
    /// to everyone and nothing is sent; the web app works on its own.
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
    /// Most connections served at once; more are closed at once (default: what the
    /// process may open, less a margin, at most 4096).
    #[arg(long)]
    max_connections: Option<usize>,
    /// Most connections from one address at once (default: a quarter of
    /// --max-connections), so that one client cannot take them all. Behind a proxy, where
    /// every connection comes from the proxy, set it to --max-connections.
    #[arg(long)]
    max_connections_per_address: Option<usize>,
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
    /// For tests only: a file holding a token that may move the server's clock with
    /// `POST /test/clock` (`{"now": "..."}`); the clock then stands still between moves.
    #[arg(long, hide = true)]
    test_clock_token_file: Option<PathBuf>,
    /// First wait before sending a mail or webhook again, in milliseconds; it doubles
    /// with each attempt, up to an hour.
    #[arg(long, default_value_t = 30_000, hide = true)]
    outbox_backoff_ms: u64,
    /// The seal configuration (TOML `[seal]`: the city's seal key, the TSA, trusted
    /// roots; see docs/sealing.md): the scheduler seals every completed document, at
    /// start-up and after each completion, and while a seal fails tries again after a
    /// minute, doubling up to an hour (on the server's clock).
    #[arg(long, env = "PARAAF_SEAL_CONFIG")]
    seal_config: Option<PathBuf>,
    /// On a city in PostgreSQL: where the city's other servers send writes while this
    /// one is the writer (default `http://ADDR`, the bound address). Every server starts
    /// reading and forwarding writes; the first to find the city's writer lock free
    /// writes (see docs/operations.md, "Many servers per city").
    #[arg(long, env = "PARAAF_ADVERTISE")]
    advertise: Option<String>,
    #[command(flatten)]
    rt: RuntimeArgs,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    /// The city the file's tokens and webhook sources are for (`paraaf admin token add
    /// --city` writes it): a server of another city refuses the file.
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    tokens: BTreeMap<String, String>,
    /// `[monitoring]`: named tokens that read `/health`'s counts and nothing else (a
    /// monitoring system is no person; a person's token never gets the counts).
    #[serde(default)]
    monitoring: BTreeMap<String, String>,
    /// `[webhooks.notula]` with `secret` and `as` (the uploader of what it starts).
    #[serde(default)]
    webhooks: BTreeMap<String, WebhookConfig>,
    /// `[mail]`: the city's SMTP server, the sender, the web app's address for links and
    /// the hour of the daily digest (see docs/operations.md).
    #[serde(default)]
    mail: Option<paraaf_runtime::sender::MailConfig>,
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
    /// Where the source is told when one of its documents completes or is refused
    /// (Standard Webhooks, signed with the same secret).
    #[serde(default)]
    notify_url: Option<String>,
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

/// The SHA-256 (hex) a token of `name` is kept by: `sha256:<hex>` as `paraaf admin token
/// add` writes it, or a plain token of at least 16 characters (hashed here, never kept;
/// `name` is added to `plain`).
fn token_hash(name: &str, token: &str, plain: &mut Vec<String>) -> Result<String, String> {
    match token.strip_prefix("sha256:") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(h.to_ascii_lowercase())
        }
        Some(_) => Err(format!(
            "the token hash of {name} is not 64 hexadecimal digits"
        )),
        None if token.len() < 16 => {
            Err(format!("the token of {name} is shorter than 16 characters"))
        }
        None => {
            plain.push(name.to_string());
            Ok(paraaf_runtime::sha256_hex(token.as_bytes()))
        }
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
    // A city in PostgreSQL shares its database with other cities: the tokens file (its
    // people's tokens, its webhook sources) must be this city's.
    if args.rt.is_postgres()
        && let (Some(path), Some(city)) = (&args.tokens, &args.rt.city)
    {
        match paraaf_runtime::app::tokens::check_city(path, file.city.as_deref(), city, false) {
            Ok(()) => {}
            Err(why) if file.city.is_some() => return Err(why),
            // Files made before the binding: said loudly, still served.
            Err(why) => tracing::warn!("{why}"),
        }
    }
    // Kept by hash: a token is `sha256:<hex>` (as `paraaf admin token add` writes it), or
    // a plain token of at least 16 characters, hashed here and never kept.
    let mut tokens = BTreeMap::new();
    let mut plain = Vec::new();
    let mut monitoring = std::collections::BTreeSet::new();
    for (name, token) in &file.monitoring {
        let hash = token_hash(name, token, &mut plain)?;
        if !monitoring.insert(hash) {
            return Err(format!(
                "two monitoring tokens are the same (one is `{name}`): give each its own"
            ));
        }
    }
    for (person, token) in file.tokens.clone() {
        let hash = token_hash(&person, &token, &mut plain)?;
        if monitoring.contains(&hash) {
            return Err(format!(
                "the token of {person} is also a monitoring token: a person's token never reads the counts; give the monitoring its own (`paraaf admin token add NAME --monitoring`)"
            ));
        }
        if let Some(other) = tokens.insert(hash, person.clone()) {
            return Err(format!(
                "{other} and {person} have the same token: each person needs their own"
            ));
        }
    }
    if !plain.is_empty() {
        tracing::warn!(
            people = %plain.join(", "),
            "tokens kept in plain text in the tokens file: replace each with `paraaf admin token add PERSON` (which keeps only a hash)"
        );
    }
    let mut runtime = args.rt.open()?;
    // What the API, the web app, the sender and the sealer read beside the writer: the
    // SQLite file, or a few connections for the city on PostgreSQL.
    let reads = paraaf_runtime::reads::Reads::open(&args.rt.address()?)
        .map_err(crate::cli::runtime_args::fail)?;
    if let Some(project) = &args.demo {
        let n = paraaf_web::demo::seed(&mut runtime, &reads, project)?;
        if n > 0 {
            println!(
                "demo: {} deployed, {n} documents waiting",
                project.display()
            );
            // Their ids are random: listed in the order they were seeded (the browser
            // tests find them here).
            let mut docs: Vec<_> = runtime.state().documents.values().collect();
            docs.sort_by_key(|d| d.events.first().copied());
            for (i, d) in docs.iter().enumerate() {
                println!("demo document {}: {} {}", i + 1, d.id, d.title);
            }
        }
    }
    // The runtime's own calendar (the holidays file read once, by `open`).
    let calendar = runtime.calendar.clone();
    let calendar_for_time = runtime.calendar.clone();
    // Bind first, so the writer lock can name the address a refused CLI should use.
    let std_listener = std::net::TcpListener::bind(&args.addr)
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    // On PostgreSQL the server starts as a read server and takes the lock when it is
    // free (serve/follow.rs); a SQLite file has one server, the writer.
    let postgres = args.rt.is_postgres();
    if !postgres {
        runtime
            .lock_writer(&format!(
                "`paraaf serve` at http://{addr} (process {})",
                std::process::id()
            ))
            .map_err(crate::cli::runtime_args::fail)?;
    }
    // The one clock: the engine, the scheduler, the sender and the web app ask it.
    let clock = paraaf_runtime::clock::Clock::at(args.rt.now);
    let test_clock_token = match &args.test_clock_token_file {
        Some(path) => Some(paraaf_runtime::sha256_hex(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .trim()
                .as_bytes(),
        )),
        None => None,
    };
    if test_clock_token.is_some() && !clock.is_set() {
        clock.set(chrono::Utc::now());
    }
    let writer_clock = clock.clone();
    let writer = if postgres {
        drop(runtime);
        let advertise = args
            .advertise
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        follow::start(&args.rt, &advertise, &clock, args.batch.max(1))?
    } else {
        Writer::start(
            runtime,
            Box::new(move || writer_clock.now()),
            args.batch.max(1),
        )
    };
    let mut hooks = BTreeMap::new();
    let mut webhooks = BTreeMap::new();
    // A source's `as` follows its person across a rename (the same HR key, a new id), as
    // a token does; the organogram cannot change while the server holds the writer lock.
    let committed = writer.committed();
    for (source, c) in &file.webhooks {
        let person = committed
            .person_now(&c.person)
            .unwrap_or_else(|| c.person.clone());
        if person != c.person {
            tracing::info!(source = %source, configured = %c.person, now = %person, "webhook source submits as the id its person has now");
        }
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
        let source_config = paraaf_runtime::api::WebhookSource::new(&secret, &person);
        if let Some(url) = &c.notify_url {
            let target = paraaf_runtime::sender::HookTarget {
                source: source.clone(),
                url: url.clone(),
                secret: source_config.secret.clone(),
            };
            if let Some(other) = hooks.insert(person.clone(), target) {
                return Err(format!(
                    "webhooks `{}` and `{source}` both submit as {person}: give each source its own person, so that each is told of its own documents",
                    other.source
                ));
            }
        }
        webhooks.insert(source.clone(), source_config);
    }
    if let Some(m) = &file.mail {
        m.password()?;
    }
    let seal = match &args.seal_config {
        Some(p) => Some(std::sync::Arc::new(
            paraaf_runtime::sealing::SealConfig::load(p)?,
        )),
        None => None,
    };
    let sender =
        (file.mail.is_some() || !hooks.is_empty()).then(|| paraaf_runtime::sender::SenderConfig {
            db: reads.clone(),
            mail: file.mail.clone(),
            hooks,
            backoff: std::time::Duration::from_millis(args.outbox_backoff_ms.max(1)),
        });
    let mut app = monitored_router(
        writer.clone(),
        tokens,
        monitoring,
        webhooks,
        Some(reads.clone()),
    );
    // The public /verify page (#28), when the seal configuration names trusted roots.
    if let Some(pem) = seal.as_ref().and_then(|c| c.trust_pem.as_deref()) {
        app = app.merge(paraaf_runtime::sealing::page::router(
            writer.clone(),
            reads.clone(),
            pem,
        )?);
    }
    // The checkpoint head anchored outside the machine (a TSA, the witness file) by a
    // thread of its own; `/health` says when an anchor is pending.
    // Each round anchors the writer's current head: it signs a checkpoint line first.
    let signer = writer.clone();
    let anchorer = args
        .rt
        .anchorer(Some(Box::new(move || signer.checkpoint_blocking())))?;
    if let Some(a) = &anchorer {
        app = app.layer(axum::Extension(a.clone()));
    }
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
        // The addresses people open: requests to another host name are refused, forms
        // must come from one of them (DNS rebinding, cross-site posts).
        let mut origins: Vec<String> = args
            .public_url
            .iter()
            .map(|p| p.trim_end_matches('/').to_string())
            .collect();
        let port = addr.port();
        if addr.ip().is_loopback() {
            origins.extend([
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
                format!("http://[::1]:{port}"),
            ]);
        } else if !addr.ip().is_unspecified() {
            origins.push(format!("http://{addr}"));
        } else if origins.is_empty() {
            eprintln!(
                "warning: listening on every interface without --public-url: the web app accepts any host name"
            );
        }
        let web = paraaf_web::router(
            writer.clone(),
            paraaf_web::WebConfig {
                dev_login,
                oidc,
                session_idle: std::time::Duration::from_secs(args.session_idle.max(1)),
                session_max: std::time::Duration::from_secs(args.session_hours.max(1) * 3600),
                secure_cookies: !args.insecure_cookies,
                db: reads.clone(),
                calendar,
                origins,
            },
        )?;
        app = app.merge(web);
        if dev_login {
            eprintln!(
                "warning: the development login is on: anyone who reaches {addr} can act as anyone"
            );
        }
    }
    let max_connections = args
        .max_connections
        .unwrap_or_else(default_max_connections)
        .max(1);
    let per_address = args
        .max_connections_per_address
        .unwrap_or(max_connections / 4)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let sealer = seal.map(|cfg| paraaf_runtime::schedule::seals::Sealer {
            db: reads.clone(),
            cfg,
            first_retry: paraaf_runtime::schedule::seals::FIRST_RETRY,
        });
        let start_background = {
            let clock = clock.clone();
            move |w: &Writer| background::start(w, &clock, calendar_for_time, sealer, sender)
        };
        // On PostgreSQL only the writer runs the scheduler, the sender and the sealer:
        // started when this server takes the lock.
        let (background, later, settled) = if postgres {
            let (settled, told) = tokio::sync::watch::channel(clock.now());
            let later = follow::when_leading(&writer, move |w| {
                let started = start_background(w);
                follow::pass_on(started.settled.clone(), settled);
                started
            });
            (None, Some(later), told)
        } else {
            let started = start_background(&writer);
            let settled = started.settled.clone();
            (Some(started), None, settled)
        };
        if let Some(token_sha256) = test_clock_token {
            eprintln!("warning: the test clock is on: whoever holds its token moves time");
            app = app.merge(background::router(background::TestClock {
                clock: clock.clone(),
                token_sha256,
                settled,
            }));
        }
        if postgres {
            app = app.layer(axum::middleware::from_fn_with_state(
                writer.clone(),
                follow::forward_writes,
            ));
        }
        let listener =
            tokio::net::TcpListener::from_std(std_listener).map_err(|e| e.to_string())?;
        println!("listening on http://{addr}");
        if dev_login || args.oidc_issuer.is_some() {
            println!("web app: http://{addr}/app");
        }
        tracing::info!(%addr, db = %args.rt.shown(), "listening");
        let _ = std::io::stdout().flush();
        // A request must arrive and be answered in time: a body that trickles or never
        // comes (slow POST) ends with 408 instead of holding the connection.
        let app = app
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                BODY_TIMEOUT,
            ))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                REQUEST_TIMEOUT,
            ));
        // On PostgreSQL a writer that lost its database connection (and the city's lock
        // with it) stops the server, which exits with an error: its supervisor starts
        // it again as a read server.
        let (lost, lost_why) = tokio::sync::oneshot::channel();
        let stop = {
            let writer = writer.clone();
            async move {
                if !postgres {
                    return stop_signal().await;
                }
                tokio::select! {
                    _ = stop_signal() => {}
                    why = follow::stopped_writing(&writer) => {
                        let _ = lost.send(why);
                    }
                }
            }
        };
        let served = serve_bounded(listener, app, max_connections, per_address, stop).await;
        // The scheduler and the sender stop first; then the writes in flight are
        // committed and the last checkpoint is signed.
        if let Some(later) = later
            && let Some(started) = later.finish().await
        {
            started.stop().await;
        }
        if let Some(started) = background {
            started.stop().await;
        }
        writer.stop().await;
        match lost_why.await {
            Ok(why) => Err(why),
            Err(_) => served,
        }
    })?;
    // The closing checkpoint is signed: anchor it, then stop.
    if let Some(a) = anchorer {
        a.stop();
    }
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

/// A client must send a request's headers within this time, or the connection closes.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A connection with no bytes either way for this long, and no request in flight, is
/// closed (also one that never sends anything).
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// The next part of a request body must come within this time.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A request is answered within this time (body included), or gets 408.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What the process may open, less a margin for the database and logs, at most 4096.
fn default_max_connections() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            return soft.saturating_sub(64).clamp(16, 4096);
        }
    }
    1000
}

/// Serves `app` on `listener` until `shutdown`: at most `max` connections at once (more
/// are closed on accept), request headers within [`HEADER_READ_TIMEOUT`], idle
/// connections closed after [`IDLE_TIMEOUT`]; on shutdown, requests in flight finish
/// (for 30 s).
async fn serve_bounded(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    max: usize,
    per_address: usize,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let by_address = AddressCounts::default();
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(max));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // HTTP/1.1 only: detecting HTTP/2 waits for a client's first bytes without a timeout
    // (a proxy in front may speak HTTP/2 to browsers).
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let builder = std::sync::Arc::new(builder);
    tokio::pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, max, "too many connections: closed at once");
            }
            drop(stream);
            continue;
        };
        let Some(address) = AddressSlot::take(&by_address, peer.ip(), per_address) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, per_address, "too many connections from one address");
            }
            drop(stream);
            continue;
        };
        let builder = builder.clone();
        // Each request knows its client's address (`ConnectInfo`: the public /verify
        // page limits per address).
        let service = TowerToHyperService::new(WithPeer {
            app: app.clone(),
            peer,
        });
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let (io, last) = Activity::new(stream);
            // hyper's own answer to a request it cannot parse gets a problem document.
            let io = paraaf_runtime::api::malformed::ProblemOnMalformed::new(io);
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            tokio::pin!(conn);
            let mut closing = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)), if !closing => {
                        if last.idle() > IDLE_TIMEOUT {
                            // Closes it when no request is in flight; one in flight ends first.
                            closing = true;
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop(address);
            drop(permit);
        });
    }
    let _ = stop_tx.send(true);
    // Every connection has returned its permit: all requests in flight are answered.
    match tokio::time::timeout(
        std::time::Duration::from_secs(30),
        permits.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)),
    )
    .await
    {
        Ok(_) => {}
        Err(_) => tracing::warn!("requests still running after 30 s: stopping anyway"),
    }
    Ok(())
}

/// The app for one connection: each request carries the client's address as axum's
/// `ConnectInfo` (hyper is driven here, not by `axum::serve`, which would set it).
#[derive(Clone)]
struct WithPeer {
    app: axum::Router,
    peer: std::net::SocketAddr,
}

impl<B> tower::Service<axum::http::Request<B>> for WithPeer
where
    axum::Router: tower::Service<axum::http::Request<B>>,
{
    type Response = <axum::Router as tower::Service<axum::http::Request<B>>>::Response;
    type Error = <axum::Router as tower::Service<axum::http::Request<B>>>::Error;
    type Future = <axum::Router as tower::Service<axum::http::Request<B>>>::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        tower::Service::<axum::http::Request<B>>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, mut req: axum::http::Request<B>) -> Self::Future {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        self.app.call(req)
    }
}

/// Open connections per client address.
type AddressCounts =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>;

/// One connection counted against its address; given back when dropped.
struct AddressSlot {
    counts: AddressCounts,
    ip: std::net::IpAddr,
}

impl AddressSlot {
    fn take(counts: &AddressCounts, ip: std::net::IpAddr, max: usize) -> Option<AddressSlot> {
        let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = c.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.remove(&self.ip);
            }
        }
    }
}

/// When a connection last moved a byte.
#[derive(Clone)]
struct LastActivity(std::sync::Arc<std::sync::Mutex<std::time::Instant>>);

impl LastActivity {
    fn touch(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
    }

    fn idle(&self) -> std::time::Duration {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).elapsed()
    }
}

/// A TCP stream that records when it last read or wrote.
struct Activity {
    inner: tokio::net::TcpStream,
    last: LastActivity,
}

impl Activity {
    fn new(inner: tokio::net::TcpStream) -> (Activity, LastActivity) {
        let last = LastActivity(std::sync::Arc::new(std::sync::Mutex::new(
            std::time::Instant::now(),
        )));
        (
            Activity {
                inner,
                last: last.clone(),
            },
            last,
        )
    }
}

impl tokio::io::AsyncRead for Activity {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.last.touch();
        }
        r
    }
}

impl tokio::io::AsyncWrite for Activity {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.last.touch();
        }
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::{AddressCounts, AddressSlot};

    #[test]
    fn one_address_gets_its_share_and_gives_it_back() {
        let counts = AddressCounts::default();
        let ip: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        let other: std::net::IpAddr = "192.0.2.8".parse().unwrap();
        let a = AddressSlot::take(&counts, ip, 2).unwrap();
        let _b = AddressSlot::take(&counts, ip, 2).unwrap();
        assert!(AddressSlot::take(&counts, ip, 2).is_none());
        assert!(AddressSlot::take(&counts, other, 2).is_some());
        drop(a);
        assert!(AddressSlot::take(&counts, ip, 2).is_some());
    }
}
