//! Quality checks against coaching and padded rosters (docs/fieldwork.md, 质量检查与回访).
//!
//! When the assessed village supplies the sampling frame, it can pad the roster with
//! friendly numbers or tell people how to answer. Nothing here proves either; each check
//! counts a sign of it per village, and raises a flag when the count passes a documented
//! threshold, for the commission to look at beside the grade:
//!
//! | check | counts | flag when |
//! | --- | --- | --- |
//! | straight-lining | answer sheets giving the same option to every scored question (≥ 4 of them) | ≥ [`STRAIGHT_LINING_PERCENT`] % of sheets |
//! | very fast | sheets answered in under a minute | ≥ [`FAST_PERCENT`] % of sheets with a known duration |
//! | coached | `coached` = `yes` ("someone told me how to answer") | ≥ [`COACHED_PERCENT`] % or ≥ [`COACHED_PEOPLE`] people |
//! | not served | cases recorded 非服务对象 (the screener answered `no`, by link or on the phone: roster padding), of those who answered the screener (completes, partials and these) | ≥ [`NOT_SERVED_PERCENT`] % or ≥ [`NOT_SERVED_PEOPLE`] people |
//! | invalid numbers | released cases ending as a wrong or dead number | ≥ [`INVALID_NUMBERS_PERCENT`] % of cases released |
//! | shared phones | the village's roster phones also in another village's roster | ≥ [`SHARED_PHONES`] |
//! | call-back denied | call-back cases who said they took no part | ≥ [`CALLBACK_DENIED`] |
//!
//! Shares are compared in integers (`count × 100 ≥ percent × base`), never floats. A check
//! counted from the answers is shown only when at least k sheets enter it (the scheme's
//! small-cell threshold, as every other figure from the answers), and only once fieldwork
//! has closed. Pure: values in, values out; the database side is `quality_report`.

use crate::duration::Duration;
pub use crate::fieldwork::callback::CallbackCounts;
use crate::forms::{Answer, Answers, Form, Kind};
use serde::Serialize;

/// The recipients' question "did someone tell you how to answer?" and its answer that
/// raises the coached check. Written against ids, so any form file that has them works.
pub const COACHED_QUESTION: &str = "coached";
pub const COACHED_YES: &str = "yes";
/// The screener "were you served by the village this year?" and its answer that points to
/// a padded roster.
pub const SERVED_QUESTION: &str = "served";
pub const SERVED_NO: &str = "no";

/// A sheet straight-lines only with at least this many scored answers, all the same option
/// (fewer identical answers are common among honest respondents).
pub const STRAIGHT_LINE_MIN_ANSWERS: usize = 4;
/// Flag when at least this share (%) of a village's sheets straight-line.
pub const STRAIGHT_LINING_PERCENT: u64 = 30;
/// Flag when at least this share (%) of the sheets with a known duration took under a minute
/// (the questionnaire takes about 3 minutes to read).
pub const FAST_PERCENT: u64 = 20;
/// Flag when at least this share (%) of those asked say someone told them how to answer…
pub const COACHED_PERCENT: u64 = 10;
/// …or at least this many people do, whatever the share.
pub const COACHED_PEOPLE: u64 = 3;
/// Flag when at least this share (%) of those screened say they were not served this year…
pub const NOT_SERVED_PERCENT: u64 = 10;
/// …or at least this many people do.
pub const NOT_SERVED_PEOPLE: u64 = 3;
/// Flag when at least this share (%) of the cases released had a wrong or dead number.
pub const INVALID_NUMBERS_PERCENT: u64 = 20;
/// Flag when at least this many of the village's roster phones are in another village's.
pub const SHARED_PHONES: u64 = 1;
/// Flag when at least this many people called back said they never took part.
pub const CALLBACK_DENIED: u64 = 1;

/// One of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    StraightLining,
    Fast,
    Coached,
    NotServed,
    InvalidNumbers,
    SharedPhones,
    CallbackDenied,
}

/// What a check found in one village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Finding {
    /// Counted: `count` of `base`, and whether the flag is raised.
    Counted { count: u64, base: u64, raised: bool },
    /// Fewer than k sheets enter the check: nothing shown.
    TooFew,
    /// Enough sheets, but fewer than k of them have a known duration (imported, or stored
    /// before durations were kept): nothing shown.
    NoDurations,
    /// Fieldwork still runs: nothing from the answers is shown yet.
    Withheld,
    /// The campaign's questionnaire does not ask the question.
    NotAsked,
    /// Nothing to count (no case released, no roster, no call-back yet).
    Nothing,
}

/// A check's finding in a village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub check: Check,
    pub finding: Finding,
}

impl Flag {
    /// The flag is raised.
    pub fn raised(&self) -> bool {
        matches!(self.finding, Finding::Counted { raised: true, .. })
    }

    /// The line the commission reads, with the rule: "答题不到1分钟的占 25.0%（5/20；达到 20% 即提示）".
    pub fn line_zh(&self) -> String {
        let rule = rule_zh(self.check);
        let what = label_zh(self.check);
        match &self.finding {
            Finding::Counted { count, base, .. } => {
                let share =
                    crate::fieldwork::format_rate(Some(*count as f64 / (*base).max(1) as f64));
                match self.check {
                    Check::SharedPhones => {
                        format!("名单中有 {count} 个号码也在其他村(社区)的名单里（{rule}）")
                    }
                    Check::CallbackDenied => {
                        format!("回访 {base} 人中说没参加过调查的 {count} 人（{rule}）")
                    }
                    Check::Coached | Check::NotServed => {
                        format!("{what} {count} 人，占 {share}（{count}/{base}；{rule}）")
                    }
                    _ => format!("{what}占 {share}（{count}/{base}；{rule}）"),
                }
            }
            Finding::TooFew => format!("{what}：答卷太少，不显示"),
            Finding::NoDurations => {
                format!("{what}：多数答卷没有记录用时（电访软件导入或较早的答卷），不显示")
            }
            Finding::Withheld => format!("{what}：调查结束后显示"),
            Finding::NotAsked => format!("{what}：问卷没有这道题"),
            Finding::Nothing => format!("{what}：暂无数据"),
        }
    }
}

/// What a check counts, in plain Chinese.
pub fn label_zh(check: Check) -> &'static str {
    match check {
        Check::StraightLining => "每道评分题都选同一项的答卷",
        Check::Fast => "答题不到1分钟的",
        Check::Coached => "说“有人教过怎么答”的",
        Check::NotServed => "说“今年没在村里办过事”（记为非服务对象）的",
        Check::InvalidNumbers => "空号、错号在已发放号码中",
        Check::SharedPhones => "与其他村(社区)重复的号码",
        Check::CallbackDenied => "回访说没参加过的",
    }
}

/// A check's threshold, as printed beside it.
pub fn rule_zh(check: Check) -> String {
    match check {
        Check::StraightLining => format!(
            "至少 {STRAIGHT_LINE_MIN_ANSWERS} 道评分题都选同一项；达到 {STRAIGHT_LINING_PERCENT}% 即提示"
        ),
        Check::Fast => format!("达到 {FAST_PERCENT}% 即提示"),
        Check::Coached => format!("达到 {COACHED_PERCENT}% 或 {COACHED_PEOPLE} 人即提示"),
        Check::NotServed => {
            format!("达到 {NOT_SERVED_PERCENT}% 或 {NOT_SERVED_PEOPLE} 人即提示")
        }
        Check::InvalidNumbers => format!("达到 {INVALID_NUMBERS_PERCENT}% 即提示"),
        Check::SharedPhones => format!("有 {SHARED_PHONES} 个即提示"),
        Check::CallbackDenied => format!("有 {CALLBACK_DENIED} 人即提示"),
    }
}

/// `count` is at least `percent` % of `base` (exact integers; an empty base never is).
fn at_least(count: u64, base: u64, percent: u64) -> bool {
    base > 0 && u128::from(count) * 100 >= u128::from(percent) * u128::from(base)
}

/// A sheet gives the same option to every scored question it answered, and answered at
/// least [`STRAIGHT_LINE_MIN_ANSWERS`] of them with an option (不了解 is not an option).
/// Options are compared by their place in the question (the first, the second …), which is
/// what "tick the first box everywhere" looks like whatever the options' values.
pub fn straight_lines(form: &Form, answers: &Answers) -> bool {
    let places: Vec<usize> = form
        .scored_questions()
        .filter_map(|q| match (&q.kind, answers.get(&q.id)) {
            (Kind::Single { options, .. }, Some(Answer::Choice(v))) => {
                options.iter().position(|o| &o.value == v)
            }
            _ => None,
        })
        .collect();
    places.len() >= STRAIGHT_LINE_MIN_ANSWERS && places.windows(2).all(|w| w[0] == w[1])
}

/// What one village's checks start from.
#[derive(Debug, Clone, Default)]
pub struct VillageInput {
    /// The village's recipients' answer sheets with their duration buckets (empty while
    /// fieldwork runs).
    pub sheets: Vec<(Answers, Duration)>,
    /// Fieldwork has closed and the answers may be looked at.
    pub answers_shown: bool,
    /// Cases recorded 非服务对象 (not a service recipient), and cases that answered the
    /// screener: completes, partials and those.
    pub not_recipients: u64,
    pub screened: u64,
    /// Released cases with a wrong or dead number, and cases released.
    pub invalid_numbers: u64,
    pub released: u64,
    /// Roster phones also in another village's roster, and the roster's size.
    pub shared_phones: u64,
    pub roster: u64,
    pub callbacks: CallbackCounts,
}

/// Every check of one village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VillageQuality {
    pub flags: Vec<Flag>,
    pub callbacks: CallbackCounts,
}

impl VillageQuality {
    /// How many flags are raised.
    pub fn raised(&self) -> usize {
        self.flags.iter().filter(|f| f.raised()).count()
    }
}

/// Runs every check on one village. `k` is the scheme's small-cell threshold.
pub fn check_village(form: &Form, input: &VillageInput, k: u64) -> VillageQuality {
    let k = k.max(1);
    let sheets = &input.sheets;
    // A check from the answers: withheld during fieldwork, hidden below k sheets.
    let from_answers = |count: u64, base: u64, raised: bool| {
        if !input.answers_shown {
            Finding::Withheld
        } else if base < k {
            Finding::TooFew
        } else {
            Finding::Counted {
                count,
                base,
                raised,
            }
        }
    };
    let n = sheets.len() as u64;
    let straight = sheets
        .iter()
        .filter(|(a, _)| straight_lines(form, a))
        .count() as u64;
    let known: Vec<Duration> = sheets
        .iter()
        .map(|(_, d)| *d)
        .filter(|d| *d != Duration::Unknown)
        .collect();
    let fast = known.iter().filter(|d| **d == Duration::Under1m).count() as u64;
    let asked = |question: &str, value: &str, percent: u64, people: u64| {
        if form.question(question).is_none() {
            return Finding::NotAsked;
        }
        let answered: Vec<&str> = sheets
            .iter()
            .filter_map(|(a, _)| match a.get(question) {
                Some(Answer::Choice(v)) => Some(v.as_str()),
                _ => None,
            })
            .collect();
        let base = answered.len() as u64;
        let count = answered.iter().filter(|v| **v == value).count() as u64;
        from_answers(
            count,
            base,
            count >= people || at_least(count, base, percent),
        )
    };
    let counted = |count: u64, base: u64, raised: bool| {
        if base == 0 {
            Finding::Nothing
        } else {
            Finding::Counted {
                count,
                base,
                raised,
            }
        }
    };
    let c = input.callbacks;
    let flags = vec![
        Flag {
            check: Check::StraightLining,
            finding: from_answers(straight, n, at_least(straight, n, STRAIGHT_LINING_PERCENT)),
        },
        Flag {
            check: Check::Fast,
            finding: match from_answers(
                fast,
                known.len() as u64,
                at_least(fast, known.len() as u64, FAST_PERCENT),
            ) {
                Finding::TooFew if n >= k => Finding::NoDurations,
                f => f,
            },
        },
        Flag {
            check: Check::Coached,
            finding: asked(
                COACHED_QUESTION,
                COACHED_YES,
                COACHED_PERCENT,
                COACHED_PEOPLE,
            ),
        },
        // Who says 没办过 leaves no answers (the case is recorded 非服务对象), so this
        // counts the cases, as the invalid numbers do.
        Flag {
            check: Check::NotServed,
            finding: counted(
                input.not_recipients,
                input.screened,
                input.not_recipients >= NOT_SERVED_PEOPLE
                    || at_least(input.not_recipients, input.screened, NOT_SERVED_PERCENT),
            ),
        },
        Flag {
            check: Check::InvalidNumbers,
            finding: counted(
                input.invalid_numbers,
                input.released,
                at_least(
                    input.invalid_numbers,
                    input.released,
                    INVALID_NUMBERS_PERCENT,
                ),
            ),
        },
        Flag {
            check: Check::SharedPhones,
            finding: counted(
                input.shared_phones,
                input.roster,
                input.shared_phones >= SHARED_PHONES,
            ),
        },
        Flag {
            check: Check::CallbackDenied,
            finding: counted(c.denied, c.sampled, c.denied >= CALLBACK_DENIED),
        },
    ];
    VillageQuality {
        flags,
        callbacks: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small recipients' form: five scored questions, the coached question and the
    /// screener, whatever survey-forms/ holds.
    fn form() -> Form {
        let scored = |id: &str| {
            format!(
                "[[question]]\nid = \"{id}\"\ntype = \"single\"\ntext = \"{id}?\"\ndimension = \"service\"\nrequired = false\noptions = [{{ value = \"a\", label = \"满意\" }}, {{ value = \"b\", label = \"基本满意\" }}, {{ value = \"c\", label = \"不满意\" }}]\ndont_know = \"不了解\"\n"
            )
        };
        let yes_no = |id: &str| {
            format!(
                "[[question]]\nid = \"{id}\"\ntype = \"single\"\ntext = \"{id}?\"\nrequired = false\noptions = [{{ value = \"yes\", label = \"是\" }}, {{ value = \"no\", label = \"否\" }}]\n"
            )
        };
        let source = [
            "kind = \"questionnaire\"\nid = \"quality_test\"\nversion = \"1\"\naudience = \"recipients\"\ntitle = \"t\"\n".to_string(),
            // The screener must be first and required (forms::parse).
            yes_no(SERVED_QUESTION).replace("required = false", "required = true"),
            scored("s1"),
            scored("s2"),
            scored("s3"),
            scored("s4"),
            scored("s5"),
            yes_no(COACHED_QUESTION),
        ]
        .concat();
        crate::forms::parse_form("quality-test.toml", &source).expect("the test form parses")
    }

    /// A sheet of `pairs`, screened in (`served` = `yes`) unless the pairs say otherwise.
    fn sheet(form: &Form, pairs: &[(&str, &str)]) -> Answers {
        let mut fields: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !fields.iter().any(|(k, _)| k == SERVED_QUESTION) {
            fields.push((SERVED_QUESTION.to_string(), "yes".to_string()));
        }
        crate::forms::parse_answers(form, &fields).expect("valid answers")
    }

    fn varied(form: &Form) -> Answers {
        sheet(
            form,
            &[
                ("served", "yes"),
                ("s1", "a"),
                ("s2", "b"),
                ("s3", "a"),
                ("s4", "a"),
                ("s5", "c"),
                ("coached", "no"),
            ],
        )
    }

    fn same(form: &Form, n: usize) -> Answers {
        let mut pairs = vec![("served", "yes"), ("coached", "no")];
        for id in ["s1", "s2", "s3", "s4", "s5"].into_iter().take(n) {
            pairs.push((id, "a"));
        }
        sheet(form, &pairs)
    }

    fn with(answers: Answers, d: Duration) -> (Answers, Duration) {
        (answers, d)
    }

    fn input(sheets: Vec<(Answers, Duration)>) -> VillageInput {
        VillageInput {
            sheets,
            answers_shown: true,
            ..VillageInput::default()
        }
    }

    fn finding(q: &VillageQuality, check: Check) -> Finding {
        q.flags
            .iter()
            .find(|f| f.check == check)
            .map(|f| f.finding.clone())
            .expect("every check is reported")
    }

    fn counted(count: u64, base: u64, raised: bool) -> Finding {
        Finding::Counted {
            count,
            base,
            raised,
        }
    }

    #[test]
    fn straight_lining_needs_four_identical_scored_answers() {
        let f = form();
        assert!(straight_lines(&f, &same(&f, 5)));
        assert!(straight_lines(&f, &same(&f, 4)));
        assert!(!straight_lines(&f, &same(&f, 3)));
        assert!(!straight_lines(&f, &varied(&f)));
        // 不了解 is not an option: four "a" and a dont_know still straight-line.
        let dk = sheet(
            &f,
            &[
                ("s1", "a"),
                ("s2", "a"),
                ("s3", "a"),
                ("s4", "a"),
                ("s5", "dont_know"),
            ],
        );
        assert!(straight_lines(&f, &dk));
        // Four "b" is straight-lining too: the place counts, not "the best answer".
        let b = sheet(&f, &[("s1", "b"), ("s2", "b"), ("s3", "b"), ("s4", "b")]);
        assert!(straight_lines(&f, &b));
    }

    #[test]
    fn straight_lining_is_flagged_from_thirty_percent_of_sheets() {
        let f = form();
        // 3 of 10 = 30%: raised.
        let mut s: Vec<_> = (0..3)
            .map(|_| with(same(&f, 5), Duration::Unknown))
            .collect();
        s.extend((0..7).map(|_| with(varied(&f), Duration::Unknown)));
        let q = check_village(&f, &input(s.clone()), 5);
        assert_eq!(finding(&q, Check::StraightLining), counted(3, 10, true));
        // 3 of 11 = 27%: not raised.
        s.push(with(varied(&f), Duration::Unknown));
        let q = check_village(&f, &input(s), 5);
        assert_eq!(finding(&q, Check::StraightLining), counted(3, 11, false));
    }

    #[test]
    fn fast_answers_are_flagged_from_twenty_percent_of_known_durations() {
        let f = form();
        let mut s = vec![
            with(varied(&f), Duration::Under1m),
            with(varied(&f), Duration::From1To3m),
            with(varied(&f), Duration::From1To3m),
            with(varied(&f), Duration::From3To10m),
            with(varied(&f), Duration::Over10m),
            // Unknown durations are left out of the base.
            with(varied(&f), Duration::Unknown),
            with(varied(&f), Duration::Unknown),
        ];
        let q = check_village(&f, &input(s.clone()), 5);
        assert_eq!(finding(&q, Check::Fast), counted(1, 5, true));
        s.push(with(varied(&f), Duration::From3To10m));
        let q = check_village(&f, &input(s.clone()), 5);
        assert_eq!(finding(&q, Check::Fast), counted(1, 6, false));
        let line = q.flags[1].line_zh();
        assert_eq!(line, "答题不到1分钟的占 16.7%（1/6；达到 20% 即提示）");
        // Enough sheets, but too few with a known duration: nothing shown, and it says why.
        let unknown: Vec<_> = s
            .iter()
            .map(|(a, _)| with(a.clone(), Duration::Unknown))
            .collect();
        let q = check_village(&f, &input(unknown), 5);
        assert_eq!(finding(&q, Check::Fast), Finding::NoDurations);
        assert!(q.flags[1].line_zh().contains("没有记录用时"));
    }

    fn coached_sheets(f: &Form, yes: usize, no: usize) -> Vec<(Answers, Duration)> {
        let mut s: Vec<_> = (0..yes)
            .map(|_| with(sheet(f, &[("coached", "yes")]), Duration::Unknown))
            .collect();
        s.extend((0..no).map(|_| with(sheet(f, &[("coached", "no")]), Duration::Unknown)));
        s
    }

    #[test]
    fn coached_is_flagged_from_ten_percent_or_three_people() {
        let f = form();
        let at = |yes, no| {
            finding(
                &check_village(&f, &input(coached_sheets(&f, yes, no)), 5),
                Check::Coached,
            )
        };
        assert_eq!(at(1, 9), counted(1, 10, true)); // 10%
        assert_eq!(at(1, 10), counted(1, 11, false)); // 9.1%, 1 person
        assert_eq!(at(2, 19), counted(2, 21, false)); // 9.5%, 2 people
        assert_eq!(at(3, 40), counted(3, 43, true)); // 7%, but 3 people
        assert_eq!(at(0, 10), counted(0, 10, false));
    }

    #[test]
    fn not_served_is_flagged_from_ten_percent_or_three_people() {
        let f = form();
        let at = |no: u64, yes: u64| {
            let i = VillageInput {
                not_recipients: no,
                screened: no + yes,
                ..input(Vec::new())
            };
            finding(&check_village(&f, &i, 5), Check::NotServed)
        };
        assert_eq!(at(1, 9), counted(1, 10, true));
        assert_eq!(at(1, 10), counted(1, 11, false));
        assert_eq!(at(3, 50), counted(3, 53, true));
        assert_eq!(at(2, 30), counted(2, 32, false));
        // Cases, not answers: counted while fieldwork runs too; nothing screened, nothing.
        let running = VillageInput {
            not_recipients: 1,
            screened: 4,
            ..VillageInput::default()
        };
        assert_eq!(
            finding(&check_village(&f, &running, 5), Check::NotServed),
            counted(1, 4, true)
        );
        assert_eq!(at(0, 0), Finding::Nothing);
    }

    #[test]
    fn invalid_numbers_shared_phones_and_denied_call_backs_have_their_thresholds() {
        let f = form();
        let village = |invalid, released, shared, denied| VillageInput {
            invalid_numbers: invalid,
            released,
            shared_phones: shared,
            roster: 100,
            callbacks: CallbackCounts {
                sampled: 4,
                confirmed: 4 - denied,
                denied,
                unreachable: 0,
            },
            ..VillageInput::default()
        };
        let q = check_village(&f, &village(4, 20, 1, 1), 5);
        assert_eq!(finding(&q, Check::InvalidNumbers), counted(4, 20, true));
        assert_eq!(finding(&q, Check::SharedPhones), counted(1, 100, true));
        assert_eq!(finding(&q, Check::CallbackDenied), counted(1, 4, true));
        let q = check_village(&f, &village(3, 20, 0, 0), 5);
        assert_eq!(finding(&q, Check::InvalidNumbers), counted(3, 20, false));
        assert_eq!(finding(&q, Check::SharedPhones), counted(0, 100, false));
        assert_eq!(finding(&q, Check::CallbackDenied), counted(0, 4, false));
        assert_eq!(q.raised(), 0);
        // Nothing released, no roster, no call-back: nothing to count.
        let q = check_village(&f, &VillageInput::default(), 5);
        assert_eq!(finding(&q, Check::InvalidNumbers), Finding::Nothing);
        assert_eq!(finding(&q, Check::CallbackDenied), Finding::Nothing);
    }

    #[test]
    fn checks_from_fewer_than_k_sheets_or_during_fieldwork_show_nothing() {
        let f = form();
        let s = coached_sheets(&f, 4, 0);
        // 4 people said coached, but 4 < k = 5: hidden, not raised.
        let q = check_village(&f, &input(s.clone()), 5);
        for check in [Check::StraightLining, Check::Fast, Check::Coached] {
            assert_eq!(finding(&q, check), Finding::TooFew, "{check:?}");
        }
        assert_eq!(q.raised(), 0);
        assert!(q.flags[2].line_zh().contains("答卷太少"));
        // With k = 4 they are shown.
        let q = check_village(&f, &input(s.clone()), 4);
        assert_eq!(finding(&q, Check::Coached), counted(4, 4, true));
        // During fieldwork nothing from the answers, whatever k.
        let running = VillageInput {
            sheets: s,
            answers_shown: false,
            ..VillageInput::default()
        };
        let q = check_village(&f, &running, 1);
        assert_eq!(finding(&q, Check::Coached), Finding::Withheld);
        assert_eq!(finding(&q, Check::StraightLining), Finding::Withheld);
    }

    #[test]
    fn a_form_without_the_questions_says_so() {
        let source = "kind = \"questionnaire\"\nid = \"bare\"\nversion = \"1\"\naudience = \"recipients\"\ntitle = \"t\"\n[[question]]\nid = \"q1\"\ntype = \"text\"\ntext = \"?\"\nmax_chars = 10\n";
        let f = crate::forms::parse_form("bare.toml", source).unwrap();
        let q = check_village(&f, &input(Vec::new()), 5);
        assert_eq!(finding(&q, Check::Coached), Finding::NotAsked);
        assert_eq!(finding(&q, Check::NotServed), Finding::Nothing);
        assert!(q.flags[2].line_zh().contains("问卷没有这道题"));
    }

    /// 甲村 of docs/fieldwork.md (质量检查与回访): the lines and flags the clerk reads there.
    #[test]
    fn the_worked_example_in_the_docs_holds() {
        let line = |check, count, base| {
            Flag {
                check,
                finding: counted(count, base, false),
            }
            .line_zh()
        };
        assert!(at_least(14, 40, STRAIGHT_LINING_PERCENT));
        assert_eq!(
            line(Check::StraightLining, 14, 40),
            "每道评分题都选同一项的答卷占 35.0%（14/40；至少 4 道评分题都选同一项；达到 30% 即提示）"
        );
        assert!(!at_least(5, 36, FAST_PERCENT));
        assert_eq!(
            line(Check::Fast, 5, 36),
            "答题不到1分钟的占 13.9%（5/36；达到 20% 即提示）"
        );
        assert!(!at_least(3, 38, COACHED_PERCENT) && 3 >= COACHED_PEOPLE);
        assert!(line(Check::Coached, 3, 38).contains("3 人，占 7.9%（3/38"));
        assert!(!at_least(2, 42, NOT_SERVED_PERCENT) && 2 < NOT_SERVED_PEOPLE);
        assert!(!at_least(6, 52, INVALID_NUMBERS_PERCENT));
        assert!(line(Check::InvalidNumbers, 6, 52).contains("11.5%（6/52"));
        assert_eq!(crate::sampling::callback::callback_size(40, 10), 4);
    }

    #[test]
    fn the_lines_print_the_rule() {
        let flag = |check, count, base| Flag {
            check,
            finding: counted(count, base, true),
        };
        assert_eq!(
            flag(Check::Fast, 5, 20).line_zh(),
            "答题不到1分钟的占 25.0%（5/20；达到 20% 即提示）"
        );
        assert_eq!(
            flag(Check::Coached, 3, 30).line_zh(),
            "说“有人教过怎么答”的 3 人，占 10.0%（3/30；达到 10% 或 3 人即提示）"
        );
        assert_eq!(
            flag(Check::SharedPhones, 2, 80).line_zh(),
            "名单中有 2 个号码也在其他村(社区)的名单里（有 1 个即提示）"
        );
        assert_eq!(
            flag(Check::CallbackDenied, 1, 3).line_zh(),
            "回访 3 人中说没参加过调查的 1 人（有 1 人即提示）"
        );
    }
}
