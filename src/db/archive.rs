//! Data protection: marking a campaign archived, purging its
//! phone numbers and names, and an online SQLite backup.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::{CampaignState, now};
use crate::ids::{CampaignId, RosterId};

/// What a purge removed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Purged {
    pub roster_entries: u64,
    pub receipts: u64,
    pub cases: u64,
    pub ranked_lists: u64,
    pub link_tokens: u64,
    pub panel_members: u64,
    pub attempt_notes: u64,
}

/// Why a purge was refused.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("the campaign is not approved")]
    NotApproved,
    #[error("the campaign's archive has not been exported")]
    NotArchived,
    #[error("the campaign is already purged")]
    AlreadyPurged,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for PurgeError {
    fn from(e: sqlx::Error) -> Self {
        PurgeError::Db(e.into())
    }
}

impl Db {
    /// (archived_at, purged_at) of a campaign.
    pub async fn archive_state(
        &self,
        campaign_id: CampaignId,
    ) -> Result<(Option<i64>, Option<i64>), DbError> {
        let sql = "SELECT archived_at, purged_at FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// Make deleted data unreadable in the database's files, not just unreachable by SQL.
    /// SQLite: `secure_delete` has zeroed deleted rows; `VACUUM` rebuilds the file without
    /// free pages or slack, and a truncating checkpoint empties the WAL, which still held
    /// the pages as they were before. PostgreSQL: `VACUUM FULL` rewrites the tables that
    /// held phones and names into new files (a plain VACUUM leaves the bytes of dead rows in
    /// the pages). PostgreSQL's own WAL and any backups keep older copies (README). Run
    /// again after an interrupted purge; it is idempotent.
    pub async fn erase_deleted_data(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(s) => {
                sqlx::query("VACUUM").execute(&s.write).await?;
                // Readers still on an older snapshot make the checkpoint report busy;
                // they finish within moments, so try again for a while.
                for _ in 0..100 {
                    let (busy, _, _): (i64, i64, i64) =
                        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                            .fetch_one(&s.write)
                            .await?;
                    if busy == 0 {
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(DbError::Sqlx(sqlx::Error::Protocol(
                    "the WAL could not be truncated: readers kept it busy for 10 s; run the purge again".into(),
                )))
            }
            Db::Postgres(p) => {
                sqlx::query("VACUUM FULL roster_entries, rosters, cases, draw_strata, invitations, invitation_tokens, panel_members, attempts, response_pool")
                    .execute(p).await?;
                Ok(())
            }
        }
    }

    /// A consistent copy of a running SQLite database (`VACUUM INTO`, which reads one
    /// snapshot while the server goes on writing). PostgreSQL: use `pg_dump` (README).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), anyhow::Error> {
        let Db::Sqlite(s) = self else {
            anyhow::bail!("backup works on SQLite; for PostgreSQL use pg_dump (see README)");
        };
        anyhow::ensure!(
            !path.exists(),
            "{} already exists; choose a new file",
            path.display()
        );
        let target = path
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("{} is not a UTF-8 path", path.display()))?;
        // The copy holds phone numbers: an empty private file first, which VACUUM INTO
        // fills (it accepts an empty file) without widening its mode.
        crate::files::create_new_private(path)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        if let Err(e) = sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&s.read)
            .await
        {
            let _ = std::fs::remove_file(path);
            return Err(e.into());
        }
        crate::files::restrict(path)?;
        Ok(())
    }
}

impl Tx {
    /// Records that the campaign's archive was exported.
    pub async fn mark_archived(&mut self, campaign_id: CampaignId) -> Result<(), DbError> {
        let sql = "UPDATE campaigns SET archived_at = $1 WHERE id = $2";
        on_tx!(self, c => sqlx::query(sql).bind(now()).bind(campaign_id).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Removes the campaign's phone numbers and names, in one transaction: roster entries,
    /// the rows quoted in roster receipts, the cases' phones and names, the ranked lists
    /// (their SHA-256 stays in the draw record), the links' token hashes, the panel's names
    /// and phones, and the surveyors' call notes. Answers, tallies, grades, the draw record
    /// and the audit log stay. Only for an approved campaign whose archive was exported.
    /// The rows are gone from SQL once committed; [`Db::erase_deleted_data`] then erases
    /// them from the files.
    pub async fn purge_campaign(&mut self, campaign_id: CampaignId) -> Result<Purged, PurgeError> {
        let mut out = Purged::default();
        on_tx!(self, tx => {
            let row: Option<(String, Option<i64>, Option<i64>)> =
                sqlx::query_as("SELECT state, archived_at, purged_at FROM campaigns WHERE id = $1")
                    .bind(campaign_id).fetch_optional(&mut *tx).await?;
            let Some((state, archived, purged)) = row else {
                return Err(PurgeError::Db(DbError::NotFound));
            };
            if super::decode_name::<CampaignState>("state", state)? != CampaignState::Approved {
                return Err(PurgeError::NotApproved);
            }
            if archived.is_none() {
                return Err(PurgeError::NotArchived);
            }
            if purged.is_some() {
                return Err(PurgeError::AlreadyPurged);
            }
            out.roster_entries = sqlx::query("DELETE FROM roster_entries WHERE roster_id IN (SELECT id FROM rosters WHERE campaign_id = $1)")
                .bind(campaign_id).execute(&mut *tx).await?.rows_affected();
            let receipts: Vec<(RosterId, String)> = sqlx::query_as("SELECT id, receipt FROM rosters WHERE campaign_id = $1")
                .bind(campaign_id).fetch_all(&mut *tx).await?;
            for (id, receipt) in receipts {
                // A receipt quotes the rows it refused, as typed (phones, names): drop them.
                let mut v: serde_json::Value = serde_json::from_str(&receipt).unwrap_or_default();
                if let Some(errors) = v.get_mut("errors") {
                    *errors = serde_json::Value::Array(Vec::new());
                }
                sqlx::query("UPDATE rosters SET receipt = $1 WHERE id = $2")
                    .bind(v.to_string()).bind(id).execute(&mut *tx).await?;
                out.receipts += 1;
            }
            out.cases = sqlx::query("UPDATE cases SET phone = '', name = NULL WHERE campaign_id = $1")
                .bind(campaign_id).execute(&mut *tx).await?.rows_affected();
            out.ranked_lists = sqlx::query("UPDATE draw_strata SET ranked = '' WHERE campaign_id = $1")
                .bind(campaign_id).execute(&mut *tx).await?.rows_affected();
            out.link_tokens = sqlx::query("DELETE FROM invitation_tokens WHERE invitation_id IN
                    (SELECT i.id FROM invitations i JOIN cases c ON c.id = i.case_id WHERE c.campaign_id = $1)")
                .bind(campaign_id).execute(&mut *tx).await?.rows_affected();
            out.panel_members = sqlx::query("UPDATE panel_members SET name = '（已清除）', phone = NULL, token_hash = NULL WHERE campaign_id = $1")
                .bind(campaign_id).execute(&mut *tx).await?.rows_affected();
            out.attempt_notes = sqlx::query("UPDATE attempts SET note = NULL WHERE note IS NOT NULL AND case_id IN (SELECT id FROM cases WHERE campaign_id = $1)")
                .bind(campaign_id).execute(&mut *tx).await?.rows_affected();
            sqlx::query("UPDATE campaigns SET purged_at = $1 WHERE id = $2")
                .bind(now()).bind(campaign_id).execute(&mut *tx).await?;
        });
        Ok(out)
    }
}
