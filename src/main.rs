//! `minyi`: starts things and reports failures; the work is in the library.

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = minyi::cli::Cli::parse();
    let level = EnvFilter::try_from_env("MINYI_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(level)
                .with_filter(filter_fn(|meta| !minyi::http::never_logged(meta.target()))),
        )
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
