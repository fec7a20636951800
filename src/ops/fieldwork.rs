//! Fieldwork: starting it, the panel's personal links, the SMS outbox and a case's link
//! issued again, call attempts, phone interviews, results imported from other interviewing
//! software, the replacement rules, call-backs (回访), and the close. Each change and its audit entry are
//! committed at once. The link's own submits and refusals are not audited (nothing in the
//! audit chain may point at the case behind an answer) and stay outside (`db::survey`).

use super::Actor;
use crate::db::{AttemptResult, Db, DbError, NewAttempt, NewResponse, Outgoing, PanelMember};
use crate::fieldwork::{
    FieldworkError, ImportSummary, ReplacementRules, ResultsError, plan_import, plan_start,
};
use crate::forms::FormSet;
use crate::ids::{AccountId, CampaignId, CaseId, PanelMemberId};
use serde_json::json;

/// Starts fieldwork: pins the form files and releases ranks 1..n of every village.
/// Returns the number of cases released.
pub async fn start(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    forms: &FormSet,
) -> Result<usize, FieldworkError> {
    let plan = plan_start(db, campaign, forms).await?;
    let mut tx = db.begin().await?;
    if !tx
        .start_fieldwork(campaign, &plan.pinned, &plan.releases)
        .await?
    {
        return Err(FieldworkError::NotDrawn);
    }
    let n = plan.releases.len();
    tx.audit(
        db,
        &by.event("fieldwork.start", Some(campaign), json!({ "cases": n })),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Adds a member to the campaign's panel (name, category, an optional phone); returns the
/// member's id. The audit entry names the member and category, not the phone.
pub async fn add_panel_member(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    name: &str,
    category: &str,
    phone: Option<&str>,
) -> Result<PanelMemberId, DbError> {
    let mut tx = db.begin().await?;
    let member = tx.add_panel_member(campaign, name, category, phone).await?;
    let details = json!({ "member": member, "name": name, "category": category });
    tx.audit(db, &by.event("panel.add", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(member)
}

/// Gives panel members a fresh personal link — those without one, or with `all` everyone
/// (the printed links stop working). Returns each member with the plain token of their new
/// link, shown once (the database keeps its SHA-256).
pub async fn issue_panel_links(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    all: bool,
    mut new_token: impl FnMut() -> (String, String) + Send,
) -> Result<Vec<(PanelMember, String)>, DbError> {
    let due: Vec<PanelMember> = db
        .panel_members(campaign)
        .await?
        .into_iter()
        .filter(|m| all || !m.has_link)
        .collect();
    let mut tx = db.begin().await?;
    let mut issued = Vec::with_capacity(due.len());
    for m in due {
        let (token, hash) = new_token();
        tx.set_panel_token(m.id, &hash).await?;
        issued.push((m, token));
    }
    let details = json!({ "members": issued.len() });
    tx.audit(db, &by.event("panel.links", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(issued)
}

/// Which SMS the outbox holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxKind {
    /// Never sent.
    Invite,
    /// Sent at least this many days ago and unanswered.
    Remind(i64),
    /// Every sent and unanswered link again, the old ones out of use.
    Reissue,
}

impl OutboxKind {
    /// The name in the audit entry.
    pub fn key(self) -> &'static str {
        match self {
            OutboxKind::Invite => "invite",
            OutboxKind::Remind(_) => "remind",
            OutboxKind::Reissue => "reissue",
        }
    }
}

/// Issues the SMS outbox: a fresh token for every invitation due, returned once for the
/// file (`format`, `csv` or `xlsx`, is recorded in the audit entry).
pub async fn issue_outbox(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    kind: OutboxKind,
    format: &str,
    new_token: impl FnMut() -> (String, String) + Send,
) -> Result<Vec<Outgoing>, DbError> {
    let mut tx = db.begin().await?;
    let outgoing = match kind {
        OutboxKind::Invite => tx.issue_link_tokens(campaign, None, new_token).await?,
        OutboxKind::Remind(days) => {
            tx.issue_link_tokens(campaign, Some(days), new_token)
                .await?
        }
        OutboxKind::Reissue => tx.reissue_link_tokens(campaign, None, new_token).await?,
    };
    let details = json!({ "messages": outgoing.len(), "kind": kind.key(), "format": format });
    tx.audit(db, &by.event("sms.outbox", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(outgoing)
}

/// Issues one case's link again (the old one goes out of use). `None` when the case has no
/// link to reissue (never sent, answered, replaced, or a landline): nothing is changed.
pub async fn reissue_case_link(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    case: CaseId,
    new_token: impl FnMut() -> (String, String) + Send,
) -> Result<Option<Outgoing>, DbError> {
    let mut tx = db.begin().await?;
    let Some(issued) = tx
        .reissue_link_tokens(campaign, Some(case), new_token)
        .await?
        .pop()
    else {
        return Ok(None);
    };
    tx.audit(
        db,
        &by.event("sms.reissue", Some(campaign), json!({ "case": case })),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(issued))
}

/// Records a call attempt of a case of `campaign` and, if the campaign's rules say so,
/// releases the village's next reserve rank in its place.
pub async fn record_attempt(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    attempt: &NewAttempt,
) -> Result<AttemptResult, DbError> {
    let mut tx = db.begin().await?;
    let result = tx
        .record_attempts(db, &[(attempt, None)])
        .await?
        .pop()
        .unwrap_or_default();
    let details = json!({
        "case": attempt.case_id, "outcome": attempt.outcome.key(),
        "stored": result.stored, "released_rank": result.released_rank,
    });
    tx.audit(db, &by.event("attempt", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(result)
}

/// A phone interview of a case of `campaign`: the case completed, its link voided, the
/// answers into the mixer's pool. False if the case was already answered or declined, or
/// fieldwork is not running. The audit entry names the case, never the answers.
pub async fn phone_interview(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    case: CaseId,
    response: &NewResponse,
    recorded_by: AccountId,
) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let stored = tx
        .submit_phone_interview(db, case, response, recorded_by)
        .await?;
    let details = json!({ "case": case, "stored": stored });
    tx.audit(db, &by.event("case.interview", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(stored)
}

/// Records what calling a case back (回访) found: the case confirmed, denied taking part, or
/// could not be reached. A later recording of the same case replaces the earlier one; each
/// is in the audit chain. False (recorded as not applied) when the case is not a completed
/// case of the campaign or the campaign is past its close.
pub async fn record_callback(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    case: CaseId,
    outcome: crate::fieldwork::callback::CallbackOutcome,
) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let recorded = tx
        .record_callback(campaign, case, outcome.key(), by.account_id())
        .await?;
    let details = json!({ "case": case, "outcome": outcome.key(), "recorded": recorded });
    tx.audit(db, &by.event("callback.record", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(recorded)
}

/// Imports a results file from other interviewing software (see `fieldwork::import`) into a
/// campaign in fieldwork: every row or none, with its entry.
pub async fn import_results(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    form: &crate::forms::Form,
    pinned: &crate::db::PinnedForm,
    text: &str,
    recorded_by: AccountId,
) -> Result<ImportSummary, ResultsError> {
    let plan = plan_import(db, campaign, form, pinned, text, recorded_by).await?;
    let mut tx = db.begin().await?;
    let results = tx.record_attempts(db, &plan.batch()).await?;
    let summary = plan.summary(&results);
    let details = json!({
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
        "recorded": summary.recorded, "skipped": summary.skipped,
        "completes": summary.completes, "released": summary.released,
    });
    tx.audit(db, &by.event("results.import", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(summary)
}

/// Sets the campaign's replacement rules. False (recorded as not applied) once fieldwork
/// has closed.
pub async fn set_replacement_rules(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    rules: &ReplacementRules,
) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let applied = tx.set_replacement_rules(campaign, rules).await?;
    let details = json!({ "rules": format!("{rules:?}"), "applied": applied });
    tx.audit(db, &by.event("replacement.rules", Some(campaign), details))
        .await?;
    tx.commit().await?;
    Ok(applied)
}

/// Closes fieldwork: afterwards no attempt, link or import is accepted. The close and its
/// entry are committed first; then every answer still waiting is mixed into `responses`
/// (`Db::close_and_mix`, its own transaction, as the mixer's batches are: a crash between
/// the two leaves the answers waiting in a closed campaign, which the mixer finishes).
/// False if the campaign was not in fieldwork.
pub async fn close(db: &Db, by: &Actor, campaign: CampaignId) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    if !tx.close_fieldwork(campaign, crate::domain::now()).await? {
        return Ok(false);
    }
    tx.audit(db, &by.event("fieldwork.close", Some(campaign), json!({})))
        .await?;
    tx.commit().await?;
    db.close_and_mix(campaign, false, crate::domain::now())
        .await?;
    Ok(true)
}
