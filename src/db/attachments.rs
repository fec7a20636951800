//! Storage of attachments (files handed in, checked by `crate::attachments`) and of the
//! register of titled villages.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::now;
use crate::ids::{AccountId, AttachmentId, CampaignId, TitleId, VillageId};

/// A stored file's description, without its content.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct AttachmentMeta {
    pub id: AttachmentId,
    pub sha256: String,
    pub file_name: String,
    pub kind: String,
    pub size: i64,
    pub uploaded_by: Option<AccountId>,
    pub uploaded_at: i64,
}

/// A stored file with its content.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Attachment {
    #[sqlx(flatten)]
    pub meta: AttachmentMeta,
    pub content: Vec<u8>,
}

/// A title in the register.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct TitleRow {
    pub id: TitleId,
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub granted_on: String,
    pub expires_on: String,
    pub decision_ref: String,
    pub granted_at: i64,
    pub revoked_on: Option<String>,
    pub revoke_reason: Option<String>,
}

/// A title to grant.
#[derive(Clone, Debug)]
pub struct NewTitle<'a> {
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub granted_on: &'a str,
    pub expires_on: &'a str,
    pub decision_ref: &'a str,
}

/// The columns of [`AttachmentMeta`], spliced into literal SQL.
macro_rules! meta {
    () => {
        "id, sha256, file_name, kind, size, uploaded_by, uploaded_at"
    };
}

/// The columns of [`TitleRow`].
macro_rules! title {
    () => {
        "id, campaign_id, village_id, granted_on, expires_on, decision_ref, granted_at, revoked_on, revoke_reason"
    };
}

impl Db {
    /// A stored file's description; `NotFound` if there is none such.
    pub async fn attachment_meta(&self, id: AttachmentId) -> Result<AttachmentMeta, DbError> {
        let sql = concat!("SELECT ", meta!(), " FROM attachments WHERE id = $1");
        on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// A stored file with its content; `NotFound` if there is none such.
    pub async fn attachment(&self, id: AttachmentId) -> Result<Attachment, DbError> {
        let sql = concat!(
            "SELECT ",
            meta!(),
            ", content FROM attachments WHERE id = $1"
        );
        on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// Every title ever granted, the newest grant first (revoked and expired ones too).
    pub async fn titles(&self) -> Result<Vec<TitleRow>, DbError> {
        let sql = concat!(
            "SELECT ",
            title!(),
            " FROM titles ORDER BY granted_on DESC, id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// A village's titles, the newest grant first.
    pub async fn village_titles(&self, village: VillageId) -> Result<Vec<TitleRow>, DbError> {
        let sql = concat!(
            "SELECT ",
            title!(),
            " FROM titles WHERE village_id = $1 ORDER BY granted_on DESC, id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(village).fetch_all(p).await)?)
    }
}

impl Tx {
    /// Stores a checked file in the operation's transaction; returns its id.
    pub async fn store_attachment(
        &mut self,
        file: &crate::attachments::Checked,
        content: &[u8],
        by: Option<AccountId>,
    ) -> Result<AttachmentId, DbError> {
        let t = now();
        let id = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO attachments (sha256, file_name, kind, size, content, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(&file.sha256).bind(&file.file_name).bind(file.kind.as_str())
            .bind(content.len() as i64).bind(content).bind(by).bind(t)
            .fetch_one(&mut *c).await)?;
        Ok(id)
    }

    /// Grants a title in the operation's transaction; `Conflict` if the campaign already
    /// granted the village one.
    pub async fn grant_title(
        &mut self,
        title: &NewTitle<'_>,
        by: Option<AccountId>,
    ) -> Result<TitleId, DbError> {
        let t = now();
        let id = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO titles (campaign_id, village_id, granted_on, expires_on, decision_ref, granted_by, granted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(title.campaign_id).bind(title.village_id).bind(title.granted_on)
            .bind(title.expires_on).bind(title.decision_ref).bind(by).bind(t)
            .fetch_one(&mut *c).await).map_err(DbError::from_insert)?;
        Ok(id)
    }
}
