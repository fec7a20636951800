//! Spreadsheets for people, through the real app: the surveyor's sample, case list, SMS
//! outbox and frozen rosters come as .xlsx with Chinese headers and every phone a text cell
//! (a landline keeps its leading 0), every download carries a Chinese file name (RFC 6266
//! `filename*`), and the files other software reads keep their keys. Runs on SQLite, or
//! PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use calamine::Data;
use common::*;
use minyi::ids::CampaignId;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The file name a download names in `filename*` (RFC 6266: `UTF-8''` and percent-encoding).
fn file_name_of(r: &reqwest::Response) -> String {
    let header = r
        .headers()
        .get("content-disposition")
        .expect("a Content-Disposition")
        .to_str()
        .expect("an ASCII header");
    assert!(header.starts_with("attachment; filename=\""), "{header}");
    let encoded = header
        .split("filename*=UTF-8''")
        .nth(1)
        .unwrap_or_else(|| panic!("no filename* in {header}"));
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// The rows of an .xlsx's first sheet.
fn sheet_rows(bytes: Vec<u8>) -> Vec<Vec<Data>> {
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an .xlsx");
    let range = calamine::Reader::worksheet_range_at(&mut book, 0)
        .expect("a sheet")
        .expect("a readable sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

/// A reply's body as the rows of its workbook, after checking it is one; with the file name.
async fn xlsx_reply(r: reqwest::Response) -> (String, Vec<Vec<Data>>) {
    assert_eq!(r.status(), 200, "{}", r.url());
    assert_eq!(r.headers()["content-type"], XLSX);
    let name = file_name_of(&r);
    (name, sheet_rows(r.bytes().await.unwrap().to_vec()))
}

async fn get_xlsx(c: &reqwest::Client, url: &str) -> (String, Vec<Vec<Data>>) {
    xlsx_reply(c.get(url).send().await.unwrap()).await
}

/// A downloaded CSV (BOM removed) with its file name.
async fn get_csv(c: &reqwest::Client, url: &str) -> (String, Vec<csv::StringRecord>, Vec<String>) {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let name = file_name_of(&r);
    let bytes = r.bytes().await.unwrap();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::Reader::from_reader(body);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (name, rows, header)
}

fn text(s: &str) -> Data {
    Data::String(s.to_string())
}

fn headers(rows: &[Vec<Data>]) -> Vec<Data> {
    rows[0].clone()
}

/// The text of a cell that must be a text cell.
fn text_cell(cell: &Data) -> &str {
    match cell {
        Data::String(s) => s,
        other => panic!("{other:?} is not a text cell"),
    }
}

#[tokio::test]
async fn the_sample_and_the_frozen_rosters_come_as_xlsx_with_landlines_as_text() {
    let app = spawn().await;
    let (t, sv) = fieldwork_with_landlines(&app).await;
    let (base, id) = (&app.base, t.campaign);

    let (name, rows) = get_xlsx(
        &sv.0,
        &format!("{base}/surveyor/campaigns/{id}/sample.xlsx"),
    )
    .await;
    assert_eq!(name, "2026年验收-排序清单.xlsx");
    assert_eq!(
        headers(&rows),
        ["村(社区)编码", "村(社区)", "排名", "电话", "类别", "姓名"].map(text)
    );
    let phones: Vec<&str> = rows[1..].iter().map(|r| text_cell(&r[3])).collect();
    assert!(phones.contains(&"07395551234"), "{phones:?}");
    assert!(phones.contains(&"07395559876"), "{phones:?}");
    assert!(
        rows[1..].iter().all(|r| matches!(r[2], Data::Float(_))),
        "ranks are numbers"
    );
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[1] == text("一村") || r[1] == text("二村"))
    );
    // The CSV for software keeps the offline draw's keys, and lists the same lines.
    let (csv_name, csv_rows, csv_header) =
        get_csv(&sv.0, &format!("{base}/surveyor/campaigns/{id}/sample.csv")).await;
    assert_eq!(csv_name, "2026年验收-排序清单.csv");
    assert_eq!(
        csv_header,
        ["village", "rank", "phone", "selection", "name"]
    );
    let from_csv: Vec<(String, String)> = csv_rows
        .iter()
        .map(|r| (r[0].to_string(), r[2].to_string()))
        .collect();
    let from_xlsx: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|r| (text_cell(&r[0]).to_string(), text_cell(&r[3]).to_string()))
        .collect();
    assert_eq!(from_xlsx, from_csv);
    assert!(csv_rows.iter().any(|r| &r[3] == "primary"));

    // V1's frozen roster: numbered, the two landlines with their leading 0.
    let (name, rows) = get_xlsx(
        &sv.0,
        &format!("{base}/surveyor/campaigns/{id}/villages/V1/roster.xlsx"),
    )
    .await;
    assert_eq!(name, "2026年验收-一村-冻结名单.xlsx");
    assert_eq!(headers(&rows), ["序号", "电话"].map(text));
    let roster: Vec<&str> = rows[1..].iter().map(|r| text_cell(&r[1])).collect();
    assert_eq!(roster.len(), 10);
    assert!(roster.contains(&"07395551234") && roster.contains(&"07395559876"));
    assert_eq!(rows[10][0], Data::Float(10.0));
    // The CSV `minyi verify` reads keeps its name (the village code) and its one column.
    let r =
        sv.0.get(format!("{base}/surveyor/campaigns/{id}/rosters/V1"))
            .send()
            .await
            .unwrap();
    assert_eq!(file_name_of(&r), "V1.csv");
    let verify_csv = r.text().await.unwrap();
    let lines: Vec<&str> = verify_csv.lines().collect();
    assert_eq!(lines[0], "电话");
    assert_eq!(lines[1..], roster[..]);

    // Nobody else, and no roster before a draw.
    for path in ["sample.xlsx", "villages/V1/roster.xlsx"] {
        let url = format!("{base}/surveyor/campaigns/{id}/{path}");
        for c in [&t.admin.0, &t.op1.0] {
            assert_eq!(c.get(&url).send().await.unwrap().status(), 403, "{url}");
        }
    }
    let (s, _, loc) = post_form(
        &t.admin.0,
        &format!("{base}/admin/campaigns"),
        &t.admin.1,
        &[
            ("name", "2028年验收"),
            ("town", "唐家坊镇"),
            ("year", "2028"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let undrawn = loc.unwrap().rsplit('/').next().unwrap().to_string();
    let r =
        sv.0.get(format!(
            "{base}/surveyor/campaigns/{undrawn}/villages/V1/roster.xlsx"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The pages offer the workbooks first, the CSVs as the files for software.
    let (_, page) = get_text(&sv.0, &format!("{base}/surveyor/campaigns/{id}")).await;
    for link in [
        format!("/surveyor/campaigns/{id}/sample.xlsx"),
        format!("/surveyor/campaigns/{id}/villages/V1/roster.xlsx"),
        format!("/surveyor/campaigns/{id}/cases.xlsx"),
    ] {
        assert!(page.contains(&link), "{link} on the campaign page");
    }
    let (_, page) = get_text(
        &sv.0,
        &format!("{base}/surveyor/campaigns/{id}/villages/V1"),
    )
    .await;
    assert!(page.contains(&format!("/surveyor/campaigns/{id}/villages/V1/roster.xlsx")));
}

#[tokio::test]
async fn the_case_list_xlsx_has_chinese_headers_statuses_and_landlines_as_text() {
    let app = spawn().await;
    let (t, sv) = fieldwork_with_landlines(&app).await;
    let (base, id) = (&app.base, t.campaign);
    let (name, rows) = get_xlsx(&sv.0, &format!("{base}/surveyor/campaigns/{id}/cases.xlsx")).await;
    assert_eq!(name, "2026年验收-调查对象名单.xlsx");
    assert_eq!(
        headers(&rows),
        [
            "编号",
            "村(社区)编码",
            "村(社区)",
            "排名",
            "姓名",
            "电话",
            "拨打次数",
            "状态",
            "短信链接"
        ]
        .map(text)
    );
    assert_eq!(rows.len(), 1 + 10 + 5);
    let phones: Vec<&str> = rows[1..].iter().map(|r| text_cell(&r[5])).collect();
    assert!(phones.contains(&"07395551234"), "{phones:?}");
    assert!(phones.iter().all(|p| p.len() == 11), "{phones:?}");
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[7] == text("未联系") && r[8] == text("未发送"))
    );
    let (_, page) = get_text(&sv.0, &format!("{base}/surveyor/campaigns/{id}/console")).await;
    assert!(page.contains(&format!("/surveyor/campaigns/{id}/cases.xlsx")));
    // The CSV for other interviewing software keeps its keys.
    let (csv_name, csv_rows, csv_header) =
        get_csv(&sv.0, &format!("{base}/surveyor/campaigns/{id}/cases.csv")).await;
    assert_eq!(csv_name, "2026年验收-调查对象名单.csv");
    assert_eq!(csv_header, ["case_id", "village", "rank", "name", "phone"]);
    assert_eq!(csv_rows.len(), 15);
}

/// POST the outbox form with `fields`.
async fn post_outbox(
    app: &TestApp,
    sv: &(reqwest::Client, String),
    id: CampaignId,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("_csrf", sv.1.as_str())];
    all.extend_from_slice(fields);
    sv.0.post(format!("{}/surveyor/campaigns/{id}/outbox", app.base))
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// The (phone, token) of each line of an outbox workbook, after checking its headers and
/// that each phone is a text cell.
fn outbox_lines(rows: &[Vec<Data>]) -> Vec<(String, String)> {
    assert_eq!(headers(rows), ["电话", "短信内容"].map(text));
    rows[1..]
        .iter()
        .map(|r| {
            let message = text_cell(&r[1]);
            assert!(message.chars().count() <= 70, "{message}");
            let token = message.rsplit("/s/").next().unwrap().to_string();
            (text_cell(&r[0]).to_string(), token)
        })
        .collect()
}

async fn link_opens_the_form(app: &TestApp, token: &str) -> bool {
    let (s, page) = get_text(&client(), &format!("{}/s/{token}", app.base)).await;
    assert_eq!(s, 200);
    page.contains("<form")
}

#[tokio::test]
async fn the_outbox_comes_as_xlsx_from_the_links_issued_for_that_one_download() {
    let app = spawn().await;
    let (t, sv) = fieldwork_with_landlines(&app).await;
    let id = t.campaign;
    // An unknown format is refused before any link is issued.
    let r = post_outbox(&app, &sv, id, &[("kind", "invite"), ("format", "pdf")]).await;
    assert_eq!(r.status(), 400);

    let r = post_outbox(&app, &sv, id, &[("kind", "invite"), ("format", "xlsx")]).await;
    let (name, rows) = xlsx_reply(r).await;
    assert_eq!(name, format!("2026年验收-邀请短信-{id}.xlsx"));
    let first = outbox_lines(&rows);
    assert_eq!(first.len(), 13, "8 + 5 mobiles, no landline: {first:?}");
    assert!(first.iter().all(|(p, _)| p.starts_with('1')));
    for (_, token) in &first {
        assert!(link_opens_the_form(&app, token).await, "{token}");
    }
    // Those links were issued once: the CSV of new invitations has nothing more.
    let r = post_outbox(&app, &sv, id, &[("kind", "invite"), ("format", "csv")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(file_name_of(&r), format!("2026年验收-邀请短信-{id}.csv"));
    let bytes = r.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(reader.headers().unwrap(), vec!["phone", "message"]);
    assert_eq!(reader.records().count(), 0, "no link issued twice");

    // Reissued as CSV (`phone,message`, for SMS platforms): as many links, the same phones.
    let r = post_outbox(&app, &sv, id, &[("kind", "reissue"), ("confirm", "yes")]).await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(reader.headers().unwrap(), vec!["phone", "message"]);
    let csv_lines: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].rsplit("/s/").next().unwrap().to_string(),
            )
        })
        .collect();
    let sorted = |v: &[(String, String)]| {
        let mut p: Vec<String> = v.iter().map(|(p, _)| p.clone()).collect();
        p.sort();
        p
    };
    assert_eq!(csv_lines.len(), first.len());
    assert_eq!(sorted(&csv_lines), sorted(&first));
    assert!(
        !link_opens_the_form(&app, &first[0].1).await,
        "the old link is out of use"
    );
    assert!(link_opens_the_form(&app, &csv_lines[0].1).await);

    // Reissued as a workbook: the CSV's links out of use, the workbook's working.
    let r = post_outbox(
        &app,
        &sv,
        id,
        &[("kind", "reissue"), ("confirm", "yes"), ("format", "xlsx")],
    )
    .await;
    let (name, rows) = xlsx_reply(r).await;
    assert_eq!(name, format!("2026年验收-重发的邀请短信-{id}.xlsx"));
    let again = outbox_lines(&rows);
    assert_eq!(sorted(&again), sorted(&first));
    assert!(!link_opens_the_form(&app, &csv_lines[0].1).await);
    for (_, token) in &again {
        assert!(link_opens_the_form(&app, token).await, "{token}");
    }

    // Reminders as a workbook: none due yet, the headers still there.
    let r = post_outbox(
        &app,
        &sv,
        id,
        &[("kind", "remind"), ("days", "3"), ("format", "xlsx")],
    )
    .await;
    let (name, rows) = xlsx_reply(r).await;
    assert_eq!(name, format!("2026年验收-提醒短信-{id}.xlsx"));
    assert!(outbox_lines(&rows).is_empty());

    // The page offers both formats on each outbox form.
    let (_, page) = get_text(&sv.0, &format!("{}/surveyor/campaigns/{id}", app.base)).await;
    assert_eq!(
        page.matches("name=\"format\" value=\"xlsx\"").count(),
        3,
        "{page}"
    );
}

#[tokio::test]
async fn the_other_downloads_carry_chinese_file_names() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let id = made.campaign_id;
    let (admin, csrf) = admin_client(&app).await;
    let base = &app.base;
    let campaign = "【演示】2026年廉洁村（社区）民意调查";
    let name_of = |url: String| {
        let admin = admin.clone();
        async move {
            let r = admin.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            file_name_of(&r)
        }
    };
    assert_eq!(
        name_of(format!("{base}/admin/audit.csv")).await,
        "审计日志.csv"
    );
    assert_eq!(
        name_of(format!("{base}/campaigns/{id}/draw.json")).await,
        format!("{campaign}-抽样记录.json")
    );
    assert_eq!(
        name_of(format!("{base}/campaigns/{id}/draw.csv")).await,
        format!("{campaign}-抽样记录.csv")
    );
    for (table, label) in [("tallies", "满意率"), ("comments", "意见建议")] {
        assert_eq!(
            name_of(format!("{base}/admin/campaigns/{id}/downloads/{table}.csv")).await,
            format!("{campaign}-{label}.csv")
        );
    }
    // The archive, after approval (the demo's publicity moved into the past, its objection
    // resolved).
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
    assert!(location_query(&loc).starts_with("m=approved"));
    // Exported by a POST (it records the export), answered as the download.
    let r = admin
        .post(format!("{base}/admin/campaigns/{id}/archive"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(file_name_of(&r), format!("{campaign}-归档.zip"));
}
