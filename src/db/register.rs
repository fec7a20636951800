//! The register of titled villages as the commission reads it (each title with its village,
//! the campaign that granted it and the village's 联系领导), the 联系领导 field, revoking a
//! title, and 复核 rounds (a campaign of kind `review` and the titles it re-checks).

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::{CampaignState, now};
use crate::ids::{AccountId, CampaignId, TitleId, VillageId};

/// A village with its 联系领导 (两联), for the villages page.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct VillageLeader {
    pub id: VillageId,
    pub code: String,
    pub name: String,
    pub contact_leader: Option<String>,
}

/// One title of the register with what the register page and its CSV show beside it.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct RegisterRow {
    pub id: TitleId,
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    pub campaign_year: i64,
    pub village_id: VillageId,
    pub village_code: String,
    pub village_name: String,
    pub contact_leader: Option<String>,
    pub granted_on: String,
    pub expires_on: String,
    pub decision_ref: String,
    pub revoked_on: Option<String>,
    pub revoke_reason: Option<String>,
}

/// A campaign with its kind (`assessment` or `review`), for the per-village history.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct CampaignKind {
    pub id: CampaignId,
    pub name: String,
    pub year: i64,
    pub state: CampaignState,
    pub kind: String,
}

/// The columns of [`RegisterRow`], from `titles t`, `villages v`, `campaigns c`.
macro_rules! register {
    () => {
        "SELECT t.id, t.campaign_id, c.name AS campaign_name, c.year AS campaign_year,
                t.village_id, v.code AS village_code, v.name AS village_name, v.contact_leader,
                t.granted_on, t.expires_on, t.decision_ref, t.revoked_on, t.revoke_reason
         FROM titles t JOIN villages v ON v.id = t.village_id JOIN campaigns c ON c.id = t.campaign_id"
    };
}

impl Db {
    /// Every village with its 联系领导, by code.
    pub async fn village_leaders(&self) -> Result<Vec<VillageLeader>, DbError> {
        let sql = "SELECT id, code, name, contact_leader FROM villages ORDER BY code";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Every title ever granted with its village and campaign, by village code, the newest
    /// grant of a village first.
    pub async fn register(&self) -> Result<Vec<RegisterRow>, DbError> {
        let sql = concat!(
            register!(),
            " ORDER BY v.code, t.granted_on DESC, t.id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// The titles a 复核 round re-checks, by village code.
    pub async fn review_titles(&self, campaign: CampaignId) -> Result<Vec<RegisterRow>, DbError> {
        let sql = concat!(
            register!(),
            " JOIN review_titles r ON r.title_id = t.id WHERE r.campaign_id = $1 ORDER BY v.code, t.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_all(p).await)?)
    }

    /// A campaign's kind: `assessment` or `review`; `NotFound` without the campaign.
    pub async fn campaign_kind(&self, campaign: CampaignId) -> Result<String, DbError> {
        let sql = "SELECT kind FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// Every campaign with its kind, the oldest first (by year, then creation).
    pub async fn campaign_kinds(&self) -> Result<Vec<CampaignKind>, DbError> {
        let sql = "SELECT id, name, year, state, kind FROM campaigns ORDER BY year, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }
}

impl Tx {
    /// Sets (or with `None` clears) a village's 联系领导; `NotFound` without the village.
    pub async fn set_contact_leader(
        &mut self,
        village: VillageId,
        leader: Option<&str>,
    ) -> Result<(), DbError> {
        let sql = "UPDATE villages SET contact_leader = $1 WHERE id = $2";
        let n = on_tx!(self, c => sqlx::query(sql).bind(leader).bind(village)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// A title of the register, read in this transaction; `NotFound` without it.
    pub async fn register_row(&mut self, id: TitleId) -> Result<RegisterRow, DbError> {
        let sql = concat!(register!(), " WHERE t.id = $1");
        on_tx!(self, c => sqlx::query_as(sql).bind(id).fetch_optional(&mut *c).await)?
            .ok_or(DbError::NotFound)
    }

    /// Every title with its village and campaign, read in this transaction.
    pub async fn register(&mut self) -> Result<Vec<RegisterRow>, DbError> {
        let sql = concat!(register!(), " ORDER BY v.code, t.id");
        Ok(on_tx!(self, c => sqlx::query_as(sql).fetch_all(&mut *c).await)?)
    }

    /// Revokes a title not yet revoked; false if it already was (nothing changes).
    pub async fn revoke_title(
        &mut self,
        id: TitleId,
        day: &str,
        reason: &str,
    ) -> Result<bool, DbError> {
        let sql = "UPDATE titles SET revoked_on = $1, revoke_reason = $2 WHERE id = $3 AND revoked_on IS NULL";
        let n = on_tx!(self, c => sqlx::query(sql).bind(day).bind(reason).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Locks every title's row for the rest of the transaction (PostgreSQL; on SQLite the
    /// write takes the database's write lock), so two 复核 rounds created at once cannot
    /// both take the same titles: the second waits, then reads what the first recorded.
    pub async fn lock_titles(&mut self) -> Result<(), DbError> {
        let sql = "UPDATE titles SET decision_ref = decision_ref";
        on_tx!(self, c => sqlx::query(sql).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// The titles re-checked by a 复核 round not yet approved, read in this transaction.
    pub async fn titles_in_open_review(&mut self) -> Result<Vec<TitleId>, DbError> {
        let sql = "SELECT r.title_id FROM review_titles r JOIN campaigns c ON c.id = r.campaign_id
                   WHERE c.state <> 'approved' ORDER BY r.title_id";
        Ok(on_tx!(self, c => sqlx::query_scalar(sql).fetch_all(&mut *c).await)?)
    }

    /// Makes a campaign a 复核 round: kind `review`, drawing only accepted villages.
    pub async fn make_review(&mut self, campaign: CampaignId) -> Result<(), DbError> {
        let sql = "UPDATE campaigns SET kind = 'review', participation = 'accepted' WHERE id = $1";
        on_tx!(self, c => sqlx::query(sql).bind(campaign).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Records that a 复核 round re-checks a title.
    pub async fn add_review_title(
        &mut self,
        campaign: CampaignId,
        title: TitleId,
    ) -> Result<(), DbError> {
        let sql = "INSERT INTO review_titles (campaign_id, title_id) VALUES ($1, $2)";
        on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(title).execute(&mut *c).await.map(|_| ()))
            .map_err(DbError::from_insert)
    }

    /// Enters a village in a campaign as accepted, without a report (a 复核 round's
    /// villages): applied and decided now, by `by`, for `reason`.
    pub async fn accept_without_report(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        reason: &str,
        by: Option<AccountId>,
    ) -> Result<(), DbError> {
        let sql = "INSERT INTO applications (campaign_id, village_id, report_id, note, applied_by, applied_at, decision, reason, decided_by, decided_at)
                   VALUES ($1, $2, NULL, '', $3, $4, 'accepted', $5, $3, $4)";
        let t = now();
        on_tx!(self, c => sqlx::query(sql).bind(campaign).bind(village).bind(by).bind(t).bind(reason)
            .execute(&mut *c).await.map(|_| ()))
            .map_err(DbError::from_insert)
    }
}
