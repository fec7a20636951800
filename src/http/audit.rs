//! The audit chain for the commission: whether it verifies (or its first broken entry), its
//! head hash to publish, the latest entries, and the whole log as CSV.

use super::download::Attachment;
use super::error::AppError;
use super::roles::Admin;
use super::{AppState, views};
use crate::domain::local_time;
use crate::export::{CsvEncoding, csv_chunks};
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;

pub(super) async fn show_audit(
    State(state): State<AppState>,
    Admin(user): Admin,
) -> Result<Html<String>, AppError> {
    // The server's own key: a missing key file is shown, not hidden behind a hash-only pass.
    let key = state.db.load_audit_key();
    let key_problem = key.as_ref().err().map(|e| e.to_string());
    let verdict = state.db.verify_audit(key.as_ref().ok()).await?;
    let entries: Vec<_> = state
        .db
        .recent_audit(200)
        .await?
        .into_iter()
        .map(|e| {
            context! {
                id => e.id, at => local_time(e.at), actor => e.actor, event => e.event,
                campaign => e.campaign_id, details => e.details, hash => e.hash,
            }
        })
        .collect();
    let (ok, count, head, keyed, unkeyed, broken) = match verdict {
        Ok(c) => (true, c.count, c.head, c.keyed, c.unkeyed, None),
        Err(b) => (false, 0, String::new(), 0, 0, Some(b.to_string())),
    };
    Ok(views::page(
        &user,
        "audit.html",
        context! { ok, count, head, keyed, unkeyed, key_problem, broken, entries },
    ))
}

pub(super) async fn download_audit(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Response, AppError> {
    let rows: Vec<Vec<String>> = state
        .db
        .all_audit_entries()
        .await?
        .into_iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.at.to_string(),
                local_time(e.at),
                e.actor,
                e.event,
                e.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
                e.details,
                e.prev_hash,
                e.hash,
            ]
        })
        .collect();
    let header: Vec<String> = [
        "序号",
        "时间戳",
        "时间",
        "操作者",
        "事件",
        "调查轮次",
        "详情",
        "前一条哈希",
        "哈希",
    ]
    .map(String::from)
    .to_vec();
    let encoding = CsvEncoding::Utf8Bom;
    let chunks = csv_chunks(header, rows, encoding);
    Ok(Attachment::csv_stream("审计日志.csv", encoding, chunks).into_response())
}
