//! Requests hyper cannot parse (a broken request line or header, a bad
//! `Content-Length`, a TLS hello on the plain port) are answered by hyper itself, before
//! any handler, with an empty `400 Bad Request`. [`ProblemOnMalformed`] wraps a
//! connection and gives that answer a problem document's body, like every other error
//! of the API.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose empty error answers from hyper get a problem document.
pub struct ProblemOnMalformed<T> {
    inner: T,
    /// The rewritten answer still to be written, and how much of it is written.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ProblemOnMalformed<T> {
    /// Wraps a connection.
    pub fn new(inner: T) -> ProblemOnMalformed<T> {
        ProblemOnMalformed {
            inner,
            pending: None,
        }
    }
}

/// The problem document for hyper's own empty answer in `head`, if it is one: a 4xx or
/// 505 status line, no `content-type`, `content-length: 0`.
pub fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (status_line, rest) = text.split_once("\r\n")?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()?;
    if !((400..500).contains(&status) || status == 505) || !rest.ends_with("\r\n\r\n") {
        return None;
    }
    let lower = rest.to_ascii_lowercase();
    if lower.contains("content-type:") || !lower.contains("content-length: 0\r\n") {
        return None;
    }
    let (code, detail) = match status {
        408 => ("timeout", "the request's headers did not arrive in time"),
        413 | 431 => (
            "too_large",
            "the request's line or headers are larger than the server reads",
        ),
        _ => (
            "bad_request",
            "the request is not valid HTTP/1.1 (its request line, a header or its length cannot be read)",
        ),
    };
    let body = super::problem(status, code, detail).body;
    let headers: String = rest
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|h| !h.to_ascii_lowercase().starts_with("content-length:"))
        .map(|h| format!("{h}\r\n"))
        .collect();
    Some(
        format!(
            "{status_line}\r\n{headers}content-type: application/problem+json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemOnMalformed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemOnMalformed<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            // Only an answer that starts in this write (hyper writes its own error answer
            // in one piece) and only a short one: a real answer is never touched.
            let candidate = buf.len() < 1024 && buf.starts_with(b"HTTP/1.1 ");
            match candidate.then(|| rewrite(buf)).flatten() {
                Some(answer) => this.pending = Some((answer, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let Some((answer, written, original)) = this.pending.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while *written < answer.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let original = *original;
        this.pending = None;
        Poll::Ready(Ok(original))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // One buffer at a time, so every answer passes `poll_write`.
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        self.poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn only_hypers_empty_error_answers_are_rewritten() {
        let hyper = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 04:44:51 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(hyper).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("connection: close\r\n"), "{head}");
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(!head.contains("content-length: 0"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (v["status"].as_u64(), v["code"].as_str()),
            (Some(400), Some("bad_request"))
        );
        let big = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert!(
            String::from_utf8(rewrite(big).unwrap())
                .unwrap()
                .contains("too_large")
        );
        // The API's own answers (with a type), redirects and successes stay as they are.
        for keep in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 10\r\n\r\n"[..],
            b"HTTP/1.1 303 See Other\r\nlocation: /app\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"not http",
        ] {
            assert_eq!(rewrite(keep), None, "{}", String::from_utf8_lossy(keep));
        }
    }
}
