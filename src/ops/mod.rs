//! The workflows, one module each, called alike by the web handlers, the command line and
//! the demo. An operation checks what it needs, opens one transaction ([`crate::db::Tx`]),
//! makes its changes, appends its audit entry inside the same transaction and commits once:
//! a crash leaves the change and its entry both stored or neither.
//!
//! Handlers parse the request, call an operation and render its result; they never write to
//! the database themselves.

use crate::ids::{AccountId, CampaignId};
pub mod accounts;
pub mod applications;
pub mod archive;
pub mod campaigns;
pub mod decisions;
pub mod draw;
pub mod fieldwork;
pub mod publicity;
pub mod register;
pub mod results;
pub mod rosters;

/// Who does an operation, as the audit chain names them: `account:<id>`, `cli`, `demo`,
/// `anonymous` (a failed login), `system`. An account's id is also what the rows it writes
/// record as `entered_by`, `published_by` and the like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    name: String,
    account: Option<AccountId>,
}

impl Actor {
    pub fn account(id: AccountId) -> Self {
        Actor {
            name: format!("account:{id}"),
            account: Some(id),
        }
    }
    pub fn cli() -> Self {
        Actor::named("cli")
    }
    pub fn anonymous() -> Self {
        Actor::named("anonymous")
    }
    pub fn named(name: &str) -> Self {
        Actor {
            name: name.into(),
            account: None,
        }
    }
    pub fn as_str(&self) -> &str {
        &self.name
    }
    /// The account behind this actor; `None` for the command line and the system.
    pub fn account_id(&self) -> Option<AccountId> {
        self.account
    }
    /// The audit event done by this actor.
    pub fn event(
        &self,
        event: &str,
        campaign: Option<CampaignId>,
        details: serde_json::Value,
    ) -> crate::audit::Event {
        crate::audit::Event::new(self.name.as_str(), event, campaign, details)
    }
}
