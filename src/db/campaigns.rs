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
    /// The day the creation (创建) started, `YYYY-MM-DD`, set by the commission: the negative
    /// list counts from one year before it.
    pub creation_started_on: Option<String>,
}

/// The notice shown to respondents (PIPL Art. 17): who processes their number for the
/// commission, how to check a call, where the number came from, how long it is kept and
/// whom to ask. Empty fields are left out where it is shown.
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Notice {
    /// 第三方机构名称: the third party running the survey.
    pub party: String,
    /// 核实电话: the number a respondent calls to check the survey is genuine.
    pub phone: String,
    /// 号码来源说明: where the respondent's number came from.
    pub source: String,
    /// 保存期限: how long numbers are kept.
    pub retention: String,
    /// 权利联系方式: whom to contact to exercise their rights.
    pub contact: String,
}

impl Notice {
    /// Where numbers come from, unless the administrator words it otherwise (the default of
    /// `campaigns.notice_source`).
    pub const DEFAULT_SOURCE: &'static str =
        "您的电话号码由本村（社区）在办理事项时登记，提供给镇纪委委托的第三方用于本次调查";
    /// How long numbers are kept (the default of `campaigns.notice_retention`).
    pub const DEFAULT_RETENTION: &'static str =
        "评定结果批准后删除全部电话号码和答卷与电话的对应关系";

    /// The third party's name or the verification number is missing: a respondent cannot
    /// check that a call is genuine.
    pub fn incomplete(&self) -> bool {
        self.party.trim().is_empty() || self.phone.trim().is_empty()
    }
}

/// Where objections to the publicity notice are received and who issues it, as stored
/// (each `None` until the administrator sets it; checked by `results::notice::Contact`).
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct ObjectionContact {
    /// 受理异议电话.
    pub phone: Option<String>,
    /// 受理异议地址.
    pub address: Option<String>,
    /// 公示发布单位.
    pub issuer: Option<String>,
}

const OBJECTION_CONTACT_SQL: &str = "SELECT objection_phone AS phone, objection_address AS address, notice_issuer AS issuer FROM campaigns WHERE id = $1";

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
        let sql = "SELECT id, name, town, year, state, created_at, frozen_at, frame_fingerprint, size_rule, fieldwork_started_at, demo, creation_started_on FROM campaigns ORDER BY year DESC, id DESC";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    pub async fn campaign(&self, id: CampaignId) -> Result<Campaign, DbError> {
        let sql = "SELECT id, name, town, year, state, created_at, frozen_at, frame_fingerprint, size_rule, fieldwork_started_at, demo, creation_started_on FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// When fieldwork was closed (unix seconds), if it was: the reports' fieldwork dates.
    pub async fn fieldwork_closed_at(&self, id: CampaignId) -> Result<Option<i64>, DbError> {
        let sql = "SELECT fieldwork_closed_at FROM campaigns WHERE id = $1";
        let row: Option<Option<i64>> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(p).await)?;
        row.ok_or(DbError::NotFound)
    }

    /// The campaign's notice to respondents.
    pub async fn notice(&self, id: CampaignId) -> Result<Notice, DbError> {
        let sql = "SELECT notice_party AS party, notice_phone AS phone, notice_source AS source, notice_retention AS retention, notice_contact AS contact FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }
}

impl Db {
    /// Where objections to the campaign's publicity notice are received, and its issuer.
    pub async fn objection_contact(&self, id: CampaignId) -> Result<ObjectionContact, DbError> {
        on_pool!(self, p => sqlx::query_as(OBJECTION_CONTACT_SQL).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }
}

impl Tx {
    /// The objection contact, read in this transaction (publishing reads it with the write).
    pub async fn objection_contact(&mut self, id: CampaignId) -> Result<ObjectionContact, DbError> {
        on_tx!(self, c => sqlx::query_as(OBJECTION_CONTACT_SQL).bind(id).fetch_optional(&mut *c).await)?
            .ok_or(DbError::NotFound)
    }

    /// Set where objections are received and who issues the notice; `DbError::NotFound` if
    /// there is no such campaign.
    pub async fn set_objection_contact(
        &mut self,
        id: CampaignId,
        phone: &str,
        address: &str,
        issuer: &str,
    ) -> Result<(), DbError> {
        let sql = "UPDATE campaigns SET objection_phone = $1, objection_address = $2, notice_issuer = $3 WHERE id = $4";
        let done = on_tx!(self, c => sqlx::query(sql).bind(phone).bind(address).bind(issuer).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Set the day the creation started (`YYYY-MM-DD`); `DbError::NotFound` if there is no
    /// such campaign.
    pub async fn set_creation_start(&mut self, id: CampaignId, day: &str) -> Result<(), DbError> {
        let sql = "UPDATE campaigns SET creation_started_on = $1 WHERE id = $2";
        let done = on_tx!(self, c => sqlx::query(sql).bind(day).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Set the campaign's notice to respondents; `DbError::NotFound` if there is no such
    /// campaign.
    pub async fn set_notice(&mut self, id: CampaignId, notice: &Notice) -> Result<(), DbError> {
        let sql = "UPDATE campaigns SET notice_party = $1, notice_phone = $2, notice_source = $3, notice_retention = $4, notice_contact = $5 WHERE id = $6";
        let done = on_tx!(self, c => sqlx::query(sql)
            .bind(&notice.party).bind(&notice.phone).bind(&notice.source)
            .bind(&notice.retention).bind(&notice.contact).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

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
        // The default sample-size rule is written out: the column's own default is the
        // first release's rule (±5%, no census), kept for campaigns created before.
        let rule = serde_json::to_string(&crate::sampling::SizeRule::default().parameters())
            .unwrap_or_default();
        let sql = "INSERT INTO campaigns (name, town, year, state, created_at, size_rule) VALUES ($1, $2, $3, 'collecting', $4, $5) RETURNING id";
        on_tx!(self, c => sqlx::query_scalar(sql).bind(name).bind(town).bind(year).bind(now()).bind(&rule).fetch_one(&mut *c).await)
            .map_err(DbError::from_insert)
    }
}
