//! Nothing a request carries reaches the log: the real binary at `MINYI_LOG=trace`, flooded
//! with malformed bodies on every route that takes one, logs no phone and no password.

use crate::common;

use common::*;
use minyi::ids::CampaignId;

const PHONE: &str = "15162351980";
const PASSWORD: &str = "Secret-Pass-2026";

/// Malformed bodies for one request: (content type, body). Each holds the phone and the
/// password in a place a parser will complain about, and a valid CSRF token so that the
/// body is read at all.
fn malformed_bodies(csrf: &str) -> Vec<(String, Vec<u8>)> {
    let json = "application/json".to_string();
    let form = "application/x-www-form-urlencoded".to_string();
    let multipart = "multipart/form-data; boundary=XyZ".to_string();
    let long = format!("{PHONE}{PASSWORD}").repeat(20_000);
    vec![
        // Wrong JSON types: a number where a string belongs, and the other way round.
        (
            json.clone(),
            format!(r#"{{"username": {PHONE}, "password": "{PASSWORD}", "_csrf": "{csrf}"}}"#)
                .into_bytes(),
        ),
        (
            json.clone(),
            format!(r#"{{"username": "{PHONE}", "password": ["{PASSWORD}"], "size": "{PHONE}"}}"#)
                .into_bytes(),
        ),
        // Broken JSON.
        (
            json.clone(),
            format!(r#"{{"username": "{PHONE}", "password": "{PASSWORD}"#).into_bytes(),
        ),
        // JSON sent as a form, a form sent as JSON.
        (
            form.clone(),
            format!(r#"{{"username": {PHONE}, "password": "{PASSWORD}"}}"#).into_bytes(),
        ),
        (
            json,
            format!("_csrf={csrf}&username={PHONE}&password={PASSWORD}").into_bytes(),
        ),
        // Values of the wrong kind where the form expects a number, a choice or a date.
        (
            form.clone(),
            format!(
                "_csrf={csrf}&username={PHONE}&password={PASSWORD}&size={PHONE}&method={PASSWORD}\
                 &role={PHONE}&outcome={PASSWORD}&kind={PHONE}&start={PHONE}&day={PASSWORD}\
                 &noncontact_attempts={PHONE}&grade={PASSWORD}&grade_1={PHONE}&confirm={PASSWORD}\
                 &phone={PHONE}&current={PASSWORD}&new={PASSWORD}&repeat={PHONE}"
            )
            .into_bytes(),
        ),
        // Broken form encoding: bad percent escapes and bytes that are not UTF-8.
        (
            form.clone(),
            [
                format!("_csrf={csrf}&username=%zz{PHONE}&password={PASSWORD}%E4%").into_bytes(),
                vec![b'&', b's', b'i', b'z', b'e', b'=', 0xff, 0xfe],
                format!("{PHONE}&size=%FF{PASSWORD}").into_bytes(),
            ]
            .concat(),
        ),
        // An oversized field.
        (
            form,
            format!("_csrf={csrf}&username={long}&password={long}&size={long}").into_bytes(),
        ),
        // Multipart garbage: no closing boundary, and a part without a name.
        (
            multipart.clone(),
            format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
                 --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{PHONE}.csv\"\r\n\r\n\
                 电话\n{PHONE}\n{PASSWORD}\r\n--XyZ\r\nContent-Disposition: form-data\r\n\r\n{PASSWORD}"
            )
            .into_bytes(),
        ),
        (
            multipart,
            format!("--Other\r\n{PHONE}\r\n{PASSWORD}\r\n--XyZ--garbage {PHONE}").into_bytes(),
        ),
    ]
}

/// A real value for each path parameter; accounts get an id nobody has, so that no flooded
/// request can disable or reset the accounts doing the flooding.
fn fill(path: &str, campaign: CampaignId, token: &str) -> String {
    let id = if path.starts_with("/admin/accounts/") {
        "9999".to_string()
    } else {
        campaign.to_string()
    };
    path.replace("{id}", &id)
        .replace("{code}", "C01")
        .replace("{token}", token)
        .replace("{case}", "1")
        .replace("{oid}", "1")
        .replace("{file}", "comments.csv")
        .replace("{name}", "comments")
}

#[tokio::test]
async fn malformed_bodies_on_every_route_leave_no_phone_or_password_in_a_trace_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let prepared = prepare_fieldwork(&url, 1, 3).await;
    let log = dir.path().join("server.log");
    let server = ServerProcess::start_logging(&url, &log, "trace").await;
    let base = server.base.clone();

    let admin = client();
    let admin_csrf = login_and_set_password(
        &admin,
        &base,
        "admin",
        &prepared.admin_password,
        "commission-2026-key",
    )
    .await;
    let surveyor = client();
    let r = login(&surveyor, &base, SURVEYOR, SURVEYOR_PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303, "surveyor login");
    let (_, page) = get_text(&surveyor, &format!("{base}/surveyor")).await;
    let surveyor_csrf = csrf_in(&page);
    let anonymous = client();
    let token = prepared.links[0].1.clone();

    // Every route that takes a body, the logouts last (they end the sessions).
    let mut routes: Vec<(String, String)> = routes::routes_in_source()
        .into_iter()
        .filter(|(method, _)| method != "GET")
        .collect();
    routes.sort_by_key(|(_, path)| path.ends_with("/logout"));
    assert!(routes.len() > 30, "only {} routes to flood", routes.len());
    let (mut sent, mut answered) = (0, 0);
    for (method, path) in &routes {
        let url = format!("{base}{}", fill(path, prepared.campaign, &token));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for (who, csrf) in [
            (&anonymous, ""),
            (&admin, admin_csrf.as_str()),
            (&surveyor, surveyor_csrf.as_str()),
        ] {
            for (content_type, body) in malformed_bodies(csrf) {
                let reply = who
                    .request(method.clone(), &url)
                    .header("content-type", content_type)
                    .header("x-csrf-token", csrf)
                    .body(body)
                    .send()
                    .await;
                // A request refused before its body was read (a redirect to the login form,
                // a body over the limit) may see the connection closed while it is sent.
                if let Ok(r) = reply {
                    assert!(
                        r.status().as_u16() < 500,
                        "{method} {path}: status {}",
                        r.status()
                    );
                    answered += 1;
                }
                sent += 1;
            }
        }
    }
    assert!(
        answered * 10 >= sent * 9,
        "only {answered} of {sent} requests answered"
    );
    // The server is still up and the log is really at trace level.
    let (status, _) = get_text(&anonymous, &format!("{base}/healthz")).await;
    assert_eq!(status, 200);
    let text = server.log_text();
    assert!(text.contains("TRACE"), "the log is not at trace level");
    assert!(
        text.contains("/api/login"),
        "the log does not show the requests"
    );
    for secret in [PHONE, PASSWORD] {
        if let Some(at) = text.find(secret) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(300)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let line: String = text[from..].chars().take(500).collect();
            panic!("{secret} is in the log after {sent} malformed requests: …{line}…");
        }
    }
}
