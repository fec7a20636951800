//! Hostile roster files: every input the fuzzers found a fault with
//! is kept in `fuzz/regressions/roster/`, and each is answered by the real binary with a
//! receipt or a precise error: never a crash, never a long number echoed. Decompression
//! bombs and sheets spanning billions of cells are refused cheaply, through the CLI and
//! through the village operator's upload page. Rosters as villages keep them (title rows,
//! 合计 rows, numbers written twice) get a receipt that lists what was left out and why.

use crate::common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/roster");

/// `minyi roster check FILE`: (exit code, stdout, stderr).
fn check(path: &Path) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_minyi"))
        .env_remove("DATABASE_URL")
        .args(["roster", "check"])
        .arg(path)
        .env("MINYI_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn longest_digit_run(s: &str) -> usize {
    s.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

fn regression_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(REGRESSIONS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_file_the_fuzzers_found_gets_a_receipt_or_a_precise_error() {
    let files = regression_files();
    assert!(files.len() >= 8, "{files:?}");
    for path in files {
        let (code, stdout, stderr) = check(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match code {
            Some(0) => {
                let receipt: serde_json::Value = serde_json::from_str(&stdout).unwrap();
                assert!(receipt["rows_read"].is_u64(), "{name}: {stdout}");
            }
            Some(1) => {
                let line = stderr
                    .lines()
                    .find(|l| l.starts_with("error: "))
                    .unwrap_or_else(|| panic!("{name}: no error line in {stderr}"));
                assert!(line.len() < 400, "{name}: {line}");
                assert!(longest_digit_run(line) <= 12, "{name}: {line}");
            }
            other => panic!("{name}: exit {other:?}\n{stderr}"),
        }
        assert!(
            !stderr.contains("thread '"),
            "{name}: a panic message: {stderr}"
        );
    }
}

#[test]
fn each_fault_the_fuzzers_found_has_the_answer_a_user_needs() {
    let file = |name: &str| Path::new(REGRESSIONS).join(name);
    let error = |name: &str| {
        let (code, _, stderr) = check(&file(name));
        assert_eq!(code, Some(1), "{name}: {stderr}");
        stderr
    };
    // A quote never closed: the row where it opens, not the one above.
    assert!(
        error("csv-unclosed-quote.csv").contains(": row 2: a quotation mark (\") opens a cell")
    );
    // A sheet spanning 65,536 × 256 cells from two cells: refused before calamine builds it.
    assert!(error("xls-far-cells.xls").contains("would span more than 8388608 cells"));
    // calamine panics on these; the guard makes them broken spreadsheets.
    for name in [
        "xls-calamine-cfb-panic.xls",
        "xls-calamine-utils-panic.xls",
        "xlsx-column-past-xfd.xlsx",
    ] {
        assert!(
            error(name).contains("the spreadsheet cannot be read"),
            "{name}"
        );
    }
    // calamine's complaint quoted 33 digits of the file; they are masked as phones are.
    let masked = format!("111{}1111", "*".repeat(26));
    assert!(error("xlsx-message-quotes-the-file.xlsx").contains(&masked));
    // Two cells 17 billion grid positions apart are read as the cells they are.
    let (code, stdout, _) = check(&file("xlsx-far-cells.xlsx"));
    assert_eq!(code, Some(0));
    let receipt: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(receipt["accepted"], 2);
    assert_eq!(receipt["errors"][0]["row"], 1_048_576);
    // A real .xls roster still reads.
    let (code, stdout, _) = check(&file("xls-roster.xls"));
    assert_eq!(code, Some(0));
    let receipt: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (receipt["accepted"].as_u64(), receipt["header_row"].as_u64()),
        (Some(2), Some(2))
    );
}

/// Rosters as villages keep them, both kept in the corpus: a title above the header,
/// household-head and 办理 headers, 小计/合计 rows (one a merged cell over a COUNTA formula),
/// a number written twice in different spellings, and text typed into the phone column.
#[test]
fn village_rosters_with_totals_rows_and_repeated_numbers_get_a_receipt_that_lists_them() {
    let receipt = |name: &str| {
        let (code, stdout, stderr) = check(&Path::new(REGRESSIONS).join(name));
        assert_eq!(code, Some(0), "{name}: {stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let counts = |r: &serde_json::Value| {
        ["rows_read", "accepted", "invalid", "duplicates", "skipped"].map(|k| r[k].as_u64())
    };
    let listed = |r: &serde_json::Value, list: &str, fields: [&str; 2]| -> Vec<(u64, String)> {
        r[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d[fields[0]].as_u64().unwrap(), d[fields[1]].to_string()))
            .collect()
    };

    let r = receipt("csv-gbk-village-roster-totals-duplicates.csv");
    assert_eq!(counts(&r), [6, 3, 1, 2, 2].map(Some), "{r}");
    assert_eq!(r["format"], "csv-gb18030");
    assert_eq!(r["header_row"], 2);
    assert_eq!(
        r["columns"],
        serde_json::json!({"phone": "联系电话", "name": "户主姓名", "service": "办理事项", "date": "办理日期"})
    );
    assert_eq!(
        listed(&r, "duplicate_rows", ["row", "first_row"]),
        [(6, "3".into()), (9, "4".into())]
    );
    assert_eq!(r["duplicate_rows"][0]["phone"], "138****8000");
    assert_eq!(
        listed(&r, "skipped_rows", ["row", "reason_zh"]),
        [
            (7, "\"“小计”行是统计行，不是服务对象，已跳过\"".into()),
            (10, "\"“合计”行是统计行，不是服务对象，已跳过\"".into())
        ]
    );
    assert_eq!(r["errors"][0]["row"], 5);
    assert_eq!(
        r["errors"][0]["reason_zh"],
        "电话号码中含有汉字“无”，号码只能由数字组成"
    );
    assert!(!r.to_string().contains("字母"), "{r}");
    assert!(
        !r.to_string().contains("4305271990"),
        "an ID number leaked: {r}"
    );
    assert_eq!(
        r["fingerprint"],
        minyi::sampling::fingerprint(&["07397654321", "13800138000", "13900139000"])
    );

    let r = receipt("xlsx-village-roster-totals-formula.xlsx");
    assert_eq!(counts(&r), [4, 2, 1, 1, 1].map(Some), "{r}");
    assert_eq!(r["header_row"], 3);
    // 姓名 (the person served) is read, not 户主; 联系人电话 is not a phone header.
    assert_eq!(r["columns"]["name"], "姓名");
    assert_eq!(r["columns"]["date"], "办理时间");
    assert_eq!(
        r["dropped_columns"],
        serde_json::json!(["户主", "联系人电话"])
    );
    assert_eq!(
        listed(&r, "duplicate_rows", ["row", "first_row"]),
        [(7, "4".into())]
    );
    assert_eq!(r["skipped_rows"][0]["row"], 8);
    assert!(
        r["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("the Chinese character '王'"),
        "{r}"
    );
}

/// An .xlsx whose sheet is `filler` bytes of spaces: 64 MiB deflates to about 64 KB.
fn xlsx_bomb(filler: usize) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "电话").unwrap();
    sheet.write_string(1, 0, "13800138000").unwrap();
    let honest = book.save_to_buffer().unwrap();
    // Re-pack every part, padding the sheet's XML with spaces before </worksheet>.
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(honest)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut part = source.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut xml = Vec::new();
        std::io::Read::read_to_end(&mut part, &mut xml).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let end = xml.len() - "</worksheet>".len();
            let mut padded = xml[..end].to_vec();
            padded.resize(end + filler, b' ');
            padded.extend_from_slice(b"</worksheet>");
            xml = padded;
        }
        out.start_file(name.as_str(), deflated).unwrap();
        out.write_all(&xml).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_decompression_bomb_is_refused_in_well_under_a_second_of_work() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = xlsx_bomb(64 * 1024 * 1024);
    assert!(bomb.len() < 256 * 1024, "{}", bomb.len());
    let path = dir.path().join("bomb.xlsx");
    std::fs::write(&path, &bomb).unwrap();
    let started = Instant::now();
    let (code, _, stderr) = check(&path);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the spreadsheet unpacks to more than 16 MiB"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The same workbook without the padding is an ordinary roster.
    std::fs::write(&path, xlsx_bomb(0)).unwrap();
    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"accepted\": 1"), "{stdout}");
}

#[tokio::test]
async fn hostile_workbooks_uploaded_by_a_village_are_refused_and_change_nothing() {
    let app = spawn().await;
    let t = town(&app).await;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    let (op, csrf) = (&t.op1.0, &t.op1.1);
    let far = std::fs::read(Path::new(REGRESSIONS).join("xls-far-cells.xls")).unwrap();
    let panics =
        std::fs::read(Path::new(REGRESSIONS).join("xls-calamine-utils-panic.xls")).unwrap();
    for (name, bytes, expect) in [
        ("名单.xlsx", xlsx_bomb(64 * 1024 * 1024), "解压后超过"),
        ("名单.xls", far, "Excel 文件已损坏或无法读取"),
        ("名单2.xls", panics, "Excel 文件已损坏或无法读取"),
    ] {
        let (s, body, _) = upload(op, &url, csrf, name, bytes, &[]).await;
        assert_eq!(s, 400, "{name}: {body}");
        assert!(body.contains(expect), "{name}: {body}");
    }
    // Nothing was stored, and the server still takes a good roster.
    assert!(no_roster_stored(&app, t.campaign).await);
    let (s, body, _) = upload(op, &url, csrf, "好.xlsx", xlsx_bomb(0), &[]).await;
    assert_eq!(s, 303, "{body}");
}
