//! `paraaf`: check, compile and (later) run signing flows of a Flemish city.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
