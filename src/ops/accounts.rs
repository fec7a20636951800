//! Accounts: create, reset a password, change one's own, lift a login delay, disable and
//! enable — and the record of a failed login.

use super::Actor;
use crate::db::{Db, DbError, NewAccount};
use serde_json::json;

/// Creates an account; a taken username is `DbError::Conflict` (nothing is stored).
pub async fn create(db: &Db, by: &Actor, new: &NewAccount<'_>) -> Result<i64, DbError> {
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
    account: i64,
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

/// Lifts the delay that failed logins put on an account (the password is unchanged).
pub async fn unlock(db: &Db, by: &Actor, account: i64) -> Result<(), DbError> {
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
    account: i64,
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

/// A wrong password for an existing account (`via`: `page` or `api`). The typed name is
/// never recorded: people type passwords or phones into that field.
pub async fn record_failed_login(db: &Db, account: i64, via: &str) -> Result<(), DbError> {
    let details = json!({ "account": account, "via": via });
    db.append_audit(&Actor::anonymous().event("login.failure", None, details))
        .await?;
    Ok(())
}
