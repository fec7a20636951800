//! The surveyor's pages (第三方): the seed (commit before the freeze, reveal after), and
//! after the draw what it needs of the ranked lists with full phone numbers — this role
//! alone sees them: the released cases and the reserve that could still be needed, never
//! the whole roster with names — plus the frozen rosters as bare phones, so the third party
//! can verify the draw with `minyi verify`. Its home page shows every change an
//! administrator made to surveyor accounts, so the third party learns if someone else
//! took its seat.

use super::BaseUrlBanner;
use super::auth::CurrentUser;
use super::download::{campaign_file, csv_download, xlsx_download};
use super::draw::{SeedForms, describe_rule, flash};
use super::error::AppError;
use super::roles::Surveyor;
use super::views::ser;
use super::{AppState, views};
use crate::db::{Campaign, OutboxCounts};
use crate::domain::CaseStatus;
use crate::domain::{Role, local_time};
use crate::export::{Cell, excel_csv, text_xlsx};
use crate::ids::{AccountId, CampaignId};
use crate::sampling::SizeParameters;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

pub(super) async fn surveyor_home(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
) -> Result<Html<String>, AppError> {
    let campaigns: Vec<_> = state
        .db
        .list_campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let label = c.state.label();
            context! { id => c.id, name => c.name, year => c.year, state_label => label }
        })
        .collect();
    let notices = account_notices(&state, &user).await?;
    Ok(views::page(
        &user,
        "surveyor_home.html",
        context! { campaigns, notices },
    ))
}

/// What administrators did to surveyor accounts, newest first, as sentences: a reset
/// password or a second surveyor account is how the commission could take the third
/// party's seat, so the third party sees each one.
async fn account_notices(state: &AppState, user: &CurrentUser) -> Result<Vec<Value>, AppError> {
    let accounts = state.db.list_accounts().await?;
    let names: std::collections::HashMap<AccountId, &str> = accounts
        .iter()
        .map(|a| (a.id, a.username.as_str()))
        .collect();
    let surveyors: std::collections::HashMap<AccountId, &str> = accounts
        .iter()
        .filter(|a| a.role == Role::Surveyor)
        .map(|a| (a.id, a.username.as_str()))
        .collect();
    let mut notices = Vec::new();
    for e in state.db.account_audit(500).await? {
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
        let account = details["account"].as_i64().map(AccountId);
        let created_surveyor =
            e.event == "account.create" && details["role"] == Role::Surveyor.as_str();
        let Some(account) = account.filter(|a| created_surveyor || surveyors.contains_key(a))
        else {
            continue;
        };
        let who = if account == user.account_id {
            "您的账号".to_string()
        } else {
            let name = surveyors
                .get(&account)
                .copied()
                .or_else(|| details["username"].as_str())
                .unwrap_or_default();
            format!("调查员账号 {name} ")
        };
        let what = match e.event.as_str() {
            "account.create" => "新建",
            "account.reset" => "重置密码",
            "account.disable" => "停用",
            "account.enable" => "启用",
            _ => continue,
        };
        // The actor is `account:<id>`, or `cli` for the command line.
        let by = match e.actor.strip_prefix("account:") {
            Some(id) => {
                let name = id
                    .parse()
                    .ok()
                    .and_then(|id: AccountId| names.get(&id).copied());
                format!("管理员 {} ", name.unwrap_or(id))
            }
            None => "命令行".to_string(),
        };
        notices.push(context! {
            text => format!("{who}于 {} 被{by}{what}", local_time(e.at)),
            mine => account == user.account_id,
        });
    }
    Ok(notices)
}

#[derive(Deserialize, Default)]
pub struct Flash {
    m: Option<String>,
    e: Option<String>,
}

/// The surveyor's campaign page (`surveyor_campaign.html`, with `seed_forms.html`).
#[derive(Serialize)]
pub(super) struct CampaignPage {
    campaign: Campaign,
    state_label: &'static str,
    frozen_at: Option<String>,
    /// The size rule in words.
    rule: String,
    #[serde(flatten)]
    seed_forms: SeedForms,
    /// The SMS outbox during fieldwork.
    outbox: OutboxCounts,
    /// The drawn villages (empty before the draw).
    strata: Vec<StratumLine>,
    base_url_banner: Option<BaseUrlBanner>,
    message: Option<&'static str>,
    error: Option<&'static str>,
}

impl views::Page for CampaignPage {
    const TEMPLATE: &'static str = "surveyor_campaign.html";
}

/// A drawn village: its roster size N and sample size n.
#[derive(Serialize)]
pub(super) struct StratumLine {
    code: String,
    name: String,
    population: i64,
    size: i64,
}

pub(super) async fn show_campaign(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(id): Path<CampaignId>,
    Query(q): Query<Flash>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let seed = state.db.seed_state(id).await?;
    let strata: Vec<StratumLine> = state
        .db
        .strata(id, None)
        .await?
        .into_iter()
        .map(|s| StratumLine {
            code: s.code,
            name: s.name,
            population: s.population,
            size: s.size,
        })
        .collect();
    let rule = serde_json::from_str::<SizeParameters>(&campaign.size_rule)
        .map(|p| describe_rule(&p))
        .unwrap_or_default();
    let page = CampaignPage {
        state_label: campaign.state.label(),
        frozen_at: campaign.frozen_at.map(local_time),
        rule,
        seed_forms: SeedForms::new(seed),
        outbox: state.db.outbox_counts(id).await?,
        strata,
        base_url_banner: super::base_url_banner(&state.config),
        message: q.m.as_deref().and_then(flash),
        error: q.e.as_deref().and_then(flash),
        campaign,
    };
    Ok(views::show(&user, &page))
}

/// One line of what the surveyor is given of a village's ranked list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Listed {
    pub rank: i64,
    pub phone: String,
    /// Within the sample size (else a reserve).
    pub primary: bool,
    /// Released as a case (to be called now).
    pub released: bool,
    /// Only for released cases, and for the primary ranks before fieldwork: a reserve not
    /// yet needed is a phone number to call later, not a person to know about.
    pub name: Option<String>,
}

/// What of a village's ranked list the surveyor needs, and nothing more: the released
/// cases, then the reserve the replacement rule could still need — the next ranks after the
/// last released one, one for each case neither completed nor already replaced (none once
/// the village has its completes). Before fieldwork: the primary ranks and as many reserves.
/// `names` holds the roster's names by phone (only looked up for the ranks listed).
pub fn least_list(
    stratum: &crate::db::StratumRow,
    cases: &[crate::db::CaseRow],
    names: &std::collections::HashMap<String, String>,
) -> Vec<Listed> {
    let ranked: Vec<(i64, &str, bool)> = stratum.ranks().collect();
    let at = |rank: i64| ranked.get(usize::try_from(rank - 1).ok()?).copied();
    let mut out = Vec::new();
    let (last, reserve) = if cases.is_empty() {
        for (rank, phone, primary) in ranked.iter().take_while(|r| r.2) {
            out.push(Listed {
                rank: *rank,
                phone: phone.to_string(),
                primary: *primary,
                released: false,
                name: names.get(*phone).cloned(),
            });
        }
        (stratum.size, stratum.size)
    } else {
        for c in cases {
            out.push(Listed {
                rank: c.rank,
                phone: c.phone.clone(),
                primary: c.rank <= stratum.size,
                released: true,
                name: c.name.clone(),
            });
        }
        let completes = cases
            .iter()
            .filter(|c| c.status == CaseStatus::Completed)
            .count() as i64;
        let unresolved = cases
            .iter()
            .filter(|c| c.status != CaseStatus::Completed && c.replaced_at.is_none())
            .count() as i64;
        let last = cases.iter().map(|c| c.rank).max().unwrap_or(0);
        (
            last,
            if completes >= stratum.size {
                0
            } else {
                unresolved
            },
        )
    };
    for rank in last + 1..=last + reserve {
        let Some((rank, phone, primary)) = at(rank) else {
            break;
        };
        out.push(Listed {
            rank,
            phone: phone.to_string(),
            primary,
            released: false,
            name: None,
        });
    }
    out
}

pub(super) async fn show_ranked_list(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let village = state.db.village_by_code(&code).await?;
    let stratum = state
        .db
        .strata(id, Some(village.id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let ranks = surveyor_list(&state, id, &stratum).await?;
    Ok(views::page(
        &user,
        "surveyor_village.html",
        context! {
            campaign => ser(&campaign), village => ser(&village), ranks => ser(&ranks),
            population => stratum.population, size => stratum.size, list_sha256 => stratum.list_sha256,
        },
    ))
}

/// [`least_list`] of one village, read from the database.
async fn surveyor_list(
    state: &AppState,
    campaign_id: CampaignId,
    stratum: &crate::db::StratumRow,
) -> Result<Vec<Listed>, AppError> {
    let cases = state
        .db
        .cases(campaign_id, Some(stratum.village_id))
        .await?;
    let names = if cases.is_empty() {
        state
            .db
            .roster_names(campaign_id, stratum.village_id)
            .await?
    } else {
        Default::default()
    };
    Ok(least_list(stratum, &cases, &names))
}

/// The surveyor's lists (see [`least_list`]) of every village, with the village's name.
async fn sample_lines(
    state: &AppState,
    id: CampaignId,
) -> Result<Vec<(crate::db::StratumRow, Vec<Listed>)>, AppError> {
    let mut lines = Vec::new();
    for s in state.db.strata(id, None).await? {
        let listed = surveyor_list(state, id, &s).await?;
        lines.push((s, listed));
    }
    Ok(lines)
}

/// The surveyor's lists as CSV for software: `village,rank,phone,selection,name`, the
/// offline draw's columns (`minyi draw --out`) plus names, so the two can be compared line
/// by line; `selection` is `primary` or `reserve`.
pub(super) async fn download_sample(
    State(state): State<AppState>,
    _: Surveyor,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let mut rows = Vec::new();
    for (s, listed) in sample_lines(&state, id).await? {
        for l in listed {
            rows.push([
                s.code.clone(),
                l.rank.to_string(),
                l.phone,
                if l.primary { "primary" } else { "reserve" }.to_string(),
                l.name.unwrap_or_default(),
            ]);
        }
    }
    let bytes = excel_csv(&["village", "rank", "phone", "selection", "name"], rows);
    Ok(csv_download(
        &campaign_file(&campaign.name, "排序清单.csv"),
        bytes,
    ))
}

/// The same lists as .xlsx for people: Chinese headers, the village's name, phones as text.
pub(super) async fn download_sample_xlsx(
    State(state): State<AppState>,
    _: Surveyor,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for (s, listed) in sample_lines(&state, id).await? {
        for l in listed {
            rows.push(vec![
                s.code.as_str().into(),
                s.name.as_str().into(),
                Cell::Int(l.rank),
                l.phone.into(),
                if l.primary { "样本" } else { "备用" }.into(),
                l.name.unwrap_or_default().into(),
            ]);
        }
    }
    let columns = [
        ("村(社区)编码", 14.0),
        ("村(社区)", 16.0),
        ("排名", 6.0),
        ("电话", 16.0),
        ("类别", 8.0),
        ("姓名", 10.0),
    ];
    xlsx_download(
        &campaign_file(&campaign.name, "排序清单.xlsx"),
        text_xlsx("排序清单", &columns, rows),
    )
}

/// The frozen roster of a village, only after the draw: seeing the frozen rosters before
/// the seed is in would let someone who may still enter the seed try seeds until the draw
/// suits them.
async fn frozen_roster(
    state: &AppState,
    id: CampaignId,
    code: &str,
) -> Result<(crate::db::Village, Vec<String>), AppError> {
    if state.db.draw_record(id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let village = state.db.village_by_code(code).await?;
    let phones = state.db.frame_phones(id, village.id).await?;
    Ok((village, phones))
}

/// A village's frozen roster as `<code>.csv` (a header `电话`, then the phones), the file
/// `minyi verify` reads from its rosters folder under that name.
pub(super) async fn download_frozen_roster(
    State(state): State<AppState>,
    _: Surveyor,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Response, AppError> {
    let (village, phones) = frozen_roster(&state, id, &code).await?;
    Ok(csv_download(
        &format!("{}.csv", village.code),
        crate::roster::frozen_csv(phones),
    ))
}

/// The same frozen roster as .xlsx for people, numbered, every phone a text cell (a
/// landline keeps its leading 0).
pub(super) async fn download_frozen_roster_xlsx(
    State(state): State<AppState>,
    _: Surveyor,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let (village, phones) = frozen_roster(&state, id, &code).await?;
    let rows = phones
        .into_iter()
        .zip(1..)
        .map(|(p, n)| vec![Cell::Int(n), p.into()]);
    xlsx_download(
        &campaign_file(&campaign.name, &format!("{}-冻结名单.xlsx", village.name)),
        text_xlsx("冻结名单", &[("序号", 8.0), ("电话", 16.0)], rows),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CampaignState;
    use crate::http::views::samples;

    fn campaign_page(state: CampaignState, seed: bool, commitment: bool) -> CampaignPage {
        CampaignPage {
            campaign: samples::campaign(state),
            state_label: state.label(),
            frozen_at: Some("2026-09-01 10:00".into()),
            rule: "样例规则描述".into(),
            seed_forms: SeedForms::new(samples::seed_state(seed, commitment)),
            outbox: OutboxCounts {
                unsent: 17,
                sent_open: 23,
                landlines: 4,
            },
            strata: vec![StratumLine {
                code: "V0101".into(),
                name: "样例村".into(),
                population: 812,
                size: 31,
            }],
            base_url_banner: Some(BaseUrlBanner {
                text: "样例地址问题".into(),
                unusable: false,
            }),
            message: Some("样例消息"),
            error: Some("样例错误"),
        }
    }

    #[test]
    fn the_campaign_page_struct_renders_every_branch_of_its_template() {
        let variants = [
            campaign_page(CampaignState::Fieldwork, true, true),
            campaign_page(CampaignState::Collecting, false, true),
            campaign_page(CampaignState::Collecting, false, false),
            campaign_page(CampaignState::Frozen, false, true),
            campaign_page(CampaignState::Frozen, false, false),
        ];
        for (n, page) in variants.iter().enumerate() {
            let html = samples::rendered(page);
            for value in ["样例轮次二〇二六", "样例规则描述", "V0101", "f1ngerpr1nt"]
            {
                assert!(html.contains(value), "variant {n}: {value} missing");
            }
        }
        let html = samples::rendered(&variants[0]);
        assert!(html.contains("样例地址问题") && html.contains("<strong>17</strong>"));
    }
    use crate::db::{CaseRow, StratumRow};
    use crate::ids::{CaseId, VillageId};
    use std::collections::HashMap;

    /// A village of 20 people, sample size 5.
    fn stratum() -> StratumRow {
        StratumRow {
            village_id: VillageId(1),
            code: "V1".into(),
            name: "一村".into(),
            population: 20,
            size: 5,
            fingerprint: String::new(),
            list_sha256: String::new(),
            ranked: (1..=20).map(|i| format!("1380000{i:04}\n")).collect(),
        }
    }

    fn case(rank: i64, status: CaseStatus, replaced: bool) -> CaseRow {
        CaseRow {
            id: CaseId(rank),
            campaign_id: CampaignId(1),
            village_id: VillageId(1),
            village_code: "V1".into(),
            village_name: "一村".into(),
            rank,
            phone: format!("1380000{rank:04}"),
            name: Some(format!("居民{rank}")),
            released_at: 0,
            release_reason: String::new(),
            status,
            disposition: None,
            replaced_at: replaced.then_some(1),
            attempts: 0,
            last_attempt_at: None,
            next_callback_at: None,
            link_sent: false,
            link_used: false,
            replacement_rank: None,
        }
    }

    fn ranks(list: &[Listed]) -> Vec<i64> {
        list.iter().map(|l| l.rank).collect()
    }

    #[test]
    fn before_fieldwork_the_sample_and_as_many_reserves_without_names() {
        let names: HashMap<String, String> = (1..=20)
            .map(|i| (format!("1380000{i:04}"), format!("居民{i}")))
            .collect();
        let list = least_list(&stratum(), &[], &names);
        assert_eq!(ranks(&list), (1..=10).collect::<Vec<_>>());
        assert!(list[..5].iter().all(|l| l.primary && l.name.is_some()));
        assert!(list[5..].iter().all(|l| !l.primary && l.name.is_none()));
    }

    #[test]
    fn in_fieldwork_the_released_cases_and_one_reserve_per_unresolved_case() {
        // Ranks 1–5 released; 2 completed; 3 replaced by 6; 1, 4, 5, 6 still open.
        let cases = [
            case(1, CaseStatus::Open, false),
            case(2, CaseStatus::Completed, false),
            case(3, CaseStatus::Refused, true),
            case(4, CaseStatus::Open, false),
            case(5, CaseStatus::Open, false),
            case(6, CaseStatus::Open, false),
        ];
        let list = least_list(&stratum(), &cases, &HashMap::new());
        assert_eq!(ranks(&list), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(list[..6].iter().all(|l| l.released && l.name.is_some()));
        assert!(list[6..].iter().all(|l| !l.released && l.name.is_none()));
        // Every case done: no reserve at all.
        let done: Vec<CaseRow> = (1..=5)
            .map(|r| case(r, CaseStatus::Completed, false))
            .collect();
        assert_eq!(
            ranks(&least_list(&stratum(), &done, &HashMap::new())),
            [1, 2, 3, 4, 5]
        );
        // The reserve ends with the list.
        let late: Vec<CaseRow> = (1..=19)
            .map(|r| case(r, CaseStatus::Open, r < 15))
            .collect();
        assert_eq!(least_list(&stratum(), &late, &HashMap::new()).len(), 20);
    }
}
