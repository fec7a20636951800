//! Security headers through HTTP: the Content-Security-Policy on pages, downloads and
//! errors (every inline script hashed into it), HSTS only when the base URL is https, and
//! the session cookie: ends with the browser, `__Host-` under https.

mod common;

use base64::Engine;
use common::*;
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
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<script") {
        let after = &rest[at..];
        let open_end = after.find('>').expect("a closed script tag");
        let body = &after[open_end + 1..];
        let close = body.find("</script>").expect("a script end");
        if !after[..open_end].contains("src=") {
            found.push(&body[..close]);
        }
        rest = &body[close..];
    }
    found
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
}

#[tokio::test]
async fn pages_downloads_and_errors_carry_a_policy_that_allows_only_hashed_inline_scripts() {
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
        for script in inline_scripts(&page) {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
            assert!(
                directive(&csp, "script-src").contains(&format!("'sha256-{hash}'").as_str()),
                "{path}: an inline script the policy does not allow: {script}"
            );
            checked_scripts += 1;
        }
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
    let scripts = inline_scripts(&page);
    assert!(!scripts.is_empty(), "the survey form has its script");
    for script in scripts {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
        assert!(directive(&csp, "script-src").contains(&format!("'sha256-{hash}'").as_str()));
    }
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
