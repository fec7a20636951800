//! `minyi assess FILE`: the seed's rule offline.

use std::process::Command;

fn assess(bytes: &[u8]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grades.csv");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minyi"))
        .arg("assess")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn row(village: &str, good: usize, fairly: usize, average: usize, negative: &str) -> String {
    let grades: Vec<&str> = std::iter::repeat_n("好", good)
        .chain(std::iter::repeat_n("较好", fairly))
        .chain(std::iter::repeat_n("一般", average))
        .collect();
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
