//! Charts as server-rendered SVG: no script, no external file, a text alternative on each
//! (`role="img"`, `aria-label`, `<title>`, and a `<desc>` listing every figure drawn), and
//! only the figures the pages' tables show (a suppressed or withheld figure is named, never
//! drawn). `png` renders one for documents that cannot hold SVG (the .docx reports).
//!
//! Every chart is drawn on a 400-unit-wide `viewBox` with `width="100%"`, so it shrinks to a
//! 360-px phone and the page's CSS caps its width on a desk screen. Values run 0–100 (rates in
//! percent, scores on their 0–100 scale). Only presentation attributes are used, never a
//! `style` attribute, which the pages' Content-Security-Policy would refuse.

use crate::domain::Grade;
use crate::forms::{Audience, Method, Scheme};
use crate::results::item16::figure_text;
use crate::results::tables::VillageAssessment;
use crate::results::tally::Withheld;
use crate::results::{CampaignResults, CountRow, FormTally, Scope, VillageResults};
use serde::{Serialize, Serializer};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

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

/// The viewBox's width, the side margins, and the plot's width (0 to 100).
const W: f64 = 400.0;
const PAD: f64 = 8.0;
const PLOT: f64 = W - 2.0 * PAD;
/// Body text; small text (grade lines, legends) is 14: on a 360-px phone about 12 and 10 px.
const FONT_SIZE: f64 = 16.0;
const SMALL: f64 = 14.0;
const FONTS: &str = "'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif";
const INK: &str = "#1f2328";
const MUTED: &str = "#5c6670";
const TRACK: &str = "#edf0f3";
/// Bars that carry no grade (a dimension's rate, R, P, S).
const BAR: &str = "#3b6ea8";
/// A village's bar without a grade in force.
const NO_GRADE: &str = "#8a949e";
/// The options of a question, in the form's order (the last ones are rarely reached).
const PALETTE: [&str; 8] = [
    "#2f855a", "#9ae6b4", "#f6ad55", "#c53030", "#a0aec0", "#3182ce", "#805ad5", "#d69e2e",
];

/// The colour of a grade: green, blue, amber, red, told apart by lightness as well.
pub fn grade_colour(g: Grade) -> &'static str {
    match g {
        Grade::Good => "#2f855a",
        Grade::FairlyGood => "#2b6cb0",
        Grade::Average => "#d69e2e",
        Grade::Poor => "#c53030",
    }
}

/// One horizontal bar: a label, the value (0–100) or nothing where the figure is not shown,
/// its 95% interval, the text written beside it, and how `<desc>` names it.
struct Bar {
    label: String,
    value: Option<f64>,
    interval: Option<(f64, f64)>,
    text: String,
    fill: &'static str,
    desc: String,
}

/// A chart under construction: the drawing, the figures in words, the current height.
struct Chart {
    body: String,
    desc: Vec<String>,
    y: f64,
}

impl Chart {
    fn new() -> Self {
        Chart {
            body: String::new(),
            desc: Vec::new(),
            y: 0.0,
        }
    }

    /// A line of text at the left, wrapped to the chart's width.
    fn text_block(&mut self, text: &str, size: f64, bold: bool, fill: &str) {
        for line in wrap(text, size, PLOT) {
            self.y += size * 1.4;
            let weight = if bold { " font-weight=\"bold\"" } else { "" };
            let _ = write!(
                self.body,
                "<text x=\"{PAD}\" y=\"{}\" font-size=\"{size}\" fill=\"{fill}\"{weight}>{}</text>",
                num(self.y - size * 0.3),
                escape(&line)
            );
        }
    }

    /// The band above a group of bars where the grade lines are labelled (two staggered
    /// rows, so lines 10 points apart do not overwrite each other's labels).
    fn grade_band(&mut self) -> f64 {
        self.y += 2.0 * SMALL + 8.0;
        self.y
    }

    /// Dashed vertical lines at the scheme's thresholds (not the 0 line), from `top` to the
    /// current height, labelled "好 90%" in the band above `top`.
    fn grade_lines(&mut self, scheme: &Scheme, top: f64) {
        let unit = scheme.method.unit_zh().trim();
        let mut named = Vec::new();
        for (i, (label, min)) in scheme
            .thresholds
            .iter()
            .filter(|(_, min)| *min > 0.0 && min.is_finite())
            .enumerate()
        {
            let x = x_at(*min);
            let text = format!("{label} {}{unit}", short(*min));
            let half = text_width(&text, SMALL) / 2.0;
            let anchor = if x + half > W - 2.0 {
                "end"
            } else if x - half < 2.0 {
                "start"
            } else {
                "middle"
            };
            let ty = top - 4.0 - if i % 2 == 0 { 0.0 } else { SMALL + 2.0 };
            let _ = write!(
                self.body,
                "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{MUTED}\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\
                 <text x=\"{x}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"{MUTED}\" text-anchor=\"{anchor}\">{}</text>",
                num(top - 2.0),
                num(self.y),
                num(ty),
                escape(&text),
                x = num(x),
            );
            named.push(text);
        }
        let words = format!("等次线：{}", named.join("，"));
        if !named.is_empty() && !self.desc.contains(&words) {
            self.desc.push(words);
        }
    }

    /// One bar: label and text on a line, the bar (and its whisker) under it; a figure not
    /// shown gets the line only.
    fn bar(&mut self, b: &Bar) {
        let top = self.y;
        let value_w = text_width(&b.text, FONT_SIZE);
        let label = fit(&b.label, FONT_SIZE, PLOT - value_w - 10.0);
        self.body.push_str("<g>");
        let _ = write!(
            self.body,
            "<text x=\"{PAD}\" y=\"{}\" fill=\"{INK}\">{}</text><text x=\"{}\" y=\"{}\" fill=\"{INK}\" font-weight=\"bold\" text-anchor=\"end\">{}</text>",
            num(top + 18.0),
            escape(&label),
            num(W - PAD),
            num(top + 18.0),
            escape(&b.text),
        );
        self.y += 25.0;
        if let Some(v) = b.value.filter(|v| v.is_finite()) {
            let (bar_y, h) = (self.y, 14.0);
            let _ = write!(
                self.body,
                "<rect x=\"{PAD}\" y=\"{y}\" width=\"{PLOT}\" height=\"{h}\" fill=\"{TRACK}\"/>\
                 <rect class=\"value\" x=\"{PAD}\" y=\"{y}\" width=\"{}\" height=\"{h}\" fill=\"{}\"/>",
                num(x_at(v) - PAD),
                b.fill,
                y = num(bar_y),
            );
            if let Some((lo, hi)) = b.interval.filter(|(l, h)| l.is_finite() && h.is_finite()) {
                let (cy, l, r) = (bar_y + h / 2.0, x_at(lo), x_at(hi));
                let _ = write!(
                    self.body,
                    "<path d=\"M{l} {cy}H{r}M{l} {a}V{b}M{r} {a}V{b}\" stroke=\"{INK}\" stroke-width=\"1.5\" fill=\"none\"/>",
                    l = num(l),
                    r = num(r),
                    cy = num(cy),
                    a = num(cy - 6.0),
                    b = num(cy + 6.0),
                );
            }
            self.y += h + 8.0;
        }
        self.body.push_str("</g>");
        self.desc.push(b.desc.clone());
    }

    /// The finished `<svg>`: `title` as its `<title>`, `summary` in its `aria-label`, the
    /// figures in `<desc>`.
    fn finish(self, title: &str, summary: &str) -> Svg {
        let height = num(self.y + 8.0);
        let label = if summary.is_empty() {
            title.to_string()
        } else {
            format!("{title}：{summary}")
        };
        let desc = self.desc.join("；");
        Svg(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"100%\" viewBox=\"0 0 {W} {height}\" \
             role=\"img\" aria-label=\"{}\" font-family=\"{FONTS}\" font-size=\"{FONT_SIZE}\">\
             <title>{}</title><desc>{}</desc><rect width=\"{W}\" height=\"{height}\" fill=\"#ffffff\"/>{}</svg>",
            escape(&label),
            escape(title),
            escape(&format!("{desc}。")),
            self.body
        ))
    }
}

/// A village's satisfaction rate per dimension of the recipients' form (and over all scored
/// questions), each with its 95% interval, against the scheme's grade lines; then item 16's
/// R, P and S. A row not shown (fewer than k answers, or withheld) is named with 不显示 and
/// drawn without a bar.
pub fn village_dimensions(v: &VillageResults, k: u64, scheme: &Scheme) -> Svg {
    let title = format!("{} {} 服务对象满意率与第16项", v.code, v.name);
    let mut c = Chart::new();
    let mut summary = Vec::new();
    c.text_block(
        &format!("{} 服务对象各方面满意率", v.name),
        FONT_SIZE,
        true,
        INK,
    );
    // The scheme's lines are lines of R, P and S; a dimension's rate meets them only where
    // the figure is a rate too.
    let top = (scheme.method == Method::Rate).then(|| c.grade_band());
    for r in v
        .rates(Audience::Recipients, k)
        .iter()
        .filter(|r| matches!(r.scope, Scope::Dimension | Scope::All))
    {
        let shown = !r.suppressed && r.withheld.is_none();
        let value = r.rate.filter(|_| shown).map(|x| x * 100.0);
        let bar = match value {
            Some(x) => {
                let text = pct(x);
                let interval = r.interval.map(|i| (i.low * 100.0, i.high * 100.0));
                let desc = match interval {
                    Some((lo, hi)) => {
                        format!("{} {}（95%区间 {} – {}）", r.label, text, pct(lo), pct(hi))
                    }
                    None => format!("{} {text}", r.label),
                };
                Bar {
                    label: r.label.clone(),
                    value: Some(x),
                    interval,
                    text,
                    fill: BAR,
                    desc,
                }
            }
            None => {
                let why = if r.suppressed {
                    Withheld::FewAnswers.note_zh(k)
                } else {
                    r.withheld.map_or_else(String::new, |w| w.note_zh(k))
                };
                Bar {
                    label: r.label.clone(),
                    value: None,
                    interval: None,
                    text: "不显示".into(),
                    fill: BAR,
                    desc: format!("{} 不显示（{why}）", r.label),
                }
            }
        };
        summary.push(format!("{} {}", bar.label, bar.text));
        c.bar(&bar);
    }
    if let Some(top) = top {
        c.grade_lines(scheme, top);
    }

    c.y += 6.0;
    let name = scheme.method.figure_zh();
    c.text_block(&format!("第16项 民意调查{name}"), FONT_SIZE, true, INK);
    let top = c.grade_band();
    let i = &v.item16;
    let range = |i: Option<crate::results::Interval>| i.map(|i| (i.low, i.high));
    for (label, value, interval) in [
        (format!("群众{name} R"), i.r, range(i.r_interval)),
        (format!("两代表一委员{name} P"), i.p, None),
        (format!("综合{name} S"), i.s, range(i.s_interval)),
    ] {
        let bar = match value.filter(|x| x.is_finite()) {
            Some(x) => {
                let text = figure_text(scheme, x);
                let desc = match interval {
                    Some((lo, hi)) => format!(
                        "{label} {text}（95%区间 {} – {}）",
                        figure_text(scheme, lo),
                        figure_text(scheme, hi)
                    ),
                    None => format!("{label} {text}"),
                };
                Bar {
                    label,
                    value: Some(x),
                    interval,
                    text,
                    fill: BAR,
                    desc,
                }
            }
            None => Bar {
                desc: format!("{label} 不显示"),
                label,
                value: None,
                interval: None,
                text: "不显示".into(),
                fill: BAR,
            },
        };
        summary.push(format!("{} {}", bar.label, bar.text));
        c.bar(&bar);
    }
    c.grade_lines(scheme, top);
    c.y += 4.0;
    c.text_block(
        "细横线是95%区间，竖虚线是等次线；“不显示”的数字答卷太少或会让人推算出个人回答，不画。",
        SMALL,
        false,
        MUTED,
    );
    c.finish(&title, &summary.join("，"))
}

/// Every village's S, best first, coloured by the grade of item 16 in force (the grade is
/// written after the figure too); villages whose S is not shown are listed after them
/// without a bar.
pub fn town_overview(
    results: &CampaignResults,
    assessed: &[VillageAssessment],
    scheme: &Scheme,
) -> Svg {
    let name = scheme.method.figure_zh();
    let title = format!("各村（社区）综合{name} S");
    let grade_of = |v: &VillageResults| -> Option<Grade> {
        assessed
            .iter()
            .find(|a| a.village_id == v.village_id)
            .and_then(|a| a.items.get(15).copied().flatten())
    };
    let mut shown: Vec<(&VillageResults, f64)> = results
        .villages
        .iter()
        .filter_map(|v| v.item16.s.filter(|s| s.is_finite()).map(|s| (v, s)))
        .collect();
    shown.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.code.cmp(&b.0.code)));
    let mut hidden: Vec<&VillageResults> = results
        .villages
        .iter()
        .filter(|v| !v.item16.s.is_some_and(f64::is_finite))
        .collect();
    hidden.sort_by(|a, b| a.code.cmp(&b.code));

    let mut c = Chart::new();
    let mut summary = Vec::new();
    c.text_block(&format!("{title}（从高到低）"), FONT_SIZE, true, INK);
    // The legend: each grade's colour with its name (the names are on the bars as well).
    c.y += 4.0;
    let mut x = PAD;
    for g in Grade::ALL
        .iter()
        .map(|g| (g.label(), grade_colour(*g)))
        .chain([("无等次", NO_GRADE)])
    {
        let _ = write!(
            c.body,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"{INK}\">{}</text>",
            num(x),
            num(c.y),
            g.1,
            num(x + 16.0),
            num(c.y + 11.0),
            escape(g.0)
        );
        x += 16.0 + text_width(g.0, SMALL) + 14.0;
    }
    c.y += 16.0;
    let top = c.grade_band();
    for (v, s) in &shown {
        let grade = grade_of(v);
        let mut words = vec![figure_text(scheme, *s)];
        words.push(match grade {
            Some(g) => g.label().to_string(),
            None if v.item16.insufficient => "数据不足".into(),
            None => "无等次".into(),
        });
        if v.item16.uncertain && grade.is_some() {
            words.push("不确定".into());
        }
        let text = words.join(" ");
        let label = format!("{} {}", v.code, v.name);
        summary.push(format!("{label} {text}"));
        c.bar(&Bar {
            desc: format!("{label} {text}"),
            label,
            value: Some(*s),
            interval: None,
            text,
            fill: grade.map_or(NO_GRADE, grade_colour),
        });
    }
    c.grade_lines(scheme, top);
    for v in hidden {
        let label = format!("{} {}", v.code, v.name);
        let text = if v.item16.insufficient {
            "数据不足".to_string()
        } else {
            "不显示".to_string()
        };
        let desc = match grade_of(v) {
            Some(g) => format!("{label} {text}（等次 {}）", g.label()),
            None => format!("{label} {text}"),
        };
        summary.push(format!("{label} {text}"));
        c.bar(&Bar {
            label,
            value: None,
            interval: None,
            text,
            fill: NO_GRADE,
            desc,
        });
    }
    if results.villages.is_empty() {
        c.text_block("还没有村（社区）的结果。", FONT_SIZE, false, MUTED);
        c.desc.push("还没有村（社区）的结果".into());
    }
    c.y += 6.0;
    c.text_block(
        "颜色和数字后的文字是第16项的认定等次，竖虚线是等次线。",
        SMALL,
        false,
        MUTED,
    );
    c.finish(&title, &summary.join("，"))
}

/// One round of a village's history: how it is labelled (year, name, 考核 or 复核), its
/// item 16 as the round's tables show it (figures already hidden where they must be), the
/// scheme it was graded by, and item 16's grade in force.
pub struct HistoryRound<'a> {
    pub label: String,
    pub item16: &'a crate::results::Item16,
    pub scheme: &'a Scheme,
    pub grade: Option<Grade>,
}

/// A village's item 16 across rounds, the oldest first: per round its R, P and S against
/// that round's grade lines, S coloured by the grade in force. A figure the round's tables
/// do not show is named 不显示 and drawn without a bar.
pub fn village_history(village: &str, rounds: &[HistoryRound<'_>]) -> Svg {
    let title = format!("{village} 历次第16项民意调查");
    let mut c = Chart::new();
    let mut summary = Vec::new();
    c.text_block(&format!("{title}（从早到晚）"), FONT_SIZE, true, INK);
    for round in rounds {
        c.y += 6.0;
        let grade = round.grade;
        let heading = match grade {
            Some(g) => format!("{} 第16项 {}", round.label, g.label()),
            None => format!("{} 第16项 无等次", round.label),
        };
        c.text_block(&heading, FONT_SIZE, true, INK);
        let top = c.grade_band();
        let name = round.scheme.method.figure_zh();
        let i = round.item16;
        for (key, value, fill) in [
            ("R", i.r, BAR),
            ("P", i.p, BAR),
            ("S", i.s, grade.map_or(NO_GRADE, grade_colour)),
        ] {
            let label = match key {
                "R" => format!("群众{name} R"),
                "P" => format!("两代表一委员{name} P"),
                _ => format!("综合{name} S"),
            };
            let bar = match value.filter(|x| x.is_finite()) {
                Some(x) => {
                    let text = figure_text(round.scheme, x);
                    Bar {
                        desc: format!("{} {label} {text}", round.label),
                        label,
                        value: Some(x),
                        interval: None,
                        text,
                        fill,
                    }
                }
                None => Bar {
                    desc: format!("{} {label} 不显示", round.label),
                    label,
                    value: None,
                    interval: None,
                    text: "不显示".into(),
                    fill,
                },
            };
            if key == "S" {
                summary.push(format!("{} S {}", round.label, bar.text));
            }
            c.bar(&bar);
        }
        c.grade_lines(round.scheme, top);
        if let Some(g) = grade {
            c.desc
                .push(format!("{} 第16项等次 {}", round.label, g.label()));
        }
    }
    if rounds.is_empty() {
        c.text_block("还没有调查已结束的轮次。", FONT_SIZE, false, MUTED);
        c.desc.push("还没有调查已结束的轮次".into());
    }
    c.y += 6.0;
    c.text_block(
        "每轮按当轮的评分方案画等次线（竖虚线）；S 的颜色是第16项的认定等次；“不显示”的数字答卷太少或会让人推算出个人回答，不画。",
        SMALL,
        false,
        MUTED,
    );
    c.finish(&title, &summary.join("，"))
}

/// Per closed question of one form, the share of each option (a stacked bar), from the
/// counts the commission may see (below k nothing is drawn).
pub fn question_shares(tally: &FormTally, k: u64) -> Vec<Svg> {
    shares(tally, k, |_| true)
}

/// As [`question_shares`], for the scored questions only (those with a satisfaction rate):
/// what a village's own page shows beside its rates, without the screening and quality
/// questions (who lives in the village, who was told how to answer).
pub fn scored_question_shares(tally: &FormTally, k: u64) -> Vec<Svg> {
    let scored: Vec<String> = tally
        .rates(None, k)
        .into_iter()
        .filter(|r| r.scope == Scope::Question)
        .map(|r| r.key)
        .collect();
    shares(tally, k, |q| scored.iter().any(|s| s == q))
}

fn shares(tally: &FormTally, k: u64, keep: impl Fn(&str) -> bool) -> Vec<Svg> {
    let counts = tally.counts(k);
    let mut questions: Vec<(&str, Vec<&CountRow>)> = Vec::new();
    for row in &counts {
        match questions.last_mut() {
            Some((q, rows)) if *q == row.question => rows.push(row),
            _ => questions.push((&row.question, vec![row])),
        }
    }
    questions
        .into_iter()
        .filter(|(q, _)| keep(q))
        .map(|(_, rows)| question_chart(&rows, k))
        .collect()
}

/// One question's 100%-stacked bar and its legend, or its text and why nothing is drawn.
fn question_chart(rows: &[&CountRow], k: u64) -> Svg {
    let text = rows.first().map_or("", |r| r.text.as_str());
    let mut c = Chart::new();
    c.text_block(text, FONT_SIZE, true, INK);
    let counts: Option<Vec<(&str, u64)>> = rows
        .iter()
        .map(|r| {
            r.count
                .filter(|_| r.withheld.is_none())
                .map(|n| (r.option.as_str(), n))
        })
        .collect();
    let Some(counts) = counts else {
        let why = match rows.iter().find_map(|r| r.withheld) {
            Some(Withheld::FewAnswers) | None => format!("答卷少于 {k} 份，不显示"),
            Some(w) => w.note_zh(k),
        };
        c.text_block(&why, FONT_SIZE, false, MUTED);
        c.desc.push(why.clone());
        return c.finish(text, &why);
    };
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        c.text_block("没有人选择任何一项。", FONT_SIZE, false, MUTED);
        c.desc.push("没有人选择任何一项".into());
        return c.finish(text, "没有人选择任何一项");
    }
    c.y += 6.0;
    let share = |n: u64| n as f64 * 100.0 / total as f64;
    let mut x = PAD;
    c.body.push_str("<g>");
    for (i, (_, n)) in counts.iter().enumerate() {
        let w = share(*n) / 100.0 * PLOT;
        if *n > 0 {
            let _ = write!(
                c.body,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"22\" fill=\"{}\"/>",
                num(x),
                num(c.y),
                num(w),
                PALETTE[i % PALETTE.len()]
            );
        }
        x += w;
    }
    c.body.push_str("</g>");
    c.y += 22.0 + 4.0;
    // The legend, two options a line.
    let mut summary = Vec::new();
    let col = PLOT / 2.0;
    for (i, (option, n)) in counts.iter().enumerate() {
        let words = format!("{option} {}（{n} 人）", pct(share(*n)));
        let (lx, first) = (PAD + col * (i % 2) as f64, i % 2 == 0);
        if first {
            c.y += SMALL * 1.6;
        }
        let _ = write!(
            c.body,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"{INK}\">{}</text>",
            num(lx),
            num(c.y - 11.0),
            PALETTE[i % PALETTE.len()],
            num(lx + 16.0),
            num(c.y),
            escape(&fit(&words, SMALL, col - 20.0))
        );
        summary.push(words);
    }
    c.desc
        .push(format!("共 {total} 人次，{}", summary.join("，")));
    c.finish(text, &summary.join("，"))
}

/// The fonts for PNG rendering, loaded from the system once (`fonts-noto-cjk` gives the
/// Chinese labels their glyphs; without a CJK font they render as gaps, never as an error).
fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_system_fonts();
            db.set_sans_serif_family("Noto Sans CJK SC");
            Arc::new(db)
        })
        .clone()
}

/// The widest PNG asked for: a page of a report is far narrower.
const MAX_PNG_WIDTH: u32 = 4096;

/// The chart as a PNG image `width` pixels wide, for documents that cannot hold SVG.
pub fn png(svg: &Svg, width: u32) -> Result<Vec<u8>, String> {
    use resvg::tiny_skia::{Color, Pixmap, Transform};
    use resvg::usvg;
    if width == 0 || width > MAX_PNG_WIDTH {
        return Err(format!(
            "chart image width {width} px is outside 1..={MAX_PNG_WIDTH}"
        ));
    }
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: "Noto Sans CJK SC".into(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg.as_str(), &options)
        .map_err(|e| format!("chart SVG does not parse: {e}"))?;
    let size = tree.size();
    let scale = width as f32 / size.width();
    let height = (size.height() * scale).ceil();
    if !(height >= 1.0 && height <= (MAX_PNG_WIDTH * 4) as f32) {
        return Err(format!(
            "chart image height {height} px for width {width} px is out of range"
        ));
    }
    let mut pixmap = Pixmap::new(width, height as u32)
        .ok_or_else(|| format!("cannot allocate a {width}×{height} image"))?;
    pixmap.fill(Color::WHITE);
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("chart PNG encoding failed: {e}"))
}

/// The x of a value on the 0–100 axis.
fn x_at(v: f64) -> f64 {
    let v = if v.is_finite() {
        v.clamp(0.0, 100.0)
    } else {
        0.0
    };
    PAD + v / 100.0 * PLOT
}

/// A coordinate with at most two decimals.
fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A line's value as written in the scheme: 90, 87.5.
fn short(x: f64) -> String {
    num(x)
}

fn pct(x: f64) -> String {
    format!("{x:.1}%")
}

/// The width of a text, roughly: a Chinese character one em, anything ASCII a little over
/// half of one.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f64>()
        * size
}

/// Lines of `s` no wider than `max` (broken between characters, as Chinese is).
fn wrap(s: &str, size: f64, max: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for ch in s.chars().filter(|c| !c.is_control()) {
        let mut next = line.clone();
        next.push(ch);
        if !line.is_empty() && text_width(&next, size) > max {
            lines.push(std::mem::take(&mut line));
            line.push(ch);
        } else {
            line = next;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `s` cut to `max` with "…" where it is longer.
fn fit(s: &str, size: f64, max: f64) -> String {
    if text_width(s, size) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for ch in s.chars().filter(|c| !c.is_control()) {
        out.push(ch);
        if text_width(&out, size) + size > max {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
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
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::FrameSize;
    use crate::forms::{FormSet, builtin, parse_answers};
    use crate::ids::VillageId;
    use crate::results::report::fold_village;
    use crate::results::tables::assessments;

    /// A recipient's answers: `service` for attitude and convenience, `rest` for fairness,
    /// promptness and no_favours (`dont_know` for 说不清).
    fn answer(forms: &FormSet, service: &str, rest: &str) -> (String, String) {
        let mut fields = vec![("served", "yes")];
        for q in ["attitude", "convenience"] {
            fields.push((q, service));
        }
        for q in ["fairness", "promptness", "no_favours"] {
            fields.push((q, rest));
        }
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let json = parse_answers(&forms.recipients, &fields).unwrap().to_json();
        ("phone".to_string(), json)
    }

    fn village(
        forms: &FormSet,
        id: i64,
        code: &str,
        name: &str,
        people: &[(&str, &str)],
    ) -> VillageResults {
        let frame = FrameSize {
            village_id: VillageId(id),
            code: code.into(),
            name: name.into(),
            population: 200,
        };
        let responses: Vec<(String, String)> =
            people.iter().map(|(s, r)| answer(forms, s, r)).collect();
        fold_village(&frame, &responses, forms).unwrap()
    }

    /// The `<g>` group of the row labelled `label`.
    fn row<'a>(svg: &'a Svg, label: &str) -> &'a str {
        svg.as_str()
            .split("<g>")
            .map(|g| g.split("</g>").next().unwrap_or(""))
            .find(|g| g.contains(&format!(">{label}<")))
            .unwrap_or_else(|| panic!("no row {label} in {}", svg.as_str()))
    }

    fn value_width(group: &str) -> f64 {
        let at = group.find("class=\"value\"").expect("a value bar");
        let rest = &group[at..];
        let w = rest.split("width=\"").nth(1).unwrap();
        w[..w.find('"').unwrap()].parse().unwrap()
    }

    fn desc(svg: &Svg) -> &str {
        let s = svg.as_str();
        &s[s.find("<desc>").unwrap() + 6..s.find("</desc>").unwrap()]
    }

    fn k(forms: &FormSet) -> u64 {
        u64::from(forms.scheme.k)
    }

    #[test]
    fn a_suppressed_or_withheld_row_draws_no_bar_and_says_so() {
        let forms = builtin().unwrap();
        // Six people, four of them 说不清 to fairness (and the rest of 作风 and 廉洁): 作风
        // and 廉洁 have two valid answers each, withheld; 服务 stands.
        let mut people = vec![("满意", "满意"); 2];
        people.extend([("满意", "dont_know"); 4]);
        let v = village(&forms, 1, "C01", "茶村", &people);
        let svg = village_dimensions(&v, k(&forms), &forms.scheme);
        let service = row(&svg, "服务");
        assert!(
            service.contains("<rect") && service.contains(">100.0%<"),
            "{service}"
        );
        for hidden in ["作风", "廉洁", "全部计分题"] {
            let g = row(&svg, hidden);
            assert!(
                !g.contains("<rect") && !g.contains("<path"),
                "{hidden}: {g}"
            );
            assert!(g.contains("不显示"), "{hidden}: {g}");
        }
        // Four answers: every figure under k, nothing drawn at all but the labels.
        let few = village(&forms, 2, "C02", "竹村", &[("满意", "满意"); 4]);
        let svg = village_dimensions(&few, k(&forms), &forms.scheme);
        assert!(
            !svg.as_str().contains("class=\"value\""),
            "{}",
            svg.as_str()
        );
        assert!(!desc(&svg).contains("100.0%"), "{}", desc(&svg));
        assert!(desc(&svg).contains("答卷少于5份"), "{}", desc(&svg));
        let g = row(&svg, "综合满意率 S");
        assert!(!g.contains("<rect") && g.contains("不显示"));
    }

    #[test]
    fn a_bar_is_as_long_as_its_value_and_carries_its_interval() {
        let forms = builtin().unwrap();
        // 服务: attitude and convenience 满意 for six, 不满意 for six: 50%.
        let mut people = vec![("满意", "满意"); 6];
        people.extend([("不满意", "满意"); 6]);
        let v = village(&forms, 1, "C01", "茶村", &people);
        let svg = village_dimensions(&v, k(&forms), &forms.scheme);
        let service = row(&svg, "服务");
        assert!(
            (value_width(service) - PLOT / 2.0).abs() < 0.01,
            "{service}"
        );
        assert!(service.contains(">50.0%<") && service.contains("<path"));
        assert!((value_width(row(&svg, "作风")) - PLOT).abs() < 0.01);
        // 全部计分题: 5 of 5 answers of six, 3 of 5 of the other six: 80%.
        assert!((value_width(row(&svg, "全部计分题")) - PLOT * 0.8).abs() < 0.01);
        assert!(desc(&svg).contains("服务 50.0%（95%区间"), "{}", desc(&svg));
        assert!(svg.as_str().starts_with("<svg ") && svg.as_str().contains("role=\"img\""));
        assert!(svg.as_str().contains("aria-label=\"C01 茶村") && svg.as_str().contains("<title>"));
        assert!(
            svg.as_str().contains("viewBox=\"0 0 400 ") && svg.as_str().contains("width=\"100%\"")
        );
    }

    #[test]
    fn grade_lines_stand_at_the_schemes_thresholds_but_not_at_zero() {
        let forms = builtin().unwrap();
        let v = village(&forms, 1, "C01", "茶村", &[("满意", "满意"); 8]);
        let svg = village_dimensions(&v, k(&forms), &forms.scheme);
        let lines: Vec<&str> = svg.as_str().split("<line ").skip(1).collect();
        for (label, min) in &forms.scheme.thresholds {
            let at = format!("x1=\"{}\"", num(x_at(*min)));
            let here = lines.iter().filter(|l| l.starts_with(&at)).count();
            if *min > 0.0 {
                // One in the dimensions' group, one in item 16's.
                assert_eq!(here, 2, "{label} {min}");
                assert!(svg.as_str().contains(&format!(">{label} {min}%<")));
            } else {
                assert_eq!(here, 0, "no line at 0");
            }
        }
        assert!(
            desc(&svg).contains("等次线：好 90%，较好 80%，一般 60%"),
            "{}",
            desc(&svg)
        );
    }

    #[test]
    fn the_town_overview_sorts_by_s_and_lists_the_hidden_last() {
        let forms = builtin().unwrap();
        let mut mixed = vec![("满意", "满意"); 6];
        mixed.extend([("不满意", "不满意"); 4]);
        let results = CampaignResults {
            villages: vec![
                village(&forms, 1, "C01", "低村", &mixed),
                village(&forms, 2, "C02", "少村", &[("满意", "满意"); 3]),
                village(&forms, 3, "C03", "高村", &[("满意", "满意"); 10]),
            ],
            k: k(&forms),
        };
        let assessed = assessments(&results, &Default::default());
        let svg = town_overview(&results, &assessed, &forms.scheme);
        let s = svg.as_str();
        let (high, low, few) = (
            s.find("C03 高村").unwrap(),
            s.find("C01 低村").unwrap(),
            s.find("C02 少村").unwrap(),
        );
        assert!(high < low && low < few, "{s}");
        // Three answers: S not shown, and too few for a grade.
        let g = row(&svg, "C02 少村");
        assert!(!g.contains("<rect") && g.contains(">数据不足<"), "{g}");
        // S = 100% for 高村: the full width, in the colour of its grade, named.
        let top = row(&svg, "C03 高村");
        assert!((value_width(top) - PLOT).abs() < 0.01);
        let grade = assessed[2].items[15];
        if let Some(g) = grade {
            assert!(top.contains(grade_colour(g)) && top.contains(&format!(" {}<", g.label())));
        } else {
            assert!(top.contains(NO_GRADE));
        }
        assert!(desc(&svg).contains("C03 高村 100.0%"), "{}", desc(&svg));
    }

    #[test]
    fn every_name_is_escaped() {
        let forms = builtin().unwrap();
        let v = village(&forms, 1, "C<1>", "<script>&\"'村", &[("满意", "满意"); 6]);
        let svg = village_dimensions(&v, k(&forms), &forms.scheme);
        assert!(!svg.as_str().contains("<script"), "{}", svg.as_str());
        assert!(svg.as_str().contains("&lt;script&gt;&amp;&quot;&#39;村"));
        let results = CampaignResults {
            villages: vec![v],
            k: 5,
        };
        let town = town_overview(&results, &[], &forms.scheme);
        assert!(!town.as_str().contains("<script") && !town.as_str().contains("C<1>"));
        assert!(town.as_str().contains("C&lt;1&gt;"));
    }

    #[test]
    fn question_shares_stack_to_the_whole_width_and_hide_small_questions() {
        let forms = builtin().unwrap();
        let mut people = vec![("满意", "满意"); 3];
        people.push(("比较满意", "满意"));
        people.push(("不满意", "满意"));
        let v = village(&forms, 1, "C01", "茶村", &people);
        let charts = question_shares(&v.recipients, 5);
        let attitude = charts
            .iter()
            .find(|c| c.as_str().contains("态度"))
            .expect("the attitude question");
        let widths: f64 = attitude
            .as_str()
            .split("<g>")
            .nth(1)
            .and_then(|g| g.split("</g>").next())
            .unwrap()
            .split("width=\"")
            .skip(1)
            .map(|w| w[..w.find('"').unwrap()].parse::<f64>().unwrap())
            .sum();
        assert!((widths - PLOT).abs() < 0.05, "{widths}");
        assert!(
            desc(attitude).contains("满意 60.0%（3 人）"),
            "{}",
            desc(attitude)
        );
        assert!(attitude.as_str().contains("role=\"img\""));
        // Fewer than k answers: the question's text and why, no bar.
        let few = village(&forms, 2, "C02", "竹村", &people[..4]);
        for c in question_shares(&few.recipients, 5) {
            assert!(!c.as_str().contains("<g>"), "{}", c.as_str());
            assert!(c.as_str().contains("答卷少于 5 份，不显示"));
        }
        // A village's own page leaves out the questions without a rate (served, coached).
        let scored = scored_question_shares(&v.recipients, 5);
        assert_eq!(scored.len(), 5);
        assert!(charts.len() > scored.len());
    }

    #[test]
    fn the_village_history_draws_each_rounds_figures_and_names_the_hidden_ones() {
        let forms = builtin().unwrap();
        let first = village(&forms, 1, "C01", "茶村", &[("满意", "满意"); 20]);
        let mut second = village(&forms, 1, "C01", "茶村", &[("比较满意", "满意"); 20]);
        second.item16.hide_r();
        let rounds = [
            HistoryRound {
                label: "2026年 考核".into(),
                item16: &first.item16,
                scheme: &forms.scheme,
                grade: Some(Grade::Good),
            },
            HistoryRound {
                label: "2028年 复核".into(),
                item16: &second.item16,
                scheme: &forms.scheme,
                grade: None,
            },
        ];
        let svg = village_history("C01 茶村", &rounds);
        let text = svg.as_str();
        assert!(
            text.contains("role=\"img\"") && text.contains("<title>"),
            "{text}"
        );
        let d = desc(&svg);
        let s1 = figure_text(&forms.scheme, first.item16.s.unwrap());
        let name = forms.scheme.method.figure_zh();
        assert!(d.contains(&format!("2026年 考核 综合{name} S {s1}")), "{d}");
        assert!(d.contains("2026年 考核 第16项等次 好"), "{d}");
        // The second round's R and S are hidden: named, never drawn.
        assert!(
            d.contains("2028年 复核 群众") && d.contains("不显示"),
            "{d}"
        );
        // Bars: the first round's R and S only (no panel, so no P; the second hides both).
        assert!(first.item16.p.is_none() && second.item16.p.is_none());
        assert_eq!(text.matches("class=\"value\"").count(), 2, "{text}");
        assert!(d.contains("等次线"), "{d}");
        let empty = village_history("C01 茶村", &[]);
        assert!(desc(&empty).contains("还没有调查已结束的轮次"));
    }

    #[test]
    fn a_chart_renders_as_a_png_of_the_width_asked() {
        let forms = builtin().unwrap();
        let v = village(&forms, 1, "C01", "茶村", &[("满意", "满意"); 6]);
        let svg = village_dimensions(&v, 5, &forms.scheme);
        let png = png(&svg, 640).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 640);
        assert!(u32::from_be_bytes(png[20..24].try_into().unwrap()) > 100);
        assert!(super::png(&svg, 0).is_err());
        assert!(super::png(&Svg("<svg".into()), 100).is_err());
    }
}
