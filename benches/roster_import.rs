//! Benchmark: import a generated 1,000,000-row roster CSV into SQLite, side by side
//! with the `sqlite3` shell's `.import` of the same file into a plain table, in the same run.
//!
//! Run: `cargo bench --bench roster_import` (needs the `sqlite3` shell on PATH).
//! Optional: `ROWS=200000 cargo bench --bench roster_import`.

use minyi::db::{Db, RosterTarget};
use minyi::domain::VillageCode;
use minyi::roster::Limits;
use std::io::{BufWriter, Write};
use std::process::Command;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("roster.csv");
    generate(&csv, rows)?;
    let size_mb = std::fs::metadata(&csv)?.len() as f64 / 1e6;
    println!("roster: {rows} rows, {size_mb:.1} MB (UTF-8 CSV, 4 columns)");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (mut references, mut ours, mut accepted) = (Vec::new(), Vec::new(), 0);
    for round in 0..3 {
        references.push(sqlite3_import(
            &csv,
            &dir.path().join(format!("plain{round}.db")),
        )?);
        let (t, n) = rt.block_on(minyi_import(
            &csv,
            &dir.path().join(format!("minyi{round}.db")),
            rows,
        ))?;
        ours.push(t);
        accepted = n;
    }
    let (reference, ours) = (median(&mut references), median(&mut ours));
    let peak_mb = peak_rss_kb() as f64 / 1024.0;

    println!("median of 3 runs each, alternating");
    println!("| what | time (s) | rows/s |");
    println!("| --- | --- | --- |");
    println!(
        "| sqlite3 `.import` into a plain table | {reference:.2} | {:.0} |",
        rows as f64 / reference
    );
    println!(
        "| minyi roster import ({accepted} accepted) | {ours:.2} | {:.0} |",
        rows as f64 / ours
    );
    println!(
        "ratio minyi / sqlite3: {:.2} (target ≤ 2.0)",
        ours / reference
    );
    println!("peak RSS of the minyi process: {peak_mb:.0} MB (target < 300 MB)");
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Reference: the sqlite3 shell importing the same file into a plain table.
fn sqlite3_import(csv: &std::path::Path, db: &std::path::Path) -> anyhow::Result<f64> {
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .arg(db)
        .arg(".mode csv")
        .arg(format!(".import {} roster", csv.display()))
        .status()?;
    anyhow::ensure!(status.success(), "sqlite3 .import failed");
    Ok(started.elapsed().as_secs_f64())
}

/// minyi: decode, normalise, deduplicate, fingerprint and store, in one transaction.
async fn minyi_import(
    csv: &std::path::Path,
    path: &std::path::Path,
    rows: u64,
) -> anyhow::Result<(f64, u64)> {
    {
        let db = Db::connect(&format!("sqlite://{}", path.display())).await?;
        db.migrate().await?;
        let village = db
            .create_village(
                &VillageCode::parse("430527101").map_err(anyhow::Error::msg)?,
                "唐家坊村",
            )
            .await?;
        let campaign = db.create_campaign("bench", "唐家坊镇", 2026).await?;
        let target = RosterTarget {
            campaign_id: campaign,
            village_id: village,
            file_name: "roster.csv".into(),
            uploaded_by: None,
        };
        let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(csv)?);
        let started = Instant::now();
        let receipt = db
            .import_roster(&target, file, Limits { max_rows: rows + 1 })
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        db.close().await;
        Ok((elapsed, receipt.accepted))
    }
}

/// A roster like a village's, scaled up: name, phone (some formatted), service, date.
fn generate(path: &std::path::Path, rows: u64) -> std::io::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "姓名,联系电话,服务事项,服务日期")?;
    for i in 0..rows {
        let phone = 13_000_000_000u64 + (i * 7_919) % 6_000_000_000;
        if i % 10 == 0 {
            let p = phone.to_string();
            writeln!(
                w,
                "居民{i},{}-{}-{},低保,2026-03-{:02}",
                &p[..3],
                &p[3..7],
                &p[7..],
                i % 28 + 1
            )?;
        } else {
            writeln!(w, "居民{i},{phone},医保报销,2026-03-{:02}", i % 28 + 1)?;
        }
    }
    w.flush()
}

/// Peak resident memory of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
