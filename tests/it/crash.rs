//! Crash safety: the real `minyi serve` binary, under survey-submit load from many
//! concurrent clients, is killed with SIGKILL — twice — and restarted on the same database.
//! Afterwards:
//! - every acknowledged submit (`303`) is stored, exactly once (each submit carries its own
//!   marker in the comment field, so a stored answer can be traced to the submit that sent it);
//! - no answer is stored twice, and none that was never sent;
//! - no link was burned without its answer: per village, used invitations = answers (waiting
//!   in the mixer's pool or mixed) = completed cases; a submit cut off by the kill was either stored whole (its
//!   link used, its answer there once) or not at all (its link still works after the restart);
//! - an acknowledged link, submitted again after the restart, is refused as used.
//!
//! Runs on SQLite, and on PostgreSQL when `MINYI_TEST_PG` names a server (a fresh database).

use crate::common;

use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const VILLAGES: usize = 3;
const PER_VILLAGE: usize = 1000;
/// Concurrent submitting clients.
const CLIENTS: usize = 32;
/// Each round kills the server once this many submits of the round were acknowledged.
const KILL_AFTER: usize = 300;
const ROUNDS: usize = 2;

/// What the client learned about one submit.
#[derive(Clone, Debug, PartialEq)]
enum Fate {
    /// `303` to the thank-you page: the app promised the answer is stored.
    Acknowledged,
    /// No answer (the connection died with the server): stored or not, but never half.
    CutOff(String),
}

fn marker(i: usize) -> String {
    format!("crash-{i}")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Submit links from `CLIENTS` tasks, each link once with its marker, until `KILL_AFTER`
/// of them were acknowledged; then SIGKILL the server. Returns each attempted link's fate.
/// Any other status than `303` is a failure (the app must not error under this load).
async fn submit_until_killed(
    server: &mut ServerProcess,
    links: &Arc<Vec<(String, String)>>,
    next: &Arc<AtomicUsize>,
) -> HashMap<usize, Fate> {
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let client = http();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (client, links, next, acked, stop, base, log) = (
            client.clone(),
            links.clone(),
            next.clone(),
            acked.clone(),
            stop.clone(),
            server.base.clone(),
            server.log.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut fates = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((_, token)) = links.get(i) else {
                    break;
                };
                let sent = client
                    .post(format!("{base}/s/{token}"))
                    .form(&answers_marked(&marker(i)))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 303 => {
                        acked.fetch_add(1, Ordering::SeqCst);
                        fates.push((i, Fate::Acknowledged));
                    }
                    Ok(r) => {
                        let status = r.status();
                        let body = r.text().await.unwrap_or_default();
                        let body = body.rsplit("</style>").next().unwrap_or(&body);
                        let log = std::fs::read_to_string(&log).unwrap_or_default();
                        let problems: Vec<&str> = log
                            .lines()
                            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
                            .collect();
                        panic!(
                            "submit {i} answered {status} under load:\n{body}\nserver log problems:\n{}",
                            problems.join("\n")
                        );
                    }
                    Err(e) => fates.push((i, Fate::CutOff(e.to_string()))),
                }
            }
            fates
        }));
    }
    let started = Instant::now();
    while acked.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "only {} submits acknowledged in 60 s; server log:\n{}",
            acked.load(Ordering::SeqCst),
            server.log_text()
        );
        assert!(
            workers.iter().any(|w| !w.is_finished()),
            "the clients stopped early (links used up?)"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Mid-load: submits are queued, in a batch being committed, or acknowledged on the wire.
    server.kill();
    stop.store(true, Ordering::SeqCst);
    let mut fates = HashMap::new();
    for w in workers {
        fates.extend(w.await.expect("client task"));
    }
    fates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submits_survive_sigkill_exactly_once_and_no_link_burns() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, VILLAGES, PER_VILLAGE).await;
    let campaign = prepared.campaign;
    let links = Arc::new(prepared.links);
    let log = dir.path().join("server.log");
    let next = Arc::new(AtomicUsize::new(0));
    let mut fates: HashMap<usize, Fate> = HashMap::new();
    for round in 1..=ROUNDS {
        let mut server = ServerProcess::start(&url, &log).await;
        let round_fates = submit_until_killed(&mut server, &links, &next).await;
        let acked = round_fates
            .values()
            .filter(|f| **f == Fate::Acknowledged)
            .count();
        eprintln!(
            "round {round}: {} submits sent, {acked} acknowledged, {} cut off by SIGKILL",
            round_fates.len(),
            round_fates.len() - acked
        );
        assert!(
            round_fates.len() > acked,
            "the kill hit no submit in flight (round {round}): nothing was tested"
        );
        fates.extend(round_fates);
    }
    let attempted = next.load(Ordering::SeqCst).min(links.len());

    // Restart on the same database and look at what it holds.
    let server = ServerProcess::start(&url, &log).await;
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let comments = response_comments(&db, campaign).await;
    let mut stored: HashMap<String, usize> = HashMap::new();
    for c in &comments {
        *stored.entry(c.clone()).or_default() += 1;
    }
    for (c, n) in &stored {
        assert_eq!(*n, 1, "answer {c:?} stored {n} times");
        let i: usize = c
            .strip_prefix("crash-")
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("a stored answer no submit sent: {c:?}"));
        assert!(
            fates.contains_key(&i),
            "answer {c:?} stored but its submit has no recorded fate"
        );
    }
    let mut cut_off_stored = 0;
    let mut cut_off_not_stored = Vec::new();
    for (&i, fate) in &fates {
        let is_stored = stored.contains_key(&marker(i));
        let token = &links[i].1;
        let used = db
            .link_target(&minyi::secrets::token_hash(token))
            .await
            .unwrap()
            .expect("the link is known")
            .used;
        assert_eq!(
            used, is_stored,
            "link {i} ({fate:?}): used = {used} but its answer stored = {is_stored}"
        );
        match fate {
            Fate::Acknowledged => assert!(is_stored, "acknowledged submit {i} was lost"),
            Fate::CutOff(_) if is_stored => cut_off_stored += 1,
            Fate::CutOff(_) => cut_off_not_stored.push(i),
        }
    }
    let acked = fates.values().filter(|f| **f == Fate::Acknowledged).count();
    eprintln!(
        "after {ROUNDS} kills: {attempted} links attempted, {acked} acknowledged, {} responses stored \
         ({cut_off_stored} of the cut-off submits were committed before the kill, {} were not)",
        comments.len(),
        cut_off_not_stored.len()
    );
    assert_eq!(comments.len(), acked + cut_off_stored);

    // Per village: used links = answers through links = completed cases, nothing voided.
    let ledger = village_ledger(&db, campaign).await;
    for (village, [used, voided, answers, completed]) in &ledger {
        assert_eq!(
            (*used, *voided, *completed),
            (*answers, 0, *answers),
            "village {village}: used {used}, voided {voided}, answers {answers}, completed {completed}"
        );
    }
    assert_eq!(
        ledger.values().map(|r| r[0]).sum::<i64>(),
        comments.len() as i64
    );

    // An acknowledged link is used: a second answer after the restart is refused, not stored.
    let client = http();
    let again: Vec<usize> = fates
        .iter()
        .filter(|(_, f)| **f == Fate::Acknowledged)
        .map(|(i, _)| *i)
        .collect();
    let mut checks = Vec::new();
    for chunk in again.chunks(again.len().div_ceil(8).max(1)) {
        let (client, base, links, chunk) = (
            client.clone(),
            server.base.clone(),
            links.clone(),
            chunk.to_vec(),
        );
        checks.push(tokio::spawn(async move {
            for i in chunk {
                let r = client
                    .post(format!("{base}/s/{}", links[i].1))
                    .form(&answers_marked(&format!("again-{i}")))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let page = r.text().await.unwrap();
                assert!(
                    status == 200 && page.contains("已收到"),
                    "acknowledged link {i} resubmitted after the restart: {status}\n{page}"
                );
            }
        }));
    }
    for c in checks {
        c.await.unwrap();
    }
    // A link whose submit was cut off before its commit was not burned: it still works.
    for &i in &cut_off_not_stored {
        let r = client
            .post(format!("{}/s/{}", server.base, links[i].1))
            .form(&answers_marked(&format!("retry-{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "cut-off link {i} after the restart");
    }
    let after = response_comments(&db, campaign).await;
    assert_eq!(
        after.len(),
        comments.len() + cut_off_not_stored.len(),
        "exactly the retried links added an answer"
    );
    assert!(!after.iter().any(|c| c.starts_with("again-")));
    let ledger = village_ledger(&db, campaign).await;
    for (village, [used, _, answers, completed]) in &ledger {
        assert_eq!((used, completed), (answers, answers), "village {village}");
    }
    db.close().await;
    drop(server);
}

/// The server was aborted by `MINYI_FAULT=fault` inside the operation: the request got no
/// answer, the process ended in failure and said where.
fn assert_died_at(server: &mut ServerProcess, no_answer: bool, fault: &str) {
    assert!(no_answer, "the server died inside the operation ({fault})");
    let status = server.child.wait().unwrap();
    assert!(!status.success(), "aborted at {fault}: {status}");
    assert!(server.log_text().contains(&format!("aborting at {fault}")));
}

/// A change and its audit entry are stored both or neither: the server is aborted inside
/// the operation — after its change, before its entry; after its entry, before the commit —
/// and afterwards the database holds neither. Without a fault, both.
#[tokio::test]
async fn a_crash_inside_an_operation_stores_neither_the_change_nor_its_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let db = minyi::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let once = minyi::http::bootstrap_admin(&db).await.unwrap().unwrap();
    let second = second_account(&db).await;
    let log = dir.path().join("server.log");
    // The administrator's first login and password change, on a server without faults.
    let mut server = ServerProcess::start(&url, &log).await;
    let admin = client();
    login_and_set_password(&admin, &server.base, "admin", &once, "commission-2026-key").await;
    server.kill();

    let disables = |db: minyi::db::Db| async move {
        let disabled = db.account(second).await.unwrap().disabled;
        let entries = db
            .all_audit_entries()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "account.disable")
            .count();
        db.close().await;
        (disabled, entries)
    };
    for point in ["before-audit", "before-commit"] {
        let fault = format!("account.disable:{point}");
        let mut server =
            ServerProcess::start_with_env(&url, &log, &[("MINYI_FAULT", fault.as_str())]).await;
        let admin = client();
        login(&admin, &server.base, "admin", "commission-2026-key").await;
        let (_, page) = get_text(&admin, &format!("{}/admin/accounts", server.base)).await;
        let csrf = csrf_in(&page);
        let sent = admin
            .post(format!("{}/admin/accounts/{second}/disable", server.base))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await;
        assert_died_at(&mut server, sent.is_err(), &fault);
        let db = minyi::db::Db::connect(&url).await.unwrap();
        assert_eq!(disables(db).await, (false, 0), "nothing stored at {point}");
    }
    // Without a fault the change and its entry are stored together.
    let server = ServerProcess::start(&url, &log).await;
    let admin = client();
    login(&admin, &server.base, "admin", "commission-2026-key").await;
    let (_, page) = get_text(&admin, &format!("{}/admin/accounts", server.base)).await;
    let (status, _, _) = post_form(
        &admin,
        &format!("{}/admin/accounts/{second}/disable", server.base),
        &csrf_in(&page),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let db = minyi::db::Db::connect(&url).await.unwrap();
    assert_eq!(disables(db).await, (true, 1));
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let key = db.load_audit_key().unwrap();
    assert!(db.verify_audit(Some(&key)).await.unwrap().is_ok());
    db.close().await;
    drop(server);
}

/// The draw writes many rows at once — the campaign's state, the record, every village's
/// ranked list — and its audit entry: a crash before the commit leaves none of them, the
/// campaign still frozen and drawable; without a fault all are stored, and the record's
/// audit head is the entry just before the draw's own.
#[tokio::test]
async fn a_crash_inside_the_draw_stores_no_record_no_ranked_list_and_no_entry() {
    use minyi::db::RosterTarget;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let db = minyi::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let once = minyi::http::bootstrap_admin(&db).await.unwrap().unwrap();
    let admin_id = db.account_by_username("admin").await.unwrap().unwrap().id;
    let campaign = db
        .create_campaign("2026年验收", "唐家坊镇", 2026)
        .await
        .unwrap();
    for v in 1..=3u64 {
        let code = minyi::domain::VillageCode::parse(&format!("C{v:02}")).unwrap();
        let village = db
            .create_village(&code, &format!("村{v:02}"))
            .await
            .unwrap();
        let csv: String = std::iter::once("电话\n".to_string())
            .chain((0..50u64).map(|i| format!("{}\n", 13_000_000_000 + v * 100_000 + i)))
            .collect();
        let target = RosterTarget {
            campaign_id: campaign,
            village_id: village,
            file_name: "r.csv".into(),
            uploaded_by: None,
        };
        db.import_roster(
            &target,
            std::io::Cursor::new(csv.into_bytes()),
            minyi::roster::Limits::default(),
        )
        .await
        .unwrap();
    }
    assert!(
        db.freeze(campaign, minyi::sampling::frame_fingerprint)
            .await
            .unwrap()
    );
    let seed = minyi::sampling::Seed::parse("crash seed 1 2 3 4 5 6 7 8").unwrap();
    assert!(
        db.enter_seed(campaign, seed.as_str(), &seed.commitment(), admin_id)
            .await
            .unwrap()
    );
    db.close().await;
    let log = dir.path().join("server.log");
    let mut server = ServerProcess::start(&url, &log).await;
    let admin = client();
    login_and_set_password(&admin, &server.base, "admin", &once, "commission-2026-key").await;
    server.kill();

    // (state, draw records, ranked lists, draw entries)
    let stored = |url: String| async move {
        let db = minyi::db::Db::connect(&url).await.unwrap();
        let state = db.campaign(campaign).await.unwrap().state;
        let records = db.draw_record(campaign).await.unwrap().is_some();
        let strata = db.strata(campaign, None).await.unwrap().len();
        let entries = db
            .all_audit_entries()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "draw")
            .count();
        db.close().await;
        (state, records, strata, entries)
    };
    let draw = |base: String| async move {
        let admin = client();
        login(&admin, &base, "admin", "commission-2026-key").await;
        let (_, page) = get_text(&admin, &format!("{base}/admin/campaigns/{campaign}")).await;
        admin
            .post(format!("{base}/admin/campaigns/{campaign}/draw"))
            .form(&[("_csrf", csrf_in(&page))])
            .send()
            .await
    };
    for point in ["before-audit", "before-commit"] {
        let fault = format!("draw:{point}");
        let mut server =
            ServerProcess::start_with_env(&url, &log, &[("MINYI_FAULT", fault.as_str())]).await;
        let sent = draw(server.base.clone()).await;
        assert_died_at(&mut server, sent.is_err(), &fault);
        assert_eq!(
            stored(url.clone()).await,
            (minyi::domain::CampaignState::Frozen, false, 0, 0),
            "nothing stored at {point}"
        );
    }
    // Without a fault the draw, its ranked lists and its entry are stored together.
    let server = ServerProcess::start(&url, &log).await;
    let sent = draw(server.base.clone()).await.unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(
        stored(url.clone()).await,
        (minyi::domain::CampaignState::Drawn, true, 3, 1)
    );
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let (json, _) = db.draw_record(campaign).await.unwrap().unwrap();
    let record: minyi::sampling::DrawRecord = serde_json::from_str(&json).unwrap();
    let entries = db.all_audit_entries().await.unwrap();
    let at = entries.iter().position(|e| e.event == "draw").unwrap();
    let before = &entries[at - 1];
    assert_eq!(
        record.audit_head.as_deref(),
        Some(format!("{}:{}", before.id, before.hash).as_str()),
        "the record names the entry just before the draw's"
    );
    let key = db.load_audit_key().unwrap();
    assert!(db.verify_audit(Some(&key)).await.unwrap().is_ok());
    db.close().await;
    drop(server);
}

/// A grade sheet — 15 grades and 8 negative-list situations, 23 writes — is saved whole
/// with its `grades` entry or not at all: aborted inside the operation, before its entry or
/// before its commit, none of the new sheet's grades is stored and the sheet saved before
/// stays as it was.
#[tokio::test]
async fn a_crash_while_saving_a_grade_sheet_stores_none_of_its_grades() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 1, 5).await;
    let campaign = prepared.campaign;
    let log = dir.path().join("server.log");
    let sheet = |grade: &str, negative: bool| {
        let mut fields: Vec<(String, String)> = (1..=15)
            .flat_map(|i| {
                [
                    (format!("grade_{i}"), grade.to_string()),
                    (format!("source_{i}"), "onsite".to_string()),
                    (format!("note_{i}"), format!("{grade} {i}")),
                ]
            })
            .collect();
        if negative {
            fields.extend((1..=8).map(|n| (format!("neg_{n}"), "on".to_string())));
            fields.extend((1..=8).map(|n| (format!("neg_date_{n}"), minyi::domain::today())));
            fields.push(("neg_petitions_6".into(), "12".into()));
            fields.push(("neg_resolved_6".into(), "2".into()));
        }
        fields
    };
    let url_of = |base: &str| format!("{base}/admin/campaigns/{campaign}/results/C01/grades");
    let stored = |db: minyi::db::Db| async move {
        let grades: Vec<String> = db
            .item_grades(campaign)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.grade.to_string())
            .collect();
        let negative = db.negative_findings(campaign).await.unwrap().len();
        let entries = db
            .all_audit_entries()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "grades")
            .count();
        db.close().await;
        (grades, negative, entries)
    };
    // A first sheet, all 好, saved on a server without faults.
    let mut server = ServerProcess::start(&url, &log).await;
    let admin = client();
    login_and_set_password(
        &admin,
        &server.base,
        "admin",
        &prepared.admin_password,
        "commission-2026-key",
    )
    .await;
    let (_, page) = get_text(&admin, &format!("{}/admin/accounts", server.base)).await;
    let first = sheet("好", false);
    let fields: Vec<(&str, &str)> = first
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, _) = post_form(&admin, &url_of(&server.base), &csrf_in(&page), &fields).await;
    assert_eq!(status, 303);
    server.kill();
    let saved = (vec!["好".to_string(); 15], 0, 1);
    let db = minyi::db::Db::connect(&url).await.unwrap();
    assert_eq!(stored(db).await, saved);

    // A second sheet, all 较好 with every situation ticked, aborted inside its operation.
    let second = sheet("较好", true);
    for point in ["before-audit", "before-commit"] {
        let fault = format!("grades:{point}");
        let mut server =
            ServerProcess::start_with_env(&url, &log, &[("MINYI_FAULT", fault.as_str())]).await;
        let admin = client();
        login(&admin, &server.base, "admin", "commission-2026-key").await;
        let (_, page) = get_text(&admin, &format!("{}/admin/accounts", server.base)).await;
        let sent = admin
            .post(url_of(&server.base))
            .form(
                &std::iter::once(("_csrf".to_string(), csrf_in(&page)))
                    .chain(second.iter().cloned())
                    .collect::<Vec<_>>(),
            )
            .send()
            .await;
        assert_died_at(&mut server, sent.is_err(), &fault);
        let db = minyi::db::Db::connect(&url).await.unwrap();
        assert_eq!(
            stored(db).await,
            saved,
            "nothing of the sheet stored at {point}"
        );
    }

    // Without a fault the second sheet replaces the first, whole, with its entry.
    let server = ServerProcess::start(&url, &log).await;
    let admin = client();
    login(&admin, &server.base, "admin", "commission-2026-key").await;
    let (_, page) = get_text(&admin, &format!("{}/admin/accounts", server.base)).await;
    let fields: Vec<(&str, &str)> = second
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, _) = post_form(&admin, &url_of(&server.base), &csrf_in(&page), &fields).await;
    assert_eq!(status, 303);
    let db = minyi::db::Db::connect(&url).await.unwrap();
    // Item 15 is the negative list: all eight situations are ticked, so it is 差.
    let mut expected = vec!["较好".to_string(); 14];
    expected.push("差".to_string());
    assert_eq!(stored(db).await, (expected, 8, 2));
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let key = db.load_audit_key().unwrap();
    assert!(db.verify_audit(Some(&key)).await.unwrap().is_ok());
    db.close().await;
    drop(server);
}

/// Reissuing the whole SMS outbox supersedes every sent link and stores a new token for
/// each, with one `sms.outbox` entry: a crash before the entry, or after it but before the
/// commit, leaves every old link working, no new one and no entry.
#[tokio::test]
async fn a_crash_while_the_outbox_is_reissued_keeps_every_old_link_and_adds_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 2, 5).await;
    let campaign = prepared.campaign;
    let log = dir.path().join("server.log");

    // (links superseded, links still in use, sms.outbox entries)
    let ledger = |db: minyi::db::Db, links: Vec<String>| async move {
        let mut superseded = 0;
        for token in &links {
            let target = db
                .link_target(&minyi::secrets::token_hash(token))
                .await
                .unwrap()
                .expect("a known link");
            superseded += usize::from(target.superseded);
        }
        let entries = db
            .all_audit_entries()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "sms.outbox")
            .count();
        db.close().await;
        (superseded, links.len() - superseded, entries)
    };
    let links: Vec<String> = prepared.links.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(links.len(), 10);
    let outbox = |base: &str| format!("{base}/surveyor/campaigns/{campaign}/outbox");
    let reissue = |csrf: String| {
        vec![
            ("_csrf", csrf),
            ("kind", "reissue".to_string()),
            ("confirm", "yes".to_string()),
        ]
    };

    for point in ["before-audit", "before-commit"] {
        let fault = format!("sms.outbox:{point}");
        let mut server =
            ServerProcess::start_with_env(&url, &log, &[("MINYI_FAULT", fault.as_str())]).await;
        let surveyor = client();
        login(&surveyor, &server.base, SURVEYOR, SURVEYOR_PASSWORD).await;
        let (_, page) = get_text(
            &surveyor,
            &format!("{}/surveyor/campaigns/{campaign}", server.base),
        )
        .await;
        let sent = surveyor
            .post(outbox(&server.base))
            .form(&reissue(csrf_in(&page)))
            .send()
            .await;
        assert_died_at(&mut server, sent.is_err(), &fault);
        let db = minyi::db::Db::connect(&url).await.unwrap();
        assert_eq!(
            ledger(db, links.clone()).await,
            (0, 10, 0),
            "nothing stored at {point}"
        );
    }
    // Without a fault every link is reissued and the entry is stored with them.
    let server = ServerProcess::start(&url, &log).await;
    let surveyor = client();
    login(&surveyor, &server.base, SURVEYOR, SURVEYOR_PASSWORD).await;
    let (_, page) = get_text(
        &surveyor,
        &format!("{}/surveyor/campaigns/{campaign}", server.base),
    )
    .await;
    let done = surveyor
        .post(outbox(&server.base))
        .form(&reissue(csrf_in(&page)))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let file = done.text().await.unwrap();
    assert_eq!(
        file.lines().count(),
        11,
        "a header and ten messages: {file}"
    );
    let db = minyi::db::Db::connect(&url).await.unwrap();
    assert_eq!(ledger(db, links).await, (10, 0, 1));
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let key = db.load_audit_key().unwrap();
    assert!(db.verify_audit(Some(&key)).await.unwrap().is_ok());
    db.close().await;
    drop(server);
}
