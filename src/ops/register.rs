//! The title register (seed 三): a village's 联系领导 (两联), revoking a title, and creating
//! a 复核 round from the titles in force.

use super::Actor;
use crate::db::{Db, DbError};
use crate::ids::{CampaignId, TitleId, VillageId};
use crate::results::register::status;
use serde_json::json;

/// Sets or clears (`None`) a village's 联系领导 (checked by the caller);
/// `DbError::NotFound` without the village.
pub async fn set_contact_leader(
    db: &Db,
    by: &Actor,
    village: VillageId,
    leader: Option<&str>,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.set_contact_leader(village, leader).await?;
    let details = json!({ "village": village, "contact_leader": leader });
    tx.audit(db, &by.event("village.contact_leader", None, details))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a title was not revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeRefused {
    #[error("the title is already revoked")]
    AlreadyRevoked,
    #[error("the revocation day {day} is before the grant on {granted_on}")]
    BeforeGrant { day: String, granted_on: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Revokes a title on `day` (`YYYY-MM-DD`, not after today: checked by the caller) for
/// `reason`; `DbError::NotFound` without the title.
pub async fn revoke_title(
    db: &Db,
    by: &Actor,
    title: TitleId,
    day: &str,
    reason: &str,
) -> Result<(), RevokeRefused> {
    let mut tx = db.begin().await?;
    let row = tx.register_row(title).await?;
    if row.revoked_on.is_some() {
        return Err(RevokeRefused::AlreadyRevoked);
    }
    if day < row.granted_on.as_str() {
        return Err(RevokeRefused::BeforeGrant {
            day: day.into(),
            granted_on: row.granted_on,
        });
    }
    if !tx.revoke_title(title, day, reason).await? {
        return Err(RevokeRefused::AlreadyRevoked);
    }
    let details = json!({
        "title": title,
        "village": row.village_id,
        "revoked_on": day,
        "reason": reason,
    });
    tx.audit(
        db,
        &by.event("title.revoke", Some(row.campaign_id), details),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Why no 复核 round was created.
#[derive(Debug, thiserror::Error)]
pub enum ReviewRefused {
    /// No title is in force (valid or expiring) today: there is nothing to re-check.
    #[error("no title is in force")]
    NoTitles,
    /// Every title in force is already re-checked by a 复核 round not yet approved.
    #[error("every title in force is already in a review round not yet approved")]
    AllInReview,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A 复核 round created: its campaign and how many titles and villages it re-checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCreated {
    pub campaign: CampaignId,
    pub titles: usize,
    pub villages: usize,
}

/// Creates a 复核 round (seed 三(三)): a campaign of kind `review` that draws only accepted
/// villages, with one accepted application (no report, reason 复核) per village holding a
/// title in force on `today`, and the titles it re-checks recorded. A title already in a
/// 复核 round not yet approved is left to that round.
pub async fn create_review(
    db: &Db,
    by: &Actor,
    name: &str,
    town: &str,
    year: i64,
    today: &str,
) -> Result<ReviewCreated, ReviewRefused> {
    let mut tx = db.begin().await?;
    // First: a concurrent creation waits here, then sees the titles this one took.
    tx.lock_titles().await?;
    let in_force: Vec<_> = tx
        .register()
        .await?
        .into_iter()
        .filter(|t| status(&t.expires_on, t.revoked_on.as_deref(), today).in_force())
        .collect();
    if in_force.is_empty() {
        return Err(ReviewRefused::NoTitles);
    }
    let taken = tx.titles_in_open_review().await?;
    let in_force: Vec<_> = in_force
        .into_iter()
        .filter(|t| !taken.contains(&t.id))
        .collect();
    if in_force.is_empty() {
        return Err(ReviewRefused::AllInReview);
    }
    let campaign = tx.create_campaign(name, town, year).await?;
    tx.make_review(campaign).await?;
    let mut villages: Vec<VillageId> = Vec::new();
    for t in &in_force {
        tx.add_review_title(campaign, t.id).await?;
        // A village holding two titles in force (two rounds' grants) applies once.
        if !villages.contains(&t.village_id) {
            tx.accept_without_report(campaign, t.village_id, "复核", by.account_id())
                .await?;
            villages.push(t.village_id);
        }
    }
    let titles: Vec<TitleId> = in_force.iter().map(|t| t.id).collect();
    let details = json!({
        "name": name,
        "town": town,
        "year": year,
        "titles": titles,
        "villages": villages,
    });
    tx.audit(
        db,
        &by.event("campaign.review_create", Some(campaign), details),
    )
    .await?;
    tx.commit().await?;
    Ok(ReviewCreated {
        campaign,
        titles: titles.len(),
        villages: villages.len(),
    })
}
