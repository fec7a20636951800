//! Storage for the quality checks (docs/fieldwork.md, 质量检查与回访): the recipients'
//! answer sheets with their duration buckets, the count of each village's roster phones
//! that another village's roster also holds (the phones never leave the database), and the
//! call-back outcomes.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::now;
use crate::ids::{AccountId, CampaignId, CaseId, VillageId};

/// A recorded call-back outcome.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CallbackRow {
    pub case_id: CaseId,
    pub outcome: String,
    pub recorded_at: i64,
}

impl Db {
    /// A village's recipients' answer sheets (JSON) with their duration buckets, in the
    /// responses' random storage order.
    pub async fn recipient_sheets(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Vec<(String, String)>, DbError> {
        let sql = "SELECT answers, duration FROM responses
                   WHERE campaign_id = $1 AND village_id = $2 AND questionnaire = 'recipients' ORDER BY id";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).bind(village_id).fetch_all(p).await)?,
        )
    }

    /// Per village: how many of its current roster's phones are also in the current roster
    /// of another village of the campaign. Only villages in the frame count, on both sides
    /// (with participation `accepted`, the accepted ones, as `cross_village_phones`).
    /// Villages without such phones are left out. Only counts come out.
    pub async fn shared_phone_counts(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<(VillageId, i64)>, DbError> {
        let sql = "SELECT r.village_id, COUNT(DISTINCT e.phone) FROM roster_entries e
                   JOIN rosters r ON r.id = e.roster_id AND r.is_current
                   WHERE r.campaign_id = $1
                   AND (EXISTS (SELECT 1 FROM campaigns pc WHERE pc.id = r.campaign_id AND pc.participation = 'all')
                        OR EXISTS (SELECT 1 FROM applications pa WHERE pa.campaign_id = r.campaign_id
                                   AND pa.village_id = r.village_id AND pa.decision = 'accepted'))
                   AND EXISTS (
                       SELECT 1 FROM roster_entries e2 JOIN rosters r2 ON r2.id = e2.roster_id AND r2.is_current
                       WHERE r2.campaign_id = $1 AND r2.village_id <> r.village_id AND e2.phone = e.phone
                       AND (EXISTS (SELECT 1 FROM campaigns pc2 WHERE pc2.id = r2.campaign_id AND pc2.participation = 'all')
                            OR EXISTS (SELECT 1 FROM applications pa2 WHERE pa2.campaign_id = r2.campaign_id
                                       AND pa2.village_id = r2.village_id AND pa2.decision = 'accepted')))
                   GROUP BY r.village_id ORDER BY r.village_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// Every call-back outcome recorded in the campaign.
    pub async fn callbacks(&self, campaign_id: CampaignId) -> Result<Vec<CallbackRow>, DbError> {
        let sql = "SELECT case_id, outcome, recorded_at FROM callbacks WHERE campaign_id = $1 ORDER BY case_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }
}

impl Tx {
    /// Record (or correct) the outcome of calling a completed case back, in the operation's
    /// transaction. False when the case is not a completed case of the campaign, or the
    /// campaign is neither in fieldwork nor closed.
    pub async fn record_callback(
        &mut self,
        campaign_id: CampaignId,
        case_id: CaseId,
        outcome: &str,
        by: Option<AccountId>,
    ) -> Result<bool, DbError> {
        let t = now();
        on_tx!(self, c => {
            let ok: Option<CaseId> = sqlx::query_scalar(
                "SELECT c.id FROM cases c JOIN campaigns k ON k.id = c.campaign_id
                 WHERE c.id = $1 AND c.campaign_id = $2 AND c.status = 'completed'
                 AND k.state IN ('fieldwork', 'closed')")
                .bind(case_id).bind(campaign_id).fetch_optional(&mut *c).await?;
            if ok.is_none() {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO callbacks (case_id, campaign_id, outcome, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (case_id) DO UPDATE SET outcome = excluded.outcome, recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by")
                .bind(case_id).bind(campaign_id).bind(outcome).bind(t).bind(by)
                .execute(&mut *c).await?;
        });
        Ok(true)
    }
}
