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

/// The encodings a download is offered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark: Excel and WPS show Chinese correctly (the default).
    Utf8Bom,
    /// GB18030, for old software that only reads the Chinese national encoding. (GBK's
    /// encoder cannot hold every name; GB18030 holds all of Unicode.)
    Gb18030,
}

impl CsvEncoding {
    /// `?encoding=gb18030` (or `gbk`, which gets GB18030) → GB18030; anything else UTF-8.
    pub fn from_query(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("gb18030" | "gbk" | "gb2312") => CsvEncoding::Gb18030,
            _ => CsvEncoding::Utf8Bom,
        }
    }
}

/// Rows per chunk of a streamed CSV.
const CHUNK_ROWS: usize = 512;

/// A CSV for Excel as a sequence of chunks (for a streamed response): header then rows,
/// every cell neutralised, in the chosen encoding. Each chunk holds up to 512 rows.
pub fn csv_chunks<R>(
    header: Vec<String>,
    rows: R,
    encoding: CsvEncoding,
) -> impl Iterator<Item = Vec<u8>>
where
    R: IntoIterator<Item = Vec<String>>,
{
    let mut rows = rows.into_iter();
    let mut header = Some(header);
    std::iter::from_fn(move || {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut any = false;
        if let Some(h) = header.take() {
            let _ = w.write_record(h.iter().map(|c| neutralise(c).into_owned()));
            any = true;
        }
        for row in rows.by_ref().take(CHUNK_ROWS) {
            let _ = w.write_record(row.iter().map(|c| neutralise(c).into_owned()));
            any = true;
        }
        if !any {
            return None;
        }
        let text = w.into_inner().unwrap_or_default();
        Some(match encoding {
            CsvEncoding::Utf8Bom => text,
            CsvEncoding::Gb18030 => {
                let s = String::from_utf8_lossy(&text);
                encoding_rs::GB18030.encode(&s).0.into_owned()
            }
        })
    })
    .enumerate()
    .map(move |(i, chunk)| {
        if i == 0 && encoding == CsvEncoding::Utf8Bom {
            let mut with_bom = b"\xEF\xBB\xBF".to_vec();
            with_bom.extend(chunk);
            with_bom
        } else {
            chunk
        }
    })
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

    #[test]
    fn streamed_chunks_carry_one_bom_or_gb18030_and_neutralise_formulas() {
        let rows: Vec<Vec<String>> = (0..1200)
            .map(|i| vec![format!("村{i}"), "=cmd|'/c calc'!A1".to_string()])
            .collect();
        let header = vec!["名称".to_string(), "内容".to_string()];
        let chunks: Vec<Vec<u8>> =
            csv_chunks(header.clone(), rows.clone(), CsvEncoding::Utf8Bom).collect();
        assert_eq!(chunks.len(), 3);
        let all = chunks.concat();
        assert!(all.starts_with(b"\xEF\xBB\xBF\xE5\x90\x8D"));
        assert_eq!(all.windows(3).filter(|w| w == b"\xEF\xBB\xBF").count(), 1);
        let mut reader = csv::Reader::from_reader(&all[3..]);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 1200);
        assert_eq!(&records[1199][0], "村1199");
        assert_eq!(&records[0][1], "'=cmd|'/c calc'!A1");
        let gb = csv_chunks(header, rows, CsvEncoding::Gb18030)
            .collect::<Vec<_>>()
            .concat();
        let (text, _, bad) = encoding_rs::GB18030.decode(&gb);
        assert!(!bad && !gb.starts_with(b"\xEF\xBB\xBF"));
        assert!(text.starts_with("名称,内容\n村0,"));
        assert_eq!(CsvEncoding::from_query(Some("GBK")), CsvEncoding::Gb18030);
        assert_eq!(CsvEncoding::from_query(None), CsvEncoding::Utf8Bom);
    }
}
