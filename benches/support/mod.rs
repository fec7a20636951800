//! Set-up shared by the benchmarks: a campaign in fieldwork on a fresh database, and the
//! release `minyi serve` started as its own process. Each benchmark uses part of it.
#![allow(dead_code)]

use minyi::db::{Db, RosterTarget};
use minyi::domain::VillageCode;
use minyi::forms::FormSet;
use minyi::ids::{AccountId, CampaignId};
use minyi::roster::Limits;
use minyi::sampling::Seed;

/// One village of `population` recipients, `size` of them drawn and released as cases,
/// fieldwork started with the built-in forms. Returns the open database, the campaign id
/// and the forms.
pub async fn fieldwork_campaign(
    url: &str,
    population: usize,
    size: usize,
) -> anyhow::Result<(Db, CampaignId, FormSet)> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    minyi::http::bootstrap_admin(&db).await?;
    let village = db
        .create_village(
            &VillageCode::parse("430527101").map_err(anyhow::Error::msg)?,
            "唐家坊村",
        )
        .await?;
    let campaign = db.create_campaign("bench", "唐家坊镇", 2026).await?;
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
        &format!("{{\"method\":\"fixed\",\"size\":{size}}}"),
    )
    .await?;
    db.freeze(campaign, minyi::sampling::frame_fingerprint)
        .await?;
    let seed = Seed::parse("bench seed 1 2 3 4 5 6 7 8").map_err(anyhow::Error::msg)?;
    db.enter_seed(campaign, seed.as_str(), &seed.commitment(), AccountId(1))
        .await?;
    minyi::ops::draw::draw(&db, AccountId(1), campaign).await?;
    let forms = minyi::forms::builtin().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    minyi::fieldwork::start(&db, campaign, &forms).await?;
    Ok((db, campaign, forms))
}

/// Start the release `minyi serve` on a free loopback port over the database `url`, logging
/// at `log`; returns the process and its base URL. [`wait_ready`] waits for it to answer.
pub fn start_server(url: &str, log: &str) -> anyhow::Result<(std::process::Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let server = std::process::Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--base-url",
            &base,
        ])
        .env("DATABASE_URL", url)
        .env("MINYI_LOG", log)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    Ok((server, base))
}

/// Wait until the server at `base` answers `/healthz` (20 s at most).
pub async fn wait_ready(base: &str) -> anyhow::Result<()> {
    for _ in 0..400 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("server did not start")
}
