//! The village operator's pages: hand in this year's roster and keep its receipt.
//! A village sees only its own receipts — never the sample, invitations or answers.

use super::admin::receipt_page;
use super::auth::{CurrentUser, check_csrf, check_origin};
use super::error::AppError;
use super::roles::Operator;
use super::upload::{import_roster_bytes, read_upload};
use super::{AppState, views};
use crate::db::{RosterTarget, Village};
use crate::domain::{CampaignState, local_time};
use crate::ids::{CampaignId, VillageId};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

pub(super) async fn village_home(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
) -> Result<Html<String>, AppError> {
    home_page(&state, &user, village, None).await
}

/// The village operator's home page (`village_home.html`): each campaign with the roster
/// handed in and the form to hand one in.
#[derive(Serialize)]
pub(super) struct HomePage {
    village: Village,
    campaigns: Vec<CampaignLine>,
    /// The upload limit, in MB.
    upload_limit_mb: usize,
    /// Why the last upload was refused.
    error: Option<String>,
}

impl views::Page for HomePage {
    const TEMPLATE: &'static str = "village_home.html";
}

#[derive(Serialize)]
pub(super) struct CampaignLine {
    id: crate::ids::CampaignId,
    name: String,
    year: i64,
    state_label: &'static str,
    /// Rosters are still taken.
    collecting: bool,
    /// The village's own results are published.
    published: bool,
    /// The roster handed in, if any.
    receipt: Option<ReceiptLine>,
    uploaded_at: Option<String>,
    file_name: Option<String>,
    /// The campaign takes applications: the village's own, if any.
    application: Option<super::applications::OwnApplication>,
    /// The campaign draws only accepted villages and this one is not (yet) accepted.
    roster_not_counted: bool,
    /// This village's application was refused: no roster is taken.
    roster_refused: bool,
}

/// What the home page shows of a roster's receipt.
#[derive(Serialize)]
pub(super) struct ReceiptLine {
    accepted: u64,
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
        let rule = state.db.participation(c.id).await?;
        let application = super::applications::own(state, &rule, c.id, st, village_id).await?;
        let decision = application
            .as_ref()
            .and_then(|a| a.application.as_ref())
            .and_then(|a| a.decision.clone());
        let roster_refused = decision.as_deref() == Some("refused");
        let roster_not_counted = rule.by_application() && decision.as_deref() != Some("accepted");
        campaigns.push(CampaignLine {
            id: c.id,
            name: c.name,
            year: c.year,
            state_label: st.label(),
            collecting: st == CampaignState::Collecting,
            published: state.db.publicity(c.id).await?.is_some(),
            uploaded_at: receipt.as_ref().map(|r| local_time(r.2)),
            file_name: receipt.as_ref().map(|r| r.1.clone()),
            receipt: receipt.map(|r| ReceiptLine {
                accepted: r.0.accepted,
            }),
            application,
            roster_not_counted,
            roster_refused,
        });
    }
    let page = HomePage {
        village,
        campaigns,
        upload_limit_mb: state.config.upload_limit / (1024 * 1024),
        error,
    };
    Ok(views::show(user, &page))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    #[test]
    fn the_home_page_struct_renders_every_branch_of_its_template() {
        let line = |id: i64, collecting: bool, receipt: bool| CampaignLine {
            id: crate::ids::CampaignId(id),
            name: format!("样例轮次{id}"),
            year: 2026,
            state_label: "样例状态",
            collecting,
            published: true,
            receipt: receipt.then_some(ReceiptLine { accepted: 812 }),
            uploaded_at: receipt.then(|| "2026-08-20 15:00".into()),
            file_name: receipt.then(|| "样例名单.xlsx".into()),
            application: None,
            roster_not_counted: false,
            roster_refused: false,
        };
        let page = HomePage {
            village: Village {
                id: crate::ids::VillageId(3),
                code: "V0101".into(),
                name: "样例村".into(),
            },
            campaigns: vec![
                line(1, true, true),
                line(2, false, false),
                line(3, true, false),
            ],
            upload_limit_mb: 20,
            error: Some("样例错误".into()),
        };
        let html = samples::rendered(&page);
        for value in [
            "样例村",
            "样例轮次1",
            "样例名单.xlsx",
            "有效号码 812 个",
            "不超过 20 MB",
        ] {
            assert!(html.contains(value), "{value} missing");
        }
        let own = |decision: Option<&str>, open: bool| super::super::applications::OwnApplication {
            due: "2026-09-30".into(),
            open,
            late: !open,
            application: Some(super::super::applications::samples::line(decision)),
        };
        let mut applying = line(4, true, true);
        applying.application = Some(own(None, true));
        applying.roster_not_counted = true;
        let mut refused = line(5, true, false);
        refused.application = Some(own(Some("refused"), false));
        refused.roster_not_counted = true;
        refused.roster_refused = true;
        let mut fresh = line(6, true, false);
        fresh.application = Some(super::super::applications::OwnApplication {
            due: "2026-09-30".into(),
            open: true,
            late: false,
            application: None,
        });
        let with_applications = HomePage {
            campaigns: vec![applying, refused, fresh],
            village: page.village.clone(),
            upload_limit_mb: 20,
            error: None,
        };
        let html = samples::rendered(&with_applications);
        for value in [
            "待受理",
            "不受理",
            "样例不受理理由",
            "样例自评报告.pdf",
            "/village/archive/7",
            "2026-09-30",
            "/village/campaigns/4/application",
            "/village/campaigns/6/application",
            "受理后才计入",
            "不接受本村(社区)上报名单",
        ] {
            assert!(html.contains(value), "{value} missing");
        }
        assert!(!html.contains("/village/campaigns/5/application"));
        assert!(!html.contains("/village/campaigns/5/roster"));
        let empty = HomePage {
            campaigns: Vec::new(),
            ..page
        };
        assert!(samples::rendered(&empty).contains("目前没有调查轮次"));
    }
}
