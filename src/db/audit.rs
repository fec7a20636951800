//! The audit log's storage: appends serialised so the chain has one order, on SQLite by its
//! single writer connection, on PostgreSQL by a transaction-scoped advisory lock (several
//! servers may append at once).

use super::{Db, DbError, on_pool};
use crate::audit::{Entry, Event, GENESIS, canonical, canonical_details, chain_hash};
use crate::domain::now;

/// The advisory lock key of audit appends on PostgreSQL ("audit" in ASCII).
const AUDIT_LOCK: i64 = 0x0061_7564_6974;

const COLUMNS: &str = "id, at, actor, event, campaign_id, details, prev_hash, hash";

impl Db {
    /// Appends an event to the chain and returns its entry.
    pub async fn append_audit(&self, e: &Event) -> Result<Entry, DbError> {
        let details = canonical_details(&e.details);
        let at = now();
        macro_rules! append {
            ($tx:expr) => {{
                let last: Option<(i64, String)> =
                    sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
                        .fetch_optional(&mut *$tx)
                        .await?;
                let (id, prev_hash) = match last {
                    Some((id, hash)) => (id + 1, hash),
                    None => (1, GENESIS.to_string()),
                };
                let hash = chain_hash(&prev_hash, &canonical(id, at, &e.actor, &e.event, e.campaign_id, &details));
                sqlx::query("INSERT INTO audit_log (id, at, actor, event, campaign_id, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(id).bind(at).bind(&e.actor).bind(&e.event).bind(e.campaign_id).bind(&details)
                    .bind(&prev_hash).bind(&hash)
                    .execute(&mut *$tx)
                    .await?;
                Entry { id, at, actor: e.actor.clone(), event: e.event.clone(), campaign_id: e.campaign_id, details: details.clone(), prev_hash, hash }
            }};
        }
        let entry = match self {
            Db::Sqlite(s) => {
                let mut tx = s.write.begin().await?;
                let entry = append!(tx);
                tx.commit().await?;
                entry
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(AUDIT_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let entry = append!(tx);
                tx.commit().await?;
                entry
            }
        };
        Ok(entry)
    }

    /// Entries with ids in `from..from+limit`, in id order (pages of the whole log).
    pub async fn audit_entries(&self, from: i64, limit: i64) -> Result<Vec<Entry>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE id >= $1 ORDER BY id LIMIT $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(from).bind(limit).fetch_all(p).await)?,
        )
    }

    /// The whole log in id order, read a page at a time (for the CSV and the archive).
    pub async fn all_audit_entries(&self) -> Result<Vec<Entry>, DbError> {
        let mut all = Vec::new();
        loop {
            let from = all.last().map_or(1, |e: &Entry| e.id + 1);
            let page = self.audit_entries(from, 5000).await?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }

    /// The newest entries about accounts (`account.*`: created, password reset, disabled,
    /// enabled), newest first.
    pub async fn account_audit(&self, limit: i64) -> Result<Vec<Entry>, DbError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE event LIKE 'account.%' ORDER BY id DESC LIMIT $1"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(limit).fetch_all(p).await)?,
        )
    }

    /// The newest entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<Entry>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(limit).fetch_all(p).await)?,
        )
    }

    /// Checks the whole chain, a page at a time: the number of entries and the head hash,
    /// or the first broken entry.
    pub async fn verify_audit(
        &self,
    ) -> Result<Result<(i64, String), crate::audit::Broken>, DbError> {
        let mut v = crate::audit::Verifier::default();
        let mut from = 1;
        loop {
            let page = self.audit_entries(from, 5000).await?;
            if page.is_empty() {
                return Ok(Ok((v.count(), v.head().to_string())));
            }
            for e in &page {
                if let Err(b) = v.check(e) {
                    return Ok(Err(b));
                }
            }
            from = page.last().map(|e| e.id + 1).unwrap_or(from);
        }
    }
}
