//! Application and acceptance (申报与受理): a campaign that takes applications, a village's
//! application with its self-assessment report (自评报告), the commission's decision, the due
//! date; and the village archive's half-yearly written reports (半年书面报告). Each operation
//! stores its file and its audit entry in one transaction.

use super::Actor;
use crate::attachments::Checked;
use crate::db::{Db, DbError, Submitted};
use crate::ids::{AttachmentId, CampaignId, VillageId};
use serde_json::json;

/// Who takes part in a new campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Participation {
    /// Every village with a roster (campaigns before applications existed).
    All,
    /// Only villages whose application was accepted; applications are due on the day given.
    Accepted,
}

impl Participation {
    pub fn as_str(self) -> &'static str {
        match self {
            Participation::All => "all",
            Participation::Accepted => "accepted",
        }
    }
}

/// The default last day to apply in a campaign's year (二(二)1: 9 月 30 日前).
pub fn default_due(year: i64) -> String {
    format!("{year:04}-09-30")
}

/// Creates a campaign, collecting rosters, with who takes part and (for `Accepted`) the last
/// day to apply (`YYYY-MM-DD`, checked by the caller), audited as `campaign.create`.
pub async fn create_campaign(
    db: &Db,
    by: &Actor,
    name: &str,
    town: &str,
    year: i64,
    participation: Participation,
    due: Option<&str>,
) -> Result<CampaignId, DbError> {
    let due = due.filter(|_| participation == Participation::Accepted);
    let mut tx = db.begin().await?;
    let id = tx.create_campaign(name, town, year).await?;
    tx.set_participation(id, participation.as_str(), due)
        .await?;
    let details = json!({
        "name": name, "town": town, "year": year,
        "participation": participation.as_str(), "applications_due": due,
    });
    tx.audit(db, &by.event("campaign.create", Some(id), details))
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The most self-assessment reports a village may hand in for one application (the first
/// and its replacements): each may be 20 MB and every one is kept.
pub const MAX_APPLICATION_REPORTS: i64 = 10;

/// The most half-yearly reports a village may hand in for one half year (the first and the
/// versions superseding it): each may be 20 MB and every one is kept.
pub const MAX_PERIOD_REPORTS: i64 = 10;

/// A file handed in with its note: the checked description, the content, the note.
#[derive(Clone, Copy, Debug)]
pub struct Document<'a> {
    pub file: &'a Checked,
    pub content: &'a [u8],
    pub note: &'a str,
}

/// Why a change to applications was refused. English for logs; `zh` for the page.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationRefused {
    #[error("the campaign takes no applications (every village with a roster takes part)")]
    NotTaking,
    #[error("applications were due by {0}")]
    Late(String),
    #[error("the commission has decided on the application; it can no longer be replaced")]
    Decided,
    #[error("the rosters are frozen; applications and decisions can no longer change")]
    Frozen,
    #[error("the village has not applied")]
    NotApplied,
    #[error("the village already handed in {0} self-assessment reports for this application")]
    TooMany(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ApplicationRefused {
    pub fn zh(&self) -> String {
        match self {
            ApplicationRefused::NotTaking => "本轮不需要申报:上报名单的村(社区)都参加测评。".into(),
            ApplicationRefused::Late(due) => {
                format!("申报截止日期是 {due},已经过了截止日期,不能再申报或更换自评报告。")
            }
            ApplicationRefused::Decided => {
                "镇纪委已对本村(社区)的申报作出决定,自评报告不能再更换。".into()
            }
            ApplicationRefused::Frozen => "名单已冻结,申报和受理决定都不能再更改。".into(),
            ApplicationRefused::NotApplied => "该村(社区)尚未申报。".into(),
            ApplicationRefused::TooMany(n) => {
                format!("本次申报已经提交过 {n} 份自评报告,不能再更换。如确需更换,请与镇纪委联系。")
            }
            ApplicationRefused::Db(_) => "系统错误,未保存。".into(),
        }
    }
}

/// Hands in (or replaces, until decided) the village's application with its self-assessment
/// report, by the due date (inclusive; `today` is `YYYY-MM-DD`). The file is stored even when
/// replaced later. Audited as `application.submit`.
pub async fn submit(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    village: VillageId,
    report: Document<'_>,
    today: &str,
) -> Result<Submitted, ApplicationRefused> {
    let Document {
        file,
        content,
        note,
    } = report;
    let mut tx = db.begin().await?;
    let rule = tx.participation(campaign).await?;
    // A campaign without a due date (a 复核 round: its villages are entered from the title
    // register) takes no application.
    let Some(due) = rule
        .applications_due
        .as_deref()
        .filter(|_| rule.by_application())
    else {
        return Err(ApplicationRefused::NotTaking);
    };
    if today > due {
        return Err(ApplicationRefused::Late(due.to_string()));
    }
    // Counted before the file is stored, in this transaction: a refusal stores nothing.
    if tx.application_report_count(campaign, village).await? >= MAX_APPLICATION_REPORTS {
        return Err(ApplicationRefused::TooMany(MAX_APPLICATION_REPORTS));
    }
    let report = tx.store_attachment(file, content, by.account_id()).await?;
    let done = tx
        .submit_application(campaign, village, report, note, by.account_id())
        .await?;
    match done {
        Submitted::Decided => return Err(ApplicationRefused::Decided),
        Submitted::Closed => return Err(ApplicationRefused::Frozen),
        Submitted::New | Submitted::Replaced => {}
    }
    let details = json!({
        "village": village, "attachment": report, "file_name": file.file_name,
        "sha256": file.sha256, "size": content.len(), "note": note,
        "replaced": done == Submitted::Replaced,
    });
    tx.audit(db, &by.event("application.submit", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(done)
}

/// The commission's decision on an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    /// 不受理, with the reason (not empty; checked by the caller).
    Refuse(String),
}

/// Records or changes the decision on a village's application, until the freeze; audited as
/// `application.accept` or `application.refuse` (earlier decisions stay in the audit log).
pub async fn decide(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    village: VillageId,
    decision: &Decision,
) -> Result<(), ApplicationRefused> {
    let mut tx = db.begin().await?;
    if !tx.participation(campaign).await?.by_application() {
        return Err(ApplicationRefused::NotTaking);
    }
    let (name, reason) = match decision {
        Decision::Accept => ("accepted", None),
        Decision::Refuse(reason) => ("refused", Some(reason.as_str())),
    };
    match tx
        .decide_application(campaign, village, name, reason, by.account_id())
        .await
    {
        Ok(true) => {}
        Ok(false) => return Err(ApplicationRefused::Frozen),
        Err(DbError::NotFound) => return Err(ApplicationRefused::NotApplied),
        Err(e) => return Err(e.into()),
    }
    let event = match decision {
        Decision::Accept => "application.accept",
        Decision::Refuse(_) => "application.refuse",
    };
    let details = json!({ "village": village, "reason": reason });
    tx.audit(db, &by.event(event, Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the last day to apply (`YYYY-MM-DD`, checked by the caller), until the freeze;
/// audited as `campaign.applications_due`.
pub async fn set_due(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    day: &str,
) -> Result<(), ApplicationRefused> {
    let mut tx = db.begin().await?;
    if !tx.participation(campaign).await?.by_application() {
        return Err(ApplicationRefused::NotTaking);
    }
    if !tx.set_applications_due(campaign, day).await? {
        return Err(ApplicationRefused::Frozen);
    }
    tx.audit(
        db,
        &by.event(
            "campaign.applications_due",
            Some(campaign),
            json!({ "day": day }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A half year of the village archive: `2026H1` (January–June, due 15 July) or `2026H2`
/// (July–December, due 15 January of the next year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i64,
    /// 1 or 2.
    pub half: u8,
}

/// The day of the month after the half year by which its written report is due.
pub const H1_DUE: &str = "07-15";
pub const H2_DUE_NEXT_YEAR: &str = "01-15";

impl Period {
    /// `2026H1` or `2026H2`, years 2000–2100; anything else is `None`.
    pub fn parse(text: &str) -> Option<Period> {
        let (year, half) = text.trim().split_once('H')?;
        let year: i64 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        let half = match half {
            "1" => 1,
            "2" => 2,
            _ => return None,
        };
        Some(Period { year, half })
    }

    /// The half year a day (`YYYY-MM-DD`) falls in.
    pub fn of_day(day: &str) -> Option<Period> {
        let year: i64 = day.get(0..4)?.parse().ok()?;
        let month: u8 = day.get(5..7)?.parse().ok()?;
        Some(Period {
            year,
            half: if month <= 6 { 1 } else { 2 },
        })
    }

    /// The last day to hand its report in, `YYYY-MM-DD`.
    pub fn due(self) -> String {
        match self.half {
            1 => format!("{:04}-{H1_DUE}", self.year),
            _ => format!("{:04}-{H2_DUE_NEXT_YEAR}", self.year + 1),
        }
    }

    /// In words: 2026年上半年.
    pub fn zh(self) -> String {
        format!(
            "{}年{}",
            self.year,
            if self.half == 1 {
                "上半年"
            } else {
                "下半年"
            }
        )
    }

    pub fn next(self) -> Period {
        if self.half == 1 {
            Period {
                year: self.year,
                half: 2,
            }
        } else {
            Period {
                year: self.year + 1,
                half: 1,
            }
        }
    }

    /// The half years from `first` through `last`, in order.
    pub fn range(first: Period, last: Period) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = first;
        while p <= last {
            out.push(p);
            p = p.next();
        }
        out
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}H{}", self.year, self.half)
    }
}

/// Why a half-yearly report was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportRefused {
    #[error("period {0} has not started yet")]
    Future(String),
    #[error("the village already handed in {1} reports for period {0}")]
    TooMany(String, i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Adds a half-yearly written report to the village's archive (the current or a past half
/// year; `today` is `YYYY-MM-DD`), audited as `archive.upload`. Returns the file's id.
pub async fn upload_village_report(
    db: &Db,
    by: &Actor,
    village: VillageId,
    period: Period,
    report: Document<'_>,
    today: &str,
) -> Result<AttachmentId, ReportRefused> {
    let Document {
        file,
        content,
        note,
    } = report;
    if Period::of_day(today).is_some_and(|current| period > current) {
        return Err(ReportRefused::Future(period.to_string()));
    }
    let period_text = period.to_string();
    let mut tx = db.begin().await?;
    // Counted before the file is stored, in this transaction: a refusal stores nothing.
    if tx.village_report_count(village, &period_text).await? >= MAX_PERIOD_REPORTS {
        return Err(ReportRefused::TooMany(period_text, MAX_PERIOD_REPORTS));
    }
    let attachment = tx.store_attachment(file, content, by.account_id()).await?;
    tx.add_village_report(village, &period_text, attachment, note, by.account_id())
        .await?;
    let details = json!({
        "village": village, "period": period_text, "attachment": attachment,
        "file_name": file.file_name, "sha256": file.sha256, "size": content.len(), "note": note,
    });
    tx.audit(db, &by.event("archive.upload", None, details))
        .await?;
    tx.commit().await?;
    Ok(attachment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_print_and_fall_due_after_their_half_year() {
        let h1 = Period::parse("2026H1").unwrap();
        assert_eq!(h1.to_string(), "2026H1");
        assert_eq!(h1.due(), "2026-07-15");
        assert_eq!(Period::parse("2026H2").unwrap().due(), "2027-01-15");
        assert_eq!(h1.zh(), "2026年上半年");
        for bad in ["2026H3", "2026", "H1", "1999H1", "2026h1", "二〇二六H1", ""] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert_eq!(Period::of_day("2026-06-30"), Some(h1));
        assert_eq!(Period::of_day("2026-07-01"), Some(h1.next()));
        assert_eq!(
            Period::range(Period::parse("2025H2").unwrap(), h1.next())
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["2025H2", "2026H1", "2026H2"]
        );
    }

    #[test]
    fn the_default_due_date_is_30_september_of_the_year() {
        assert_eq!(default_due(2026), "2026-09-30");
    }
}
