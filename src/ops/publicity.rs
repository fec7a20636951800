//! Publicity (公示): the working-day calendar, the proposed list (拟评定名单) and its
//! adjustments, publishing it for seven working days with the notice posted in the villages
//! (restarted when the list changes meanwhile), objections received and decided upheld or
//! dismissed, and the approval that makes the results final.

use super::Actor;
use crate::db::{ApproveError, CalendarDay, Db, DbError};
use crate::domain::CampaignState;
use crate::forms::Uncertain;
use crate::ids::{CampaignId, ObjectionId, VillageId};
use crate::results::calendar::{Calendar, CalendarEntry, parse_date};
use crate::results::notice::{AUDIT_TEXT_MAX_CHARS, Contact, NoticeFacts, notice_text};
use crate::results::tables::{self, LoadError, VillageAssessment};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
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
    /// Final grades that differ from the group's (or the 镇纪委's) without a reason
    /// (`code 第n项`).
    #[error("final grades differ from the sources without a reason: {}", .0.join(", "))]
    Unexplained(Vec<String>),
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
/// working days, freezing the proposed list (the villages whose verdict passes, changed by
/// the adjustments made so far) and storing the publicity notice listing exactly these
/// (dated `start`) as it is posted; returns the last day of publicity. The audit entry
/// carries the list (codes), the notice's SHA-256, and its text when short.
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
    let unexplained = super::results::unexplained(db, campaign).await?;
    if !unexplained.is_empty() {
        return Err(PublishError::Unexplained(unexplained));
    }
    let cal = calendar(db).await?;
    let end = cal
        .nth_working_day(start, PUBLICITY_WORKING_DAYS)
        .ok_or(PublishError::Calendar)?;
    // The villages proposed for the title: those whose verdict passes, as the results page
    // shows them, changed by the 领导小组's adjustments.
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
    tx.lock_campaign(campaign).await?;
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
    let before = tx.adjustments_before_publicity(campaign).await?;
    let list = list_before_publicity(&loaded.assessed, &before);
    let text = notice_text(&NoticeFacts {
        campaign: &loaded.campaign.name,
        proposed: names_in_order(&loaded.assessed, &list),
        start,
        end,
        working_days: cal.working_days_between(start, end),
        contact: &contact,
        dated: start,
        replaces: None,
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
    // The notice lists exactly these: frozen as the list of the first period.
    let frozen: Vec<VillageId> = list.iter().copied().collect();
    tx.freeze_list(campaign, 1, &frozen).await?;
    let mut details = json!({
        "start": start.to_string(),
        "end": end.to_string(),
        "notice_sha256": hex::encode(Sha256::digest(text.as_bytes())),
        "proposed": codes_in_order(&loaded.assessed, &list),
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
    tx.lock_campaign(campaign).await?;
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

/// How the 领导小组 or the commission decided an objection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectionDecision {
    /// 属实: an objection about a village on the list takes it off (no restart).
    Upheld,
    /// 不属实: nothing changes.
    Dismissed,
}

impl ObjectionDecision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upheld" => Some(ObjectionDecision::Upheld),
            "dismissed" => Some(ObjectionDecision::Dismissed),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionDecision::Upheld => "upheld",
            ObjectionDecision::Dismissed => "dismissed",
        }
    }
}

/// Why an objection was not decided.
#[derive(Debug, thiserror::Error)]
pub enum DecideObjectionError {
    #[error("the campaign is approved")]
    Approved,
    /// The village already has the 镇党委's decision: the objection cannot take it off.
    #[error("the village already has the party committee's decision")]
    Decided,
    /// No open objection of the campaign has this id.
    #[error("no such open objection")]
    NotFound,
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for DecideObjectionError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => DecideObjectionError::NotFound,
            e => DecideObjectionError::Db(e),
        }
    }
}

/// Decides an open objection with its reason. Upheld about a village on the final list, the
/// village leaves the list (publicity is not restarted); returns whether it did.
pub async fn decide_objection(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    objection: ObjectionId,
    decision: ObjectionDecision,
    reason: &str,
) -> Result<bool, DecideObjectionError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    tx.lock_campaign(campaign).await?;
    if tx.campaign_approved(campaign).await? {
        return Err(DecideObjectionError::Approved);
    }
    let village = tx
        .decide_objection(campaign, objection, decision.as_str(), reason, by_account)
        .await?;
    let mut removed = false;
    if let (ObjectionDecision::Upheld, Some(v)) = (decision, village) {
        let decided = tx.village_decision(campaign, v).await?;
        if decided.is_some_and(|d| d.outcome.is_some()) {
            return Err(DecideObjectionError::Decided);
        }
        removed = tx.remove_by_objection(campaign, v, objection).await?;
    }
    let event = match decision {
        ObjectionDecision::Upheld => "objection.uphold",
        ObjectionDecision::Dismissed => "objection.dismiss",
    };
    let details =
        json!({ "objection": objection, "village": village, "reason": reason, "removed": removed });
    tx.audit(db, &by.event(event, Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(removed)
}

/// The list before publicity: the villages whose verdict passes, in the results' order,
/// changed by the adjustments (`add` / `remove`) in the order they were made.
pub fn list_before_publicity(
    assessed: &[VillageAssessment],
    adjustments: &[(VillageId, String)],
) -> BTreeSet<VillageId> {
    let mut list: BTreeSet<VillageId> = assessed
        .iter()
        .filter(|a| a.verdict.passed)
        .map(|a| a.village_id)
        .collect();
    for (v, action) in adjustments {
        if action == "add" {
            list.insert(*v);
        } else {
            list.remove(v);
        }
    }
    list
}

/// The names of the villages on `list`, in the results' order (by code).
fn names_in_order<'a>(
    assessed: &'a [VillageAssessment],
    list: &BTreeSet<VillageId>,
) -> Vec<&'a str> {
    assessed
        .iter()
        .filter(|a| list.contains(&a.village_id))
        .map(|a| a.name.as_str())
        .collect()
}

fn codes_in_order(assessed: &[VillageAssessment], list: &BTreeSet<VillageId>) -> Vec<String> {
    assessed
        .iter()
        .filter(|a| list.contains(&a.village_id))
        .map(|a| a.code.clone())
        .collect()
}

/// A change of the proposed list by the 领导小组.
#[derive(Clone, Debug)]
pub struct Adjustment<'a> {
    pub village_id: VillageId,
    /// Add to the list (true) or take off it (false).
    pub add: bool,
    pub reason: &'a str,
    /// During publicity: the first day of the new publicity period the change starts.
    pub restart_on: Option<Date>,
}

/// Why the list was not changed.
#[derive(Debug, thiserror::Error)]
pub enum AdjustError {
    #[error("the campaign is not closed")]
    NotClosed,
    #[error("the campaign is approved")]
    Approved,
    #[error("the village is not assessed in this campaign")]
    NotInCampaign,
    #[error("the village is already on the list")]
    OnList,
    #[error("the village is not on the list")]
    NotOnList,
    /// Publicity has started: the change restarts it, from a day to give.
    #[error("publicity has started: a start day for the new publicity is needed")]
    NeedsStart,
    #[error("the new publicity cannot start before the one it replaces ({0})")]
    StartTooEarly(String),
    /// A restarted publicity starts today or later, never backdated.
    #[error("the new publicity cannot start before today")]
    StartInPast,
    /// An objection about the village was upheld in this campaign.
    #[error("an objection about the village was upheld: it cannot be added back")]
    Upheld,
    /// Studies or decisions are recorded: the list can no longer change.
    #[error("studies or decisions are recorded for this campaign")]
    Decided,
    /// This publicity started before the list was kept: there is no frozen list to change.
    #[error("this publicity has no stored list")]
    NoStoredList,
    #[error("the calendar has too few working days after the start")]
    Calendar,
    #[error("the objection phone, address and notice issuer are not set on the campaign")]
    NoContact,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("reading the results: {0:#}")]
    Results(anyhow::Error),
}

/// What an adjustment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Adjusted {
    /// Before publicity: the list changed.
    Listed,
    /// During publicity: publicity restarted, its new period ending on this day.
    Restarted { end: Date },
}

/// Adds a village to the proposed list or takes one off, with the reason (`proposed.adjust`).
/// Before publicity it changes the list the publication will freeze; once publicity has
/// started it restarts publicity from `restart_on` with the changed list and a new notice
/// (`publicity.restart`), the replaced period and its notice kept; that day is `today` or
/// later. A village an upheld objection concerns is never added back.
pub async fn adjust_list(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    adj: &Adjustment<'_>,
    today: Date,
) -> Result<Adjusted, AdjustError> {
    let by_account = by.account_id();
    let loaded = match tables::load(db, campaign).await {
        Ok(l) => l,
        Err(LoadError::NotStarted) => return Err(AdjustError::NotClosed),
        Err(LoadError::Db(e)) => return Err(e.into()),
        Err(LoadError::Other(e)) => return Err(AdjustError::Results(e)),
    };
    let Some(village) = loaded
        .assessed
        .iter()
        .find(|a| a.village_id == adj.village_id)
    else {
        return Err(AdjustError::NotInCampaign);
    };
    let cal = calendar(db).await?;
    let mut tx = db.begin().await?;
    // Serialises with objections decided, studies and decisions, and another restart.
    tx.lock_campaign(campaign).await?;
    if tx.campaign_approved(campaign).await? {
        return Err(AdjustError::Approved);
    }
    // An upheld objection took the village off the list for good: no adjustment puts it back.
    if adj.add && tx.upheld_objection_about(campaign, adj.village_id).await? {
        return Err(AdjustError::Upheld);
    }
    if loaded.campaign.state != CampaignState::Closed {
        return Err(AdjustError::NotClosed);
    }
    let action = if adj.add { "add" } else { "remove" };
    let mut details = json!({
        "village": village.code,
        "action": action,
        "reason": adj.reason,
    });
    let in_force = tx.publicity_period(campaign).await?;
    let Some((period, old_start, old_end, frozen)) = in_force else {
        let before = tx.adjustments_before_publicity(campaign).await?;
        let list = list_before_publicity(&loaded.assessed, &before);
        check_change(&list, adj)?;
        tx.add_adjustment(
            campaign,
            adj.village_id,
            action,
            adj.reason,
            None,
            by_account,
        )
        .await?;
        tx.audit(db, &by.event("proposed.adjust", Some(campaign), details))
            .await?;
        tx.commit().await?;
        return Ok(Adjusted::Listed);
    };
    if !frozen {
        return Err(AdjustError::NoStoredList);
    }
    if tx.any_decision(campaign).await? {
        return Err(AdjustError::Decided);
    }
    let mut list: BTreeSet<VillageId> = tx.final_list(campaign).await?.into_iter().collect();
    check_change(&list, adj)?;
    let start = adj.restart_on.ok_or(AdjustError::NeedsStart)?;
    if start.to_string() < old_start {
        return Err(AdjustError::StartTooEarly(old_start));
    }
    if start < today {
        return Err(AdjustError::StartInPast);
    }
    let end = cal
        .nth_working_day(start, PUBLICITY_WORKING_DAYS)
        .ok_or(AdjustError::Calendar)?;
    let stored = tx.objection_contact(campaign).await?;
    let contact = match (stored.phone, stored.address, stored.issuer) {
        (Some(phone), Some(address), Some(issuer)) => {
            Contact::parse(&phone, &address, &issuer).map_err(|_| AdjustError::NoContact)?
        }
        _ => return Err(AdjustError::NoContact),
    };
    if adj.add {
        list.insert(adj.village_id);
    } else {
        list.remove(&adj.village_id);
    }
    let text = notice_text(&NoticeFacts {
        campaign: &loaded.campaign.name,
        proposed: names_in_order(&loaded.assessed, &list),
        start,
        end,
        working_days: cal.working_days_between(start, end),
        contact: &contact,
        dated: start,
        replaces: parse_date(&old_start),
    });
    let new_period = tx
        .restart_publicity(
            campaign,
            &start.to_string(),
            &end.to_string(),
            &text,
            by_account,
        )
        .await?;
    // Frozen in the results' order of villages, as the notice lists them.
    let ordered: Vec<VillageId> = loaded
        .assessed
        .iter()
        .filter(|a| list.contains(&a.village_id))
        .map(|a| a.village_id)
        .collect();
    tx.freeze_list(campaign, new_period, &ordered).await?;
    // The villages an upheld objection removed stay marked so in the new period.
    tx.carry_removals(campaign, period, new_period).await?;
    tx.add_adjustment(
        campaign,
        adj.village_id,
        action,
        adj.reason,
        Some(new_period),
        by_account,
    )
    .await?;
    details["period"] = new_period.into();
    tx.audit(db, &by.event("proposed.adjust", Some(campaign), details))
        .await?;
    let mut restart = json!({
        "period": new_period,
        "replaced": { "period": period, "start": old_start, "end": old_end },
        "start": start.to_string(),
        "end": end.to_string(),
        "proposed": codes_in_order(&loaded.assessed, &list),
        "notice_sha256": hex::encode(Sha256::digest(text.as_bytes())),
    });
    if text.chars().count() <= AUDIT_TEXT_MAX_CHARS {
        restart["notice"] = text.into();
    }
    tx.audit(db, &by.event("publicity.restart", Some(campaign), restart))
        .await?;
    tx.commit().await?;
    tracing::info!(campaign = campaign.0, by = by.as_str(), %start, %end, period = new_period, "publicity restarted");
    Ok(Adjusted::Restarted { end })
}

/// Adding a village already on the list, or taking off one not on it, is refused.
fn check_change(list: &BTreeSet<VillageId>, adj: &Adjustment<'_>) -> Result<(), AdjustError> {
    match (adj.add, list.contains(&adj.village_id)) {
        (true, true) => Err(AdjustError::OnList),
        (false, false) => Err(AdjustError::NotOnList),
        _ => Ok(()),
    }
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
    tx.lock_campaign(campaign).await?;
    tx.approve(campaign, today, by_account).await?;
    tx.audit(db, &by.event("approve", Some(campaign), json!({})))
        .await?;
    tx.commit().await?;
    tracing::info!(campaign = campaign.0, by = by.as_str(), "campaign approved");
    Ok(())
}
