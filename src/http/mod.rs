//! The web app: server-rendered pages for people (Simplified Chinese) and a JSON API for tools.
//!
//! `app(state)` builds the router so tests can drive it directly; `serve(config)` opens the
//! database, applies migrations, creates the first administrator and listens. Every route is
//! listed in `routes()` below; each module holds the handlers for one role or page family.

mod admin;
mod api;
mod applications;
mod archive;
mod audit;
mod auth;
mod console;
mod decisions;
mod download;
mod draw;
mod error;
mod fieldwork;
mod grade_sources;
mod headers;
mod notice;
mod quality;
mod register;
mod report;
mod results;
mod roles;
mod survey;
mod surveyor;
mod upload;
mod views;
mod village;
mod village_archive;

pub use auth::CurrentUser;
pub use error::AppError;
pub use survey::FormCache;

use crate::config::Config;
use crate::db::{Db, NewAccount};
use crate::domain::Role;
use crate::ids::CampaignId;
use crate::secrets;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
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
    /// The key of the questionnaires' start fields, derived from the audit key on first use.
    pub clock: Arc<tokio::sync::OnceCell<crate::duration::FormClock>>,
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
            clock: Arc::default(),
            db,
        }
    }

    /// The key of the questionnaires' start fields (`fieldwork::duration`): derived from
    /// the audit key, so every server sharing the database and its key accepts the others'.
    pub async fn form_clock(&self) -> Result<&crate::duration::FormClock, crate::db::DbError> {
        self.clock
            .get_or_try_init(|| async {
                let key = self.db.ensure_audit_key().await?;
                Ok(crate::duration::FormClock::new(
                    &key.derive("questionnaire start field"),
                ))
            })
            .await
    }
}

/// The warning shown where survey links are issued when the base URL is loopback, not a URL,
/// or plain http (see [`crate::config::BaseUrlProblem`]); `None` when it is fine.
pub(crate) fn base_url_banner(config: &Config) -> Option<BaseUrlBanner> {
    let problem = config.base_url_problem()?;
    Some(BaseUrlBanner {
        text: problem.zh(&config.base_url),
        unusable: problem.links_unusable(),
    })
}

/// What `base_url_banner.html` shows: the problem with the base URL links are built on.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct BaseUrlBanner {
    pub text: String,
    /// Links built on it do not work at all (shown as an error, not a warning).
    pub unusable: bool,
}

/// Log, as a warning, that links are being issued on a base URL with a problem.
pub(crate) fn warn_if_links_unfit(config: &Config, what: &str, campaign: CampaignId) {
    if let Some(problem) = config.base_url_problem() {
        tracing::warn!(
            campaign = campaign.0,
            "{what} issued although {}",
            problem.en(&config.base_url)
        );
    }
}

/// The whole app as a router, without listening anywhere.
pub fn app(state: AppState) -> Router {
    let routes = routes(&state.config)
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

/// Every URL the app answers and its handler, by feature. A route that takes a body says
/// how large it may be; the rest keep axum's default (2 MB).
fn routes(config: &Config) -> Router<AppState> {
    // An uploaded file with the form fields around it.
    let upload_form = DefaultBodyLimit::max(config.upload_limit + 64 * 1024);
    // A file sent as the whole request body (the API).
    let upload_body = DefaultBodyLimit::max(config.upload_limit);
    // Answers are short: a large body here is not a respondent.
    let answers = DefaultBodyLimit::max(64 * 1024);
    Router::new()
        // The title register, 复核 rounds, 联系领导 and each village's history (register.rs)
        .merge(register::routes())
        // Landing pages and probes
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/robots.txt", get(robots))
        .route("/panel", get(panel_home))
        // Signing in and out; one's own password
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/password",
            get(auth::password_form).post(auth::change_password),
        )
        // Campaigns (administrator)
        .route("/admin", get(admin::list_campaigns))
        .route(
            "/admin/campaigns",
            post(admin::create_campaign).layer(upload_form),
        )
        .route("/admin/campaigns/{id}", get(admin::show_campaign))
        // Rosters: handed in by village operators, or by the administrator for a village
        .route(
            "/admin/campaigns/{id}/roster",
            post(admin::upload_roster_for_village).layer(upload_form),
        )
        .route(
            "/admin/campaigns/{id}/villages/{code}/receipt",
            get(admin::show_receipt),
        )
        .route("/village", get(village::village_home))
        .route(
            "/village/campaigns/{id}/roster",
            post(village::upload_roster).layer(upload_form),
        )
        .route(
            "/village/campaigns/{id}/receipt",
            get(village::show_receipt),
        )
        // Application and acceptance (申报与受理), and the village archive (创廉档案)
        .route(
            "/village/campaigns/{id}/application",
            post(applications::submit).layer(upload_form),
        )
        .route(
            "/admin/campaigns/{id}/applications/{code}",
            post(applications::decide),
        )
        .route(
            "/admin/campaigns/{id}/applications-due",
            post(applications::set_due),
        )
        .route(
            "/village/archive",
            get(village_archive::show_village_archive)
                .post(village_archive::upload_report)
                .layer(upload_form),
        )
        .route(
            "/village/archive/{attachment}",
            get(village_archive::village_file),
        )
        .route("/admin/archive", get(village_archive::show_reminders))
        .route(
            "/admin/villages/{code}/archive",
            get(village_archive::show_village_archive_admin),
        )
        .route(
            "/admin/villages/{code}/archive/{attachment}",
            get(village_archive::admin_village_file),
        )
        // Villages and accounts (administrator)
        .route(
            "/admin/villages",
            get(admin::list_villages)
                .post(admin::create_village)
                .layer(upload_form),
        )
        .route(
            "/admin/villages/import",
            post(admin::import_villages).layer(upload_form),
        )
        .route(
            "/admin/accounts",
            get(admin::list_accounts)
                .post(admin::create_account)
                .layer(upload_form),
        )
        .route(
            "/admin/accounts/{id}/reset",
            post(admin::reset_password).layer(upload_form),
        )
        .route(
            "/admin/accounts/{id}/disable",
            post(admin::disable_account).layer(upload_form),
        )
        .route(
            "/admin/accounts/{id}/enable",
            post(admin::enable_account).layer(upload_form),
        )
        .route(
            "/admin/accounts/{id}/unlock",
            post(admin::unlock_account).layer(upload_form),
        )
        // The draw: sample size, frozen rosters, the two-party seed, the published record
        .route("/admin/campaigns/{id}/size-rule", post(draw::set_size_rule))
        .route("/admin/campaigns/{id}/freeze", post(draw::freeze_rosters))
        .route("/admin/campaigns/{id}/draw", post(draw::run_draw))
        .route("/campaigns/{id}/seed-commitment", post(draw::commit_seed))
        .route("/campaigns/{id}/seed", post(draw::enter_seed))
        .route("/campaigns/{id}/draw", get(draw::show_record))
        .route("/campaigns/{id}/draw.json", get(draw::download_record_json))
        .route("/campaigns/{id}/draw.csv", get(draw::download_record_csv))
        // The surveyor's campaign page: sample lists and frozen rosters
        .route("/surveyor", get(surveyor::surveyor_home))
        .route("/surveyor/campaigns/{id}", get(surveyor::show_campaign))
        .route(
            "/surveyor/campaigns/{id}/villages/{code}",
            get(surveyor::show_ranked_list),
        )
        .route(
            "/surveyor/campaigns/{id}/sample.csv",
            get(surveyor::download_sample),
        )
        .route(
            "/surveyor/campaigns/{id}/sample.xlsx",
            get(surveyor::download_sample_xlsx),
        )
        .route(
            "/surveyor/campaigns/{id}/rosters/{code}",
            get(surveyor::download_frozen_roster),
        )
        .route(
            "/surveyor/campaigns/{id}/villages/{code}/roster.xlsx",
            get(surveyor::download_frozen_roster_xlsx),
        )
        // Fieldwork: starting it, the panel and its links, survey links by SMS
        .route(
            "/admin/campaigns/{id}/fieldwork",
            post(fieldwork::start_fieldwork),
        )
        .route(
            "/admin/campaigns/{id}/panel",
            get(fieldwork::show_panel).post(fieldwork::add_panel_member),
        )
        .route(
            "/admin/campaigns/{id}/panel/links",
            post(fieldwork::issue_panel_links),
        )
        .route(
            "/surveyor/campaigns/{id}/outbox",
            post(fieldwork::download_outbox),
        )
        .route(
            "/surveyor/cases/{case}/link",
            post(fieldwork::reissue_case_link),
        )
        // The surveyor's console: cases, call attempts, phone interviews, other software's results
        .route(
            "/surveyor/campaigns/{id}/console",
            get(console::show_console),
        )
        .route(
            "/surveyor/campaigns/{id}/console/{code}",
            get(console::show_village_console),
        )
        .route(
            "/surveyor/campaigns/{id}/cases.csv",
            get(console::download_cases),
        )
        .route(
            "/surveyor/campaigns/{id}/cases.xlsx",
            get(console::download_cases_xlsx),
        )
        .route(
            "/surveyor/campaigns/{id}/results",
            post(console::import_results).layer(upload_form),
        )
        .route(
            "/surveyor/campaigns/{id}/callbacks",
            get(quality::show_callbacks),
        )
        .route(
            "/surveyor/campaigns/{id}/callbacks/{case}",
            post(quality::record_callback),
        )
        .route("/surveyor/cases/{case}", get(console::show_case))
        .route(
            "/surveyor/cases/{case}/attempts",
            post(console::record_attempt),
        )
        .route(
            "/surveyor/cases/{case}/interview",
            get(console::show_interview).post(console::submit_interview),
        )
        // Fieldwork as the administrator follows it: progress, replacement rules, closing
        .route(
            "/admin/campaigns/{id}/progress",
            get(console::show_progress),
        )
        .route("/admin/campaigns/{id}/notice", post(admin::set_notice))
        .route(
            "/admin/campaigns/{id}/replacement-rules",
            post(console::set_replacement_rules),
        )
        .route(
            "/admin/campaigns/{id}/close",
            post(console::close_fieldwork),
        )
        // Survey links for residents and panel members (no account)
        .route(
            "/s/{token}",
            get(survey::show_survey)
                .post(survey::submit_survey)
                .layer(answers),
        )
        .route(
            "/s/{token}/decline",
            get(survey::confirm_decline)
                .post(survey::decline_survey)
                .layer(answers),
        )
        .route("/p/{token}", get(survey::show_panel_home))
        .route(
            "/p/{token}/v/{code}",
            get(survey::show_panel_form)
                .post(survey::submit_panel_form)
                .layer(answers),
        )
        // Results: tallies and grades, item 16, downloads, publicity, objections, approval
        .route("/admin/campaigns/{id}/results", get(results::show_results))
        .route(
            "/admin/campaigns/{id}/results/{code}",
            get(results::show_village_results),
        )
        .route(
            "/admin/campaigns/{id}/results/{code}/grades",
            post(results::save_grades),
        )
        .route(
            "/admin/campaigns/{id}/results/{code}/override",
            post(results::override_item16),
        )
        // Grades from every source side by side, the assessment group's report, and the
        // village's own self-assessment
        .route(
            "/admin/campaigns/{id}/results/{code}/sources",
            post(grade_sources::save_sources),
        )
        .route(
            "/admin/campaigns/{id}/results/{code}/group-report",
            post(grade_sources::save_report).layer(upload_form),
        )
        .route(
            "/admin/campaigns/{id}/results/{code}/group-report/{report}/file",
            get(grade_sources::download_report),
        )
        .route(
            "/village/campaigns/{id}/self-assessment",
            get(grade_sources::show_self_assessment).post(grade_sources::save_self_assessment),
        )
        .route(
            "/admin/campaigns/{id}/downloads/{file}",
            get(results::download_table),
        )
        // Report documents for the file: the town's and each village's, as A4 HTML and .docx
        .route(
            "/admin/campaigns/{id}/report",
            get(report::show_town_report),
        )
        .route(
            "/admin/campaigns/{id}/report.docx",
            get(report::download_town_report),
        )
        .route(
            "/admin/campaigns/{id}/results/{code}/report",
            get(report::show_village_report),
        )
        .route(
            "/admin/campaigns/{id}/results/{code}/report.docx",
            get(report::download_village_report),
        )
        .route(
            "/admin/campaigns/{id}/publicity",
            post(results::publish_results),
        )
        // The publicity notice: where to object is set on the campaign before publication;
        // the notice is stored when publicity starts, shown and downloaded from then on.
        .route(
            "/admin/campaigns/{id}/notice-contact",
            post(admin::set_notice_contact),
        )
        .route(
            "/admin/campaigns/{id}/creation-start",
            post(admin::set_creation_start),
        )
        .route(
            "/admin/campaigns/{id}/publicity/notice",
            get(notice::show_notice),
        )
        .route(
            "/admin/campaigns/{id}/publicity/notice.docx",
            get(notice::download_notice_docx),
        )
        .route(
            "/village/campaigns/{id}/publicity/notice",
            get(notice::show_village_notice),
        )
        .route(
            "/village/campaigns/{id}/publicity/notice.docx",
            get(notice::download_village_notice_docx),
        )
        .route(
            "/admin/campaigns/{id}/objections",
            post(results::add_objection),
        )
        // Objections are decided upheld (属实) or dismissed (不属实), with a reason.
        .route(
            "/admin/campaigns/{id}/objections/{oid}/resolve",
            post(decisions::decide_objection),
        )
        // The proposed list (拟评定名单): adjusted with a reason (restarting publicity once
        // it has started); then per village the 镇纪委's study and the 镇党委's decision.
        .route(
            "/admin/campaigns/{id}/proposed",
            post(decisions::adjust_proposed),
        )
        .route(
            "/admin/campaigns/{id}/title-years",
            post(decisions::set_title_years),
        )
        .route(
            "/admin/campaigns/{id}/decisions/{code}/study",
            post(decisions::record_study),
        )
        .route(
            "/admin/campaigns/{id}/decisions/{code}/decide",
            post(decisions::record_decision),
        )
        .route(
            "/admin/campaigns/{id}/approve",
            post(results::approve_campaign),
        )
        .route(
            "/admin/calendar",
            get(results::show_calendar).post(results::import_calendar),
        )
        .route("/admin/calendar/delete", post(results::delete_calendar_day))
        .route(
            "/village/campaigns/{id}/results",
            get(results::show_own_results),
        )
        // The audit chain (administrator)
        .route("/admin/audit", get(audit::show_audit))
        .route("/admin/audit.csv", get(audit::download_audit))
        // Archive and purge. A POST (with the session's CSRF token): exporting records
        // `archived_at`, which the purge requires, so no link, image or other site's page
        // may trigger it.
        .route(
            "/admin/campaigns/{id}/archive",
            post(archive::export_archive),
        )
        .route("/admin/campaigns/{id}/purge", post(archive::purge_campaign))
        // The JSON API for tools (docs in src/http/api.rs)
        .route("/api/login", post(api::login).layer(upload_body))
        .route("/api/logout", post(api::logout).layer(upload_body))
        .route("/api/campaigns", get(api::list_campaigns))
        .route("/api/campaigns/{id}/rosters", get(api::list_rosters))
        .route("/api/campaigns/{id}/draw", get(api::get_draw_record))
        .route(
            "/api/campaigns/{id}/villages/{code}/roster",
            get(api::get_receipt)
                .put(api::put_roster)
                .post(api::put_roster)
                .layer(upload_body),
        )
        .route(
            "/api/campaigns/{id}/results/{name}",
            get(results::api_table),
        )
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
