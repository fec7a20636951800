//! File uploads: a multipart form read into memory within the configured limit, and the
//! roster import shared by the village page, the administrator page and the JSON API.

use super::AppState;
use super::error::AppError;
use crate::db::{ImportError, RosterTarget};
use crate::ops::Actor;
use crate::roster::{Limits, Receipt};
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use std::collections::HashMap;
use std::io::Cursor;

/// A submitted multipart form: its file and its text fields.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub fields: HashMap<String, String>,
}

impl Upload {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

fn too_large(state: &AppState) -> AppError {
    AppError::TooLarge {
        zh: format!(
            "文件超过 {} MB 的上限。请删去无关的列或工作表后再上传,或分多次上传。",
            state.config.upload_limit / (1024 * 1024)
        ),
    }
}

fn multipart_error(e: MultipartError, state: &AppState) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        too_large(state)
    } else {
        AppError::bad(
            format!("malformed upload: {e}"),
            "上传的表单不完整,请重新选择文件后再试。",
        )
    }
}

/// Read the form: the part named `file` is the upload, every other part a short text field.
/// A form without a file, or with an empty one, is refused.
pub async fn read_upload(form: Multipart, state: &AppState) -> Result<Upload, AppError> {
    let upload = read_form(form, state).await?;
    if upload.bytes.is_empty() {
        return Err(AppError::bad(
            "no file was uploaded",
            "没有收到文件,请先选择名单文件再上传。",
        ));
    }
    Ok(upload)
}

/// Read a form whose file is optional (a report's text with an attachment, say): without a
/// file `bytes` is empty. Text fields keep up to 1000 characters, except `text`, which keeps up to 20 000 (a written report).
pub async fn read_form(mut form: Multipart, state: &AppState) -> Result<Upload, AppError> {
    let mut upload = Upload {
        file_name: String::new(),
        bytes: Vec::new(),
        fields: HashMap::new(),
    };
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, state))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            upload.file_name = field.file_name().unwrap_or("").chars().take(200).collect();
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, state))? {
                if upload.bytes.len() + chunk.len() > state.config.upload_limit {
                    return Err(too_large(state));
                }
                upload.bytes.extend_from_slice(&chunk);
            }
        } else {
            let text = field.text().await.map_err(|e| multipart_error(e, state))?;
            let keep = if name == "text" { 20_000 } else { 1000 };
            upload
                .fields
                .insert(name, text.chars().take(keep).collect());
        }
    }
    Ok(upload)
}

/// Replace the village's roster with an uploaded file and return the receipt.
pub async fn import_roster_bytes(
    state: &AppState,
    target: RosterTarget,
    bytes: Vec<u8>,
) -> Result<Receipt, AppError> {
    let limits = Limits {
        max_rows: state.config.max_rows,
    };
    let by = match target.uploaded_by {
        Some(id) => Actor::account(id),
        None => Actor::anonymous(),
    };
    match crate::ops::rosters::import(&state.db, &by, &target, Cursor::new(bytes), limits).await {
        Ok(receipt) => {
            tracing::info!(
                campaign = target.campaign_id.0,
                village = target.village_id.0,
                rows_read = receipt.rows_read,
                accepted = receipt.accepted,
                "roster received"
            );
            Ok(receipt)
        }
        Err(ImportError::Roster(e)) => Err(AppError::bad(
            format!("roster refused: {e}"),
            format!("名单未被接受,原名单保持不变:{}", e.zh()),
        )),
        Err(ImportError::NotCollecting) => Err(AppError::bad(
            "this campaign no longer accepts rosters",
            "本轮名单已冻结(或调查已开始),不再接受上报;原名单保持不变。",
        )),
        Err(ImportError::NoValidRows(receipt)) => Err(AppError::bad(
            format!(
                "the file has no valid phone number ({} rows read, {} invalid); nothing changed",
                receipt.rows_read, receipt.invalid
            ),
            format!(
                "文件中没有有效的电话号码(读取 {} 行,无效 {} 行),原名单保持不变。{}",
                receipt.rows_read,
                receipt.invalid,
                receipt
                    .errors
                    .first()
                    .map(|e| format!("例如第 {} 行:{}", e.row, e.reason_zh))
                    .unwrap_or_default()
            ),
        )),
        Err(ImportError::NotAccepted) => Err(AppError::bad(
            "the village's application was refused or is missing; no roster is taken",
            "本轮只有申报并经受理的村(社区)参加:本村(社区)未申报或申报未被受理,本轮不接受本村(社区)上报名单。",
        )),
        Err(ImportError::Db(e)) => Err(e.into()),
    }
}

/// The uploaded file checked as an attachment (PDF, Word or image, within the size limit);
/// a refusal is a 400 with the reason in Chinese.
pub fn checked_attachment(upload: &Upload) -> Result<crate::attachments::Checked, AppError> {
    crate::attachments::check(&upload.file_name, &upload.bytes).map_err(|e| {
        AppError::bad(
            format!("attachment {:?} refused: {e}", upload.file_name),
            e.zh(),
        )
    })
}
