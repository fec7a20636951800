//! Benchmark: the draw over 1,000 villages × 1,000 recipients, side by side with
//! the time merely to read and fingerprint the same rosters, in the same run.
//!
//! - offline: `read_roster_dir` over 1,000 roster CSV files (reference) against `draw_dir`
//!   plus `write_ranked_csv` to a file (the whole `minyi draw`, minus printing);
//! - in the app: reading every frozen frame from SQLite and fingerprinting it (reference)
//!   against `ops::draw::draw` (reads, draws, checks the frame fingerprint, stores the record
//!   and the ranked lists). A campaign can be drawn only once, so every round imports the
//!   rosters into a fresh database first (not timed).
//!
//! Each figure is the median of 3 rounds. The target: a draw adds under 50% to its reference.
//!
//! Run: `cargo bench --bench draw`.
//! Optional: `VILLAGES=100 RECIPIENTS=500 cargo bench --bench draw`.

use minyi::db::{Db, RosterTarget};
use minyi::domain::VillageCode;
use minyi::ids::AccountId;
use minyi::roster::Limits;
use minyi::sampling::{self, DrawRecord, Seed, SizeRule};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

const SEED: &str = "bench 2026 town meeting dice 6 2 5 1 3 4 4 2 6 1";

fn main() -> anyhow::Result<()> {
    let villages = env_usize("VILLAGES", 1000);
    let recipients = env_usize("RECIPIENTS", 1000);
    let dir = tempfile::tempdir()?;
    let rosters = dir.path().join("rosters");
    let bytes = generate(&rosters, villages, recipients)?;
    println!(
        "rosters: {villages} villages × {recipients} recipients, {:.1} MB of UTF-8 CSV (姓名,电话)",
        bytes as f64 / 1e6
    );

    let seed = Seed::parse(SEED).map_err(anyhow::Error::msg)?;
    let rule = SizeRule::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut times = Times::default();
    let mut offline_record = None;
    for round in 0..3 {
        // (a) read and fingerprint the files: the receipts carry the fingerprints.
        let started = Instant::now();
        let loaded = minyi::offline::read_roster_dir(&rosters, &mut no_warnings)?;
        let fingerprints: usize = loaded
            .iter()
            .filter(|r| r.receipt.fingerprint.len() == 64)
            .count();
        times.read_files.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(fingerprints == villages, "every roster is fingerprinted");
        drop(loaded);

        // (b) the offline draw: read, draw, write the ranked list.
        let ranked = dir.path().join("ranked.csv");
        let started = Instant::now();
        let (record, strata) =
            minyi::offline::draw_dir(&rosters, &seed, None, &rule, &mut no_warnings)?;
        let out = BufWriter::with_capacity(256 * 1024, std::fs::File::create(&ranked)?);
        minyi::offline::write_ranked_csv(out, &strata)?;
        times.draw_files.push(started.elapsed().as_secs_f64());
        drop(strata);
        offline_record = Some(record);

        // (c) in the app, on a fresh database.
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("app{round}.db")).display()
        );
        let (reference, drawn, record) = rt.block_on(in_app(&url, &rosters, &seed))?;
        times.read_db.push(reference);
        times.draw_db.push(drawn);
        let offline = offline_record.as_ref().expect("set above");
        anyhow::ensure!(
            record.villages == offline.villages
                && record.frame_fingerprint == offline.frame_fingerprint,
            "the in-app draw and the offline draw of the same rosters disagree"
        );
    }

    let read_files = median(&mut times.read_files);
    let draw_files = median(&mut times.draw_files);
    let read_db = median(&mut times.read_db);
    let draw_db = median(&mut times.draw_db);
    let sampled: u64 = offline_record
        .as_ref()
        .map(|r| r.villages.iter().map(|v| v.size).sum())
        .unwrap_or(0);
    println!(
        "median of 3 rounds; {sampled} recipients in the primary samples; \
         in-app and offline records identical in every round"
    );
    println!();
    println!("| what | time (s) | added over its reference |");
    println!("| --- | ---: | ---: |");
    println!(
        "| reference: read and fingerprint {villages} roster files (`read_roster_dir`) | {read_files:.3} | |"
    );
    println!(
        "| offline draw from the files (`draw_dir` + `write_ranked_csv`) | {draw_files:.3} | {:+.1}% |",
        added(draw_files, read_files)
    );
    println!(
        "| reference: read the frozen frames from SQLite and fingerprint them (`campaign_frames` + `fingerprint`) | {read_db:.3} | |"
    );
    println!(
        "| in-app draw (`ops::draw::draw`: read, draw, check, store, audit) | {draw_db:.3} | {:+.1}% |",
        added(draw_db, read_db)
    );
    println!();
    println!("target: each draw adds under 50% to its reference");
    Ok(())
}

#[derive(Default)]
struct Times {
    read_files: Vec<f64>,
    draw_files: Vec<f64>,
    read_db: Vec<f64>,
    draw_db: Vec<f64>,
}

fn added(draw: f64, reference: f64) -> f64 {
    (draw / reference - 1.0) * 100.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn no_warnings(warning: String) {
    panic!("the generated rosters have no invalid rows, yet: {warning}");
}

/// Imports the rosters into a fresh database, freezes the campaign and enters the seed
/// (not timed); then times the reference read and the draw. Returns (reference, draw, record).
async fn in_app(url: &str, rosters: &Path, seed: &Seed) -> anyhow::Result<(f64, f64, DrawRecord)> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    minyi::http::bootstrap_admin(&db).await?;
    let admin = AccountId(1);
    let campaign = db.create_campaign("bench", "唐家坊镇", 2026).await?;
    let mut files: Vec<_> = std::fs::read_dir(rosters)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let code = VillageCode::parse(stem).map_err(anyhow::Error::msg)?;
        let village = db.create_village(&code, &format!("村{stem}")).await?;
        let target = RosterTarget {
            campaign_id: campaign,
            village_id: village,
            file_name: format!("{stem}.csv"),
            uploaded_by: Some(admin),
        };
        let input = std::io::BufReader::new(std::fs::File::open(&file)?);
        db.import_roster(&target, input, Limits::default()).await?;
    }
    anyhow::ensure!(
        db.freeze(campaign, sampling::frame_fingerprint).await?,
        "freeze"
    );
    anyhow::ensure!(
        db.enter_seed(campaign, seed.as_str(), &seed.commitment(), admin)
            .await?,
        "enter the seed"
    );

    // One untimed read first, so that neither timed read pays for a cold connection,
    // statement preparation or the page cache.
    drop(db.campaign_frames(campaign).await?);

    let started = Instant::now();
    let frames = db.campaign_frames(campaign).await?;
    let fingerprints: Vec<String> = frames
        .iter()
        .map(|f| sampling::fingerprint(&f.phones))
        .collect();
    let reference = started.elapsed().as_secs_f64();
    anyhow::ensure!(fingerprints.len() == frames.len());
    drop(frames);

    let started = Instant::now();
    let record = minyi::ops::draw::draw(&db, admin, campaign)
        .await
        .map_err(|e| anyhow::anyhow!("draw: {e}"))?;
    let drawn = started.elapsed().as_secs_f64();
    db.close().await;
    Ok((reference, drawn, record))
}

/// Writes `<code>.csv` for every village: header 姓名,电话, phones unique within a
/// village, every tenth one typed with dashes as villages do. Returns the bytes written.
fn generate(dir: &Path, villages: usize, recipients: usize) -> std::io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut bytes = 0;
    for v in 0..villages as u64 {
        let path = dir.join(format!("{}.csv", 430_527_000_000 + v));
        let mut w = BufWriter::new(std::fs::File::create(&path)?);
        writeln!(w, "姓名,电话")?;
        for r in 0..recipients as u64 {
            // For a fixed village, r · 7919 differs for every r < 10^9 / 7919: unique.
            let suffix = (v * 1_000_003 + r * 7_919) % 1_000_000_000;
            let prefix = 3 + r % 7;
            if r % 10 == 0 {
                let s = format!("{suffix:09}");
                writeln!(w, "居民{r},1{prefix}{}-{}", &s[..2], &s[2..])?;
            } else {
                writeln!(w, "居民{r},1{prefix}{suffix:09}")?;
            }
        }
        w.flush()?;
        bytes += std::fs::metadata(&path)?.len();
    }
    Ok(bytes)
}
