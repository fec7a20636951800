//! The proposed list (拟评定名单) and what follows publicity: the 领导小组's adjustments, the
//! list frozen per publicity period, the periods a restart replaced, objections decided, and
//! per village the 镇纪委's study and the 镇党委's decision.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::now;
use crate::ids::{AccountId, CampaignId, ObjectionId, VillageId};

/// One change of the list by the 领导小组.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct AdjustmentRow {
    pub id: i64,
    pub village_id: VillageId,
    /// `add` or `remove`.
    pub action: String,
    pub reason: String,
    /// `None`: before publicity; else the publicity period this change started.
    pub period: Option<i64>,
    pub adjusted_at: i64,
}

/// A village on the frozen list of a publicity period.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct ListRow {
    pub period: i64,
    pub village_id: VillageId,
    /// The upheld objection that took the village off the list.
    pub removed_by_objection: Option<ObjectionId>,
}

/// A publicity period replaced by a restart.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct PastPeriod {
    pub period: i64,
    pub start_date: String,
    pub end_date: String,
    pub notice_text: Option<String>,
    pub published_at: i64,
    pub superseded_at: i64,
}

/// The study and decision recorded for a village.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct DecisionRow {
    pub village_id: VillageId,
    pub studied_on: String,
    pub study_ref: String,
    /// `approved` or `declined`; `None` until the 镇党委 decides.
    pub outcome: Option<String>,
    pub decided_on: Option<String>,
    pub decision_ref: Option<String>,
    pub decline_reason: Option<String>,
}

/// The 镇党委's decision on a village.
#[derive(Clone, Copy, Debug)]
pub enum PartyDecision<'a> {
    /// Approved under document `decision_ref` (文号).
    Approved { decision_ref: &'a str },
    /// Not approved, for `reason`.
    Declined { reason: &'a str },
}

/// The columns of [`DecisionRow`].
macro_rules! decision {
    () => {
        "village_id, studied_on, study_ref, outcome, decided_on, decision_ref, decline_reason"
    };
}

impl Db {
    /// The campaign's adjustments of the list, oldest first.
    pub async fn proposed_adjustments(
        &self,
        campaign: CampaignId,
    ) -> Result<Vec<AdjustmentRow>, DbError> {
        let sql =
            "SELECT id, village_id, action, reason, period, adjusted_at FROM proposed_adjustments
                   WHERE campaign_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_all(p).await)?)
    }

    /// The frozen lists of every publicity period of the campaign.
    pub async fn proposed_rows(&self, campaign: CampaignId) -> Result<Vec<ListRow>, DbError> {
        let sql = "SELECT period, village_id, removed_by_objection FROM proposed_list
                   WHERE campaign_id = $1 ORDER BY period, village_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_all(p).await)?)
    }

    /// The publicity periods a restart replaced, oldest first.
    pub async fn publicity_history(
        &self,
        campaign: CampaignId,
    ) -> Result<Vec<PastPeriod>, DbError> {
        let sql = "SELECT period, start_date, end_date, notice_text, published_at, superseded_at
                   FROM publicity_history WHERE campaign_id = $1 ORDER BY period";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_all(p).await)?)
    }

    /// The studies and decisions recorded in the campaign.
    pub async fn village_decisions(
        &self,
        campaign: CampaignId,
    ) -> Result<Vec<DecisionRow>, DbError> {
        let sql = concat!(
            "SELECT ",
            decision!(),
            " FROM village_decisions WHERE campaign_id = $1 ORDER BY village_id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_all(p).await)?)
    }

    /// How many years a title granted in the campaign holds.
    pub async fn title_years(&self, campaign: CampaignId) -> Result<i64, DbError> {
        let sql = "SELECT title_years FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }
}

impl Tx {
    /// Records an adjustment of the list.
    pub async fn add_adjustment(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        action: &str,
        reason: &str,
        period: Option<i64>,
        by: Option<AccountId>,
    ) -> Result<(), DbError> {
        let sql = "INSERT INTO proposed_adjustments (campaign_id, village_id, action, reason, period, adjusted_by, adjusted_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(village).bind(action).bind(reason)
            .bind(period).bind(by).bind(now()).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// The adjustments made before publicity, oldest first, read in this transaction.
    pub async fn adjustments_before_publicity(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<(VillageId, String)>, DbError> {
        let sql = "SELECT village_id, action FROM proposed_adjustments
                   WHERE campaign_id = $1 AND period IS NULL ORDER BY id";
        Ok(on_tx!(self, c => sqlx::query_as(sql).bind(campaign).fetch_all(&mut *c).await)?)
    }

    /// Freezes the list of a publicity period.
    pub async fn freeze_list(
        &mut self,
        campaign: CampaignId,
        period: i64,
        villages: &[VillageId],
    ) -> Result<(), DbError> {
        let sql = "INSERT INTO proposed_list (campaign_id, period, village_id) VALUES ($1, $2, $3)";
        on_tx!(self, c => {
            for v in villages {
                sqlx::query(sql).bind(campaign).bind(period).bind(v).execute(&mut *c).await?;
            }
        });
        on_tx!(self, c => sqlx::query("UPDATE publicity SET list_frozen = TRUE WHERE campaign_id = $1")
            .bind(campaign).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// The publicity in force, read in this transaction: (period, start, end, list frozen).
    pub async fn publicity_period(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Option<(i64, String, String, bool)>, DbError> {
        let sql = "SELECT period, start_date, end_date, list_frozen FROM publicity WHERE campaign_id = $1";
        Ok(on_tx!(self, c => sqlx::query_as(sql).bind(campaign).fetch_optional(&mut *c).await)?)
    }

    /// The final list of the period in force: its frozen rows that no upheld objection
    /// removed, read in this transaction.
    pub async fn final_list(&mut self, campaign: CampaignId) -> Result<Vec<VillageId>, DbError> {
        let sql = "SELECT l.village_id FROM proposed_list l JOIN publicity p ON p.campaign_id = l.campaign_id
                   AND p.period = l.period WHERE l.campaign_id = $1 AND l.removed_by_objection IS NULL
                   ORDER BY l.village_id";
        Ok(on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).fetch_all(&mut *c).await)?)
    }

    /// Replaces the publicity in force by a new period (`start` to `end`, with its notice),
    /// keeping the replaced one (and its audit head) in `publicity_history`; returns the new
    /// period's number.
    pub async fn restart_publicity(
        &mut self,
        campaign: CampaignId,
        start: &str,
        end: &str,
        notice_text: &str,
        by: Option<AccountId>,
    ) -> Result<i64, DbError> {
        let t = now();
        let keep = "INSERT INTO publicity_history (campaign_id, period, start_date, end_date, notice_text,
                      audit_head, published_at, superseded_at, superseded_by)
                    SELECT campaign_id, period, start_date, end_date, notice_text, audit_head, published_at, $2, $3
                    FROM publicity WHERE campaign_id = $1";
        // The new period records the audit chain's head when it began, as publishing does.
        let next = "UPDATE publicity SET period = period + 1, start_date = $2, end_date = $3, notice_text = $4,
                      published_at = $5, published_by = $6,
                      audit_head = COALESCE((SELECT CAST(id AS TEXT) || ':' || hash FROM audit_log ORDER BY id DESC LIMIT 1),
                                            '0:0000000000000000000000000000000000000000000000000000000000000000')
                    WHERE campaign_id = $1 RETURNING period";
        let period = on_tx!(self, c => {
            sqlx::query(keep).bind(campaign).bind(t).bind(by).execute(&mut *c).await?;
            sqlx::query_scalar(next).bind(campaign).bind(start).bind(end).bind(notice_text)
                .bind(t).bind(by).fetch_one(&mut *c).await?
        });
        Ok(period)
    }

    /// Decides an open objection of the campaign (`upheld` or `dismissed`, the reason kept
    /// as its resolution); `NotFound` if there is no such open objection. Returns the
    /// village it is about.
    pub async fn decide_objection(
        &mut self,
        campaign: CampaignId,
        id: ObjectionId,
        decision: &str,
        reason: &str,
        by: Option<AccountId>,
    ) -> Result<Option<VillageId>, DbError> {
        let sql = "UPDATE objections SET decision = $1, resolution = $2, resolved_by = $3, resolved_at = $4
                   WHERE id = $5 AND campaign_id = $6 AND resolution IS NULL RETURNING village_id";
        let row: Option<Option<VillageId>> = on_tx!(self, c => sqlx::query_scalar(sql).bind(decision)
            .bind(reason).bind(by).bind(now()).bind(id).bind(campaign).fetch_optional(&mut *c).await)?;
        row.ok_or(DbError::NotFound)
    }

    /// Takes a village off the final list of the period in force because of an upheld
    /// objection; false if it was not on it.
    pub async fn remove_by_objection(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        objection: ObjectionId,
    ) -> Result<bool, DbError> {
        let sql = "UPDATE proposed_list SET removed_by_objection = $3
                   WHERE campaign_id = $1 AND village_id = $2 AND removed_by_objection IS NULL
                   AND period = (SELECT period FROM publicity WHERE campaign_id = $1)";
        let n = on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(village).bind(objection)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Whether an objection about the village was upheld in the campaign.
    pub async fn upheld_objection_about(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
    ) -> Result<bool, DbError> {
        let sql = "SELECT COUNT(*) FROM objections WHERE campaign_id = $1 AND village_id = $2
                   AND decision = 'upheld'";
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).bind(village)
            .fetch_one(&mut *c).await)?;
        Ok(n > 0)
    }

    /// Copies the rows an upheld objection removed from period `from` into period `to`, still
    /// marked with their objection: a restart keeps them off the list and says why.
    pub async fn carry_removals(
        &mut self,
        campaign: CampaignId,
        from: i64,
        to: i64,
    ) -> Result<(), DbError> {
        let sql =
            "INSERT INTO proposed_list (campaign_id, period, village_id, removed_by_objection)
                   SELECT campaign_id, $3, village_id, removed_by_objection FROM proposed_list
                   WHERE campaign_id = $1 AND period = $2 AND removed_by_objection IS NOT NULL";
        on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(from).bind(to)
            .execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Open objections about the village or about the whole campaign.
    pub async fn open_objections_about(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
    ) -> Result<i64, DbError> {
        let sql = "SELECT COUNT(*) FROM objections WHERE campaign_id = $1 AND resolution IS NULL
                   AND (village_id = $2 OR village_id IS NULL)";
        Ok(
            on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).bind(village).fetch_one(&mut *c).await)?,
        )
    }

    /// Whether any study or decision is recorded in the campaign.
    pub async fn any_decision(&mut self, campaign: CampaignId) -> Result<bool, DbError> {
        let sql = "SELECT COUNT(*) FROM village_decisions WHERE campaign_id = $1";
        let n: i64 =
            on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).fetch_one(&mut *c).await)?;
        Ok(n > 0)
    }

    /// The study and decision recorded for a village, read in this transaction.
    pub async fn village_decision(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
    ) -> Result<Option<DecisionRow>, DbError> {
        let sql = concat!(
            "SELECT ",
            decision!(),
            " FROM village_decisions WHERE campaign_id = $1 AND village_id = $2"
        );
        Ok(
            on_tx!(self, c => sqlx::query_as(sql).bind(campaign).bind(village).fetch_optional(&mut *c).await)?,
        )
    }

    /// Records the 镇纪委's study of a village; `Conflict` if one is recorded.
    pub async fn record_study(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        on: &str,
        minutes_ref: &str,
        by: Option<AccountId>,
    ) -> Result<(), DbError> {
        let sql = "INSERT INTO village_decisions (campaign_id, village_id, studied_on, study_ref, studied_by, studied_at)
                   VALUES ($1, $2, $3, $4, $5, $6)";
        on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(village).bind(on).bind(minutes_ref)
            .bind(by).bind(now()).execute(&mut *c).await.map(|_| ()))
        .map_err(DbError::from_insert)?;
        Ok(())
    }

    /// Records the 镇党委's decision on a studied village; false if there is no study or a
    /// decision is already recorded.
    pub async fn record_party_decision(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        on: &str,
        decision: PartyDecision<'_>,
        by: Option<AccountId>,
    ) -> Result<bool, DbError> {
        let (outcome, doc, reason) = match decision {
            PartyDecision::Approved { decision_ref } => ("approved", Some(decision_ref), None),
            PartyDecision::Declined { reason } => ("declined", None, Some(reason)),
        };
        let sql = "UPDATE village_decisions SET outcome = $3, decided_on = $4, decision_ref = $5,
                     decline_reason = $6, decided_by = $7, decided_at = $8
                   WHERE campaign_id = $1 AND village_id = $2 AND outcome IS NULL";
        let n = on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(village).bind(outcome).bind(on)
            .bind(doc).bind(reason).bind(by).bind(now()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// How many villages of the final list have no 镇党委 decision yet.
    pub async fn undecided_on_list(&mut self, campaign: CampaignId) -> Result<i64, DbError> {
        let sql = "SELECT COUNT(*) FROM proposed_list l JOIN publicity p ON p.campaign_id = l.campaign_id
                   AND p.period = l.period
                   WHERE l.campaign_id = $1 AND l.removed_by_objection IS NULL
                   AND NOT EXISTS (SELECT 1 FROM village_decisions d WHERE d.campaign_id = l.campaign_id
                                   AND d.village_id = l.village_id AND d.outcome IS NOT NULL)";
        Ok(on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).fetch_one(&mut *c).await)?)
    }

    /// Sets how many years a title granted in the campaign holds.
    pub async fn set_title_years(
        &mut self,
        campaign: CampaignId,
        years: i64,
    ) -> Result<(), DbError> {
        let n = on_tx!(self, c => sqlx::query("UPDATE campaigns SET title_years = $2 WHERE id = $1")
            .bind(campaign).bind(years).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// How many titles the campaign granted.
    pub async fn titles_granted(&mut self, campaign: CampaignId) -> Result<i64, DbError> {
        let sql = "SELECT COUNT(*) FROM titles WHERE campaign_id = $1";
        Ok(on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).fetch_one(&mut *c).await)?)
    }

    /// How many years a title granted in the campaign holds, read in this transaction.
    pub async fn title_years(&mut self, campaign: CampaignId) -> Result<i64, DbError> {
        let sql = "SELECT title_years FROM campaigns WHERE id = $1";
        on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign).fetch_optional(&mut *c).await)?
            .ok_or(DbError::NotFound)
    }
}
