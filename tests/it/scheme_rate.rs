//! The shipped scheme grades item 16 by the satisfaction rate: the pages print its rules and
//! how each village's S meets its line, and a grade whose interval crosses a line (不确定)
//! must be confirmed by the 领导小组 before publicity can start.

use crate::common::*;

#[tokio::test]
async fn the_results_pages_print_every_rule_and_how_s_meets_its_line() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let (admin, _) = admin_client(&app).await;
    let id = made.campaign_id;
    let (s, page) = get_text(
        &admin,
        &format!("{}/admin/campaigns/{id}/results", app.base),
    )
    .await;
    assert_eq!(s, 200);
    for rule in [
        "抽样规则:按公式计算:误差 ±10%,置信度 95%;名单不足 50 人的村(社区)全部调查",
        "服务、作风、廉洁满意率的平均数（各占 三分之一）",
        "等次线（含本数）：好 ≥ 90%，较好 ≥ 80%，一般 ≥ 60%，其余为差",
        "有效被访者少于 30 人不评等次",
        "须由领导小组确认",
    ] {
        assert!(page.contains(rule), "{rule} missing");
    }
    // Each graded village's page says which line its S reaches.
    let results = minyi::results::report::campaign_results(
        &app.db,
        id,
        &minyi::fieldwork::pinned_forms(&app.db, id).await.unwrap(),
    )
    .await
    .unwrap();
    let shown = results
        .villages
        .iter()
        .find(|v| v.item16.s.is_some() && v.item16.grade.is_some())
        .expect("a village with S shown");
    let (_, village) = get_text(
        &admin,
        &format!("{}/admin/campaigns/{id}/results/{}", app.base, shown.code),
    )
    .await;
    let grade = shown.item16.grade.as_deref().unwrap();
    let s = format!("综合满意率 {:.1}%，", shown.item16.s.unwrap());
    assert!(village.contains(&s), "{s} not on the page");
    assert!(village.contains(&format!("评为{grade}")), "{grade}");
    assert!(village.contains("群众满意率 R"));
}

#[tokio::test]
async fn an_uncertain_grade_must_be_confirmed_before_publicity_starts() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let id = made.campaign_id;
    // The demo confirmed every uncertain grade through the audited override.
    let entries = app.db.audit_entries(0, 10_000).await.unwrap();
    let confirmed = entries
        .iter()
        .filter(|e| e.event == "item16.override" && e.campaign_id == Some(id))
        .count();
    let forms = minyi::fieldwork::pinned_forms(&app.db, id).await.unwrap();
    let results = minyi::results::report::campaign_results(&app.db, id, &forms)
        .await
        .unwrap();
    let uncertain: Vec<&minyi::results::VillageResults> = results
        .villages
        .iter()
        .filter(|v| v.item16.uncertain)
        .collect();
    assert!(!uncertain.is_empty(), "the demo has an uncertain village");
    assert_eq!(confirmed, uncertain.len());
    let v = uncertain[0];
    let computed = v.item16.grade.clone().unwrap();

    // The demo published its results, after which item 16 no longer changes: take its
    // publicity back, as before publication.
    exec(
        &app.db,
        "DELETE FROM proposed_list WHERE campaign_id = $1",
        id.0,
    )
    .await;
    assert_eq!(
        exec(
            &app.db,
            "DELETE FROM publicity WHERE campaign_id = $1",
            id.0
        )
        .await,
        1
    );

    // Withdrawing the confirmation puts the village back on the list, and publicity is
    // refused with the reason, through the page as through the operation.
    let (admin, csrf) = admin_client(&app).await;
    let override_url = format!(
        "{}/admin/campaigns/{id}/results/{}/override",
        app.base, v.code
    );
    let (s, _, _) = post_form(
        &admin,
        &override_url,
        &csrf,
        &[("grade", ""), ("reason", "重新研究")],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        minyi::ops::publicity::unconfirmed_uncertain(&app.db, id)
            .await
            .unwrap(),
        vec![v.code.clone()]
    );
    let (_, list) = get_text(
        &admin,
        &format!("{}/admin/campaigns/{id}/results", app.base),
    )
    .await;
    assert!(list.contains("待确认"));
    let (_, page) = get_text(&admin, &override_url.replace("/override", "")).await;
    assert!(
        page.contains("须由领导小组确认"),
        "the village page says what to do"
    );
    let publicity = format!("{}/admin/campaigns/{id}/publicity", app.base);
    let (s, _, loc) = post_form(&admin, &publicity, &csrf, &[("start", "2026-12-07")]).await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("e=unconfirmed"), "{loc:?}");
    let (_, refused) = get_text(
        &admin,
        &format!("{}/admin/campaigns/{id}/results?e=unconfirmed", app.base),
    )
    .await;
    assert!(
        refused.contains("须先由领导小组确认等次"),
        "the refusal says why"
    );

    // Confirmed again (the computed grade kept, with a reason): nothing is pending, and
    // publicity starts.
    let (s, _, _) = post_form(
        &admin,
        &override_url,
        &csrf,
        &[
            ("grade", computed.as_str()),
            ("reason", "领导小组研究，维持计算等次"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert!(
        minyi::ops::publicity::unconfirmed_uncertain(&app.db, id)
            .await
            .unwrap()
            .is_empty()
    );
    let (_, _, loc) = post_form(&admin, &publicity, &csrf, &[("start", "2026-12-07")]).await;
    assert!(location_query(&loc).starts_with("m=published"), "{loc:?}");
    // From then on the confirmation stays as it is.
    let (s, body, _) = post_form(
        &admin,
        &override_url,
        &csrf,
        &[("grade", ""), ("reason", "公示后再改")],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("已经公示"), "{body}");
}
