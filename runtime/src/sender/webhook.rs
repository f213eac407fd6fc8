//! Webhooks out (Standard Webhooks): a source that sends documents in is told when one
//! of its documents completes or is refused, signed with its secret (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). The id is the
//! same on every retry, so the receiver drops a second copy.

use crate::store::outbox::Delivery;

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

/// Posts the delivery's payload; success is a 2xx answer.
pub fn send(target: &HookTarget, d: &Delivery) -> Result<(), String> {
    let body = d.payloads.first().ok_or("a webhook without a body")?;
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
