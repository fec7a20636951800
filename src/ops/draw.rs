//! The draw in the app: sample-size rule, seed commitment, freeze, seed entry and the draw
//! itself, each a conditional change on the campaign's state with its audit entry, by the
//! account `by` (also stored beside the seed and the draw). The draw offline, from roster
//! files, is [`crate::offline`]; the algorithm is [`crate::sampling`].

use super::Actor;
use crate::db::{Db, DbError};
use crate::domain::CampaignState;
use crate::ids::{AccountId, CampaignId};
use crate::sampling::{
    DrawRecord, Seed, SeedCommitment, SizeParameters, SizeRule, Stratum, draw_stratum,
};
use serde_json::json;

/// Why the app's draw did not happen. English for logs; `zh` for the page.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    #[error("the campaign is not frozen, or already drawn")]
    NotFrozen,
    #[error("no seed has been entered")]
    NoSeed,
    #[error("the frame changed since the freeze: frozen {frozen}, now {now}")]
    FrameChanged { frozen: String, now: String },
    #[error("stored draw settings are invalid: {0}")]
    Settings(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl DrawError {
    pub fn zh(&self) -> String {
        match self {
            DrawError::NotFrozen => "只能在名单冻结之后、尚未抽样时抽样。".into(),
            DrawError::NoSeed => "请先录入随机种子。".into(),
            DrawError::FrameChanged { .. } => {
                "冻结后的名单与冻结时的指纹不一致,已停止抽样。请联系系统管理员核查数据库。".into()
            }
            DrawError::Settings(_) | DrawError::Db(_) => "系统错误,未抽样。".into(),
        }
    }
}

/// The campaign's sample-size rule, from its stored parameters.
pub fn size_rule(parameters_json: &str) -> Result<SizeRule, String> {
    let params: SizeParameters =
        serde_json::from_str(parameters_json).map_err(|e| format!("size rule: {e}"))?;
    SizeRule::try_from(&params).map_err(|e| e.to_string())
}

/// Sets the sample-size rule (`rule_json`: JSON of [`SizeParameters`]); false, and nothing
/// changed, once the campaign no longer collects rosters.
pub async fn set_size_rule(
    db: &Db,
    by: AccountId,
    campaign: CampaignId,
    rule_json: &str,
) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    if !tx.set_size_rule(campaign, rule_json).await? {
        return Ok(false);
    }
    let rule: serde_json::Value = serde_json::from_str(rule_json).unwrap_or_default();
    let event = Actor::account(by).event("size.rule", Some(campaign), json!({ "rule": rule }));
    tx.audit(db, &event).await?;
    tx.commit().await?;
    Ok(true)
}

/// What became of a seed commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commitment {
    Registered,
    /// The rosters are frozen: too late to commit.
    NotCollecting,
    /// One is registered already; it cannot change.
    Exists,
}

/// Registers the SHA-256 commitment of the seed, once and only before the freeze.
pub async fn commit_seed(
    db: &Db,
    by: AccountId,
    campaign: CampaignId,
    commitment: &SeedCommitment,
) -> Result<Commitment, DbError> {
    if db.campaign(campaign).await?.state != CampaignState::Collecting {
        return Ok(Commitment::NotCollecting);
    }
    let mut tx = db.begin().await?;
    if !tx.commit_seed(campaign, commitment.as_str(), by).await? {
        return Ok(Commitment::Exists);
    }
    let details = json!({ "commitment": commitment.as_str() });
    tx.audit(
        db,
        &Actor::account(by).event("seed.commit", Some(campaign), details),
    )
    .await?;
    tx.commit().await?;
    Ok(Commitment::Registered)
}

/// Why the freeze was refused.
#[derive(Debug, thiserror::Error)]
pub enum FreezeRefused {
    /// The campaign draws only accepted villages and these (`code name`) still await a
    /// decision on their application.
    #[error("applications still await a decision: {}", .0.join(", "))]
    Pending(Vec<String>),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl FreezeRefused {
    pub fn zh(&self) -> String {
        match self {
            FreezeRefused::Pending(villages) => format!(
                "以下村(社区)的申报尚未作出受理或不受理的决定,不能冻结名单:{}。请先在“申报与受理”中逐一决定。",
                villages.join("、")
            ),
            FreezeRefused::Db(_) => "系统错误,名单未冻结。".into(),
        }
    }
}

/// Freezes the rosters and records the frame fingerprint, which it returns; `None`, and
/// nothing changed, if the campaign was not collecting. A campaign that draws only accepted
/// villages is refused while any application awaits a decision; its frame holds only the
/// accepted villages' rosters.
pub async fn freeze(
    db: &Db,
    by: AccountId,
    campaign: CampaignId,
) -> Result<Option<String>, FreezeRefused> {
    let mut tx = db.begin().await?;
    let Some(fingerprint) = tx
        .freeze(campaign, crate::sampling::frame_fingerprint)
        .await?
    else {
        return Ok(None);
    };
    // Read after the freeze locked the campaign: no decision can change in between.
    if tx.participation(campaign).await?.by_application() {
        let pending = tx.pending_applications(campaign).await?;
        if !pending.is_empty() {
            return Err(FreezeRefused::Pending(pending));
        }
    }
    let details = json!({ "frame_fingerprint": fingerprint });
    tx.audit(
        db,
        &Actor::account(by).event("freeze", Some(campaign), details),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(fingerprint))
}

/// What became of an entered seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedEntry {
    Entered,
    /// Not frozen yet, or a seed is in already.
    NotNow,
    /// A commitment is registered and this seed does not match it.
    Mismatch,
}

/// Enters the seed, once, after the freeze: the revealed seed of the registered
/// commitment, or (with none registered) a seed from a public event.
pub async fn enter_seed(
    db: &Db,
    by: AccountId,
    campaign: CampaignId,
    seed: &Seed,
) -> Result<SeedEntry, DbError> {
    let state = db.campaign(campaign).await?.state;
    let current = db.seed_state(campaign).await?;
    if state != CampaignState::Frozen || current.seed.is_some() {
        return Ok(SeedEntry::NotNow);
    }
    let hash = seed.commitment();
    if current.commitment.as_deref().is_some_and(|c| c != hash) {
        return Ok(SeedEntry::Mismatch);
    }
    let mut tx = db.begin().await?;
    if !tx.enter_seed(campaign, seed.as_str(), &hash, by).await? {
        return Ok(SeedEntry::NotNow);
    }
    let source = if current.commitment.is_some() {
        "reveal"
    } else {
        "public"
    };
    let details = json!({ "seed": seed.as_str(), "source": source });
    tx.audit(
        db,
        &Actor::account(by).event("seed.enter", Some(campaign), details),
    )
    .await?;
    tx.commit().await?;
    Ok(SeedEntry::Entered)
}

/// Draws a frozen campaign: every village's frozen frame ranked with the seed, checked
/// against the frame fingerprint of the freeze, then the record (with the audit head it
/// follows) and the ranked lists stored and the draw audited, at once.
pub async fn draw(
    db: &Db,
    by: AccountId,
    campaign_id: CampaignId,
) -> Result<DrawRecord, DrawError> {
    let campaign = db.campaign(campaign_id).await?;
    if campaign.state != CampaignState::Frozen {
        return Err(DrawError::NotFrozen);
    }
    let seed_state = db.seed_state(campaign_id).await?;
    let seed = Seed::parse(seed_state.seed.as_deref().ok_or(DrawError::NoSeed)?)
        .map_err(|e| DrawError::Settings(e.to_string()))?;
    let commitment = seed_state
        .commitment
        .as_deref()
        .map(SeedCommitment::parse)
        .transpose()
        .map_err(|e| DrawError::Settings(e.to_string()))?;
    let rule = size_rule(&campaign.size_rule).map_err(DrawError::Settings)?;
    let frames = db.campaign_frames(campaign_id).await?;
    // The shuffle is CPU work: keep it off the async workers, and before the transaction.
    let (record, strata) = tokio::task::spawn_blocking(move || {
        let mut ids = Vec::with_capacity(frames.len());
        let strata: Vec<Stratum<String>> = frames
            .into_iter()
            .map(|f| {
                ids.push(f.village_id);
                draw_stratum(&seed, &f.code, f.phones, &rule)
            })
            .collect();
        let records = strata.iter().map(Stratum::record).collect();
        let record = DrawRecord::new(&seed, commitment.as_ref(), &rule, records)
            .map_err(|e| DrawError::Settings(e.to_string()))?;
        let rows: Vec<_> = ids
            .into_iter()
            .zip(strata)
            .map(|(id, s)| {
                let ranked: String = s.ranked.iter().flat_map(|p| [p.as_str(), "\n"]).collect();
                (
                    id,
                    s.population() as i64,
                    s.size as i64,
                    s.fingerprint,
                    s.list_sha256,
                    ranked,
                )
            })
            .collect::<Vec<_>>();
        Ok::<_, DrawError>((record, rows))
    })
    .await
    .map_err(|e| DrawError::Settings(format!("draw task failed: {e}")))??;
    let frozen = campaign.frame_fingerprint.unwrap_or_default();
    if record.frame_fingerprint != frozen {
        return Err(DrawError::FrameChanged {
            frozen,
            now: record.frame_fingerprint,
        });
    }
    let mut record = record;
    let mut tx = db.begin().await?;
    // Read inside the transaction: the published head is exactly the entry before the draw's.
    record.audit_head = Some(tx.audit_head(db).await?);
    let json =
        serde_json::to_string_pretty(&record).map_err(|e| DrawError::Settings(e.to_string()))?;
    if !tx.save_draw(campaign_id, &json, &strata, by).await? {
        return Err(DrawError::NotFrozen);
    }
    let details = json!({
        "algorithm": record.algorithm, "seed": record.seed,
        "frame_fingerprint": record.frame_fingerprint, "villages": record.villages.len(),
    });
    tx.audit(
        db,
        &Actor::account(by).event("draw", Some(campaign_id), details),
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}
