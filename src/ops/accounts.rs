//! Accounts: log in, create, reset a password, change one's own, lift a login delay,
//! disable and enable.

use super::Actor;
use crate::db::{Account, Db, DbError, NewAccount};
use crate::ids::AccountId;
use crate::rate_limit::{Claimant, LimitError, Limiter};
use crate::secrets;
use serde_json::json;

/// How long a session lasts on the server (the page's cookie also ends with the browser).
pub const SESSION_TTL_SECS: i64 = 12 * 3600;

/// An argon2id hash of a random password nobody knows, verified against when the account
/// does not exist so that a failed login costs the same either way.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3IxBBYZ+Oj5gq2pcg0sqdSg5Ux0QWUFDxnnYQMBvCmc";

/// Where a login comes from: the login page, or the JSON API (whose clients cannot change a
/// one-time password, so such an account gets no session there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Page,
    Api,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Page => "page",
            Via::Api => "api",
        }
    }
}

/// What a login came to.
pub enum Login {
    /// The right password of an enabled account: a new session (`token`, kept by the
    /// client; the database keeps its hash).
    Passed { account: Account, token: String },
    /// The right password, but the account must first replace its one-time password, which
    /// the API cannot do: no session.
    MustChangePassword,
    /// A wrong password, a disabled account, or no such account.
    Failed,
}

/// The one login, for the page and the API:
/// - an unknown name is checked against [`DUMMY_HASH`], so it costs the same time as a real
///   one, and is never delayed (there is no account to protect, and a name spelt differently,
///   such as "ADMIN ", must not delay the real one); it is only counted for the log's summary;
/// - a real account is delayed by its id ([`crate::rate_limit::LoginGuard`], shared by all
///   servers on the database); the attempt is counted before its password is checked, and a
///   failure is audited;
/// - every check waits its turn at the bounded [`crate::rate_limit::HashGate`], where made-up
///   names cannot take the last turn from real accounts;
/// - a success makes a fresh session (no session fixation), ends the browser's old one
///   (`replaces`, a token hash) and is audited, in one transaction.
pub async fn login(
    db: &Db,
    limits: &Limiter,
    username: &str,
    password: String,
    via: Via,
    replaces: Option<&str>,
) -> Result<Login, LimitError> {
    let Some(account) = db.account_by_username(username.trim()).await? else {
        let turn = limits.hashing.turn(Claimant::Unknown).await?;
        limits
            .hashing
            .verify(turn, password, DUMMY_HASH.to_string())
            .await?;
        limits.hashing.count_unknown_name();
        return Ok(Login::Failed);
    };
    let delayed = |wait: std::time::Duration| {
        // Summed up in the log once a minute, not a line per attempt.
        tracing::debug!(
            account = account.id.0,
            "login delayed after repeated failures"
        );
        limits.hashing.count_delayed();
        // Rounded up, so a client retrying after `Retry-After` is not refused again.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        LimitError::Delayed { secs: secs.max(1) }
    };
    // Checked before waiting for a turn, so a delayed account does not queue for nothing;
    // counted only once a turn is held, so a busy server does not count against the owner.
    if let Some(wait) = limits.logins.waiting(db, account.id).await? {
        return Err(delayed(wait));
    }
    let turn = limits.hashing.turn(Claimant::Account).await?;
    limits
        .logins
        .reserve(db, account.id)
        .await?
        .map_err(delayed)?;
    let ok = limits
        .hashing
        .verify(turn, password, account.password_hash.clone())
        .await?;
    if !ok || account.disabled {
        tracing::warn!(account = account.id.0, via = via.as_str(), "login failed");
        let details = json!({ "account": account.id, "via": via.as_str() });
        db.append_audit(&Actor::anonymous().event("login.failure", None, details))
            .await?;
        return Ok(Login::Failed);
    }
    limits.logins.succeeded(db, account.id).await?;
    if via == Via::Api && account.must_change_password {
        return Ok(Login::MustChangePassword);
    }
    let token = secrets::random_token();
    let mut tx = db.begin().await?;
    if let Some(old) = replaces {
        tx.delete_session(old).await?;
    }
    tx.create_session(
        &secrets::token_hash(&token),
        account.id,
        &secrets::random_token(),
        SESSION_TTL_SECS,
    )
    .await?;
    let by = Actor::account(account.id);
    tx.audit(db, &by.event("login", None, json!({ "via": via.as_str() })))
        .await?;
    tx.commit().await?;
    tracing::info!(account = account.id.0, via = via.as_str(), "login");
    Ok(Login::Passed { account, token })
}

/// Creates an account; a taken username is `DbError::Conflict` (nothing is stored).
pub async fn create(db: &Db, by: &Actor, new: &NewAccount<'_>) -> Result<AccountId, DbError> {
    let mut tx = db.begin().await?;
    let id = tx.create_account(new).await?;
    let details = json!({
        "account": id,
        "username": new.username,
        "role": new.role.as_str(),
        "village": new.village_id,
    });
    tx.audit(db, &by.event("account.create", None, details))
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Gives an account a new one-time password (`hash`): its sessions end and its login delay
/// is lifted, so the owner can log in with it now, whatever was guessed before.
pub async fn reset_password(
    db: &Db,
    by: &Actor,
    account: &crate::db::Account,
    hash: &str,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.set_password(account.id, hash, true, None).await?;
    tx.forget_login_failures(account.id).await?;
    let details = json!({ "account": account.id, "username": account.username });
    tx.audit(db, &by.event("account.reset", None, details))
        .await?;
    tx.commit().await
}

/// The owner changed their password (`hash`); their other sessions end.
pub async fn change_own_password(
    db: &Db,
    account: AccountId,
    hash: &str,
    keep_session: &str,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.set_password(account, hash, false, Some(keep_session))
        .await?;
    let by = Actor::account(account);
    tx.audit(
        db,
        &by.event("account.password", None, json!({ "account": account })),
    )
    .await?;
    tx.commit().await
}

/// Ends a session (`session`: its token's hash).
pub async fn logout(db: &Db, by: &Actor, session: &str) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.delete_session(session).await?;
    tx.audit(db, &by.event("logout", None, json!({}))).await?;
    tx.commit().await
}

/// Lifts the delay that failed logins put on an account (the password is unchanged).
pub async fn unlock(db: &Db, by: &Actor, account: AccountId) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.forget_login_failures(account).await?;
    tx.audit(
        db,
        &by.event("account.unlock", None, json!({ "account": account })),
    )
    .await?;
    tx.commit().await
}

/// Disables an account (its sessions end) or enables it again.
pub async fn set_disabled(
    db: &Db,
    by: &Actor,
    account: AccountId,
    disabled: bool,
) -> Result<(), DbError> {
    let event = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    let mut tx = db.begin().await?;
    tx.set_disabled(account, disabled).await?;
    tx.audit(db, &by.event(event, None, json!({ "account": account })))
        .await?;
    tx.commit().await
}
