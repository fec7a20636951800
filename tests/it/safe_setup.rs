//! Safe set-up through the real app: accounts are created with a role someone chose and a
//! village only where one belongs. Runs on SQLite, or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;

/// The `<select id="role">…</select>` of the accounts page.
fn role_select(page: &str) -> &str {
    let start = page
        .find("<select id=\"role\"")
        .expect("role select on page");
    let end = page[start..].find("</select>").expect("end of role select") + start;
    &page[start..end]
}

/// The text of the page's error paragraphs (`<p class="error">…</p>`), joined.
fn errors_in(page: &str) -> String {
    page.split("<p class=\"error\">")
        .skip(1)
        .filter_map(|p| p.split("</p>").next())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn a_new_account_has_no_default_role_and_only_an_operator_has_a_village() {
    let app = spawn().await;
    let (admin, csrf) = admin_client(&app).await;
    let accounts = format!("{}/admin/accounts", app.base);
    let (s, body, _) = post_form(
        &admin,
        &format!("{}/admin/villages", app.base),
        &csrf,
        &[("code", "V1"), ("name", "一村")],
    )
    .await;
    assert_eq!(s, 303, "{body}");

    // The form starts with an empty choice: nothing is picked for the clerk.
    let (_, page) = get_text(&admin, &accounts).await;
    let select = role_select(&page);
    assert!(select.contains(" required"), "{select}");
    let first = select.find("<option").unwrap();
    assert!(
        select[first..].starts_with("<option value=\"\">请选择角色</option>"),
        "{select}"
    );
    assert!(!select.contains("selected"), "{select}");

    let before = app.db.list_accounts().await.unwrap().len();
    let only_operators = "只有村(社区)操作员属于某个村(社区)";
    let refused: &[(&[(&str, &str)], &str)] = &[
        (&[("village", "V1")], "请选择角色。"),
        (&[("role", ""), ("village", "V1")], "请选择角色。"),
        (&[("role", "superuser")], "请选择角色。"),
        (&[("role", "village")], "村(社区)操作员须选择所属村(社区)。"),
        (
            &[("role", "village"), ("village", "V404")],
            "所选村(社区)不存在。",
        ),
        (&[("role", "admin"), ("village", "V1")], only_operators),
        (&[("role", "surveyor"), ("village", "V1")], only_operators),
        (&[("role", "panel"), ("village", "V1")], only_operators),
    ];
    for (fields, message) in refused {
        let mut all = vec![("username", "newbie"), ("display_name", "新人")];
        all.extend_from_slice(fields);
        let (s, page, _) = post_form(&admin, &accounts, &csrf, &all).await;
        assert_eq!(s, 400, "{fields:?}: {page}");
        let errors = errors_in(&page);
        assert!(
            errors.contains(message),
            "{fields:?} should say {message}: {errors}"
        );
        assert!(
            !page.contains("class=\"secret\""),
            "{fields:?}: no password made"
        );
        // What was typed comes back, so the clerk corrects rather than retypes.
        assert!(page.contains("value=\"newbie\""), "{fields:?}");
        assert!(page.contains("value=\"新人\""), "{fields:?}");
        let chosen_role = fields.iter().find(|(k, _)| *k == "role").map(|(_, v)| *v);
        if let Some(role) =
            chosen_role.filter(|r| ["admin", "surveyor", "panel", "village"].contains(r))
        {
            assert!(
                role_select(&page).contains(&format!("<option value=\"{role}\" selected>")),
                "{fields:?}: the chosen role stays chosen"
            );
        }
        // Nothing was created.
        assert!(
            app.db
                .account_by_username("newbie")
                .await
                .unwrap()
                .is_none(),
            "{fields:?}"
        );
        assert_eq!(app.db.list_accounts().await.unwrap().len(), before);
    }

    // With a role, and a village exactly when the role is the village operator's: created.
    let v1 = app.db.village_by_code("V1").await.unwrap();
    for (username, role, village, expected) in [
        ("op1", "village", "V1", Some(v1.id)),
        ("third", "surveyor", "", None),
        ("deputy", "panel", "", None),
        ("clerk2", "admin", "", None),
    ] {
        let (s, page, _) = post_form(
            &admin,
            &accounts,
            &csrf,
            &[
                ("username", username),
                ("display_name", "某人"),
                ("role", role),
                ("village", village),
            ],
        )
        .await;
        assert_eq!(s, 200, "{role}: {page}");
        assert!(
            page.contains("class=\"secret\""),
            "{role}: one-time password"
        );
        let account = app
            .db
            .account_by_username(username)
            .await
            .unwrap()
            .expect("created");
        assert_eq!(account.role.as_str(), role);
        assert_eq!(account.village_id, expected, "{role}");
    }
}

#[tokio::test]
async fn every_password_set_meets_the_strength_rule_explained_in_chinese() {
    let app = spawn().await;
    // The administrator's own first password goes through the rule too (admin_client).
    let (admin, csrf) = admin_client(&app).await;
    assert!(
        minyi::password::check(&app.admin_password, "admin", "镇纪委管理员").is_ok(),
        "the first one-time password meets the rule"
    );
    let (s, page, _) = post_form(
        &admin,
        &format!("{}/admin/accounts", app.base),
        &csrf,
        &[
            ("username", "lisi"),
            ("display_name", "李四"),
            ("role", "surveyor"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let once = one_time_password_in(&page);
    assert_eq!(minyi::password::check(&once, "lisi", "李四"), Ok(()));
    let id = app
        .db
        .account_by_username("lisi")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (s, page, _) = post_form(
        &admin,
        &format!("{}/admin/accounts/{id}/reset", app.base),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let once = one_time_password_in(&page);
    assert_eq!(minyi::password::check(&once, "lisi", "李四"), Ok(()));

    // The person replaces the one-time password; the page explains the rule first.
    let c = client();
    let r = login(&c, &app.base, "lisi", &once).await;
    assert_eq!(r.headers()["location"], "/password");
    let (_, form) = get_text(&c, &format!("{}/password", app.base)).await;
    assert!(form.contains("密码要求:至少 10 个字符"), "{form}");
    assert!(form.contains("不能包含账号名或姓名"), "{form}");
    let user_csrf = csrf_in(&form);
    let weak = [
        ("123456789", "至少需要 10 个字符"),
        ("1234567890", "这是一个常见密码"),
        ("password123", "这是一个常见密码"),
        ("qwertyuiop", "这是一个常见密码"),
        ("1111111111", "这是一个常见密码"),
        ("abcdefghijk", "连续或重复的字符"),
        ("Password2026!", "连续或重复的字符"),
        ("lisi-survey-2026", "不能包含账号名或姓名"),
        ("我是李四今年五十八岁了", "不能包含账号名或姓名"),
        ("13907316482", "不能只有数字"),
    ];
    for (password, message) in weak {
        let (s, page, _) = post_form(
            &c,
            &format!("{}/password", app.base),
            &user_csrf,
            &[("current", &once), ("new", password), ("repeat", password)],
        )
        .await;
        assert_eq!(s, 400, "{password}");
        let errors = errors_in(&page);
        assert!(
            errors.contains(message),
            "{password}: should say {message}: {errors}"
        );
        assert!(
            page.contains("密码要求"),
            "{password}: the rule is shown again"
        );
    }
    // Nothing changed: still the one-time password, still asked to replace it.
    let account = app.db.account_by_username("lisi").await.unwrap().unwrap();
    assert!(account.must_change_password);
    assert!(minyi::secrets::verify_password(
        &once,
        &account.password_hash
    ));
    login_and_set_password(&client(), &app.base, "lisi", &once, "heshan-lu7-yumao").await;

    // Changing one's own password later follows the same rule.
    let (s, page, _) = post_form(
        &admin,
        &format!("{}/password", app.base),
        &csrf,
        &[
            ("current", "commission-2026-key"),
            ("new", "admin-2026-new"),
            ("repeat", "admin-2026-new"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert!(errors_in(&page).contains("不能包含账号名或姓名"), "{page}");
    let r = login(&client(), &app.base, "admin", "commission-2026-key").await;
    assert_eq!(r.status(), 303, "the old password still works");
}

/// A bearer token from `POST /api/login` (pages accept it as well as the session cookie,
/// so servers whose cookies are `Secure` can be read over plain http here).
async fn bearer(base: &str, username: &str, password: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "API login of {username}");
    let v: serde_json::Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

async fn page_as(token: &str, url: &str) -> String {
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.text().await.unwrap()
}

/// The base-URL banner of a page: (class, text), or `None`.
fn banner(page: &str) -> Option<(String, String)> {
    let at = page.find("id=\"base-url-warning\">")?;
    let open = page[..at].rfind("<p class=\"")? + "<p class=\"".len();
    let class = page[open..].split('"').next()?.to_string();
    let text = page[at + "id=\"base-url-warning\">".len()..]
        .split("</p>")
        .next()?
        .replace("&#x2f;", "/");
    Some((class, text))
}

const ADMIN_PASSWORD: &str = "commission-2026-key";

#[tokio::test]
async fn pages_issuing_links_warn_in_chinese_when_the_base_url_is_loopback_or_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 1, 4).await;
    let id = prepared.campaign;
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let admin = db.account_by_username("admin").await.unwrap().unwrap();
    let hash = minyi::secrets::hash_password(ADMIN_PASSWORD).unwrap();
    let mut tx = db.begin().await.unwrap();
    tx.set_password(admin.id, &hash, false, None).await.unwrap();
    tx.commit().await.unwrap();
    // A second campaign still collecting rosters: no links go out from it yet.
    let collecting = db
        .create_campaign("2028年验收", "唐家坊镇", 2028)
        .await
        .unwrap();

    let loopback = "短信链接的网址是 http://127.0.0.1:8080,居民的手机打不开。请用 --base-url 设置对外的 https 地址。";
    for (base_url, expected) in [
        ("http://127.0.0.1:8080", Some(("error", loopback))),
        (
            "http://mydc.example.cn",
            Some(("warn", "没有用 https 加密")),
        ),
        ("https://mydc.example.cn", None),
    ] {
        let config = minyi::config::Config {
            database_url: url.clone(),
            base_url: base_url.into(),
            ..minyi::config::Config::default()
        };
        let base = serve_on_random_port(db.clone(), config).await;
        let admin = bearer(&base, "admin", ADMIN_PASSWORD).await;
        let surveyor = bearer(&base, SURVEYOR, SURVEYOR_PASSWORD).await;
        for (token, path) in [
            (&admin, format!("/admin/campaigns/{id}")),
            (&admin, format!("/admin/campaigns/{id}/panel")),
            (&surveyor, format!("/surveyor/campaigns/{id}")),
        ] {
            let page = page_as(token, &format!("{base}{path}")).await;
            let shown = banner(&page);
            match expected {
                None => assert_eq!(shown, None, "{base_url} {path}"),
                Some((class, text)) => {
                    let (c, t) = shown.unwrap_or_else(|| panic!("{base_url} {path}: no banner"));
                    assert_eq!(c, class, "{base_url} {path}");
                    assert!(t.contains(text), "{base_url} {path}: {t}");
                    assert!(t.contains(base_url), "{base_url} {path}: {t}");
                }
            }
        }
        let page = page_as(&admin, &format!("{base}/admin/campaigns/{collecting}")).await;
        assert_eq!(
            banner(&page),
            None,
            "{base_url}: nothing issued while collecting"
        );
    }
}

/// `minyi serve` on a free port with `base_url` (none: the default), its log in `log`;
/// killed when dropped.
struct Served(std::process::Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve_binary(database_url: &str, base_url: Option<&str>, log: &std::path::Path) -> Served {
    let port = free_port();
    let mut args = vec![
        "serve".to_string(),
        "--database-url".into(),
        database_url.into(),
        "--bind".into(),
        format!("127.0.0.1:{port}"),
    ];
    if let Some(b) = base_url {
        args.extend(["--base-url".to_string(), b.to_string()]);
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args(&args)
        .env_remove("DATABASE_URL")
        .env_remove("MINYI_BASE_URL")
        .env("MINYI_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start minyi serve");
    let served = Served(child, format!("http://127.0.0.1:{port}"));
    for _ in 0..600 {
        if reqwest::get(format!("{}/healthz", served.1))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return served;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "minyi serve did not start:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// The log's WARN lines that are about the base URL.
fn base_url_warnings(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("base URL"))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn serve_warns_in_its_log_when_the_base_url_is_loopback_or_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 1, 4).await;

    // The default base URL: loopback, said at start and again when an outbox is issued.
    let log = dir.path().join("default.log");
    let served = serve_binary(&url, None, &log).await;
    let warnings = base_url_warnings(&log);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(
            "the base URL http://127.0.0.1:8080 points at this machine (loopback): survey links sent by SMS or printed for the panel will not open on respondents' phones; set --base-url (MINYI_BASE_URL) to the public https:// address"
        ),
        "{warnings:?}"
    );
    let c = client();
    let r = login(&c, &served.1, SURVEYOR, SURVEYOR_PASSWORD).await;
    assert_eq!(r.status(), 303);
    let (_, page) = get_text(
        &c,
        &format!("{}/surveyor/campaigns/{}", served.1, prepared.campaign),
    )
    .await;
    let (s, _, _) = post_form(
        &c,
        &format!(
            "{}/surveyor/campaigns/{}/outbox",
            served.1, prepared.campaign
        ),
        &csrf_in(&page),
        &[("kind", "invite")],
    )
    .await;
    assert_eq!(s, 200);
    let warnings = base_url_warnings(&log);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[1].contains(
            "SMS outbox issued although the base URL http://127.0.0.1:8080 points at this machine"
        ),
        "{warnings:?}"
    );
    drop(served);

    let log = dir.path().join("http.log");
    let _served = serve_binary(&url, Some("http://mydc.example.cn"), &log).await;
    let warnings = base_url_warnings(&log);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("the base URL http://mydc.example.cn uses plain http"),
        "{warnings:?}"
    );

    let log = dir.path().join("https.log");
    let _served = serve_binary(&url, Some("https://mydc.example.cn"), &log).await;
    assert_eq!(base_url_warnings(&log), Vec::<String>::new());
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("minyi listening"),
        "the log was written"
    );
}
