//! HTML templates (minijinja, auto-escaped), compiled into the binary.

use axum::response::Html;
use minijinja::{Environment, Value, context};
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

/// Render a template; a rendering failure is logged and shown as a plain error page.
pub fn render(name: &str, ctx: Value) -> Html<String> {
    match TEMPLATES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(template = name, error = format!("{e:#}"), "template failed");
            Html("<!doctype html><meta charset=utf-8><p>系统错误,请稍后重试。</p>".into())
        }
    }
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
    fn values_are_html_escaped() {
        let html = render(
            "error.html",
            context! { heading => "<script>x</script>", detail => "a&b" },
        );
        assert!(!html.0.contains("<script>x"));
        assert!(html.0.contains("&lt;script&gt;"));
    }
}
