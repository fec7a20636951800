//! The verifiable draw as the third party runs it: `minyi draw`, `minyi verify` and
//! `minyi sample-size` on roster folders written to temporary directories.
//!
//! The expected values are the independent vectors of `/work/shared/vectors/vectors.json`
//! (computed by a separate implementation written from the issue text), copied here so the
//! suite stands alone. Hashes the record must contain are recomputed in this file with
//! `sha2`, and one village is ranked by a ChaCha20 written here from RFC 8439, so that these
//! tests do not trust the crate's own helpers for the values they check.

use minyi::ids::AccountId;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// sample_v1[0] of vectors.json.
const SEED: &str = "2026 town meeting dice 31415926535";
const CODE: &str = "430527101";
const PHONES: [&str; 10] = [
    "13800000001",
    "13800000002",
    "13900000003",
    "15000000004",
    "18600000005",
    "07391234567",
    "13700000007",
    "13600000008",
    "15900000009",
    "18800000010",
];
const FINGERPRINT: &str = "8440fd84c096f704c591f0f74c9c36d94cd6908fa87d49de9713c3de1a910e4b";
const RANKED: [&str; 10] = [
    "18600000005",
    "13600000008",
    "07391234567",
    "18800000010",
    "13800000001",
    "13900000003",
    "15900000009",
    "13700000007",
    "13800000002",
    "15000000004",
];
const LIST_SHA256: &str = "a879da9a83f1898afc27f41337a975d1e01ffc79823fa85cc247ab18e993fd6d";

/// sample_v1[1] of vectors.json.
const SPACED_SEED: &str = "  seed with spaces around 4 2 6 1  ";
const SINGLE_CODE: &str = "430527102";
const SINGLE_PHONE: &str = "13512345678";
const SINGLE_FINGERPRINT: &str = "b6ae791aaf0d67cd0eebc9bbbc41fbc23aeb3e155021d4a58bb913876cfacaf3";

/// sample_v1[2] of vectors.json: the empty roster.
const EMPTY_SEED: &str = "0123456789012345678901";
const EMPTY_CODE: &str = "430527103";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What a run of the binary left behind.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn record(&self) -> Value {
        assert!(self.ok, "the command failed: {}", self.stderr);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts a refusal: non-zero exit, something said on stderr, nothing on stdout.
    fn refused(&self) -> &str {
        assert!(
            !self.ok,
            "expected a refusal, got success: {}{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.trim().is_empty(),
            "a refusal must say why on stderr"
        );
        &self.stderr
    }
}

fn minyi<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_minyi"))
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .expect("the minyi binary runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `minyi draw --rosters DIR --seed SEED [extra…] --out DIR/../ranked.csv`; returns the run
/// and the ranked CSV (empty if none was written).
fn draw(rosters: &Path, seed: &str, extra: &[&str]) -> (Run, String) {
    let out = rosters.with_extension("ranked.csv");
    let _ = std::fs::remove_file(&out);
    let mut args: Vec<std::ffi::OsString> = vec![
        "draw".into(),
        "--rosters".into(),
        rosters.into(),
        "--seed".into(),
        seed.into(),
    ];
    args.extend(extra.iter().map(|arg| (*arg).into()));
    args.extend(["--out".into(), out.clone().into()]);
    let run = minyi(args);
    let csv = std::fs::read_to_string(&out).unwrap_or_default();
    (run, csv)
}

fn verify(record: &Path, rosters: &Path) -> Run {
    let args: [&std::ffi::OsStr; 5] = [
        "verify".as_ref(),
        "--record".as_ref(),
        record.as_os_str(),
        "--rosters".as_ref(),
        rosters.as_os_str(),
    ];
    minyi(args)
}

/// A fresh rosters folder inside `root`.
fn folder(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A UTF-8 roster CSV with the header 姓名,电话.
fn roster_csv<S: AsRef<str>>(phones: &[S]) -> String {
    let mut text = String::from("姓名,电话\n");
    for (i, phone) in phones.iter().enumerate() {
        text.push_str(&format!("居民{i},{}\n", phone.as_ref()));
    }
    text
}

fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(bytes.as_ref()))
}

/// SHA-256 of the items, each followed by "\n".
fn lines_sha256<S: AsRef<str>>(items: &[S]) -> String {
    sha256_hex(items.iter().fold(String::new(), |mut acc, item| {
        acc.push_str(item.as_ref());
        acc.push('\n');
        acc
    }))
}

/// The frame fingerprint (docs/sampling.md): SHA-256 of "<code> <fingerprint>\n", sorted by code.
fn frame_fingerprint(pairs: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = pairs.iter().map(|(c, f)| format!("{c} {f}\n")).collect();
    lines.sort();
    sha256_hex(lines.concat())
}

/// The ranked CSV `minyi draw` must write for the golden village with n = `size`.
fn golden_csv(size: usize) -> String {
    let mut text = String::from("village,rank,phone,selection\n");
    for (i, phone) in RANKED.iter().enumerate() {
        let selection = if i < size { "primary" } else { "reserve" };
        text.push_str(&format!("{CODE},{},{phone},{selection}\n", i + 1));
    }
    text
}

/// One row of the ranked CSV.
#[derive(Debug, Clone, PartialEq)]
struct Ranked {
    village: String,
    rank: usize,
    phone: String,
    selection: String,
}

fn parse_ranked(csv: &str) -> Vec<Ranked> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("village,rank,phone,selection"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "line {line:?}");
            Ranked {
                village: fields[0].to_owned(),
                rank: fields[1].parse().expect("rank is a number"),
                phone: fields[2].to_owned(),
                selection: fields[3].to_owned(),
            }
        })
        .collect()
}

fn rows_of<'a>(rows: &'a [Ranked], village: &str) -> Vec<&'a Ranked> {
    rows.iter().filter(|r| r.village == village).collect()
}

fn default_parameters() -> Value {
    json!({"method": "formula", "margin": 0.1, "confidence": 0.95, "p": 0.5, "z": 1.96, "census_below": 50})
}

/// The draw record `minyi draw` must print for the golden village alone, with defaults.
fn golden_record() -> Value {
    json!({
        "algorithm": "sample-v1",
        "seed": SEED,
        "seed_commitment": null,
        "frame_fingerprint": frame_fingerprint(&[(CODE, FINGERPRINT)]),
        "parameters": default_parameters(),
        "villages": [{
            "code": CODE,
            "population": 10,
            "fingerprint": FINGERPRINT,
            "size": 10,
            "list_sha256": LIST_SHA256,
        }],
    })
}

/// Draws the single-village folder and asserts it is exactly the golden draw.
fn assert_golden_draw(rosters: &Path, what: &str) -> Run {
    let (run, csv) = draw(rosters, SEED, &[]);
    assert!(run.ok, "{what}: {}", run.stderr);
    assert_eq!(run.record(), golden_record(), "{what}: record");
    assert_eq!(csv, golden_csv(10), "{what}: ranked CSV");
    run
}

#[test]
fn the_golden_vector_is_drawn_in_exactly_the_published_order() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    write(&rosters, &format!("{CODE}.csv"), roster_csv(&PHONES));
    let run = assert_golden_draw(&rosters, "golden vector");
    // The published record holds no phone number.
    for phone in PHONES {
        assert!(
            !run.stdout.contains(phone),
            "{phone} leaked into the record"
        );
    }
    // The independent hashes agree with the vector, so the expectations above are sound.
    let mut sorted = PHONES.to_vec();
    sorted.sort();
    assert_eq!(lines_sha256(&sorted), FINGERPRINT);
    assert_eq!(lines_sha256(&RANKED), LIST_SHA256);
}

#[test]
fn a_seed_with_surrounding_spaces_is_trimmed_and_a_single_phone_is_the_whole_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    write(
        &rosters,
        &format!("{SINGLE_CODE}.csv"),
        roster_csv(&[SINGLE_PHONE]),
    );
    let (run, csv) = draw(&rosters, SPACED_SEED, &[]);
    let record = run.record();
    assert_eq!(record["seed"], SPACED_SEED.trim());
    assert_eq!(
        record["villages"],
        json!([{
            "code": SINGLE_CODE,
            "population": 1,
            "fingerprint": SINGLE_FINGERPRINT,
            "size": 1,
            "list_sha256": SINGLE_FINGERPRINT,
        }])
    );
    assert_eq!(
        record["frame_fingerprint"],
        frame_fingerprint(&[(SINGLE_CODE, SINGLE_FINGERPRINT)])
    );
    assert_eq!(
        csv,
        format!("village,rank,phone,selection\n{SINGLE_CODE},1,{SINGLE_PHONE},primary\n")
    );
    // Trimming happens before the seed is used: the trimmed seed draws the same.
    let (again, _) = draw(&rosters, SPACED_SEED.trim(), &[]);
    assert_eq!(again.stdout, run.stdout);
}

#[test]
fn a_roster_with_a_header_and_no_phones_is_an_empty_village_with_the_hash_of_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    write(&rosters, &format!("{EMPTY_CODE}.csv"), "姓名,电话\n");
    let (run, csv) = draw(&rosters, EMPTY_SEED, &[]);
    assert_eq!(
        run.record()["villages"],
        json!([{
            "code": EMPTY_CODE,
            "population": 0,
            "fingerprint": EMPTY_SHA256,
            "size": 0,
            "list_sha256": EMPTY_SHA256,
        }])
    );
    assert_eq!(csv, "village,rank,phone,selection\n");
}

#[test]
fn row_order_duplicates_and_phone_formatting_do_not_change_the_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let mut reversed = PHONES.to_vec();
    reversed.reverse();
    let formatted = [
        "138 0000 0001",
        "+86-13800000002",
        "１３９０００００００３",
        "150-0000-0004",
        "0086 186 0000 0005",
        "(0739)1234567",
        "8613700000007",
        " 13600000008 ",
        "159\u{3000}0000\u{3000}0009",
        "188.0000.0010",
    ];
    let mut duplicated: Vec<&str> = PHONES.iter().chain(PHONES.iter().rev()).copied().collect();
    duplicated.extend(["+86 138 0000 0001", "13800000001"]);
    let variants: [(&str, Vec<&str>); 4] = [
        ("reversed", reversed),
        ("formatted", formatted.to_vec()),
        ("duplicated", duplicated),
        ("as given", PHONES.to_vec()),
    ];
    for (what, phones) in variants {
        let rosters = folder(tmp.path(), what);
        write(&rosters, &format!("{CODE}.csv"), roster_csv(&phones));
        assert_golden_draw(&rosters, what);
    }
    // UTF-8 with a byte order mark, Windows line ends and a quoted, formatted cell.
    let rosters = folder(tmp.path(), "bom-crlf");
    let mut text = String::from("\u{feff}姓名,电话\r\n");
    for phone in RANKED {
        text.push_str(&format!(
            "\"张, 三\",\"{} {} {}\"\r\n",
            &phone[..3],
            &phone[3..7],
            &phone[7..]
        ));
    }
    write(&rosters, &format!("{CODE}.csv"), text);
    assert_golden_draw(&rosters, "BOM and CRLF");
}

#[test]
fn a_gbk_roster_with_extra_columns_gives_the_same_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "gbk");
    let mut text = String::from("序号,姓名,身份证号码,联系电话,服务事项,服务日期\n");
    for (i, phone) in PHONES.iter().rev().enumerate() {
        text.push_str(&format!(
            "{},居民{i},43052719900101{i:04},{phone},低保,2026-03-0{}\n",
            i + 1,
            i % 9 + 1
        ));
    }
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the file must really be GBK"
    );
    write(&rosters, &format!("{CODE}.csv"), &gbk[..]);
    assert_golden_draw(&rosters, "GBK CSV");
}

#[test]
fn an_xlsx_roster_with_numeric_phone_cells_gives_the_same_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "唐家坊镇XX村2026年服务对象名单")
        .unwrap();
    sheet.write_string(1, 0, "姓名").unwrap();
    sheet.write_string(1, 1, "手机号码").unwrap();
    let mut row = 2;
    for phone in PHONES {
        sheet.write_string(row, 0, "居民").unwrap();
        if phone.starts_with('0') {
            // A landline keeps its leading zero only as text.
            sheet.write_string(row, 1, phone).unwrap();
        } else {
            let number: f64 = phone.parse().unwrap();
            sheet.write_number(row, 1, number).unwrap();
        }
        row += 1;
    }
    // A duplicate typed as text.
    sheet.write_string(row, 1, "138-0000-0001").unwrap();
    book.save(rosters.join(format!("{CODE}.xlsx"))).unwrap();
    assert_golden_draw(&rosters, "xlsx");
}

#[test]
fn invalid_rows_are_left_out_and_reported_with_file_and_row_without_stopping_the_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    let mut rows: Vec<&str> = PHONES.to_vec();
    // File row 1 is the header, so list index k is row k + 2: the bad values land on rows
    // 4, 8 and 14.
    rows.insert(2, "1380000000");
    rows.insert(6, "电话待补");
    rows.push("23800000001");
    let file = write(&rosters, &format!("{CODE}.csv"), roster_csv(&rows));
    let run = assert_golden_draw(&rosters, "with invalid rows");
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("left out"))
        .collect();
    assert_eq!(warnings.len(), 3, "{}", run.stderr);
    for (warning, row) in warnings.iter().zip([4, 8, 14]) {
        assert!(
            warning.contains(&file.display().to_string()),
            "{warning} names the file"
        );
        assert!(
            warning.contains(&format!("row {row},")) || warning.contains(&format!("row {row}:")),
            "{warning} names row {row}"
        );
    }
}

/// 50 distinct mobile phones, given in a scrambled order.
fn fifty_phones() -> Vec<String> {
    (0..50u64)
        .map(|i| format!("1{}{:09}", 3 + i % 7, (i * 7_919_113) % 1_000_000_000))
        .collect()
}

/// Three villages written out of code order: 430527103 (50 phones), 430527101 (the golden
/// ten) and 430527102 (one phone).
fn three_villages(root: &Path, name: &str) -> PathBuf {
    let rosters = folder(root, name);
    write(&rosters, "430527103.csv", roster_csv(&fifty_phones()));
    write(&rosters, &format!("{CODE}.csv"), roster_csv(&PHONES));
    write(
        &rosters,
        &format!("{SINGLE_CODE}.csv"),
        roster_csv(&[SINGLE_PHONE]),
    );
    rosters
}

fn sorted_fingerprint(phones: &[String]) -> String {
    let mut sorted = phones.to_vec();
    sorted.sort();
    sorted.dedup();
    lines_sha256(&sorted)
}

/// Checks the ranked CSV against the record: every village ranked 1..N over exactly its
/// frame, the first `size` rows primary, and list_sha256 the hash of the CSV's phones.
fn assert_ranked_matches_record(csv: &str, record: &Value, frames: &[(&str, Vec<String>)]) {
    let rows = parse_ranked(csv);
    let villages = record["villages"].as_array().expect("villages");
    let order: Vec<&str> =
        rows.iter()
            .map(|r| r.village.as_str())
            .fold(Vec::new(), |mut acc, v| {
                if acc.last() != Some(&v) {
                    acc.push(v);
                }
                acc
            });
    let codes: Vec<&str> = villages
        .iter()
        .filter(|v| v["population"].as_u64() != Some(0))
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        order, codes,
        "the CSV lists villages once each, in code order"
    );
    for (code, phones) in frames {
        let village = villages
            .iter()
            .find(|v| v["code"] == *code)
            .unwrap_or_else(|| panic!("{code} in the record"));
        let mine = rows_of(&rows, code);
        let mut frame = phones.clone();
        frame.sort();
        frame.dedup();
        assert_eq!(village["population"].as_u64(), Some(frame.len() as u64));
        assert_eq!(village["fingerprint"], lines_sha256(&frame), "{code}");
        let ranks: Vec<usize> = mine.iter().map(|r| r.rank).collect();
        assert_eq!(ranks, (1..=frame.len()).collect::<Vec<_>>(), "{code} ranks");
        let mut drawn: Vec<String> = mine.iter().map(|r| r.phone.clone()).collect();
        assert_eq!(village["list_sha256"], lines_sha256(&drawn), "{code}");
        drawn.sort();
        assert_eq!(
            drawn, frame,
            "{code}: the ranking is a permutation of the frame"
        );
        let size = village["size"].as_u64().unwrap() as usize;
        for row in &mine {
            let expected = if row.rank <= size {
                "primary"
            } else {
                "reserve"
            };
            assert_eq!(row.selection, expected, "{code} rank {}", row.rank);
        }
    }
}

#[test]
fn several_villages_are_listed_by_code_under_a_frame_fingerprint_of_their_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = three_villages(tmp.path(), "rosters");
    let (run, csv) = draw(&rosters, SEED, &[]);
    let record = run.record();
    let codes: Vec<&str> = record["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["430527101", "430527102", "430527103"]);
    let fifty = sorted_fingerprint(&fifty_phones());
    assert_eq!(
        record["frame_fingerprint"],
        sha256_hex(format!(
            "430527101 {FINGERPRINT}\n430527102 {SINGLE_FINGERPRINT}\n430527103 {fifty}\n"
        ))
    );
    // The golden village draws the same alongside others: strata are independent.
    assert_eq!(record["villages"][0], golden_record()["villages"][0]);
    let golden_rows: String = csv
        .lines()
        .filter(|l| l.starts_with(CODE))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        format!("village,rank,phone,selection\n{golden_rows}"),
        golden_csv(10)
    );
    assert_ranked_matches_record(
        &csv,
        &record,
        &[
            (CODE, PHONES.iter().map(|p| p.to_string()).collect()),
            (SINGLE_CODE, vec![SINGLE_PHONE.to_owned()]),
            ("430527103", fifty_phones()),
        ],
    );
}

#[test]
fn a_fixed_size_gives_each_village_that_many_primary_then_the_rest_as_reserve() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = three_villages(tmp.path(), "rosters");
    let (run, csv) = draw(&rosters, SEED, &["--size", "7"]);
    let record = run.record();
    assert_eq!(record["parameters"], json!({"method": "fixed", "size": 7}));
    let rows = parse_ranked(&csv);
    for (code, primary, reserve) in [
        ("430527101", 7, 3),
        ("430527102", 1, 0),
        ("430527103", 7, 43),
    ] {
        let selections: Vec<&str> = rows_of(&rows, code)
            .iter()
            .map(|r| r.selection.as_str())
            .collect();
        let expected: Vec<&str> = std::iter::repeat_n("primary", primary)
            .chain(std::iter::repeat_n("reserve", reserve))
            .collect();
        assert_eq!(selections, expected, "{code}");
        let village = record["villages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == code)
            .unwrap();
        assert_eq!(village["size"], primary as u64, "{code}");
    }
    // The size changes the split, never the order.
    let (defaults, default_csv) = draw(&rosters, SEED, &[]);
    let phones =
        |csv: &str| -> Vec<String> { parse_ranked(csv).into_iter().map(|r| r.phone).collect() };
    assert_eq!(phones(&csv), phones(&default_csv));
    assert_eq!(
        defaults.record()["frame_fingerprint"],
        record["frame_fingerprint"]
    );
}

#[test]
fn the_default_size_of_a_fifty_phone_village_is_thirty_four_as_sample_size_says() {
    // The default rule: ±10% at 95%, everyone asked below 50 recipients. At N = 50 the
    // formula: n = ceil(1.96² · 0.25 · 50 / (0.1² · 49 + 1.96² · 0.25)) = ceil(48.02 / 1.4504)
    //   = ceil(33.1…) = 34.
    let q = 1.96f64 * 1.96 * 0.25;
    assert_eq!((q * 50.0 / (0.01 * 49.0 + q)).ceil(), 34.0);
    let size = minyi(["sample-size", "--population", "50"]);
    assert!(size.ok, "{}", size.stderr);
    assert_eq!(size.stdout.trim(), "34");
    // One fewer: everyone.
    let census = minyi(["sample-size", "--population", "49"]);
    assert_eq!(census.stdout.trim(), "49");
    // A rule given in full is exactly the formula (the published vectors' 37 → 34).
    let given = minyi(["sample-size", "--population", "37", "--margin", "0.05"]);
    assert_eq!(given.stdout.trim(), "34");
    let asked = minyi(["sample-size", "--population", "37", "--census-below", "50"]);
    assert_eq!(asked.stdout.trim(), "37");

    let tmp = tempfile::tempdir().unwrap();
    let rosters = three_villages(tmp.path(), "rosters");
    let (run, csv) = draw(&rosters, SEED, &[]);
    let record = run.record();
    assert_eq!(record["villages"][2]["code"], "430527103");
    assert_eq!(record["villages"][2]["population"], 50);
    assert_eq!(record["villages"][2]["size"], 34);
    let rows = parse_ranked(&csv);
    let selections: Vec<&str> = rows_of(&rows, "430527103")
        .iter()
        .map(|r| r.selection.as_str())
        .collect();
    assert_eq!(selections[..34], ["primary"; 34]);
    assert_eq!(selections[34..], ["reserve"; 16]);
}

/// ChaCha20 (RFC 8439) block function, written here from the RFC so that the ranking below
/// is checked against the specification, not against rand_chacha.
fn chacha20_block(key: &[u8; 32], counter: u32) -> [u8; 64] {
    fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        s[a] = s[a].wrapping_add(s[b]);
        s[d] = (s[d] ^ s[a]).rotate_left(16);
        s[c] = s[c].wrapping_add(s[d]);
        s[b] = (s[b] ^ s[c]).rotate_left(12);
        s[a] = s[a].wrapping_add(s[b]);
        s[d] = (s[d] ^ s[a]).rotate_left(8);
        s[c] = s[c].wrapping_add(s[d]);
        s[b] = (s[b] ^ s[c]).rotate_left(7);
    }
    let mut state = [0u32; 16];
    state[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    for (i, word) in key.chunks(4).enumerate() {
        state[4 + i] = u32::from_le_bytes(word.try_into().unwrap());
    }
    state[12] = counter; // words 13..16: the all-zero nonce
    let mut working = state;
    for _ in 0..10 {
        quarter(&mut working, 0, 4, 8, 12);
        quarter(&mut working, 1, 5, 9, 13);
        quarter(&mut working, 2, 6, 10, 14);
        quarter(&mut working, 3, 7, 11, 15);
        quarter(&mut working, 0, 5, 10, 15);
        quarter(&mut working, 1, 6, 11, 12);
        quarter(&mut working, 2, 7, 8, 13);
        quarter(&mut working, 3, 4, 9, 14);
    }
    let mut out = [0u8; 64];
    for i in 0..16 {
        out[4 * i..4 * i + 4].copy_from_slice(&working[i].wrapping_add(state[i]).to_le_bytes());
    }
    out
}

/// sample-v1 as docs/sampling.md states it, on the ChaCha20 above.
fn sample_v1(seed: &str, code: &str, phones: &[String]) -> Vec<String> {
    let mut frame = phones.to_vec();
    frame.sort();
    frame.dedup();
    let fingerprint = lines_sha256(&frame);
    let key: [u8; 32] = Sha256::digest(
        format!("minyi/sample-v1\n{}\n{code}\n{fingerprint}", seed.trim()).as_bytes(),
    )
    .into();
    let mut stream = Vec::new();
    let mut counter = 0u32;
    let mut next_u64 = move || {
        if stream.len() < 8 {
            stream.extend_from_slice(&chacha20_block(&key, counter));
            counter += 1;
        }
        let bytes: Vec<u8> = stream.drain(..8).collect();
        u64::from_le_bytes(bytes.try_into().unwrap())
    };
    let n = frame.len();
    for i in 0..n.saturating_sub(1) {
        let m = (n - i) as u64;
        let t = m.wrapping_neg() % m;
        let x = loop {
            let x = next_u64();
            if x >= t {
                break x;
            }
        };
        frame.swap(i, i + (x % m) as usize);
    }
    frame
}

#[test]
fn villages_are_ranked_exactly_as_the_specification_computes_with_an_rfc_8439_chacha20() {
    // The reference implementation first reproduces the published vector…
    let golden: Vec<String> = PHONES.iter().map(|p| p.to_string()).collect();
    assert_eq!(sample_v1(SEED, CODE, &golden), RANKED);
    // …then ranks villages of 50 and 300 phones, which no pinned vector covers and
    // which take the shuffle across several ChaCha20 blocks.
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    let three_hundred: Vec<String> = (0..300u64)
        .map(|i| format!("0739{:07}", (i * 104_729) % 10_000_000))
        .collect();
    write(&rosters, "430527103.csv", roster_csv(&fifty_phones()));
    write(&rosters, "A-7_south.csv", roster_csv(&three_hundred));
    let seed = "  骰子 6 2 5 1 3 4 4 2 6 1 3 5  ";
    let (run, csv) = draw(&rosters, seed, &[]);
    let record = run.record();
    let rows = parse_ranked(&csv);
    for (code, phones) in [("430527103", fifty_phones()), ("A-7_south", three_hundred)] {
        let drawn: Vec<String> = rows_of(&rows, code)
            .iter()
            .map(|r| r.phone.clone())
            .collect();
        assert_eq!(drawn, sample_v1(seed, code, &phones), "{code}");
    }
    assert_eq!(record["seed"], seed.trim());
}

/// Draws the three villages and saves the record; returns (rosters, record path, record).
fn drawn_three(root: &Path) -> (PathBuf, PathBuf, Value) {
    let rosters = three_villages(root, "rosters");
    let (run, _) = draw(&rosters, SEED, &[]);
    let record = run.record();
    let path = write(root, "record.json", &run.stdout);
    (rosters, path, record)
}

/// Writes an edited copy of the record and runs verify on it.
fn verify_edited(
    root: &Path,
    rosters: &Path,
    record: &Value,
    edit: impl FnOnce(&mut Value),
) -> Run {
    let mut edited = record.clone();
    edit(&mut edited);
    assert_ne!(&edited, record, "the edit must change something");
    let path = write(
        root,
        "edited.json",
        serde_json::to_string_pretty(&edited).unwrap(),
    );
    verify(&path, rosters)
}

/// The failure message of verify, which must name `village` and say `what`.
fn assert_names(stderr: &str, village: &str, what: &str) {
    assert!(stderr.contains(village), "should name {village}: {stderr}");
    assert!(
        stderr.to_lowercase().contains(what),
        "should say {what:?}: {stderr}"
    );
}

#[test]
fn verify_accepts_the_true_record_with_one_line_starting_ok() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, record, _) = drawn_three(tmp.path());
    let run = verify(&record, &rosters);
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(lines[0].starts_with("OK"), "{}", lines[0]);
}

#[test]
fn verify_accepts_the_same_rosters_in_another_format_and_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, record, _) = drawn_three(tmp.path());
    let other = folder(tmp.path(), "reformatted");
    let mut fifty = fifty_phones();
    fifty.reverse();
    let fifty: Vec<String> = fifty
        .iter()
        .map(|p| format!("+86 {} {} {}", &p[..3], &p[3..7], &p[7..]))
        .collect();
    write(&other, "430527103.csv", roster_csv(&fifty));
    let text = roster_csv(&RANKED);
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    write(&other, &format!("{CODE}.CSV"), &gbk[..]);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "联系电话").unwrap();
    sheet.write_number(1, 0, 13_512_345_678.0).unwrap();
    book.save(other.join(format!("{SINGLE_CODE}.xlsx")))
        .unwrap();
    // Files that are not rosters are ignored.
    write(&other, "README.txt", "frozen rosters of 2026");
    let run = verify(&record, &other);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.starts_with("OK"), "{}", run.stdout);
}

#[test]
fn verify_fails_when_a_roster_gains_or_loses_a_phone() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, record, _) = drawn_three(tmp.path());
    let mut gained = PHONES.to_vec();
    gained.push("13800000099");
    let lost = &PHONES[1..];
    for (what, phones) in [("gained", gained.as_slice()), ("lost", lost)] {
        write(&rosters, &format!("{CODE}.csv"), roster_csv(phones));
        let run = verify(&record, &rosters);
        assert_names(run.refused(), CODE, "fingerprint");
        assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
    }
    // Restored, it passes again: the failures were about the roster alone.
    write(&rosters, &format!("{CODE}.csv"), roster_csv(&PHONES));
    assert!(verify(&record, &rosters).ok);
}

#[test]
fn verify_fails_when_the_records_seed_is_changed_and_names_the_first_village() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, _, record) = drawn_three(tmp.path());
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["seed"] = json!("2026 town meeting dice 31415926536");
    });
    let stderr = run.refused();
    assert_names(stderr, "430527101", "order");
    assert!(!stderr.contains("430527103"), "{stderr}");
}

#[test]
fn verify_fails_when_a_villages_size_in_the_record_is_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, _, record) = drawn_three(tmp.path());
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["villages"][2]["size"] = json!(44);
    });
    assert_names(run.refused(), "430527103", "size");
}

#[test]
fn verify_fails_when_a_villages_list_sha256_is_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, _, record) = drawn_three(tmp.path());
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["villages"][1]["list_sha256"] = json!("0".repeat(64));
    });
    assert_names(run.refused(), SINGLE_CODE, "order");
}

#[test]
fn verify_fails_when_the_records_margin_is_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, _, record) = drawn_three(tmp.path());
    // At e = 0.05 the 10- and 1-phone villages keep n = N; the 50-phone one gets 45, not 34,
    // so the first village that differs is 430527103.
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["parameters"]["margin"] = json!(0.05);
    });
    let stderr = run.refused();
    assert_names(stderr, "430527103", "size");
    assert!(stderr.contains("34") && stderr.contains("45"), "{stderr}");
    // Parameters this program would never write are refused as such.
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["parameters"]["confidence"] = json!(0.8);
    });
    assert!(run.refused().contains("0.8"), "{}", run.stderr);
}

#[test]
fn verify_fails_when_a_roster_file_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, record, _) = drawn_three(tmp.path());
    std::fs::remove_file(rosters.join(format!("{SINGLE_CODE}.csv"))).unwrap();
    let run = verify(&record, &rosters);
    assert_names(run.refused(), SINGLE_CODE, "no 430527102.csv");
}

#[test]
fn verify_fails_when_an_extra_roster_file_is_present() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, record, _) = drawn_three(tmp.path());
    write(&rosters, "430527100.csv", roster_csv(&["13912345678"]));
    let run = verify(&record, &rosters);
    assert_names(run.refused(), "430527100", "record does not");
}

#[test]
fn verify_fails_when_the_records_frame_fingerprint_is_edited() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, _, record) = drawn_three(tmp.path());
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["frame_fingerprint"] = json!(sha256_hex("another frame"));
    });
    let stderr = run.refused();
    assert!(stderr.contains("frame_fingerprint"), "{stderr}");
    assert!(stderr.contains(&sha256_hex("another frame")), "{stderr}");
}

#[test]
fn verify_names_the_first_village_in_code_order_when_several_differ() {
    let tmp = tempfile::tempdir().unwrap();
    let (rosters, record, _) = drawn_three(tmp.path());
    // Change the last village first and the middle one second: the report must still name
    // the middle one, the first in code order.
    let mut fifty = fifty_phones();
    fifty.pop();
    write(&rosters, "430527103.csv", roster_csv(&fifty));
    write(
        &rosters,
        &format!("{SINGLE_CODE}.csv"),
        roster_csv(&["13512345679"]),
    );
    let run = verify(&record, &rosters);
    let stderr = run.refused();
    assert_names(stderr, SINGLE_CODE, "fingerprint");
    assert!(!stderr.contains("430527103"), "{stderr}");
}

#[test]
fn a_committed_seed_is_recorded_and_a_seed_that_does_not_match_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    write(&rosters, &format!("{CODE}.csv"), roster_csv(&PHONES));
    // What `printf '%s' "$SEED" | sha256sum` prints.
    let commitment = sha256_hex(SEED);
    let (run, csv) = draw(
        &rosters,
        SEED,
        &["--commitment", &commitment.to_uppercase()],
    );
    let record = run.record();
    assert_eq!(record["seed_commitment"], commitment);
    assert_eq!(record["villages"], golden_record()["villages"]);
    assert_eq!(csv, golden_csv(10));
    let path = write(tmp.path(), "record.json", &run.stdout);
    assert!(verify(&path, &rosters).ok);

    let (wrong, csv) = draw(
        &rosters,
        SEED,
        &["--commitment", &sha256_hex("another seed text")],
    );
    assert!(wrong.refused().contains("commitment"), "{}", wrong.stderr);
    assert!(csv.is_empty(), "no ranked list for a refused seed");

    // A record whose seed no longer matches its commitment fails verification.
    let run = verify_edited(tmp.path(), &rosters, &record, |r| {
        r["seed"] = json!("2026 town meeting dice 31415926536");
    });
    assert!(run.refused().contains("commitment"), "{}", run.stderr);
}

#[test]
fn sample_size_reproduces_every_published_vector() {
    // vectors.json "sample_size": (population, margin, confidence) → n.
    let vectors: [(u64, f64, f64, u64); 9] = [
        (0, 0.05, 0.95, 0),
        (1, 0.05, 0.95, 1),
        (5, 0.05, 0.95, 5),
        (37, 0.05, 0.95, 34),
        (250, 0.05, 0.95, 152),
        (1000, 0.05, 0.95, 278),
        (123456, 0.05, 0.95, 383),
        (1000, 0.1, 0.95, 88),
        (1000, 0.05, 0.99, 400),
    ];
    for (population, margin, confidence, n) in vectors {
        let run = minyi([
            "sample-size".to_owned(),
            "--population".to_owned(),
            population.to_string(),
            "--margin".to_owned(),
            margin.to_string(),
            "--confidence".to_owned(),
            confidence.to_string(),
        ]);
        assert!(run.ok, "{}", run.stderr);
        assert_eq!(
            run.stdout.trim(),
            n.to_string(),
            "N = {population}, e = {margin}, confidence = {confidence}"
        );
    }
    // The defaults are e = 0.10 at 95%; 90% uses z = 1.645.
    let run = minyi(["sample-size", "--population", "1000"]);
    assert_eq!(run.stdout.trim(), "88");
    let run = minyi(["sample-size", "--population", "1000", "--confidence", "90%"]);
    let q = 1.645f64 * 1.645 * 0.25;
    let expected = (q * 1000.0 / (0.01 * 999.0 + q)).ceil();
    assert_eq!(run.stdout.trim(), expected.to_string());
}

#[test]
fn sample_size_refuses_a_confidence_of_0_8_and_a_margin_of_0() {
    let run = minyi(["sample-size", "--population", "100", "--confidence", "0.8"]);
    let stderr = run.refused();
    assert!(stderr.contains("0.8") && stderr.contains("95%"), "{stderr}");
    assert!(run.stdout.is_empty());
    let run = minyi(["sample-size", "--population", "100", "--margin", "0"]);
    let stderr = run.refused();
    assert!(stderr.contains("margin"), "{stderr}");
    assert!(run.stdout.is_empty());
}

#[test]
fn draw_refuses_a_seed_shorter_than_sixteen_characters_with_an_explanation() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    write(&rosters, &format!("{CODE}.csv"), roster_csv(&PHONES));
    // 15 characters, once bare and once padded with whitespace that does not count.
    for seed in ["dice 6251342615", "   dice 6251342615 \t"] {
        let (run, csv) = draw(&rosters, seed, &[]);
        let stderr = run.refused();
        assert!(
            stderr.contains("15 characters") && stderr.contains("at least 16"),
            "{stderr}"
        );
        assert!(run.stdout.is_empty());
        assert!(csv.is_empty(), "no ranked list for a refused seed");
    }
    // Sixteen characters are enough.
    let (run, _) = draw(&rosters, "dice 62513426153", &[]);
    assert!(run.ok, "{}", run.stderr);
}

#[test]
fn draw_refuses_a_fixed_size_combined_with_a_margin() {
    let tmp = tempfile::tempdir().unwrap();
    let rosters = folder(tmp.path(), "rosters");
    write(&rosters, &format!("{CODE}.csv"), roster_csv(&PHONES));
    let (run, csv) = draw(&rosters, SEED, &["--size", "7", "--margin", "0.1"]);
    assert!(run.refused().contains("--size"), "{}", run.stderr);
    assert!(csv.is_empty());
    let (run, _) = draw(&rosters, SEED, &["--size", "0"]);
    assert!(run.refused().contains("at least 1"), "{}", run.stderr);
}

#[test]
fn rosters_exported_after_an_in_app_draw_hash_to_their_fingerprints_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    // The app's side, through the library: villages, rosters typed as villages type them,
    // freeze, seed from a public event, draw.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (campaign, record) = rt.block_on(async {
        let db = minyi::db::Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        minyi::http::bootstrap_admin(&db).await.unwrap();
        let campaign = db.create_campaign("2026", "唐家坊镇", 2026).await.unwrap();
        let formatted: Vec<String> = RANKED
            .iter()
            .map(|p| format!("{} {}-{}", &p[..3], &p[3..7], &p[7..]))
            .collect();
        for (code, phones) in [
            (CODE, formatted),
            (SINGLE_CODE, vec![format!("+86{SINGLE_PHONE}")]),
        ] {
            let village = db
                .create_village(&minyi::domain::VillageCode::parse(code).unwrap(), "村")
                .await
                .unwrap();
            let target = minyi::db::RosterTarget {
                campaign_id: campaign,
                village_id: village,
                file_name: format!("{code}.csv"),
                uploaded_by: None,
            };
            let bytes = std::io::Cursor::new(roster_csv(&phones).into_bytes());
            db.import_roster(&target, bytes, minyi::roster::Limits::default())
                .await
                .unwrap();
        }
        assert!(
            db.freeze(campaign, minyi::sampling::frame_fingerprint)
                .await
                .unwrap()
        );
        let seed = minyi::sampling::Seed::parse(SEED).unwrap();
        assert!(
            db.enter_seed(campaign, seed.as_str(), &seed.commitment(), AccountId(1))
                .await
                .unwrap()
        );
        let record = minyi::ops::draw::draw(&db, AccountId(1), campaign)
            .await
            .unwrap();
        db.close().await;
        (campaign, serde_json::to_value(&record).unwrap())
    });
    assert_eq!(record["villages"][0], golden_record()["villages"][0]);

    // The auditor's side, through the binary only.
    let exported = tmp.path().join("exported");
    let run = minyi([
        "rosters".to_owned(),
        "export".to_owned(),
        "--campaign".to_owned(),
        campaign.to_string(),
        "--out".to_owned(),
        exported.display().to_string(),
        "--database-url".to_owned(),
        url.clone(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let mut sorted = PHONES.to_vec();
    sorted.sort();
    assert_eq!(
        std::fs::read_to_string(exported.join(format!("{CODE}.csv"))).unwrap(),
        format!("电话\n{}\n", sorted.join("\n"))
    );
    for village in record["villages"].as_array().unwrap() {
        let code = village["code"].as_str().unwrap();
        let text = std::fs::read_to_string(exported.join(format!("{code}.csv"))).unwrap();
        let body = text.strip_prefix("电话\n").expect("header line");
        assert_eq!(village["fingerprint"], sha256_hex(body), "{code}");
    }
    let path = write(
        tmp.path(),
        "record.json",
        serde_json::to_string_pretty(&record).unwrap(),
    );
    let run = verify(&path, &exported);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.starts_with("OK"), "{}", run.stdout);
    // Redone offline, the draw is the app's draw. The app's record also carries the audit
    // chain's head, which is the app's log, not part of the draw (and `minyi verify` above
    // accepted the record with it).
    let (redo, csv) = draw(&exported, SEED, &[]);
    let mut drawn = record.clone();
    drawn
        .as_object_mut()
        .unwrap()
        .remove("audit_head")
        .expect("the app's record carries the audit head");
    assert_eq!(redo.record(), drawn);
    assert!(csv.starts_with(&golden_csv(10)), "{csv}");
}
