//! Data protection for the commission: once a campaign is approved, export its archive
//! (frozen rosters, draw record, audit log, results, the publicity notice) as one .zip, then
//! purge its phone numbers and names from the database. Tallies, grades, the draw record and
//! the audit chain stay intact; the archive's rosters and draw record still verify offline with
//! `minyi verify`. The export is a POST answered with the file: it records `archived_at`,
//! which the purge requires.

use super::AppState;
use super::auth::{CsrfForm, CsrfOnly, has_csrf};
use super::download::{Attachment, campaign_file};
use super::error::AppError;
use super::results::Download;
use super::roles::Admin;
use crate::db::PurgeError;
use crate::domain::CampaignState;
use crate::export::{CsvEncoding, csv_chunks};
use crate::ids::CampaignId;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::Write;

/// A CSV for Excel (BOM, neutralised) in one piece.
fn csv_bytes(header: Vec<String>, rows: Vec<Vec<String>>) -> Vec<u8> {
    csv_chunks(header, rows, CsvEncoding::Utf8Bom)
        .flatten()
        .collect()
}

fn table_csv(t: &crate::results::tables::Table) -> Vec<u8> {
    let header = t.header().into_iter().map(String::from).collect();
    let rows = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_csv()).collect())
        .collect();
    csv_bytes(header, rows)
}

/// Build the archive, record that it was exported, and answer it as the download.
pub(super) async fn export_archive(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    if campaign.state != CampaignState::Approved {
        return Err(AppError::bad(
            format!("campaign {id} is not approved"),
            "本轮调查批准后才能导出归档。",
        ));
    }
    let (_, purged) = state.db.archive_state(id).await?;
    if purged.is_some() {
        return Err(AppError::bad(
            format!("campaign {id} is purged; its archive was exported before"),
            "本轮的电话号码和姓名已经清除,请使用清除前导出的归档。",
        ));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.push((
        "README.txt".into(),
        format!(
            "{} 归档\n\n\
             rosters/<村代码>.csv   冻结时的服务对象名单(电话),与抽样记录一起可用 minyi verify 核验抽样\n\
             draw-record.json       抽样记录(种子、名单指纹、样本量,不含电话)\n\
             audit-log.csv          审计日志(SHA-256 链,minyi audit verify 可核验数据库中的同一条链)\n\
             tallies.csv 等          调查结果、第16项、综合评估、回答率\n\
             publicity-notice.txt   公示时生成并张贴的公示通知原文(其 SHA-256 记在审计日志 publicity.start 一条中;重新公示的记在 publicity.restart 一条中)\n\
             publicity-notice-<n>.txt  因调整名单而被替换的第 n 次公示的通知原文\n\
             proposed-list.csv      拟评定名单(最终),因异议移出的村,逐村的镇纪委研究、镇党委决定和称号有效期\n\
             applications/          申报与受理:applications.csv(各村状态、不受理理由)和各村的自评报告\n\
             village-reports/       参加本轮的村(社区)本年度的半年书面报告(创廉档案)\n\
             attachments.csv        以上各文件的原文件名、SHA-256 和大小\n\
             MANIFEST.txt           每个文件的 SHA-256(sha256sum -c 可核验),以及归档时的审计链首(# audit-head 序号:哈希,minyi audit verify --head 可核验)\n",
            campaign.name
        )
        .into_bytes(),
    ));
    if let Some((record, _)) = state.db.draw_record(id).await? {
        files.push(("draw-record.json".into(), record.into_bytes()));
    }
    // The notice as posted, whose SHA-256 the publish entry of the audit log holds.
    if let Some(text) = state.db.publicity(id).await?.and_then(|p| p.notice_text) {
        files.push(("publicity-notice.txt".into(), text.into_bytes()));
    }
    // The proposed list with the decisions per village, and the notices a restart replaced.
    files.extend(super::decisions::archive_files(&state, id).await?);
    for frame in state.db.campaign_frames(id).await? {
        files.push((
            format!("rosters/{}.csv", frame.code),
            crate::roster::frozen_csv(&frame.phones),
        ));
    }
    handed_in_files(&state, &campaign, &mut files).await?;
    let audit_rows: Vec<Vec<String>> = state
        .db
        .all_audit_entries()
        .await?
        .into_iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.at.to_string(),
                e.actor,
                e.event,
                e.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
                e.details,
                e.prev_hash,
                e.hash,
            ]
        })
        .collect();
    let header = [
        "id",
        "at",
        "actor",
        "event",
        "campaign_id",
        "details",
        "prev_hash",
        "hash",
    ]
    .map(String::from)
    .to_vec();
    // The audit log as stored (no formula neutralising would change a hashed field: none
    // starts with = + - @), so it can be re-verified from the file.
    files.push(("audit-log.csv".into(), csv_bytes(header, audit_rows)));
    for download in Download::ALL.into_iter().filter(|d| d.in_archive()) {
        let t = download.table(&state, id).await?;
        files.push((format!("{}.csv", download.name()), table_csv(&t)));
    }
    let mut manifest: String = files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", hex::encode(Sha256::digest(bytes))))
        .collect();
    // The audit chain's head as the archive was made: a comment line, which `sha256sum -c`
    // skips; `minyi audit verify --head` checks it against the database.
    manifest.push_str(&format!("# audit-head {}\n", state.db.audit_head().await?));
    files.push(("MANIFEST.txt".into(), manifest.into_bytes()));

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in &files {
        zip.start_file(format!("campaign-{id}/{name}"), options)
            .map_err(anyhow::Error::from)?;
        zip.write_all(bytes).map_err(anyhow::Error::from)?;
    }
    let bytes = zip.finish().map_err(anyhow::Error::from)?.into_inner();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    crate::ops::archive::record_export(&state.db, &user.by(), id, &sha256, files.len()).await?;
    tracing::info!(campaign = id.0, bytes = bytes.len(), "archive exported");
    Ok(Attachment::new(
        "application/zip",
        &campaign_file(&campaign.name, "归档.zip"),
        bytes,
    )
    .into_response())
}

/// A stored file's name made safe as one path segment inside the archive.
fn zip_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

/// The files villages handed in for the campaign: the applications with their decisions
/// (`applications/applications.csv`) and self-assessment reports, the half-yearly reports
/// of the campaign's year by its villages (those that applied or were drawn), and
/// `attachments.csv` listing each of these files with its SHA-256 and size.
async fn handed_in_files(
    state: &AppState,
    campaign: &crate::db::Campaign,
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), AppError> {
    let mut listed: Vec<Vec<String>> = Vec::new();
    let mut add =
        |files: &mut Vec<(String, Vec<u8>)>, path: String, file: crate::db::Attachment| {
            listed.push(vec![
                path.clone(),
                file.meta.file_name.clone(),
                file.meta.sha256.clone(),
                file.meta.size.to_string(),
            ]);
            files.push((path, file.content));
        };
    let applications = state.db.applications(campaign.id).await?;
    if !applications.is_empty() {
        let rows = applications
            .iter()
            .map(|a| {
                vec![
                    a.code.clone(),
                    a.name.clone(),
                    super::applications::status_label(a.decision.as_deref()).to_string(),
                    a.reason.clone().unwrap_or_default(),
                    crate::domain::local_time(a.applied_at),
                    a.decided_at
                        .map(crate::domain::local_time)
                        .unwrap_or_default(),
                    a.note.clone(),
                    a.file_name.clone().unwrap_or_default(),
                    a.sha256.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let header = [
            "编码",
            "名称",
            "状态",
            "不受理理由",
            "申报时间",
            "决定时间",
            "备注",
            "自评报告",
            "SHA-256",
        ]
        .map(String::from)
        .to_vec();
        files.push((
            "applications/applications.csv".into(),
            csv_bytes(header, rows),
        ));
    }
    for a in &applications {
        if let Some(id) = a.report_id {
            let file = state.db.attachment(id).await?;
            let path = format!("applications/{}-{}", a.code, zip_name(&file.meta.file_name));
            add(files, path, file);
        }
    }
    let mut villages: Vec<crate::ids::VillageId> =
        applications.iter().map(|a| a.village_id).collect();
    villages.extend(
        state
            .db
            .drawn_villages(campaign.id)
            .await?
            .iter()
            .map(|v| v.id),
    );
    let codes: std::collections::HashMap<_, _> = state
        .db
        .list_villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.code))
        .collect();
    let periods = [
        format!("{}H1", campaign.year),
        format!("{}H2", campaign.year),
    ];
    for r in state.db.all_village_reports().await? {
        if !villages.contains(&r.village_id) || !periods.contains(&r.period) {
            continue;
        }
        let code = codes.get(&r.village_id).cloned().unwrap_or_default();
        let file = state.db.attachment(r.attachment_id).await?;
        let path = format!(
            "village-reports/{code}/{}-{}-{}",
            r.period,
            r.id,
            zip_name(&file.meta.file_name)
        );
        add(files, path, file);
    }
    if !listed.is_empty() {
        let header = ["归档中的文件", "原文件名", "SHA-256", "大小(字节)"]
            .map(String::from)
            .to_vec();
        files.push(("attachments.csv".into(), csv_bytes(header, listed)));
    }
    Ok(())
}

#[derive(Deserialize)]
pub(super) struct PurgeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}
has_csrf!(PurgeForm);

pub(super) async fn purge_campaign(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<PurgeForm>,
) -> Result<Response, AppError> {
    if form.confirm != "yes" {
        return Ok(
            Redirect::to(&format!("/admin/campaigns/{id}/results?e=confirm#archive"))
                .into_response(),
        );
    }
    let flash = match crate::ops::archive::purge(&state.db, &user.by(), id).await {
        Ok(_) => "m=purged",
        Err(PurgeError::NotApproved) => "e=not_approved",
        Err(PurgeError::NotArchived) => "e=not_archived",
        // Purging again finished the erasure an earlier purge may have left undone.
        Err(PurgeError::AlreadyPurged) => "e=purged",
        Err(PurgeError::Db(e)) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/admin/campaigns/{id}/results?{flash}#archive")).into_response())
}
