//! The `minyi` command line. `serve` runs the web app; the other commands serve the
//! commission and the third party from a shell. Errors go to stderr in English.

use crate::config::Config;
use crate::db::{Db, RosterTarget};
use crate::roster::{self, Limits};
use clap::{Args, Parser, Subcommand};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "minyi",
    version,
    about = "民意 — the clean-village assessment survey"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web app.
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(DbArgs),
    /// Check or import roster files.
    #[command(subcommand)]
    Roster(RosterCommand),
}

#[derive(Args, Debug)]
pub struct DbArgs {
    /// `sqlite://minyi.db` (created if missing) or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://minyi.db")]
    pub database_url: String,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "MINYI_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The address people reach the app at (survey links are built on it).
    #[arg(long, env = "MINYI_BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// Largest upload accepted, in MB.
    #[arg(long, env = "MINYI_UPLOAD_LIMIT_MB", default_value_t = 20)]
    pub upload_limit_mb: usize,
    /// Most data rows accepted in one roster file.
    #[arg(long, env = "MINYI_MAX_ROWS", default_value_t = 1_000_000)]
    pub max_rows: u64,
}

#[derive(Subcommand, Debug)]
pub enum RosterCommand {
    /// Read a roster file and print its receipt as JSON (no database needed).
    Check {
        /// The roster: .xlsx, .xls or CSV (UTF-8 or GBK).
        file: PathBuf,
        /// Most data rows accepted.
        #[arg(long, env = "MINYI_MAX_ROWS", default_value_t = 1_000_000)]
        max_rows: u64,
    },
    /// Make FILE the village's roster in the campaign (replacing any earlier one).
    Import {
        #[arg(long)]
        campaign: i64,
        /// The village's code.
        #[arg(long)]
        village: String,
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "MINYI_MAX_ROWS", default_value_t = 1_000_000)]
        max_rows: u64,
    },
}

/// Run a parsed command. Output for scripts goes to stdout; logs go to stderr.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(a) => {
            let config = Config {
                bind: a.bind,
                database_url: a.db.database_url,
                base_url: a.base_url,
                upload_limit: a.upload_limit_mb.saturating_mul(1024 * 1024),
                max_rows: a.max_rows,
            };
            crate::http::serve(config).await
        }
        Command::Migrate(a) => {
            let db = Db::connect(&a.database_url).await?;
            db.migrate().await?;
            eprintln!("migrations applied ({})", db.kind());
            Ok(())
        }
        Command::Roster(RosterCommand::Check { file, max_rows }) => {
            let input = open(&file)?;
            let receipt = roster::check_roster(input, &Limits { max_rows })
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            Ok(())
        }
        Command::Roster(RosterCommand::Import {
            campaign,
            village,
            file,
            db,
            max_rows,
        }) => {
            let db = Db::connect(&db.database_url).await?;
            db.migrate().await?;
            let campaign = db
                .campaign(campaign)
                .await
                .map_err(|e| anyhow::anyhow!("campaign {campaign}: {e}"))?;
            let village = db
                .village_by_code(&village)
                .await
                .map_err(|e| anyhow::anyhow!("village {village}: {e}"))?;
            let target = RosterTarget {
                campaign_id: campaign.id,
                village_id: village.id,
                file_name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                uploaded_by: None,
            };
            let receipt = db
                .import_roster(&target, open(&file)?, Limits { max_rows })
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            db.close().await;
            Ok(())
        }
    }
}

fn open(path: &PathBuf) -> anyhow::Result<BufReader<File>> {
    let f = File::open(path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    Ok(BufReader::with_capacity(256 * 1024, f))
}
