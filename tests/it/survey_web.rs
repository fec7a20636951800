//! The questionnaires over HTTP: fieldwork start, SMS outbox links, the mobile form and its
//! error pages, submissions that count once (also concurrently), declining, reminders, and
//! the panel's personal links. Runs on SQLite, or PostgreSQL with `MINYI_TEST_PG`.

use crate::common;

use common::*;
use minyi::forms::Form;
use minyi::ids::CampaignId;

/// Download an SMS outbox; returns (phone, message, token) per line.
async fn outbox(
    app: &TestApp,
    sv: &(reqwest::Client, String),
    campaign: CampaignId,
    fields: &[(&str, &str)],
) -> Vec<(String, String, String)> {
    let mut all = vec![("_csrf", sv.1.as_str())];
    all.extend_from_slice(fields);
    let r =
        sv.0.post(format!("{}/surveyor/campaigns/{campaign}/outbox", app.base))
            .form(&all)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(reader.headers().unwrap(), vec!["phone", "message"]);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let token = r[1].rsplit("/s/").next().unwrap().to_string();
            (r[0].to_string(), r[1].to_string(), token)
        })
        .collect()
}

fn recipients_form() -> Form {
    minyi::forms::builtin().unwrap().recipients
}

async fn submit(
    c: &reqwest::Client,
    url: &str,
    fields: &[(String, String)],
) -> (u16, String, Option<String>) {
    let r = c.post(url).form(fields).send().await.unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (status, r.text().await.unwrap(), loc)
}

#[tokio::test]
async fn a_respondent_answers_through_a_single_use_link_once() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    assert_eq!(lines.len(), 28 + 5, "one SMS per released case");
    for (phone, message, token) in &lines {
        assert!(message.chars().count() <= 70, "{message}");
        assert!(message.contains(&format!("{}/s/{token}", app.base)));
        assert!(phone.starts_with("13"));
        assert!(token.len() >= 22, "128 bits");
    }
    // Tokens are shown once: a second download has nothing new.
    assert!(
        outbox(&app, &sv, t.campaign, &[("kind", "invite")])
            .await
            .is_empty()
    );

    let anon = client();
    let url = format!("{}/s/{}", app.base, lines[0].2);
    let r = anon.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    let page = r.text().await.unwrap();
    assert!(
        page.len() < 60_000,
        "page with its CSS is {} bytes",
        page.len()
    );
    assert!(
        page.contains("村(社区)看不到谁参加了调查"),
        "privacy statement first"
    );
    assert!(
        !page.contains("<link") && !page.contains("src=\"http"),
        "no external resources"
    );
    assert!(page.contains("一村"), "names the village it is about");

    // Invalid: the answers given are kept, and each unanswered question says so.
    let form = recipients_form();
    let mut partial = valid_answers(&form);
    let dropped = partial.remove(1);
    partial.push(("attitude".into(), "not an option".into()));
    let (s, page, _) = submit(&anon, &url, &partial).await;
    assert_eq!(s, 422);
    assert!(page.contains("请回答") || page.contains("选项"), "{page}");
    assert!(
        page.contains(&format!("value=\"{}\" checked", partial[0].1)),
        "earlier answer kept"
    );
    assert!(page.contains(&format!("id=\"q-{}\"", dropped.0)));
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );

    // Valid: stored once; a double tap is acknowledged the same way.
    let fields = valid_answers(&form);
    let (s, _, loc) = submit(&anon, &url, &fields).await;
    assert_eq!(
        (s, loc.as_deref()),
        (
            303,
            Some(format!("/s/{}?done=answered", lines[0].2).as_str())
        )
    );
    let (_, thanks) = get_text(&anon, &format!("{}?done=answered", url)).await;
    assert!(thanks.contains("提交成功"), "{thanks}");
    let (s, _, _) = submit(&anon, &url, &fields).await;
    assert_eq!(s, 200, "already used: thanks page");
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        1
    );
    let (s, page) = get_text(&anon, &url).await;
    assert_eq!(s, 200);
    assert!(page.contains("已收到"), "{page}");
}

#[tokio::test]
async fn concurrent_submits_of_one_link_store_exactly_one_response() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    let fields = valid_answers(&recipients_form());
    let url = format!("{}/s/{}", app.base, lines[3].2);
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (url, fields) = (url.clone(), fields.clone());
            tokio::spawn(async move { submit(&client(), &url, &fields).await.0 })
        })
        .collect();
    for task in tasks {
        let status = task.await.unwrap();
        assert!(
            status == 303 || status == 200,
            "every submit acknowledged, got {status}"
        );
    }
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_response_row_cannot_be_joined_back_to_its_invitation() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    submit(
        &client(),
        &format!("{}/s/{}", app.base, lines[0].2),
        &valid_answers(&recipients_form()),
    )
    .await;
    // Neither the pool an answer waits in nor the mixed responses hold a time, a mode, a
    // case or an invitation: only the village, the questionnaire, the answers and how long
    // they took as a coarse bucket (never a time).
    for table in ["response_pool", "responses"] {
        let columns: Vec<String> = match &app.db {
            minyi::db::Db::Sqlite(s) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))).fetch_all(&s.write).await.unwrap(),
            minyi::db::Db::Postgres(p) => sqlx::query_scalar("SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position").bind(table).fetch_all(p).await.unwrap(),
        };
        assert_eq!(
            columns,
            [
                "id",
                "campaign_id",
                "village_id",
                "questionnaire",
                "form_id",
                "form_version",
                "form_sha256",
                "answers",
                "duration",
            ],
            "{table}"
        );
    }
    // One answer is fewer than k: it waits in the pool, unmixed.
    let sql = "SELECT id, answers, form_sha256 FROM response_pool";
    let row: (String, String, String) = match &app.db {
        minyi::db::Db::Sqlite(s) => sqlx::query_as(sql).fetch_one(&s.write).await.unwrap(),
        minyi::db::Db::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    };
    assert_eq!(row.0.len(), 32, "a random id");
    assert!(!row.1.contains(&lines[0].0), "no phone in the answers");
    assert_eq!(
        row.2,
        recipients_form().sha256,
        "the form's hash is stored with the response"
    );
}

#[tokio::test]
async fn unknown_used_declined_and_closed_links_get_clear_pages() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    let anon = client();
    let (s, page) = get_text(&anon, &format!("{}/s/AAAAAAAAAAAAAAAAAAAAAA", app.base)).await;
    assert_eq!(s, 404);
    assert!(
        page.contains("链接无效") && !page.contains("一村"),
        "reveals nothing"
    );
    // Declining is a refusal, recorded once, and the link is then used.
    let url = format!("{}/s/{}", app.base, lines[1].2);
    let r = anon
        .post(format!("{url}/decline"))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = get_text(&anon, &url).await;
    assert!(page.contains("已收到"));
    let (s, _, _) = submit(&anon, &url, &valid_answers(&recipients_form())).await;
    assert_eq!(s, 200);
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
    // A closed campaign: a clear page, nothing stored.
    exec(
        &app.db,
        "UPDATE campaigns SET state = 'closed' WHERE id = $1",
        t.campaign.0,
    )
    .await;
    let url = format!("{}/s/{}", app.base, lines[2].2);
    let (_, page) = get_text(&anon, &url).await;
    assert!(page.contains("调查已结束"), "{page}");
    let (s, page, _) = submit(&anon, &url, &valid_answers(&recipients_form())).await;
    assert!(s == 200 && page.contains("调查已结束"));
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn reminders_go_to_those_who_have_not_answered_with_fresh_links() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    submit(
        &client(),
        &format!("{}/s/{}", app.base, lines[0].2),
        &valid_answers(&recipients_form()),
    )
    .await;
    // Nobody is due a reminder on the day the invitations went out.
    assert!(
        outbox(&app, &sv, t.campaign, &[("kind", "remind"), ("days", "3")])
            .await
            .is_empty()
    );
    exec(
        &app.db,
        "UPDATE invitations SET last_sent_at = last_sent_at - $1",
        4 * 86_400,
    )
    .await;
    let reminders = outbox(&app, &sv, t.campaign, &[("kind", "remind"), ("days", "3")]).await;
    assert_eq!(
        reminders.len(),
        lines.len() - 1,
        "everyone but the one who answered"
    );
    assert!(
        reminders
            .iter()
            .all(|(p, m, _)| p != &lines[0].0 && m.contains("提醒"))
    );
    // Both the old and the new link of one person work, once in all.
    let (phone, _, new_token) = &reminders[0];
    let old_token = &lines.iter().find(|(p, _, _)| p == phone).unwrap().2;
    assert_ne!(old_token, new_token);
    let (s, _) = get_text(&client(), &format!("{}/s/{old_token}", app.base)).await;
    assert_eq!(s, 200);
    submit(
        &client(),
        &format!("{}/s/{new_token}", app.base),
        &valid_answers(&recipients_form()),
    )
    .await;
    let (_, page) = get_text(&client(), &format!("{}/s/{old_token}", app.base)).await;
    assert!(page.contains("已收到"));
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn the_panel_rates_each_village_once_through_personal_links() {
    let app = spawn().await;
    let (t, _) = fieldwork(&app).await;
    let (base, id, admin, csrf) = (&app.base, t.campaign, &t.admin.0, &t.admin.1);
    let (s, _, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/panel"),
        csrf,
        &[("name", "王代表"), ("category", "镇长"), ("phone", "")],
    )
    .await;
    assert_eq!(s, 400, "unknown category");
    for (name, category) in [("王代表", "人大代表"), ("李委员", "政协委员")] {
        let (s, _, _) = post_form(
            admin,
            &format!("{base}/admin/campaigns/{id}/panel"),
            csrf,
            &[
                ("name", name),
                ("category", category),
                ("phone", "13912345678"),
            ],
        )
        .await;
        assert_eq!(s, 303);
    }
    let (_, list) = get_text(admin, &format!("{base}/admin/campaigns/{id}/panel")).await;
    assert!(
        list.contains("139****5678") && !list.contains("13912345678"),
        "phones masked"
    );
    let (s, sheet, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/panel/links"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(sheet.matches("<svg").count(), 2, "a QR code each");
    let links: Vec<String> = sheet
        .split("class=\"link\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().replace("&#x2f;", "/"))
        .collect();
    assert_eq!(links.len(), 2);
    let panel = client();
    let (s, home) = get_text(&panel, &links[0]).await;
    assert_eq!(s, 200);
    assert!(home.contains("一村") && home.contains("二村"));
    let form = minyi::forms::builtin().unwrap().panel;
    let fields = valid_answers(&form);
    let (s, page, _) = submit(&panel, &format!("{}/v/V1", links[0]), &[]).await;
    assert_eq!(s, 422, "required grades missing: {page}");
    let (s, _, loc) = submit(&panel, &format!("{}/v/V1", links[0]), &fields).await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("?done=V1"));
    let (s, _, _) = submit(&panel, &format!("{}/v/V1", links[0]), &fields).await;
    assert_eq!(s, 303, "acknowledged");
    assert_eq!(
        app.db
            .count_answers(id, minyi::forms::Audience::Panel)
            .await
            .unwrap(),
        1,
        "one rating per member per village"
    );
    submit(&client(), &format!("{}/v/V1", links[1]), &fields).await;
    assert_eq!(
        app.db
            .count_answers(id, minyi::forms::Audience::Panel)
            .await
            .unwrap(),
        2
    );
    let (_, home) = get_text(&panel, &links[0]).await;
    assert!(home.contains("已评议 1 / 2"), "{home}");
    // A village operator sees none of it.
    for path in [
        format!("/admin/campaigns/{id}/panel"),
        format!("/surveyor/campaigns/{id}"),
    ] {
        let (s, _) = get_text(&t.op1.0, &format!("{base}{path}")).await;
        assert_eq!(s, 403);
    }
    let (s, _, _) = post_form(
        &t.op1.0,
        &format!("{base}/surveyor/campaigns/{id}/outbox"),
        &t.op1.1,
        &[("kind", "invite")],
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_panel_link_before_fieldwork_says_the_survey_has_not_started() {
    let app = spawn().await;
    let t = town_with_rosters(&app).await;
    let (base, id, admin, csrf) = (&app.base, t.campaign, &t.admin.0, &t.admin.1);
    post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/panel"),
        csrf,
        &[("name", "赵委员"), ("category", "政协委员"), ("phone", "")],
    )
    .await;
    let (_, sheet, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/panel/links"),
        csrf,
        &[],
    )
    .await;
    let link = sheet
        .split("class=\"link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let (s, page) = get_text(&client(), &link).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("调查尚未开始") && !page.contains("一村"),
        "{page}"
    );
    // Asking again issues nothing new (printed sheets keep working)...
    let (_, sheet, _) = post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/panel/links"),
        csrf,
        &[],
    )
    .await;
    assert_eq!(sheet.matches("<svg").count(), 0);
    let (s, _) = get_text(&client(), &link).await;
    assert_eq!(s, 200);
    // ...unless all are re-issued: then the old link is unknown.
    post_form(
        admin,
        &format!("{base}/admin/campaigns/{id}/panel/links"),
        csrf,
        &[("all", "yes")],
    )
    .await;
    let (s, _) = get_text(&client(), &link).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn editing_the_form_files_after_fieldwork_starts_does_not_change_the_campaign() {
    let forms = tempfile::tempdir().unwrap();
    for name in ["recipients.toml", "panel.toml", "scheme.toml"] {
        std::fs::copy(
            format!("{}/survey-forms/{name}", env!("CARGO_MANIFEST_DIR")),
            forms.path().join(name),
        )
        .unwrap();
    }
    let dir = forms.path().to_path_buf();
    let app = spawn_with(move |c| c.forms_dir = dir).await;
    let (t, sv) = fieldwork(&app).await;
    let pinned = app.db.pinned_forms(t.campaign).await.unwrap();
    let original = std::fs::read_to_string(forms.path().join("recipients.toml")).unwrap();
    assert_eq!(
        pinned
            .iter()
            .find(|f| f.role == "recipients")
            .unwrap()
            .source,
        original
    );
    // The commission edits the title (and version) during fieldwork.
    let edited = original
        .replacen(
            "title = \"村（社区）干部办事情况调查\"",
            "title = \"改过的标题\"",
            1,
        )
        .replacen("version = \"2026.2\"", "version = \"2026.3\"", 1);
    assert_ne!(edited, original);
    std::fs::write(forms.path().join("recipients.toml"), edited).unwrap();
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    let (_, page) = get_text(&client(), &format!("{}/s/{}", app.base, lines[0].2)).await;
    assert!(
        page.contains("村（社区）干部办事情况调查") && !page.contains("改过的标题"),
        "{page}"
    );
}

/// The outbox holds mobiles only (landlines are counted and called), names the village in
/// every message (one phone on two rosters gets two messages, each naming its village),
/// fits one SMS, and can be downloaded again: the links of a lost file are reissued, the
/// old ones then say they are out of use; one person's link can be reissued on its own.
#[tokio::test]
async fn the_outbox_names_villages_skips_landlines_and_reissues_lost_links() {
    let app = spawn().await;
    let (t, sv) = fieldwork_with_landlines(&app).await;
    let id = t.campaign;
    let (_, page) = get_text(&sv.0, &format!("{}/surveyor/campaigns/{id}", app.base)).await;
    assert!(
        page.contains("<strong>2</strong> 个固定电话收不到短信"),
        "{page}"
    );
    assert!(page.contains("尚未发送:<strong>13</strong>"), "{page}");

    let first = outbox(&app, &sv, id, &[("kind", "invite")]).await;
    assert_eq!(first.len(), 13, "8 + 5 mobiles, no landline: {first:?}");
    assert!(
        first.iter().all(|(p, _, _)| p.starts_with('1')),
        "{first:?}"
    );
    for (_, message, _) in &first {
        assert!(message.chars().count() <= 70, "{message}");
    }
    let twice: Vec<&String> = first
        .iter()
        .filter(|(p, _, _)| p == "13800000001")
        .map(|(_, m, _)| m)
        .collect();
    assert_eq!(twice.len(), 2, "one message per village");
    assert!(
        twice.iter().any(|m| m.contains("一村")) && twice.iter().any(|m| m.contains("二村")),
        "{twice:?}"
    );
    assert!(
        outbox(&app, &sv, id, &[("kind", "invite")])
            .await
            .is_empty(),
        "nothing new"
    );

    // The file was lost: downloading again needs a confirmation, then gives the same
    // people new links, and the old links stop working.
    let r =
        sv.0.post(format!("{}/surveyor/campaigns/{id}/outbox", app.base))
            .form(&[("_csrf", sv.1.as_str()), ("kind", "reissue")])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let again = outbox(&app, &sv, id, &[("kind", "reissue"), ("confirm", "yes")]).await;
    let phones = |v: &[(String, String, String)]| {
        let mut p: Vec<String> = v.iter().map(|(p, _, _)| p.clone()).collect();
        p.sort();
        p
    };
    assert_eq!(phones(&again), phones(&first));
    assert!(
        again
            .iter()
            .all(|(_, _, tok)| first.iter().all(|(_, _, old)| old != tok))
    );
    let old = &first[0].2;
    let (s, page) = get_text(&client(), &format!("{}/s/{old}", app.base)).await;
    assert_eq!(s, 200);
    assert!(page.contains("这个链接已停止使用"), "{page}");
    let r = client()
        .post(format!("{}/s/{old}", app.base))
        .form(&valid_answers(&recipients_form()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "no answer through a superseded link");
    assert_eq!(
        app.db
            .count_answers(id, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
    let (s, page) = get_text(&client(), &format!("{}/s/{}", app.base, again[0].2)).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("<form"),
        "the new link opens the questionnaire"
    );

    // One person's link again, from the case card.
    let v1 = app.db.village_by_code("V1").await.unwrap();
    let case = app
        .db
        .cases(id, Some(v1.id))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.phone == again[0].0 || c.phone == again[1].0)
        .unwrap();
    let (_, card) = get_text(&sv.0, &format!("{}/surveyor/cases/{}", app.base, case.id)).await;
    assert!(card.contains("重发链接"), "{card}");
    let (s, page, _) = post_form(
        &sv.0,
        &format!("{}/surveyor/cases/{}/link", app.base, case.id),
        &sv.1,
        &[],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let page = page.replace("&#x2f;", "/");
    let token = page
        .split("/s/")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
        .next()
        .unwrap();
    let (_, opened) = get_text(&client(), &format!("{}/s/{token}", app.base)).await;
    assert!(opened.contains("<form"), "the reissued link works");
    let before = again.iter().find(|(p, _, _)| *p == case.phone).unwrap();
    let (_, page) = get_text(&client(), &format!("{}/s/{}", app.base, before.2)).await;
    assert!(
        page.contains("这个链接已停止使用"),
        "the link before it is out of use"
    );
    // A landline has no link to reissue.
    let landline = app
        .db
        .cases(id, Some(v1.id))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.phone.starts_with('0'))
        .unwrap();
    let (s, _, _) = post_form(
        &sv.0,
        &format!("{}/surveyor/cases/{}/link", app.base, landline.id),
        &sv.1,
        &[],
    )
    .await;
    assert_eq!(s, 400);
    let events: Vec<String> = app
        .db
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.iter().any(|e| e == "sms.reissue"), "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "sms.outbox").count(), 3);
}

/// The case whose phone is `phone`.
/// 没办过 through the link ends the survey as it ends a phone interview: no answers stored,
/// the case recorded as not a service recipient, the link used up.
#[tokio::test]
async fn a_respondent_who_has_not_used_the_services_is_recorded_as_not_a_recipient() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    let (phone, _, token) = &lines[0];
    let url = format!("{}/s/{token}", app.base);
    let anon = client();
    let fields: Vec<(String, String)> = [("served", "no"), ("coached", "no"), ("attitude", "满意")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (s, _, loc) = submit(&anon, &url, &fields).await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some(format!("/s/{token}?done=screened").as_str()))
    );
    let (_, page) = get_text(&anon, &format!("{url}?done=screened")).await;
    assert!(page.contains("您不用再回答了"), "{page}");
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
    let case = case_of(&app, t.campaign, phone).await;
    assert_eq!(
        case.disposition,
        Some(minyi::fieldwork::Outcome::NotRecipient)
    );
    assert!(case.link_used);
    // Sent again (a double tap): nothing more is recorded.
    let (s, again, _) = submit(&anon, &url, &fields).await;
    assert!(s == 200 && again.contains("已收到"), "{s} {again}");
    assert_eq!(app.db.attempts(case.id).await.unwrap().len(), 1);
}

async fn case_of(app: &TestApp, campaign: CampaignId, phone: &str) -> minyi::db::CaseRow {
    app.db
        .cases(campaign, None)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.phone == phone)
        .expect("a case with that phone")
}

#[tokio::test]
async fn declining_asks_for_confirmation_on_its_own_page_and_only_the_confirmation_records_it() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    let (phone, _, token) = &lines[0];
    let anon = client();
    let url = format!("{}/s/{token}", app.base);
    let decline = format!("{url}/decline");

    // The form's button only leads to the confirmation page (a plain GET, no script).
    let (_, form) = get_text(&anon, &url).await;
    // minijinja writes `/` in attribute values as `&#x2f;`.
    let form = form.replace("&#x2f;", "/");
    assert!(
        form.contains(&format!(
            "<form method=\"get\" action=\"/s/{token}/decline\">\n<button type=\"submit\" class=\"secondary\">我不想参加这次调查</button>"
        )),
        "{form}"
    );
    assert!(!form.contains(&format!("method=\"post\" action=\"/s/{token}/decline\"")));

    let r = anon.get(&decline).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    let confirm = r.text().await.unwrap().replace("&#x2f;", "/");
    for part in [
        "确定不参加这次调查吗?",
        &format!(
            "<form method=\"get\" action=\"/s/{token}\">\n<button type=\"submit\">返回问卷</button>"
        ),
        &format!(
            "<form method=\"post\" action=\"/s/{token}/decline\">\n<input type=\"hidden\" name=\"confirm\" value=\"yes\">\n<button type=\"submit\" class=\"secondary\">确认不参加</button>"
        ),
    ] {
        assert!(confirm.contains(part), "{part}\n{confirm}");
    }
    assert!(!confirm.contains("<script"), "works without script");

    // Neither the page nor a post without the confirmation records anything: an old
    // page's bare button, another answer, a body that is not a form.
    let posts = [
        anon.post(&decline),
        anon.post(&decline).form(&[("confirm", "no")]),
        anon.post(&decline).form(&[("confirm", "")]),
        anon.post(&decline)
            .header("content-type", "application/json")
            .body("{\"confirm\":\"yes\"}"),
    ];
    for post in posts {
        let r = post.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("确定不参加这次调查吗?"), "{page}");
    }
    let case = case_of(&app, t.campaign, phone).await;
    assert_eq!(case.disposition, None);
    assert!(app.db.attempts(case.id).await.unwrap().is_empty());
    let (_, still) = get_text(&anon, &url).await;
    assert!(
        still.contains("id=\"q-attitude\""),
        "the link still opens the form"
    );

    // The confirmation records one refusal and uses the link.
    let r = anon
        .post(&decline)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/s/{token}?done=declined").as_str()
    );
    let (_, done) = get_text(&anon, &format!("{url}?done=declined")).await;
    assert!(done.contains("已记录"), "{done}");
    let case = case_of(&app, t.campaign, phone).await;
    assert_eq!(case.disposition, Some(minyi::fieldwork::Outcome::Refusal));
    // A second tap, or the confirmation page opened again, records nothing more.
    let r = anon
        .post(&decline)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, again) = get_text(&anon, &decline).await;
    assert_eq!(s, 200);
    assert!(
        again.contains("已收到") && !again.contains("确认不参加"),
        "{again}"
    );
    let attempts = app.db.attempts(case.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, minyi::fieldwork::Outcome::Refusal);

    // A link nobody holds: no confirmation page either.
    let (s, page) = get_text(
        &anon,
        &format!("{}/s/AAAAAAAAAAAAAAAAAAAAAA/decline", app.base),
    )
    .await;
    assert_eq!(s, 404);
    assert!(!page.contains("确认不参加"));
}

#[tokio::test]
async fn the_form_says_how_many_questions_and_numbers_them_without_gaps() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let lines = outbox(&app, &sv, t.campaign, &[("kind", "invite")]).await;
    let (_, page) = get_text(&client(), &format!("{}/s/{}", app.base, lines[0].2)).await;
    assert!(
        page.contains("<p class=\"note\" id=\"question-count\">共 9 题,约 3 分钟。</p>"),
        "{page}"
    );
    let numbers: Vec<&str> = page
        .split("<legend>")
        .skip(1)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    // The questions behind the screener are the questionnaire itself: numbered on.
    assert_eq!(
        numbers,
        ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.", "9."]
    );
    // Without script, each says it is for those who answered the screener 办过.
    assert_eq!(page.matches("第 1 题选择“办过”时请回答").count(), 5);
    // The respondent sees 说不清 as a plain option: nothing about reading aloud.
    assert!(page.contains(">说不清</label>") && !page.contains("（不读出）"));
    let form = recipients_form();
    assert_eq!(form.questions.len(), 9);
}

/// In a phone interview the surveyor reads the questions: 说不清 is marked 不读出 and set
/// apart, and the script says what to do when the screener is answered 没办过.
#[tokio::test]
async fn the_phone_interview_marks_dont_know_not_to_be_read_and_scripts_the_screener() {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let cases = app.db.cases(t.campaign, None).await.unwrap();
    let (s, page) = get_text(
        &sv.0,
        &format!("{}/surveyor/cases/{}/interview", app.base, cases[0].id),
    )
    .await;
    assert_eq!(s, 200);
    let marked = "<label class=\"opt not-read\"><input type=\"radio\" name=\"attitude\" value=\"dont_know\">说不清<span class=\"not-read-mark\">（不读出）</span></label>";
    assert!(page.contains(marked), "{page}");
    // Only the don't-know options: the five scored questions.
    assert_eq!(page.matches("（不读出）</span>").count(), 5);
    assert!(page.contains(
        "<label class=\"opt\"><input type=\"radio\" name=\"attitude\" value=\"满意\">满意</label>"
    ));
    let script = page
        .split("id=\"interviewer-script\"")
        .nth(1)
        .and_then(|s| s.split("</div>").next())
        .expect("the script");
    assert!(script.contains("开场白"), "{script}");
    assert!(
        script.contains("第 1 题答“没办过”的") && script.contains("记为“非服务对象”"),
        "{script}"
    );
    assert!(script.contains("标着“（不读出）”的选项不要念"), "{script}");

    // Sent anyway with 没办过: refused with the rule, nothing stored, the case still open.
    let url = format!("{}/surveyor/cases/{}/interview", app.base, cases[0].id);
    let (s, page, _) = post_form(&sv.0, &url, &sv.1, &[("served", "no"), ("coached", "no")]).await;
    assert_eq!(s, 422);
    assert!(
        page.contains("答“没办过”的不是服务对象：不要提交问卷"),
        "{page}"
    );
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
    let case = app.db.case(cases[0].id).await.unwrap();
    assert!(!case.link_used && case.disposition.is_none(), "{case:?}");
}
