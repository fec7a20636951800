//! The audit chain for the commission: whether it verifies (or its first broken entry), its
//! head hash to publish, the log a page of 50 at a time in words a clerk reads (who, what,
//! a summary; the stored record behind a toggle), and the whole log as CSV.

mod summary;

use super::download::Attachment;
use super::error::AppError;
use super::roles::Admin;
use super::{AppState, views};
use crate::audit::{Entry, event_name};
use crate::db::{AuditFilter, Db, DbError};
use crate::domain::local_time;
use crate::export::{CsvEncoding, csv_chunks};
use crate::ids::CampaignId;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use summary::Names;

/// Entries on one page.
const PER_PAGE: i64 = 50;

/// The audit page (`audit.html`).
#[derive(Serialize)]
pub(super) struct AuditPage {
    /// The chain verified (hashes, and marks unless `key_problem`).
    ok: bool,
    count: i64,
    head: String,
    keyed: i64,
    unkeyed: i64,
    /// Why the marks could not be checked (no key file, unreadable).
    key_problem: Option<String>,
    /// The first broken entry, when the chain does not verify.
    broken: Option<String>,
    entries: Vec<EntryView>,
    /// This page (1-based), the number of pages and of entries passing the filter.
    page: i64,
    pages: i64,
    total: i64,
    /// Links to the previous and next pages, with the filter.
    prev: Option<String>,
    next: Option<String>,
    /// Said when the page asked for is past the last one.
    note: Option<String>,
    /// The choices of the filter form, the chosen one marked.
    campaigns: Vec<Choice>,
    events: Vec<Choice>,
    filtered: bool,
}

impl views::Page for AuditPage {
    const TEMPLATE: &'static str = "audit.html";
}

/// One option of a filter's select.
#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// One entry as the page shows it.
#[derive(Serialize)]
struct EntryView {
    id: i64,
    at: String,
    actor: String,
    /// The event's Chinese name, or its key when the code no longer writes it.
    event: String,
    event_key: String,
    campaign: String,
    summary: String,
    /// The stored record, verbatim: the actor and event as stored, details, hashes.
    raw_actor: String,
    details: String,
    prev_hash: String,
    hash: String,
}

/// The page's filter and page number, from the query; a page number that is not a whole
/// number of at least 1 is a 400, one past the last page shows the last page.
fn parse_query(q: &HashMap<String, String>) -> Result<(AuditFilter, i64), AppError> {
    let given = |key: &str| q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let campaign = match given("campaign") {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().map(CampaignId).map_err(|_| {
            AppError::bad(
                format!("campaign {raw:?} is not a campaign id"),
                "调查轮次选择有误，请从列表中重新选择。",
            )
        })?),
    };
    let event = given("event").map(str::to_string);
    let page = match given("page") {
        None => 1,
        Some(raw) if raw.bytes().all(|b| b.is_ascii_digit()) && raw.bytes().any(|b| b != b'0') => {
            // A number too large for i64 is past any last page anyway.
            raw.parse::<i64>().unwrap_or(i64::MAX)
        }
        Some(raw) => {
            let shown: String = raw.chars().take(20).collect();
            return Err(AppError::bad(
                format!("page {raw:?} is not a whole number of at least 1"),
                format!("页码“{shown}”不对：页码应是 1、2、3 这样的正整数。"),
            ));
        }
    };
    Ok((AuditFilter { campaign, event }, page))
}

/// The page's query string for page `page` with the filter, percent-encoded.
fn page_link(filter: &AuditFilter, page: i64) -> String {
    let mut parts = vec![format!("page={page}")];
    if let Some(c) = filter.campaign {
        parts.push(format!("campaign={c}"));
    }
    if let Some(e) = &filter.event {
        parts.push(format!("event={}", percent_encode(e)));
    }
    format!("/admin/audit?{}", parts.join("&"))
}

/// Every byte but the unreserved characters of RFC 3986 as %XX.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What names a page's entries: its actors' and subjects' accounts (one query) and the
/// villages.
async fn names_for(db: &Db, entries: &[Entry]) -> Result<Names, DbError> {
    let ids: Vec<_> = entries
        .iter()
        .flat_map(|e| {
            [
                summary::actor_account(&e.actor),
                summary::detail_account(&e.details),
            ]
        })
        .flatten()
        .collect();
    let mut names = Names::default();
    for a in db.account_names(&ids).await? {
        names.accounts.insert(a.id, a);
    }
    for v in db.list_villages().await? {
        names.villages_by_id.insert(v.id.0, v.name.clone());
        names.villages_by_code.insert(v.code, v.name);
    }
    Ok(names)
}

/// The campaign's name as the page shows it (a demo campaign's name says so already).
fn campaign_label(c: &crate::db::Campaign) -> String {
    c.name.clone()
}

pub(super) async fn show_audit(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, AppError> {
    let (filter, requested) = parse_query(&q)?;
    // The server's own key: a missing key file is shown, not hidden behind a hash-only pass.
    let key = state.db.load_audit_key();
    let key_problem = key.as_ref().err().map(|e| e.to_string());
    let verdict = state.db.verify_audit(key.as_ref().ok()).await?;
    let (ok, count, head, keyed, unkeyed, broken) = match verdict {
        Ok(c) => (true, c.count, c.head, c.keyed, c.unkeyed, None),
        Err(b) => (false, 0, String::new(), 0, 0, Some(b.to_string())),
    };

    let total = state.db.count_audit(&filter).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = requested.min(pages);
    let note = (requested > pages)
        .then(|| format!("没有第 {requested} 页，下面是最后一页（第 {pages} 页）。"));
    let rows = state
        .db
        .audit_page(&filter, (page - 1) * PER_PAGE, PER_PAGE)
        .await?;
    let names = names_for(&state.db, &rows).await?;
    let campaign_list = state.db.list_campaigns().await?;
    let campaign_names: HashMap<CampaignId, String> = campaign_list
        .iter()
        .map(|c| (c.id, campaign_label(c)))
        .collect();
    let entries = rows
        .into_iter()
        .map(|e| EntryView {
            id: e.id,
            at: local_time(e.at),
            actor: summary::actor_label(&e.actor, &names),
            event: event_name(&e.event).unwrap_or(&e.event).to_string(),
            summary: summary::summary(&e.event, &e.details, &names),
            campaign: e
                .campaign_id
                .map(|c| {
                    campaign_names
                        .get(&c)
                        .cloned()
                        .unwrap_or_else(|| format!("第 {c} 轮（已删除）"))
                })
                .unwrap_or_default(),
            event_key: e.event,
            raw_actor: e.actor,
            details: e.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        })
        .collect();

    let campaigns = campaign_list
        .iter()
        .map(|c| Choice {
            value: c.id.to_string(),
            label: campaign_label(c),
            selected: filter.campaign == Some(c.id),
        })
        .collect();
    let mut event_keys = state.db.audit_event_keys().await?;
    // A chosen event no entry has (yet) stays chosen in the form.
    if let Some(e) = &filter.event
        && !event_keys.contains(e)
    {
        event_keys.push(e.clone());
    }
    let events = event_keys
        .into_iter()
        .map(|k| Choice {
            label: event_name(&k).unwrap_or(&k).to_string(),
            selected: filter.event.as_ref() == Some(&k),
            value: k,
        })
        .collect();
    let page_view = AuditPage {
        ok,
        count,
        head,
        keyed,
        unkeyed,
        key_problem,
        broken,
        entries,
        page,
        pages,
        total,
        prev: (page > 1).then(|| page_link(&filter, page - 1)),
        next: (page < pages).then(|| page_link(&filter, page + 1)),
        note,
        campaigns,
        events,
        filtered: filter != AuditFilter::default(),
    };
    Ok(views::show(&user, &page_view))
}

pub(super) async fn download_audit(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Response, AppError> {
    let all = state.db.all_audit_entries().await?;
    let names = names_for(&state.db, &all).await?;
    let rows: Vec<Vec<String>> = all
        .into_iter()
        .map(|e| {
            let actor_name = summary::actor_label(&e.actor, &names);
            let event_zh = event_name(&e.event).unwrap_or(&e.event).to_string();
            let summary = summary::summary(&e.event, &e.details, &names);
            // The first nine columns are read by scripts: their order does not change.
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
                actor_name,
                event_zh,
                summary,
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
        "操作者名称",
        "事件名称",
        "摘要",
    ]
    .map(String::from)
    .to_vec();
    let encoding = CsvEncoding::Utf8Bom;
    let chunks = csv_chunks(header, rows, encoding);
    Ok(Attachment::csv_stream("审计日志.csv", encoding, chunks).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    fn entry(id: i64) -> EntryView {
        EntryView {
            id,
            at: "2026-09-30 10:00".into(),
            actor: "样例管理员（admin，镇纪委管理员）".into(),
            event: "处理异议".into(),
            event_key: "objection.resolve".into(),
            campaign: "样例轮次（2026 年）".into(),
            summary: "第 1 号，处理结果：已核实".into(),
            raw_actor: "account:1".into(),
            details: r#"{"objection":1}"#.into(),
            prev_hash: "0".repeat(64),
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn the_audit_page_struct_renders_every_branch_of_its_template() {
        let choice = |value: &str, selected| Choice {
            value: value.into(),
            label: format!("选项{value}"),
            selected,
        };
        let mut page = AuditPage {
            ok: true,
            count: 120,
            head: "ab".repeat(32),
            keyed: 100,
            unkeyed: 20,
            key_problem: None,
            broken: None,
            entries: vec![entry(120), entry(119)],
            page: 2,
            pages: 3,
            total: 120,
            prev: Some(page_link(&AuditFilter::default(), 1)),
            next: Some(page_link(
                &AuditFilter {
                    campaign: Some(CampaignId(4)),
                    event: Some("objection.resolve".into()),
                },
                3,
            )),
            note: Some("没有第 9 页".into()),
            campaigns: vec![choice("4", true), choice("5", false)],
            events: vec![choice("draw", false), choice("objection.resolve", true)],
            filtered: true,
        };
        let html = samples::rendered(&page);
        assert!(html.contains("第 2 页，共 3 页（共 120 条）"), "{html}");
        assert!(html.contains("上一页") && html.contains("下一页"));
        assert!(html.contains("<details><summary>原始记录</summary>"));
        assert!(html.contains("class=\"table-scroll\""));
        assert!(html.contains("<option value=\"objection.resolve\" selected>"));
        assert!(html.contains("另有 20 条写于密钥生成之前"));
        assert!(!html.contains("src/audit.rs") && !html.contains("src&#x2f;audit.rs"));
        page.ok = false;
        page.broken = Some("audit entry 3 is broken".into());
        page.entries.clear();
        page.prev = None;
        page.next = None;
        page.note = None;
        page.filtered = false;
        let html = samples::rendered(&page);
        assert!(html.contains("核验失败") && html.contains("没有符合条件的记录"));
        assert!(!html.contains("上一页") && !html.contains("下一页"));
        page.ok = true;
        page.key_problem = Some("no key file".into());
        let html = samples::rendered(&page);
        assert!(html.contains("只核验了哈希"));
    }

    #[test]
    fn page_numbers_and_filters_are_read_or_refused_in_chinese() {
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(parse_query(&q(&[])).unwrap().1, 1);
        assert_eq!(parse_query(&q(&[("page", "")])).unwrap().1, 1);
        assert_eq!(parse_query(&q(&[("page", "3")])).unwrap().1, 3);
        assert_eq!(
            parse_query(&q(&[("page", "99999999999999999999999")]))
                .unwrap()
                .1,
            i64::MAX
        );
        for bad in ["abc", "-1", "0", "1.5", "000", "２"] {
            let e = parse_query(&q(&[("page", bad)])).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{bad}");
            assert!(e.zh().1.contains("正整数"), "{bad}");
        }
        assert!(parse_query(&q(&[("campaign", "x")])).is_err());
        let (f, _) = parse_query(&q(&[("campaign", "4"), ("event", "draw")])).unwrap();
        assert_eq!(f.campaign, Some(CampaignId(4)));
        assert_eq!(f.event.as_deref(), Some("draw"));
        assert_eq!(
            page_link(
                &AuditFilter {
                    campaign: None,
                    event: Some("a b&c=中".into())
                },
                2
            ),
            "/admin/audit?page=2&event=a%20b%26c%3D%E4%B8%AD"
        );
    }
}
