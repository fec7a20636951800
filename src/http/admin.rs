//! The commission administrator's pages: campaigns, villages, accounts, roster receipts.

use super::BaseUrlBanner;
use super::auth::{CsrfForm, CsrfOnly, CurrentUser, check_csrf, check_origin, has_csrf};
use super::draw::SeedForms;
use super::error::AppError;
use super::roles::Admin;
use super::upload::{import_roster_bytes, read_upload};
use super::views::ser;
use super::{AppState, views};
use crate::db::{Campaign, Notice, ObjectionContact};
use crate::db::{DbError, NewAccount, RosterTarget};
use crate::domain::{CampaignState, Role, VillageCode, local_time, mask_phone};
use crate::fieldwork::ReplacementRules;
use crate::ids::{AccountId, CampaignId, VillageId};
use crate::sampling::size::{DEFAULT_CENSUS_BELOW, DEFAULT_MARGIN};
use crate::sampling::{SizeParameters, SizeRule};
use crate::{secrets, villages};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};

/// Messages shown after a redirect (`?m=key`), so nothing a person typed is reflected.
fn flash(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "campaign" => "已新建调查轮次。",
        "village" => "已添加村(社区)。",
        "password" => "密码已修改。",
        "disabled" => "账号已停用,其登录已失效。",
        "enabled" => "账号已启用。",
        "unlocked" => "已解除该账号的登录限制。",
        "leader" => "已保存联系领导。",
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct Flash {
    m: Option<String>,
}

pub(super) async fn list_campaigns(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<Flash>,
) -> Result<Html<String>, AppError> {
    campaigns_page(&state, &user, flash(q.m.as_deref()), None).await
}

async fn campaigns_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<Html<String>, AppError> {
    // 复核 rounds are marked in the list.
    let reviews: std::collections::BTreeSet<CampaignId> = state
        .db
        .campaign_kinds()
        .await?
        .into_iter()
        .filter(|c| c.kind == "review")
        .map(|c| c.id)
        .collect();
    let campaigns: Vec<_> = state
        .db
        .list_campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let label = c.state.label();
            let review = reviews.contains(&c.id);
            context! { id => c.id, name => c.name, town => c.town, year => c.year, state_label => label, review }
        })
        .collect();
    let this_year = time::OffsetDateTime::now_utc().year();
    Ok(views::page(
        user,
        "admin_campaigns.html",
        context! { campaigns, this_year, message, error },
    ))
}

#[derive(Deserialize)]
pub(super) struct CampaignForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    town: String,
    #[serde(default)]
    year: String,
    /// `accepted` (only villages whose application is accepted take part) or `all`; a form
    /// without it (older scripts) means `all`.
    #[serde(default)]
    participation: String,
    /// The last day to apply, `YYYY-MM-DD`; empty means 30 September of the year.
    #[serde(default)]
    applications_due: String,
}
has_csrf!(CampaignForm);

pub(super) async fn create_campaign(
    State(state): State<AppState>,
    Admin(user): Admin,
    CsrfForm(_, form): CsrfForm<CampaignForm>,
) -> Result<Response, AppError> {
    let (name, town) = (form.name.trim(), form.town.trim());
    let year = form
        .year
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|y| (2000..=2100).contains(y));
    let problem = if name.is_empty() || name.chars().count() > 100 {
        Some("请填写名称(不超过 100 字)。")
    } else if town.is_empty() || town.chars().count() > 50 {
        Some("请填写镇名(不超过 50 字)。")
    } else if year.is_none() {
        Some("年度应为 2000 到 2100 之间的年份。")
    } else if !matches!(form.participation.as_str(), "" | "all" | "accepted") {
        Some("请选择参加测评的村(社区):须申报并经受理,或上报名单的全部村(社区)。")
    } else if !form.applications_due.trim().is_empty()
        && super::applications::parse_day(&form.applications_due).is_none()
    {
        Some("申报截止日期无效:请按 2026-09-30 的格式填写。")
    } else if form.participation == "accepted"
        && super::applications::parse_day(&form.applications_due)
            .zip(year)
            .is_some_and(|(due, year)| !due.starts_with(&format!("{year:04}-")))
    {
        // The form's default is 30 September of this year: a campaign of another year
        // would otherwise silently take this year's date.
        Some("申报截止日期应在验收年度之内(默认为该年 9 月 30 日),请核对年度和截止日期。")
    } else {
        None
    };
    let (None, Some(year)) = (problem, year) else {
        let msg = problem.unwrap_or_default();
        let page = campaigns_page(&state, &user, None, Some(msg)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    use crate::ops::applications::{Participation, default_due};
    let participation = if form.participation == "accepted" {
        Participation::Accepted
    } else {
        Participation::All
    };
    let due =
        super::applications::parse_day(&form.applications_due).unwrap_or_else(|| default_due(year));
    let id = crate::ops::applications::create_campaign(
        &state.db,
        &user.by(),
        name,
        town,
        year,
        participation,
        Some(&due),
    )
    .await?;
    tracing::info!(campaign = id.0, "campaign created");
    Ok(Redirect::to(&format!("/admin/campaigns/{id}")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct CampaignFlash {
    m: Option<String>,
    e: Option<String>,
}

pub(super) async fn show_campaign(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    Query(q): Query<CampaignFlash>,
) -> Result<Html<String>, AppError> {
    let message =
        q.m.as_deref()
            .and_then(super::draw::flash)
            .map(String::from);
    let error =
        q.e.as_deref()
            .and_then(super::draw::flash)
            .map(String::from);
    campaign_page(&state, &user, id, message, error).await
}

/// The administrator's campaign page (`admin_campaign.html`, with `seed_forms.html`).
#[derive(Serialize)]
pub(super) struct CampaignPage {
    campaign: Campaign,
    state_label: &'static str,
    collecting: bool,
    frozen_at: Option<String>,
    /// Every village with its current roster's receipt, if any.
    statuses: Vec<RosterLine>,
    /// Villages that have handed in a roster.
    received: usize,
    /// What the size rule would draw from the rosters handed in.
    planned: Planned,
    /// The size rule in words, and its fields for the form.
    rule: String,
    rule_method: &'static str,
    rule_margin: String,
    rule_confidence: String,
    rule_size: String,
    rule_census: String,
    #[serde(flatten)]
    seed_forms: SeedForms,
    drawn: bool,
    fieldwork_started_at: Option<String>,
    /// The form files pinned when fieldwork started.
    pinned: Vec<PinnedLine>,
    replacement: ReplacementRules,
    /// The notice to respondents, and whether the party or the verification number is missing.
    notice: Notice,
    notice_incomplete: bool,
    /// Where objections to the publicity notice are received and who issues it.
    contact: ObjectionContact,
    /// Publicity has started: the contact is the one the posted notice names, fixed.
    published: bool,
    /// Phones in more than one village's roster (masked).
    cross: Vec<CrossLine>,
    /// Application and acceptance, for a campaign that draws only accepted villages.
    applications: Option<super::applications::ApplicationsSection>,
    base_url_banner: Option<BaseUrlBanner>,
    /// A 复核 round: the titles it re-checks (`None` for an assessment round).
    review: Option<Vec<crate::db::RegisterRow>>,
    message: Option<String>,
    error: Option<String>,
}

impl views::Page for CampaignPage {
    const TEMPLATE: &'static str = "admin_campaign.html";
}

/// A village's roster receipt on the campaign page, with the sample size it would get.
#[derive(Serialize)]
pub(super) struct RosterLine {
    code: String,
    name: String,
    roster_id: Option<crate::ids::RosterId>,
    fingerprint: Option<String>,
    rows_read: Option<i64>,
    accepted: Option<i64>,
    invalid: Option<i64>,
    duplicates: Option<i64>,
    uploaded_at: Option<String>,
    /// The sample size the rule gives this roster.
    n: Option<u64>,
    /// n as a percentage of the roster, rounded up.
    share: Option<u64>,
    /// n is more than half the roster (and the village is not surveyed in full by rule).
    most: bool,
    /// The rule surveys the whole roster (it is below the census threshold).
    census: bool,
    /// The roster is in the frame: always, unless the campaign draws only accepted villages
    /// and this one is not accepted.
    counted: bool,
}

#[derive(Serialize)]
pub(super) struct Planned {
    population: u64,
    n: u64,
    /// Villages where n is more than half the roster, those surveyed in full by rule apart.
    most: usize,
    /// Villages surveyed in full by rule.
    census: usize,
}

#[derive(Serialize)]
pub(super) struct CrossLine {
    phone: String,
    villages: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct PinnedLine {
    role: String,
    form_id: String,
    version: String,
    sha256: String,
}

async fn campaign_page(
    state: &AppState,
    user: &CurrentUser,
    id: CampaignId,
    message: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let statuses = state.db.roster_statuses(id).await?;
    let received = statuses.iter().filter(|s| s.roster_id.is_some()).count();
    // A campaign that draws only accepted villages counts only their rosters.
    let accepted: Option<Vec<VillageId>> = if state.db.participation(id).await?.by_application() {
        Some(
            state
                .db
                .applications(id)
                .await?
                .into_iter()
                .filter(|a| a.decision.as_deref() == Some("accepted"))
                .map(|a| a.village_id)
                .collect(),
        )
    } else {
        None
    };
    let params: Option<SizeParameters> = serde_json::from_str(&campaign.size_rule).ok();
    // What the rule would draw from each roster, shown before anyone freezes or draws.
    let rule = params
        .as_ref()
        .and_then(|p| SizeRule::try_from(p).ok())
        .unwrap_or_default();
    let mut planned = Planned {
        population: 0,
        n: 0,
        most: 0,
        census: 0,
    };
    let statuses: Vec<RosterLine> = statuses
        .into_iter()
        .map(|s| {
            let population = s
                .accepted
                .filter(|_| s.roster_id.is_some())
                .and_then(|a| u64::try_from(a).ok());
            let n = population.map(|p| rule.size(p));
            let share = population
                .zip(n)
                .filter(|(p, _)| *p > 0)
                .map(|(p, n)| (n * 100).div_ceil(p));
            let census = population.is_some_and(|p| p > 0 && rule.is_census(p));
            let most = !census && population.zip(n).is_some_and(|(p, n)| p > 0 && 2 * n > p);
            let counted = accepted
                .as_ref()
                .is_none_or(|ids| ids.contains(&s.village_id));
            if let (Some(p), Some(n), true) = (population, n, counted) {
                planned.population += p;
                planned.n += n;
                planned.most += usize::from(most);
                planned.census += usize::from(census);
            }
            RosterLine {
                code: s.code,
                name: s.name,
                roster_id: s.roster_id,
                fingerprint: s.fingerprint,
                rows_read: s.rows_read,
                accepted: s.accepted,
                invalid: s.invalid,
                duplicates: s.duplicates,
                uploaded_at: s.uploaded_at.map(local_time),
                n,
                share,
                most,
                census,
                counted,
            }
        })
        .collect();
    let cross: Vec<CrossLine> = state
        .db
        .cross_village_phones(id)
        .await?
        .into_iter()
        .map(|x| CrossLine {
            phone: mask_phone(&x.phone),
            villages: x.villages,
        })
        .collect();
    let state_ = campaign.state;
    let seed = state.db.seed_state(id).await?;
    let default_census = DEFAULT_CENSUS_BELOW.to_string();
    let (rule_method, rule_margin, rule_confidence, rule_size, rule_census) = match params {
        Some(SizeParameters::Fixed { size }) => (
            "fixed",
            DEFAULT_MARGIN.to_string(),
            "0.95".to_string(),
            size.to_string(),
            default_census,
        ),
        Some(SizeParameters::Formula {
            margin,
            confidence,
            census_below,
            ..
        }) => (
            "formula",
            margin.to_string(),
            format!("{confidence:.2}"),
            String::new(),
            census_below.map(|n| n.to_string()).unwrap_or_default(),
        ),
        None => (
            "formula",
            DEFAULT_MARGIN.to_string(),
            "0.95".into(),
            String::new(),
            default_census,
        ),
    };
    let drawn = state.db.draw_record(id).await?.is_some();
    let notice = state.db.notice(id).await?;
    let pinned: Vec<PinnedLine> = state
        .db
        .pinned_forms(id)
        .await?
        .into_iter()
        .map(|f| PinnedLine {
            role: f.role,
            form_id: f.form_id,
            version: f.version,
            sha256: f.sha256,
        })
        .collect();
    let page = CampaignPage {
        state_label: state_.label(),
        collecting: state_ == CampaignState::Collecting,
        frozen_at: campaign.frozen_at.map(local_time),
        statuses,
        received,
        planned,
        rule: params
            .as_ref()
            .map(super::draw::describe_rule)
            .unwrap_or_default(),
        rule_method,
        rule_margin,
        rule_confidence,
        rule_size,
        rule_census,
        seed_forms: SeedForms::new(seed),
        drawn,
        fieldwork_started_at: campaign.fieldwork_started_at.map(local_time),
        pinned,
        replacement: state.db.replacement_rules(id).await?,
        notice_incomplete: notice.incomplete(),
        notice,
        contact: state.db.objection_contact(id).await?,
        published: state.db.publicity(id).await?.is_some(),
        cross,
        applications: super::applications::section(state, id, state_).await?,
        // Links go out from the draw on (SMS outbox, panel sheets).
        base_url_banner: matches!(state_, CampaignState::Drawn | CampaignState::Fieldwork)
            .then(|| super::base_url_banner(&state.config))
            .flatten(),
        review: match state.db.campaign_kind(id).await?.as_str() {
            "review" => Some(state.db.review_titles(id).await?),
            _ => None,
        },
        message,
        error,
        campaign,
    };
    Ok(views::show(user, &page))
}

#[derive(Deserialize)]
pub(super) struct NoticeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    party: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    retention: String,
    #[serde(default)]
    contact: String,
}
has_csrf!(NoticeForm);

/// The longest text of a notice field, and of the verification number.
const NOTICE_MAX_CHARS: usize = 200;
const NOTICE_PHONE_MAX_CHARS: usize = 30;

impl NoticeForm {
    /// The notice as typed, trimmed; an emptied source or retention goes back to its default
    /// so that respondents are always told both. `None` if a field is too long or the phone
    /// has characters no phone number has.
    fn parse(self) -> Option<Notice> {
        let or_default = |text: &str, default: &str| {
            let text = text.trim();
            if text.is_empty() { default } else { text }.to_string()
        };
        let notice = Notice {
            party: self.party.trim().to_string(),
            phone: self.phone.trim().to_string(),
            source: or_default(&self.source, Notice::DEFAULT_SOURCE),
            retention: or_default(&self.retention, Notice::DEFAULT_RETENTION),
            contact: self.contact.trim().to_string(),
        };
        let phone_ok = notice.phone.chars().count() <= NOTICE_PHONE_MAX_CHARS
            && notice
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+'));
        let texts_ok = [
            &notice.party,
            &notice.source,
            &notice.retention,
            &notice.contact,
        ]
        .iter()
        .all(|t| t.chars().count() <= NOTICE_MAX_CHARS);
        (phone_ok && texts_ok).then_some(notice)
    }
}

/// Sets the notice shown to respondents (PIPL Art. 17) on the campaign page.
pub(super) async fn set_notice(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<NoticeForm>,
) -> Result<Response, AppError> {
    let Some(notice) = form.parse() else {
        return Ok(Redirect::to(&format!("/admin/campaigns/{id}?e=bad_notice")).into_response());
    };
    crate::ops::campaigns::set_notice(&state.db, &user.by(), id, &notice).await?;
    tracing::info!(campaign = id.0, by = user.account_id.0, "notice set");
    Ok(Redirect::to(&format!("/admin/campaigns/{id}?m=notice")).into_response())
}

#[derive(Deserialize)]
pub(super) struct NoticeContactForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    issuer: String,
}
has_csrf!(NoticeContactForm);

/// Sets where objections to the publicity notice are received and who issues it (before
/// publication only). A refusal names the field; nothing typed is reflected.
pub(super) async fn set_notice_contact(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<NoticeContactForm>,
) -> Result<Response, AppError> {
    use crate::ops::campaigns::ContactRefused;
    use crate::results::notice::{Contact, ContactError};
    let back =
        |key: &str| Redirect::to(&format!("/admin/campaigns/{id}?{key}#contact")).into_response();
    let contact = match Contact::parse(&form.phone, &form.address, &form.issuer) {
        Ok(c) => c,
        Err(ContactError::Phone) => return Ok(back("e=contact_phone")),
        Err(ContactError::Address) => return Ok(back("e=contact_address")),
        Err(ContactError::Issuer) => return Ok(back("e=contact_issuer")),
    };
    match crate::ops::campaigns::set_notice_contact(&state.db, &user.by(), id, &contact).await {
        Ok(()) => {}
        Err(ContactRefused::Published) => return Ok(back("e=contact_published")),
        Err(ContactRefused::Db(e)) => return Err(e.into()),
    }
    tracing::info!(
        campaign = id.0,
        by = user.account_id.0,
        "notice contact set"
    );
    Ok(back("m=contact"))
}

#[derive(Deserialize)]
pub(super) struct CreationStartForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    day: String,
}
has_csrf!(CreationStartForm);

/// Sets the day the creation started, from which the negative list's window is counted
/// (until approval). The day must be a date, not after today.
pub(super) async fn set_creation_start(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<CreationStartForm>,
) -> Result<Response, AppError> {
    use crate::ops::campaigns::CreationStartRefused;
    let back =
        |key: &str| Redirect::to(&format!("/admin/campaigns/{id}?{key}#creation")).into_response();
    let Some(day) = crate::results::calendar::parse_date(&form.day)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .filter(|d| *d <= crate::domain::today())
    else {
        return Ok(back("e=creation_day"));
    };
    match crate::ops::campaigns::set_creation_start(&state.db, &user.by(), id, &day).await {
        Ok(()) => Ok(back("m=creation")),
        Err(CreationStartRefused::Approved) => Ok(back("e=creation_approved")),
        Err(CreationStartRefused::Db(e)) => Err(e.into()),
    }
}

pub(super) async fn upload_roster_for_village(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    Path(id): Path<CampaignId>,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_upload(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    let campaign = state.db.campaign(id).await?;
    let village = state.db.village_by_code(upload.field("village")).await?;
    let target = RosterTarget {
        campaign_id: campaign.id,
        village_id: village.id,
        file_name: upload.file_name.clone(),
        uploaded_by: Some(user.account_id),
    };
    match import_roster_bytes(&state, target, upload.bytes).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/campaigns/{id}/villages/{}/receipt",
            village.code
        ))
        .into_response()),
        Err(AppError::BadRequest { zh, .. }) => {
            let page = campaign_page(
                &state,
                &user,
                id,
                None,
                Some(format!("{}:{zh}", village.name)),
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn show_receipt(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let village = state.db.village_by_code(&code).await?;
    receipt_page(
        &state,
        &user,
        &campaign,
        &village,
        format!("/admin/campaigns/{id}"),
    )
    .await
}

/// The receipt of a village's current roster (shared with the village's own page).
pub(super) async fn receipt_page(
    state: &AppState,
    user: &CurrentUser,
    campaign: &crate::db::Campaign,
    village: &crate::db::Village,
    back: String,
) -> Result<Html<String>, AppError> {
    let (mut receipt, file_name, uploaded_at) = state
        .db
        .current_receipt(campaign.id, village.id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The village sees its own file's numbers; anyone else sees them masked.
    if user.role != Role::Village {
        for e in &mut receipt.errors {
            e.reason = crate::domain::mask_digit_runs(&e.reason);
            e.reason_zh = crate::domain::mask_digit_runs(&e.reason_zh);
        }
    }
    Ok(views::page(
        user,
        "receipt.html",
        context! { campaign => ser(campaign), village => ser(village), receipt => ser(&receipt), file_name, uploaded_at => local_time(uploaded_at), back },
    ))
}

pub(super) async fn list_villages(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<Flash>,
) -> Result<Html<String>, AppError> {
    villages_page(&state, &user, flash(q.m.as_deref()).map(String::from), None).await
}

pub(super) async fn villages_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let villages = state.db.village_leaders().await?;
    Ok(views::page(
        user,
        "admin_villages.html",
        context! { villages => ser(&villages), message, error },
    ))
}

#[derive(Deserialize)]
pub(super) struct VillageForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}
has_csrf!(VillageForm);

pub(super) async fn create_village(
    State(state): State<AppState>,
    Admin(user): Admin,
    CsrfForm(_, form): CsrfForm<VillageForm>,
) -> Result<Response, AppError> {
    let name = form.name.trim();
    let fail = |msg: String| async {
        let page = villages_page(&state, &user, None, Some(msg)).await?;
        Ok::<_, AppError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let code = match VillageCode::parse(&form.code) {
        Ok(c) => c,
        Err(_) => return fail("编码只能用字母、数字、- 和 _,不超过 32 位。".into()).await,
    };
    if name.is_empty() || name.chars().count() > 50 {
        return fail("请填写名称(不超过 50 字)。".into()).await;
    }
    match crate::ops::campaigns::create_village(&state.db, &user.by(), &code, name).await {
        Ok(_) => Ok(Redirect::to("/admin/villages?m=village").into_response()),
        Err(DbError::Conflict(_)) => fail(format!("编码 {code} 已存在。")).await,
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn import_villages(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_upload(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    match villages::parse_village_list(&upload.bytes) {
        Ok(list) => {
            let (added, renamed) =
                crate::ops::campaigns::import_villages(&state.db, &user.by(), &list).await?;
            let msg = format!("导入完成:新增 {added} 个,更新名称 {renamed} 个。");
            Ok(villages_page(&state, &user, Some(msg), None)
                .await?
                .into_response())
        }
        Err(errors) => {
            let msg = format!(
                "未导入任何数据:{}",
                errors
                    .iter()
                    .map(|e| e.message_zh())
                    .collect::<Vec<_>>()
                    .join("；")
            );
            let page = villages_page(&state, &user, None, Some(msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

pub(super) async fn list_accounts(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<Flash>,
) -> Result<Html<String>, AppError> {
    accounts_page(
        &state,
        &user,
        flash(q.m.as_deref()).map(String::from),
        None,
        None,
        None,
    )
    .await
}

async fn accounts_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
    new_password: Option<(String, String)>,
    typed: Option<&AccountForm>,
) -> Result<Html<String>, AppError> {
    let villages = state.db.list_villages().await?;
    let village_label = |id: Option<VillageId>| {
        id.and_then(|id| villages.iter().find(|v| v.id == id))
            .map(|v| format!("{} {}", v.code, v.name))
            .unwrap_or_default()
    };
    let delayed = state.limits.logins.delayed(&state.db).await?;
    let accounts: Vec<_> = state
        .db
        .list_accounts()
        .await?
        .into_iter()
        .map(|a| {
            let role_label = a.role.label();
            context! {
                id => a.id, username => a.username, display_name => a.display_name, role_label,
                village => village_label(a.village_id),
                disabled => a.disabled, must_change_password => a.must_change_password,
                login_delayed => delayed.contains(&a.id),
            }
        })
        .collect();
    let roles: Vec<_> = Role::ALL
        .iter()
        .map(|r| context! { value => r.as_str(), label => r.label() })
        .collect();
    let (new_password_for, new_password) = new_password.unzip();
    // A refused form comes back with what was typed, so nothing has to be entered twice.
    let typed = match typed {
        Some(f) => {
            context! { username => &f.username, display_name => &f.display_name, role => &f.role, village => &f.village }
        }
        None => context! { username => "", display_name => "", role => "", village => "" },
    };
    Ok(views::page(
        user,
        "admin_accounts.html",
        context! { accounts, roles, villages => ser(&villages), message, error, new_password, new_password_for, typed },
    ))
}

#[derive(Deserialize)]
pub(super) struct AccountForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    village: String,
}
has_csrf!(AccountForm);

fn valid_username(u: &str) -> bool {
    (1..=32).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A one-time password for the account, meeting the password rule, and its hash.
async fn hash_one_time_password(
    username: &str,
    display_name: &str,
) -> Result<(String, String), AppError> {
    let password = crate::password::one_time(username, display_name)
        .map_err(|w| anyhow::anyhow!("no one-time password met the rule: {w}"))?;
    let p = password.clone();
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&p))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(anyhow::Error::msg)?;
    Ok((password, hash))
}

pub(super) async fn create_account(
    State(state): State<AppState>,
    Admin(user): Admin,
    CsrfForm(_, form): CsrfForm<AccountForm>,
) -> Result<Response, AppError> {
    let username = form.username.trim();
    let display_name = form.display_name.trim();
    let fail = |msg: String| async {
        let page = accounts_page(&state, &user, None, Some(msg), None, Some(&form)).await?;
        Ok::<_, AppError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    if !valid_username(username) {
        return fail("账号只能用字母、数字、下划线、点和减号,不超过 32 位。".into()).await;
    }
    if display_name.is_empty() || display_name.chars().count() > 50 {
        return fail("请填写姓名(不超过 50 字)。".into()).await;
    }
    // No default role: a clerk who only picks a village must not get an administrator.
    let Some(role) = Role::parse(form.role.trim()) else {
        return fail("请选择角色。".into()).await;
    };
    // Only a village operator belongs to a village; a village chosen for any other role is
    // refused rather than dropped, since it shows the clerk meant something else.
    let village_id = match (role, form.village.trim()) {
        (Role::Village, "") => return fail("村(社区)操作员须选择所属村(社区)。".into()).await,
        (Role::Village, code) => match state.db.village_by_code(code).await {
            Ok(v) => Some(v.id),
            Err(DbError::NotFound) => return fail("所选村(社区)不存在。".into()).await,
            Err(e) => return Err(e.into()),
        },
        (_, "") => None,
        (other, _) => {
            return fail(format!(
                "只有村(社区)操作员属于某个村(社区):新建{}时请把“所属村(社区)”留空,或把角色改为村(社区)操作员。",
                other.label()
            ))
            .await;
        }
    };
    let (password, hash) = hash_one_time_password(username, display_name).await?;
    let new = NewAccount {
        username,
        display_name,
        role,
        village_id,
        password_hash: &hash,
        must_change_password: true,
    };
    match crate::ops::accounts::create(&state.db, &user.by(), &new).await {
        Ok(id) => {
            tracing::info!(
                account = id.0,
                role = role.as_str(),
                by = user.account_id.0,
                "account created"
            );
            let msg = format!("已新建账号 {username}。");
            let page = accounts_page(
                &state,
                &user,
                Some(msg),
                None,
                Some((username.to_string(), password)),
                None,
            )
            .await?;
            Ok(page.into_response())
        }
        Err(DbError::Conflict(_)) => fail(format!("账号 {username} 已存在。")).await,
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn reset_password(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<AccountId>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let account = state.db.account(id).await?;
    let (password, hash) = hash_one_time_password(&account.username, &account.display_name).await?;
    crate::ops::accounts::reset_password(&state.db, &user.by(), &account, &hash).await?;
    tracing::info!(account = id.0, by = user.account_id.0, "password reset");
    let msg = format!("已重置 {} 的密码。", account.username);
    let page = accounts_page(
        &state,
        &user,
        Some(msg),
        None,
        Some((account.username, password)),
        None,
    )
    .await?;
    Ok(page.into_response())
}

/// Lifts the delay that failed logins put on an account (its owner cannot wait, or the
/// failures were someone else's). The password is unchanged.
pub(super) async fn unlock_account(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<AccountId>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let account = state.db.account(id).await?;
    crate::ops::accounts::unlock(&state.db, &user.by(), account.id).await?;
    tracing::info!(account = id.0, by = user.account_id.0, "login delay lifted");
    Ok(Redirect::to("/admin/accounts?m=unlocked").into_response())
}

pub(super) async fn disable_account(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<AccountId>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    set_disabled(state, user, id, true).await
}

pub(super) async fn enable_account(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<AccountId>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    set_disabled(state, user, id, false).await
}

async fn set_disabled(
    state: AppState,
    user: CurrentUser,
    id: AccountId,
    disabled: bool,
) -> Result<Response, AppError> {
    if id == user.account_id {
        return Err(AppError::bad(
            "an administrator cannot disable their own account",
            "不能停用自己的账号。",
        ));
    }
    crate::ops::accounts::set_disabled(&state.db, &user.by(), id, disabled).await?;
    tracing::info!(
        account = id.0,
        disabled,
        by = user.account_id.0,
        "account state changed"
    );
    let m = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/admin/accounts?m={m}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    fn campaign_page(state: CampaignState, seed: bool, commitment: bool) -> CampaignPage {
        CampaignPage {
            campaign: samples::campaign(state),
            state_label: state.label(),
            collecting: state == CampaignState::Collecting,
            frozen_at: Some("2026-09-01 10:00".into()),
            statuses: vec![
                RosterLine {
                    code: "V0101".into(),
                    name: "样例村".into(),
                    roster_id: Some(crate::ids::RosterId(9)),
                    fingerprint: Some("rosterfingerprintsample".into()),
                    rows_read: Some(820),
                    accepted: Some(812),
                    invalid: Some(5),
                    duplicates: Some(3),
                    uploaded_at: Some("2026-08-20 15:00".into()),
                    n: Some(31),
                    share: Some(4),
                    most: true,
                    census: false,
                    counted: true,
                },
                RosterLine {
                    code: "V0102".into(),
                    name: "未上报样例".into(),
                    roster_id: None,
                    fingerprint: None,
                    rows_read: None,
                    accepted: None,
                    invalid: None,
                    duplicates: None,
                    uploaded_at: None,
                    n: None,
                    share: None,
                    most: false,
                    census: true,
                    counted: true,
                },
            ],
            received: 1,
            planned: Planned {
                population: 812,
                n: 31,
                most: 1,
                census: 1,
            },
            rule: "样例规则描述".into(),
            rule_method: "fixed",
            rule_margin: "0.05".into(),
            rule_confidence: "0.95".into(),
            rule_size: "20".into(),
            rule_census: "50".into(),
            seed_forms: SeedForms::new(samples::seed_state(seed, commitment)),
            drawn: true,
            fieldwork_started_at: Some("2026-09-10 09:00".into()),
            pinned: vec![PinnedLine {
                role: "recipients".into(),
                form_id: "pinnedformsample".into(),
                version: "2026.1".into(),
                sha256: "pinnedsha".into(),
            }],
            replacement: ReplacementRules {
                on_not_eligible: true,
                on_refusal: true,
                noncontact_attempts: 4,
                noncontact_days: 2,
            },
            notice: samples::notice(),
            notice_incomplete: true,
            contact: ObjectionContact {
                phone: Some("0739-7654321".into()),
                address: Some("样例受理地址".into()),
                issuer: Some("样例发布单位".into()),
            },
            published: false,
            applications: None,
            cross: vec![CrossLine {
                phone: "138****0000".into(),
                villages: vec!["V0101".into(), "V0102".into()],
            }],
            base_url_banner: Some(BaseUrlBanner {
                text: "样例地址问题".into(),
                unusable: true,
            }),
            review: Some(vec![crate::db::RegisterRow {
                id: crate::ids::TitleId(4),
                campaign_id: CampaignId(1),
                campaign_name: "样例授予轮次".into(),
                campaign_year: 2026,
                village_id: VillageId(1),
                village_code: "V0101".into(),
                village_name: "样例村".into(),
                contact_leader: None,
                granted_on: "2026-12-01".into(),
                expires_on: "2028-11-30".into(),
                decision_ref: "样例文号".into(),
                revoked_on: None,
                revoke_reason: None,
            }]),
            message: Some("样例消息".into()),
            error: Some("样例错误".into()),
        }
    }

    #[test]
    fn the_campaign_page_struct_renders_every_branch_of_its_template() {
        let mut variants = vec![
            campaign_page(CampaignState::Fieldwork, true, true),
            campaign_page(CampaignState::Collecting, false, true),
            campaign_page(CampaignState::Collecting, false, false),
            campaign_page(CampaignState::Frozen, false, true),
            campaign_page(CampaignState::Frozen, false, false),
        ];
        let mut not_started = campaign_page(CampaignState::Drawn, true, true);
        not_started.pinned.clear();
        variants.push(not_started);
        let mut not_drawn = campaign_page(CampaignState::Frozen, true, true);
        not_drawn.drawn = false;
        variants.push(not_drawn);
        let mut published = campaign_page(CampaignState::Closed, true, true);
        published.published = true;
        variants.push(published);
        for (n, page) in variants.iter().enumerate() {
            let html = samples::rendered(page);
            for value in [
                "样例轮次二〇二六",
                "rosterfingerprintsample",
                "样例规则描述",
                "138****0000",
            ] {
                assert!(html.contains(value), "variant {n}: {value} missing");
            }
        }
        let mut applying = campaign_page(CampaignState::Collecting, false, true);
        applying.applications = Some(super::super::applications::samples::section(true));
        assert!(!samples::rendered(&applying).contains("名单不计入抽样"));
        applying.statuses[0].counted = false;
        let html = samples::rendered(&applying);
        assert!(html.contains("名单不计入抽样"));
        for value in [
            "样例申报村",
            "样例未申报村",
            "样例自评报告.pdf",
            "reportsha256sample",
            "/applications-due",
            "不受理理由",
        ] {
            assert!(html.contains(value), "{value} missing");
        }
        applying.applications = Some(super::super::applications::samples::section(false));
        assert!(!samples::rendered(&applying).contains("/applications-due"));
        let html = samples::rendered(&variants[0]);
        assert!(!html.contains("申报与受理"));
        assert!(html.contains("seedsample-4-6-1-2-3-5") && html.contains("pinnedformsample"));
        let html = samples::rendered(&variants[1]);
        assert!(html.contains("c0mmitmentsample"));
        assert!(html.contains("样例调查公司") && html.contains("尚未填写第三方名称和核实电话"));
        // The objection contact: a form before publication, fixed text after.
        assert!(html.contains("value=\"样例受理地址\"") && html.contains("/notice-contact"));
        let html = samples::rendered(variants.last().unwrap());
        assert!(html.contains("样例受理地址") && !html.contains("/notice-contact\""));
        let mut complete = campaign_page(CampaignState::Fieldwork, true, true);
        complete.notice_incomplete = false;
        assert!(!samples::rendered(&complete).contains("尚未填写第三方名称和核实电话"));
        // A 复核 round names the titles it re-checks; an assessment round has no such part.
        assert!(html.contains("复核轮次") && html.contains("样例授予轮次"));
        complete.review = None;
        assert!(!samples::rendered(&complete).contains("样例授予轮次"));
    }

    fn notice_form(party: &str, phone: &str, source: &str) -> NoticeForm {
        NoticeForm {
            csrf: String::new(),
            party: party.into(),
            phone: phone.into(),
            source: source.into(),
            retention: " ".into(),
            contact: "镇纪委 0739-1234567".into(),
        }
    }

    #[test]
    fn a_notice_is_trimmed_and_an_emptied_source_or_retention_is_the_default_again() {
        let notice = notice_form(" 某调查公司 ", "0739-1234567 ", "")
            .parse()
            .unwrap();
        assert_eq!(notice.party, "某调查公司");
        assert_eq!(notice.phone, "0739-1234567");
        assert_eq!(notice.source, Notice::DEFAULT_SOURCE);
        assert_eq!(notice.retention, Notice::DEFAULT_RETENTION);
        let own = notice_form("某调查公司", "", "村委会登记").parse().unwrap();
        assert_eq!(own.source, "村委会登记");
        assert!(own.incomplete());
    }

    #[test]
    fn a_notice_with_a_bad_phone_or_a_long_text_is_refused() {
        for (party, phone) in [
            ("某调查公司", "0739-123456x"),
            ("某调查公司", "<script>"),
            ("某调查公司", &"1".repeat(31)),
            (&"长".repeat(201), "0739-1234567"),
        ] {
            assert!(
                notice_form(party, phone, "").parse().is_none(),
                "{party} {phone}"
            );
        }
    }
}
