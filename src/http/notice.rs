//! The publicity notice (公示) as stored at publication: a print-ready A4 page and a Word
//! document for the commission, and the same page for village operators (the notice is
//! public: it is posted in every village).

use super::download::{Attachment, campaign_file};
use super::error::AppError;
use super::roles::{Admin, Operator};
use super::{AppState, views};
use crate::ids::CampaignId;
use crate::results::notice::NoticeDoc;
use axum::extract::{Path, State};
use axum::response::Html;
use serde::Serialize;

/// The media type of a Word document.
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The standalone notice page (`publicity_notice.html`): no navigation, A4 when printed.
#[derive(Serialize)]
struct NoticePage {
    notice: NoticeDoc,
    /// Where the same notice is had as a Word document.
    docx: String,
}

impl views::Page for NoticePage {
    const TEMPLATE: &'static str = "publicity_notice.html";
}

/// The campaign's stored notice; before publication (or for publicity started before
/// notices were kept) a refusal saying so.
async fn stored_notice(state: &AppState, id: CampaignId) -> Result<NoticeDoc, AppError> {
    state.db.campaign(id).await?;
    let Some(publicity) = state.db.publicity(id).await? else {
        return Err(AppError::bad(
            "the results are not published: there is no publicity notice yet",
            "尚未开始公示，还没有公示通知。在结果页面开始公示时，系统会生成公示通知。",
        ));
    };
    let Some(text) = publicity.notice_text else {
        return Err(AppError::bad(
            "this publicity started before notices were kept: none is stored",
            "本轮公示开始时系统还不能生成公示通知，没有保存的通知可以显示。",
        ));
    };
    Ok(NoticeDoc::from_text(&text))
}

pub(super) async fn show_notice(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let page = NoticePage {
        notice: stored_notice(&state, id).await?,
        docx: format!("/admin/campaigns/{id}/publicity/notice.docx"),
    };
    Ok(views::show_public(&page))
}

pub(super) async fn download_notice_docx(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<CampaignId>,
) -> Result<Attachment, AppError> {
    docx(&state, id).await
}

/// A village operator sees the same notice once publicity has started.
pub(super) async fn show_village_notice(
    State(state): State<AppState>,
    Operator { .. }: Operator,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let page = NoticePage {
        notice: stored_notice(&state, id).await?,
        docx: format!("/village/campaigns/{id}/publicity/notice.docx"),
    };
    Ok(views::show_public(&page))
}

pub(super) async fn download_village_notice_docx(
    State(state): State<AppState>,
    Operator { .. }: Operator,
    Path(id): Path<CampaignId>,
) -> Result<Attachment, AppError> {
    docx(&state, id).await
}

async fn docx(state: &AppState, id: CampaignId) -> Result<Attachment, AppError> {
    let notice = stored_notice(state, id).await?;
    let campaign = state.db.campaign(id).await?;
    let bytes = notice.docx().map_err(|e| anyhow::anyhow!(e))?;
    Ok(Attachment::new(
        DOCX,
        &campaign_file(&campaign.name, "公示通知.docx"),
        bytes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    #[test]
    fn the_notice_page_renders_every_part_escaped() {
        let page = NoticePage {
            notice: NoticeDoc {
                title: "关于样例廉洁村（社区）拟评定名单的公示".into(),
                body: vec!["1. <script>村".into(), "公示时间：样例".into()],
                issuer: "样例发布单位".into(),
                date: "2026年10月8日".into(),
            },
            docx: "/admin/campaigns/41/publicity/notice.docx".into(),
        };
        let html = samples::rendered_public(&page);
        for part in [
            "关于样例廉洁村",
            "公示时间：样例",
            "样例发布单位",
            "2026年10月8日",
            "@page{size:A4",
        ] {
            assert!(html.contains(part), "{part}");
        }
        assert!(html.contains("&lt;script&gt;村") && !html.contains("<script>村"));
        assert!(
            !html.contains("<nav"),
            "standalone, without the site's navigation"
        );
    }
}
