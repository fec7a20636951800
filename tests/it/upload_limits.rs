//! A 1 GB upload is refused cheaply: with a Content-Length over the
//! limit before any byte is read, and, when the length is not declared (chunked), as soon as
//! the limit is passed — never after reading the whole gigabyte.

use crate::common;

use common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GIB: u64 = 1 << 30;

async fn bearer(app: &TestApp) -> String {
    let v: serde_json::Value = client()
        .post(format!("{}/api/login", app.base))
        .json(&serde_json::json!({"username": "admin", "password": "commission-2026-key"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// Sends a PUT of a roster with the given extra header, streaming up to `send` bytes of a
/// CSV body while the server lets us, and returns (status line, bytes sent, time taken).
async fn put_big(
    app: &TestApp,
    path: &str,
    token: &str,
    length_header: &str,
    chunked: bool,
    send: u64,
) -> (String, u64, Duration) {
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\n{length_header}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let line = b"13800138000\n".repeat(64 * 1024 / 12);
    let mut sent = 0u64;
    let (mut reader, mut writer) = s.into_split();
    let reading = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let n = reader.read(&mut buf).await.unwrap_or(0);
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    });
    while sent < send && !reading.is_finished() {
        let ok = if chunked {
            let mut chunk = format!("{:x}\r\n", line.len()).into_bytes();
            chunk.extend_from_slice(&line);
            chunk.extend_from_slice(b"\r\n");
            writer.write_all(&chunk).await
        } else {
            writer.write_all(&line).await
        };
        if ok.is_err() {
            break;
        }
        sent += line.len() as u64;
    }
    let status = tokio::time::timeout(Duration::from_secs(30), reading)
        .await
        .unwrap()
        .unwrap();
    (status, sent, started.elapsed())
}

#[tokio::test]
async fn a_gigabyte_roster_is_refused_without_reading_it() {
    let app = spawn().await;
    let t = town(&app).await;
    let token = bearer(&app).await;
    let path = format!("/api/campaigns/{}/villages/V1/roster", t.campaign);
    // Declared: refused before the body is read.
    let (status, sent, took) = put_big(
        &app,
        &path,
        &token,
        &format!("Content-Length: {GIB}"),
        false,
        GIB,
    )
    .await;
    assert!(status.contains("413"), "{status}");
    assert!(sent < 200 * 1024 * 1024, "stopped early: {sent} bytes sent");
    assert!(took < Duration::from_secs(20), "{took:?}");
    // Not declared (chunked): refused once past the 20 MB limit.
    let (status, sent, _) =
        put_big(&app, &path, &token, "Transfer-Encoding: chunked", true, GIB).await;
    assert!(status.contains("413"), "{status}");
    assert!(sent < 200 * 1024 * 1024, "stopped early: {sent} bytes sent");
    // Nothing was stored.
    assert!(no_roster_stored(&app, t.campaign).await);
}
