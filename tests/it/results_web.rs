//! Results through the real app: tallies with Wilson intervals and k-suppression,
//! item 16 with overrides, the verdict, publicity and approval, the village's own view, and
//! the downloads in UTF-8 with BOM and GB18030, neutralised, parsed back by a CSV reader.

use crate::common;

use common::*;
use minyi::db::NewResponse;
use minyi::forms::{Form, builtin, parse_answers};
use minyi::ids::{AccountId, CaseId, VillageId};
use minyi::results::{Interval, wilson};

/// One recipient's answers: every scored question `value`, except `attitude`.
fn answers(form: &Form, value: &str, attitude: &str) -> String {
    let mut fields: Vec<(String, String)> = valid_answers(form)
        .into_iter()
        .filter(|(k, _)| !form.question(k).is_some_and(|q| q.is_scored()) && k != "comment")
        .collect();
    for q in form.scored_questions() {
        let v = if q.id == "attitude" { attitude } else { value };
        fields.push((q.id.clone(), v.to_string()));
    }
    fields.push(("comment".into(), "=cmd|'/c calc'!A1".into()));
    parse_answers(form, &fields)
        .expect("valid answers")
        .to_json()
}

/// Confirms every uncertain grade through the village page (the computed grade kept, with
/// a reason), as the shipped scheme asks before publicity.
pub(crate) async fn confirm_uncertain(app: &TestApp, t: &Town) {
    let pending = minyi::ops::publicity::unconfirmed_uncertain(&app.db, t.campaign)
        .await
        .unwrap();
    let forms = minyi::fieldwork::pinned_forms(&app.db, t.campaign)
        .await
        .unwrap();
    let results = minyi::results::report::campaign_results(&app.db, t.campaign, &forms)
        .await
        .unwrap();
    for v in results
        .villages
        .iter()
        .filter(|v| pending.contains(&v.code))
    {
        let grade = v.item16.grade.clone().unwrap();
        let url = format!(
            "{}/admin/campaigns/{}/results/{}/override",
            app.base, t.campaign, v.code
        );
        let (s, _, _) = post_form(
            &t.admin.0,
            &url,
            &t.admin.1,
            &[("grade", &grade), ("reason", "领导小组确认，维持计算等次")],
        )
        .await;
        assert_eq!(s, 303);
    }
    assert!(
        minyi::ops::publicity::unconfirmed_uncertain(&app.db, t.campaign)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn answered(app: &TestApp) -> Town {
    answered_with_panel(app, &[]).await
}

/// As [`answered`], with panel ratings of V1 before fieldwork closes: per member, the
/// relation to V1 and the grade given on every scored question.
async fn answered_with_panel(app: &TestApp, panel: &[(&str, &str)]) -> Town {
    let (t, _) = fieldwork(app).await;
    let forms = builtin().unwrap();
    let cases = app.db.cases(t.campaign, None).await.unwrap();
    let v1: Vec<_> = cases.iter().filter(|c| c.village_code == "V1").collect();
    let v2: Vec<_> = cases.iter().filter(|c| c.village_code == "V2").collect();
    // V1: 12 × 满意, 1 × 比较满意, one 满意 but 不太满意 with attitude, and one 满意 with
    // 说不清 for attitude: 15 valid respondents, half of V1's 30, enough for a grade.
    let plan = [
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("满意", "满意"),
        ("比较满意", "比较满意"),
        ("满意", "不太满意"),
        ("满意", "dont_know"),
    ];
    for (case, (value, attitude)) in v1.iter().zip(plan) {
        submit(
            app,
            &forms.recipients,
            case.id,
            case.village_id,
            answers(&forms.recipients, value, attitude),
        )
        .await;
    }
    for case in v2.iter().take(3) {
        submit(
            app,
            &forms.recipients,
            case.id,
            case.village_id,
            answers(&forms.recipients, "满意", "满意"),
        )
        .await;
    }
    for (m, (relation, grade)) in panel.iter().enumerate() {
        let member = minyi::ops::fieldwork::add_panel_member(
            &app.db,
            &minyi::ops::Actor::cli(),
            t.campaign,
            &format!("代表{m}"),
            "人大代表",
            None,
        )
        .await
        .unwrap();
        let mut fields: Vec<(String, String)> = forms
            .panel
            .scored_questions()
            .map(|q| (q.id.clone(), grade.to_string()))
            .collect();
        fields.push(("relation".into(), relation.to_string()));
        fields.push(("heard_misconduct".into(), "no".into()));
        let response = NewResponse {
            campaign_id: t.campaign,
            village_id: v1[0].village_id,
            questionnaire: forms.panel.audience,
            form_id: forms.panel.id.clone(),
            form_version: forms.panel.version.clone(),
            form_sha256: forms.panel.sha256.clone(),
            answers_json: parse_answers(&forms.panel, &fields).unwrap().to_json(),
            duration: minyi::duration::Duration::Unknown,
        };
        assert!(app.db.submit_panel_rating(member, &response).await.unwrap());
    }
    assert!(app.db.close_fieldwork(t.campaign).await.unwrap());
    t
}

pub(crate) async fn submit(
    app: &TestApp,
    form: &Form,
    case: CaseId,
    village: VillageId,
    json: String,
) {
    let campaign = app.db.case(case).await.unwrap().campaign_id;
    let r = NewResponse {
        campaign_id: campaign,
        village_id: village,
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        form_sha256: form.sha256.clone(),
        questionnaire: form.audience,
        answers_json: json,
        duration: minyi::duration::Duration::Unknown,
    };
    assert!(
        app.db
            .submit_phone_interview(case, &r, AccountId(1))
            .await
            .unwrap()
    );
}

/// Downloads a CSV; checks the BOM and parses it.
async fn csv(c: &reqwest::Client, url: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{url} has no BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// The flash code of a redirect, without the page anchor.
fn flash(loc: &Option<String>) -> String {
    location_query(loc)
        .trim_end_matches("#publicity")
        .to_string()
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

#[tokio::test]
async fn tallies_carry_wilson_intervals_with_the_frame_and_hide_small_villages() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    let (h, rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/tallies.csv"),
    )
    .await;
    assert_eq!(h[0], "村（社区）代码");
    let find = |code: &str, who: &str, key: &str| {
        rows.iter()
            .find(|r| r[0] == code && r[col(&h, "问卷")] == who && r[col(&h, "编号")] == key)
            .unwrap_or_else(|| panic!("no row {code} {key}"))
            .clone()
    };
    // attitude in V1: 15 answers, 14 valid (one 说不清), 13 satisfied, N = 30.
    let a = find("V1", "服务对象", "attitude");
    assert_eq!(
        [
            &a[col(&h, "答卷数")],
            &a[col(&h, "有效回答")],
            &a[col(&h, "满意")],
            &a[col(&h, "名单人数")]
        ],
        ["15", "14", "13", "30"]
    );
    let w: Interval = wilson(13, 14, Some(30), 1.96).unwrap();
    assert_eq!(a[col(&h, "满意率")], pct(13.0 / 14.0));
    assert_eq!(a[col(&h, "95%区间下限")], pct(w.low));
    assert_eq!(a[col(&h, "95%区间上限")], pct(w.high));
    // The finite-population step narrows the interval against the plain Wilson one.
    assert!(w.low > wilson(13, 14, None, 1.96).unwrap().low);
    // V2 has three answers: under k = 5 every figure is empty and the reason is given.
    let small = find("V2", "服务对象", "attitude");
    for c in [
        "答卷数",
        "有效回答",
        "满意",
        "满意率",
        "95%区间下限",
        "95%区间上限",
    ] {
        assert_eq!(small[col(&h, c)], "", "{c} must be suppressed");
    }
    assert_eq!(small[col(&h, "说明")], "答卷少于5份，不公布");
    // The town row exists and is weighted, not pooled.
    // The town row is weighted, not pooled, and leaves out V2 (its three answers would
    // otherwise follow from the town's sums minus V1's).
    let town = find("全镇", "服务对象", "attitude");
    assert_eq!(town[col(&h, "答卷数")], "15");
    assert_eq!(
        town[col(&h, "说明")],
        "满意率按各村名单人数加权（1个村）；不含满意率不公布的1个村"
    );
    let (hc, counts) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/counts.csv"),
    )
    .await;
    let dont_know = counts
        .iter()
        .find(|r| {
            r[0] == "V1" && r[col(&hc, "题目编号")] == "attitude" && r[col(&hc, "选项")] == "说不清"
        })
        .unwrap();
    assert_eq!(dont_know[col(&hc, "人数")], "1");
    assert!(
        counts
            .iter()
            .filter(|r| r[0] == "V2")
            .all(|r| r[col(&hc, "人数")].is_empty())
    );
}

#[tokio::test]
async fn a_panel_without_a_quorum_leaves_s_to_the_recipients_and_the_page_says_why() {
    let app = spawn().await;
    // Three members who know V1 rate it 差; a fourth lives there and is recused.
    let t = answered_with_panel(
        &app,
        &[
            ("liaison", "差"),
            ("unfamiliar", "差"),
            ("liaison", "差"),
            ("resident", "好"),
        ],
    )
    .await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    let why = "代表委员有效评价只有 3 份，少于 5 份，综合得分只按群众评价计算";
    let (s, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    assert_eq!(s, 200);
    assert!(page.contains(why), "{page}");
    assert!(page.contains("另有 1 份回避"), "{page}");
    let (_, list) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert!(list.contains(why));
    // S = R = 98.85% and 好: the three 差 would have made it 0.7·98.85 = 69.2, 一般.
    let (h, rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/item16.csv"),
    )
    .await;
    let v1 = rows.iter().find(|r| r[0] == "V1").unwrap();
    assert_eq!(v1[col(&h, "综合得分S")], "98.85");
    assert_eq!(v1[col(&h, "两代表一委员得分P")], "");
    assert_eq!(v1[col(&h, "两代表一委员评价数")], "3");
    assert_eq!(v1[col(&h, "回避的两代表一委员评价数")], "1");
    assert_eq!(v1[col(&h, "两代表一委员评价计入")], "否");
    assert_eq!(v1[col(&h, "无两代表一委员评价")], "否");
    assert_eq!(v1[col(&h, "两代表一委员评价说明")], why);
    assert_eq!(v1[col(&h, "计算等次")], "好");
}

#[tokio::test]
async fn item16_is_computed_and_an_override_needs_a_written_reason() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, &app.base, t.campaign);
    let (h, rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/item16.csv"),
    )
    .await;
    let v1 = rows.iter().find(|r| r[0] == "V1").unwrap();
    // The satisfaction rate: 服务 28 of 29 valid answers (attitude: one 不太满意, one
    // 说不清), 作风 30 of 30, 廉洁 15 of 15 → R = (2800/29 + 100 + 100)/3 = 8600/87 =
    // 98.85%; no panel, S = R.
    assert_eq!(v1[col(&h, "计算方法")], "满意率");
    assert_eq!(v1[col(&h, "群众得分R")], "98.85");
    assert_eq!(v1[col(&h, "综合得分S")], "98.85");
    assert_eq!(v1[col(&h, "无两代表一委员评价")], "是");
    assert_eq!(v1[col(&h, "计算等次")], "好");
    let v2 = rows.iter().find(|r| r[0] == "V2").unwrap();
    assert_eq!(v2[col(&h, "数据不足")], "是");
    assert_eq!(v2[col(&h, "计算等次")], "");
    assert_eq!(
        v2[col(&h, "群众得分R")],
        "",
        "three respondents: R is suppressed"
    );

    let url = format!("{base}/admin/campaigns/{id}/results/V1/override");
    let (s, _, loc) = post_form(admin, &url, csrf, &[("grade", "较好"), ("reason", "  ")]).await;
    assert_eq!((s, location_query(&loc).as_str()), (303, "e=reason"));
    let (_, rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/item16.csv"),
    )
    .await;
    assert_eq!(
        rows.iter().find(|r| r[0] == "V1").unwrap()[col(&h, "认定等次")],
        "好"
    );

    let reason = "现场核查发现<script>问卷</script>组织不规范";
    let (s, _, _) = post_form(admin, &url, csrf, &[("grade", "较好"), ("reason", reason)]).await;
    assert_eq!(s, 303);
    let (_, rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/item16.csv"),
    )
    .await;
    let v1 = rows.iter().find(|r| r[0] == "V1").unwrap();
    assert_eq!(
        (
            v1[col(&h, "认定等次")].as_str(),
            v1[col(&h, "调整理由")].as_str()
        ),
        ("较好", reason)
    );
    assert_eq!(v1[col(&h, "计算等次")], "好");
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    assert!(
        page.contains("现场核查发现&lt;script&gt;"),
        "the reason is shown, escaped"
    );
    assert!(!page.contains("<script>问卷"));
}

#[tokio::test]
async fn the_verdict_lists_every_failed_condition() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, &app.base, t.campaign);
    let url = format!("{base}/admin/campaigns/{id}/results/V1/grades");
    // Items 1–15 all 好 (item 16 is 好 too): 16/16 passes.
    let mut fields: Vec<(String, String)> = (1..=15)
        .flat_map(|i| {
            [
                (format!("grade_{i}"), "好".to_string()),
                (format!("source_{i}"), "onsite".to_string()),
            ]
        })
        .collect();
    let post = |fields: Vec<(String, String)>| {
        let (admin, url, csrf) = (admin.clone(), url.clone(), csrf.clone());
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(&admin, &url, &csrf, &borrowed).await
        }
    };
    assert_eq!(post(fields.clone()).await.0, 303);
    let assessment = |admin: reqwest::Client| async move {
        let (h, rows) = csv(
            &admin,
            &format!("{base}/admin/campaigns/{id}/downloads/assessment.csv"),
        )
        .await;
        let v1 = rows.iter().find(|r| r[0] == "V1").unwrap().clone();
        (
            v1[col(&h, "评为好的项数")].clone(),
            v1[col(&h, "结论")].clone(),
            v1[col(&h, "原因")].clone(),
        )
    };
    assert_eq!(
        assessment(admin.clone()).await,
        ("16".into(), "通过".into(), String::new())
    );
    // Four at 较好: 12/16 < 80%; item 7 一般; situation ③ ticked.
    for i in [2, 3, 4, 5] {
        fields.push((format!("grade_{i}"), "较好".into()));
    }
    fields.retain(|(k, v)| {
        !(["grade_2", "grade_3", "grade_4", "grade_5"].contains(&k.as_str()) && v == "好")
    });
    fields.retain(|(k, _)| k != "grade_7");
    fields.push(("grade_7".into(), "一般".into()));
    fields.push(("note_7".into(), "现场检查记录不全".into()));
    fields.push(("neg_3".into(), "1".into()));
    fields.push(("neg_date_3".into(), minyi::domain::today()));
    fields.push(("neg_note_3".into(), "村主任受党纪处分".into()));
    assert_eq!(post(fields).await.0, 303);
    let (good, verdict, reasons) = assessment(admin.clone()).await;
    // Item 15 follows the negative list: ③ makes it 差.
    assert_eq!((good.as_str(), verdict.as_str()), ("10", "不通过"));
    assert_eq!(
        reasons,
        "item 7 一般；item 15 差；好 10/16 < 80%；负面清单 ③"
    );
    // The pages say it in sentences (the download keeps the short form scripts read).
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    let said = "第7项为一般；第15项为差；“好”等次 10/16，未达 80%；负面清单情形③";
    assert!(page.replace("&#x2f;", "/").contains(said), "{page}");
    let (_, list) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert!(list.replace("&#x2f;", "/").contains(said));
    assert!(
        !list.contains("item "),
        "no English word on the commission's page"
    );
    // The notes come back in the form, so saving it again keeps them.
    assert!(
        page.contains("value=\"现场检查记录不全\"") && page.contains("村主任受党纪处分"),
        "{page}"
    );
    // A bad grade changes nothing.
    let (s, _, _) = post(vec![("grade_1".into(), "优秀".into())]).await;
    assert_eq!(s, 400);
    assert_eq!(assessment(admin.clone()).await.0, "10");
}

/// The negative list counts what happened from one year before the campaign began: a
/// situation dated earlier is kept but not counted; one within the window makes item 15 差
/// whatever was typed for it; a ticked situation needs its date (not in the future), and ⑥
/// its petition counts. A refused sheet changes nothing.
#[tokio::test]
async fn the_negative_list_counts_dated_situations_in_its_window_and_item_15_follows_it() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, &app.base, t.campaign);
    let url = format!("{base}/admin/campaigns/{id}/results/V1/grades");
    let began = minyi::domain::local_date(app.db.campaign(id).await.unwrap().created_at);
    let window = minyi::results::assess::negative_window_start(&began).unwrap();
    let day_before_window = {
        let d = minyi::results::calendar::parse_date(&window).unwrap();
        d.previous_day().unwrap().to_string()
    };
    let all_good: Vec<(String, String)> = (1..=15)
        .map(|i| (format!("grade_{i}"), "好".to_string()))
        .collect();
    let post = |extra: &[(&str, &str)]| {
        let mut fields = all_good.clone();
        fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let (admin, url, csrf) = (admin.clone(), url.clone(), csrf.clone());
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(&admin, &url, &csrf, &borrowed).await.0
        }
    };
    let item15 = || async {
        let (h, rows) = csv(
            admin,
            &format!("{base}/admin/campaigns/{id}/downloads/assessment.csv"),
        )
        .await;
        let v1 = rows.iter().find(|r| r[0] == "V1").unwrap().clone();
        (
            v1[col(&h, "第15项")].clone(),
            v1[col(&h, "负面清单")].clone(),
        )
    };

    // Nothing ticked: item 15 is 好.
    assert_eq!(post(&[]).await, 303);
    assert_eq!(item15().await, ("好".to_string(), String::new()));

    // ② a day before the window opens: recorded, shown as not counted, item 15 stays 好.
    assert_eq!(
        post(&[
            ("neg_2", "1"),
            ("neg_date_2", &day_before_window),
            ("neg_note_2", "旧案")
        ])
        .await,
        303
    );
    assert_eq!(item15().await, ("好".to_string(), String::new()));
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    let page = page.replace("&#x2f;", "/");
    assert!(
        page.contains(&format!("发生在 {window} 之前,不计入")),
        "{page}"
    );
    assert!(page.contains(&format!("value=\"{day_before_window}\"")));

    // ② on the window's first day counts: item 15 is 差 although 好 was sent for it.
    assert_eq!(
        post(&[
            ("neg_2", "1"),
            ("neg_date_2", &window),
            ("neg_note_2", "旧案")
        ])
        .await,
        303
    );
    assert_eq!(item15().await, ("差".to_string(), "②".to_string()));

    // Refused, each changing nothing: no date, a bad date, a date after today, ⑥ without its
    // counts, ⑥ with more resolved than received.
    let tomorrow = minyi::results::calendar::parse_date(&minyi::domain::today())
        .unwrap()
        .next_day()
        .unwrap()
        .to_string();
    for bad in [
        vec![("neg_3", "1")],
        vec![("neg_3", "1"), ("neg_date_3", "2026-13-40")],
        vec![("neg_3", "1"), ("neg_date_3", tomorrow.as_str())],
        vec![("neg_6", "1"), ("neg_date_6", window.as_str())],
        vec![
            ("neg_6", "1"),
            ("neg_date_6", window.as_str()),
            ("neg_petitions_6", "3"),
            ("neg_resolved_6", "4"),
        ],
    ] {
        assert_eq!(post(&bad).await, 400, "{bad:?}");
        assert_eq!(
            item15().await,
            ("差".to_string(), "②".to_string()),
            "{bad:?}"
        );
    }
    let (s, body) = {
        let mut fields = all_good.clone();
        fields.push(("neg_3".into(), "1".into()));
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = admin
            .post(&url)
            .form(&[borrowed, vec![("_csrf", csrf.as_str())]].concat())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(s, 400);
    assert!(body.contains("勾选负面清单情形③时须填写发生日期"), "{body}");

    // ⑥ with its counts: kept and shown again in the form.
    assert_eq!(
        post(&[
            ("neg_6", "1"),
            ("neg_date_6", &window),
            ("neg_petitions_6", "9"),
            ("neg_resolved_6", "3"),
        ])
        .await,
        303
    );
    let found = app.db.negative_findings(id).await.unwrap();
    let six = found.iter().find(|n| n.situation == 6).unwrap();
    assert_eq!((six.petitions, six.petitions_resolved), (Some(9), Some(3)));
    assert_eq!(six.event_date.as_deref(), Some(window.as_str()));
    assert_eq!(item15().await, ("差".to_string(), "⑥".to_string()));

    // The commission sets the day the creation started a year earlier: ② dated before the
    // campaign's own window now counts, without saving the sheet again.
    assert_eq!(
        post(&[
            ("neg_2", "1"),
            ("neg_date_2", &day_before_window),
            ("neg_note_2", "旧案")
        ])
        .await,
        303
    );
    assert_eq!(item15().await, ("好".to_string(), String::new()));
    let earlier = minyi::results::assess::negative_window_start(&began).unwrap();
    let creation = format!("{base}/admin/campaigns/{id}/creation-start");
    for (day, flash) in [
        (tomorrow.as_str(), "e=creation_day#creation"),
        ("2025-02-30", "e=creation_day#creation"),
        (earlier.as_str(), "m=creation#creation"),
    ] {
        let (s, _, loc) = post_form(admin, &creation, csrf, &[("day", day)]).await;
        assert_eq!((s, location_query(&loc)), (303, flash.to_string()), "{day}");
    }
    assert_eq!(
        app.db
            .campaign(id)
            .await
            .unwrap()
            .creation_started_on
            .as_deref(),
        Some(earlier.as_str())
    );
    assert_eq!(item15().await, ("差".to_string(), "②".to_string()));
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    assert!(
        page.replace("&#x2f;", "/")
            .contains(&format!("创建启动日期 {earlier} 的前一年")),
        "{page}"
    );
}

#[tokio::test]
async fn publicity_ends_on_the_seventh_working_day_and_approval_waits_for_it() {
    let app = spawn().await;
    let t = answered(&app).await;
    confirm_uncertain(&app, &t).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, &app.base, t.campaign);
    // The village sees nothing before publication.
    let own = format!("{base}/village/campaigns/{id}/results");
    assert_eq!(get_text(&t.op1.0, &own).await.0, 404);
    national_day_calendar(admin, base, csrf).await;
    let (s, page, _) = upload(
        admin,
        &format!("{base}/admin/calendar"),
        csrf,
        "bad.csv",
        "日期,类型\n2026-13-01,放假\n".as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert!(page.contains("第2行"), "{page}");
    set_notice_contact(base, &t.admin, id).await;
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/publicity"),
        csrf,
        &[("start", "2026-09-30")],
    )
    .await;
    assert_eq!(s, 303);
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    // 9-30, 10-08, 10-09, 10-10 (调休), 10-12, 10-13, 10-14.
    assert!(page.contains("2026-09-30 至 2026-10-14"), "{page}");
    // An unresolved objection blocks approval; resolving it lets it through (the period
    // is over: today is after 2026-10-14).
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/objections"),
        csrf,
        &[("summary", "对V1结果有异议"), ("received_on", "2026-10-09")],
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/approve"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(flash(&loc), "e=unresolved");
    let oid = app.db.objections(id).await.unwrap()[0].id;
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/objections/{oid}/resolve"),
        csrf,
        &[
            ("decision", "dismissed"),
            ("resolution", "已复核，维持原结果"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    // The village now sees its own aggregates, never comments, and no other village.
    let (s, page) = get_text(&t.op1.0, &own).await;
    assert_eq!(s, 200);
    assert!(page.contains("一村") && page.contains("满意率"));
    assert!(!page.contains("cmd|") && !page.contains("二村"));
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/approve"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(flash(&loc), "m=approved");
    assert_eq!(
        app.db.campaign(id).await.unwrap().state,
        minyi::domain::CampaignState::Approved
    );
    // After approval the grades are locked.
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/override"),
        csrf,
        &[("grade", "差"), ("reason", "晚了")],
    )
    .await;
    assert_eq!(flash(&loc), "e=approved");
}

#[tokio::test]
async fn approval_is_refused_while_the_publicity_period_runs() {
    let app = spawn().await;
    let t = answered(&app).await;
    confirm_uncertain(&app, &t).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, &app.base, t.campaign);
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/approve"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(flash(&loc), "e=not_published");
    set_notice_contact(base, &t.admin, id).await;
    let today = minyi::domain::today();
    post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/publicity"),
        csrf,
        &[("start", &today)],
    )
    .await;
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/approve"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(flash(&loc), "e=period");
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/publicity"),
        csrf,
        &[("start", &today)],
    )
    .await;
    assert_eq!(flash(&loc), "e=published");
}

#[tokio::test]
async fn downloads_open_in_excel_and_gbk_software_and_match_the_json_api() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    let (h, rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/comments.csv"),
    )
    .await;
    assert_eq!(
        h,
        ["村（社区）代码", "村（社区）名称", "问卷", "题目", "内容"]
    );
    // V1's 15 comments; V2's 3 answers are fewer than k, so its comments are withheld.
    assert_eq!(rows.len(), 15);
    assert!(rows.iter().all(|r| r[0] == "V1"), "{rows:?}");
    assert!(
        rows.iter().all(|r| r[4] == "'=cmd|'/c calc'!A1"),
        "{rows:?}"
    );
    // GB18030 on request: no BOM, decodes cleanly, same rows.
    let r = admin
        .get(format!(
            "{base}/admin/campaigns/{id}/downloads/tallies.csv?encoding=gb18030"
        ))
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
    assert!(!bad && !bytes.starts_with(b"\xEF\xBB\xBF"));
    assert!(text.starts_with("村（社区）代码,"));
    let (_, utf8_rows) = csv(
        admin,
        &format!("{base}/admin/campaigns/{id}/downloads/tallies.csv"),
    )
    .await;
    assert_eq!(
        csv::Reader::from_reader(text.as_bytes()).records().count(),
        utf8_rows.len()
    );
    // Every download answers; the JSON API holds the same rows.
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "admin", "password": "commission-2026-key"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    for name in [
        "tallies",
        "counts",
        "item16",
        "assessment",
        "rates",
        "draw",
        "comments",
    ] {
        let (_, rows) = csv(
            admin,
            &format!("{base}/admin/campaigns/{id}/downloads/{name}.csv"),
        )
        .await;
        let json: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/api/campaigns/{id}/results/{name}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(rows.len()), "{name}");
    }
    let item16: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/campaigns/{id}/results/item16"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item16[0]["village_code"], "V1");
    let r = item16[0]["r"].as_f64().unwrap();
    assert!((r - 8600.0 / 87.0).abs() < 1e-9, "{r}");
    // Nobody else gets them.
    assert_eq!(
        get_text(
            &t.op1.0,
            &format!("{base}/admin/campaigns/{id}/downloads/comments.csv")
        )
        .await
        .0,
        403
    );
    assert_eq!(
        get_text(
            &client(),
            &format!("{base}/api/campaigns/{id}/results/comments")
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn the_demo_fills_an_empty_database_and_every_results_page_shows_it() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    assert!(
        minyi::demo::fill(&app.db).await.is_err(),
        "only an empty database"
    );
    // Every change the demo makes goes through the audited operations, as a person's would.
    let entries = app.db.audit_entries(0, 10_000).await.unwrap();
    // This year's round (the earlier year's round is checked on its own below).
    let count = |event: &str| {
        entries
            .iter()
            .filter(|e| e.event == event)
            .filter(|e| e.campaign_id.is_none_or(|c| c == made.campaign_id))
            .count()
    };
    let created = entries
        .iter()
        .find(|e| e.event == "campaign.create")
        .unwrap();
    assert!(
        created.details.contains(r#""demo":true"#),
        "{}",
        created.details
    );
    assert_eq!(count("roster.receipt"), 12);
    assert_eq!(count("panel.add"), 7);
    assert_eq!(count("grades"), 12);
    assert_eq!(count("publicity.start"), 1);
    assert_eq!(count("objection.add"), 1);
    assert_eq!(count("account.create"), 1);
    assert_eq!(count("campaign.notice"), 1);
    // A few say they have not used the services: the call is recorded as 非服务对象.
    let not_recipient = minyi::fieldwork::Outcome::NotRecipient.key();
    let screened_out = entries
        .iter()
        .filter(|e| e.event == "attempt" && e.details.contains(not_recipient))
        .count();
    assert!(screened_out >= 1, "no call screened out");
    // The others passed the screener; most are satisfied, some say 说不清, a few were coached.
    let id = made.campaign_id;
    let mut answers = Vec::new();
    for v in app.db.drawn_villages(id).await.unwrap() {
        for (questionnaire, json) in app.db.village_responses(id, v.id).await.unwrap() {
            if questionnaire == "recipients" {
                answers.push(json);
            }
        }
    }
    let with = |text: &str| answers.iter().filter(|a| a.contains(text)).count();
    assert!(answers.len() > 100, "{}", answers.len());
    assert_eq!(with(r#""served":"yes""#), answers.len());
    assert!(with("dont_know") >= 1 && with(r#""coached":"yes""#) >= 1);
    assert!(with(r#""coached":"yes""#) * 10 < answers.len());
    let satisfied = with(r#""attitude":"满意""#) + with(r#""attitude":"比较满意""#);
    assert!(
        satisfied * 3 > answers.len() * 2,
        "{satisfied} of {}",
        answers.len()
    );
    let (admin, _) = admin_client(&app).await;
    let (s, page) = get_text(
        &admin,
        &format!("{}/admin/campaigns/{id}/results", app.base),
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains("演示数据") && page.contains("唐家坊村（演示）"));
    let (h, rows) = csv(
        &admin,
        &format!("{}/admin/campaigns/{id}/downloads/assessment.csv", app.base),
    )
    .await;
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter()
            .any(|r| r[col(&h, "原因")].contains("负面清单 ⑥"))
    );
    assert!(rows.iter().any(|r| r[col(&h, "结论")] == "通过"));
    let (_, page) = get_text(
        &admin,
        &format!("{}/admin/campaigns/{id}/results/430527101", app.base),
    )
    .await;
    assert!(page.contains("第16项"));

    // The round two years earlier: approved, its passing villages titled until the day
    // before the same date two years on, and each village's page compares both rounds.
    let campaigns = app.db.list_campaigns().await.unwrap();
    assert_eq!(campaigns.len(), 2);
    let earlier = campaigns.iter().find(|c| c.id != id).unwrap();
    assert_eq!(earlier.year, 2024);
    assert_eq!(earlier.state.as_str(), "approved");
    let titles = app.db.titles().await.unwrap();
    assert!(!titles.is_empty() && titles.len() < 12, "{}", titles.len());
    assert!(titles.iter().all(|t| t.campaign_id == earlier.id
        && t.granted_on == "2024-12-20"
        && t.expires_on == "2026-12-19"));
    let (s, page) = get_text(&admin, &format!("{}/admin/titles", app.base)).await;
    assert_eq!(s, 200);
    assert!(page.contains("唐镇党发〔2024〕38号（演示）"), "{page}");
    let (s, page) = get_text(
        &admin,
        &format!("{}/admin/villages/430527101/history", app.base),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        page.contains("2024年廉洁村") && page.contains("2026年廉洁村") && page.contains("<svg"),
        "{page}"
    );
}
