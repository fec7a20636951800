//! The village archive (创廉档案) through the real app: half-yearly reports handed in by the
//! village (current and past half years only, checked by content), listed with their SHA-256
//! and fetched only by their village and the commission; the commission's reminder list
//! (overdue first); the village's archive page; and the campaign archive export holding the
//! applications and the files with matching SHA-256.

use crate::common;

use common::*;
use minyi::ids::AttachmentId;
use minyi::ops::applications::Period;
use std::io::Read;

fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.5\n% {marker}\n%%EOF\n").into_bytes()
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(b"\0\0\0\rIHDR sample image bytes");
    b
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn hand_in(
    app: &TestApp,
    op: &(reqwest::Client, String),
    period: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let (s, body, _) = upload(
        &op.0,
        &format!("{}/village/archive", app.base),
        &op.1,
        name,
        bytes,
        &[("period", period), ("note", "按时报告")],
    )
    .await;
    (s, body)
}

#[tokio::test]
async fn half_yearly_reports_are_kept_with_their_hash_and_only_their_village_sees_them() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let current = Period::of_day(&minyi::domain::today()).unwrap();
    let past = Period {
        year: current.year - 1,
        half: 2,
    };

    let (s, page) = get_text(&t.op1.0, &format!("{base}/village/archive")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("value=\"{current}\""))
            && page.contains(&format!("value=\"{past}\""))
    );
    assert!(
        !page.contains(&format!("value=\"{}\"", current.next())),
        "no future half year offered"
    );
    assert!(
        page.contains("7 月 15 日前") && page.contains("次年 1 月 15 日前"),
        "the due dates are stated"
    );
    assert!(page.contains("最多 10 次"), "the limit is stated");

    let report = pdf("半年报告");
    let (s, body) = hand_in(
        &app,
        &t.op1,
        &past.to_string(),
        "上半年报告.pdf",
        report.clone(),
    )
    .await;
    assert_eq!(s, 303, "{body}");
    // Again for the same half year: both kept, the newest counts.
    let image = png();
    let (s, _) = hand_in(&app, &t.op1, &past.to_string(), "扫描件.png", image.clone()).await;
    assert_eq!(s, 303);
    let (_, page) = get_text(&t.op1.0, &format!("{base}/village/archive")).await;
    assert!(
        page.contains(&sha256(&report)) && page.contains(&sha256(&image)),
        "{page}"
    );
    assert!(page.contains("已被更新的版本替代"));

    // Refused: a future half year, an unknown one, a script named .pdf, no file.
    for (period, name, bytes, why) in [
        (current.next().to_string(), "a.pdf", pdf("x"), "还没有开始"),
        (
            "2026H3".to_string(),
            "a.pdf",
            pdf("x"),
            "请选择报告所属的半年",
        ),
        (
            current.to_string(),
            "报告.pdf",
            b"<script>alert(1)</script>".to_vec(),
            "只能上传 PDF",
        ),
        (
            current.to_string(),
            "报告.pdf",
            b"MZ\x90\0 windows program".to_vec(),
            "只能上传 PDF",
        ),
    ] {
        let (s, body) = hand_in(&app, &t.op1, &period, name, bytes).await;
        assert_eq!(s, 400, "{period} {name}");
        assert!(body.contains(why), "{why}: {body}");
    }
    let v1 = app.db.village_by_code("V1").await.unwrap();
    let rows = app.db.village_reports(v1.id).await.unwrap();
    assert_eq!(rows.len(), 2, "nothing refused was stored");
    let stored = rows.clone();
    assert_eq!(rows[0].file_name, "扫描件.png", "the newest first");
    let id: AttachmentId = rows[1].attachment_id;

    // Its own file: for its operator and the commission only.
    let r = t
        .op1
        .0
        .get(format!("{base}/village/archive/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), report);
    let r = t
        .op2
        .0
        .get(format!("{base}/village/archive/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another village's file is not found");
    let r = t
        .op2
        .0
        .get(format!("{base}/admin/villages/V1/archive/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = t
        .admin
        .0
        .get(format!("{base}/admin/villages/V1/archive/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), report);
    let r = t
        .admin
        .0
        .get(format!("{base}/admin/villages/V2/archive/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "not under another village");
    let r = t
        .admin
        .0
        .get(format!("{base}/admin/villages/V1/archive/99999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The commission's page of the village's archive, linked from the village list.
    let (_, page) = get_text(&t.admin.0, &format!("{base}/admin/villages")).await;
    assert!(page.contains("/admin/villages/V1/archive"));
    let (s, page) = get_text(&t.admin.0, &format!("{base}/admin/villages/V1/archive")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("上半年报告.pdf") && page.contains(&sha256(&report)) && page.contains("图片"),
        "{page}"
    );
    let (s, _) = get_text(&t.op1.0, &format!("{base}/admin/villages/V1/archive")).await;
    assert_eq!(s, 403);

    let events: Vec<String> = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events.iter().filter(|e| *e == "archive.upload").count(), 2);

    // At most 10 uploads per half year: the 11th is refused, nothing stored; another half
    // year still takes its own.
    for n in 2..minyi::ops::applications::MAX_PERIOD_REPORTS {
        let (s, body) = hand_in(
            &app,
            &t.op1,
            &past.to_string(),
            "更正.pdf",
            pdf(&n.to_string()),
        )
        .await;
        assert_eq!(s, 303, "upload {n}: {body}");
    }
    let last = app.db.village_reports(v1.id).await.unwrap()[0].attachment_id;
    let (s, body) = hand_in(&app, &t.op1, &past.to_string(), "第十一份.pdf", pdf("11")).await;
    assert_eq!(s, 400);
    assert!(
        body.contains(&format!("{} 已经提交过 10 份报告", past.zh())),
        "{body}"
    );
    assert!(
        app.db
            .attachment_meta(AttachmentId(last.0 + 1))
            .await
            .is_err(),
        "the refused file is not stored"
    );
    let rows = app.db.village_reports(v1.id).await.unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.file_name != "第十一份.pdf"));
    assert!(stored.iter().all(|s| rows.iter().any(|r| r.id == s.id)));
    let (s, body) = hand_in(&app, &t.op1, &current.to_string(), "本半年.pdf", pdf("本")).await;
    assert_eq!(s, 303, "{body}");
}

#[tokio::test]
async fn the_reminder_list_puts_overdue_reports_first() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = &app.base;
    let current = Period::of_day(&minyi::domain::today()).unwrap();
    // A campaign of last year: its first half year is long overdue.
    let last_year = (current.year - 1).to_string();
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns"),
        &t.admin.1,
        &[
            ("name", "上一年验收"),
            ("town", "唐家坊镇"),
            ("year", last_year.as_str()),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let old = Period {
        year: current.year - 1,
        half: 1,
    };
    let (s, _) = hand_in(&app, &t.op1, &old.to_string(), "报告.pdf", pdf("按时")).await;
    assert_eq!(s, 303);

    let (s, page) = get_text(&t.admin.0, &format!("{base}/admin/archive")).await;
    assert_eq!(s, 200);
    let row = |code: &str, p: Period| {
        let start = page
            .find(&format!(
                "{code} {}</a></td><td>{}</td>",
                if code == "V1" { "一村" } else { "二村" },
                p.zh()
            ))
            .unwrap_or_else(|| panic!("{code} {p} missing: {page}"));
        let end = start + page[start..].find("</tr>").unwrap();
        (start, page[start..end].to_string())
    };
    let (v2_old_at, v2_old) = row("V2", old);
    assert!(
        v2_old.contains("逾期未交") && v2_old.contains(&old.due()),
        "{v2_old}"
    );
    let (v1_old_at, v1_old) = row("V1", old);
    assert!(v1_old.contains("已交"), "{v1_old}");
    let (v2_now_at, v2_now) = row("V2", current);
    assert!(v2_now.contains("未到期"), "{v2_now}");
    assert!(
        v2_old_at < v2_now_at && v2_now_at < v1_old_at,
        "overdue, then not yet due, then handed in"
    );
    assert!(page.contains("逾期未交。") || page.contains("份半年书面报告逾期未交"));
    let (s, _) = get_text(&t.op1.0, &format!("{base}/admin/archive")).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn the_campaign_archive_holds_the_applications_and_the_files_with_their_hashes() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let id = made.campaign_id;
    let (admin, csrf) = admin_client(&app).await;
    let base = &app.base;
    let campaign = app.db.campaign(id).await.unwrap();
    let village = app.db.drawn_villages(id).await.unwrap()[0].clone();

    // A self-assessment report and a half-yearly report of the campaign's year, stored as
    // the pages store them (the demo campaign predates applications).
    let report = pdf("自评报告内容");
    let checked = minyi::attachments::check("自评/报告.pdf", &report).unwrap();
    let mut tx = app.db.begin().await.unwrap();
    tx.store_attachment(&checked, &report, None).await.unwrap();
    tx.commit().await.unwrap();
    exec(
        &app.db,
        "INSERT INTO applications (campaign_id, village_id, report_id, note, applied_at, decision)
         SELECT $1, s.village_id, (SELECT MAX(id) FROM attachments), '', 0, 'accepted'
         FROM draw_strata s WHERE s.campaign_id = $1 ORDER BY s.village_id LIMIT 1",
        id.0,
    )
    .await;
    // A half-yearly report superseded by a newer one of the same half year: only the newest
    // goes into the archive.
    let old_half = pdf("半年报告旧版");
    let half = pdf("半年报告内容");
    let period = Period {
        year: campaign.year,
        half: 1,
    };
    for (name, content) in [("旧版.pdf", &old_half), ("半年报告.pdf", &half)] {
        minyi::ops::applications::upload_village_report(
            &app.db,
            &minyi::ops::Actor::named("test"),
            village.id,
            period,
            minyi::ops::applications::Document {
                file: &minyi::attachments::check(name, content).unwrap(),
                content,
                note: "",
            },
            &format!("{}-12-31", campaign.year),
        )
        .await
        .unwrap();
    }

    // Approve (the demo's publicity moved into the past, its objection resolved), export.
    exec(&app.db, "UPDATE publicity SET start_date = '2026-09-01', end_date = '2026-09-09' WHERE campaign_id = $1", id.0).await;
    let oid = app.db.objections(id).await.unwrap()[0].id;
    post_form(
        &admin,
        &format!("{base}/admin/campaigns/{id}/objections/{oid}/resolve"),
        &csrf,
        &[("decision", "dismissed"), ("resolution", "已复核")],
    )
    .await;
    crate::decisions::decide_every_listed_village(&app, &admin, &csrf, id).await;
    let (_, _, loc) = post_form(
        &admin,
        &format!("{base}/admin/campaigns/{id}/approve"),
        &csrf,
        &[],
    )
    .await;
    assert!(location_query(&loc).starts_with("m=approved"), "{loc:?}");
    let r = admin
        .post(format!("{base}/admin/campaigns/{id}/archive"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    let recorded = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.event == "campaign.archive")
        .unwrap();
    assert!(
        recorded.details.contains(&sha256(&bytes)),
        "the audit entry holds the SHA-256 of the file sent: {}",
        recorded.details
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    assert!(
        !names.iter().any(|n| n.contains("旧版")),
        "the superseded version is left out: {names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| n.contains("/village-reports/"))
            .count(),
        1,
        "{names:?}"
    );
    let mut read = |name: &str| {
        let mut f = zip
            .by_name(&format!("campaign-{id}/{name}"))
            .unwrap_or_else(|_| panic!("{name} missing"));
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        b
    };
    let code = &village.code;
    let in_zip = read(&format!("applications/{code}-自评_报告.pdf"));
    assert_eq!(
        in_zip, report,
        "the path's slash is made safe, the content is the report's"
    );
    let half_name = format!("village-reports/{code}/{period}-2-半年报告.pdf");
    assert_eq!(read(&half_name), half);
    let listed = String::from_utf8(read("attachments.csv")).unwrap();
    assert!(
        listed.contains(&format!(
            "applications/{code}-自评_报告.pdf,自评/报告.pdf,{},{}",
            sha256(&report),
            report.len()
        )),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "{half_name},半年报告.pdf,{},{}",
            sha256(&half),
            half.len()
        )),
        "{listed}"
    );
    let applications = String::from_utf8(read("applications/applications.csv")).unwrap();
    assert!(
        applications.contains(&format!("{code},{},已受理", village.name)),
        "{applications}"
    );
    assert!(!listed.contains(&sha256(&old_half)), "{listed}");
    let manifest = String::from_utf8(read("MANIFEST.txt")).unwrap();
    assert!(
        manifest.contains(&format!("{}  {half_name}", sha256(&half)))
            && manifest.contains(&format!(
                "{}  applications/{code}-自评_报告.pdf",
                sha256(&report)
            )),
        "{manifest}"
    );
    // Every file but the manifest itself is listed with the SHA-256 of its content.
    for name in names.iter().filter(|n| !n.ends_with("/MANIFEST.txt")) {
        let short = name.split_once('/').unwrap().1;
        let content = read(short);
        assert!(
            manifest.contains(&format!("{}  {short}\n", sha256(&content))),
            "{short} in {manifest}"
        );
    }
}
