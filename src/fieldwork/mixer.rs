//! The mixer (docs/privacy.md): a background task that moves waiting answers from the pool
//! to `responses` once a village has at least k of them (the campaign's small-cell
//! threshold from its pinned scheme), shuffled, then erases the pool's traces. It wakes
//! when poked after a submit, and every few seconds to pick up answers another server put
//! into a shared database. Answers found waiting in a campaign that is no longer in
//! fieldwork (its close was interrupted) are mixed into the village's responses at once.

use crate::db::{Db, Waiting};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the mixer looks without being poked.
const SWEEP: Duration = Duration::from_secs(5);
/// The shortest time between two batches: under load, one batch (and one WAL truncation)
/// per second rather than one per submit.
const MIN_GAP: Duration = Duration::from_secs(1);

/// A handle to the mixing task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Mixer(Arc<Notify>);

impl Mixer {
    /// Start the mixing task on the current Tokio runtime.
    pub fn start(db: Db) -> Self {
        let notify = Arc::new(Notify::new());
        let wake = notify.clone();
        tokio::spawn(async move {
            let mut ks: HashMap<i64, u64> = HashMap::new();
            // Traces of a batch that could not be erased yet (a busy WAL), retried.
            let mut unerased = false;
            loop {
                tokio::select! {
                    _ = wake.notified() => {}
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
        Mixer(notify)
    }

    /// Tell the mixer an answer joined the pool.
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

/// The groups that are due: (campaign, village, questionnaire, k) for every group of a
/// campaign in fieldwork with at least k answers waiting. Pure, for tests.
pub fn due_groups(waiting: &[Waiting], k_of: &HashMap<i64, u64>) -> Vec<(i64, i64, String, u64)> {
    waiting
        .iter()
        .filter(|w| w.state == "fieldwork")
        .filter_map(|w| {
            let k = *k_of.get(&w.campaign_id)?;
            (u64::try_from(w.count).unwrap_or(0) >= k.max(1)).then(|| {
                (
                    w.campaign_id,
                    w.village_id,
                    w.questionnaire.clone(),
                    k.max(1),
                )
            })
        })
        .collect()
}

/// One round: mix every due group in one batch, and finish interrupted closes. The caller
/// erases the batch's traces ([`Db::erase_mixing_traces`]).
pub async fn mix_due(db: &Db, ks: &mut HashMap<i64, u64>) -> anyhow::Result<u64> {
    let waiting = db.waiting_answers().await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut finished = Vec::new();
    for w in &waiting {
        if w.state != "fieldwork" {
            finished.push(w.campaign_id);
        } else if let std::collections::hash_map::Entry::Vacant(slot) = ks.entry(w.campaign_id) {
            let forms = crate::results::report::pinned_forms(db, w.campaign_id).await?;
            slot.insert(u64::from(forms.scheme.k));
        }
    }
    finished.dedup();
    for campaign in finished {
        tracing::info!(
            campaign,
            "answers waiting in a closed campaign: mixing them in"
        );
        db.close_and_mix(campaign, false, crate::domain::now())
            .await?;
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

    fn w(campaign: i64, state: &str, village: i64, count: i64) -> Waiting {
        Waiting {
            campaign_id: campaign,
            state: state.into(),
            village_id: village,
            questionnaire: "recipients".into(),
            count,
        }
    }

    #[test]
    fn a_village_is_mixed_only_with_at_least_k_answers_waiting() {
        let ks = HashMap::from([(1, 5), (2, 3)]);
        let waiting = [
            w(1, "fieldwork", 10, 4),
            w(1, "fieldwork", 11, 5),
            w(2, "fieldwork", 20, 3),
            w(3, "fieldwork", 30, 50), // k unknown: left waiting
            w(4, "closed", 40, 50),    // finished by close_and_mix, not here
        ];
        let due = due_groups(&waiting, &ks);
        assert_eq!(
            due,
            vec![
                (1, 11, "recipients".into(), 5),
                (2, 20, "recipients".into(), 3)
            ]
        );
    }
}
