//! Security headers on every response: the Content-Security-Policy, HSTS under https, and
//! the browser hardening the pages rely on (no sniffing, no framing, no caching of pages).

use super::AppState;
use super::views::TEMPLATE_FILES;
use crate::config::Config;
use axum::Router;
use axum::http::{HeaderValue, header};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use tower_http::set_header::SetResponseHeaderLayer;

/// HSTS for a year: once a browser has seen the site over https it never tries plain http.
const HSTS: &str = "max-age=31536000";

/// Everything from this origin only; scripts and styles only as shipped in the templates
/// (each inline `<script>` and `<style>` allowed by its SHA-256, so an injected one is
/// ignored; hashes do not cover `style` attributes, so the templates have none); forms post
/// only here; no framing and no `<base>` redirection of relative links.
fn content_security_policy() -> String {
    let hashes = |blocks: Vec<&str>| -> String {
        blocks
            .iter()
            .map(|s| format!(" 'sha256-{}'", inline_hash(s)))
            .collect()
    };
    let scripts = hashes(inline_scripts());
    let styles = hashes(inline_styles());
    format!(
        "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; \
         object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    // Base64 and ASCII keywords always make a valid header; should that ever fail, a policy
    // without the hashes still protects (the pages just lose their helper scripts and styles).
    HeaderValue::from_str(&content_security_policy()).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'self'; object-src 'none'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        )
    })
});

/// The text of every inline `<script>` (one without `src`) in the templates, exactly as the
/// browser hashes it: what lies between `<script…>` and `</script>`.
pub(super) fn inline_scripts() -> Vec<&'static str> {
    inline_blocks("script")
        .filter(|(tag, _)| !tag.contains("src="))
        .map(|(_, body)| body)
        .collect()
}

/// The text of every `<style>` block in the templates, as the browser hashes it.
pub(super) fn inline_styles() -> Vec<&'static str> {
    inline_blocks("style").map(|(_, body)| body).collect()
}

/// Each `<element…>body</element>` in the templates, as (opening tag, body).
fn inline_blocks(element: &str) -> impl Iterator<Item = (&'static str, &'static str)> {
    let open = format!("<{element}");
    let close = format!("</{element}>");
    let mut found = Vec::new();
    for (_, source) in TEMPLATE_FILES {
        let mut rest = source;
        while let Some(at) = rest.find(&open) {
            let after = &rest[at..];
            let Some(open_end) = after.find('>') else {
                break;
            };
            let tag = &after[..open_end];
            let body = &after[open_end + 1..];
            let Some(end) = body.find(&close) else {
                break;
            };
            found.push((tag, &body[..end]));
            rest = &body[end..];
        }
    }
    found.into_iter()
}

/// An inline block's CSP hash: base64 of its SHA-256.
pub(super) fn inline_hash(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// Add the security headers to every response of `router`.
pub(super) fn layer(router: Router<AppState>, config: &Config) -> Router<AppState> {
    let router = router
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            CSP.clone(),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    // Only where the site is really served over https: HSTS on a plain-http address would
    // be ignored by browsers, and on a wrong base URL it would lock people out for a year.
    if config.secure_cookies() {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        router
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inline_script_and_style_is_hashed_into_the_policy_and_holds_no_template_syntax() {
        let scripts = inline_scripts();
        // The seed helper and the survey form's conditional questions.
        assert!(scripts.len() >= 2, "found {} inline scripts", scripts.len());
        let styles = inline_styles();
        // base.html, survey_base.html and the printable panel sheet.
        assert!(styles.len() >= 3, "found {} inline styles", styles.len());
        let policy = content_security_policy();
        for (directive, blocks) in [("script-src", scripts), ("style-src", styles)] {
            let sources = policy
                .split(';')
                .find(|d| d.trim().starts_with(directive))
                .unwrap_or_else(|| panic!("a {directive} directive"));
            for block in blocks {
                // Template syntax inside would make the served text differ from the hashed one.
                assert!(
                    !block.contains("{{") && !block.contains("{%") && !block.contains("{#"),
                    "template syntax in an inline block: {block}"
                );
                assert!(sources.contains(&format!("'sha256-{}'", inline_hash(block))));
            }
        }
        assert!(CSP.to_str().is_ok_and(|v| v == policy));
    }

    #[test]
    fn the_policy_allows_nothing_unsafe() {
        let policy = content_security_policy();
        assert!(!policy.contains("unsafe"), "{policy}");
        assert!(!CSP.to_str().unwrap_or("unsafe").contains("unsafe"));
    }

    #[test]
    fn no_template_has_a_style_attribute() {
        // Hashes cover `<style>` elements only: the policy drops every `style="…"`.
        for (name, source) in TEMPLATE_FILES {
            let lower = source.to_ascii_lowercase();
            for (at, _) in lower.match_indices("style") {
                let before = lower[..at].chars().next_back();
                let follows = lower[at + "style".len()..].trim_start();
                assert!(
                    !(before.is_some_and(char::is_whitespace) && follows.starts_with('=')),
                    "{name}: a style attribute near {:?}",
                    &source[at..(at + 40).min(source.len())]
                );
            }
        }
    }

    #[test]
    fn no_template_has_an_inline_event_handler_or_a_javascript_url() {
        // The policy blocks both (hashes cover `<script>` elements only), so such markup
        // would silently stop working.
        for (name, source) in TEMPLATE_FILES {
            let lower = source.to_ascii_lowercase();
            assert!(!lower.contains("javascript:"), "{name}: a javascript: URL");
            for (at, _) in lower.match_indices(" on") {
                let attribute: String = lower[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                let follows = lower[at + 1 + attribute.len()..].trim_start();
                assert!(
                    !(attribute.len() > 2 && follows.starts_with('=')),
                    "{name}: an inline event handler ({attribute}=)"
                );
            }
        }
    }

    #[test]
    fn an_inline_hash_is_the_base64_sha256_browsers_compute() {
        // The CSP spec's own example: 'sha256-' of "alert('Hello, world.');".
        assert_eq!(
            inline_hash("alert('Hello, world.');"),
            "qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng="
        );
    }
}
