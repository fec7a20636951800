//! Application and acceptance (申报与受理) and the village archive's half-yearly reports
//! (创廉档案). A campaign with `participation = 'accepted'` draws only the villages whose
//! application the commission accepted: the roster queries of the freeze and the draw
//! (`rosters.rs`, `draws.rs`) carry the same condition, so the freeze fingerprint and the
//! draw agree.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::now;
use crate::ids::{AccountId, AttachmentId, CampaignId, VillageId};

/// Who takes part in a campaign: `all` (every village with a roster) or `accepted` (only
/// villages whose application was accepted), and the last day to apply.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Participation {
    pub participation: String,
    pub applications_due: Option<String>,
}

impl Participation {
    /// Only accepted villages are drawn.
    pub fn by_application(&self) -> bool {
        self.participation == "accepted"
    }
}

/// A village's application in a campaign, with its current self-assessment report.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct ApplicationRow {
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    pub report_id: Option<AttachmentId>,
    pub note: String,
    pub applied_at: i64,
    /// `accepted`, `refused`, or `None` while pending.
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub decided_at: Option<i64>,
    pub file_name: Option<String>,
    pub kind: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    pub uploaded_at: Option<i64>,
}

/// A half-yearly written report in the village archive, with its file's description.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct VillageReportRow {
    pub id: i64,
    pub village_id: VillageId,
    pub period: String,
    pub attachment_id: AttachmentId,
    pub note: String,
    pub uploaded_at: i64,
    pub file_name: String,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
}

/// A self-assessment report handed in (the current one or one replaced since).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct ApplicationReportRow {
    pub campaign_id: CampaignId,
    pub attachment_id: AttachmentId,
    pub note: String,
    pub uploaded_at: i64,
    pub file_name: String,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
}

/// What became of an application handed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The first application.
    New,
    /// The pending application's report was replaced.
    Replaced,
    /// The commission has decided: the application can no longer change.
    Decided,
    /// The rosters are frozen.
    Closed,
}

macro_rules! application {
    () => {
        "SELECT a.campaign_id, a.village_id, v.code, v.name, a.report_id, a.note, a.applied_at,
                a.decision, a.reason, a.decided_at, f.file_name, f.kind, f.size, f.sha256,
                f.uploaded_at
         FROM applications a JOIN villages v ON v.id = a.village_id
         LEFT JOIN attachments f ON f.id = a.report_id "
    };
}

macro_rules! report {
    () => {
        "SELECT r.id, r.village_id, r.period, r.attachment_id, r.note, r.uploaded_at,
                f.file_name, f.kind, f.size, f.sha256
         FROM village_reports r JOIN attachments f ON f.id = r.attachment_id "
    };
}

impl Db {
    /// The campaign's participation rule and due date; `NotFound` without the campaign.
    pub async fn participation(&self, campaign: CampaignId) -> Result<Participation, DbError> {
        let sql = "SELECT participation, applications_due FROM campaigns WHERE id = $1";
        on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    /// The campaign's applications, by village code.
    pub async fn applications(&self, campaign: CampaignId) -> Result<Vec<ApplicationRow>, DbError> {
        let sql = concat!(application!(), "WHERE a.campaign_id = $1 ORDER BY v.code");
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign).fetch_all(p).await)?)
    }

    /// A village's application in the campaign, if it applied.
    pub async fn application(
        &self,
        campaign: CampaignId,
        village: VillageId,
    ) -> Result<Option<ApplicationRow>, DbError> {
        let sql = concat!(
            application!(),
            "WHERE a.campaign_id = $1 AND a.village_id = $2"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign).bind(village).fetch_optional(p).await)?,
        )
    }

    /// A village's applications in every campaign, the newest campaign first.
    pub async fn village_applications(
        &self,
        village: VillageId,
    ) -> Result<Vec<ApplicationRow>, DbError> {
        let sql = concat!(
            application!(),
            "WHERE a.village_id = $1 ORDER BY a.campaign_id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(village).fetch_all(p).await)?)
    }

    /// A village's half-yearly reports, the newest period and upload first.
    pub async fn village_reports(
        &self,
        village: VillageId,
    ) -> Result<Vec<VillageReportRow>, DbError> {
        let sql = concat!(
            report!(),
            "WHERE r.village_id = $1 ORDER BY r.period DESC, r.id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(village).fetch_all(p).await)?)
    }

    /// Every half-yearly report of every village (for the reminder list and the export).
    pub async fn all_village_reports(&self) -> Result<Vec<VillageReportRow>, DbError> {
        let sql = concat!(report!(), "ORDER BY r.village_id, r.period, r.id");
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Every self-assessment report the village handed in, replaced ones too, the newest
    /// first.
    pub async fn application_reports(
        &self,
        village: VillageId,
    ) -> Result<Vec<ApplicationReportRow>, DbError> {
        let sql = "SELECT r.campaign_id, r.attachment_id, r.note, r.uploaded_at, f.file_name, f.kind, f.size, f.sha256
                   FROM application_reports r JOIN attachments f ON f.id = r.attachment_id
                   WHERE r.village_id = $1 ORDER BY r.campaign_id DESC, r.id DESC";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(village).fetch_all(p).await)?)
    }

    /// The file is one the village handed in: a self-assessment report of one of its
    /// applications, or one of its half-yearly reports.
    pub async fn village_holds_attachment(
        &self,
        village: VillageId,
        attachment: AttachmentId,
    ) -> Result<bool, DbError> {
        let sql = "SELECT COUNT(*) FROM (
                       SELECT report_id AS id FROM applications WHERE village_id = $1 AND report_id = $2
                       UNION ALL
                       SELECT attachment_id AS id FROM application_reports WHERE village_id = $1 AND attachment_id = $2
                       UNION ALL
                       SELECT attachment_id AS id FROM village_reports WHERE village_id = $1 AND attachment_id = $2
                   ) held";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(sql).bind(village).bind(attachment).fetch_one(p).await)?;
        Ok(n > 0)
    }
}

impl Tx {
    /// Sets who takes part and the last day to apply (at creation).
    pub async fn set_participation(
        &mut self,
        campaign: CampaignId,
        participation: &str,
        due: Option<&str>,
    ) -> Result<(), DbError> {
        let sql = "UPDATE campaigns SET participation = $1, applications_due = $2 WHERE id = $3";
        let n = on_tx!(self, c => sqlx::query(sql).bind(participation).bind(due).bind(campaign)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Changes the last day to apply; false, and nothing changed, once the rosters are
    /// frozen.
    pub async fn set_applications_due(
        &mut self,
        campaign: CampaignId,
        due: &str,
    ) -> Result<bool, DbError> {
        let sql =
            "UPDATE campaigns SET applications_due = $1 WHERE id = $2 AND state = 'collecting'";
        let n = on_tx!(self, c => sqlx::query(sql).bind(due).bind(campaign)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Locks the campaign's row while it collects rosters (so the freeze waits for this
    /// transaction, and sees its change); false once frozen.
    async fn lock_collecting(&mut self, campaign: CampaignId) -> Result<bool, DbError> {
        let sql = "UPDATE campaigns SET state = state WHERE id = $1 AND state = 'collecting'";
        let n = on_tx!(self, c => sqlx::query(sql).bind(campaign)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Hands in (or, while undecided, replaces) the village's application with its report.
    pub async fn submit_application(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        report: AttachmentId,
        note: &str,
        by: Option<AccountId>,
    ) -> Result<Submitted, DbError> {
        if !self.lock_collecting(campaign).await? {
            return Ok(Submitted::Closed);
        }
        let t = now();
        let existing: Option<Option<String>> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT decision FROM applications WHERE campaign_id = $1 AND village_id = $2")
            .bind(campaign).bind(village).fetch_optional(&mut *c).await)?;
        let done = match existing {
            Some(Some(_)) => return Ok(Submitted::Decided),
            Some(None) => {
                on_tx!(self, c => sqlx::query(
                    "UPDATE applications SET report_id = $1, note = $2, applied_by = $3, applied_at = $4
                     WHERE campaign_id = $5 AND village_id = $6 AND decision IS NULL")
                    .bind(report).bind(note).bind(by).bind(t).bind(campaign).bind(village)
                    .execute(&mut *c).await.map(|_| ()))?;
                Submitted::Replaced
            }
            None => {
                on_tx!(self, c => sqlx::query(
                    "INSERT INTO applications (campaign_id, village_id, report_id, note, applied_by, applied_at)
                     VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(campaign).bind(village).bind(report).bind(note).bind(by).bind(t)
                    .execute(&mut *c).await.map(|_| ()))
                .map_err(DbError::from_insert)?;
                Submitted::New
            }
        };
        on_tx!(self, c => sqlx::query(
            "INSERT INTO application_reports (campaign_id, village_id, attachment_id, note, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(campaign).bind(village).bind(report).bind(note).bind(by).bind(t)
            .execute(&mut *c).await.map(|_| ()))?;
        Ok(done)
    }

    /// Records (or changes) the commission's decision on an application: `accepted`, or
    /// `refused` with a reason. False, and nothing changed, once the rosters are frozen;
    /// `NotFound` if the village has not applied.
    pub async fn decide_application(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
        decision: &str,
        reason: Option<&str>,
        by: Option<AccountId>,
    ) -> Result<bool, DbError> {
        if !self.lock_collecting(campaign).await? {
            return Ok(false);
        }
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE applications SET decision = $1, reason = $2, decided_by = $3, decided_at = $4
             WHERE campaign_id = $5 AND village_id = $6")
            .bind(decision).bind(reason).bind(by).bind(now()).bind(campaign).bind(village)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        Ok(true)
    }

    /// The decision on the village's application in this transaction: `None` if it has
    /// not applied, `Some(None)` while pending.
    pub async fn application_decision(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
    ) -> Result<Option<Option<String>>, DbError> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "SELECT decision FROM applications WHERE campaign_id = $1 AND village_id = $2")
            .bind(campaign).bind(village).fetch_optional(&mut *c).await)?)
    }

    /// The campaign's participation rule, read in this transaction.
    pub async fn participation(&mut self, campaign: CampaignId) -> Result<Participation, DbError> {
        let sql = "SELECT participation, applications_due FROM campaigns WHERE id = $1";
        on_tx!(self, c => sqlx::query_as(sql).bind(campaign).fetch_optional(&mut *c).await)?
            .ok_or(DbError::NotFound)
    }

    /// Names (`code name`) of the villages whose application awaits a decision.
    pub async fn pending_applications(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<String>, DbError> {
        let rows: Vec<(String, String)> = on_tx!(self, c => sqlx::query_as(
            "SELECT v.code, v.name FROM applications a JOIN villages v ON v.id = a.village_id
             WHERE a.campaign_id = $1 AND a.decision IS NULL ORDER BY v.code")
            .bind(campaign).fetch_all(&mut *c).await)?;
        Ok(rows
            .into_iter()
            .map(|(code, name)| format!("{code} {name}"))
            .collect())
    }

    /// How many self-assessment reports the village handed in for the campaign (replaced
    /// ones too). Locks the campaign's row first, so that on PostgreSQL two submissions of
    /// the same campaign count one after the other (SQLite has one writer anyway).
    pub async fn application_report_count(
        &mut self,
        campaign: CampaignId,
        village: VillageId,
    ) -> Result<i64, DbError> {
        on_tx!(self, c => sqlx::query("UPDATE campaigns SET state = state WHERE id = $1")
            .bind(campaign).execute(&mut *c).await.map(|_| ()))?;
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM application_reports WHERE campaign_id = $1 AND village_id = $2")
            .bind(campaign).bind(village).fetch_one(&mut *c).await)?)
    }

    /// How many half-yearly reports the village handed in for the period (superseded ones
    /// too). Locks the village's row first, so that on PostgreSQL two uploads of the same
    /// village count one after the other (SQLite has one writer anyway).
    pub async fn village_report_count(
        &mut self,
        village: VillageId,
        period: &str,
    ) -> Result<i64, DbError> {
        on_tx!(self, c => sqlx::query("UPDATE villages SET code = code WHERE id = $1")
            .bind(village).execute(&mut *c).await.map(|_| ()))?;
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM village_reports WHERE village_id = $1 AND period = $2")
            .bind(village).bind(period).fetch_one(&mut *c).await)?)
    }

    /// Adds a half-yearly report to the village archive; returns its row id.
    pub async fn add_village_report(
        &mut self,
        village: VillageId,
        period: &str,
        attachment: AttachmentId,
        note: &str,
        by: Option<AccountId>,
    ) -> Result<i64, DbError> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO village_reports (village_id, period, attachment_id, note, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(village).bind(period).bind(attachment).bind(note).bind(by).bind(now())
            .fetch_one(&mut *c).await)?)
    }
}
