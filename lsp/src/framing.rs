//! The JSON-RPC framing between the editor and the server, made robust: the LSP
//! transport stops reading for good after one undecodable message, so messages are
//! checked here first.
//!
//! - A header block without a usable `Content-Length` is skipped and reading resumes at
//!   the next `Content-Length:` (resynchronisation); a body that is not JSON gets a
//!   `-32700 Parse error` reply, and when a wrong length swallowed the next message, that
//!   message is recovered from the body.
//! - Valid JSON that is not a JSON-RPC message gets `-32600 Invalid Request`.
//! - A request to a `$/` method gets `-32601 Method not found` (the spec lets servers
//!   ignore `$/` notifications, never requests).
//! - A `Content-Length` larger than what came: when a whole JSON value is followed by
//!   the next message's headers, the length was wrong (`-32700`, and the next message is
//!   read); otherwise the rest must come within 5 seconds, or the message is dropped
//!   with `-32700` and reading goes on.
//! - A `Content-Length` over [`MAX_BODY`] (64 MiB) is refused with `-32600` and that
//!   many bytes are skipped whole, so text inside the refused body is never read as the
//!   next message's headers (it once swallowed the next request).
//! - Reading is linear in the message: a body arriving in many chunks is scanned once
//!   (a 30 MB message took 16.5 s, scanned again at every chunk).
//! - `shutdown` is noted, so an `exit` without it ends the process with code 1.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// The largest message accepted; a bigger one is refused with an error and skipped.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
const HEADER: &[u8] = b"content-length:";

/// Frames `body` as an LSP message.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn error_reply(id: Value, code: i64, message: &str) -> Vec<u8> {
    frame(
        json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
            .to_string()
            .as_bytes(),
    )
}

/// Position of the next `Content-Length:` (any case) at or after `from`.
fn find_header(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(HEADER.len())
        .position(|w| w.eq_ignore_ascii_case(HEADER))
        .map(|p| p + from)
}

/// One step of the parser over the buffered input.
enum Parsed {
    /// A whole message: its body, and how many bytes it took.
    Message(Vec<u8>, usize),
    /// Garbage up to here was dropped; try again.
    Skip(usize),
    /// Need more input.
    More,
    /// A message longer than the limit: its body starts here and is this long.
    TooLarge(usize, usize),
}

fn parse(buf: &[u8]) -> Parsed {
    parse_limited(buf, MAX_BODY)
}

/// Like `parse`, with a bound on the body (the server's own messages have none).
fn parse_limited(buf: &[u8], max: usize) -> Parsed {
    let Some(start) = find_header(buf, 0) else {
        // Keep a tail that could be the start of a header split across reads.
        let keep = HEADER.len().min(buf.len());
        return if buf.len() > keep {
            Parsed::Skip(buf.len() - keep)
        } else {
            Parsed::More
        };
    };
    if start > 0 {
        return Parsed::Skip(start);
    }
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        // Some clients send bare newlines.
        return match buf.windows(2).position(|w| w == b"\n\n") {
            Some(e) => parse_headers(buf, e, e + 2, max),
            None if buf.len() > 8192 => Parsed::Skip(HEADER.len()),
            None => Parsed::More,
        };
    };
    parse_headers(buf, end, end + 4, max)
}

fn parse_headers(buf: &[u8], end: usize, body_start: usize, max: usize) -> Parsed {
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut len = None;
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let Some(len) = len else {
        // A header block with no usable length: skip it, resynchronise on the next one.
        return Parsed::Skip(body_start);
    };
    if len > max {
        return Parsed::TooLarge(body_start, len);
    }
    if buf.len() < body_start + len {
        return Parsed::More;
    }
    Parsed::Message(buf[body_start..body_start + len].to_vec(), body_start + len)
}

/// Where the body of the first message starts, when its headers are complete but the
/// body is not (yet): the length it declares may be wrong.
fn pending_body(buf: &[u8]) -> Option<usize> {
    if find_header(buf, 0) != Some(0) {
        return None;
    }
    let body_start = match buf.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(e) => e + 4,
        None => buf.windows(2).position(|w| w == b"\n\n")? + 2,
    };
    matches!(parse(buf), Parsed::More).then_some(body_start)
}

/// A message whose declared length is larger than what came: when the bytes after its
/// headers are a whole JSON value followed by the next message's `Content-Length:`, the
/// length was wrong and the next message must not be swallowed. Returns where the next
/// message starts.
#[cfg(test)]
fn overlong(buf: &[u8], body_start: usize) -> Option<usize> {
    overlong_from(buf, body_start, body_start).0
}

/// [`overlong`], looking for the next header from `from` only (what was scanned before
/// holds none that qualifies). Also returns where the next scan may start, so a body
/// arriving in many chunks is scanned once.
fn overlong_from(buf: &[u8], body_start: usize, from: usize) -> (Option<usize>, usize) {
    let mut at = from.max(body_start);
    while let Some(next) = find_header(buf, at) {
        // The next header's block must be complete, or this may be text inside a body.
        let rest = &buf[next..];
        if !(rest.windows(4).any(|w| w == b"\r\n\r\n") || rest.windows(2).any(|w| w == b"\n\n")) {
            return (None, next);
        }
        if serde_json::from_slice::<Value>(&buf[body_start..next]).is_ok() {
            return (Some(next), next);
        }
        at = next + 1;
    }
    (None, buf.len().saturating_sub(HEADER.len()).max(at))
}

/// How long the rest of a message may keep the server waiting once it started: a
/// client that declared more than it sent would otherwise stall every later request.
const BODY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What to do with one message body from the editor.
enum Verdict {
    /// Pass it to the server.
    Forward,
    /// Answer it here, do not pass it on.
    Reply(Vec<u8>),
}

fn judge(body: &[u8], shut_down: &AtomicBool) -> Verdict {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Verdict::Reply(error_reply(
            Value::Null,
            -32700,
            "Parse error: the message is not JSON",
        ));
    };
    let Value::Object(m) = &v else {
        return Verdict::Reply(error_reply(
            Value::Null,
            -32600,
            "Invalid Request: not a JSON-RPC object",
        ));
    };
    let id = m.get("id").cloned();
    // The transport reads integer ids only: a float or an id beyond 64 bits would end it.
    let valid_id = id
        .as_ref()
        .is_none_or(|i| i.is_string() || i.as_i64().is_some() || i.is_null());
    let method = m.get("method");
    let is_response = id.is_some() && (m.contains_key("result") || m.contains_key("error"));
    if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0")
        || !valid_id
        || !(method.is_some_and(Value::is_string) || is_response)
    {
        let id = id.filter(|_| valid_id).unwrap_or(Value::Null);
        return Verdict::Reply(error_reply(
            id,
            -32600,
            "Invalid Request: not a JSON-RPC 2.0 message",
        ));
    }
    let method = method.and_then(Value::as_str).unwrap_or("");
    if let Some(id) = id.filter(|_| !is_response) {
        if method.starts_with("$/") {
            return Verdict::Reply(error_reply(
                id,
                -32601,
                &format!("Method not found: {method}"),
            ));
        }
        if method == "shutdown" {
            shut_down.store(true, Ordering::SeqCst);
        }
    }
    if method == "exit" {
        // The session ends here, whatever is still running: 0 after `shutdown`, else 1.
        let code = if shut_down.load(Ordering::SeqCst) {
            0
        } else {
            1
        };
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            std::process::exit(code);
        });
    }
    Verdict::Forward
}

/// Reads the editor's messages from `input`, passes the good ones to the server and
/// queues replies to the bad ones.
pub async fn read_client(
    mut input: impl AsyncRead + Unpin,
    mut to_server: impl AsyncWrite + Unpin,
    replies: UnboundedSender<Vec<u8>>,
    shut_down: Arc<AtomicBool>,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    // Where the search for a next header inside a pending body may resume.
    let mut scanned = 0;
    // Bytes of a refused (too large) body still to skip.
    let mut discard = 0usize;
    loop {
        if discard > 0 {
            let n = discard.min(buf.len());
            buf.drain(..n);
            discard -= n;
            if discard > 0 {
                // The rest of the refused body; a client that stops sending is not
                // waited for longer than a short body would be.
                match tokio::time::timeout(BODY_WAIT, input.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    // The editor went away, or stopped sending: read on as usual.
                    Ok(_) | Err(_) => discard = 0,
                }
                continue;
            }
        }
        match parse(&buf) {
            Parsed::Skip(n) => {
                buf.drain(..n);
                scanned = 0;
                continue;
            }
            Parsed::TooLarge(body_start, len) => {
                let _ = replies.send(error_reply(
                    Value::Null,
                    -32600,
                    &format!(
                        "Invalid Request: a message of {len} bytes is larger than the {} MiB the server reads; it was skipped",
                        MAX_BODY / (1024 * 1024)
                    ),
                ));
                buf.drain(..body_start);
                discard = len;
                scanned = 0;
                continue;
            }
            Parsed::Message(body, used) => {
                buf.drain(..used);
                scanned = 0;
                let verdict = judge(&body, &shut_down);
                match verdict {
                    Verdict::Forward => {
                        if to_server.write_all(&frame(&body)).await.is_err() {
                            return;
                        }
                    }
                    Verdict::Reply(reply) => {
                        let _ = replies.send(reply);
                        // A wrong length may have swallowed the next message: recover it.
                        if let Some(k) = find_header(&body, 1) {
                            let mut rest = body[k..].to_vec();
                            rest.extend_from_slice(&buf);
                            buf = rest;
                        }
                    }
                }
                continue;
            }
            Parsed::More => {}
        }
        let pending = pending_body(&buf);
        let next = pending.and_then(|body_start| {
            let (next, resume) = overlong_from(&buf, body_start, scanned);
            scanned = resume;
            next
        });
        if let Some(next) = next {
            scanned = 0;
            let _ = replies.send(error_reply(
                Value::Null,
                -32700,
                "Parse error: the Content-Length is larger than the message",
            ));
            buf.drain(..next);
            continue;
        }
        let read = match pending {
            // Mid-message: the rest must come in time.
            Some(_) => match tokio::time::timeout(BODY_WAIT, input.read(&mut chunk)).await {
                Ok(r) => r,
                Err(_) => {
                    let _ = replies.send(error_reply(
                        Value::Null,
                        -32700,
                        "Parse error: the message ended before its Content-Length",
                    ));
                    // Drop it; whatever follows is read as new messages.
                    let from = HEADER.len().min(buf.len());
                    let next = find_header(&buf, from).unwrap_or(buf.len());
                    buf.drain(..next);
                    scanned = 0;
                    continue;
                }
            },
            None => input.read(&mut chunk).await,
        };
        match read {
            Ok(0) | Err(_) => {
                // The editor went away (crashed, or closed stdin without `exit`): end the
                // process, with 1 unless it had asked to shut down.
                let code = if shut_down.load(Ordering::SeqCst) {
                    0
                } else {
                    1
                };
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    std::process::exit(code);
                });
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes the server's messages and the replies made here to `out`, whole messages at a
/// time.
pub async fn write_client(
    mut from_server: impl AsyncRead + Unpin,
    mut replies: UnboundedReceiver<Vec<u8>>,
    mut out: impl AsyncWrite + Unpin,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut server_open = true;
    let mut replies_open = true;
    loop {
        while let Parsed::Message(body, used) = parse_limited(&buf, usize::MAX) {
            buf.drain(..used);
            if out.write_all(&frame(&body)).await.is_err() {
                return;
            }
        }
        let _ = out.flush().await;
        tokio::select! {
            n = from_server.read(&mut chunk), if server_open => match n {
                Ok(0) | Err(_) => server_open = false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            },
            reply = replies.recv(), if replies_open => match reply {
                Some(r) if out.write_all(&r).await.is_err() => return,
                Some(_) => {}
                None if !server_open => return,
                None => replies_open = false, // the reader ended: stop polling it
            },
            else => return,
        }
        if !server_open && replies.is_empty() {
            // The server is done; write what it left and stop.
            while let Parsed::Message(body, used) = parse_limited(&buf, usize::MAX) {
                buf.drain(..used);
                let _ = out.write_all(&frame(&body)).await;
            }
            let _ = out.flush().await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_length_larger_than_the_message_does_not_swallow_the_next() {
        let mut buf =
            b"Content-Length: 60000000\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}"
                .to_vec();
        let next = frame(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"b\"}");
        buf.extend_from_slice(&next);
        let start = pending_body(&buf).expect("waits for the body");
        let at = overlong(&buf, start).expect("the next message is found");
        assert_eq!(&buf[at..], &next[..]);
        // A body that holds a header-like text inside a string is no second message.
        let inner = b"Content-Length: 100\r\n\r\n{\"text\": \"Content-Length: 5\r\n\r\n".to_vec();
        let start = pending_body(&inner).unwrap();
        assert_eq!(overlong(&inner, start), None);
    }

    #[test]
    fn resynchronises_after_a_missing_length() {
        let mut buf = b"Content-Type: x\r\n\r\n{\"a\":1}".to_vec();
        buf.extend_from_slice(&frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}"));
        let mut bodies = Vec::new();
        loop {
            match parse(&buf) {
                Parsed::Skip(n) => {
                    buf.drain(..n);
                }
                Parsed::Message(b, n) => {
                    bodies.push(b);
                    buf.drain(..n);
                }
                Parsed::More | Parsed::TooLarge(..) => break,
            }
        }
        assert_eq!(
            bodies,
            vec![b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}".to_vec()]
        );
    }
}
