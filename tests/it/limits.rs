//! Staying up under abuse, through the real HTTP interface: bounded password checks, delays
//! per account after failed logins (made-up names never delay anyone; an administrator or a
//! reset lifts them), and request limits per link whose tables guesses cannot grow. Not per
//! address: every test client here shares 127.0.0.1, as people behind a carrier's NAT do.

use crate::common;

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

/// An `/api/login` attempt: (status, `Retry-After` in seconds).
async fn api_login(base: &str, username: &str, password: &str) -> (u16, Option<u64>) {
    let r = client()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status().as_u16(), retry)
}

/// `n` API logins at once, each with its own connection; their statuses.
async fn parallel_api_logins(app: &TestApp, n: usize, username: &str) -> Vec<(u16, Option<u64>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (base, username) = (app.base.clone(), username.to_string());
        tasks.spawn(async move { api_login(&base, &username, &format!("wrong-{i}")).await });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn a_burst_of_wrong_logins_for_one_account_checks_few_passwords_and_then_lets_the_owner_in() {
    use minyi::rate_limit::{LOGIN_BASE_DELAY, LOGIN_FREE};
    let app = spawn().await;
    let (_c, _) = admin_client(&app).await;
    let before = app.limits.hashing.checks();
    let statuses = parallel_api_logins(&app, 100, "admin").await;
    let checks = app.limits.hashing.checks() - before;
    // Counted before the check: only the free attempts reach argon2, not 100.
    assert!(
        (1..=u64::from(LOGIN_FREE)).contains(&checks),
        "{checks} password checks for 100 parallel wrong logins"
    );
    let wrong = statuses.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(wrong as u64, checks, "{statuses:?}");
    for (status, retry) in &statuses {
        // (503 only if this machine is so loaded that a turn took over two seconds)
        assert!(matches!(status, 401 | 429 | 503), "{statuses:?}");
        if *status == 429 {
            assert!(retry.is_some_and(|r| (1..=LOGIN_BASE_DELAY.as_secs() + 1).contains(&r)));
        }
    }
    // However long the burst took (PostgreSQL on a loaded machine can outlast the first
    // delay), and however few of its attempts got a turn (a loaded machine turns some away
    // with 503 before they count), wrong attempts go on counting until the account is
    // delayed; the first one counted after a delay starts a fresh, longer one (2 s or more).
    let deadline =
        std::time::Instant::now() + 4 * LOGIN_BASE_DELAY + std::time::Duration::from_secs(6);
    let mut delayed = false;
    let counted_from = loop {
        // The failure is counted no earlier than the request is sent.
        let sent = std::time::Instant::now();
        let (status, _) = api_login(&app.base, "admin", "wrong-again").await;
        match status {
            401 if delayed => break sent,
            429 => delayed = true,
            401 | 503 => {}
            other => panic!("a wrong attempt answered {other}"),
        }
        assert!(std::time::Instant::now() < deadline, "the delay ends");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // The owner is delayed, told for how long, and gets in once that time has passed.
    let c = client();
    let r = login(&c, &app.base, "admin", "commission-2026-key").await;
    if r.status() == 303 {
        // Only on a machine so loaded that the wrong attempt's password check outlasted
        // the delay: then the delay must indeed be over.
        assert!(
            counted_from.elapsed() >= 2 * LOGIN_BASE_DELAY,
            "let in {:?} after a counted failure",
            counted_from.elapsed()
        );
        return;
    }
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains("秒后再试") && page.contains("解除锁定"),
        "{page}"
    );
    assert!(!page.contains("重置密码"), "{page}");
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    let r = login(&c, &app.base, "admin", "commission-2026-key").await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn made_up_or_differently_spelt_names_never_delay_anyone() {
    use minyi::rate_limit::LOGIN_FREE;
    let app = spawn().await;
    let (_c, _) = admin_client(&app).await;
    for name in ["ADMIN ", "Admin", "nobody"] {
        for _ in 0..LOGIN_FREE * 3 {
            // The same answer as a wrong password, never a delay…
            assert_eq!(
                api_login(&app.base, name, "guess").await,
                (401, None),
                "{name:?}"
            );
        }
    }
    assert_eq!(try_login(&app, "nobody ", "guess").await, 401);
    // …each still costs a password check (against the dummy hash), so timing tells nothing…
    assert_eq!(
        app.limits.hashing.checks(),
        // admin_client's login (its password change is not a login) and the attempts above
        1 + 3 * 3 * u64::from(LOGIN_FREE) + 1
    );
    // …and the real administrator was not delayed by any of it.
    assert_eq!(try_login(&app, "admin", "commission-2026-key").await, 303);
    assert_eq!(
        app.db.login_throttle_rows().await.unwrap(),
        0,
        "no entry for made-up names"
    );
}

#[tokio::test]
async fn an_administrator_unlocks_an_account_and_a_reset_unlocks_it() {
    use minyi::rate_limit::LOGIN_FREE;
    let app = spawn().await;
    let (admin, csrf) = admin_client(&app).await;
    let id = second_account(&app.db).await;
    let lock = || async {
        for _ in 0..LOGIN_FREE {
            assert_eq!(try_login(&app, "second", "wrong-password").await, 401);
        }
        assert_eq!(try_login(&app, "second", "second-password-2026").await, 429);
    };
    lock().await;
    let (_, page) = get_text(&admin, &format!("{}/admin/accounts", app.base)).await;
    assert!(
        page.contains(&format!("/admin/accounts/{id}/unlock")),
        "{page}"
    );
    let (status, _, _) = post_form(
        &admin,
        &format!("{}/admin/accounts/{id}/unlock", app.base),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get_text(&admin, &format!("{}/admin/accounts", app.base)).await;
    assert!(!page.contains(&format!("/admin/accounts/{id}/unlock")));
    assert_eq!(try_login(&app, "second", "second-password-2026").await, 303);
    let events = app.db.audit_entries(1, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.event == "account.unlock"));

    lock().await;
    let (status, page, _) = post_form(
        &admin,
        &format!("{}/admin/accounts/{id}/reset", app.base),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let once = one_time_password_in(&page);
    assert_eq!(try_login(&app, "second", &once).await, 303);
}

#[tokio::test]
async fn password_checks_never_run_more_at_once_than_the_gate_allows_and_real_users_get_in() {
    let app = spawn().await;
    let (_c, _) = admin_client(&app).await;
    let before = app.limits.hashing.checks();
    let flood = {
        let app_base = app.base.clone();
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..200 {
                let base = app_base.clone();
                tasks.spawn(async move { api_login(&base, "nobody", &format!("w{i}")).await });
            }
            tasks.join_all().await
        })
    };
    // A real user logging in meanwhile gets a turn (made-up names cannot hold the last one).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let real = try_login(&app, "admin", "commission-2026-key").await;
    let statuses = flood.await.unwrap();
    let gate = &app.limits.hashing;
    if gate.size() >= 2 {
        assert_eq!(real, 303);
    }
    assert!(
        gate.peak() >= 1 && gate.peak() <= gate.size(),
        "peak {}",
        gate.peak()
    );
    let wrong = statuses.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(
        wrong as u64 + u64::from(real == 303),
        gate.checks() - before
    );
    for (status, retry) in &statuses {
        match status {
            401 => {}
            503 => assert!(retry.is_some_and(|r| r >= 1)),
            other => panic!("unexpected {other}"),
        }
    }
}

#[tokio::test]
async fn parallel_reservations_in_the_database_pass_only_the_free_ones() {
    use minyi::rate_limit::{LOGIN_BASE_DELAY, LOGIN_FREE, LoginGuard};
    let app = spawn().await;
    let admin = app
        .db
        .account_by_username("admin")
        .await
        .unwrap()
        .unwrap()
        .id;
    let second = second_account(&app.db).await;
    let g = std::sync::Arc::new(LoginGuard::default());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (g, db) = (g.clone(), app.db.clone());
        tasks.spawn(async move { g.reserve(&db, second).await.unwrap().is_ok() });
    }
    let passed = tasks.join_all().await.into_iter().filter(|ok| *ok).count();
    assert_eq!(passed, LOGIN_FREE as usize);
    let wait = g.waiting(&app.db, second).await.unwrap();
    assert!(wait.is_some_and(|w| w <= LOGIN_BASE_DELAY), "{wait:?}");
    assert_eq!(g.delayed(&app.db).await.unwrap(), vec![second]);
    // Another account is not affected; unlocking lifts the delay.
    assert!(g.reserve(&app.db, admin).await.unwrap().is_ok());
    minyi::ops::accounts::unlock(&app.db, &minyi::ops::Actor::cli(), second)
        .await
        .unwrap();
    assert!(g.waiting(&app.db, second).await.unwrap().is_none());
    assert!(g.reserve(&app.db, second).await.unwrap().is_ok());
    // Nothing is over yet, so pruning keeps both rows.
    assert_eq!(g.prune(&app.db).await.unwrap(), 0);
    assert_eq!(app.db.login_throttle_rows().await.unwrap(), 2);
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
    for _ in 0..minyi::rate_limit::LINK_REQUESTS {
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

#[tokio::test]
async fn a_flood_of_unknown_tokens_creates_no_entries_and_the_server_keeps_answering() {
    const FLOOD: usize = 200_000;
    const WORKERS: usize = 64;
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let token = invitations(&app, &sv, t.campaign).await[0].1.clone();
    let known = format!("{}/s/{token}", app.base);
    let opened_at = std::time::Instant::now();
    assert_eq!(get_text(&client(), &known).await.0, 200);
    // The table holds the real link's entry alone, until its window ends: on a loaded machine
    // the flood can outlast the window, and the timer then prunes the entry.
    let only_the_real_link = |links: usize| {
        links == 1 || (links == 0 && opened_at.elapsed() >= minyi::rate_limit::LINK_WINDOW)
    };
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (base, next, c) = (app.base.clone(), next.clone(), client());
        workers.spawn(async move {
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= FLOOD {
                    return statuses;
                }
                let r = c
                    .get(format!("{base}/s/guess{i:017}"))
                    .send()
                    .await
                    .unwrap();
                *statuses.entry(r.status().as_u16()).or_default() += 1;
            }
        });
    }
    // While the flood runs, the server still answers: health checks and the real link (opened
    // well under its own limit, however long the flood takes on a loaded machine).
    let c = client();
    let mut opened = 1;
    while next.load(std::sync::atomic::Ordering::Relaxed) < FLOOD {
        assert_eq!(get_text(&c, &format!("{}/healthz", app.base)).await.0, 200);
        if opened < minyi::rate_limit::LINK_REQUESTS / 2 {
            assert_eq!(get_text(&c, &known).await.0, 200);
            opened += 1;
        }
        let links = app.limits.sizes();
        let accounts = app.db.login_throttle_rows().await.unwrap();
        assert!(
            only_the_real_link(links) && accounts == 0,
            "guesses must not create entries: {links} links, {accounts} accounts"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (status, n) in workers.join_all().await.into_iter().flatten() {
        *statuses.entry(status).or_default() += n;
    }
    // Unknown links get their page (404) until the per-server budget is spent, then 429.
    assert_eq!(statuses.values().sum::<usize>(), FLOOD);
    assert!(
        statuses.keys().all(|s| [404, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains_key(&429), "{statuses:?}");
    assert!(only_the_real_link(app.limits.sizes()));
    assert_eq!(app.db.login_throttle_rows().await.unwrap(), 0);
    assert_eq!(get_text(&c, &format!("{}/healthz", app.base)).await.0, 200);
}

#[tokio::test]
async fn refused_requests_are_summed_up_in_the_log_not_written_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let db = minyi::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    let log = dir.path().join("server.log");
    let server = ServerProcess::start(&url, &log).await;
    let c = client();
    let over = 300;
    let mut refused = 0;
    for i in 0..minyi::rate_limit::UNKNOWN_TOKENS as usize + over {
        let url = format!("{}/s/guess{i:017}", server.base);
        if get_text(&c, &url).await.0 == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, over);
    // The summary comes once a minute (the first at start, with nothing to say): not a line
    // per refused request, which a flood would turn into a full disk.
    let text = server.log_text();
    let lines = text.lines().filter(|l| l.contains("unknown-token")).count();
    assert!(lines <= 1, "{lines} lines:\n{text}");
}

#[tokio::test]
async fn a_login_that_gets_no_turn_is_told_in_chinese_to_retry_and_the_api_in_json() {
    use minyi::rate_limit::Claimant;
    let app = spawn().await;
    // Every turn taken, as a flood of logins would.
    let mut held = Vec::new();
    for _ in 0..app.limits.hashing.size() {
        held.push(app.limits.hashing.turn(Claimant::Account).await.unwrap());
    }
    let c = client();
    let r = login(&c, &app.base, "admin", &app.admin_password).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("请稍等几秒后再试") && page.contains("name=\"password\""),
        "{page}"
    );
    let r = client()
        .post(format!("{}/api/login", app.base))
        .json(&serde_json::json!({"username": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "password checks are busy; retry shortly");
    // Nothing was counted against the account, and it gets in once a turn is free.
    drop(held);
    assert_eq!(app.db.login_throttle_rows().await.unwrap(), 0);
    assert_eq!(try_login(&app, "admin", &app.admin_password).await, 303);
}

/// The `kB` value of `field` (`VmRSS`, `VmHWM`) in `/proc/<pid>/status`, in MB.
fn proc_mb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[tokio::test]
async fn the_binary_under_a_flood_of_made_up_logins_stays_small_and_then_lets_the_owner_in() {
    const FLOOD: usize = 300;
    const MAX_MB: u64 = 500;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    prepare_fieldwork(&url, 1, 2).await;
    let server = ServerProcess::start(&url, &dir.path().join("server.log")).await;
    let pid = server.child.id();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..FLOOD {
        let base = server.base.clone();
        tasks.spawn(async move { api_login(&base, &format!("nobody{i}"), "wrong").await });
    }
    // Resident memory while the flood runs (each argon2 check holds ~19 MiB).
    let mut peak = 0;
    while !tasks.is_empty() {
        peak = peak.max(proc_mb(pid, "VmRSS").unwrap_or(0));
        tokio::select! {
            Some(done) = tasks.join_next() => {
                let (status, retry) = done.unwrap();
                assert!(matches!(status, 401 | 503), "status {status}");
                if status == 503 {
                    assert!(retry.is_some(), "a 503 says when to retry");
                }
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
        }
    }
    let high_water = proc_mb(pid, "VmHWM").expect("the server's /proc status");
    assert!(
        peak.max(high_water) < MAX_MB,
        "the server reached {peak} MB resident (high-water mark {high_water} MB)"
    );
    assert_eq!(
        api_login(&server.base, SURVEYOR, SURVEYOR_PASSWORD).await.0,
        200,
        "the real account gets in after the flood"
    );
}

#[tokio::test]
async fn the_binary_under_a_flood_of_unknown_tokens_keeps_answering_and_known_links_open() {
    const FLOOD: usize = 2_000;
    const WORKERS: usize = 32;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 1, 2).await;
    let server = ServerProcess::start(&url, &dir.path().join("server.log")).await;
    let known = format!("{}/s/{}", server.base, prepared.links[0].1);
    let healthz = format!("{}/healthz", server.base);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (base, next, c) = (server.base.clone(), next.clone(), client());
        workers.spawn(async move {
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= FLOOD {
                    return statuses;
                }
                let token = minyi::secrets::random_token();
                let r = c.get(format!("{base}/s/{token}")).send().await.unwrap();
                *statuses.entry(r.status().as_u16()).or_default() += 1;
            }
        });
    }
    let c = client();
    while next.load(std::sync::atomic::Ordering::Relaxed) < FLOOD {
        assert_eq!(
            get_text(&c, &healthz).await.0,
            200,
            "healthz during the flood"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (status, n) in workers.join_all().await.into_iter().flatten() {
        *statuses.entry(status).or_default() += n;
    }
    assert_eq!(statuses.values().sum::<usize>(), FLOOD);
    assert!(
        statuses.keys().all(|s| [404, 429].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(get_text(&c, &healthz).await.0, 200);
    let (status, page) = get_text(&c, &known).await;
    assert_eq!(status, 200, "the known link opens after the flood: {page}");
    assert!(page.contains("<form"), "the survey form: {page}");
}
