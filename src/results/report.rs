//! A campaign's results read from the database: each village's responses are folded into
//! its tallies and item 16, one village at a time, so memory grows with the number of
//! villages, never with the number of responses.

use crate::db::{Db, FrameSize};
use crate::forms::{Answer, Answers, Audience, Form, FormSet, Kind, Method, Scheme};
use crate::ids::{CampaignId, VillageId};
use crate::results::item16::{Figure, Item16, PanelRatings, scale_step};
use crate::results::tally::{FormTally, RateRow, Scope, TownRow, town_rates};
use anyhow::{Context, anyhow};

/// One village's results.
#[derive(Debug, Clone)]
pub struct VillageResults {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    /// N: the village's frame size at the freeze.
    pub frame: u64,
    pub recipients: FormTally,
    pub panel: FormTally,
    pub item16: Item16,
}

/// Every drawn village's results, by village code.
#[derive(Debug, Clone)]
pub struct CampaignResults {
    pub villages: Vec<VillageResults>,
    /// The scheme's small-cell threshold.
    pub k: u64,
}

impl CampaignResults {
    /// The stratified town-wide rates of one questionnaire.
    pub fn town_rates(&self, audience: Audience) -> Vec<TownRow> {
        let villages: Vec<(u64, &FormTally)> = self
            .villages
            .iter()
            .map(|v| (v.frame, v.tally(audience)))
            .collect();
        town_rates(&villages, audience == Audience::Recipients, self.k)
    }

    /// One village by id.
    pub fn village(&self, village_id: VillageId) -> Option<&VillageResults> {
        self.villages.iter().find(|v| v.village_id == village_id)
    }
}

impl VillageResults {
    /// The tally of one questionnaire.
    pub fn tally(&self, audience: Audience) -> &FormTally {
        match audience {
            Audience::Recipients => &self.recipients,
            Audience::Panel => &self.panel,
        }
    }

    /// The village's satisfaction rates for one questionnaire (suppressed below k).
    pub fn rates(&self, audience: Audience, k: u64) -> Vec<RateRow> {
        let frame = (audience == Audience::Recipients).then_some(self.frame);
        self.tally(audience).rates(frame, k)
    }
}

/// Folds one village's stored responses into its results.
pub fn fold_village(
    frame: &FrameSize,
    responses: &[(String, String)],
    forms: &FormSet,
) -> anyhow::Result<VillageResults> {
    let mut recipients = FormTally::new(&forms.recipients);
    let mut panel = FormTally::new(&forms.panel);
    for (mode, json) in responses {
        let (form, tally) = if mode == "panel" {
            (&forms.panel, &mut panel)
        } else {
            (&forms.recipients, &mut recipients)
        };
        let answers = Answers::from_json(form, json)
            .map_err(|e| anyhow!("a stored {mode} response of village {}: {e:?}", frame.code))?;
        tally.add(&answers, forms.scheme.scoring(&form.id));
    }
    let frame_size = u64::try_from(frame.population).unwrap_or(0);
    let panel_ratings = PanelRatings {
        figure: figure(&panel, &forms.panel, &forms.scheme, None),
        ratings: panel.respondents + panel.recused,
        recused: panel.recused,
    };
    let r = figure(
        &recipients,
        &forms.recipients,
        &forms.scheme,
        Some(frame_size),
    );
    let mut item16 = Item16::compute(&r, &panel_ratings, frame_size, &forms.scheme);
    if forms.scheme.method == Method::Rate {
        // R (P) is the mean of its dimensions' rates: beside the published ones it would
        // give the withheld ones away by subtraction, so it goes, and S with it. Where every
        // dimension is withheld (a panel of a few), nothing is subtracted: R (P) follows its
        // own rule.
        let k = u64::from(forms.scheme.k);
        let withheld = |tally: &FormTally, form: &Form, frame: Option<u64>| {
            let dims: Vec<String> = forms
                .scheme
                .scoring(&form.id)
                .map(|s| s.rate_dimensions(form))
                .unwrap_or_default()
                .iter()
                .map(|d| d.key())
                .collect();
            let rows = tally.rates(frame, k);
            let mut of_rate = rows
                .iter()
                .filter(|row| row.scope == Scope::Dimension && dims.contains(&row.key));
            let withheld = of_rate.clone().any(|row| row.rate.is_none());
            withheld && of_rate.any(|row| row.rate.is_some())
        };
        if withheld(&recipients, &forms.recipients, Some(frame_size)) {
            item16.hide_r();
        }
        if withheld(&panel, &forms.panel, None) {
            item16.hide_p();
        }
    }
    Ok(VillageResults {
        village_id: frame.village_id,
        code: frame.code.clone(),
        name: frame.name.clone(),
        frame: frame_size,
        recipients,
        panel,
        item16,
    })
}

/// R or P as the scheme's method reads a tally of `form`; `frame` (recipients) gives the
/// interval.
fn figure(tally: &FormTally, form: &Form, scheme: &Scheme, frame: Option<u64>) -> Figure {
    let scoring = scheme.scoring(&form.id);
    match scheme.method {
        Method::Score => Figure::from_scores(&tally.scores, frame, scale_step(scoring)),
        Method::Rate => {
            let dims = scoring.map_or_else(Vec::new, |s| s.rate_dimensions(form));
            tally.rate_figure(&dims, frame)
        }
    }
}

/// Every drawn village with nothing folded in: what the results pages show while fieldwork
/// runs, when no figure from the answers is served to anyone (docs/privacy.md).
pub async fn withheld_results(
    db: &Db,
    campaign_id: CampaignId,
    forms: &FormSet,
) -> anyhow::Result<CampaignResults> {
    fold_campaign(db, campaign_id, forms, false).await
}

/// Reads and folds every drawn village of the campaign.
pub async fn campaign_results(
    db: &Db,
    campaign_id: CampaignId,
    forms: &FormSet,
) -> anyhow::Result<CampaignResults> {
    fold_campaign(db, campaign_id, forms, true).await
}

/// Every drawn village, its responses folded in when `read`.
async fn fold_campaign(
    db: &Db,
    campaign_id: CampaignId,
    forms: &FormSet,
    read: bool,
) -> anyhow::Result<CampaignResults> {
    let mut villages = Vec::new();
    for frame in db.frame_sizes(campaign_id).await? {
        let responses = if read {
            db.village_responses(campaign_id, frame.village_id)
                .await
                .with_context(|| format!("reading the responses of village {}", frame.code))?
        } else {
            Vec::new()
        };
        villages.push(fold_village(&frame, &responses, forms)?);
    }
    Ok(CampaignResults {
        villages,
        k: u64::from(forms.scheme.k),
    })
}

/// One free-text answer, without anything that identifies who wrote it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comment {
    pub village_code: String,
    pub village_name: String,
    pub audience: Audience,
    pub question: String,
    pub text: String,
}

/// Every free-text answer of the campaign, village by village, in the responses' random
/// storage order (not the order they came in). Digit runs that could be phone or ID
/// numbers are masked. Like every other figure, a village's comments to one questionnaire
/// are shown only when it has at least k answers to it: among fewer, a comment's wording
/// points to its writer.
pub async fn comments(
    db: &Db,
    campaign_id: CampaignId,
    forms: &FormSet,
) -> anyhow::Result<Vec<Comment>> {
    let k = usize::try_from(forms.scheme.k).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for frame in db.frame_sizes(campaign_id).await? {
        let responses = db.village_responses(campaign_id, frame.village_id).await?;
        let panel = responses.iter().filter(|(mode, _)| mode == "panel").count();
        let enough = |mode: &str| {
            let n = if mode == "panel" {
                panel
            } else {
                responses.len() - panel
            };
            n >= k.max(1)
        };
        for (mode, json) in responses.iter().filter(|(mode, _)| enough(mode)) {
            let form: &Form = if mode == "panel" {
                &forms.panel
            } else {
                &forms.recipients
            };
            let Ok(answers) = Answers::from_json(form, json) else {
                continue;
            };
            for q in &form.questions {
                if let (Kind::Text { .. }, Some(Answer::Text(text))) = (&q.kind, answers.get(&q.id))
                {
                    out.push(Comment {
                        village_code: frame.code.clone(),
                        village_name: frame.name.clone(),
                        audience: form.audience,
                        question: q.text.clone(),
                        text: crate::domain::mask_digit_runs(text),
                    });
                }
            }
        }
    }
    Ok(out)
}
