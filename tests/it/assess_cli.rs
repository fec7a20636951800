//! `minyi assess FILE`: the seed's rule offline.

use std::process::Command;

fn assess(bytes: &[u8]) -> (bool, String, String) {
    assess_with(bytes, &[])
}

fn assess_with(bytes: &[u8], args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grades.csv");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minyi"))
        .arg("assess")
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A row of `good` 好, then 较好 and 一般 — with item 15 among the 好 ones (it follows the
/// negative list: 好 without a situation).
fn row(village: &str, good: usize, fairly: usize, average: usize, negative: &str) -> String {
    let mut grades: Vec<&str> = std::iter::repeat_n("好", good)
        .chain(std::iter::repeat_n("较好", fairly))
        .chain(std::iter::repeat_n("一般", average))
        .collect();
    if grades.len() >= 15 && grades[14] != "好" && grades[0] == "好" {
        grades.swap(0, 14);
    }
    format!("{village},{},{negative}\n", grades.join(","))
}

#[test]
fn assess_applies_the_80_percent_rule_with_exact_integers() {
    let header = format!(
        "village,{},negative\n",
        (1..=16)
            .map(|i| format!("item{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let file = [
        header,
        row("十三好", 13, 3, 0, ""),
        row("十二好", 12, 4, 0, ""),
        row("一个一般", 15, 0, 1, ""),
        row("负面清单", 16, 0, 0, "③"),
        row("两种情形", 16, 0, 0, "\"1,3\""),
    ]
    .concat();
    let (ok, out, err) = assess(file.as_bytes());
    assert!(ok, "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["village", "good", "total", "verdict", "reasons"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let expect = [
        ["十三好", "13", "16", "通过", ""],
        ["十二好", "12", "16", "不通过", "好 12/16 < 80%"],
        ["一个一般", "15", "16", "不通过", "item 16 一般"],
        // Item 15 is the negative list: a situation makes it 差, whatever the cell says.
        ["负面清单", "15", "16", "不通过", "item 15 差；负面清单 ③"],
        [
            "两种情形",
            "15",
            "16",
            "不通过",
            "item 15 差；负面清单 ①；负面清单 ③",
        ],
    ];
    assert_eq!(rows, expect.map(|r| r.map(String::from).to_vec()));
}

#[test]
fn assess_counts_whatever_number_of_items_the_file_has() {
    let header = format!(
        "village,{},negative\n",
        (1..=15)
            .map(|i| format!("item{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let (ok, out, err) = assess(
        format!(
            "{header}{}{}",
            row("十二好", 12, 3, 0, ""),
            row("十一好", 11, 4, 0, "")
        )
        .as_bytes(),
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "十二好,12,15,通过,");
    assert_eq!(lines[2], "十一好,11,15,不通过,好 11/15 < 80%");
}

#[test]
fn a_bad_grade_names_its_spreadsheet_row_and_writes_nothing() {
    let file = "village,item1,item2,negative\n甲村,好,好,\n乙村,好,良好,\n丙村,好,好,9\n";
    let (ok, out, err) = assess(file.as_bytes());
    assert!(!ok);
    assert_eq!(out, "", "nothing on stdout");
    assert!(err.contains("row 3, column item2"), "{err}");
    assert!(err.contains("row 4, column negative"), "{err}");
    let (ok, out, err) = assess(b"village,item1,item3,negative\n");
    assert!(!ok && out.is_empty());
    assert!(err.contains("item2"), "{err}");
}

#[test]
fn assess_reads_a_gbk_file_from_excel() {
    let (gbk, _, _) =
        encoding_rs::GBK.encode("village,item1,item2,negative\r\n金屋村,好,较好,\r\n");
    let (ok, out, err) = assess(&gbk);
    assert!(ok, "{err}");
    assert_eq!(out.lines().nth(1), Some("金屋村,1,2,不通过,好 1/2 < 80%"));
}

#[test]
fn item_15_follows_the_dated_negative_list_within_the_creation_window() {
    let header = format!(
        "village,{},negative\n",
        (1..=16)
            .map(|i| format!("item{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    // Item 15 差 in its cell, item 16 好, no situation.
    let fifteen_poor = format!("十五项差,{},差,好,\n", ["好"; 14].join(","));
    let file = [
        header.clone(),
        // Creation started 2026-03-15: the window opens 2025-03-15.
        row("窗口内", 16, 0, 0, "③@2025-03-15"),
        row("窗口外", 16, 0, 0, "③@2025-03-14"),
        row("一内一外", 16, 0, 0, "\"①@2024-01-01，⑥@2026-02-01\""),
        // No situation: item 15 is 好 whatever the cell says, and the cell is noted.
        fifteen_poor,
    ]
    .concat();
    let (ok, out, err) = assess_with(file.as_bytes(), &["--creation-start", "2026-03-15"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "窗口内,15,16,不通过,item 15 差；负面清单 ③");
    assert_eq!(lines[2], "窗口外,16,16,通过,");
    assert_eq!(lines[3], "一内一外,15,16,不通过,item 15 差；负面清单 ⑥");
    assert_eq!(lines[4], "十五项差,16,16,通过,");
    assert!(
        err.contains("row 3: situation ③ on 2025-03-14 is before the window (from 2025-03-15)"),
        "{err}"
    );
    assert!(
        err.contains("row 5: item15 says 差; the negative list makes it 好"),
        "{err}"
    );

    // With the creation's start every situation needs its date; a bad date or start is
    // refused with its row and column, and nothing is written.
    let bad = [
        header,
        row("无日期", 16, 0, 0, "③"),
        row("坏日期", 16, 0, 0, "③@2025-13-01"),
    ]
    .concat();
    let (ok, out, err) = assess_with(bad.as_bytes(), &["--creation-start", "2026-03-15"]);
    assert!(!ok && out.is_empty());
    assert!(
        err.contains("row 2, column negative: situation ③ has no date"),
        "{err}"
    );
    assert!(err.contains("row 3, column negative"), "{err}");
    let (ok, _, err) = assess_with(bad.as_bytes(), &["--creation-start", "someday"]);
    assert!(
        !ok && err.contains("--creation-start \"someday\" is not a date"),
        "{err}"
    );
    // Without the start, dates may be given and every situation counts.
    let (ok, out, err) = assess(bad.replace("@2025-13-01", "@2020-01-01").as_bytes());
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("village") || l.contains("负面清单 ③")),
        "{out}"
    );
}
