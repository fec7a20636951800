//! The village operator's pages: hand in this year's roster and keep its receipt.
//! A village sees only its own receipts — never the sample, invitations or answers.

use super::admin::receipt_page;
use super::auth::{CurrentUser, check_csrf, check_origin};
use super::error::AppError;
use super::roles::Operator;
use super::upload::{import_roster_bytes, read_upload};
use super::views::ser;
use super::{AppState, views};
use crate::db::RosterTarget;
use crate::domain::{CampaignState, local_time};
use crate::ids::{CampaignId, VillageId};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;

pub(super) async fn village_home(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
) -> Result<Html<String>, AppError> {
    home_page(&state, &user, village, None).await
}

async fn home_page(
    state: &AppState,
    user: &CurrentUser,
    village_id: VillageId,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let village = state.db.village(village_id).await?;
    let mut campaigns = Vec::new();
    for c in state.db.list_campaigns().await? {
        let receipt = state.db.current_receipt(c.id, village_id).await?;
        let st = c.state;
        campaigns.push(context! {
            id => c.id, name => c.name, year => c.year,
            state_label => st.label(),
            collecting => st == CampaignState::Collecting,
            uploaded_at => receipt.as_ref().map(|r| local_time(r.2)),
            file_name => receipt.as_ref().map(|r| r.1.clone()),
            receipt => receipt.map(|r| ser(&r.0)),
            published => state.db.publicity(c.id).await?.is_some(),
        });
    }
    Ok(views::page(
        user,
        "village_home.html",
        context! {
            village => ser(&village), campaigns, error,
            upload_limit_mb => state.config.upload_limit / (1024 * 1024),
        },
    ))
}

pub(super) async fn upload_roster(
    State(state): State<AppState>,
    Operator {
        user,
        village: village_id,
    }: Operator,
    headers: HeaderMap,
    Path(id): Path<CampaignId>,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_upload(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    let campaign = state.db.campaign(id).await?;
    let target = RosterTarget {
        campaign_id: campaign.id,
        village_id,
        file_name: upload.file_name.clone(),
        uploaded_by: Some(user.account_id),
    };
    match import_roster_bytes(&state, target, upload.bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/village/campaigns/{id}/receipt")).into_response()),
        Err(AppError::BadRequest { zh, .. }) => {
            let page = home_page(&state, &user, village_id, Some(zh)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn show_receipt(
    State(state): State<AppState>,
    Operator {
        user,
        village: village_id,
    }: Operator,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let village = state.db.village(village_id).await?;
    receipt_page(&state, &user, &campaign, &village, "/village".into()).await
}
