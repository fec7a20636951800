//! The publicity notice (公示) through the real app: where to object is set on the campaign
//! (checked, refused after publication), publishing is refused without it, and the notice
//! generated at publication is stored, shown as a print page and a .docx, fingerprinted in
//! the audit chain, and never changes afterwards. (tests/it/notice.rs is the notice to
//! respondents, a different thing.)

use crate::common;

use common::*;
use minyi::ids::CampaignId;
use sha2::{Digest, Sha256};
use std::io::Read;

const HOSTILE: &str = "一村<script>alert(1)</script>";

/// The contact as stored, as (phone, address, issuer).
async fn stored_contact(
    app: &TestApp,
    id: CampaignId,
) -> (Option<String>, Option<String>, Option<String>) {
    let c = app.db.objection_contact(id).await.unwrap();
    (c.phone, c.address, c.issuer)
}

async fn contact_entries(app: &TestApp) -> usize {
    app.db
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event == "campaign.notice_contact")
        .count()
}

#[tokio::test]
async fn a_bad_contact_is_refused_in_chinese_naming_the_field_and_nothing_is_saved() {
    let app = spawn().await;
    let t = town(&app).await;
    let (admin, csrf, id) = (&t.admin.0, &t.admin.1, t.campaign);
    let url = format!("{}/admin/campaigns/{id}/notice-contact", app.base);
    let cases = [
        (
            ("12345", "镇政府", "镇纪委"),
            "e=contact_phone",
            "受理异议电话",
        ),
        (
            ("0739-12a4567", "镇政府", "镇纪委"),
            "e=contact_phone",
            "受理异议电话",
        ),
        (
            ("0739-1234567", "镇政府\n二楼", "镇纪委"),
            "e=contact_address",
            "受理异议地址",
        ),
        (
            ("0739-1234567", "", "镇纪委"),
            "e=contact_address",
            "受理异议地址",
        ),
        (
            ("0739-1234567", "镇政府", "  "),
            "e=contact_issuer",
            "公示发布单位",
        ),
    ];
    for ((phone, address, issuer), key, field) in cases {
        let (s, _, loc) = post_form(
            admin,
            &url,
            csrf,
            &[("phone", phone), ("address", address), ("issuer", issuer)],
        )
        .await;
        assert_eq!(s, 303);
        let query = location_query(&loc);
        assert!(
            query.starts_with(key),
            "{phone:?} {address:?} {issuer:?}: {query}"
        );
        // The page says what is wrong, in Chinese, naming the field; nothing typed is shown.
        let (_, page) =
            get_text(admin, &format!("{}/admin/campaigns/{id}?{query}", app.base)).await;
        assert!(page.contains(&format!("{field}未保存")), "{page}");
    }
    assert_eq!(stored_contact(&app, id).await, (None, None, None));
    assert_eq!(contact_entries(&app).await, 0);

    // A good one is saved trimmed, audited, and shown back in the form.
    let (_, _, loc) = post_form(
        admin,
        &url,
        csrf,
        &[
            ("phone", " +86 (0739) 765-4321 "),
            ("address", " 唐家坊镇人民政府二楼 "),
            ("issuer", "中共唐家坊镇纪律检查委员会"),
        ],
    )
    .await;
    assert!(location_query(&loc).starts_with("m=contact"), "{loc:?}");
    assert_eq!(
        stored_contact(&app, id).await,
        (
            Some("+86 (0739) 765-4321".into()),
            Some("唐家坊镇人民政府二楼".into()),
            Some("中共唐家坊镇纪律检查委员会".into())
        )
    );
    assert_eq!(contact_entries(&app).await, 1);
    let (_, page) = get_text(admin, &format!("{}/admin/campaigns/{id}", app.base)).await;
    assert!(page.contains("value=\"唐家坊镇人民政府二楼\""), "{page}");
}

#[tokio::test]
async fn the_notice_is_generated_at_publication_stored_and_never_changes() {
    let app = spawn().await;
    let (t, _) = fieldwork(&app).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, app.base.as_str(), t.campaign);

    // V1 gets a hostile name; it earns the title (items 1–15 at 好, item 16 confirmed 好).
    let (s, _, _) = upload(
        admin,
        &format!("{base}/admin/villages/import"),
        csrf,
        "villages.csv",
        format!("编码,名称\nV1,\"{HOSTILE}\"\n").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/close"),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!((s, location_query(&loc)), (303, "m=closed".to_string()));
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
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/override"),
        csrf,
        &[("grade", "好"), ("reason", "领导小组研究确认")],
    )
    .await;
    assert_eq!(s, 303);
    for code in minyi::ops::publicity::unconfirmed_uncertain(&app.db, id)
        .await
        .unwrap()
    {
        let (s, _, _) = post_form(
            admin,
            &format!("{base}/admin/campaigns/{id}/results/{code}/override"),
            csrf,
            &[("grade", "一般"), ("reason", "领导小组研究确认")],
        )
        .await;
        assert_eq!(s, 303);
    }
    national_day_calendar(admin, base, csrf).await;

    // Before publication there is no notice.
    let notice_url = format!("{base}/admin/campaigns/{id}/publicity/notice");
    let (s, page) = get_text(admin, &notice_url).await;
    assert_eq!(s, 400);
    assert!(page.contains("尚未开始公示"), "{page}");

    // Publishing without the contact is refused with a sentence pointing to the campaign page.
    let publish = format!("{base}/admin/campaigns/{id}/publicity");
    let (s, _, loc) = post_form(admin, &publish, csrf, &[("start", "2026-09-30")]).await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("e=contact#"), "{loc:?}");
    let (_, page) = get_text(
        admin,
        &format!("{base}/admin/campaigns/{id}/results?e=contact"),
    )
    .await;
    assert!(page.contains("受理异议的电话、地址和发布单位"), "{page}");
    assert!(page.contains("调查轮次页面"), "{page}");
    assert!(app.db.publicity(id).await.unwrap().is_none());

    set_notice_contact(base, &t.admin, id).await;
    let (_, _, loc) = post_form(admin, &publish, csrf, &[("start", "2026-09-30")]).await;
    assert!(location_query(&loc).starts_with("m=published"), "{loc:?}");

    // The page: the proposed village (escaped), the period with its working days (9-30,
    // 10-08, 10-09, 10-10 调休, 10-12, 10-13, 10-14), where to object, A4 when printed.
    let (s, page) = get_text(admin, &notice_url).await;
    assert_eq!(s, 200);
    for part in [
        "关于2026年验收廉洁村（社区）拟评定名单的公示",
        "拟评定以下 1 个村（社区）",
        "1. 一村&lt;script&gt;alert(1)&lt;&#x2f;script&gt;",
        "公示时间：2026年9月30日 至 2026年10月14日，共 7 个工作日",
        NOTICE_PHONE,
        NOTICE_ADDRESS,
        NOTICE_ISSUER,
        "实名",
        "具体事实",
        "@page{size:A4",
    ] {
        assert!(page.contains(part), "{part} missing: {page}");
    }
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("二村"), "V2 did not pass: not proposed");
    assert!(!page.contains("<nav"), "a standalone page");
    // The results page links to it.
    let (_, results) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert!(results.contains("/publicity/notice.docx"));

    // The text is stored, and the publish entry of the audit chain holds its SHA-256 (and,
    // being short, the text itself).
    let stored = app
        .db
        .publicity(id)
        .await
        .unwrap()
        .unwrap()
        .notice_text
        .expect("the notice is stored");
    assert!(stored.contains("2026年10月14日") && stored.contains(HOSTILE));
    let entry = app
        .db
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.event == "publicity.start" && e.campaign_id == Some(id))
        .expect("publish is audited");
    let details: serde_json::Value = serde_json::from_str(&entry.details).unwrap();
    assert_eq!(
        details["notice_sha256"],
        hex::encode(Sha256::digest(stored.as_bytes()))
    );
    assert_eq!(details["notice"], stored.as_str());

    // After publication the contact cannot change, and the notice never does: not even if
    // the campaign's columns were changed behind the app's back.
    let (s, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/notice-contact"),
        csrf,
        &[
            ("phone", "0739-0000000"),
            ("address", "别处"),
            ("issuer", "别的单位"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let query = location_query(&loc);
    assert!(query.starts_with("e=contact_published"), "{query}");
    let (_, campaign_page) = get_text(admin, &format!("{base}/admin/campaigns/{id}?{query}")).await;
    assert!(campaign_page.contains("不能再修改"), "{campaign_page}");
    assert_eq!(
        stored_contact(&app, id).await.0.as_deref(),
        Some(NOTICE_PHONE)
    );
    exec(
        &app.db,
        "UPDATE campaigns SET objection_phone = '0739-9999999' WHERE id = $1",
        id.0,
    )
    .await;
    let (_, again) = get_text(admin, &notice_url).await;
    assert_eq!(again, page);
    let after = app.db.publicity(id).await.unwrap().unwrap().notice_text;
    assert_eq!(after.as_deref(), Some(stored.as_str()));

    // The .docx: a Word file with a Chinese name, whose document.xml holds the title, the
    // phone and the village, escaped.
    let r = admin
        .get(format!("{notice_url}.docx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    // 公示通知, percent-encoded in UTF-8.
    assert!(
        disposition.contains("%E5%85%AC%E7%A4%BA%E9%80%9A%E7%9F%A5.docx"),
        "{disposition}"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip file");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    for part in [
        "关于2026年验收廉洁村（社区）拟评定名单的公示",
        NOTICE_PHONE,
        "一村&lt;script&gt;alert(1)&lt;/script&gt;",
        NOTICE_ISSUER,
    ] {
        assert!(xml.contains(part), "{part} missing from document.xml");
    }
    assert!(!xml.contains("<script>"));

    // The village operators see the same notice (it is posted in every village).
    let (s, village_page) = get_text(
        &t.op1.0,
        &format!("{base}/village/campaigns/{id}/publicity/notice"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(village_page.contains(NOTICE_PHONE) && village_page.contains("1. 一村&lt;script&gt;"));
    let (s, _) = get_text(
        &t.op1.0,
        &format!("{base}/village/campaigns/{id}/publicity/notice.docx"),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_demo_posts_a_notice_naming_its_contact() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let stored = app
        .db
        .publicity(made.campaign_id)
        .await
        .unwrap()
        .unwrap()
        .notice_text
        .expect("the demo's publicity has its notice");
    assert!(
        stored.contains("唐家坊镇人民政府二楼纪委办公室（演示）"),
        "{stored}"
    );
    assert!(stored.contains("共 7 个工作日"), "{stored}");
}

#[tokio::test]
async fn without_a_village_passing_the_notice_says_none_is_proposed() {
    let app = spawn().await;
    let (t, _) = fieldwork(&app).await;
    let (admin, csrf, base, id) = (&t.admin.0, &t.admin.1, app.base.as_str(), t.campaign);
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/close"),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 303);
    for code in minyi::ops::publicity::unconfirmed_uncertain(&app.db, id)
        .await
        .unwrap()
    {
        let (s, _, _) = post_form(
            admin,
            &format!("{base}/admin/campaigns/{id}/results/{code}/override"),
            csrf,
            &[("grade", "一般"), ("reason", "领导小组研究确认")],
        )
        .await;
        assert_eq!(s, 303);
    }
    set_notice_contact(base, &t.admin, id).await;
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/publicity"),
        csrf,
        &[("start", "2026-09-30")],
    )
    .await;
    assert!(location_query(&loc).starts_with("m=published"), "{loc:?}");
    let (s, page) = get_text(
        admin,
        &format!("{base}/admin/campaigns/{id}/publicity/notice"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains("本轮没有拟评定的村（社区）"), "{page}");
    assert!(!page.contains("1. "), "no village listed");
    // Without a calendar, Monday to Friday: 9-30 to 10-08.
    assert!(
        page.contains("2026年9月30日 至 2026年10月8日，共 7 个工作日"),
        "{page}"
    );
}
