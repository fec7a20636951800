//! Benchmark: acknowledged survey submits per second on SQLite with 64 concurrent
//! clients over loopback, p50/p99 latency, side by side with a trivial handler of the same
//! server (`GET /robots.txt`) in the same run; afterwards the stored responses must equal
//! the acknowledged submits.
//!
//! The server is the real `minyi serve` binary (release build) in its own process; the load
//! client is this program. Run: `cargo bench --bench submit`
//! Optional: `LINKS=20000 SECONDS=10 cargo bench --bench submit`.

mod support;

use minyi::db::Db;
use minyi::forms::Kind;
use minyi::ids::CampaignId;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;

fn main() -> anyhow::Result<()> {
    let links: usize = env("LINKS", 60_000);
    let seconds: u64 = env("SECONDS", 10) as u64;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let tokens = rt.block_on(prepare(&url, links))?;
    println!("prepared {} survey links", tokens.len());

    let (mut server, base) = support::start_server(&url, "warn")?;
    let result = rt.block_on(async {
        support::wait_ready(&base).await?;
        let body = serde_urlencoded_answers();
        let trivial = load(&base, seconds.min(5), None, &body).await?;
        let submits = load(&base, seconds, Some(Arc::new(tokens)), &body).await?;
        Ok::<_, anyhow::Error>((trivial, submits))
    });
    let _ = server.kill();
    let _ = server.wait();
    let (trivial, submits) = result?;
    // All answers (waiting in the pool or mixed), and how many the mixer had moved to
    // `responses` in shuffled batches while the submits ran.
    let (stored, mixed) = rt.block_on(async {
        let db = Db::connect(&url).await?;
        let n = db
            .count_answers(CampaignId(1), minyi::forms::Audience::Recipients)
            .await?;
        let mixed: i64 = match &db {
            Db::Sqlite(s) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM responses")
                    .fetch_one(&s.read)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM responses")
                    .fetch_one(p)
                    .await?
            }
        };
        db.close().await;
        Ok::<_, anyhow::Error>((n, mixed))
    })?;

    println!("{CLIENTS} concurrent clients, loopback, server = release `minyi serve` on SQLite");
    println!("| what | requests | per second | p50 (ms) | p99 (ms) | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (what, r) in [
        ("trivial handler GET /robots.txt", &trivial),
        ("survey submit POST /s/<token>", &submits),
    ] {
        println!(
            "| {what} | {} | {:.0} | {:.2} | {:.2} | {} |",
            r.ok,
            r.ok as f64 / r.elapsed,
            r.p(0.50),
            r.p(0.99),
            r.errors
        );
    }
    println!(
        "acknowledged submits: {}; responses stored: {stored}, of which mixed during the run: {mixed}",
        submits.ok
    );
    anyhow::ensure!(
        stored as usize == submits.ok,
        "stored responses differ from acknowledged submits"
    );
    println!("targets: ≥ 3,000 submits/s, p99 < 50 ms");
    Ok(())
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A campaign in fieldwork whose one village has `links` released cases, and their tokens.
async fn prepare(url: &str, links: usize) -> anyhow::Result<Vec<String>> {
    let (db, campaign, _) = support::fieldwork_campaign(url, links, links).await?;
    let out = db
        .issue_link_tokens(campaign, None, minyi::secrets::link_token)
        .await?;
    db.close().await;
    Ok(out.into_iter().map(|o| o.token).collect())
}

/// A complete valid answer set for the built-in recipients' form, URL-encoded.
fn serde_urlencoded_answers() -> String {
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
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Default)]
struct Outcome {
    ok: usize,
    errors: usize,
    elapsed: f64,
    latencies: Vec<f64>,
}

impl Outcome {
    fn p(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[i] * 1000.0
    }
}

/// `CLIENTS` workers for `seconds` (or until the tokens run out): GET /robots.txt when
/// `tokens` is None, else one POST per token.
async fn load(
    base: &str,
    seconds: u64,
    tokens: Option<Arc<Vec<String>>>,
    body: &str,
) -> anyhow::Result<Outcome> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CLIENTS)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (client, next, tokens, base, body) = (
            client.clone(),
            next.clone(),
            tokens.clone(),
            base.to_string(),
            body.to_string(),
        );
        workers.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let ok = match &tokens {
                    None => client
                        .get(format!("{base}/robots.txt"))
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == 200),
                    Some(tokens) => {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(token) = tokens.get(i) else { break };
                        client
                            .post(format!("{base}/s/{token}"))
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body(body.clone())
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 303)
                    }
                };
                out.latencies.push(t0.elapsed().as_secs_f64());
                if ok { out.ok += 1 } else { out.errors += 1 }
            }
            out
        }));
    }
    let mut total = Outcome::default();
    for w in workers {
        let o = w.await?;
        total.ok += o.ok;
        total.errors += o.errors;
        total.latencies.extend(o.latencies);
    }
    total.elapsed = started.elapsed().as_secs_f64();
    total.latencies.sort_by(f64::total_cmp);
    Ok(total)
}
