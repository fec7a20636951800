//! Rosters: a village's roster handed in (web upload, API or command line) replaces the
//! previous one, and its receipt is audited in the same transaction.

use super::Actor;
use crate::db::{Db, ImportError, RosterTarget};
use crate::roster::{Limits, Receipt};
use serde_json::json;
use std::io::{Read, Seek};

/// Reads `input` and makes it the village's roster, audited as `roster.receipt` by `by`.
/// The rows stream into one transaction, which also holds the entry: a refused file or a
/// crash leaves the previous roster and no entry. A village whose application the campaign
/// refused is refused.
pub async fn import<R>(
    db: &Db,
    by: &Actor,
    target: &RosterTarget,
    input: R,
    limits: Limits,
) -> Result<Receipt, ImportError>
where
    R: Read + Seek + Send + 'static,
{
    let mut tx = db.begin().await?;
    let receipt = tx.import_roster(target, input, limits).await?;
    // Read after the import took the campaign's lock, so a decision cannot pass in between.
    // A village not yet decided on may hand its roster in; it counts once accepted. A refused
    // village, and one that did not apply where no application can come any more (a 复核
    // round takes none; or the due date has passed), hands in none.
    let participation = tx.participation(target.campaign_id).await?;
    if participation.by_application() {
        let decision = tx
            .application_decision(target.campaign_id, target.village_id)
            .await?;
        let closed = participation
            .applications_due
            .as_deref()
            .is_none_or(|due| due < crate::domain::today().as_str());
        let refused = match decision {
            Some(decision) => decision.as_deref() == Some("refused"),
            None => closed,
        };
        if refused {
            return Err(ImportError::NotAccepted);
        }
    }
    let details = json!({
        "village": target.village_id, "file_name": target.file_name,
        "rows_read": receipt.rows_read, "accepted": receipt.accepted,
        "fingerprint": receipt.fingerprint,
    });
    tx.audit(
        db,
        &by.event("roster.receipt", Some(target.campaign_id), details),
    )
    .await?;
    tx.commit().await?;
    Ok(receipt)
}
