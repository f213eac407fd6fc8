//! What `paraaf serve` runs besides answering requests: the scheduler (time passes
//! through the one writer; with a seal configuration it also seals completed documents,
//! retrying failures on the same clock), the outbox sender (mail and webhooks out), and
//! for tests only
//! a clock they can move (`POST /test/clock`, with the token in `--test-clock-token-file`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use paraaf_runtime::api::Writer;
use paraaf_runtime::clock::Clock;
use paraaf_runtime::schedule::seals::Sealer;
use paraaf_runtime::sender::SenderConfig;
use paraaf_runtime::workdays::Calendar;

/// The background tasks, stopped together.
pub struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The clock time the scheduler has done everything due by.
    pub settled: tokio::sync::watch::Receiver<DateTime<Utc>>,
}

/// Starts the scheduler (sealing too, with `sealer`) and, when anything is configured to
/// be sent, the sender.
pub fn start(
    writer: &Writer,
    clock: &Clock,
    calendar: Calendar,
    sealer: Option<Sealer>,
    sender: Option<SenderConfig>,
) -> Background {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let scheduler = paraaf_runtime::schedule::spawn(
        writer.clone(),
        clock.clone(),
        calendar,
        sealer,
        stopped.clone(),
    );
    let mut tasks = vec![scheduler.task];
    if let Some(cfg) = sender {
        let w = writer.clone();
        tasks.push(paraaf_runtime::sender::spawn(
            cfg,
            move || w.committed(),
            clock.clone(),
            writer.commits(),
            stopped,
        ));
    }
    Background {
        stop,
        tasks,
        settled: scheduler.settled,
    }
}

impl Background {
    /// Stops the tasks (a delivery being sent finishes first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(35), t).await;
        }
    }
}

/// The test clock's endpoint state.
#[derive(Clone)]
pub struct TestClock {
    /// The server's clock.
    pub clock: Clock,
    /// SHA-256 of the token that may move it.
    pub token_sha256: String,
    /// The scheduler's progress.
    pub settled: tokio::sync::watch::Receiver<DateTime<Utc>>,
}

#[derive(serde::Deserialize)]
struct SetClock {
    now: DateTime<Utc>,
}

/// `POST /test/clock` with `{"now": "2026-07-01T00:00:05Z"}`: sets the server's clock
/// and answers once the scheduler has done everything due by then. Only with
/// `--test-clock-token-file`, and only with that token.
pub fn router(t: TestClock) -> axum::Router {
    axum::Router::new()
        .route("/test/clock", axum::routing::post(set_clock))
        .with_state(t)
}

async fn set_clock(
    State(t): State<TestClock>,
    headers: HeaderMap,
    Json(body): Json<SetClock>,
) -> axum::response::Response {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| paraaf_runtime::sha256_hex(v.trim().as_bytes()));
    if given.as_deref() != Some(t.token_sha256.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            "the test clock's token is required",
        )
            .into_response();
    }
    t.clock.set(body.now);
    let mut settled = t.settled.clone();
    let caught_up = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        settled.wait_for(|s| *s >= body.now),
    )
    .await;
    match caught_up {
        Ok(Ok(_)) => Json(serde_json::json!({ "now": body.now })).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the scheduler did not catch up with the clock in 20 s",
        )
            .into_response(),
    }
}
