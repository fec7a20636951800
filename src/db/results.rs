//! Results: the rows tallies are folded from, the grades of items 1–15 from every source
//! with the assessment group's reports, the negative list, item-16 overrides, the
//! working-day calendar, publicity and objections.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::{DayKind, Grade, now};
use crate::ids::{AccountId, AttachmentId, CampaignId, ObjectionId, OverrideId, VillageId};

/// A village in the draw with its frame size N (the roster's rows at the freeze).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct FrameSize {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    pub population: i64,
}

/// Where a grade of items 1–15 comes from (seed 二(二)4). Each source keeps every entry;
/// the newest of an item is that source's grade, and the final grade is the one in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum GradeSource {
    /// 村自评: the village's self-assessment.
    SelfAssessment,
    /// 镇纪委意见: the town discipline commission's opinion.
    Commission,
    /// 考核验收评估组: the on-site assessment group.
    Group,
    /// 领导小组最终评定: the leading group's final grade, which the verdict reads.
    Final,
}

impl GradeSource {
    /// In the order the pages show them.
    pub const ALL: [GradeSource; 4] = [
        GradeSource::SelfAssessment,
        GradeSource::Commission,
        GradeSource::Group,
        GradeSource::Final,
    ];

    /// The stored name: `self`, `commission`, `group` or `final`.
    pub fn key(self) -> &'static str {
        match self {
            GradeSource::SelfAssessment => "self",
            GradeSource::Commission => "commission",
            GradeSource::Group => "group",
            GradeSource::Final => "final",
        }
    }

    /// The source of a stored name.
    pub fn parse(key: &str) -> Option<GradeSource> {
        GradeSource::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Its name on the pages.
    pub fn zh(self) -> &'static str {
        match self {
            GradeSource::SelfAssessment => "村自评",
            GradeSource::Commission => "镇纪委意见",
            GradeSource::Group => "考核验收评估组",
            GradeSource::Final => "领导小组最终评定",
        }
    }
}

/// A grade of one of items 1–15 in force: the newest final entry with a grade.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct ItemGradeRow {
    pub village_id: VillageId,
    pub item: i64,
    pub grade: Grade,
    /// Always `final` (kept so a row says where it comes from).
    pub source: String,
    pub note: String,
    pub entered_at: i64,
}

/// One entry of a grade (kept forever; the newest of an item and source is in force).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct GradeEntry {
    pub id: i64,
    pub village_id: VillageId,
    pub item: i64,
    /// `self`, `commission`, `group` or `final` ([`GradeSource::key`]).
    pub source: String,
    /// `None`: this source's grade of the item was withdrawn.
    pub grade: Option<Grade>,
    /// A note; for the final grade, the reason it differs from the group's (or the
    /// commission's).
    pub note: String,
    pub entered_by: Option<AccountId>,
    pub entered_at: i64,
}

/// A grade entry to record.
#[derive(Clone, Copy, Debug)]
pub struct NewGradeEntry<'a> {
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub item: i64,
    pub source: GradeSource,
    pub grade: Option<Grade>,
    pub note: &'a str,
    pub by: Option<AccountId>,
}

/// One version of the assessment group's written report on a village, with its file.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct GroupReport {
    pub id: i64,
    pub text: String,
    pub attachment_id: Option<AttachmentId>,
    pub file_name: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<i64>,
    pub entered_by: Option<AccountId>,
    pub entered_at: i64,
}

/// A ticked negative-list situation.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct NegativeRow {
    pub village_id: VillageId,
    pub situation: i64,
    pub note: String,
    pub entered_at: i64,
    /// When it happened, `YYYY-MM-DD`; `None` for rows ticked before dates were kept.
    pub event_date: Option<String>,
    /// Situation ⑥: petitions and reports received, and how many were resolved.
    pub petitions: Option<i64>,
    pub petitions_resolved: Option<i64>,
}

/// A negative-list situation as the commission ticks it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NegativeFinding {
    pub note: String,
    /// When it happened, `YYYY-MM-DD`.
    pub event_date: String,
    /// Situation ⑥ only: petitions and reports received, and how many were resolved.
    pub petitions: Option<i64>,
    pub petitions_resolved: Option<i64>,
}

/// One override of item 16's grade (grade `None`: the override was withdrawn).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct OverrideRow {
    pub id: OverrideId,
    pub village_id: VillageId,
    pub grade: Option<Grade>,
    pub reason: String,
    pub entered_by: Option<AccountId>,
    pub entered_at: i64,
}

/// A day of the administrator's calendar.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct CalendarDay {
    pub day: String,
    pub kind: DayKind,
    pub name: String,
}

/// A campaign's publicity.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Publicity {
    pub start_date: String,
    pub end_date: String,
    pub published_at: i64,
    pub approved_at: Option<i64>,
    /// The audit chain's head when published (`<entry id>:<hash>`), printed with the results.
    pub audit_head: Option<String>,
    /// The publicity notice as generated at publication (`results::notice`); `None` for
    /// publicity started before notices were kept.
    pub notice_text: Option<String>,
    /// The publicity period in force: 1, one more at each restart.
    pub period: i64,
    /// Whether the proposed list was frozen at publication (false for publicity started
    /// before the list existed).
    pub list_frozen: bool,
}

/// An objection received during publicity.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Objection {
    pub id: ObjectionId,
    pub village_id: Option<VillageId>,
    pub received_on: String,
    pub summary: String,
    pub recorded_at: i64,
    /// The reason of the decision (or, for objections resolved before decisions existed,
    /// the free text of the resolution).
    pub resolution: Option<String>,
    pub resolved_at: Option<i64>,
    /// `upheld` or `dismissed`; `None` while open, and for objections resolved before
    /// decisions existed (shown as 已处理).
    pub decision: Option<String>,
}

/// Why approval was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error("the results are not published")]
    NotPublished,
    #[error("the publicity period ends on {0}")]
    PeriodNotOver(String),
    #[error("{0} objection(s) are unresolved")]
    Unresolved(i64),
    #[error("the campaign is not closed")]
    NotClosed,
    /// Villages of the final proposed list without a 镇党委 decision (approved or declined).
    #[error("{0} village(s) on the proposed list have no party committee decision")]
    Undecided(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ApproveError {
    fn from(e: sqlx::Error) -> Self {
        ApproveError::Db(e.into())
    }
}

/// A village's grade entries, oldest first.
const GRADE_ENTRIES: &str =
    "SELECT id, village_id, item, source, grade, note, entered_by, entered_at
    FROM grade_entries WHERE campaign_id = $1 AND village_id = $2 ORDER BY id";

impl Db {
    /// The villages of the campaign's draw with their frame sizes, by code.
    pub async fn frame_sizes(&self, campaign_id: CampaignId) -> Result<Vec<FrameSize>, DbError> {
        let sql = "SELECT s.village_id, v.code, v.name, s.population FROM draw_strata s
                   JOIN villages v ON v.id = s.village_id WHERE s.campaign_id = $1 ORDER BY v.code";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// A village's mixed responses, as (questionnaire, answers JSON), in storage order (the
    /// random id).
    pub async fn village_responses(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Vec<(String, String)>, DbError> {
        let sql = "SELECT questionnaire, answers FROM responses WHERE campaign_id = $1 AND village_id = $2 ORDER BY id";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).bind(village_id).fetch_all(p).await)?,
        )
    }

    /// The grades of items 1–15 in force in the campaign: per village and item, the newest
    /// final entry, unless it withdrew the grade.
    pub async fn item_grades(&self, campaign_id: CampaignId) -> Result<Vec<ItemGradeRow>, DbError> {
        let sql = "SELECT g.village_id, g.item, g.grade, g.source, g.note, g.entered_at FROM grade_entries g
                   WHERE g.campaign_id = $1 AND g.source = 'final' AND g.grade IS NOT NULL
                     AND g.id = (SELECT MAX(h.id) FROM grade_entries h WHERE h.campaign_id = g.campaign_id
                                 AND h.village_id = g.village_id AND h.item = g.item AND h.source = 'final')
                   ORDER BY g.village_id, g.item";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// Every grade entry of a village in the campaign, from every source, oldest first.
    pub async fn grade_entries(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Vec<GradeEntry>, DbError> {
        Ok(
            on_pool!(self, p => sqlx::query_as(GRADE_ENTRIES).bind(campaign_id).bind(village_id).fetch_all(p).await)?,
        )
    }

    /// Every version of the assessment group's report on a village, the newest first.
    pub async fn group_reports(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Vec<GroupReport>, DbError> {
        let sql = "SELECT r.id, r.text, r.attachment_id, a.file_name, a.sha256, a.size, r.entered_by, r.entered_at
                   FROM group_reports r LEFT JOIN attachments a ON a.id = r.attachment_id
                   WHERE r.campaign_id = $1 AND r.village_id = $2 ORDER BY r.id DESC";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).bind(village_id).fetch_all(p).await)?,
        )
    }

    /// Every ticked negative-list situation in the campaign.
    pub async fn negative_findings(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<NegativeRow>, DbError> {
        let sql = "SELECT village_id, situation, note, entered_at, event_date, petitions, petitions_resolved
                   FROM negative_findings WHERE campaign_id = $1 ORDER BY village_id, situation";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// Every override of the campaign, oldest first (the last of a village is in force).
    pub async fn overrides(&self, campaign_id: CampaignId) -> Result<Vec<OverrideRow>, DbError> {
        let sql =
            "SELECT id, village_id, grade, reason, entered_by, entered_at FROM item16_overrides
                   WHERE campaign_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// The whole calendar, by date.
    pub async fn calendar(&self) -> Result<Vec<CalendarDay>, DbError> {
        let sql = "SELECT day, kind, name FROM calendar_days ORDER BY day";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// The campaign's publicity, if published.
    pub async fn publicity(&self, campaign_id: CampaignId) -> Result<Option<Publicity>, DbError> {
        let sql = "SELECT start_date, end_date, published_at, approved_at, audit_head, notice_text, period, list_frozen
                   FROM publicity WHERE campaign_id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_optional(p).await)?)
    }

    /// The campaign's objections, oldest first.
    pub async fn objections(&self, campaign_id: CampaignId) -> Result<Vec<Objection>, DbError> {
        let sql =
            "SELECT id, village_id, received_on, summary, recorded_at, resolution, resolved_at, decision
                   FROM objections WHERE campaign_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// Ticks a negative-list situation in a transaction of its own, unaudited (the demo's
    /// setup).
    pub async fn set_negative(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
        situation: i64,
        finding: Option<&NegativeFinding>,
        by: Option<AccountId>,
    ) -> Result<(), DbError> {
        let mut tx = self.begin().await?;
        tx.set_negative(campaign_id, village_id, situation, finding, by)
            .await?;
        tx.commit().await
    }

    /// Publishes in a transaction of its own, unaudited (the demo's setup).
    pub async fn publish(
        &self,
        campaign_id: CampaignId,
        start_date: &str,
        end_date: &str,
        notice_text: Option<&str>,
        by: Option<AccountId>,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin().await?;
        let done = tx
            .publish(campaign_id, start_date, end_date, notice_text, by)
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Records an objection in a transaction of its own, unaudited (the demo's setup).
    pub async fn add_objection(
        &self,
        campaign_id: CampaignId,
        village_id: Option<VillageId>,
        received_on: &str,
        summary: &str,
        by: Option<AccountId>,
    ) -> Result<ObjectionId, DbError> {
        let mut tx = self.begin().await?;
        let id = tx
            .add_objection(campaign_id, village_id, received_on, summary, by)
            .await?;
        tx.commit().await?;
        Ok(id)
    }
}

impl Tx {
    /// Marks a campaign as demo data.
    pub async fn mark_demo(&mut self, campaign_id: CampaignId) -> Result<(), DbError> {
        on_tx!(self, c => sqlx::query("UPDATE campaigns SET demo = TRUE WHERE id = $1").bind(campaign_id).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Takes the campaign's row lock for the rest of the transaction (PostgreSQL; on SQLite
    /// the write takes the database's single write lock): the operations on the proposed
    /// list, objections, decisions and approval run it first, so under READ COMMITTED one
    /// waits for the other and then reads what it committed. `NotFound` without the campaign.
    pub async fn lock_campaign(&mut self, campaign_id: CampaignId) -> Result<(), DbError> {
        // A non-key column: the lock does not block rows of other tables referencing it.
        let sql = "UPDATE campaigns SET state = state WHERE id = $1";
        let n = on_tx!(self, c => sqlx::query(sql).bind(campaign_id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Whether the campaign is approved (its results final), read in this transaction so a
    /// write that checks it cannot slip past an approval.
    pub async fn campaign_approved(&mut self, campaign_id: CampaignId) -> Result<bool, DbError> {
        let state: Option<String> = on_tx!(self, c => sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1")
            .bind(campaign_id).fetch_optional(&mut *c).await)?;
        Ok(state.ok_or(DbError::NotFound)? == "approved")
    }

    /// Whether the campaign's results are published, read in this transaction.
    pub async fn is_published(&mut self, campaign_id: CampaignId) -> Result<bool, DbError> {
        let n: i64 = on_tx!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM publicity WHERE campaign_id = $1")
            .bind(campaign_id).fetch_one(&mut *c).await)?;
        Ok(n > 0)
    }

    /// Every grade entry of a village, oldest first, read in this transaction.
    pub async fn grade_entries(
        &mut self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Vec<GradeEntry>, DbError> {
        Ok(
            on_tx!(self, c => sqlx::query_as(GRADE_ENTRIES).bind(campaign_id).bind(village_id).fetch_all(&mut *c).await)?,
        )
    }

    /// Appends a grade entry; it is that source's grade of the item from now on.
    pub async fn add_grade_entry(&mut self, g: &NewGradeEntry<'_>) -> Result<(), DbError> {
        let sql = "INSERT INTO grade_entries (campaign_id, village_id, item, source, grade, note, entered_by, entered_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_tx!(self, c => sqlx::query(sql).bind(g.campaign_id).bind(g.village_id).bind(g.item).bind(g.source.key())
            .bind(g.grade).bind(g.note).bind(g.by).bind(now()).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// The file of the newest version of the group's report on a village, if it has one.
    pub async fn group_report_attachment(
        &mut self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<Option<AttachmentId>, DbError> {
        let sql =
            "SELECT attachment_id FROM group_reports WHERE campaign_id = $1 AND village_id = $2
                   ORDER BY id DESC LIMIT 1";
        let found: Option<Option<AttachmentId>> = on_tx!(self, c => sqlx::query_scalar(sql)
            .bind(campaign_id).bind(village_id).fetch_optional(&mut *c).await)?;
        Ok(found.flatten())
    }

    /// Adds a version of the group's report on a village; returns its id.
    pub async fn add_group_report(
        &mut self,
        campaign_id: CampaignId,
        village_id: VillageId,
        text: &str,
        attachment_id: Option<AttachmentId>,
        by: Option<AccountId>,
    ) -> Result<i64, DbError> {
        let sql = "INSERT INTO group_reports (campaign_id, village_id, text, attachment_id, entered_by, entered_at)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        Ok(
            on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign_id).bind(village_id).bind(text)
            .bind(attachment_id).bind(by).bind(now()).fetch_one(&mut *c).await)?,
        )
    }

    /// Ticks a negative-list situation (replacing what was recorded), or unticks it with
    /// `None`.
    pub async fn set_negative(
        &mut self,
        campaign_id: CampaignId,
        village_id: VillageId,
        situation: i64,
        finding: Option<&NegativeFinding>,
        by: Option<AccountId>,
    ) -> Result<(), DbError> {
        match finding {
            Some(f) => {
                let sql = "INSERT INTO negative_findings (campaign_id, village_id, situation, note, event_date,
                             petitions, petitions_resolved, entered_by, entered_at)
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                           ON CONFLICT (campaign_id, village_id, situation) DO UPDATE SET note = excluded.note,
                             event_date = excluded.event_date, petitions = excluded.petitions,
                             petitions_resolved = excluded.petitions_resolved,
                             entered_by = excluded.entered_by, entered_at = excluded.entered_at";
                on_tx!(self, c => sqlx::query(sql).bind(campaign_id).bind(village_id).bind(situation)
                    .bind(&f.note).bind(&f.event_date).bind(f.petitions).bind(f.petitions_resolved)
                    .bind(by).bind(now()).execute(&mut *c).await.map(|_| ()))?;
            }
            None => {
                let sql = "DELETE FROM negative_findings WHERE campaign_id = $1 AND village_id = $2 AND situation = $3";
                on_tx!(self, c => sqlx::query(sql).bind(campaign_id).bind(village_id).bind(situation).execute(&mut *c).await.map(|_| ()))?;
            }
        }
        Ok(())
    }

    /// Records an override of item 16's grade (`None` withdraws it), with its reason.
    pub async fn add_override(
        &mut self,
        campaign_id: CampaignId,
        village_id: VillageId,
        grade: Option<&str>,
        reason: &str,
        by: Option<AccountId>,
    ) -> Result<(), DbError> {
        let sql = "INSERT INTO item16_overrides (campaign_id, village_id, grade, reason, entered_by, entered_at)
                   VALUES ($1, $2, $3, $4, $5, $6)";
        on_tx!(self, c => sqlx::query(sql).bind(campaign_id).bind(village_id).bind(grade).bind(reason)
            .bind(by).bind(now()).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Adds or replaces calendar days.
    pub async fn import_calendar(&mut self, days: &[CalendarDay]) -> Result<(), DbError> {
        let sql = "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3)
                   ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name";
        on_tx!(self, c => {
            for d in days {
                sqlx::query(sql).bind(&d.day).bind(d.kind).bind(&d.name).execute(&mut *c).await?;
            }
        });
        Ok(())
    }

    /// Removes a day from the calendar.
    pub async fn delete_calendar_day(&mut self, day: &str) -> Result<(), DbError> {
        on_tx!(self, c => sqlx::query("DELETE FROM calendar_days WHERE day = $1").bind(day).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Publishes a closed campaign's results for publicity, with its notice's text; false
    /// if it is not closed or already published.
    pub async fn publish(
        &mut self,
        campaign_id: CampaignId,
        start_date: &str,
        end_date: &str,
        notice_text: Option<&str>,
        by: Option<AccountId>,
    ) -> Result<bool, DbError> {
        let sql =
            "INSERT INTO publicity (campaign_id, start_date, end_date, published_at, published_by, notice_text, audit_head)
                   SELECT id, $2, $3, $4, $5, $6,
                          COALESCE((SELECT CAST(id AS TEXT) || ':' || hash FROM audit_log ORDER BY id DESC LIMIT 1),
                                   '0:0000000000000000000000000000000000000000000000000000000000000000')
                   FROM campaigns WHERE id = $1 AND state = 'closed'
                   ON CONFLICT (campaign_id) DO NOTHING";
        let n = on_tx!(self, c => sqlx::query(sql).bind(campaign_id).bind(start_date).bind(end_date)
            .bind(now()).bind(by).bind(notice_text).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records an objection.
    pub async fn add_objection(
        &mut self,
        campaign_id: CampaignId,
        village_id: Option<VillageId>,
        received_on: &str,
        summary: &str,
        by: Option<AccountId>,
    ) -> Result<ObjectionId, DbError> {
        let sql = "INSERT INTO objections (campaign_id, village_id, received_on, summary, recorded_by, recorded_at)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        Ok(
            on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign_id).bind(village_id).bind(received_on)
            .bind(summary).bind(by).bind(now()).fetch_one(&mut *c).await)?,
        )
    }

    /// Resolves an objection of the campaign; false if there is no such unresolved one.
    pub async fn resolve_objection(
        &mut self,
        campaign_id: CampaignId,
        id: ObjectionId,
        resolution: &str,
        by: Option<AccountId>,
    ) -> Result<bool, DbError> {
        let sql = "UPDATE objections SET resolution = $1, resolved_by = $2, resolved_at = $3
                   WHERE id = $4 AND campaign_id = $5 AND resolution IS NULL";
        let n = on_tx!(self, c => sqlx::query(sql).bind(resolution).bind(by).bind(now()).bind(id)
            .bind(campaign_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Approves the campaign: only once the publicity period is over (`today` after its end
    /// date), no objection is unresolved and every village on the final proposed list has
    /// the 镇党委's decision; checked in this transaction, before writing.
    pub async fn approve(
        &mut self,
        campaign_id: CampaignId,
        today: &str,
        by: Option<AccountId>,
    ) -> Result<(), ApproveError> {
        on_tx!(self, c => {
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1")
                .bind(campaign_id).fetch_optional(&mut *c).await?;
            if state.as_deref() != Some("closed") {
                return Err(ApproveError::NotClosed);
            }
            let end: Option<String> = sqlx::query_scalar("SELECT end_date FROM publicity WHERE campaign_id = $1")
                .bind(campaign_id).fetch_optional(&mut *c).await?;
            let end = end.ok_or(ApproveError::NotPublished)?;
            if today <= end.as_str() {
                return Err(ApproveError::PeriodNotOver(end));
            }
            let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM objections WHERE campaign_id = $1 AND resolution IS NULL")
                .bind(campaign_id).fetch_one(&mut *c).await?;
            if open > 0 {
                return Err(ApproveError::Unresolved(open));
            }
        });
        let undecided = self.undecided_on_list(campaign_id).await?;
        if undecided > 0 {
            return Err(ApproveError::Undecided(undecided));
        }
        on_tx!(self, c => {
            sqlx::query("UPDATE publicity SET approved_at = $1, approved_by = $2 WHERE campaign_id = $3")
                .bind(now()).bind(by).bind(campaign_id).execute(&mut *c).await?;
            sqlx::query("UPDATE campaigns SET state = 'approved' WHERE id = $1")
                .bind(campaign_id).execute(&mut *c).await?;
        });
        Ok(())
    }
}
