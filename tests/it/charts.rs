//! Charts on the results pages, through the real app: the town's S per village, a village's
//! rates by dimension and its questions' options, on the commission's pages and on the
//! village's own page after publication — each an `<svg role="img">` with its text
//! alternative, none while fieldwork runs, and no figure below k in any of them.

use crate::common;

use crate::results_web::{confirm_uncertain, submit};
use common::*;
use minyi::forms::{Form, builtin, parse_answers};

/// One recipient's answers: every scored question `value`, except `attitude`.
fn answers(form: &Form, value: &str, attitude: &str) -> String {
    let mut fields: Vec<(String, String)> = valid_answers(form)
        .into_iter()
        .filter(|(k, _)| !form.question(k).is_some_and(|q| q.is_scored()))
        .collect();
    for q in form.scored_questions() {
        let v = if q.id == "attitude" { attitude } else { value };
        fields.push((q.id.clone(), v.to_string()));
    }
    parse_answers(form, &fields)
        .expect("valid answers")
        .to_json()
}

/// In fieldwork: V1 answered by fifteen people (twelve 满意, three 比较满意 with attitude
/// 不太满意), V2 by three (all 满意, fewer than k = 5: nothing of V2 may show).
async fn answered(app: &TestApp) -> Town {
    let (t, _) = fieldwork(app).await;
    let forms = builtin().unwrap();
    let cases = app.db.cases(t.campaign, None).await.unwrap();
    let v1: Vec<_> = cases.iter().filter(|c| c.village_code == "V1").collect();
    let v2: Vec<_> = cases.iter().filter(|c| c.village_code == "V2").collect();
    assert!(v1.len() >= 15 && v2.len() >= 3);
    for (i, case) in v1.iter().take(15).enumerate() {
        let (value, attitude) = if i < 12 {
            ("满意", "满意")
        } else {
            ("比较满意", "不太满意")
        };
        let json = answers(&forms.recipients, value, attitude);
        submit(app, &forms.recipients, case.id, case.village_id, json).await;
    }
    for case in v2.iter().take(3) {
        let json = answers(&forms.recipients, "满意", "满意");
        submit(app, &forms.recipients, case.id, case.village_id, json).await;
    }
    t
}

/// Every chart on a page, `<svg class="chart" …>…</svg>`.
fn charts(page: &str) -> Vec<&str> {
    page.split("<svg ")
        .skip(1)
        .filter(|s| s.starts_with("xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""))
        .map(|s| &s[..s.find("</svg>").expect("a closed svg")])
        .collect()
}

/// The value of an attribute or element of one chart.
fn between<'a>(chart: &'a str, start: &str, end: &str) -> &'a str {
    let at = chart
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {chart}"))
        + start.len();
    &chart[at..at + chart[at..].find(end).unwrap()]
}

/// A chart is an image with its text alternative: role, aria-label, title and desc.
fn accessible(chart: &str) {
    assert!(chart.contains("role=\"img\""), "{chart}");
    assert!(!between(chart, "aria-label=\"", "\"").is_empty(), "{chart}");
    assert!(!between(chart, "<title>", "</title>").is_empty(), "{chart}");
    assert!(!between(chart, "<desc>", "</desc>").is_empty(), "{chart}");
    assert!(chart.contains("viewBox=\"0 0 400 ") && chart.contains("width=\"100%\""));
    assert!(
        !chart.contains("<script") && !chart.contains("style="),
        "{chart}"
    );
}

/// The `<g>` row of a chart labelled `label`.
fn row<'a>(chart: &'a str, label: &str) -> &'a str {
    chart
        .split("<g>")
        .map(|g| g.split("</g>").next().unwrap_or(""))
        .find(|g| g.contains(&format!(">{label}<")))
        .unwrap_or_else(|| panic!("no row {label} in {chart}"))
}

async fn close(app: &TestApp, t: &Town) {
    assert!(app.db.close_fieldwork(t.campaign).await.unwrap());
}

#[tokio::test]
async fn no_chart_is_drawn_while_fieldwork_runs() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    for url in [
        format!("{base}/admin/campaigns/{id}/results"),
        format!("{base}/admin/campaigns/{id}/results/V1"),
    ] {
        let (s, page) = get_text(admin, &url).await;
        assert_eq!(s, 200, "{url}");
        assert!(page.contains("调查还在进行"), "{url}");
        assert!(
            charts(&page).is_empty() && !page.contains("<svg"),
            "{url}: {page}"
        );
        assert!(!page.contains("各题选项分布"), "{url}");
    }
}

#[tokio::test]
async fn the_results_pages_draw_the_town_and_a_village_with_a_text_alternative() {
    let app = spawn().await;
    let t = answered(&app).await;
    close(&app, &t).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);

    let (s, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert_eq!(s, 200);
    let town = charts(&page);
    assert_eq!(town.len(), 1, "{page}");
    let town = town[0];
    accessible(town);
    // The chart opens the villages' section, above its table.
    let section = page.find("<h2>各村(社区)</h2>").unwrap();
    let chart_at = page.find("<svg ").unwrap();
    assert!(section < chart_at && chart_at < page[section..].find("<table").unwrap() + section);
    // V1 is drawn with its S and grade in words; V2 (three answers) is named without a bar.
    let v1 = row(town, "V1 一村");
    assert!(v1.contains("class=\"value\"") && v1.contains('%'), "{v1}");
    let v2 = row(town, "V2 二村");
    assert!(!v2.contains("<rect") && (v2.contains("不显示") || v2.contains("数据不足")));
    assert!(between(town, "<desc>", "</desc>").contains("V1 一村 "));

    let (s, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    assert_eq!(s, 200);
    let all = charts(&page);
    for c in &all {
        accessible(c);
    }
    let dims = all[0];
    assert!(between(dims, "<title>", "</title>").contains("V1 一村"));
    // 服务: attitude 12 of 15 satisfied and convenience 15 of 15: 27 of 30, 90.0%.
    assert!(row(dims, "服务").contains(">90.0%<"), "{dims}");
    assert!(between(dims, "aria-label=\"", "\"").contains("服务 90.0%"));
    // Above the rates table; the questions' options behind a toggle, for both forms.
    let table = page.find("<h2>服务对象满意率</h2>").unwrap();
    assert!(page[table..].find("<svg ").unwrap() < page[table..].find("<table").unwrap());
    assert_eq!(page.matches("<summary>各题选项分布</summary>").count(), 2);
    let attitude = all
        .iter()
        .find(|c| between(c, "<title>", "</title>").contains("态度"))
        .expect("the attitude question's chart");
    assert!(
        between(attitude, "<desc>", "</desc>").contains("满意 80.0%（12 人）"),
        "{attitude}"
    );
    // No panel rated V1: its questions say so without a bar.
    assert!(page.contains("答卷少于 5 份，不显示"));
}

#[tokio::test]
async fn a_village_below_k_appears_in_no_chart_with_a_figure() {
    let app = spawn().await;
    let t = answered(&app).await;
    close(&app, &t).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    // V2's three answers are all 满意: every hidden rate of V2 is 100.0%, its counts 3.
    let (s, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V2")).await;
    assert_eq!(s, 200);
    let all = charts(&page);
    assert!(all.len() > 2, "{page}");
    for c in &all {
        accessible(c);
        assert!(!c.contains("class=\"value\""), "a bar of V2: {c}");
        assert!(!c.contains("100.0%") && !c.contains("（3 人）"), "{c}");
        let label = between(c, "aria-label=\"", "\"");
        let desc = between(c, "<desc>", "</desc>");
        for text in [label, desc] {
            assert!(!text.contains("100.0") && !text.contains(" 3 "), "{text}");
        }
    }
    assert!(row(all[0], "服务").contains("不显示"));
    // The questions' charts: no stacked bar at all.
    assert!(all[1..].iter().all(|c| !c.contains("<g>")));
    assert!(page.contains("答卷少于 5 份，不显示"));
    // The town's chart: V2 named, with no figure of its own.
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    let town = charts(&page)[0];
    let desc = between(town, "<desc>", "</desc>");
    let v2 = desc.split('；').find(|d| d.starts_with("V2 ")).unwrap();
    assert!(!v2.contains('%'), "{v2}");
    let label = between(town, "aria-label=\"", "\"");
    let v2 = label.split('，').find(|d| d.contains("V2 ")).unwrap();
    assert!(!v2.contains('%'), "{v2}");
}

#[tokio::test]
async fn a_village_sees_its_own_charts_after_publication_and_only_its_scored_questions() {
    let app = spawn().await;
    let t = answered(&app).await;
    close(&app, &t).await;
    confirm_uncertain(&app, &t).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, &app.base, t.campaign);
    set_notice_contact(base, &t.admin, id).await;
    let (s, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/publicity"),
        csrf,
        &[("start", "2026-09-30")],
    )
    .await;
    assert_eq!(
        (s, location_query(&loc)),
        (303, "m=published#publicity".into())
    );
    let own = format!("{base}/village/campaigns/{id}/results");
    let (s, page) = get_text(&t.op1.0, &own).await;
    assert_eq!(s, 200);
    let all = charts(&page);
    for c in &all {
        accessible(c);
    }
    assert!(row(all[0], "服务").contains(">90.0%<"), "{}", all[0]);
    let titles: Vec<&str> = all
        .iter()
        .map(|c| between(c, "<title>", "</title>"))
        .collect();
    assert!(titles.iter().any(|t| t.contains("态度")), "{titles:?}");
    // The screening and quality questions are the commission's: not on the village's page.
    let forms = builtin().unwrap();
    for q in ["served", "coached", "age_band"] {
        let text = &forms.recipients.question(q).unwrap().text;
        assert!(!titles.iter().any(|t| t.contains(text.as_str())), "{q}");
    }
    // V2's operator sees V2's page: names only, no bar.
    let (s, page) = get_text(&t.op2.0, &own).await;
    assert_eq!(s, 200);
    for c in charts(&page) {
        assert!(
            !c.contains("class=\"value\"") && !c.contains("100.0%"),
            "{c}"
        );
    }
}
