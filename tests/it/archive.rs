//! Data protection and backup: after approval the archive is
//! exported and the campaign's phones and names are purged, leaving tallies, grades, the
//! draw record and the audit chain intact; `minyi backup` copies a database under load.

use crate::common;

use common::*;
use std::io::Read;
use std::process::Command;

fn minyi(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn bytes(c: &reqwest::Client, url: &str) -> Vec<u8> {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_archive_verifies_offline_and_the_purge_keeps_every_result() {
    let app = spawn().await;
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let id = made.campaign_id;
    let (admin, csrf) = admin_client(&app).await;
    let base = &app.base;
    // The demo's publicity ends in the future: move it into the past, resolve its objection.
    exec(&app.db, "UPDATE publicity SET start_date = '2026-09-01', end_date = '2026-09-09' WHERE campaign_id = $1", id.0).await;
    let oid = app.db.objections(id).await.unwrap()[0].id;
    post_form(
        &admin,
        &format!("{base}/admin/campaigns/{id}/objections/{oid}/resolve"),
        &csrf,
        &[("decision", "dismissed"), ("resolution", "已复核")],
    )
    .await;
    crate::decisions::decide_every_listed_village(&app, &admin, &csrf, id).await;
    let purge = |confirm: &'static str| {
        let (admin, csrf, url) = (
            admin.clone(),
            csrf.clone(),
            format!("{base}/admin/campaigns/{id}/purge"),
        );
        async move {
            location_query(
                &post_form(&admin, &url, &csrf, &[("confirm", confirm)])
                    .await
                    .2,
            )
        }
    };
    assert_eq!(purge("yes").await, "e=not_approved#archive");
    let (_, _, loc) = post_form(
        &admin,
        &format!("{base}/admin/campaigns/{id}/approve"),
        &csrf,
        &[],
    )
    .await;
    assert!(location_query(&loc).starts_with("m=approved"));
    assert_eq!(purge("yes").await, "e=not_archived#archive");

    let downloads = ["tallies", "counts", "item16", "assessment", "comments"];
    let mut before = Vec::new();
    for name in downloads {
        before.push(
            bytes(
                &admin,
                &format!("{base}/admin/campaigns/{id}/downloads/{name}.csv"),
            )
            .await,
        );
    }
    let record_before = app.db.draw_record(id).await.unwrap().unwrap().0;

    // Exporting the archive changes state (the purge requires it), so only a POST with the
    // session's CSRF token does it: no GET, whatever its address, and no forged form.
    for url in [
        format!("{base}/admin/campaigns/{id}/archive"),
        format!("{base}/admin/campaigns/{id}/archive.zip"),
    ] {
        let r = admin.get(&url).send().await.unwrap();
        assert!(r.status().is_client_error(), "GET {url}: {}", r.status());
    }
    let (status, _, _) = post_form(
        &admin,
        &format!("{base}/admin/campaigns/{id}/archive"),
        "forged-token",
        &[],
    )
    .await;
    assert_eq!(status, 403, "a forged export");
    assert_eq!(
        app.db.archive_state(id).await.unwrap().0,
        None,
        "not archived"
    );
    assert_eq!(purge("yes").await, "e=not_archived#archive");

    // The archive: rosters, draw record, audit log, results, and a manifest of hashes.
    let r = admin
        .post(format!("{base}/admin/campaigns/{id}/archive"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the export answers the archive");
    assert_eq!(r.headers()["content-type"], "application/zip");
    let zip_bytes = r.bytes().await.unwrap().to_vec();
    assert!(
        app.db.archive_state(id).await.unwrap().0.is_some(),
        "archived"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        let path = dir.path().join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &content).unwrap();
        names.push(name);
    }
    let root = dir.path().join(format!("campaign-{id}"));
    // Nobody applied in the demo nor handed in a half-yearly report: no such folders (the
    // archive with them is tested in village_archive.rs).
    assert!(
        !names.iter().any(|n| n.contains("/applications/")
            || n.contains("/village-reports/")
            || n.ends_with("/attachments.csv")),
        "{names:?}"
    );
    for expected in [
        "draw-record.json",
        "audit-log.csv",
        "tallies.csv",
        "MANIFEST.txt",
        "rosters/430527101.csv",
        "publicity-notice.txt",
    ] {
        assert!(
            names.contains(&format!("campaign-{id}/{expected}")),
            "{expected} in {names:?}"
        );
    }
    let roster = std::fs::read_to_string(root.join("rosters/430527101.csv")).unwrap();
    assert_eq!(
        roster.lines().count(),
        1 + 420,
        "the demo's first village has 420 people"
    );
    // The notice as posted, word for word.
    let posted = app.db.publicity(id).await.unwrap().unwrap().notice_text;
    assert_eq!(
        std::fs::read_to_string(root.join("publicity-notice.txt")).ok(),
        posted
    );
    let manifest = std::fs::read_to_string(root.join("MANIFEST.txt")).unwrap();
    assert!(manifest.lines().count() >= 12);
    // The audit chain's head is printed in every published document, and the chain in the
    // database is checked against each: the archive manifest, the draw record, the publicity.
    let manifest_head = manifest
        .lines()
        .find_map(|l| l.strip_prefix("# audit-head "))
        .unwrap_or_else(|| panic!("no audit head in the manifest:\n{manifest}"))
        .to_string();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("draw-record.json")).unwrap())
            .unwrap();
    let record_head = record["audit_head"]
        .as_str()
        .unwrap_or_else(|| panic!("no audit head in the draw record: {record}"))
        .to_string();
    let publicity_head = app
        .db
        .publicity(id)
        .await
        .unwrap()
        .and_then(|p| p.audit_head)
        .expect("the publicity has an audit head");
    let (_, results_page) = get_text(&admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert!(results_page.contains(&publicity_head), "{results_page}");
    let (ok, text) = minyi(&[
        "audit",
        "verify",
        "--database-url",
        &app.database_url,
        "--head",
        &manifest_head,
        "--head",
        &record_head,
        "--head",
        &publicity_head,
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("hashes and audit-key marks checked"),
        "{text}"
    );
    for h in [&manifest_head, &record_head, &publicity_head] {
        let id = h.split(':').next().unwrap();
        assert!(
            text.contains(&format!("published head {id} is in the chain")),
            "{text}"
        );
    }
    // A head that is not in the chain (a rewritten or shortened log) is refused.
    let (head_id, head_hash) = manifest_head.split_once(':').unwrap();
    let forged = format!("{head_id}:{}", "0".repeat(64));
    let (ok, text) = minyi(&[
        "audit",
        "verify",
        "--database-url",
        &app.database_url,
        "--head",
        &forged,
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!(
            "the published head {forged} is not in the chain: entry {head_id} has hash {head_hash}"
        )),
        "{text}"
    );
    let beyond = format!("{}:{head_hash}", 1_000_000);
    let (ok, text) = minyi(&[
        "audit",
        "verify",
        "--database-url",
        &app.database_url,
        "--head",
        &beyond,
    ]);
    assert!(
        !ok && text.contains("is not in the chain: it has only"),
        "{text}"
    );
    let (ok, text) = minyi(&[
        "verify",
        "--record",
        root.join("draw-record.json").to_str().unwrap(),
        "--rosters",
        root.join("rosters").to_str().unwrap(),
    ]);
    assert!(
        ok,
        "the archive's rosters re-draw the published sample: {text}"
    );

    // Every phone the purge is to erase: rosters, cases, panel members.
    let phones: std::collections::BTreeSet<String> = {
        let sql = "SELECT e.phone FROM roster_entries e JOIN rosters r ON r.id = e.roster_id WHERE r.campaign_id = $1
                   UNION SELECT phone FROM cases WHERE campaign_id = $1
                   UNION SELECT phone FROM panel_members WHERE campaign_id = $1 AND phone IS NOT NULL";
        match &app.db {
            minyi::db::Db::Sqlite(s) => sqlx::query_scalar(sql).bind(id).fetch_all(&s.read).await,
            minyi::db::Db::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_all(p).await,
        }
        .unwrap()
        .into_iter()
        .collect()
    };
    assert!(phones.len() > 3000, "the demo's rosters: {}", phones.len());
    let readable = |bytes: Vec<u8>| {
        let found = eleven_digit_strings(&bytes);
        phones.iter().filter(|p| found.contains(*p)).count()
    };
    assert!(
        readable(stored_bytes(&app.db, &app.database_url).await) > 3000,
        "before the purge the bytes hold the phones (the scan finds them)"
    );

    assert_eq!(purge("").await, "e=confirm#archive");
    assert_eq!(purge("yes").await, "m=purged#archive");
    // Not only unreachable by SQL: no purged phone is left in the database's bytes (free
    // pages, slack, the WAL; on PostgreSQL every page of every table and index).
    assert_eq!(
        readable(stored_bytes(&app.db, &app.database_url).await),
        0,
        "purged phones still readable in the database's bytes"
    );
    assert_eq!(purge("yes").await, "e=purged#archive");

    // Nothing with a phone or a name is left for this campaign.
    let leftover = |sql: &'static str| {
        let db = app.db.clone();
        async move { exec(&db, sql, id.0).await }
    };
    assert_eq!(leftover("DELETE FROM roster_entries WHERE roster_id IN (SELECT id FROM rosters WHERE campaign_id = $1)").await, 0);
    assert_eq!(leftover("UPDATE cases SET phone = phone WHERE campaign_id = $1 AND (phone <> '' OR name IS NOT NULL)").await, 0);
    assert_eq!(
        leftover("UPDATE draw_strata SET ranked = ranked WHERE campaign_id = $1 AND ranked <> ''")
            .await,
        0
    );
    assert_eq!(leftover("UPDATE panel_members SET phone = phone WHERE campaign_id = $1 AND (phone IS NOT NULL OR name <> '（已清除）')").await, 0);
    assert_eq!(leftover("UPDATE rosters SET receipt = receipt WHERE campaign_id = $1 AND receipt LIKE '%137000%'").await, 0);

    // Every result, the draw record and the audit chain are as they were.
    for (name, old) in downloads.iter().zip(before) {
        let now = bytes(
            &admin,
            &format!("{base}/admin/campaigns/{id}/downloads/{name}.csv"),
        )
        .await;
        assert!(now == old, "{name}.csv changed by the purge");
    }
    assert_eq!(
        app.db.draw_record(id).await.unwrap().unwrap().0,
        record_before
    );
    let (ok, text) = minyi(&["audit", "verify", "--database-url", &app.database_url]);
    assert!(ok, "{text}");
    let events: Vec<String> = app
        .db
        .audit_entries(1, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(
        events.contains(&"campaign.archive".to_string())
            && events.contains(&"campaign.purge".to_string())
    );
    let (s, page) = get_text(&admin, &format!("{base}/admin/campaigns/{id}/results")).await;
    assert_eq!(s, 200);
    assert!(page.contains("已于"), "the page says when it was purged");
}

#[tokio::test]
async fn a_backup_taken_under_load_holds_every_answer_acknowledged_before_it() {
    if std::env::var("MINYI_TEST_PG").is_ok_and(|v| !v.is_empty()) {
        // PostgreSQL is backed up with pg_dump (README); `minyi backup` says so.
        let app = spawn().await;
        let (ok, text) = minyi(&[
            "backup",
            "/tmp/never-written.db",
            "--database-url",
            &app.database_url,
        ]);
        assert!(!ok && text.contains("pg_dump"), "{text}");
        return;
    }
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let tokens: Vec<String> = invitations(&app, &sv, t.campaign)
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    assert!(tokens.len() >= 30);
    let fields = valid_answers(&minyi::forms::builtin().unwrap().recipients);
    let acked = std::sync::Arc::new(std::sync::Mutex::new(
        Vec::<(std::time::Instant, String)>::new(),
    ));
    let mut tasks = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let (url, fields, acked) = (
            format!("{}/s/{token}", app.base),
            fields.clone(),
            acked.clone(),
        );
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(10 * i as u64)).await;
            let r = client().post(&url).form(&fields).send().await.unwrap();
            if r.status().is_redirection() || r.status().is_success() {
                acked
                    .lock()
                    .unwrap()
                    .push((std::time::Instant::now(), token));
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.db");
    let started = std::time::Instant::now();
    let url = app.database_url.clone();
    let path = backup.clone();
    let (ok, text) = tokio::task::spawn_blocking(move || {
        minyi(&["backup", path.to_str().unwrap(), "--database-url", &url])
    })
    .await
    .unwrap();
    assert!(ok, "{text}");
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(at, _)| *at < started)
        .map(|(_, t)| t)
        .collect();
    assert!(
        !before.is_empty() && before.len() < tokens.len(),
        "the backup ran mid-load ({} of {})",
        before.len(),
        tokens.len()
    );

    let copy = minyi::db::Db::connect(&format!("sqlite://{}", backup.display()))
        .await
        .unwrap();
    let minyi::db::Db::Sqlite(s) = &copy else {
        unreachable!()
    };
    for token in before {
        let hash = minyi::secrets::token_hash(token);
        let used: bool = sqlx::query_scalar(
            "SELECT i.used FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_one(&s.read)
        .await
        .unwrap();
        assert!(used, "an answer acknowledged before the backup is in it");
    }
    // And the copy is consistent: one response per used invitation.
    let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations WHERE used")
        .fetch_one(&s.read)
        .await
        .unwrap();
    let responses: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM response_pool) + (SELECT COUNT(*) FROM responses)",
    )
    .fetch_one(&s.read)
    .await
    .unwrap();
    assert_eq!(used, responses);
    let (ok, text) = minyi(&[
        "audit",
        "verify",
        "--database-url",
        &format!("sqlite://{}", backup.display()),
    ]);
    assert!(ok, "{text}");
}
