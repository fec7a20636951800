//! Several servers on one PostgreSQL enforce one login delay per account and one request limit
//! per link, and a session made on one works on all: three `minyi serve` behind nginx (Debian's package, run as the
//! current user with every file in a temporary folder, as `deploy/nginx/test.sh` does).
//!
//! Runs only when `MINYI_TEST_PG` is set (SQLite is one server's database); then nginx must
//! be installed (`.ci/run` installs it before the PostgreSQL half), or the test fails.

use crate::common;

use common::*;
use minyi::rate_limit::LOGIN_FREE;

const SERVERS: usize = 3;

/// nginx on the PATH or in /usr/sbin (where Debian puts it, outside a user's PATH).
fn find_nginx() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let debian = std::path::PathBuf::from("/usr/sbin/nginx");
        debian.is_file().then_some(debian)
    })
}

/// nginx on a loopback port with round robin over `upstreams`; killed when dropped.
struct Nginx {
    child: std::process::Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Nginx {
    async fn start(nginx: &std::path::Path, dir: &std::path::Path, upstreams: &[&str]) -> Nginx {
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("        server {};\n", u.trim_start_matches("http://")))
            .collect();
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let d = dir.display();
        // Run as root, the workers would switch to `nobody` and lose the folder: keep the user.
        let conf = format!(
            "{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    access_log {d}/access.log;
    upstream minyi {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://minyi;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto http;
            # Which server answered, so the test can see the requests spread.
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
",
            user = if root { "user root;\n" } else { "" },
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
        let child = std::process::Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut n = Nginx {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
        };
        for _ in 0..100 {
            if let Ok(Some(status)) = n.child.try_wait() {
                panic!("nginx exited ({status}):\n{}", n.error_log());
            }
            if reqwest::get(format!("{}/healthz", n.base))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return n;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("nginx did not answer:\n{}", n.error_log());
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `/api/login` attempt straight at one server; its status.
async fn api_login(base: &str, username: &str, password: &str) -> u16 {
    client()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .expect("POST /api/login")
        .status()
        .as_u16()
}

#[tokio::test]
async fn three_servers_behind_nginx_share_sessions_and_one_login_delay_per_account() {
    if std::env::var("MINYI_TEST_PG").map_or(true, |v| v.is_empty()) {
        println!("SKIPPED: MINYI_TEST_PG is not set (several servers need PostgreSQL)");
        return;
    }
    let nginx = find_nginx()
        .expect("MINYI_TEST_PG is set but nginx is not installed (apt-get install nginx)");

    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;
    let db = minyi::db::Db::connect(&database_url)
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    let once = minyi::http::bootstrap_admin(&db)
        .await
        .expect("bootstrap")
        .expect("first start creates admin");
    let second = second_account(&db).await;

    let mut servers = Vec::new();
    for i in 0..SERVERS {
        let log = dir.path().join(format!("server-{i}.log"));
        servers.push(ServerProcess::start(&database_url, &log).await);
    }
    let bases: Vec<&str> = servers.iter().map(|s| s.base.as_str()).collect();
    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir(&nginx_dir).unwrap();
    let front = Nginx::start(&nginx, &nginx_dir, &bases).await;

    // The administrator logs in and changes the one-time password through nginx: the login
    // page, the login, the password form and its answer land on different servers.
    let admin = client();
    let csrf =
        login_and_set_password(&admin, &front.base, "admin", &once, "commission-2026-key").await;
    // The session made there works on every server.
    let mut answered_by = std::collections::BTreeSet::new();
    for _ in 0..3 * SERVERS {
        let r = admin
            .get(format!("{}/admin/accounts", front.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", front.error_log());
        answered_by.insert(r.headers()["x-upstream"].to_str().unwrap().to_string());
        assert!(r.text().await.unwrap().contains("second"));
    }
    assert_eq!(answered_by.len(), SERVERS, "{answered_by:?}");

    // Wrong passwords for one account, spread over the servers directly: the free attempts
    // are counted once for all of them, not once per server…
    for i in 0..LOGIN_FREE as usize {
        assert_eq!(
            api_login(bases[i % SERVERS], "second", "wrong-password").await,
            401,
            "attempt {} on server {}",
            i + 1,
            i % SERVERS
        );
    }
    // …so the next one is delayed on every server, even with the right password. (Sent at
    // once: the first delay is one second, and a 429 needs no password check.)
    let mut tries = tokio::task::JoinSet::new();
    for base in &bases {
        for password in ["wrong-password", "second-password-2026"] {
            let base = base.to_string();
            tries.spawn(async move { (api_login(&base, "second", password).await, base) });
        }
    }
    for (status, base) in tries.join_all().await {
        assert_eq!(
            status, 429,
            "after {LOGIN_FREE} failures elsewhere, on {base}"
        );
    }
    assert!(db.login_allowed_at(second).await.unwrap().is_some());

    // The administrator lifts the delay through nginx (on whichever server) and the owner
    // gets in on each server directly.
    let (status, _, _) = post_form(
        &admin,
        &format!("{}/admin/accounts/{second}/unlock", front.base),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(status, 303);
    for base in &bases {
        let r = login(&client(), base, "second", "second-password-2026").await;
        assert_eq!(r.status(), 303, "login on {base}");
    }
    assert_eq!(db.login_throttle_rows().await.unwrap(), 0);
    drop(front);
    drop(servers);
    db.close().await;
}

/// `n` GETs of `path` through nginx, one after another; (allowed, refused) and the servers
/// that answered.
async fn open_times(
    base: &str,
    path: &str,
    n: usize,
    answered_by: &mut std::collections::BTreeMap<String, usize>,
) -> (usize, usize) {
    let c = client();
    let (mut allowed, mut refused) = (0, 0);
    for _ in 0..n {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        let upstream = r.headers()["x-upstream"].to_str().unwrap().to_string();
        *answered_by.entry(upstream).or_default() += 1;
        match r.status().as_u16() {
            200 | 404 => allowed += 1,
            429 => refused += 1,
            s => panic!("GET {path}: {s}"),
        }
    }
    (allowed, refused)
}

#[tokio::test]
async fn three_servers_behind_nginx_enforce_one_request_limit_per_link() {
    use minyi::rate_limit::{LINK_REQUESTS, SYNC_EVERY, UNKNOWN_TOKENS};
    if std::env::var("MINYI_TEST_PG").map_or(true, |v| v.is_empty()) {
        println!("SKIPPED: MINYI_TEST_PG is not set (several servers need PostgreSQL)");
        return;
    }
    let nginx = find_nginx()
        .expect("MINYI_TEST_PG is set but nginx is not installed (apt-get install nginx)");
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&database_url, 1, 3).await;
    let token = prepared.links[0].1.clone();

    let mut servers = Vec::new();
    for i in 0..SERVERS {
        let log = dir.path().join(format!("server-{i}.log"));
        servers.push(ServerProcess::start(&database_url, &log).await);
    }
    let bases: Vec<&str> = servers.iter().map(|s| s.base.as_str()).collect();
    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir(&nginx_dir).unwrap();
    let front = Nginx::start(&nginx, &nginx_dir, &bases).await;

    // The link is opened in rounds of a third of its limit, with a pause for the servers to
    // share their counts after each: after three rounds the link is used up on every server,
    // although each server itself answered only about a third of the requests.
    let round = LINK_REQUESTS as usize / 3;
    let pause = SYNC_EVERY * 3;
    let mut answered_by = std::collections::BTreeMap::new();
    let (mut allowed, mut refused) = (0, 0);
    for _ in 0..4 {
        let (a, r) = open_times(&front.base, &format!("/s/{token}"), round, &mut answered_by).await;
        allowed += a;
        refused += r;
        tokio::time::sleep(pause).await;
    }
    assert_eq!(answered_by.len(), SERVERS, "{answered_by:?}");
    assert!(
        answered_by.values().all(|n| *n < LINK_REQUESTS as usize),
        "each server alone stays under the limit: {answered_by:?}"
    );
    assert_eq!(
        (allowed, refused),
        (LINK_REQUESTS as usize, round),
        "{}",
        front.error_log()
    );
    // Another link of the same village still opens on every server.
    let other = &prepared.links[1].1;
    for base in &bases {
        let r = client()
            .get(format!("{base}/s/{other}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "another link on {base}");
    }

    // Unknown tokens: one count for all servers, too.
    let round = UNKNOWN_TOKENS as usize / 3;
    let (mut allowed, mut refused) = (0, 0);
    for k in 0..4 {
        let c = client();
        for i in 0..round {
            let r = c
                .get(format!("{}/s/guess{k}x{i}abcdefghijklmnop", front.base))
                .send()
                .await
                .unwrap();
            match r.status().as_u16() {
                404 => allowed += 1,
                429 => refused += 1,
                s => panic!("unknown token: {s}"),
            }
        }
        tokio::time::sleep(pause).await;
    }
    assert_eq!((allowed, refused), (UNKNOWN_TOKENS as usize, round));

    // What the database holds cannot be joined to an invitation: no shared key is the hash
    // of a token that `invitations` stores.
    let db = minyi::db::Db::connect(&database_url).await.unwrap();
    let minyi::db::Db::Postgres(pool) = &db else {
        unreachable!()
    };
    let joined: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rate_counts r JOIN invitation_tokens i ON i.token_hash = r.key",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(joined, 0);
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_counts")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(links, 3, "two links and the unknown tokens");
    let key_of_token: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_counts WHERE key = $1")
        .bind(minyi::secrets::limit_key(&token))
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(key_of_token, 1);
    drop(front);
    drop(servers);
    db.close().await;
}

#[tokio::test]
async fn shared_counts_add_up_across_servers_and_restart_after_their_window() {
    use minyi::db::RateHits;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = minyi::db::Db::connect(&fresh_database_url(dir.path()).await)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let hits = |key: &str, hits| RateHits {
        key: key.into(),
        hits,
        window_ms: 1_000,
    };
    // Two servers add their counts for link a; b is new.
    assert_eq!(
        db.add_rate_hits(10_000, &[hits("a", 3)]).await.unwrap(),
        [(3, 11_000)]
    );
    assert_eq!(
        db.add_rate_hits(10_500, &[hits("a", 4), hits("b", 0)])
            .await
            .unwrap(),
        [(7, 11_000), (0, 11_500)]
    );
    // A sync with nothing to add learns the total; once the window is over, it restarts.
    assert_eq!(
        db.add_rate_hits(10_999, &[hits("a", 0)]).await.unwrap(),
        [(7, 11_000)]
    );
    assert_eq!(
        db.add_rate_hits(11_000, &[hits("a", 2)]).await.unwrap(),
        [(2, 12_000)]
    );
    assert_eq!(db.prune_rate_counts(11_500).await.unwrap(), 1, "b is over");
    assert_eq!(db.rate_count_rows().await.unwrap(), 1);
    db.close().await;
}
