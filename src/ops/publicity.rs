//! Publicity (公示): the working-day calendar, publishing a closed campaign's results for
//! seven working days with the notice posted in the villages, objections received meanwhile
//! and their resolution, and the approval that makes the results final.

use super::Actor;
use crate::db::{ApproveError, CalendarDay, Db, DbError};
use crate::domain::CampaignState;
use crate::forms::Uncertain;
use crate::ids::{CampaignId, ObjectionId, VillageId};
use crate::results::calendar::{Calendar, CalendarEntry, parse_date};
use crate::results::notice::{AUDIT_TEXT_MAX_CHARS, Contact, NoticeFacts, notice_text};
use crate::results::tables::{self, LoadError};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;

/// The publicity period: 7 working days (seed part 二(二)4), the start day counting if it is
/// a working day.
pub const PUBLICITY_WORKING_DAYS: u32 = 7;

/// Adds or replaces the calendar's days (a parsed calendar file) in one transaction with
/// its `calendar.import` entry; returns how many.
pub async fn import_calendar(
    db: &Db,
    by: &Actor,
    entries: Vec<CalendarEntry>,
) -> Result<usize, DbError> {
    let days: Vec<CalendarDay> = entries
        .into_iter()
        .map(|e| CalendarDay {
            day: e.date.to_string(),
            kind: e.kind,
            name: e.name,
        })
        .collect();
    let details = json!({ "days": days.iter().map(|d| format!("{} {} {}", d.day, d.kind, d.name)).collect::<Vec<_>>() });
    let mut tx = db.begin().await?;
    tx.import_calendar(&days).await?;
    tx.audit(db, &by.event("calendar.import", None, details))
        .await?;
    tx.commit().await?;
    tracing::info!(days = days.len(), by = by.as_str(), "calendar imported");
    Ok(days.len())
}

/// Removes a day from the calendar.
pub async fn delete_calendar_day(db: &Db, by: &Actor, day: &str) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.delete_calendar_day(day).await?;
    tx.audit(
        db,
        &by.event("calendar.delete", None, json!({ "day": day })),
    )
    .await?;
    tx.commit().await
}

/// The administrator's calendar as the working-day rule reads it (rows that no longer
/// parse are skipped).
pub async fn calendar(db: &Db) -> Result<Calendar, DbError> {
    let mut cal = Calendar::new();
    for d in db.calendar().await? {
        if let Some(date) = parse_date(&d.day) {
            cal.insert(date, d.kind, d.name);
        }
    }
    Ok(cal)
}

/// Why results were not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the calendar has too few working days after the start")]
    Calendar,
    #[error("the results are already published")]
    AlreadyPublished,
    #[error("the campaign is not closed")]
    NotClosed,
    /// The notice cannot say where to object: the campaign's objection phone, address or
    /// issuer is not set.
    #[error("the objection phone, address and notice issuer are not set on the campaign")]
    NoContact,
    /// The scheme asks the 领导小组 to confirm each uncertain grade first (`uncertain =
    /// "confirm"`); these villages' (codes) are not confirmed.
    #[error("uncertain grades not confirmed yet: {}", .0.join(", "))]
    Unconfirmed(Vec<String>),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("reading the results: {0:#}")]
    Results(anyhow::Error),
}

/// The villages (codes) whose grade is uncertain and that no override in force confirms,
/// where the campaign's scheme asks for confirmation; empty otherwise or before close.
pub async fn unconfirmed_uncertain(
    db: &Db,
    campaign: CampaignId,
) -> Result<Vec<String>, PublishError> {
    if db.campaign(campaign).await?.state != CampaignState::Closed {
        return Ok(Vec::new());
    }
    let forms = crate::fieldwork::pinned_forms(db, campaign)
        .await
        .map_err(PublishError::Results)?;
    if forms.scheme.uncertain != Uncertain::Confirm {
        return Ok(Vec::new());
    }
    let results = crate::results::report::campaign_results(db, campaign, &forms)
        .await
        .map_err(PublishError::Results)?;
    // The last override of a village is in force; one with a grade confirms it.
    let mut confirmed = std::collections::BTreeMap::new();
    for o in db.overrides(campaign).await? {
        confirmed.insert(o.village_id, o.grade.is_some());
    }
    Ok(results
        .villages
        .iter()
        .filter(|v| v.item16.uncertain && !confirmed.get(&v.village_id).copied().unwrap_or(false))
        .map(|v| v.code.clone())
        .collect())
}

/// Publishes a closed campaign's results from `start` for [`PUBLICITY_WORKING_DAYS`]
/// working days, storing the publicity notice (dated `start`) as it is posted; returns the
/// last day of publicity. The audit entry carries the notice's SHA-256, and its text when
/// short.
pub async fn publish(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    start: Date,
) -> Result<Date, PublishError> {
    let by_account = by.account_id();
    let unconfirmed = unconfirmed_uncertain(db, campaign).await?;
    if !unconfirmed.is_empty() {
        return Err(PublishError::Unconfirmed(unconfirmed));
    }
    let cal = calendar(db).await?;
    let end = cal
        .nth_working_day(start, PUBLICITY_WORKING_DAYS)
        .ok_or(PublishError::Calendar)?;
    // The villages proposed for the title: those whose verdict passes, as the results page
    // shows them.
    let loaded = match tables::load(db, campaign).await {
        Ok(l) => l,
        Err(LoadError::NotStarted) => return Err(PublishError::NotClosed),
        Err(LoadError::Db(e)) => return Err(e.into()),
        Err(LoadError::Other(e)) => return Err(PublishError::Results(e)),
    };
    if loaded.campaign.state != CampaignState::Closed {
        return Err(if db.publicity(campaign).await?.is_some() {
            PublishError::AlreadyPublished
        } else {
            PublishError::NotClosed
        });
    }
    let mut tx = db.begin().await?;
    if tx.is_published(campaign).await? {
        return Err(PublishError::AlreadyPublished);
    }
    let stored = tx.objection_contact(campaign).await?;
    let contact = match (stored.phone, stored.address, stored.issuer) {
        (Some(phone), Some(address), Some(issuer)) => {
            Contact::parse(&phone, &address, &issuer).map_err(|_| PublishError::NoContact)?
        }
        _ => return Err(PublishError::NoContact),
    };
    let text = notice_text(&NoticeFacts {
        campaign: &loaded.campaign.name,
        proposed: loaded
            .assessed
            .iter()
            .filter(|a| a.verdict.passed)
            .map(|a| a.name.as_str())
            .collect(),
        start,
        end,
        working_days: cal.working_days_between(start, end),
        contact: &contact,
        dated: start,
    });
    if !tx
        .publish(
            campaign,
            &start.to_string(),
            &end.to_string(),
            Some(&text),
            by_account,
        )
        .await?
    {
        return Err(PublishError::NotClosed);
    }
    let mut details = json!({
        "start": start.to_string(),
        "end": end.to_string(),
        "notice_sha256": hex::encode(Sha256::digest(text.as_bytes())),
    });
    if text.chars().count() <= AUDIT_TEXT_MAX_CHARS {
        details["notice"] = text.into();
    }
    tx.audit(db, &by.event("publicity.start", Some(campaign), details))
        .await?;
    tx.commit().await?;
    tracing::info!(campaign = campaign.0, by = by.as_str(), %start, %end, "results published");
    Ok(end)
}

/// Why an objection was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ObjectionError {
    #[error("the campaign is approved")]
    Approved,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// An objection as received: about a village of the campaign (or the whole campaign), on a
/// day, with its summary.
#[derive(Clone, Debug)]
pub struct NewObjection<'a> {
    pub village_id: Option<VillageId>,
    pub received_on: &'a str,
    pub summary: &'a str,
}

/// Records an objection (until the campaign is approved); returns its id.
pub async fn add_objection(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    o: &NewObjection<'_>,
) -> Result<ObjectionId, ObjectionError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    if tx.campaign_approved(campaign).await? {
        return Err(ObjectionError::Approved);
    }
    let oid = tx
        .add_objection(campaign, o.village_id, o.received_on, o.summary, by_account)
        .await?;
    let details = json!({ "objection": oid, "village": o.village_id, "received_on": o.received_on, "summary": o.summary });
    tx.audit(db, &by.event("objection.add", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(oid)
}

/// Resolves an open objection of the campaign; `DbError::NotFound` if there is none such.
pub async fn resolve_objection(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    objection: ObjectionId,
    resolution: &str,
) -> Result<(), DbError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    if !tx
        .resolve_objection(campaign, objection, resolution, by_account)
        .await?
    {
        return Err(DbError::NotFound);
    }
    let details = json!({ "objection": objection, "resolution": resolution });
    tx.audit(db, &by.event("objection.resolve", Some(campaign), details))
        .await?;
    tx.commit().await
}

/// Approves the campaign on `today`: once publicity is over and every objection resolved.
pub async fn approve(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    today: &str,
) -> Result<(), ApproveError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    tx.approve(campaign, today, by_account).await?;
    tx.audit(db, &by.event("approve", Some(campaign), json!({})))
        .await?;
    tx.commit().await?;
    tracing::info!(campaign = campaign.0, by = by.as_str(), "campaign approved");
    Ok(())
}
