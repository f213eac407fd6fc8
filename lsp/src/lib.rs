//! The Paraaf language server, started as `paraaf lsp`: a thin layer over the
//! compiler's salsa queries. Only this crate knows LSP.

mod features;
mod lines;
mod projects;
mod server;
mod workspace;

pub use lines::LineIndex;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A harmless notification put in place of a malformed message (`$/` notifications may
/// be ignored by servers).
const PLACEHOLDER: &[u8] =
    br#"{"jsonrpc":"2.0","method":"$/paraaf/malformedMessage","params":null}"#;

/// Whether `body` is a JSON-RPC message the transport can decode.
fn well_formed(body: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    m.get("jsonrpc").and_then(|v| v.as_str()) == Some("2.0")
        && (m.get("method").is_some_and(|v| v.is_string())
            || (m.contains_key("id") && (m.contains_key("result") || m.contains_key("error"))))
}

/// Copies framed messages from `input` to `output`, replacing malformed bodies: the LSP
/// transport stops reading for good after one undecodable message, and a bad client
/// message must not end the session.
async fn sanitise(
    input: impl tokio::io::AsyncRead + Unpin,
    mut output: impl tokio::io::AsyncWrite + Unpin,
) {
    let mut r = BufReader::new(input);
    loop {
        let mut len: Option<usize> = None;
        loop {
            let mut line = String::new();
            match r.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim();
            if line.is_empty() {
                if len.is_some() {
                    break;
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.trim().eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().ok();
            }
        }
        let Some(len) = len.filter(|l| *l <= 64 * 1024 * 1024) else {
            return;
        };
        let mut body = vec![0; len];
        if r.read_exact(&mut body).await.is_err() {
            return;
        }
        let body: &[u8] = if well_formed(&body) {
            &body
        } else {
            PLACEHOLDER
        };
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        if output.write_all(header.as_bytes()).await.is_err()
            || output.write_all(body).await.is_err()
        {
            return;
        }
    }
}

/// Serves LSP over stdin/stdout until the client exits.
pub fn run_stdio() {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        eprintln!("error: cannot start the async runtime");
        return;
    };
    rt.block_on(async {
        let (server_in, proxy_out) = tokio::io::duplex(1 << 20);
        tokio::spawn(sanitise(tokio::io::stdin(), proxy_out));
        let (service, socket) = tower_lsp_server::LspService::new(server::Backend::new);
        tower_lsp_server::Server::new(server_in, tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // Reading stdin blocks a thread; do not wait for it after `exit`.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
}
