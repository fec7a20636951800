//! Fieldwork: starting it (forms pinned, the primary sample released as cases with
//! invitations), the SMS outbox of survey links, call outcomes and their AAPOR classes
//! (`outcome`), response rates (`rates`), and when a case is replaced and by which rank
//! (`replacement`).

pub mod outcome;
pub mod rates;
pub mod replacement;

pub use outcome::{Class, Outcome, UnknownOutcome, case_class};
pub use rates::{Counts, Rates, format_rate};
pub use replacement::{
    Attempt, NextRelease, Reason, ReplacementRules, VillageState, day_number, next_release,
    replacement_reason,
};

use crate::db::{Db, DbError, PinnedForm, Release};
use crate::forms::FormSet;

/// The longest SMS that goes out as one message when it holds Chinese text.
pub const SMS_MAX_CHARS: usize = 70;

#[derive(Debug, thiserror::Error)]
pub enum FieldworkError {
    #[error("the campaign is not drawn, or its fieldwork has already started")]
    NotDrawn,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Start fieldwork: pin the form files and release ranks 1..n of every village.
/// Returns the number of cases released.
pub async fn start(db: &Db, campaign_id: i64, forms: &FormSet) -> Result<usize, FieldworkError> {
    let campaign = db.campaign(campaign_id).await?;
    if campaign.state != "drawn" {
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
    if !db.start_fieldwork(campaign_id, &pinned, &releases).await? {
        return Err(FieldworkError::NotDrawn);
    }
    Ok(releases.len())
}

/// The SMS text carrying a survey link: the longest wording that fits one message.
/// `Err` names how long the shortest wording would be (the base URL is too long).
pub fn sms_message(town: &str, link: &str, reminder: bool) -> Result<String, usize> {
    let signature = format!("【{town}纪委】");
    let wordings: &[&str] = if reminder {
        &["提醒:村务满意度调查,约3分钟:", "提醒:满意度调查:", "调查:"]
    } else {
        &[
            "村务满意度调查,约3分钟,谢谢:",
            "村务满意度调查,约3分钟:",
            "满意度调查:",
            "调查:",
        ]
    };
    let mut shortest = usize::MAX;
    for w in wordings {
        let text = format!("{signature}{w}{link}");
        let n = text.chars().count();
        if n <= SMS_MAX_CHARS {
            return Ok(text);
        }
        shortest = shortest.min(n);
    }
    Err(shortest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_with_its_link_fits_one_sms() {
        let link = "https://mydc.tjf.gov.cn/s/AAAAAAAAAAAAAAAAAAAAAA";
        for reminder in [false, true] {
            let text = sms_message("唐家坊镇", link, reminder).unwrap();
            assert!(text.chars().count() <= SMS_MAX_CHARS, "{text}");
            assert!(text.ends_with(link));
            assert!(text.starts_with("【唐家坊镇纪委】"));
        }
    }

    #[test]
    fn a_base_url_too_long_for_one_sms_is_refused() {
        let link = format!("https://{}/s/AAAAAAAAAAAAAAAAAAAAAA", "x".repeat(60));
        assert!(sms_message("唐家坊镇", &link, false).is_err());
    }
}
