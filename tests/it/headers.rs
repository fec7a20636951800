//! Security headers through HTTP: the Content-Security-Policy on pages, downloads and
//! errors (every inline script and style hashed into it, nothing unsafe), HSTS only when the
//! base URL is https, and the session cookie: ends with the browser, `__Host-` under https;
//! the same promises from the real `minyi serve` binary, and its archive export POST-only.

use crate::common;

use base64::Engine;
use common::*;
use minyi::ids::CampaignId;
use sha2::{Digest, Sha256};

fn csp_of(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The policy's directives, each as its name and sources.
fn directive<'a>(csp: &'a str, name: &str) -> Vec<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
        .map(|d| d.split_whitespace().skip(1).collect())
        .unwrap_or_default()
}

/// The text of every `<script>` without `src` in `html`.
fn inline_scripts(html: &str) -> Vec<&str> {
    inline_blocks(html, "script")
        .into_iter()
        .filter(|(tag, _)| !tag.contains("src="))
        .map(|(_, body)| body)
        .collect()
}

/// The text of every `<style>` block in `html`.
fn inline_styles(html: &str) -> Vec<&str> {
    inline_blocks(html, "style")
        .into_iter()
        .map(|(_, body)| body)
        .collect()
}

/// Each `<element…>body</element>` in `html`, as (opening tag, body).
fn inline_blocks<'a>(html: &'a str, element: &str) -> Vec<(&'a str, &'a str)> {
    let (open, close) = (format!("<{element}"), format!("</{element}>"));
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at..];
        let open_end = after.find('>').expect("a closed tag");
        let body = &after[open_end + 1..];
        let end = body.find(&close).expect("an end tag");
        found.push((&after[..open_end], &body[..end]));
        rest = &body[end..];
    }
    found
}

/// Every inline script and style of `page` is allowed by its hash; how many there were.
fn assert_hashed(what: &str, csp: &str, page: &str) -> usize {
    let mut checked = 0;
    for (directive_name, blocks) in [
        ("script-src", inline_scripts(page)),
        ("style-src", inline_styles(page)),
    ] {
        for block in blocks {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(block));
            assert!(
                directive(csp, directive_name).contains(&format!("'sha256-{hash}'").as_str()),
                "{what}: an inline block the policy's {directive_name} does not allow: {block}"
            );
            checked += 1;
        }
    }
    checked
}

/// The policy every response must carry, whatever it is.
fn assert_strict(what: &str, csp: &str) {
    assert_eq!(directive(csp, "default-src"), ["'self'"], "{what}: {csp}");
    assert_eq!(directive(csp, "form-action"), ["'self'"], "{what}: {csp}");
    assert_eq!(
        directive(csp, "frame-ancestors"),
        ["'none'"],
        "{what}: {csp}"
    );
    assert_eq!(directive(csp, "base-uri"), ["'none'"], "{what}: {csp}");
    let scripts = directive(csp, "script-src");
    assert!(
        scripts
            .iter()
            .all(|s| *s == "'self'" || s.starts_with("'sha256-")),
        "{what}: scripts only from this origin or by hash: {csp}"
    );
    let styles = directive(csp, "style-src");
    assert!(
        styles
            .iter()
            .all(|s| *s == "'self'" || s.starts_with("'sha256-")),
        "{what}: styles only from this origin or by hash: {csp}"
    );
    assert!(!csp.contains("unsafe"), "{what}: nothing unsafe: {csp}");
}

#[tokio::test]
async fn pages_downloads_and_errors_carry_a_policy_that_allows_only_hashed_inline_scripts_and_styles()
 {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let (admin, _) = &t.admin;
    let base = &app.base;
    let mut checked_scripts = 0;
    for (path, status) in [
        ("/login", 200),
        (&format!("/admin/campaigns/{}", t.campaign) as &str, 200),
        ("/admin/audit.csv", 200),
        ("/robots.txt", 200),
        ("/no/such/page", 404),
        ("/admin/campaigns/999999", 404),
    ] {
        let r = admin.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        let csp = csp_of(&r);
        assert_strict(path, &csp);
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}: no HSTS on a plain-http base URL"
        );
        let page = r.text().await.unwrap();
        checked_scripts += inline_scripts(&page).len();
        assert_hashed(path, &csp, &page);
    }
    // The campaign page holds the seed helper, which must run under the policy.
    assert!(checked_scripts >= 1, "no inline script was checked");

    // The survey form's script too, on a respondent's page.
    let sv = surveyor(&app, &t).await;
    freeze_draw_and_start(&app, &t).await;
    let links = invitations(&app, &sv, t.campaign).await;
    let r = client()
        .get(format!("{base}/s/{}", links[0].1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = csp_of(&r);
    assert_strict("/s/{token}", &csp);
    let page = r.text().await.unwrap();
    assert!(
        !inline_scripts(&page).is_empty(),
        "the survey form has its script"
    );
    assert!(!inline_styles(&page).is_empty(), "and its style");
    assert_hashed("/s/{token}", &csp, &page);
}

/// The first `Set-Cookie` named `name`, whole.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(String::from)
}

/// Neither `Max-Age` nor `Expires`: the cookie ends with the browser.
fn assert_session_only(cookie: &str) {
    let lower = cookie.to_ascii_lowercase();
    assert!(
        !lower.contains("max-age") && !lower.contains("expires"),
        "{cookie}"
    );
}

#[tokio::test]
async fn under_https_responses_carry_hsts_and_the_session_cookie_is_host_prefixed_and_ends_with_the_browser()
 {
    let app = spawn_with(|c| c.base_url = "https://mydc.tjf.gov.cn".into()).await;
    let base = &app.base;
    // By hand: a cookie store would not send Secure cookies over the test's plain http.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000",
        "HSTS under https"
    );
    assert_strict("/login", &csp_of(&r));
    let login_cookie =
        set_cookie(&r, "__Host-minyi_login_csrf").expect("a __Host- login CSRF cookie");
    for attribute in ["Secure", "Path=/", "HttpOnly"] {
        assert!(login_cookie.contains(attribute), "{login_cookie}");
    }
    assert!(!login_cookie.contains("Domain"), "{login_cookie}");
    let login_token = login_cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap();
    let page = r.text().await.unwrap();
    let csrf = csrf_in(&page);
    let r = c
        .post(format!("{base}/login"))
        .header("cookie", format!("__Host-minyi_login_csrf={login_token}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "admin"),
            ("password", app.admin_password.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login under https");
    assert!(r.headers().get("strict-transport-security").is_some());
    assert!(
        set_cookie(&r, "minyi_session").is_none(),
        "no unprefixed cookie"
    );
    let cookie = set_cookie(&r, "__Host-minyi_session").expect("a __Host- session cookie");
    for attribute in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert_session_only(&cookie);
    let token = cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap();
    // The session is read under its prefixed name only.
    let r = c
        .get(format!("{base}/password"))
        .header("cookie", format!("__Host-minyi_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the __Host- cookie opens the session");
    let r = c
        .get(format!("{base}/password"))
        .header("cookie", format!("minyi_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "an unprefixed cookie is not the session");
}

#[tokio::test]
async fn over_plain_http_the_session_cookie_still_ends_with_the_browser() {
    let app = spawn().await;
    let r = login(&client(), &app.base, "admin", &app.admin_password).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers().get("strict-transport-security").is_none());
    let cookie = set_cookie(&r, "minyi_session").expect("session cookie");
    assert_session_only(&cookie);
    assert!(!cookie.contains("Secure"), "{cookie}");
}

/// A fresh database with its administrator and one campaign: (URL, one-time password,
/// campaign id).
async fn database_with_admin(dir: &std::path::Path) -> (String, String, CampaignId) {
    let url = fresh_database_url(dir).await;
    let db = minyi::db::Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let once = minyi::http::bootstrap_admin(&db)
        .await
        .expect("bootstrap")
        .expect("first start creates admin");
    let campaign = db
        .create_campaign("2026年验收", "唐家坊镇", 2026)
        .await
        .expect("campaign");
    db.close().await;
    (url, once, campaign)
}

/// The `name=value` part of a `Set-Cookie`.
fn pair(cookie: &str) -> String {
    cookie.split(';').next().unwrap_or_default().to_string()
}

/// Log in through the form by hand (a cookie store would not send `Secure` cookies over the
/// test's plain http), with cookies named `{prefix}minyi_…`; the login's response.
async fn login_by_hand(
    c: &reqwest::Client,
    base: &str,
    prefix: &str,
    password: &str,
) -> reqwest::Response {
    let r = c.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie =
        set_cookie(&r, &format!("{prefix}minyi_login_csrf")).expect("a login CSRF cookie");
    let csrf = csrf_in(&r.text().await.unwrap());
    c.post(format!("{base}/login"))
        .header("cookie", pair(&login_cookie))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "admin"),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_binary_behind_https_sends_the_policy_hsts_a_host_cookie_and_no_archive_on_get() {
    let dir = tempfile::tempdir().unwrap();
    let (url, once, campaign) = database_with_admin(dir.path()).await;
    let server = ServerProcess::start_behind(
        &url,
        &dir.path().join("server.log"),
        "https://mydc.example.org",
    )
    .await;
    let base = &server.base;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/login", "/healthz", "/no/such/page"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        let csp = csp_of(&r);
        assert!(!csp.is_empty(), "{path}: a policy");
        assert_strict(path, &csp);
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}: HSTS under an https base URL"
        );
        let page = r.text().await.unwrap();
        assert_hashed(path, &csp, &page);
    }

    let r = login_by_hand(&c, base, "__Host-", &once).await;
    assert_eq!(r.status(), 303, "login with the one-time password");
    assert!(
        set_cookie(&r, "minyi_session").is_none(),
        "no unprefixed cookie"
    );
    let cookie = set_cookie(&r, "__Host-minyi_session").expect("a __Host- session cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert_session_only(&cookie);
    let session = pair(&cookie);

    // A full administrator: the one-time password replaced.
    let r = c
        .get(format!("{base}/password"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csrf = csrf_in(&r.text().await.unwrap());
    let r = c
        .post(format!("{base}/password"))
        .header("cookie", &session)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("current", once.as_str()),
            ("new", "commission-2026-key"),
            ("repeat", "commission-2026-key"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "password change");

    // Exporting the archive records it (the purge requires that): never on a GET.
    for path in [
        format!("/admin/campaigns/{campaign}/archive"),
        format!("/admin/campaigns/{campaign}/archive.zip"),
    ] {
        let r = c
            .get(format!("{base}{path}"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "GET {path}: {}", r.status());
        assert_strict(&path, &csp_of(&r));
    }
    let r = c
        .get(format!("{base}/admin/campaigns/{campaign}/archive"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405, "the export is POST-only");
    let db = minyi::db::Db::connect(&url).await.unwrap();
    assert_eq!(
        db.archive_state(campaign).await.unwrap(),
        (None, None),
        "nothing archived or purged"
    );
    db.close().await;
}

#[tokio::test]
async fn the_binary_on_plain_http_sends_the_policy_without_hsts_and_a_session_only_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let (url, once, _) = database_with_admin(dir.path()).await;
    let server = ServerProcess::start(&url, &dir.path().join("server.log")).await;
    let base = &server.base;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/login", "/healthz", "/no/such/page"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        let csp = csp_of(&r);
        assert!(!csp.is_empty(), "{path}: a policy");
        assert_strict(path, &csp);
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}: no HSTS on a plain-http base URL"
        );
    }
    let r = login_by_hand(&c, base, "", &once).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers().get("strict-transport-security").is_none());
    let cookie = set_cookie(&r, "minyi_session").expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert_session_only(&cookie);
}
