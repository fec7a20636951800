//! The shared state of the limits, kept in the database so that every server on it enforces
//! one limit: failed logins per account (`login_throttle`) and request counts per link
//! (`rate_counts`).
//!
//! The policy (how many attempts are free, how long each delay is, how many requests a link
//! gets) lives in `crate::rate_limit`; here are only the atomic statements that count, so
//! that two servers, or two requests on one, can never both take the same attempt.

use super::{Db, DbError, Tx, on_pool, on_tx, on_writer};
use crate::ids::AccountId;

impl Db {
    /// Counts an attempt at `account`'s password at `now_ms` and answers `None` when it may
    /// be checked now, or `Some(next_allowed_at)` (milliseconds) when the account must wait
    /// (nothing is counted then). `delays_ms[k - 1]` is how long the `k`th counted attempt
    /// makes the account wait (the last entry for all beyond); failures whose last attempt is
    /// at or before `forget_before_ms` are forgotten first.
    ///
    /// One statement: the row is inserted or, under the database's row lock, updated only if
    /// its delay is over — a refused update returns no row.
    pub async fn count_login_attempt(
        &self,
        account: AccountId,
        now_ms: i64,
        forget_before_ms: i64,
        delays_ms: &[i64],
    ) -> Result<Option<i64>, DbError> {
        let counted = "CASE WHEN login_throttle.last_failure_at <= $3 THEN 1 ELSE login_throttle.failures + 1 END";
        let sql = format!(
            "INSERT INTO login_throttle (account_id, failures, next_allowed_at, last_failure_at)
             VALUES ($1, 1, $2 + {first}, $2)
             ON CONFLICT (account_id) DO UPDATE SET
                 failures = {counted},
                 next_allowed_at = $2 + {delay},
                 last_failure_at = $2
             WHERE login_throttle.next_allowed_at <= $2
             RETURNING failures",
            first = delays_ms.first().copied().unwrap_or(0),
            delay = delay_case(counted, delays_ms),
        );
        let counted: Option<i64> = on_writer!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(now_ms)
            .bind(forget_before_ms)
            .fetch_optional(p)
            .await)?;
        if counted.is_some() {
            return Ok(None);
        }
        // Refused: how long for (read after the fact; only the answer's Retry-After uses it).
        Ok(Some(
            self.login_allowed_at(account).await?.unwrap_or(now_ms),
        ))
    }

    /// When the account's next password check may run, if it has failures on record.
    pub async fn login_allowed_at(&self, account: AccountId) -> Result<Option<i64>, DbError> {
        let sql = "SELECT next_allowed_at FROM login_throttle WHERE account_id = $1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(account).fetch_optional(p).await)?)
    }

    /// The accounts that must wait at `now_ms` before their next password check.
    pub async fn delayed_accounts(&self, now_ms: i64) -> Result<Vec<AccountId>, DbError> {
        let sql =
            "SELECT account_id FROM login_throttle WHERE next_allowed_at > $1 ORDER BY account_id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(now_ms).fetch_all(p).await)?)
    }

    /// Forgets the account's failures (the right password).
    pub async fn forget_login_failures(&self, account: AccountId) -> Result<(), DbError> {
        let mut tx = self.begin().await?;
        tx.forget_login_failures(account).await?;
        tx.commit().await
    }

    /// Rows in `login_throttle` (for tests: made-up names must create none).
    pub async fn login_throttle_rows(&self) -> Result<i64, DbError> {
        let sql = "SELECT COUNT(*) FROM login_throttle";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await)?)
    }

    /// Drops rows that no longer delay anyone and whose failures are forgotten anyway.
    pub async fn prune_login_failures(
        &self,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> Result<u64, DbError> {
        let sql =
            "DELETE FROM login_throttle WHERE next_allowed_at <= $1 AND last_failure_at <= $2";
        let n = on_writer!(self, p => sqlx::query(sql).bind(now_ms).bind(forget_before_ms).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

/// Requests counted by one server since it last added its counts: `hits` under `key`, in a
/// window of `window_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateHits {
    pub key: String,
    pub hits: i64,
    pub window_ms: i64,
}

impl Db {
    /// Adds each server's counts to the shared ones at `now_ms` and answers, in the same
    /// order, the total of all servers and when its window ends (ms). A window that has
    /// ended restarts with the hits being added. One transaction, one statement per key.
    pub async fn add_rate_hits(
        &self,
        now_ms: i64,
        batch: &[RateHits],
    ) -> Result<Vec<(i64, i64)>, DbError> {
        let sql = "INSERT INTO rate_counts (key, hits, expires_at) VALUES ($1, $2, $3 + $4)
             ON CONFLICT (key) DO UPDATE SET
                 hits = CASE WHEN rate_counts.expires_at <= $3 THEN $2 ELSE rate_counts.hits + $2 END,
                 expires_at = CASE WHEN rate_counts.expires_at <= $3 THEN $3 + $4 ELSE rate_counts.expires_at END
             RETURNING hits, expires_at";
        let mut totals = Vec::with_capacity(batch.len());
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            for b in batch {
                let row: (i64, i64) = sqlx::query_as(sql)
                    .bind(&b.key)
                    .bind(b.hits)
                    .bind(now_ms)
                    .bind(b.window_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                totals.push(row);
            }
            tx.commit().await?;
            Ok::<(), sqlx::Error>(())
        })?;
        Ok(totals)
    }

    /// Drops the counts whose window ended at or before `now_ms`.
    pub async fn prune_rate_counts(&self, now_ms: i64) -> Result<u64, DbError> {
        let sql = "DELETE FROM rate_counts WHERE expires_at <= $1";
        let n = on_writer!(self, p => sqlx::query(sql).bind(now_ms).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Rows in `rate_counts` (for tests).
    pub async fn rate_count_rows(&self) -> Result<i64, DbError> {
        let sql = "SELECT COUNT(*) FROM rate_counts";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await)?)
    }
}

impl Tx {
    /// Forgets the account's failures (an unlock, a password reset).
    pub async fn forget_login_failures(&mut self, account: AccountId) -> Result<(), DbError> {
        let sql = "DELETE FROM login_throttle WHERE account_id = $1";
        on_tx!(self, c => sqlx::query(sql).bind(account).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }
}

/// `CASE <count> WHEN 1 THEN d1 WHEN 2 THEN d2 … ELSE d_last END` (integers only, so the
/// SQL text is safe to build).
fn delay_case(count: &str, delays_ms: &[i64]) -> String {
    let mut sql = format!("CASE {count}");
    for (k, d) in delays_ms.iter().enumerate() {
        sql.push_str(&format!(" WHEN {} THEN {d}", k + 1));
    }
    sql.push_str(&format!(
        " ELSE {} END",
        delays_ms.last().copied().unwrap_or(0)
    ));
    sql
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_delay_case_lists_each_count_and_keeps_the_last_beyond() {
        assert_eq!(
            super::delay_case("c", &[0, 1000, 2000]),
            "CASE c WHEN 1 THEN 0 WHEN 2 THEN 1000 WHEN 3 THEN 2000 ELSE 2000 END"
        );
    }
}
