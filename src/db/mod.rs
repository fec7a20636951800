//! Storage: one `Db` over SQLite (the embedded default) or PostgreSQL, chosen by the URL.
//!
//! Every method is a domain verb. The SQL is written once with `$1…` placeholders, which
//! both SQLite and PostgreSQL accept, and run on whichever pool is configured
//! (`on_pool!`); the suite runs against both. Migrations live in `migrations/sqlite` and
//! `migrations/postgres` (same file names) and are embedded in the binary.

mod accounts;
mod applications;
mod archive;
mod attachments;
mod audit;
mod campaigns;
mod cases;
mod decisions;
mod draws;
mod mixer;
mod quality;
mod queue;
mod register;
mod results;
mod rosters;
mod survey;
mod throttle;
mod tx;

pub use accounts::{Account, NewAccount, SessionUser};
pub use applications::{
    ApplicationReportRow, ApplicationRow, Participation, Submitted, VillageReportRow,
};
pub use archive::{PurgeError, Purged};
pub use attachments::{Attachment, AttachmentMeta, NewTitle, TitleRow};
pub use audit::{AccountName, AuditFilter, ChainCheck};
pub use campaigns::{Campaign, Notice, ObjectionContact, Village};
pub use cases::{AttemptResult, AttemptRow, CaseRow, NewAttempt};
pub use decisions::{AdjustmentRow, DecisionRow, ListRow, PartyDecision, PastPeriod};
pub use draws::{SeedState, StratumRow, VillageFrame};
pub use mixer::Waiting;
pub use quality::CallbackRow;
pub use queue::SubmitQueue;
pub use register::{CampaignKind, RegisterRow, VillageLeader};
pub use results::{
    ApproveError, CalendarDay, FrameSize, GradeEntry, GradeSource, GroupReport, ItemGradeRow,
    NegativeFinding, NegativeRow, NewGradeEntry, Objection, OverrideRow, Publicity,
};
pub use rosters::{CrossVillagePhone, ImportError, RosterStatus, RosterTarget};
pub use survey::{
    LinkTarget, NewResponse, OutboxCounts, Outgoing, PanelMember, PinnedForm, Release,
};
pub use throttle::RateHits;
pub use tx::Tx;
pub(crate) use tx::on_tx;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;

/// A stored name read by a scalar or tuple query, decoded as a row struct's
/// field of that enum would be: an unknown name is a `ColumnDecode` error.
fn decode_name<T>(column: &str, raw: String) -> Result<T, sqlx::Error>
where
    T: TryFrom<String, Error = crate::domain::UnknownName>,
{
    T::try_from(raw).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: Box::new(e),
    })
}
use std::time::Duration;

/// The configured database. Cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Writes go through a pool of one connection, so they
/// queue in order inside the process instead of spinning in SQLite's busy handler (which
/// sleeps up to 100 ms per retry); reads use their own pool and run beside the writer (WAL).
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

/// Run `$body` with `$pool` bound to the pool for reads of whichever database `$db` holds.
/// The body is compiled once per database, so one SQL text and one `FromRow` type serve both.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.read;
                $body
            }
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// As `on_pool!`, for anything that writes: SQLite's single writer connection.
macro_rules! on_writer {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.write;
                $body
            }
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_writer;

/// What can go wrong in storage, as callers need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness rule was broken; carries the constraint or column that said so.
    #[error("already exists ({0})")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// The audit key (kept outside the database) cannot be read or created.
    #[error(transparent)]
    AuditKey(#[from] crate::audit_key::KeyError),
}

impl DbError {
    /// Turn unique-constraint violations into `Conflict`, leaving other errors as they are.
    pub(crate) fn from_insert(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e
            && d.is_unique_violation()
        {
            let what = d
                .constraint()
                .map(str::to_string)
                .unwrap_or_else(|| d.message().to_string());
            return DbError::Conflict(what);
        }
        DbError::Sqlx(e)
    }
}

/// How long an SQLite statement waits for a lock held by another connection.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl Db {
    /// Open the database named by `url` (`sqlite://path`, `sqlite::memory:` is refused,
    /// `postgres://…`), creating an SQLite file if it does not exist yet.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(sqlx::Error::Configuration(
                "an in-memory SQLite database gives every connection its own empty database; use a file".into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // One writer at a time: WAL lets readers go on while it writes, and the busy
            // timeout makes a second writer wait instead of failing.
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it is acknowledged, even across a power cut
            // (NORMAL in WAL mode could lose the last ones). Group commit keeps it cheap.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true)
            // Deleted rows are overwritten with zeros, not left in free pages: a purge or
            // a mixed pool leaves nothing to read in the file.
            .pragma("secure_delete", "ON")
            // Sorts and temporary tables (VACUUM's copy among them) stay in memory, never in
            // temporary files that would keep phone numbers on disk.
            .pragma("temp_store", "memory");
        // The file holds phone numbers: create it for its owner only; SQLite gives the
        // -wal and -shm files it creates the same mode.
        let path = options.get_filename().to_path_buf();
        if !path.exists() {
            crate::files::create_new_private(&path)
                .or_else(|e| {
                    if path.exists() {
                        Ok(std::fs::File::open(&path)?)
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| {
                    sqlx::Error::Configuration(
                        format!("cannot create {}: {e}", path.display()).into(),
                    )
                })?;
        }
        // A database made by an older version, or copied in, may be readable by others.
        // Narrowed by path before the pools open; SQLite gives the -wal and -shm it creates
        // the database's mode.
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            if let Err(e) = crate::files::restrict(std::path::Path::new(&name)) {
                tracing::warn!(error = %e, file = ?name, "could not make the database file readable by its owner only");
            }
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(SqliteDb { read, write }))
    }

    /// Apply the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(s) => sqlx::migrate!("migrations/sqlite").run(&s.write).await,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await,
        }
    }

    /// `sqlite` or `postgres`, for logs and the health check.
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// One round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(s) => {
                s.read.close().await;
                s.write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Account;

    /// The schema's CHECK keeps unknown names out; should one get in anyway (an edited
    /// database, a newer schema), reading the row fails with a decode error that names the
    /// column and the value.
    #[tokio::test]
    async fn an_unknown_stored_name_is_a_column_decode_error() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let sql = "SELECT 1 AS id, 'a' AS username, 'A' AS display_name, 'root' AS role,
                   NULL AS village_id, '' AS password_hash, FALSE AS must_change_password,
                   FALSE AS disabled, 0 AS created_at";
        let err = sqlx::query_as::<_, Account>(sql)
            .fetch_one(&pool)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, sqlx::Error::ColumnDecode { index, .. } if index.contains("role")),
            "{err:?}"
        );
        assert!(err.to_string().contains(r#"unknown role "root""#), "{err}");
    }
}
