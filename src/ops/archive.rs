//! Data protection: recording that a campaign's archive was exported, and purging its
//! phone numbers and names once it was.

use super::Actor;
use crate::db::{Db, DbError, PurgeError, Purged};
use crate::ids::CampaignId;
use serde_json::json;

/// Records that the archive (`sha256` of the .zip, `files` in it) was exported, which the
/// purge requires.
pub async fn record_export(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    sha256: &str,
    files: usize,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.mark_archived(campaign).await?;
    let details = json!({ "sha256": sha256, "files": files });
    tx.audit(db, &by.event("campaign.archive", Some(campaign), details))
        .await?;
    tx.commit().await
}

/// Purges the campaign's phone numbers and names (with its `campaign.purge` entry, in one
/// transaction), then erases the deleted rows from the database's files. Purging again
/// is `AlreadyPurged` and finishes an erasure an earlier purge could not complete.
pub async fn purge(db: &Db, by: &Actor, campaign: CampaignId) -> Result<Purged, PurgeError> {
    let mut tx = db.begin().await?;
    let purged = match tx.purge_campaign(campaign).await {
        Ok(purged) => purged,
        Err(PurgeError::AlreadyPurged) => {
            drop(tx);
            db.erase_deleted_data().await?;
            return Err(PurgeError::AlreadyPurged);
        }
        Err(e) => return Err(e),
    };
    tx.audit(
        db,
        &by.event("campaign.purge", Some(campaign), json!(purged)),
    )
    .await?;
    tx.commit().await?;
    db.erase_deleted_data().await?;
    tracing::info!(campaign = campaign.0, ?purged, "campaign purged");
    Ok(purged)
}
