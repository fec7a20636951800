//! Grades from every source side by side: the village's own self-assessment (its own only,
//! closed at publication), the 镇纪委's and the assessment group's grades and the group's
//! report with its file (the commission's alone), and the 领导小组's final grade, which needs
//! a reason where it differs and drives the verdict. Every entry is kept.

use crate::common;
use crate::results_web::answered;

use common::*;
use minyi::db::{Db, GradeEntry};
use minyi::ids::{CampaignId, VillageId};

async fn village_id(db: &Db, code: &str) -> VillageId {
    db.list_villages()
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.code == code)
        .unwrap()
        .id
}

async fn entries(db: &Db, id: CampaignId, code: &str) -> Vec<GradeEntry> {
    db.grade_entries(id, village_id(db, code).await)
        .await
        .unwrap()
}

/// Entries of `source` for `item`, oldest first, as (grade, note).
fn of(entries: &[GradeEntry], source: &str, item: i64) -> Vec<(Option<String>, String)> {
    entries
        .iter()
        .filter(|e| e.source == source && e.item == item)
        .map(|e| (e.grade.map(|g| g.to_string()), e.note.clone()))
        .collect()
}

async fn audit_count(db: &Db, event: &str) -> usize {
    db.all_audit_entries()
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event == event)
        .count()
}

async fn post(
    c: &(reqwest::Client, String),
    url: &str,
    fields: &[(String, String)],
) -> (u16, String, Option<String>) {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post_form(&c.0, url, &c.1, &borrowed).await
}

/// Items 1–14 at `grade`, with `item`'s grade and note replaced.
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

fn verdict_of(page: &str) -> &'static str {
    if page.contains("结论:<strong>通过</strong>") {
        "通过"
    } else if page.contains("结论:<strong>不通过</strong>") {
        "不通过"
    } else {
        panic!("no verdict on the page")
    }
}

#[tokio::test]
async fn a_village_enters_its_own_self_assessment_and_no_other_village_sees_or_changes_it() {
    let app = spawn().await;
    let t = town(&app).await;
    let (base, id) = (&app.base, t.campaign);
    let url = format!("{base}/village/campaigns/{id}/self-assessment");
    let (s, page) = get_text(&t.op1.0, &url).await;
    assert_eq!(s, 200);
    // The sub-points and the four grades' definitions are beside the form.
    assert!(page.contains("每年专题研究或部署党风廉政建设和反腐败工作不少于 4 次"));
    assert!(page.contains("该项内容全面实施且富有成效"));
    assert!(page.contains("当项内容实施不全面,成效不明显"));
    let (home_status, home) = get_text(&t.op1.0, &format!("{base}/village")).await;
    assert_eq!(home_status, 200);
    assert!(home.contains(&format!("/village/campaigns/{id}/self-assessment")));

    let mut fields = sheet("好", 8, "较好", "一村自评说明");
    let (s, _, loc) = post(&t.op1, &url, &fields).await;
    assert_eq!((s, location_query(&loc)), (303, "m=saved".to_string()));
    let v1 = entries(&app.db, id, "V1").await;
    assert_eq!(
        of(&v1, "self", 8),
        [(Some("较好".into()), "一村自评说明".into())]
    );
    assert_eq!(v1.len(), 14, "one entry per graded item, all self");
    assert!(v1.iter().all(|e| e.source == "self"));
    let (_, page) = get_text(&t.op1.0, &url).await;
    assert!(page.contains("一村自评说明"));

    // The other village's operator sees an empty sheet of its own, and its post lands on V2.
    let (s, other) = get_text(&t.op2.0, &url).await;
    assert_eq!(s, 200);
    assert!(!other.contains("一村自评说明"));
    assert!(
        !other.contains("<option selected"),
        "nothing of V1 preselected"
    );
    fields = sheet("差", 8, "差", "二村");
    let (s, _, _) = post(&t.op2, &url, &fields).await;
    assert_eq!(s, 303);
    assert_eq!(entries(&app.db, id, "V1").await.len(), 14, "V1 untouched");
    assert_eq!(
        of(&entries(&app.db, id, "V2").await, "self", 8),
        [(Some("差".into()), "二村".into())]
    );

    // Saving the same sheet again adds nothing; a change adds one entry and keeps the old.
    let again = sheet("好", 8, "较好", "一村自评说明");
    post(&t.op1, &url, &again).await;
    assert_eq!(entries(&app.db, id, "V1").await.len(), 14);
    let changed = sheet("好", 8, "一般", "改了");
    post(&t.op1, &url, &changed).await;
    assert_eq!(
        of(&entries(&app.db, id, "V1").await, "self", 8),
        [
            (Some("较好".into()), "一村自评说明".into()),
            (Some("一般".into()), "改了".into())
        ]
    );
    assert_eq!(audit_count(&app.db, "grades.self").await, 4);
    let last = app.db.all_audit_entries().await.unwrap();
    let last = last
        .iter()
        .rev()
        .find(|e| e.event == "grades.self")
        .unwrap();
    assert!(
        last.details.contains("\"source\":\"self\""),
        "{}",
        last.details
    );
    assert!(last.details.contains("一般"), "{}", last.details);

    // A forged token, a bad grade and the wrong role change nothing.
    let before = entries(&app.db, id, "V1").await.len();
    let (s, _, _) = post_form(&t.op1.0, &url, "forged", &[("grade_1", "差")]).await;
    assert_eq!(s, 403);
    let (s, body, _) = post_form(&t.op1.0, &url, &t.op1.1, &[("grade_1", "优")]).await;
    assert_eq!(s, 400);
    assert!(body.contains("第1项的等次无效"), "{body}");
    let (s, _, _) = post_form(&t.admin.0, &url, &t.admin.1, &[("grade_1", "差")]).await;
    assert_eq!(s, 403);
    assert_eq!(entries(&app.db, id, "V1").await.len(), before);
    // An unknown campaign is not found.
    let (s, _) = get_text(
        &t.op1.0,
        &format!("{base}/village/campaigns/9999/self-assessment"),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_final_grade_needs_a_reason_where_it_differs_and_drives_the_verdict() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (base, id) = (&app.base, t.campaign);
    let page_url = format!("{base}/admin/campaigns/{id}/results/V1");
    let final_url = format!("{page_url}/grades");
    let sources_url = format!("{page_url}/sources");

    // Final grades all 好: the village passes, as before sources were kept apart.
    let (s, body, _) = post(&t.admin, &final_url, &sheet("好", 8, "好", "")).await;
    assert_eq!(s, 303, "{body}");
    let (_, page) = get_text(&t.admin.0, &page_url).await;
    assert_eq!(verdict_of(&page), "通过");
    // The page shows every item's sub-points and the four definitions.
    assert!(page.contains("每年专题研究或部署党风廉政建设和反腐败工作不少于 4 次"));
    assert!(page.contains("该项内容逐步实施,取得较好效果"));
    assert!(page.contains("<details><summary>评分要点与等次含义</summary>"));
    for column in ["村自评", "镇纪委", "评估组", "领导小组最终评定"] {
        assert!(page.contains(column), "{column}");
    }

    // The 镇纪委 says 较好 on item 8, the group says 一般 (then, on second thought, 差).
    let mut commission = sheet("好", 8, "较好", "镇纪委意见八");
    commission.push(("source".into(), "commission".into()));
    let (s, _, loc) = post(&t.admin, &sources_url, &commission).await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).contains("enter=commission"), "{loc:?}");
    for (grade, note) in [("一般", "评估组初评"), ("差", "评估组复议")] {
        let mut group = sheet("好", 8, grade, note);
        group.push(("source".into(), "group".into()));
        assert_eq!(post(&t.admin, &sources_url, &group).await.0, 303);
    }
    let all = entries(&app.db, id, "V1").await;
    assert_eq!(
        of(&all, "group", 8),
        [
            (Some("一般".into()), "评估组初评".into()),
            (Some("差".into()), "评估组复议".into())
        ],
        "both entries kept"
    );
    let (_, page) = get_text(&t.admin.0, &format!("{page_url}?enter=group")).await;
    assert!(page.contains("评估组复议"), "the newest is shown");
    assert!(
        !page.contains("评估组初评</span>"),
        "the older is not in the column"
    );
    assert!(page.contains("镇纪委意见八"));
    assert!(page.contains("录入考核验收评估组的等次"));
    // The final grade 好 now differs from the group's 差 without a reason.
    assert!(page.contains("还没有写明理由"));
    // The final sheet can't be entered as a source, nor an unknown one.
    for bad in ["final", "onsite", ""] {
        let mut f = sheet("好", 8, "差", "");
        f.push(("source".into(), bad.into()));
        let (s, body, _) = post(&t.admin, &sources_url, &f).await;
        assert_eq!(s, 400, "{bad}");
        assert!(body.contains("请选择评定来源"), "{body}");
    }

    // Final 较好 on item 8 differs from the group's 差 and has no reason: refused, nothing
    // stored, no audit entry.
    let finals_before = of(&entries(&app.db, id, "V1").await, "final", 8);
    let grades_before = audit_count(&app.db, "grades").await;
    let (s, body, _) = post(&t.admin, &final_url, &sheet("好", 8, "较好", "  ")).await;
    assert_eq!(s, 400);
    assert!(
        body.contains("第8项的最终评定“较好”与考核验收评估组的“差”不同,须填写理由"),
        "{body}"
    );
    assert_eq!(
        of(&entries(&app.db, id, "V1").await, "final", 8),
        finals_before
    );
    assert_eq!(audit_count(&app.db, "grades").await, grades_before);
    // Item 1 of the same sheet changed too, and was not stored either.
    let mut two = sheet("好", 8, "较好", "");
    two[0].1 = "一般".into();
    assert_eq!(post(&t.admin, &final_url, &two).await.0, 400);
    assert_eq!(of(&entries(&app.db, id, "V1").await, "final", 1).len(), 1);

    // Agreeing with the group needs no reason: final 差 on item 8 turns the verdict.
    let (s, _, _) = post(&t.admin, &final_url, &sheet("好", 8, "差", "")).await;
    assert_eq!(s, 303);
    let (_, page) = get_text(&t.admin.0, &page_url).await;
    assert_eq!(verdict_of(&page), "不通过");
    // A final grade differing with its reason is accepted and is what counts.
    let (s, _, _) = post(
        &t.admin,
        &final_url,
        &sheet("好", 8, "好", "领导小组综合评定:已整改到位"),
    )
    .await;
    assert_eq!(s, 303);
    let (_, page) = get_text(&t.admin.0, &page_url).await;
    assert_eq!(verdict_of(&page), "通过");
    assert!(page.contains("领导小组综合评定:已整改到位"));
    assert!(!page.contains("还没有写明理由"));
    assert_eq!(
        of(&entries(&app.db, id, "V1").await, "final", 8),
        [
            (Some("好".into()), String::new()),
            (Some("差".into()), String::new()),
            (Some("好".into()), "领导小组综合评定:已整改到位".into())
        ]
    );
    // The verdict downloads read the final grade, not the group's.
    let (s, csv) = get_text(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/downloads/assessment.csv"),
    )
    .await;
    assert_eq!(s, 200);
    let v1 = csv.lines().find(|l| l.starts_with("V1,")).unwrap();
    assert!(v1.contains("通过") && !v1.contains("不通过"), "{v1}");

    // The commission corrects the village's self-assessment; the audit names the source.
    let mut own = sheet("较好", 0, "", "");
    own.push(("source".into(), "self".into()));
    assert_eq!(post(&t.admin, &sources_url, &own).await.0, 303);
    assert_eq!(
        of(&entries(&app.db, id, "V1").await, "self", 3),
        [(Some("较好".into()), String::new())]
    );
    let audit = app.db.all_audit_entries().await.unwrap();
    let sources: Vec<&str> = audit
        .iter()
        .filter(|e| e.event == "grades" || e.event == "grades.self")
        .map(|e| {
            [
                "\"source\":\"commission\"",
                "\"source\":\"group\"",
                "\"source\":\"final\"",
                "\"source\":\"self\"",
            ]
            .into_iter()
            .find(|s| e.details.contains(s))
            .unwrap_or("none")
        })
        .collect();
    assert!(!sources.contains(&"none"), "{sources:?}");
    assert!(
        audit
            .iter()
            .any(|e| e.event == "grades.self" && e.details.contains("\"source\":\"self\""))
    );

    // Item 15 follows the negative list in every column: tick ⑥ in the window.
    let mut negative = sheet("好", 8, "好", "领导小组综合评定:已整改到位");
    negative.extend([
        ("neg_6".to_string(), "1".to_string()),
        ("neg_date_6".to_string(), minyi::domain::today()),
        ("neg_petitions_6".to_string(), "5".to_string()),
        ("neg_resolved_6".to_string(), "1".to_string()),
    ]);
    assert_eq!(post(&t.admin, &final_url, &negative).await.0, 303);
    let (_, page) = get_text(&t.admin.0, &page_url).await;
    assert_eq!(verdict_of(&page), "不通过");
    let row15 = page.split("15. 负面清单").nth(1).unwrap();
    let row15 = row15.split("</tr>").next().unwrap();
    assert_eq!(row15.matches("<td>差").count(), 3, "{row15}");
}

#[tokio::test]
async fn the_self_assessment_closes_when_the_results_are_published() {
    let app = spawn().await;
    let t = answered(&app).await;
    crate::results_web::confirm_uncertain(&app, &t).await;
    let (base, id) = (&app.base, t.campaign);
    let url = format!("{base}/village/campaigns/{id}/self-assessment");
    assert_eq!(post(&t.op1, &url, &sheet("好", 1, "好", "")).await.0, 303);
    set_notice_contact(base, &t.admin, id).await;
    let today = minyi::domain::today();
    let (s, _, loc) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/publicity"),
        &t.admin.1,
        &[("start", &today)],
    )
    .await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("m=published"), "{loc:?}");
    let before = entries(&app.db, id, "V1").await.len();
    let (s, body, _) = post(&t.op1, &url, &sheet("差", 1, "差", "")).await;
    assert_eq!(s, 400);
    assert!(body.contains("已经公示"), "{body}");
    assert_eq!(entries(&app.db, id, "V1").await.len(), before);
    let (s, page) = get_text(&t.op1.0, &url).await;
    assert_eq!(s, 200);
    assert!(page.contains("不再修改"));
    assert!(page.contains(" disabled"));
    // Nor can the commission: the proposed list rests on the grades as published.
    let mut fix = sheet("较好", 0, "", "");
    fix.push(("source".into(), "self".into()));
    let (s, body, _) = post(
        &t.admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/sources"),
        &fix,
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("拟评定名单已经公示"), "{body}");
    assert_eq!(entries(&app.db, id, "V1").await.len(), before);
}

#[tokio::test]
async fn the_group_report_keeps_every_version_and_its_file_is_for_the_commission_only() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (base, id) = (&app.base, t.campaign);
    let page_url = format!("{base}/admin/campaigns/{id}/results/V1");
    let url = format!("{page_url}/group-report");
    let pdf = b"%PDF-1.4\n% group report of V1\n".to_vec();
    let (s, body, loc) = upload(
        &t.admin.0,
        &url,
        &t.admin.1,
        "一村评估组报告.pdf",
        pdf.clone(),
        &[("text", "第8项:专题研究记录只有3次。<script>x</script>")],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    assert!(location_query(&loc).starts_with("m=report"), "{loc:?}");
    let v1 = village_id(&app.db, "V1").await;
    let reports = app.db.group_reports(id, v1).await.unwrap();
    assert_eq!(reports.len(), 1);
    let first = reports[0].clone();
    assert_eq!(first.file_name.as_deref(), Some("一村评估组报告.pdf"));
    let (_, page) = get_text(&t.admin.0, &page_url).await;
    assert!(page.contains("第8项:专题研究记录只有3次。&lt;script&gt;"));
    let file_url = format!("{url}/{}/file", first.id);
    assert!(page.contains(&format!("/group-report/{}/file", first.id)));

    let r = t.admin.0.get(&file_url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    for (who, c) in [("op1", &t.op1.0), ("op2", &t.op2.0)] {
        let r = c.get(&file_url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{who}");
    }
    let anonymous = client().get(&file_url).send().await.unwrap();
    assert_ne!(anonymous.status().as_u16(), 200);
    // The report belongs to V1: under V2's path, or by an unknown id, it is not found.
    let r = t
        .admin
        .0
        .get(format!(
            "{base}/admin/campaigns/{id}/results/V2/group-report/{}/file",
            first.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = t
        .admin
        .0
        .get(format!("{url}/99999/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // A script renamed .pdf is refused and nothing is stored; so is an empty report.
    let (s, body, _) = upload(
        &t.admin.0,
        &url,
        &t.admin.1,
        "报告.pdf",
        b"#!/bin/sh\nrm -rf /\n".to_vec(),
        &[("text", "新版本")],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, _, _) = upload(
        &t.admin.0,
        &url,
        &t.admin.1,
        "",
        Vec::new(),
        &[("text", " ")],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(app.db.group_reports(id, v1).await.unwrap().len(), 1);
    // A forged token changes nothing.
    let (s, _, _) = upload(
        &t.admin.0,
        &url,
        "forged",
        "r.pdf",
        pdf.clone(),
        &[("text", "x")],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(app.db.group_reports(id, v1).await.unwrap().len(), 1);

    // A second version with text only keeps the file; both versions stay.
    let (s, _, _) = upload(
        &t.admin.0,
        &url,
        &t.admin.1,
        "",
        Vec::new(),
        &[("text", "第二版:补充了现场核查情况。")],
    )
    .await;
    assert_eq!(s, 303);
    let reports = app.db.group_reports(id, v1).await.unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].text, "第二版:补充了现场核查情况。");
    assert_eq!(reports[0].attachment_id, first.attachment_id);
    assert_eq!(reports[1].text, first.text);
    let (_, page) = get_text(&t.admin.0, &page_url).await;
    assert!(page.contains("第二版:补充了现场核查情况。"));
    assert!(page.contains("以前的版本(1 个)"));

    let audit = app.db.all_audit_entries().await.unwrap();
    let saved: Vec<_> = audit
        .iter()
        .filter(|e| e.event == "group_report.save")
        .collect();
    assert_eq!(saved.len(), 2);
    assert!(saved[0].details.contains("\"source\":\"group\""));
    assert!(saved[0].details.contains(&first.sha256.clone().unwrap()));
    assert!(saved[1].details.contains("\"file_kept\":true"));
    // The audit page reads the event in Chinese.
    let (_, audit_page) = get_text(&t.admin.0, &format!("{base}/admin/audit")).await;
    assert!(audit_page.contains("保存考核验收评估组报告"));
}

#[tokio::test]
async fn grades_entered_before_sources_were_kept_apart_become_the_final_grades() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let db = Db::connect(&url).await.unwrap();
    // The schema as the version before this one left it.
    let before = |mut m: sqlx::migrate::Migrator| {
        let kept: Vec<_> = m
            .migrations
            .iter()
            .filter(|x| x.version < 20)
            .cloned()
            .collect();
        m.migrations = kept.into();
        m
    };
    match &db {
        Db::Sqlite(s) => {
            before(sqlx::migrate!("migrations/sqlite"))
                .run(&s.write)
                .await
        }
        Db::Postgres(p) => before(sqlx::migrate!("migrations/postgres")).run(p).await,
    }
    .unwrap();
    for sql in [
        "INSERT INTO villages (id, code, name, created_at) VALUES ($1, 'V1', '一村', 0)",
        "INSERT INTO campaigns (id, name, town, year, state, created_at) VALUES ($1, '旧轮', '唐家坊镇', 2025, 'closed', 0)",
        "INSERT INTO item_grades (campaign_id, village_id, item, grade, source, note, entered_at) VALUES ($1, 1, 1, '好', 'onsite', '现场核查', 100)",
        "INSERT INTO item_grades (campaign_id, village_id, item, grade, source, note, entered_at) VALUES ($1, 1, 2, '差', 'self', '', 101)",
        "INSERT INTO item_grades (campaign_id, village_id, item, grade, source, note, entered_at) VALUES ($1, 1, 15, '好', 'commission', '由负面清单决定', 102)",
    ] {
        assert_eq!(exec(&db, sql, 1).await, 1, "{sql}");
    }
    db.migrate().await.unwrap();
    let (c, v) = (CampaignId(1), VillageId(1));
    let in_force: Vec<(i64, String, String, String)> = db
        .item_grades(c)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.item, g.grade.to_string(), g.source, g.note))
        .collect();
    assert_eq!(
        in_force,
        [
            (1, "好".into(), "final".into(), "现场核查".into()),
            (2, "差".into(), "final".into(), String::new()),
            (15, "好".into(), "final".into(), "由负面清单决定".into()),
        ]
    );
    let kept = db.grade_entries(c, v).await.unwrap();
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|e| e.source == "final"));
    assert_eq!(kept[1].entered_at, 101);
    // The old rows stay as they were, labels and all; nothing writes them any more.
    assert_eq!(
        exec(
            &db,
            "UPDATE item_grades SET note = note WHERE campaign_id = $1 AND source IN ('onsite', 'self', 'commission')",
            1
        )
        .await,
        3
    );
    db.close().await;
}

#[tokio::test]
async fn publicity_waits_while_a_final_grade_differs_from_a_later_source_without_a_reason() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (base, id) = (&app.base, t.campaign);
    let page_url = format!("{base}/admin/campaigns/{id}/results/V1");
    // Final 好 throughout, with no other source yet: no reason needed.
    let (s, _, _) = post(
        &t.admin,
        &format!("{page_url}/grades"),
        &sheet("好", 8, "好", ""),
    )
    .await;
    assert_eq!(s, 303);
    // Then the group's 一般 on item 8 comes in: the final 好 now differs, unexplained.
    let mut group = sheet("好", 8, "一般", "评估组:专题研究不足 4 次");
    group.push(("source".into(), "group".into()));
    assert_eq!(
        post(&t.admin, &format!("{page_url}/sources"), &group)
            .await
            .0,
        303
    );
    crate::results_web::confirm_uncertain(&app, &t).await;
    set_notice_contact(base, &t.admin, id).await;
    let publicity = format!("{base}/admin/campaigns/{id}/publicity");
    let (s, _, loc) = post_form(
        &t.admin.0,
        &publicity,
        &t.admin.1,
        &[("start", "2026-09-30")],
    )
    .await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("e=unexplained"), "{loc:?}");
    assert!(app.db.publicity(id).await.unwrap().is_none());
    let (_, page) = get_text(
        &t.admin.0,
        &format!("{base}/admin/campaigns/{id}/results?e=unexplained"),
    )
    .await;
    assert!(page.contains("还没有写明理由,不能开始公示"), "{page}");
    // With the 领导小组's reason the final 好 stands, and publicity starts.
    let (s, _, _) = post(
        &t.admin,
        &format!("{page_url}/grades"),
        &sheet("好", 8, "好", "整改后已达到要求"),
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, loc) = post_form(
        &t.admin.0,
        &publicity,
        &t.admin.1,
        &[("start", "2026-09-30")],
    )
    .await;
    assert!(location_query(&loc).starts_with("m=published"), "{loc:?}");
}
