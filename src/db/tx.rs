//! One transaction over either database: an operation does its writes and appends its audit
//! entry through one [`Tx`] and commits once, so the change and its entry are stored both or
//! neither. Dropped without [`Tx::commit`], everything is rolled back.
//!
//! On SQLite the transaction holds the single writer connection: while a `Tx` is open, every
//! write must go through it (a write through [`Db`] would wait for the writer it holds).

use super::{Db, DbError};
use crate::audit::{Entry, Event, GENESIS, canonical, canonical_details, chain_hash};
use crate::audit_key;
use crate::domain::now;

/// An open transaction on the writer of either database.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Run `$body` with `$conn` bound to the transaction's connection (`&mut` to the database's
/// connection type), compiled once per database like [`super::on_pool`].
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// The advisory lock key of audit appends on PostgreSQL ("audit" in ASCII).
const AUDIT_LOCK: i64 = 0x0061_7564_6974;

/// For the crash test: `MINYI_FAULT=<event>:<point>` aborts the process at that point of the
/// operation that audits `<event>` — `before-audit` (its changes made, no entry yet) or
/// `before-commit` (entry made, nothing committed) — as a power cut would stop it.
fn fault_point(event: &str, point: &str) {
    if let Some(fault) = std::env::var_os("MINYI_FAULT")
        && fault.to_str() == Some(&format!("{event}:{point}"))
    {
        eprintln!("MINYI_FAULT: aborting at {event}:{point}");
        std::process::abort();
    }
}

impl Db {
    /// Opens a transaction on the writer.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(s) => Tx::Sqlite(s.write.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }
}

impl Tx {
    /// Appends `e` to the audit chain inside this transaction: the entry is stored if and
    /// only if the transaction commits.
    pub async fn audit(&mut self, db: &Db, e: &Event) -> Result<Entry, DbError> {
        fault_point(&e.event, "before-audit");
        let (id, prev_hash, key) = self.next_audit_slot(db).await?;
        let details = canonical_details(&e.details);
        let at = now();
        let hash = chain_hash(
            &prev_hash,
            &canonical(id, at, &e.actor, &e.event, e.campaign_id, &details),
        );
        let entry = Entry {
            id,
            at,
            actor: e.actor.clone(),
            event: e.event.clone(),
            campaign_id: e.campaign_id,
            details,
            mac: Some(key.mark(&hash)),
            prev_hash,
            hash,
        };
        let sql = "INSERT INTO audit_log (id, at, actor, event, campaign_id, details, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_tx!(self, c => sqlx::query(sql)
            .bind(entry.id).bind(entry.at).bind(&entry.actor).bind(&entry.event)
            .bind(entry.campaign_id).bind(&entry.details).bind(&entry.prev_hash)
            .bind(&entry.hash).bind(&entry.mac)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        fault_point(&e.event, "before-commit");
        Ok(entry)
    }

    /// The next entry's id, the hash it chains to and the audit key (read, or created on the
    /// first append). Serialises appends until this transaction ends — SQLite by its single
    /// writer, PostgreSQL by a transaction-scoped advisory lock (several servers may append)
    /// — so the chain has one order and the key's `first-entry` is exactly the first entry
    /// it marks.
    pub(super) async fn next_audit_slot(
        &mut self,
        db: &Db,
    ) -> Result<(i64, String, std::sync::Arc<audit_key::AuditKey>), DbError> {
        let last: Option<(i64, String)> = on_tx!(self, c => {
            if matches!(db, Db::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(AUDIT_LOCK)
                    .execute(&mut *c)
                    .await?;
            }
            sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *c)
                .await?
        });
        let (id, prev_hash) = match last {
            Some((id, hash)) => (id + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        let key = audit_key::load_or_create(&db.audit_key_path(), id)?;
        Ok((id, prev_hash, key))
    }

    /// Commits everything done through this transaction at once.
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
