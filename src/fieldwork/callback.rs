//! 回访: the call-back list (algorithm callback-v1, `sampling::callback`) with what was
//! recorded for each case. The surveyor calls each listed case back only to confirm they
//! took part; the commission sees per village how many were listed, confirmed, denied or
//! unreachable (docs/fieldwork.md, 质量检查与回访). The village sees none of it.

use crate::db::{CaseRow, Db, DbError};
use crate::domain::CaseStatus;
use crate::ids::{CampaignId, CaseId, VillageId};
use crate::sampling::Seed;
use crate::sampling::callback::callback_sample;
use std::collections::BTreeMap;

/// What the surveyor says first on a call-back: confirm taking part, never the answers.
pub const SCRIPT: &str = "只核实您是否参加过调查，不问您怎么答的";

/// The outcome of a call-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOutcome {
    /// 确认参加过.
    Confirmed,
    /// 说没参加过: a flag for the commission.
    Denied,
    /// 联系不上.
    Unreachable,
}

impl CallbackOutcome {
    pub const ALL: [CallbackOutcome; 3] = [
        CallbackOutcome::Confirmed,
        CallbackOutcome::Denied,
        CallbackOutcome::Unreachable,
    ];

    /// The stored value (`callbacks.outcome`).
    pub fn key(self) -> &'static str {
        match self {
            CallbackOutcome::Confirmed => "confirmed",
            CallbackOutcome::Denied => "denied",
            CallbackOutcome::Unreachable => "unreachable",
        }
    }

    pub fn parse(key: &str) -> Option<CallbackOutcome> {
        Self::ALL.into_iter().find(|o| o.key() == key)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CallbackOutcome::Confirmed => "确认参加过",
            CallbackOutcome::Denied => "说没参加过",
            CallbackOutcome::Unreachable => "联系不上",
        }
    }
}

/// What the call-backs of a village came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallbackCounts {
    /// Cases on the village's call-back list.
    pub sampled: u64,
    pub confirmed: u64,
    pub denied: u64,
    pub unreachable: u64,
}

/// A case on the call-back list and what was recorded for it.
#[derive(Debug, Clone)]
pub struct CallbackCase {
    pub case: CaseRow,
    pub outcome: Option<CallbackOutcome>,
}

/// A village's call-back list.
#[derive(Debug, Clone)]
pub struct VillageCallbacks {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    /// Completed cases of the village.
    pub completes: usize,
    /// In call-back order; then any case recorded earlier that a later complete pushed off
    /// the list (what was recorded is never dropped).
    pub cases: Vec<CallbackCase>,
}

impl VillageCallbacks {
    /// Listed, confirmed, denied, unreachable.
    pub fn counts(&self) -> CallbackCounts {
        let count = |o| self.cases.iter().filter(|c| c.outcome == Some(o)).count() as u64;
        CallbackCounts {
            sampled: self.cases.len() as u64,
            confirmed: count(CallbackOutcome::Confirmed),
            denied: count(CallbackOutcome::Denied),
            unreachable: count(CallbackOutcome::Unreachable),
        }
    }
}

/// Every drawn village's call-back list at `percent` of its completes, by village code.
/// Empty before the draw's seed is known.
pub async fn callback_lists(
    db: &Db,
    campaign_id: CampaignId,
    percent: u32,
) -> Result<Vec<VillageCallbacks>, DbError> {
    let Some(seed) = db
        .seed_state(campaign_id)
        .await?
        .seed
        .and_then(|s| Seed::parse(&s).ok())
    else {
        return Ok(Vec::new());
    };
    let recorded: BTreeMap<CaseId, CallbackOutcome> = db
        .callbacks(campaign_id)
        .await?
        .into_iter()
        .filter_map(|r| CallbackOutcome::parse(&r.outcome).map(|o| (r.case_id, o)))
        .collect();
    let cases = db.cases(campaign_id, None).await?;
    let mut out = Vec::new();
    for s in db.strata(campaign_id, None).await? {
        let completed: Vec<&CaseRow> = cases
            .iter()
            .filter(|c| c.village_id == s.village_id && c.status == CaseStatus::Completed)
            .collect();
        let ranks: Vec<u64> = completed
            .iter()
            .filter_map(|c| u64::try_from(c.rank).ok())
            .collect();
        let population = u64::try_from(s.population).unwrap_or(0);
        let listed = callback_sample(&seed, &s.code, population, &ranks, percent);
        let by_rank = |r: u64| {
            completed
                .iter()
                .find(|c| u64::try_from(c.rank).ok() == Some(r))
        };
        let mut list: Vec<CallbackCase> = listed
            .iter()
            .filter_map(|r| by_rank(*r))
            .map(|c| CallbackCase {
                case: (*c).clone(),
                outcome: recorded.get(&c.id).copied(),
            })
            .collect();
        for c in &completed {
            if let Some(o) = recorded.get(&c.id)
                && !list.iter().any(|l| l.case.id == c.id)
            {
                list.push(CallbackCase {
                    case: (*c).clone(),
                    outcome: Some(*o),
                });
            }
        }
        out.push(VillageCallbacks {
            village_id: s.village_id,
            code: s.code.clone(),
            name: s.name.clone(),
            completes: completed.len(),
            cases: list,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_keys() {
        for o in CallbackOutcome::ALL {
            assert_eq!(CallbackOutcome::parse(o.key()), Some(o));
        }
        assert_eq!(CallbackOutcome::parse("maybe"), None);
    }
}
