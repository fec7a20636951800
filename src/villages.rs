//! The village list as a CSV file (`编码,名称` or `code,name`), read by [`crate::csv_table`]
//! (UTF-8, UTF-16 with BOM or GBK; rows numbered as Excel shows them).

use crate::csv_table::{Errors, RowError, Table};
use crate::domain::VillageCode;
use std::collections::HashSet;

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

/// Parse the list; every bad row is reported (the first [`crate::limits::MAX_ERRORS`]) and
/// nothing is returned unless all are good.
pub fn parse_village_list(bytes: &[u8]) -> Result<Vec<(VillageCode, String)>, Vec<RowError>> {
    let table = Table::read(bytes).map_err(|e| vec![e])?;
    let (code_col, name_col) = match (
        table.require(&CODE_HEADERS, "code", "编码"),
        table.require(&NAME_HEADERS, "name", "名称"),
    ) {
        (Ok(code), Ok(name)) => (code, name),
        (code, name) => return Err([code.err(), name.err()].into_iter().flatten().collect()),
    };
    let (mut out, mut errors, mut seen) = (Vec::new(), Errors::new(), HashSet::new());
    for line in &table.rows {
        if errors.full() {
            break;
        }
        if line.is_blank() {
            continue;
        }
        let row = Some(line.row);
        let name = line.cell(name_col.index);
        match VillageCode::parse(line.cell(code_col.index)) {
            Err(e) => errors.add(
                row,
                Some(&code_col.name),
                e.to_string(),
                "编码无效（只能用字母、数字、- 和 _，不超过 32 位）",
            ),
            Ok(_) if name.is_empty() => errors.add(row, Some(&name_col.name), "empty", "名称为空"),
            Ok(code) if !seen.insert(code.clone()) => errors.add(
                row,
                Some(&code_col.name),
                format!("code {code} appears twice"),
                format!("编码 {code} 重复"),
            ),
            Ok(code) => {
                out.push((code, name.chars().take(50).collect()));
                true
            }
        };
    }
    if let Some(error) = table.read_error {
        errors.push(error);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.into_list())
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
        let en: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert!(en[0].starts_with("row 2, column code"), "{en:?}");
        assert!(en[1].starts_with("row 3, column name"), "{en:?}");
        assert_eq!(en[2], "row 5, column code: code 2 appears twice");
        assert_eq!(errors[2].message_zh(), "第5行\"code\"列：编码 2 重复");
    }

    #[test]
    fn a_file_without_the_two_columns_is_refused() {
        assert!(parse_village_list("村,人口\n甲,1\n".as_bytes()).is_err());
        assert!(parse_village_list(b"").is_err());
    }

    #[test]
    fn a_utf16_list_is_read_like_the_other_tables() {
        let text = "编码,名称\n430527101,唐家坊村\n\n430527102,塘坪村\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        let expected = parse_village_list(text.as_bytes()).unwrap();
        assert_eq!(parse_village_list(&le).unwrap(), expected);
        assert_eq!(parse_village_list(&be).unwrap(), expected);
    }

    #[test]
    fn rows_are_numbered_as_excel_shows_them_blank_rows_counted() {
        let errors = parse_village_list("编码,名称\n1,甲\n\n1,乙\n".as_bytes()).unwrap_err();
        assert_eq!(errors[0].row, Some(4));
        assert_eq!(errors[0].message_zh(), "第4行\"编码\"列：编码 1 重复");
    }
}
