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
use crate::ids::{AttachmentId, CampaignId};
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
    let mut files: Vec<(String, Part)> = Vec::new();
    files.push((
        "README.txt".into(),
        Part::Built(format!(
            "{} 归档\n\n\
             rosters/<村代码>.csv   冻结时的服务对象名单(电话),与抽样记录一起可用 minyi verify 核验抽样\n\
             draw-record.json       抽样记录(种子、名单指纹、样本量,不含电话)\n\
             audit-log.csv          审计日志(SHA-256 链,minyi audit verify 可核验数据库中的同一条链)\n\
             tallies.csv 等          调查结果、第16项、综合评估、回答率\n\
             publicity-notice.txt   公示时生成并张贴的公示通知原文(其 SHA-256 记在审计日志 publicity.start 一条中;重新公示的记在 publicity.restart 一条中)\n\
             publicity-notice-<n>.txt  因调整名单而被替换的第 n 次公示的通知原文\n\
             proposed-list.csv      拟评定名单(最终),因异议移出的村,逐村的镇纪委研究、镇党委决定和称号有效期\n\
             applications/          申报与受理:applications.csv(各村状态、不受理理由)和各村最后提交的自评报告\n\
             village-reports/       参加本轮的村(社区)本年度每个半年最后提交的一份半年书面报告(创廉档案;被替代的旧版本留在系统中)\n\
             attachments.csv        以上各文件的原文件名、SHA-256 和大小\n\
             MANIFEST.txt           每个文件的 SHA-256(sha256sum -c 可核验),以及归档时的审计链首(# audit-head 序号:哈希,minyi audit verify --head 可核验)\n",
            campaign.name
        )
        .into_bytes()),
    ));
    if let Some((record, _)) = state.db.draw_record(id).await? {
        files.push(("draw-record.json".into(), Part::Built(record.into_bytes())));
    }
    // The notice as posted, whose SHA-256 the publish entry of the audit log holds.
    if let Some(text) = state.db.publicity(id).await?.and_then(|p| p.notice_text) {
        files.push((
            "publicity-notice.txt".into(),
            Part::Built(text.into_bytes()),
        ));
    }
    // The proposed list with the decisions per village, and the notices a restart replaced.
    files.extend(
        super::decisions::archive_files(&state, id)
            .await?
            .into_iter()
            .map(|(name, bytes)| (name, Part::Built(bytes))),
    );
    for frame in state.db.campaign_frames(id).await? {
        files.push((
            format!("rosters/{}.csv", frame.code),
            Part::Built(crate::roster::frozen_csv(&frame.phones)),
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
    files.push((
        "audit-log.csv".into(),
        Part::Built(csv_bytes(header, audit_rows)),
    ));
    for download in Download::ALL.into_iter().filter(|d| d.in_archive()) {
        let t = download.table(&state, id).await?;
        files.push((
            format!("{}.csv", download.name()),
            Part::Built(table_csv(&t)),
        ));
    }

    // Written into a temporary file one part at a time: a stored file is read only when its
    // turn comes, and dropped once written, so at most one is in memory.
    let mut out = ZipOut::create(format!("campaign-{id}"))?;
    for (name, part) in files {
        match part {
            Part::Built(bytes) => {
                out.add(name, bytes).await?;
            }
            Part::Stored(attachment, recorded) => {
                let bytes = state.db.attachment(attachment).await?.content;
                let sha256 = out.add(name.clone(), bytes).await?;
                if sha256 != recorded {
                    tracing::warn!(
                        campaign = id.0,
                        attachment = attachment.0,
                        %name,
                        "stored file's content does not match the SHA-256 recorded at upload; MANIFEST.txt has the content's, attachments.csv the recorded one"
                    );
                }
            }
        }
    }
    let mut manifest = std::mem::take(&mut out.manifest);
    // The audit chain's head as the archive was made: a comment line, which `sha256sum -c`
    // skips; `minyi audit verify --head` checks it against the database.
    manifest.push_str(&format!("# audit-head {}\n", state.db.audit_head().await?));
    out.add("MANIFEST.txt".into(), manifest.into_bytes())
        .await?;
    let count = out.count;
    let (file, sha256, size) = out.finish().await?;
    crate::ops::archive::record_export(&state.db, &user.by(), id, &sha256, count).await?;
    tracing::info!(campaign = id.0, bytes = size, "archive exported");
    Ok(Attachment::new(
        "application/zip",
        &campaign_file(&campaign.name, "归档.zip"),
        file_body(file),
    )
    .into_response())
}

/// One file of the archive: bytes made for it, or a stored file (with the SHA-256 recorded
/// when it was handed in), read only when it is written.
enum Part {
    Built(Vec<u8>),
    Stored(AttachmentId, String),
}

/// The archive being written into an unnamed temporary file (removed when closed), with
/// the MANIFEST lines of the files written so far.
struct ZipOut {
    zip: Option<zip::ZipWriter<std::fs::File>>,
    /// The folder every file goes in.
    root: String,
    manifest: String,
    count: usize,
}

impl ZipOut {
    fn create(root: String) -> Result<ZipOut, AppError> {
        let file = tempfile::tempfile().map_err(anyhow::Error::from)?;
        Ok(ZipOut {
            zip: Some(zip::ZipWriter::new(file)),
            root,
            manifest: String::new(),
            count: 0,
        })
    }

    /// Compresses `bytes` into the archive as `name` (off the async threads) and lists its
    /// SHA-256 for MANIFEST.txt; returns that SHA-256.
    async fn add(&mut self, name: String, bytes: Vec<u8>) -> Result<String, AppError> {
        let mut zip = self
            .zip
            .take()
            .ok_or_else(|| anyhow::anyhow!("archive writer lost after an earlier error"))?;
        let path = format!("{}/{name}", self.root);
        let (zip, written) = tokio::task::spawn_blocking(move || {
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(bytes.len() >= u32::MAX as usize);
            let written = zip
                .start_file(path, options)
                .map_err(anyhow::Error::from)
                .and_then(|()| zip.write_all(&bytes).map_err(anyhow::Error::from))
                .map(|()| sha256);
            (zip, written)
        })
        .await
        .map_err(anyhow::Error::from)?;
        let sha256 = written?;
        self.zip = Some(zip);
        self.manifest.push_str(&format!("{sha256}  {name}\n"));
        self.count += 1;
        Ok(sha256)
    }

    /// Finishes the archive: the file (at its start), its SHA-256 and its size.
    async fn finish(mut self) -> Result<(std::fs::File, String, u64), AppError> {
        let zip = self
            .zip
            .take()
            .ok_or_else(|| anyhow::anyhow!("archive writer lost after an earlier error"))?;
        let done = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            use std::io::{Read, Seek, SeekFrom};
            let mut file = zip.finish()?;
            file.seek(SeekFrom::Start(0))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut size = 0u64;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            file.seek(SeekFrom::Start(0))?;
            Ok((file, hex::encode(hasher.finalize()), size))
        })
        .await
        .map_err(anyhow::Error::from)??;
        Ok(done)
    }
}

/// The file from where it stands to its end, streamed in chunks.
fn file_body(file: std::fs::File) -> axum::body::Body {
    use tokio::io::AsyncReadExt;
    let chunks =
        futures_util::stream::unfold(Some(tokio::fs::File::from_std(file)), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; 256 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(buf), Some(file)))
                }
                Err(e) => {
                    tracing::error!("archive file could not be read back: {e}");
                    Some((Err(e), None))
                }
            }
        });
    axum::body::Body::from_stream(chunks)
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
/// (`applications/applications.csv`) and current self-assessment reports, the current
/// (newest) half-yearly report of each half year of the campaign's year by its villages
/// (those that applied or were drawn), and `attachments.csv` listing each of these files
/// with its SHA-256 and size as recorded when handed in. Superseded versions stay in the
/// database and the village's archive page, not in the export.
async fn handed_in_files(
    state: &AppState,
    campaign: &crate::db::Campaign,
    files: &mut Vec<(String, Part)>,
) -> Result<(), AppError> {
    let mut listed: Vec<Vec<String>> = Vec::new();
    let mut add = |files: &mut Vec<(String, Part)>,
                   path: String,
                   attachment: AttachmentId,
                   file_name: &str,
                   sha256: &str,
                   size: i64| {
        listed.push(vec![
            path.clone(),
            file_name.to_string(),
            sha256.to_string(),
            size.to_string(),
        ]);
        files.push((path, Part::Stored(attachment, sha256.to_string())));
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
            Part::Built(csv_bytes(header, rows)),
        ));
    }
    for a in &applications {
        if let (Some(id), Some(file_name), Some(sha256), Some(size)) =
            (a.report_id, &a.file_name, &a.sha256, a.size)
        {
            let path = format!("applications/{}-{}", a.code, zip_name(file_name));
            add(files, path, id, file_name, sha256, size);
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
    // The newest upload of each village and half year (listed by village, period, upload).
    let mut current: Vec<crate::db::VillageReportRow> = Vec::new();
    for r in state.db.all_village_reports().await? {
        if !villages.contains(&r.village_id) || !periods.contains(&r.period) {
            continue;
        }
        match current.last_mut() {
            Some(last) if last.village_id == r.village_id && last.period == r.period => *last = r,
            _ => current.push(r),
        }
    }
    for r in current {
        let code = codes.get(&r.village_id).cloned().unwrap_or_default();
        let path = format!(
            "village-reports/{code}/{}-{}-{}",
            r.period,
            r.id,
            zip_name(&r.file_name)
        );
        add(
            files,
            path,
            r.attachment_id,
            &r.file_name,
            &r.sha256,
            r.size,
        );
    }
    if !listed.is_empty() {
        let header = ["归档中的文件", "原文件名", "SHA-256", "大小(字节)"]
            .map(String::from)
            .to_vec();
        files.push((
            "attachments.csv".into(),
            Part::Built(csv_bytes(header, listed)),
        ));
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
