//! Two years of the procedure around the survey, through the real binary (`minyi serve` in its
//! own process), every step through the pages the people involved use:
//!
//! Year one: three villages apply with their self-assessment reports; the commission accepts
//! two and refuses the third (不受理, with the reason); only the accepted two are drawn and
//! surveyed; the village rates itself, the 镇纪委 and the assessment group grade (the group
//! with its written report), the 领导小组 sets the final grades; the proposed list is
//! publicised; an objection about one village is upheld and it leaves the list; the 镇纪委
//! studies and the 镇党委 approves the other, which is granted the title; the register and
//! its CSV show it, the village sees it, its archive holds its reports.
//!
//! Two years later: a 复核 round is created from the register, holds only the titled
//! village, is surveyed and graded, and the village's page compares the two rounds.

use crate::common;

use common::*;
use minyi::ids::CampaignId;
use minyi::results::calendar::parse_date;

type Session = (reqwest::Client, String);

/// A small PDF (by its first bytes) with `marker` inside.
fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {marker}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").into_bytes()
}

/// The day `days` from today (China time), `YYYY-MM-DD`.
fn day(days: i64) -> String {
    let today = parse_date(&minyi::domain::today()).unwrap();
    (today + time::Duration::days(days)).to_string()
}

/// POSTs a form that must redirect; returns the flash (`m=…` or `e=…`) without the anchor.
async fn act(c: &Session, url: &str, fields: &[(&str, &str)]) -> String {
    let (s, body, loc) = post_form(&c.0, url, &c.1, fields).await;
    assert_eq!(s, 303, "{url} {fields:?}: {body}");
    location_query(&loc)
        .split('#')
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn page(c: &Session, url: &str) -> String {
    let (s, page) = get_text(&c.0, url).await;
    assert_eq!(s, 200, "{url}: {page}");
    page
}

/// The campaign id a creating POST redirected to.
fn campaign_in(loc: &Option<String>) -> CampaignId {
    loc.as_deref()
        .and_then(|l| l.strip_prefix("/admin/campaigns/"))
        .and_then(|l| l.split(['?', '#']).next())
        .expect("redirect to the campaign page")
        .parse()
        .unwrap()
}

/// A village and its operator, made through the administrator's pages.
async fn village(app: &TestApp, admin: &Session, code: &str, name: &str) -> Session {
    let base = &app.base;
    let (s, body, _) = post_form(
        &admin.0,
        &format!("{base}/admin/villages"),
        &admin.1,
        &[("code", code), ("name", name)],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let user = format!("op_{}", code.to_lowercase());
    let (s, page, _) = post_form(
        &admin.0,
        &format!("{base}/admin/accounts"),
        &admin.1,
        &[
            ("username", user.as_str()),
            ("display_name", "报送员"),
            ("role", "village"),
            ("village", code),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let c = client();
    let once = one_time_password_in(&page);
    let csrf = login_and_set_password(&c, base, &user, &once, "village-password-1").await;
    (c, csrf)
}

/// A roster of `n` phones starting at `first`.
async fn roster(app: &TestApp, op: &Session, id: CampaignId, first: u64, n: u64) -> u16 {
    let phones: String = (0..n).map(|i| format!("{}\n", first + i * 7)).collect();
    upload(
        &op.0,
        &format!("{}/village/campaigns/{id}/roster", app.base),
        &op.1,
        "服务对象名单.csv",
        format!("电话\n{phones}").into_bytes(),
        &[],
    )
    .await
    .0
}

/// Fifteen phone interviews per named village, every scored answer the best option.
async fn interviews(app: &TestApp, sv: &Session, id: CampaignId, codes: &[&str]) {
    let form = minyi::forms::builtin().unwrap().recipients;
    let cases = app.db.cases(id, None).await.unwrap();
    for code in codes {
        let mine: Vec<_> = cases.iter().filter(|c| c.village_code == *code).collect();
        assert!(mine.len() >= 15, "{code} has {} cases", mine.len());
        for case in mine.iter().take(15) {
            let mut fields = valid_answers(&form);
            fields.push(("_csrf".into(), sv.1.clone()));
            let r =
                sv.0.post(format!("{}/surveyor/cases/{}/interview", app.base, case.id))
                    .form(&fields)
                    .send()
                    .await
                    .unwrap();
            assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        }
    }
}

/// Items 1–14 at `grade` with item `item`'s grade and note replaced.
fn sheet(grade: &str, item: u32, item_grade: &str, note: &str) -> Vec<(String, String)> {
    (1..=14)
        .flat_map(|i| {
            let (g, n) = if i == item {
                (item_grade, note)
            } else {
                (grade, "")
            };
            [
                (format!("grade_{i}"), g.to_string()),
                (format!("note_{i}"), n.to_string()),
            ]
        })
        .collect()
}

async fn post_sheet(c: &Session, url: &str, fields: &[(String, String)]) -> u16 {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (s, body, _) = post_form(&c.0, url, &c.1, &borrowed).await;
    assert_eq!(s, 303, "{url}: {body}");
    s
}

/// Grades a village from every source and sets the final grades (all 好; item 8 较好 against
/// the group's 好, with the 领导小组's reason), then confirms an uncertain item 16.
async fn grade(app: &TestApp, admin: &Session, id: CampaignId, code: &str) {
    let url = format!("{}/admin/campaigns/{id}/results/{code}", app.base);
    for source in ["commission", "group"] {
        let mut f = sheet("好", 0, "", "");
        f.push(("source".into(), source.into()));
        post_sheet(admin, &format!("{url}/sources"), &f).await;
    }
    let (s, body, _) = upload(
        &admin.0,
        &format!("{url}/group-report"),
        &admin.1,
        "评估组报告.pdf",
        pdf(&format!("{code} 评估组报告")),
        &[(
            "text",
            "查阅会议记录、台账和公开栏，走访村民，各项情况属实。",
        )],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    post_sheet(
        admin,
        &format!("{url}/grades"),
        &sheet("好", 8, "较好", "专题研究记录只有 3 次，领导小组评定为较好"),
    )
    .await;
    let pending = minyi::ops::publicity::unconfirmed_uncertain(&app.db, id)
        .await
        .unwrap();
    if pending.iter().any(|c| c == code) {
        assert_eq!(
            act(
                admin,
                &format!("{url}/override"),
                &[
                    ("grade", "好"),
                    ("reason", "领导小组研究确认，维持计算等次")
                ]
            )
            .await,
            "m=override"
        );
    }
}

/// Size rule, freeze, seed, draw and fieldwork start, as the administrator.
async fn draw_and_start(app: &TestApp, admin: &Session, id: CampaignId) {
    let base = &app.base;
    let flash = act(
        admin,
        &format!("{base}/admin/campaigns/{id}/size-rule"),
        &[
            ("method", "formula"),
            ("margin", "0.05"),
            ("confidence", "0.95"),
            ("census_below", ""),
        ],
    )
    .await;
    assert!(flash.starts_with("m="), "{flash}");
    let flash = act(
        admin,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        &[("confirm", "yes")],
    )
    .await;
    assert!(flash.starts_with("m="), "freeze: {flash}");
    act(
        admin,
        &format!("{base}/campaigns/{id}/seed"),
        &[("seed", "dice 6 6 1 2 3 4 5 6 1 2 3")],
    )
    .await;
    act(admin, &format!("{base}/admin/campaigns/{id}/draw"), &[]).await;
    assert_eq!(
        act(
            admin,
            &format!("{base}/admin/campaigns/{id}/fieldwork"),
            &[]
        )
        .await,
        "m=fieldwork"
    );
}

/// The codes the published draw record of the campaign holds.
async fn drawn(app: &TestApp, admin: &Session, id: CampaignId) -> Vec<String> {
    let r = admin
        .0
        .get(format!("{}/campaigns/{id}/draw.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let record: serde_json::Value = r.json().await.unwrap();
    let mut codes: Vec<String> = record["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

async fn close(app: &TestApp, admin: &Session, id: CampaignId) {
    let flash = act(
        admin,
        &format!("{}/admin/campaigns/{id}/close", app.base),
        &[("confirm", "yes")],
    )
    .await;
    assert!(flash.starts_with("m="), "close: {flash}");
}

#[tokio::test]
async fn two_years_from_application_to_title_and_its_recheck() {
    let (app, _server) = spawn_binary().await;
    let base = app.base.clone();
    let admin = client();
    let csrf = login_and_set_password(
        &admin,
        &base,
        "admin",
        &app.admin_password,
        "commission-2026-key",
    )
    .await;
    let admin: Session = (admin, csrf);
    let op1 = village(&app, &admin, "V1", "一村").await;
    let op2 = village(&app, &admin, "V2", "二村").await;
    let op3 = village(&app, &admin, "V3", "三村").await;
    let year: i64 = minyi::domain::today()[..4].parse().unwrap();

    // ---- Year one: applications, due the last day of the year.
    let (s, body, loc) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns"),
        &admin.1,
        &[
            ("name", &format!("{year}年廉洁村（社区）考核")),
            ("town", "唐家坊镇"),
            ("year", &year.to_string()),
            ("participation", "accepted"),
            ("applications_due", &format!("{year}-12-31")),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let first = campaign_in(&loc);
    for (op, code) in [(&op1, "V1"), (&op2, "V2"), (&op3, "V3")] {
        let (s, body, _) = upload(
            &op.0,
            &format!("{base}/village/campaigns/{first}/application"),
            &op.1,
            "自评报告.pdf",
            pdf(&format!("{code} 自评报告")),
            &[("note", "请审核")],
        )
        .await;
        assert_eq!(s, 303, "{code}: {body}");
    }
    // The freeze waits for every decision, naming the villages waiting.
    let (s, body, _) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{first}/freeze"),
        &admin.1,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body.contains("V1 一村") && body.contains("V3 三村"),
        "{body}"
    );
    let decide = |code: &str| format!("{base}/admin/campaigns/{first}/applications/{code}");
    for code in ["V1", "V2"] {
        act(&admin, &decide(code), &[("decision", "accept")]).await;
    }
    act(
        &admin,
        &decide("V3"),
        &[
            ("decision", "refuse"),
            ("reason", "隐瞒案件线索（第10条第④项），不予受理"),
        ],
    )
    .await;
    let (_, home3) = get_text(&op3.0, &format!("{base}/village")).await;
    assert!(
        home3.contains("不予受理") || home3.contains("不受理"),
        "{home3}"
    );
    assert!(home3.contains("隐瞒案件线索"), "{home3}");

    // Rosters: the refused village's is refused.
    assert_eq!(roster(&app, &op1, first, 13_800_000_000, 30).await, 303);
    assert_eq!(roster(&app, &op2, first, 13_900_000_000, 30).await, 303);
    assert_ne!(roster(&app, &op3, first, 13_700_000_000, 30).await, 303);
    let t = Town {
        campaign: first,
        admin: admin.clone(),
        op1: op1.clone(),
        op2: op2.clone(),
    };
    let sv = surveyor(&app, &t).await;
    draw_and_start(&app, &admin, first).await;
    assert_eq!(
        drawn(&app, &admin, first).await,
        ["V1", "V2"],
        "only the accepted"
    );
    interviews(&app, &sv, first, &["V1", "V2"]).await;

    // The village rates itself while fieldwork runs; the refused village takes no part.
    let own = sheet("好", 0, "", "");
    let self_url = format!("{base}/village/campaigns/{first}/self-assessment");
    post_sheet(&op1, &self_url, &own).await;
    let borrowed: Vec<(&str, &str)> = own.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (s, body, _) = post_form(&op3.0, &self_url, &op3.1, &borrowed).await;
    assert_eq!(s, 400);
    assert!(body.contains("没有参加本轮测评"), "{body}");
    close(&app, &admin, first).await;
    for code in ["V1", "V2"] {
        grade(&app, &admin, first, code).await;
    }
    let v1_page = page(
        &admin,
        &format!("{base}/admin/campaigns/{first}/results/V1"),
    )
    .await;
    for column in ["村自评", "镇纪委", "评估组", "领导小组最终评定"] {
        assert!(v1_page.contains(column), "{column}");
    }
    assert!(v1_page.contains("专题研究记录只有 3 次"));
    assert!(v1_page.contains("结论:<strong>通过</strong>"), "V1 passes");

    // Publicity of the proposed list, started 25 days ago so that it is over today.
    set_notice_contact(&base, &admin, first).await;
    let start = day(-25);
    assert_eq!(
        act(
            &admin,
            &format!("{base}/admin/campaigns/{first}/publicity"),
            &[("start", &start)]
        )
        .await,
        "m=published"
    );
    let notice = page(
        &admin,
        &format!("{base}/admin/campaigns/{first}/publicity/notice"),
    )
    .await;
    assert!(
        notice.contains("一村") && notice.contains("二村"),
        "{notice}"
    );
    assert!(
        !notice.contains("三村"),
        "a refused village is not proposed"
    );

    // An objection about V2 is upheld: V2 leaves the list. One about V1 is dismissed.
    let vid = |code: &'static str| {
        let db = app.db.clone();
        async move { db.village_by_code(code).await.unwrap().id.to_string() }
    };
    for (village, summary) in [
        (vid("V2").await, "反映二村低保评定不公开"),
        (vid("V1").await, "反映一村账目不清"),
    ] {
        assert_eq!(
            act(
                &admin,
                &format!("{base}/admin/campaigns/{first}/objections"),
                &[
                    ("village", village.as_str()),
                    ("received_on", &day(-20)),
                    ("summary", summary)
                ]
            )
            .await,
            "m=objection"
        );
    }
    let objections = app.db.objections(first).await.unwrap();
    let resolve = |o: minyi::ids::ObjectionId| {
        format!("{base}/admin/campaigns/{first}/objections/{o}/resolve")
    };
    assert_eq!(
        act(
            &admin,
            &resolve(objections[0].id),
            &[("decision", "upheld"), ("reason", "经查属实")]
        )
        .await,
        "m=upheld"
    );
    assert_eq!(
        act(
            &admin,
            &resolve(objections[1].id),
            &[("decision", "dismissed"), ("reason", "经查账目清楚")]
        )
        .await,
        "m=dismissed"
    );

    // After the period: the 镇纪委 studies V1, the 镇党委 approves it and grants the title.
    let decisions =
        |code: &str, what: &str| format!("{base}/admin/campaigns/{first}/decisions/{code}/{what}");
    assert_eq!(
        act(
            &admin,
            &decisions("V2", "study"),
            &[("studied_on", &day(-3)), ("minutes_ref", "纪要〔1〕号")]
        )
        .await,
        "e=not_final",
        "V2 left the list"
    );
    assert_eq!(
        act(
            &admin,
            &decisions("V1", "study"),
            &[
                ("studied_on", &day(-3)),
                ("minutes_ref", "镇纪委会议纪要〔5〕号")
            ]
        )
        .await,
        "m=studied"
    );
    let granted_on = day(-1);
    assert_eq!(
        act(
            &admin,
            &decisions("V1", "decide"),
            &[
                ("decision", "approved"),
                ("decided_on", &granted_on),
                ("decision_ref", "唐镇党发〔12〕号")
            ]
        )
        .await,
        "m=granted"
    );
    act(
        &admin,
        &format!("{base}/admin/campaigns/{first}/approve"),
        &[],
    )
    .await;
    assert_eq!(
        app.db.campaign(first).await.unwrap().state.as_str(),
        "approved"
    );

    // The register: V1 alone, valid two years (to the day before), with its 文号.
    let titles = app.db.titles().await.unwrap();
    assert_eq!(titles.len(), 1);
    let expires = {
        // The same date two years on (28 February for a 29th), less a day.
        let g = parse_date(&granted_on).unwrap();
        let same = g.replace_year(g.year() + 2).unwrap_or_else(|_| {
            g.replace_day(28)
                .unwrap()
                .replace_year(g.year() + 2)
                .unwrap()
        });
        same.previous_day().unwrap().to_string()
    };
    assert_eq!(titles[0].expires_on, expires);
    let register = page(&admin, &format!("{base}/admin/titles")).await;
    assert!(register.contains("一村") && register.contains("唐镇党发〔12〕号"));
    assert!(register.contains("有效"), "{register}");
    assert!(!register.contains("二村"), "{register}");
    let (s, csv) = get_text(&admin.0, &format!("{base}/admin/titles.csv")).await;
    assert_eq!(s, 200);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].starts_with("V1,一村,") && rows[0].contains(&expires),
        "{csv}"
    );
    // Each village sees its own status only.
    let own1 = page(&op1, &format!("{base}/village/campaigns/{first}/results")).await;
    assert!(
        own1.contains("已批准授予称号") && own1.contains(&expires),
        "{own1}"
    );
    let own2 = page(&op2, &format!("{base}/village/campaigns/{first}/results")).await;
    assert!(own2.contains("因异议属实移出"), "{own2}");
    assert!(!own2.contains("一村"), "{own2}");

    // The village's archive: its application report, a half-yearly report, its title.
    let (s, body, _) = upload(
        &op1.0,
        &format!("{base}/village/archive"),
        &op1.1,
        "上半年廉洁村创建工作报告.pdf",
        pdf("半年报告"),
        &[("period", &format!("{year}H1")), ("note", "按时报告")],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let archive = page(&admin, &format!("{base}/admin/villages/V1/archive")).await;
    for expected in [
        "自评报告.pdf",
        "上半年廉洁村创建工作报告.pdf",
        "唐镇党发〔12〕号",
    ] {
        assert!(archive.contains(expected), "{expected}: {archive}");
    }

    // ---- Two years later: the 复核 round from the register holds the titled village only.
    let later = year + 2;
    let (s, body, loc) = post_form(
        &admin.0,
        &format!("{base}/admin/titles/review"),
        &admin.1,
        &[
            ("name", &format!("{later}年廉洁村复核")),
            ("town", "唐家坊镇"),
            ("year", &later.to_string()),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let review = campaign_in(&loc);
    // Nobody applies to a 复核 round: its villages come from the register.
    let (s, body, _) = upload(
        &op2.0,
        &format!("{base}/village/campaigns/{review}/application"),
        &op2.1,
        "自评报告.pdf",
        pdf("二村想参加复核"),
        &[],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(roster(&app, &op1, review, 13_600_000_000, 30).await, 303);
    assert_ne!(
        roster(&app, &op2, review, 13_500_000_000, 30).await,
        303,
        "V2 holds no title and is not in the review"
    );
    draw_and_start(&app, &admin, review).await;
    assert_eq!(drawn(&app, &admin, review).await, ["V1"]);
    interviews(&app, &sv, review, &["V1"]).await;
    close(&app, &admin, review).await;
    grade(&app, &admin, review, "V1").await;

    // The comparison across the two rounds, as a table and a chart.
    let history = page(&admin, &format!("{base}/admin/villages/V1/history")).await;
    for expected in [
        format!("{year}年廉洁村（社区）考核"),
        format!("{later}年廉洁村复核"),
        "<svg".to_string(),
        "复核".to_string(),
        "唐镇党发〔12〕号".to_string(),
    ] {
        assert!(history.contains(&expected), "{expected}: {history}");
    }
}
