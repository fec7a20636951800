//! Application and acceptance (申报与受理) through the real app: a village applies with its
//! self-assessment report, may replace it until decided, not after the due date; the
//! commission accepts one village and refuses another with a reason; the freeze waits for
//! every decision, and the frame, the draw and the rosters taken hold only the accepted
//! village. Another village's operator cannot fetch the report; a script named .pdf is
//! refused.

use crate::common;

use common::*;
use minyi::ids::{AttachmentId, CampaignId};

/// A small PDF (by its first bytes) with `marker` inside.
fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {marker}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A campaign that draws only accepted villages, created through the form, of the due
/// date's year (2026 without one).
async fn applying_campaign(app: &TestApp, t: &Town, due: &str) -> CampaignId {
    let (s, body, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns", app.base),
        &t.admin.1,
        &[
            ("name", "2026年申报验收"),
            ("town", "唐家坊镇"),
            ("year", due.get(0..4).unwrap_or("2026")),
            ("participation", "accepted"),
            ("applications_due", due),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    loc.unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

async fn apply(
    app: &TestApp,
    op: &(reqwest::Client, String),
    id: CampaignId,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let (s, body, _) = upload(
        &op.0,
        &format!("{}/village/campaigns/{id}/application", app.base),
        &op.1,
        name,
        bytes,
        &[("note", "请审核")],
    )
    .await;
    (s, body)
}

async fn decide(
    app: &TestApp,
    t: &Town,
    id: CampaignId,
    code: &str,
    fields: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/applications/{code}", app.base),
        &t.admin.1,
        fields,
    )
    .await
}

async fn roster(
    app: &TestApp,
    op: &(reqwest::Client, String),
    id: CampaignId,
    prefix: &str,
) -> (u16, String) {
    let phones: String = (0..6).map(|i| format!("{prefix}{i:08}\n")).collect();
    let (s, body, _) = upload(
        &op.0,
        &format!("{}/village/campaigns/{id}/roster", app.base),
        &op.1,
        "roster.csv",
        format!("电话\n{phones}").into_bytes(),
        &[],
    )
    .await;
    (s, body)
}

async fn decision_of(app: &TestApp, id: CampaignId, code: &str) -> Option<String> {
    let v = app.db.village_by_code(code).await.unwrap();
    app.db
        .application(id, v.id)
        .await
        .unwrap()
        .and_then(|a| a.decision)
}

#[tokio::test]
async fn apply_replace_decide_and_only_the_accepted_village_is_frozen_and_drawn() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let id = applying_campaign(&app, &t, "2099-09-30").await;

    // The form offers the choice, "须申报" checked, due 30 September of the year.
    let (_, page) = get_text(&t.admin.0, &format!("{base}/admin")).await;
    assert!(page.contains(r#"value="accepted" checked"#), "{page}");
    assert!(page.contains("-09-30\""));

    // V1 applies, then replaces its report before any decision: the newest counts, the
    // first file stays stored.
    let first = pdf("第一版自评报告");
    let (s, body) = apply(&app, &t.op1, id, "自评报告.pdf", first.clone()).await;
    assert_eq!(s, 303, "{body}");
    let second = pdf("第二版自评报告");
    let (s, _) = apply(&app, &t.op1, id, "自评报告-修订.pdf", second.clone()).await;
    assert_eq!(s, 303);
    let v1 = app.db.village_by_code("V1").await.unwrap();
    let a1 = app.db.application(id, v1.id).await.unwrap().unwrap();
    assert_eq!(a1.sha256.as_deref(), Some(sha256(&second).as_str()));
    assert_eq!(a1.file_name.as_deref(), Some("自评报告-修订.pdf"));
    assert_eq!(a1.decision, None);
    let kept = app.db.attachment(AttachmentId(1)).await.unwrap();
    assert_eq!(kept.content, first, "the replaced report stays stored");
    let report = a1.report_id.unwrap();

    // A script named .pdf is refused, and changes nothing.
    let (s, body) = apply(
        &app,
        &t.op2,
        id,
        "报告.pdf",
        b"#!/bin/sh\nrm -rf /\n".to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("只能上传 PDF"), "{body}");
    assert_eq!(decision_of(&app, id, "V2").await, None);
    let v2 = app.db.village_by_code("V2").await.unwrap();
    assert!(app.db.application(id, v2.id).await.unwrap().is_none());
    let (s, _, _) = upload(
        &t.op2.0,
        &format!("{base}/village/campaigns/{id}/application"),
        &t.op2.1,
        "二村自评.pdf",
        pdf("二村"),
        &[("note", "联系人 13812345678")],
    )
    .await;
    assert_eq!(s, 303);

    // Each operator sees its own status and fetches its own report; not the other's.
    let (_, page) = get_text(&t.op1.0, &format!("{base}/village")).await;
    assert!(
        page.contains("待受理") && page.contains("自评报告-修订.pdf"),
        "{page}"
    );
    let (_, page) = get_text(&t.op1.0, &format!("{base}/village/archive")).await;
    assert!(
        page.contains("2026年申报验收") && page.contains(&format!("/village/archive/{report}")),
        "{page}"
    );
    assert!(!page.contains("二村自评"), "another village's application");
    let r = t
        .op1
        .0
        .get(format!("{base}/village/archive/{report}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), second);
    for url in [
        format!("{base}/village/archive/{report}"),
        format!("{base}/village/archive/1"),
        format!("{base}/admin/villages/V1/archive/{report}"),
    ] {
        let s = t.op2.0.get(&url).send().await.unwrap().status().as_u16();
        assert!(s == 403 || s == 404, "{url}: {s}");
    }
    // The commission fetches it under its village, not under another one.
    let r = t
        .admin
        .0
        .get(format!("{base}/admin/villages/V1/archive/{report}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    // The replaced report stays listed and downloadable for the commission.
    let (_, page) = get_text(&t.admin.0, &format!("{base}/admin/villages/V1/archive")).await;
    assert!(
        page.contains("历次提交的自评报告") && page.contains(&sha256(&first)),
        "{page}"
    );
    let r = t
        .admin
        .0
        .get(format!("{base}/admin/villages/V1/archive/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), first);
    let r = t
        .admin
        .0
        .get(format!("{base}/admin/villages/V2/archive/{report}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Rosters before a decision are taken, with a word that they count once accepted.
    assert_eq!(roster(&app, &t.op1, id, "138").await.0, 303);
    assert_eq!(roster(&app, &t.op2, id, "139").await.0, 303);
    let (_, page) = get_text(&t.op2.0, &format!("{base}/village")).await;
    assert!(page.contains("受理后才计入"), "{page}");

    // The freeze waits for every decision, and names the villages still pending.
    let (s, body, _) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        &t.admin.1,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body.contains("V1 一村") && body.contains("V2 二村"),
        "{body}"
    );
    assert_eq!(
        app.db.campaign(id).await.unwrap().state.as_str(),
        "collecting"
    );

    // A refusal needs a reason; a forged form changes nothing.
    let (s, _, _) = decide(
        &app,
        &t,
        id,
        "V2",
        &[("decision", "refuse"), ("reason", "  ")],
    )
    .await;
    assert_eq!(s, 400);
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/applications/V2"),
        "forged-token",
        &[("decision", "accept")],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(decision_of(&app, id, "V2").await, None);
    // An operator may not decide.
    let (s, _, _) = post_form(
        &t.op1.0,
        &format!("{base}/admin/campaigns/{id}/applications/V1"),
        &t.op1.1,
        &[("decision", "accept")],
    )
    .await;
    assert_eq!(s, 403);
    // Unknown village: 404.
    let (s, _, _) = decide(&app, &t, id, "V9", &[("decision", "accept")]).await;
    assert_eq!(s, 404);

    // Accept V1 (first refused, then changed: both stay in the audit), refuse V2.
    let (s, _, loc) = decide(
        &app,
        &t,
        id,
        "V1",
        &[("decision", "refuse"), ("reason", "材料不全")],
    )
    .await;
    assert_eq!(s, 303, "{loc:?}");
    let (s, _, loc) = decide(&app, &t, id, "V1", &[("decision", "accept")]).await;
    assert_eq!(
        location_query(&loc),
        "m=application_accepted#applications",
        "{s}"
    );
    let (s, _, _) = decide(
        &app,
        &t,
        id,
        "V2",
        &[
            ("decision", "refuse"),
            ("reason", "隐瞒案件线索(第10条第④项)"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        decision_of(&app, id, "V1").await.as_deref(),
        Some("accepted")
    );
    assert_eq!(
        decision_of(&app, id, "V2").await.as_deref(),
        Some("refused")
    );

    // The refused village sees why; it can no longer replace its report or hand in a roster.
    let (_, page) = get_text(&t.op2.0, &format!("{base}/village")).await;
    assert!(
        page.contains("不受理") && page.contains("隐瞒案件线索"),
        "{page}"
    );
    let (s, body) = apply(&app, &t.op2, id, "再交.pdf", pdf("再交")).await;
    assert_eq!(s, 400);
    assert!(body.contains("已对本村(社区)的申报作出决定"), "{body}");
    let (s, body) = roster(&app, &t.op2, id, "137").await;
    assert_eq!(s, 400);
    assert!(body.contains("申报未被受理"), "{body}");

    // The campaign page lists every village with its status and report.
    let (_, page) = get_text(&t.admin.0, &format!("{base}/admin/campaigns/{id}")).await;
    assert!(page.contains("id=\"applications\""));
    assert!(
        page.contains("已受理")
            && page.contains("隐瞒案件线索")
            && page.contains("自评报告-修订.pdf")
    );
    assert!(page.contains("不参与抽样"));
    assert!(
        page.contains("联系人 138****5678") && !page.contains("13812345678"),
        "a phone in a note is masked"
    );
    assert_eq!(
        page.matches("未受理,名单不计入抽样").count(),
        1,
        "V2's roster is marked"
    );

    // Freeze, seed, draw: the frame and the draw hold V1 only.
    post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/size-rule"),
        &t.admin.1,
        &[("method", "fixed"), ("size", "3")],
    )
    .await;
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        &t.admin.1,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=frozen");
    let frames = app.db.campaign_frames(id).await.unwrap();
    assert_eq!(
        frames.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
        ["V1"]
    );
    let receipt = app.db.current_receipt(id, v1.id).await.unwrap().unwrap().0;
    assert_eq!(
        app.db
            .campaign(id)
            .await
            .unwrap()
            .frame_fingerprint
            .unwrap(),
        minyi::sampling::frame_fingerprint(&[("V1".to_string(), receipt.fingerprint)]),
        "the freeze fingerprint covers the accepted village only"
    );
    // After the freeze, decisions and the due date no longer change.
    let (s, _, _) = decide(&app, &t, id, "V2", &[("decision", "accept")]).await;
    assert_eq!(s, 400);
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/applications-due"),
        &t.admin.1,
        &[("day", "2099-10-31")],
    )
    .await;
    assert_eq!(s, 400);
    post_form(
        &t.admin.0,
        &format!("{base}/campaigns/{id}/seed"),
        &t.admin.1,
        &[("seed", "dice 6 6 1 2 3 4 5 6 1 2 3")],
    )
    .await;
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/draw"),
        &t.admin.1,
        &[],
    )
    .await;
    assert_eq!(
        location_query(&loc),
        "m=drawn",
        "the draw agrees with the freeze"
    );
    let (record, _) = app.db.draw_record(id).await.unwrap().unwrap();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    let codes: Vec<&str> = record["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["V1"]);
    assert_eq!(
        app.db
            .drawn_villages(id)
            .await
            .unwrap()
            .iter()
            .map(|v| v.code.as_str())
            .collect::<Vec<_>>(),
        ["V1"]
    );

    // Fieldwork: the progress and panel pages know only the drawn village.
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/fieldwork"),
        &t.admin.1,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "m=fieldwork");
    for page in ["progress", "panel"] {
        let (s, html) = get_text(&t.admin.0, &format!("{base}/admin/campaigns/{id}/{page}")).await;
        assert_eq!(s, 200, "{page}");
        assert!(
            !html.contains("二村"),
            "{page} lists the refused village: {html}"
        );
    }
    let (_, html) = get_text(&t.admin.0, &format!("{base}/admin/campaigns/{id}/progress")).await;
    assert!(html.contains("一村"), "{html}");

    // Audited, with the village's Chinese summary on the audit page.
    let events: Vec<String> = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    for e in [
        "application.submit",
        "application.accept",
        "application.refuse",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} missing");
    }
    assert_eq!(
        events.iter().filter(|e| *e == "application.refuse").count(),
        2
    );
    let (_, page) = get_text(&t.admin.0, &format!("{base}/admin/audit")).await;
    assert!(
        page.contains("不受理申报") && page.contains("隐瞒案件线索"),
        "{page}"
    );
}

#[tokio::test]
async fn a_late_application_is_refused_naming_the_due_date_which_the_commission_may_move() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let id = applying_campaign(&app, &t, "").await;
    assert_eq!(
        app.db
            .participation(id)
            .await
            .unwrap()
            .applications_due
            .as_deref(),
        Some("2026-09-30"),
        "an empty due date is 30 September of the year"
    );
    // At creation the due date must fall in the campaign's year (the form's default is
    // this year's 30 September), and the choice must be one of the two.
    for (participation, due) in [
        ("accepted", "2025-09-30"),
        ("accepted", "2026-13-01"),
        ("some", ""),
    ] {
        let (s, body, _) = post_form(
            &t.admin.0,
            &format!("{base}/admin/campaigns"),
            &t.admin.1,
            &[
                ("name", "错一轮"),
                ("town", "唐家坊镇"),
                ("year", "2026"),
                ("participation", participation),
                ("applications_due", due),
            ],
        )
        .await;
        assert_eq!(s, 400, "{participation} {due}");
        assert!(
            body.contains("申报截止日期") || body.contains("请选择参加测评"),
            "{body}"
        );
    }
    for bad in ["2026-02-30", "明天", "2026/13/01"] {
        let (s, _, _) = post_form(
            &t.admin.0,
            &format!("{base}/admin/campaigns/{id}/applications-due"),
            &t.admin.1,
            &[("day", bad)],
        )
        .await;
        assert_eq!(s, 400, "{bad}");
    }
    let (s, _, loc) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/applications-due"),
        &t.admin.1,
        &[("day", "2020-01-31")],
    )
    .await;
    assert_eq!(
        location_query(&loc),
        "m=applications_due#applications",
        "{s}"
    );
    let (s, body) = apply(&app, &t.op1, id, "自评报告.pdf", pdf("迟交")).await;
    assert_eq!(s, 400);
    assert!(body.contains("2020-01-31"), "{body}");
    let v1 = app.db.village_by_code("V1").await.unwrap();
    assert!(app.db.application(id, v1.id).await.unwrap().is_none());
    let (_, page) = get_text(&t.op1.0, &format!("{base}/village")).await;
    assert!(page.contains("2020-01-31 已过"), "{page}");
    // Moved later again, the village may apply.
    post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/applications-due"),
        &t.admin.1,
        &[("day", "2099-09-30")],
    )
    .await;
    let (s, _) = apply(&app, &t.op1, id, "自评报告.pdf", pdf("准时")).await;
    assert_eq!(s, 303);
    let events: Vec<String> = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| *e == "campaign.applications_due")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_campaign_created_without_the_choice_takes_every_village_and_no_application() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let id = t.campaign;
    assert!(!app.db.participation(id).await.unwrap().by_application());
    let (s, body) = apply(&app, &t.op1, id, "自评报告.pdf", pdf("无需申报")).await;
    assert_eq!(s, 400);
    assert!(body.contains("不需要申报"), "{body}");
    let (_, page) = get_text(&t.admin.0, &format!("{}/admin/campaigns/{id}", app.base)).await;
    assert!(!page.contains("id=\"applications\""));
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/freeze", app.base),
        &t.admin.1,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=frozen");
    assert_eq!(
        app.db.campaign_frames(id).await.unwrap().len(),
        2,
        "both villages"
    );
}

#[tokio::test]
async fn an_application_takes_at_most_ten_reports_and_the_eleventh_stores_nothing() {
    let app = spawn().await;
    let t = town(&app).await;
    let id = applying_campaign(&app, &t, "2099-09-30").await;
    for n in 0..minyi::ops::applications::MAX_APPLICATION_REPORTS {
        let (s, body) = apply(&app, &t.op1, id, "自评报告.pdf", pdf(&format!("第{n}版"))).await;
        assert_eq!(s, 303, "report {n}: {body}");
    }
    let v1 = app.db.village_by_code("V1").await.unwrap();
    let before = app.db.application(id, v1.id).await.unwrap().unwrap();
    let last = before.report_id.unwrap();

    let (s, body) = apply(&app, &t.op1, id, "自评报告.pdf", pdf("第十一版")).await;
    assert_eq!(s, 400);
    assert!(body.contains("已经提交过 10 份自评报告"), "{body}");
    assert!(
        app.db
            .attachment_meta(AttachmentId(last.0 + 1))
            .await
            .is_err(),
        "the refused file is not stored"
    );
    let after = app.db.application(id, v1.id).await.unwrap().unwrap();
    assert_eq!(
        after.report_id, before.report_id,
        "the current report stays"
    );
    assert_eq!(app.db.application_reports(v1.id).await.unwrap().len(), 10);

    // Another village is not held back by V1's count.
    let (s, body) = apply(&app, &t.op2, id, "自评报告.pdf", pdf("二村")).await;
    assert_eq!(s, 303, "{body}");
}
