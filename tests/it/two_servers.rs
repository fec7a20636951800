//! Two servers, one PostgreSQL: two `minyi serve` processes (the real binary) over one
//! PostgreSQL database, as behind a load balancer. Logins, submissions and the surveyor's
//! console are spread across both: a session made on one is valid on the other (and a logout
//! on one ends it on both), every answer is counted once — the same link submitted to both
//! servers at the same moment included —, a phone interview started on one server can be
//! finished on the other, and both show the same figures.
//!
//! Runs only when `MINYI_TEST_PG` names a PostgreSQL server (`.ci/run`'s second pass does):
//! an SQLite file belongs to one machine, so sharing it is not a deployment minyi offers.

use crate::common;

use common::*;
use minyi::ids::CaseId;
use std::collections::HashMap;

/// A client sending a fixed session cookie (no cookie store: both servers are 127.0.0.1, and
/// a cookie store would share cookies between the ports by itself, hiding what is tested).
fn with_session(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A respondent's phone: no cookies, no redirects followed.
fn phone() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn get_ok(c: &reqwest::Client, url: &str) -> String {
    let (status, page) = get_text(c, url).await;
    assert_eq!(status, 200, "GET {url}:\n{page}");
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgresql_count_every_answer_once_and_share_sessions() {
    if std::env::var("MINYI_TEST_PG").map_or(true, |v| v.is_empty()) {
        eprintln!(
            "SKIPPED two_servers_on_one_postgresql…: needs PostgreSQL; set \
             MINYI_TEST_PG=postgres://postgres@127.0.0.1:5432/test to run it (.ci/run's second pass does)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 2, 60).await;
    let id = prepared.campaign;
    let links = prepared.links;
    let server_a = ServerProcess::start(&url, &dir.path().join("a.log")).await;
    let server_b = ServerProcess::start(&url, &dir.path().join("b.log")).await;
    let (a, b) = (server_a.base.clone(), server_b.base.clone());
    let servers = [a.as_str(), b.as_str()];

    // The administrator logs in on A with the one-time password and changes it on B.
    let r = login(&client(), &a, "admin", &prepared.admin_password).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/password".into())
    );
    let admin = with_session(&session_cookie_of(&r));
    let page = get_ok(&admin, &format!("{b}/password")).await;
    let (s, body, _) = post_form(
        &admin,
        &format!("{b}/password"),
        &csrf_in(&page),
        &[
            ("current", prepared.admin_password.as_str()),
            ("new", "commission-2026-key"),
            ("repeat", "commission-2026-key"),
        ],
    )
    .await;
    assert_eq!(s, 303, "password change on B with A's session: {body}");
    for base in servers {
        get_ok(&admin, &format!("{base}/admin/campaigns/{id}")).await;
        get_ok(&admin, &format!("{base}/admin/campaigns/{id}/progress")).await;
    }

    // The surveyor logs in on B and works on A.
    let r = login(&client(), &b, SURVEYOR, SURVEYOR_PASSWORD).await;
    assert_eq!(r.status(), 303, "surveyor login on B");
    let surveyor = with_session(&session_cookie_of(&r));
    for base in servers {
        let page = get_ok(
            &surveyor,
            &format!("{base}/surveyor/campaigns/{id}/console"),
        )
        .await;
        assert!(page.contains("村01") && page.contains("村02"), "{page}");
        get_ok(
            &surveyor,
            &format!("{base}/surveyor/campaigns/{id}/console/C01"),
        )
        .await;
    }

    // Respondents: 40 links answered at once, alternately through A and B.
    let mut sent = Vec::new();
    for (i, (_, token)) in links.iter().enumerate().take(40) {
        let base = servers[i % 2].to_string();
        let token = token.clone();
        sent.push(tokio::spawn(async move {
            phone()
                .post(format!("{base}/s/{token}"))
                .form(&answers_marked(&format!("ab-{i}")))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for s in sent {
        assert_eq!(s.await.unwrap(), 303);
    }
    // The same 20 links each submitted to A and B at the same moment (a double tap that a
    // load balancer spread over both), all at once: one answer per link.
    let mut sent = Vec::new();
    for (i, (_, token)) in links.iter().enumerate().skip(40).take(20) {
        for (side, base) in ["A", "B"].into_iter().zip(servers) {
            let (base, token) = (base.to_string(), token.clone());
            sent.push(tokio::spawn(async move {
                let r = phone()
                    .post(format!("{base}/s/{token}"))
                    .form(&answers_marked(&format!("dup-{i}-{side}")))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                (i, status, r.text().await.unwrap_or_default())
            }));
        }
    }
    let mut acknowledged: HashMap<usize, usize> = HashMap::new();
    for s in sent {
        let (i, status, body) = s.await.unwrap();
        // Acknowledged (`303`), or the thank-you page if the other one was stored first.
        assert!(
            status == 303 || (status == 200 && body.contains("已收到")),
            "link {i} submitted to both servers: {status}\n{body}\nlog of A:\n{}\nlog of B:\n{}",
            server_a.log_text(),
            server_b.log_text()
        );
        *acknowledged.entry(i).or_default() += usize::from(status == 303);
    }
    assert!(acknowledged.values().all(|n| *n >= 1));
    // A link answered through one server is used on the other.
    for (i, (_, token)) in links.iter().enumerate().take(4) {
        let other = servers[(i + 1) % 2];
        let r = phone()
            .post(format!("{other}/s/{token}"))
            .form(&answers_marked(&format!("again-{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("已收到"));
    }

    // Phone interviews: opened on A and submitted on B; and one case interviewed on both at once.
    let db = minyi::db::Db::connect(&url).await.unwrap();
    let open: Vec<CaseId> = db
        .cases(id, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.status == minyi::domain::CaseStatus::Open && !c.link_used)
        .map(|c| c.id)
        .collect();
    let (first, second, third) = (open[0], open[1], open[2]);
    let page = get_ok(&surveyor, &format!("{a}/surveyor/cases/{first}/interview")).await;
    let csrf = csrf_in(&page);
    let mut fields = answers_marked("phone-1");
    fields.push(("_csrf".into(), csrf.clone()));
    let r = surveyor
        .post(format!("{b}/surveyor/cases/{first}/interview"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), format!("/surveyor/cases/{first}?m=interview"));
    let mut fields = answers_marked("phone-2");
    fields.push(("_csrf".into(), csrf.clone()));
    let (ra, rb) = tokio::join!(
        surveyor
            .post(format!("{a}/surveyor/cases/{second}/interview"))
            .form(&fields)
            .send(),
        surveyor
            .post(format!("{b}/surveyor/cases/{second}/interview"))
            .form(&fields)
            .send(),
    );
    let mut outcomes = [location(&ra.unwrap()), location(&rb.unwrap())];
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            format!("/surveyor/cases/{second}?m=duplicate"),
            format!("/surveyor/cases/{second}?m=interview")
        ]
    );
    // A call attempt recorded on B is in the case's history on A.
    let (s, _, loc) = post_form(
        &surveyor,
        &format!("{b}/surveyor/cases/{third}/attempts"),
        &csrf,
        &[("outcome", "busy"), ("note", "第一次占线")],
    )
    .await;
    assert_eq!(
        (s, loc.as_deref()),
        (
            303,
            Some(format!("/surveyor/cases/{third}?m=attempt").as_str())
        )
    );
    let page = get_ok(&surveyor, &format!("{a}/surveyor/cases/{third}")).await;
    assert!(page.contains("第一次占线"), "{page}");

    // Every answer counted once.
    let all = response_comments(&db, id).await;
    let (phone_answers, comments): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|c| c.starts_with("phone-"));
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for c in &comments {
        *seen.entry(c.as_str()).or_default() += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "an answer stored twice: {seen:?}"
    );
    for i in 0..40 {
        assert!(seen.contains_key(format!("ab-{i}").as_str()), "ab-{i} lost");
    }
    for i in 40..60 {
        let stored = ["A", "B"]
            .iter()
            .filter(|side| seen.contains_key(format!("dup-{i}-{side}").as_str()))
            .count();
        assert_eq!(stored, 1, "link {i} submitted to both servers");
    }
    assert_eq!(comments.len(), 60);
    assert!(!comments.iter().any(|c| c.starts_with("again-")));
    assert_eq!(phone_answers.len(), 2, "{phone_answers:?}");
    let ledger = village_ledger(&db, id).await;
    for (village, [used, voided, answers, completed]) in &ledger {
        assert_eq!(
            (*completed, *answers),
            (used + voided, used + voided),
            "village {village}"
        );
    }
    assert_eq!(ledger.values().map(|r| r[0]).sum::<i64>(), 60);
    assert_eq!(ledger.values().map(|r| r[1]).sum::<i64>(), 2);

    // Closing on A mixes the last answers; both servers then show the same figures.
    let page = get_ok(&admin, &format!("{a}/admin/campaigns/{id}/progress")).await;
    let (s, _, closed) = post_form(
        &admin,
        &format!("{a}/admin/campaigns/{id}/close"),
        &csrf_in(&page),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        closed.as_deref(),
        Some(format!("/admin/campaigns/{id}?m=closed").as_str()),
        "fieldwork closed"
    );
    assert_eq!(waiting(&db, id).await, 0, "the close mixed every answer");
    assert_eq!(response_comments(&db, id).await.len(), 62);

    let mut tallies = Vec::new();
    for base in servers {
        get_ok(&admin, &format!("{base}/admin/campaigns/{id}/progress")).await;
        let r = admin
            .get(format!("{base}/admin/campaigns/{id}/downloads/tallies.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        tallies.push(r.bytes().await.unwrap());
        let page = get_ok(
            &surveyor,
            &format!("{base}/surveyor/campaigns/{id}/console"),
        )
        .await;
        assert!(page.contains("村01"));
    }
    assert_eq!(tallies[0], tallies[1], "the two servers' tallies differ");

    // Logging out on A ends the session on B too.
    let page = get_ok(&surveyor, &format!("{a}/surveyor")).await;
    let (s, _, _) = post_form(&surveyor, &format!("{a}/logout"), &csrf_in(&page), &[]).await;
    assert_eq!(s, 303);
    let r = surveyor
        .get(format!("{b}/surveyor/campaigns/{id}/console"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r).starts_with("/login")),
        (303, true),
        "the session ended on A is refused on B"
    );
    db.close().await;
    drop((server_a, server_b));
}
