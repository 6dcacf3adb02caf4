//! `server`: runs iapd. Configuration comes from flags or environment variables; see
//! `server --help`.

#![recursion_limit = "512"]

use clap::Parser;
use server::config::Config;
use server::startup::Application;
use std::process::ExitCode;

/// jemalloc rather than glibc's malloc: a page render allocates thousands of small values
/// across the runtime's threads, and glibc's arenas spent a fifth of the CPU in malloc and
/// free, waiting on each other's locks (issue 16, measured with perf).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(command) = &config.command {
        server::telemetry::init_stderr(&config.log);
        let stdin = std::io::stdin();
        if command.reads_password() && std::io::IsTerminal::is_terminal(&stdin) {
            // Typed at a terminal, the password shows as it is typed; scripts pipe it in.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), b"Password (one line): ");
        }
        let (input, output) = (&mut stdin.lock(), &mut std::io::stdout());
        return match server::cli::run(command, &config.database_url, input, output).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "command failed");
                ExitCode::FAILURE
            }
        };
    }
    server::telemetry::init(&config.log);
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "iapd could not start");
            return ExitCode::FAILURE;
        }
    };
    // Tests and scripts read this line to learn the port when it was 0.
    tracing::info!("iapd listening on http://127.0.0.1:{}", app.port());
    if config.demo {
        tracing::info!("demo logins: admin / admin (administrator), demo / demo (user)");
    }
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("iapd stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server error");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
