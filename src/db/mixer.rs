//! Storage side of mixing (docs/privacy.md): a submitted answer waits in `response_pool`,
//! keyed by village only; it reaches `responses` in a shuffled batch of at least k answers
//! of its village, written by a transaction that touches nothing else, so neither
//! PostgreSQL's `xmin`/`ctid`, SQLite's WAL and page order, nor the storage order of
//! `responses` pair an answer with the case, invitation or phone that gave it. When
//! fieldwork closes, the rest of the pool goes in and each village's responses are shuffled
//! once more as one batch. After every batch the traces the pool leaves are erased: SQLite
//! checkpoints and truncates its WAL (deleted rows are zeroed by `secure_delete`),
//! PostgreSQL rewrites the pool table (`VACUUM FULL`: a plain VACUUM leaves the bytes of
//! deleted rows in the pages).
//!
//! Which batches are due, and the campaigns' k, are decided by `fieldwork::mixer`.

use super::{Db, DbError, NewResponse, on_pool, on_writer};
use crate::domain::CampaignState;
use crate::ids::{CampaignId, VillageId};
use rand::seq::SliceRandom;

/// Answers waiting in the pool for one village and questionnaire.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Waiting {
    pub campaign_id: CampaignId,
    /// The campaign's state: `fieldwork`, or (after an interrupted close) a later one.
    pub state: CampaignState,
    pub village_id: VillageId,
    /// `recipients` or `panel`.
    pub questionnaire: String,
    pub count: i64,
}

/// One answer on its way through the mixer (nothing in it points to a person).
#[derive(sqlx::FromRow)]
struct Mixed {
    campaign_id: CampaignId,
    village_id: VillageId,
    questionnaire: String,
    form_id: String,
    form_version: String,
    form_sha256: String,
    answers: String,
    /// The duration bucket, carried as it is (`fieldwork::duration`).
    duration: String,
}

/// Most rows in one multi-row INSERT (9 parameters each, far below both databases' limits).
const INSERT_CHUNK: usize = 1000;
/// The most answers one mixing transaction moves: small enough that the writer it holds
/// is free again within milliseconds, large enough to mix a busy village in few steps.
const MIX_BATCH: u64 = 250;
/// The pause between two mixing transactions of a round.
const MIX_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// The PostgreSQL advisory lock that serialises mixing across servers sharing a database.
const MIX_LOCK: i64 = 0x6d69_7879_6d69_7831; // "miny" "mix1"

/// Put an answer into the pool, inside the caller's transaction (the one that uses the
/// link or completes the case). The row carries a random id and the village, nothing else
/// that could tell whose it is.
pub(super) async fn pool_answer<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    r: &NewResponse,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO response_pool (id, campaign_id, village_id, questionnaire, form_id, form_version, form_sha256, answers, duration)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(random_id())
    .bind(r.campaign_id)
    .bind(r.village_id)
    .bind(r.questionnaire.key())
    .bind(r.form_id.as_str())
    .bind(r.form_version.as_str())
    .bind(r.form_sha256.as_str())
    .bind(r.answers_json.as_str())
    .bind(r.duration.key())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// 128 random bits as hex: an id that says nothing about who or when.
fn random_id() -> String {
    crate::secrets::random_token()[..32].to_string()
}

/// Shuffle with the thread's CSPRNG (seeded from the operating system): nobody can
/// predict, or later reconstruct, the order a batch was written in.
fn shuffle(rows: &mut [Mixed]) {
    rows.shuffle(&mut rand::rng());
}

/// Insert rows into `responses` in the order given, with fresh random ids, many per
/// statement.
async fn insert_responses<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    rows: &[Mixed],
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO responses (id, campaign_id, village_id, questionnaire, form_id, form_version, form_sha256, answers, duration) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(random_id())
                .push_bind(r.campaign_id)
                .push_bind(r.village_id)
                .push_bind(r.questionnaire.as_str())
                .push_bind(r.form_id.as_str())
                .push_bind(r.form_version.as_str())
                .push_bind(r.form_sha256.as_str())
                .push_bind(r.answers.as_str())
                .push_bind(r.duration.as_str());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

const MIXED_COLUMNS: &str =
    "campaign_id, village_id, questionnaire, form_id, form_version, form_sha256, answers, duration";

impl Db {
    /// What waits in the pool, per campaign, village and questionnaire.
    pub async fn waiting_answers(&self) -> Result<Vec<Waiting>, DbError> {
        let sql = "SELECT p.campaign_id, k.state, p.village_id, p.questionnaire, COUNT(*) AS count
                   FROM response_pool p JOIN campaigns k ON k.id = p.campaign_id
                   GROUP BY p.campaign_id, k.state, p.village_id, p.questionnaire
                   ORDER BY p.campaign_id, p.village_id, p.questionnaire";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Answers of a campaign acknowledged so far, waiting or mixed, of one questionnaire.
    pub async fn count_answers(
        &self,
        campaign_id: CampaignId,
        questionnaire: crate::forms::Audience,
    ) -> Result<i64, DbError> {
        let sql = "SELECT (SELECT COUNT(*) FROM response_pool WHERE campaign_id = $1 AND questionnaire = $2)
                        + (SELECT COUNT(*) FROM responses WHERE campaign_id = $1 AND questionnaire = $2)";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign_id).bind(questionnaire.key()).fetch_one(p).await)?,
        )
    }

    /// Move each listed group's waiting answers (campaign, village, questionnaire) to
    /// `responses`, shuffled, in transactions that read and write nothing but the pool and
    /// `responses`. Each transaction moves at least `min` and at most [`MIX_BATCH`] answers
    /// of one group, taken from the pool in the order of their random ids (a random
    /// subset), so the single writer is never held long and submits keep flowing between
    /// batches. A group moves only while at least `min` answers wait in it when the
    /// transaction looks (another server may have mixed it meanwhile); fewer wait for more,
    /// or for the close. Answers arriving meanwhile wait for the next round, so a round's
    /// work is bounded. Returns the number of answers moved.
    pub async fn mix_groups(
        &self,
        groups: &[(CampaignId, VillageId, String, u64)],
    ) -> Result<u64, DbError> {
        let mut moved = 0u64;
        for (campaign_id, village_id, questionnaire, min) in groups {
            let min = (*min).max(1);
            let batch = i64::try_from(min.max(MIX_BATCH)).unwrap_or(i64::MAX);
            // What waited when the round began (read by its first transaction).
            let mut budget: Option<u64> = None;
            let mut group_moved = 0u64;
            while budget.is_none_or(|b| group_moved < b) {
                let n = on_writer!(self, p => {
                    let mut tx = p.begin().await?;
                    if matches!(self, Db::Postgres(_)) {
                        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIX_LOCK).execute(&mut *tx).await?;
                    }
                    let waiting: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM response_pool WHERE campaign_id = $1 AND village_id = $2 AND questionnaire = $3")
                        .bind(campaign_id).bind(village_id).bind(questionnaire.as_str()).fetch_one(&mut *tx).await?;
                    let waiting = u64::try_from(waiting).unwrap_or(0);
                    budget.get_or_insert(waiting);
                    if waiting < min {
                        0
                    } else {
                        let mut rows: Vec<Mixed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "DELETE FROM response_pool WHERE id IN (SELECT id FROM response_pool
                             WHERE campaign_id = $1 AND village_id = $2 AND questionnaire = $3 ORDER BY id LIMIT $4)
                             RETURNING {MIXED_COLUMNS}")))
                            .bind(campaign_id).bind(village_id).bind(questionnaire.as_str()).bind(batch)
                            .fetch_all(&mut *tx).await?;
                        shuffle(&mut rows);
                        insert_responses(&mut tx, &rows).await?;
                        tx.commit().await?;
                        rows.len() as u64
                    }
                });
                if n == 0 {
                    break;
                }
                moved += n;
                group_moved += n;
                // Let the submits that queued for the writer meanwhile go first.
                tokio::time::sleep(MIX_PAUSE).await;
            }
        }
        Ok(moved)
    }

    /// Close a campaign's fieldwork and mix its last answers, in one transaction: the state
    /// changes, every answer still waiting joins `responses`, and each village's responses
    /// are taken out and written back shuffled, with new ids, as one batch — so the whole
    /// village is one anonymity set, however the batches fell during fieldwork. With
    /// `close`, only a campaign in fieldwork is closed (false otherwise); without, the state
    /// is left alone (answers found waiting in a campaign already closed). Erases the
    /// traces afterwards.
    pub async fn close_and_mix(
        &self,
        campaign_id: CampaignId,
        close: bool,
        closed_at: i64,
    ) -> Result<bool, DbError> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            if matches!(self, Db::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIX_LOCK).execute(&mut *tx).await?;
            }
            if close {
                // On PostgreSQL this waits for every submit holding the campaign FOR SHARE,
                // so no answer can join the pool after the last batch below.
                let n = sqlx::query("UPDATE campaigns SET state = 'closed', fieldwork_closed_at = $1 WHERE id = $2 AND state = 'fieldwork'")
                    .bind(closed_at).bind(campaign_id).execute(&mut *tx).await?.rows_affected();
                if n != 1 {
                    return Ok(false);
                }
            }
            let villages: Vec<VillageId> = sqlx::query_scalar(
                "SELECT village_id FROM response_pool WHERE campaign_id = $1
                 UNION SELECT village_id FROM responses WHERE campaign_id = $1 ORDER BY 1")
                .bind(campaign_id).fetch_all(&mut *tx).await?;
            for village_id in villages {
                let mut rows: Vec<Mixed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM response_pool WHERE campaign_id = $1 AND village_id = $2 RETURNING {MIXED_COLUMNS}")))
                    .bind(campaign_id).bind(village_id).fetch_all(&mut *tx).await?;
                let stored: Vec<Mixed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM responses WHERE campaign_id = $1 AND village_id = $2 RETURNING {MIXED_COLUMNS}")))
                    .bind(campaign_id).bind(village_id).fetch_all(&mut *tx).await?;
                rows.extend(stored);
                shuffle(&mut rows);
                insert_responses(&mut tx, &rows).await?;
            }
            tx.commit().await?;
        });
        // The last batch is the one an attacker would look at: insist a while (a reader
        // may hold the WAL for a moment) rather than wait for the next batch.
        for _ in 0..40 {
            if self.erase_mixing_traces(true).await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        Ok(true)
    }

    /// After a batch: remove what the storage engine still holds of the pool's rows and of
    /// the order things were written in. SQLite: a checkpoint that copies the WAL into the
    /// database and truncates it. PostgreSQL: `VACUUM FULL` of the pool (and, after a close,
    /// of `responses`), which rewrites the table into a new file. Failures are logged and
    /// retried at the next batch; they lose nothing. True when everything was erased.
    pub async fn erase_mixing_traces(&self, responses_too: bool) -> bool {
        let result: Result<bool, sqlx::Error> = async {
            match self {
                Db::Sqlite(s) => {
                    // First copy the WAL without holding up writers. Then truncate it from the
                    // writer's own connection: a truncation from another connection would
                    // leave the writer's read snapshot stale, and its next write would fail
                    // with "database is locked" instead of waiting. The truncation waits for
                    // readers only briefly; if one is busy it happens at the next batch.
                    let started = std::time::Instant::now();
                    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&s.read)
                        .await?;
                    let passive = started.elapsed();
                    let mut conn = s.write.acquire().await?;
                    let acquired = started.elapsed();
                    sqlx::query("PRAGMA busy_timeout = 250")
                        .execute(&mut *conn)
                        .await?;
                    let truncated: Result<(i64, i64, i64), sqlx::Error> =
                        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                            .fetch_one(&mut *conn)
                            .await;
                    let restore = format!(
                        "PRAGMA busy_timeout = {}",
                        super::SQLITE_BUSY_TIMEOUT.as_millis()
                    );
                    sqlx::query(sqlx::AssertSqlSafe(restore))
                        .execute(&mut *conn)
                        .await?;
                    tracing::debug!(?passive, ?acquired, total = ?started.elapsed(), "WAL checkpoints");
                    if truncated?.0 != 0 {
                        tracing::debug!("WAL checkpoint busy; truncated at the next batch");
                        return Ok(false);
                    }
                }
                Db::Postgres(p) => {
                    sqlx::query("VACUUM FULL response_pool").execute(p).await?;
                    if responses_too {
                        sqlx::query("VACUUM FULL responses").execute(p).await?;
                    }
                }
            }
            Ok(true)
        }
        .await;
        result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not erase the mixer's traces; retried at the next batch");
            false
        })
    }
}
