//! Fieldwork storage for the questionnaires: pinned forms, released cases, invitations and
//! their link tokens (SHA-256 only), responses, and the panel.

use super::mixer::pool_answer;
use super::{Db, DbError, Tx, decode_name, on_pool, on_tx, on_writer};
use crate::domain::{CampaignState, now};
use crate::forms::Audience;
use crate::ids::{CampaignId, CaseId, InvitationId, PanelMemberId, VillageId};

/// A form file as a campaign pinned it at the start of fieldwork.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PinnedForm {
    /// `recipients`, `panel` or `scheme`.
    pub role: String,
    pub form_id: String,
    pub version: String,
    pub sha256: String,
    pub source: String,
}

/// A sample member to release as a case.
pub struct Release {
    pub village_id: VillageId,
    pub rank: i64,
    pub phone: String,
    pub name: Option<String>,
    pub reason: String,
}

/// What a survey link leads to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LinkTarget {
    pub invitation_id: InvitationId,
    pub case_id: CaseId,
    pub campaign_id: CampaignId,
    pub campaign_state: CampaignState,
    pub town: String,
    pub village_id: VillageId,
    pub village_name: String,
    pub used: bool,
    pub voided: bool,
    /// A newer link was issued for the same invitation.
    pub superseded: bool,
}

/// An answer set to store: nothing in it points back to a person, nor says how (link or
/// phone) or when it was given.
#[derive(Clone, Debug)]
pub struct NewResponse {
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    /// The recipients' questionnaire or the panel's.
    pub questionnaire: Audience,
    pub form_id: String,
    pub form_version: String,
    pub form_sha256: String,
    pub answers_json: String,
    /// How long the answering took, as a bucket (never a time).
    pub duration: crate::duration::Duration,
}

/// A line of the SMS outbox: the phone and the fresh token of its link.
/// The invitations an SMS can go to: the case still open and in the sample, the link neither
/// used nor voided, and the number a mobile (normalised numbers: a mobile starts with 1, a
/// landline with its area code's 0; a landline cannot receive an SMS).
const SMS_DUE: &str = "c.status = 'open' AND c.replaced_at IS NULL AND NOT i.used AND NOT i.voided AND c.phone LIKE '1%'";

/// What the outbox holds (see [`Db::outbox_counts`]).
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct OutboxCounts {
    pub unsent: i64,
    pub sent_open: i64,
    pub landlines: i64,
}

#[derive(Clone, Debug)]
pub struct Outgoing {
    pub phone: String,
    pub village_name: String,
    pub token: String,
}

/// A panel member as the commission sees them.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct PanelMember {
    pub id: PanelMemberId,
    pub campaign_id: CampaignId,
    pub name: String,
    pub category: String,
    pub phone: Option<String>,
    pub has_link: bool,
    pub rated: i64,
}

impl Db {
    /// The forms a campaign pinned (empty before fieldwork).
    pub async fn pinned_forms(&self, campaign_id: CampaignId) -> Result<Vec<PinnedForm>, DbError> {
        let sql = "SELECT role, form_id, version, sha256, source FROM campaign_forms WHERE campaign_id = $1 ORDER BY role";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// How many SMS the campaign's outbox holds: never sent, sent and still unanswered; and
    /// the open cases with a landline, which cannot receive one and are called instead.
    pub async fn outbox_counts(&self, campaign_id: CampaignId) -> Result<OutboxCounts, DbError> {
        let sql = format!(
            "SELECT
               COALESCE(SUM(CASE WHEN {SMS_DUE} AND i.first_sent_at IS NULL THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN {SMS_DUE} AND i.first_sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN c.status = 'open' AND c.replaced_at IS NULL AND c.phone NOT LIKE '1%' THEN 1 ELSE 0 END), 0)
             FROM invitations i JOIN cases c ON c.id = i.case_id WHERE c.campaign_id = $1"
        );
        let (unsent, sent_open, landlines): (i64, i64, i64) = on_pool!(self, p =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(campaign_id).fetch_one(p).await)?;
        Ok(OutboxCounts {
            unsent,
            sent_open,
            landlines,
        })
    }

    /// [`Tx::issue_link_tokens`] in a transaction of its own, unaudited (setting up tests
    /// and benchmarks; the outbox goes through `ops::fieldwork`).
    pub async fn issue_link_tokens(
        &self,
        campaign_id: CampaignId,
        remind_after_days: Option<i64>,
        new_token: impl FnMut() -> (String, String) + Send,
    ) -> Result<Vec<Outgoing>, DbError> {
        let mut tx = self.begin().await?;
        let out = tx
            .issue_link_tokens(campaign_id, remind_after_days, new_token)
            .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The invitation behind a link token, if the token is known.
    pub async fn link_target(&self, token_hash: &str) -> Result<Option<LinkTarget>, DbError> {
        let sql = "SELECT i.id AS invitation_id, c.id AS case_id, c.campaign_id, k.state AS campaign_state, k.town,
                          c.village_id, v.name AS village_name, i.used, i.voided,
                          t.superseded_at IS NOT NULL AS superseded
                   FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id
                   JOIN cases c ON c.id = i.case_id JOIN campaigns k ON k.id = c.campaign_id
                   JOIN villages v ON v.id = c.village_id
                   WHERE t.token_hash = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(token_hash).fetch_optional(p).await)?)
    }

    /// Store answers given through links, several in one transaction (group commit: the
    /// survey's hot path). For each, the invitation is marked used, the answer put into the
    /// mixer's pool and the case completed; an invitation already used or voided stores
    /// nothing (a repeated submit counts once). Returns, per item, whether it was stored.
    /// All or nothing.
    pub async fn submit_through_links(
        &self,
        batch: &[(LinkTarget, NewResponse)],
    ) -> Result<Vec<bool>, DbError> {
        let mut campaigns: Vec<CampaignId> = batch.iter().map(|(t, _)| t.campaign_id).collect();
        campaigns.sort_unstable();
        campaigns.dedup();
        let lock = self.lock_open_campaign_sql();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let mut stored = vec![false; batch.len()];
            // Only while fieldwork runs: each campaign is held (FOR SHARE on PostgreSQL) so
            // that closing it waits for this batch, and no answer reaches the pool after the
            // close has mixed the last ones.
            let mut open = Vec::new();
            for id in &campaigns {
                let state: Option<String> = sqlx::query_scalar(lock).bind(id).fetch_optional(&mut *tx).await?;
                if state.map(|s| decode_name("state", s)).transpose()? == Some(CampaignState::Fieldwork) {
                    open.push(*id);
                }
            }
            // Rows are locked in invitation order, whatever order the requests came in: two
            // servers' batches holding the same links (a double tap split by the load
            // balancer) would otherwise deadlock on PostgreSQL.
            let mut order: Vec<usize> = (0..batch.len()).collect();
            order.sort_by_key(|&k| batch[k].0.invitation_id);
            for k in order {
                let (target, response) = &batch[k];
                if !open.contains(&target.campaign_id) {
                    continue;
                }
                let n = sqlx::query("UPDATE invitations SET used = TRUE WHERE id = $1 AND NOT used AND NOT voided")
                    .bind(target.invitation_id).execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    pool_answer(&mut tx, response).await?;
                    sqlx::query("UPDATE cases SET status = 'completed', disposition = 'complete' WHERE id = $1").bind(target.case_id).execute(&mut *tx).await?;
                }
                stored[k] = n == 1;
            }
            tx.commit().await?;
            Ok(stored)
        })
    }

    /// The respondent declines through the link: recorded as a refusal, no response.
    pub async fn decline_through_link(&self, target: &LinkTarget) -> Result<bool, DbError> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE invitations SET used = TRUE WHERE id = $1 AND NOT used AND NOT voided
                 AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = $2 AND k.state = 'fieldwork')")
                .bind(target.invitation_id).bind(target.campaign_id).execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Ok(false);
            }
            sqlx::query("UPDATE cases SET status = 'refused', disposition = 'refusal' WHERE id = $1").bind(target.case_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// The respondent answers the screener 没办过 through the link: not a service recipient.
    /// The link is used up and no response is stored; the caller records the attempt (not a
    /// service recipient), which sets the case's disposition. False if the link was used,
    /// voided or fieldwork is not running.
    pub async fn screen_out_through_link(&self, target: &LinkTarget) -> Result<bool, DbError> {
        on_writer!(self, p => {
            let n = sqlx::query(
                "UPDATE invitations SET used = TRUE WHERE id = $1 AND NOT used AND NOT voided
                 AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = $2 AND k.state = 'fieldwork')")
                .bind(target.invitation_id).bind(target.campaign_id).execute(p).await?.rows_affected();
            Ok(n == 1)
        })
    }

    pub async fn panel_members(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<PanelMember>, DbError> {
        let sql = "SELECT m.id, m.campaign_id, m.name, m.category, m.phone, m.token_hash IS NOT NULL AS has_link,
                          (SELECT COUNT(*) FROM panel_ratings r WHERE r.panel_member_id = m.id) AS rated
                   FROM panel_members m WHERE m.campaign_id = $1 ORDER BY m.id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    pub async fn panel_member_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<PanelMember>, DbError> {
        let sql = "SELECT m.id, m.campaign_id, m.name, m.category, m.phone, TRUE AS has_link,
                          (SELECT COUNT(*) FROM panel_ratings r WHERE r.panel_member_id = m.id) AS rated
                   FROM panel_members m WHERE m.token_hash = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(token_hash).fetch_optional(p).await)?)
    }

    /// The villages a panel member has rated.
    pub async fn rated_villages(
        &self,
        member_id: PanelMemberId,
    ) -> Result<Vec<VillageId>, DbError> {
        let sql = "SELECT village_id FROM panel_ratings WHERE panel_member_id = $1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(member_id).fetch_all(p).await)?)
    }

    /// Store a panel member's rating of a village, once. False if already rated.
    pub async fn submit_panel_rating(
        &self,
        member_id: PanelMemberId,
        response: &NewResponse,
    ) -> Result<bool, DbError> {
        let lock = self.lock_open_campaign_sql();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let state: Option<String> = sqlx::query_scalar(lock)
                .bind(response.campaign_id).fetch_optional(&mut *tx).await?;
            if state.map(|s| decode_name("state", s)).transpose()? != Some(CampaignState::Fieldwork) {
                return Ok(false);
            }
            let n = sqlx::query("INSERT INTO panel_ratings (panel_member_id, village_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(member_id).bind(response.village_id).execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Ok(false);
            }
            pool_answer(&mut tx, response).await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// SQL reading a campaign's state inside a write transaction, holding the row until the
    /// transaction ends on PostgreSQL (`FOR SHARE`: closing the campaign waits for it).
    /// SQLite has one writer, so the read alone is enough there.
    pub(super) fn lock_open_campaign_sql(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SELECT state FROM campaigns WHERE id = $1",
            Db::Postgres(_) => "SELECT state FROM campaigns WHERE id = $1 FOR SHARE",
        }
    }
}

impl Tx {
    /// Adds a member to the campaign's panel; returns the member's id.
    pub async fn add_panel_member(
        &mut self,
        campaign_id: CampaignId,
        name: &str,
        category: &str,
        phone: Option<&str>,
    ) -> Result<PanelMemberId, DbError> {
        let sql = "INSERT INTO panel_members (campaign_id, name, category, phone, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
        on_tx!(self, c => sqlx::query_scalar(sql).bind(campaign_id).bind(name).bind(category).bind(phone).bind(now()).fetch_one(&mut *c).await)
            .map_err(DbError::from_insert)
    }

    /// Start fieldwork: pin the forms, release the cases, create their invitations — in the
    /// operation's transaction. False if the campaign was not drawn (or already started).
    pub async fn start_fieldwork(
        &mut self,
        campaign_id: CampaignId,
        forms: &[PinnedForm],
        releases: &[Release],
    ) -> Result<bool, DbError> {
        let t = now();
        on_tx!(self, c => {
            let n = sqlx::query("UPDATE campaigns SET state = 'fieldwork', fieldwork_started_at = $1 WHERE id = $2 AND state = 'drawn'")
                .bind(t).bind(campaign_id).execute(&mut *c).await?.rows_affected();
            if n != 1 {
                return Ok(false);
            }
            for f in forms {
                sqlx::query("INSERT INTO campaign_forms (campaign_id, role, form_id, version, sha256, source) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(campaign_id).bind(&f.role).bind(&f.form_id).bind(&f.version).bind(&f.sha256).bind(&f.source)
                    .execute(&mut *c).await?;
            }
            for r in releases {
                let case_id: CaseId = sqlx::query_scalar(
                    "INSERT INTO cases (campaign_id, village_id, rank, phone, name, released_at, release_reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                    .bind(campaign_id).bind(r.village_id).bind(r.rank).bind(&r.phone).bind(&r.name).bind(t).bind(&r.reason)
                    .fetch_one(&mut *c).await?;
                sqlx::query("INSERT INTO invitations (case_id) VALUES ($1)").bind(case_id).execute(&mut *c).await?;
            }
        });
        Ok(true)
    }

    /// Issue the links of invitations already sent again, with new tokens: every unanswered
    /// one of the campaign (`case` = None: the outbox file was lost before it was sent), or
    /// one case's (the resident deleted the SMS). The old tokens are superseded: they only
    /// say the link is no longer in use. Mobile numbers only.
    pub async fn reissue_link_tokens(
        &mut self,
        campaign_id: CampaignId,
        case: Option<CaseId>,
        mut new_token: impl FnMut() -> (String, String) + Send,
    ) -> Result<Vec<Outgoing>, DbError> {
        let filter = if case.is_some() {
            "i.first_sent_at IS NOT NULL AND c.id = $2"
        } else {
            "i.first_sent_at IS NOT NULL AND $2 = $2"
        };
        self.issue_tokens(
            campaign_id,
            filter,
            case.map_or(0, |c| c.0),
            true,
            &mut new_token,
        )
        .await
    }

    /// Give fresh link tokens to invitations that need an SMS: never sent ones
    /// (`remind_after_days` = None), or, for reminders, unanswered ones whose last SMS is at
    /// least that many days old. Each token is stored only as its SHA-256; the plain tokens
    /// are returned once, for the outbox.
    pub async fn issue_link_tokens(
        &mut self,
        campaign_id: CampaignId,
        remind_after_days: Option<i64>,
        mut new_token: impl FnMut() -> (String, String) + Send,
    ) -> Result<Vec<Outgoing>, DbError> {
        let (filter, cutoff) = match remind_after_days {
            None => ("i.first_sent_at IS NULL AND $2 = $2", 0),
            Some(days) => (
                "i.last_sent_at IS NOT NULL AND i.last_sent_at <= $2",
                now() - days * 86_400,
            ),
        };
        self.issue_tokens(campaign_id, filter, cutoff, false, &mut new_token)
            .await
    }

    /// One new token for every invitation of the campaign an SMS can go to that matches
    /// `filter` (SQL over `i` invitations and `c` cases, with `$2` = `param`), in the
    /// operation's transaction; with `supersede`, the invitation's earlier tokens go out of use.
    async fn issue_tokens(
        &mut self,
        campaign_id: CampaignId,
        filter: &str,
        param: i64,
        supersede: bool,
        new_token: &mut (impl FnMut() -> (String, String) + Send),
    ) -> Result<Vec<Outgoing>, DbError> {
        let t = now();
        let sql = format!(
            "SELECT i.id, c.phone, v.name FROM invitations i JOIN cases c ON c.id = i.case_id JOIN villages v ON v.id = c.village_id
             JOIN campaigns k ON k.id = c.campaign_id
             WHERE c.campaign_id = $1 AND k.state = 'fieldwork' AND {SMS_DUE} AND {filter}
             ORDER BY v.code, c.rank"
        );
        let mut out = Vec::new();
        on_tx!(self, c => {
            // A write first, so the read below and the updates happen under one write lock.
            sqlx::query("UPDATE campaigns SET state = state WHERE id = $1").bind(campaign_id).execute(&mut *c).await?;
            let due: Vec<(InvitationId, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(campaign_id).bind(param).fetch_all(&mut *c).await?;
            for (invitation_id, phone, village_name) in due {
                if supersede {
                    sqlx::query("UPDATE invitation_tokens SET superseded_at = $1 WHERE invitation_id = $2 AND superseded_at IS NULL")
                        .bind(t).bind(invitation_id).execute(&mut *c).await?;
                }
                let (token, hash) = new_token();
                sqlx::query("INSERT INTO invitation_tokens (token_hash, invitation_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&hash).bind(invitation_id).bind(t).execute(&mut *c).await?;
                sqlx::query("UPDATE invitations SET first_sent_at = COALESCE(first_sent_at, $1), last_sent_at = $1 WHERE id = $2")
                    .bind(t).bind(invitation_id).execute(&mut *c).await?;
                out.push(Outgoing { phone, village_name, token });
            }
        });
        Ok(out)
    }

    /// Give a panel member a new personal link (the old one stops working).
    pub async fn set_panel_token(
        &mut self,
        member_id: PanelMemberId,
        token_hash: &str,
    ) -> Result<(), DbError> {
        let n = on_tx!(self, c => sqlx::query("UPDATE panel_members SET token_hash = $1 WHERE id = $2")
            .bind(token_hash).bind(member_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 1 {
            Ok(())
        } else {
            Err(DbError::NotFound)
        }
    }
}
