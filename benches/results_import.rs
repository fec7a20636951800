//! Benchmark: import 100,000 result rows (case id, attempt time, outcome, answers)
//! into SQLite in one all-or-nothing import. Target: under 10 s.
//!
//! Run: `cargo bench --bench results_import` (optional `ROWS=20000`).

mod support;

use minyi::forms::Kind;
use minyi::ids::AccountId;
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
        let (db, campaign, forms) =
            support::fieldwork_campaign(&url, rows + rows / 5, rows).await?;
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
        let cli = minyi::ops::Actor::cli();
        let started = Instant::now();
        let summary = minyi::ops::fieldwork::import_results(
            &db,
            &cli,
            campaign,
            form,
            &pinned,
            &text,
            AccountId(1),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let first = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let again = minyi::ops::fieldwork::import_results(
            &db,
            &cli,
            campaign,
            form,
            &pinned,
            &text,
            AccountId(1),
        )
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
