//! The draw's pages and actions: sample-size rule, seed commitment, freeze, seed entry,
//! the draw itself, and the published record (page, JSON, CSV). The administrator runs
//! them; the surveyor may register and reveal the seed and reads the record.

use super::auth::{CsrfForm, CurrentUser, has_csrf};
use super::download::{campaign_file, csv_download, file_download};
use super::error::AppError;
use super::roles::{Admin, AdminOrSurveyor};
use super::views::ser;
use super::{AppState, views};
use crate::db::SeedState;
use crate::domain::{Role, local_time};
use crate::export::excel_csv;
use crate::ids::CampaignId;
use crate::ops::draw::{self, Commitment, DrawError, SeedEntry};
use crate::results::notice::ContactError;
use crate::sampling::{Confidence, DrawRecord, Seed, SeedCommitment, SizeParameters, SizeRule};
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};

/// What `seed_forms.html` reads besides `campaign` and `csrf`: the seed's state with its
/// times as local text. Flattened into the administrator's and the surveyor's campaign pages.
#[derive(Serialize)]
pub(super) struct SeedForms {
    seed: SeedState,
    committed_at: Option<String>,
    entered_at: Option<String>,
}

impl SeedForms {
    pub(super) fn new(seed: SeedState) -> SeedForms {
        SeedForms {
            committed_at: seed.committed_at.map(local_time),
            entered_at: seed.entered_at.map(local_time),
            seed,
        }
    }
}

/// Messages after the draw's actions (`?m=` for success, `?e=` for refusals).
pub fn flash(key: &str) -> Option<&'static str> {
    Some(match key {
        "rule" => "已保存样本量规则。",
        "committed" => "已登记随机种子的承诺值(SHA-256)。",
        "frozen" => "名单已冻结,不再接受上报。",
        "seed" => "已录入随机种子。",
        "drawn" => "抽样完成。抽样记录已生成,可下载公布。",
        "not_collecting" => "名单已冻结,此项不能再修改。",
        "bad_rule" => {
            "样本量规则无效:误差应在 0 与 1 之间(如 0.05),置信度只能是 90%、95% 或 99%,固定样本量应为正整数。"
        }
        "bad_commitment" => "承诺值应为 64 位十六进制数(随机种子的 SHA-256)。",
        "commitment_exists" => "承诺值已登记,不能更改。",
        "confirm" => "请先勾选确认。",
        "seed_short" => {
            "随机种子太短:去掉首尾空格后至少需要 16 个字符(例如多人轮流掷骰子得到的一串数字)。"
        }
        "seed_mismatch" => {
            "随机种子与冻结前登记的承诺值不一致,未录入。请核对种子(区分大小写、空格)。"
        }
        "seed_not_now" => "只能在名单冻结之后、抽样之前录入一次随机种子。",
        "draw_failed" => "未能抽样,请确认名单已冻结且已录入随机种子。",
        "fieldwork" => "调查已开始:问卷版本已固定,样本已发放为调查对象。",
        "not_drawn" => "只能在抽样之后开始调查,且只能开始一次。",
        "closed" => "调查已结束:不再接受联系记录、问卷链接或导入。",
        "rules" => "已保存递补规则。",
        "notice" => "已保存告知受访者的信息。",
        "bad_notice" => {
            "告知信息未保存:核实电话只能包含数字、空格、“-”和“+”(不超过 30 个字符),其他各项不超过 200 字。"
        }
        "bad_rules" => "联系次数和天数应为 1 到 20 之间的整数。",
        "contact" => "已保存公示通知的受理异议电话、地址和发布单位。",
        "contact_phone" => ContactError::Phone.zh(),
        "contact_address" => ContactError::Address.zh(),
        "contact_issuer" => ContactError::Issuer.zh(),
        "contact_published" => {
            "公示已经开始，公示通知已按当时填写的受理电话、地址和发布单位张贴，不能再修改。"
        }
        "not_fieldwork" => "只有正在进行的调查才能结束。",
        "application_accepted" => "已受理该村(社区)的申报。",
        "application_refused" => "已决定不受理该村(社区)的申报,理由已记录。",
        "applications_due" => "已保存申报截止日期。",
        "creation" => "已保存创建启动日期;负面清单从它的前一年起计算。",
        "creation_day" => "创建启动日期无效:请按 2025-03-01 的格式填写,且不能晚于今天。",
        "creation_approved" => "本轮已批准,创建启动日期不能再修改。",
        _ => return None,
    })
}

/// Where a person goes back to after an action on campaign `id`.
fn back(user: &CurrentUser, id: CampaignId) -> String {
    match user.role {
        Role::Surveyor => format!("/surveyor/campaigns/{id}"),
        _ => format!("/admin/campaigns/{id}"),
    }
}

fn go(user: &CurrentUser, id: CampaignId, param: &str, key: &str) -> Response {
    Redirect::to(&format!("{}?{param}={key}", back(user, id))).into_response()
}

#[derive(Deserialize)]
pub(super) struct SizeRuleForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    margin: String,
    #[serde(default)]
    confidence: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    census_below: String,
}
has_csrf!(SizeRuleForm);

fn parse_rule(form: &SizeRuleForm) -> Option<SizeRule> {
    if form.method == "fixed" {
        return SizeRule::fixed(form.size.trim().parse().ok()?).ok();
    }
    let margin: f64 = form.margin.trim().parse().ok()?;
    // Left empty: nobody is surveyed in full for being in a small village.
    let census_below: u64 = match form.census_below.trim() {
        "" => 0,
        text => text.parse().ok()?,
    };
    Some(
        SizeRule::formula(margin, Confidence::parse(&form.confidence).ok()?)
            .ok()?
            .with_census_below(census_below),
    )
}

pub(super) async fn set_size_rule(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<SizeRuleForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let Some(rule) = parse_rule(&form) else {
        return Ok(go(&user, id, "e", "bad_rule"));
    };
    let json = serde_json::to_string(&rule.parameters()).map_err(anyhow::Error::from)?;
    if !draw::set_size_rule(&state.db, user.account_id, id, &json).await? {
        return Ok(go(&user, id, "e", "not_collecting"));
    }
    tracing::info!(campaign = id.0, rule = %json, "size rule set");
    Ok(go(&user, id, "m", "rule"))
}

#[derive(Deserialize)]
pub(super) struct CommitmentForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    commitment: String,
}
has_csrf!(CommitmentForm);

pub(super) async fn commit_seed(
    State(state): State<AppState>,
    AdminOrSurveyor(user): AdminOrSurveyor,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<CommitmentForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let Ok(commitment) = SeedCommitment::parse(&form.commitment) else {
        return Ok(go(&user, id, "e", "bad_commitment"));
    };
    match draw::commit_seed(&state.db, user.account_id, id, &commitment).await? {
        Commitment::NotCollecting => Ok(go(&user, id, "e", "not_collecting")),
        Commitment::Exists => Ok(go(&user, id, "e", "commitment_exists")),
        Commitment::Registered => {
            tracing::info!(
                campaign = id.0,
                by = user.account_id.0,
                "seed commitment registered"
            );
            Ok(go(&user, id, "m", "committed"))
        }
    }
}

#[derive(Deserialize)]
pub(super) struct FreezeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}
has_csrf!(FreezeForm);

pub(super) async fn freeze_rosters(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<FreezeForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    if form.confirm != "yes" {
        return Ok(go(&user, id, "e", "confirm"));
    }
    match draw::freeze(&state.db, user.account_id, id).await {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(go(&user, id, "e", "not_collecting")),
        Err(e @ draw::FreezeRefused::Pending(_)) => {
            return Err(AppError::bad(format!("freeze refused: {e}"), e.zh()));
        }
        Err(draw::FreezeRefused::Db(e)) => return Err(e.into()),
    }
    tracing::info!(campaign = id.0, by = user.account_id.0, "rosters frozen");
    Ok(go(&user, id, "m", "frozen"))
}

#[derive(Deserialize)]
pub(super) struct SeedForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    seed: String,
}
has_csrf!(SeedForm);

pub(super) async fn enter_seed(
    State(state): State<AppState>,
    AdminOrSurveyor(user): AdminOrSurveyor,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<SeedForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let Ok(seed) = Seed::parse(&form.seed) else {
        return Ok(go(&user, id, "e", "seed_short"));
    };
    match draw::enter_seed(&state.db, user.account_id, id, &seed).await? {
        SeedEntry::NotNow => Ok(go(&user, id, "e", "seed_not_now")),
        SeedEntry::Mismatch => {
            tracing::warn!(
                campaign = id.0,
                "revealed seed does not match the commitment"
            );
            Ok(go(&user, id, "e", "seed_mismatch"))
        }
        SeedEntry::Entered => {
            tracing::info!(campaign = id.0, by = user.account_id.0, "seed entered");
            Ok(go(&user, id, "m", "seed"))
        }
    }
}

pub(super) async fn run_draw(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    _: CsrfForm<super::auth::CsrfOnly>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    match draw::draw(&state.db, user.account_id, id).await {
        Ok(record) => {
            tracing::info!(
                campaign = id.0,
                villages = record.villages.len(),
                "sample drawn"
            );
            Ok(go(&user, id, "m", "drawn"))
        }
        Err(e @ (DrawError::NotFrozen | DrawError::NoSeed)) => {
            tracing::info!(campaign = id.0, error = %e, "draw refused");
            Ok(go(&user, id, "e", "draw_failed"))
        }
        Err(e) => Err(AppError::Internal(e.into())),
    }
}

/// The campaign's published draw record, for the administrator and the surveyor.
async fn record_of(state: &AppState, id: CampaignId) -> Result<(DrawRecord, i64), AppError> {
    let (json, drawn_at) = state.db.draw_record(id).await?.ok_or(AppError::NotFound)?;
    let record = serde_json::from_str(&json).map_err(anyhow::Error::from)?;
    Ok((record, drawn_at))
}

/// The sample-size rule as people read it.
pub fn describe_rule(parameters: &SizeParameters) -> String {
    match parameters {
        SizeParameters::Formula {
            margin,
            confidence,
            census_below,
            ..
        } => {
            let census = match census_below {
                Some(n) if *n > 0 => format!(";名单不足 {n} 人的村(社区)全部调查"),
                _ => String::new(),
            };
            format!(
                "按公式计算:误差 ±{}%,置信度 {}%{census}",
                (margin * 1000.0).round() / 10.0,
                confidence * 100.0
            )
        }
        SizeParameters::Fixed { size } => format!("每村(社区)固定 {size} 人(不足时全部)"),
    }
}

pub(super) async fn show_record(
    State(state): State<AppState>,
    AdminOrSurveyor(user): AdminOrSurveyor,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let (record, drawn_at) = record_of(&state, id).await?;
    let campaign = state.db.campaign(id).await?;
    let names: std::collections::HashMap<String, String> = state
        .db
        .list_villages()
        .await?
        .into_iter()
        .map(|v| (v.code, v.name))
        .collect();
    let villages: Vec<_> = record
        .villages
        .iter()
        .map(|v| {
            context! {
                code => v.code.clone(), name => names.get(&v.code).cloned().unwrap_or_default(),
                population => v.population, size => v.size, fingerprint => v.fingerprint.clone(),
                list_sha256 => v.list_sha256.clone(),
            }
        })
        .collect();
    let total_population: u64 = record.villages.iter().map(|v| v.population).sum();
    let total_size: u64 = record.villages.iter().map(|v| v.size).sum();
    Ok(views::page(
        &user,
        "draw_record.html",
        context! {
            campaign => ser(&campaign), record => ser(&record), villages, total_population, total_size,
            drawn_at => local_time(drawn_at), rule => describe_rule(&record.parameters),
        },
    ))
}

pub(super) async fn download_record_json(
    State(state): State<AppState>,
    _: AdminOrSurveyor,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let (json, _) = state.db.draw_record(id).await?.ok_or(AppError::NotFound)?;
    let campaign = state.db.campaign(id).await?;
    Ok(file_download(
        "application/json; charset=utf-8",
        &campaign_file(&campaign.name, "抽样记录.json"),
        json.into_bytes(),
    ))
}

pub(super) async fn download_record_csv(
    State(state): State<AppState>,
    _: AdminOrSurveyor,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let (record, _) = record_of(&state, id).await?;
    // The audit head repeats on every row: a CSV has no place for one value of the whole file.
    let head = record.audit_head.clone().unwrap_or_default();
    let rows = record.villages.iter().map(|v| {
        [
            v.code.clone(),
            v.population.to_string(),
            v.fingerprint.clone(),
            v.size.to_string(),
            v.list_sha256.clone(),
            head.clone(),
        ]
    });
    let bytes = excel_csv(
        &[
            "village",
            "population",
            "fingerprint",
            "size",
            "list_sha256",
            "audit_head",
        ],
        rows,
    );
    let campaign = state.db.campaign(id).await?;
    Ok(csv_download(
        &campaign_file(&campaign.name, "抽样记录.csv"),
        bytes,
    ))
}
