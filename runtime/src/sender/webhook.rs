//! Webhooks out (Standard Webhooks): a source that sends documents in is told when one
//! of its documents completes, is refused or is sealed, signed with its secret
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).
//! The id is the same on every retry, so the receiver drops a second copy. A seal's
//! webhook carries the sealed PDF itself ([`with_sealed_pdf`]): the minutes system files
//! the signed decision with its item without a call back and without a token of its own.

use crate::outbox::Hook;
use crate::reads::Reads;
use crate::store::outbox::Delivery;
use base64::Engine;

/// The largest sealed PDF put into a `document.sealed` webhook's body (8 MiB, about
/// 11 MB of base64 in the JSON). A larger one is named only (its SHA-256, size and API
/// path), and the source fetches it with its token.
pub const MAX_PDF_IN_BODY: usize = 8 * 1024 * 1024;

/// `body` with the sealed PDF it names put in: for a `document.sealed` webhook whose
/// `data.sealed` names a SHA-256, the PDF is read from content storage, checked against
/// that hash, and added as `data.sealed.pdf` (base64) with `data.sealed.size`. Any other
/// body, and a shielded file's bare notice (the send-time check left it no `sealed`),
/// goes as it is. An error (the PDF is missing or does not match) makes the delivery
/// fail and be retried.
pub fn with_sealed_pdf(db: &Reads, body: &str) -> Result<String, String> {
    let mut hook: Hook =
        serde_json::from_str(body).map_err(|e| format!("the webhook is unreadable: {e}"))?;
    let Some(sealed) = hook.data.get_mut("sealed").and_then(|v| v.as_object_mut()) else {
        return Ok(body.to_string());
    };
    let Some(sha256) = sealed
        .get("sha256")
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Ok(body.to_string());
    };
    let (_, pdf) = db
        .read_content(&sha256)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the sealed PDF {sha256} is not in content storage"))?;
    if crate::sha256_hex(&pdf) != sha256 {
        return Err(format!(
            "the stored sealed PDF {sha256} does not match its hash: not sent"
        ));
    }
    sealed.insert("size".into(), pdf.len().into());
    if pdf.len() <= MAX_PDF_IN_BODY {
        sealed.insert(
            "pdf".into(),
            base64::engine::general_purpose::STANDARD
                .encode(&pdf)
                .into(),
        );
    }
    serde_json::to_string(&hook).map_err(|e| format!("the webhook cannot be written: {e}"))
}

/// Where a source is told, and the secret its webhooks are signed with.
#[derive(Clone, Debug)]
pub struct HookTarget {
    /// The source's name (`notula`), for the logs.
    pub source: String,
    /// The URL posted to.
    pub url: String,
    /// HMAC key.
    pub secret: Vec<u8>,
}

/// Posts the delivery's payload (a seal's with its PDF, [`with_sealed_pdf`], read from
/// `db`); success is a 2xx answer.
pub fn send(target: &HookTarget, db: &Reads, d: &Delivery) -> Result<(), String> {
    let body = d.payloads.first().ok_or("a webhook without a body")?;
    let body = &with_sealed_pdf(db, body)?;
    let ts = chrono::Utc::now().timestamp();
    let signature = crate::api::sign_webhook(&target.secret, &d.id, ts, body.as_bytes());
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(30))
        .build();
    match agent
        .post(&target.url)
        .set("content-type", "application/json")
        .set("webhook-id", &d.id)
        .set("webhook-timestamp", &ts.to_string())
        .set("webhook-signature", &signature)
        .send_string(body)
    {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(code, _)) => Err(format!("{} answered {code}", target.source)),
        Err(e) => Err(format!("{}: {e}", target.source)),
    }
}
