//! The commission administrator's pages: campaigns, villages, accounts, roster receipts.

use super::auth::{CsrfForm, CsrfOnly, CurrentUser, check_csrf, check_origin, has_csrf};
use super::error::AppError;
use super::roles::Admin;
use super::upload::{import_roster_bytes, read_upload};
use super::views::ser;
use super::{AppState, views};
use crate::db::{DbError, NewAccount, RosterTarget};
use crate::domain::{CampaignState, Role, VillageCode, local_time, mask_phone};
use crate::ids::{AccountId, CampaignId, VillageId};
use crate::sampling::{SizeParameters, SizeRule};
use crate::{secrets, villages};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

/// Messages shown after a redirect (`?m=key`), so nothing a person typed is reflected.
fn flash(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "campaign" => "已新建调查轮次。",
        "village" => "已添加村(社区)。",
        "password" => "密码已修改。",
        "disabled" => "账号已停用,其登录已失效。",
        "enabled" => "账号已启用。",
        "unlocked" => "已解除该账号的登录限制。",
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
    let campaigns: Vec<_> = state
        .db
        .list_campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let label = c.state.label();
            context! { id => c.id, name => c.name, town => c.town, year => c.year, state_label => label }
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
    } else {
        None
    };
    let (None, Some(year)) = (problem, year) else {
        let msg = problem.unwrap_or_default();
        let page = campaigns_page(&state, &user, None, Some(msg)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    let id = crate::ops::campaigns::create(&state.db, &user.by(), name, town, year).await?;
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
    let params: Option<SizeParameters> = serde_json::from_str(&campaign.size_rule).ok();
    // What the rule would draw from each roster, shown before anyone freezes or draws.
    let rule = params
        .as_ref()
        .and_then(|p| SizeRule::try_from(p).ok())
        .unwrap_or_default();
    let mut planned = (0u64, 0u64, 0usize);
    let statuses: Vec<_> = statuses
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
            let most = population.zip(n).is_some_and(|(p, n)| p > 0 && 2 * n > p);
            if let (Some(p), Some(n)) = (population, n) {
                planned.0 += p;
                planned.1 += n;
                planned.2 += usize::from(most);
            }
            context! {
                code => s.code, name => s.name, roster_id => s.roster_id, fingerprint => s.fingerprint,
                rows_read => s.rows_read, accepted => s.accepted, invalid => s.invalid,
                duplicates => s.duplicates, uploaded_at => s.uploaded_at.map(local_time),
                n, share, most,
            }
        })
        .collect();
    let planned = context! { population => planned.0, n => planned.1, most => planned.2 };
    let cross: Vec<_> = state
        .db
        .cross_village_phones(id)
        .await?
        .into_iter()
        .map(|x| context! { phone => mask_phone(&x.phone), villages => x.villages })
        .collect();
    let state_ = campaign.state;
    let seed = state.db.seed_state(id).await?;
    let (rule_method, rule_margin, rule_confidence, rule_size) = match params {
        Some(SizeParameters::Fixed { size }) => (
            "fixed",
            "0.05".to_string(),
            "0.95".to_string(),
            size.to_string(),
        ),
        Some(SizeParameters::Formula {
            margin, confidence, ..
        }) => (
            "formula",
            margin.to_string(),
            format!("{confidence:.2}"),
            String::new(),
        ),
        None => ("formula", "0.05".into(), "0.95".into(), String::new()),
    };
    let drawn = state.db.draw_record(id).await?.is_some();
    let pinned: Vec<_> = state
        .db
        .pinned_forms(id)
        .await?
        .into_iter()
        .map(|f| context! { role => f.role, form_id => f.form_id, version => f.version, sha256 => f.sha256 })
        .collect();
    Ok(views::page(
        user,
        "admin_campaign.html",
        context! {
            campaign => ser(&campaign), statuses, received, cross, message, error, drawn, pinned, planned,
            fieldwork_started_at => campaign.fieldwork_started_at.map(local_time),
            state_label => state_.label(),
            collecting => state_ == CampaignState::Collecting,
            frozen_at => campaign.frozen_at.map(local_time),
            seed => ser(&seed),
            committed_at => seed.committed_at.map(local_time),
            entered_at => seed.entered_at.map(local_time),
            rule => params.as_ref().map(super::draw::describe_rule).unwrap_or_default(),
            rule_method, rule_margin, rule_confidence, rule_size,
            replacement => ser(&state.db.replacement_rules(id).await?),
            // Links go out from the draw on (SMS outbox, panel sheets).
            base_url_banner => matches!(state_, CampaignState::Drawn | CampaignState::Fieldwork)
                .then(|| super::base_url_banner(&state.config)).flatten(),
        },
    ))
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

async fn villages_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let villages = state.db.list_villages().await?;
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
