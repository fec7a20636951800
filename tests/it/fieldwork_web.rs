//! Fieldwork over HTTP: the call console, replacements strictly from the reserve in rank
//! order, phone interviews (one answer per case across modes), progress with AAPOR rates,
//! the case export, and closing. Runs on SQLite, or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;
use minyi::ids::{CampaignId, CaseId};

async fn cases_of(app: &TestApp, campaign: CampaignId, code: &str) -> Vec<minyi::db::CaseRow> {
    let v = app.db.village_by_code(code).await.unwrap();
    app.db.cases(campaign, Some(v.id)).await.unwrap()
}

async fn attempt(
    app: &TestApp,
    sv: &(reqwest::Client, String),
    case: CaseId,
    outcome: &str,
    at: &str,
) -> String {
    let (s, body, loc) = post_form(
        &sv.0,
        &format!("{}/surveyor/cases/{case}/attempts", app.base),
        &sv.1,
        &[("outcome", outcome), ("at", at)],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    location_query(&loc)
}

/// Fieldwork that began on 1 November: attempts dated in November are after the release.
async fn released_in_november(app: &TestApp, campaign: CampaignId) {
    let first_of_november = minyi::domain::parse_china_time("2026-11-01T08:00").unwrap();
    let sql = "UPDATE cases SET released_at = $1";
    let n = exec(&app.db, sql, first_of_november).await;
    assert!(n > 0 && campaign.0 > 0);
}

#[tokio::test]
async fn a_refusal_releases_the_next_reserve_rank_and_the_reserve_can_run_out() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let v1 = cases_of(&app, t.campaign, "V1").await;
    assert_eq!(
        v1.iter().map(|c| c.rank).collect::<Vec<_>>(),
        (1..=28).collect::<Vec<_>>(),
        "ranks 1..n released"
    );
    // Refusals on ranks 5, 2 and 9 (in that order): ranks 29 and 30 come in, then nothing.
    assert_eq!(
        attempt(&app, &sv, v1[4].id, "refusal", "").await,
        "m=replaced"
    );
    assert_eq!(
        attempt(&app, &sv, v1[1].id, "wrong_number", "").await,
        "m=replaced"
    );
    assert_eq!(
        attempt(&app, &sv, v1[8].id, "refusal", "").await,
        "m=exhausted"
    );
    let now = cases_of(&app, t.campaign, "V1").await;
    let new: Vec<_> = now
        .iter()
        .filter(|c| c.release_reason != "primary")
        .map(|c| (c.rank, c.release_reason.clone()))
        .collect();
    assert_eq!(
        new,
        [
            (29, "replaces rank 5: refusal".to_string()),
            (30, "replaces rank 2: not_eligible".to_string())
        ]
    );
    // The released rank's phone is the draw's rank 29.
    let ranked = app
        .db
        .strata(t.campaign, Some(now[0].village_id))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        now.iter().find(|c| c.rank == 29).unwrap().phone,
        ranked.ranked.lines().nth(28).unwrap()
    );
    // A second refusal on an already replaced case releases nothing more.
    assert_eq!(
        attempt(&app, &sv, v1[4].id, "refusal", "").await,
        "m=attempt"
    );
    let (_, page) = get_text(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}/progress", app.base, t.campaign),
    )
    .await;
    assert!(page.contains("备用已用完"), "flagged: {page}");
    assert!(
        !page.contains(&v1[0].phone),
        "no phones on the progress page"
    );
}

#[tokio::test]
async fn wrong_and_dead_numbers_are_uh_and_each_village_shows_its_invalid_number_rate() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let id = t.campaign;
    let v1 = cases_of(&app, id, "V1").await;
    let v2 = cases_of(&app, id, "V2").await;
    // V1 (28 released, reserve 29–30): a wrong number and a non-recipient, both replaced
    // as before → 30 released, 1 invalid. V2 (5, no reserve): a wrong number and a dead
    // one → 5 released, 2 invalid.
    assert_eq!(
        attempt(&app, &sv, v1[0].id, "wrong_number", "").await,
        "m=replaced"
    );
    assert_eq!(
        attempt(&app, &sv, v1[1].id, "not_recipient", "").await,
        "m=replaced"
    );
    attempt(&app, &sv, v2[0].id, "wrong_number", "").await;
    attempt(&app, &sv, v2[1].id, "not_in_service", "").await;
    let (s, page) = get_text(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/progress", app.base),
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains("无效号码率"), "{page}");
    assert!(page.contains("越高说明名单质量越差"), "{page}");
    // V1: I/P/R/NC/O/UH/NE = 0/0/0/0/0/29/1, 1/30 = 3.3%; V2: 0/0/0/0/0/5/0, 2/5 = 40.0%;
    // the town 3/35 = 8.6%.
    assert!(page.contains("0/0/0/0/0/29/1"), "{page}");
    assert!(page.contains("0/0/0/0/0/5/0"), "{page}");
    assert!(page.contains("3.3%（1/30）"), "{page}");
    assert!(page.contains("40.0%（2/5）"), "{page}");
    assert!(page.contains("8.6%（3/35）"), "{page}");

    let token: serde_json::Value = client()
        .post(format!("{}/api/login", app.base))
        .json(&serde_json::json!({"username": "admin", "password": "commission-2026-key"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let rates: serde_json::Value = client()
        .get(format!("{}/api/campaigns/{id}/results/rates", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = rates.as_array().expect("rows");
    let row = |code: &str| {
        rows.iter()
            .find(|r| r["village_code"] == code)
            .unwrap_or_else(|| panic!("{code} in {rates}"))
    };
    assert_eq!(row("V1")["invalid_numbers"], 1);
    assert_eq!(
        row("V1")["invalid_number_rate"],
        serde_json::json!(1.0 / 30.0)
    );
    assert_eq!(row("V1")["uh"], 29);
    assert_eq!(row("V1")["ne"], 1);
    assert_eq!(
        row("V2")["invalid_number_rate"],
        serde_json::json!(2.0 / 5.0)
    );
    assert_eq!(row("全镇")["invalid_numbers"], 3);
    assert_eq!(
        row("全镇")["invalid_number_rate"],
        serde_json::json!(3.0 / 35.0)
    );
    let csv = t
        .admin
        .0
        .get(format!(
            "{}/admin/campaigns/{id}/downloads/rates.csv",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header = csv.lines().next().unwrap_or_default();
    assert!(header.ends_with(",无效号码数,无效号码率"), "{header}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("V2,") && l.ends_with(",2,40.0%")),
        "{csv}"
    );
}

#[tokio::test]
async fn three_non_contacts_on_two_days_replace_a_case_but_not_on_one_day() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    released_in_november(&app, t.campaign).await;
    let v1 = cases_of(&app, t.campaign, "V1").await;
    for at in ["2026-11-20T09:00", "2026-11-20T14:00", "2026-11-20T18:00"] {
        assert_eq!(
            attempt(&app, &sv, v1[0].id, "no_answer", at).await,
            "m=attempt"
        );
    }
    assert_eq!(
        attempt(&app, &sv, v1[1].id, "busy", "2026-11-20T09:00").await,
        "m=attempt"
    );
    assert_eq!(
        attempt(&app, &sv, v1[1].id, "no_answer", "2026-11-20T10:00").await,
        "m=attempt"
    );
    assert_eq!(
        attempt(&app, &sv, v1[1].id, "switched_off", "2026-11-21T10:00").await,
        "m=replaced"
    );
    // Configurable per campaign: two attempts on one day.
    let id = t.campaign;
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/replacement-rules", app.base),
        &t.admin.1,
        &[
            ("on_not_eligible", "yes"),
            ("on_refusal", "yes"),
            ("noncontact_attempts", "0"),
            ("noncontact_days", "1"),
        ],
    )
    .await;
    assert_eq!(location_query(&loc), "e=bad_rules");
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/replacement-rules", app.base),
        &t.admin.1,
        &[
            ("on_not_eligible", "yes"),
            ("on_refusal", "yes"),
            ("noncontact_attempts", "2"),
            ("noncontact_days", "1"),
        ],
    )
    .await;
    assert_eq!(location_query(&loc), "m=rules");
    assert_eq!(
        attempt(&app, &sv, v1[2].id, "no_answer", "2026-11-22T09:00").await,
        "m=attempt"
    );
    assert_eq!(
        attempt(&app, &sv, v1[2].id, "no_answer", "2026-11-22T10:00").await,
        "m=replaced"
    );
    // A time in the future is refused.
    let (s, _, _) = post_form(
        &sv.0,
        &format!("{}/surveyor/cases/{}/attempts", app.base, v1[3].id),
        &sv.1,
        &[("outcome", "busy"), ("at", "2099-01-01T09:00")],
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_case_has_one_answer_whether_by_link_or_by_phone() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let form = minyi::forms::builtin().unwrap().recipients;
    let lines = invitations(&app, &sv, t.campaign).await;
    let v1 = cases_of(&app, t.campaign, "V1").await;
    let case_of = |phone: &str| v1.iter().find(|c| c.phone == phone).unwrap().id;
    // Phone first: the case is completed and its link voided.
    let (phone_a, token_a) = &lines[0];
    let case_a = case_of(phone_a);
    let mut fields = valid_answers(&form);
    fields.push(("_csrf".into(), sv.1.clone()));
    let (s, page) = get_text(
        &sv.0,
        &format!("{}/surveyor/cases/{case_a}/interview", app.base),
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains("电话访问") && page.contains(phone_a.as_str()));
    let r =
        sv.0.post(format!("{}/surveyor/cases/{case_a}/interview", app.base))
            .form(&fields)
            .send()
            .await
            .unwrap();
    assert_eq!(
        location_query(
            &r.headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
        ),
        "m=interview"
    );
    let (_, page) = get_text(&client(), &format!("{}/s/{token_a}", app.base)).await;
    assert!(
        page.contains("这个链接已停止使用") && !page.contains("已收到"),
        "the voided link says it is out of use, claiming no answer: {page}"
    );
    let r = client()
        .post(format!("{}/s/{token_a}", app.base))
        .form(&valid_answers(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Link first: a phone interview afterwards is refused.
    let (phone_b, token_b) = &lines[1];
    let case_b = case_of(phone_b);
    client()
        .post(format!("{}/s/{token_b}", app.base))
        .form(&valid_answers(&form))
        .send()
        .await
        .unwrap();
    let r =
        sv.0.post(format!("{}/surveyor/cases/{case_b}/interview", app.base))
            .form(&fields)
            .send()
            .await
            .unwrap();
    assert_eq!(
        location_query(
            &r.headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
        ),
        "m=duplicate"
    );
    // Two surveyors interviewing the same case at once: one answer.
    let case_c = case_of(&lines[2].0);
    let url = format!("{}/surveyor/cases/{case_c}/interview", app.base);
    let (a, b) = tokio::join!(
        sv.0.post(&url).form(&fields).send(),
        sv.0.post(&url).form(&fields).send()
    );
    let mut outcomes = [a.unwrap(), b.unwrap()].map(|r| {
        location_query(
            &r.headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string()),
        )
    });
    outcomes.sort();
    assert_eq!(outcomes, ["m=duplicate", "m=interview"]);
    // Two by phone and one through a link; how each was given is not stored with it.
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn progress_shows_aapor_rates_with_their_counts_and_closing_stops_fieldwork() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let v2 = cases_of(&app, t.campaign, "V2").await;
    assert_eq!(v2.len(), 5);
    // V2: one refusal (R), one wrong number (UH: the named person may be eligible), one
    // illness (O), two untouched (UH); no reserve.
    attempt(&app, &sv, v2[0].id, "refusal", "").await;
    attempt(&app, &sv, v2[1].id, "wrong_number", "").await;
    attempt(&app, &sv, v2[2].id, "illness", "").await;
    let (s, page) = get_text(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}/progress", app.base, t.campaign),
    )
    .await;
    assert_eq!(s, 200);
    // I/P/R/NC/O/UH/NE = 0/0/1/0/1/3/0 → RR1 = 0/5 = 0.0%, REF1 = 1/5 = 20.0%, COOP1 = 0/2 = 0.0%.
    assert!(page.contains("0/0/1/0/1/3/0"), "{page}");
    assert!(page.contains("20.0%"), "{page}");
    // Roles: only the surveyor reaches the console; the commission the progress.
    let id = t.campaign;
    for c in [&t.admin.0, &t.op1.0] {
        let (s, _) = get_text(c, &format!("{}/surveyor/campaigns/{id}/console", app.base)).await;
        assert_eq!(s, 403);
        let (s, _) = get_text(c, &format!("{}/surveyor/cases/{}", app.base, v2[3].id)).await;
        assert_eq!(s, 403);
    }
    for c in [&sv.0, &t.op1.0] {
        let (s, _) = get_text(c, &format!("{}/admin/campaigns/{id}/progress", app.base)).await;
        assert_eq!(s, 403);
    }
    // The console shows the next case with a tel: link; the export lists every case.
    let (s, page) = get_text(
        &sv.0,
        &format!("{}/surveyor/campaigns/{id}/console/V2", app.base),
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains(&format!("tel:{}", v2[3].phone)), "{page}");
    let csv =
        sv.0.get(format!("{}/surveyor/campaigns/{id}/cases.csv", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(csv.starts_with("\u{feff}case_id,village,rank,name,phone"));
    assert_eq!(csv.lines().count(), 1 + 28 + 5);
    // Close: needs the box ticked; afterwards nothing more is recorded.
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/close", app.base),
        &t.admin.1,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "e=confirm");
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{id}/close", app.base),
        &t.admin.1,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=closed");
    assert_eq!(attempt(&app, &sv, v2[3].id, "busy", "").await, "m=closed");
    assert_eq!(cases_of(&app, id, "V2").await[3].attempts, 0);
}

#[tokio::test]
async fn declining_through_the_link_replaces_the_case_and_a_replaced_link_stops_working() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    released_in_november(&app, t.campaign).await;
    let lines = invitations(&app, &sv, t.campaign).await;
    let v1 = cases_of(&app, t.campaign, "V1").await;
    // The first V1 link declines: the case is a refusal and rank 29 comes in.
    let (phone, token) = lines
        .iter()
        .find(|(p, _)| v1.iter().any(|c| &c.phone == p))
        .unwrap();
    let r = client()
        .post(format!("{}/s/{token}/decline", app.base))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let now = cases_of(&app, t.campaign, "V1").await;
    let declined = now.iter().find(|c| &c.phone == phone).unwrap();
    assert_eq!(declined.disposition.map(|o| o.key()), Some("refusal"));
    assert!(now.iter().any(|c| c.rank == 29), "replacement released");
    // A case replaced after three non-contacts: its link no longer takes an answer.
    let other = now
        .iter()
        .find(|c| {
            c.status == minyi::domain::CaseStatus::Open
                && c.rank < 29
                && lines.iter().any(|(p, _)| p == &c.phone)
        })
        .unwrap();
    for at in ["2026-11-20T09:00", "2026-11-20T10:00", "2026-11-21T09:00"] {
        attempt(&app, &sv, other.id, "no_answer", at).await;
    }
    let token = &lines.iter().find(|(p, _)| p == &other.phone).unwrap().1;
    let form = minyi::forms::builtin().unwrap().recipients;
    let r = client()
        .post(format!("{}/s/{token}", app.base))
        .form(&valid_answers(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "thanks page, nothing stored");
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
}

/// An attempt cannot be dated before its case was released (that would meet "3 attempts on
/// 2 days" at once) nor after now, nor a callback before now; and the console, the case
/// card and the link itself tell one story about each case.
#[tokio::test]
async fn attempts_lie_between_release_and_now_and_every_status_agrees() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = invitations(&app, &sv, t.campaign).await;
    let v1 = cases_of(&app, t.campaign, "V1").await;
    let url = |case: CaseId| format!("{}/surveyor/cases/{case}/attempts", app.base);
    let now = minyi::domain::now();
    let t_of = |secs: i64| {
        minyi::domain::local_time(secs)
            .replace(' ', "T")
            .chars()
            .take(16)
            .collect::<String>()
    };
    let (later, earlier) = (t_of(now + 7200), t_of(now - 7200));
    for (fields, why) in [
        (
            vec![("outcome", "no_answer"), ("at", "2026-01-05T09:00")],
            "before the release",
        ),
        (
            vec![("outcome", "no_answer"), ("at", later.as_str())],
            "in the future",
        ),
        (
            vec![("outcome", "callback"), ("callback", earlier.as_str())],
            "a callback already past",
        ),
    ] {
        let (s, page, _) = post_form(&sv.0, &url(v1[0].id), &sv.1, &fields).await;
        assert_eq!(s, 400, "{why}: {page}");
    }
    // The same through a results import: the row is refused with its row and column.
    let (s, page) = import(
        &app,
        &sv,
        t.campaign,
        &format!(
            "case_id,attempt_time,outcome\n{},2026-01-05 09:00,busy\n",
            v1[0].id
        ),
    )
    .await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("早于该对象发放的时间"), "{page}");
    assert_eq!(
        app.db.attempts(v1[0].id).await.unwrap().len(),
        0,
        "nothing recorded"
    );
    let (s, _, _) = post_form(
        &sv.0,
        &url(v1[0].id),
        &sv.1,
        &[("outcome", "callback"), ("callback", &t_of(now + 86_400))],
    )
    .await;
    assert_eq!(s, 303, "a callback tomorrow");

    // Refusals: ranks 29 and 30 replace two cases, then the reserve has run out.
    for case in [&v1[4], &v1[1], &v1[8]] {
        attempt(&app, &sv, case.id, "refusal", "").await;
    }
    // A phone interview on another case.
    let form = minyi::forms::builtin().unwrap().recipients;
    let mut fields = valid_answers(&form);
    fields.push(("_csrf".into(), sv.1.clone()));
    let r =
        sv.0.post(format!(
            "{}/surveyor/cases/{}/interview",
            app.base, v1[3].id
        ))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    let case_page = |id: CaseId| {
        let c = sv.0.clone();
        let u = format!("{}/surveyor/cases/{id}", app.base);
        async move { get_text(&c, &u).await.1 }
    };
    let replaced = case_page(v1[4].id).await;
    assert!(replaced.contains("已由排名 29 递补"), "{replaced}");
    assert!(replaced.contains("短信链接:已作废"), "{replaced}");
    let exhausted = case_page(v1[8].id).await;
    assert!(exhausted.contains("未能递补"), "{exhausted}");
    assert!(
        !exhausted.contains("已由"),
        "no replacement claimed: {exhausted}"
    );
    let by_phone = case_page(v1[3].id).await;
    assert!(by_phone.contains("已完成(电话访问)"), "{by_phone}");
    assert!(by_phone.contains("短信链接:已作废"), "{by_phone}");
    assert!(!by_phone.contains("已发送"), "{by_phone}");
    // The console's table says the same as the cards.
    let (_, table) = get_text(
        &sv.0,
        &format!("{}/surveyor/campaigns/{}/console/V1", app.base, t.campaign),
    )
    .await;
    for phrase in [
        "已由排名 29 递补",
        "已由排名 30 递补",
        "未能递补",
        "已完成(电话访问)",
    ] {
        assert!(table.contains(phrase), "{phrase}: {table}");
    }

    // The replaced person's link says the survey is over for them, not "received".
    let token = &lines.iter().find(|(p, _)| p == &v1[4].phone).unwrap().1;
    let (s, page) = get_text(&client(), &format!("{}/s/{token}", app.base)).await;
    assert_eq!(s, 200);
    assert!(page.contains("这个链接已停止使用"), "{page}");
    assert!(!page.contains("已收到"), "{page}");
}

/// Upload a results CSV; returns (status, page).
async fn import(
    app: &TestApp,
    sv: &(reqwest::Client, String),
    campaign: CampaignId,
    csv: &str,
) -> (u16, String) {
    let (s, page, _) = upload(
        &sv.0,
        &format!("{}/surveyor/campaigns/{campaign}/results", app.base),
        &sv.1,
        "results.csv",
        csv.as_bytes().to_vec(),
        &[],
    )
    .await;
    (s, page)
}

#[tokio::test]
async fn results_import_is_all_or_nothing_and_repeating_it_changes_nothing() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    released_in_november(&app, t.campaign).await;
    let id = t.campaign;
    let form = minyi::forms::builtin().unwrap().recipients;
    let answers = valid_answers(&form);
    let header = format!(
        "case_id,attempt_time,outcome,{}",
        answers
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let values = answers
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let blanks = ",".repeat(answers.len());
    let v2 = cases_of(&app, id, "V2").await;
    let good = format!(
        "{header}\n{},2026-11-20 10:00,complete,{values}\n{},2026-11-20 10:05,busy{blanks}\n{},2026-11-20 10:10,refusal{blanks}\n",
        v2[0].id, v2[1].id, v2[2].id
    );
    // One bad row spoils the file: nothing imported, each problem named by row.
    let bad = format!(
        "{good}99999,2026-11-20 10:00,busy{blanks}\n{},2026-13-40 10:00,maybe{blanks}\n",
        v2[3].id
    );
    let (s, page) = import(&app, &sv, id, &bad).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("没有导入任何一行"));
    for row in [">5<", ">6<"] {
        assert!(page.contains(row), "row {row} reported: {page}");
    }
    assert_eq!(
        app.db
            .count_answers(id, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
    assert!(
        cases_of(&app, id, "V2")
            .await
            .iter()
            .all(|c| c.attempts == 0)
    );
    // The good file imports; the same file again changes nothing.
    let (s, page) = import(&app, &sv, id, &good).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("已导入 3 行"), "{page}");
    let after = cases_of(&app, id, "V2").await;
    assert_eq!(after[0].status, minyi::domain::CaseStatus::Completed);
    assert_eq!(after[1].disposition.map(|o| o.key()), Some("busy"));
    assert_eq!(after[2].disposition.map(|o| o.key()), Some("refusal"));
    let (s, page) = import(&app, &sv, id, &good).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("已导入 0 行") && page.contains("3 行此前已导入"),
        "{page}"
    );
    assert_eq!(
        app.db
            .count_answers(id, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        1
    );
    assert_eq!(cases_of(&app, id, "V2").await, after, "nothing changed");
    // A complete for a case answered meanwhile (another row, same case) is refused.
    let again = format!(
        "{header}\n{},2026-11-21 10:00,complete,{values}\n",
        v2[0].id
    );
    let (s, page) = import(&app, &sv, id, &again).await;
    assert_eq!(s, 400);
    assert!(page.contains("已经回答过"), "{page}");
    // An answer column that is not in the form.
    let (s, page) = import(
        &app,
        &sv,
        id,
        &format!(
            "case_id,attempt_time,outcome,shoe_size\n{},2026-11-20 10:00,busy,\n",
            v2[3].id
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert!(page.contains("shoe_size"), "{page}");
}

#[tokio::test]
async fn results_import_reads_the_consoles_chinese_labels_and_numbers_rows_as_excel_does() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    released_in_november(&app, t.campaign).await;
    let id = t.campaign;
    let form = minyi::forms::builtin().unwrap().recipients;
    let answers = valid_answers(&form);
    let ids: Vec<&str> = answers.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<&str> = answers.iter().map(|(_, v)| v.as_str()).collect();
    let blanks = ",".repeat(answers.len());
    let v2 = cases_of(&app, id, "V2").await;
    // As Excel/WPS on Windows saves a CSV: GBK, "\r\n", a blank row left in.
    let file = |third: &str, last_case: CaseId| {
        let text = format!(
            "case_id,attempt_time,outcome,{}\r\n{},2026-11-20 10:00,完成访问,{}\r\n\r\n{},2026-11-20 10:05,{third}{blanks}\r\n{last_case},2026-11-20 10:10,号码错误（非本人）{blanks}\r\n",
            ids.join(","),
            v2[0].id,
            values.join(","),
            v2[1].id,
        );
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        gbk.into_owned()
    };
    let send = |bytes: Vec<u8>| {
        let (c, csrf) = (&sv.0, &sv.1);
        let url = format!("{}/surveyor/campaigns/{id}/results", app.base);
        async move { upload(c, &url, csrf, "结果.csv", bytes, &[]).await }
    };
    // An unknown label on row 4 (row 3 is blank) and an unknown case on row 5.
    let (s, page, _) = send(file("没人接", CaseId(99999))).await;
    assert_eq!(s, 400, "{page}");
    for (row, column) in [(4, "outcome"), (5, "case_id")] {
        let cell = format!("<td class=\"num\">{row}</td><td>{column}</td>");
        assert!(page.contains(&cell), "{cell} in {page}");
    }
    assert!(page.contains("无法识别的联系结果“没人接”"), "{page}");
    assert!(page.contains("如“完成访问”“无人接听”"), "{page}");
    assert!(
        cases_of(&app, id, "V2")
            .await
            .iter()
            .all(|c| c.attempts == 0)
    );
    // The same file with the console's labels imports; stored as the keys.
    let (s, page, _) = send(file("无人接听", v2[2].id)).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("已导入 3 行"), "{page}");
    let after = cases_of(&app, id, "V2").await;
    assert_eq!(after[0].status, minyi::domain::CaseStatus::Completed);
    assert_eq!(after[1].disposition.map(|o| o.key()), Some("no_answer"));
    assert_eq!(after[2].disposition.map(|o| o.key()), Some("wrong_number"));
    // Written with keys instead of labels, the same rows are the same rows: nothing added.
    let keys = format!(
        "case_id,attempt_time,outcome,{}\n{},2026-11-20 10:00,complete,{}\n{},2026-11-20 10:05,no_answer{blanks}\n{},2026-11-20 10:10,wrong_number{blanks}\n",
        ids.join(","),
        v2[0].id,
        values.join(","),
        v2[1].id,
        v2[2].id,
    );
    let (s, page, _) = send(keys.into_bytes()).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("3 行此前已导入"), "{page}");
}

#[tokio::test]
async fn the_case_list_exports_as_xlsx_with_phones_as_text() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let r =
        sv.0.get(format!(
            "{}/surveyor/campaigns/{}/cases.xlsx",
            app.base, t.campaign
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut book, 0)
        .unwrap()
        .unwrap();
    let rows: Vec<Vec<calamine::Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 1 + 28 + 5);
    assert_eq!(rows[0][5], calamine::Data::String("电话".into()));
    let v1 = cases_of(&app, t.campaign, "V1").await;
    assert_eq!(
        rows[1][5],
        calamine::Data::String(v1[0].phone.clone()),
        "a text cell, not a number"
    );
    let (s, _) = get_text(
        &t.admin.0,
        &format!("{}/surveyor/campaigns/{}/cases.xlsx", app.base, t.campaign),
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn an_import_applies_the_replacement_rules_row_by_row() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    released_in_november(&app, t.campaign).await;
    let id = t.campaign;
    let v1 = cases_of(&app, id, "V1").await;
    // Rank 1: three non-contacts on two days (listed out of time order) → replaced by rank 29.
    // Rank 2: one busy → stays. Rank 3: not a recipient → replaced by rank 30.
    let csv = format!(
        "case_id,attempt_time,outcome\n{a},2026-11-21 09:00,no_answer\n{a},2026-11-20 09:00,busy\n{b},2026-11-20 09:30,busy\n{a},2026-11-20 15:00,switched_off\n{c},2026-11-20 10:00,not_recipient\n",
        a = v1[0].id,
        b = v1[1].id,
        c = v1[2].id
    );
    let (s, page) = import(&app, &sv, id, &csv).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("已导入 5 行") && page.contains("递补 2 人"),
        "{page}"
    );
    let now = cases_of(&app, id, "V1").await;
    let released: Vec<_> = now
        .iter()
        .filter(|c| c.release_reason != "primary")
        .map(|c| (c.rank, c.release_reason.clone()))
        .collect();
    assert_eq!(
        released,
        [
            (29, "replaces rank 1: non_contact".to_string()),
            (30, "replaces rank 3: not_eligible".to_string())
        ]
    );
    assert_eq!(now[0].attempts, 3);
    assert_eq!(
        now[0].disposition.map(|o| o.key()),
        Some("switched_off"),
        "the last row of the file for the case"
    );
    assert_eq!(now[1].replaced_at, None);
}

/// The progress page opens with one line per village a commission member reads at a glance:
/// a bar with its text alternative, the response rate in words, and the next step; the
/// AAPOR table is behind a toggle.
#[tokio::test]
async fn progress_at_a_glance_shows_a_bar_the_rate_in_words_and_the_next_step() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let url = format!("{}/admin/campaigns/{}/progress", app.base, t.campaign);
    let (s, page) = get_text(&t.admin.0, &url).await;
    assert_eq!(s, 200);
    // V1: 28 of 30 released, nobody reached yet; V2: all 5, no reserve.
    for text in [
        "一眼看进度",
        "aria-label=\"完成 0 份，目标 28 份（0%）\"",
        "<title>完成 0 份，目标 28 份（0%）</title>",
        "还有 28 人在联系中，继续拨打；备用名单剩 2 人",
        "还有 5 人在联系中，继续拨打；备用名单剩 0 人",
        "还没有人答完",
        "<summary>各项回答率明细(AAPOR 标准)</summary>",
    ] {
        assert!(page.contains(text), "{text} missing:\n{page}");
    }
    let bar = page.find("<svg class=\"bar\"").expect("a bar");
    let details = page.find("<details>").expect("the AAPOR table's toggle");
    assert!(bar < details, "the glance comes before the table");
    // A surveyor does not reach the commission's page.
    assert_eq!(get_text(&sv.0, &url).await.0, 403);
}
