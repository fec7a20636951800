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

/// The page without its `<details>` blocks (the stored records): what a clerk reads first.
fn without_raw_records(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<details>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</details>") {
            Some(end) => rest = &rest[start + end + "</details>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// minijinja writes "/" in variables as `&#x2f;`; links compare after undoing it.
fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&amp;", "&")
}

/// The ids of the entries a page lists, in order (`<td class="num">id</td>` opens a row).
fn listed_ids(html: &str) -> Vec<i64> {
    html.split("<tr><td class=\"num\">")
        .skip(1)
        .filter_map(|row| row.split('<').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn the_log_reads_in_pages_of_fifty_with_names_events_and_summaries() {
    let app = spawn().await;
    let t = town(&app).await;
    let admin = &t.admin.0;
    let base = &app.base;
    // A village whose name is markup, and an override of its item 16 by the administrator.
    let hostile = "<script>alert(1)</script>甲村";
    let code = minyi::domain::VillageCode::parse("V9").unwrap();
    let village =
        minyi::ops::campaigns::create_village(&app.db, &minyi::ops::Actor::cli(), &code, hostile)
            .await
            .unwrap();
    let admin_id = app
        .db
        .account_by_username("admin")
        .await
        .unwrap()
        .unwrap()
        .id;
    minyi::ops::results::override_item16(
        &app.db,
        &minyi::ops::Actor::account(admin_id),
        minyi::ops::results::Village {
            campaign_id: t.campaign,
            village_id: village,
            code: "V9",
        },
        Some(minyi::domain::Grade::FairlyGood),
        "回访核实",
    )
    .await
    .unwrap();
    // Enough entries for more than one page.
    for day in 1..=55 {
        app.db
            .append_audit(&minyi::audit::Event::new(
                "cli",
                "calendar.delete",
                None,
                serde_json::json!({ "day": format!("2026-10-{day:02}") }),
            ))
            .await
            .unwrap();
    }
    let total = app.db.all_audit_entries().await.unwrap().len() as i64;
    let pages = (total + 49) / 50;
    assert!(pages >= 2, "{total}");

    let (s, first) = get_text(admin, &format!("{base}/admin/audit")).await;
    assert_eq!(s, 200, "{first}");
    assert!(
        first.contains(&format!("第 1 页，共 {pages} 页（共 {total} 条）")),
        "{first}"
    );
    let ids = listed_ids(&first);
    assert_eq!(ids.len(), 50);
    assert_eq!(ids[0], total, "newest first");
    assert!(ids.windows(2).all(|w| w[0] == w[1] + 1), "{ids:?}");
    assert!(unescaped(&first).contains("<a href=\"/admin/audit?page=2\">下一页</a>"));
    assert!(!first.contains("上一页"));
    assert!(first.contains("<div class=\"table-scroll\">"));
    assert!(
        !first.contains("src/audit.rs") && !first.contains("src&#x2f;audit.rs"),
        "no pointer to source code"
    );

    // Page 2 shows the older entries, down to the first one on the last page.
    let (s, second) = get_text(admin, &format!("{base}/admin/audit?page=2")).await;
    assert_eq!(s, 200);
    let older = listed_ids(&second);
    assert_eq!(older[0], total - 50);
    assert!(second.contains(&format!("第 2 页，共 {pages} 页")));
    assert!(unescaped(&second).contains("<a href=\"/admin/audit?page=1\">上一页</a>"));
    let (_, last) = get_text(admin, &format!("{base}/admin/audit?page={pages}")).await;
    assert_eq!(listed_ids(&last).last(), Some(&1));

    // People by name and role, events by their Chinese names; the stored forms only in
    // the raw records.
    let last_text = without_raw_records(&last) + &without_raw_records(&first);
    assert!(!last_text.contains("account:"), "{last_text}");
    assert!(
        last_text.contains("<td>admin（镇纪委管理员）</td>"),
        "{last_text}"
    );
    assert!(last_text.contains("（op1，村(社区)操作员）"), "{last_text}");
    for name in [
        "新增村(社区)",
        "新建调查轮次",
        "新建账号",
        "登录",
        "删除日历日期",
    ] {
        assert!(last_text.contains(name), "{name} missing");
    }
    // The keys remain only as the filter's option values and in the raw records.
    for page in [&first, &last] {
        let page = without_raw_records(page);
        let table = &page[page.find("<table>").unwrap()..page.find("</table>").unwrap()];
        assert!(!table.contains("village.create") && !table.contains("calendar.delete"));
    }
    assert!(last.contains("<details><summary>原始记录</summary>"));
    assert!(
        last.contains("account:1") || last.contains("account:"),
        "raw actor kept"
    );

    // One event's entries: the override reads as a sentence, its JSON and hash behind
    // the toggle, and the village's name escaped.
    let (s, only) = get_text(admin, &format!("{base}/admin/audit?event=item16.override")).await;
    assert_eq!(s, 200);
    assert_eq!(listed_ids(&only).len(), 1);
    assert!(only.contains("第 1 页，共 1 页（共 1 条）"), "{only}");
    assert!(only.contains("调整第16项等次"));
    assert!(
        only.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;甲村 → 较好，理由：回访核实"),
        "{only}"
    );
    assert!(!only.contains("<script>alert(1)"), "escaped");
    let raw = &only[only.find("<details><summary>原始记录</summary>").unwrap()..];
    assert!(
        raw.contains("&quot;reason&quot;:&quot;回访核实&quot;"),
        "{raw}"
    );
    let entry = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.event == "item16.override")
        .unwrap();
    assert!(raw.contains(&entry.hash));
    assert!(only.contains("<option value=\"item16.override\" selected>调整第16项等次</option>"));
    let (_, by_campaign) = get_text(
        admin,
        &format!("{base}/admin/audit?campaign={}", t.campaign),
    )
    .await;
    assert!(
        listed_ids(&by_campaign).len() == 2 && by_campaign.contains("第 1 页，共 1 页（共 2 条）"),
        "{by_campaign}"
    );

    // Page numbers that are not pages: a Chinese 400, or the last page.
    for bad in ["abc", "-1", "0", "2.5"] {
        let (s, page) = get_text(admin, &format!("{base}/admin/audit?page={bad}")).await;
        assert_eq!(s, 400, "{bad}: {page}");
        assert!(page.contains("页码") && page.contains("正整数"), "{page}");
    }
    let (s, page) = get_text(admin, &format!("{base}/admin/audit?campaign=x")).await;
    assert_eq!(s, 400, "{page}");
    for huge in ["999999", "99999999999999999999999999"] {
        let (s, page) = get_text(admin, &format!("{base}/admin/audit?page={huge}")).await;
        assert_eq!(s, 200, "{page}");
        assert!(
            page.contains(&format!("第 {pages} 页，共 {pages} 页")),
            "{page}"
        );
        assert!(page.contains("下面是最后一页"));
    }

    // The CSV keeps its nine columns in order and adds the names and the summary.
    let r = admin
        .get(format!("{base}/admin/audit.csv"))
        .send()
        .await
        .unwrap();
    let bytes = r.bytes().await.unwrap();
    let mut csv = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "序号",
            "时间戳",
            "时间",
            "操作者",
            "事件",
            "调查轮次",
            "详情",
            "前一条哈希",
            "哈希",
            "操作者名称",
            "事件名称",
            "摘要"
        ]
    );
    let row = csv
        .records()
        .map(Result::unwrap)
        .find(|r| &r[4] == "item16.override")
        .unwrap();
    assert_eq!(&row[3], &format!("account:{admin_id}"));
    assert_eq!(&row[10], "调整第16项等次");
    assert_eq!(&row[11], &format!("{hostile} → 较好，理由：回访核实"));
}

#[tokio::test]
async fn only_administrators_open_the_audit_log() {
    let app = spawn().await;
    let t = town(&app).await;
    for path in ["/admin/audit", "/admin/audit?page=2", "/admin/audit.csv"] {
        let (s, _) = get_text(&t.op1.0, &format!("{}{path}", app.base)).await;
        assert_eq!(s, 403, "{path}");
        let r = client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{path}");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_page_and_csv_show_no_phone_number_of_the_rosters() {
    let app = spawn().await;
    let (t, _) = fieldwork(&app).await;
    let phones: Vec<String> = (0..30)
        .map(|i| format!("138{:08}", i * 37))
        .chain((0..5).map(|i| format!("139{i:08}")))
        .collect();
    let mut shown = Vec::new();
    let pages = app.db.all_audit_entries().await.unwrap().len().div_ceil(50);
    for page in 1..=pages {
        let (s, html) =
            get_text(&t.admin.0, &format!("{}/admin/audit?page={page}", app.base)).await;
        assert_eq!(s, 200);
        shown.extend(html.into_bytes());
    }
    let csv = t
        .admin
        .0
        .get(format!("{}/admin/audit.csv", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    shown.extend_from_slice(&csv);
    let found = eleven_digit_strings(&shown);
    for p in &phones {
        assert!(!found.contains(p), "{p} shown");
    }
}

/// Every event key the code writes: the first argument of `Actor::event` (`by.event("…"`)
/// and the second of `Event::new`, a literal or a `let` bound to literals just before.
fn event_keys_written_in_src() -> std::collections::BTreeMap<String, String> {
    fn collect(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                collect(&p, files);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    fn literals(s: &str) -> Vec<String> {
        s.split('"')
            .skip(1)
            .step_by(2)
            .filter(|l| {
                !l.is_empty()
                    && l.split('.').all(|part| {
                        !part.is_empty()
                            && part
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    })
            })
            .map(String::from)
            .collect()
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let mut keys = std::collections::BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Code only: test modules and comment lines left out.
        let text = text.split("\n#[cfg(test)]\nmod tests").next().unwrap();
        let text: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        for (call, skip_args) in [(".event(", 0), ("Event::new(", 1)] {
            let mut from = 0;
            while let Some(at) = text[from..].find(call) {
                let start = from + at + call.len();
                from = start;
                let mut arg = text[start..].trim_start();
                for _ in 0..skip_args {
                    // Past the first argument: an actor, without commas of its own.
                    arg = arg[arg.find(',').map_or(arg.len(), |i| i + 1)..].trim_start();
                }
                let place = format!("src/{rel} at byte {start}");
                if let Some(lit) = arg.strip_prefix('"') {
                    let key = lit.split('"').next().unwrap().to_string();
                    keys.insert(key, place);
                    continue;
                }
                let ident: String = arg
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(!ident.is_empty(), "{place}: cannot read the event key");
                let binding = format!("let {ident} =");
                match text[..start].rfind(&binding) {
                    Some(b) => {
                        let stmt = &text[b..];
                        let stmt = &stmt[..stmt.find(';').unwrap_or(stmt.len())];
                        let found = literals(stmt);
                        assert!(!found.is_empty(), "{place}: no event key in `{stmt}`");
                        for key in found {
                            keys.insert(key, place.clone());
                        }
                    }
                    // A parameter passed through (`Actor::event` to `Event::new`): its
                    // callers are read themselves.
                    None => assert!(
                        text.contains(&format!("{ident}: &str")),
                        "{place}: the event key `{ident}` is neither a literal, nor a `let` of literals, nor a parameter passed on"
                    ),
                }
            }
        }
    }
    keys
}

#[test]
fn every_event_key_written_in_src_has_a_chinese_name() {
    let keys = event_keys_written_in_src();
    // The reading of the source still finds what it should.
    for known in [
        "draw",
        "roster.receipt",
        "objection.uphold",
        "account.disable",
        "account.enable",
        "demo.fill",
        "login.failure",
    ] {
        assert!(keys.contains_key(known), "{known} not found in {keys:?}");
    }
    assert!(keys.len() >= 35, "{keys:?}");
    let unnamed: Vec<String> = keys
        .iter()
        .filter(|(k, _)| minyi::audit::event_name(k).is_none())
        .map(|(k, place)| format!("{k} ({place})"))
        .collect();
    assert!(
        unnamed.is_empty(),
        "audit events without a Chinese name in minyi::audit::EVENT_NAMES: {unnamed:?}"
    );
    let mut listed: Vec<&str> = minyi::audit::EVENT_NAMES.iter().map(|(k, _)| *k).collect();
    let n = listed.len();
    listed.sort();
    listed.dedup();
    assert_eq!(listed.len(), n, "a key listed twice");
    assert!(
        minyi::audit::EVENT_NAMES
            .iter()
            .all(|(_, name)| !name.is_empty() && !name.is_ascii())
    );
}
