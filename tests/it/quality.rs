//! Quality checks and call-backs through the real app: the start field and the duration
//! bucket of a submit, the bucket carried through the mixer, the flags beside the grade on the
//! commission's results pages, the call-back list reproducible from the draw's seed, its
//! outcomes recorded and audited, and no one but the surveyor reaching the list. Runs on
//! SQLite, or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;
use minyi::db::Db;
use minyi::ids::{CampaignId, CaseId};
use minyi::sampling::Seed;
use minyi::sampling::callback::callback_sample;

/// The seed `freeze_draw_and_start` enters.
const SEED: &str = "dice 6 6 1 2 3 4 5 6 1 2 3";

/// Make the campaign's pinned recipients' form ask `served` and `coached` (yes/no), if the
/// form file in survey-forms/ does not already: the checks are written against those ids,
/// whichever questionnaire is in force. Done before anyone opens a link (forms are cached
/// once read), the way no route would.
async fn ask_served_and_coached(db: &Db, campaign: CampaignId) -> minyi::forms::Form {
    let pinned = db.pinned_forms(campaign).await.unwrap();
    let mut source = pinned
        .iter()
        .find(|f| f.role == "recipients")
        .expect("a pinned recipients' form")
        .source
        .clone();
    for (id, text) in [
        ("served", "今年您找村（社区）办过事吗？"),
        ("coached", "有没有人教过您这次调查怎么回答？"),
    ] {
        let form = minyi::forms::parse_form("recipients.toml", &source).unwrap();
        if form.question(id).is_none() {
            source.push_str(&format!(
                "\n[[question]]\nid = \"{id}\"\ntype = \"single\"\ntext = \"{text}\"\nrequired = false\noptions = [{{ value = \"yes\", label = \"是\" }}, {{ value = \"no\", label = \"否\" }}]\n"
            ));
        }
    }
    let sql =
        "UPDATE campaign_forms SET source = $1 WHERE campaign_id = $2 AND role = 'recipients'";
    let changed = match db {
        Db::Sqlite(s) => sqlx::query(sql)
            .bind(&source)
            .bind(campaign)
            .execute(&s.write)
            .await
            .unwrap()
            .rows_affected(),
        Db::Postgres(p) => sqlx::query(sql)
            .bind(&source)
            .bind(campaign)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(changed, 1);
    let form = minyi::fieldwork::pinned_forms(db, campaign)
        .await
        .expect("the amended forms still load")
        .recipients;
    assert!(form.question("served").is_some() && form.question("coached").is_some());
    form
}

/// The hidden start field on a questionnaire page.
fn started_in(html: &str) -> Option<String> {
    let marker = "name=\"_started\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_string())
}

/// Open the link's questionnaire, then submit `fields` with the page's start field replaced
/// by `started` when given.
async fn answer(
    app: &TestApp,
    token: &str,
    fields: &[(String, String)],
    started: Option<&str>,
) -> String {
    let c = client();
    let (s, page) = get_text(&c, &format!("{}/s/{token}", app.base)).await;
    assert_eq!(s, 200, "{page}");
    let shown = started_in(&page).expect("the questionnaire carries a start field");
    let mut all = fields.to_vec();
    all.push((
        "_started".into(),
        started.map_or(shown.clone(), str::to_string),
    ));
    let r = c
        .post(format!("{}/s/{token}", app.base))
        .form(&all)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    shown
}

/// (column names, every value but the random id as text) of every stored response.
async fn response_rows(db: &Db) -> (Vec<String>, Vec<Vec<String>>) {
    use sqlx::{Column, Row};
    fn text<R: Row>(row: &R) -> Vec<String>
    where
        for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        usize: sqlx::ColumnIndex<R>,
    {
        (0..row.columns().len())
            .filter(|i| row.columns()[*i].name() != "id")
            .map(|i| {
                row.try_get::<String, _>(i)
                    .or_else(|_| row.try_get::<i64, _>(i).map(|n| n.to_string()))
                    .unwrap_or_default()
            })
            .collect()
    }
    let sql = "SELECT * FROM responses";
    match db {
        Db::Sqlite(s) => {
            let rows = sqlx::query(sql).fetch_all(&s.read).await.unwrap();
            let names = rows[0]
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect();
            (names, rows.iter().map(text).collect())
        }
        Db::Postgres(p) => {
            let rows = sqlx::query(sql).fetch_all(p).await.unwrap();
            let names = rows[0]
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect();
            (names, rows.iter().map(text).collect())
        }
    }
}

/// Whether `text` holds a time of day (`08:15`).
fn has_clock_time(text: &str) -> bool {
    text.as_bytes().windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b':'
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    })
}

/// The duration buckets stored for the campaign's recipients' answers, sorted.
async fn stored_durations(db: &Db, campaign: CampaignId) -> Vec<String> {
    let sql = "SELECT duration FROM responses WHERE campaign_id = $1 AND questionnaire = 'recipients' ORDER BY duration";
    match db {
        Db::Sqlite(s) => sqlx::query_scalar(sql)
            .bind(campaign)
            .fetch_all(&s.read)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql)
            .bind(campaign)
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

/// The V1 links of the outbox (V1 and V2 share one phone; its V2 link is left out).
async fn v1_tokens(app: &TestApp, sv: &(reqwest::Client, String), t: &Town) -> Vec<String> {
    let mut out = Vec::new();
    for (_, token) in invitations(app, sv, t.campaign).await {
        let target = app
            .db
            .link_target(&minyi::secrets::token_hash(&token))
            .await
            .unwrap()
            .unwrap();
        if target.village_name == "一村" {
            out.push(token);
        }
    }
    out
}

#[tokio::test]
async fn fast_coached_straight_answers_are_flagged_beside_the_grade_and_only_buckets_are_stored() {
    let app = spawn().await;
    // V1: 8 mobiles and 2 landlines, V2: 5 mobiles, one of them also on V1's roster.
    let (t, sv) = fieldwork_with_landlines(&app).await;
    let form = ask_served_and_coached(&app.db, t.campaign).await;
    let tokens = v1_tokens(&app, &sv, &t).await;
    assert_eq!(tokens.len(), 8);

    // Seven V1 respondents answer at once, the first option everywhere (straight lines);
    // three say someone told them how to answer; one says 没办过 and is recorded 非服务对象
    // with no answers stored. The seventh sends a forged start field: its duration is
    // unknown.
    let mut shown = Vec::new();
    for (n, token) in tokens.iter().take(7).enumerate() {
        let mut fields: Vec<(String, String)> = valid_answers(&form)
            .into_iter()
            .filter(|(k, _)| k != "coached" && k != "served")
            .collect();
        fields.push(("coached".into(), if n < 3 { "yes" } else { "no" }.into()));
        fields.push(("served".into(), if n == 3 { "no" } else { "yes" }.into()));
        let forged = (n == 6).then_some("1700000000.00aa");
        shown.push(answer(&app, token, &fields, forged).await);
    }

    // The mixer carries the buckets from the pool into the responses.
    for _ in 0..100 {
        if waiting(&app.db, t.campaign).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(waiting(&app.db, t.campaign).await, 0, "the mixer ran");
    let mut expected = vec!["under_1m".to_string(); 5];
    expected.push("unknown".into());
    expected.sort();
    assert_eq!(stored_durations(&app.db, t.campaign).await, expected);

    // While fieldwork runs, no flag from the answers is shown.
    let (admin, csrf) = &t.admin;
    let results = format!("{}/admin/campaigns/{}/results", app.base, t.campaign);
    let (s, page) = get_text(admin, &results).await;
    assert_eq!(s, 200);
    assert!(page.contains("答题不到1分钟的：调查结束后显示"), "{page}");
    assert!(!page.contains("答题不到1分钟的占"));

    let (s, _, _) = post_form(
        admin,
        &format!("{}/admin/campaigns/{}/close", app.base, t.campaign),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 303);
    // The close reshuffles every answer of the village, buckets and all.
    assert_eq!(stored_durations(&app.db, t.campaign).await, expected);

    let (s, page) = get_text(admin, &results).await;
    assert_eq!(s, 200);
    // minijinja escapes "/" in text.
    let page = page.replace("&#x2f;", "/");
    for line in [
        "每道评分题都选同一项的答卷占 100.0%（6/6；至少 4 道评分题都选同一项；达到 30% 即提示）",
        "答题不到1分钟的占 100.0%（5/5；达到 20% 即提示）",
        "说“有人教过怎么答”的 3 人，占 50.0%（3/6；达到 10% 或 3 人即提示）",
        "说“今年没在村里办过事”（记为非服务对象）的 1 人，占 14.3%（1/7；达到 10% 或 3 人即提示）",
        "名单中有 1 个号码也在其他村(社区)的名单里（有 1 个即提示）",
        "质量提示 5 项",
    ] {
        assert!(
            page.contains(line),
            "{line} missing from the results page: {}",
            &page[page.find("class=\"quality\"").unwrap_or(0)..]
        );
    }
    // V2 has no answers: nothing from answers is shown for it, only its shared phone.
    assert!(page.contains("答题不到1分钟的：答卷太少，不显示"));
    // The village's operator reaches neither the commission's pages nor the flags.
    for url in [results.clone(), format!("{results}/V1")] {
        let (s, body) = get_text(&t.op1.0, &url).await;
        assert_eq!(s, 403, "{url}");
        assert!(!body.contains("质量提示") && !body.contains("答题不到1分钟"));
    }
    let (s, village) = get_text(admin, &format!("{results}/V1")).await;
    assert_eq!(s, 200);
    assert!(village.contains("质量检查与回访") && village.contains("答题不到1分钟的占 100.0%"));

    // The attack: the stored rows hold a bucket, never a time. No column but the bucket
    // says anything about when, and no value holds epoch seconds or a date-time.
    let (columns, rows) = response_rows(&app.db).await;
    assert_eq!(
        columns,
        [
            "id",
            "campaign_id",
            "village_id",
            "questionnaire",
            "form_id",
            "form_version",
            "form_sha256",
            "answers",
            "duration"
        ]
    );
    let seconds: Vec<String> = shown
        .iter()
        .map(|f| f.split('.').next().unwrap().to_string())
        .collect();
    for row in &rows {
        let text = row.join("|");
        for s in &seconds {
            assert!(!text.contains(s.as_str()), "a start time is stored: {text}");
        }
        // Every column but form_sha256 (64 hex digits, whose digit runs can be long): no
        // run of 9 digits or more, as epoch seconds (10 digits) would be.
        let sha = row[5].as_str();
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{text}"
        );
        let digits = row
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 5)
            .flat_map(|(_, c)| c.split(|c: char| !c.is_ascii_digit()).map(str::len))
            .max()
            .unwrap_or(0);
        assert!(digits < 9, "a long number is stored: {text}");
        assert!(
            !text.contains(&minyi::domain::today()) && !has_clock_time(&text),
            "a date or time is stored: {text}"
        );
    }
}

#[tokio::test]
async fn the_call_back_list_comes_from_the_seed_and_its_outcomes_are_audited() {
    let app = spawn().await;
    let (t, sv) = fieldwork_with_landlines(&app).await;
    let tokens = v1_tokens(&app, &sv, &t).await;
    let form = minyi::fieldwork::pinned_forms(&app.db, t.campaign)
        .await
        .unwrap()
        .recipients;
    for token in tokens.iter().take(5) {
        answer(&app, token, &valid_answers(&form), None).await;
    }
    let (admin, csrf) = &t.admin;
    post_form(
        admin,
        &format!("{}/admin/campaigns/{}/close", app.base, t.campaign),
        csrf,
        &[("confirm", "yes")],
    )
    .await;

    // The list: 10% of V1's 5 completes, at least one; V2 has none.
    let list_url = format!("{}/surveyor/campaigns/{}/callbacks", app.base, t.campaign);
    let (s, page) = get_text(&sv.0, &list_url).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("只核实您是否参加过调查，不问您怎么答的"));
    let listed: Vec<CaseId> = page
        .split("id=\"case-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(listed.len(), 1, "{page}");

    // Anyone holding the published seed finds the same case: callback-v1 over V1's
    // completed ranks and its population at the draw.
    let cases = app.db.cases(t.campaign, None).await.unwrap();
    let v1: Vec<_> = cases.iter().filter(|c| c.village_code == "V1").collect();
    let completed: Vec<u64> = v1
        .iter()
        .filter(|c| c.status == minyi::domain::CaseStatus::Completed)
        .map(|c| c.rank as u64)
        .collect();
    assert_eq!(completed.len(), 5);
    let population = app.db.strata(t.campaign, None).await.unwrap()[0].population as u64;
    let seed = Seed::parse(SEED).unwrap();
    let expected = callback_sample(&seed, "V1", population, &completed, 10);
    let rank_of = |id: CaseId| v1.iter().find(|c| c.id == id).unwrap().rank as u64;
    assert_eq!(vec![rank_of(listed[0])], expected);
    // Another seed picks another case (some seed among a few; each is deterministic).
    assert!(
        (0..10).any(|n| {
            let other = Seed::parse(&format!("another public dice roll {n}")).unwrap();
            callback_sample(&other, "V1", population, &completed, 10) != expected
        }),
        "the list depends on the seed"
    );
    // The page shows the phone in full to the surveyor.
    let listed_case = v1.iter().find(|c| c.id == listed[0]).unwrap();
    assert!(page.contains(&format!("tel:{}", listed_case.phone)));

    // Nobody else reaches the list or records an outcome.
    let record = |case: CaseId| {
        format!(
            "{}/surveyor/campaigns/{}/callbacks/{case}",
            app.base, t.campaign
        )
    };
    for (who, c) in [("operator", &t.op1), ("administrator", &t.admin)] {
        let (s, body) = get_text(&c.0, &list_url).await;
        assert_eq!(s, 403, "{who}: {body}");
        assert!(!body.contains(&listed_case.phone), "{who} sees a phone");
        let (s, _, _) = post_form(&c.0, &record(listed[0]), &c.1, &[("outcome", "denied")]).await;
        assert_eq!(s, 403, "{who} records an outcome");
    }
    assert!(app.db.callbacks(t.campaign).await.unwrap().is_empty());

    // The surveyor records: a bad outcome and a case that did not complete change nothing.
    let (s, _, loc) = post_form(&sv.0, &record(listed[0]), &sv.1, &[("outcome", "maybe")]).await;
    assert_eq!(
        (s, location_query(&loc).split('#').next().unwrap()),
        (303, "e=outcome")
    );
    let open = v1
        .iter()
        .find(|c| c.status != minyi::domain::CaseStatus::Completed)
        .unwrap();
    let (s, _, loc) = post_form(&sv.0, &record(open.id), &sv.1, &[("outcome", "denied")]).await;
    assert_eq!(
        (s, location_query(&loc).split('#').next().unwrap()),
        (303, "e=case")
    );
    assert!(app.db.callbacks(t.campaign).await.unwrap().is_empty());
    let (s, _, loc) = post_form(&sv.0, &record(listed[0]), &sv.1, &[("outcome", "denied")]).await;
    assert_eq!(
        (s, location_query(&loc).split('#').next().unwrap()),
        (303, "m=recorded")
    );
    let stored = app.db.callbacks(t.campaign).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].case_id, stored[0].outcome.as_str()),
        (listed[0], "denied")
    );
    let entries: Vec<_> = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "callback.record")
        .collect();
    assert_eq!(
        entries.len(),
        2,
        "every recording is audited, applied or not"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.details.contains("\"recorded\":true") && e.details.contains("denied"))
    );
    let (_, page) = get_text(&sv.0, &list_url).await;
    assert!(page.contains("说没参加过"));

    // The commission sees the denial as a flag beside the grade.
    let (_, results) = get_text(
        admin,
        &format!("{}/admin/campaigns/{}/results", app.base, t.campaign),
    )
    .await;
    let results = results.replace("&#x2f;", "/");
    assert!(
        results.contains("回访 1 人中说没参加过调查的 1 人（有 1 人即提示）"),
        "{results}"
    );
    assert!(results.contains("回访:抽 1 人,确认参加过 0 人,说没参加过 1 人,联系不上 0 人"));
}

/// Each answer keeps its own bucket through the mixer's batch and through the close's
/// reshuffle: rows move whole, never the answers one way and the buckets another.
#[tokio::test]
async fn the_mixer_moves_each_answer_with_its_own_bucket() {
    use minyi::duration::Duration;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 1, 8).await;
    let db = Db::connect(&url).await.unwrap();
    let campaign = prepared.campaign;
    let form = minyi::forms::builtin().unwrap().recipients;
    let buckets = [
        Duration::Under1m,
        Duration::From1To3m,
        Duration::From3To10m,
        Duration::Over10m,
        Duration::Unknown,
        Duration::Under1m,
        Duration::Over10m,
    ];
    let mut batch = Vec::new();
    for (n, ((_, token), bucket)) in prepared.links.iter().zip(buckets).enumerate() {
        let target = db
            .link_target(&minyi::secrets::token_hash(token))
            .await
            .unwrap()
            .unwrap();
        let answers = minyi::forms::parse_answers(&form, &answers_marked(&format!("答卷{n}")))
            .unwrap()
            .to_json();
        let response = minyi::db::NewResponse {
            campaign_id: campaign,
            village_id: target.village_id,
            questionnaire: minyi::forms::Audience::Recipients,
            form_id: form.id.clone(),
            form_version: form.version.clone(),
            form_sha256: form.sha256.clone(),
            answers_json: answers,
            duration: bucket,
        };
        batch.push((target, response));
    }
    let village = batch[0].0.village_id;
    assert!(
        db.submit_through_links(&batch)
            .await
            .unwrap()
            .iter()
            .all(|s| *s)
    );

    let pairs = |db: Db| async move {
        let sql = "SELECT answers, duration FROM responses WHERE campaign_id = $1";
        let rows: Vec<(String, String)> = match &db {
            Db::Sqlite(s) => sqlx::query_as(sql)
                .bind(campaign)
                .fetch_all(&s.read)
                .await
                .unwrap(),
            Db::Postgres(p) => sqlx::query_as(sql)
                .bind(campaign)
                .fetch_all(p)
                .await
                .unwrap(),
        };
        let mut out: Vec<(String, String)> = rows
            .into_iter()
            .map(|(json, d)| {
                let v: serde_json::Value = serde_json::from_str(&json).unwrap();
                (v["comment"].as_str().unwrap().to_string(), d)
            })
            .collect();
        out.sort();
        out
    };
    let expected: Vec<(String, String)> = buckets
        .iter()
        .enumerate()
        .map(|(n, b)| (format!("答卷{n}"), b.key().to_string()))
        .collect();

    // One batch of the mixer (k = 5 of the built-in scheme, 7 waiting).
    let moved = db
        .mix_groups(&[(campaign, village, "recipients".into(), 5)])
        .await
        .unwrap();
    assert_eq!(moved, 7);
    assert_eq!(pairs(db.clone()).await, expected);
    // The close takes the village's responses out and writes them back shuffled.
    assert!(db.close_and_mix(campaign, true, 0).await.unwrap());
    assert_eq!(pairs(db.clone()).await, expected);
    db.close().await;
}

#[tokio::test]
async fn a_phone_shared_with_a_refused_village_is_not_counted() {
    let app = spawn().await;
    let t = town(&app).await;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    // V1 and V2 both hold 13800000001.
    for (op, phones) in [
        (&t.op1, "13800000001\n13800000002\n"),
        (&t.op2, "13800000001\n13900000003\n"),
    ] {
        let (s, _, _) = upload(
            &op.0,
            &url,
            &op.1,
            "r.csv",
            format!("电话\n{phones}").into_bytes(),
            &[],
        )
        .await;
        assert_eq!(s, 303);
    }
    let v1 = app.db.village_by_code("V1").await.unwrap().id;
    let v2 = app.db.village_by_code("V2").await.unwrap().id;
    assert_eq!(
        app.db.shared_phone_counts(t.campaign).await.unwrap(),
        vec![(v1, 1), (v2, 1)],
        "every village with a roster takes part: both count the phone"
    );

    // The campaign draws accepted villages only: V1 accepted, V2 refused. V2's roster is
    // outside the frame, so neither side counts the phone.
    exec(
        &app.db,
        "UPDATE campaigns SET participation = 'accepted' WHERE id = $1",
        t.campaign.0,
    )
    .await;
    for (village, decision) in [("V1", "accepted"), ("V2", "refused")] {
        let sql: &'static str = if decision == "accepted" {
            "INSERT INTO applications (campaign_id, village_id, applied_at, decision)
             SELECT $1, id, 0, 'accepted' FROM villages WHERE code = 'V1'"
        } else {
            "INSERT INTO applications (campaign_id, village_id, applied_at, decision, reason)
             SELECT $1, id, 0, 'refused', '材料不全' FROM villages WHERE code = 'V2'"
        };
        assert_eq!(exec(&app.db, sql, t.campaign.0).await, 1, "{village}");
    }
    assert_eq!(
        app.db.cross_village_phones(t.campaign).await.unwrap().len(),
        0,
        "the roster check agrees"
    );
    assert_eq!(
        app.db.shared_phone_counts(t.campaign).await.unwrap(),
        vec![],
        "the refused village's roster is not counted, nor counts against V1"
    );
}
