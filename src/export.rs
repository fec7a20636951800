//! CSV for people who open it in Excel or WPS: UTF-8 with a byte-order mark (so Chinese
//! shows correctly) and every cell that a spreadsheet would run as a formula neutralised.

/// A cell starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'`
/// (OWASP's rule against CSV injection); everything else is kept as it is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Build a whole CSV file for Excel: BOM, header, rows, every cell neutralised.
pub fn excel_csv<I, R, C>(header: &[&str], rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        // Writing to a Vec cannot fail.
        let _ = w.write_record(header.iter().map(|h| neutralise(h).into_owned()));
        for row in rows {
            let cells: Vec<String> = row
                .into_iter()
                .map(|c| neutralise(c.as_ref()).into_owned())
                .collect();
            let _ = w.write_record(&cells);
        }
        let _ = w.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        assert_eq!(neutralise("=cmd|'/c calc'!A1"), "'=cmd|'/c calc'!A1");
        for c in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(c).starts_with('\''), "{c:?}");
        }
        assert_eq!(neutralise("13800138000"), "13800138000");
        assert_eq!(neutralise("张三"), "张三");
    }

    #[test]
    fn files_start_with_a_bom_and_parse_back() {
        let bytes = excel_csv(&["村", "备注"], [["一村", "=1+1"], ["二村", "a,b"]]);
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let mut r = csv::Reader::from_reader(&bytes[3..]);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][1], "'=1+1");
        assert_eq!(&rows[1][1], "a,b");
    }
}
