//! The audit chain: state-changing events are chained by SHA-256 and marked with a key kept
//! outside the database; `minyi audit verify` and the page find an edited or deleted entry,
//! and a chain recomputed end to end by someone with database access but not the key.

use crate::common;

use common::*;
use std::process::Command;

fn verify(database_url: &str) -> (bool, String) {
    verify_with(database_url, &[])
}

fn verify_with(database_url: &str, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args(["audit", "verify", "--database-url", database_url])
        .args(extra)
        .env_remove("DATABASE_URL")
        .env_remove("MINYI_AUDIT_KEY_FILE")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn every_change_is_chained_and_an_edited_row_is_found() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    // A failed login of a real account is on record too; one with a name that is no
    // account is only counted in the log, so a flood of made-up names cannot fill the chain.
    let failed_login = |username: &'static str| {
        let base = app.base.clone();
        async move {
            let c = client();
            let (_, page) = get_text(&c, &format!("{base}/login")).await;
            let csrf = csrf_in(&page);
            let (s, _, _) = post_form(
                &c,
                &format!("{base}/login"),
                &csrf,
                &[("username", username), ("password", "wrong-password-1")],
            )
            .await;
            s
        }
    };
    let before = app.db.audit_entries(1, 1000).await.unwrap().len();
    assert_eq!(failed_login("13800138000").await, 401);
    assert_eq!(
        app.db.audit_entries(1, 1000).await.unwrap().len(),
        before,
        "a made-up name adds no entry"
    );
    assert_eq!(failed_login("admin").await, 401);
    let entries = app.db.audit_entries(1, 1000).await.unwrap();
    let events: Vec<&str> = entries.iter().map(|e| e.event.as_str()).collect();
    for expected in [
        "village.create",
        "campaign.create",
        "account.create",
        "roster.receipt",
        "login.failure",
    ] {
        assert!(
            events.contains(&expected),
            "{expected} missing from {events:?}"
        );
    }
    assert!(
        !entries.iter().any(|e| e.details.contains("13800138000")),
        "no typed username"
    );
    let receipt = entries
        .iter()
        .find(|e| e.event == "roster.receipt")
        .unwrap();
    assert_eq!(receipt.campaign_id, Some(t.campaign));
    assert!(receipt.details.contains("\"fingerprint\""));

    let (ok, text) = verify(&app.database_url);
    assert!(ok, "{text}");
    assert!(
        text.starts_with(&format!("OK: {} entries, head ", entries.len())),
        "{text}"
    );
    let (admin, _) = (&t.admin.0, &t.admin.1);
    let (_, page) = get_text(admin, &format!("{}/admin/audit", app.base)).await;
    assert!(
        page.contains("核验通过") && page.contains("条均已核验"),
        "the marks were checked with the server's key: {page}"
    );

    // Someone with database access edits entry 3.
    assert_eq!(
        exec(
            &app.db,
            "UPDATE audit_log SET actor = 'account:99' WHERE id = $1",
            3
        )
        .await,
        1
    );
    let (ok, text) = verify(&app.database_url);
    assert!(!ok);
    assert!(text.contains("audit entry 3 is broken"), "{text}");
    let (_, page) = get_text(admin, &format!("{}/admin/audit", app.base)).await;
    assert!(
        page.contains("核验失败") && page.contains("audit entry 3 is broken"),
        "{page}"
    );
    let r = admin
        .get(format!("{}/admin/audit.csv", app.base))
        .send()
        .await
        .unwrap();
    let csv_bytes = r.bytes().await.unwrap();
    assert!(csv_bytes.starts_with(b"\xEF\xBB\xBF"));
    let rows = csv::Reader::from_reader(&csv_bytes[3..]).records().count();
    assert!(rows >= entries.len(), "{rows}");
}

#[tokio::test]
async fn a_deleted_entry_breaks_the_chain_where_it_was() {
    let app = spawn().await;
    town_with_rosters(&app).await;
    let (ok, _) = verify(&app.database_url);
    assert!(ok);
    assert_eq!(
        exec(&app.db, "DELETE FROM audit_log WHERE id = $1", 2).await,
        1
    );
    let (ok, text) = verify(&app.database_url);
    assert!(!ok);
    assert!(text.contains("audit entry 2 is broken: missing"), "{text}");
}

#[tokio::test]
async fn answers_are_never_in_the_log() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let token = invitations(&app, &sv, t.campaign).await[0].1.clone();
    let before = app.db.audit_entries(1, 100_000).await.unwrap().len();
    let mut fields = valid_answers(&minyi::forms::builtin().unwrap().recipients);
    fields.retain(|(k, _)| k != "comment");
    fields.push(("comment".into(), "村主任很好 unique-comment-7".into()));
    let r = client()
        .post(format!("{}/s/{token}", app.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        1
    );
    // Answering through a link leaves no audit entry: its time would point at the person.
    let after = app.db.audit_entries(1, 100_000).await.unwrap();
    assert_eq!(after.len(), before);
    assert!(
        after
            .iter()
            .all(|e| !e.details.contains("unique-comment-7"))
    );
    assert!(
        after.iter().any(|e| e.event == "draw")
            && after.iter().any(|e| e.event == "fieldwork.start")
    );
    assert!(after.iter().any(|e| e.event == "sms.outbox"));
    let (ok, text) = verify(&app.database_url);
    assert!(ok, "{text}");
}

/// What an insider with database access but without the key file can do: read every row,
/// change one entry's details, recompute every hash from there on, write the rows back.
async fn rewrite_chain(db: &minyi::db::Db, victim: i64) {
    let entries = db.all_audit_entries().await.unwrap();
    let mut prev = minyi::audit::GENESIS.to_string();
    for mut e in entries {
        if e.id == victim {
            e.details = r#"{"note":"rewritten"}"#.to_string();
        }
        e.prev_hash = prev.clone();
        e.hash = e.expected_hash();
        prev = e.hash.clone();
        let sql = "UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE id = $4";
        let done = match db {
            minyi::db::Db::Sqlite(s) => sqlx::query(sql)
                .bind(&e.details)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .bind(e.id)
                .execute(&s.write)
                .await
                .unwrap()
                .rows_affected(),
            minyi::db::Db::Postgres(p) => sqlx::query(sql)
                .bind(&e.details)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .bind(e.id)
                .execute(p)
                .await
                .unwrap()
                .rows_affected(),
        };
        assert_eq!(done, 1);
    }
}

#[tokio::test]
async fn a_chain_recomputed_end_to_end_fails_for_want_of_the_key() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let key_file = app.db.audit_key_path();
    let key_arg = key_file.to_str().unwrap().to_string();
    // The key lives outside the database, for its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", key_file.display());
    }
    let (ok, text) = verify_with(&app.database_url, &["--audit-key-file", &key_arg]);
    assert!(ok, "{text}");
    assert!(
        text.contains("hashes and audit-key marks checked") && !text.contains("unkeyed"),
        "{text}"
    );
    let count = app.db.all_audit_entries().await.unwrap().len();
    assert!(text.contains(&format!("{count} entries keyed")), "{text}");

    rewrite_chain(&app.db, 3).await;
    // The hashes alone are fooled: that is what the key is for.
    let (ok, text) = verify_with(&app.database_url, &["--audit-key-file", "/nonexistent/key"]);
    assert!(
        !ok && text.contains("/nonexistent/key does not exist"),
        "{text}"
    );
    let moved = key_file.with_extension("moved");
    std::fs::rename(&key_file, &moved).unwrap();
    let (ok, text) = verify(&app.database_url);
    assert!(ok, "{text}");
    assert!(text.contains("hashes only: no audit key file at"), "{text}");
    // The page says so too, rather than passing on the hashes alone.
    let (_, page) = get_text(&t.admin.0, &format!("{}/admin/audit", app.base)).await;
    assert!(
        page.contains("核验通过") && page.contains("只核验了哈希,没有核验审计密钥标记"),
        "{page}"
    );
    std::fs::rename(&moved, &key_file).unwrap();
    // With the key, the rewritten entry is named.
    let (ok, text) = verify_with(&app.database_url, &["--audit-key-file", &key_arg]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("audit entry 3 is broken: its audit-key mark does not match"),
        "{text}"
    );
    let (_, page) = get_text(&t.admin.0, &format!("{}/admin/audit", app.base)).await;
    assert!(
        page.contains("核验失败") && page.contains("audit entry 3"),
        "{page}"
    );

    // Removing every mark does not pass for an old, unkeyed database either.
    assert!(exec(&app.db, "UPDATE audit_log SET mac = NULL WHERE id >= $1", 1).await > 0);
    let (ok, text) = verify_with(&app.database_url, &["--audit-key-file", &key_arg]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("audit entry 1 is broken: it has no audit-key mark"),
        "{text}"
    );
}

#[tokio::test]
async fn entries_older_than_the_key_are_reported_unkeyed_and_deleting_the_newest_is_found() {
    let app = spawn().await;
    town_with_rosters(&app).await;
    // A database from before the key: no marks; a new key marks from the next entry on.
    assert!(exec(&app.db, "UPDATE audit_log SET mac = NULL WHERE id >= $1", 1).await > 0);
    let before = app.db.all_audit_entries().await.unwrap().len() as i64;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("new.audit-key");
    let key_arg = key_file.to_str().unwrap().to_string();
    let key = minyi::audit_key::AuditKey::create(&key_file, before + 1).unwrap();
    let last = app.db.all_audit_entries().await.unwrap().pop().unwrap();
    let mut next = minyi::audit::Entry {
        id: before + 1,
        at: last.at,
        actor: "cli".into(),
        event: "test".into(),
        campaign_id: None,
        details: "{}".into(),
        prev_hash: last.hash.clone(),
        hash: String::new(),
        mac: None,
    };
    next.hash = next.expected_hash();
    next.mac = Some(key.mark(&next.hash));
    let sql = "INSERT INTO audit_log (id, at, actor, event, campaign_id, details, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8)";
    match &app.db {
        minyi::db::Db::Sqlite(s) => {
            sqlx::query(sql)
                .bind(next.id)
                .bind(next.at)
                .bind(&next.actor)
                .bind(&next.event)
                .bind(&next.details)
                .bind(&next.prev_hash)
                .bind(&next.hash)
                .bind(&next.mac)
                .execute(&s.write)
                .await
                .unwrap();
        }
        minyi::db::Db::Postgres(p) => {
            sqlx::query(sql)
                .bind(next.id)
                .bind(next.at)
                .bind(&next.actor)
                .bind(&next.event)
                .bind(&next.details)
                .bind(&next.prev_hash)
                .bind(&next.hash)
                .bind(&next.mac)
                .execute(p)
                .await
                .unwrap();
        }
    }
    let (ok, text) = verify_with(&app.database_url, &["--audit-key-file", &key_arg]);
    assert!(ok, "{text}");
    assert!(
        text.contains("1 entries keyed")
            && text.contains(&format!("{before} older entries (1 to {before}) were written before the audit key existed and are unkeyed")),
        "{text}"
    );
    // The key file remembers how long the chain was when it was made.
    assert_eq!(
        exec(&app.db, "DELETE FROM audit_log WHERE id >= $1", before).await,
        2
    );
    let (ok, text) = verify_with(&app.database_url, &["--audit-key-file", &key_arg]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("audit entry {before} is broken: missing")),
        "{text}"
    );
}
