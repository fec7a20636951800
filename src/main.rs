//! `minyi`: starts things and reports failures; the work is in the library.

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = minyi::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("MINYI_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    minyi::roster::log_spreadsheet_panics_briefly();
    match minyi::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole cause chain, one line.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
