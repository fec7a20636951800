//! Files for people who open them in Excel or WPS. CSV: UTF-8 with a byte-order mark (so
//! Chinese shows correctly) and every cell that a spreadsheet would run as a formula
//! neutralised. .xlsx: phones as text cells, which is the only way Excel keeps a landline's
//! leading 0 and shows a mobile number as 13800138000 rather than 1.38E+10.

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

/// One cell of a sheet for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text, kept exactly: a phone, a name, a message. Never read as a number or a formula.
    Text(String),
    /// A count or a rank: a number cell, so the sheet sorts 2 before 10.
    Int(i64),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

/// The longest text an .xlsx cell holds; a longer one is cut rather than failing the file.
const XLSX_MAX_TEXT: usize = 32_767;

/// A workbook of one sheet for people: a bold header row that stays in view, one row per
/// item. Text is written as text cells (a formula cannot start from one, so nothing needs
/// neutralising as in CSV), and every text column is formatted as text (`@`), so a phone
/// typed into it later stays text too. `columns` are the Chinese headers with their widths
/// in characters. Fails only past the format's limits (1,048,576 rows).
pub fn text_xlsx<I, R>(
    sheet_name: &str,
    columns: &[(&str, f64)],
    rows: I,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = Cell>,
{
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    // A name Excel refuses (too long, a bracket) leaves the default "Sheet1": the data
    // matters more than the tab's label.
    let _ = sheet.set_name(sheet_name);
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (col, (header, width)) in columns.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, *header, &bold)?;
        sheet.set_column_width(col, *width)?;
    }
    let mut text_columns = vec![false; columns.len()];
    let mut row_no: u32 = 0;
    for row in rows {
        row_no = row_no.saturating_add(1);
        for (col, cell) in row.into_iter().enumerate() {
            let c = u16::try_from(col).unwrap_or(u16::MAX);
            match cell {
                Cell::Text(s) => {
                    let s = match s.char_indices().nth(XLSX_MAX_TEXT) {
                        Some((cut, _)) => &s[..cut],
                        None => s.as_str(),
                    };
                    sheet.write_string_with_format(row_no, c, s, &text)?;
                    if let Some(t) = text_columns.get_mut(col) {
                        *t = true;
                    }
                }
                Cell::Int(n) => {
                    // Beyond 2^53 a float would round: such a number goes out as text.
                    if n.unsigned_abs() <= 1 << 53 {
                        sheet.write_number(row_no, c, n as f64)?;
                    } else {
                        sheet.write_string_with_format(row_no, c, n.to_string(), &text)?;
                    }
                }
            }
        }
    }
    for (col, is_text) in text_columns.iter().enumerate() {
        if *is_text {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet.set_column_format(col, &text)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
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

    /// The rows of the first sheet of an .xlsx, as calamine reads them.
    fn read_back(bytes: Vec<u8>) -> Vec<Vec<calamine::Data>> {
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = calamine::Reader::worksheet_range_at(&mut book, 0)
            .unwrap()
            .unwrap();
        range.rows().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn an_xlsx_keeps_phones_as_text_and_ranks_as_numbers() {
        use calamine::Data;
        let rows = vec![
            vec![Cell::Int(1), "13800138000".into(), "张三".into()],
            vec![Cell::Int(2), "07395551234".into(), "=1+1".into()],
            vec![
                Cell::Int(10),
                "8613800138000".into(),
                "x".repeat(40_000).into(),
            ],
        ];
        let bytes = text_xlsx(
            "名单",
            &[("排名", 6.0), ("电话", 16.0), ("姓名", 10.0)],
            rows,
        )
        .unwrap();
        let got = read_back(bytes);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0][0], Data::String("排名".into()));
        assert_eq!(got[0][1], Data::String("电话".into()));
        assert_eq!(got[1][1], Data::String("13800138000".into()));
        assert_eq!(
            got[2][1],
            Data::String("07395551234".into()),
            "leading 0 kept"
        );
        assert_eq!(got[3][1], Data::String("8613800138000".into()));
        assert_eq!(got[3][0], Data::Float(10.0));
        // A formula-looking name is text in a text cell, shown as typed.
        assert_eq!(got[2][2], Data::String("=1+1".into()));
        // Too long for a cell: cut, not a failed download.
        assert_eq!(got[3][2], Data::String("x".repeat(XLSX_MAX_TEXT)));
    }

    #[test]
    fn an_xlsx_with_an_impossible_sheet_name_or_no_rows_is_still_made() {
        let bytes = text_xlsx(
            "[名单]:*?/\\ and far too long for a sheet tab",
            &[("电话", 16.0)],
            Vec::<Vec<Cell>>::new(),
        )
        .unwrap();
        let got = read_back(bytes);
        assert_eq!(got, vec![vec![calamine::Data::String("电话".into())]]);
    }
}
