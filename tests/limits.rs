//! Rate limits (issue 7): failed logins per account and requests per link, not per address
//! (every test client here shares 127.0.0.1, as people behind a carrier's NAT do).

mod common;

use common::*;

async fn try_login(app: &TestApp, username: &str, password: &str) -> u16 {
    let c = client();
    let (_, page) = get_text(&c, &format!("{}/login", app.base)).await;
    let csrf = csrf_in(&page);
    post_form(
        &c,
        &format!("{}/login", app.base),
        &csrf,
        &[("username", username), ("password", password)],
    )
    .await
    .0
}

#[tokio::test]
async fn ten_failed_logins_lock_that_account_only() {
    let app = spawn().await;
    town(&app).await;
    for _ in 0..10 {
        assert_eq!(try_login(&app, "admin", "not-the-password").await, 401);
    }
    // Even the right password is refused now, without being checked.
    assert_eq!(try_login(&app, "ADMIN", "commission-2026-key").await, 429);
    let r = client()
        .post(format!("{}/api/login", app.base))
        .json(&serde_json::json!({"username": "admin", "password": "commission-2026-key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Another account from the same address is not affected.
    another_account_logs_in(&app).await;
    let events = app.db.audit_entries(1, 1000).await.unwrap();
    assert_eq!(
        events.iter().filter(|e| e.event == "login.failure").count(),
        10
    );
}

async fn another_account_logs_in(app: &TestApp) {
    let hash = minyi::secrets::hash_password("second-password-2026").unwrap();
    app.db
        .create_account(&minyi::db::NewAccount {
            username: "second",
            display_name: "第二位",
            role: minyi::domain::Role::Surveyor,
            village_id: None,
            password_hash: &hash,
            must_change_password: false,
        })
        .await
        .unwrap();
    assert_eq!(try_login(app, "second", "second-password-2026").await, 303);
}

#[tokio::test]
async fn a_link_opened_too_often_is_refused_and_other_links_still_work() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let tokens: Vec<String> = invitations(&app, &sv, t.campaign)
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    let c = client();
    let first = format!("{}/s/{}", app.base, tokens[0]);
    for _ in 0..minyi::http::limit::LINK_REQUESTS {
        assert_eq!(get_text(&c, &first).await.0, 200);
    }
    assert_eq!(get_text(&c, &first).await.0, 429);
    assert_eq!(
        get_text(&c, &format!("{}/s/{}", app.base, tokens[1]))
            .await
            .0,
        200
    );
}
