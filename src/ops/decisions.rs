//! The decisions after publicity, per village on the final proposed list (seed 二(二)4:
//! 公示无异议 → 镇纪委研究 → 报镇党委批准): the 镇纪委's study (date, minutes reference), then the
//! 镇党委's decision — approved (date, 文号), which grants the title for the campaign's
//! `title_years`, or declined with a reason.

use super::Actor;
use crate::db::{Db, DbError, NewTitle, PartyDecision};
use crate::ids::{CampaignId, VillageId};
use serde_json::json;
use time::{Date, Month};

/// Why a study or a decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("the campaign is approved")]
    Approved,
    #[error("the results are not published")]
    NotPublished,
    #[error("the publicity period ends on {0}")]
    PeriodNotOver(String),
    #[error("{0} objection(s) about the village or the whole campaign are still open")]
    OpenObjections(i64),
    #[error("the village is not on the final proposed list")]
    NotOnList,
    #[error("the date is not after the publicity period, which ends on {0}")]
    BeforePublicityEnd(String),
    #[error("the date is in the future")]
    InFuture,
    #[error("the study is already recorded")]
    StudyRecorded,
    #[error("the town discipline commission's study is not recorded yet")]
    NoStudy,
    #[error("the decision cannot be dated before the study ({0})")]
    BeforeStudy(String),
    #[error("the party committee's decision is already recorded")]
    AlreadyDecided,
    #[error("the title's expiry cannot be computed")]
    Expiry,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The longest a title may be granted for, in years.
pub const TITLE_YEARS_MAX: i64 = 10;

/// Why the title's validity was not changed.
#[derive(Debug, thiserror::Error)]
pub enum TitleYearsError {
    #[error("the campaign is approved")]
    Approved,
    /// Titles of the campaign are granted: all of them hold for the same years.
    #[error("titles are already granted in this campaign")]
    Granted,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Sets how many years (1 to [`TITLE_YEARS_MAX`], checked by the caller) a title granted in
/// the campaign holds (`campaign.title_years`): until the first title is granted.
pub async fn set_title_years(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    years: i64,
) -> Result<(), TitleYearsError> {
    let mut tx = db.begin().await?;
    // Serialises with a decision granting a title, so the check below sees it.
    tx.lock_campaign(campaign).await?;
    if tx.campaign_approved(campaign).await? {
        return Err(TitleYearsError::Approved);
    }
    if tx.titles_granted(campaign).await? > 0 {
        return Err(TitleYearsError::Granted);
    }
    tx.set_title_years(campaign, years).await?;
    tx.audit(
        db,
        &by.event(
            "campaign.title_years",
            Some(campaign),
            json!({ "years": years }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The last day a title granted on `granted` for `years` holds: the day before the same date
/// `years` later (29 February counts to the day before 1 March).
pub fn title_expiry(granted: Date, years: i64) -> Option<Date> {
    let year = i32::try_from(i64::from(granted.year()).checked_add(years)?).ok()?;
    let same = Date::from_calendar_date(year, granted.month(), granted.day())
        .or_else(|_| Date::from_calendar_date(year, Month::March, 1))
        .ok()?;
    same.previous_day()
}

/// What every record after publicity needs: the campaign not approved, publicity over
/// (`today` after its last day), `on` after it and not after `today`, the village on the
/// final list and no objection about it (or the whole campaign) open.
async fn check_after_publicity(
    tx: &mut crate::db::Tx,
    campaign: CampaignId,
    village: VillageId,
    on: Date,
    today: Date,
) -> Result<(), DecisionError> {
    if tx.campaign_approved(campaign).await? {
        return Err(DecisionError::Approved);
    }
    let Some((_, _, end, _)) = tx.publicity_period(campaign).await? else {
        return Err(DecisionError::NotPublished);
    };
    if today.to_string() <= end {
        return Err(DecisionError::PeriodNotOver(end));
    }
    if on.to_string() <= end {
        return Err(DecisionError::BeforePublicityEnd(end));
    }
    if on > today {
        return Err(DecisionError::InFuture);
    }
    if !tx.final_list(campaign).await?.contains(&village) {
        return Err(DecisionError::NotOnList);
    }
    let open = tx.open_objections_about(campaign, village).await?;
    if open > 0 {
        return Err(DecisionError::OpenObjections(open));
    }
    Ok(())
}

/// Records the 镇纪委's study of a village on the final list (`decision.study`).
pub async fn record_study(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    village: VillageId,
    on: Date,
    minutes_ref: &str,
    today: Date,
) -> Result<(), DecisionError> {
    let mut tx = db.begin().await?;
    // Serialises with an objection being upheld or added, a restart and the title's years.
    tx.lock_campaign(campaign).await?;
    check_after_publicity(&mut tx, campaign, village, on, today).await?;
    if tx.village_decision(campaign, village).await?.is_some() {
        return Err(DecisionError::StudyRecorded);
    }
    tx.record_study(
        campaign,
        village,
        &on.to_string(),
        minutes_ref,
        by.account_id(),
    )
    .await?;
    let details =
        json!({ "village": village, "studied_on": on.to_string(), "minutes_ref": minutes_ref });
    tx.audit(db, &by.event("decision.study", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the 镇党委's decision on a studied village: approved (`decision.approve`), which
/// grants the title in the same transaction, or declined (`decision.decline`). Returns the
/// title's last day when approved.
pub async fn record_decision(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    village: VillageId,
    on: Date,
    decision: PartyDecision<'_>,
    today: Date,
) -> Result<Option<Date>, DecisionError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    // Serialises with an objection being upheld or added, a restart and the title's years.
    tx.lock_campaign(campaign).await?;
    check_after_publicity(&mut tx, campaign, village, on, today).await?;
    let Some(study) = tx.village_decision(campaign, village).await? else {
        return Err(DecisionError::NoStudy);
    };
    if study.outcome.is_some() {
        return Err(DecisionError::AlreadyDecided);
    }
    if on.to_string() < study.studied_on {
        return Err(DecisionError::BeforeStudy(study.studied_on));
    }
    let on_text = on.to_string();
    if !tx
        .record_party_decision(campaign, village, &on_text, decision, by_account)
        .await?
    {
        return Err(DecisionError::AlreadyDecided);
    }
    let expires = match decision {
        PartyDecision::Approved { decision_ref } => {
            let years = tx.title_years(campaign).await?;
            let expires = title_expiry(on, years).ok_or(DecisionError::Expiry)?;
            let expires_text = expires.to_string();
            let title = tx
                .grant_title(
                    &NewTitle {
                        campaign_id: campaign,
                        village_id: village,
                        granted_on: &on_text,
                        expires_on: &expires_text,
                        decision_ref,
                    },
                    by_account,
                )
                .await?;
            let details = json!({ "village": village, "decided_on": on_text, "decision_ref": decision_ref,
                                  "title": title, "expires_on": expires_text });
            tx.audit(db, &by.event("decision.approve", Some(campaign), details))
                .await?;
            Some(expires)
        }
        PartyDecision::Declined { reason } => {
            let details = json!({ "village": village, "decided_on": on_text, "reason": reason });
            tx.audit(db, &by.event("decision.decline", Some(campaign), details))
                .await?;
            None
        }
    };
    tx.commit().await?;
    tracing::info!(
        campaign = campaign.0,
        village = village.0,
        by = by.as_str(),
        "party committee decision recorded"
    );
    Ok(expires)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_title_holds_until_the_day_before_the_same_date_years_later() {
        assert_eq!(
            title_expiry(date!(2026 - 11 - 20), 2),
            Some(date!(2028 - 11 - 19))
        );
        assert_eq!(
            title_expiry(date!(2026 - 01 - 01), 2),
            Some(date!(2027 - 12 - 31))
        );
        assert_eq!(
            title_expiry(date!(2028 - 02 - 29), 2),
            Some(date!(2030 - 02 - 28))
        );
        assert_eq!(
            title_expiry(date!(2027 - 03 - 01), 1),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(
            title_expiry(date!(2026 - 05 - 10), 3),
            Some(date!(2029 - 05 - 09))
        );
    }
}
