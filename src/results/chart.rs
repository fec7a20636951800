//! Charts as server-rendered SVG: no script, no external file, a text alternative on each
//! (`role="img"`, `aria-label`, `<title>`), and only the figures the pages' tables show (a
//! suppressed or withheld figure is named, never drawn). `png` renders one for documents
//! that cannot hold SVG (the .docx reports).

use crate::forms::Scheme;
use crate::results::tables::VillageAssessment;
use crate::results::{CampaignResults, FormTally, VillageResults};
use serde::{Serialize, Serializer};

/// One chart: a complete `<svg>` element whose text is escaped, so a template may insert
/// it as it is (`{{ chart|safe }}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Svg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A village's satisfaction rate per dimension of the recipients' form (and over all scored
/// questions), each with its 95% interval, against the scheme's grade lines.
pub fn village_dimensions(v: &VillageResults, k: u64, scheme: &Scheme) -> Svg {
    let _ = (k, scheme);
    placeholder(&format!("{} 各方面满意率", v.name))
}

/// Every village's S, best first, coloured by the grade of item 16 in force; villages whose
/// S is not shown are listed without a bar.
pub fn town_overview(
    results: &CampaignResults,
    assessed: &[VillageAssessment],
    scheme: &Scheme,
) -> Svg {
    let _ = (results, assessed, scheme);
    placeholder("各村（社区）综合满意率")
}

/// Per closed question of one form, the share of each option (a stacked bar), from the
/// counts the commission may see (below k nothing is drawn).
pub fn question_shares(tally: &FormTally, k: u64) -> Vec<Svg> {
    let _ = (tally, k);
    Vec::new()
}

/// The chart as a PNG image `width` pixels wide, for documents that cannot hold SVG.
pub fn png(svg: &Svg, width: u32) -> Result<Vec<u8>, String> {
    let _ = (svg, width);
    Err("charts cannot be rendered as images yet".into())
}

fn placeholder(title: &str) -> Svg {
    let t = escape(title);
    Svg(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 10 1\"><title>{t}</title></svg>"
    ))
}

/// Text for SVG: `&`, `<`, `>`, `"` and `'` escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
