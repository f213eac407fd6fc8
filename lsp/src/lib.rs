//! The Paraaf language server, started as `paraaf lsp`: a thin layer over the
//! compiler's salsa queries. Only this crate knows LSP.
// One `unsafe` block, allowed where it stands: `server.rs` asks whether the client process
// still lives (kill with signal 0).
#![deny(unsafe_code)]

mod completion;
mod features;
mod lines;
#[cfg(test)]
mod mid_edit;
mod outline;
mod projects;
mod records;
#[cfg(test)]
mod semantic_agrees;
mod server;
mod workspace;

pub use lines::LineIndex;

mod framing;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::AsyncWriteExt;

/// Serves LSP over stdin/stdout until the client exits. Returns the process exit code:
/// 0 after `shutdown` then `exit`, 1 when the session ended any other way (an `exit`
/// without `shutdown`, stdin closed), as the protocol asks.
pub fn run_stdio() -> i32 {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        eprintln!("error: cannot start the async runtime");
        return 1;
    };
    let shut_down = Arc::new(AtomicBool::new(false));
    let flag = shut_down.clone();
    rt.block_on(async move {
        let (server_in, to_server) = tokio::io::duplex(1 << 20);
        let (from_server, server_out) = tokio::io::duplex(1 << 20);
        let (replies, replies_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(framing::read_client(
            tokio::io::stdin(),
            to_server,
            replies,
            flag,
        ));
        let writer = tokio::spawn(framing::write_client(
            server_out,
            replies_rx,
            tokio::io::stdout(),
        ));
        let (service, socket) = tower_lsp_server::LspService::new(server::Backend::new);
        tower_lsp_server::Server::new(server_in, from_server, socket)
            .serve(service)
            .await;
        let _ = writer.await;
        let _ = tokio::io::stdout().flush().await;
    });
    // Reading stdin blocks a thread; do not wait for it after `exit`.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    if shut_down.load(Ordering::SeqCst) {
        0
    } else {
        1
    }
}
