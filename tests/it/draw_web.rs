//! The draw in the app: freeze, seed by commitment or public event, draw, and who sees what.
//! The app's record must verify with the offline `minyi verify` on the exported rosters.

use crate::common;

use common::*;
use minyi::sampling::{self, Seed, SizeRule};

const SEED: &str = "dice 3 1 4 1 5 9 2 6 5 3 5 8 9 7";

#[tokio::test]
async fn a_committed_seed_is_revealed_after_the_freeze_and_the_draw_verifies_offline() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let (sv, sv_csrf) = surveyor(&app, &t).await;
    let base = &app.base;
    let id = t.campaign;
    let (admin, csrf) = (&t.admin.0, &t.admin.1);
    // Nothing can be drawn, and no seed entered, before the freeze.
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed"),
        csrf,
        &[("seed", SEED)],
    )
    .await;
    assert_eq!(location_query(&loc), "e=seed_not_now");
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/draw"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "e=draw_failed");
    // The surveyor registers SHA-256(seed) before the freeze; a second one is refused.
    let commitment = Seed::parse(SEED).unwrap().commitment();
    let (_, _, loc) = post_form(
        &sv,
        &format!("{base}/campaigns/{id}/seed-commitment"),
        &sv_csrf,
        &[("commitment", "not hex")],
    )
    .await;
    assert_eq!(location_query(&loc), "e=bad_commitment");
    let (_, _, loc) = post_form(
        &sv,
        &format!("{base}/campaigns/{id}/seed-commitment"),
        &sv_csrf,
        &[("commitment", &commitment.to_uppercase())],
    )
    .await;
    assert_eq!(location_query(&loc), "m=committed");
    assert_eq!(
        loc.as_deref().unwrap().split('?').next(),
        Some(format!("/surveyor/campaigns/{id}").as_str())
    );
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed-commitment"),
        csrf,
        &[("commitment", &"a".repeat(64))],
    )
    .await;
    assert_eq!(location_query(&loc), "e=commitment_exists");
    // The freeze needs the confirmation box, then records the frame fingerprint.
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "e=confirm");
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=frozen");
    let campaign = app.db.campaign(id).await.unwrap();
    let frames = app.db.campaign_frames(id).await.unwrap();
    let pairs: Vec<(String, String)> = frames
        .iter()
        .map(|f| (f.code.clone(), sampling::fingerprint(&f.phones)))
        .collect();
    assert_eq!(
        campaign.frame_fingerprint.as_deref(),
        Some(sampling::frame_fingerprint(&pairs).as_str())
    );
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}")).await;
    assert!(page.contains(campaign.frame_fingerprint.as_deref().unwrap()));
    // No upload after the freeze, and no commitment either.
    let (s, _, _) = upload(
        &t.op1.0,
        &format!("{base}/village/campaigns/{id}/roster"),
        &t.op1.1,
        "late.csv",
        b"phone\n13700000000\n".to_vec(),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    // The frozen rosters stay out of reach until the draw is done.
    let (s, _) = get_text(&sv, &format!("{base}/surveyor/campaigns/{id}/rosters/V1")).await;
    assert_eq!(s, 404);
    // A seed that does not match the commitment is refused; a short one explained.
    let (_, _, loc) = post_form(
        &sv,
        &format!("{base}/campaigns/{id}/seed"),
        &sv_csrf,
        &[("seed", "dice 3 1 4 1 5 9 2 6 5 3 5 8 9 8")],
    )
    .await;
    assert_eq!(location_query(&loc), "e=seed_mismatch");
    let (_, _, loc) = post_form(
        &sv,
        &format!("{base}/campaigns/{id}/seed"),
        &sv_csrf,
        &[("seed", "short")],
    )
    .await;
    assert_eq!(location_query(&loc), "e=seed_short");
    let (_, _, loc) = post_form(
        &sv,
        &format!("{base}/campaigns/{id}/seed"),
        &sv_csrf,
        &[("seed", &format!("  {SEED}\n"))],
    )
    .await;
    assert_eq!(location_query(&loc), "m=seed");
    assert_eq!(
        app.db.seed_state(id).await.unwrap().source.as_deref(),
        Some("reveal")
    );
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed"),
        csrf,
        &[("seed", "another seed of enough length")],
    )
    .await;
    assert_eq!(location_query(&loc), "e=seed_not_now");
    // Draw: only the administrator; then the record is published.
    let (s, _, _) = post_form(
        &sv,
        &format!("{base}/admin/campaigns/{id}/draw"),
        &sv_csrf,
        &[],
    )
    .await;
    assert_eq!(s, 403);
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/draw"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "m=drawn");
    let r = admin
        .get(format!("{base}/campaigns/{id}/draw.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let json = r.text().await.unwrap();
    let record: sampling::DrawRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(record.seed, SEED);
    assert_eq!(record.seed_commitment.as_deref(), Some(commitment.as_str()));
    assert_eq!(record.villages.len(), 2);
    // The default rule asks everyone in a village of fewer than 50.
    assert_eq!(
        (record.villages[0].population, record.villages[0].size),
        (30, 30)
    );
    assert_eq!(
        (record.villages[1].population, record.villages[1].size),
        (5, 5)
    );
    for f in &frames {
        for p in &f.phones {
            assert!(
                !json.contains(p.as_str()),
                "the record holds a phone number"
            );
        }
    }
    // The same draw, redone offline from the exported rosters by the CLI, verifies.
    let dir = tempfile::tempdir().unwrap();
    let rosters = dir.path().join("rosters");
    let bin = env!("CARGO_BIN_EXE_minyi");
    let out = std::process::Command::new(bin)
        .args(["rosters", "export", "--campaign", &id.to_string(), "--out"])
        .arg(&rosters)
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.path().join("record.json"), &json).unwrap();
    let out = std::process::Command::new(bin)
        .arg("verify")
        .arg("--record")
        .arg(dir.path().join("record.json"))
        .arg("--rosters")
        .arg(&rosters)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK"));
    // The surveyor's frozen-roster download is the same frame.
    let r = sv
        .get(format!("{base}/surveyor/campaigns/{id}/rosters/V1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        std::fs::read_to_string(rosters.join("V1.csv")).unwrap()
    );
    // And the ranked list in the app is sample-v1 on that frame.
    let expected = sampling::draw_stratum(
        &Seed::parse(SEED).unwrap(),
        "V1",
        frames[0].phones.clone(),
        &SizeRule::default(),
    );
    let csv = sv
        .get(format!("{base}/surveyor/campaigns/{id}/sample.csv"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let v1: Vec<&str> = rows
        .iter()
        .filter(|r| &r[0] == "V1")
        .map(|r| r.get(2).unwrap())
        .collect();
    assert_eq!(
        v1,
        expected
            .ranked
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        rows.iter()
            .filter(|r| &r[0] == "V1" && &r[3] == "primary")
            .count(),
        30
    );
    assert_eq!(
        rows.iter()
            .filter(|r| &r[0] == "V2")
            .map(|r| r.get(4).unwrap())
            .collect::<Vec<_>>(),
        ["居民"; 5]
    );
}

#[tokio::test]
async fn a_public_event_seed_is_typed_in_after_the_freeze() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let (base, id, admin, csrf) = (&app.base, t.campaign, &t.admin.0, &t.admin.1);
    // A fixed size per village, set before the freeze.
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/size-rule"),
        csrf,
        &[("method", "fixed"), ("size", "0")],
    )
    .await;
    assert_eq!(location_query(&loc), "e=bad_rule");
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/size-rule"),
        csrf,
        &[("method", "fixed"), ("size", "7")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=rule");
    post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/size-rule"),
        csrf,
        &[
            ("method", "formula"),
            ("margin", "0.05"),
            ("confidence", "0.95"),
        ],
    )
    .await;
    assert_eq!(
        location_query(&loc),
        "e=not_collecting",
        "the rule is fixed at the freeze"
    );
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed-commitment"),
        csrf,
        &[("commitment", &"a".repeat(64))],
    )
    .await;
    assert_eq!(
        location_query(&loc),
        "e=not_collecting",
        "too late to commit"
    );
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/draw"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(location_query(&loc), "e=draw_failed", "no seed yet");
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed"),
        csrf,
        &[("seed", "  fifteen chars  ")],
    )
    .await;
    assert_eq!(location_query(&loc), "e=seed_short");
    let (_, _, loc) = post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed"),
        csrf,
        &[("seed", "会议掷骰 6 2 4 1 3 3 5")],
    )
    .await;
    assert_eq!(location_query(&loc), "m=seed");
    assert_eq!(
        app.db.seed_state(id).await.unwrap().source.as_deref(),
        Some("public")
    );
    // Two administrators clicking "draw" at once: one draw.
    let url = format!("{base}/admin/campaigns/{id}/draw");
    let (a, b) = tokio::join!(
        post_form(admin, &url, csrf, &[]),
        post_form(admin, &url, csrf, &[])
    );
    let mut outcomes = [location_query(&a.2), location_query(&b.2)];
    outcomes.sort();
    assert_eq!(outcomes, ["e=draw_failed", "m=drawn"]);
    let (json, _) = app.db.draw_record(id).await.unwrap().unwrap();
    let record: sampling::DrawRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(record.seed_commitment, None);
    assert_eq!(
        record.villages.iter().map(|v| v.size).collect::<Vec<_>>(),
        [7, 5]
    );
    let (_, page) = get_text(admin, &format!("{base}/campaigns/{id}/draw")).await;
    assert!(
        page.contains(&record.frame_fingerprint) && page.contains("会议掷骰"),
        "{page}"
    );
    let csv = admin
        .get(format!("{base}/campaigns/{id}/draw.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}village,population,fingerprint,size,list_sha256"));
    // The audit chain's head as the draw was made is published with the record, on its page
    // and in its CSV, and the chain in the database is checked against it.
    let head = record
        .audit_head
        .clone()
        .expect("the record carries the audit head");
    let (head_id, _) = head.split_once(':').unwrap();
    assert!(head_id.parse::<i64>().unwrap() > 0, "{head}");
    assert!(page.contains(&head) && csv.contains(&head), "{page}\n{csv}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_minyi"))
        .args([
            "audit",
            "verify",
            "--database-url",
            &app.database_url,
            "--head",
            &head,
        ])
        .env_remove("DATABASE_URL")
        .env_remove("MINYI_AUDIT_KEY_FILE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&format!("published head {head_id} is in the chain")),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn only_the_surveyor_sees_the_sample_and_the_village_sees_nothing_drawn() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let (sv, _) = surveyor(&app, &t).await;
    let (base, id, admin, csrf) = (&app.base, t.campaign, &t.admin.0, &t.admin.1);
    post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/freeze"),
        csrf,
        &[("confirm", "yes")],
    )
    .await;
    post_form(
        admin,
        &format!("{base}/campaigns/{id}/seed"),
        csrf,
        &[("seed", SEED)],
    )
    .await;
    post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/draw"),
        csrf,
        &[],
    )
    .await;
    let phone = app
        .db
        .frame_phones(id, app.db.village_by_code("V1").await.unwrap().id)
        .await
        .unwrap()[0]
        .clone();
    // The surveyor sees full numbers with tel: links: the sample and as many reserves, a
    // reserve without its name, never the rest of the roster.
    let ranked = app.db.strata(id, None).await.unwrap();
    let (s, page) = get_text(&sv, &format!("{base}/surveyor/campaigns/{id}/villages/V1")).await;
    assert_eq!(s, 200);
    let v1 = ranked.iter().find(|s| s.code == "V1").unwrap();
    for (rank, phone, _) in v1.ranks() {
        let listed = rank <= 2 * v1.size;
        assert_eq!(
            page.contains(&format!("tel:{phone}")),
            listed,
            "rank {rank}"
        );
    }
    let (_, sample) = get_text(&sv, &format!("{base}/surveyor/campaigns/{id}/sample.csv")).await;
    let rows: Vec<Vec<&str>> = sample
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    for s in &ranked {
        let listed = rows.iter().filter(|r| r[0] == s.code).count() as i64;
        assert_eq!(listed, (2 * s.size).min(s.population), "{}", s.code);
    }
    for r in &rows {
        let named = !r[4].is_empty();
        assert_eq!(named, r[0] == "V2" && r[3] == "primary", "{r:?}");
    }
    // The commission: the record and counts, never the list.
    for path in [
        format!("/surveyor/campaigns/{id}/villages/V1"),
        format!("/surveyor/campaigns/{id}/sample.csv"),
        format!("/surveyor/campaigns/{id}/rosters/V1"),
    ] {
        let (s, _) = get_text(admin, &format!("{base}{path}")).await;
        assert_eq!((path.as_str(), s), (path.as_str(), 403));
    }
    let (_, page) = get_text(admin, &format!("{base}/admin/campaigns/{id}")).await;
    assert!(!page.contains(&phone));
    // The village: neither its sample, nor the record, nor whether anyone was drawn.
    for (op, _) in [&t.op1, &t.op2] {
        for path in [
            format!("/campaigns/{id}/draw"),
            format!("/campaigns/{id}/draw.json"),
            format!("/campaigns/{id}/draw.csv"),
            format!("/surveyor/campaigns/{id}"),
            format!("/surveyor/campaigns/{id}/villages/V1"),
            format!("/api/campaigns/{id}/draw"),
        ] {
            let (s, _) = get_text(op, &format!("{base}{path}")).await;
            assert_eq!((path.as_str(), s), (path.as_str(), 403));
        }
        let (_, home) = get_text(op, &format!("{base}/village")).await;
        assert!(!home.contains(&phone) && !home.contains("样本"), "{home}");
        let (_, receipt) = get_text(op, &format!("{base}/village/campaigns/{id}/receipt")).await;
        assert!(!receipt.contains("样本") && !receipt.contains(&phone));
    }
}

/// Before the freeze the campaign page shows what the rule would draw from each roster (N,
/// n, the share) and warns where that is more than half the roster; the rule can be changed
/// and the figures follow.
#[tokio::test]
async fn the_sample_sizes_are_shown_before_the_draw_and_follow_the_rule() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let (admin, csrf) = (&t.admin.0, &t.admin.1);
    let page_url = format!("{}/admin/campaigns/{}", app.base, t.campaign);
    // The default: everyone in a village of fewer than 50 (all of V1's 30 and V2's 5),
    // said as such, with no warning about "more than half".
    let (_, page) = get_text(admin, &page_url).await;
    assert!(
        page.contains("共 35 人,将抽取 <strong>35</strong> 人"),
        "{page}"
    );
    assert!(
        page.contains(">30<br><span class=\"muted\">全部调查</span>"),
        "{page}"
    );
    assert!(
        page.contains("有 2 个村(社区)名单人数少,按规则全部调查"),
        "{page}"
    );
    assert!(!page.contains("超过名单人数的一半"), "{page}");
    // ±5% at 95% without the census: 28 of V1's 30 and all 5 of V2's, both over half.
    let (_, _, loc) = post_form(
        admin,
        &format!("{page_url}/size-rule"),
        csrf,
        &[
            ("method", "formula"),
            ("margin", "0.05"),
            ("confidence", "0.95"),
            ("census_below", ""),
        ],
    )
    .await;
    assert!(location_query(&loc).starts_with('m'), "{loc:?}");
    let (_, page) = get_text(admin, &page_url).await;
    assert!(
        page.contains("共 35 人,将抽取 <strong>33</strong> 人"),
        "{page}"
    );
    assert!(
        page.contains(">28<br><span class=\"muted\">占 94%</span>"),
        "{page}"
    );
    assert!(
        page.contains("有 2 个村(社区)的样本量超过名单人数的一半"),
        "{page}"
    );
    let (_, _, loc) = post_form(
        admin,
        &format!("{page_url}/size-rule"),
        csrf,
        &[("method", "fixed"), ("size", "2")],
    )
    .await;
    assert!(location_query(&loc).starts_with('m'), "{loc:?}");
    let (_, page) = get_text(admin, &page_url).await;
    assert!(
        page.contains("共 35 人,将抽取 <strong>4</strong> 人"),
        "{page}"
    );
    assert!(!page.contains("超过名单人数的一半"), "{page}");
}
