//! Tests of the whole module: the shipped files, malformed files of each kind (with the line
//! they must name), answers, JSON and scores.

use crate::forms::*;
use std::path::PathBuf;

fn shipped_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-forms")
}

fn shipped() -> FormSet {
    match load_dir(&shipped_dir()) {
        Ok(set) => set,
        Err(errors) => panic!("shipped files fail: {errors:#?}"),
    }
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------- shipped files

#[test]
fn shipped_files_pass_the_check() {
    assert_eq!(check_dir(&shipped_dir()), Vec::<FormError>::new());
}

#[test]
fn shipped_recipients_form_screens_then_asks_a_balanced_scale_per_dimension() {
    let set = shipped();
    let form = &set.recipients;
    assert_eq!(form.audience, Audience::Recipients);
    let ids: Vec<&str> = form.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "served",
            "attitude",
            "convenience",
            "fairness",
            "promptness",
            "no_favours",
            "coached",
            "age_band",
            "comment"
        ]
    );
    // The screener comes first; every scored question is asked only of recipients.
    let served = form.question(SCREENER_QUESTION).expect("screener");
    assert!(served.required && !served.is_scored());
    let values: Vec<&str> = served.option_values().collect();
    assert_eq!(values, [SCREENER_YES, SCREENER_NO]);
    for q in form.scored_questions() {
        assert_eq!(
            q.show_if,
            Some(Condition {
                question: SCREENER_QUESTION.into(),
                any_of: vec![SCREENER_YES.into()]
            }),
            "question {}",
            q.id
        );
        let values: Vec<&str> = q.option_values().collect();
        assert_eq!(
            values,
            ["满意", "比较满意", "不太满意", "不满意"],
            "{}",
            q.id
        );
        assert!(matches!(&q.kind, Kind::Single { dont_know: Some(l), .. } if l == "说不清"));
        assert_eq!(q.text.matches('？').count(), 1, "{}", q.id);
    }
    let dims: Vec<Dimension> = form
        .scored_questions()
        .filter_map(|q| q.dimension)
        .collect();
    assert_eq!(
        dims,
        [
            Dimension::Service,
            Dimension::Service,
            Dimension::Style,
            Dimension::Style,
            Dimension::Integrity
        ]
    );
    // Unscored: coached (yes/no), the optional age band, the optional comment.
    let coached = form.question("coached").expect("coached");
    assert_eq!(coached.text, "调查前有没有人告诉您该怎么回答？");
    assert_eq!(coached.option_values().collect::<Vec<_>>(), ["yes", "no"]);
    assert!(!coached.is_scored() && coached.show_if.is_none());
    let age = form.question("age_band").expect("age band");
    assert!(!age.required && !age.is_scored());
    assert!(form.questions.iter().any(|q| q.id == "comment"
        && matches!(q.kind, Kind::Text { max_chars } if max_chars <= 500)
        && !q.required));
    // No bracket glosses in the intro or the questions.
    for text in std::iter::once(&form.intro).chain(form.questions.iter().map(|q| &q.text)) {
        assert!(
            !text.contains('（') || text.contains("村（社区）"),
            "{text}"
        );
    }
    assert!(form.intro.contains("3分钟"));
}

#[test]
fn shipped_panel_form_grades_what_deputies_can_observe_and_overall() {
    let set = shipped();
    let dims: Vec<Dimension> = set
        .panel
        .scored_questions()
        .filter_map(|q| q.dimension)
        .collect();
    assert_eq!(
        dims,
        vec![
            Dimension::Conduct,
            Dimension::Openness,
            Dimension::Reputation,
            Dimension::Petitions,
            Dimension::Overall
        ]
    );
    for q in set.panel.scored_questions() {
        let values: Vec<&str> = q.option_values().collect();
        assert_eq!(values, GRADE_LABELS, "question {}", q.id);
        assert!(matches!(&q.kind, Kind::Single { dont_know: Some(l), .. } if l == "不了解"));
    }
    let heard = set.panel.question("heard_misconduct").expect("heard");
    assert!(!heard.is_scored());
    assert_eq!(heard.option_values().collect::<Vec<_>>(), ["yes", "no"]);
    let all_text: String = set
        .panel
        .questions
        .iter()
        .map(|q| q.text.as_str())
        .collect();
    assert!(!all_text.contains("两个责任") && !all_text.contains("社会反响"));
}

#[test]
fn the_panel_quorum_is_read_and_defaults_to_five() {
    let with = parse_scheme(
        "scheme.toml",
        &SCHEME.replace("k = 5", "k = 5\npanel_min = 8"),
    );
    assert_eq!(with.map(|s| s.panel_min), Ok(8));
    assert!(!SCHEME.contains("panel_min"));
    let without = parse_scheme("scheme.toml", SCHEME).map(|s| s.panel_min);
    assert_eq!(without, Ok(crate::forms::scheme::DEFAULT_PANEL_MIN));
    assert_eq!(crate::forms::scheme::DEFAULT_PANEL_MIN, 5);
}

#[test]
fn a_scheme_naming_no_method_is_read_by_the_score_as_pinned_schemes_were() {
    let old = parse_scheme("scheme.toml", SCHEME).expect("parses");
    assert_eq!(
        (old.method, old.uncertain, old.min_respondents_share),
        (Method::Score, Uncertain::PointEstimate, None)
    );
    assert_eq!(old.min_valid(12), 10, "no share: the minimum stands");
    let rate = SCHEME.replace(
        "k = 5",
        "k = 5\nmethod = \"rate\"\nuncertain = \"confirm\"\nmin_respondents_share = 0.5",
    );
    let rate = parse_scheme("scheme.toml", &rate).expect("parses");
    assert_eq!(
        (rate.method, rate.uncertain),
        (Method::Rate, Uncertain::Confirm)
    );
    assert_eq!(rate.min_valid(12), 6);
    // Unknown words and shares out of (0, 1] are refused on their line.
    for (bad, says) in [
        (
            "method = \"mean\"",
            "method is \"mean\", must be \"rate\" or \"score\"",
        ),
        ("uncertain = \"retry\"", "uncertain is \"retry\""),
        (
            "min_respondents_share = 1.5",
            "min_respondents_share is 1.5",
        ),
        ("min_respondents_share = 0", "min_respondents_share is 0"),
    ] {
        let errors = parse_scheme(
            "scheme.toml",
            &SCHEME.replace("k = 5", &format!("k = 5\n{bad}")),
        )
        .expect_err(bad);
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains(says) && e.line == Some(6)),
            "{bad}: {errors:#?}"
        );
    }
}

#[test]
fn a_scheme_lists_only_dimensions_its_form_scores() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["recipients.toml", "panel.toml"] {
        std::fs::copy(shipped_dir().join(f), dir.path().join(f)).unwrap();
    }
    let scheme = std::fs::read_to_string(shipped_dir().join("scheme.toml"))
        .unwrap()
        .replace(
            r#"dimensions = ["service", "style", "integrity"]"#,
            r#"dimensions = ["service", "overall"]"#,
        );
    std::fs::write(dir.path().join("scheme.toml"), scheme).unwrap();
    let errors = load_dir(dir.path()).expect_err("overall is not scored by the new form");
    assert!(
        errors.iter().any(|e| e
            .message
            .contains("no scored question of recipients.toml has dimension \"overall\"")),
        "{errors:#?}"
    );
}

#[test]
fn shipped_panel_form_asks_the_relation_with_stable_keys() {
    let set = shipped();
    let q = set
        .panel
        .question(RELATION_QUESTION)
        .expect("relation question");
    let values: Vec<&str> = q.option_values().collect();
    assert_eq!(values, ["resident", "official", "liaison", "unfamiliar"]);
    let labels: Vec<&str> = match &q.kind {
        Kind::Single {
            options,
            dont_know: None,
        } => options.iter().map(|c| c.label.as_str()).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(labels, ["本村居民", "在本村任职", "联系该村", "不熟悉"]);
    assert!(q.required && !q.is_scored());
    let recusing: Vec<&str> = Relation::ALL
        .iter()
        .filter(|r| r.recuses())
        .map(|r| r.key())
        .collect();
    assert_eq!(recusing, ["resident", "official"]);
    let a = parse_answers(
        &set.panel,
        &fields(&[
            ("relation", "official"),
            ("conduct", "好"),
            ("openness", "好"),
            ("reputation", "好"),
            ("petitions", "好"),
            ("heard_misconduct", "no"),
            ("overall", "好"),
        ]),
    )
    .expect("valid");
    assert_eq!(a.relation(), Some(Relation::Official));
}

#[test]
fn a_panel_relation_question_that_would_not_recuse_is_refused() {
    let relation = |options: &str, extra: &str| {
        format!(
            "{PANEL}\n[[question]]\nid = \"relation\"\ntype = \"single\"\ntext = \"关系\"\nrequired = true\n{extra}options = [{options}]\n"
        )
    };
    let good = r#"{ value = "resident", label = "本村居民" }, { value = "official", label = "在本村任职" }, "liaison""#;
    assert!(parse_form("panel.toml", &relation(good, "")).is_ok());
    for (case, source) in [
        (
            "labels as values",
            relation(r#""本村居民", "在本村任职""#, ""),
        ),
        ("official missing", relation(r#""resident", "liaison""#, "")),
        (
            "unknown key",
            relation(r#""resident", "official", "neighbour""#, ""),
        ),
        (
            "optional",
            relation(good, "").replace(
                "required = true\noptions = [{",
                "required = false\noptions = [{",
            ),
        ),
    ] {
        let errors = parse_form("panel.toml", &source).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("relation question must be")),
            "case {case}: {errors:#?}"
        );
    }
    // A recipients' questionnaire may use the id for anything.
    let recipients =
        relation(r#""a", "b""#, "").replace("audience = \"panel\"", "audience = \"recipients\"");
    assert!(parse_form("recipients.toml", &recipients).is_ok());
}

#[test]
fn a_recipients_screener_that_is_not_first_yes_no_and_required_is_refused() {
    let head = "kind = \"questionnaire\"\nid = \"r\"\nversion = \"1\"\naudience = \"recipients\"\ntitle = \"t\"\n";
    let screener = |extra: &str, options: &str| {
        format!(
            "[[question]]\nid = \"served\"\ntype = \"single\"\ntext = \"今年办过事吗？\"\n{extra}options = [{options}]\n"
        )
    };
    let other = "[[question]]\nid = \"q\"\ntype = \"single\"\ntext = \"满意吗？\"\noptions = [\"a\", \"b\"]\nshow_if = { question = \"served\", any_of = [\"yes\"] }\n";
    let yes_no = r#"{ value = "yes", label = "办过" }, { value = "no", label = "没办过" }"#;
    let good = format!("{head}{}{other}", screener("required = true\n", yes_no));
    assert!(
        parse_form("r.toml", &good).is_ok(),
        "{:?}",
        parse_form("r.toml", &good)
    );
    let not_first = format!(
        "{head}[[question]]\nid = \"z\"\ntype = \"text\"\ntext = \"z\"\nmax_chars = 9\n{}",
        screener("required = true\n", yes_no)
    );
    for (case, source) in [
        ("optional", format!("{head}{}", screener("", yes_no))),
        (
            "labels as values",
            format!(
                "{head}{}",
                screener("required = true\n", r#""办过", "没办过""#)
            ),
        ),
        (
            "no before yes",
            format!("{head}{}", screener("required = true\n", r#""no", "yes""#)),
        ),
        (
            "with dont_know",
            format!(
                "{head}{}",
                screener("required = true\ndont_know = \"说不清\"\n", yes_no)
            ),
        ),
        ("not first", not_first),
    ] {
        let errors = parse_form("r.toml", &source).err().unwrap_or_default();
        assert!(
            errors.iter().any(|e| e
                .message
                .contains("the screener must be the first question")),
            "case {case}: {errors:#?}"
        );
    }
    // A panel questionnaire may use the id for anything.
    let panel = format!("{head}{}", screener("", r#""a""#))
        .replace("audience = \"recipients\"", "audience = \"panel\"");
    assert!(parse_form("p.toml", &panel).is_ok());
}

#[test]
fn shipped_scheme_holds_the_documented_numbers() {
    let s = shipped().scheme;
    assert_eq!((s.weight_recipients, s.weight_panel), (0.7, 0.3));
    assert_eq!((s.min_respondents, s.k, s.panel_min), (30, 5, 5));
    assert_eq!((s.method, s.uncertain), (Method::Rate, Uncertain::Confirm));
    assert_eq!(s.min_respondents_share, Some(0.5));
    let grades: Vec<(&str, f64)> = s.thresholds.iter().map(|(l, m)| (l.as_str(), *m)).collect();
    assert_eq!(
        grades,
        vec![("好", 90.0), ("较好", 80.0), ("一般", 60.0), ("差", 0.0)]
    );
    // 服务, 作风, 廉洁 one third each.
    let recipients = shipped().recipients;
    let dims = s
        .scoring("recipients")
        .unwrap()
        .rate_dimensions(&recipients);
    assert_eq!(
        dims,
        [Dimension::Service, Dimension::Style, Dimension::Integrity]
    );
    // 30 respondents, or half of a small village's roster (rounded up, at least k).
    for (frame, min) in [
        (1000, 30),
        (60, 30),
        (59, 30),
        (58, 29),
        (45, 23),
        (9, 5),
        (4, 5),
    ] {
        assert_eq!(s.min_valid(frame), min, "N = {frame}");
    }
    for (score, grade) in [
        (100.0, "好"),
        (90.0, "好"),
        (89.99, "较好"),
        (80.0, "较好"),
        (79.99, "一般"),
        (60.0, "一般"),
        (59.9, "差"),
        (0.0, "差"),
    ] {
        assert_eq!(s.grade(score), Some(grade), "score {score}");
    }
    assert_eq!(s.grade(f64::NAN), None);
}

#[test]
fn the_hash_is_of_the_exact_bytes() {
    let text = std::fs::read_to_string(shipped_dir().join("recipients.toml")).unwrap_or_default();
    let form = shipped().recipients;
    assert_eq!(form.source, text);
    assert_eq!(form.sha256, crate::forms::raw::sha256_hex(text.as_bytes()));
    assert_eq!(form.sha256.len(), 64);
    // One byte more (a trailing newline) is another file.
    let other = parse_form("recipients.toml", &format!("{text}\n"))
        .map(|f| f.sha256)
        .unwrap_or_default();
    assert_ne!(other, form.sha256);
}

#[test]
fn a_byte_order_mark_is_accepted_and_hashed() {
    let text = std::fs::read_to_string(shipped_dir().join("scheme.toml")).unwrap_or_default();
    let with_bom = format!("\u{feff}{text}");
    let scheme = parse_scheme("scheme.toml", &with_bom).expect("BOM accepted");
    assert_eq!(scheme.source, with_bom);
    assert_ne!(scheme.sha256, shipped().scheme.sha256);
}

// ---------------------------------------------------------------- malformed files

const FORM: &str = r#"kind = "questionnaire"
id = "recipients"
version = "1"
audience = "recipients"
title = "调查"

[[question]]
id = "q1"
type = "single"
dimension = "service"
text = "态度满意吗？"
required = true
options = ["满意", "比较满意", "一般", "不满意"]
dont_know = "不了解"

[[question]]
id = "q2"
type = "multiple"
text = "哪些问题？"
show_if = { question = "q1", any_of = ["一般", "不满意"] }
options = ["a", "b", "c"]
max_choices = 2

[[question]]
id = "q3"
type = "text"
text = "意见"
max_chars = 10
"#;

/// `FORM` with the first occurrence of `from` replaced by `to` (which must occur).
fn form_with(from: &str, to: &str) -> String {
    assert!(FORM.contains(from), "{from:?} not in FORM");
    FORM.replacen(from, to, 1)
}

const SCHEME: &str = r#"kind = "scheme"
id = "item16"
version = "1"
min_respondents = 10
k = 5

[weights]
recipients = 0.7
panel = 0.3

[[grade]]
label = "好"
min = 90

[[grade]]
label = "较好"
min = 75

[[grade]]
label = "一般"
min = 60

[[grade]]
label = "差"
min = 0

[forms.recipients]
scores = { "满意" = 100, "比较满意" = 80, "一般" = 60, "不满意" = 0 }
satisfied = ["满意", "比较满意"]

[forms.panel]
scores = { "好" = 100, "较好" = 80, "一般" = 60, "差" = 0 }
satisfied = ["好", "较好"]
"#;

fn scheme_with(from: &str, to: &str) -> String {
    assert!(SCHEME.contains(from), "{from:?} not in SCHEME");
    SCHEME.replacen(from, to, 1)
}

fn form() -> Form {
    parse_form("recipients.toml", FORM).expect("FORM parses")
}

fn scheme() -> Scheme {
    parse_scheme("scheme.toml", SCHEME).expect("SCHEME parses")
}

fn assert_one_error(errors: &[FormError], line: Option<usize>, needle: &str, case: &str) {
    assert!(
        errors
            .iter()
            .any(|e| e.line == line && e.message.contains(needle)),
        "case {case}: expected an error at line {line:?} containing {needle:?}, got {errors:#?}"
    );
}

#[test]
fn the_test_fixtures_are_valid() {
    let f = form();
    assert_eq!(f.questions.len(), 3);
    let s = scheme();
    assert_eq!(s.thresholds.len(), 4);
}

#[test]
fn malformed_questionnaires_name_the_problem_and_its_line() {
    let cases: Vec<(&str, String, Option<usize>, &str)> = vec![
        (
            "syntax error",
            form_with("title = \"调查\"", "title = \"调查"),
            Some(5),
            "",
        ),
        (
            "unknown key",
            form_with("required = true", "requried = true"),
            Some(12),
            "unknown field `requried`",
        ),
        (
            "unknown top-level key",
            form_with("title = ", "titel = \"x\"\ntitle = "),
            Some(5),
            "unknown field `titel`",
        ),
        (
            "missing id",
            form_with("id = \"recipients\"\n", ""),
            None,
            "missing field `id`",
        ),
        (
            "missing title",
            form_with("title = \"调查\"\n", ""),
            None,
            "missing field `title`",
        ),
        (
            "empty title",
            form_with("title = \"调查\"", "title = \"  \""),
            Some(5),
            "title is empty",
        ),
        (
            "bad form id",
            form_with("id = \"recipients\"", "id = \"Recipients\""),
            Some(2),
            "id \"Recipients\"",
        ),
        (
            "bad version",
            form_with("version = \"1\"", "version = \"一\""),
            Some(3),
            "version",
        ),
        (
            "bad audience",
            form_with("audience = \"recipients\"", "audience = \"public\""),
            Some(4),
            "audience is \"public\"",
        ),
        (
            "wrong kind",
            form_with("kind = \"questionnaire\"", "kind = \"scheme\""),
            Some(1),
            "kind is \"scheme\"",
        ),
        (
            "duplicate question id",
            form_with("id = \"q2\"", "id = \"q1\""),
            Some(17),
            "question id \"q1\" appears twice (first at line 8)",
        ),
        (
            "question id syntax",
            form_with("id = \"q3\"", "id = \"Q-3\""),
            Some(25),
            "question id \"Q-3\"",
        ),
        (
            "duplicate option",
            form_with("\"比较满意\", \"一般\"", "\"比较满意\", \"满意\""),
            Some(13),
            "question q1: option value \"满意\" appears twice",
        ),
        (
            "empty options",
            form_with("options = [\"a\", \"b\", \"c\"]", "options = []"),
            Some(21),
            "question q2: options is empty",
        ),
        (
            "no options",
            form_with("options = [\"a\", \"b\", \"c\"]\n", ""),
            Some(18),
            "needs options",
        ),
        (
            "reserved dont_know",
            form_with("\"a\", \"b\"", "\"a\", \"dont_know\""),
            Some(21),
            "\"dont_know\" is reserved",
        ),
        (
            "empty option",
            form_with("\"a\", \"b\"", "\"a\", \" \""),
            Some(21),
            "option value is empty",
        ),
        (
            "unknown type",
            form_with("type = \"multiple\"", "type = \"checkbox\""),
            Some(18),
            "type is \"checkbox\"",
        ),
        (
            "unknown dimension",
            form_with("dimension = \"service\"", "dimension = \"services\""),
            Some(10),
            "dimension \"services\" is unknown",
        ),
        (
            "dimension on text",
            form_with(
                "type = \"text\"",
                "type = \"text\"\ndimension = \"overall\"",
            ),
            Some(27),
            "has no dimension",
        ),
        (
            "max_chars zero",
            form_with("max_chars = 10", "max_chars = 0"),
            Some(28),
            "max_chars is 0, must be between 1 and 2000",
        ),
        (
            "max_chars too big",
            form_with("max_chars = 10", "max_chars = 2001"),
            Some(28),
            "max_chars is 2001",
        ),
        (
            "text without max_chars",
            form_with("max_chars = 10\n", ""),
            Some(26),
            "needs max_chars",
        ),
        (
            "max_chars on single",
            form_with("required = true", "required = true\nmax_chars = 5"),
            Some(13),
            "`max_chars` is not allowed on a single question",
        ),
        (
            "options on text",
            form_with("max_chars = 10", "max_chars = 10\noptions = [\"x\"]"),
            Some(29),
            "`options` is not allowed on a text question",
        ),
        (
            "max_choices above options",
            form_with("max_choices = 2", "max_choices = 4"),
            Some(22),
            "max_choices is 4, must be between 1 and the number of options (3)",
        ),
        (
            "max_choices zero",
            form_with("max_choices = 2", "max_choices = 0"),
            Some(22),
            "max_choices is 0",
        ),
        (
            "dont_know on multiple",
            form_with("max_choices = 2", "max_choices = 2\ndont_know = \"不知道\""),
            Some(23),
            "`dont_know` is not allowed on a multiple question",
        ),
        (
            "show_if to a later question",
            form_with("question = \"q1\"", "question = \"q3\""),
            Some(20),
            "show_if names \"q3\", which is a later question (line 25)",
        ),
        (
            "show_if to itself",
            form_with("question = \"q1\"", "question = \"q2\""),
            Some(20),
            "which is itself",
        ),
        (
            "show_if to unknown question",
            form_with("question = \"q1\"", "question = \"q9\""),
            Some(20),
            "show_if names unknown question \"q9\"",
        ),
        (
            "show_if value not an option",
            form_with("\"不满意\"] }", "\"很差\"] }"),
            Some(20),
            "show_if value \"很差\" is not an option of question q1",
        ),
        (
            "show_if empty",
            form_with("any_of = [\"一般\", \"不满意\"]", "any_of = []"),
            Some(20),
            "show_if.any_of is empty",
        ),
        (
            "type of a number",
            form_with("max_choices = 2", "max_choices = \"2\""),
            Some(22),
            "invalid type",
        ),
        (
            "option table with unknown key",
            form_with("\"a\", \"b\"", "\"a\", { value = \"b\", lable = \"B\" }"),
            Some(21),
            "unknown field `lable`",
        ),
    ];
    for (case, source, line, needle) in cases {
        match parse_form("recipients.toml", &source) {
            Ok(_) => panic!("case {case}: accepted"),
            Err(errors) => {
                assert!(
                    errors.iter().all(|e| e.file == "recipients.toml"),
                    "case {case}"
                );
                assert_one_error(&errors, line, needle, case);
            }
        }
    }
}

#[test]
fn a_show_if_to_a_text_question_is_refused() {
    let source = format!(
        "{FORM}\n[[question]]\nid = \"q4\"\ntype = \"text\"\ntext = \"补充\"\nmax_chars = 5\nshow_if = {{ question = \"q3\", any_of = [\"x\"] }}\n"
    );
    let errors = parse_form("recipients.toml", &source)
        .err()
        .unwrap_or_default();
    assert_one_error(
        &errors,
        Some(35),
        "\"q3\", a text question",
        "show_if to text",
    );
}

#[test]
fn every_independent_problem_of_a_file_is_reported_at_once() {
    let source =
        form_with("id = \"q2\"", "id = \"q1\"").replacen("max_chars = 10", "max_chars = 0", 1);
    let errors = parse_form("recipients.toml", &source)
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0].line, Some(17));
    assert_eq!(errors[1].line, Some(28));
    assert!(
        errors[1]
            .to_string()
            .starts_with("recipients.toml:28: question q3: max_chars is 0")
    );
}

#[test]
fn an_unquoted_chinese_key_gets_a_hint() {
    let source = scheme_with("\"满意\" = 100", "满意 = 100");
    let errors = parse_scheme("scheme.toml", &source)
        .err()
        .unwrap_or_default();
    assert_one_error(&errors, Some(28), "need double quotes", "unquoted key");
}

#[test]
fn no_prefix_of_a_shipped_file_makes_the_parsers_panic() {
    for name in ["recipients.toml", "panel.toml", "scheme.toml"] {
        let text = std::fs::read_to_string(shipped_dir().join(name)).unwrap_or_default();
        assert!(!text.is_empty(), "{name}");
        for (cut, _) in text.char_indices().step_by(3) {
            let prefix = &text[..cut];
            let _ = parse_form(name, prefix);
            let _ = parse_scheme(name, prefix);
            let _ = load_files("dir", &[(name.to_owned(), prefix.to_owned())]);
        }
    }
}

#[test]
fn options_may_carry_separate_labels() {
    let f = parse_form(
        "x.toml",
        &form_with("\"a\", \"b\"", "{ value = \"a\", label = \"甲\" }, \"b\""),
    )
    .expect("parses");
    let Kind::Multiple { options, .. } = &f.question("q2").expect("q2").kind else {
        panic!("q2 is multiple")
    };
    assert_eq!(
        (options[0].value.as_str(), options[0].label.as_str()),
        ("a", "甲")
    );
    assert_eq!(
        (options[1].value.as_str(), options[1].label.as_str()),
        ("b", "b")
    );
}

#[test]
fn malformed_schemes_name_the_problem_and_its_line() {
    let cases: Vec<(&str, String, Option<usize>, &str)> = vec![
        ("syntax error", scheme_with("k = 5", "k = "), Some(5), ""),
        (
            "unknown key",
            scheme_with("k = 5", "k = 5\nsmall_cell = 3"),
            Some(6),
            "unknown field `small_cell`",
        ),
        (
            "missing version",
            scheme_with("version = \"1\"\n", ""),
            None,
            "missing field `version`",
        ),
        (
            "weights not summing to 1",
            scheme_with("panel = 0.3", "panel = 0.2"),
            Some(8),
            "weights.recipients + weights.panel = 0.9",
        ),
        (
            "weight out of range",
            scheme_with("recipients = 0.7", "recipients = 1.7"),
            Some(8),
            "weights.recipients is 1.7",
        ),
        (
            "weights: unknown audience",
            scheme_with("panel = 0.3", "panel = 0.3\npublic = 0"),
            Some(10),
            "unknown field `public`",
        ),
        (
            "thresholds not descending",
            scheme_with("min = 75", "min = 95"),
            Some(17),
            "grade 较好: min 95 is not below the previous grade's min 90",
        ),
        (
            "thresholds equal",
            scheme_with("min = 60", "min = 75"),
            Some(21),
            "min 75 is not below",
        ),
        (
            "threshold above 100",
            scheme_with("min = 90", "min = 101"),
            Some(13),
            "grade 好: min is 101",
        ),
        (
            "last threshold not 0",
            scheme_with("min = 0", "min = 10"),
            Some(25),
            "the last grade's min is 10",
        ),
        (
            "grade labels",
            scheme_with("label = \"较好\"", "label = \"良\""),
            Some(11),
            "labels are [好, 良, 一般, 差]",
        ),
        ("k zero", scheme_with("k = 5", "k = 0"), Some(5), "k is 0"),
        (
            "panel_min zero",
            scheme_with("k = 5", "k = 5\npanel_min = 0"),
            Some(6),
            "panel_min is 0, must be a whole number of at least 1",
        ),
        (
            "min_respondents below k",
            scheme_with("min_respondents = 10", "min_respondents = 4"),
            Some(4),
            "min_respondents is 4, must be at least k (5)",
        ),
        (
            "min_respondents negative",
            scheme_with("min_respondents = 10", "min_respondents = -1"),
            Some(4),
            "min_respondents is -1",
        ),
        (
            "score out of range",
            scheme_with("\"满意\" = 100", "\"满意\" = 120"),
            Some(28),
            "\"满意\" = 120",
        ),
        (
            "dont_know scored",
            scheme_with("\"不满意\" = 0 }", "\"不满意\" = 0, \"dont_know\" = 50 }"),
            Some(28),
            "\"dont_know\" never scores",
        ),
        (
            "satisfied without a score",
            scheme_with(
                "satisfied = [\"满意\", \"比较满意\"]",
                "satisfied = [\"满意\", \"很满意\"]",
            ),
            Some(29),
            "\"很满意\" has no score",
        ),
        (
            "satisfied empty",
            scheme_with("satisfied = [\"满意\", \"比较满意\"]", "satisfied = []"),
            Some(29),
            "forms.recipients.satisfied is empty",
        ),
        (
            "wrong kind",
            scheme_with("kind = \"scheme\"", "kind = \"questionnaire\""),
            Some(1),
            "kind is \"questionnaire\", expected \"scheme\"",
        ),
    ];
    for (case, source, line, needle) in cases {
        match parse_scheme("scheme.toml", &source) {
            Ok(_) => panic!("case {case}: accepted"),
            Err(errors) => assert_one_error(&errors, line, needle, case),
        }
    }
}

// ---------------------------------------------------------------- the directory

const PANEL: &str = r#"kind = "questionnaire"
id = "panel"
version = "1"
audience = "panel"
title = "评价"

[[question]]
id = "area1"
type = "single"
dimension = "area1"
text = "一"
required = true
options = ["好", "较好", "一般", "差"]
dont_know = "不了解"
"#;

fn files(recipients: &str, panel: &str, scheme: &str) -> Vec<(String, String)> {
    vec![
        ("panel.toml".to_owned(), panel.to_owned()),
        ("recipients.toml".to_owned(), recipients.to_owned()),
        ("scheme.toml".to_owned(), scheme.to_owned()),
    ]
}

#[test]
fn the_fixture_directory_loads() {
    let set = load_files("dir", &files(FORM, PANEL, SCHEME)).expect("loads");
    assert_eq!(
        (set.recipients.id.as_str(), set.panel.id.as_str()),
        ("recipients", "panel")
    );
}

#[test]
fn the_scheme_is_cross_checked_against_the_questionnaires() {
    /// (case, files, file blamed, line, message excerpt)
    type Case<'a> = (
        &'a str,
        Vec<(String, String)>,
        &'a str,
        Option<usize>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "missing score for an option",
            files(
                FORM,
                PANEL,
                &scheme_with("\"一般\" = 60, \"不满意\" = 0", "\"一般\" = 60"),
            ),
            "scheme.toml",
            Some(27),
            "forms.recipients.scores: no score for option \"不满意\" of scored question(s) q1 (recipients.toml line 7)",
        ),
        (
            "a score for no option",
            files(
                &FORM
                    .replace("\"一般\", \"不满意\"]\ndont", "\"一般\", \"差评\"]\ndont")
                    .replace("\"一般\", \"不满意\"] }", "\"一般\"] }"),
                PANEL,
                SCHEME,
            ),
            "scheme.toml",
            Some(28),
            "\"不满意\" is not an option of any scored question in recipients.toml",
        ),
        (
            "no table for a questionnaire",
            files(FORM, PANEL, &scheme_with("[forms.panel]", "[forms.panels]")),
            "scheme.toml",
            None,
            "no [forms.panel] table for questionnaire panel (panel.toml)",
        ),
        (
            "a table for no questionnaire",
            files(FORM, PANEL, &scheme_with("[forms.panel]", "[forms.panels]")),
            "scheme.toml",
            Some(31),
            "[forms.panels] names no questionnaire in this directory",
        ),
        (
            "a questionnaire without scored questions",
            files(FORM, &PANEL.replace("dimension = \"area1\"\n", ""), SCHEME),
            "panel.toml",
            None,
            "questionnaire panel has no scored question",
        ),
        (
            "two recipients questionnaires",
            files(
                FORM,
                &PANEL.replace("audience = \"panel\"", "audience = \"recipients\""),
                SCHEME,
            ),
            "dir",
            None,
            "more than one questionnaire with audience = \"recipients\": panel.toml, recipients.toml",
        ),
        (
            "no scheme",
            files(
                FORM,
                PANEL,
                &PANEL.replace("id = \"panel\"", "id = \"panel2\""),
            ),
            "dir",
            None,
            "no scheme (kind = \"scheme\")",
        ),
        (
            "a file of no kind",
            files(
                FORM,
                PANEL,
                &scheme_with("kind = \"scheme\"", "kind = \"schema\""),
            ),
            "scheme.toml",
            Some(1),
            "kind = \"questionnaire\" or kind = \"scheme\"",
        ),
        (
            "a syntax error in one file",
            files(FORM, PANEL, &scheme_with("k = 5", "k = = 5")),
            "scheme.toml",
            Some(5),
            "",
        ),
    ];
    for (case, set, file, line, needle) in cases {
        let errors = load_files("dir", &set).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.file == file && e.line == line && e.message.contains(needle)),
            "case {case}: expected {file}:{line:?} containing {needle:?}, got {errors:#?}"
        );
    }
}

#[test]
fn check_dir_reports_an_unreadable_directory() {
    let errors = check_dir(&shipped_dir().join("no-such-dir"));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.starts_with("cannot read directory"));
}

// ---------------------------------------------------------------- answers

#[test]
fn answers_are_checked_question_by_question() {
    let f = form();
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Result<Vec<(&'a str, Answer)>, Vec<(&'a str, &'a str)>>,
    );
    let cases: Vec<Case> = vec![
        (
            "valid, condition not met",
            vec![("q1", "满意"), ("q3", " 很好\r\n ")],
            Ok(vec![
                ("q1", Answer::Choice("满意".into())),
                ("q3", Answer::Text("很好".into())),
            ]),
        ),
        (
            "missing required",
            vec![("q3", "x")],
            Err(vec![("q1", "请回答这一题")]),
        ),
        (
            "empty value is no answer",
            vec![("q1", "")],
            Err(vec![("q1", "请回答这一题")]),
        ),
        (
            "invalid option",
            vec![("q1", "很满意")],
            Err(vec![("q1", "所选的答案无效，请重新选择")]),
        ),
        (
            "two values for a single choice",
            vec![("q1", "满意"), ("q1", "一般")],
            Err(vec![("q1", "这一题只能选一项")]),
        ),
        (
            "the same value twice is one",
            vec![("q1", "满意"), ("q1", "满意")],
            Ok(vec![("q1", Answer::Choice("满意".into()))]),
        ),
        (
            "dont_know where offered",
            vec![("q1", "dont_know")],
            Ok(vec![("q1", Answer::DontKnow)]),
        ),
        (
            "hidden question dropped though sent",
            vec![("q1", "满意"), ("q2", "a")],
            Ok(vec![("q1", Answer::Choice("满意".into()))]),
        ),
        (
            "hidden question dropped though invalid",
            vec![("q1", "dont_know"), ("q2", "zzz")],
            Ok(vec![("q1", Answer::DontKnow)]),
        ),
        (
            "shown question kept, in option order",
            vec![("q1", "一般"), ("q2", "c"), ("q2", "a")],
            Ok(vec![
                ("q1", Answer::Choice("一般".into())),
                ("q2", Answer::Choices(vec!["a".into(), "c".into()])),
            ]),
        ),
        (
            "shown optional question may stay empty",
            vec![("q1", "一般")],
            Ok(vec![("q1", Answer::Choice("一般".into()))]),
        ),
        (
            "too many choices",
            vec![("q1", "不满意"), ("q2", "a"), ("q2", "b"), ("q2", "c")],
            Err(vec![("q2", "这一题最多只能选2项")]),
        ),
        (
            "a repeated choice counts once",
            vec![("q1", "不满意"), ("q2", "a"), ("q2", "a"), ("q2", "b")],
            Ok(vec![
                ("q1", Answer::Choice("不满意".into())),
                ("q2", Answer::Choices(vec!["a".into(), "b".into()])),
            ]),
        ),
        (
            "multiple with an invalid value",
            vec![("q1", "不满意"), ("q2", "a"), ("q2", "x")],
            Err(vec![("q2", "所选的答案无效，请重新选择")]),
        ),
        (
            "dont_know not offered on multiple",
            vec![("q1", "不满意"), ("q2", "dont_know")],
            Err(vec![("q2", "所选的答案无效，请重新选择")]),
        ),
        (
            "text too long",
            vec![("q1", "满意"), ("q3", "一二三四五六七八九十十")],
            Err(vec![("q3", "最多只能写10个字，您写了11个字，请删短一些")]),
        ),
        (
            "text exactly at the limit",
            vec![("q1", "满意"), ("q3", "一二三四五六七八九十")],
            Ok(vec![
                ("q1", Answer::Choice("满意".into())),
                ("q3", Answer::Text("一二三四五六七八九十".into())),
            ]),
        ),
        (
            "control characters removed before counting",
            vec![("q1", "满意"), ("q3", "a\u{0}b\tc\u{202E}\nd\u{7}")],
            Ok(vec![
                ("q1", Answer::Choice("满意".into())),
                ("q3", Answer::Text("abc\nd".into())),
            ]),
        ),
        (
            "blank text is no answer",
            vec![("q1", "满意"), ("q3", " \t\r\n ")],
            Ok(vec![("q1", Answer::Choice("满意".into()))]),
        ),
        (
            "unknown fields ignored, not stored",
            vec![("q1", "满意"), ("csrf", "t"), ("q9", "x")],
            Ok(vec![("q1", Answer::Choice("满意".into()))]),
        ),
        (
            "several problems at once",
            vec![("q3", "一二三四五六七八九十十")],
            Err(vec![
                ("q1", "请回答这一题"),
                ("q3", "最多只能写10个字，您写了11个字，请删短一些"),
            ]),
        ),
    ];
    for (case, sent, expected) in cases {
        let got = parse_answers(&f, &fields(&sent));
        match (got, expected) {
            (Ok(answers), Ok(want)) => {
                let got: Vec<(&str, &Answer)> = answers.iter().collect();
                let want: Vec<(&str, &Answer)> = want.iter().map(|(k, v)| (*k, v)).collect();
                assert_eq!(got, want, "case {case}");
                assert_eq!(answers.answered_count(), want.len(), "case {case}");
            }
            (Err(errors), Err(want)) => {
                let got = errors.messages_zh();
                let got: Vec<(&str, &str)> =
                    got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                assert_eq!(got, want, "case {case}");
            }
            (got, want) => panic!("case {case}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn dont_know_is_refused_where_not_offered() {
    let f = parse_form("x.toml", &form_with("dont_know = \"不了解\"\n", "")).expect("parses");
    let errors = parse_answers(&f, &fields(&[("q1", "dont_know")]))
        .err()
        .unwrap_or_default();
    assert_eq!(
        errors.problems().get("q1"),
        Some(&AnswerProblem::NotAnOption {
            value: "dont_know".into()
        })
    );
}

#[test]
fn a_required_conditional_question_is_required_only_when_shown() {
    let f = parse_form(
        "x.toml",
        &form_with("show_if = ", "required = true\nshow_if = "),
    )
    .expect("parses");
    assert!(parse_answers(&f, &fields(&[("q1", "满意")])).is_ok());
    let errors = parse_answers(&f, &fields(&[("q1", "不满意")]))
        .err()
        .unwrap_or_default();
    assert_eq!(errors.message_zh("q2").as_deref(), Some("请回答这一题"));
    assert_eq!(
        errors.to_string(),
        "1 invalid answer(s): q2: required question not answered"
    );
}

#[test]
fn hiding_cascades_down_a_chain_of_conditions() {
    let source = format!(
        "{FORM}\n[[question]]\nid = \"q4\"\ntype = \"single\"\ntext = \"追问\"\nrequired = true\noptions = [\"是\", \"否\"]\nshow_if = {{ question = \"q2\", any_of = [\"a\"] }}\n"
    );
    let f = parse_form("x.toml", &source).expect("parses");
    // q1 satisfied → q2 hidden → q4 hidden, though q2 = a was sent.
    let a = parse_answers(&f, &fields(&[("q1", "满意"), ("q2", "a")])).expect("valid");
    assert_eq!(a.answered_count(), 1);
    // q1 一般, q2 = a → q4 shown and required.
    let e = parse_answers(&f, &fields(&[("q1", "一般"), ("q2", "a")]))
        .err()
        .unwrap_or_default();
    assert_eq!(e.message_zh("q4").as_deref(), Some("请回答这一题"));
}

#[test]
fn english_messages_for_logs_cap_client_values() {
    let f = form();
    let junk = "x".repeat(500);
    let errors = parse_answers(&f, &fields(&[("q1", &junk)]))
        .err()
        .unwrap_or_default();
    let line = errors.to_string();
    assert!(
        line.starts_with("1 invalid answer(s): q1: \"xxxx"),
        "{line}"
    );
    assert!(line.len() < 120, "{line}");
}

// ---------------------------------------------------------------- JSON

#[test]
fn answers_round_trip_through_compact_json() {
    let f = form();
    let answers = parse_answers(
        &f,
        &fields(&[
            ("q1", "一般"),
            ("q2", "b"),
            ("q2", "a"),
            ("q3", "路灯\n坏了"),
        ]),
    )
    .expect("valid");
    let json = answers.to_json();
    assert_eq!(json, r#"{"q1":"一般","q2":["a","b"],"q3":"路灯\n坏了"}"#);
    assert_eq!(Answers::from_json(&f, &json), Ok(answers));

    let dk = parse_answers(&f, &fields(&[("q1", "dont_know")])).expect("valid");
    assert_eq!(dk.to_json(), r#"{"q1":"dont_know"}"#);
    assert_eq!(Answers::from_json(&f, &dk.to_json()), Ok(dk));
    assert_eq!(Answers::default().to_json(), "{}");
}

#[test]
fn json_that_does_not_fit_the_form_is_refused() {
    let f = form();
    for json in [
        r#"{"q9":"满意"}"#,
        r#"{"q1":"很满意"}"#,
        r#"{"q1":["满意"]}"#,
        r#"{"q2":[]}"#,
        r#"{"q2":["z"]}"#,
        r#"{"q3":"一二三四五六七八九十十"}"#,
        r#"{"q3":1}"#,
        r#"["q1"]"#,
        "not json",
    ] {
        assert!(Answers::from_json(&f, json).is_err(), "{json}");
    }
    // A text answer that reads "dont_know" is text, not don't-know: the form decides.
    let a = Answers::from_json(&f, r#"{"q3":"dont_know"}"#).expect("text");
    assert_eq!(a.get("q3"), Some(&Answer::Text("dont_know".into())));
}

// ---------------------------------------------------------------- scores

#[test]
fn a_respondents_score_is_the_mean_over_scored_answers() {
    let set = shipped();
    let f = &set.recipients;
    // Hand example: attitude 满意 100, convenience 比较满意 75, fairness 不太满意 25,
    // promptness 不满意 0, no_favours 说不清 (left out); served, coached, age_band and
    // comment are unscored. Mean over 4 scored answers = (100 + 75 + 25 + 0) / 4 = 50.
    let sent = [
        ("served", "yes"),
        ("attitude", "满意"),
        ("convenience", "比较满意"),
        ("fairness", "不太满意"),
        ("promptness", "不满意"),
        ("no_favours", "dont_know"),
        ("coached", "no"),
        ("age_band", "60plus"),
        ("comment", "无"),
    ];
    let a = parse_answers(f, &fields(&sent)).expect("valid");
    assert_eq!(a.answered_count(), 9);
    let score = a.score(f, &set.scheme).expect("scored");
    assert!((score - 50.0).abs() < 1e-12, "{score}");
    let by_dim = a.score_by_dimension(f, &set.scheme);
    assert_eq!(by_dim.get(&Dimension::Service), Some(&87.5));
    assert_eq!(by_dim.get(&Dimension::Style), Some(&12.5));
    assert_eq!(by_dim.get(&Dimension::Integrity), None);
}

#[test]
fn a_non_recipient_answers_the_screener_and_is_not_scored() {
    let set = shipped();
    let f = &set.recipients;
    // Answers to the scored questions sent with 没办过 are not kept (they were not shown).
    let a = parse_answers(
        f,
        &fields(&[("served", "no"), ("attitude", "满意"), ("coached", "yes")]),
    )
    .expect("valid");
    assert_eq!(a.answered_count(), 2);
    assert_eq!(a.score(f, &set.scheme), None);
    // With 办过, the scored questions are required.
    assert!(parse_answers(f, &fields(&[("served", "yes")])).is_err());
}

#[test]
fn nothing_scored_gives_no_score() {
    let set = shipped();
    let f = &set.recipients;
    let mut all_dont_know: Vec<(&str, &str)> = f
        .scored_questions()
        .map(|q| (q.id.as_str(), DONT_KNOW))
        .collect();
    all_dont_know.push((SCREENER_QUESTION, SCREENER_YES));
    let a = parse_answers(f, &fields(&all_dont_know)).expect("valid");
    assert_eq!(a.score(f, &set.scheme), None);
    assert!(a.score_by_dimension(f, &set.scheme).is_empty());
    // A scheme without this form's scoring gives no score either.
    let mut other = set.scheme.clone();
    other.forms.clear();
    let b = parse_answers(f, &fields(&[("served", "yes"), ("attitude", "满意")])).err();
    assert!(b.is_some(), "other required questions missing");
    assert_eq!(Answers::default().score(f, &other), None);
}

#[test]
fn a_panel_rating_scores_like_a_respondent() {
    let set = shipped();
    let sent = [
        ("conduct", "好"),
        ("openness", "较好"),
        ("reputation", "一般"),
        ("petitions", "dont_know"),
        ("heard_misconduct", "yes"),
        ("overall", "差"),
        ("relation", "liaison"),
    ];
    let a = parse_answers(&set.panel, &fields(&sent)).expect("valid");
    // (100 + 75 + 25 + 0) / 4 = 50.
    assert_eq!(a.score(&set.panel, &set.scheme), Some(50.0));
}
