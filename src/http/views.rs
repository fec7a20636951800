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
pub(super) const TEMPLATE_FILES: [(&str, &str); 38] = template_files![
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
    /// What `base.html` shows of them: `id`, `display_name`, `role`, `role_label`.
    fn page_user(&self) -> Value;
    /// The session's CSRF token, echoed by every form.
    fn page_csrf(&self) -> String;
}

/// Render a page for a logged-in person: adds who they are and the CSRF token for forms.
pub fn page(user: &impl Viewer, name: &str, ctx: Value) -> Html<String> {
    render(
        name,
        context! {
            user => user.page_user(),
            csrf => user.page_csrf(),
            ..ctx
        },
    )
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
