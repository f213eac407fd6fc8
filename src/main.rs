//! `paraaf`: check, compile and (later) run signing flows of a Flemish city.

mod cli;

/// The process's allocator: the state of a large city is millions of small allocations,
/// and opening it spent a fifth of its time in glibc's malloc and free (#25 item 8).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, so a closed pipe (`paraaf check | head`) would make every
    // later print panic; the default action ends the process quietly instead.
    // Servers (`serve`, `lsp`) keep ignoring it: a client that goes away is not an exit.
    #[cfg(unix)]
    if !matches!(std::env::args().nth(1).as_deref(), Some("serve" | "lsp")) {
        // SAFETY: setting a signal's disposition to its default before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    cli::run()
}
