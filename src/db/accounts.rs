//! Accounts and login sessions.

use super::{Db, DbError, Tx, on_pool, on_tx, on_writer};
use crate::domain::{Role, now};
use crate::ids::{AccountId, VillageId};

/// A person who logs in. `role` is stored as one of `Role`'s names (checked by the schema).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub village_id: Option<VillageId>,
    #[serde(skip)]
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
}

/// An account behind a live session, with the session's CSRF token.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionUser {
    #[sqlx(flatten)]
    pub account: Account,
    pub csrf_token: String,
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub village_id: Option<VillageId>,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

const ACCOUNT_COLUMNS: &str = "a.id, a.username, a.display_name, a.role, a.village_id, a.password_hash, a.must_change_password, a.disabled, a.created_at";

impl Db {
    pub async fn count_accounts(&self) -> Result<i64, DbError> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(p).await)?;
        Ok(n)
    }

    /// Create an account, in a transaction of its own (setting up; an operation that is
    /// audited uses [`Tx::create_account`]).
    pub async fn create_account(&self, new: &NewAccount<'_>) -> Result<AccountId, DbError> {
        let mut tx = self.begin().await?;
        let id = tx.create_account(new).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn account_by_username(&self, username: &str) -> Result<Option<Account>, DbError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.username = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(p).await)?,
        )
    }

    pub async fn account(&self, id: AccountId) -> Result<Account, DbError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    pub async fn list_accounts(&self) -> Result<Vec<Account>, DbError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a ORDER BY a.role, a.username");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
    }

    /// Store a session in a transaction of its own (setting up; a login makes its session
    /// through [`crate::ops::accounts::login`]).
    pub async fn create_session(
        &self,
        token_hash: &str,
        account_id: AccountId,
        csrf_token: &str,
        ttl_secs: i64,
    ) -> Result<(), DbError> {
        let mut tx = self.begin().await?;
        tx.create_session(token_hash, account_id, csrf_token, ttl_secs)
            .await?;
        tx.commit().await
    }

    /// The enabled account behind an unexpired session, if any.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<SessionUser>, DbError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, s.csrf_token FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT a.disabled"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(now()).fetch_optional(p).await)?,
        )
    }

    /// Forget expired sessions (run now and then by the server).
    pub async fn delete_expired_sessions(&self) -> Result<u64, DbError> {
        let done = on_writer!(self, p => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done)
    }
}

impl Tx {
    pub async fn create_session(
        &mut self,
        token_hash: &str,
        account_id: AccountId,
        csrf_token: &str,
        ttl_secs: i64,
    ) -> Result<(), DbError> {
        let t = now();
        let sql = "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        on_tx!(self, c => sqlx::query(sql).bind(token_hash).bind(account_id).bind(csrf_token).bind(t).bind(t + ttl_secs).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Ends a session (a new login replaces the browser's old one).
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<(), DbError> {
        on_tx!(self, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Create an account; a taken username is `DbError::Conflict`.
    pub async fn create_account(&mut self, new: &NewAccount<'_>) -> Result<AccountId, DbError> {
        let sql = "INSERT INTO accounts (username, display_name, role, village_id, password_hash, must_change_password, disabled, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7) RETURNING id";
        on_tx!(self, c => sqlx::query_scalar(sql)
            .bind(new.username)
            .bind(new.display_name)
            .bind(new.role.as_str())
            .bind(new.village_id)
            .bind(new.password_hash)
            .bind(new.must_change_password)
            .bind(now())
            .fetch_one(&mut *c)
            .await)
        .map_err(DbError::from_insert)
    }

    /// Set a new password hash; `must_change` marks it one-time. Ends the account's other sessions.
    pub async fn set_password(
        &mut self,
        id: AccountId,
        hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<(), DbError> {
        on_tx!(self, c => {
            let done = sqlx::query("UPDATE accounts SET password_hash = $1, must_change_password = $2 WHERE id = $3")
                .bind(hash).bind(must_change).bind(id).execute(&mut *c).await?;
            if done.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
                .bind(id).bind(keep_session.unwrap_or("")).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Disable or re-enable an account; disabling ends its sessions.
    pub async fn set_disabled(&mut self, id: AccountId, disabled: bool) -> Result<(), DbError> {
        on_tx!(self, c => {
            let done = sqlx::query("UPDATE accounts SET disabled = $1 WHERE id = $2")
                .bind(disabled).bind(id).execute(&mut *c).await?;
            if done.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *c).await?;
            }
        });
        Ok(())
    }
}
