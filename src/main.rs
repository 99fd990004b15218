//! The `netplane` binary: parses the command line, sets up logging and runs the server.
#![forbid(unsafe_code)]

use netplane::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

// mimalloc keeps per-thread free lists and returns memory in small pages, which halves the
// allocator's share of a call and keeps the idle heap smaller than glibc's per-thread arenas
// (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match Cli::load(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("netplane: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let args = match cli.command {
        Command::Serve(args) => *args,
        Command::State(command) => {
            return match netplane::state_cli::run(command).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("netplane: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stdout);
    match args.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    match netplane::server::serve(args, netplane::server::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "netplane failed");
            eprintln!("netplane: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
