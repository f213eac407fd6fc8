//! Inbound webhooks (Standard Webhooks): the minutes system, the permit system and the
//! citizen portal post events that start the flows the project's rules name.

use super::{Answer, AppState, Write, error_answer, respond};
use crate::engine::{RuntimeError, Submission};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A configured source: its signing secret and the person documents are submitted as.
#[derive(Clone, Debug)]
pub struct WebhookSource {
    /// HMAC key (`whsec_` + base64, or the text itself).
    pub secret: Vec<u8>,
    /// Uploader of the documents it starts.
    pub person: String,
}

impl WebhookSource {
    /// From the configured secret text.
    pub fn new(secret: &str, person: &str) -> WebhookSource {
        let key = secret
            .strip_prefix("whsec_")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_else(|| secret.as_bytes().to_vec());
        WebhookSource {
            secret: key,
            person: person.to_string(),
        }
    }
}

/// Largest accepted clock difference.
const MAX_SKEW_SECONDS: i64 = 300;

/// A webhook that is not signed as its source's secret signs: said as such (not as a
/// missing bearer token, which webhooks do not use).
fn unauthorized(why: &str) -> Response {
    respond(super::problem(401, "webhook_signature", why))
}

/// Checks `webhook-signature` over `id.timestamp.body` in constant time.
pub fn verify(
    source: &WebhookSource,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<String, &'static str> {
    let get = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(id), Some(ts), Some(sigs)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return Err("webhook-id, webhook-timestamp and webhook-signature are required");
    };
    if id.is_empty()
        || id.len() > super::MAX_IDEMPOTENCY_KEY
        || !id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err("the webhook-id must be 1 to 255 visible ASCII characters");
    }
    let ts_num: i64 = ts.parse().map_err(|_| "bad webhook-timestamp")?;
    if (now - ts_num).abs() > MAX_SKEW_SECONDS {
        return Err("the webhook-timestamp is more than 5 minutes off");
    }
    for sig in sigs.split_whitespace() {
        let Some(b64) = sig.strip_prefix("v1,") else {
            continue;
        };
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            continue;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&source.secret) else {
            continue;
        };
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(body);
        if mac.verify_slice(&given).is_ok() {
            return Ok(id);
        }
    }
    Err("the webhook signature does not match")
}

/// Signs a payload the way `verify` expects (for senders and tests).
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// `POST /webhooks/{source}` with `{"event": "decision.received", "data": {...}}`.
#[utoipa::path(post, path = "/webhooks/{source}",
    params(("source" = String, Path, description = "Configured source, e.g. notula"),
        ("webhook-id" = String, Header, description = "Unique per message (1 to 255 visible characters); repeats are answered once. A `reference` in the data is the message's key instead: the same reference again answers the first response, with other content 422"),
        ("webhook-timestamp" = String, Header, description = "Unix seconds; at most 5 minutes off"),
        ("webhook-signature" = String, Header, description = "v1,<base64 HMAC-SHA256 of id.timestamp.body>")),
    responses((status = 202, description = "The documents started"), (status = 401, body = super::Problem, content_type = "application/problem+json"), (status = 404, body = super::Problem, content_type = "application/problem+json"), (status = 422, body = super::Problem, content_type = "application/problem+json")))]
pub async fn receive(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(src) = state.webhooks.get(&source).cloned() else {
        return respond(super::problem(
            404,
            "not_found",
            "unknown source: no webhook source of this name is configured",
        ));
    };
    let id = match verify(&src, &headers, &body, chrono::Utc::now().timestamp()) {
        Ok(id) => id,
        Err(why) => return unauthorized(why),
    };
    let parsed: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return respond(error_answer(&RuntimeError::Invalid(format!(
                "bad request body: {e}"
            ))));
        }
    };
    let (Some(event), Some(data)) = (
        parsed["event"].as_str().map(str::to_string),
        parsed["data"].as_object().cloned(),
    ) else {
        return respond(error_answer(&RuntimeError::Invalid(
            "the body needs `event` and `data`".into(),
        )));
    };
    let person = src.person.clone();
    let content = crate::sha256_hex(&body);
    // The sender's own key for what it reports (a permit's `reference`) makes a delivery
    // once only, also when a retry comes with a new webhook-id: the same reference
    // again answers the first response; with other content it is refused (422).
    let key = match data.get("reference") {
        Some(serde_json::Value::String(r)) if r.len() <= super::MAX_IDEMPOTENCY_KEY => {
            format!("reference:{event}:{r}")
        }
        Some(serde_json::Value::String(_)) => {
            return respond(error_answer(&RuntimeError::Invalid(format!(
                "the `reference` is longer than {} bytes",
                super::MAX_IDEMPOTENCY_KEY
            ))));
        }
        _ => id,
    };
    let write = Write {
        person: format!("webhook:{source}"),
        idempotency: Some((key, content.clone())),
        command: Box::new(move |em| {
            let project = em
                .state
                .current()
                .map(|(_, d)| d.project.clone())
                .ok_or_else(|| RuntimeError::Invalid("no project is deployed".into()))?;
            let outcome = crate::finance::run_event(&project, &event, &data)
                .map_err(RuntimeError::Invalid)?;
            let kinds: std::collections::BTreeMap<&str, &str> = project
                .flows
                .iter()
                .map(|f| (f.name.as_str(), f.document.as_str()))
                .collect();
            let subs: Vec<Submission> = outcome
                .start
                .into_iter()
                .map(|(flow, fields)| Submission {
                    kind: kinds.get(flow.as_str()).unwrap_or(&"").to_string(),
                    uploader: person.clone(),
                    fields,
                    content_sha256: content.clone(),
                    title: data
                        .get("title")
                        .or(data.get("reference"))
                        .and_then(|v| v.as_str())
                        .unwrap_or(&event)
                        .to_string(),
                    flow: Some(flow),
                })
                .collect();
            // Every document the event starts, or none: several are tried first on a
            // copy of the state, so that one refused after another was started (a
            // shielded kind the source's person may not submit) is answered as the
            // refusal it is, with nothing emitted, never as a failed commit.
            if subs.len() > 1 {
                let mut scratch = em.state.clone();
                let mut trial = crate::engine::Emitter::new(&mut scratch, em.calendar, em.now);
                trial.doc_ids = em.doc_ids;
                for sub in &subs {
                    trial.submit(sub.clone())?;
                }
            }
            let mut ids = Vec::new();
            for sub in subs {
                ids.push(em.submit(sub)?);
            }
            Ok(Answer {
                status: 202,
                body: serde_json::json!({"documents": ids, "queue": outcome.queue}).to_string(),
            })
        }),
    };
    let answer = state.writer.write(write).await;
    respond(visible_only(&state.writer.committed(), &src.person, answer))
}

/// A webhook's answer as its source may know it now: the documents its person may not
/// see now (`sender::check::recipient_now`, the test outgoing webhooks pass) are left
/// out. A first answer names only documents the person just submitted; an answer
/// replayed for the same reference after they moved out of a shield names none of that
/// shield's files, as if they had not been started (hidden looks like missing).
fn visible_only(state: &crate::engine::State, person: &str, answer: Answer) -> Answer {
    let Ok(mut body) = serde_json::from_str::<serde_json::Value>(&answer.body) else {
        return answer;
    };
    let Some(docs) = body.get_mut("documents").and_then(|d| d.as_array_mut()) else {
        return answer;
    };
    docs.retain(|d| {
        d.as_str()
            .is_some_and(|id| crate::sender::check::recipient_now(state, person, id).is_ok())
    });
    Answer {
        status: answer.status,
        body: body.to_string(),
    }
}
