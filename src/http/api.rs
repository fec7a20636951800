//! The JSON API for tools: the same roster upload and receipts as the pages.
//!
//! Authenticate with `POST /api/login` and send the returned token as
//! `Authorization: Bearer <token>`. Requests that carry the browser's session cookie instead
//! must send the session's CSRF token in `X-CSRF-Token` to change anything.

use super::AppState;
use super::auth::{CurrentUser, SESSION_TTL_SECS, check_csrf};
use super::error::AppError;
use super::roles::{Admin, AdminOrSurveyor, RosterKeeper, Staff};
use super::upload::import_roster_bytes;
use crate::db::{RosterTarget, Village};
use crate::ids::CampaignId;
use crate::ops::accounts::{self, Login, Via};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// `AppError` answered as JSON: `{"error": English, "message": Chinese}`.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let en = match &self.0 {
            AppError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        let (_, zh) = self.0.zh();
        let mut response =
            (self.0.status(), Json(json!({ "error": en, "message": zh }))).into_response();
        self.0.set_retry_after(&mut response);
        response
    }
}

/// A JSON body whose rejection names only the kind of problem. axum's own rejection text
/// quotes the offending value (`invalid type: integer `15162351980``: a phone or a
/// password), and neither the log nor the answer may repeat what was sent.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(&rejection).into()),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> AppError {
    let (en, zh) = match rejection {
        JsonRejection::JsonDataError(_) => (
            "the JSON body lacks a field or has a field of the wrong type",
            "请求内容缺少字段或字段类型不对。",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ("the body is not valid JSON", "请求内容不是有效的 JSON。")
        }
        JsonRejection::MissingJsonContentType(_) => (
            "the body must be sent with Content-Type: application/json",
            "请求内容须为 JSON 格式。",
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return AppError::TooLarge {
                zh: "请求内容太大。".into(),
            };
        }
        _ => ("could not read the body", "无法读取请求内容。"),
    };
    tracing::debug!(kind = en, "rejected a JSON body");
    AppError::bad(en, zh)
}

/// A logged-in API caller whom `R` admits (any account by default, or a role extractor from
/// `roles`: `ApiUser(Admin(user)): ApiUser<Admin>`), refused in JSON. Cookie sessions must
/// also prove the CSRF token on writes; the role is checked after that proof, as a handler
/// would.
pub struct ApiUser<R = CurrentUser>(pub R);

impl<R> FromRequestParts<AppState> for ApiUser<R>
where
    R: FromRequestParts<AppState, Rejection = AppError>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let writes = !matches!(parts.method, Method::GET | Method::HEAD);
        if writes && !user.bearer {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            check_csrf(&user, sent)?;
        }
        Ok(ApiUser(R::from_request_parts(parts, state).await?))
    }
}

#[derive(Deserialize)]
pub(super) struct LoginBody {
    username: String,
    password: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    let login = accounts::login(
        &state.db,
        &state.limits,
        &body.username,
        body.password,
        Via::Api,
        None,
    )
    .await
    .map_err(AppError::from)?;
    match login {
        Login::Passed { account, token } => Ok(Json(
            json!({ "token": token, "expires_in": SESSION_TTL_SECS, "role": account.role }),
        )
        .into_response()),
        Login::MustChangePassword => Err(AppError::MustChangePassword.into()),
        Login::Failed => {
            let body = json!({ "error": "wrong username or password", "message": "账号或密码不正确,或账号已停用。" });
            Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response())
        }
    }
}

pub(super) async fn logout(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Response, ApiError> {
    crate::ops::accounts::logout(&state.db, &user.by(), &user.session).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn list_campaigns(
    State(state): State<AppState>,
    _: ApiUser<Staff>,
) -> Result<Response, ApiError> {
    Ok(Json(state.db.list_campaigns().await?).into_response())
}

pub(super) async fn list_rosters(
    State(state): State<AppState>,
    _: ApiUser<Admin>,
    Path(id): Path<CampaignId>,
) -> Result<Response, ApiError> {
    state.db.campaign(id).await?;
    Ok(Json(state.db.roster_statuses(id).await?).into_response())
}

/// The published draw record (administrator and surveyor).
pub(super) async fn get_draw_record(
    State(state): State<AppState>,
    _: ApiUser<AdminOrSurveyor>,
    Path(id): Path<CampaignId>,
) -> Result<Response, ApiError> {
    let (json, _) = state.db.draw_record(id).await?.ok_or(AppError::NotFound)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response())
}

/// The village named in the path, if this caller may see or replace its roster: the
/// administrator for any village, an operator for their own only.
async fn roster_village(
    state: &AppState,
    keeper: &RosterKeeper,
    code: &str,
) -> Result<Village, ApiError> {
    match keeper {
        RosterKeeper::Admin(_) => Ok(state.db.village_by_code(code).await?),
        RosterKeeper::Operator(operator) => {
            let own = state.db.village(operator.village).await?;
            // Another village's code gets the same answer as an unknown one.
            if own.code == code {
                Ok(own)
            } else {
                Err(AppError::Forbidden.into())
            }
        }
    }
}

pub(super) async fn get_receipt(
    State(state): State<AppState>,
    ApiUser(keeper): ApiUser<RosterKeeper>,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Response, ApiError> {
    let village = roster_village(&state, &keeper, &code).await?;
    let campaign = state.db.campaign(id).await?;
    let (mut receipt, file_name, uploaded_at) = state
        .db
        .current_receipt(campaign.id, village.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let RosterKeeper::Admin(_) = keeper {
        for e in &mut receipt.errors {
            e.reason = crate::domain::mask_digit_runs(&e.reason);
            e.reason_zh = crate::domain::mask_digit_runs(&e.reason_zh);
        }
    }
    Ok(Json(json!({
        "campaign": campaign.id,
        "village": village.code,
        "file_name": file_name,
        "uploaded_at": uploaded_at,
        "receipt": receipt,
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct UploadQuery {
    #[serde(default)]
    file_name: String,
}

/// Replace a roster with the request body (the file itself: .xlsx, .xls or CSV).
pub(super) async fn put_roster(
    State(state): State<AppState>,
    ApiUser(keeper): ApiUser<RosterKeeper>,
    Path((id, code)): Path<(CampaignId, String)>,
    Query(q): Query<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let village = roster_village(&state, &keeper, &code).await?;
    let campaign = state.db.campaign(id).await?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge {
                zh: format!(
                    "文件超过 {} MB 的上限。",
                    state.config.upload_limit / (1024 * 1024)
                ),
            }
        } else {
            AppError::bad(
                format!("could not read the body: {e}"),
                "无法读取上传的文件。",
            )
        }
    })?;
    if body.is_empty() {
        return Err(AppError::bad(
            "the request body is empty; send the file as the body",
            "没有收到文件。",
        )
        .into());
    }
    let target = RosterTarget {
        campaign_id: campaign.id,
        village_id: village.id,
        file_name: q.file_name.chars().take(200).collect(),
        uploaded_by: Some(keeper.user().account_id),
    };
    let receipt = import_roster_bytes(&state, target, body.to_vec()).await?;
    Ok(Json(receipt).into_response())
}
