//! Quality checks and call-backs (回访) on the web: the flags the commission reads beside each
//! village's grade (`quality_flags.html`, included from the results pages), and the
//! surveyor's call-back list with its outcomes (`callbacks.html`). The village operator
//! reaches neither: the routes admit the administrator or the surveyor only.

use super::auth::has_csrf;
use super::error::AppError;
use super::roles::Surveyor;
use super::{AppState, views};
use crate::db::Campaign;
use crate::fieldwork::callback::{CallbackOutcome, SCRIPT, callback_lists};
use crate::ids::{CampaignId, CaseId, VillageId};
use crate::ops;
use crate::results::quality::{CallbackCounts, VillageQuality};
use crate::results::tables::Loaded;
use crate::sampling::callback::{CALLBACK_ALGORITHM, DEFAULT_PERCENT};
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A village's checks as `quality_flags.html` shows them.
#[derive(Serialize, Default)]
pub(super) struct QualityView {
    /// Flags raised.
    raised: usize,
    lines: Vec<FlagLine>,
    callbacks: CallbackCounts,
}

#[derive(Serialize)]
pub(super) struct FlagLine {
    text: String,
    raised: bool,
}

pub(super) fn quality_view(q: Option<&VillageQuality>) -> QualityView {
    let Some(q) = q else {
        return QualityView::default();
    };
    QualityView {
        raised: q.raised(),
        lines: q
            .flags
            .iter()
            .map(|f| FlagLine {
                text: f.line_zh(),
                raised: f.raised(),
            })
            .collect(),
        callbacks: q.callbacks,
    }
}

/// Every village's checks for the results pages.
pub(super) async fn campaign_quality(
    state: &AppState,
    l: &Loaded,
) -> Result<BTreeMap<VillageId, VillageQuality>, AppError> {
    Ok(crate::results::quality_report::campaign_quality(
        &state.db,
        l.campaign.id,
        &l.forms.recipients,
        l.results.k,
        l.survey_over,
    )
    .await?)
}

/// The surveyor's call-back list (`callbacks.html`).
#[derive(Serialize)]
pub(super) struct CallbacksPage {
    campaign: Campaign,
    script: &'static str,
    percent: u32,
    algorithm: &'static str,
    villages: Vec<CallbackVillage>,
    outcomes: Vec<OutcomeOption>,
    message: Option<&'static str>,
    error: Option<&'static str>,
}

impl views::Page for CallbacksPage {
    const TEMPLATE: &'static str = "callbacks.html";
}

#[derive(Serialize)]
pub(super) struct CallbackVillage {
    code: String,
    name: String,
    completes: usize,
    cases: Vec<CallbackLine>,
}

#[derive(Serialize)]
pub(super) struct CallbackLine {
    id: CaseId,
    rank: i64,
    name: String,
    /// In full: the surveyor must call it.
    phone: String,
    outcome: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct OutcomeOption {
    key: &'static str,
    label: &'static str,
}

#[derive(Deserialize, Default)]
pub(super) struct Flash {
    m: Option<String>,
    e: Option<String>,
}

pub(super) async fn show_callbacks(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(id): Path<CampaignId>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let villages = callback_lists(&state.db, id, DEFAULT_PERCENT)
        .await?
        .into_iter()
        .map(|v| CallbackVillage {
            code: v.code,
            name: v.name,
            completes: v.completes,
            cases: v
                .cases
                .into_iter()
                .map(|c| CallbackLine {
                    id: c.case.id,
                    rank: c.case.rank,
                    name: c.case.name.unwrap_or_default(),
                    phone: c.case.phone,
                    outcome: c.outcome.map(CallbackOutcome::label_zh),
                })
                .collect(),
        })
        .collect();
    let page = CallbacksPage {
        campaign,
        script: SCRIPT,
        percent: DEFAULT_PERCENT,
        algorithm: CALLBACK_ALGORITHM,
        villages,
        outcomes: CallbackOutcome::ALL
            .into_iter()
            .map(|o| OutcomeOption {
                key: o.key(),
                label: o.label_zh(),
            })
            .collect(),
        message: flash.m.as_deref().map(|_| "回访结果已记录。"),
        error: flash.e.as_deref().map(|e| match e {
            "outcome" => "请选择回访结果。",
            _ => "没有记录:这个对象不在本轮已完成的调查对象中,或调查已批准。",
        }),
    };
    Ok(views::show(&user, &page))
}

#[derive(Deserialize)]
pub(super) struct CallbackForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
}
has_csrf!(CallbackForm);

pub(super) async fn record_callback(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path((id, case_id)): Path<(CampaignId, CaseId)>,
    super::auth::CsrfForm(_, form): super::auth::CsrfForm<CallbackForm>,
) -> Result<Response, AppError> {
    let back = |flash: &str| {
        Redirect::to(&format!(
            "/surveyor/campaigns/{id}/callbacks?{flash}#case-{case_id}"
        ))
        .into_response()
    };
    let Some(outcome) = CallbackOutcome::parse(form.outcome.trim()) else {
        return Ok(back("e=outcome"));
    };
    let recorded =
        ops::fieldwork::record_callback(&state.db, &user.by(), id, case_id, outcome).await?;
    tracing::info!(
        campaign = id.0,
        case = case_id.0,
        outcome = outcome.key(),
        recorded,
        "call-back recorded"
    );
    Ok(back(if recorded { "m=recorded" } else { "e=case" }))
}

/// A view with every branch of `quality_flags.html`, for the template tests.
#[cfg(test)]
pub(super) fn sample_view() -> QualityView {
    QualityView {
        raised: 1,
        lines: vec![
            FlagLine {
                text: "样例质量提示行".into(),
                raised: true,
            },
            FlagLine {
                text: "样例未提示行".into(),
                raised: false,
            },
        ],
        callbacks: CallbackCounts {
            sampled: 3,
            confirmed: 1,
            denied: 1,
            unreachable: 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    #[test]
    fn the_callbacks_page_struct_renders_every_branch_of_its_template() {
        let page = CallbacksPage {
            campaign: samples::campaign(crate::domain::CampaignState::Closed),
            script: SCRIPT,
            percent: DEFAULT_PERCENT,
            algorithm: CALLBACK_ALGORITHM,
            villages: vec![
                CallbackVillage {
                    code: "V0101".into(),
                    name: "样例村".into(),
                    completes: 12,
                    cases: vec![
                        CallbackLine {
                            id: CaseId(7),
                            rank: 3,
                            name: "样例姓名".into(),
                            phone: "13800001234".into(),
                            outcome: Some("确认参加过"),
                        },
                        CallbackLine {
                            id: CaseId(8),
                            rank: 9,
                            name: String::new(),
                            phone: "13800005678".into(),
                            outcome: None,
                        },
                    ],
                },
                CallbackVillage {
                    code: "V0102".into(),
                    name: "样例社区".into(),
                    completes: 0,
                    cases: Vec::new(),
                },
            ],
            outcomes: CallbackOutcome::ALL
                .into_iter()
                .map(|o| OutcomeOption {
                    key: o.key(),
                    label: o.label_zh(),
                })
                .collect(),
            message: Some("样例消息"),
            error: Some("样例错误"),
        };
        let html = samples::rendered(&page);
        for value in [
            SCRIPT,
            "样例姓名",
            "tel:13800001234",
            "确认参加过",
            "未记录",
            "还没有已完成的调查对象",
            "说没参加过",
            "联系不上",
            "callback-v1",
            "样例消息",
            "样例错误",
        ] {
            assert!(html.contains(value), "{value} missing");
        }
        let empty = CallbacksPage {
            villages: Vec::new(),
            message: None,
            error: None,
            ..page
        };
        assert!(samples::rendered(&empty).contains("尚未抽样"));
    }
}
