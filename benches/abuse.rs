//! Benchmark: does one server stay up under abuse from people without an account? In one run
//! against the release `minyi serve` binary (its own process, SQLite, loopback), three phases:
//! 1. idle;
//! 2. `LOGINS` (400) concurrent clients posting bogus `/api/login` (made-up names and
//!    passwords), while a real account tries to log in once a second;
//! 3. `FLOOD_SECONDS` (60) of `FLOOD_CLIENTS` (64) clients requesting unknown `/s/<token>`
//!    links as fast as they are answered.
//!
//! In each phase one prober requests `/healthz` every 20 ms (its p50/p99/max), and the
//! server's memory is read from `/proc/<pid>/status`: the highest `VmRSS` sampled every
//! 100 ms, and `VmHWM` (the kernel's peak, reset at the start of each phase through
//! `/proc/<pid>/clear_refs` where the kernel allows it). Targets: `/healthz` p99 under
//! 100 ms and RSS under 500 MB in every phase.
//!
//! Run: `cargo bench --bench abuse` (Linux only: it reads `/proc`). Optional:
//! `IDLE_SECONDS=5 LOGIN_SECONDS=20 LOGINS=400 FLOOD_SECONDS=60 FLOOD_CLIENTS=64`.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const REAL_USER: &str = "realuser";
const REAL_PASSWORD: &str = "real-user-password-2026";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let idle_seconds = env("IDLE_SECONDS", 5);
    let login_seconds = env("LOGIN_SECONDS", 20);
    let logins = env("LOGINS", 400) as usize;
    let flood_seconds = env("FLOOD_SECONDS", 60);
    let flood_clients = env("FLOOD_CLIENTS", 64) as usize;

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(prepare(&url))?;

    // Warnings (the once-a-minute summaries of refused logins) without a line per request
    // from the HTTP trace layer.
    let (mut server, base) = support::start_server(&url, "warn,tower_http=off")?;
    let pid = server.id();
    let result = rt.block_on(async {
        support::wait_ready(&base).await?;
        let idle = phase(&base, pid, idle_seconds, Load::Idle).await?;
        let login = phase(&base, pid, login_seconds, Load::Logins(logins)).await?;
        let flood = phase(&base, pid, flood_seconds, Load::Flood(flood_clients)).await?;
        Ok::<_, anyhow::Error>([
            ("idle".to_string(), idle),
            (
                format!("{logins} concurrent bogus `POST /api/login`"),
                login,
            ),
            (
                format!("unknown-token flood `GET /s/<token>`, {flood_clients} clients"),
                flood,
            ),
        ])
    });
    let _ = server.kill();
    let _ = server.wait();
    let phases = result?;

    println!(
        "\nrelease `minyi serve` on SQLite, loopback, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| phase | seconds | attack requests (by status) | `/healthz` p50 (ms) | p99 (ms) | max (ms) | failed probes | max VmRSS (MB) | VmHWM (MB) | threads | real logins ok / tried |"
    );
    println!("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, r) in &phases {
        let statuses = if r.statuses.is_empty() {
            "—".to_string()
        } else {
            r.statuses
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let real = if r.real_tried == 0 {
            "—".to_string()
        } else {
            format!("{} / {}", r.real_ok, r.real_tried)
        };
        println!(
            "| {label} | {:.0} | {statuses} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {} | {} | {real} |",
            r.seconds,
            p(&r.probes, 0.50),
            p(&r.probes, 0.99),
            p(&r.probes, 1.0),
            r.failed_probes,
            r.max_rss_kb as f64 / 1024.0,
            match r.hwm_kb {
                Some(kb) => format!("{:.0}", kb as f64 / 1024.0),
                None => "n/a".into(),
            },
            r.max_threads,
        );
    }
    println!("targets: `/healthz` p99 < 100 ms and RSS < 500 MB in every phase");
    Ok(())
}

/// A fresh database with the administrator and one account that logs in during the attack.
async fn prepare(url: &str) -> anyhow::Result<()> {
    let db = minyi::db::Db::connect(url).await?;
    db.migrate().await?;
    minyi::http::bootstrap_admin(&db).await?;
    let hash = minyi::secrets::hash_password(REAL_PASSWORD).map_err(anyhow::Error::msg)?;
    db.create_account(&minyi::db::NewAccount {
        username: REAL_USER,
        display_name: "真实用户",
        role: minyi::domain::Role::Surveyor,
        village_id: None,
        password_hash: &hash,
        must_change_password: false,
    })
    .await?;
    db.close().await;
    Ok(())
}

#[derive(Clone, Copy)]
enum Load {
    Idle,
    /// This many concurrent bogus logins.
    Logins(usize),
    /// This many clients requesting unknown links.
    Flood(usize),
}

#[derive(Default)]
struct PhaseResult {
    seconds: f64,
    /// Attack responses by status (`error` for a failed request).
    statuses: BTreeMap<String, usize>,
    /// `/healthz` latencies in seconds, sorted.
    probes: Vec<f64>,
    failed_probes: usize,
    max_rss_kb: u64,
    max_threads: u64,
    /// The kernel's peak RSS over the phase (None where it could not be reset).
    hwm_kb: Option<u64>,
    real_ok: usize,
    real_tried: usize,
}

fn http_client(pool: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(pool)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// `VmRSS` and `VmHWM` of a process in kB, and its number of threads.
fn memory_kb(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("Threads:"))
}

async fn phase(base: &str, pid: u32, seconds: u64, load: Load) -> anyhow::Result<PhaseResult> {
    // "5" resets the peak RSS (Linux ≥ 4.0), so VmHWM is this phase's own peak.
    let hwm_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    let workers = match load {
        Load::Idle => 0,
        Load::Logins(n) | Load::Flood(n) => n,
    };
    let attack = http_client(workers.max(1))?;
    for w in 0..workers {
        let (client, stop, base) = (attack.clone(), stop.clone(), base.to_string());
        attackers.push(tokio::spawn(async move {
            let mut statuses = BTreeMap::<String, usize>::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let request = match load {
                    Load::Logins(_) => client.post(format!("{base}/api/login")).json(
                        &serde_json::json!({ "username": format!("user{w}x{i}"), "password": format!("guess{i}") }),
                    ),
                    _ => client.get(format!("{base}/s/bogus{w:05}x{i:012}")),
                };
                let key = match request.send().await {
                    Ok(r) => r.status().as_u16().to_string(),
                    Err(_) => "error".to_string(),
                };
                *statuses.entry(key).or_default() += 1;
            }
            statuses
        }));
    }
    // The real account logs in once a second while bogus logins run.
    let real = matches!(load, Load::Logins(_)).then(|| {
        let (stop, base) = (stop.clone(), base.to_string());
        tokio::spawn(async move {
            let client = http_client(1).ok()?;
            let (mut ok, mut tried) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                tried += 1;
                let r = client
                    .post(format!("{base}/api/login"))
                    .json(&serde_json::json!({ "username": REAL_USER, "password": REAL_PASSWORD }))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status() == 200) {
                    ok += 1;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Some((ok, tried))
        })
    });
    let mut out = PhaseResult::default();
    let prober = http_client(1)?;
    let mut next_sample = Instant::now();
    while Instant::now() < deadline {
        let t0 = Instant::now();
        match prober.get(format!("{base}/healthz")).send().await {
            Ok(r) if r.status() == 200 => out.probes.push(t0.elapsed().as_secs_f64()),
            _ => out.failed_probes += 1,
        }
        if Instant::now() >= next_sample {
            let (rss, _, threads) = memory_kb(pid);
            out.max_rss_kb = out.max_rss_kb.max(rss);
            out.max_threads = out.max_threads.max(threads);
            next_sample += Duration::from_millis(100);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        for (status, n) in a.await? {
            *out.statuses.entry(status).or_default() += n;
        }
    }
    if let Some(real) = real
        && let Some((ok, tried)) = real.await?
    {
        (out.real_ok, out.real_tried) = (ok, tried);
    }
    let (rss, hwm, _) = memory_kb(pid);
    out.max_rss_kb = out.max_rss_kb.max(rss);
    out.hwm_kb = hwm_reset.then_some(hwm);
    out.seconds = started.elapsed().as_secs_f64();
    out.probes.sort_by(f64::total_cmp);
    Ok(out)
}

/// The `q` quantile of sorted seconds, in milliseconds.
fn p(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize] * 1000.0
}
