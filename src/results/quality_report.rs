//! The quality checks of a campaign read from the database (`results::quality` is the pure
//! side): each village's answer sheets with their durations (once fieldwork has closed),
//! its invalid numbers (`fieldwork::progress`), the count of its roster phones shared with
//! other villages, and its call-backs (`fieldwork::callback`).

use crate::db::Db;
use crate::duration::Duration;
use crate::fieldwork::callback::callback_lists;
use crate::forms::{Answers, Form};
use crate::ids::{CampaignId, VillageId};
use crate::results::quality::{VillageInput, VillageQuality, check_village};
use crate::sampling::callback::DEFAULT_PERCENT;
use anyhow::{Context, anyhow};
use std::collections::BTreeMap;

/// Every drawn village's checks, by village id. `answers_shown`: fieldwork has closed (the
/// checks from the answers are withheld before, as every figure from the answers is).
pub async fn campaign_quality(
    db: &Db,
    campaign_id: CampaignId,
    recipients: &Form,
    k: u64,
    answers_shown: bool,
) -> anyhow::Result<BTreeMap<VillageId, VillageQuality>> {
    let (progress, _) = crate::fieldwork::progress::progress_rows(db, campaign_id).await?;
    let shared: BTreeMap<VillageId, i64> = db
        .shared_phone_counts(campaign_id)
        .await?
        .into_iter()
        .collect();
    let callbacks: BTreeMap<VillageId, _> = callback_lists(db, campaign_id, DEFAULT_PERCENT)
        .await?
        .into_iter()
        .map(|v| (v.village_id, v.counts()))
        .collect();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let mut out = BTreeMap::new();
    for frame in db.frame_sizes(campaign_id).await? {
        let mut sheets = Vec::new();
        if answers_shown {
            for (json, duration) in db
                .recipient_sheets(campaign_id, frame.village_id)
                .await
                .with_context(|| format!("reading the answers of village {}", frame.code))?
            {
                let answers = Answers::from_json(recipients, &json)
                    .map_err(|e| anyhow!("a stored response of village {}: {e:?}", frame.code))?;
                sheets.push((answers, Duration::from_key(&duration)));
            }
        }
        let p = progress.iter().find(|p| p.code == frame.code);
        let input = VillageInput {
            sheets,
            answers_shown,
            not_recipients: p.map_or(0, |p| p.counts.ne),
            screened: p.map_or(0, |p| p.counts.i + p.counts.p + p.counts.ne),
            invalid_numbers: p.map_or(0, |p| count(p.invalid_numbers)),
            released: p.map_or(0, |p| count(p.released)),
            shared_phones: shared.get(&frame.village_id).copied().map_or(0, count),
            roster: count(frame.population),
            callbacks: callbacks
                .get(&frame.village_id)
                .copied()
                .unwrap_or_default(),
        };
        out.insert(frame.village_id, check_village(recipients, &input, k));
    }
    Ok(out)
}
