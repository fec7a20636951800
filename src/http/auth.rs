//! Who is asking: sessions (a random token in an HttpOnly cookie or a bearer header, kept in
//! the database as its SHA-256), login, logout, password change and CSRF checks.

use super::AppState;
use super::error::AppError;
use super::views;
use crate::domain::Role;
use crate::ids::{AccountId, VillageId};
use crate::ops::accounts::{self, Login, Via};
use crate::rate_limit::LimitError;
use crate::{password, secrets};
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use minijinja::context;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Sessions last a working day (on the server; the cookie itself ends with the browser);
/// then people log in again.
pub use crate::ops::accounts::SESSION_TTL_SECS;

/// The logged-in account behind this request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub account_id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub village_id: Option<VillageId>,
    pub must_change_password: bool,
    /// The session's CSRF token, echoed by every form.
    pub csrf: String,
    /// SHA-256 of the session token.
    pub session: String,
    /// Authenticated by an `Authorization: Bearer` header rather than a cookie
    /// (such requests cannot be forged by another site, so they need no CSRF token).
    pub bearer: bool,
}

impl views::Viewer for CurrentUser {
    fn page_user(&self) -> views::PageUser {
        views::PageUser {
            id: self.account_id,
            display_name: self.display_name.clone(),
            role: self.role.as_str(),
            role_label: self.role.label(),
        }
    }

    fn page_csrf(&self) -> String {
        self.csrf.clone()
    }
}

impl CurrentUser {
    /// This user as the actor of an operation (`account:<id>` in the audit chain).
    pub fn by(&self) -> crate::ops::Actor {
        crate::ops::Actor::account(self.account_id)
    }

    /// Look the session up without the must-change-password gate.
    async fn from_parts_ungated(parts: &Parts, state: &AppState) -> Result<Self, AppError> {
        let (token, bearer) = match bearer_token(&parts.headers) {
            Some(t) => (t, true),
            None => match CookieJar::from_headers(&parts.headers).get(session_cookie_name(state)) {
                Some(c) => (c.value().to_string(), false),
                None => return Err(AppError::NotLoggedIn),
            },
        };
        let hash = secrets::token_hash(&token);
        let Some(found) = state.db.session_user(&hash).await? else {
            return Err(AppError::NotLoggedIn);
        };
        let role = found.account.role;
        Ok(CurrentUser {
            account_id: found.account.id,
            username: found.account.username,
            display_name: found.account.display_name,
            role,
            village_id: found.account.village_id,
            must_change_password: found.account.must_change_password,
            csrf: found.csrf_token,
            session: hash,
            bearer,
        })
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// What an account with a one-time password may still do: change it, or leave.
const OPEN_BEFORE_PASSWORD_CHANGE: [&str; 3] = ["/password", "/logout", "/api/logout"];

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    /// The session is looked up once per request: a role extractor and `CsrfForm` in the
    /// same handler share the answer through the request's extensions.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = match parts.extensions.get::<CurrentUser>() {
            Some(user) => user.clone(),
            None => {
                let user = Self::from_parts_ungated(parts, state).await?;
                parts.extensions.insert(user.clone());
                user
            }
        };
        if user.must_change_password && !OPEN_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path()) {
            return Err(AppError::MustChangePassword);
        }
        Ok(user)
    }
}

/// A form that changes state: its `_csrf` field must match the session's token.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// Implement `HasCsrf` for form structs with a `csrf` field (deserialised from `_csrf`).
macro_rules! has_csrf {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::http::auth::HasCsrf for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}
pub(crate) use has_csrf;

/// A bare form with only the CSRF token (buttons such as "log out").
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}
has_csrf!(CsrfOnly);

/// The logged-in user and a submitted form whose CSRF token checked out.
pub struct CsrfForm<T>(pub CurrentUser, pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = req.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, state).await?;
        check_origin(&parts.headers, state)?;
        let req = Request::from_parts(parts, body);
        let axum_extra::extract::Form(form) =
            axum_extra::extract::Form::<T>::from_request(req, state)
                .await
                .map_err(|e| {
                    AppError::bad(format!("malformed form: {e}"), "表单内容有误,请返回重试。")
                })?;
        check_csrf(&user, form.csrf())?;
        Ok(CsrfForm(user, form))
    }
}

/// Compare a submitted CSRF token with the session's.
pub fn check_csrf(user: &CurrentUser, submitted: &str) -> Result<(), AppError> {
    if secrets::constant_time_eq(submitted, &user.csrf) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// A browser's `Origin` on a state-changing request must be this site (defence in depth
/// beside the token; absent on some older browsers, which the token still covers).
pub fn check_origin(headers: &HeaderMap, state: &AppState) -> Result<(), AppError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    let same_host = origin_host.is_some() && origin_host == host;
    if same_host || origin.trim_end_matches('/') == state.config.base_url.trim_end_matches('/') {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// The session cookie's name. Under https it carries the `__Host-` prefix: browsers take
/// such a cookie only from a secure origin, with `Path=/` and no `Domain`, so neither a
/// plain-http page nor a sibling subdomain can plant or overwrite it.
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies() {
        "__Host-minyi_session"
    } else {
        "minyi_session"
    }
}

/// The login form's double-submit CSRF cookie, named and scoped like the session cookie (a
/// planted value would defeat the double submit).
fn login_csrf_cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies() {
        "__Host-minyi_login_csrf"
    } else {
        "minyi_login_csrf"
    }
}

/// The session cookie: no `Max-Age` or `Expires`, so it ends when the browser closes (the
/// session itself expires on the server after `SESSION_TTL_SECS` whatever the cookie does).
fn session_cookie(value: String, state: &AppState) -> Cookie<'static> {
    Cookie::build((session_cookie_name(state), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .build()
}

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    #[serde(default)]
    next: String,
}

pub(super) async fn login_form(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    // Logging in anew replaces any session, so a signed-in person may use this page too.
    let csrf = secrets::random_token();
    let cookie = Cookie::build((login_csrf_cookie_name(&state), csrf.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .build();
    let page = views::render(
        "login.html",
        context! { csrf => csrf, next => safe_next(&q.next), username => "" },
    );
    (jar.add(cookie), page).into_response()
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only same-site paths are followed after login (no open redirect).
fn safe_next(next: &str) -> &str {
    // Printable ASCII only: browsers drop tabs and newlines from `Location`, which would turn
    // "/\t/evil.example" into "//evil.example".
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
    {
        next
    } else {
        "/"
    }
}

pub(super) async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    axum_extra::extract::Form(form): axum_extra::extract::Form<LoginForm>,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    // Double-submit check: the form's token must equal the cookie set with the form.
    let cookie_token = jar
        .get(login_csrf_cookie_name(&state))
        .map(|c| c.value().to_string());
    if cookie_token.is_none_or(|t| !secrets::constant_time_eq(&t, &form.csrf)) {
        return Err(AppError::Csrf);
    }
    let username = form.username.trim().to_string();
    let failed_page = |status: StatusCode, error: String| {
        let page = views::render(
            "login.html",
            context! {
                csrf => &form.csrf,
                next => safe_next(&form.next),
                username => &username,
                error => error,
            },
        );
        (status, page).into_response()
    };
    // The browser's old session, if any, ends with this login.
    let old = jar
        .get(session_cookie_name(&state))
        .map(|c| secrets::token_hash(c.value()));
    let login = accounts::login(
        &state.db,
        &state.limits,
        &username,
        form.password.clone(),
        Via::Page,
        old.as_deref(),
    )
    .await;
    let (account, token) = match login {
        Ok(Login::Passed { account, token }) => (account, token),
        Ok(Login::Failed | Login::MustChangePassword) => {
            return Ok(failed_page(
                StatusCode::UNAUTHORIZED,
                "账号或密码不正确,或账号已停用。".into(),
            ));
        }
        // Waiting helps: the form is shown again with the reason and `Retry-After`.
        Err(e @ (LimitError::Delayed { .. } | LimitError::Busy)) => {
            let e = AppError::from(e);
            let mut response = failed_page(e.status(), e.zh().1);
            e.set_retry_after(&mut response);
            return Ok(response);
        }
        Err(e) => return Err(e.into()),
    };
    let jar = jar
        .remove(
            Cookie::build(login_csrf_cookie_name(&state))
                .path("/")
                .secure(state.config.secure_cookies()),
        )
        .add(session_cookie(token, &state));
    let to = if account.must_change_password {
        "/password"
    } else {
        safe_next(&form.next)
    };
    Ok((jar, Redirect::to(to)).into_response())
}

pub(super) async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(user, _): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    crate::ops::accounts::logout(&state.db, &user.by(), &user.session).await?;
    let jar = jar.remove(
        // A `__Host-` cookie is replaced only by one that is Secure too.
        Cookie::build(session_cookie_name(&state))
            .path("/")
            .secure(state.config.secure_cookies()),
    );
    Ok((jar, Redirect::to("/login")).into_response())
}

pub(super) async fn password_form(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<Response, AppError> {
    let user = CurrentUser::from_parts_ungated(&parts, &state).await?;
    Ok(views::page(
        &user,
        "password.html",
        context! { must_change => user.must_change_password, rule => password::RULE_ZH },
    )
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}
has_csrf!(PasswordForm);

pub(super) async fn change_password(
    State(state): State<AppState>,
    CsrfForm(user, form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    let retry = |msg: &str| {
        let page = views::page(
            &user,
            "password.html",
            context! { must_change => user.must_change_password, error => msg, rule => password::RULE_ZH },
        );
        Ok((StatusCode::BAD_REQUEST, page).into_response())
    };
    if let Err(weakness) = password::check(&form.new, &user.username, &user.display_name) {
        tracing::info!(account = user.account_id.0, reason = %weakness, "new password refused");
        return retry(weakness.zh());
    }
    if form.new != form.repeat {
        return retry("两次输入的新密码不一致。");
    }
    if form.new == form.current {
        return retry("新密码不能与当前密码相同。");
    }
    let account = state.db.account(user.account_id).await?;
    let (current, new) = (form.current, form.new);
    let result = tokio::task::spawn_blocking(move || {
        if secrets::verify_password(&current, &account.password_hash) {
            secrets::hash_password(&new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::msg)?;
    let Some(hash) = result else {
        return retry("当前密码不正确。");
    };
    crate::ops::accounts::change_own_password(&state.db, user.account_id, &hash, &user.session)
        .await?;
    tracing::info!(account = user.account_id.0, "password changed");
    Ok(Redirect::to("/?m=password").into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_are_followed_after_login() {
        assert_eq!(safe_next("/admin/villages"), "/admin/villages");
        for evil in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/x",
            "",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }
}
