//! Villages and campaigns.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::{CampaignState, VillageCode, now};
use crate::ids::{CampaignId, VillageId};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Village {
    pub id: VillageId,
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub town: String,
    pub year: i64,
    pub state: CampaignState,
    pub created_at: i64,
    pub frozen_at: Option<i64>,
    pub frame_fingerprint: Option<String>,
    /// The sample-size rule, JSON of `sampling::SizeParameters`.
    pub size_rule: String,
    pub fieldwork_started_at: Option<i64>,
    /// Made by `minyi demo`: invented data, marked on every page.
    pub demo: bool,
}

impl Db {
    /// Add a village, in a transaction of its own (setting up; an operation that is audited
    /// uses [`Tx::create_village`]).
    pub async fn create_village(
        &self,
        code: &VillageCode,
        name: &str,
    ) -> Result<VillageId, DbError> {
        let mut tx = self.begin().await?;
        let id = tx.create_village(code, name).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Add or rename villages, in a transaction of its own (setting up; see
    /// [`Tx::import_villages`]).
    pub async fn import_villages(
        &self,
        villages: &[(VillageCode, String)],
    ) -> Result<(u64, u64), DbError> {
        let mut tx = self.begin().await?;
        let counts = tx.import_villages(villages).await?;
        tx.commit().await?;
        Ok(counts)
    }

    pub async fn list_villages(&self) -> Result<Vec<Village>, DbError> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT id, code, name FROM villages ORDER BY code").fetch_all(p).await)?,
        )
    }

    pub async fn village(&self, id: VillageId) -> Result<Village, DbError> {
        on_pool!(self, p => sqlx::query_as("SELECT id, code, name FROM villages WHERE id = $1").bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    pub async fn village_by_code(&self, code: &str) -> Result<Village, DbError> {
        on_pool!(self, p => sqlx::query_as("SELECT id, code, name FROM villages WHERE code = $1").bind(code).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// Create a campaign, in a transaction of its own (setting up; see
    /// [`Tx::create_campaign`]).
    pub async fn create_campaign(
        &self,
        name: &str,
        town: &str,
        year: i64,
    ) -> Result<CampaignId, DbError> {
        let mut tx = self.begin().await?;
        let id = tx.create_campaign(name, town, year).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_campaigns(&self) -> Result<Vec<Campaign>, DbError> {
        let sql = "SELECT id, name, town, year, state, created_at, frozen_at, frame_fingerprint, size_rule, fieldwork_started_at, demo FROM campaigns ORDER BY year DESC, id DESC";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    pub async fn campaign(&self, id: CampaignId) -> Result<Campaign, DbError> {
        let sql = "SELECT id, name, town, year, state, created_at, frozen_at, frame_fingerprint, size_rule, fieldwork_started_at, demo FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }
}

impl Tx {
    /// Add a village; a taken code is `DbError::Conflict`.
    pub async fn create_village(
        &mut self,
        code: &VillageCode,
        name: &str,
    ) -> Result<VillageId, DbError> {
        let sql = "INSERT INTO villages (code, name, created_at) VALUES ($1, $2, $3) RETURNING id";
        on_tx!(self, c => sqlx::query_scalar(sql).bind(code.as_str()).bind(name).bind(now()).fetch_one(&mut *c).await)
            .map_err(DbError::from_insert)
    }

    /// Add or rename villages; returns (added, renamed).
    pub async fn import_villages(
        &mut self,
        villages: &[(VillageCode, String)],
    ) -> Result<(u64, u64), DbError> {
        let (mut added, mut renamed) = (0, 0);
        on_tx!(self, c => {
            for (code, name) in villages {
                let existing: Option<(VillageId, String)> = sqlx::query_as("SELECT id, name FROM villages WHERE code = $1")
                    .bind(code.as_str()).fetch_optional(&mut *c).await?;
                match existing {
                    None => {
                        sqlx::query("INSERT INTO villages (code, name, created_at) VALUES ($1, $2, $3)")
                            .bind(code.as_str()).bind(name).bind(now()).execute(&mut *c).await?;
                        added += 1;
                    }
                    Some((id, old)) if old != *name => {
                        sqlx::query("UPDATE villages SET name = $1 WHERE id = $2").bind(name).bind(id).execute(&mut *c).await?;
                        renamed += 1;
                    }
                    Some(_) => {}
                }
            }
        });
        Ok((added, renamed))
    }

    /// Create a campaign, collecting rosters.
    pub async fn create_campaign(
        &mut self,
        name: &str,
        town: &str,
        year: i64,
    ) -> Result<CampaignId, DbError> {
        let sql = "INSERT INTO campaigns (name, town, year, state, created_at) VALUES ($1, $2, $3, 'collecting', $4) RETURNING id";
        on_tx!(self, c => sqlx::query_scalar(sql).bind(name).bind(town).bind(year).bind(now()).fetch_one(&mut *c).await)
            .map_err(DbError::from_insert)
    }
}
