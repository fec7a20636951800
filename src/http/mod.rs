//! The web app: server-rendered pages for people (Simplified Chinese) and a JSON API for tools.
//!
//! `app(state)` builds the router so tests can drive it directly; `serve(config)` opens the
//! database, applies migrations, creates the first administrator and listens.

mod admin;
mod api;
mod archive;
mod audit;
mod auth;
mod console;
mod download;
mod draw;
mod error;
mod fieldwork;
mod headers;
mod results;
mod roles;
mod survey;
mod surveyor;
mod upload;
mod views;
mod village;

pub use auth::CurrentUser;
pub use error::AppError;
pub use survey::FormCache;

use crate::config::Config;
use crate::db::{Db, NewAccount};
use crate::domain::Role;
use crate::secrets;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower_http::trace::TraceLayer;

/// Log targets dropped whatever `MINYI_LOG` asks for. axum logs every rejection (target
/// `axum::rejection`, at trace) with the text it answers, and that text quotes the request:
/// `invalid type: integer `15162351980``, a phone or a password. No request body or form
/// content may reach the log; our own extractors log, if anything, the kind of error.
pub fn never_logged(target: &str) -> bool {
    target == "axum::rejection" || target.starts_with("axum::rejection::")
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Pinned questionnaires, parsed once.
    pub forms: FormCache,
    /// Group commit of survey submissions.
    pub submissions: crate::db::SubmitQueue,
    /// Moves answers from the pool to `responses` in shuffled batches.
    pub mixer: crate::fieldwork::mixer::Mixer,
    /// Rate limits on logins and links, and the bound on concurrent password checks.
    pub limits: Arc<crate::rate_limit::Limiter>,
}

impl AppState {
    /// Must be called inside a Tokio runtime (it starts the submission task).
    pub fn new(db: Db, config: Config) -> Self {
        AppState {
            submissions: crate::db::SubmitQueue::start(db.clone()),
            mixer: crate::fieldwork::mixer::Mixer::start(db.clone()),
            config: Arc::new(config),
            forms: FormCache::default(),
            limits: crate::rate_limit::Limiter::start(db.clone()),
            db,
        }
    }
}

/// The warning shown where survey links are issued when the base URL is loopback, not a URL,
/// or plain http (see [`crate::config::BaseUrlProblem`]); `None` when it is fine.
pub(crate) fn base_url_banner(config: &Config) -> Option<minijinja::Value> {
    let problem = config.base_url_problem()?;
    Some(minijinja::context! {
        text => problem.zh(&config.base_url),
        unusable => problem.links_unusable(),
    })
}

/// Log, as a warning, that links are being issued on a base URL with a problem.
pub(crate) fn warn_if_links_unfit(config: &Config, what: &str, campaign: i64) {
    if let Some(problem) = config.base_url_problem() {
        tracing::warn!(
            campaign,
            "{what} issued although {}",
            problem.en(&config.base_url)
        );
    }
}

/// The whole app as a router, without listening anywhere.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/robots.txt", get(robots))
        .route("/panel", get(panel_home))
        .merge(auth::router())
        .merge(admin::router(&state.config))
        .merge(village::router(&state.config))
        .merge(draw::router())
        .merge(surveyor::router())
        .merge(fieldwork::router())
        .merge(survey::router())
        .merge(console::router(&state.config))
        .merge(results::router())
        .merge(audit::router())
        .merge(archive::router())
        .nest("/api", api::router(&state.config))
        .layer(axum::middleware::from_fn(
            views::answer_render_failures_with_500,
        ))
        .layer(
            // Log the route template (`/s/{token}`), never the raw path: paths may carry
            // survey tokens, and nothing personal goes into a log line.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "<unmatched>".into());
                tracing::info_span!("request", method = %req.method(), route = %route)
            })
            // A 503 is the login limiter turning a flood away (counted and summed up once a
            // minute): not an error line per request. Other failures stay errors.
            .on_failure(
                |class: tower_http::classify::ServerErrorsFailureClass,
                 latency: std::time::Duration,
                 _span: &tracing::Span| {
                    use tower_http::classify::ServerErrorsFailureClass as Class;
                    if !matches!(class, Class::StatusCode(s) if s == axum::http::StatusCode::SERVICE_UNAVAILABLE) {
                        tracing::error!(%class, ?latency, "request failed");
                    }
                },
            ),
        );
    headers::layer(routes, &state.config).with_state(state)
}

/// Each role lands on its own page.
async fn home(user: CurrentUser) -> Response {
    let to = match user.role {
        Role::Admin => "/admin",
        Role::Village => "/village",
        Role::Surveyor => "/surveyor",
        Role::Panel => "/panel",
    };
    Redirect::to(to).into_response()
}

/// A panel member with an account: ratings are given through the personal link.
async fn panel_home(roles::Panel(user): roles::Panel) -> axum::response::Html<String> {
    views::page(
        &user,
        "placeholder.html",
        minijinja::context! { heading => "两代表一委员评议", detail => "请使用镇纪委发给您的个人评议链接(或扫描二维码)为各村(社区)评议。" },
    )
}

/// Survey links and staff pages must never be indexed.
async fn robots() -> &'static str {
    "User-agent: *\nDisallow: /\n"
}

/// For a load balancer: 200 when the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable",
            )
                .into_response()
        }
    }
}

/// On an empty database, create the commission administrator `admin` with a one-time
/// password and return it (to be shown once, never logged). `None` if accounts exist.
pub async fn bootstrap_admin(db: &Db) -> anyhow::Result<Option<String>> {
    if db.count_accounts().await? > 0 {
        return Ok(None);
    }
    const USERNAME: &str = "admin";
    const DISPLAY_NAME: &str = "镇纪委管理员";
    let password = crate::password::one_time(USERNAME, DISPLAY_NAME)
        .map_err(|w| anyhow::anyhow!("no one-time password met the rule: {w}"))?;
    let hash = {
        let p = password.clone();
        tokio::task::spawn_blocking(move || secrets::hash_password(&p))
            .await?
            .map_err(anyhow::Error::msg)?
    };
    let created = db
        .create_account(&NewAccount {
            username: USERNAME,
            display_name: DISPLAY_NAME,
            role: Role::Admin,
            village_id: None,
            password_hash: &hash,
            must_change_password: true,
        })
        .await;
    match created {
        Ok(_) => Ok(Some(password)),
        // Another server sharing the database created it first.
        Err(crate::db::DbError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Open the database, migrate, bootstrap, and serve until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    // Read or create the audit key before anything is audited, so a key file that cannot be
    // read stops the start instead of the first audited action.
    let key = db.ensure_audit_key().await?;
    tracing::info!(key_file = %key.path().display(), first_entry = key.first_entry(), "audit key ready; back it up apart from the database");
    if let Some(password) = bootstrap_admin(&db).await? {
        // Printed to the terminal for the person starting the server, not to the log.
        println!(
            "\n首次启动:已创建镇纪委管理员账号 admin,一次性密码:{password}\n(首次登录后须修改密码)\nFirst start: created administrator 'admin' with one-time password {password} (must be changed at first login).\n"
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.bind).await?;
    tracing::info!(address = %listener.local_addr()?, database = db.kind(), "minyi listening");
    // Said at every start, since links built on a wrong base URL go out in every SMS.
    if let Some(problem) = config.base_url_problem() {
        tracing::warn!("{}", problem.en(&config.base_url));
    }
    let sweeper = {
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = db.delete_expired_sessions().await {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
                if let Err(e) = crate::rate_limit::LoginGuard::default().prune(&db).await {
                    tracing::warn!(error = %e, "could not forget old login failures");
                }
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        })
    };
    let state = AppState::new(db.clone(), config);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    sweeper.abort();
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
