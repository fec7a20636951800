//! The village list as a CSV file (`编码,名称` or `code,name`), UTF-8 or GBK.

use crate::domain::VillageCode;
use std::collections::HashSet;

/// A problem with the file, in English (CLI, logs) and Chinese (pages).
#[derive(Debug, Clone, PartialEq)]
pub struct ListError {
    pub en: String,
    pub zh: String,
}

const CODE_HEADERS: [&str; 6] = ["编码", "代码", "村编码", "村代码", "code", "village_code"];
const NAME_HEADERS: [&str; 7] = [
    "名称",
    "村名",
    "村(社区)",
    "村（社区）",
    "村(社区)名称",
    "name",
    "village",
];

/// Decode bytes as UTF-8 (with or without BOM) or, failing that, GB18030.
pub fn decode_text(bytes: &[u8]) -> Result<String, ListError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, _, malformed) = encoding_rs::GB18030.decode(bytes);
    if malformed {
        return Err(ListError {
            en: "the file is neither UTF-8 nor GBK/GB18030 text".into(),
            zh: "文件既不是 UTF-8 也不是 GBK 编码的文本,请另存为 CSV 后再试。".into(),
        });
    }
    Ok(text.into_owned())
}

/// Parse the list; every bad row is reported and nothing is returned unless all are good.
pub fn parse_village_list(bytes: &[u8]) -> Result<Vec<(VillageCode, String)>, Vec<ListError>> {
    let text = decode_text(bytes).map_err(|e| vec![e])?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => {
            return Err(vec![ListError {
                en: "the file is empty".into(),
                zh: "文件是空的。".into(),
            }]);
        }
    };
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(code_col), Some(name_col)) = (find(&CODE_HEADERS), find(&NAME_HEADERS)) else {
        return Err(vec![ListError {
            en: format!(
                "row 1: need a code column ({}) and a name column ({})",
                CODE_HEADERS.join(", "),
                NAME_HEADERS.join(", ")
            ),
            zh: "第 1 行(表头)须有“编码”和“名称”两列。".into(),
        }]);
    };
    let (mut out, mut errors, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for (i, record) in records.enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(ListError {
                    en: format!("row {row}: {e}"),
                    zh: format!("第 {row} 行无法读取。"),
                });
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let name = record.get(name_col).unwrap_or("").trim();
        match VillageCode::parse(record.get(code_col).unwrap_or("")) {
            Err(e) => errors.push(ListError {
                en: format!("row {row}, column code: {e}"),
                zh: format!("第 {row} 行:编码无效(只能用字母、数字、- 和 _,不超过 32 位)。"),
            }),
            Ok(_) if name.is_empty() => errors.push(ListError {
                en: format!("row {row}, column name: empty"),
                zh: format!("第 {row} 行:名称为空。"),
            }),
            Ok(code) if !seen.insert(code.clone()) => errors.push(ListError {
                en: format!("row {row}: code {code} appears twice"),
                zh: format!("第 {row} 行:编码 {code} 重复。"),
            }),
            Ok(code) => out.push((code, name.chars().take(50).collect())),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gbk_list_with_chinese_headers_is_read() {
        let (bytes, _, _) =
            encoding_rs::GBK.encode("编码,名称\n430527101,唐家坊村\n\n430527102,塘坪村\n");
        let list = parse_village_list(&bytes).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].0.as_str(), "430527102");
        assert_eq!(list[1].1, "塘坪村");
    }

    #[test]
    fn bad_rows_are_all_reported_with_their_row_numbers() {
        let errors =
            parse_village_list("\u{feff}code,name\n4305 27,甲\n1,\n2,乙\n2,丙\n".as_bytes())
                .unwrap_err();
        let en: Vec<_> = errors.iter().map(|e| e.en.as_str()).collect();
        assert!(en[0].starts_with("row 2, column code"), "{en:?}");
        assert!(en[1].starts_with("row 3, column name"), "{en:?}");
        assert!(en[2].starts_with("row 5: code 2 appears twice"), "{en:?}");
    }

    #[test]
    fn a_file_without_the_two_columns_is_refused() {
        assert!(parse_village_list("村,人口\n甲,1\n".as_bytes()).is_err());
        assert!(parse_village_list(b"").is_err());
    }
}
