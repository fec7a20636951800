//! Campaigns and villages: create a campaign, set its notice to respondents and where
//! objections to its publicity are received, add a village, import the village list.

use super::Actor;
use crate::db::{Db, DbError, Notice};
use crate::domain::VillageCode;
use crate::ids::{CampaignId, VillageId};
use crate::results::notice::Contact;
use serde_json::json;

/// Creates a campaign, collecting rosters.
pub async fn create(
    db: &Db,
    by: &Actor,
    name: &str,
    town: &str,
    year: i64,
) -> Result<CampaignId, DbError> {
    create_marked(db, by, name, town, year, false).await
}

/// Creates a campaign of invented data, marked as demo on every page (`minyi demo`).
pub async fn create_demo(
    db: &Db,
    by: &Actor,
    name: &str,
    town: &str,
    year: i64,
) -> Result<CampaignId, DbError> {
    create_marked(db, by, name, town, year, true).await
}

async fn create_marked(
    db: &Db,
    by: &Actor,
    name: &str,
    town: &str,
    year: i64,
    demo: bool,
) -> Result<CampaignId, DbError> {
    let mut tx = db.begin().await?;
    let id = tx.create_campaign(name, town, year).await?;
    if demo {
        tx.mark_demo(id).await?;
    }
    let mut details = json!({ "name": name, "town": town, "year": year });
    if demo {
        details["demo"] = true.into();
    }
    tx.audit(db, &by.event("campaign.create", Some(id), details))
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Sets the campaign's notice to respondents (who runs the survey, the verification number,
/// where numbers came from, retention, whom to ask); `DbError::NotFound` without the campaign.
pub async fn set_notice(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    notice: &Notice,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.set_notice(campaign, notice).await?;
    let details = json!({
        "party": notice.party,
        "phone": notice.phone,
        "source": notice.source,
        "retention": notice.retention,
        "contact": notice.contact,
    });
    tx.audit(db, &by.event("campaign.notice", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Why the objection contact was not saved.
#[derive(Debug, thiserror::Error)]
pub enum ContactRefused {
    /// Publicity has started: the posted notice names the contact it was published with.
    #[error("publicity has started; the notice's contact can no longer change")]
    Published,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why the creation's start day was not changed.
#[derive(Debug, thiserror::Error)]
pub enum CreationStartRefused {
    /// The campaign is approved: its results, and the window they used, are final.
    #[error("the campaign is approved; the creation's start day can no longer change")]
    Approved,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Sets the day the creation started (`YYYY-MM-DD`, checked by the caller), from which the
/// negative list's window is counted; refused once the campaign is approved.
pub async fn set_creation_start(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    day: &str,
) -> Result<(), CreationStartRefused> {
    let mut tx = db.begin().await?;
    if tx.campaign_approved(campaign).await? {
        return Err(CreationStartRefused::Approved);
    }
    tx.set_creation_start(campaign, day).await?;
    tx.audit(
        db,
        &by.event(
            "campaign.creation_start",
            Some(campaign),
            json!({ "day": day }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets where objections to the publicity notice are received and who issues it, before
/// publication only; `DbError::NotFound` without the campaign.
pub async fn set_notice_contact(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    contact: &Contact,
) -> Result<(), ContactRefused> {
    let mut tx = db.begin().await?;
    if tx.is_published(campaign).await? {
        return Err(ContactRefused::Published);
    }
    tx.set_objection_contact(
        campaign,
        contact.phone(),
        contact.address(),
        contact.issuer(),
    )
    .await?;
    let details = json!({
        "phone": contact.phone(),
        "address": contact.address(),
        "issuer": contact.issuer(),
    });
    tx.audit(
        db,
        &by.event("campaign.notice_contact", Some(campaign), details),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a village; a taken code is `DbError::Conflict` (nothing is stored).
pub async fn create_village(
    db: &Db,
    by: &Actor,
    code: &VillageCode,
    name: &str,
) -> Result<VillageId, DbError> {
    let mut tx = db.begin().await?;
    let id = tx.create_village(code, name).await?;
    let details = json!({ "code": code.as_str(), "name": name });
    tx.audit(db, &by.event("village.create", None, details))
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds the listed villages that are new and renames those whose name changed, all or
/// none; returns (added, renamed).
pub async fn import_villages(
    db: &Db,
    by: &Actor,
    villages: &[(VillageCode, String)],
) -> Result<(u64, u64), DbError> {
    let mut tx = db.begin().await?;
    let (added, renamed) = tx.import_villages(villages).await?;
    let details = json!({ "villages": villages.len(), "added": added, "renamed": renamed });
    tx.audit(db, &by.event("village.import", None, details))
        .await?;
    tx.commit().await?;
    Ok((added, renamed))
}
