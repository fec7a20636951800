//! The report documents through the real app: the town report and the village's one-page
//! report as A4 HTML and as .docx (unzipped and its XML parsed), with the method, the draw's
//! seed and fingerprint, the response rates, item 16 and the verdict, the signature block,
//! suppression as on the results pages, and refusal during fieldwork and to other roles.

use crate::common;
use crate::results_web::answered;

use common::*;
use minyi::ids::CampaignId;
use std::io::Read;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The seed and the frame fingerprint of the campaign's draw record.
async fn seed_and_fingerprint(app: &TestApp, id: CampaignId) -> (String, String) {
    let (json, _) = app.db.draw_record(id).await.unwrap().unwrap();
    let record: minyi::sampling::record::DrawRecord = serde_json::from_str(&json).unwrap();
    (record.seed, record.frame_fingerprint)
}

/// Grades items 1–15 of `code` (all `grade`) and ticks the negative-list situations given.
async fn grade(app: &TestApp, t: &Town, code: &str, grade: &str, negative: &[&str]) {
    let numbers: Vec<String> = (1..=15).map(|n| n.to_string()).collect();
    let mut fields: Vec<(String, String)> = Vec::new();
    for n in &numbers {
        fields.push((format!("grade_{n}"), grade.to_string()));
        fields.push((format!("source_{n}"), "onsite".to_string()));
    }
    for n in negative {
        fields.push((format!("neg_{n}"), "1".to_string()));
        fields.push((format!("neg_date_{n}"), minyi::domain::today()));
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let url = format!(
        "{}/admin/campaigns/{}/results/{code}/grades",
        app.base, t.campaign
    );
    let (s, _, loc) = post_form(&t.admin.0, &url, &t.admin.1, &fields).await;
    assert_eq!((s, location_query(&loc).as_str()), (303, "m=grades"));
}

/// A .docx's parts: the names in the zip and the text of `word/document.xml`, which must
/// parse as XML.
async fn docx(c: &reqwest::Client, url: &str) -> (Vec<String>, String) {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(r.headers()["content-type"], DOCX);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    // The Chinese name arrives as UTF-8 (民意调查报告, percent-encoded).
    assert!(
        disposition.contains("%E6%B0%91%E6%84%8F%E8%B0%83%E6%9F%A5%E6%8A%A5%E5%91%8A.docx"),
        "{disposition}"
    );
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("a file name").to_string())
        .collect();
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("document.xml is well-formed XML");
    let text: String = doc
        .descendants()
        .filter(|n| n.has_tag_name("t"))
        .filter_map(|n| n.text())
        .collect();
    (names, text)
}

#[tokio::test]
async fn the_town_report_has_the_method_the_rates_the_results_the_verdict_and_the_signatures() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    // V1 graded 好 on 1–15 and item 16 lowered to 较好: 15 of 16 好, it passes. V2 is
    // graded 好 too but situation ③ of the negative list vetoes it.
    grade(&app, &t, "V1", "好", &[]).await;
    grade(&app, &t, "V2", "好", &["3"]).await;
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/override"),
        &t.admin.1,
        &[("grade", "较好"), ("reason", "领导小组复核")],
    )
    .await;
    assert_eq!(s, 303);

    let (s, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/report")).await;
    assert_eq!(s, 200, "{page}");
    let (seed, fingerprint) = seed_and_fingerprint(&app, id).await;
    for text in [
        "2026年验收 民意调查报告",
        "委托单位：唐家坊镇纪委",
        "一、调查方法",
        seed.as_str(),
        fingerprint.as_str(),
        "调查时间：",
        "应答率 RR1",
        "合作率",
        "拒访率",
        "接触率",
        "一村",
        "二村",
        "<svg",
        "已调整,计算为好",
        "通过",
        "负面清单情形③",
        "不通过",
        "答卷少于 5 份,不显示",
        "局限与说明",
        "单位（盖章）",
        "负责人（签字）",
        "日期：",
    ] {
        assert!(page.contains(text), "the town report lacks {text:?}");
    }
    // Standalone and print-ready: its own A4 stylesheet, not the staff pages' navigation.
    assert!(page.contains("@page{size:A4;margin:18mm}"));
    assert!(!page.contains("<nav>"));
    // The results page links to it.
    let (_, results) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert!(results.contains(&format!("/admin/campaigns/{id}/report\"")));

    let (names, text) = docx(admin, &format!("{base}/admin/campaigns/{id}/report.docx")).await;
    assert!(
        names.iter().any(|n| n == "[Content_Types].xml"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "word/document.xml"), "{names:?}");
    // The charts go in as PNG images.
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("word/media/") && n.ends_with(".png")),
        "no chart image in {names:?}"
    );
    for text_in in [
        "2026年验收",
        "应答率",
        "一村",
        "二村",
        seed.as_str(),
        fingerprint.as_str(),
        "负面清单情形③",
        "签字",
        "盖章",
    ] {
        assert!(text.contains(text_in), "the .docx lacks {text_in:?}");
    }
}

#[tokio::test]
async fn the_village_report_shows_its_own_figures_and_a_small_village_shows_none() {
    let app = spawn().await;
    let t = answered(&app).await;
    let (admin, base, id) = (&t.admin.0, &app.base, t.campaign);
    let (seed, _) = seed_and_fingerprint(&app, id).await;

    let (s, v1) = get_text(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/report"),
    )
    .await;
    assert_eq!(s, 200, "{v1}");
    for text in [
        "V1 一村 民意调查报告",
        "本村(社区)名单指纹",
        seed.as_str(),
        "应答率 RR1",
        "<svg",
        // V1's R and its interval (15 respondents, above k).
        "98.9%",
        " – ",
        "第1–15项尚未评定",
        "单位（盖章）",
        "负责人（签字）",
    ] {
        assert!(v1.contains(text), "V1's report lacks {text:?}");
    }
    assert!(
        !v1.contains("二村"),
        "one village's report names no other village"
    );
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}/results/V1")).await;
    assert!(
        page.contains("report.docx"),
        "the village page links to its report"
    );

    // V2 has three answers, under k = 5: no rate, no interval, no R or S.
    let (s, v2) = get_text(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V2/report"),
    )
    .await;
    assert_eq!(s, 200, "{v2}");
    assert!(v2.contains("答卷少于 5 份,不显示"));
    assert!(!v2.contains(" – "), "a suppressed interval is shown: {v2}");
    assert!(v2.contains("数据不足"));
    let (_, text) = docx(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V2/report.docx"),
    )
    .await;
    assert!(text.contains("二村") && text.contains("签字") && text.contains("应答率"));
    assert!(text.contains("答卷少于 5 份，不显示"));
    assert!(
        !text.contains(" – "),
        "a suppressed interval is in the .docx"
    );
    let (_, text) = docx(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V1/report.docx"),
    )
    .await;
    assert!(text.contains(" – ") && text.contains("98.9%"));

    let (s, _) = get_text(
        admin,
        &format!("{base}/admin/campaigns/{id}/results/V9/report"),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn reports_wait_for_the_end_of_fieldwork_and_are_the_commissions_alone() {
    let app = spawn().await;
    let (t, surveyor) = fieldwork(&app).await;
    let (base, id) = (&app.base, t.campaign);
    let paths = [
        format!("/admin/campaigns/{id}/report"),
        format!("/admin/campaigns/{id}/report.docx"),
        format!("/admin/campaigns/{id}/results/V1/report"),
        format!("/admin/campaigns/{id}/results/V1/report.docx"),
    ];
    for path in &paths {
        let (s, page) = get_text(&t.admin.0, &format!("{base}{path}")).await;
        assert_eq!(s, 400, "{path}");
        assert!(page.contains("调查还在进行"), "{path}: {page}");
        for (who, c) in [("operator", &t.op1.0), ("surveyor", &surveyor.0)] {
            let (s, _) = get_text(c, &format!("{base}{path}")).await;
            assert_eq!(s, 403, "{path} as {who}");
        }
    }
    // No link to a report while the answers are withheld.
    let (_, results) = get_text(&t.admin.0, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert!(!results.contains("report.docx"));
}
