//! The mixer (docs/privacy.md): a background task that moves waiting answers from the pool
//! to `responses` once a village has at least k of them (the campaign's small-cell
//! threshold from its pinned scheme), shuffled, then erases the pool's traces. It wakes
//! when poked after a submit, and every few seconds to pick up answers another server put
//! into a shared database. Answers found waiting in a campaign that is no longer in
//! fieldwork (its close was interrupted) are mixed into the village's responses at once.

use crate::db::{Db, Waiting};
use crate::domain::CampaignState;
use crate::ids::{CampaignId, VillageId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// How often the mixer looks without being poked.
const SWEEP: Duration = Duration::from_secs(5);
/// The shortest time between two batches: under load, one batch (and one WAL truncation)
/// per second rather than one per submit.
const MIN_GAP: Duration = Duration::from_secs(1);

/// The fewest answers moved together, whatever the scheme's k: with k = 1 (small cells
/// shown) an answer would otherwise be stored alone, in the order it came.
pub const MIX_FLOOR: u64 = 5;

/// A handle to the mixing task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Mixer(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    wake: Notify,
    /// A close (or a crash before this start) may have left traces of the responses'
    /// order behind: erase them, pool and responses, until that succeeds.
    erase_all: AtomicBool,
}

impl Mixer {
    /// Start the mixing task on the current Tokio runtime.
    pub fn start(db: Db) -> Self {
        let shared = Arc::new(Shared {
            wake: Notify::new(),
            erase_all: AtomicBool::new(true),
        });
        let task = shared.clone();
        tokio::spawn(async move {
            let mut ks: HashMap<CampaignId, u64> = HashMap::new();
            // Traces of a batch that could not be erased yet (a busy WAL), retried.
            let mut unerased = false;
            loop {
                if task.erase_all.swap(false, Ordering::SeqCst)
                    && !db.erase_mixing_traces(true).await
                {
                    task.erase_all.store(true, Ordering::SeqCst);
                }
                tokio::select! {
                    _ = task.wake.notified() => {}
                    _ = tokio::time::sleep(SWEEP) => {}
                }
                let started = std::time::Instant::now();
                match mix_due(&db, &mut ks).await {
                    Ok(moved) => {
                        unerased |= moved > 0;
                        if moved > 0 {
                            tracing::debug!(moved, took = ?started.elapsed(), "answers mixed");
                        }
                    }
                    Err(e) => tracing::warn!(
                        error = format!("{e:#}"),
                        "mixing failed; the answers wait in the pool and are retried"
                    ),
                }
                if unerased {
                    unerased = !db.erase_mixing_traces(false).await;
                }
                tokio::time::sleep(MIN_GAP).await;
            }
        });
        Mixer(shared)
    }

    /// Tell the mixer an answer joined the pool.
    pub fn poke(&self) {
        self.0.wake.notify_one();
    }

    /// Tell the mixer a campaign was closed: if the close could not erase its traces (a
    /// busy reader), the mixer keeps trying.
    pub fn closed(&self) {
        self.0.erase_all.store(true, Ordering::SeqCst);
        self.0.wake.notify_one();
    }
}

/// The groups that are due: (campaign, village, questionnaire, least) for every group of a
/// campaign in fieldwork with at least `least` = max(k, [`MIX_FLOOR`]) answers waiting.
/// Pure, for tests.
pub fn due_groups(
    waiting: &[Waiting],
    k_of: &HashMap<CampaignId, u64>,
) -> Vec<(CampaignId, VillageId, String, u64)> {
    waiting
        .iter()
        .filter(|w| w.state == CampaignState::Fieldwork)
        .filter_map(|w| {
            let least = k_of.get(&w.campaign_id)?.max(&MIX_FLOOR);
            (u64::try_from(w.count).unwrap_or(0) >= *least)
                .then(|| (w.campaign_id, w.village_id, w.questionnaire.clone(), *least))
        })
        .collect()
}

/// One round: mix every due group in one batch, and finish interrupted closes. The caller
/// erases the batch's traces ([`Db::erase_mixing_traces`]).
pub async fn mix_due(db: &Db, ks: &mut HashMap<CampaignId, u64>) -> anyhow::Result<u64> {
    let waiting = db.waiting_answers().await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut finished = Vec::new();
    for w in &waiting {
        if w.state != CampaignState::Fieldwork {
            finished.push(w.campaign_id);
        } else if let std::collections::hash_map::Entry::Vacant(slot) = ks.entry(w.campaign_id) {
            // One campaign's unreadable forms must not stop the mixing of the others: its
            // answers wait (safe, and mixed at its close) and the error is logged each round.
            match crate::fieldwork::pinned_forms(db, w.campaign_id).await {
                Ok(forms) => {
                    slot.insert(u64::from(forms.scheme.k));
                }
                Err(e) => tracing::warn!(
                    campaign = w.campaign_id.0,
                    error = format!("{e:#}"),
                    "cannot read the campaign's pinned scheme; its answers wait in the pool"
                ),
            }
        }
    }
    finished.dedup();
    for campaign in finished {
        tracing::info!(
            campaign = campaign.0,
            "answers waiting in a closed campaign: mixing them in"
        );
        if let Err(e) = db
            .close_and_mix(campaign, false, crate::domain::now())
            .await
        {
            tracing::warn!(campaign = campaign.0, error = %e, "could not mix a closed campaign's answers; retried");
        }
    }
    let due = due_groups(&waiting, ks);
    if due.is_empty() {
        return Ok(0);
    }
    Ok(db.mix_groups(&due).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(campaign: i64, state: CampaignState, village: i64, count: i64) -> Waiting {
        Waiting {
            campaign_id: CampaignId(campaign),
            state,
            village_id: VillageId(village),
            questionnaire: "recipients".into(),
            count,
        }
    }

    #[test]
    fn a_village_is_mixed_only_with_at_least_k_answers_waiting() {
        use CampaignState::{Closed, Fieldwork};
        let ks = HashMap::from([(CampaignId(1), 5), (CampaignId(2), 7), (CampaignId(5), 1)]);
        let waiting = [
            w(1, Fieldwork, 10, 4),
            w(1, Fieldwork, 11, 5),
            w(2, Fieldwork, 20, 6),
            w(2, Fieldwork, 21, 7),
            w(3, Fieldwork, 30, 50), // k unknown: left waiting
            w(4, Closed, 40, 50),    // finished by close_and_mix, not here
            w(5, Fieldwork, 50, 4),  // k = 1, but never fewer than MIX_FLOOR together
            w(5, Fieldwork, 51, 5),
        ];
        let due = due_groups(&waiting, &ks);
        assert_eq!(
            due,
            vec![
                (CampaignId(1), VillageId(11), "recipients".into(), 5),
                (CampaignId(2), VillageId(21), "recipients".into(), 7),
                (CampaignId(5), VillageId(51), "recipients".into(), 5)
            ]
        );
    }
}
