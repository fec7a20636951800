//! No withheld figure follows by subtraction (docs/results.md 1.3). The results of the demo
//! and of an edge campaign built to hit every rule are downloaded as the commission would,
//! JSON and CSV, through HTTP. Every published number is written down; then every sum the
//! tables imply is solved for as long as one more unknown can be found:
//! - a dimension's valid and satisfied answers are the sums of its questions';
//! - 全部计分题's, the sums of its dimensions' and of all its questions';
//! - a scored question's satisfied answers, the sum of its satisfied options' counts; its
//!   valid answers, of all options but 不了解; its answers, of all options;
//! - a town row's sums are those of the villages it includes (checked: only published ones);
//! - S = w_r·R + w_p·P (two of them give the third).
//!
//! The test fails if any withheld figure becomes known. The CSV must say what the JSON says.

use crate::common;

use common::*;
use minyi::db::{Db, NewResponse};
use minyi::forms::{Audience, DONT_KNOW, Form, FormSet, Kind};
use minyi::ids::{CampaignId, VillageId};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A figure: village code, questionnaire, row (`question:id`, `dimension:key`, `all`, or
/// `option:question:label`), field.
type Key = (String, String, String, &'static str);

#[derive(Default)]
struct Facts {
    /// Every figure of the tables: its value, or `None` where withheld.
    values: BTreeMap<Key, Option<i64>>,
    /// total = Σ parts.
    sums: Vec<(Key, Vec<Key>)>,
}

impl Facts {
    /// Adds `total = Σ parts` if every figure in it is in the tables.
    fn sum(&mut self, total: Key, parts: Vec<Key>) {
        if parts.is_empty() || !self.values.contains_key(&total) {
            return;
        }
        if parts.iter().all(|p| self.values.contains_key(p)) {
            self.sums.push((total, parts));
        }
    }

    /// Peels every sum with exactly one unknown until nothing changes; returns the withheld
    /// figures found that way.
    fn recoverable(&self) -> BTreeSet<Key> {
        let mut known: BTreeSet<&Key> = self
            .values
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect();
        let mut found = BTreeSet::new();
        loop {
            let mut progress = false;
            for (total, parts) in &self.sums {
                let unknown: Vec<&Key> = std::iter::once(total)
                    .chain(parts)
                    .filter(|k| !known.contains(k))
                    .collect();
                if let [one] = unknown[..] {
                    known.insert(one);
                    found.insert(one.clone());
                    progress = true;
                }
            }
            if !progress {
                return found;
            }
        }
    }
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

async fn json(c: &reqwest::Client, base: &str, campaign: CampaignId, name: &str) -> Vec<Value> {
    let r = c
        .get(format!("{base}/api/campaigns/{campaign}/results/{name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{name}");
    r.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

/// The CSV download says what the JSON says: the same rows, each with as many empty cells as
/// the JSON row has `null`s (JSON objects do not keep the column order).
async fn csv_agrees(
    c: &reqwest::Client,
    base: &str,
    campaign: CampaignId,
    name: &str,
    rows: &[Value],
) {
    let bytes = c
        .get(format!(
            "{base}/admin/campaigns/{campaign}/downloads/{name}.csv"
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len(), "{name}.csv rows");
    for (record, row) in records.iter().zip(rows) {
        let values: Vec<&Value> = row.as_object().unwrap().values().collect();
        assert_eq!(record.len(), values.len(), "{name}.csv columns");
        let empty_cells = record.iter().filter(|c| c.is_empty()).count();
        let nulls = values
            .iter()
            .filter(|v| v.is_null() || v.as_str() == Some(""))
            .count();
        assert_eq!(empty_cells, nulls, "{name}.csv: {record:?} against {row}");
    }
}

/// Downloads the campaign's tables and checks that nothing withheld can be worked out.
/// Returns the tallies' rows, for the caller's own checks.
async fn nothing_follows(c: &reqwest::Client, base: &str, campaign: CampaignId) -> Vec<Value> {
    let forms: FormSet = minyi::forms::builtin().unwrap();
    let tallies = json(c, base, campaign, "tallies").await;
    let counts = json(c, base, campaign, "counts").await;
    let item16 = json(c, base, campaign, "item16").await;
    for (name, rows) in [
        ("tallies", &tallies),
        ("counts", &counts),
        ("item16", &item16),
    ] {
        csv_agrees(c, base, campaign, name, rows).await;
    }

    // Item 16 by the rate: R (P) is the mean of its dimensions' rates, so published beside
    // published dimensions it would give a withheld one away (作风 = 3R − 服务 − 廉洁).
    // Where it is published, its dimensions are all published (and R is their mean) or
    // all withheld.
    for row in item16.iter().filter(|r| r["method"] == "满意率") {
        let v = &row["village_code"];
        for (field, questionnaire) in [("r", "服务对象"), ("p", "两代表一委员")] {
            let Some(figure) = row[field].as_f64() else {
                continue;
            };
            let dims: Vec<&Value> = tallies
                .iter()
                .filter(|t| {
                    &t["village_code"] == v
                        && t["questionnaire"] == questionnaire
                        && t["scope"] == "方面"
                        && t["key"] != "overall"
                })
                .collect();
            assert!(!dims.is_empty(), "{row}");
            let rates: Vec<f64> = dims.iter().filter_map(|d| d["rate"].as_f64()).collect();
            assert!(
                rates.is_empty() || rates.len() == dims.len(),
                "{field} of {v} is published beside a withheld dimension: {dims:?}"
            );
            if field == "r" && !rates.is_empty() {
                let mean = rates.iter().sum::<f64>() / rates.len() as f64 * 100.0;
                assert!((mean - figure).abs() < 1e-6, "{v}: R {figure}, mean {mean}");
            }
        }
    }

    let mut facts = Facts::default();
    let mut villages = BTreeSet::new();
    for r in tallies.iter().filter(|r| r["village_code"] != "全镇") {
        let v = text(&r["village_code"]);
        villages.insert(v.clone());
        let row = match text(&r["scope"]).as_str() {
            "题目" => format!("question:{}", text(&r["key"])),
            "方面" => format!("dimension:{}", text(&r["key"])),
            _ => "all".to_string(),
        };
        for field in ["base", "valid", "satisfied"] {
            let key = (v.clone(), text(&r["questionnaire"]), row.clone(), field);
            facts.values.insert(key, int(&r[field]));
        }
    }
    for r in &counts {
        let row = format!("option:{}:{}", text(&r["question"]), text(&r["option"]));
        let key = (
            text(&r["village_code"]),
            text(&r["questionnaire"]),
            row,
            "count",
        );
        facts.values.insert(key, int(&r["count"]));
    }
    for v in &villages {
        for (label, form) in [
            ("服务对象", &forms.recipients),
            ("两代表一委员", &forms.panel),
        ] {
            add_sums(&mut facts, v, label, form, &forms);
        }
    }

    // A town row holds only villages whose own figure is published.
    for t in tallies.iter().filter(|r| r["village_code"] == "全镇") {
        for field in ["valid", "satisfied"] {
            let Some(town) = int(&t[field]) else { continue };
            let published: i64 = tallies
                .iter()
                .filter(|r| {
                    r["village_code"] != "全镇"
                        && r["questionnaire"] == t["questionnaire"]
                        && r["scope"] == t["scope"]
                        && r["key"] == t["key"]
                })
                .filter_map(|r| int(&r[field]))
                .sum();
            assert_eq!(
                town, published,
                "town row {} {} {field}: a withheld village is in it",
                t["questionnaire"], t["key"]
            );
        }
    }

    // S = w_r·R + w_p·P where P counts: a withheld P must not stand beside a published R
    // and S. Where it does not count, S = R.
    for r in &item16 {
        let no_panel = r["no_panel"].as_bool().unwrap_or(false);
        let counted = r["panel_counted"].as_bool().unwrap_or(true);
        assert!(
            no_panel || !counted || !(r["p"].is_null() && !r["r"].is_null() && !r["s"].is_null()),
            "P follows from R and S: {r}"
        );
        if !counted {
            assert!(r["p"].is_null() && r["s"] == r["r"], "S = R: {r}");
        }
    }

    let leaked = facts.recoverable();
    assert!(
        leaked.is_empty(),
        "withheld figures follow by subtraction: {leaked:?}"
    );
    let withheld = facts.values.values().filter(|v| v.is_none()).count();
    assert!(withheld > 0, "the campaign withholds something to protect");
    tallies
}

/// The sums one village's rows of one questionnaire imply.
fn add_sums(facts: &mut Facts, village: &str, label: &str, form: &Form, forms: &FormSet) {
    let key = |row: String, field: &'static str| -> Key {
        (village.to_string(), label.to_string(), row, field)
    };
    let scoring = forms.scheme.scoring(&form.id);
    let mut dims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for q in form.scored_questions() {
        if let Some(d) = q.dimension {
            dims.entry(d.key()).or_default().push(q.id.clone());
        }
        let Kind::Single { options, dont_know } = &q.kind else {
            continue;
        };
        let option = |l: &str| key(format!("option:{}:{l}", q.id), "count");
        let satisfied: Vec<Key> = options
            .iter()
            .filter(|o| scoring.is_some_and(|s| s.is_satisfied(&o.value)))
            .map(|o| option(&o.label))
            .collect();
        let valid: Vec<Key> = options.iter().map(|o| option(&o.label)).collect();
        let mut all = valid.clone();
        if let Some(dk) = dont_know {
            all.push(option(dk));
        }
        let row = format!("question:{}", q.id);
        facts.sum(key(row.clone(), "satisfied"), satisfied);
        facts.sum(key(row.clone(), "valid"), valid);
        facts.sum(key(row, "base"), all);
    }
    for field in ["valid", "satisfied"] {
        let mut every_question = Vec::new();
        let mut every_dimension = Vec::new();
        for (d, questions) in &dims {
            let parts: Vec<Key> = questions
                .iter()
                .map(|q| key(format!("question:{q}"), field))
                .collect();
            every_question.extend(parts.clone());
            facts.sum(key(format!("dimension:{d}"), field), parts);
            every_dimension.push(key(format!("dimension:{d}"), field));
        }
        facts.sum(key("all".into(), field), every_question);
        facts.sum(key("all".into(), field), every_dimension);
    }
}

async fn admin_logged_in(base: &str, one_time: &str) -> reqwest::Client {
    let c = client();
    login_and_set_password(&c, base, "admin", one_time, "commission-2026-key").await;
    c
}

#[tokio::test]
async fn no_withheld_figure_of_the_demo_follows_by_subtraction() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let (admin, _) = admin_client(&app).await;
    let tallies = nothing_follows(&admin, &app.base, made.campaign_id).await;
    // The demo's panels are 6 or 7 people: too few for any panel rate to be published.
    assert!(
        tallies
            .iter()
            .filter(|r| r["questionnaire"] == "两代表一委员" && r["village_code"] != "全镇")
            .all(|r| r["rate"].is_null())
    );
}

/// Three villages of 12 recipients: 茶 has 8 说不清 of 12 to `fairness` (its 作风 and
/// 全部计分题 must go too) and a unanimous panel of 6; 竹 answers plainly with a panel split
/// 5 to 5; 松 has 3 answers and a panel of 9 to 1.
#[tokio::test]
async fn no_withheld_figure_of_an_edge_campaign_follows_by_subtraction() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 3, 12).await;
    let campaign = prepared.campaign;
    let server = ServerProcess::start(&url, &dir.path().join("server.log")).await;
    let base = server.base.clone();
    let forms = minyi::forms::builtin().unwrap();
    let http = client();
    let mut per_village: BTreeMap<String, usize> = BTreeMap::new();
    for (village, token) in &prepared.links {
        let n = per_village.entry(village.clone()).or_default();
        *n += 1;
        let mut fields = valid_answers(&forms.recipients);
        match village.as_str() {
            "村01" if *n <= 8 => {
                fields.retain(|(q, _)| q != "fairness");
                fields.push(("fairness".into(), DONT_KNOW.into()));
            }
            "村03" if *n > 3 => continue,
            _ => {}
        }
        let r = http
            .post(format!("{base}/s/{token}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
    }

    let db = Db::connect(&url).await.unwrap();
    let village_ids: Vec<VillageId> = {
        let mut ids = Vec::new();
        for code in ["C01", "C02", "C03"] {
            ids.push(db.village_by_code(code).await.unwrap().id);
        }
        ids
    };
    let panel: [&[&str]; 3] = [
        &["好"; 6],
        &["好", "好", "好", "好", "好", "差", "差", "差", "差", "差"],
        &["好", "好", "好", "好", "好", "好", "好", "好", "好", "差"],
    ];
    let mut members = Vec::new();
    for m in 0..10 {
        members.push(
            minyi::ops::fieldwork::add_panel_member(
                &db,
                &minyi::ops::Actor::cli(),
                campaign,
                &format!("代表{m}"),
                "人大代表",
                None,
            )
            .await
            .unwrap(),
        );
    }
    for (village, ratings) in village_ids.iter().zip(panel) {
        for (member, value) in members.iter().zip(ratings) {
            let mut fields: Vec<(String, String)> = forms
                .panel
                .scored_questions()
                .map(|q| (q.id.clone(), value.to_string()))
                .collect();
            fields.push(("relation".into(), "liaison".into()));
            fields.push(("heard_misconduct".into(), "no".into()));
            let answers = minyi::forms::parse_answers(&forms.panel, &fields).unwrap();
            let response = NewResponse {
                campaign_id: campaign,
                village_id: *village,
                questionnaire: Audience::Panel,
                form_id: forms.panel.id.clone(),
                form_version: forms.panel.version.clone(),
                form_sha256: forms.panel.sha256.clone(),
                answers_json: answers.to_json(),
                duration: minyi::duration::Duration::Unknown,
            };
            assert!(db.submit_panel_rating(*member, &response).await.unwrap());
        }
    }

    let admin = admin_logged_in(&base, &prepared.admin_password).await;
    let (_, page) = get_text(&admin, &format!("{base}/admin/campaigns/{campaign}")).await;
    let (status, _, location) = post_form(
        &admin,
        &format!("{base}/admin/campaigns/{campaign}/close"),
        &csrf_in(&page),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(
        (status, location.is_some_and(|l| l.ends_with("m=closed"))),
        (303, true)
    );

    let tallies = nothing_follows(&admin, &base, campaign).await;
    let row = |village: &str, questionnaire: &str, key: &str| {
        tallies
            .iter()
            .find(|r| {
                r["village_code"] == village
                    && r["questionnaire"] == questionnaire
                    && r["key"] == key
            })
            .unwrap_or_else(|| panic!("{village} {questionnaire} {key}"))
            .clone()
    };
    let note = |r: &Value| text(&r["note"]);
    // 茶 (C01): fairness few, so 作风 and 全部计分题 go; 服务 stays.
    assert!(note(&row("C01", "服务对象", "fairness")).contains("答卷少于5份"));
    assert!(note(&row("C01", "服务对象", "style")).contains("减法"));
    assert!(note(&row("C01", "服务对象", "all")).contains("减法"));
    assert!(!row("C01", "服务对象", "service")["rate"].is_null());
    // The panel: unanimous (C01) and 9 to 1 (C03) withheld, 5 to 5 (C02) published.
    for q in ["conduct", "overall", "all"] {
        assert!(row("C01", "两代表一委员", q)["rate"].is_null(), "{q}");
        assert!(row("C03", "两代表一委员", q)["rate"].is_null(), "{q}");
        assert_eq!(row("C02", "两代表一委员", q)["rate"], 0.5, "{q}");
    }
    assert!(note(&row("C01", "两代表一委员", "conduct")).contains("两代表一委员人数少"));
    // 松 (C03): 3 answers, nothing of the recipients.
    assert!(row("C03", "服务对象", "attitude")["base"].is_null());
    // The town's 作风 rests on 竹 alone.
    let town = tallies
        .iter()
        .find(|r| {
            r["village_code"] == "全镇" && r["questionnaire"] == "服务对象" && r["key"] == "style"
        })
        .unwrap();
    assert_eq!(town["valid"], row("C02", "服务对象", "style")["valid"]);
    assert!(note(town).contains("不含满意率不公布的2个村"), "{town}");

    // Item 16: the unanimous panel's P (and so S) withheld. R, the mean of the three
    // dimensions' rates, goes with the withheld 作风: beside 服务 and 廉洁 it would give
    // 作风 away (作风 = 3R − 服务 − 廉洁). The grade stays.
    let item16 = json(&admin, &base, campaign, "item16").await;
    let c01 = item16.iter().find(|r| r["village_code"] == "C01").unwrap();
    assert!(
        c01["p"].is_null() && c01["s"].is_null() && c01["r"].is_null(),
        "{c01}"
    );
    assert!(c01["grade_computed"].is_string(), "{c01}");
    let c02 = item16.iter().find(|r| r["village_code"] == "C02").unwrap();
    assert!(!c02["p"].is_null() && !c02["s"].is_null(), "{c02}");
    // Comments: 3 answers in 松 are fewer than k.
    let comments = json(&admin, &base, campaign, "comments").await;
    assert!(comments.iter().all(|c| c["village_code"] != "C03"));
    assert!(comments.iter().any(|c| c["village_code"] == "C02"));
    drop(server);
}
