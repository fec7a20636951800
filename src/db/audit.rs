//! The audit log's storage: appends serialised so the chain has one order, on SQLite by its
//! single writer connection, on PostgreSQL by a transaction-scoped advisory lock (several
//! servers may append at once). Every entry is marked with the audit key
//! ([`crate::audit_key`]), read, or created on the first append, inside that serialised
//! section, so the key's `first-entry` is exactly the first entry it marks.

use super::{Db, DbError, on_pool};
use crate::audit::{Entry, Event, GENESIS};
use crate::audit_key::{self, AuditKey, KeyError};
use crate::domain::Role;
use crate::ids::{AccountId, CampaignId};
use std::path::PathBuf;
use std::sync::Arc;

const COLUMNS: &str = "id, at, actor, event, campaign_id, details, prev_hash, hash, mac";

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    /// Entries in the chain.
    pub count: i64,
    /// The newest entry's hash (64 zeros for an empty chain).
    pub head: String,
    /// Entries whose audit-key mark was checked.
    pub keyed: i64,
    /// Entries written before the key existed (their marks are not required).
    pub unkeyed: i64,
}

/// Which entries a page of the log shows: all, or those of one campaign and/or one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub campaign: Option<CampaignId>,
    pub event: Option<String>,
}

/// An account as the audit page names an actor: login name, display name and role.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountName {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// The filter's condition; a `NULL` parameter lets every entry through.
const FILTERED: &str = "($1 IS NULL OR campaign_id = $1) AND ($2 IS NULL OR event = $2)";

impl Db {
    /// Where this database's audit key lives: the configured file
    /// ([`audit_key::set_key_file`]), else `<database file>.audit-key` for SQLite, else
    /// [`audit_key::postgres_default`].
    pub fn audit_key_path(&self) -> PathBuf {
        if let Some(p) = audit_key::configured_key_file() {
            return p.to_path_buf();
        }
        match self {
            Db::Sqlite(s) => {
                let mut name = s
                    .write
                    .connect_options()
                    .get_filename()
                    .as_os_str()
                    .to_owned();
                name.push(".audit-key");
                PathBuf::from(name)
            }
            Db::Postgres(p) => {
                let options = p.connect_options();
                audit_key::postgres_default(options.get_database().unwrap_or("postgres"))
            }
        }
    }

    /// This database's audit key, without creating it.
    pub fn load_audit_key(&self) -> Result<AuditKey, KeyError> {
        AuditKey::load(&self.audit_key_path())
    }

    /// Appends an event to the chain, in a transaction of its own, and returns its entry.
    /// (An operation that changes something appends through its own [`super::Tx`] instead.)
    pub async fn append_audit(&self, e: &Event) -> Result<Entry, DbError> {
        let mut tx = self.begin().await?;
        let entry = tx.audit(self, e).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Reads, or creates, the audit key before anything is appended (at start-up), so a
    /// missing or unreadable key stops the server instead of its first audited action.
    pub async fn ensure_audit_key(&self) -> Result<Arc<AuditKey>, DbError> {
        let mut tx = self.begin().await?;
        let (_, _, key) = tx.next_audit_slot(self).await?;
        drop(tx);
        Ok(key)
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

    /// One page of the log, newest first: the `limit` entries after skipping the `offset`
    /// newest that pass the filter.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, DbError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE {FILTERED} ORDER BY id DESC LIMIT $3 OFFSET $4"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(filter.campaign)
            .bind(filter.event.as_deref())
            .bind(limit)
            .bind(offset.max(0))
            .fetch_all(p)
            .await)?,
        )
    }

    /// How many entries pass the filter.
    pub async fn count_audit(&self, filter: &AuditFilter) -> Result<i64, DbError> {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE {FILTERED}");
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(filter.campaign)
            .bind(filter.event.as_deref())
            .fetch_one(p)
            .await)?,
        )
    }

    /// The event keys present in the log, sorted (the page's choice of events).
    pub async fn audit_event_keys(&self) -> Result<Vec<String>, DbError> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT DISTINCT event FROM audit_log ORDER BY event").fetch_all(p).await)?,
        )
    }

    /// The named accounts among `ids`, in one query (a page's actors and the accounts its
    /// entries are about); ids with no account are left out.
    pub async fn account_names(&self, ids: &[AccountId]) -> Result<Vec<AccountName>, DbError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, username, display_name, role FROM accounts WHERE id IN ({})",
            placeholders.join(", ")
        );
        Ok(on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for id in &ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// The newest entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<Entry>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(limit).fetch_all(p).await)?,
        )
    }

    /// The head to publish, `<entry id>:<hash>` of the newest entry; `0:<64 zeros>` while
    /// the log is empty (which pins that nothing was logged before).
    pub async fn audit_head(&self) -> Result<String, DbError> {
        let head: Option<(i64, String)> = on_pool!(self, p => sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(p).await)?;
        let (id, hash) = head.unwrap_or((0, GENESIS.to_string()));
        Ok(format!("{id}:{hash}"))
    }

    /// The hash of entry `id`, if there is one; entry 0 is the start of the chain.
    pub async fn audit_hash(&self, id: i64) -> Result<Option<String>, DbError> {
        if id == 0 {
            return Ok(Some(GENESIS.to_string()));
        }
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT hash FROM audit_log WHERE id = $1").bind(id).fetch_optional(p).await)?,
        )
    }

    /// Checks the whole chain, a page at a time — with a key, every mark from the key's
    /// first entry on too: what was checked, or the first broken entry.
    pub async fn verify_audit(
        &self,
        key: Option<&AuditKey>,
    ) -> Result<Result<ChainCheck, crate::audit::Broken>, DbError> {
        let mut v = match key {
            Some(k) => crate::audit::Verifier::with_key(k),
            None => crate::audit::Verifier::default(),
        };
        let mut from = 1;
        loop {
            let page = self.audit_entries(from, 5000).await?;
            if page.is_empty() {
                // The key file was made when the chain had `first_entry - 1` entries: fewer
                // now means the newest were deleted.
                if let Some(k) = key
                    && v.count() < k.first_entry() - 1
                {
                    return Ok(Err(crate::audit::Broken {
                        id: v.count() + 1,
                        reason: format!(
                            "missing: the chain ends at entry {}, but it had {} entries when the audit key {} was made",
                            v.count(),
                            k.first_entry() - 1,
                            k.path().display()
                        ),
                    }));
                }
                return Ok(Ok(ChainCheck {
                    count: v.count(),
                    head: v.head().to_string(),
                    keyed: v.keyed(),
                    unkeyed: v.unkeyed(),
                }));
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
