//! Fieldwork: starting it (forms pinned, the primary sample released as cases with
//! invitations), the SMS outbox of survey links, case status (`case_status`), response
//! rates (`rates`), progress per village (`progress`), the fieldwork-results import plan
//! (`import`) and the mixer of answers (`mixer`). Call outcomes, their AAPOR classes and the
//! replacement rules are in `crate::dispositions`, re-exported here.

pub mod callback;
pub mod case_status;
pub mod glance;
pub mod import;
pub mod mixer;
pub mod progress;
pub mod rates;

pub use crate::dispositions::{
    Attempt, Class, NextRelease, Outcome, Reason, ReplacementRules, UnknownOutcome, VillageState,
    case_class, day_number, next_release, replacement_reason,
};
pub use case_status::{CaseFacts, CaseStatus, TimeProblem, case_status, check_attempt_times};
pub use rates::{Counts, Rates, format_rate};

use crate::db::{Db, DbError, PinnedForm, Release};
use crate::domain::CampaignState;
use crate::forms::FormSet;
use crate::ids::{AccountId, CampaignId, CaseId, VillageId};

/// The longest SMS that goes out as one message when it holds Chinese text.
pub const SMS_MAX_CHARS: usize = 70;

#[derive(Debug, thiserror::Error)]
pub enum FieldworkError {
    #[error("the campaign is not drawn, or its fieldwork has already started")]
    NotDrawn,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What starting fieldwork writes: the form files to pin and the cases to release.
pub struct StartPlan {
    pub pinned: [PinnedForm; 3],
    pub releases: Vec<Release>,
}

/// Start fieldwork in a transaction of its own, unaudited (setting up tests, benchmarks and
/// the demo; the administrator's start is `ops::fieldwork::start`). Returns the number of
/// cases released.
pub async fn start(
    db: &Db,
    campaign_id: CampaignId,
    forms: &FormSet,
) -> Result<usize, FieldworkError> {
    let plan = plan_start(db, campaign_id, forms).await?;
    let mut tx = db.begin().await?;
    if !tx
        .start_fieldwork(campaign_id, &plan.pinned, &plan.releases)
        .await?
    {
        return Err(FieldworkError::NotDrawn);
    }
    tx.commit().await?;
    Ok(plan.releases.len())
}

/// Plan the start of fieldwork: pin the form files and release ranks 1..n of every village.
pub async fn plan_start(
    db: &Db,
    campaign_id: CampaignId,
    forms: &FormSet,
) -> Result<StartPlan, FieldworkError> {
    let campaign = db.campaign(campaign_id).await?;
    if campaign.state != CampaignState::Drawn {
        return Err(FieldworkError::NotDrawn);
    }
    let mut releases = Vec::new();
    for stratum in db.strata(campaign_id, None).await? {
        let names = db.roster_names(campaign_id, stratum.village_id).await?;
        for (rank, phone, primary) in stratum.ranks() {
            if primary {
                releases.push(Release {
                    village_id: stratum.village_id,
                    rank,
                    phone: phone.to_string(),
                    name: names.get(phone).cloned(),
                    reason: "primary".into(),
                });
            }
        }
    }
    let pinned = [
        (
            "recipients",
            &forms.recipients.id,
            &forms.recipients.version,
            &forms.recipients.sha256,
            &forms.recipients.source,
        ),
        (
            "panel",
            &forms.panel.id,
            &forms.panel.version,
            &forms.panel.sha256,
            &forms.panel.source,
        ),
        (
            "scheme",
            &forms.scheme.id,
            &forms.scheme.version,
            &forms.scheme.sha256,
            &forms.scheme.source,
        ),
    ]
    .map(|(role, id, version, sha256, source)| PinnedForm {
        role: role.into(),
        form_id: id.clone(),
        version: version.clone(),
        sha256: sha256.clone(),
        source: source.clone(),
    });
    Ok(StartPlan { pinned, releases })
}

/// The SMS text carrying a survey link of `village`: the longest wording that fits one
/// message. The wordings name the village, so a person on two villages' rosters knows
/// which message is about which; only a village name too long for any of them is left out.
/// A verification number (`verify`, the campaign's notice) is added before the link only
/// where it fits together with the village's name; otherwise the text is as without it.
/// `Err` names how long the shortest wording would be (the base URL is too long).
pub fn sms_message(
    town: &str,
    village: &str,
    link: &str,
    reminder: bool,
    verify: Option<&str>,
) -> Result<String, usize> {
    let signature = format!("【{town}纪委】");
    let wordings: &[&str] = if reminder {
        &[
            "提醒:{v}村务满意度调查,约3分钟:",
            "提醒:{v}满意度调查:",
            "{v}调查:",
            "调查:",
        ]
    } else {
        &[
            "{v}村务满意度调查,约3分钟,谢谢:",
            "{v}村务满意度调查,约3分钟:",
            "{v}满意度调查:",
            "{v}调查:",
            "调查:",
        ]
    };
    let verify = verify.map(str::trim).filter(|v| !v.is_empty());
    if let Some(phone) = verify {
        for w in wordings.iter().filter(|w| w.contains("{v}")) {
            // The number goes before the wording's closing colon.
            let wording = w.replace("{v}", village);
            let mut chars = wording.chars();
            let colon = chars.next_back().unwrap_or(':');
            let body = chars.as_str();
            let text = format!("{signature}{body},核实电话{phone}{colon}{link}");
            if text.chars().count() <= SMS_MAX_CHARS {
                return Ok(text);
            }
        }
    }
    let mut shortest = usize::MAX;
    for w in wordings {
        let text = format!("{signature}{}{link}", w.replace("{v}", village));
        let n = text.chars().count();
        if n <= SMS_MAX_CHARS {
            return Ok(text);
        }
        shortest = shortest.min(n);
    }
    Err(shortest)
}

/// The forms pinned to a campaign when its fieldwork started.
pub async fn pinned_forms(db: &Db, campaign_id: CampaignId) -> anyhow::Result<FormSet> {
    let files: Vec<(String, String)> = db
        .pinned_forms(campaign_id)
        .await?
        .into_iter()
        .map(|f| (format!("{}.toml", f.role), f.source))
        .collect();
    if files.is_empty() {
        anyhow::bail!("campaign {campaign_id} has no pinned forms (fieldwork never started)");
    }
    crate::forms::load_files("pinned", &files).map_err(|errors| {
        anyhow::anyhow!(
            "the forms pinned to campaign {campaign_id} no longer load: {}",
            errors.first().map(ToString::to_string).unwrap_or_default()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_with_its_link_fits_one_sms() {
        let link = "https://mydc.tjf.gov.cn/s/AAAAAAAAAAAAAAAAAAAAAA";
        for reminder in [false, true] {
            let text = sms_message("唐家坊镇", "唐家坊村", link, reminder, None).unwrap();
            assert!(text.chars().count() <= SMS_MAX_CHARS, "{text}");
            assert!(text.ends_with(link));
            assert!(text.starts_with("【唐家坊镇纪委】"));
            assert!(text.contains("唐家坊村"), "the village is named: {text}");
        }
    }

    #[test]
    fn a_village_name_too_long_for_one_sms_is_left_out_rather_than_the_link() {
        let link = "https://mydc.tjf.gov.cn/s/AAAAAAAAAAAAAAAAAAAAAA";
        let village = "一".repeat(40);
        let text = sms_message("唐家坊镇", &village, link, false, None).unwrap();
        assert!(
            text.chars().count() <= SMS_MAX_CHARS && text.ends_with(link),
            "{text}"
        );
        assert!(!text.contains(&village));
    }

    #[test]
    fn a_verification_number_is_added_when_it_fits_with_the_village_name() {
        let link = "https://a.cn/s/AAAAAAAAAAAAAAAAAAAAAA";
        for reminder in [false, true] {
            let text =
                sms_message("唐家坊镇", "唐家坊村", link, reminder, Some("0739-1234567")).unwrap();
            assert!(text.chars().count() <= SMS_MAX_CHARS, "{text}");
            assert!(text.contains("核实电话0739-1234567") && text.contains("唐家坊村"));
            assert!(text.ends_with(link) && text.starts_with("【唐家坊镇纪委】"));
        }
    }

    #[test]
    fn a_verification_number_that_does_not_fit_is_left_out_and_the_text_is_unchanged() {
        let link = "https://mydc.tjf.gov.cn/s/AAAAAAAAAAAAAAAAAAAAAA";
        for reminder in [false, true] {
            let with = sms_message("唐家坊镇", "唐家坊村", link, reminder, Some("0739-1234567"));
            let without = sms_message("唐家坊镇", "唐家坊村", link, reminder, None);
            assert_eq!(with, without);
            assert!(!with.unwrap().contains("核实电话"));
        }
        let blank = sms_message("唐家坊镇", "唐家坊村", link, false, Some("  "));
        assert_eq!(
            blank,
            sms_message("唐家坊镇", "唐家坊村", link, false, None)
        );
    }

    #[test]
    fn a_base_url_too_long_for_one_sms_is_refused() {
        let link = format!("https://{}/s/AAAAAAAAAAAAAAAAAAAAAA", "x".repeat(60));
        assert!(sms_message("唐家坊镇", "一村", &link, false, None).is_err());
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSummary {
    /// Rows recorded now.
    pub recorded: usize,
    /// Rows imported before, left as they were.
    pub skipped: usize,
    /// Completes among the recorded rows.
    pub completes: usize,
    /// Reserve ranks released by the recorded outcomes.
    pub released: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("the campaign is not in fieldwork")]
    NotInFieldwork,
    #[error("{} row(s) with errors; nothing imported", .0.len())]
    Rows(Vec<crate::csv_table::RowError>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What importing a results file writes: the attempts, each with the answers of a complete.
pub struct ImportPlan {
    pub attempts: Vec<crate::db::NewAttempt>,
    pub responses: Vec<Option<crate::db::NewResponse>>,
    /// Rows imported before, left as they were.
    pub skipped: usize,
}

impl ImportPlan {
    /// The rows as [`crate::db::Tx::record_attempts`] takes them.
    pub fn batch(&self) -> Vec<(&crate::db::NewAttempt, Option<&crate::db::NewResponse>)> {
        self.attempts
            .iter()
            .zip(self.responses.iter().map(Option::as_ref))
            .collect()
    }

    /// What recording the plan did (`results`: one per row, from `record_attempts`).
    pub fn summary(&self, results: &[crate::db::AttemptResult]) -> ImportSummary {
        ImportSummary {
            recorded: results.iter().filter(|r| r.stored).count(),
            skipped: self.skipped,
            completes: self.responses.iter().filter(|r| r.is_some()).count(),
            released: results.iter().filter(|r| r.released_rank.is_some()).count(),
        }
    }
}

/// Plan the import of a results file (see `import`) into a campaign in fieldwork: every
/// row checked, nothing written (`ops::fieldwork::import_results` records it all or nothing).
pub async fn plan_import(
    db: &Db,
    campaign_id: CampaignId,
    form: &crate::forms::Form,
    pinned: &crate::db::PinnedForm,
    text: &str,
    recorded_by: AccountId,
) -> Result<ImportPlan, ResultsError> {
    if db.campaign(campaign_id).await?.state != CampaignState::Fieldwork {
        return Err(ResultsError::NotInFieldwork);
    }
    let released = db.cases(campaign_id, None).await?;
    let cases: std::collections::HashMap<CaseId, import::CaseState> = released
        .iter()
        .map(|c| {
            (
                c.id,
                import::CaseState {
                    answered: c.status == crate::domain::CaseStatus::Completed || c.link_used,
                    released_at: c.released_at,
                },
            )
        })
        .collect();
    let villages: std::collections::HashMap<CaseId, VillageId> =
        released.iter().map(|c| (c.id, c.village_id)).collect();
    let imported = db.import_keys(campaign_id).await?;
    let (rows, skipped) = import::parse_results(
        text,
        form,
        &cases,
        &imported,
        crate::domain::parse_china_time,
        crate::domain::now(),
    )
    .map_err(ResultsError::Rows)?;
    let attempts: Vec<crate::db::NewAttempt> = rows
        .iter()
        .map(|r| crate::db::NewAttempt {
            case_id: r.case_id,
            attempted_at: r.attempted_at,
            attempted_on: crate::domain::local_date(r.attempted_at),
            outcome: r.outcome,
            callback_at: None,
            note: Some(format!("导入第 {} 行", r.row)),
            recorded_by: Some(recorded_by),
            import_key: Some(r.import_key.clone()),
        })
        .collect();
    let responses: Vec<Option<crate::db::NewResponse>> = rows
        .iter()
        .map(|r| {
            r.answers_json.as_ref().map(|json| crate::db::NewResponse {
                campaign_id,
                village_id: villages.get(&r.case_id).copied().unwrap_or(VillageId(0)),
                form_id: pinned.form_id.clone(),
                form_version: pinned.version.clone(),
                form_sha256: pinned.sha256.clone(),
                questionnaire: crate::forms::Audience::Recipients,
                answers_json: json.clone(),
                // Other software's results carry no start time we could check.
                duration: crate::duration::Duration::Unknown,
            })
        })
        .collect();
    Ok(ImportPlan {
        attempts,
        responses,
        skipped,
    })
}
