//! The `minyi` binary as people run it: `roster check`, `roster import`, `migrate`, and
//! `serve` (whose log must never hold a phone number, a password or a token).

use crate::common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

fn minyi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_minyi"));
    c.env_remove("DATABASE_URL").env("MINYI_LOG", "info");
    c
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn check(path: &std::path::Path) -> (bool, serde_json::Value, String) {
    let out = minyi()
        .args(["roster", "check"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.success(), json, stderr)
}

#[test]
fn roster_check_reads_a_gbk_file_and_drops_the_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode("序号,姓名,身份证号码,手机号码\n1,张三,430527199001011234,13800138000\n2,李四,430527199001011235,0739-7654321\n3,王五,,12345\n");
    let path = write(dir.path(), "gbk.csv", &gbk);
    let (ok, r, err) = check(&path);
    assert!(ok, "{err}");
    assert_eq!(r["rows_read"], 3);
    assert_eq!(r["accepted"], 2);
    assert_eq!(r["invalid"], 1);
    assert_eq!(r["duplicates"], 0);
    assert_eq!(r["errors"][0]["row"], 4);
    assert_eq!(
        r["dropped_columns"],
        serde_json::json!(["序号", "身份证号码"])
    );
    assert_eq!(
        r["fingerprint"],
        minyi::sampling::fingerprint(&["07397654321", "13800138000"])
    );
    assert!(
        !r.to_string().contains("430527199001011234"),
        "an ID number leaked into the receipt"
    );
}

#[test]
fn roster_check_reads_a_utf8_file_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bom.csv",
        "\u{feff}电话,姓名\n13800138000,张三\n\n138-0013-8000,张三\n".as_bytes(),
    );
    let (ok, r, err) = check(&path);
    assert!(ok, "{err}");
    assert_eq!(
        (
            r["rows_read"].as_u64(),
            r["accepted"].as_u64(),
            r["duplicates"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
}

#[test]
fn roster_check_refuses_junk_empty_and_phoneless_files_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, says) in [
        ("empty.csv", &b""[..], "empty"),
        ("junk.bin", &b"\x00\x01\x02\xff\xfe\x00junk"[..], "not"),
        ("broken.xlsx", &b"PK\x03\x04garbage"[..], ""),
        ("nophone.csv", "姓名,身份证号\n张三,1\n".as_bytes(), "电话"),
    ] {
        let path = write(dir.path(), name, bytes);
        let (ok, out, err) = check(&path);
        assert!(!ok, "{name} accepted: {out}");
        assert_eq!(out, serde_json::Value::Null, "{name}: nothing on stdout");
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
}

#[test]
fn roster_check_reads_numeric_phone_cells_of_an_xlsx_as_integers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "XX村2026年服务对象名单").unwrap();
    sheet.write_string(1, 0, "姓名").unwrap();
    sheet.write_string(1, 1, "联系电话").unwrap();
    sheet.write_string(1, 2, "身份证号").unwrap();
    sheet.write_string(2, 0, "张三").unwrap();
    sheet.write_number(2, 1, 13800138000.0).unwrap();
    sheet.write_string(2, 2, "430527199001011234").unwrap();
    sheet.write_string(3, 0, "李四").unwrap();
    sheet.write_number(3, 1, 1.5).unwrap();
    sheet.write_string(4, 0, "王五").unwrap();
    sheet.write_string(4, 1, "139 0013 9000").unwrap();
    book.save(&path).unwrap();
    let (ok, r, err) = check(&path);
    assert!(ok, "{err}");
    assert_eq!(r["accepted"], 2);
    assert_eq!(r["invalid"], 1);
    assert_eq!(
        r["errors"][0]["row"], 4,
        "rows numbered as Excel shows them: {r}"
    );
    assert_eq!(
        r["fingerprint"],
        minyi::sampling::fingerprint(&["13800138000", "13900139000"])
    );
}

#[test]
fn roster_check_lists_duplicate_rows_and_skips_totals_rows_of_a_village_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("花名册.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, h) in ["序号", "户主姓名", "联系电话", "办理日期"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    let rows: [(&str, &str, &str); 4] = [
        ("张三", "13800138000", "2026-03-05"),
        ("李四", "13900139000", "2026-03-06"),
        ("张三", "138 0013 8000", "2026-04-01"),
        ("王五", "王五", "2026-04-02"),
    ];
    for (i, (name, phone, date)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, (i + 1) as f64).unwrap();
        sheet.write_string(r, 1, *name).unwrap();
        sheet.write_string(r, 2, *phone).unwrap();
        sheet.write_string(r, 3, *date).unwrap();
    }
    sheet.write_string(5, 0, "合计").unwrap();
    sheet
        .write_formula(
            5,
            2,
            rust_xlsxwriter::Formula::new("=COUNTA(C2:C5)").set_result("4"),
        )
        .unwrap();
    book.save(&path).unwrap();
    let (ok, r, err) = check(&path);
    assert!(ok, "{err}");
    assert_eq!(
        (
            r["rows_read"].as_u64(),
            r["accepted"].as_u64(),
            r["invalid"].as_u64(),
            r["duplicates"].as_u64(),
            r["skipped"].as_u64()
        ),
        (Some(4), Some(2), Some(1), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(r["columns"]["name"], "户主姓名");
    assert_eq!(r["columns"]["date"], "办理日期");
    assert_eq!(
        r["duplicate_rows"],
        serde_json::json!([{"row": 4, "first_row": 2, "phone": "138****8000"}])
    );
    assert_eq!(r["duplicates_omitted"], 0);
    assert_eq!(r["skipped_rows"][0]["row"], 6);
    assert_eq!(
        r["skipped_rows"][0]["reason"],
        "a totals row (\"合计\"), not a person: skipped"
    );
    assert_eq!(r["errors"][0]["row"], 5);
    assert!(
        r["errors"][0]["reason_zh"]
            .as_str()
            .unwrap()
            .contains("汉字“王”"),
        "{r}"
    );
}

#[test]
fn roster_check_names_a_missing_file() {
    let out = minyi()
        .args(["roster", "check", "/nonexistent/roster.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open /nonexistent/roster.csv"));
}

#[tokio::test]
async fn roster_import_replaces_a_villages_roster_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let out = minyi()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let village = db
        .create_village(
            &minyi::domain::VillageCode::parse("430527101").unwrap(),
            "唐家坊村",
        )
        .await
        .unwrap();
    let campaign = db
        .create_campaign("2026年验收", "唐家坊镇", 2026)
        .await
        .unwrap();
    let file = write(
        dir.path(),
        "roster.csv",
        "电话\n13800138000\n13900139000\nbad\n".as_bytes(),
    );
    let out = minyi()
        .args([
            "roster",
            "import",
            "--campaign",
            &campaign.to_string(),
            "--village",
            "430527101",
        ])
        .arg(&file)
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receipt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(receipt["accepted"], 2);
    assert_eq!(
        db.frame_phones(campaign, village).await.unwrap(),
        ["13800138000", "13900139000"]
    );
    // An unknown village is named in the error and nothing changes.
    let out = minyi()
        .args([
            "roster",
            "import",
            "--campaign",
            &campaign.to_string(),
            "--village",
            "999",
        ])
        .arg(&file)
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("village 999"));
}

#[test]
fn serve_creates_the_database_and_logs_no_phone_password_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("fresh.db");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = minyi()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
        .env_remove("MINYI_AUDIT_KEY_FILE")
        .env("MINYI_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log as it comes: a debug log fills a pipe's buffer, and a server blocked on
    // writing to a full pipe would never answer.
    let mut stderr = child.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });
    // The one-time password is printed on stdout for the person starting the server.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut password = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.split("one-time password ").nth(1) {
            password = rest.split_whitespace().next().unwrap().to_string();
            break;
        }
        line.clear();
    }
    assert_eq!(password.len(), 12, "one-time password printed");
    assert!(db_path.exists(), "database file created");
    // The audit key is made at the first start, before anything is logged, next to the
    // database and for its owner only.
    let key_path = dir.path().join("fresh.db.audit-key");
    let key_text = std::fs::read_to_string(&key_path).expect("audit key file created");
    assert!(
        key_text
            .lines()
            .any(|l| l.starts_with("key ") && l.len() == 4 + 64)
            && key_text.contains("\nfirst-entry 1\n"),
        "{key_text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(async {
        // The password is printed before the listener binds: wait until it answers.
        let mut ready = false;
        for _ in 0..100 {
            if reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(ready, "server did not start");
        let c = common::client();
        let csrf =
            common::login_and_set_password(&c, &base, "admin", &password, "commission-2026-key")
                .await;
        common::post_form(
            &c,
            &format!("{base}/admin/villages"),
            &csrf,
            &[("code", "V1"), ("name", "一村")],
        )
        .await;
        let (_, _, loc) = common::post_form(
            &c,
            &format!("{base}/admin/campaigns"),
            &csrf,
            &[("name", "验收"), ("town", "镇"), ("year", "2026")],
        )
        .await;
        let (_, _, _) = common::upload(
            &c,
            &format!(
                "{base}/admin{}/roster",
                loc.unwrap().trim_start_matches("/admin")
            ),
            &csrf,
            "r.csv",
            "电话\n13812345678\n".as_bytes().to_vec(),
            &[("village", "V1")],
        )
        .await;
        // A survey link's token must not reach the log (the route template stands in for it).
        let (s, _) = common::get_text(&c, &format!("{base}/s/SecretTokenNotInLogs00")).await;
        assert_eq!(s, 404);
        let api = reqwest::Client::new();
        let r = api
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"username": "admin", "password": "commission-2026-key"}))
            .send()
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    });
    unsafe { libc_kill(child.id()) };
    let log = log_reader.join().unwrap();
    let _ = child.wait();
    assert!(log.contains("minyi listening"), "{log}");
    assert!(log.contains("roster received"), "{log}");
    assert!(
        log.contains("/s/{token}"),
        "requests are logged by route: {log}"
    );
    for secret in [
        "13812345678",
        &password,
        "commission-2026-key",
        &token,
        "SecretTokenNotInLogs00",
    ] {
        assert!(!log.contains(secret), "log holds {secret}:\n{log}");
    }
}

/// SIGTERM, for a graceful stop (the log is flushed).
unsafe fn libc_kill(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

#[test]
fn forms_check_passes_the_shipped_files_and_names_file_and_line_of_a_problem() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-forms");
    let out = minyi().args(["forms", "check", shipped]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK: recipients"));
    // A copy with one question id repeated.
    let dir = tempfile::tempdir().unwrap();
    for name in ["recipients.toml", "panel.toml", "scheme.toml"] {
        std::fs::copy(format!("{shipped}/{name}"), dir.path().join(name)).unwrap();
    }
    let path = dir.path().join("recipients.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen("id = \"convenience\"", "id = \"attitude\"", 1);
    assert_ne!(broken, text);
    let line = broken
        .lines()
        .position(|l| l.trim() == "id = \"attitude\"")
        .unwrap();
    let second = broken
        .lines()
        .skip(line + 1)
        .position(|l| l.trim() == "id = \"attitude\"")
        .unwrap()
        + line
        + 2;
    std::fs::write(&path, broken).unwrap();
    let out = minyi()
        .args(["forms", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("recipients.toml:{second}:")), "{err}");
    assert!(err.contains("attitude"), "{err}");
}

/// The POSIX locks this process holds, as the inodes of the locked files (Linux).
#[cfg(target_os = "linux")]
fn locked_inodes() -> Vec<u64> {
    let pid = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "1: POSIX  ADVISORY  READ 23876 fe:00:10010722 128 128"
            (fields.get(1) == Some(&"POSIX") && fields.get(4) == Some(&pid.as_str()))
                .then(|| fields.get(5)?.rsplit(':').next()?.parse().ok())
                .flatten()
        })
        .collect()
}

/// A second process on the same SQLite database (a `minyi` command while the server runs)
/// must find the first one's locks in place. Opening and closing any descriptor of a file
/// drops every POSIX lock the process holds on it: had the server done that to its database
/// or `-shm` (say, to narrow their modes), a second process would take the database as its
/// own, truncate the shared memory under the first (SIGBUS) and, on the way out, checkpoint
/// and delete the write-ahead log the first is still writing to.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_command_beside_a_running_server_leaves_its_database_alone() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minyi.db");
    let url = format!("sqlite://{}", path.display());
    let db = minyi::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let minyi::db::Db::Sqlite(s) = &db else {
        unreachable!()
    };
    sqlx::query("INSERT INTO villages (code, name, created_at) VALUES ('V1', '一村', 0)")
        .execute(&s.write)
        .await
        .unwrap();
    let inode = |suffix: &str| {
        std::fs::metadata(dir.path().join(format!("minyi.db{suffix}")))
            .unwrap()
            .ino()
    };
    let held = locked_inodes();
    assert!(
        held.contains(&inode("")) && held.contains(&inode("-shm")),
        "SQLite's locks on the database ({}) and its -shm ({}) are held: {held:?}",
        inode(""),
        inode("-shm")
    );
    let out = minyi()
        .args(["audit", "verify", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("minyi.db-wal").exists());
    sqlx::query("INSERT INTO villages (code, name, created_at) VALUES ('V2', '二村', 0)")
        .execute(&s.write)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM villages")
        .fetch_one(&s.read)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[test]
fn forms_check_is_silent_on_the_shipped_files_and_warns_about_a_question_that_asks_two_things() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-forms");
    let out = minyi().args(["forms", "check", shipped]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr, "", "the shipped forms draw no warning");
    let dir = tempfile::tempdir().unwrap();
    for name in ["recipients.toml", "panel.toml", "scheme.toml"] {
        std::fs::copy(format!("{shipped}/{name}"), dir.path().join(name)).unwrap();
    }
    let path = dir.path().join("recipients.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen(
        "text = \"村干部给您办事时的态度，您满意吗？\"",
        "text = \"村干部态度好不好？您满意吗？\"",
        1,
    );
    assert_ne!(
        edited, text,
        "the shipped attitude question changed; update this test"
    );
    std::fs::write(&path, edited).unwrap();
    let out = minyi()
        .args(["forms", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK: recipients"));
    assert_eq!(
        stderr.trim_end(),
        "warning: recipients: question attitude: 2 question marks: it asks more than one thing; ask one per question"
    );
}
