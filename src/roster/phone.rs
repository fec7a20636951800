//! `Phone`: a mainland China phone number, normalised once at the roster boundary.
//!
//! Owns the normalisation rules for what villages type into a roster's phone column
//! (full-width digits, spaces, dashes, brackets, a `+86`/`0086`/`86` prefix) and the
//! reasons a value is refused, in precise English for logs and in Chinese for pages.
//! A `Phone` holds digits only, so it is `Copy`, hashes cheaply and sorts in the byte
//! order of its digit string — the order the roster fingerprint is defined on.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most digits a normalised number can have (a landline: 0 + area code + subscriber).
const MAX_DIGITS: usize = 12;

/// Digits kept while scanning a cell; anything longer is only counted.
const SCAN_DIGITS: usize = 32;

/// Numbers from 2^53 on are no longer exact in an `f64`: a spreadsheet already rounded them.
const F64_EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A normalised mainland phone number: an 11-digit mobile (`1[3-9]…`) or a 10 to 12 digit
/// landline (`0` + area code + subscriber number).
///
/// The digits are ASCII bytes, zero-padded; comparing the padded array first and then the
/// length is exactly byte order of the digit strings (a NUL pad sorts before every digit),
/// so the derived `Ord` is the order the fingerprint is specified on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone {
    digits: [u8; MAX_DIGITS],
    len: u8,
}

/// What kind of non-text, non-number cell stood where a phone number was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellKind {
    /// A cell formatted as a date or time.
    Date,
    /// A TRUE/FALSE cell.
    Boolean,
    /// An Excel error value such as `#N/A`.
    Error(String),
}

/// Why a cell is not a usable phone number.
///
/// `Display` is precise English for logs; [`PhoneError::zh`] is the message for pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("contains the {} '{ch}' (U+{:04X}); a phone number has only digits", CharKind::of(*ch).en(), *ch as u32)]
    UnexpectedCharacter { ch: char },
    #[error("{} has {count} digits; a mobile number has 11 digits and a landline 10 to 12 (0 + area code + number)", shown(digits, *count))]
    WrongLength { digits: String, count: usize },
    #[error("{digits} is not a mobile number: mobile numbers start with 13 to 19")]
    MobilePrefix { digits: String },
    #[error("{digits} has {} digits and starts with {}: a landline must start with 0 and its area code (the leading 0 is lost when the cell is stored as a number; format the column as text)", digits.len(), first_char(digits))]
    MissingLeadingZero { digits: String },
    #[error("{shown} is not a mainland China number (only +86 is accepted)")]
    NotMainland { shown: String },
    #[error(
        "{raw} is in scientific notation: Excel lost the last digits of the number; format the column as text and type the numbers again"
    )]
    ScientificNotation { raw: String },
    #[error("the cell holds {count} phone numbers; put one number per row")]
    MultipleNumbers { count: usize },
    #[error("{value} is not a whole number")]
    NotInteger { value: String },
    #[error(
        "the number is too large to be exact (Excel already rounded it); format the column as text and type the numbers again"
    )]
    TooLarge,
    #[error("{value} is negative")]
    Negative { value: String },
    #[error("the cell holds {}, not a phone number", kind_en(kind))]
    WrongCellType { kind: CellKind },
}

/// Numbers longer than a phone are not echoed: they are often ID card numbers (PIPL).
fn shown(digits: &str, count: usize) -> &str {
    if count <= MAX_DIGITS {
        digits
    } else {
        "the number"
    }
}

/// A number cell as a message shows it: as written when short, else in six significant
/// digits, so that neither a long number (an ID card's?) nor forty zeros are echoed.
fn shown_float(f: f64) -> String {
    let plain = f.to_string();
    if longest_digit_run(&plain) <= MAX_DIGITS && plain.len() <= 20 {
        plain
    } else {
        format!("{f:.6e}")
    }
}

fn longest_digit_run(s: &str) -> usize {
    let mut run = 0;
    s.chars().fold(0, |longest, c| {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        longest.max(run)
    })
}

/// A cell's text as a message shows it: whole when short with no number longer than a phone,
/// else its first four characters and an ellipsis.
fn shown_text(s: &str) -> String {
    if longest_digit_run(s) <= MAX_DIGITS && s.chars().count() <= 32 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(4).collect::<String>())
    }
}

/// What a refused character is called in a message. Rust counts Chinese characters as
/// alphabetic, but a village operator reading "字母“张”" is told something false: only Latin
/// (and Greek, Cyrillic) letters are 字母, a Chinese character is a 汉字, anything else a 字符.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharKind {
    Letter,
    Han,
    Other,
}

impl CharKind {
    fn of(c: char) -> CharKind {
        if is_han(c) {
            CharKind::Han
        } else if c.is_alphabetic() && (c < '\u{0590}' || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ'))
        {
            CharKind::Letter
        } else {
            CharKind::Other
        }
    }

    fn en(self) -> &'static str {
        match self {
            CharKind::Letter => "letter",
            CharKind::Han => "Chinese character",
            CharKind::Other => "character",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            CharKind::Letter => "字母",
            CharKind::Han => "汉字",
            CharKind::Other => "字符",
        }
    }
}

/// A CJK ideograph: the unified blocks with their extensions, the compatibility blocks, and
/// 〇 (the ideographic zero, written in dates and sometimes in numbers).
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

fn first_char(s: &str) -> char {
    s.chars().next().unwrap_or('?')
}

fn kind_en(kind: &CellKind) -> String {
    match kind {
        CellKind::Date => "a date".to_owned(),
        CellKind::Boolean => "a TRUE/FALSE value".to_owned(),
        CellKind::Error(e) => format!("the Excel error {e}"),
    }
}

impl PhoneError {
    /// The reason in Chinese, for the village operator's page.
    pub fn zh(&self) -> String {
        match self {
            PhoneError::Empty => "电话号码为空".to_owned(),
            PhoneError::UnexpectedCharacter { ch } => format!(
                "电话号码中含有{}“{ch}”，号码只能由数字组成",
                CharKind::of(*ch).zh()
            ),
            PhoneError::WrongLength { digits, count } => {
                let who = if *count <= MAX_DIGITS {
                    digits.as_str()
                } else {
                    "该号码"
                };
                format!(
                    "{who} 有 {count} 位数字：手机号应为 11 位，固定电话应为 10～12 位（0 + 区号 + 号码）"
                )
            }
            PhoneError::MobilePrefix { digits } => {
                format!("{digits} 不是有效的手机号：手机号应以 13～19 开头")
            }
            PhoneError::MissingLeadingZero { digits } => format!(
                "{digits} 缺少开头的 0：固定电话应以 0 和区号开头（单元格存成数字时 Excel 会去掉开头的 0，请把该列设置为文本格式）"
            ),
            PhoneError::NotMainland { shown } => {
                format!("{shown} 不是中国大陆的电话号码（只接受 +86）")
            }
            PhoneError::ScientificNotation { raw } => format!(
                "{raw} 是科学计数法，Excel 已丢失号码的后几位：请把该列设置为文本格式后重新填写号码"
            ),
            PhoneError::MultipleNumbers { count } => {
                format!("一个单元格里有 {count} 个号码，请每行只填一个号码")
            }
            PhoneError::NotInteger { value } => format!("{value} 不是整数，不是电话号码"),
            PhoneError::TooLarge => {
                "数字过大，Excel 已丢失精度：请把该列设置为文本格式后重新填写号码".to_owned()
            }
            PhoneError::Negative { value } => format!("{value} 是负数，不是电话号码"),
            PhoneError::WrongCellType { kind } => match kind {
                CellKind::Date => "单元格是日期，不是电话号码".to_owned(),
                CellKind::Boolean => "单元格是 TRUE/FALSE 逻辑值，不是电话号码".to_owned(),
                CellKind::Error(e) => format!("单元格是 Excel 错误值 {e}，不是电话号码"),
            },
        }
    }
}

/// The digits found in a cell (up to [`SCAN_DIGITS`] kept, all counted).
struct Digits {
    buf: [u8; SCAN_DIGITS],
    count: usize,
}

impl Digits {
    fn new() -> Self {
        Digits {
            buf: [0; SCAN_DIGITS],
            count: 0,
        }
    }

    fn push(&mut self, d: u8) {
        if let Some(slot) = self.buf.get_mut(self.count) {
            *slot = d;
        }
        self.count += 1;
    }

    /// The kept digits (all of them unless there were more than [`SCAN_DIGITS`]).
    fn kept(&self) -> &[u8] {
        &self.buf[..self.count.min(SCAN_DIGITS)]
    }
}

fn text(d: &[u8]) -> String {
    String::from_utf8_lossy(d).into_owned()
}

/// Folds full-width forms and the ideographic space to their ASCII counterparts.
fn fold(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '＋' => '+',
        '－' => '-',
        '（' => '(',
        '）' => ')',
        '．' => '.',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Characters dropped while normalising: spaces, dashes, dots and brackets.
fn is_removable(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'
                | '\u{2011}'
                | '\u{2012}'
                | '–'
                | '—'
                | '\u{2212}'
                | '.'
                | '('
                | ')'
                | '['
                | ']'
        )
}

/// Characters that separate several numbers typed into one cell.
fn is_separator(c: char) -> bool {
    matches!(c, '/' | ',' | ';' | '、' | '，' | '；' | '|' | '\\' | '／')
}

/// Scans a (trimmed) cell: collects digits, notes a leading '+', stops at the first
/// character that can be neither kept nor dropped.
fn scan(s: &str) -> Result<(Digits, bool), char> {
    let mut digits = Digits::new();
    let mut plus = false;
    for c in s.chars() {
        let c = fold(c);
        if c.is_ascii_digit() {
            digits.push(c as u8);
        } else if c == '+' && !plus && digits.count == 0 {
            plus = true;
        } else if !is_removable(c) {
            return Err(c);
        }
    }
    Ok((digits, plus))
}

/// "1.38001E+10", "1.38E10", "１．３８Ｅ＋１０": what Excel shows for a long number
/// in a General-format cell.
fn is_scientific(s: &str) -> bool {
    let folded: String = s.chars().map(fold).filter(|c| !c.is_whitespace()).collect();
    let Some((mantissa, exponent)) = folded.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

/// Counts the full numbers (7 digits or more) between separators, if there are several.
fn several_by_separator(s: &str) -> Option<usize> {
    let count = s
        .split(is_separator)
        .filter(|part| part.chars().filter(|c| fold(*c).is_ascii_digit()).count() >= 7)
        .count();
    (count >= 2).then_some(count)
}

/// Counts whitespace-separated groups that are valid numbers on their own, if several.
fn several_by_whitespace(s: &str) -> Option<usize> {
    let count = s
        .split(|c: char| fold(c).is_whitespace())
        .filter(|part| !part.is_empty() && parse_one(part).is_ok())
        .count();
    (count >= 2).then_some(count)
}

impl Phone {
    /// Normalises what was typed into a phone cell.
    ///
    /// Full-width digits and punctuation are folded; spaces, dashes, dots and brackets are
    /// dropped; `+86`, `0086` or a bare `86` (when the rest is valid) is removed. What is left
    /// must be an 11-digit mobile starting 13–19 or a 10–12 digit landline `0` + area code.
    pub fn parse(raw: &str) -> Result<Phone, PhoneError> {
        let s = raw.trim_matches(|c: char| fold(c).is_whitespace());
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        match parse_one(s) {
            Ok(phone) => Ok(phone),
            Err(PhoneError::UnexpectedCharacter { ch }) => {
                if is_scientific(s) {
                    Err(PhoneError::ScientificNotation { raw: shown_text(s) })
                } else if let Some(count) = several_by_separator(s) {
                    Err(PhoneError::MultipleNumbers { count })
                } else {
                    Err(PhoneError::UnexpectedCharacter { ch })
                }
            }
            Err(e) => match several_by_whitespace(s) {
                Some(count) => Err(PhoneError::MultipleNumbers { count }),
                None => Err(e),
            },
        }
    }

    /// Reads a numeric spreadsheet cell as a whole number (13800138000.0 → "13800138000").
    ///
    /// A fraction, a negative number or anything from 2^53 on (no longer exact in a
    /// float) is refused; a landline stored as a number has lost its leading 0 and is
    /// refused with that reason.
    pub fn from_xlsx_number(f: f64) -> Result<Phone, PhoneError> {
        if !f.is_finite() {
            return Err(PhoneError::NotInteger {
                value: shown_float(f),
            });
        }
        if f.abs() >= F64_EXACT_LIMIT {
            return Err(PhoneError::TooLarge);
        }
        if f < 0.0 {
            return Err(PhoneError::Negative {
                value: shown_float(f),
            });
        }
        if f.fract() != 0.0 {
            return Err(PhoneError::NotInteger {
                value: shown_float(f),
            });
        }
        // Exact: 0 <= f < 2^53 and integral.
        Phone::from_integer(f as u64)
    }

    /// Reads an integer cell (some spreadsheet readers give integers rather than floats).
    pub fn from_xlsx_integer(i: i64) -> Result<Phone, PhoneError> {
        if i < 0 {
            return Err(PhoneError::Negative {
                value: shown_text(&i.to_string()),
            });
        }
        Phone::from_integer(i.unsigned_abs())
    }

    fn from_integer(n: u64) -> Result<Phone, PhoneError> {
        let s = n.to_string();
        let mut digits = Digits::new();
        for b in s.bytes() {
            digits.push(b);
        }
        classify(&digits, false)
    }

    /// The digits, e.g. `13800138000` or `07397654321`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or("")
    }

    /// The number as shown to anyone but the surveyor: first 3 and last 4 digits, a star for
    /// every digit between (138****1234).
    pub fn masked(&self) -> String {
        crate::domain::mask_phone(self.as_str())
    }

    fn from_valid(d: &[u8]) -> Phone {
        let mut digits = [0u8; MAX_DIGITS];
        let len = d.len().min(MAX_DIGITS);
        digits[..len].copy_from_slice(&d[..len]);
        Phone {
            digits,
            len: len as u8,
        }
    }
}

fn parse_one(s: &str) -> Result<Phone, PhoneError> {
    let (digits, plus) = scan(s).map_err(|ch| PhoneError::UnexpectedCharacter { ch })?;
    classify(&digits, plus)
}

/// Removes the country prefix, then validates what is left.
fn classify(digits: &Digits, plus: bool) -> Result<Phone, PhoneError> {
    let d = digits.kept();
    if digits.count > SCAN_DIGITS {
        return Err(PhoneError::WrongLength {
            digits: String::new(),
            count: digits.count,
        });
    }
    if plus {
        return match d.strip_prefix(b"86") {
            Some(rest) => validate_international(rest),
            None => Err(PhoneError::NotMainland {
                shown: format!("+{}", foreign(d)),
            }),
        };
    }
    if let Some(rest) = d.strip_prefix(b"0086") {
        return validate_international(rest);
    }
    if let Some(rest) = d.strip_prefix(b"86")
        && let Ok(phone) = validate(rest)
    {
        return Ok(phone);
    }
    validate(d)
}

/// After +86 a landline is written without its trunk 0 (+86 739 7654321, +86 10 12345678
/// for Beijing's 010): put it back. Mobiles start 13–19, so "10" and 2–9 are landlines.
fn validate_international(rest: &[u8]) -> Result<Phone, PhoneError> {
    let landline = matches!(rest, [b'2'..=b'9', ..] | [b'1', b'0', ..]);
    if landline && (9..MAX_DIGITS).contains(&rest.len()) {
        let mut with_zero = [0u8; MAX_DIGITS];
        with_zero[0] = b'0';
        with_zero[1..=rest.len()].copy_from_slice(rest);
        return validate(&with_zero[..=rest.len()]);
    }
    validate(rest)
}

/// A foreign number as a message shows it: whole up to 12 digits, else its first four and
/// an ellipsis (+43 0527 1990 0101 1234 may be an ID card number behind a stray +).
fn foreign(d: &[u8]) -> String {
    if d.len() <= MAX_DIGITS {
        text(d)
    } else {
        format!("{}…", text(&d[..4]))
    }
}

fn validate(d: &[u8]) -> Result<Phone, PhoneError> {
    let wrong_length = || PhoneError::WrongLength {
        digits: text(d),
        count: d.len(),
    };
    match d {
        [] => Err(PhoneError::Empty),
        [b'1', second, ..] => {
            if d.len() != 11 {
                Err(wrong_length())
            } else if !(b'3'..=b'9').contains(second) {
                Err(PhoneError::MobilePrefix { digits: text(d) })
            } else {
                Ok(Phone::from_valid(d))
            }
        }
        [b'0', b'0', ..] => Err(PhoneError::NotMainland { shown: foreign(d) }),
        [b'0', ..] => {
            if (10..=MAX_DIGITS).contains(&d.len()) {
                Ok(Phone::from_valid(d))
            } else {
                Err(wrong_length())
            }
        }
        [b'2'..=b'9', ..] if (9..=11).contains(&d.len()) => {
            Err(PhoneError::MissingLeadingZero { digits: text(d) })
        }
        _ => Err(wrong_length()),
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Masked, so that a stray `{:?}` in a log line does not leak personal information.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Phone::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        match Phone::parse(raw) {
            Ok(p) => p.as_str().to_owned(),
            Err(e) => format!("ERR {e}"),
        }
    }

    /// Found by fuzzing: a tiny or negative float cell was echoed with forty zeros.
    #[test]
    fn odd_number_cells_are_shown_short_and_never_as_a_long_digit_run() {
        let shown = |f: f64| match Phone::from_xlsx_number(f) {
            Ok(p) => p.as_str().to_owned(),
            Err(e) => format!("{e} / {}", e.zh()),
        };
        assert!(shown(5.640063491871192e-38).starts_with("5.640063e-38 is not a whole number"));
        assert!(shown(-3.5057625338048713e-15).starts_with("-3.505763e-15 is negative"));
        assert!(shown(13800138000.5).starts_with("13800138000.5 is not a whole number"));
        // Thirteen digits before the point: maybe part of an ID or bank card number.
        let long = shown(4305271990011.5);
        assert!(long.starts_with("4.305272e12"), "{long}");
        assert!(!long.contains("4305271990011"));
        assert_eq!(shown(-2.0), "-2 is negative / -2 是负数，不是电话号码");
        // Found by fuzzing .xls rosters: text that looks scientific, and integer cells.
        let e = Phone::parse("8888888888888888888888e8888888888888888").unwrap_err();
        assert_eq!(
            e,
            PhoneError::ScientificNotation {
                raw: "8888…".into()
            }
        );
        assert_eq!(
            Phone::parse("1.38001E+10").unwrap_err(),
            PhoneError::ScientificNotation {
                raw: "1.38001E+10".into()
            }
        );
        let e = Phone::from_xlsx_integer(-4_305_271_990_010_112_340).unwrap_err();
        assert_eq!(e.to_string(), "-430… is negative");
    }

    #[test]
    fn valid_numbers_in_every_usual_spelling_normalise_to_digits() {
        let table = [
            ("13800138000", "13800138000"),
            ("  13800138000\t", "13800138000"),
            ("１３８００１３８０００", "13800138000"),
            ("１３８－００１３－８０００", "13800138000"),
            ("138 0013 8000", "13800138000"),
            ("138-0013-8000", "13800138000"),
            ("138\u{a0}0013\u{3000}8000", "13800138000"),
            ("138–0013—8000", "13800138000"),
            ("138.0013.8000", "13800138000"),
            ("+86 138 0013 8000", "13800138000"),
            ("+86-13800138000", "13800138000"),
            ("(+86)13800138000", "13800138000"),
            ("＋８６ １３８００１３８０００", "13800138000"),
            ("008613800138000", "13800138000"),
            ("8613800138000", "13800138000"),
            ("0739-7654321", "07397654321"),
            ("(0739)7654321", "07397654321"),
            ("（0739）7654321", "07397654321"),
            ("[0739] 765 4321", "07397654321"),
            ("010-12345678", "01012345678"),
            ("0739-76543210", "073976543210"),
            ("+86 739 7654321", "07397654321"),
            ("+86 0739 7654321", "07397654321"),
            ("0086 10 12345678", "01012345678"),
            ("86 0739 7654321", "07397654321"),
            ("19912345678", "19912345678"),
        ];
        for (raw, want) in table {
            assert_eq!(ok(raw), want, "input {raw:?}");
        }
    }

    #[test]
    fn invalid_numbers_are_refused_with_a_distinct_reason() {
        let table: &[(&str, PhoneError)] = &[
            ("", PhoneError::Empty),
            ("  \u{3000} ", PhoneError::Empty),
            ("--", PhoneError::Empty),
            (
                "1380013800",
                PhoneError::WrongLength {
                    digits: "1380013800".into(),
                    count: 10,
                },
            ),
            (
                "138001380001",
                PhoneError::WrongLength {
                    digits: "138001380001".into(),
                    count: 12,
                },
            ),
            (
                "12800138000",
                PhoneError::MobilePrefix {
                    digits: "12800138000".into(),
                },
            ),
            ("138o0138000", PhoneError::UnexpectedCharacter { ch: 'o' }),
            (
                "tel 13800138000",
                PhoneError::UnexpectedCharacter { ch: 't' },
            ),
            ("138#0138000", PhoneError::UnexpectedCharacter { ch: '#' }),
            (
                "1.38001E+10",
                PhoneError::ScientificNotation {
                    raw: "1.38001E+10".into(),
                },
            ),
            (
                "1.38E10",
                PhoneError::ScientificNotation {
                    raw: "1.38E10".into(),
                },
            ),
            (
                "13800138000/13900139000",
                PhoneError::MultipleNumbers { count: 2 },
            ),
            (
                "13800138000，0739-7654321",
                PhoneError::MultipleNumbers { count: 2 },
            ),
            (
                "13800138000、13900139000; 13700137000",
                PhoneError::MultipleNumbers { count: 3 },
            ),
            (
                "13800138000 13900139000",
                PhoneError::MultipleNumbers { count: 2 },
            ),
            ("138/0013", PhoneError::UnexpectedCharacter { ch: '/' }),
            (
                "+1 202 555 0100",
                PhoneError::NotMainland {
                    shown: "+12025550100".into(),
                },
            ),
            (
                "0044 20 7946 0000",
                PhoneError::NotMainland {
                    shown: "0044…".into(),
                },
            ),
            (
                "+430527199001011234",
                PhoneError::NotMainland {
                    shown: "+4305…".into(),
                },
            ),
            (
                "7397654321",
                PhoneError::MissingLeadingZero {
                    digits: "7397654321".into(),
                },
            ),
            ("138+00138000", PhoneError::UnexpectedCharacter { ch: '+' }),
            (
                "110101199001011234",
                PhoneError::WrongLength {
                    digits: "110101199001011234".into(),
                    count: 18,
                },
            ),
        ];
        for (raw, want) in table {
            assert_eq!(Phone::parse(raw).as_ref(), Err(want), "input {raw:?}");
        }
    }

    #[test]
    fn messages_say_what_is_wrong_in_english_and_chinese() {
        let table = [
            (
                "1380013800",
                "1380013800 has 10 digits",
                "1380013800 有 10 位数字",
            ),
            ("138a0138000", "the letter 'a'", "字母“a”"),
            ("138ａ0138000", "the letter 'ａ'", "字母“ａ”"),
            ("138#0138000", "the character '#'", "字符“#”"),
            ("张三13800138000", "the Chinese character '张'", "汉字“张”"),
            ("138〇0138000", "the Chinese character '〇'", "汉字“〇”"),
            (
                "13800138000（本人）",
                "the Chinese character '本'",
                "汉字“本”",
            ),
            ("138№0138000", "the character '№'", "字符“№”"),
            ("138あ0138000", "the character 'あ'", "字符“あ”"),
            ("1.38001E+10", "Excel lost", "科学计数法"),
            ("13800138000/13900139000", "2 phone numbers", "2 个号码"),
            (
                "+44 20 7946 0000",
                "not a mainland China number",
                "不是中国大陆",
            ),
            ("7397654321", "leading 0", "缺少开头的 0"),
            ("", "empty", "为空"),
        ];
        for (raw, en, zh) in table {
            let Err(e) = Phone::parse(raw) else {
                panic!("{raw:?} should be invalid")
            };
            assert!(e.to_string().contains(en), "{raw:?}: {e}");
            assert!(e.zh().contains(zh), "{raw:?}: {}", e.zh());
        }
    }

    #[test]
    fn an_id_card_number_in_the_phone_column_is_not_echoed_in_the_message() {
        let Err(e) = Phone::parse("110101199001011234") else {
            panic!("an ID card number is not a phone")
        };
        assert!(!e.to_string().contains("110101199001011234"), "{e}");
        assert!(!e.zh().contains("110101199001011234"), "{}", e.zh());
    }

    #[test]
    fn spreadsheet_numbers_are_read_as_whole_numbers() {
        let table: &[(f64, Result<&str, PhoneError>)] = &[
            (13800138000.0, Ok("13800138000")),
            (8613800138000.0, Ok("13800138000")),
            (
                1.5,
                Err(PhoneError::NotInteger {
                    value: "1.5".into(),
                }),
            ),
            (1e20, Err(PhoneError::TooLarge)),
            (9_007_199_254_740_992.0, Err(PhoneError::TooLarge)),
            (
                -13800138000.0,
                Err(PhoneError::Negative {
                    value: "-13800138000".into(),
                }),
            ),
            (
                7397654321.0,
                Err(PhoneError::MissingLeadingZero {
                    digits: "7397654321".into(),
                }),
            ),
            (
                f64::NAN,
                Err(PhoneError::NotInteger {
                    value: "NaN".into(),
                }),
            ),
        ];
        for (f, want) in table {
            let got = Phone::from_xlsx_number(*f);
            assert_eq!(
                got.as_ref().map(|p| p.as_str()),
                want.as_ref().map(|s| *s),
                "input {f}"
            );
        }
        assert_eq!(
            Phone::from_xlsx_integer(13800138000).map(|p| p.to_string()),
            Ok("13800138000".to_owned())
        );
    }

    #[test]
    fn a_landline_stored_as_a_number_says_the_leading_zero_was_lost() {
        let Err(e) = Phone::from_xlsx_number(7397654321.0) else {
            panic!("a landline without its 0 is not valid")
        };
        let msg = e.to_string();
        assert!(msg.contains("7397654321 has 10 digits"), "{msg}");
        assert!(msg.contains("leading 0"), "{msg}");
    }

    #[test]
    fn masking_keeps_the_first_three_and_last_four_digits() {
        let table = [
            ("13800131234", "138****1234"),
            ("07397654321", "073****4321"),
            ("073976543210", "073*****3210"),
            ("0739765432", "073***5432"),
        ];
        for (raw, want) in table {
            let p = Phone::parse(raw).map(|p| p.masked());
            assert_eq!(p.as_deref(), Ok(want), "input {raw}");
        }
    }

    #[test]
    fn display_and_serialisation_give_the_full_digits_and_debug_is_masked() {
        let p = Phone::parse("138-0013-8000");
        assert_eq!(p.map(|p| p.to_string()), Ok("13800138000".to_owned()));
        let Ok(p) = Phone::parse("13800138000") else {
            panic!("valid")
        };
        assert_eq!(
            serde_json::to_string(&p).ok(),
            Some("\"13800138000\"".to_owned())
        );
        assert_eq!(format!("{p:?}"), "Phone(138****8000)");
        let back: Result<Phone, _> = serde_json::from_str("\"+86 138 0013 8000\"");
        assert_eq!(back.ok(), Some(p));
    }

    /// A small deterministic generator, so the property test needs no extra crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn phone_order_is_the_byte_order_of_the_digit_strings() {
        let mut rng = Lcg(2026);
        let mut phones = Vec::new();
        while phones.len() < 2000 {
            // Short common prefixes make ties and prefix cases frequent.
            let kind = rng.next() % 3;
            let s = match kind {
                0 => format!("1{}{:09}", 3 + rng.next() % 7, rng.next() % 1000),
                1 => {
                    let len = 10 + (rng.next() % 3) as usize;
                    let mut s = String::from("0");
                    for _ in 1..len {
                        s.push(char::from(b'0' + (rng.next() % 3) as u8 + 1));
                    }
                    s
                }
                _ => format!("0{}{:08}", 1 + rng.next() % 9, rng.next() % 100),
            };
            if let Ok(p) = Phone::parse(&s) {
                assert_eq!(p.as_str(), s);
                phones.push(p);
            }
        }
        for a in &phones {
            for b in phones.iter().take(200) {
                assert_eq!(a.cmp(b), a.as_str().cmp(b.as_str()), "{a} vs {b}");
                assert_eq!(a == b, a.as_str() == b.as_str());
            }
        }
        // Prefix cases explicitly: a shorter number that is a prefix sorts first.
        let short = Phone::parse("0739765432");
        let long = Phone::parse("07397654321");
        assert!(matches!((short, long), (Ok(s), Ok(l)) if s < l));
    }
}
