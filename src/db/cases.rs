//! Cases in the field: call attempts, dispositions, replacements from the reserve (strictly in
//! rank order), phone interviews, and closing. What to replace and which rank comes next are
//! decided by `dispositions` (pure); here they are applied inside one transaction.

use super::{Db, DbError, NewResponse, Tx, decode_name, on_pool, on_tx};
use crate::dispositions::{
    Attempt, NextRelease, Outcome, ReplacementRules, VillageState, next_release, replacement_reason,
};
use crate::domain::{CampaignState, CaseStatus, now};
use crate::ids::{AccountId, AttemptId, CampaignId, CaseId, VillageId};
use std::collections::{HashMap, HashSet};

/// A released case as the surveyor sees it (the only role that sees `phone` in full).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct CaseRow {
    pub id: CaseId,
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub village_code: String,
    pub village_name: String,
    pub rank: i64,
    pub phone: String,
    pub name: Option<String>,
    pub released_at: i64,
    pub release_reason: String,
    pub status: CaseStatus,
    pub disposition: Option<Outcome>,
    pub replaced_at: Option<i64>,
    pub attempts: i64,
    pub last_attempt_at: Option<i64>,
    pub next_callback_at: Option<i64>,
    pub link_sent: bool,
    pub link_used: bool,
    /// The rank released in this case's place, when it was replaced and the reserve had one.
    pub replacement_rank: Option<i64>,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct AttemptRow {
    pub id: AttemptId,
    pub attempted_at: i64,
    pub attempted_on: String,
    pub outcome: Outcome,
    pub callback_at: Option<i64>,
    pub note: Option<String>,
}

/// A call attempt to record.
pub struct NewAttempt {
    pub case_id: CaseId,
    pub attempted_at: i64,
    /// YYYY-MM-DD (China time) of `attempted_at`.
    pub attempted_on: String,
    pub outcome: Outcome,
    pub callback_at: Option<i64>,
    pub note: Option<String>,
    pub recorded_by: Option<AccountId>,
    /// For imports: a key that makes re-importing the same row a no-op.
    pub import_key: Option<String>,
}

/// What recording an attempt did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttemptResult {
    /// False if the campaign is not in fieldwork, or this import row was already recorded.
    pub stored: bool,
    /// The rank released to replace the case, if any.
    pub released_rank: Option<i64>,
    /// The case warranted a replacement but the village's reserve is used up.
    pub reserve_exhausted: bool,
}

/// What planning a batch of attempts tracks about a case.
struct PlannedCase {
    campaign_id: CampaignId,
    village_id: VillageId,
    rank: i64,
    completed: bool,
    replaced: bool,
}

/// A village's draw as releases inside one transaction need it.
struct VillageCache {
    population: u64,
    size: u64,
    max_rank: u64,
    completes: u64,
    ranked: Vec<String>,
    names: std::collections::HashMap<String, String>,
}

const CASE_COLUMNS: &str = "c.id, c.campaign_id, c.village_id, v.code AS village_code, v.name AS village_name, c.rank, c.phone, c.name,
    c.released_at, c.release_reason, c.status, c.disposition, c.replaced_at,
    (SELECT COUNT(*) FROM attempts a WHERE a.case_id = c.id) AS attempts,
    (SELECT MAX(a.attempted_at) FROM attempts a WHERE a.case_id = c.id) AS last_attempt_at,
    (SELECT MAX(a.callback_at) FROM attempts a WHERE a.case_id = c.id) AS next_callback_at,
    i.first_sent_at IS NOT NULL AS link_sent, i.used AS link_used,
    (SELECT MIN(r.rank) FROM cases r WHERE r.campaign_id = c.campaign_id AND r.village_id = c.village_id
       AND r.release_reason LIKE 'replaces rank ' || c.rank || ':%') AS replacement_rank";

impl Db {
    /// The campaign's released cases (of one village, or all), by village code and rank.
    pub async fn cases(
        &self,
        campaign_id: CampaignId,
        village_id: Option<VillageId>,
    ) -> Result<Vec<CaseRow>, DbError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN villages v ON v.id = c.village_id JOIN invitations i ON i.case_id = c.id
             WHERE c.campaign_id = $1 AND ($2 IS NULL OR c.village_id = $2) ORDER BY v.code, c.rank"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(campaign_id).bind(village_id).fetch_all(p).await)?,
        )
    }

    pub async fn case(&self, case_id: CaseId) -> Result<CaseRow, DbError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN villages v ON v.id = c.village_id JOIN invitations i ON i.case_id = c.id WHERE c.id = $1"
        );
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_optional(p).await)?
            .ok_or(DbError::NotFound)
    }

    pub async fn attempts(&self, case_id: CaseId) -> Result<Vec<AttemptRow>, DbError> {
        let sql = "SELECT id, attempted_at, attempted_on, outcome, callback_at, note FROM attempts WHERE case_id = $1 ORDER BY attempted_at, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(case_id).fetch_all(p).await)?)
    }

    /// Every attempt's outcome in the campaign, by case, in the order recorded.
    pub async fn attempt_outcomes(
        &self,
        campaign_id: CampaignId,
    ) -> Result<std::collections::HashMap<CaseId, Vec<String>>, DbError> {
        let sql = "SELECT a.case_id, a.outcome FROM attempts a JOIN cases c ON c.id = a.case_id
                   WHERE c.campaign_id = $1 ORDER BY a.case_id, a.attempted_at, a.id";
        let rows: Vec<(CaseId, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?;
        let mut by_case: std::collections::HashMap<CaseId, Vec<String>> =
            std::collections::HashMap::new();
        for (case_id, outcome) in rows {
            by_case.entry(case_id).or_default().push(outcome);
        }
        Ok(by_case)
    }

    /// The keys of the results rows already imported into the campaign.
    pub async fn import_keys(
        &self,
        campaign_id: CampaignId,
    ) -> Result<std::collections::HashSet<String>, DbError> {
        let sql = "SELECT a.import_key FROM attempts a JOIN cases c ON c.id = a.case_id WHERE c.campaign_id = $1 AND a.import_key IS NOT NULL";
        let keys: Vec<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign_id).fetch_all(p).await)?;
        Ok(keys.into_iter().collect())
    }

    /// The campaign's replacement rules.
    pub async fn replacement_rules(
        &self,
        campaign_id: CampaignId,
    ) -> Result<ReplacementRules, DbError> {
        let sql = "SELECT replace_on_not_eligible, replace_on_refusal, noncontact_attempts, noncontact_days FROM campaigns WHERE id = $1";
        let (ne, refusal, attempts, days): (bool, bool, i64, i64) =
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_optional(p).await)?
                .ok_or(DbError::NotFound)?;
        Ok(ReplacementRules {
            on_not_eligible: ne,
            on_refusal: refusal,
            noncontact_attempts: u32::try_from(attempts).unwrap_or(3),
            noncontact_days: u32::try_from(days).unwrap_or(2),
        })
    }

    /// Record a call attempt ([`Tx::record_attempts`]) in a transaction of its own,
    /// unaudited: a refusal through the survey link, which is not audited (nothing in the
    /// audit chain may point at a link's case).
    pub async fn record_attempt(&self, a: &NewAttempt) -> Result<AttemptResult, DbError> {
        let mut tx = self.begin().await?;
        let mut results = tx.record_attempts(self, &[(a, None)]).await?;
        tx.commit().await?;
        Ok(results.pop().unwrap_or_default())
    }

    /// [`Tx::submit_phone_interview`] in a transaction of its own, unaudited (setting up
    /// tests and the demo's invented data).
    pub async fn submit_phone_interview(
        &self,
        case_id: CaseId,
        response: &NewResponse,
        recorded_by: AccountId,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin().await?;
        let stored = tx
            .submit_phone_interview(self, case_id, response, recorded_by)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Close fieldwork: afterwards no attempt, link or import is accepted, and every answer
    /// is mixed into `responses` (see `Db::close_and_mix`).
    pub async fn close_fieldwork(&self, campaign_id: CampaignId) -> Result<bool, DbError> {
        self.close_and_mix(campaign_id, true, now()).await
    }
}

impl Tx {
    /// Close fieldwork (the state only; the answers waiting are mixed afterwards by
    /// `Db::close_and_mix`). On PostgreSQL the update waits for every submit holding the
    /// campaign `FOR SHARE`, so no answer joins the pool once the close is committed.
    /// False if the campaign was not in fieldwork.
    pub async fn close_fieldwork(
        &mut self,
        campaign_id: CampaignId,
        closed_at: i64,
    ) -> Result<bool, DbError> {
        let sql = "UPDATE campaigns SET state = 'closed', fieldwork_closed_at = $1 WHERE id = $2 AND state = 'fieldwork'";
        let n = on_tx!(self, c => sqlx::query(sql).bind(closed_at).bind(campaign_id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Change the replacement rules (before or during fieldwork, not after it closed).
    pub async fn set_replacement_rules(
        &mut self,
        campaign_id: CampaignId,
        rules: &ReplacementRules,
    ) -> Result<bool, DbError> {
        let sql = "UPDATE campaigns SET replace_on_not_eligible = $1, replace_on_refusal = $2, noncontact_attempts = $3, noncontact_days = $4
                   WHERE id = $5 AND state IN ('collecting', 'frozen', 'drawn', 'fieldwork')";
        let n = on_tx!(self, c => sqlx::query(sql)
            .bind(rules.on_not_eligible).bind(rules.on_refusal)
            .bind(i64::from(rules.noncontact_attempts)).bind(i64::from(rules.noncontact_days)).bind(campaign_id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Record attempts (with the answers of those that are completes, as imported from other
    /// interviewing software) in the operation's transaction: all or nothing. A row whose `import_key`
    /// was recorded before is skipped (`stored: false`), so importing a file twice changes
    /// nothing. A complete voids the case's link, completes the case and stores its response
    /// (the caller has checked the case was not answered). Every other outcome may release
    /// the village's next reserve rank under the campaign's rules.
    ///
    /// The rows are planned in memory — cases, their histories and each village's draw are
    /// read once — and written with multi-row statements, so a 100,000-row import is a few
    /// hundred statements rather than half a million.
    pub async fn record_attempts(
        &mut self,
        db: &Db,
        rows: &[(&NewAttempt, Option<&NewResponse>)],
    ) -> Result<Vec<AttemptResult>, DbError> {
        let Some((first, _)) = rows.first() else {
            return Ok(Vec::new());
        };
        let campaign_id: CampaignId = on_tx!(self, c => sqlx::query_scalar("SELECT campaign_id FROM cases WHERE id = $1").bind(first.case_id).fetch_optional(&mut *c).await)?
            .ok_or(DbError::NotFound)?;
        let rules = db.replacement_rules(campaign_id).await?;
        let lock = db.lock_open_campaign_sql();
        let t = now();
        let mut case_ids: Vec<CaseId> = rows.iter().map(|(a, _)| a.case_id).collect();
        case_ids.sort_unstable();
        case_ids.dedup();
        let (results, responses) = on_tx!(self, c => {
            // Only while fieldwork runs, and held so that closing waits (see submit_through_links).
            let state: Option<String> = sqlx::query_scalar(lock).bind(campaign_id).fetch_optional(&mut *c).await?;
            if state.map(|s| decode_name("state", s)).transpose()? != Some(CampaignState::Fieldwork) {
                return Ok(vec![AttemptResult::default(); rows.len()]);
            }
            // The cases involved (only those of this campaign), and their histories.
            let mut cases: HashMap<CaseId, PlannedCase> = HashMap::new();
            let mut histories: HashMap<CaseId, Vec<(i64, Attempt)>> = HashMap::new();
            let mut known_keys: HashSet<String> = HashSet::new();
            for chunk in case_ids.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT c.id, c.campaign_id, c.village_id, c.rank, c.status, c.replaced_at FROM cases c WHERE c.campaign_id = ");
                q.push_bind(campaign_id).push(" AND c.id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                ids.push_unseparated(")");
                let found: Vec<(CaseId, CampaignId, VillageId, i64, String, Option<i64>)> = q.build_query_as().fetch_all(&mut *c).await?;
                for (id, campaign_id, village_id, rank, status, replaced_at) in found {
                    cases.insert(id, PlannedCase { campaign_id, village_id, rank, completed: decode_name::<CaseStatus>("status", status)? == CaseStatus::Completed, replaced: replaced_at.is_some() });
                }
                let mut q = sqlx::QueryBuilder::new("SELECT case_id, attempted_at, attempted_on, outcome, import_key FROM attempts WHERE case_id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                ids.push_unseparated(") ORDER BY case_id, attempted_at, id");
                let past: Vec<(CaseId, i64, String, String, Option<String>)> = q.build_query_as().fetch_all(&mut *c).await?;
                for (case_id, at, day, outcome, key) in past {
                    if let Some(outcome) = Outcome::parse(&outcome) {
                        histories.entry(case_id).or_default().push((at, Attempt { day, outcome }));
                    }
                    known_keys.extend(key);
                }
            }

            let mut results = Vec::with_capacity(rows.len());
            let mut new_attempts: Vec<&NewAttempt> = Vec::new();
            let mut dispositions: HashMap<CaseId, &'static str> = HashMap::new();
            let mut completed: Vec<CaseId> = Vec::new();
            let mut responses: Vec<&NewResponse> = Vec::new();
            let mut villages: HashMap<(CampaignId, VillageId), VillageCache> = HashMap::new();
            let mut planned_completes: HashMap<(CampaignId, VillageId), u64> = HashMap::new();
            for (a, response) in rows {
                let Some(case) = cases.get_mut(&a.case_id) else {
                    results.push(AttemptResult::default());
                    continue;
                };
                if let Some(key) = &a.import_key
                    && !known_keys.insert(key.clone())
                {
                    results.push(AttemptResult::default());
                    continue;
                }
                new_attempts.push(a);
                let mut result = AttemptResult { stored: true, ..AttemptResult::default() };
                if case.completed {
                    // The answer stands; the attempt is kept as history only.
                    results.push(result);
                    continue;
                }
                if let Some(response) = response {
                    case.completed = true;
                    completed.push(a.case_id);
                    dispositions.remove(&a.case_id);
                    responses.push(response);
                    *planned_completes.entry((case.campaign_id, case.village_id)).or_default() += 1;
                    if let Some(v) = villages.get_mut(&(case.campaign_id, case.village_id)) {
                        v.completes += 1;
                    }
                    results.push(result);
                    continue;
                }
                dispositions.insert(a.case_id, a.outcome.key());
                let history = histories.entry(a.case_id).or_default();
                // In time order, a new attempt after any recorded at the same time.
                let at = history.partition_point(|(t, _)| *t <= a.attempted_at);
                history.insert(at, (a.attempted_at, Attempt { day: a.attempted_on.clone(), outcome: a.outcome }));
                if case.replaced || !(a.outcome.is_final() || a.outcome.is_noncontact_attempt()) {
                    results.push(result);
                    continue;
                }
                let attempts: Vec<Attempt> = history.iter().map(|(_, x)| x.clone()).collect();
                let Some(reason) = replacement_reason(&rules, &attempts) else {
                    results.push(result);
                    continue;
                };
                let key = (case.campaign_id, case.village_id);
                if let std::collections::hash_map::Entry::Vacant(slot) = villages.entry(key) {
                    // Serialise releases per village (a row lock on PostgreSQL; SQLite has one writer).
                    let stratum: Option<(i64, i64, String)> = sqlx::query_as(
                        "UPDATE draw_strata SET size = size WHERE campaign_id = $1 AND village_id = $2 RETURNING population, size, ranked")
                        .bind(key.0).bind(key.1).fetch_optional(&mut *c).await?;
                    let (population, size, ranked) = stratum.ok_or(DbError::NotFound)?;
                    let max_rank: Option<i64> = sqlx::query_scalar("SELECT MAX(rank) FROM cases WHERE campaign_id = $1 AND village_id = $2")
                        .bind(key.0).bind(key.1).fetch_one(&mut *c).await?;
                    let completes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE campaign_id = $1 AND village_id = $2 AND status = 'completed'")
                        .bind(key.0).bind(key.1).fetch_one(&mut *c).await?;
                    let names: Vec<(String, Option<String>)> = sqlx::query_as(
                        "SELECT e.phone, e.name FROM roster_entries e JOIN rosters r ON r.id = e.roster_id AND r.is_current
                         WHERE r.campaign_id = $1 AND r.village_id = $2")
                        .bind(key.0).bind(key.1).fetch_all(&mut *c).await?;
                    // Completes planned earlier in this batch are not in the table yet.
                    let planned = planned_completes.get(&key).copied().unwrap_or(0);
                    slot.insert(VillageCache {
                        population: population as u64,
                        size: size as u64,
                        max_rank: max_rank.unwrap_or(0) as u64,
                        completes: completes as u64 + planned,
                        ranked: ranked.lines().map(str::to_string).collect(),
                        names: names.into_iter().filter_map(|(p, n)| n.map(|n| (p, n))).collect(),
                    });
                }
                let Some(v) = villages.get_mut(&key) else {
                    return Err(DbError::NotFound);
                };
                let state = VillageState {
                    population: v.population,
                    size: v.size,
                    released_ranks: vec![v.max_rank],
                    completes: v.completes,
                    pending_replacements: 1,
                };
                let rank = case.rank;
                case.replaced = true;
                sqlx::query("UPDATE cases SET replaced_at = $1 WHERE id = $2").bind(t).bind(a.case_id).execute(&mut *c).await?;
                // A replaced person's SMS link stops working: the replacement takes the place.
                sqlx::query("UPDATE invitations SET voided = TRUE WHERE case_id = $1 AND NOT used")
                    .bind(a.case_id).execute(&mut *c).await?;
                match next_release(&state) {
                    NextRelease::Rank(next) => {
                        let phone = v.ranked.get(next as usize - 1).cloned().unwrap_or_default();
                        let name = v.names.get(&phone).cloned();
                        let why = format!("replaces rank {rank}: {}", reason.key());
                        let case_id: CaseId = sqlx::query_scalar(
                            "INSERT INTO cases (campaign_id, village_id, rank, phone, name, released_at, release_reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                            .bind(key.0).bind(key.1).bind(next as i64).bind(&phone).bind(name).bind(t).bind(why)
                            .fetch_one(&mut *c).await?;
                        sqlx::query("INSERT INTO invitations (case_id) VALUES ($1)").bind(case_id).execute(&mut *c).await?;
                        v.max_rank = next;
                        result.released_rank = Some(next as i64);
                    }
                    NextRelease::ReserveExhausted => result.reserve_exhausted = true,
                    NextRelease::TargetReached | NextRelease::NothingPending => {}
                }
                results.push(result);
            }

            // Write what was planned, many rows per statement.
            for chunk in new_attempts.chunks(2000) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO attempts (case_id, attempted_at, attempted_on, outcome, callback_at, note, recorded_by, import_key) ");
                q.push_values(chunk, |mut b, a| {
                    b.push_bind(a.case_id).push_bind(a.attempted_at).push_bind(a.attempted_on.as_str())
                        .push_bind(a.outcome.key()).push_bind(a.callback_at).push_bind(a.note.as_deref())
                        .push_bind(a.recorded_by).push_bind(a.import_key.as_deref());
                });
                q.build().execute(&mut *c).await?;
            }
            let mut by_outcome: HashMap<&'static str, Vec<CaseId>> = HashMap::new();
            for (case_id, outcome) in &dispositions {
                by_outcome.entry(outcome).or_default().push(*case_id);
            }
            for (outcome, ids) in &by_outcome {
                for chunk in ids.chunks(1000) {
                    let mut q = sqlx::QueryBuilder::new("UPDATE cases SET disposition = ");
                    q.push_bind(*outcome).push(" WHERE id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(")");
                    q.build().execute(&mut *c).await?;
                }
            }
            for chunk in completed.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new("UPDATE invitations SET voided = TRUE WHERE NOT used AND case_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                q.build().execute(&mut *c).await?;
                let mut q = sqlx::QueryBuilder::new("UPDATE cases SET status = 'completed', disposition = 'complete' WHERE id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                q.build().execute(&mut *c).await?;
            }
            (results, responses)
        });
        // The answers join the mixer's pool in an order that says nothing about the rows.
        let mut responses = responses;
        {
            use rand::seq::SliceRandom;
            responses.shuffle(&mut rand::rng());
        }
        self.pool_answers(&responses).await?;
        Ok(results)
    }

    /// A phone interview: void the case's link, complete the case, put the answer into the
    /// mixer's pool and record the attempt, in the operation's transaction. False if the case was
    /// already answered (by link or phone) or declined, or fieldwork is not running.
    pub async fn submit_phone_interview(
        &mut self,
        db: &Db,
        case_id: CaseId,
        response: &NewResponse,
        recorded_by: AccountId,
    ) -> Result<bool, DbError> {
        let t = now();
        let lock = db.lock_open_campaign_sql();
        on_tx!(self, c => {
            let campaign_id: Option<CampaignId> = sqlx::query_scalar("SELECT campaign_id FROM cases WHERE id = $1")
                .bind(case_id).fetch_optional(&mut *c).await?;
            let Some(campaign_id) = campaign_id else {
                return Ok(false);
            };
            // The campaign first (held, so closing waits), then the invitation as the link's
            // submit does, so the two paths lock in the same order.
            let state: Option<String> = sqlx::query_scalar(lock).bind(campaign_id).fetch_optional(&mut *c).await?;
            if state.map(|s| decode_name("state", s)).transpose()? != Some(CampaignState::Fieldwork) {
                return Ok(false);
            }
            let voided = sqlx::query("UPDATE invitations SET voided = TRUE WHERE case_id = $1 AND NOT used AND NOT voided")
                .bind(case_id).execute(&mut *c).await?.rows_affected();
            if voided != 1 {
                return Ok(false);
            }
            let done = sqlx::query("UPDATE cases SET status = 'completed', disposition = 'complete' WHERE id = $1 AND status = 'open'")
                .bind(case_id).execute(&mut *c).await?.rows_affected();
            if done != 1 {
                return Ok(false);
            }
            sqlx::query("INSERT INTO attempts (case_id, attempted_at, attempted_on, outcome, recorded_by) VALUES ($1, $2, $3, 'complete', $4)")
                .bind(case_id).bind(t).bind(crate::domain::local_date(t)).bind(recorded_by).execute(&mut *c).await?;
        });
        self.pool_answers(&[response]).await?;
        Ok(true)
    }

    /// Put answers into the mixer's pool inside this transaction (see `mixer::pool_answer`).
    async fn pool_answers(&mut self, responses: &[&NewResponse]) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => {
                for r in responses {
                    super::mixer::pool_answer(t, r).await?;
                }
            }
            Tx::Postgres(t) => {
                for r in responses {
                    super::mixer::pool_answer(t, r).await?;
                }
            }
        }
        Ok(())
    }
}
