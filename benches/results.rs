//! Benchmark: a campaign's tallies and the tallies CSV for 1,000 villages × 1,000
//! responses, side by side with the database's own GROUP BY over the same rows, in the same
//! run. Target: within 3× of it, memory bounded.
//!
//! Set-up (not measured): a fresh SQLite database with 1,000 villages in one campaign, each
//! with a frame of 2,000 (`draw_strata`), the built-in forms pinned, and 1,000 recipients'
//! responses per village (plus a few panel ratings), generated from a seeded RNG and checked
//! by `forms::parse_answers`, as the survey pages would store them.
//!
//! Measured, best of three alternating rounds:
//! - minyi: `pinned_forms` + `campaign_results` + `tables::tallies` + the whole CSV through
//!   `export::csv_chunks` (UTF-8 with BOM) into a counting sink;
//! - SQLite: `json_each` over every response's answers (multiple choice expanded to one row
//!   per chosen option), `GROUP BY` village, questionnaire, question, option, fetched fully
//!   through sqlx (checked to count exactly what the tallies count); the same query in the
//!   `sqlite3` shell if it is installed; and the plain form (`json_each` top level only, a
//!   list of choices counted as one value).
//!
//! Then one more pass of `campaign_results`' loop with its halves timed apart (reading the
//! rows, folding them), and the process's peak RSS (VmHWM, reset before each measured run).
//!
//! Run: `cargo bench --bench results`
//! Optional: `VILLAGES=100 PER_VILLAGE=1000 PANEL=8 cargo bench --bench results`; `KEEP=1`
//! keeps the database file for a look with the `sqlite3` shell.

use minyi::db::Db;
use minyi::domain::VillageCode;
use minyi::export::{CsvEncoding, csv_chunks};
use minyi::fieldwork::pinned_forms;
use minyi::forms::{Form, Kind};
use minyi::ids::{CampaignId, VillageId};
use minyi::results::report::{campaign_results, fold_village};
use minyi::results::tables::{self, Cell};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Instant;

/// Every frame's size N (the finite-population step of the intervals reads it).
const POPULATION: i64 = 2_000;

/// (village, panel?, question, option) → how many chose it; counts every option of every
/// single and multiple choice question, free text left out (as the tallies do).
const GROUP_BY: &str =
    "SELECT r.village_id, r.mode = 'panel', j.key, COALESCE(e.value, j.value), COUNT(*)
     FROM responses r
     JOIN json_each(r.answers) j
     LEFT JOIN json_each(CASE WHEN j.type = 'array' THEN j.value END) e
     WHERE r.campaign_id = $1 AND j.key <> 'comment'
     GROUP BY 1, 2, 3, 4";

/// The plain form: each top-level value counted as it is (a list of choices as one value).
const GROUP_BY_PLAIN: &str = "SELECT r.village_id, j.key, j.value, COUNT(*)
     FROM responses r, json_each(r.answers) j
     WHERE r.campaign_id = $1
     GROUP BY 1, 2, 3";

type GroupRow = (i64, bool, String, String, i64);

fn main() -> anyhow::Result<()> {
    let villages = env("VILLAGES", 1_000);
    let per_village = env("PER_VILLAGE", 1_000);
    let panel = env("PANEL", 8);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let url = format!("sqlite://{}", path.display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let started = Instant::now();
        let (db, campaign, stored) = setup(&url, villages, per_village, panel).await?;
        let db_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!(
            "set-up: {villages} villages × {per_village} recipients' responses + {panel} panel \
             ratings each = {} responses, answers JSON {:.1} MB, database file {:.1} MB, in {:.1} s",
            stored.rows,
            stored.json_bytes as f64 / 1e6,
            db_bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        let setup_hwm = kib("VmHWM");
        let base_rss = kib("VmRSS");
        println!(
            "memory after set-up: peak RSS (VmHWM) {}, current RSS {}",
            mb(setup_hwm),
            mb(base_rss)
        );
        let Db::Sqlite(sqlite) = &db else {
            anyhow::bail!("SQLite only")
        };
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {GROUP_BY}")))
                .bind(campaign)
                .fetch_all(&sqlite.read)
                .await?;
        println!(
            "GROUP BY plan: {}",
            plan.iter()
                .map(|p| p.3.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&sqlite.read)
            .await?;
        println!("SQLite in the process (sqlx, bundled): {version}");
        let shell = which_sqlite3();
        let shell_sql = GROUP_BY.replace("$1", &campaign.to_string()) + ";";
        if let Some(shell) = &shell
            && let Ok(out) = std::process::Command::new(shell).arg("--version").output()
        {
            let v = String::from_utf8_lossy(&out.stdout);
            println!(
                "sqlite3 shell: {}",
                v.split_whitespace().next().unwrap_or("?")
            );
        }
        println!("load average before measuring: {}", loadavg());

        let mut minyi_runs: Vec<MinyiRun> = Vec::new();
        let (mut group_runs, mut plain_runs, mut shell_runs) = (Vec::new(), Vec::new(), Vec::new());
        let (mut groups, mut plain_groups) = (0, 0);
        // (peak RSS, its growth over the RSS just before) of the measured runs.
        let (mut minyi_peak, mut group_peak) = ((0u64, 0u64), (0u64, 0u64));
        for round in 1..=3 {
            let before = reset_peak();
            let run = minyi_tallies(&db, campaign).await?;
            minyi_peak = peak_since(minyi_peak, before);
            println!(
                "round {round}: minyi tallies + CSV {:.3} s (pinned_forms {:.3}, campaign_results {:.3}, \
                 tables::tallies {:.3}, CSV {:.3}); {} rows, {:.2} MB CSV",
                run.total,
                run.forms,
                run.results,
                run.table,
                run.csv,
                run.csv_rows,
                run.csv_bytes as f64 / 1e6
            );

            let before = reset_peak();
            let t = Instant::now();
            let rows: Vec<GroupRow> = sqlx::query_as(GROUP_BY)
                .bind(campaign)
                .fetch_all(&sqlite.read)
                .await?;
            let secs = t.elapsed().as_secs_f64();
            group_peak = peak_since(group_peak, before);
            println!(
                "round {round}: SQLite GROUP BY per option via sqlx {secs:.3} s; {} groups",
                rows.len()
            );
            if round == 1 {
                check_same_counts(&run.counts, &rows)?;
            }
            group_runs.push(secs);
            groups = rows.len();
            drop(rows);
            minyi_runs.push(run);

            let before = reset_peak();
            let t = Instant::now();
            let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(GROUP_BY_PLAIN)
                .bind(campaign)
                .fetch_all(&sqlite.read)
                .await?;
            let secs = t.elapsed().as_secs_f64();
            group_peak = peak_since(group_peak, before);
            println!(
                "round {round}: SQLite plain json_each GROUP BY via sqlx {secs:.3} s; {} groups",
                rows.len()
            );
            plain_runs.push(secs);
            plain_groups = rows.len();

            if let Some(shell) = &shell {
                let t = Instant::now();
                let status = std::process::Command::new(shell)
                    .arg("-readonly")
                    .arg(&path)
                    .arg(&shell_sql)
                    .stdout(std::process::Stdio::null())
                    .status()?;
                anyhow::ensure!(status.success(), "sqlite3 failed");
                let secs = t.elapsed().as_secs_f64();
                println!(
                    "round {round}: SQLite GROUP BY per option in the sqlite3 shell {secs:.3} s"
                );
                shell_runs.push(secs);
            }
        }
        let end_hwm = kib("VmHWM");
        let (read, fold) = breakdown(&db, campaign).await?;
        println!(
            "breakdown (one more run of campaign_results' loop): reading the rows \
             (village_responses) {read:.3} s, parsing and folding them (fold_village) {fold:.3} s"
        );
        println!("load average after measuring: {}", loadavg());

        let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let minyi_best = best(&minyi_runs.iter().map(|r| r.total).collect::<Vec<_>>());
        let results_best = best(&minyi_runs.iter().map(|r| r.results).collect::<Vec<_>>());
        let group_best = best(&group_runs);
        let plain_best = best(&plain_runs);
        let last = minyi_runs.last().ok_or_else(|| anyhow::anyhow!("no run"))?;
        let per_s = |secs: f64| stored.rows as f64 / secs;
        println!();
        println!(
            "{} responses in {villages} villages; best of 3 each",
            stored.rows
        );
        println!("| what | time (s) | responses/s |");
        println!("| --- | ---: | ---: |");
        println!(
            "| SQLite GROUP BY per option (json_each, lists expanded; sqlx, fetch all; {groups} groups) | {group_best:.3} | {:.0} |",
            per_s(group_best)
        );
        println!(
            "| SQLite plain json_each GROUP BY (lists as one value; sqlx; {plain_groups} groups) | {plain_best:.3} | {:.0} |",
            per_s(plain_best)
        );
        if !shell_runs.is_empty() {
            let shell_best = best(&shell_runs);
            println!(
                "| the per-option GROUP BY in the sqlite3 shell | {shell_best:.3} | {:.0} |",
                per_s(shell_best)
            );
        }
        println!(
            "| minyi `campaign_results` alone | {results_best:.3} | {:.0} |",
            per_s(results_best)
        );
        println!(
            "| minyi tallies + CSV ({} rows, {:.2} MB) | {minyi_best:.3} | {:.0} |",
            last.csv_rows,
            last.csv_bytes as f64 / 1e6,
            per_s(minyi_best)
        );
        for (what, reference) in [("per-option", group_best), ("plain", plain_best)] {
            let ratio = minyi_best / reference;
            println!(
                "ratio minyi / SQLite {what} GROUP BY: {ratio:.2} ({} the 3× target)",
                if ratio <= 3.0 { "within" } else { "OUTSIDE" }
            );
        }
        println!(
            "memory: peak RSS after set-up {}; RSS when measuring began {}; peak during a minyi \
             run {} (at most +{} over the RSS before it); peak during a GROUP BY run {} (at most \
             +{}); peak RSS at the end {}",
            mb(setup_hwm),
            mb(base_rss),
            mb(Some(minyi_peak.0)),
            mb(Some(minyi_peak.1)),
            mb(Some(group_peak.0)),
            mb(Some(group_peak.1)),
            mb(end_hwm)
        );
        db.close().await;
        Ok::<_, anyhow::Error>(())
    })?;
    if std::env::var_os("KEEP").is_some() {
        println!("database kept: {}", dir.keep().join("bench.db").display());
    }
    Ok(())
}

/// `campaign_results`' loop with its two halves timed apart.
async fn breakdown(db: &Db, campaign: CampaignId) -> anyhow::Result<(f64, f64)> {
    let forms = pinned_forms(db, campaign).await?;
    let (mut read, mut fold) = (0.0, 0.0);
    for frame in db.frame_sizes(campaign).await? {
        let t = Instant::now();
        let responses = db.village_responses(campaign, frame.village_id).await?;
        read += t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(fold_village(&frame, &responses, &forms)?);
        fold += t.elapsed().as_secs_f64();
    }
    Ok((read, fold))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A field of /proc/self/status, in KiB.
fn kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mb(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.0} MB", k as f64 * 1024.0 / 1e6))
        .unwrap_or_else(|| "unknown".into())
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the next reading is the peak of what
/// follows (if it cannot, readings stay the peak since the start); returns that RSS.
fn reset_peak() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    kib("VmRSS").unwrap_or(0)
}

/// The larger of `so_far` and (the peak since the reset, its growth over `before`).
fn peak_since(so_far: (u64, u64), before: u64) -> (u64, u64) {
    let peak = kib("VmHWM").unwrap_or(0);
    (
        so_far.0.max(peak),
        so_far.1.max(peak.saturating_sub(before)),
    )
}

fn which_sqlite3() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join("sqlite3"))
        .find(|p| p.is_file())
}

/// One timed run of the tallies download.
struct MinyiRun {
    total: f64,
    forms: f64,
    results: f64,
    table: f64,
    csv: f64,
    csv_rows: usize,
    csv_bytes: usize,
    /// (village, panel?, question) → answers counted over its options, for the check.
    counts: HashMap<(i64, bool, String), u64>,
}

/// What the commission's tallies download does: the pinned forms, every village's responses
/// read and folded one village at a time, the tallies table, the CSV streamed out.
async fn minyi_tallies(db: &Db, campaign: CampaignId) -> anyhow::Result<MinyiRun> {
    let t0 = Instant::now();
    let forms = pinned_forms(db, campaign).await?;
    let t1 = Instant::now();
    let results = campaign_results(db, campaign, &forms).await?;
    let t2 = Instant::now();
    let table = tables::tallies(&results);
    let t3 = Instant::now();
    let header: Vec<String> = table.header().into_iter().map(String::from).collect();
    let rows = table
        .rows
        .iter()
        .map(|row| row.iter().map(Cell::to_csv).collect::<Vec<String>>());
    let mut csv_bytes = 0;
    let mut sink = std::io::sink();
    for chunk in csv_chunks(header, rows, CsvEncoding::Utf8Bom) {
        csv_bytes += chunk.len();
        std::io::Write::write_all(&mut sink, &chunk)?;
    }
    let t4 = Instant::now();
    let mut counts = HashMap::new();
    for v in &results.villages {
        for (panel, tally) in [(false, &v.recipients), (true, &v.panel)] {
            for c in tally.counts(0) {
                *counts
                    .entry((v.village_id.0, panel, c.question))
                    .or_default() += c.count.unwrap_or(0);
            }
        }
    }
    Ok(MinyiRun {
        total: (t4 - t0).as_secs_f64(),
        forms: (t1 - t0).as_secs_f64(),
        results: (t2 - t1).as_secs_f64(),
        table: (t3 - t2).as_secs_f64(),
        csv: (t4 - t3).as_secs_f64(),
        csv_rows: table.rows.len(),
        csv_bytes,
        counts,
    })
}

/// The GROUP BY must have counted what the tallies counted: per village, questionnaire and
/// question, the same number of chosen options.
fn check_same_counts(
    minyi: &HashMap<(i64, bool, String), u64>,
    rows: &[GroupRow],
) -> anyhow::Result<()> {
    let mut sql: HashMap<(i64, bool, String), u64> = HashMap::new();
    for (village, panel, question, _, n) in rows {
        *sql.entry((*village, *panel, question.clone())).or_default() += *n as u64;
    }
    let minyi: HashMap<_, _> = minyi
        .iter()
        .filter(|e| *e.1 > 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    anyhow::ensure!(
        minyi == sql,
        "the GROUP BY and the tallies counted differently ({} vs {} cells)",
        sql.len(),
        minyi.len()
    );
    let total: u64 = sql.values().sum();
    println!(
        "check: the GROUP BY and the tallies agree on all {} (village, questionnaire, question) \
         totals, {total} chosen options",
        sql.len()
    );
    Ok(())
}

/// What the set-up stored.
struct Stored {
    rows: usize,
    json_bytes: usize,
}

/// A campaign in fieldwork with `villages` villages, each `per_village` recipients'
/// responses and `panel` panel ratings.
async fn setup(
    url: &str,
    villages: usize,
    per_village: usize,
    panel: usize,
) -> anyhow::Result<(Db, CampaignId, Stored)> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let list: Vec<(VillageCode, String)> = (0..villages)
        .map(|i| {
            let code = VillageCode::parse(&format!("4305{i:05}")).map_err(anyhow::Error::msg)?;
            Ok((code, format!("第{}村", i + 1)))
        })
        .collect::<anyhow::Result<_>>()?;
    db.import_villages(&list).await?;
    let village_ids: Vec<VillageId> = db.list_villages().await?.iter().map(|v| v.id).collect();
    anyhow::ensure!(village_ids.len() == villages, "villages not created");
    let campaign = db.create_campaign("bench", "唐家坊镇", 2026).await?;
    let forms = minyi::forms::builtin().map_err(|e| anyhow::anyhow!("{e:?}"))?;

    // Bulk rows through a pool of its own (bigger page cache, no fsync until the end),
    // closed before anything is measured.
    let options = SqliteConnectOptions::from_str(url)?
        .pragma("cache_size", "-131072")
        .pragma("synchronous", "OFF");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE campaigns SET state = 'fieldwork', frozen_at = 1, fieldwork_started_at = 1 WHERE id = $1",
    )
    .bind(campaign)
    .execute(&mut *tx)
    .await?;
    for chunk in village_ids.chunks(500) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO draw_strata (campaign_id, village_id, population, size, fingerprint, list_sha256, ranked) ",
        );
        q.push_values(chunk, |mut b, id| {
            b.push_bind(campaign)
                .push_bind(*id)
                .push_bind(POPULATION)
                .push_bind(per_village as i64)
                .push_bind("bench")
                .push_bind("bench")
                .push_bind("");
        });
        q.build().execute(&mut *tx).await?;
    }
    for (role, id, version, sha256, source) in [
        (
            "recipients",
            &forms.recipients.id,
            &forms.recipients.version,
            &forms.recipients.sha256,
            &forms.recipients.source,
        ),
        (
            "panel",
            &forms.panel.id,
            &forms.panel.version,
            &forms.panel.sha256,
            &forms.panel.source,
        ),
        (
            "scheme",
            &forms.scheme.id,
            &forms.scheme.version,
            &forms.scheme.sha256,
            &forms.scheme.source,
        ),
    ] {
        sqlx::query("INSERT INTO campaign_forms (campaign_id, role, form_id, version, sha256, source) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(campaign).bind(role).bind(id).bind(version).bind(sha256).bind(source)
            .execute(&mut *tx).await?;
    }

    // Every response's slot: (village index, panel?), shuffled, so that a village's
    // responses lie scattered over the table as random ids leave them. The ids are drawn
    // in increasing order (random gaps), so the rows go in as appends.
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let lean: Vec<f64> = (0..villages)
        .map(|_| rng.random_range(0.45..0.97))
        .collect();
    let mut slots: Vec<(u32, bool)> = (0..villages as u32)
        .flat_map(|v| {
            std::iter::repeat_n((v, false), per_village)
                .chain(std::iter::repeat_n((v, true), panel))
        })
        .collect();
    slots.shuffle(&mut rng);
    let gap = u128::MAX / (slots.len() as u128 + 1);
    let mut id: u128 = 0;
    let mut stored = Stored {
        rows: 0,
        json_bytes: 0,
    };
    for chunk in slots.chunks(1_000) {
        let mut rows = Vec::with_capacity(chunk.len());
        for &(v, is_panel) in chunk {
            id += 1 + rng.random_range(0..gap);
            let form = if is_panel {
                &forms.panel
            } else {
                &forms.recipients
            };
            let fields = respondent(form, lean[v as usize], &mut rng);
            let answers = minyi::forms::parse_answers(form, &fields)
                .map_err(|e| anyhow::anyhow!("generated answers invalid: {e}"))?;
            let json = answers.to_json();
            stored.json_bytes += json.len();
            let mode = if is_panel {
                "panel"
            } else if rng.random_bool(0.25) {
                "phone"
            } else {
                "self"
            };
            let day = format!("2026-11-{:02}", rng.random_range(10..=30));
            rows.push((
                format!("{id:032x}"),
                village_ids[v as usize],
                form,
                mode,
                json,
                day,
            ));
        }
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO responses (id, campaign_id, village_id, form_id, form_version, form_sha256, mode, answers, answered_on) ",
        );
        q.push_values(&rows, |mut b, r| {
            b.push_bind(r.0.as_str())
                .push_bind(campaign)
                .push_bind(r.1)
                .push_bind(r.2.id.as_str())
                .push_bind(r.2.version.as_str())
                .push_bind(r.2.sha256.as_str())
                .push_bind(r.3)
                .push_bind(r.4.as_str())
                .push_bind(r.5.as_str());
        });
        q.build().execute(&mut *tx).await?;
        stored.rows += rows.len();
    }
    tx.commit().await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok((db, campaign, stored))
}

const COMMENTS: &[&str] = &[
    "路灯坏了很久没人修",
    "希望村务公开再及时一些，账目贴出来看得懂",
    "低保评定要公开透明",
    "办事效率挺高，点赞",
    "建议多开群众会，听听大家的意见",
    "垃圾清运不及时",
    "村里的路需要修一修",
    "打了电话13800138000没人接",
    "补贴发放要按时",
    "干部态度好，\n就是有时候找不到人",
];

/// One respondent's HTML form fields for `form`: the screener passed, scored single choices
/// leaning to the satisfied side with probability `lean` (±0.15 per respondent), 4% 说不清,
/// unscored ones mostly their last option; multiple choices of one
/// to three options (required ones always, others four times in five); a comment now and
/// then. Conditional questions are answered only where shown.
fn respondent(form: &Form, lean: f64, rng: &mut ChaCha8Rng) -> Vec<(String, String)> {
    let lean = (lean + rng.random_range(-0.15..0.15)).clamp(0.02, 0.99);
    let mut fields: Vec<(String, String)> = Vec::new();
    for q in &form.questions {
        if let Some(cond) = &q.show_if
            && !fields
                .iter()
                .any(|(k, v)| k == &cond.question && cond.any_of.contains(v))
        {
            continue;
        }
        match &q.kind {
            Kind::Single { .. } if q.id == minyi::forms::SCREENER_QUESTION => {
                // Everyone drawn from a roster of recipients has used the services.
                fields.push((q.id.clone(), minyi::forms::SCREENER_YES.to_string()));
            }
            Kind::Single { options, .. } if !q.is_scored() => {
                // Unscored (coached, age band): any option, the last most often.
                let i = if rng.random_bool(0.9) {
                    options.len() - 1
                } else {
                    rng.random_range(0..options.len())
                };
                fields.push((q.id.clone(), options[i].value.clone()));
            }
            Kind::Single { options, dont_know } => {
                let value = if dont_know.is_some() && rng.random_bool(0.04) {
                    "dont_know".to_string()
                } else {
                    let n = options.len();
                    let i = if rng.random_bool(lean) {
                        usize::from(rng.random_bool(0.4))
                    } else {
                        (n / 2 + usize::from(rng.random_bool(0.35))).min(n - 1)
                    };
                    options[i].value.clone()
                };
                fields.push((q.id.clone(), value));
            }
            Kind::Multiple {
                options,
                max_choices,
            } => {
                if !q.required && rng.random_bool(0.2) {
                    continue;
                }
                let most = max_choices.unwrap_or(3).min(3).min(options.len());
                let n = rng.random_range(1..=most);
                let mut picked: Vec<&str> = options.iter().map(|c| c.value.as_str()).collect();
                picked.shuffle(rng);
                for v in picked.into_iter().take(n) {
                    fields.push((q.id.clone(), v.to_string()));
                }
            }
            Kind::Text { .. } => {
                if rng.random_bool(0.07) {
                    let c = COMMENTS[rng.random_range(0..COMMENTS.len())];
                    fields.push((q.id.clone(), c.to_string()));
                }
            }
        }
    }
    fields
}
