//! The audit chain (issue 7, deliverable 1): state-changing events are chained by SHA-256;
//! `minyi audit verify` and the page find an edited or deleted entry.

mod common;

use common::*;
use std::process::Command;

fn verify(database_url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args(["audit", "verify", "--database-url", database_url])
        .env_remove("DATABASE_URL")
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
    // A failed login is on record too (without the typed name).
    let (s, _) = {
        let c = client();
        let (_, page) = get_text(&c, &format!("{}/login", app.base)).await;
        let csrf = csrf_in(&page);
        let (s, body, _) = post_form(
            &c,
            &format!("{}/login", app.base),
            &csrf,
            &[
                ("username", "13800138000"),
                ("password", "wrong-password-1"),
            ],
        )
        .await;
        (s, body)
    };
    assert_eq!(s, 401);
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
    assert!(page.contains("核验通过"), "{page}");

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
