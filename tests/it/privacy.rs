//! Attacks on the anonymity of the answers (docs/privacy.md), kept as tests. The real
//! `minyi serve` binary runs over a real database; residents submit one at a time, each
//! answer carrying a marker so the test knows which case gave it. Then an insider with the
//! database tries what would pair answers with phones:
//! - storage order (SQLite's primary-key order, PostgreSQL's `ctid`) against the order the
//!   cases were completed in: no more right pairs than chance (about one per batch of k);
//! - PostgreSQL's `xmin` joined to `cases.xmin` and `invitations.xmin`: nothing joins, and
//!   every transaction that wrote `responses` wrote at least k of a village's answers;
//! - SQLite's WAL: no mixed answer is in it; the database file holds each mixed answer once
//!   (the pool's copy was zeroed); PostgreSQL's pool pages hold no mixed answer;
//! - after the close, each village's answers were written together, in one transaction.
//!
//! And the commission trying to read answers during fieldwork: every results table, CSV and
//! JSON, is refused until the close.
//!
//! Runs on SQLite, and on PostgreSQL when `MINYI_TEST_PG` names a server.

use crate::common;

use common::*;
use minyi::db::Db;
use minyi::ids::CampaignId;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The built-in scheme's small-cell threshold: the mixer's batch size.
const K: usize = 5;
const VILLAGES: usize = 2;
const PER_VILLAGE: usize = 12;

fn marker(i: usize) -> String {
    format!("privacy-marker-{i:04}")
}

/// The marker's number in an answer's JSON.
fn marker_in(json: &str) -> Option<usize> {
    let start = json.find("privacy-marker-")? + "privacy-marker-".len();
    json.get(start..start + 4)?.parse().ok()
}

async fn strings(db: &Db, sql: &'static str, campaign: CampaignId) -> Vec<String> {
    match db {
        Db::Sqlite(s) => {
            sqlx::query_scalar(sql)
                .bind(campaign)
                .fetch_all(&s.read)
                .await
        }
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(campaign).fetch_all(p).await,
    }
    .expect(sql)
}

fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    url.strip_prefix("sqlite://").map(std::path::PathBuf::from)
}

fn occurrences(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

/// The most right pairs the order attack may find by luck: about one per batch, with room
/// for chance (mean n/k, three standard deviations of a Poisson count). Storing in the
/// order answers came would pair all n.
fn chance_bound(n: usize) -> usize {
    let mean = n as f64 / K as f64;
    (mean + 3.0 * mean.sqrt()).ceil() as usize
}

/// The order attack: pair the answers in storage order with the mixed cases in the order they
/// were completed (the attacker's best knowledge: the console's order). Returns right pairs.
async fn order_attack(db: &Db, campaign: CampaignId, submitted: &[usize]) -> (usize, usize) {
    let sql = match db {
        // WITHOUT ROWID: the table's own order is its primary key's.
        Db::Sqlite(_) => "SELECT answers FROM responses WHERE campaign_id = $1",
        Db::Postgres(_) => "SELECT answers FROM responses WHERE campaign_id = $1 ORDER BY ctid",
    };
    let stored: Vec<usize> = strings(db, sql, campaign)
        .await
        .iter()
        .filter_map(|j| marker_in(j))
        .collect();
    let mixed: HashSet<usize> = stored.iter().copied().collect();
    let completed: Vec<usize> = submitted
        .iter()
        .copied()
        .filter(|m| mixed.contains(m))
        .collect();
    let right = stored
        .iter()
        .zip(&completed)
        .filter(|(a, b)| a == b)
        .count();
    (right, stored.len())
}

/// Polls `probe` until it holds (the mixer works in the background), up to `secs`.
async fn eventually<F, Fut>(secs: u64, mut probe: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 10 {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn answers_submitted_one_at_a_time_cannot_be_paired_with_their_cases() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, VILLAGES, PER_VILLAGE).await;
    let campaign = prepared.campaign;
    let server = ServerProcess::start(&url, &dir.path().join("server.log")).await;
    let db = Db::connect(&url).await.unwrap();
    let base = server.base.clone();
    let http = client();

    // The commission during fieldwork: nothing from the answers, in any form.
    let admin = client();
    let csrf = login_and_set_password(
        &admin,
        &base,
        "admin",
        &prepared.admin_password,
        "commission-2026-key",
    )
    .await;
    let refused = |when: &'static str| {
        let (admin, base) = (admin.clone(), base.clone());
        async move {
            for name in ["tallies", "counts", "item16", "assessment", "comments"] {
                for url in [
                    format!("{base}/admin/campaigns/{campaign}/downloads/{name}.csv"),
                    format!("{base}/api/campaigns/{campaign}/results/{name}"),
                ] {
                    let r = admin.get(&url).send().await.unwrap();
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    assert!(
                        (400..500).contains(&status) && !body.contains(&marker(0)),
                        "{when}: {url} answered {status} during fieldwork:\n{body}"
                    );
                }
            }
            let (s, page) = get_text(
                &admin,
                &format!("{base}/admin/campaigns/{campaign}/results"),
            )
            .await;
            assert_eq!(s, 200);
            assert!(page.contains("调查还在进行"), "{when}: {page}");
        }
    };
    refused("before any answer").await;

    let mut submitted = Vec::new();
    for (i, (_, token)) in prepared.links.iter().enumerate() {
        let r = http
            .post(format!("{base}/s/{token}"))
            .form(&answers_marked(&marker(i)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "submit {i}");
        submitted.push(i);
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    refused("after every answer").await;

    // The mixer has moved whole batches; fewer than k of a village may wait for the close.
    let settled = eventually(30, || async {
        let waiting = strings(
            &db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM response_pool WHERE campaign_id = $1 GROUP BY village_id",
            campaign,
        )
        .await;
        waiting.iter().all(|n| n.parse::<usize>().unwrap() < K)
    })
    .await;
    assert!(
        settled,
        "the mixer left k or more answers of a village waiting"
    );
    let mixed: Vec<usize> = strings(
        &db,
        "SELECT answers FROM responses WHERE campaign_id = $1",
        campaign,
    )
    .await
    .iter()
    .filter_map(|j| marker_in(j))
    .collect();
    assert!(
        mixed.len() >= VILLAGES * (PER_VILLAGE - (K - 1)),
        "only {} answers mixed",
        mixed.len()
    );

    // Storage order.
    let (right, n) = order_attack(&db, campaign, &submitted).await;
    assert!(
        right <= chance_bound(n),
        "storage order pairs {right} of {n} answers with their cases"
    );

    match &db {
        Db::Postgres(p) => {
            // The same transaction as the case or the invitation: nothing joins.
            for sql in [
                "SELECT COUNT(*) FROM responses r JOIN cases c ON c.xmin = r.xmin",
                "SELECT COUNT(*) FROM responses r JOIN invitations i ON i.xmin = r.xmin",
                "SELECT COUNT(*) FROM responses r JOIN attempts a ON a.xmin = r.xmin",
            ] {
                let joined: i64 = sqlx::query_scalar(sql).fetch_one(p).await.unwrap();
                assert_eq!(joined, 0, "{sql}");
            }
            // Every transaction that wrote answers wrote at least k of one village.
            let small: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT xmin::text, village_id, COUNT(*) AS n FROM responses
                 GROUP BY xmin::text, village_id HAVING COUNT(*) < $1) s",
            )
            .bind(K as i64)
            .fetch_one(p)
            .await
            .unwrap();
            assert_eq!(small, 0, "a batch of fewer than k answers");
            // The pool was rewritten: its pages hold no answer that has been mixed.
            let pages = raw_pages(&db, &["response_pool".to_string()]).await;
            for m in &mixed {
                assert_eq!(
                    occurrences(&pages, &marker(*m)),
                    0,
                    "mixed answer {m} still in the pool's pages"
                );
            }
        }
        Db::Sqlite(_) => {
            let file = sqlite_file(&url).unwrap();
            let mut wal = file.clone().into_os_string();
            wal.push("-wal");
            let wal = std::path::PathBuf::from(wal);
            // The WAL was truncated after the last batch; only answers still waiting may be
            // there (submitted after it).
            let clean = eventually(10, || async {
                let bytes = file_bytes(&wal);
                mixed.iter().all(|m| occurrences(&bytes, &marker(*m)) == 0)
            })
            .await;
            assert!(clean, "the WAL still holds mixed answers");
            // The pool's copy of each mixed answer was zeroed: the file holds it once.
            let bytes = file_bytes(&file);
            for m in &mixed {
                assert_eq!(
                    occurrences(&bytes, &marker(*m)),
                    1,
                    "answer {m} in the database file"
                );
            }
        }
    }

    // The close: the rest joins, and each village's answers are written again together.
    let (status, _, location) = post_form(
        &admin,
        &format!("{base}/admin/campaigns/{campaign}/close"),
        &csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (
            303,
            Some(format!("/admin/campaigns/{campaign}?m=closed").as_str())
        )
    );
    assert_eq!(waiting(&db, campaign).await, 0);
    let all = strings(
        &db,
        "SELECT answers FROM responses WHERE campaign_id = $1",
        campaign,
    )
    .await;
    let markers: HashSet<usize> = all.iter().filter_map(|j| marker_in(j)).collect();
    assert_eq!(markers.len(), VILLAGES * PER_VILLAGE, "every answer, once");
    assert_eq!(all.len(), VILLAGES * PER_VILLAGE);
    let (right, n) = order_attack(&db, campaign, &submitted).await;
    assert!(
        right <= chance_bound(n),
        "after the close, storage order pairs {right} of {n}"
    );
    match &db {
        Db::Postgres(p) => {
            let writers: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT xmin::text) FROM responses WHERE campaign_id = $1",
            )
            .bind(campaign)
            .fetch_one(p)
            .await
            .unwrap();
            assert_eq!(
                writers, 1,
                "the close rewrites every answer in one transaction"
            );
        }
        Db::Sqlite(_) => {
            let file = sqlite_file(&url).unwrap();
            let mut wal = file.into_os_string();
            wal.push("-wal");
            let bytes = file_bytes(std::path::Path::new(&wal));
            for i in 0..VILLAGES * PER_VILLAGE {
                assert_eq!(occurrences(&bytes, &marker(i)), 0, "answer {i} in the WAL");
            }
        }
    }

    // Comments and figures are there now, for the commission only.
    let r = admin
        .get(format!("{base}/api/campaigns/{campaign}/results/comments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(&marker(0)), "{body}");
    drop(server);
}

/// The surveyor is told each change an administrator makes to surveyor accounts.
#[tokio::test]
async fn the_surveyor_sees_when_its_account_is_reset_or_another_surveyor_made() {
    let app = spawn().await;
    let (admin, csrf) = admin_client(&app).await;
    let base = &app.base;
    let mut passwords = HashMap::new();
    for name in ["third_party", "second_one"] {
        let (_, page, _) = post_form(
            &admin,
            &format!("{base}/admin/accounts"),
            &csrf,
            &[
                ("username", name),
                ("display_name", "调查员"),
                ("role", "surveyor"),
            ],
        )
        .await;
        passwords.insert(name, one_time_password_in(&page));
    }
    let surveyor = client();
    login_and_set_password(
        &surveyor,
        base,
        "third_party",
        &passwords["third_party"],
        "surveyor-password-2026",
    )
    .await;
    let (_, home) = get_text(&surveyor, &format!("{base}/surveyor")).await;
    assert!(home.contains("调查员账号 second_one 于"), "{home}");
    assert!(home.contains("被管理员 admin 新建"), "{home}");
    assert!(!home.contains("重置密码"), "{home}");

    // The commission resets the surveyor's password (to log in as the surveyor).
    let id = app
        .db
        .account_by_username("third_party")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (s, _, _) = post_form(
        &admin,
        &format!("{base}/admin/accounts/{id}/reset"),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let again = client();
    let page = {
        let r = login(&again, base, "third_party", "surveyor-password-2026").await;
        assert_ne!(r.status().as_u16(), 303, "the old password no longer works");
        let (_, page) = get_text(&surveyor, &format!("{base}/surveyor")).await;
        page
    };
    // The old session ended with the reset; the third party logs in with the new password
    // and reads what happened.
    assert!(!page.contains("第三方调查</h1>"), "session ended: {page}");
    let (_, reset_page, _) = post_form(
        &admin,
        &format!("{base}/admin/accounts/{id}/reset"),
        &csrf,
        &[],
    )
    .await;
    let fresh = client();
    login_and_set_password(
        &fresh,
        base,
        "third_party",
        &one_time_password_in(&reset_page),
        "surveyor-password-2027",
    )
    .await;
    let (_, home) = get_text(&fresh, &format!("{base}/surveyor")).await;
    assert_eq!(home.matches("您的账号于").count(), 3, "{home}");
    assert!(home.contains("被管理员 admin 重置密码"), "{home}");
    assert!(home.contains("被管理员 admin 新建"), "{home}");
}

/// `minyi` under `umask 000`, which would make every new file readable by everyone.
fn minyi_umask_000(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_minyi"))
        .args(args)
        .env_remove("DATABASE_URL");
    c
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The database, its -wal and -shm, a backup and exported rosters are the owner's alone
/// (0600), even when the umask would let everyone read them.
#[cfg(unix)]
#[tokio::test]
async fn files_with_phone_numbers_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db_file = dir.path().join("town.db");
    let url = format!("sqlite://{}", db_file.display());
    let out = minyi_umask_000(&["demo", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&db_file), 0o600, "the database file");

    // While the server runs, the WAL and the shared-memory index exist.
    let port = free_port();
    let mut server = minyi_umask_000(&[
        "serve",
        "--database-url",
        &url,
        "--bind",
        &format!("127.0.0.1:{port}"),
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let up = eventually(30, || async {
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    assert!(up, "the server started");
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db_file.display()));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    // A backup of the running database, and the frozen rosters exported for `minyi verify`.
    let backup = dir.path().join("backup.db");
    let out = minyi_umask_000(&["backup", backup.to_str().unwrap(), "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&backup), 0o600, "the backup");
    let export = dir.path().join("rosters");
    let out = minyi_umask_000(&[
        "rosters",
        "export",
        "--campaign",
        "1",
        "--out",
        export.to_str().unwrap(),
        "--database-url",
        &url,
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&export)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 12, "one roster per demo village");
    for f in files {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    let _ = server.kill();
    let _ = server.wait();
}
