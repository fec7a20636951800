//! Benchmark: a mixed load on the release `minyi serve` binary (its own process) over
//! loopback for `DURATION` seconds (default 60): respondents opening their form and submitting
//! it, surveyors on the call console, the commission on the progress page and downloads.
//! Per kind of request: requests, throughput, p50/p99 latency and errors (a transport error,
//! a timeout, or any status other than the expected one). Zero errors are required;
//! afterwards the stored answers must equal the acknowledged submits.
//!
//! The database holds `TOWNS` campaigns in fieldwork (default 12), each of `VILLAGES` villages
//! (20) × `SIZE` released cases (400) with one survey link each — a township's campaign, and
//! enough links for a minute of submits. Clients: `RESPONDENTS` (56; closed loop, no pause)
//! open a link's form and submit it, links taken round-robin over the campaigns;
//! `SURVEYORS` (6) browse the first campaign's console (overview, a village, a case: 1:3:3);
//! `ADMINS` (2) load its progress page and its tallies, counts and rates downloads in turn.
//! Staff pause `THINK_MS` (1000) between pages — a person clicking fast; `THINK_MS=0` makes
//! them hammer too.
//!
//! Run: `cargo bench --bench load` (SQLite, a fresh file in a temporary folder). With
//! `MINYI_BENCH_PG=postgres://postgres@127.0.0.1:5432/<fresh empty database>` the same load
//! runs against PostgreSQL afterwards.

use minyi::db::{Db, NewAccount, RosterTarget};
use minyi::domain::{Role, VillageCode};
use minyi::forms::Kind;
use minyi::ids::{AccountId, CampaignId, CaseId};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Settings {
    seconds: u64,
    towns: usize,
    villages: usize,
    size: usize,
    respondents: usize,
    surveyors: usize,
    admins: usize,
    /// A staff member's pause between two pages, in ms.
    think_ms: u64,
}

fn main() -> anyhow::Result<()> {
    let settings = Settings {
        seconds: env("DURATION", 60) as u64,
        towns: env("TOWNS", 12).max(1),
        villages: env("VILLAGES", 20).max(1),
        size: env("SIZE", 400).max(1),
        respondents: env("RESPONDENTS", 56),
        surveyors: env("SURVEYORS", 6),
        admins: env("ADMINS", 2),
        think_ms: env("THINK_MS", 1000) as u64,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("load.db").display());
    let mut passed = run(&rt, "SQLite", &sqlite, &settings, dir.path())?;
    match std::env::var("MINYI_BENCH_PG") {
        Ok(pg) if !pg.is_empty() => {
            passed &= run(&rt, "PostgreSQL", &pg, &settings, dir.path())?;
        }
        _ => println!(
            "\n(PostgreSQL skipped: set MINYI_BENCH_PG=postgres://…/<fresh empty database>)"
        ),
    }
    anyhow::ensure!(passed, "the load failed (see above)");
    Ok(())
}

/// What the clients need to know about the prepared database.
struct Fixture {
    /// The campaign the staff work on.
    campaign: CampaignId,
    /// Survey-link tokens, round-robin over the campaigns.
    tokens: Vec<String>,
    /// The staff campaign's village codes and case ids.
    village_codes: Vec<String>,
    case_ids: Vec<CaseId>,
    admin_cookie: String,
    surveyor_cookie: String,
}

/// An administrator and a surveyor account, each with a session; their cookies.
async fn staff_sessions(db: &Db) -> anyhow::Result<(AccountId, String, String)> {
    let hash = minyi::secrets::hash_password("bench-password-2026").map_err(anyhow::Error::msg)?;
    let mut out = Vec::new();
    for (username, role) in [
        ("bench_admin", Role::Admin),
        ("bench_surveyor", Role::Surveyor),
    ] {
        let id = db
            .create_account(&NewAccount {
                username,
                display_name: username,
                role,
                village_id: None,
                password_hash: &hash,
                must_change_password: false,
            })
            .await?;
        let token = minyi::secrets::random_token();
        db.create_session(
            &minyi::secrets::token_hash(&token),
            id,
            &minyi::secrets::random_token(),
            24 * 3600,
        )
        .await?;
        out.push((id, format!("minyi_session={token}")));
    }
    let (_, surveyor) = out.pop().unwrap_or((AccountId(0), String::new()));
    let (admin_id, admin) = out.pop().unwrap_or((AccountId(0), String::new()));
    Ok((admin_id, admin, surveyor))
}

/// One township's campaign in fieldwork: `villages` villages (codes `43<town><village>`) of
/// `size` recipients, all drawn and released; returns the campaign, its village codes and
/// its link tokens.
async fn prepare_town(
    db: &Db,
    town: usize,
    s: &Settings,
    admin: AccountId,
) -> anyhow::Result<(CampaignId, Vec<String>, Vec<String>)> {
    let campaign = db
        .create_campaign(&format!("load {town}"), &format!("第{town}镇"), 2026)
        .await?;
    let mut codes = Vec::new();
    for v in 0..s.villages {
        let code = format!("43{town:02}{v:03}");
        let village = db
            .create_village(
                &VillageCode::parse(&code).map_err(anyhow::Error::msg)?,
                &format!("第{town}镇第{}村", v + 1),
            )
            .await?;
        codes.push(code);
        let first = 13_000_000_000u64 + ((town * 1000 + v) * 10_000) as u64;
        let csv: String = std::iter::once("电话\n".to_string())
            .chain((0..s.size as u64).map(|i| format!("{}\n", first + i)))
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
        .await?;
    }
    db.set_size_rule(
        campaign,
        &format!("{{\"method\":\"fixed\",\"size\":{}}}", s.size),
    )
    .await?;
    db.freeze(campaign, minyi::sampling::frame_fingerprint)
        .await?;
    let seed = minyi::sampling::Seed::parse(&format!("load seed {town} 1 2 3 4 5 6 7"))
        .map_err(anyhow::Error::msg)?;
    db.enter_seed(campaign, seed.as_str(), &seed.commitment(), admin)
        .await?;
    minyi::ops::draw::draw(&db.clone(), admin, campaign).await?;
    let forms = minyi::forms::builtin().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    minyi::fieldwork::start(db, campaign, &forms).await?;
    let tokens = db
        .issue_link_tokens(campaign, None, minyi::secrets::link_token)
        .await?
        .into_iter()
        .map(|o| o.token)
        .collect();
    Ok((campaign, codes, tokens))
}

async fn prepare(url: &str, s: &Settings) -> anyhow::Result<Fixture> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    anyhow::ensure!(
        db.count_accounts().await? == 0,
        "{url} is not a fresh database (it has accounts); give the benchmark an empty one"
    );
    let (admin, admin_cookie, surveyor_cookie) = staff_sessions(&db).await?;
    let mut towns = Vec::new();
    for town in 1..=s.towns {
        towns.push(prepare_town(&db, town, s, admin).await?);
    }
    let (campaign, village_codes, _) = &towns[0];
    let case_ids = db
        .cases(*campaign, None)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    // Round-robin over the campaigns, so the staff's campaign fills up during the run.
    let mut tokens = Vec::new();
    for i in 0..s.villages * s.size {
        for (_, _, t) in &towns {
            if let Some(t) = t.get(i) {
                tokens.push(t.clone());
            }
        }
    }
    db.close().await;
    Ok(Fixture {
        campaign: *campaign,
        tokens,
        village_codes: village_codes.clone(),
        case_ids,
        admin_cookie,
        surveyor_cookie,
    })
}

/// One benchmark run on one database; false if anything failed.
fn run(
    rt: &tokio::runtime::Runtime,
    label: &str,
    url: &str,
    s: &Settings,
    dir: &std::path::Path,
) -> anyhow::Result<bool> {
    let t0 = Instant::now();
    let fixture = Arc::new(rt.block_on(prepare(url, s))?);
    println!(
        "\n{label}: prepared {} campaigns × {} villages × {} released cases with survey links in {:.1} s",
        s.towns,
        s.villages,
        s.size,
        t0.elapsed().as_secs_f64()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log_path = dir.join(format!("server-{label}.log"));
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args([
            "serve",
            "--database-url",
            url,
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--base-url",
            &base,
        ])
        .env_remove("DATABASE_URL")
        .env("MINYI_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path)?)
        .spawn()?;
    let result = rt.block_on(async {
        wait_ready(&base).await?;
        load(&base, fixture.clone(), s).await
    });
    let _ = server.kill();
    let _ = server.wait();
    let stats = result?;
    let stored = rt.block_on(async {
        let db = Db::connect(url).await?;
        let mut n = 0;
        for c in db.list_campaigns().await? {
            n += db
                .count_answers(c.id, minyi::forms::Audience::Recipients)
                .await?;
        }
        db.close().await;
        Ok::<_, anyhow::Error>(n)
    })?;

    println!(
        "{label}: {} respondents + {} surveyors + {} administrators (staff pausing {} ms between pages) for {:.1} s over loopback, server = release `minyi serve`",
        s.respondents, s.surveyors, s.admins, s.think_ms, stats.elapsed
    );
    println!("| what | requests | per second | p50 (ms) | p99 (ms) | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut all = Tally::default();
    for (name, label) in KINDS {
        let k = stats.kinds.get(name).cloned().unwrap_or_default();
        println!(
            "| {label} | {} | {:.0} | {:.2} | {:.2} | {} |",
            k.latencies.len(),
            k.latencies.len() as f64 / stats.elapsed,
            p(&k.latencies, 0.50),
            p(&k.latencies, 0.99),
            k.errors
        );
        all.latencies.extend(k.latencies);
        all.errors += k.errors;
        all.samples.extend(k.samples);
    }
    all.latencies.sort_by(f64::total_cmp);
    println!(
        "| all | {} | {:.0} | {:.2} | {:.2} | {} |",
        all.latencies.len(),
        all.latencies.len() as f64 / stats.elapsed,
        p(&all.latencies, 0.50),
        p(&all.latencies, 0.99),
        all.errors
    );
    let acked = stats.kinds.get("submit").map_or(0, |k| k.ok);
    let staff_done = fixture_answers(&stats, s);
    println!(
        "acknowledged submits: {acked}; answers stored: {stored}; the staff's campaign ended with about {staff_done} answers of {}",
        s.villages * s.size
    );
    let mut ok = true;
    if stored as usize != acked {
        println!("FAIL: stored answers differ from acknowledged submits");
        ok = false;
    }
    if stats.links_ran_out {
        println!("FAIL: the survey links ran out before the end; raise TOWNS");
        ok = false;
    }
    if all.errors > 0 {
        ok = false;
        println!("FAIL: {} errors; the first ones:", all.errors);
        for e in all.samples.iter().take(10) {
            println!("  {e}");
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        println!("server log (last lines):");
        for l in tail.iter().rev() {
            println!("  {l}");
        }
    }
    Ok(ok)
}

/// Submits that went to the staff's campaign (every `towns`-th link).
fn fixture_answers(stats: &Stats, s: &Settings) -> usize {
    let acked = stats.kinds.get("submit").map_or(0, |k| k.ok);
    acked.div_ceil(s.towns).min(s.villages * s.size)
}

async fn wait_ready(base: &str) -> anyhow::Result<()> {
    for _ in 0..400 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("server did not start")
}

/// The kinds of request, in the order of the table.
const KINDS: [(&str, &str); 9] = [
    ("form", "respondent opens the form `GET /s/<token>`"),
    ("submit", "respondent submits `POST /s/<token>` (303)"),
    (
        "console",
        "console overview `GET /surveyor/campaigns/{id}/console`",
    ),
    ("console_village", "a village's console `…/console/{code}`"),
    ("case", "a case `GET /surveyor/cases/{case}`"),
    ("progress", "progress `GET /admin/campaigns/{id}/progress`"),
    ("tallies", "download `tallies.csv`"),
    ("counts", "download `counts.csv`"),
    ("rates", "download `rates.csv`"),
];

#[derive(Default, Clone)]
struct Tally {
    ok: usize,
    errors: usize,
    latencies: Vec<f64>,
    samples: Vec<String>,
}

struct Stats {
    kinds: BTreeMap<&'static str, Tally>,
    elapsed: f64,
    links_ran_out: bool,
}

fn p(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize] * 1000.0
}

#[derive(Clone, Copy)]
enum Client {
    Respondent,
    Surveyor,
    Admin,
}

/// What every client shares.
struct Shared {
    base: String,
    f: Arc<Fixture>,
    client: reqwest::Client,
    /// A complete valid answer set, URL-encoded.
    body: String,
    next_token: AtomicUsize,
}

/// The next request(s) of a client: (kind, request, expected status).
fn next_requests(
    role: Client,
    step: usize,
    rand: u64,
    sh: &Shared,
) -> Option<Vec<(&'static str, reqwest::RequestBuilder, u16)>> {
    let (base, f, client) = (&sh.base, &sh.f, &sh.client);
    let id = f.campaign;
    Some(match role {
        Client::Respondent => {
            let token = f
                .tokens
                .get(sh.next_token.fetch_add(1, Ordering::Relaxed))?;
            let url = format!("{base}/s/{token}");
            vec![
                ("form", client.get(&url), 200),
                (
                    "submit",
                    client
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(sh.body.clone()),
                    303,
                ),
            ]
        }
        Client::Surveyor => {
            let (kind, url) = match rand % 7 {
                0 => ("console", format!("{base}/surveyor/campaigns/{id}/console")),
                1..=3 => {
                    let code = &f.village_codes[(rand / 7) as usize % f.village_codes.len()];
                    (
                        "console_village",
                        format!("{base}/surveyor/campaigns/{id}/console/{code}"),
                    )
                }
                _ => {
                    let case = f.case_ids[(rand / 7) as usize % f.case_ids.len()];
                    ("case", format!("{base}/surveyor/cases/{case}"))
                }
            };
            vec![(
                kind,
                client.get(url).header("cookie", &f.surveyor_cookie),
                200,
            )]
        }
        Client::Admin => {
            let (kind, url) = match step % 4 {
                0 => ("progress", format!("{base}/admin/campaigns/{id}/progress")),
                1 => (
                    "tallies",
                    format!("{base}/admin/campaigns/{id}/downloads/tallies.csv"),
                ),
                2 => (
                    "counts",
                    format!("{base}/admin/campaigns/{id}/downloads/counts.csv"),
                ),
                _ => (
                    "rates",
                    format!("{base}/admin/campaigns/{id}/downloads/rates.csv"),
                ),
            };
            vec![(kind, client.get(url).header("cookie", &f.admin_cookie), 200)]
        }
    })
}

/// Send a request and read the whole body; Err describes what was wrong.
async fn fetch(name: &str, request: reqwest::RequestBuilder, expected: u16) -> Result<(), String> {
    match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            match r.bytes().await {
                Ok(_) if status == expected => Ok(()),
                Ok(b) => Err(format!(
                    "{name}: status {status} (expected {expected}): {}",
                    String::from_utf8_lossy(&b[..b.len().min(300)])
                )),
                Err(e) => Err(format!("{name}: reading the body: {e}")),
            }
        }
        Err(e) => Err(format!("{name}: {e}")),
    }
}

fn http_client(pool: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(pool)
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn load(base: &str, f: Arc<Fixture>, s: &Settings) -> anyhow::Result<Stats> {
    let clients = s.respondents + s.surveyors + s.admins;
    let shared = Arc::new(Shared {
        base: base.to_string(),
        f,
        client: http_client(clients)?,
        body: answers(),
        next_token: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(s.seconds);
    let roles = std::iter::repeat_n(Client::Respondent, s.respondents)
        .chain(std::iter::repeat_n(Client::Surveyor, s.surveyors))
        .chain(std::iter::repeat_n(Client::Admin, s.admins));
    let mut workers = Vec::new();
    for (w, role) in roles.enumerate() {
        let (sh, think) = (shared.clone(), s.think_ms);
        workers.push(tokio::spawn(async move {
            let mut kinds: BTreeMap<&'static str, Tally> = BTreeMap::new();
            let mut ran_out = false;
            // xorshift64*, seeded per client: the same mix every run.
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ ((w as u64 + 1) << 17);
            let mut step = w;
            while Instant::now() < deadline {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let rand = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 8;
                let Some(requests) = next_requests(role, step, rand, &sh) else {
                    ran_out = true;
                    break;
                };
                step += 1;
                if step > w && !matches!(role, Client::Respondent) && think > 0 {
                    tokio::time::sleep(Duration::from_millis(think)).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                for (name, request, expected) in requests {
                    let t0 = Instant::now();
                    let outcome = fetch(name, request, expected).await;
                    let k = kinds.entry(name).or_default();
                    k.latencies.push(t0.elapsed().as_secs_f64());
                    match outcome {
                        Ok(()) => k.ok += 1,
                        Err(e) => {
                            k.errors += 1;
                            if k.samples.len() < 5 {
                                k.samples.push(e);
                            }
                        }
                    }
                }
            }
            (kinds, ran_out)
        }));
    }
    let mut kinds: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut links_ran_out = false;
    for w in workers {
        let (mine, ran_out) = w.await?;
        links_ran_out |= ran_out;
        for (name, k) in mine {
            let all = kinds.entry(name).or_default();
            all.ok += k.ok;
            all.errors += k.errors;
            all.latencies.extend(k.latencies);
            all.samples.extend(k.samples);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    for k in kinds.values_mut() {
        k.latencies.sort_by(f64::total_cmp);
    }
    Ok(Stats {
        kinds,
        elapsed,
        links_ran_out,
    })
}

/// A complete valid answer set for the built-in recipients' form, URL-encoded.
fn answers() -> String {
    let form = minyi::forms::builtin().map(|f| f.recipients).ok();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for q in form.iter().flat_map(|f| &f.questions) {
        if let Some(c) = &q.show_if
            && !pairs
                .iter()
                .any(|(k, v)| k == &c.question && c.any_of.contains(v))
        {
            continue;
        }
        let value = match &q.kind {
            Kind::Single { options, .. } | Kind::Multiple { options, .. } => {
                options[0].value.clone()
            }
            Kind::Text { .. } => "办事认真".into(),
        };
        pairs.push((q.id.clone(), value));
    }
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
