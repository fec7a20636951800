//! The publicity notice (公示) posted in the villages when publicity starts (seed part
//! 二(二)4): the villages proposed for the title, the period in working days, where and how
//! to object, the issuer and the date. The text is generated once, at publication, and
//! stored; the page and the .docx are both drawn from the stored text ([`NoticeDoc`]), so
//! what was posted can be shown again word for word years later.
//!
//! Pure: values in, text (or .docx bytes) out.

use time::Date;

/// The longest address or issuer, in characters.
pub const CONTACT_TEXT_MAX_CHARS: usize = 200;
/// The shortest and longest objection phone, in characters.
pub const PHONE_MIN_CHARS: usize = 7;
pub const PHONE_MAX_CHARS: usize = 20;
/// The stored text is copied into the publish audit entry whole up to this length (in
/// characters); a longer one is there only by its SHA-256.
pub const AUDIT_TEXT_MAX_CHARS: usize = 4000;

/// Where objections are received and who issues the notice, checked: a phone of 7–20
/// digits, spaces, `-`, `+`, `(`, `)`; an address and an issuer of 1–200 characters; no
/// control characters anywhere. Values are trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    phone: String,
    address: String,
    issuer: String,
}

/// Which field of the contact is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("objection phone must be 7-20 characters of digits, spaces, '-', '+', '(' and ')'")]
    Phone,
    #[error("objection address must be 1-200 characters without control characters")]
    Address,
    #[error("notice issuer must be 1-200 characters without control characters")]
    Issuer,
}

impl ContactError {
    /// The refusal for the clerk, naming the field.
    pub fn zh(self) -> &'static str {
        match self {
            ContactError::Phone => {
                "受理异议电话未保存：应为 7 到 20 个字符，只能包含数字、空格、“-”、“+”和英文括号，例如 0739-1234567。"
            }
            ContactError::Address => {
                "受理异议地址未保存：请填写 1 到 200 个字，不要包含换行等控制字符。"
            }
            ContactError::Issuer => {
                "公示发布单位未保存：请填写 1 到 200 个字，不要包含换行等控制字符。"
            }
        }
    }
}

impl Contact {
    /// Checks and trims the three fields, the phone first.
    pub fn parse(phone: &str, address: &str, issuer: &str) -> Result<Contact, ContactError> {
        let phone = phone.trim();
        let n = phone.chars().count();
        if !(PHONE_MIN_CHARS..=PHONE_MAX_CHARS).contains(&n)
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'))
        {
            return Err(ContactError::Phone);
        }
        let text_ok = |t: &str| {
            let n = t.chars().count();
            (1..=CONTACT_TEXT_MAX_CHARS).contains(&n) && !t.chars().any(char::is_control)
        };
        let (address, issuer) = (address.trim(), issuer.trim());
        if !text_ok(address) {
            return Err(ContactError::Address);
        }
        if !text_ok(issuer) {
            return Err(ContactError::Issuer);
        }
        Ok(Contact {
            phone: phone.into(),
            address: address.into(),
            issuer: issuer.into(),
        })
    }

    pub fn phone(&self) -> &str {
        &self.phone
    }
    pub fn address(&self) -> &str {
        &self.address
    }
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// What the notice says.
#[derive(Debug, Clone)]
pub struct NoticeFacts<'a> {
    /// The campaign's name, as in the title.
    pub campaign: &'a str,
    /// The names of the villages whose verdict passed, in the order to list them.
    pub proposed: Vec<&'a str>,
    pub start: Date,
    pub end: Date,
    /// Working days from `start` to `end`, both included (the calendar's count).
    pub working_days: u32,
    pub contact: &'a Contact,
    /// The date the notice carries under the issuer.
    pub dated: Date,
    /// For a restarted publicity: the date of the notice this one replaces.
    pub replaces: Option<Date>,
}

/// A date as notices write it: `2026年10月8日`.
pub fn date_zh(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// Text on one line: control characters (a line break in a village's name) become spaces,
/// so each line of the notice stays one part of it.
/// A character a .docx may hold: no control character, and neither U+FFFE nor U+FFFF, which
/// XML forbids (Word refuses the file).
pub fn fits_xml(c: char) -> bool {
    !c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}'
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if fits_xml(c) { c } else { ' ' })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The notice's title.
pub fn title(campaign: &str) -> String {
    format!("关于{}廉洁村（社区）拟评定名单的公示", one_line(campaign))
}

/// The notice as stored and posted: the title, an empty line, one line per paragraph (one
/// per proposed village), an empty line, the issuer and the date. [`NoticeDoc::from_text`]
/// reads it back.
pub fn notice_text(f: &NoticeFacts) -> String {
    let mut lines = vec![title(f.campaign), String::new()];
    if f.proposed.is_empty() {
        lines.push(
            "根据廉洁村（社区）创建考核评估工作安排，经综合评估，本轮没有拟评定的村（社区）。现将评估结果予以公示。"
                .into(),
        );
    } else {
        lines.push(format!(
            "根据廉洁村（社区）创建考核评估工作安排，经综合评估，拟评定以下 {} 个村（社区）为廉洁村（社区），现予以公示：",
            f.proposed.len()
        ));
        for (i, name) in f.proposed.iter().enumerate() {
            lines.push(format!("{}. {}", i + 1, one_line(name)));
        }
    }
    if let Some(earlier) = f.replaces {
        lines.push(format!(
            "因拟评定名单调整，现重新公示；{}发布的原公示同时废止。",
            date_zh(earlier)
        ));
    }
    lines.push(format!(
        "公示时间：{} 至 {}，共 {} 个工作日。",
        date_zh(f.start),
        date_zh(f.end),
        f.working_days
    ));
    lines.push(format!(
        "公示期间，对拟评定名单有异议的，可以通过电话、来信或来访向{}反映。受理电话：{}；受理地址：{}。",
        f.contact.issuer, f.contact.phone, f.contact.address
    ));
    lines.push(
        "反映问题请实名，并写明具体事实（涉及的村（社区）、事项、时间和经过），以便调查核实；对反映人的信息严格保密。"
            .into(),
    );
    lines.push(String::new());
    lines.push(f.contact.issuer.clone());
    lines.push(date_zh(f.dated));
    lines.join("\n")
}

/// A stored notice split into its parts for the page and the .docx.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoticeDoc {
    pub title: String,
    pub body: Vec<String>,
    pub issuer: String,
    pub date: String,
}

impl NoticeDoc {
    /// Reads a text written by [`notice_text`]: the first line is the title, the last two
    /// non-empty lines the issuer and the date, the non-empty lines between the body. Any
    /// other text gives some split of itself, never a failure.
    pub fn from_text(text: &str) -> NoticeDoc {
        let mut lines: Vec<String> = text
            .lines()
            .map(one_line)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            return NoticeDoc {
                title: String::new(),
                body: Vec::new(),
                issuer: String::new(),
                date: String::new(),
            };
        }
        let title = lines.remove(0);
        let (issuer, date) = if lines.len() >= 2 {
            let date = lines.pop().unwrap_or_default();
            (lines.pop().unwrap_or_default(), date)
        } else {
            (String::new(), String::new())
        };
        NoticeDoc {
            title,
            body: lines,
            issuer,
            date,
        }
    }

    /// The notice as a Word document (A4, title centred and large, body in 仿宋 with a
    /// two-character indent, issuer and date right-aligned), editable in WPS and Word. The
    /// text is XML-escaped by docx-rs.
    pub fn docx(&self) -> Result<Vec<u8>, String> {
        use docx_rs::{AlignmentType, Docx, LineSpacing, Paragraph, Run, RunFonts};
        // Sizes are in half-points: 二号 (22 pt) for the title, 三号 (16 pt) for the body.
        let run = |text: &str, font: &str, size: usize| {
            Run::new()
                .add_text(text)
                .size(size)
                .fonts(RunFonts::new().east_asia(font).ascii(font).hi_ansi(font))
        };
        let spacing = || LineSpacing::new().after(120);
        let mut doc = Docx::new().add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().after(480))
                .add_run(run(&self.title, "方正小标宋简体", 44).bold()),
        );
        for line in &self.body {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .first_line_chars(200)
                    .line_spacing(spacing())
                    .add_run(run(line, "仿宋", 32)),
            );
        }
        doc = doc.add_paragraph(Paragraph::new().line_spacing(LineSpacing::new().after(480)));
        for line in [&self.issuer, &self.date] {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Right)
                    .line_spacing(spacing())
                    .add_run(run(line, "仿宋", 32)),
            );
        }
        let mut out = std::io::Cursor::new(Vec::new());
        doc.build()
            .pack(&mut out)
            .map_err(|e| format!("writing the notice .docx: {e}"))?;
        Ok(out.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn characters_xml_forbids_never_reach_a_document() {
        assert!(fits_xml('村') && fits_xml('a') && fits_xml('\u{FFFD}'));
        for c in ['\u{0}', '\u{1b}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!fits_xml(c), "{c:?}");
        }
        assert_eq!(
            title("甲\u{FFFF}乙"),
            "关于甲 乙廉洁村（社区）拟评定名单的公示"
        );
    }

    fn contact() -> Contact {
        Contact::parse(
            " 0739-1234567 ",
            "唐家坊镇人民政府二楼纪委办公室",
            "中共唐家坊镇纪律检查委员会",
        )
        .unwrap()
    }

    fn facts<'a>(c: &'a Contact, proposed: Vec<&'a str>) -> NoticeFacts<'a> {
        NoticeFacts {
            campaign: "2026年度",
            proposed,
            start: date!(2026 - 09 - 30),
            end: date!(2026 - 10 - 14),
            working_days: 7,
            contact: c,
            dated: date!(2026 - 09 - 30),
            replaces: None,
        }
    }

    #[test]
    fn the_notice_names_the_villages_the_period_and_where_to_object() {
        let c = contact();
        let text = notice_text(&facts(&c, vec!["一村", "二村"]));
        let expected = "关于2026年度廉洁村（社区）拟评定名单的公示\n\n\
            根据廉洁村（社区）创建考核评估工作安排，经综合评估，拟评定以下 2 个村（社区）为廉洁村（社区），现予以公示：\n\
            1. 一村\n\
            2. 二村\n\
            公示时间：2026年9月30日 至 2026年10月14日，共 7 个工作日。\n\
            公示期间，对拟评定名单有异议的，可以通过电话、来信或来访向中共唐家坊镇纪律检查委员会反映。受理电话：0739-1234567；受理地址：唐家坊镇人民政府二楼纪委办公室。\n\
            反映问题请实名，并写明具体事实（涉及的村（社区）、事项、时间和经过），以便调查核实；对反映人的信息严格保密。\n\n\
            中共唐家坊镇纪律检查委员会\n\
            2026年9月30日";
        assert_eq!(text, expected);
        let doc = NoticeDoc::from_text(&text);
        assert_eq!(doc.title, "关于2026年度廉洁村（社区）拟评定名单的公示");
        assert_eq!(doc.body.len(), 6);
        assert_eq!(doc.body[1], "1. 一村");
        assert_eq!(doc.issuer, "中共唐家坊镇纪律检查委员会");
        assert_eq!(doc.date, "2026年9月30日");
    }

    #[test]
    fn a_restarted_notice_says_which_notice_it_replaces() {
        let c = contact();
        let mut f = facts(&c, vec!["二村"]);
        f.replaces = Some(date!(2026 - 09 - 30));
        let text = notice_text(&f);
        assert!(
            text.contains("1. 二村\n因拟评定名单调整，现重新公示；2026年9月30日发布的原公示同时废止。\n公示时间"),
            "{text}"
        );
        assert!(!notice_text(&facts(&c, vec!["二村"])).contains("重新公示"));
    }

    #[test]
    fn without_a_proposed_village_the_notice_says_so() {
        let c = contact();
        let text = notice_text(&facts(&c, vec![]));
        assert!(text.contains("本轮没有拟评定的村（社区）"), "{text}");
        assert!(!text.contains("1. "));
    }

    #[test]
    fn a_line_break_in_a_name_cannot_split_the_notice() {
        let c = contact();
        let text = notice_text(&facts(&c, vec!["一村\n\n中共假冒单位\n2020年1月1日"]));
        let doc = NoticeDoc::from_text(&text);
        assert_eq!(doc.issuer, "中共唐家坊镇纪律检查委员会");
        assert_eq!(doc.date, "2026年9月30日");
        assert!(doc.body.iter().any(|l| l.starts_with("1. 一村")));
    }

    #[test]
    fn any_text_reads_back_without_panicking() {
        for text in [
            "",
            "\n\n",
            "只有标题",
            "标题\n单位",
            "标题\n正文\n单位\n日期",
        ] {
            let doc = NoticeDoc::from_text(text);
            assert!(doc.docx().is_ok(), "{text:?}");
        }
        assert_eq!(NoticeDoc::from_text("标题\n单位").issuer, "");
    }

    #[test]
    fn contacts_are_checked_field_by_field() {
        let ok = ("0739-1234567", "镇政府", "镇纪委");
        assert!(Contact::parse(ok.0, ok.1, ok.2).is_ok());
        assert!(Contact::parse("+86 (0739) 123 4567", ok.1, ok.2).is_ok());
        for phone in [
            "123456",
            "1234567890123456789012",
            "0739-123456a",
            "０７３９１２３４５６７",
            "0739\n1234567",
            "",
        ] {
            assert_eq!(
                Contact::parse(phone, ok.1, ok.2),
                Err(ContactError::Phone),
                "{phone:?}"
            );
        }
        let long = "址".repeat(201);
        for address in ["", "  ", "镇政府\n二楼", long.as_str()] {
            assert_eq!(
                Contact::parse(ok.0, address, ok.2),
                Err(ContactError::Address),
                "{address:?}"
            );
        }
        assert!(Contact::parse(ok.0, &"址".repeat(200), ok.2).is_ok());
        assert_eq!(
            Contact::parse(ok.0, ok.1, "镇\u{7}纪委"),
            Err(ContactError::Issuer)
        );
        assert!(ContactError::Phone.zh().contains("受理异议电话"));
        assert!(ContactError::Address.zh().contains("受理异议地址"));
        assert!(ContactError::Issuer.zh().contains("公示发布单位"));
    }
}
