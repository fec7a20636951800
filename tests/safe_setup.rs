//! Safe set-up through the real app: accounts are created with a role someone chose and a
//! village only where one belongs. Runs on SQLite, or PostgreSQL with `MINYI_TEST_PG`.

mod common;

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
        assert_eq!(account.role, role);
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
