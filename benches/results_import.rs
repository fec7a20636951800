//! Benchmark (issue 5): import 100,000 result rows (case id, attempt time, outcome, answers)
//! into SQLite in one all-or-nothing import. Target: under 10 s.
//!
//! Run: `cargo bench --bench results_import` (optional `ROWS=20000`).

use minyi::db::{Db, RosterTarget};
use minyi::domain::VillageCode;
use minyi::forms::Kind;
use minyi::roster::Limits;
use minyi::sampling::Seed;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        minyi::http::bootstrap_admin(&db).await?;
        let village = db
            .create_village(
                &VillageCode::parse("430527101").map_err(anyhow::Error::msg)?,
                "唐家坊村",
            )
            .await?;
        let campaign = db.create_campaign("bench", "唐家坊镇", 2026).await?;
        let population = rows + rows / 5;
        let csv: String = std::iter::once("电话\n".to_string())
            .chain((0..population).map(|i| format!("{}\n", 13_000_000_000u64 + i as u64 * 7)))
            .collect();
        let target = RosterTarget {
            campaign_id: campaign,
            village_id: village,
            file_name: "r.csv".into(),
            uploaded_by: None,
        };
        db.import_roster(
            &target,
            std::io::Cursor::new(csv.into_bytes()),
            Limits::default(),
        )
        .await?;
        db.set_size_rule(
            campaign,
            &format!("{{\"method\":\"fixed\",\"size\":{rows}}}"),
        )
        .await?;
        db.freeze(campaign, minyi::sampling::frame_fingerprint)
            .await?;
        let seed = Seed::parse("bench seed 1 2 3 4 5 6 7 8").map_err(anyhow::Error::msg)?;
        db.enter_seed(campaign, seed.as_str(), &seed.commitment(), 1)
            .await?;
        minyi::draw::draw_campaign(&db, campaign, 1).await?;
        let forms = minyi::forms::builtin().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        minyi::fieldwork::start(&db, campaign, &forms).await?;
        let cases = db.cases(campaign, None).await?;
        // 40% completes with every required answer, 5% refusals (each releases a reserve
        // rank), the rest unanswered calls.
        let form = &forms.recipients;
        let questions: Vec<&minyi::forms::Question> = form
            .questions
            .iter()
            .filter(|q| q.show_if.is_none())
            .collect();
        let mut text = format!(
            "case_id,attempt_time,outcome,{}\n",
            questions
                .iter()
                .map(|q| q.id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        let answers: Vec<String> = questions
            .iter()
            .map(|q| match &q.kind {
                Kind::Single { options, .. } | Kind::Multiple { options, .. } => {
                    options[0].value.clone()
                }
                Kind::Text { .. } => "办事认真".into(),
            })
            .collect();
        let blanks = ",".repeat(questions.len());
        for (i, c) in cases.iter().take(rows).enumerate() {
            let time = format!("2026-11-{:02} {:02}:{:02}", 10 + i % 10, 9 + i % 9, i % 60);
            match i % 20 {
                0..=7 => {
                    text.push_str(&format!("{},{time},complete,{}\n", c.id, answers.join(",")))
                }
                8 => text.push_str(&format!("{},{time},refusal{blanks}\n", c.id)),
                _ => text.push_str(&format!("{},{time},no_answer{blanks}\n", c.id)),
            }
        }
        let pinned = db
            .pinned_forms(campaign)
            .await?
            .into_iter()
            .find(|f| f.role == "recipients")
            .ok_or_else(|| anyhow::anyhow!("no form"))?;
        println!(
            "results file: {rows} rows, {:.1} MB",
            text.len() as f64 / 1e6
        );
        let started = Instant::now();
        let summary = minyi::fieldwork::import_results(&db, campaign, form, &pinned, &text, 1)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let first = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let again = minyi::fieldwork::import_results(&db, campaign, form, &pinned, &text, 1)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let second = started.elapsed().as_secs_f64();
        println!("| what | rows | time (s) | rows/s |");
        println!("| --- | ---: | ---: | ---: |");
        println!(
            "| import ({} completes, {} reserve ranks released) | {} | {first:.2} | {:.0} |",
            summary.completes,
            summary.released,
            summary.recorded,
            summary.recorded as f64 / first
        );
        println!(
            "| the same file again (every row skipped) | {} | {second:.2} | |",
            again.skipped
        );
        anyhow::ensure!(
            again.recorded == 0 && again.skipped == rows,
            "a repeated import changed something"
        );
        println!("target: under 10 s for 100,000 rows on SQLite");
        db.close().await;
        Ok::<_, anyhow::Error>(())
    })
}
