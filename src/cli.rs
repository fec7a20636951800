//! The `minyi` command line. `serve` runs the web app; the other commands serve the
//! commission and the third party from a shell. Errors go to stderr in English.

use crate::config::Config;
use crate::db::{Db, RosterTarget};
use crate::ids::CampaignId;
use crate::roster::{self, Limits};
use crate::sampling::size::{DEFAULT_CENSUS_BELOW, DEFAULT_MARGIN};
use crate::sampling::{Confidence, DrawRecord, Seed, SeedCommitment, SizeRule};
use clap::{Args, Parser, Subcommand};
use std::fs::File;
use std::io::{BufReader, Write};
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
    /// Export a campaign's frozen rosters as `<village code>.csv` files (for `minyi verify`).
    #[command(subcommand)]
    Rosters(RostersCommand),
    /// Draw the sample offline from a folder of roster files (algorithm sample-v1).
    Draw(DrawArgs),
    /// Redo a published draw from its record and the rosters, and say whether it matches.
    Verify(VerifyArgs),
    /// Print the sample size for a village of N recipients.
    SampleSize(SampleSizeArgs),
    /// Check the questionnaire and scheme files.
    #[command(subcommand)]
    Forms(FormsCommand),
    /// Apply the seed's rule to a CSV of grades (village,item1…itemK,negative) and print
    /// village,good,total,verdict,reasons as CSV.
    Assess {
        /// The grades file (UTF-8 or GB18030 CSV).
        file: PathBuf,
        /// The day the creation started (YYYY-MM-DD): each situation in `negative` then needs
        /// its date (③@2025-05-01) and counts only from one year before this day.
        #[arg(long, value_name = "DATE")]
        creation_start: Option<String>,
    },
    /// Fill an empty database with a demo town (marked as demo on every page).
    Demo(DbArgs),
    /// The audit chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy a running SQLite database consistently into FILE (VACUUM INTO); for PostgreSQL
    /// use pg_dump (README).
    Backup {
        /// The new file (must not exist).
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole chain — the hashes, and with the audit key every entry's mark; names
    /// the first broken entry (exit 1) or prints the count and the head.
    Verify(AuditVerifyArgs),
}

#[derive(Args, Debug)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A head as published (`<id>:<hash>`, as printed in the draw record, the publicity and
    /// the archive manifest): checks that this entry is in the chain with this hash.
    /// May be repeated.
    #[arg(long)]
    pub head: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum FormsCommand {
    /// Validate survey-forms/*.toml; names file, line and problem for each error.
    Check {
        /// The folder (default survey-forms).
        #[arg(default_value = "survey-forms")]
        dir: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct SizeArgs {
    /// Margin of error e (default 0.10).
    #[arg(long)]
    pub margin: Option<f64>,
    /// Villages with fewer recipients than this are surveyed in full (0: none). Default 50
    /// with the default rule; none when --margin or --confidence is given, so that those
    /// give exactly the formula.
    #[arg(long)]
    pub census_below: Option<u64>,
    /// Confidence level: 0.90, 0.95 (default) or 0.99 (also 90, 95%, …).
    #[arg(long)]
    pub confidence: Option<String>,
}

impl SizeArgs {
    fn rule(&self, fixed: Option<u64>) -> anyhow::Result<SizeRule> {
        if let Some(n) = fixed {
            anyhow::ensure!(
                self.margin.is_none() && self.confidence.is_none() && self.census_below.is_none(),
                "--size fixes n per village; it cannot be combined with --margin, --confidence or --census-below"
            );
            return Ok(SizeRule::fixed(n)?);
        }
        let confidence = match &self.confidence {
            Some(c) => Confidence::parse(c)?,
            None => Confidence::default(),
        };
        Ok(
            SizeRule::formula(self.margin.unwrap_or(DEFAULT_MARGIN), confidence)?
                .with_census_below(self.census_below.unwrap_or(
                    if self.margin.is_none() && self.confidence.is_none() {
                        DEFAULT_CENSUS_BELOW
                    } else {
                        0
                    },
                )),
        )
    }
}

#[derive(Args, Debug)]
pub struct DrawArgs {
    /// Folder with one roster per village, named `<village code>.csv` or `.xlsx`.
    #[arg(long)]
    pub rosters: PathBuf,
    /// The seed (at least 16 characters; leading and trailing whitespace is removed).
    #[arg(long, allow_hyphen_values = true)]
    pub seed: String,
    /// The SHA-256 commitment published before the freeze, if the seed was committed.
    #[arg(long)]
    pub commitment: Option<String>,
    #[command(flatten)]
    pub sizing: SizeArgs,
    /// A fixed sample size n per village (min(N, n)) instead of the formula.
    #[arg(long)]
    pub size: Option<u64>,
    /// Where to write the ranked list (CSV: village,rank,phone,selection).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The draw record (JSON) as published.
    #[arg(long)]
    pub record: PathBuf,
    /// Folder with the frozen rosters, `<village code>.csv` or `.xlsx`.
    #[arg(long)]
    pub rosters: PathBuf,
}

#[derive(Args, Debug)]
pub struct SampleSizeArgs {
    /// Number of unique recipients N.
    #[arg(long)]
    pub population: u64,
    #[command(flatten)]
    pub sizing: SizeArgs,
}

#[derive(Subcommand, Debug)]
pub enum RostersCommand {
    /// Write each village's current roster phones to `<DIR>/<code>.csv`.
    Export {
        #[arg(long)]
        campaign: CampaignId,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args, Debug)]
pub struct DbArgs {
    /// `sqlite://minyi.db` (created if missing) or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://minyi.db")]
    pub database_url: String,
    /// The audit key file, kept outside the database (default: `<database file>.audit-key`
    /// for SQLite, `$XDG_DATA_HOME/minyi/<database name>.audit-key` for PostgreSQL).
    #[arg(long, env = "MINYI_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
}

impl DbArgs {
    /// Opens the database, with the audit key file this command was given.
    async fn connect(&self) -> anyhow::Result<Db> {
        if let Some(p) = &self.audit_key_file {
            crate::audit_key::set_key_file(p);
        }
        Ok(Db::connect(&self.database_url).await?)
    }
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
    #[arg(long, env = "MINYI_MAX_ROWS", default_value_t = crate::limits::MAX_ROWS)]
    pub max_rows: u64,
    /// Folder of questionnaire files, read when a campaign's fieldwork starts.
    #[arg(long, env = "MINYI_FORMS_DIR", default_value = "survey-forms")]
    pub forms_dir: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum RosterCommand {
    /// Read a roster file and print its receipt as JSON (no database needed).
    Check {
        /// The roster: .xlsx, .xls or CSV (UTF-8 or GBK).
        file: PathBuf,
        /// Most data rows accepted.
        #[arg(long, env = "MINYI_MAX_ROWS", default_value_t = crate::limits::MAX_ROWS)]
        max_rows: u64,
    },
    /// Make FILE the village's roster in the campaign (replacing any earlier one).
    Import {
        #[arg(long)]
        campaign: CampaignId,
        /// The village's code.
        #[arg(long)]
        village: String,
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "MINYI_MAX_ROWS", default_value_t = crate::limits::MAX_ROWS)]
        max_rows: u64,
    },
}

/// Run a parsed command. Output for scripts goes to stdout; logs go to stderr.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(a) => {
            if let Some(p) = &a.db.audit_key_file {
                crate::audit_key::set_key_file(p);
            }
            let config = Config {
                bind: a.bind,
                database_url: a.db.database_url,
                base_url: a.base_url,
                upload_limit: a.upload_limit_mb.saturating_mul(1024 * 1024),
                max_rows: a.max_rows,
                forms_dir: a.forms_dir,
            };
            crate::http::serve(config).await
        }
        Command::Migrate(a) => {
            let db = a.connect().await?;
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
            let db = db.connect().await?;
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
            let receipt = crate::ops::rosters::import(
                &db,
                &crate::ops::Actor::cli(),
                &target,
                open(&file)?,
                Limits { max_rows },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            db.close().await;
            Ok(())
        }
        Command::Rosters(RostersCommand::Export { campaign, out, db }) => {
            let db = db.connect().await?;
            db.migrate().await?;
            let found = db
                .campaign(campaign)
                .await
                .map_err(|e| anyhow::anyhow!("campaign {campaign}: {e}"))?;
            let Some(frozen) = found.frame_fingerprint else {
                anyhow::bail!(
                    "campaign {campaign} is not frozen yet: its rosters may still change"
                );
            };
            let frames = db.campaign_frames(campaign).await?;
            let pairs: Vec<(String, String)> = frames
                .iter()
                .map(|f| (f.code.clone(), crate::sampling::fingerprint(&f.phones)))
                .collect();
            let now = crate::sampling::frame_fingerprint(&pairs);
            anyhow::ensure!(
                now == frozen,
                "the stored rosters no longer match the frame fingerprint taken at the freeze ({frozen}, now {now})"
            );
            std::fs::create_dir_all(&out)?;
            for f in &frames {
                crate::files::write_private(
                    &out.join(format!("{}.csv", f.code)),
                    &crate::roster::frozen_csv(&f.phones),
                )?;
            }
            eprintln!(
                "wrote {} frozen rosters to {} (frame fingerprint {frozen})",
                frames.len(),
                out.display()
            );
            db.close().await;
            Ok(())
        }
        Command::Draw(a) => {
            let seed = Seed::parse(&a.seed)?;
            let commitment = a
                .commitment
                .as_deref()
                .map(SeedCommitment::parse)
                .transpose()?;
            let rule = a.sizing.rule(a.size)?;
            let (record, strata) = crate::offline::draw_dir(
                &a.rosters,
                &seed,
                commitment.as_ref(),
                &rule,
                &mut |w| eprintln!("warning: {w}"),
            )?;
            let file = crate::files::create_private(&a.out)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.out.display()))?;
            crate::offline::write_ranked_csv(std::io::BufWriter::new(file), &strata)?;
            println!("{}", serde_json::to_string_pretty(&record)?);
            Ok(())
        }
        Command::Verify(a) => {
            let text = std::fs::read_to_string(&a.record)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", a.record.display()))?;
            let record: DrawRecord = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a draw record: {e}", a.record.display()))?;
            let villages =
                crate::offline::verify_dir(&record, &a.rosters, &mut |w| eprintln!("warning: {w}"))
                    .map_err(|e| anyhow::anyhow!("verification failed: {e}"))?;
            println!(
                "OK: {villages} villages, {} draw with seed {:?} reproduced exactly (frame {})",
                record.algorithm, record.seed, record.frame_fingerprint
            );
            Ok(())
        }
        Command::Forms(FormsCommand::Check { dir }) => {
            let errors = crate::forms::check_dir(&dir);
            if errors.is_empty() {
                let set = crate::forms::load_dir(&dir)
                    .map_err(|e| anyhow::anyhow!("{} errors", e.len()))?;
                // Warnings do not fail the check: the forms load and can be used.
                for w in crate::forms::lint(&set) {
                    eprintln!("{w}");
                }
                println!(
                    "OK: {} {} ({} questions), {} {} ({} questions), scheme {} {}",
                    set.recipients.id,
                    set.recipients.version,
                    set.recipients.questions.len(),
                    set.panel.id,
                    set.panel.version,
                    set.panel.questions.len(),
                    set.scheme.id,
                    set.scheme.version
                );
                return Ok(());
            }
            for e in &errors {
                eprintln!("{e}");
            }
            anyhow::bail!("{} problem(s) in {}", errors.len(), dir.display())
        }
        Command::Assess {
            file,
            creation_start,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let rows = crate::results::assess::assess_csv(&bytes, creation_start.as_deref())
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{} is not assessed; nothing was written:\n{e}",
                        file.display()
                    )
                })?;
            for note in rows.iter().flat_map(|r| &r.notes) {
                eprintln!("note: {note}");
            }
            let mut out = std::io::stdout().lock();
            crate::results::assess::write_assessment(&rows, &mut out)?;
            out.flush()?;
            Ok(())
        }
        Command::Audit(AuditCommand::Verify(a)) => verify_audit(a).await,
        Command::Backup { file, db } => {
            let db = db.connect().await?;
            db.backup_to(&file).await?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!("backup written to {} ({size} bytes)", file.display());
            // The key is deliberately not in the database, so not in its copy either.
            println!(
                "the audit key {} is not in the backup: keep a copy of it apart from the database backups",
                db.audit_key_path().display()
            );
            db.close().await;
            Ok(())
        }
        Command::Demo(a) => {
            let db = a.connect().await?;
            db.migrate().await?;
            let made = crate::demo::fill(&db).await?;
            let details = serde_json::json!({ "note": "invented demo data" });
            db.append_audit(&crate::audit::Event::new(
                "cli",
                "demo.fill",
                Some(made.campaign_id),
                details,
            ))
            .await?;
            println!(
                "demo campaign {} created (marked as demo).",
                made.campaign_id
            );
            if let Some(p) = made.admin_password {
                println!("administrator: admin / {p} (one-time, change it at first login)");
            }
            println!(
                "village operator of 唐家坊村（演示）: demo_village / {} (one-time)",
                made.village_password
            );
            println!("start the web app with: minyi serve");
            Ok(())
        }
        Command::SampleSize(a) => {
            println!("{}", a.sizing.rule(None)?.size(a.population));
            Ok(())
        }
    }
}

fn open(path: &PathBuf) -> anyhow::Result<BufReader<File>> {
    let f = File::open(path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    Ok(BufReader::with_capacity(256 * 1024, f))
}

/// `minyi audit verify`: the hashes always; every mark when the key file is there (a key file
/// named by flag or environment must be there); each `--head` given.
async fn verify_audit(a: AuditVerifyArgs) -> anyhow::Result<()> {
    let heads = a
        .head
        .iter()
        .map(|h| parse_head(h))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let db = a.db.connect().await?;
    let path = db.audit_key_path();
    let key = match db.load_audit_key() {
        Ok(k) => Some(k),
        Err(crate::audit_key::KeyError::Missing(_)) if a.db.audit_key_file.is_none() => None,
        Err(e) => return Err(e.into()),
    };
    let checked = db
        .verify_audit(key.as_ref())
        .await?
        .map_err(|broken| anyhow::anyhow!("{broken}"))?;
    for (id, hash) in &heads {
        match db.audit_hash(*id).await? {
            Some(h) if h == *hash => {}
            Some(h) => anyhow::bail!(
                "the published head {id}:{hash} is not in the chain: entry {id} has hash {h}"
            ),
            None => anyhow::bail!(
                "the published head {id}:{hash} is not in the chain: it has only {} entries",
                checked.count
            ),
        }
    }
    db.close().await;
    println!(
        "OK: {} entries, head {}:{}",
        checked.count, checked.count, checked.head
    );
    match &key {
        Some(k) => {
            println!(
                "hashes and audit-key marks checked (key file {}): {} entries keyed",
                k.path().display(),
                checked.keyed
            );
            if checked.unkeyed > 0 {
                println!(
                    "{} older entries (1 to {}) were written before the audit key existed and are unkeyed",
                    checked.unkeyed, checked.unkeyed
                );
            }
        }
        None => {
            println!(
                "hashes only: no audit key file at {} (give it with --audit-key-file); a chain recomputed by someone with database access would also pass",
                path.display()
            );
        }
    }
    for (id, _) in &heads {
        println!("published head {id} is in the chain");
    }
    Ok(())
}

/// A published head: `<id>:<64 hex>`.
fn parse_head(text: &str) -> anyhow::Result<(i64, String)> {
    let parsed = text.trim().split_once(':').and_then(|(id, hash)| {
        let id: i64 = id.trim().parse().ok()?;
        let hash = hash.trim().to_ascii_lowercase();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, hash))
    });
    parsed.ok_or_else(|| {
        anyhow::anyhow!("--head {text:?} is not <entry id>:<64 hexadecimal characters>")
    })
}
