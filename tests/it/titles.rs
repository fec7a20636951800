//! The title register through the real app: statuses by today's date, the CSV for 四挂钩
//! (exact columns, formulas neutralised), 联系领导, revoking a title, 复核 rounds entering only
//! villages whose title is in force, the per-village history across rounds with its chart,
//! and every page and action refused to village operators and the surveyor. Runs on SQLite,
//! or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;
use minyi::db::{Db, NewTitle};
use minyi::domain::VillageCode;
use minyi::ids::{CampaignId, TitleId, VillageId};

/// Today (China time) moved by `days`, as `YYYY-MM-DD`.
fn day(days: i64) -> String {
    let today = minyi::results::calendar::parse_date(&minyi::domain::today()).unwrap();
    let d = today + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Grants a title directly, as the decisions would.
async fn grant(
    db: &Db,
    campaign: CampaignId,
    village: VillageId,
    granted_on: &str,
    expires_on: &str,
    decision_ref: &str,
) -> TitleId {
    let mut tx = db.begin().await.unwrap();
    let id = tx
        .grant_title(
            &NewTitle {
                campaign_id: campaign,
                village_id: village,
                granted_on,
                expires_on,
                decision_ref,
            },
            None,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn village(db: &Db, code: &str) -> VillageId {
    db.village_by_code(code).await.unwrap().id
}

/// A village added directly (beyond the town's V1 and V2).
async fn add_village(db: &Db, code: &str, name: &str) -> VillageId {
    db.create_village(&VillageCode::parse(code).unwrap(), name)
        .await
        .unwrap()
}

/// The `<tr>` of a page holding `marker`.
fn row<'a>(html: &'a str, marker: &str) -> &'a str {
    html.split("<tr>")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .find(|r| r.contains(marker))
        .unwrap_or_else(|| panic!("no row with {marker} in:\n{html}"))
}

/// (village id, decision, reason, report id) of a campaign's applications.
async fn applications(
    db: &Db,
    campaign: CampaignId,
) -> Vec<(i64, Option<String>, Option<String>, Option<i64>)> {
    let sql = "SELECT village_id, decision, reason, report_id FROM applications WHERE campaign_id = $1 ORDER BY village_id";
    match db {
        Db::Sqlite(s) => sqlx::query_as(sql)
            .bind(campaign.0)
            .fetch_all(&s.read)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_as(sql)
            .bind(campaign.0)
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

/// A text column of one row (`$1` the id).
async fn text_of(db: &Db, sql: &'static str, id: i64) -> Option<String> {
    match db {
        Db::Sqlite(s) => sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&s.read)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
    }
}

async fn campaign_count(db: &Db) -> usize {
    db.list_campaigns().await.unwrap().len()
}

async fn audit_events(db: &Db, event: &str) -> usize {
    db.all_audit_entries()
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event == event)
        .count()
}

#[tokio::test]
async fn the_register_shows_each_titles_status_by_todays_date() {
    let app = spawn().await;
    let t = town(&app).await;
    let (v1, v2) = (village(&app.db, "V1").await, village(&app.db, "V2").await);
    let v3 = add_village(&app.db, "V3", "三村").await;
    grant(
        &app.db,
        t.campaign,
        v1,
        "2020-12-01",
        "2022-11-30",
        "唐发〔2020〕1号",
    )
    .await;
    grant(
        &app.db,
        t.campaign,
        v2,
        &day(-10),
        &day(720),
        "唐发〔2026〕9号",
    )
    .await;
    grant(
        &app.db,
        t.campaign,
        v3,
        &day(-600),
        &day(30),
        "唐发〔2025〕3号",
    )
    .await;
    let (admin, _) = &t.admin;
    let (s, home) = get_text(admin, &format!("{}/admin", app.base)).await;
    assert_eq!(s, 200);
    assert!(
        home.contains("href=\"/admin/titles\""),
        "the nav links the register"
    );
    let (s, page) = get_text(admin, &format!("{}/admin/titles", app.base)).await;
    assert_eq!(s, 200, "{page}");
    let r1 = row(&page, "<td>V1</td>");
    assert!(
        r1.contains("已到期") && r1.contains("2022-11-30") && r1.contains("唐发〔2020〕1号"),
        "{r1}"
    );
    assert!(r1.contains("2026年验收"), "the campaign is named: {r1}");
    let r2 = row(&page, "<td>V2</td>");
    assert!(r2.contains("<td>有效</td>") && !r2.contains("到期"), "{r2}");
    let r3 = row(&page, "<td>V3</td>");
    assert!(r3.contains("即将到期"), "{r3}");
    // A title in force can be revoked on the page; an expired one has nothing to revoke.
    assert!(r2.contains("/revoke") && r3.contains("/revoke") && !r1.contains("<form"));
    // Each title links to its village's history.
    assert!(r1.contains("/admin/villages/V1/history"));
    // Two titles in force (V2 valid, V3 expiring), one of them expiring.
    assert!(page.contains("称号 2 个,其中即将到期 1 个"), "{page}");
}

#[tokio::test]
async fn the_csv_has_the_exact_columns_and_neutralises_formulas() {
    let app = spawn().await;
    let t = town(&app).await;
    let (v1, v2) = (village(&app.db, "V1").await, village(&app.db, "V2").await);
    grant(&app.db, t.campaign, v1, "2020-12-01", "2022-11-30", "=1+1").await;
    grant(
        &app.db,
        t.campaign,
        v2,
        &day(-1),
        &day(700),
        "唐发〔2026〕9号",
    )
    .await;
    let (admin, csrf) = &t.admin;
    let (s, _, _) = post_form(
        admin,
        &format!("{}/admin/villages/V2/contact-leader", app.base),
        csrf,
        &[("contact_leader", "@张副镇长")],
    )
    .await;
    assert_eq!(s, 303);
    let r = admin
        .get(format!("{}/admin/titles.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "村（社区）代码",
            "村（社区）名称",
            "授予日期",
            "有效期至",
            "状态",
            "批准文号",
            "考核轮次",
            "联系领导"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0],
        [
            "V1",
            "一村",
            "2020-12-01",
            "2022-11-30",
            "已到期",
            "'=1+1",
            "2026年验收",
            ""
        ]
    );
    assert_eq!(rows[1][0], "V2");
    assert_eq!(rows[1][4], "有效");
    assert_eq!(
        rows[1][7], "'@张副镇长",
        "a leader starting with @ is neutralised"
    );
    // The same file in GB18030 for old software.
    let r = admin
        .get(format!("{}/admin/titles.csv?encoding=gb18030", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("gb18030")
    );
    let bytes = r.bytes().await.unwrap();
    let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
    assert!(!bad && text.starts_with("村（社区）代码,") && text.contains("已到期"));
}

#[tokio::test]
async fn a_contact_leader_is_checked_saved_audited_and_shown() {
    let app = spawn().await;
    let t = town(&app).await;
    let v1 = village(&app.db, "V1").await;
    grant(
        &app.db,
        t.campaign,
        v1,
        &day(-1),
        &day(700),
        "唐发〔2026〕9号",
    )
    .await;
    let (admin, csrf) = &t.admin;
    let url = format!("{}/admin/villages/V1/contact-leader", app.base);
    let leader = |db: &Db| {
        let db = db.clone();
        async move {
            text_of(
                &db,
                "SELECT contact_leader FROM villages WHERE code = 'V1' AND id = $1",
                v1.0,
            )
            .await
        }
    };
    // Too long, or with a line break: refused in Chinese, nothing stored.
    for bad in ["长".repeat(51), "张\n李".to_string()] {
        let (s, page, _) = post_form(admin, &url, csrf, &[("contact_leader", &bad)]).await;
        assert_eq!(s, 400, "{bad}");
        assert!(
            page.contains("联系领导不") && page.contains("一村"),
            "{page}"
        );
        assert_eq!(leader(&app.db).await, None);
    }
    // Fifty characters are fine.
    let fifty = "长".repeat(50);
    let (s, _, loc) = post_form(admin, &url, csrf, &[("contact_leader", &fifty)]).await;
    assert_eq!((s, loc.as_deref()), (303, Some("/admin/villages?m=leader")));
    let (s, _, _) = post_form(admin, &url, csrf, &[("contact_leader", " 张副镇长 ")]).await;
    assert_eq!(s, 303);
    assert_eq!(leader(&app.db).await.as_deref(), Some("张副镇长"));
    let (_, page) = get_text(admin, &format!("{}/admin/villages?m=leader", app.base)).await;
    assert!(page.contains("value=\"张副镇长\"") && page.contains("已保存联系领导"));
    assert!(
        page.contains("/admin/villages/V1/history"),
        "the villages page links the history"
    );
    let (_, register) = get_text(admin, &format!("{}/admin/titles", app.base)).await;
    assert!(row(&register, "<td>V1</td>").contains("张副镇长"));
    assert_eq!(audit_events(&app.db, "village.contact_leader").await, 2);
    // Emptied, it is cleared.
    let (s, _, _) = post_form(admin, &url, csrf, &[("contact_leader", "  ")]).await;
    assert_eq!(s, 303);
    assert_eq!(leader(&app.db).await, None);
    // A forged token changes nothing; an unknown village is 404.
    let (s, _, _) = post_form(admin, &url, "forged", &[("contact_leader", "王")]).await;
    assert_eq!(s, 403);
    assert_eq!(leader(&app.db).await, None);
    let (s, _, _) = post_form(
        admin,
        &format!("{}/admin/villages/V404/contact-leader", app.base),
        csrf,
        &[("contact_leader", "王")],
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_title_is_revoked_once_with_a_day_and_a_reason() {
    let app = spawn().await;
    let t = town(&app).await;
    let v1 = village(&app.db, "V1").await;
    let granted = day(-100);
    let id = grant(
        &app.db,
        t.campaign,
        v1,
        &granted,
        &day(600),
        "唐发〔2026〕9号",
    )
    .await;
    let (admin, csrf) = &t.admin;
    let url = format!("{}/admin/titles/{id}/revoke", app.base);
    let revoked = |db: &Db| {
        let db = db.clone();
        async move { text_of(&db, "SELECT revoked_on FROM titles WHERE id = $1", id.0).await }
    };
    for (day_, reason, key) in [
        (day(1), "复核未通过", "e=revoke_day"),
        ("2026-02-30".to_string(), "复核未通过", "e=revoke_day"),
        ("明天".to_string(), "复核未通过", "e=revoke_day"),
        (day(-1), "  ", "e=revoke_reason"),
        (day(-1), &*"长".repeat(201), "e=revoke_reason"),
        (day(-101), "复核未通过", "e=revoke_before"),
    ] {
        let (s, _, loc) = post_form(admin, &url, csrf, &[("day", &day_), ("reason", reason)]).await;
        assert_eq!(s, 303);
        assert_eq!(location_query(&loc), key, "{day_} {reason}");
        assert_eq!(revoked(&app.db).await, None, "{day_}: nothing changes");
    }
    let (_, page) = get_text(admin, &format!("{}/admin/titles?e=revoke_before", app.base)).await;
    assert!(page.contains("撤销日期不能早于授予日期"));
    let on = day(-1);
    let (s, _, loc) = post_form(admin, &url, csrf, &[("day", &on), ("reason", "复核未通过")]).await;
    assert_eq!((s, location_query(&loc).as_str()), (303, "m=revoked"));
    assert_eq!(revoked(&app.db).await, Some(on.clone()));
    let (_, page) = get_text(admin, &format!("{}/admin/titles", app.base)).await;
    let r = row(&page, "<td>V1</td>");
    assert!(
        r.contains("已撤销") && r.contains("复核未通过") && !r.contains("<form"),
        "{r}"
    );
    // A second revocation is refused and keeps the first.
    let (_, _, loc) = post_form(admin, &url, csrf, &[("day", &day(0)), ("reason", "再撤销")]).await;
    assert_eq!(location_query(&loc), "e=already_revoked");
    assert_eq!(revoked(&app.db).await, Some(on));
    assert_eq!(audit_events(&app.db, "title.revoke").await, 1);
    // An unknown title is 404.
    let (s, _, _) = post_form(
        admin,
        &format!("{}/admin/titles/99999/revoke", app.base),
        csrf,
        &[("day", &day(0)), ("reason", "x")],
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_review_round_enters_only_the_villages_whose_title_is_in_force() {
    let app = spawn().await;
    let t = town(&app).await;
    let (admin, csrf) = &t.admin;
    let url = format!("{}/admin/titles/review", app.base);
    let form = [
        ("name", "2028年复核"),
        ("town", "唐家坊镇"),
        ("year", "2028"),
    ];
    // Nothing in force: refused, no campaign.
    let before = campaign_count(&app.db).await;
    let (_, _, loc) = post_form(admin, &url, csrf, &form).await;
    assert_eq!(location_query(&loc), "e=review_none");
    assert_eq!(campaign_count(&app.db).await, before);

    let (v1, v2) = (village(&app.db, "V1").await, village(&app.db, "V2").await);
    let v3 = add_village(&app.db, "V3", "三村").await;
    let v4 = add_village(&app.db, "V4", "四村").await;
    // V1 expired, V2 valid, V3 revoked, V4 expiring.
    grant(
        &app.db,
        t.campaign,
        v1,
        "2020-12-01",
        "2022-11-30",
        "唐发〔2020〕1号",
    )
    .await;
    let valid = grant(
        &app.db,
        t.campaign,
        v2,
        &day(-10),
        &day(720),
        "唐发〔2026〕9号",
    )
    .await;
    let revoked = grant(
        &app.db,
        t.campaign,
        v3,
        &day(-10),
        &day(720),
        "唐发〔2026〕9号",
    )
    .await;
    let expiring = grant(
        &app.db,
        t.campaign,
        v4,
        &day(-600),
        &day(20),
        "唐发〔2025〕3号",
    )
    .await;
    let (_, _, loc) = post_form(
        admin,
        &format!("{}/admin/titles/{revoked}/revoke", app.base),
        csrf,
        &[("day", &day(0)), ("reason", "出现负面清单情形")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=revoked");

    // A bad form is refused before anything is created.
    for bad in [
        [("name", ""), ("town", "唐家坊镇"), ("year", "2028")],
        [("name", "复核"), ("town", ""), ("year", "2028")],
        [("name", "复核"), ("town", "唐家坊镇"), ("year", "1999")],
    ] {
        let (_, _, loc) = post_form(admin, &url, csrf, &bad).await;
        assert_eq!(location_query(&loc), "e=review_form");
    }
    assert_eq!(campaign_count(&app.db).await, before);

    let (s, _, loc) = post_form(admin, &url, csrf, &form).await;
    assert_eq!(s, 303);
    let loc = loc.unwrap();
    let review: CampaignId = loc
        .strip_prefix("/admin/campaigns/")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(app.db.campaign_kind(review).await.unwrap(), "review");
    assert_eq!(
        app.db.campaign_kind(t.campaign).await.unwrap(),
        "assessment"
    );
    assert_eq!(
        text_of(
            &app.db,
            "SELECT participation FROM campaigns WHERE id = $1",
            review.0
        )
        .await
        .as_deref(),
        Some("accepted")
    );
    let c = app.db.campaign(review).await.unwrap();
    assert_eq!(
        (c.name.as_str(), c.town.as_str(), c.year),
        ("2028年复核", "唐家坊镇", 2028)
    );
    let accepted = Some("accepted".to_string());
    let reason = Some("复核".to_string());
    assert_eq!(
        applications(&app.db, review).await,
        vec![
            (v2.0, accepted.clone(), reason.clone(), None),
            (v4.0, accepted, reason, None)
        ]
    );
    let rechecked: Vec<TitleId> = app
        .db
        .review_titles(review)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(rechecked, [valid, expiring]);
    assert_eq!(audit_events(&app.db, "campaign.review_create").await, 1);
    // The campaign page says it is a 复核 round and which titles it re-checks.
    let (s, page) = get_text(admin, &format!("{}{loc}", app.base)).await;
    assert_eq!(s, 200);
    let review_part = &page[page.find("id=\"review\"").expect("a 复核 part")..];
    let review_part = &review_part[..review_part.find("</section>").unwrap()];
    assert!(
        review_part.contains("复核")
            && review_part.contains("二村")
            && review_part.contains("四村")
    );
    assert!(
        !review_part.contains("一村") && !review_part.contains("三村"),
        "{review_part}"
    );
    // The campaigns list marks the 复核 round.
    let (_, list) = get_text(admin, &format!("{}/admin", app.base)).await;
    assert!(row(&list, "2028年复核").contains("复核</span>"));
    assert!(!row(&list, "2026年验收").contains("复核</span>"));
    // An assessment round has no such part.
    let (_, page) = get_text(
        admin,
        &format!("{}/admin/campaigns/{}", app.base, t.campaign),
    )
    .await;
    assert!(!page.contains("id=\"review\""));
}

#[tokio::test]
async fn village_operators_and_the_surveyor_are_refused_everything_here() {
    let app = spawn().await;
    let t = town(&app).await;
    let v1 = village(&app.db, "V1").await;
    let id = grant(
        &app.db,
        t.campaign,
        v1,
        &day(-1),
        &day(700),
        "唐发〔2026〕9号",
    )
    .await;
    let sv = surveyor(&app, &t).await;
    let before = campaign_count(&app.db).await;
    for (who, (c, csrf)) in [("op1", &t.op1), ("op2", &t.op2), ("surveyor", &sv)] {
        for path in [
            "/admin/titles",
            "/admin/titles.csv",
            "/admin/villages/V1/history",
        ] {
            let (s, body) = get_text(c, &format!("{}{path}", app.base)).await;
            assert_eq!(s, 403, "{who} GET {path}");
            assert!(!body.contains("唐发"), "{who} {path}");
        }
        for (path, fields) in [
            (
                format!("/admin/titles/{id}/revoke"),
                vec![("day", day(0)), ("reason", "x".into())],
            ),
            (
                "/admin/titles/review".into(),
                vec![
                    ("name", "复核".into()),
                    ("town", "镇".into()),
                    ("year", "2028".into()),
                ],
            ),
            (
                "/admin/villages/V1/contact-leader".into(),
                vec![("contact_leader", "王".into())],
            ),
        ] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (s, _, _) = post_form(c, &format!("{}{path}", app.base), csrf, &fields).await;
            assert_eq!(s, 403, "{who} POST {path}");
        }
    }
    // Nothing changed.
    let title = &app.db.village_titles(v1).await.unwrap()[0];
    assert!(title.revoked_on.is_none());
    assert_eq!(campaign_count(&app.db).await, before);
    assert!(
        app.db
            .village_leaders()
            .await
            .unwrap()
            .iter()
            .all(|v| v.contact_leader.is_none())
    );
    // Without a session, the login form.
    let (s, _) = get_text(&client(), &format!("{}/admin/titles", app.base)).await;
    assert_eq!(s, 303);
}

/// The recipients' answers with every scored question `value`.
fn answers_all(form: &minyi::forms::Form, value: &str) -> String {
    let mut fields: Vec<(String, String)> = valid_answers(form)
        .into_iter()
        .filter(|(k, _)| !form.question(k).is_some_and(|q| q.is_scored()))
        .collect();
    for q in form.scored_questions() {
        fields.push((q.id.clone(), value.to_string()));
    }
    minyi::forms::parse_answers(form, &fields)
        .expect("valid answers")
        .to_json()
}

#[tokio::test]
async fn the_history_of_a_village_shows_its_assessment_and_its_review_with_a_chart() {
    let app = spawn().await;
    // Round one: answered and closed (V1 has 15 valid respondents, enough for a grade).
    let t = crate::results_web::answered(&app).await;
    let v1 = village(&app.db, "V1").await;
    grant(
        &app.db,
        t.campaign,
        v1,
        &day(-700),
        &day(30),
        "唐发〔2026〕9号",
    )
    .await;
    let (admin, csrf) = (&t.admin.0, &t.admin.1);
    // Round two: a 复核 round created from the register, V1 re-surveyed.
    let (s, _, loc) = post_form(
        admin,
        &format!("{}/admin/titles/review", app.base),
        csrf,
        &[
            ("name", "2028年复核"),
            ("town", "唐家坊镇"),
            ("year", "2028"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let review: CampaignId = loc
        .unwrap()
        .strip_prefix("/admin/campaigns/")
        .unwrap()
        .parse()
        .unwrap();
    let phones: String = (0..30).map(|i| format!("137{:08}\n", i * 41)).collect();
    let (s, _, _) = upload(
        &t.op1.0,
        &format!("{}/village/campaigns/{review}/roster", app.base),
        &t.op1.1,
        "v1.csv",
        format!("电话\n{phones}").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, loc) = post_form(
        admin,
        &format!("{}/admin/campaigns/{review}/size-rule", app.base),
        csrf,
        &[
            ("method", "formula"),
            ("margin", "0.05"),
            ("confidence", "0.95"),
            ("census_below", ""),
        ],
    )
    .await;
    assert!(location_query(&loc).starts_with("m="), "{loc:?}");
    let round2 = Town {
        campaign: review,
        admin: t.admin.clone(),
        op1: t.op1.clone(),
        op2: t.op2.clone(),
    };
    // Before fieldwork closes the round is named as pending, with no figures.
    freeze_draw_and_start(&app, &round2).await;
    let url = format!("{}/admin/villages/V1/history", app.base);
    let (s, page) = get_text(admin, &url).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("尚未结束") && page.contains("2028年复核"),
        "{page}"
    );
    let forms = minyi::forms::builtin().unwrap();
    let cases = app.db.cases(review, None).await.unwrap();
    for case in cases.iter().filter(|c| c.village_code == "V1").take(15) {
        crate::results_web::submit(
            &app,
            &forms.recipients,
            case.id,
            case.village_id,
            answers_all(&forms.recipients, "比较满意"),
        )
        .await;
    }
    assert!(app.db.close_fieldwork(review).await.unwrap());

    let (s, page) = get_text(admin, &url).await;
    assert_eq!(s, 200, "{page}");
    // Both rounds in the table, oldest first, with the kind and the title granted.
    let first = row(&page, "2026年验收");
    let second = row(&page, "2028年复核");
    assert!(
        first.contains("考核") && first.contains("唐发〔2026〕9号"),
        "{first}"
    );
    assert!(
        second.contains("<td>复核</td>") && second.contains("<td>无</td>"),
        "{second}"
    );
    assert!(page.find("2026年验收").unwrap() < page.find("2028年复核").unwrap());
    // Each round's S as its own tables show it, in the table and in the chart.
    let chart = &page[page.find("<svg").expect("a chart")..page.find("</svg>").unwrap()];
    assert!(chart.contains("role=\"img\"") && chart.contains("<desc>"));
    for (campaign, label, line) in [
        (t.campaign, "2026年 考核", first),
        (review, "2028年 复核", second),
    ] {
        let l = minyi::results::tables::load(&app.db, campaign)
            .await
            .unwrap();
        let v = l.results.village(v1).unwrap();
        let s = minyi::results::item16::figure_text(&l.forms.scheme, v.item16.s.expect("S shown"));
        assert!(line.contains(&s), "{label}: {s} in {line}");
        let desc = &chart[chart.find("<desc>").unwrap()..chart.find("</desc>").unwrap()];
        assert!(
            desc.contains(&format!("{label} 综合")) && desc.contains(&s),
            "{label}: {desc}"
        );
    }
    assert!(!page.contains("尚未结束"), "no round is pending any more");
    // Linked from the register; an unknown village is 404.
    let (_, register) = get_text(admin, &format!("{}/admin/titles", app.base)).await;
    assert!(register.contains("/admin/villages/V1/history"));
    let (s, _) = get_text(admin, &format!("{}/admin/villages/V404/history", app.base)).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_title_already_in_a_review_round_not_yet_approved_is_not_taken_again() {
    let app = spawn().await;
    let t = town(&app).await;
    let (admin, csrf) = &t.admin;
    let url = format!("{}/admin/titles/review", app.base);
    let form = [
        ("name", "2028年复核"),
        ("town", "唐家坊镇"),
        ("year", "2028"),
    ];
    let (v1, v2) = (village(&app.db, "V1").await, village(&app.db, "V2").await);
    let first_title = grant(
        &app.db,
        t.campaign,
        v1,
        &day(-10),
        &day(720),
        "唐发〔2026〕9号",
    )
    .await;
    let (s, _, loc) = post_form(admin, &url, csrf, &form).await;
    assert_eq!(s, 303);
    let first: CampaignId = loc
        .unwrap()
        .strip_prefix("/admin/campaigns/")
        .unwrap()
        .parse()
        .unwrap();
    let count = campaign_count(&app.db).await;

    // Again: its one title is in that round, not approved yet: refused, nothing created.
    let (_, _, loc) = post_form(admin, &url, csrf, &form).await;
    assert_eq!(location_query(&loc), "e=review_taken");
    assert_eq!(campaign_count(&app.db).await, count);
    assert_eq!(audit_events(&app.db, "campaign.review_create").await, 1);
    let (_, page) = get_text(admin, &format!("{}/admin/titles?e=review_taken", app.base)).await;
    assert!(page.contains("尚未批准的复核轮次"), "{page}");

    // A new title granted since: the next round takes only it.
    let second_title = grant(
        &app.db,
        t.campaign,
        v2,
        &day(-5),
        &day(720),
        "唐发〔2026〕10号",
    )
    .await;
    let (s, _, loc) = post_form(admin, &url, csrf, &form).await;
    assert_eq!(s, 303);
    let second: CampaignId = loc
        .unwrap()
        .strip_prefix("/admin/campaigns/")
        .unwrap()
        .parse()
        .unwrap();
    let ids = |rows: Vec<minyi::db::RegisterRow>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(app.db.review_titles(first).await.unwrap()),
        [first_title]
    );
    assert_eq!(
        ids(app.db.review_titles(second).await.unwrap()),
        [second_title]
    );
    assert_eq!(applications(&app.db, second).await.len(), 1);

    // Once the first round is approved its title may be re-checked again.
    exec(
        &app.db,
        "UPDATE campaigns SET state = 'approved' WHERE id = $1",
        first.0,
    )
    .await;
    let (s, _, loc) = post_form(admin, &url, csrf, &form).await;
    assert_eq!(s, 303, "{loc:?}");
    let third: CampaignId = loc
        .unwrap()
        .strip_prefix("/admin/campaigns/")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        ids(app.db.review_titles(third).await.unwrap()),
        [first_title]
    );

    // Two rounds created at once for one new title: one takes it, the other is refused.
    let v3 = add_village(&app.db, "V3", "三村").await;
    grant(
        &app.db,
        t.campaign,
        v3,
        &day(-1),
        &day(720),
        "唐发〔2026〕11号",
    )
    .await;
    let (a, b) = tokio::join!(
        post_form(admin, &url, csrf, &form),
        post_form(admin, &url, csrf, &form)
    );
    let mut outcomes = [location_query(&a.2), location_query(&b.2)];
    outcomes.sort();
    assert_eq!((a.0, b.0), (303, 303));
    assert_eq!(outcomes[1], "e=review_taken", "{outcomes:?}");
    assert_eq!(audit_events(&app.db, "campaign.review_create").await, 4);
}
