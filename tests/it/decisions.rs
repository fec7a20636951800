//! The proposed list (拟评定名单), its publicity and what follows: adjustments with a reason,
//! the list frozen at publication (grades changing afterwards leave it alone), a change during
//! publicity restarting it with a new notice (the old one kept), objections upheld (the
//! village leaves the list) or dismissed, and per village the 镇纪委's study and the 镇党委's
//! decision granting the title — with a village operator seeing only its own status.

use crate::common;

use common::*;
use minyi::ids::CampaignId;

/// The flash code of a redirect, without the page anchor.
fn flash(loc: &Option<String>) -> String {
    let q = location_query(loc);
    q.split('#').next().unwrap_or_default().to_string()
}

/// A closed campaign whose V1 (一村) passes (items 1–15 at 好, item 16 confirmed 好) and
/// whose V2 (二村) does not; the National Day calendar and the notice contact set.
async fn graded(app: &TestApp) -> Town {
    let (t, _) = fieldwork(app).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, app.base.as_str(), t.campaign);
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/close"),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 303);
    let grades: Vec<(String, String)> = (1..=15)
        .flat_map(|i| {
            [
                (format!("grade_{i}"), "好".to_string()),
                (format!("source_{i}"), "onsite".to_string()),
            ]
        })
        .collect();
    let grades: Vec<(&str, &str)> = grades
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/grades"),
        csrf,
        &grades,
    )
    .await;
    assert_eq!(s, 303);
    set_item16(app, &t, "V1", "好").await;
    for code in minyi::ops::publicity::unconfirmed_uncertain(&app.db, id)
        .await
        .unwrap()
    {
        set_item16(app, &t, &code, "一般").await;
    }
    national_day_calendar(admin, base, csrf).await;
    set_notice_contact(base, &t.admin, id).await;
    t
}

async fn set_item16(app: &TestApp, t: &Town, code: &str, grade: &str) {
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!(
            "{}/admin/campaigns/{}/results/{code}/override",
            app.base, t.campaign
        ),
        &t.admin.1,
        &[("grade", grade), ("reason", "领导小组研究确认")],
    )
    .await;
    assert_eq!(s, 303);
}

/// POSTs a form to a path under the campaign; returns the flash code.
async fn act(app: &TestApp, t: &Town, path: &str, fields: &[(&str, &str)]) -> String {
    let (s, body, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}/{path}", app.base, t.campaign),
        &t.admin.1,
        fields,
    )
    .await;
    assert_eq!(s, 303, "{path} {fields:?}: {body}");
    flash(&loc)
}

async fn events(app: &TestApp, event: &str) -> Vec<String> {
    app.db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == event)
        .map(|e| e.details)
        .collect()
}

async fn results_page(app: &TestApp, t: &Town) -> String {
    let (s, page) = get_text(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}/results", app.base, t.campaign),
    )
    .await;
    assert_eq!(s, 200);
    page
}

async fn notice(app: &TestApp, t: &Town) -> String {
    let (s, page) = get_text(
        &t.admin.0,
        &format!(
            "{}/admin/campaigns/{}/publicity/notice",
            app.base, t.campaign
        ),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    page
}

/// A day to restart publicity on: the first Monday after tomorrow (today or later, as a
/// restart must be, and clear of the test calendar's 2026 National Day holidays), with the
/// seventh working day from it (the Tuesday after), both as `YYYY-MM-DD`, and the start as
/// the notice writes it.
fn restart_days() -> (String, String, String) {
    let today = minyi::results::calendar::parse_date(&minyi::domain::today()).unwrap();
    let mut start = today + time::Duration::days(2);
    while start.weekday() != time::Weekday::Monday {
        start += time::Duration::days(1);
    }
    let end = start + time::Duration::days(8);
    let iso = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let chinese = format!(
        "{}年{}月{}日",
        start.year(),
        u8::from(start.month()),
        start.day()
    );
    (iso(start), iso(end), chinese)
}

/// The villages (codes) of the final list of the period in force.
async fn final_list(app: &TestApp, id: CampaignId) -> Vec<String> {
    let p = app.db.publicity(id).await.unwrap().unwrap();
    let codes: std::collections::BTreeMap<_, _> = app
        .db
        .frame_sizes(id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.village_id, f.code))
        .collect();
    app.db
        .proposed_rows(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.period == p.period && r.removed_by_objection.is_none())
        .map(|r| codes[&r.village_id].clone())
        .collect()
}

#[tokio::test]
async fn the_proposed_list_is_adjusted_with_a_reason_frozen_at_publication_and_a_change_restarts_publicity()
 {
    let app = spawn().await;
    let t = graded(&app).await;
    let id = t.campaign;

    // Before publicity the list is the villages that pass: V1 only.
    let page = results_page(&app, &t).await;
    assert!(page.contains("拟评定名单"), "{page}");
    assert!(page.contains("<strong>列入</strong>"), "{page}");

    // Refused, each changing nothing: no reason, a blank reason, adding a village already
    // listed, removing one not listed, no action, an unknown village.
    for (fields, expected) in [
        (vec![("village", "V2"), ("action", "add")], "e=adj_reason"),
        (
            vec![("village", "V2"), ("action", "add"), ("reason", "   ")],
            "e=adj_reason",
        ),
        (
            vec![("village", "V1"), ("action", "add"), ("reason", "重复")],
            "e=on_list",
        ),
        (
            vec![("village", "V2"), ("action", "remove"), ("reason", "无")],
            "e=not_on_list",
        ),
        (
            vec![("village", "V2"), ("action", "drop"), ("reason", "无")],
            "e=adj_action",
        ),
    ] {
        assert_eq!(
            act(&app, &t, "proposed", &fields).await,
            expected,
            "{fields:?}"
        );
    }
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/proposed", app.base),
        &t.admin.1,
        &[("village", "V9"), ("action", "add"), ("reason", "无")],
    )
    .await;
    assert_eq!(s, 400);
    assert!(app.db.proposed_adjustments(id).await.unwrap().is_empty());
    assert!(events(&app, "proposed.adjust").await.is_empty());

    // The 领导小组 adds V2 with its reason: kept and audited.
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V2"),
                ("action", "add"),
                ("reason", "领导小组研究：第16项样本不足，综合考虑列入")
            ]
        )
        .await,
        "m=adjusted"
    );
    let adjustments = app.db.proposed_adjustments(id).await.unwrap();
    assert_eq!(adjustments.len(), 1);
    assert_eq!(adjustments[0].period, None);
    assert_eq!(events(&app, "proposed.adjust").await.len(), 1);
    let page = results_page(&app, &t).await;
    assert!(page.contains("综合考虑列入"), "{page}");

    // Publishing freezes the list: the notice lists exactly V1 and V2.
    assert_eq!(
        act(&app, &t, "publicity", &[("start", "2026-09-30")]).await,
        "m=published"
    );
    assert_eq!(final_list(&app, id).await, ["V1", "V2"]);
    let first = notice(&app, &t).await;
    assert!(first.contains("一村") && first.contains("二村"), "{first}");
    assert!(first.contains("拟评定以下 2 个村"), "{first}");

    // After publication the grades no longer change through the pages.
    let (s, body, _) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/results/V1/override", app.base),
        &t.admin.1,
        &[("grade", "差"), ("reason", "公示后改等次")],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("拟评定名单已经公示"), "{body}");
    // Should V1's verdict fall all the same (a grade changed by an older version, say), the
    // frozen list does not move, and the page shows both and warns.
    exec(
        &app.db,
        "INSERT INTO item16_overrides (campaign_id, village_id, grade, reason, entered_by, entered_at)
         SELECT $1, id, '差', '旧版本公示后的更改', NULL, 0 FROM villages WHERE code = 'V1'",
        id.0,
    )
    .await;
    assert_eq!(final_list(&app, id).await, ["V1", "V2"]);
    let page = results_page(&app, &t).await;
    assert!(page.contains("与公示名单不一致"), "{page}");
    assert!(page.contains("当前的评估结论与公示名单不一致"), "{page}");
    assert_eq!(notice(&app, &t).await, first);

    // A change during publicity needs the new start day, not before the first one.
    fn remove_v1(start: &str) -> Vec<(&'static str, &str)> {
        vec![
            ("village", "V1"),
            ("action", "remove"),
            ("reason", "第16项复核为差"),
            ("start", start),
        ]
    }
    assert_eq!(
        act(&app, &t, "proposed", &remove_v1("")).await,
        "e=needs_start"
    );
    assert_eq!(
        act(&app, &t, "proposed", &remove_v1("2026-09-29")).await,
        "e=start_early"
    );
    assert_eq!(
        act(&app, &t, "proposed", &remove_v1("2026-10-40")).await,
        "e=date"
    );
    // Nor before today: a restarted publicity is never backdated, nor already over.
    assert_eq!(
        act(&app, &t, "proposed", &remove_v1("2026-10-15")).await,
        "e=start_past"
    );
    assert_eq!(app.db.proposed_adjustments(id).await.unwrap().len(), 1);
    assert!(app.db.publicity_history(id).await.unwrap().is_empty());

    // Removing V1 restarts publicity from the day given: a new period and notice; the old
    // kept.
    let (start, end, start_cn) = restart_days();
    let first_head = app.db.publicity(id).await.unwrap().unwrap().audit_head;
    assert_eq!(
        act(&app, &t, "proposed", &remove_v1(&start)).await,
        "m=restarted"
    );
    let p = app.db.publicity(id).await.unwrap().unwrap();
    assert_eq!(p.period, 2);
    assert_eq!(p.start_date, start);
    assert_eq!(p.end_date, end);
    assert!(p.audit_head.is_some() && p.audit_head != first_head);
    assert_eq!(final_list(&app, id).await, ["V2"]);
    let history = app.db.publicity_history(id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].start_date.as_str(), history[0].end_date.as_str()),
        ("2026-09-30", "2026-10-14")
    );
    let old_text = history[0].notice_text.clone().unwrap();
    assert!(old_text.contains("一村") && old_text.contains("二村"));
    let second = notice(&app, &t).await;
    assert!(
        second.contains("二村") && !second.contains("一村"),
        "{second}"
    );
    assert!(second.contains(&start_cn), "{second}");
    assert!(
        second.contains("因拟评定名单调整，现重新公示；2026年9月30日发布的原公示同时废止。"),
        "{second}"
    );
    let docx = t
        .admin
        .0
        .get(format!(
            "{}/admin/campaigns/{id}/publicity/notice.docx",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(docx.status(), 200);
    let village_notice = get_text(
        &t.op1.0,
        &format!("{}/village/campaigns/{id}/publicity/notice", app.base),
    )
    .await
    .1;
    assert!(
        village_notice.contains("二村") && !village_notice.contains("一村"),
        "{village_notice}"
    );
    let page = results_page(&app, &t).await;
    assert!(
        page.contains(&format!("已重新公示(第 2 次公示,公示期 {start} 至 {end})")),
        "{page}"
    );
    assert!(
        page.contains("第 1 次公示:2026-09-30 至 2026-10-14"),
        "{page}"
    );
    assert!(page.contains(&format!("{start} 至 {end}")), "{page}");
    let restarts = events(&app, "publicity.restart").await;
    assert_eq!(restarts.len(), 1);
    assert!(restarts[0].contains(&start) && restarts[0].contains("2026-09-30"));
    assert_eq!(events(&app, "proposed.adjust").await.len(), 2);
    assert_eq!(app.db.proposed_adjustments(id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn objections_are_upheld_or_dismissed_and_each_village_is_studied_then_approved_with_its_title()
 {
    let app = spawn().await;
    let t = graded(&app).await;
    let id = t.campaign;
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V2"),
                ("action", "add"),
                ("reason", "综合考虑列入")
            ]
        )
        .await,
        "m=adjusted"
    );
    assert_eq!(
        act(&app, &t, "publicity", &[("start", "2026-09-30")]).await,
        "m=published"
    );
    let vid = |code: &'static str| {
        let db = app.db.clone();
        async move {
            db.frame_sizes(id)
                .await
                .unwrap()
                .into_iter()
                .find(|f| f.code == code)
                .unwrap()
                .village_id
        }
    };
    let (v1, v2) = (vid("V1").await, vid("V2").await);
    for (village, summary) in [
        (v2.to_string(), "反映二村低保评定不公开"),
        (v1.to_string(), "反映一村账目"),
        (String::new(), "反映全镇评估程序"),
    ] {
        assert_eq!(
            act(
                &app,
                &t,
                "objections",
                &[
                    ("village", village.as_str()),
                    ("received_on", "2026-10-09"),
                    ("summary", summary)
                ]
            )
            .await,
            "m=objection"
        );
    }
    let objections = app.db.objections(id).await.unwrap();
    let (o2, o1, o_town) = (objections[0].id, objections[1].id, objections[2].id);

    // An objection needs a decision and a reason; an unknown one is not found.
    let decide = |o: minyi::ids::ObjectionId| format!("objections/{o}/resolve");
    assert_eq!(
        act(&app, &t, &decide(o2), &[("reason", "查实")]).await,
        "e=objection_decision"
    );
    assert_eq!(
        act(&app, &t, &decide(o2), &[("decision", "upheld")]).await,
        "e=resolution"
    );
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!(
            "{}/admin/campaigns/{id}/objections/999999/resolve",
            app.base
        ),
        &t.admin.1,
        &[("decision", "upheld"), ("reason", "查实")],
    )
    .await;
    assert_eq!(s, 404);
    assert!(
        app.db
            .objections(id)
            .await
            .unwrap()
            .iter()
            .all(|o| o.resolution.is_none())
    );

    // While objections about V1 or the whole town are open, V1's study is refused.
    let study = |code: &str| format!("decisions/{code}/study");
    let approve = |code: &str| format!("decisions/{code}/decide");
    assert_eq!(
        act(
            &app,
            &t,
            &study("V1"),
            &[("studied_on", "2026-10-20"), ("minutes_ref", "纪要5号")]
        )
        .await,
        "e=open_objections"
    );

    // Upheld about V2: it leaves the list without a restart. Dismissed: V1 stays.
    assert_eq!(
        act(
            &app,
            &t,
            &decide(o2),
            &[("decision", "upheld"), ("reason", "经查属实")]
        )
        .await,
        "m=upheld"
    );
    assert_eq!(
        act(
            &app,
            &t,
            &decide(o1),
            &[("decision", "dismissed"), ("reason", "经查不属实")]
        )
        .await,
        "m=dismissed"
    );
    assert_eq!(
        act(
            &app,
            &t,
            &decide(o_town),
            &[("decision", "dismissed"), ("resolution", "程序合规")]
        )
        .await,
        "m=dismissed"
    );
    assert_eq!(final_list(&app, id).await, ["V1"]);
    assert_eq!(app.db.publicity(id).await.unwrap().unwrap().period, 1);
    assert!(app.db.publicity_history(id).await.unwrap().is_empty());
    assert_eq!(events(&app, "objection.uphold").await.len(), 1);
    assert_eq!(events(&app, "objection.dismiss").await.len(), 2);
    let page = results_page(&app, &t).await;
    assert!(
        page.contains(&format!("因异议属实移出(第 {o2} 号异议)")),
        "{page}"
    );
    assert!(page.contains("<strong>属实</strong>:经查属实"), "{page}");
    assert!(
        page.contains("<strong>不属实</strong>:经查不属实"),
        "{page}"
    );
    // An objection resolved before decisions existed (no decision stored) reads 已处理.
    exec(
        &app.db,
        "UPDATE objections SET decision = NULL WHERE id = $1",
        o_town.0,
    )
    .await;
    let page = results_page(&app, &t).await;
    assert!(page.contains("<strong>已处理</strong>:程序合规"), "{page}");
    // A decided objection cannot be decided again.
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/{}", app.base, decide(o1)),
        &t.admin.1,
        &[("decision", "upheld"), ("reason", "改判")],
    )
    .await;
    assert_eq!(s, 404);

    // Before the end of publicity nothing is recorded.
    exec(
        &app.db,
        "UPDATE publicity SET end_date = '2999-12-31' WHERE campaign_id = $1",
        id.0,
    )
    .await;
    assert_eq!(
        act(
            &app,
            &t,
            &study("V1"),
            &[("studied_on", "2026-10-20"), ("minutes_ref", "纪要5号")]
        )
        .await,
        "e=period"
    );
    exec(
        &app.db,
        "UPDATE publicity SET end_date = '2026-10-14' WHERE campaign_id = $1",
        id.0,
    )
    .await;

    // Bad dates, no minutes reference, a village off the list: refused.
    let tomorrow = minyi::results::calendar::parse_date(&minyi::domain::today())
        .unwrap()
        .next_day()
        .unwrap()
        .to_string();
    for (code, fields, expected) in [
        (
            "V1",
            vec![("studied_on", "2026-13-01"), ("minutes_ref", "纪要5号")],
            "e=date",
        ),
        (
            "V1",
            vec![("studied_on", "2026-10-14"), ("minutes_ref", "纪要5号")],
            "e=before_end",
        ),
        (
            "V1",
            vec![
                ("studied_on", tomorrow.as_str()),
                ("minutes_ref", "纪要5号"),
            ],
            "e=future",
        ),
        ("V1", vec![("studied_on", "2026-10-20")], "e=minutes_ref"),
        (
            "V2",
            vec![("studied_on", "2026-10-20"), ("minutes_ref", "纪要5号")],
            "e=not_final",
        ),
    ] {
        assert_eq!(
            act(&app, &t, &study(code), &fields).await,
            expected,
            "{fields:?}"
        );
    }
    // The 镇党委 cannot decide before the study is recorded.
    let approve_v1 = |on: &'static str, doc: &'static str| {
        vec![
            ("decision", "approved"),
            ("decided_on", on),
            ("decision_ref", doc),
        ]
    };
    assert_eq!(
        act(
            &app,
            &t,
            &approve("V1"),
            &approve_v1("2026-10-21", "唐镇党发〔2026〕12号")
        )
        .await,
        "e=no_study"
    );
    assert!(app.db.village_decisions(id).await.unwrap().is_empty());

    assert_eq!(
        act(
            &app,
            &t,
            &study("V1"),
            &[
                ("studied_on", "2026-10-20"),
                ("minutes_ref", "镇纪委会议纪要〔2026〕5号")
            ]
        )
        .await,
        "m=studied"
    );
    assert_eq!(
        act(
            &app,
            &t,
            &study("V1"),
            &[("studied_on", "2026-10-20"), ("minutes_ref", "再次")]
        )
        .await,
        "e=study_recorded"
    );
    // Once studies are recorded the list no longer changes.
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V1"),
                ("action", "remove"),
                ("reason", "再移出"),
                ("start", "2026-10-22")
            ]
        )
        .await,
        "e=list_decided"
    );
    // The round cannot be approved while V1 has no 镇党委 decision.
    assert_eq!(act(&app, &t, "approve", &[]).await, "e=undecided");

    // Approval before the study's date, without a 文号, or neither approved nor declined:
    // refused, no title.
    for (fields, expected) in [
        (
            approve_v1("2026-10-19", "唐镇党发〔2026〕12号"),
            "e=before_study",
        ),
        (approve_v1("2026-10-21", ""), "e=decision_ref"),
        (
            vec![("decision", "declined"), ("decided_on", "2026-10-21")],
            "e=decline_reason",
        ),
        (
            vec![("decision", "maybe"), ("decided_on", "2026-10-21")],
            "e=party_decision",
        ),
    ] {
        assert_eq!(
            act(&app, &t, &approve("V1"), &fields).await,
            expected,
            "{fields:?}"
        );
    }
    assert!(app.db.titles().await.unwrap().is_empty());

    // Approved: the title is granted for two years, to the day before the same date.
    assert_eq!(
        act(
            &app,
            &t,
            &approve("V1"),
            &approve_v1("2026-10-21", "唐镇党发〔2026〕12号")
        )
        .await,
        "m=granted"
    );
    let titles = app.db.titles().await.unwrap();
    assert_eq!(titles.len(), 1);
    assert_eq!(
        (
            titles[0].campaign_id,
            titles[0].village_id,
            titles[0].granted_on.as_str(),
            titles[0].expires_on.as_str(),
            titles[0].decision_ref.as_str()
        ),
        (id, v1, "2026-10-21", "2028-10-20", "唐镇党发〔2026〕12号")
    );
    assert_eq!(
        act(
            &app,
            &t,
            &approve("V1"),
            &approve_v1("2026-10-22", "另一文号")
        )
        .await,
        "e=already_decided"
    );
    assert_eq!(app.db.titles().await.unwrap().len(), 1);
    // Once a title is granted its validity no longer changes.
    assert_eq!(
        act(&app, &t, "title-years", &[("years", "3")]).await,
        "e=titles_granted"
    );
    assert_eq!(app.db.title_years(id).await.unwrap(), 2);
    assert_eq!(events(&app, "decision.study").await.len(), 1);
    let approved = events(&app, "decision.approve").await;
    assert_eq!(approved.len(), 1);
    assert!(approved[0].contains("2028-10-20"), "{approved:?}");
    let page = results_page(&app, &t).await;
    assert!(page.contains("称号有效至 2028-10-20"), "{page}");

    // A later objection about V1 cannot take it off once the 镇党委 decided.
    act(
        &app,
        &t,
        "objections",
        &[("village", &v1.to_string()), ("summary", "迟到的异议")],
    )
    .await;
    let late = app.db.objections(id).await.unwrap()[3].id;
    assert_eq!(
        act(
            &app,
            &t,
            &decide(late),
            &[("decision", "upheld"), ("reason", "属实")]
        )
        .await,
        "e=objection_late"
    );
    assert_eq!(final_list(&app, id).await, ["V1"]);
    assert_eq!(
        act(
            &app,
            &t,
            &decide(late),
            &[
                ("decision", "dismissed"),
                ("reason", "已有批准决定，另行处理")
            ]
        )
        .await,
        "m=dismissed"
    );

    // Each village sees its own status, nothing of the other's decision.
    let own = format!("{}/village/campaigns/{id}/results", app.base);
    let (s, page) = get_text(&t.op1.0, &own).await;
    assert_eq!(s, 200);
    assert!(page.contains("已批准授予称号"), "{page}");
    assert!(
        page.contains("唐镇党发〔2026〕12号") && page.contains("2028-10-20"),
        "{page}"
    );
    let (s, page) = get_text(&t.op2.0, &own).await;
    assert_eq!(s, 200);
    assert!(page.contains("因异议属实移出拟评定名单"), "{page}");
    assert!(
        !page.contains("唐镇党发") && !page.contains("一村") && !page.contains("2028-10-20"),
        "{page}"
    );
    // A village operator cannot record anything.
    let (s, _, _) = post_form(
        &t.op1.0,
        &format!("{}/admin/campaigns/{id}/decisions/V1/study", app.base),
        &t.op1.1,
        &[("studied_on", "2026-10-20"), ("minutes_ref", "伪造")],
    )
    .await;
    assert_eq!(s, 403);

    // Every village on the final list decided: the round is approved.
    assert_eq!(act(&app, &t, "approve", &[]).await, "m=approved");

    // The archive holds the final list with each village's study, decision and title.
    let r = t
        .admin
        .0
        .post(format!("{}/admin/campaigns/{id}/archive", app.base))
        .form(&[("_csrf", t.admin.1.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut csv = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name(&format!("campaign-{id}/proposed-list.csv"))
            .unwrap(),
        &mut csv,
    )
    .unwrap();
    assert!(
        csv.contains("V1,一村,列入,,2026-10-20,镇纪委会议纪要〔2026〕5号,批准,2026-10-21,唐镇党发〔2026〕12号,,2028-10-20"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("V2,二村,因异议属实移出,{o2},")),
        "{csv}"
    );
}

#[tokio::test]
async fn a_village_sees_its_status_while_publicity_runs_and_a_declined_one_gets_no_title() {
    let app = spawn().await;
    let t = graded(&app).await;
    let id = t.campaign;
    let today = minyi::domain::today();
    // The title's validity: whole years, 1 to 10.
    for bad in ["0", "11", "两年", "", "2.5"] {
        assert_eq!(
            act(&app, &t, "title-years", &[("years", bad)]).await,
            "e=title_years",
            "{bad}"
        );
    }
    assert_eq!(app.db.title_years(id).await.unwrap(), 2);
    assert_eq!(
        act(&app, &t, "title-years", &[("years", "3")]).await,
        "m=title_years"
    );
    assert_eq!(app.db.title_years(id).await.unwrap(), 3);
    assert_eq!(events(&app, "campaign.title_years").await.len(), 1);
    assert!(results_page(&app, &t).await.contains("满 3 年的前一天"));
    assert_eq!(
        act(&app, &t, "publicity", &[("start", &today)]).await,
        "m=published"
    );
    let own = format!("{}/village/campaigns/{id}/results", app.base);
    let (_, page) = get_text(&t.op1.0, &own).await;
    assert!(page.contains("拟评定，公示中"), "{page}");
    let (_, page) = get_text(&t.op2.0, &own).await;
    assert!(page.contains("未列入拟评定名单"), "{page}");
    assert_eq!(
        act(
            &app,
            &t,
            "decisions/V1/study",
            &[("studied_on", &today), ("minutes_ref", "纪要")]
        )
        .await,
        "e=period"
    );
    // Publicity moved into the past: study, then declined with a reason.
    exec(
        &app.db,
        "UPDATE publicity SET start_date = '2026-09-30', end_date = '2026-10-14' WHERE campaign_id = $1",
        id.0,
    )
    .await;
    let (_, page) = get_text(&t.op1.0, &own).await;
    assert!(
        page.contains("公示期满，待镇纪委研究、镇党委批准"),
        "{page}"
    );
    assert_eq!(
        act(
            &app,
            &t,
            "decisions/V1/study",
            &[("studied_on", "2026-10-20"), ("minutes_ref", "纪要6号")]
        )
        .await,
        "m=studied"
    );
    assert_eq!(
        act(
            &app,
            &t,
            "decisions/V1/decide",
            &[
                ("decision", "declined"),
                ("decided_on", "2026-10-22"),
                ("reason", "镇党委研究，暂缓授予")
            ]
        )
        .await,
        "m=declined"
    );
    assert!(app.db.titles().await.unwrap().is_empty());
    assert_eq!(events(&app, "decision.decline").await.len(), 1);
    let (_, page) = get_text(&t.op1.0, &own).await;
    assert!(page.contains("镇党委未予批准"), "{page}");
    assert_eq!(act(&app, &t, "approve", &[]).await, "m=approved");
}

/// For tests that approve a round: records the 镇纪委's study and the 镇党委's approval of
/// every village on the final list, the day after publicity ended (which must be past).
pub(crate) async fn decide_every_listed_village(
    app: &TestApp,
    admin: &reqwest::Client,
    csrf: &str,
    id: CampaignId,
) {
    let end = app.db.publicity(id).await.unwrap().unwrap().end_date;
    let day = minyi::results::calendar::parse_date(&end)
        .unwrap()
        .next_day()
        .unwrap()
        .to_string();
    for code in final_list(app, id).await {
        for (path, fields) in [
            (
                "study",
                vec![("studied_on", day.as_str()), ("minutes_ref", "纪要1号")],
            ),
            (
                "decide",
                vec![
                    ("decision", "approved"),
                    ("decided_on", day.as_str()),
                    ("decision_ref", "镇党发〔2026〕1号"),
                ],
            ),
        ] {
            let (s, _, loc) = post_form(
                admin,
                &format!("{}/admin/campaigns/{id}/decisions/{code}/{path}", app.base),
                csrf,
                &fields,
            )
            .await;
            assert_eq!(s, 303);
            assert!(
                location_query(&loc).starts_with("m="),
                "{code} {path}: {loc:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_upheld_objection_keeps_the_village_off_the_list_through_a_restart() {
    let app = spawn().await;
    let t = graded(&app).await;
    let id = t.campaign;
    // V1 passes; V2 is added by the 领导小组; both published.
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V2"),
                ("action", "add"),
                ("reason", "综合考虑列入")
            ]
        )
        .await,
        "m=adjusted"
    );
    assert_eq!(
        act(&app, &t, "publicity", &[("start", "2026-09-30")]).await,
        "m=published"
    );
    let v1 = app.db.village_by_code("V1").await.unwrap().id;
    assert_eq!(
        act(
            &app,
            &t,
            "objections",
            &[
                ("village", v1.to_string().as_str()),
                ("received_on", "2026-10-09"),
                ("summary", "反映一村账目")
            ]
        )
        .await,
        "m=objection"
    );
    let o1 = app.db.objections(id).await.unwrap()[0].id;
    assert_eq!(
        act(
            &app,
            &t,
            &format!("objections/{o1}/resolve"),
            &[("decision", "upheld"), ("reason", "经查属实")]
        )
        .await,
        "m=upheld"
    );
    assert_eq!(final_list(&app, id).await, ["V2"]);

    // Adding V1 back is refused, whatever the start day: nothing changes.
    let (start, _, _) = restart_days();
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V1"),
                ("action", "add"),
                ("reason", "领导小组研究后重新列入"),
                ("start", &start)
            ]
        )
        .await,
        "e=adj_upheld"
    );
    assert_eq!(app.db.publicity(id).await.unwrap().unwrap().period, 1);
    assert_eq!(app.db.proposed_adjustments(id).await.unwrap().len(), 1);
    assert_eq!(final_list(&app, id).await, ["V2"]);

    // A restart for another village (V2 taken off) keeps V1 marked as removed by the
    // objection in the new period.
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V2"),
                ("action", "remove"),
                ("reason", "第16项复核为差"),
                ("start", &start)
            ]
        )
        .await,
        "m=restarted"
    );
    let p = app.db.publicity(id).await.unwrap().unwrap();
    assert_eq!(p.period, 2);
    assert!(final_list(&app, id).await.is_empty());
    let rows: Vec<_> = app
        .db
        .proposed_rows(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.period == 2)
        .map(|r| (r.village_id, r.removed_by_objection))
        .collect();
    assert_eq!(rows, [(v1, Some(o1))]);
    let own = format!("{}/village/campaigns/{id}/results", app.base);
    let (s, page) = get_text(&t.op1.0, &own).await;
    assert_eq!(s, 200);
    assert!(page.contains("因异议属实移出拟评定名单"), "{page}");
    let page = results_page(&app, &t).await;
    assert!(
        page.contains(&format!("因异议属实移出(第 {o1} 号异议)")),
        "{page}"
    );
    // Still no way back after the restart.
    let (later, _, _) = restart_days();
    assert_eq!(
        act(
            &app,
            &t,
            "proposed",
            &[
                ("village", "V1"),
                ("action", "add"),
                ("reason", "再列入"),
                ("start", &later)
            ]
        )
        .await,
        "e=adj_upheld"
    );

    // Two restarts at once adding V2 back: one restarts, the other finds it listed.
    let url = format!("{}/admin/campaigns/{id}/proposed", app.base);
    let fields = [
        ("village", "V2"),
        ("action", "add"),
        ("reason", "复核后重新列入"),
        ("start", later.as_str()),
    ];
    let (a, b) = tokio::join!(
        post_form(&t.admin.0, &url, &t.admin.1, &fields),
        post_form(&t.admin.0, &url, &t.admin.1, &fields)
    );
    assert_eq!((a.0, b.0), (303, 303), "{a:?} {b:?}");
    let mut outcomes = [flash(&a.2), flash(&b.2)];
    outcomes.sort();
    assert_eq!(outcomes, ["e=on_list", "m=restarted"]);
    assert_eq!(app.db.publicity(id).await.unwrap().unwrap().period, 3);
    assert_eq!(final_list(&app, id).await, ["V2"]);
    assert_eq!(app.db.publicity_history(id).await.unwrap().len(), 2);
}
