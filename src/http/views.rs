//! HTML templates (minijinja, auto-escaped), compiled into the binary.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Html;
use axum::response::Response;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use std::cell::Cell;
use std::sync::LazyLock;

/// Every template file, compiled into the binary.
macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

/// (file name, source) of every template.
pub(super) const TEMPLATE_FILES: [(&str, &str); 49] = template_files![
    "base.html",
    "base_url_banner.html",
    "error.html",
    "login.html",
    "password.html",
    "placeholder.html",
    "admin_campaigns.html",
    "admin_campaign.html",
    "admin_villages.html",
    "admin_accounts.html",
    "admin_panel.html",
    "village_home.html",
    "receipt.html",
    "draw_record.html",
    "seed_forms.html",
    "surveyor_home.html",
    "surveyor_campaign.html",
    "surveyor_village.html",
    "panel_sheet.html",
    "panel_home.html",
    "survey_base.html",
    "survey_status.html",
    "survey_form.html",
    "survey_decline.html",
    "console.html",
    "console_village.html",
    "console_case.html",
    "case_card.html",
    "attempt_form.html",
    "progress.html",
    "import_result.html",
    "results.html",
    "results_village.html",
    "rates_table.html",
    "village_results.html",
    "calendar.html",
    "audit.html",
    "link_reissued.html",
    "quality_flags.html",
    "callbacks.html",
    "report_town.html",
    "report_village.html",
    "publicity_notice.html",
    "admin_titles.html",
    "village_history.html",
    "village_self_assessment.html",
    "village_archive.html",
    "admin_archive.html",
    "admin_village_archive.html",
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A variable the handler did not pass is an error, not an empty string: a typo or a
    // forgotten field must not render a page with a hole in it. Optional values are tested
    // with `is defined` or given a `default`.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // `.html` templates are HTML-escaped automatically (minijinja's default for that suffix).
    for (name, source) in TEMPLATE_FILES {
        if let Err(e) = env.add_template(name, source) {
            // A broken template is a programming error caught by the test suite.
            panic!("template {name} does not compile: {e:#}");
        }
    }
    env
});

/// Any serialisable value, for a template context.
pub fn ser<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

tokio::task_local! {
    /// Set when a template failed while answering the current request.
    static RENDER_FAILED: Cell<bool>;
}

/// Render a template; a rendering failure is logged and shown as a plain error page, which
/// [`answer_render_failures_with_500`] sends with status 500.
pub fn render(name: &str, ctx: Value) -> Html<String> {
    match TEMPLATES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(template = name, error = format!("{e:#}"), "template failed");
            // Outside a request (the CLI, unit tests) there is no status to set.
            let _ = RENDER_FAILED.try_with(|failed| failed.set(true));
            Html(RENDER_FAILED_PAGE.into())
        }
    }
}

/// What a person sees when a page could not be rendered.
const RENDER_FAILED_PAGE: &str = "<!doctype html><meta charset=utf-8><p>系统错误,请稍后重试。</p>";

/// Middleware: a response whose page failed to render goes out as 500, whatever status the
/// handler chose, so the failure is seen as one by people, proxies and the request log.
pub async fn answer_render_failures_with_500(request: Request, next: Next) -> Response {
    RENDER_FAILED
        .scope(Cell::new(false), async move {
            let mut response = next.run(request).await;
            if RENDER_FAILED.with(Cell::get) {
                *response.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            }
            response
        })
        .await
}

/// Someone a page is rendered for: the logged-in user (`auth::CurrentUser`).
pub trait Viewer {
    /// What `base.html` shows of them.
    fn page_user(&self) -> PageUser;
    /// The session's CSRF token, echoed by every form.
    fn page_csrf(&self) -> String;
}

/// The logged-in person as `base.html` shows them (name, role, the role's navigation).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageUser {
    pub id: crate::ids::AccountId,
    pub display_name: String,
    /// `Role::as_str`: picks the navigation links.
    pub role: &'static str,
    pub role_label: &'static str,
}

/// What `base.html` reads on every logged-in page besides the page's own fields; flattened
/// into each typed page by [`show`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Chrome {
    pub user: PageUser,
    /// The session's CSRF token, echoed by every form.
    pub csrf: String,
}

impl Chrome {
    pub fn of(user: &impl Viewer) -> Chrome {
        Chrome {
            user: user.page_user(),
            csrf: user.page_csrf(),
        }
    }
}

/// A page's variables written down as one type: its template may read these fields (and, on
/// a logged-in page, those of [`Chrome`]) and nothing else. Strict undefined behaviour makes
/// any other name a rendering failure, which each page's sample test (every `Option` set,
/// every list filled) catches before a person sees it.
pub trait Page: serde::Serialize {
    /// The template file that renders it.
    const TEMPLATE: &'static str;
}

/// A page with the chrome of the logged-in layout flattened in beside its own fields.
#[derive(serde::Serialize)]
struct WithChrome<'a, P> {
    #[serde(flatten)]
    chrome: Chrome,
    #[serde(flatten)]
    page: &'a P,
}

/// Render a typed page for a logged-in person (who they are and the CSRF token are added).
pub fn show<P: Page>(user: &impl Viewer, page: &P) -> Html<String> {
    render(
        P::TEMPLATE,
        ser(&WithChrome {
            chrome: Chrome::of(user),
            page,
        }),
    )
}

/// Render a typed page for someone not logged in (a respondent following a survey link).
pub fn show_public<P: Page>(page: &P) -> Html<String> {
    render(P::TEMPLATE, ser(page))
}

/// Render a page for a logged-in person: adds who they are and the CSRF token for forms.
/// The smaller pages still pass a `context!`; the big ones are typed [`Page`]s ([`show`]).
pub fn page(user: &impl Viewer, name: &str, ctx: Value) -> Html<String> {
    render(
        name,
        context! {
            user => ser(&user.page_user()),
            csrf => user.page_csrf(),
            ..ctx
        },
    )
}

/// Rendering typed sample pages in unit tests: a failure is returned with minijinja's
/// message (which names the template, line and variable) rather than the plain error page.
#[cfg(test)]
pub(crate) mod samples {
    use super::*;

    /// The chrome of a sample administrator.
    pub fn chrome() -> Chrome {
        Chrome {
            user: PageUser {
                id: crate::ids::AccountId(7),
                display_name: "样例管理员".into(),
                role: "admin",
                role_label: "镇纪委",
            },
            csrf: "csrf-sample-token".into(),
        }
    }

    /// Render `page` as a logged-in page under the strict environment.
    pub fn render<P: Page>(page: &P) -> Result<String, minijinja::Error> {
        TEMPLATES
            .get_template(P::TEMPLATE)?
            .render(ser(&WithChrome {
                chrome: chrome(),
                page,
            }))
    }

    /// Render `page` without chrome (a respondent's page) under the strict environment.
    pub fn render_public<P: Page>(page: &P) -> Result<String, minijinja::Error> {
        TEMPLATES.get_template(P::TEMPLATE)?.render(ser(page))
    }

    /// Render, failing the test with minijinja's message; the HTML on success.
    #[track_caller]
    pub fn rendered<P: Page>(page: &P) -> String {
        render(page).unwrap_or_else(|e| panic!("{}", failure::<P>(&e)))
    }

    /// [`rendered`] for a page without chrome.
    #[track_caller]
    pub fn rendered_public<P: Page>(page: &P) -> String {
        render_public(page).unwrap_or_else(|e| panic!("{}", failure::<P>(&e)))
    }

    /// The error with its causes: a failure inside an included template is a cause.
    fn failure<P: Page>(e: &minijinja::Error) -> String {
        let mut text = format!("{} does not render its page struct: {e:#}", P::TEMPLATE);
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            text.push_str(&format!("\n  caused by: {c:#}"));
            cause = c.source();
        }
        text
    }

    /// A seed state: entered (`seed`), or only committed to (`commitment`), or neither.
    pub fn seed_state(seed: bool, commitment: bool) -> crate::db::SeedState {
        crate::db::SeedState {
            commitment: commitment.then(|| "c0mmitmentsample".into()),
            committed_at: commitment.then_some(1_780_050_000),
            seed: seed.then(|| "seedsample-4-6-1-2-3-5".into()),
            source: seed.then(|| "reveal".into()),
            entered_at: seed.then_some(1_780_150_000),
        }
    }

    /// A campaign with every optional field set.
    pub fn campaign(state: crate::domain::CampaignState) -> crate::db::Campaign {
        crate::db::Campaign {
            id: crate::ids::CampaignId(41),
            name: "样例轮次二〇二六".into(),
            town: "样例镇".into(),
            year: 2026,
            state,
            created_at: 1_780_000_000,
            frozen_at: Some(1_780_100_000),
            frame_fingerprint: Some("f1ngerpr1nt".into()),
            size_rule: "{}".into(),
            fieldwork_started_at: Some(1_780_200_000),
            demo: true,
            creation_started_on: Some("2025-03-01".into()),
        }
    }

    /// A notice to respondents with every field filled.
    pub fn notice() -> crate::db::Notice {
        crate::db::Notice {
            party: "样例调查公司".into(),
            phone: "0739-0000000".into(),
            source: "样例号码来源".into(),
            retention: "样例保存期限".into(),
            contact: "样例联系方式".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/templates"))
            .unwrap()
            .count();
        assert_eq!(
            TEMPLATES.templates().count(),
            files,
            "a template file is not registered"
        );
    }

    #[test]
    fn an_undefined_variable_fails_rendering() {
        let mut env = TEMPLATES.clone();
        env.add_template("probe.html", "<p>{{ missing }}</p>")
            .unwrap();
        let err = env
            .get_template("probe.html")
            .unwrap()
            .render(context! {})
            .expect_err("strict");
        assert_eq!(err.kind(), minijinja::ErrorKind::UndefinedError);
        // Through `render`, the same failure is the plain error page, not a panic.
        let html = render("error.html", context! { heading => "x" });
        assert_eq!(html.0, RENDER_FAILED_PAGE);
    }

    #[tokio::test]
    async fn a_page_that_fails_to_render_is_answered_500() {
        use axum::routing::get;
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/ok",
                get(|| async { render("error.html", context! { heading => "h", detail => "d" }) }),
            )
            .route(
                "/broken",
                get(|| async { render("error.html", context! { heading => "h" }) }),
            )
            .layer(axum::middleware::from_fn(answer_render_failures_with_500));
        for (path, status) in [("/ok", 200), ("/broken", 500)] {
            let request = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), status, "{path}");
        }
    }

    #[test]
    fn values_are_html_escaped() {
        let html = render(
            "error.html",
            context! { heading => "<script>x</script>", detail => "a&b" },
        );
        assert!(!html.0.contains("<script>x"));
        assert!(html.0.contains("&lt;script&gt;"));
    }
}
