//! One error type for pages: each variant maps to a status and a Chinese page; 5xx are
//! logged with their cause and answered generically. `api::ApiError` renders the same as JSON.

use super::views;
use crate::db::DbError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session: pages go to the login form.
    #[error("not logged in")]
    NotLoggedIn,
    /// Logged in with a one-time password: everything but the password form is closed.
    #[error("the password must be changed first")]
    MustChangePassword,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The CSRF token was missing or wrong (or the form is from an old page).
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// Input the person can fix: an English message for logs and the API, Chinese for pages.
    #[error("{en}")]
    BadRequest { en: String, zh: String },
    #[error("request body too large")]
    TooLarge { zh: String },
    /// A rate limit (src/rate_limit.rs) was reached.
    #[error("too many requests")]
    TooManyRequests { zh: String },
    /// An account with repeated failed logins must wait this many seconds before the next
    /// password check (src/rate_limit.rs).
    #[error("too many failed logins for this account; retry in {secs} s")]
    LoginDelayed { secs: u64 },
    /// All password checks are busy; the login may be retried in `retry_secs`.
    #[error("password checks are busy; retry shortly")]
    Busy { retry_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad(en: impl Into<String>, zh: impl Into<String>) -> Self {
        AppError::BadRequest {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotLoggedIn => StatusCode::UNAUTHORIZED,
            AppError::MustChangePassword | AppError::Forbidden | AppError::Csrf => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } | AppError::LoginDelayed { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a person reads on the page.
    pub fn zh(&self) -> (&'static str, String) {
        match self {
            AppError::NotLoggedIn => ("请先登录", "请先登录。".into()),
            AppError::MustChangePassword => ("请先修改密码", "请先修改一次性密码。".into()),
            AppError::Forbidden => ("无权访问", "您的账号无权查看或操作此页面。".into()),
            AppError::NotFound => ("页面不存在", "没有找到您要的页面或数据。".into()),
            AppError::Csrf => (
                "页面已过期",
                "表单已过期或来源不明,请返回上一页刷新后重试。".into(),
            ),
            AppError::BadRequest { zh, .. } => ("无法处理", zh.clone()),
            AppError::TooLarge { zh } => ("文件太大", zh.clone()),
            AppError::TooManyRequests { zh } => ("操作太频繁", zh.clone()),
            AppError::LoginDelayed { secs } => (
                "请稍后再试",
                format!(
                    "这个账号近来登录失败次数较多,为防他人猜测密码,请 {secs} 秒后再试。如急需登录,请联系镇纪委管理员解除锁定。"
                ),
            ),
            AppError::Busy { .. } => ("系统正忙", "同时登录的人较多,请稍等几秒后再试。".into()),
            AppError::Internal(_) => (
                "系统错误",
                "系统出现错误,请稍后重试。如果问题持续,请联系镇纪委。".into(),
            ),
        }
    }

    /// Seconds for a `Retry-After` header, where waiting helps.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::LoginDelayed { secs } => Some(*secs),
            AppError::Busy { retry_secs } => Some(*retry_secs),
            _ => None,
        }
    }

    /// Log server-side failures with their cause chain; client errors are not logged.
    pub fn log(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
    }
}

impl AppError {
    /// Adds `Retry-After` to a response for this error when waiting helps.
    pub fn set_retry_after(&self, response: &mut Response) {
        if let Some(secs) = self.retry_after() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<crate::rate_limit::LimitError> for AppError {
    fn from(e: crate::rate_limit::LimitError) -> Self {
        use crate::rate_limit::LimitError;
        match e {
            LimitError::Busy => AppError::Busy {
                retry_secs: crate::rate_limit::HASH_WAIT.as_secs().max(1),
            },
            LimitError::Delayed { secs } => AppError::LoginDelayed { secs },
            LimitError::Db(e) => e.into(),
            LimitError::Internal(m) => AppError::Internal(anyhow::anyhow!(m)),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        match self {
            AppError::NotLoggedIn => Redirect::to("/login").into_response(),
            AppError::MustChangePassword => Redirect::to("/password").into_response(),
            other => {
                let (heading, detail) = other.zh();
                let page = views::render(
                    "error.html",
                    minijinja::context! { heading => heading, detail => detail },
                );
                let mut response = (other.status(), page).into_response();
                other.set_retry_after(&mut response);
                response
            }
        }
    }
}
