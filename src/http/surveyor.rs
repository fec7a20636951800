//! The surveyor's pages (第三方): the seed (commit before the freeze, reveal after), and
//! after the draw the ranked lists with full phone numbers — this role alone sees them —
//! plus the frozen rosters, so the third party can verify the draw with `minyi verify`.

use super::auth::CurrentUser;
use super::draw::{csv_download, describe_rule, flash};
use super::error::AppError;
use super::views::ser;
use super::{AppState, views};
use crate::domain::{CampaignState, Role, local_time};
use crate::export::excel_csv;
use crate::sampling::SizeParameters;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/surveyor", get(surveyor_home))
        .route("/surveyor/campaigns/{id}", get(show_campaign))
        .route(
            "/surveyor/campaigns/{id}/villages/{code}",
            get(show_ranked_list),
        )
        .route("/surveyor/campaigns/{id}/sample.csv", get(download_sample))
        .route(
            "/surveyor/campaigns/{id}/rosters/{code}",
            get(download_frozen_roster),
        )
}

/// Refuse unless the caller is the surveyor.
pub(super) fn surveyor(user: &CurrentUser) -> Result<(), AppError> {
    user.require(Role::Surveyor)
}

async fn surveyor_home(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    surveyor(&user)?;
    let campaigns: Vec<_> = state
        .db
        .list_campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let label = c.state().map(CampaignState::label).unwrap_or("");
            context! { id => c.id, name => c.name, year => c.year, state_label => label }
        })
        .collect();
    Ok(views::page(
        &user,
        "surveyor_home.html",
        context! { campaigns },
    ))
}

#[derive(Deserialize, Default)]
pub struct Flash {
    m: Option<String>,
    e: Option<String>,
}

async fn show_campaign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<Flash>,
) -> Result<Html<String>, AppError> {
    surveyor(&user)?;
    let campaign = state.db.campaign(id).await?;
    let seed = state.db.seed_state(id).await?;
    let strata: Vec<_> = state
        .db
        .strata(id, None)
        .await?
        .into_iter()
        .map(|s| context! { code => s.code, name => s.name, population => s.population, size => s.size })
        .collect();
    let rule = serde_json::from_str::<SizeParameters>(&campaign.size_rule)
        .map(|p| describe_rule(&p))
        .unwrap_or_default();
    Ok(views::page(
        &user,
        "surveyor_campaign.html",
        context! {
            campaign => ser(&campaign), seed => ser(&seed), strata, rule,
            state_label => campaign.state().map(CampaignState::label).unwrap_or(""),
            frozen_at => campaign.frozen_at.map(local_time),
            committed_at => seed.committed_at.map(local_time),
            entered_at => seed.entered_at.map(local_time),
            message => q.m.as_deref().and_then(flash),
            error => q.e.as_deref().and_then(flash),
        },
    ))
}

async fn show_ranked_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Html<String>, AppError> {
    surveyor(&user)?;
    let campaign = state.db.campaign(id).await?;
    let village = state.db.village_by_code(&code).await?;
    let stratum = state
        .db
        .strata(id, Some(village.id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let names = state.db.roster_names(id, village.id).await?;
    let ranks: Vec<_> = stratum
        .ranks()
        .map(|(rank, phone, primary)| {
            context! { rank, phone, primary, name => names.get(phone).cloned().unwrap_or_default() }
        })
        .collect();
    Ok(views::page(
        &user,
        "surveyor_village.html",
        context! {
            campaign => ser(&campaign), village => ser(&village), ranks,
            population => stratum.population, size => stratum.size, list_sha256 => stratum.list_sha256,
        },
    ))
}

/// All ranked lists: `village,rank,phone,selection,name` (the offline draw's columns, plus names).
async fn download_sample(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    surveyor(&user)?;
    state.db.campaign(id).await?;
    let mut rows = Vec::new();
    for s in state.db.strata(id, None).await? {
        let names = state.db.roster_names(id, s.village_id).await?;
        for (rank, phone, primary) in s.ranks() {
            rows.push([
                s.code.clone(),
                rank.to_string(),
                phone.to_string(),
                if primary { "primary" } else { "reserve" }.to_string(),
                names.get(phone).cloned().unwrap_or_default(),
            ]);
        }
    }
    let bytes = excel_csv(&["village", "rank", "phone", "selection", "name"], rows);
    Ok(csv_download(&format!("sample-{id}.csv"), bytes))
}

/// A village's frozen roster as `<code>.csv` (phones only), for `minyi verify`.
async fn download_frozen_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    surveyor(&user)?;
    // Only after the draw: seeing the frozen rosters before the seed is in would let someone
    // who may still enter the seed try seeds until the draw suits them.
    if state.db.draw_record(id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let village = state.db.village_by_code(&code).await?;
    let phones = state.db.frame_phones(id, village.id).await?;
    let mut text = String::from("电话\n");
    for p in phones {
        text.push_str(&p);
        text.push('\n');
    }
    Ok(csv_download(
        &format!("{}.csv", village.code),
        text.into_bytes(),
    ))
}
