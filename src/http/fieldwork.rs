//! Fieldwork pages: the administrator starts fieldwork and registers the panel (with a
//! printable sheet of personal QR links); the surveyor downloads the SMS outbox of links.

use super::auth::{CsrfForm, CsrfOnly, CurrentUser, has_csrf};
use super::download::{campaign_file, csv_download, xlsx_download};
use super::error::AppError;
use super::roles::{Admin, Surveyor};
use super::views::ser;
use super::{AppState, views};
use crate::domain::mask_phone;
use crate::export::{Cell, excel_csv, text_xlsx};
use crate::fieldwork::{FieldworkError, sms_message};
use crate::forms::FormSet;
use crate::ids::{CampaignId, CaseId};
use crate::ops::{self, fieldwork::OutboxKind};
use crate::roster::Phone;
use crate::secrets;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

/// The questionnaire files to pin: the configured folder, or the copies in the binary.
pub fn load_forms(state: &AppState) -> Result<FormSet, AppError> {
    let dir = &state.config.forms_dir;
    let loaded = if dir.is_dir() {
        crate::forms::load_dir(dir)
    } else {
        crate::forms::builtin()
    };
    loaded.map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        AppError::bad(
            format!("the questionnaire files have errors: {}", list.join("; ")),
            format!("问卷文件有错误,未开始调查:{}", list.join(";")),
        )
    })
}

pub(super) async fn start_fieldwork(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let forms = load_forms(&state)?;
    match ops::fieldwork::start(&state.db, &user.by(), id, &forms).await {
        Ok(n) => {
            tracing::info!(campaign = id.0, cases = n, "fieldwork started");
            Ok(Redirect::to(&format!("/admin/campaigns/{id}?m=fieldwork")).into_response())
        }
        Err(FieldworkError::NotDrawn) => {
            Ok(Redirect::to(&format!("/admin/campaigns/{id}?e=not_drawn")).into_response())
        }
        Err(FieldworkError::Db(e)) => Err(e.into()),
    }
}

const CATEGORIES: [&str; 4] = ["党代表", "人大代表", "政协委员", "其他"];

pub(super) async fn show_panel(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    panel_page(&state, &user, id, None).await
}

async fn panel_page(
    state: &AppState,
    user: &CurrentUser,
    id: CampaignId,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let members: Vec<_> = state
        .db
        .panel_members(id)
        .await?
        .into_iter()
        .map(|m| {
            context! {
                name => m.name, category => m.category, has_link => m.has_link, rated => m.rated,
                phone => m.phone.as_deref().map(mask_phone).unwrap_or_default(),
            }
        })
        .collect();
    Ok(views::page(
        user,
        "admin_panel.html",
        context! {
            campaign => ser(&campaign), members, categories => CATEGORIES, error,
            base_url_banner => ser(&super::base_url_banner(&state.config)),
        },
    ))
}

#[derive(Deserialize)]
pub(super) struct PanelMemberForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    phone: String,
}
has_csrf!(PanelMemberForm);

pub(super) async fn add_panel_member(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<PanelMemberForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let name = form.name.trim();
    let refuse = |msg: String| async {
        let page = panel_page(&state, &user, id, Some(msg)).await?;
        Ok::<_, AppError>((axum::http::StatusCode::BAD_REQUEST, page).into_response())
    };
    if name.is_empty() || name.chars().count() > 50 {
        return refuse("请填写姓名(不超过 50 字)。".into()).await;
    }
    if !CATEGORIES.contains(&form.category.as_str()) {
        return refuse("请选择类别:党代表、人大代表、政协委员或其他。".into()).await;
    }
    let phone = match form.phone.trim() {
        "" => None,
        raw => match Phone::parse(raw) {
            Ok(p) => Some(p.as_str().to_string()),
            Err(e) => return refuse(format!("电话号码无效:{}", e.zh())).await,
        },
    };
    crate::ops::fieldwork::add_panel_member(
        &state.db,
        &user.by(),
        id,
        name,
        &form.category,
        phone.as_deref(),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/campaigns/{id}/panel")).into_response())
}

/// Issue a fresh personal link to every panel member and show the printable sheet: the
/// links are shown only here, once (the database keeps their SHA-256).
#[derive(Deserialize)]
pub(super) struct PanelLinksForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `yes` to issue new links to everyone (the printed ones stop working).
    #[serde(default)]
    all: String,
}
has_csrf!(PanelLinksForm);

pub(super) async fn issue_panel_links(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<PanelLinksForm>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let base = state.config.base_url.trim_end_matches('/');
    let issued = ops::fieldwork::issue_panel_links(
        &state.db,
        &user.by(),
        id,
        form.all == "yes",
        secrets::link_token,
    )
    .await?;
    let mut sheets = Vec::new();
    for (m, token) in issued {
        let link = format!("{base}/p/{token}");
        let svg = qrcode::QrCode::new(link.as_bytes())
            .map(|q| {
                q.render::<qrcode::render::svg::Color>()
                    .min_dimensions(180, 180)
                    .build()
            })
            .map_err(|e| anyhow::anyhow!("QR code: {e}"))?;
        sheets.push(context! { name => m.name, category => m.category, link, svg });
    }
    tracing::info!(
        campaign = id.0,
        members = sheets.len(),
        "panel links issued"
    );
    super::warn_if_links_unfit(&state.config, "panel links", id);
    Ok(views::page(
        &user,
        "panel_sheet.html",
        context! { campaign => ser(&campaign), sheets },
    )
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct OutboxForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `invite` (never sent), `remind` (sent `days` ago and unanswered) or `reissue` (every
    /// sent and unanswered link again, the old ones out of use; needs `confirm=yes`).
    #[serde(default)]
    kind: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    confirm: String,
    /// `csv` (the default: `phone,message`, what SMS platforms import) or `xlsx` (the same
    /// links for people, as a workbook with Chinese headers and phones as text).
    #[serde(default)]
    format: String,
}
has_csrf!(OutboxForm);

/// Refuse, before any token is issued, a base URL whose links would not fit one SMS with
/// the longest village name of the campaign.
async fn check_sms_fits(state: &AppState, campaign: &crate::db::Campaign) -> Result<(), AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let sample_link = format!("{base}/s/{}", "A".repeat(22));
    let longest = state
        .db
        .roster_statuses(campaign.id)
        .await?
        .into_iter()
        .map(|r| r.name)
        .max_by_key(|n| n.chars().count())
        .unwrap_or_default();
    for reminder in [false, true] {
        if let Err(n) = sms_message(&campaign.town, &longest, &sample_link, reminder, None) {
            return Err(AppError::bad(
                format!("a survey SMS would be {n} characters (> 70): the base URL is too long"),
                format!("短信将有 {n} 个字,超过一条短信的 70 字:请缩短系统网址(--base-url)。"),
            ));
        }
    }
    Ok(())
}

/// The `phone,message` lines of links just issued.
fn outbox_rows(
    state: &AppState,
    town: &str,
    verify: &str,
    outgoing: &[crate::db::Outgoing],
    reminder: bool,
) -> Vec<[String; 2]> {
    let base = state.config.base_url.trim_end_matches('/');
    outgoing
        .iter()
        .map(|o| {
            let link = format!("{base}/s/{}", o.token);
            let text =
                sms_message(town, &o.village_name, &link, reminder, Some(verify)).unwrap_or(link);
            [o.phone.clone(), text]
        })
        .collect()
}

/// The SMS outbox: `phone,message`, one line per invitation due; every link's token is
/// new, shown only in this file and stored only as its SHA-256. Landlines are left out
/// (they are called from the console). Downloading new invitations twice gives the second
/// time only those released since; a lost file is downloaded again with `reissue`. With
/// `format=xlsx` the same lines come as a workbook (电话, 短信内容): one download either
/// way, since the links exist only in the file that issues them.
pub(super) async fn download_outbox(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<OutboxForm>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    // Read before any link is issued, as everything the file needs.
    let verify = state.db.notice(id).await?.phone;
    let kind = match form.kind.as_str() {
        "invite" => OutboxKind::Invite,
        "remind" => match form.days.trim().parse::<i64>() {
            Ok(d) if (1..=60).contains(&d) => OutboxKind::Remind(d),
            _ => {
                return Err(AppError::bad(
                    "reminder delay must be 1 to 60 days",
                    "提醒间隔应为 1 到 60 天。",
                ));
            }
        },
        "reissue" if form.confirm == "yes" => OutboxKind::Reissue,
        "reissue" => {
            return Err(AppError::bad(
                "reissuing the links needs confirm=yes",
                "重新下载会让上次文件中的链接全部失效,请勾选确认后再下载。",
            ));
        }
        _ => return Err(AppError::bad("unknown outbox kind", "请选择邀请或提醒。")),
    };
    // Decided before any link is issued: a refused format must not cost the links.
    let xlsx = match form.format.trim() {
        "" | "csv" => false,
        "xlsx" => true,
        _ => {
            return Err(AppError::bad(
                "unknown outbox format (csv or xlsx)",
                "请选择文件格式:Excel 表格或 CSV。",
            ));
        }
    };
    check_sms_fits(&state, &campaign).await?;
    let format = if xlsx { "xlsx" } else { "csv" };
    let outgoing =
        ops::fieldwork::issue_outbox(&state.db, &user.by(), id, kind, format, secrets::link_token)
            .await?;
    let name = match kind {
        OutboxKind::Invite => "邀请短信",
        OutboxKind::Remind(_) => "提醒短信",
        OutboxKind::Reissue => "重发的邀请短信",
    };
    let reminder = matches!(kind, OutboxKind::Remind(_));
    let rows = outbox_rows(&state, &campaign.town, &verify, &outgoing, reminder);
    tracing::info!(
        campaign = id.0,
        messages = rows.len(),
        kind = kind.key(),
        "sms outbox issued"
    );
    super::warn_if_links_unfit(&state.config, "SMS outbox", id);
    let file = campaign_file(&campaign.name, &format!("{name}-{id}.{format}"));
    if xlsx {
        let rows = rows
            .into_iter()
            .map(|[phone, message]| [Cell::Text(phone), Cell::Text(message)]);
        xlsx_download(
            &file,
            text_xlsx("短信", &[("电话", 16.0), ("短信内容", 90.0)], rows),
        )
    } else {
        Ok(csv_download(&file, excel_csv(&["phone", "message"], rows)))
    }
}

/// One case's link issued again (the resident deleted the SMS, or it never arrived): a page
/// with the new link and its SMS text, shown once; the old link is out of use.
pub(super) async fn reissue_case_link(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(case_id): Path<CaseId>,
    _: CsrfForm<super::auth::CsrfOnly>,
) -> Result<Response, AppError> {
    let case = state.db.case(case_id).await?;
    let campaign = state.db.campaign(case.campaign_id).await?;
    check_sms_fits(&state, &campaign).await?;
    let verify = state.db.notice(campaign.id).await?.phone;
    let issued = ops::fieldwork::reissue_case_link(
        &state.db,
        &user.by(),
        campaign.id,
        case_id,
        secrets::link_token,
    )
    .await?;
    let Some(issued) = issued else {
        return Err(AppError::bad(
            "this case has no link to reissue (never sent, answered, replaced, or a landline)",
            "这个对象没有可以重发的链接:链接尚未发送、已经回答或已被递补,或者号码是固定电话。",
        ));
    };
    tracing::info!(
        campaign = campaign.id.0,
        case = case_id.0,
        "survey link reissued"
    );
    let [phone, sms] = outbox_rows(
        &state,
        &campaign.town,
        &verify,
        std::slice::from_ref(&issued),
        false,
    )
    .pop()
    .unwrap_or_default();
    let link = format!(
        "{}/s/{}",
        state.config.base_url.trim_end_matches('/'),
        issued.token
    );
    Ok(views::page(
        &user,
        "link_reissued.html",
        context! { case_id, rank => case.rank, village_name => case.village_name, phone, sms, link },
    )
    .into_response())
}
