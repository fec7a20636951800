//! Rosters: atomic, streaming replacement of a village's roster, receipts, and the
//! commission's view of phones that appear in several villages.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::now;
use crate::ids::{AccountId, CampaignId, RosterId, VillageId};
use crate::roster::{self, Limits, Receipt, RosterError, Row, Stopped};
use std::io::{Read, Seek};

/// Whose roster an upload replaces, and who handed it in.
#[derive(Clone, Debug)]
pub struct RosterTarget {
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub file_name: String,
    /// `None` when imported from the command line.
    pub uploaded_by: Option<AccountId>,
}

/// Why an upload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Roster(#[from] RosterError),
    #[error("the campaign no longer accepts rosters (it is not collecting; rosters may be frozen)")]
    NotCollecting,
    #[error("the file has no valid phone number; the previous roster stays")]
    NoValidRows(Box<Receipt>),
    /// The campaign draws only accepted villages and refused this village's application, or
    /// takes no application from it any more.
    #[error(
        "the village's application was refused or is missing; the campaign takes no roster from it"
    )]
    NotAccepted,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Db(DbError::Sqlx(e))
    }
}

/// A village and the summary of its current roster in a campaign (if it handed one in).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct RosterStatus {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    pub roster_id: Option<RosterId>,
    pub fingerprint: Option<String>,
    pub rows_read: Option<i64>,
    pub accepted: Option<i64>,
    pub invalid: Option<i64>,
    pub duplicates: Option<i64>,
    pub file_name: Option<String>,
    pub uploaded_at: Option<i64>,
}

/// A phone found in the current rosters of more than one village of a campaign.
/// Shown to the commission only (masked), never to the villages.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CrossVillagePhone {
    pub phone: String,
    pub villages: Vec<String>,
}

/// Rows handed from the parsing thread to the database in one go.
const BATCH_ROWS: usize = 4096;

impl Db {
    /// [`Tx::import_roster`] in a transaction of its own (setting up; an upload that is
    /// audited goes through `ops::rosters::import`).
    pub async fn import_roster<R>(
        &self,
        target: &RosterTarget,
        input: R,
        limits: Limits,
    ) -> Result<Receipt, ImportError>
    where
        R: Read + Seek + Send + 'static,
    {
        let mut tx = self.begin().await?;
        let receipt = tx.import_roster(target, input, limits).await?;
        tx.commit().await?;
        Ok(receipt)
    }

    /// Every village with its current roster in the campaign (or none yet).
    pub async fn roster_statuses(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<RosterStatus>, DbError> {
        let sql = "SELECT v.id AS village_id, v.code, v.name, r.id AS roster_id, r.fingerprint, r.rows_read, r.accepted, r.invalid, r.duplicates, r.file_name, r.uploaded_at
                   FROM villages v LEFT JOIN rosters r ON r.village_id = v.id AND r.campaign_id = $1 AND r.is_current
                   ORDER BY v.code";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// The receipt of the village's current roster in the campaign, with its upload time.
    pub async fn current_receipt(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Option<(Receipt, String, i64)>, DbError> {
        let sql = "SELECT receipt, file_name, uploaded_at FROM rosters WHERE campaign_id = $1 AND village_id = $2 AND is_current";
        let row: Option<(String, String, i64)> = on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).bind(village_id).fetch_optional(p).await)?;
        row.map(|(json, file, at)| {
            serde_json::from_str(&json)
                .map(|r| (r, file, at))
                .map_err(|e| DbError::Sqlx(sqlx::Error::Decode(Box::new(e))))
        })
        .transpose()
    }

    /// Phones in the current rosters of several villages of the campaign (of the villages
    /// in the frame: with participation `accepted`, the accepted ones).
    pub async fn cross_village_phones(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<CrossVillagePhone>, DbError> {
        let sql = "SELECT e.phone, v.code FROM roster_entries e
                   JOIN rosters r ON r.id = e.roster_id AND r.is_current
                   JOIN villages v ON v.id = r.village_id
                   WHERE r.campaign_id = $1
                   AND (EXISTS (SELECT 1 FROM campaigns pc WHERE pc.id = r.campaign_id AND pc.participation = 'all')
                        OR EXISTS (SELECT 1 FROM applications pa WHERE pa.campaign_id = r.campaign_id
                                   AND pa.village_id = r.village_id AND pa.decision = 'accepted')) AND e.phone IN (
                       SELECT e2.phone FROM roster_entries e2 JOIN rosters r2 ON r2.id = e2.roster_id AND r2.is_current
                       WHERE r2.campaign_id = $1
                   AND (EXISTS (SELECT 1 FROM campaigns pc2 WHERE pc2.id = r2.campaign_id AND pc2.participation = 'all')
                        OR EXISTS (SELECT 1 FROM applications pa2 WHERE pa2.campaign_id = r2.campaign_id
                                   AND pa2.village_id = r2.village_id AND pa2.decision = 'accepted'))
                       GROUP BY e2.phone HAVING COUNT(*) > 1)
                   ORDER BY e.phone, v.code";
        let rows: Vec<(String, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?;
        let mut out: Vec<CrossVillagePhone> = Vec::new();
        for (phone, code) in rows {
            match out.last_mut() {
                Some(last) if last.phone == phone => last.villages.push(code),
                _ => out.push(CrossVillagePhone {
                    phone,
                    villages: vec![code],
                }),
            }
        }
        Ok(out)
    }

    /// The current roster's phones of a village, in byte order (the sampling frame; none for
    /// a village left out of a campaign by application).
    pub async fn frame_phones(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Vec<String>, DbError> {
        let sql = "SELECT e.phone FROM roster_entries e JOIN rosters r ON r.id = e.roster_id AND r.is_current
                   WHERE r.campaign_id = $1 AND r.village_id = $2
                   AND (EXISTS (SELECT 1 FROM campaigns pc WHERE pc.id = r.campaign_id AND pc.participation = 'all')
                        OR EXISTS (SELECT 1 FROM applications pa WHERE pa.campaign_id = r.campaign_id
                                   AND pa.village_id = r.village_id AND pa.decision = 'accepted'))";
        let mut phones: Vec<String> = on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign_id).bind(village_id).fetch_all(p).await)?;
        phones.sort_unstable();
        Ok(phones)
    }
}

impl Tx {
    /// Read a roster file and make it the village's roster: the whole new roster replaces
    /// the old one when the transaction commits, or nothing changes. The file is parsed on a
    /// blocking thread while its accepted rows are inserted in batches, so memory stays
    /// bounded.
    pub async fn import_roster<R>(
        &mut self,
        target: &RosterTarget,
        input: R,
        limits: Limits,
    ) -> Result<Receipt, ImportError>
    where
        R: Read + Seek + Send + 'static,
    {
        let (batches, mut incoming) = tokio::sync::mpsc::channel::<Vec<Row>>(4);
        let parser = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            let receipt = roster::read_roster(input, &limits, &mut |row| {
                batch.push(row);
                if batch.len() == BATCH_ROWS {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                    batches.blocking_send(full).map_err(|_| Stopped)?;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                batches.blocking_send(batch).map_err(|_| Stopped)?;
            }
            Ok::<_, RosterError>(receipt)
        });

        on_tx!(self, c => {
            // The first statement writes: it takes the campaign's row lock (PostgreSQL) or the
            // database write lock (SQLite), so a concurrent freeze waits for this upload.
            let open = sqlx::query("UPDATE campaigns SET roster_version = roster_version + 1 WHERE id = $1 AND state = 'collecting'")
                .bind(target.campaign_id).execute(&mut *c).await?.rows_affected() == 1;
            if !open {
                drop(incoming);
                let _ = parser.await;
                return Err(ImportError::NotCollecting);
            }
            let roster_id: RosterId = sqlx::query_scalar(
                "INSERT INTO rosters (campaign_id, village_id, is_current, fingerprint, rows_read, accepted, invalid, duplicates, receipt, file_name, uploaded_by, uploaded_at)
                 VALUES ($1, $2, FALSE, '', 0, 0, 0, 0, '{}', $3, $4, $5) RETURNING id")
                .bind(target.campaign_id).bind(target.village_id).bind(&target.file_name)
                .bind(target.uploaded_by).bind(now())
                .fetch_one(&mut *c).await?;
            while let Some(batch) = incoming.recv().await {
                insert_entries(&mut *c, roster_id, &batch).await?;
            }
            let receipt = parser
                .await
                .map_err(|e| ImportError::Db(DbError::Sqlx(sqlx::Error::Protocol(format!("roster parser failed: {e}")))))??;
            if receipt.accepted == 0 {
                return Err(ImportError::NoValidRows(Box::new(receipt)));
            }
            let json = serde_json::to_string(&receipt).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            sqlx::query("UPDATE rosters SET fingerprint = $1, rows_read = $2, accepted = $3, invalid = $4, duplicates = $5, receipt = $6 WHERE id = $7")
                .bind(&receipt.fingerprint).bind(receipt.rows_read as i64).bind(receipt.accepted as i64)
                .bind(receipt.invalid as i64).bind(receipt.duplicates as i64).bind(&json).bind(roster_id)
                .execute(&mut *c).await?;
            // The superseded roster keeps its receipt (what was handed in, and when) but not
            // its people: only the current roster is a sampling frame.
            sqlx::query("DELETE FROM roster_entries WHERE roster_id IN (SELECT id FROM rosters WHERE campaign_id = $1 AND village_id = $2 AND is_current)")
                .bind(target.campaign_id).bind(target.village_id).execute(&mut *c).await?;
            sqlx::query("UPDATE rosters SET is_current = FALSE WHERE campaign_id = $1 AND village_id = $2 AND is_current")
                .bind(target.campaign_id).bind(target.village_id).execute(&mut *c).await?;
            sqlx::query("UPDATE rosters SET is_current = TRUE WHERE id = $1").bind(roster_id).execute(&mut *c).await?;
            Ok(receipt)
        })
    }
}

/// Bulk insert of roster rows, in the fastest form each database offers.
trait InsertEntries {
    async fn insert_entries(
        &mut self,
        roster_id: RosterId,
        rows: &[Row],
    ) -> Result<(), sqlx::Error>;
}

async fn insert_entries<C: InsertEntries>(
    conn: &mut C,
    roster_id: RosterId,
    rows: &[Row],
) -> Result<(), sqlx::Error> {
    conn.insert_entries(roster_id, rows).await
}

impl InsertEntries for sqlx::SqliteConnection {
    async fn insert_entries(
        &mut self,
        roster_id: RosterId,
        rows: &[Row],
    ) -> Result<(), sqlx::Error> {
        // Multi-row VALUES: SQLite allows 32,766 bound parameters, i.e. 5,461 rows of 6.
        for chunk in rows.chunks(5000) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO roster_entries (roster_id, phone, name, service, service_date, row_no) ",
            );
            q.push_values(chunk, |mut b, row| {
                b.push_bind(roster_id)
                    .push_bind(row.phone.as_str())
                    .push_bind(row.name.as_deref())
                    .push_bind(row.service.as_deref())
                    .push_bind(row.service_date.as_deref())
                    .push_bind(row.row as i64);
            });
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}

impl InsertEntries for sqlx::PgConnection {
    async fn insert_entries(
        &mut self,
        roster_id: RosterId,
        rows: &[Row],
    ) -> Result<(), sqlx::Error> {
        let phones: Vec<String> = rows.iter().map(|r| r.phone.as_str().to_string()).collect();
        let names: Vec<Option<String>> = rows.iter().map(|r| r.name.clone()).collect();
        let services: Vec<Option<String>> = rows.iter().map(|r| r.service.clone()).collect();
        let dates: Vec<Option<String>> = rows.iter().map(|r| r.service_date.clone()).collect();
        let row_nos: Vec<i64> = rows.iter().map(|r| r.row as i64).collect();
        sqlx::query(
            "INSERT INTO roster_entries (roster_id, phone, name, service, service_date, row_no)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
        )
        .bind(roster_id)
        .bind(phones)
        .bind(names)
        .bind(services)
        .bind(dates)
        .bind(row_nos)
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}
