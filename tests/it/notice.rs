//! The notice to respondents (PIPL Art. 17) over HTTP: the administrator sets it on the
//! campaign page (audited), a village operator cannot, and the survey link page and the
//! phone interview show it. Runs on SQLite, or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;

const PARTY: &str = "湘南民意调查有限公司";
const PHONE: &str = "0739-5551234";
const CONTACT: &str = "镇纪委办公室 0739-5550000";

#[tokio::test]
async fn the_administrator_sets_the_notice_and_respondents_see_it_before_the_questions() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let sv = surveyor(&app, &t).await;
    let campaign_url = format!("{}/admin/campaigns/{}", app.base, t.campaign);
    let notice_url = format!("{campaign_url}/notice");
    let (s, page) = get_text(&t.admin.0, &campaign_url).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("尚未填写第三方名称和核实电话"),
        "warned while missing"
    );

    // A village operator cannot set it; nothing changes and nothing is audited.
    let before = app.db.audit_entries(1, 10_000).await.unwrap().len();
    let (s, _, _) = post_form(
        &t.op1.0,
        &notice_url,
        &t.op1.1,
        &[("party", "冒名公司"), ("phone", "110")],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(app.db.notice(t.campaign).await.unwrap().party, "");
    assert_eq!(app.db.audit_entries(1, 10_000).await.unwrap().len(), before);

    // A phone with letters is refused, nothing stored.
    let (s, _, loc) = post_form(
        &t.admin.0,
        &notice_url,
        &t.admin.1,
        &[("party", PARTY), ("phone", "call me")],
    )
    .await;
    assert_eq!((s, location_query(&loc).as_str()), (303, "e=bad_notice"));
    assert_eq!(app.db.notice(t.campaign).await.unwrap().phone, "");

    let (s, _, loc) = post_form(
        &t.admin.0,
        &notice_url,
        &t.admin.1,
        &[
            ("party", PARTY),
            ("phone", PHONE),
            ("source", ""),
            ("retention", ""),
            ("contact", CONTACT),
        ],
    )
    .await;
    assert_eq!((s, location_query(&loc).as_str()), (303, "m=notice"));
    let notice = app.db.notice(t.campaign).await.unwrap();
    assert_eq!(
        (notice.party.as_str(), notice.phone.as_str()),
        (PARTY, PHONE)
    );
    assert_eq!(notice.source, minyi::db::Notice::DEFAULT_SOURCE);
    let (_, page) = get_text(&t.admin.0, &campaign_url).await;
    assert!(page.contains(PARTY) && !page.contains("尚未填写第三方名称和核实电话"));

    let entries = app.db.audit_entries(1, 10_000).await.unwrap();
    let entry = entries
        .iter()
        .find(|e| e.event == "campaign.notice")
        .expect("the notice is audited");
    assert_eq!(entry.campaign_id, Some(t.campaign));
    assert!(entry.details.contains(PARTY) && entry.details.contains(PHONE));

    // Fieldwork: the link page shows the notice before the first question.
    freeze_draw_and_start(&app, &t).await;
    let lines = invitations(&app, &sv, t.campaign).await;
    let (s, page) = get_text(&client(), &format!("{}/s/{}", app.base, lines[0].1)).await;
    assert_eq!(s, 200);
    let first_question = page.find("<fieldset>").expect("questions");
    for text in [PARTY, PHONE, CONTACT, minyi::db::Notice::DEFAULT_RETENTION] {
        let at = page.find(text).unwrap_or_else(|| panic!("{text} missing"));
        assert!(at < first_question, "{text} comes before the questions");
    }

    // The phone interview opens with who calls, for whom, and the number to check.
    let cases = app.db.cases(t.campaign, None).await.unwrap();
    let case = &cases[0];
    let (s, page) = get_text(
        &sv.0,
        &format!("{}/surveyor/cases/{}/interview", app.base, case.id),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("我是{PARTY}的调查员")) && page.contains(PHONE),
        "interviewer script"
    );
}
