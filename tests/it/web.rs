//! The web app through HTTP on a random port: login, sessions, CSRF, roles, admin pages,
//! roster upload by page and API. Runs on SQLite, or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;
use minyi::ids::CampaignId;

const GOOD_CSV: &str = "姓名,联系电话,身份证号,服务事项\n张三,138 0013 8000,430527199001011234,低保\n李四,+86 139-0013-9000,430527199001011235,医保\n王五,1380013800,430527199001011236,医保\n张三,13800138000,430527199001011234,低保\n";

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let app = spawn().await;
    let (status, body) = get_text(&client(), &format!("{}/healthz", app.base)).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn the_first_administrator_must_replace_the_one_time_password() {
    let app = spawn().await;
    let c = client();
    let r = login(&c, &app.base, "admin", &app.admin_password).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/password");
    // Until then every other page sends them back to the password form.
    let r = c.get(format!("{}/admin", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/password");
    let (_, page) = get_text(&c, &format!("{}/password", app.base)).await;
    let csrf = csrf_in(&page);
    // Too short, and mismatched, are refused with the person's page kept.
    let (s, body, _) = post_form(
        &c,
        &format!("{}/password", app.base),
        &csrf,
        &[
            ("current", &app.admin_password),
            ("new", "short"),
            ("repeat", "short"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("至少需要 10 个字符"), "{body}");
    let (s, _, _) = post_form(
        &c,
        &format!("{}/password", app.base),
        &csrf,
        &[
            ("current", "wrong-current"),
            ("new", "a-new-password"),
            ("repeat", "a-new-password"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    let (s, _, _) = post_form(
        &c,
        &format!("{}/password", app.base),
        &csrf,
        &[
            ("current", &app.admin_password),
            ("new", "a-new-password"),
            ("repeat", "a-new-password"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, page) = get_text(&c, &format!("{}/admin", app.base)).await;
    assert_eq!(s, 200);
    assert!(page.contains("调查轮次"));
    // The one-time password is gone; the new one works.
    assert_eq!(
        login(&client(), &app.base, "admin", &app.admin_password)
            .await
            .status(),
        401
    );
    assert_eq!(
        login(&client(), &app.base, "admin", "a-new-password")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn wrong_passwords_and_unknown_accounts_are_refused_alike() {
    let app = spawn().await;
    let r = login(&client(), &app.base, "admin", "not-the-password").await;
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(body.contains("账号或密码不正确"));
    let r = login(&client(), &app.base, "nobody", "whatever-password").await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_and_renewed_at_login() {
    let app = spawn().await;
    let (c, _) = admin_client(&app).await;
    let r = login(&c, &app.base, "admin", "commission-2026-key").await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("minyi_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let r2 = login(&client(), &app.base, "admin", "commission-2026-key").await;
    let cookie2 = r2
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("minyi_session="))
        .unwrap();
    assert_ne!(
        cookie.split(';').next(),
        cookie2.split(';').next(),
        "each login gets a new token"
    );
}

#[tokio::test]
async fn state_changing_forms_without_the_csrf_token_change_nothing() {
    let app = spawn().await;
    let (c, csrf) = admin_client(&app).await;
    let url = format!("{}/admin/villages", app.base);
    for token in ["", "forged-token"] {
        let (s, body, _) = post_form(&c, &url, token, &[("code", "X1"), ("name", "伪造村")]).await;
        assert_eq!(s, 403, "{body}");
        assert!(body.contains("页面已过期"));
    }
    // A request announcing another site as its origin is refused even with the token.
    let r = c
        .post(&url)
        .header("origin", "http://evil.example")
        .form(&[("_csrf", csrf.as_str()), ("code", "X1"), ("name", "伪造村")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.db.list_villages().await.unwrap().is_empty());
    // Logging out needs the token too.
    let (s, _, _) = post_form(&c, &format!("{}/logout", app.base), "", &[]).await;
    assert_eq!(s, 403);
    let (s, _, loc) = post_form(&c, &format!("{}/logout", app.base), &csrf, &[]).await;
    assert_eq!((s, loc.as_deref()), (303, Some("/login")));
    let r = c.get(format!("{}/admin", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login", "logged out");
}

#[tokio::test]
async fn a_session_is_valid_on_every_server_sharing_the_database() {
    let app = spawn().await;
    let (c, _) = admin_client(&app).await;
    let second = serve_on_random_port(app.db.clone(), app.config.clone()).await;
    // The same cookie jar (same session token) on another server instance.
    let cookie = c.get(format!("{}/admin", app.base)).send().await.unwrap();
    assert_eq!(cookie.status(), 200);
    let (status, page) = get_text(&c, &format!("{second}/admin")).await;
    assert_eq!(
        status, 200,
        "session from server 1 accepted by server 2: {page}"
    );
}

#[tokio::test]
async fn administrators_manage_villages_campaigns_and_accounts() {
    let app = spawn().await;
    let (c, csrf) = admin_client(&app).await;
    let base = &app.base;
    // Villages: by hand, a duplicate code refused, then a GBK CSV import.
    let (s, _, _) = post_form(
        &c,
        &format!("{base}/admin/villages"),
        &csrf,
        &[("code", "430527101"), ("name", "唐家坊村")],
    )
    .await;
    assert_eq!(s, 303);
    let (s, body, _) = post_form(
        &c,
        &format!("{base}/admin/villages"),
        &csrf,
        &[("code", "430527101"), ("name", "重复")],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("已存在"));
    let (gbk, _, _) =
        encoding_rs::GBK.encode("编码,名称\n430527101,唐家坊社区\n430527102,塘坪村\n");
    let (s, body, _) = upload(
        &c,
        &format!("{base}/admin/villages/import"),
        &csrf,
        "villages.csv",
        gbk.into_owned(),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("新增 1 个,更新名称 1 个"), "{body}");
    let names: Vec<_> = app
        .db
        .list_villages()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["唐家坊社区", "塘坪村"]);
    // A campaign with a bad year is refused; a good one is created.
    let (s, _, _) = post_form(
        &c,
        &format!("{base}/admin/campaigns"),
        &csrf,
        &[("name", "验收"), ("town", "唐家坊镇"), ("year", "26")],
    )
    .await;
    assert_eq!(s, 400);
    let (s, _, loc) = post_form(
        &c,
        &format!("{base}/admin/campaigns"),
        &csrf,
        &[
            ("name", "2026年验收"),
            ("town", "唐家坊镇"),
            ("year", "2026"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, page) = get_text(&c, &format!("{base}{}", loc.unwrap())).await;
    assert_eq!(s, 200);
    assert!(page.contains("尚未上报"));
    // Accounts: an operator must have a village; the one-time password is shown once.
    let (s, _, _) = post_form(
        &c,
        &format!("{base}/admin/accounts"),
        &csrf,
        &[
            ("username", "op"),
            ("display_name", "操作员"),
            ("role", "village"),
            ("village", ""),
        ],
    )
    .await;
    assert_eq!(s, 400);
    let (s, page, _) = post_form(
        &c,
        &format!("{base}/admin/accounts"),
        &csrf,
        &[
            ("username", "op"),
            ("display_name", "操作员"),
            ("role", "village"),
            ("village", "430527102"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let once = one_time_password_in(&page);
    let (_, list) = get_text(&c, &format!("{base}/admin/accounts")).await;
    assert!(
        !list.contains(&once),
        "the one-time password is not shown again"
    );
    // Disabling ends the account's sessions and logins.
    let op = client();
    login_and_set_password(&op, base, "op", &once, "operator-password").await;
    let id = app.db.account_by_username("op").await.unwrap().unwrap().id;
    let (s, _, _) = post_form(
        &c,
        &format!("{base}/admin/accounts/{id}/disable"),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        op.get(format!("{base}/village"))
            .send()
            .await
            .unwrap()
            .headers()["location"],
        "/login"
    );
    assert_eq!(
        login(&client(), base, "op", "operator-password")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn each_role_reaches_only_its_own_pages() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let anon = client();
    for path in [
        "/admin",
        "/admin/villages",
        "/admin/accounts",
        "/village",
        "/surveyor",
        "/panel",
        "/",
    ] {
        let r = anon.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!((path, r.status().as_u16()), (path, 303));
        assert_eq!(r.headers()["location"], "/login");
    }
    for path in [
        "/admin",
        "/admin/villages",
        "/admin/accounts",
        format!("/admin/campaigns/{}", t.campaign).as_str(),
        "/surveyor",
        "/panel",
    ] {
        let (s, _) = get_text(&t.op1.0, &format!("{base}{path}")).await;
        assert_eq!((path, s), (path, 403));
    }
    let (s, _) = get_text(&t.admin.0, &format!("{base}/village")).await;
    assert_eq!(s, 403);
    // An operator cannot create accounts even with a valid token of their own.
    let (s, _, _) = post_form(
        &t.op1.0,
        &format!("{base}/admin/accounts"),
        &t.op1.1,
        &[("username", "x"), ("display_name", "x"), ("role", "admin")],
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_village_hands_in_its_roster_and_keeps_the_receipt() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let (op, csrf) = &t.op1;
    let url = format!("{base}/village/campaigns/{}/roster", t.campaign);
    let (s, body, loc) = upload(
        op,
        &url,
        csrf,
        "名单.csv",
        GOOD_CSV.as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (s, receipt) = get_text(op, &format!("{base}{}", loc.unwrap())).await;
    assert_eq!(s, 200);
    // Two valid phones, one duplicate, one 10-digit number reported with its row.
    let phones = ["13800138000", "13900139000"];
    let fp = minyi::sampling::fingerprint(&phones);
    assert!(receipt.contains(&fp), "{receipt}");
    assert!(receipt.contains("身份证号"), "dropped column named");
    assert!(
        !receipt.contains("430527199001011234"),
        "ID numbers never shown"
    );
    // The ID column was never stored.
    let frame = app
        .db
        .frame_phones(t.campaign, app.db.village_by_code("V1").await.unwrap().id)
        .await
        .unwrap();
    assert_eq!(frame, phones);
    // The commission sees the receipt; the other village does not.
    let (s, page) = get_text(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{}", t.campaign),
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains(&fp));
    // The invalid number is shown to the village that sent it, masked to anyone else.
    assert!(receipt.contains("1380013800"), "{receipt}");
    let (_, admin_receipt) = get_text(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{}/villages/V1/receipt", t.campaign),
    )
    .await;
    assert!(
        admin_receipt.contains("138***3800") && !admin_receipt.contains("1380013800"),
        "{admin_receipt}"
    );
    let (s, page) = get_text(
        &t.op2.0,
        &format!("{base}/village/campaigns/{}/receipt", t.campaign),
    )
    .await;
    assert_eq!(s, 404, "V2 has no receipt and cannot reach V1's: {page}");
}

/// A roster as a village keeps it: GBK, a title row, 户主姓名 and 办理日期, a 小计 and a
/// 合计 row, numbers written twice, a name typed into the phone column.
const VILLAGE_CSV: &str = "唐家坊镇一村2026年度服务对象名单,,,\r\n序号,户主姓名,联系电话,办理日期\r\n1,张三,13800138000,2026-03-05\r\n2,李四,13900139000,2026-03-06\r\n3,王五,王五,2026-03-07\r\n4,张三,138 0013 8000,2026-04-05\r\n,小计,4,\r\n5,李四,+86 139-0013-9000,2026-05-02\r\n合计：,,5 户,\r\n";

#[tokio::test]
async fn the_receipt_lists_duplicate_and_skipped_rows_of_a_village_roster() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let (op, csrf) = &t.op1;
    let url = format!("{base}/village/campaigns/{}/roster", t.campaign);
    let (gbk, _, _) = encoding_rs::GBK.encode(VILLAGE_CSV);
    let (s, body, loc) = upload(op, &url, csrf, "花名册.csv", gbk.into_owned(), &[]).await;
    assert_eq!(s, 303, "{body}");
    let (s, village_page) = get_text(op, &format!("{base}{}", loc.unwrap())).await;
    assert_eq!(s, 200);
    let (s, admin_page) = get_text(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{}/villages/V1/receipt", t.campaign),
    )
    .await;
    assert_eq!(s, 200);
    for page in [&village_page, &admin_page] {
        // Counts: 5 rows read (2 accepted, 1 invalid, 2 duplicates), 2 totals rows skipped.
        for (label, n) in [
            ("读取行数", 5),
            ("有效号码", 2),
            ("无效行", 1),
            ("重复号码", 2),
            ("跳过的合计行", 2),
        ] {
            let cell = format!("<tr><th>{label}</th><td class=\"num\">{n}</td></tr>");
            assert!(page.contains(&cell), "{cell} in {page}");
        }
        // Each duplicate with the row it repeats, the phone masked for everyone.
        for (row, first, phone) in [(6, 3, "138****8000"), (8, 4, "139****9000")] {
            let line = format!(
                "<tr><td class=\"num\">{row}</td><td class=\"num\">第 {first} 行</td><td class=\"mono\">{phone}</td></tr>"
            );
            assert!(page.contains(&line), "{line} in {page}");
        }
        assert!(!page.contains("13800138000") && !page.contains("13900139000"));
        for (row, word) in [(7, "小计"), (9, "合计")] {
            let line = format!(
                "<tr><td class=\"num\">{row}</td><td>“{word}”行是统计行，不是服务对象，已跳过</td></tr>"
            );
            assert!(page.contains(&line), "{line} in {page}");
        }
        assert!(page.contains("电话号码中含有汉字“王”"), "{page}");
        assert!(!page.contains("字母"), "{page}");
    }
    // The JSON API gives the same lists, under new fields beside the old ones.
    let api = reqwest::Client::new();
    let r = api
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "op1", "password": "village-password-1"}))
        .send()
        .await
        .unwrap();
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .get(format!(
            "{base}/api/campaigns/{}/villages/V1/roster",
            t.campaign
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let receipt = r.json::<serde_json::Value>().await.unwrap()["receipt"].clone();
    assert_eq!(receipt["duplicates"], 2);
    assert_eq!(
        receipt["duplicate_rows"],
        serde_json::json!([
            {"row": 6, "first_row": 3, "phone": "138****8000"},
            {"row": 8, "first_row": 4, "phone": "139****9000"}
        ])
    );
    assert_eq!(receipt["skipped"], 2);
    assert_eq!(receipt["skipped_rows"][1]["row"], 9);
    assert_eq!(receipt["columns"]["name"], "户主姓名");
    assert_eq!(receipt["columns"]["date"], "办理日期");
}

#[tokio::test]
async fn a_failed_upload_leaves_the_previous_roster_in_place() {
    let app = spawn().await;
    let t = town(&app).await;
    let (op, csrf) = &t.op1;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    let v1 = app.db.village_by_code("V1").await.unwrap().id;
    let (s, _, _) = upload(op, &url, csrf, "a.csv", GOOD_CSV.as_bytes().to_vec(), &[]).await;
    assert_eq!(s, 303);
    let before = app
        .db
        .current_receipt(t.campaign, v1)
        .await
        .unwrap()
        .unwrap()
        .0;
    for (name, bytes, expect) in [
        (
            "junk.xlsx",
            b"PK\x03\x04 this is not a spreadsheet".to_vec(),
            "名单未被接受",
        ),
        (
            "nophone.csv",
            "姓名,地址\n张三,一组\n".as_bytes().to_vec(),
            "名单未被接受",
        ),
        (
            "allbad.csv",
            "电话\n12345\nabc\n".as_bytes().to_vec(),
            "没有有效的电话号码",
        ),
    ] {
        let (s, body, _) = upload(op, &url, csrf, name, bytes, &[]).await;
        assert_eq!(s, 400, "{name}: {body}");
        assert!(body.contains(expect), "{name}: {body}");
        let after = app
            .db
            .current_receipt(t.campaign, v1)
            .await
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(after, before, "{name} changed the roster");
        assert_eq!(app.db.frame_phones(t.campaign, v1).await.unwrap().len(), 2);
    }
    // A new good roster replaces the old one whole.
    let (s, _, _) = upload(
        op,
        &url,
        csrf,
        "b.csv",
        "手机号\n15000000004\n".as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        app.db.frame_phones(t.campaign, v1).await.unwrap(),
        ["15000000004"]
    );
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused_with_a_clear_message() {
    let app = spawn_with(|c| c.upload_limit = 1024).await;
    let t = town(&app).await;
    let (op, csrf) = &t.op1;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    let big = format!("电话\n{}", "13800138000\n".repeat(200));
    let (s, body, _) = upload(op, &url, csrf, "big.csv", big.into_bytes(), &[]).await;
    assert_eq!(s, 413, "{body}");
    assert!(body.contains("上限"), "{body}");
}

#[tokio::test]
async fn rosters_are_refused_once_the_campaign_is_frozen() {
    let app = spawn().await;
    let t = town(&app).await;
    let (op, csrf) = &t.op1;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    let v1 = app.db.village_by_code("V1").await.unwrap().id;
    upload(op, &url, csrf, "a.csv", GOOD_CSV.as_bytes().to_vec(), &[]).await;
    freeze(&app, t.campaign).await;
    let (s, body, _) = upload(
        op,
        &url,
        csrf,
        "b.csv",
        "电话\n15000000004\n".as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("已冻结"), "{body}");
    assert_eq!(app.db.frame_phones(t.campaign, v1).await.unwrap().len(), 2);
}

/// Freeze directly in the database (the freeze page arrives with the draw).
async fn freeze(app: &TestApp, campaign: CampaignId) {
    exec(
        &app.db,
        "UPDATE campaigns SET state = 'frozen' WHERE id = $1",
        campaign.0,
    )
    .await;
}

#[tokio::test]
async fn phones_in_several_villages_are_shown_masked_to_the_commission_only() {
    let app = spawn().await;
    let t = town(&app).await;
    let url = |_: ()| format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    upload(
        &t.op1.0,
        &url(()),
        &t.op1.1,
        "a.csv",
        "电话\n13800138000\n13700000001\n".as_bytes().to_vec(),
        &[],
    )
    .await;
    upload(
        &t.op2.0,
        &url(()),
        &t.op2.1,
        "b.csv",
        "电话\n13800138000\n13700000002\n".as_bytes().to_vec(),
        &[],
    )
    .await;
    let (_, page) = get_text(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}", app.base, t.campaign),
    )
    .await;
    assert!(page.contains("138****8000"), "{page}");
    assert!(
        !page.contains("13800138000"),
        "full number shown to the commission"
    );
    for (op, _) in [&t.op1, &t.op2] {
        let (_, home) = get_text(op, &format!("{}/village", app.base)).await;
        assert!(
            !home.contains("138****8000") && !home.contains("13800138000"),
            "{home}"
        );
        assert!(!home.contains("重复出现"), "{home}");
    }
}

#[tokio::test]
async fn the_json_api_takes_a_roster_and_answers_with_the_receipt() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let api = reqwest::Client::new();
    let r = api
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "op1", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = api
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "op1", "password": "village-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!(
        "{base}/api/campaigns/{}/villages/V1/roster?file_name=roster.csv",
        t.campaign
    );
    let r = api
        .put(&url)
        .bearer_auth(&token)
        .body(GOOD_CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let receipt: serde_json::Value = r.json().await.unwrap();
    assert_eq!(receipt["rows_read"], 4);
    assert_eq!(receipt["accepted"], 2);
    assert_eq!(receipt["invalid"], 1);
    assert_eq!(receipt["duplicates"], 1);
    assert_eq!(receipt["errors"][0]["row"], 4);
    assert_eq!(receipt["dropped_columns"], serde_json::json!(["身份证号"]));
    assert_eq!(
        receipt["fingerprint"],
        minyi::sampling::fingerprint(&["13800138000", "13900139000"])
    );
    let r = api.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["receipt"],
        receipt
    );
    // Another village's roster: neither readable nor writable.
    let other = format!("{base}/api/campaigns/{}/villages/V2/roster", t.campaign);
    assert_eq!(
        api.get(&other)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        api.put(&other)
            .bearer_auth(&token)
            .body(GOOD_CSV)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        api.get(format!("{base}/api/campaigns/{}/rosters", t.campaign))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // No token: 401 as JSON. A cookie session without the CSRF header cannot write.
    let r = api.put(&url).body(GOOD_CSV).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.json::<serde_json::Value>().await.unwrap()["error"].is_string());
    let r = t.op1.0.put(&url).body(GOOD_CSV).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = t
        .op1
        .0
        .put(&url)
        .header("x-csrf-token", &t.op1.1)
        .body(GOOD_CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The administrator sees every village's status.
    let admin_token = {
        let r = api
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"username": "admin", "password": "commission-2026-key"}))
            .send()
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let statuses: serde_json::Value = api
        .get(format!("{base}/api/campaigns/{}/rosters", t.campaign))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(statuses[0]["accepted"], 2);
    assert!(statuses[1]["accepted"].is_null());
}
