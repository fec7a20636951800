//! Test harness: the real app on a random port over a fresh database — a temporary SQLite
//! file, or a fresh PostgreSQL database when `MINYI_TEST_PG` names a server
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`). `.ci/run` runs the suite both ways.
#![allow(dead_code)]

pub mod routes;

use minyi::config::Config;
use minyi::db::Db;
use minyi::http::{AppState, app, bootstrap_admin};
use minyi::ids::{AccountId, CampaignId};

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub database_url: String,
    pub admin_password: String,
    pub config: Config,
    /// The server's rate limits and password-check gate, to observe them.
    pub limits: std::sync::Arc<minyi::rate_limit::Limiter>,
    _dir: tempfile::TempDir,
}

/// A fresh, migrated database URL of the kind this test run uses.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("MINYI_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            // One database per test, so tests run in parallel without seeing each other.
            let admin = Db::connect(&server)
                .await
                .expect("MINYI_TEST_PG is set but PostgreSQL is unreachable");
            let name = format!("minyi_t_{}", &minyi::secrets::random_token()[..16]);
            let Db::Postgres(pool) = &admin else {
                panic!("MINYI_TEST_PG must be a postgres:// URL")
            };
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(pool)
                .await
                .expect("create test database");
            admin.close().await;
            let (base, _) = server.rsplit_once('/').expect("database URL has a path");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}", dir.join("minyi.db").display()),
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

/// Start the app with a tweaked configuration.
pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;
    let db = Db::connect(&database_url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let admin_password = bootstrap_admin(&db)
        .await
        .expect("bootstrap")
        .expect("first start creates admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut config = Config {
        database_url: database_url.clone(),
        base_url: base.clone(),
        ..Config::default()
    };
    tweak(&mut config);
    let limits = serve_on(listener, db.clone(), config.clone());
    TestApp {
        limits,
        base,
        db,
        database_url,
        admin_password,
        config,
        _dir: dir,
    }
}

/// As [`spawn`], but the server is the real binary (`minyi serve`, a child process) on a
/// fresh database; `db` is a second connection to the same database, for what a test must
/// read or prepare beside the pages. The process stops when the returned handle drops.
pub async fn spawn_binary() -> (TestApp, ServerProcess) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;
    let db = Db::connect(&database_url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let admin_password = bootstrap_admin(&db)
        .await
        .expect("bootstrap")
        .expect("first start creates admin");
    let server = ServerProcess::start(&database_url, &dir.path().join("server.log")).await;
    let config = Config {
        database_url: database_url.clone(),
        base_url: server.base.clone(),
        ..Config::default()
    };
    let app = TestApp {
        limits: std::sync::Arc::new(minyi::rate_limit::Limiter::default()),
        base: server.base.clone(),
        db,
        database_url,
        admin_password,
        config,
        _dir: dir,
    };
    (app, server)
}

/// Serve another instance of the app over the given database; returns its base URL.
pub async fn serve_on_random_port(db: Db, config: Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    serve_on(listener, db, config);
    format!("http://{addr}")
}

fn serve_on(
    listener: tokio::net::TcpListener,
    db: Db,
    config: Config,
) -> std::sync::Arc<minyi::rate_limit::Limiter> {
    let state = AppState::new(db, config);
    let limits = state.limits.clone();
    tokio::spawn(async move {
        axum::serve(listener, app(state)).await.expect("serve");
    });
    limits
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of the first `_csrf` hidden field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no _csrf field in page:\n{html}"));
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

pub async fn get_text(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.expect("GET");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// Log in through the form; returns the response (a redirect on success).
pub async fn login(
    c: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let (_, page) = get_text(c, &format!("{base}/login")).await;
    let csrf = csrf_in(&page);
    c.post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("POST /login")
}

/// Log in with a one-time password and replace it with `new_password`; returns a page's CSRF token.
pub async fn login_and_set_password(
    c: &reqwest::Client,
    base: &str,
    username: &str,
    once: &str,
    new_password: &str,
) -> String {
    let r = login(c, base, username, once).await;
    assert_eq!(r.status().as_u16(), 303, "login with the one-time password");
    assert_eq!(r.headers()["location"], "/password");
    let (_, page) = get_text(c, &format!("{base}/password")).await;
    let csrf = csrf_in(&page);
    let r = c
        .post(format!("{base}/password"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("current", once),
            ("new", new_password),
            ("repeat", new_password),
        ])
        .send()
        .await
        .expect("POST /password");
    assert_eq!(
        r.status().as_u16(),
        303,
        "password change: {}",
        r.text().await.unwrap_or_default()
    );
    csrf
}

/// The administrator, logged in with a password of their own. Returns (client, csrf).
pub async fn admin_client(app: &TestApp) -> (reqwest::Client, String) {
    let c = client();
    let csrf = login_and_set_password(
        &c,
        &app.base,
        "admin",
        &app.admin_password,
        "commission-2026-key",
    )
    .await;
    (c, csrf)
}

/// POST a form with the CSRF token added.
pub async fn post_form(
    c: &reqwest::Client,
    url: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    let r = c.post(url).form(&all).send().await.expect("POST");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(String::from);
    (status, r.text().await.unwrap_or_default(), location)
}

/// The publicity notice's contact, as the fixtures set it.
pub const NOTICE_PHONE: &str = "0739-7654321";
pub const NOTICE_ADDRESS: &str = "唐家坊镇人民政府二楼纪委办公室";
pub const NOTICE_ISSUER: &str = "中共唐家坊镇纪律检查委员会";

/// Sets where objections are received and who issues the publicity notice, through the
/// campaign page's form, as publishing requires.
pub async fn set_notice_contact(base: &str, admin: &(reqwest::Client, String), id: CampaignId) {
    let (s, _, loc) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{id}/notice-contact"),
        &admin.1,
        &[
            ("phone", NOTICE_PHONE),
            ("address", NOTICE_ADDRESS),
            ("issuer", NOTICE_ISSUER),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("m=contact"), "{loc:?}");
}

/// Set up through the admin pages: villages `V1`, `V2`, a campaign, and a logged-in
/// operator for each village. Returns (campaign id, operator of V1, operator of V2).
pub struct Town {
    pub campaign: CampaignId,
    pub admin: (reqwest::Client, String),
    pub op1: (reqwest::Client, String),
    pub op2: (reqwest::Client, String),
}

pub async fn town(app: &TestApp) -> Town {
    let (admin, csrf) = admin_client(app).await;
    for (code, name) in [("V1", "一村"), ("V2", "二村")] {
        let (s, body, _) = post_form(
            &admin,
            &format!("{}/admin/villages", app.base),
            &csrf,
            &[("code", code), ("name", name)],
        )
        .await;
        assert_eq!(s, 303, "{body}");
    }
    let (s, _, loc) = post_form(
        &admin,
        &format!("{}/admin/campaigns", app.base),
        &csrf,
        &[
            ("name", "2026年验收"),
            ("town", "唐家坊镇"),
            ("year", "2026"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let campaign: CampaignId = loc
        .expect("location")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut ops = Vec::new();
    for (user, code) in [("op1", "V1"), ("op2", "V2")] {
        let (s, page, _) = post_form(
            &admin,
            &format!("{}/admin/accounts", app.base),
            &csrf,
            &[
                ("username", user),
                ("display_name", "操作员"),
                ("role", "village"),
                ("village", code),
            ],
        )
        .await;
        assert_eq!(s, 200, "{page}");
        let once = one_time_password_in(&page);
        let c = client();
        let token = login_and_set_password(&c, &app.base, user, &once, "village-password-1").await;
        ops.push((c, token));
    }
    let op2 = ops.pop().unwrap();
    let op1 = ops.pop().unwrap();
    Town {
        campaign,
        admin: (admin, csrf),
        op1,
        op2,
    }
}

/// The one-time password shown on the accounts page after creating or resetting an account.
pub fn one_time_password_in(html: &str) -> String {
    let marker = "<span class=\"secret\">";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("one-time password on page");
    html[start..].split('<').next().unwrap().to_string()
}

/// Upload a file through a multipart form (as the village and admin pages do).
pub async fn upload(
    c: &reqwest::Client,
    url: &str,
    csrf: &str,
    file_name: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf.to_string());
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()),
    );
    let r = c.post(url).multipart(form).send().await.expect("upload");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(String::from);
    (status, r.text().await.unwrap_or_default(), location)
}

/// Imports the holiday calendar of National Day 2026 (1–7 October off, except the weekend,
/// and the 调休 Saturday 10 October worked) as the administrator.
pub async fn national_day_calendar(admin: &reqwest::Client, base: &str, csrf: &str) {
    let calendar = "日期,类型,名称\n2026-10-01,放假,国庆节\n2026-10-02,放假,国庆节\n2026-10-05,放假,国庆节\n2026-10-06,放假,国庆节\n2026-10-07,放假,国庆节\n2026-10-10,上班,国庆调休\n";
    let (s, _, _) = upload(
        admin,
        &format!("{base}/admin/calendar"),
        csrf,
        "cal.csv",
        calendar.as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
}

/// Run one statement with one integer parameter directly on the database (to set up or
/// tamper with state the way no route would).
pub async fn exec(db: &Db, sql: &'static str, param: i64) -> u64 {
    match db {
        Db::Sqlite(s) => sqlx::query(sql)
            .bind(param)
            .execute(&s.write)
            .await
            .expect("exec")
            .rows_affected(),
        Db::Postgres(p) => sqlx::query(sql)
            .bind(param)
            .execute(p)
            .await
            .expect("exec")
            .rows_affected(),
    }
}

/// A town whose two villages have handed in rosters (V1: 30 phones, V2: 5 phones).
pub async fn town_with_rosters(app: &TestApp) -> Town {
    let t = town(app).await;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    let v1: String = (0..30).map(|i| format!("138{:08}\n", i * 37)).collect();
    let (s, _, _) = upload(
        &t.op1.0,
        &url,
        &t.op1.1,
        "v1.csv",
        format!("电话\n{v1}").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let v2: String = (0..5).map(|i| format!("139{:08}\n", i)).collect();
    let (s, _, _) = upload(
        &t.op2.0,
        &url,
        &t.op2.1,
        "v2.csv",
        format!(
            "姓名,电话\n{}",
            v2.lines()
                .map(|p| format!("居民,{p}\n"))
                .collect::<String>()
        )
        .into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    t
}

pub async fn surveyor(app: &TestApp, t: &Town) -> (reqwest::Client, String) {
    let (s, page, _) = post_form(
        &t.admin.0,
        &format!("{}/admin/accounts", app.base),
        &t.admin.1,
        &[
            ("username", "survey"),
            ("display_name", "调查员"),
            ("role", "surveyor"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let c = client();
    let csrf = login_and_set_password(
        &c,
        &app.base,
        "survey",
        &one_time_password_in(&page),
        "fieldwork-key-2026",
    )
    .await;
    (c, csrf)
}

pub fn location_query(loc: &Option<String>) -> String {
    loc.as_deref()
        .and_then(|l| l.split_once('?'))
        .map(|(_, q)| q.to_string())
        .unwrap_or_default()
}

/// Drawn and in fieldwork: V1 has 30 recipients (28 primary, 2 reserve), V2 has 5.
/// Downloads a fresh SMS invitation outbox as the surveyor `sv`; returns (phone, link token)
/// per line.
pub async fn invitations(
    app: &TestApp,
    sv: &(reqwest::Client, String),
    campaign: CampaignId,
) -> Vec<(String, String)> {
    let r =
        sv.0.post(format!("{}/surveyor/campaigns/{campaign}/outbox", app.base))
            .form(&[("_csrf", sv.1.as_str()), ("kind", "invite")])
            .send()
            .await
            .expect("outbox");
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.expect("outbox CSV");
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    csv::Reader::from_reader(body)
        .records()
        .map(|r| {
            let r = r.expect("outbox row");
            let token = r[1].rsplit("/s/").next().expect("a link").to_string();
            (r[0].to_string(), token)
        })
        .collect()
}

/// Whether no village of `campaign` has a roster stored.
pub async fn no_roster_stored(app: &TestApp, campaign: CampaignId) -> bool {
    app.db
        .roster_statuses(campaign)
        .await
        .unwrap()
        .iter()
        .all(|r| r.roster_id.is_none())
}

/// In fieldwork on the rosters of [`town_with_rosters`], drawn at ±5% with nobody surveyed
/// in full (V1: 28 of 30, so the tests of replacement have a reserve; the default rule
/// would ask all 30).
pub async fn fieldwork(app: &TestApp) -> (Town, (reqwest::Client, String)) {
    let t = town_with_rosters(app).await;
    let sv = surveyor(app, &t).await;
    let (_, _, loc) = post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}/size-rule", app.base, t.campaign),
        &t.admin.1,
        &[
            ("method", "formula"),
            ("margin", "0.05"),
            ("confidence", "0.95"),
            ("census_below", ""),
        ],
    )
    .await;
    assert!(location_query(&loc).starts_with("m="), "{loc:?}");
    freeze_draw_and_start(app, &t).await;
    (t, sv)
}

/// Freeze the rosters, enter a seed, draw and start fieldwork, as the administrator.
pub async fn freeze_draw_and_start(app: &TestApp, t: &Town) {
    let (base, id, admin, csrf) = (&app.base, t.campaign, &t.admin.0, &t.admin.1);
    for (path, fields) in [
        (
            format!("admin/campaigns/{id}/freeze"),
            vec![("confirm", "yes")],
        ),
        (
            format!("campaigns/{id}/seed"),
            vec![("seed", "dice 6 6 1 2 3 4 5 6 1 2 3")],
        ),
        (format!("admin/campaigns/{id}/draw"), vec![]),
    ] {
        post_form(admin, &format!("{base}/{path}"), csrf, &fields).await;
    }
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/fieldwork"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "m=fieldwork");
}

/// In fieldwork with rosters that hold landlines and one phone on two villages' rosters:
/// V1 has 8 mobiles and 2 landlines, V2 has 5 mobiles, one of them also on V1's roster.
pub async fn fieldwork_with_landlines(app: &TestApp) -> (Town, (reqwest::Client, String)) {
    let t = town(app).await;
    let url = format!("{}/village/campaigns/{}/roster", app.base, t.campaign);
    let v1: String = (0..8)
        .map(|i| format!("138{:08}\n", i + 1))
        .chain(["0739-5551234\n".to_string(), "07395559876\n".to_string()])
        .collect();
    let (s, _, _) = upload(
        &t.op1.0,
        &url,
        &t.op1.1,
        "v1.csv",
        format!("电话\n{v1}").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let v2: String = ["13800000001".to_string()]
        .into_iter()
        .chain((0..4).map(|i| format!("139{:08}", i + 1)))
        .map(|p| format!("{p}\n"))
        .collect();
    let (s, _, _) = upload(
        &t.op2.0,
        &url,
        &t.op2.1,
        "v2.csv",
        format!("电话\n{v2}").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let sv = surveyor(app, &t).await;
    post_form(
        &t.admin.0,
        &format!("{}/admin/campaigns/{}/size-rule", app.base, t.campaign),
        &t.admin.1,
        &[("method", "fixed"), ("size", "20")],
    )
    .await;
    freeze_draw_and_start(app, &t).await;
    (t, sv)
}

/// A complete, valid set of answers: the first option everywhere (so the screener passed),
/// except "no" to whether someone told the person how to answer; conditions respected.
pub fn valid_answers(form: &minyi::forms::Form) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for q in &form.questions {
        if let Some(c) = &q.show_if
            && !fields
                .iter()
                .any(|(k, v)| k == &c.question && c.any_of.contains(v))
        {
            continue;
        }
        let value = match &q.kind {
            minyi::forms::Kind::Single { .. } if q.id == "coached" => "no".to_string(),
            minyi::forms::Kind::Single { options, .. }
            | minyi::forms::Kind::Multiple { options, .. } => options[0].value.clone(),
            minyi::forms::Kind::Text { .. } => "好".to_string(),
        };
        fields.push((q.id.clone(), value));
    }
    fields
}

// ---- The real `minyi serve` binary in its own process (crash safety, two servers) ----------

/// A free TCP port on loopback (bound, then released for the server to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A `minyi serve` process over a database, on its own port; SIGKILLed when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
    /// Where its stderr (the log) goes, appended across restarts.
    pub log: std::path::PathBuf,
}

impl ServerProcess {
    /// Start the binary (`serve --database-url … --bind 127.0.0.1:<free port> --base-url …`)
    /// and wait until `/healthz` answers. The database is expected to be set up already.
    pub async fn start(database_url: &str, log: &std::path::Path) -> ServerProcess {
        Self::start_logging(database_url, log, "warn").await
    }

    /// [`ServerProcess::start`] with `MINYI_LOG` set to `level`.
    pub async fn start_logging(
        database_url: &str,
        log: &std::path::Path,
        level: &str,
    ) -> ServerProcess {
        Self::start_with(database_url, log, level, None, &[]).await
    }

    /// [`ServerProcess::start`] with extra environment variables.
    pub async fn start_with_env(
        database_url: &str,
        log: &std::path::Path,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        Self::start_with(database_url, log, "warn", None, env).await
    }

    /// [`ServerProcess::start`] told `base_url` as its public address (e.g. an `https://`
    /// one, as behind a proxy); `base` stays the loopback address it listens on.
    pub async fn start_behind(
        database_url: &str,
        log: &std::path::Path,
        base_url: &str,
    ) -> ServerProcess {
        Self::start_with(database_url, log, "warn", Some(base_url), &[]).await
    }

    async fn start_with(
        database_url: &str,
        log: &std::path::Path,
        level: &str,
        base_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        for _ in 0..3 {
            let port = free_port();
            let base = format!("http://127.0.0.1:{port}");
            let log_file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("server log file");
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_minyi"))
                .args([
                    "serve",
                    "--database-url",
                    database_url,
                    "--bind",
                    &format!("127.0.0.1:{port}"),
                    "--base-url",
                    base_url.unwrap_or(&base),
                ])
                .env_remove("DATABASE_URL")
                .env("MINYI_LOG", level)
                .envs(env.iter().copied())
                .stdout(std::process::Stdio::null())
                .stderr(log_file)
                .spawn()
                .expect("start minyi serve");
            let mut server = ServerProcess {
                child,
                base,
                log: log.to_path_buf(),
            };
            for _ in 0..600 {
                if let Ok(Some(status)) = server.child.try_wait() {
                    // Most likely the port was taken in between: try another one.
                    eprintln!(
                        "minyi serve exited at start ({status}):\n{}",
                        server.log_text()
                    );
                    break;
                }
                if reqwest::get(format!("{}/healthz", server.base))
                    .await
                    .is_ok_and(|r| r.status() == 200)
                {
                    return server;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            server.kill();
        }
        panic!("minyi serve did not start; log:\n{}", {
            std::fs::read_to_string(log).unwrap_or_default()
        })
    }

    /// SIGKILL (`Child::kill` on Unix): no graceful shutdown, nothing flushed — as the OOM
    /// killer or a power cut would stop it. Waits until the process is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The surveyor account `prepare_fieldwork` creates, and its password (no change required).
pub const SURVEYOR: &str = "survey";
pub const SURVEYOR_PASSWORD: &str = "surveyor-password-2026";

/// A campaign in fieldwork, set up through the `Db` API alone (no server running).
pub struct PreparedFieldwork {
    pub campaign: CampaignId,
    /// (village name, survey-link token) per released case, by village then rank.
    pub links: Vec<(String, String)>,
    /// The administrator `admin`'s one-time password (to be changed at first login).
    pub admin_password: String,
}

/// On a fresh database: the administrator, `villages` villages `村01`, `村02`, … (codes `C01`, …)
/// of `per_village` recipients each, all of them drawn (fixed size) and released as cases
/// when fieldwork starts with the built-in forms, one link token per case (as the SMS outbox
/// would issue them), and the surveyor account `SURVEYOR`.
pub async fn prepare_fieldwork(
    database_url: &str,
    villages: usize,
    per_village: usize,
) -> PreparedFieldwork {
    use minyi::db::{NewAccount, RosterTarget};
    let db = Db::connect(database_url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let admin_password = bootstrap_admin(&db)
        .await
        .expect("bootstrap")
        .expect("a fresh database");
    let admin = db
        .account_by_username("admin")
        .await
        .expect("admin")
        .expect("admin exists")
        .id;
    let campaign = db
        .create_campaign("2026年验收", "唐家坊镇", 2026)
        .await
        .expect("campaign");
    for v in 0..villages {
        let code = minyi::domain::VillageCode::parse(&format!("C{:02}", v + 1)).unwrap();
        let village = db
            .create_village(&code, &format!("村{:02}", v + 1))
            .await
            .expect("village");
        let csv: String = std::iter::once("电话\n".to_string())
            .chain(
                (0..per_village)
                    .map(|i| format!("{}\n", 13_000_000_000u64 + (v * 100_000 + i) as u64)),
            )
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
        .expect("roster");
    }
    assert!(
        db.set_size_rule(
            campaign,
            &format!("{{\"method\":\"fixed\",\"size\":{per_village}}}")
        )
        .await
        .expect("size rule")
    );
    assert!(
        db.freeze(campaign, minyi::sampling::frame_fingerprint)
            .await
            .expect("freeze")
    );
    let seed = minyi::sampling::Seed::parse("test seed 1 2 3 4 5 6 7 8").unwrap();
    assert!(
        db.enter_seed(campaign, seed.as_str(), &seed.commitment(), admin)
            .await
            .expect("seed")
    );
    minyi::ops::draw::draw(&db, admin, campaign)
        .await
        .expect("draw");
    let forms = minyi::forms::builtin().expect("built-in forms");
    minyi::fieldwork::start(&db, campaign, &forms)
        .await
        .expect("fieldwork");
    let links = db
        .issue_link_tokens(campaign, None, minyi::secrets::link_token)
        .await
        .expect("link tokens")
        .into_iter()
        .map(|o| (o.village_name, o.token))
        .collect();
    let hash = minyi::secrets::hash_password(SURVEYOR_PASSWORD).expect("hash");
    db.create_account(&NewAccount {
        username: SURVEYOR,
        display_name: "调查员",
        role: minyi::domain::Role::Surveyor,
        village_id: None,
        password_hash: &hash,
        must_change_password: false,
    })
    .await
    .expect("surveyor account");
    db.close().await;
    PreparedFieldwork {
        campaign,
        links,
        admin_password,
    }
}

/// A complete, valid recipients' answer set whose comment is `marker`, so a stored response
/// can be traced to the submit that sent it.
pub fn answers_marked(marker: &str) -> Vec<(String, String)> {
    static FORM: std::sync::OnceLock<minyi::forms::Form> = std::sync::OnceLock::new();
    let form = FORM.get_or_init(|| minyi::forms::builtin().expect("built-in forms").recipients);
    let mut fields = valid_answers(form);
    if let Some(f) = fields.iter_mut().find(|(k, _)| k == "comment") {
        f.1 = marker.to_string();
    } else {
        fields.push(("comment".into(), marker.to_string()));
    }
    fields
}

/// The comment of every acknowledged recipients' answer of the campaign: those waiting in
/// the mixer's pool and those already mixed into `responses`.
pub async fn response_comments(db: &Db, campaign: CampaignId) -> Vec<String> {
    let sql = "SELECT answers FROM response_pool WHERE campaign_id = $1 AND questionnaire = 'recipients'
               UNION ALL SELECT answers FROM responses WHERE campaign_id = $1 AND questionnaire = 'recipients'";
    let rows: Vec<String> = match db {
        Db::Sqlite(s) => sqlx::query_scalar(sql)
            .bind(campaign)
            .fetch_all(&s.read)
            .await
            .expect("answers"),
        Db::Postgres(p) => sqlx::query_scalar(sql)
            .bind(campaign)
            .fetch_all(p)
            .await
            .expect("answers"),
    };
    rows.iter()
        .map(|json| {
            let v: serde_json::Value = serde_json::from_str(json).expect("answers are JSON");
            v["comment"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// Answers of the campaign waiting in the mixer's pool.
pub async fn waiting(db: &Db, campaign: CampaignId) -> i64 {
    let sql = "SELECT COUNT(*) FROM response_pool WHERE campaign_id = $1";
    match db {
        Db::Sqlite(s) => {
            sqlx::query_scalar(sql)
                .bind(campaign)
                .fetch_one(&s.read)
                .await
        }
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(campaign).fetch_one(p).await,
    }
    .expect("pool")
}

/// Per village id, what the database holds: (used invitations, voided invitations,
/// recipients' answers waiting or mixed, completed cases).
pub async fn village_ledger(
    db: &Db,
    campaign: CampaignId,
) -> std::collections::BTreeMap<i64, [i64; 4]> {
    let queries: [&'static str; 4] = [
        "SELECT c.village_id, COUNT(*) FROM invitations i JOIN cases c ON c.id = i.case_id
         WHERE c.campaign_id = $1 AND i.used GROUP BY c.village_id",
        "SELECT c.village_id, COUNT(*) FROM invitations i JOIN cases c ON c.id = i.case_id
         WHERE c.campaign_id = $1 AND i.voided GROUP BY c.village_id",
        "SELECT village_id, COUNT(*) FROM (
             SELECT village_id FROM response_pool WHERE campaign_id = $1 AND questionnaire = 'recipients'
             UNION ALL SELECT village_id FROM responses WHERE campaign_id = $1 AND questionnaire = 'recipients') a
         GROUP BY village_id",
        "SELECT village_id, COUNT(*) FROM cases WHERE campaign_id = $1 AND status = 'completed' GROUP BY village_id",
    ];
    let mut out: std::collections::BTreeMap<i64, [i64; 4]> = Default::default();
    for (k, sql) in queries.into_iter().enumerate() {
        let rows: Vec<(i64, i64)> = match db {
            Db::Sqlite(s) => sqlx::query_as(sql)
                .bind(campaign)
                .fetch_all(&s.read)
                .await
                .expect("ledger"),
            Db::Postgres(p) => sqlx::query_as(sql)
                .bind(campaign)
                .fetch_all(p)
                .await
                .expect("ledger"),
        };
        for (village, n) in rows {
            out.entry(village).or_default()[k] = n;
        }
    }
    out
}

/// The session cookie a login response set (`minyi_session=…`, or `__Host-minyi_session=…`
/// under https), for use on another server.
pub fn session_cookie_of(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("minyi_session=") || v.starts_with("__Host-minyi_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string()
}

/// PostgreSQL's pages of the named relations, raw, as an attacker with the data directory
/// would read them (through `pageinspect`).
pub async fn raw_pages(db: &Db, relations: &[String]) -> Vec<u8> {
    let Db::Postgres(p) = db else {
        panic!("raw pages are read on PostgreSQL");
    };
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pageinspect")
        .execute(p)
        .await
        .expect("pageinspect (contrib) is installed with PostgreSQL");
    let mut out = Vec::new();
    for rel in relations {
        let blocks: i64 = sqlx::query_scalar(
            "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint",
        )
        .bind(rel)
        .fetch_one(p)
        .await
        .expect("relation size");
        for blk in 0..blocks {
            let page: Vec<u8> = sqlx::query_scalar("SELECT get_raw_page($1, $2)")
                .bind(rel)
                .bind(blk)
                .fetch_one(p)
                .await
                .expect("raw page");
            out.extend(page);
        }
    }
    out
}

/// A file's bytes (empty if it does not exist), read by a child process: opening and closing
/// a database file in this process would drop the POSIX locks its open SQLite connections
/// hold, and another process could then take the database for its own.
pub fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let out = std::process::Command::new("cat")
        .arg(path)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("cat runs");
    out.stdout
}

/// Every byte the database keeps: the SQLite file and its `-wal`, or every page of every
/// table, index and TOAST table of the PostgreSQL database's own schema.
pub async fn stored_bytes(db: &Db, database_url: &str) -> Vec<u8> {
    match db {
        Db::Sqlite(_) => {
            let file = database_url.strip_prefix("sqlite://").expect("sqlite URL");
            let mut bytes = file_bytes(std::path::Path::new(file));
            assert!(!bytes.is_empty(), "{file} is read");
            bytes.extend(file_bytes(std::path::Path::new(&format!("{file}-wal"))));
            bytes
        }
        Db::Postgres(p) => {
            let relations: Vec<String> = sqlx::query_scalar(
                "SELECT c.oid::regclass::text FROM pg_class c
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')
                 UNION ALL
                 SELECT t.oid::regclass::text FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
                 WHERE c.relnamespace = 'public'::regnamespace",
            )
            .fetch_all(p)
            .await
            .expect("relations");
            raw_pages(db, &relations).await
        }
    }
}

/// Every 11-digit string in `bytes` (each 11-digit window of a longer run of digits): the
/// phone numbers an attacker would find by scanning the bytes.
pub fn eleven_digit_strings(bytes: &[u8]) -> std::collections::HashSet<String> {
    let mut found = std::collections::HashSet::new();
    for run in bytes.split(|b| !b.is_ascii_digit()) {
        for w in run.windows(11) {
            found.insert(String::from_utf8_lossy(w).into_owned());
        }
    }
    found
}

/// A surveyor account `second` with the password `second-password-2026` (no change needed).
pub async fn second_account(db: &Db) -> AccountId {
    let hash = minyi::secrets::hash_password("second-password-2026").unwrap();
    db.create_account(&minyi::db::NewAccount {
        username: "second",
        display_name: "第二位",
        role: minyi::domain::Role::Surveyor,
        village_id: None,
        password_hash: &hash,
        must_change_password: false,
    })
    .await
    .unwrap()
}
