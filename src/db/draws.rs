//! The draw's state: size rule, freeze, seed (commitment and reveal, or public event),
//! the published record and each village's ranked list. Every change is a conditional
//! update on the campaign's state, so two people clicking at once cannot both win.

use super::{Db, DbError, Tx, on_pool, on_tx};
use crate::domain::now;
use crate::ids::{AccountId, CampaignId, VillageId};

/// The seed of a campaign's draw, as far as it has come.
#[derive(Clone, Debug, Default, sqlx::FromRow, serde::Serialize)]
pub struct SeedState {
    pub commitment: Option<String>,
    pub committed_at: Option<i64>,
    pub seed: Option<String>,
    pub source: Option<String>,
    pub entered_at: Option<i64>,
}

/// A village's frozen frame: its current roster's unique phones, in byte order.
#[derive(Clone, Debug)]
pub struct VillageFrame {
    pub village_id: VillageId,
    pub code: String,
    pub phones: Vec<String>,
}

/// A village's line of the draw, with its ranked phones (`ranked`: each + "\n").
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StratumRow {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    pub population: i64,
    pub size: i64,
    pub fingerprint: String,
    pub list_sha256: String,
    pub ranked: String,
}

impl StratumRow {
    /// (rank, phone, primary?) in rank order.
    pub fn ranks(&self) -> impl Iterator<Item = (i64, &str, bool)> + '_ {
        self.ranked
            .lines()
            .enumerate()
            .map(|(i, phone)| (i as i64 + 1, phone, (i as i64) < self.size))
    }
}

impl Db {
    /// Set the sample-size rule, in a transaction of its own (setting up; see
    /// [`Tx::set_size_rule`]).
    pub async fn set_size_rule(
        &self,
        campaign_id: CampaignId,
        rule_json: &str,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin().await?;
        let set = tx.set_size_rule(campaign_id, rule_json).await?;
        tx.commit().await?;
        Ok(set)
    }

    /// Freeze the rosters, in a transaction of its own (setting up; see [`Tx::freeze`]).
    pub async fn freeze(
        &self,
        campaign_id: CampaignId,
        frame_fingerprint: impl Fn(&[(String, String)]) -> String,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin().await?;
        let frozen = tx.freeze(campaign_id, frame_fingerprint).await?;
        tx.commit().await?;
        Ok(frozen.is_some())
    }

    /// Enter the seed, in a transaction of its own (setting up; see [`Tx::enter_seed`]).
    pub async fn enter_seed(
        &self,
        campaign_id: CampaignId,
        seed: &str,
        commitment_of_seed: &str,
        by: AccountId,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin().await?;
        let entered = tx
            .enter_seed(campaign_id, seed, commitment_of_seed, by)
            .await?;
        tx.commit().await?;
        Ok(entered)
    }

    pub async fn seed_state(&self, campaign_id: CampaignId) -> Result<SeedState, DbError> {
        let sql = "SELECT commitment, committed_at, seed, source, entered_at FROM seeds WHERE campaign_id = $1";
        let row: Option<SeedState> =
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_optional(p).await)?;
        Ok(row.unwrap_or_default())
    }

    /// Every village's frozen frame in the campaign, by village code: with participation
    /// `accepted`, only the villages whose application was accepted (as the freeze).
    pub async fn campaign_frames(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<VillageFrame>, DbError> {
        let sql = "SELECT r.village_id, v.code, e.phone FROM roster_entries e
                   JOIN rosters r ON r.id = e.roster_id AND r.is_current
                   JOIN villages v ON v.id = r.village_id
                   WHERE r.campaign_id = $1
                   AND (EXISTS (SELECT 1 FROM campaigns pc WHERE pc.id = r.campaign_id AND pc.participation = 'all')
                        OR EXISTS (SELECT 1 FROM applications pa WHERE pa.campaign_id = r.campaign_id
                                   AND pa.village_id = r.village_id AND pa.decision = 'accepted'))
                   ORDER BY v.code";
        let rows: Vec<(VillageId, String, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?;
        let mut frames: Vec<VillageFrame> = Vec::new();
        for (village_id, code, phone) in rows {
            match frames.last_mut() {
                Some(f) if f.village_id == village_id => f.phones.push(phone),
                _ => frames.push(VillageFrame {
                    village_id,
                    code,
                    phones: vec![phone],
                }),
            }
        }
        for f in &mut frames {
            f.phones.sort_unstable();
        }
        Ok(frames)
    }

    /// The published draw record (JSON) and when it was drawn.
    pub async fn draw_record(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Option<(String, i64)>, DbError> {
        let sql = "SELECT record, drawn_at FROM draws WHERE campaign_id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_optional(p).await)?)
    }

    /// Each village's ranked list, by village code (for the surveyor only).
    pub async fn strata(
        &self,
        campaign_id: CampaignId,
        village_id: Option<VillageId>,
    ) -> Result<Vec<StratumRow>, DbError> {
        let sql = "SELECT s.village_id, v.code, v.name, s.population, s.size, s.fingerprint, s.list_sha256, s.ranked
                   FROM draw_strata s JOIN villages v ON v.id = s.village_id
                   WHERE s.campaign_id = $1 AND ($2 IS NULL OR s.village_id = $2) ORDER BY v.code";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).bind(village_id).fetch_all(p).await)?,
        )
    }

    /// The villages in the campaign's draw (without their ranked lists).
    pub async fn drawn_villages(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Vec<super::Village>, DbError> {
        let sql = "SELECT v.id, v.code, v.name FROM draw_strata s JOIN villages v ON v.id = s.village_id WHERE s.campaign_id = $1 ORDER BY v.code";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).fetch_all(p).await)?)
    }

    /// Names from the village's current roster, by phone (shown beside the ranked phones).
    pub async fn roster_names(
        &self,
        campaign_id: CampaignId,
        village_id: VillageId,
    ) -> Result<std::collections::HashMap<String, String>, DbError> {
        let sql = "SELECT e.phone, e.name FROM roster_entries e JOIN rosters r ON r.id = e.roster_id AND r.is_current
                   WHERE r.campaign_id = $1 AND r.village_id = $2 AND e.name IS NOT NULL";
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(sql).bind(campaign_id).bind(village_id).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }
}

impl Tx {
    /// Set the sample-size rule (JSON of `sampling::SizeParameters`); only while collecting.
    pub async fn set_size_rule(
        &mut self,
        campaign_id: CampaignId,
        rule_json: &str,
    ) -> Result<bool, DbError> {
        let sql = "UPDATE campaigns SET size_rule = $1 WHERE id = $2 AND state = 'collecting'";
        let n = on_tx!(self, c => sqlx::query(sql).bind(rule_json).bind(campaign_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Freeze the rosters: no upload is accepted afterwards. Records the frame fingerprint
    /// computed by `frame_fingerprint` from the current rosters' (code, fingerprint) pairs
    /// and returns it; `None` if the campaign was not collecting.
    pub async fn freeze(
        &mut self,
        campaign_id: CampaignId,
        frame_fingerprint: impl Fn(&[(String, String)]) -> String,
    ) -> Result<Option<String>, DbError> {
        let fingerprint = on_tx!(self, c => {
            let n = sqlx::query("UPDATE campaigns SET state = 'frozen', frozen_at = $1 WHERE id = $2 AND state = 'collecting'")
                .bind(now()).bind(campaign_id).execute(&mut *c).await?.rows_affected();
            if n != 1 {
                return Ok(None);
            }
            // Inside the same transaction as the state change: no upload can slip in between.
            let pairs: Vec<(String, String)> = sqlx::query_as(
                "SELECT v.code, r.fingerprint FROM rosters r JOIN villages v ON v.id = r.village_id
                 WHERE r.campaign_id = $1 AND r.is_current
                 AND (EXISTS (SELECT 1 FROM campaigns pc WHERE pc.id = r.campaign_id AND pc.participation = 'all')
                      OR EXISTS (SELECT 1 FROM applications pa WHERE pa.campaign_id = r.campaign_id
                                 AND pa.village_id = r.village_id AND pa.decision = 'accepted'))
                 ORDER BY v.code")
                .bind(campaign_id).fetch_all(&mut *c).await?;
            let fingerprint = frame_fingerprint(&pairs);
            sqlx::query("UPDATE campaigns SET frame_fingerprint = $1 WHERE id = $2")
                .bind(&fingerprint).bind(campaign_id).execute(&mut *c).await?;
            fingerprint
        });
        Ok(Some(fingerprint))
    }

    /// Register the seed's commitment: only before the freeze, and only once. On false,
    /// drop the transaction (it may hold an empty seeds row).
    pub async fn commit_seed(
        &mut self,
        campaign_id: CampaignId,
        commitment: &str,
        by: AccountId,
    ) -> Result<bool, DbError> {
        on_tx!(self, c => {
            // Lock the campaign row first (a write), so the freeze cannot pass in between.
            let open = sqlx::query("UPDATE campaigns SET state = state WHERE id = $1 AND state = 'collecting'")
                .bind(campaign_id).execute(&mut *c).await?.rows_affected() == 1;
            if !open {
                return Ok(false);
            }
            sqlx::query("INSERT INTO seeds (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(campaign_id).execute(&mut *c).await?;
            let n = sqlx::query("UPDATE seeds SET commitment = $1, committed_at = $2, committed_by = $3 WHERE campaign_id = $4 AND commitment IS NULL")
                .bind(commitment).bind(now()).bind(by).bind(campaign_id).execute(&mut *c).await?.rows_affected();
            if n != 1 {
                return Ok(false);
            }
        });
        Ok(true)
    }

    /// Enter the seed after the freeze: `commitment_of_seed` must equal the registered
    /// commitment if there is one (then the source is "reveal"; else "public").
    /// Returns false if the campaign is not frozen, a seed is already in, or it does not
    /// match; then drop the transaction.
    pub async fn enter_seed(
        &mut self,
        campaign_id: CampaignId,
        seed: &str,
        commitment_of_seed: &str,
        by: AccountId,
    ) -> Result<bool, DbError> {
        on_tx!(self, c => {
            let frozen = sqlx::query("UPDATE campaigns SET state = state WHERE id = $1 AND state = 'frozen'")
                .bind(campaign_id).execute(&mut *c).await?.rows_affected() == 1;
            if !frozen {
                return Ok(false);
            }
            sqlx::query("INSERT INTO seeds (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(campaign_id).execute(&mut *c).await?;
            let n = sqlx::query(
                "UPDATE seeds SET seed = $1, entered_at = $2, entered_by = $3,
                        source = CASE WHEN commitment IS NULL THEN 'public' ELSE 'reveal' END
                 WHERE campaign_id = $4 AND seed IS NULL AND (commitment IS NULL OR commitment = $5)")
                .bind(seed).bind(now()).bind(by).bind(campaign_id).bind(commitment_of_seed)
                .execute(&mut *c).await?.rows_affected();
            if n != 1 {
                return Ok(false);
            }
        });
        Ok(true)
    }

    /// Store the draw and move the campaign to `drawn`; false if it was not frozen or
    /// already drawn. `strata`: (village id, population, size, fingerprint, list_sha256, ranked).
    pub async fn save_draw(
        &mut self,
        campaign_id: CampaignId,
        record_json: &str,
        strata: &[(VillageId, i64, i64, String, String, String)],
        by: AccountId,
    ) -> Result<bool, DbError> {
        on_tx!(self, c => {
            let n = sqlx::query("UPDATE campaigns SET state = 'drawn' WHERE id = $1 AND state = 'frozen'")
                .bind(campaign_id).execute(&mut *c).await?.rows_affected();
            if n != 1 {
                return Ok(false);
            }
            sqlx::query("INSERT INTO draws (campaign_id, record, drawn_at, drawn_by) VALUES ($1, $2, $3, $4)")
                .bind(campaign_id).bind(record_json).bind(now()).bind(by).execute(&mut *c).await?;
            for (village_id, population, size, fingerprint, list_sha256, ranked) in strata {
                sqlx::query("INSERT INTO draw_strata (campaign_id, village_id, population, size, fingerprint, list_sha256, ranked) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(campaign_id).bind(village_id).bind(population).bind(size)
                    .bind(fingerprint).bind(list_sha256).bind(ranked)
                    .execute(&mut *c).await?;
            }
        });
        Ok(true)
    }

    /// The audit head (`<entry id>:<hash>`, as [`Db::audit_head`]) that the next entry of
    /// this transaction will chain to. Appends by others wait until this transaction ends,
    /// so the head stays the one before this transaction's own entry.
    pub async fn audit_head(&mut self, db: &Db) -> Result<String, DbError> {
        let (next, prev_hash, _) = self.next_audit_slot(db).await?;
        Ok(format!("{}:{prev_hash}", next - 1))
    }
}
