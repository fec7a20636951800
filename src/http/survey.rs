//! The respondents' side: the mobile questionnaire behind a single-use link (`/s/<token>`)
//! and the panel member's personal link (`/p/<token>`). No login: the link is the key,
//! kept only as its SHA-256. Pages say nothing about anyone else and are never cached.

use super::error::AppError;
use super::{AppState, views};
use crate::db::{LinkTarget, NewResponse, Notice, PinnedForm};
use crate::domain::CampaignState;
use crate::domain::today;
use crate::duration::{Duration, start_field_of};
use crate::fieldwork::Outcome;
use crate::forms::{AnswerErrors, Audience, Form, Kind};
use crate::ids::CampaignId;
use crate::secrets::token_hash;
use axum::Form as Posted;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The forms each campaign pinned, parsed once per process. Pinned forms never change
/// once fieldwork has started, so nothing here goes stale.
#[derive(Clone, Default)]
pub struct FormCache(Arc<RwLock<HashMap<(CampaignId, String), PinnedAndParsed>>>);

/// A pinned form file and its parsed questionnaire.
type PinnedAndParsed = (PinnedForm, Arc<Form>);

impl FormCache {
    /// The campaign's pinned form for `role` (`recipients` or `panel`), parsed.
    async fn get(
        &self,
        db: &crate::db::Db,
        campaign_id: CampaignId,
        role: &str,
    ) -> Result<(PinnedForm, Arc<Form>), AppError> {
        let key = (campaign_id, role.to_string());
        if let Some(hit) = self.0.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let pinned = db
            .pinned_forms(campaign_id)
            .await?
            .into_iter()
            .find(|f| f.role == role)
            .ok_or_else(|| anyhow::anyhow!("campaign {campaign_id} has no pinned {role} form"))?;
        let form = crate::forms::parse_form(&pinned.form_id, &pinned.source).map_err(|errors| {
            anyhow::anyhow!(
                "pinned form {} {} no longer parses: {:?}",
                pinned.form_id,
                pinned.version,
                errors.first().map(ToString::to_string)
            )
        })?;
        let entry = (pinned, Arc::new(form));
        if let Ok(mut m) = self.0.write() {
            m.insert(key, entry.clone());
        }
        Ok(entry)
    }
}

/// A page for respondents (and the surveyor's interview, the panel's ratings): never
/// cached (phones are shared), and the link's token never sent to another site.
/// `same-origin`, not `no-referrer`: under `no-referrer` a browser posts the page's forms
/// with `Origin: null`, which the staff forms' origin check rightly refuses.
fn private(status: StatusCode, page: Html<String>) -> Response {
    let mut r = (status, page).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

fn status_page(status: StatusCode, heading: &str, detail: &str) -> Response {
    private(
        status,
        views::render("survey_status.html", context! { heading, detail }),
    )
}

fn unknown_link() -> Response {
    status_page(
        StatusCode::NOT_FOUND,
        "链接无效",
        "这个链接无效。请检查短信中的链接是否完整;如有疑问,请联系给您发短信的调查员。",
    )
}

fn already_received() -> Response {
    status_page(
        StatusCode::OK,
        "已收到,谢谢!",
        "这个链接已经用过:我们已收到您的回答(或您已选择不参加)。感谢您的支持!",
    )
}

/// A link taken out of use without this person answering through it: replaced by a reserve,
/// interviewed by phone, or superseded by a reissued link. Nothing here claims an answer.
fn link_retired() -> Response {
    status_page(
        StatusCode::OK,
        "这个链接已停止使用",
        "本次调查不再需要您通过这个链接回答。如果您收到了新的短信链接,请使用新链接;如有疑问,请联系给您发短信的调查员。感谢您的支持!",
    )
}

/// What the person who just used the link sees (the redirect after a submit says which).
fn just_used(done: Option<&str>) -> Response {
    match done {
        Some("answered") => status_page(
            StatusCode::OK,
            "提交成功,谢谢!",
            "您的回答已经收到。感谢您抽出时间,您的意见会汇总后交给镇纪委。",
        ),
        Some("declined") => status_page(
            StatusCode::OK,
            "已记录,谢谢!",
            "我们已记录您不参加这次调查,不会再就此打扰您。",
        ),
        Some("screened") => status_page(
            StatusCode::OK,
            "谢谢您!",
            "这次调查只问今年找村(社区)干部办过事的群众,您不用再回答了。感谢您的支持!",
        ),
        _ => already_received(),
    }
}

/// A campaign whose fieldwork is not running: not yet open, or closed.
fn not_running(campaign_state: CampaignState) -> Option<Response> {
    match campaign_state {
        CampaignState::Fieldwork => None,
        CampaignState::Collecting | CampaignState::Frozen | CampaignState::Drawn => {
            Some(status_page(
                StatusCode::OK,
                "调查尚未开始",
                "调查还没有开始,请稍后再打开这个链接。",
            ))
        }
        CampaignState::Closed | CampaignState::Approved => Some(status_page(
            StatusCode::OK,
            "调查已结束",
            "本次调查已经结束,感谢您的关心。",
        )),
    }
}

/// `text` ending with a full stop (unless it ends with one already).
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['。', '！', '？', '.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}。")
    }
}

/// The campaign's notice to respondents in plain words, one sentence per field set.
pub(super) fn notice_lines(notice: &Notice) -> Vec<String> {
    let labelled = [
        ("实施本次调查的第三方：", &notice.party),
        ("如需核实本调查，请拨打：", &notice.phone),
        ("", &notice.source),
        ("保存期限：", &notice.retention),
        ("查询、更正或删除您的个人信息，请联系：", &notice.contact),
    ];
    labelled
        .into_iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(label, text)| sentence(&format!("{label}{}", text.trim())))
        .collect()
}

/// What the surveyor says and does in a phone interview, one line each: the opening (who is
/// calling, for whom, why, how long, the number to check the call), how to read the
/// questions (options marked 不读出 are not read out), and, where the form has the
/// screener, what to do when the person has not used the village's services this year.
fn interviewer_script(town: &str, notice: &Notice, form: &Form) -> Vec<String> {
    let party = if notice.party.trim().is_empty() {
        "独立第三方"
    } else {
        notice.party.trim()
    };
    let town = if town.is_empty() { "镇" } else { town };
    let mut opening = format!(
        "开场白：“您好，我是{party}的调查员，受{town}纪委委托，想听听您对村（社区）干部办事情况的看法，大约3分钟。不记名，村里不知道您怎么答的。"
    );
    if !notice.phone.trim().is_empty() {
        opening.push_str(&format!("您可以拨打 {} 核实。", notice.phone.trim()));
    }
    opening.push('”');
    let mut script = vec![
        opening,
        "逐题念题目和选项，按对方的回答填写；标着“（不读出）”的选项不要念，对方自己说不清时才选它。"
            .to_string(),
    ];
    if let Some(screener) = form.question(crate::forms::SCREENER_QUESTION) {
        let number = form
            .questions
            .iter()
            .position(|q| q.id == screener.id)
            .map_or(1, |n| n + 1);
        let no = choice_label(screener, crate::forms::SCREENER_NO);
        script.push(format!(
            "第 {number} 题答“{no}”的：不是服务对象，道谢后结束通话，不要提交问卷；回到这个样本的页面，把这次联系记为“{}”。",
            crate::fieldwork::Outcome::NotRecipient.label_zh()
        ));
    }
    script
}

const PRIVACY: &str = "您的回答只用于统计,村(社区)看不到谁参加了调查,也看不到任何人的回答。";

/// A question shown only for some answers (`show_if`), except those shown to everyone who
/// passes the screener: those are the questionnaire itself, numbered on.
fn is_follow_up(q: &crate::forms::Question) -> bool {
    q.show_if
        .as_ref()
        .is_some_and(|c| c.question != crate::forms::SCREENER_QUESTION)
}

/// How the questions are numbered on the page. A follow-up ([`is_follow_up`]) takes the
/// number of the question before it and a sub-number (`9.1`), so the whole numbers run
/// 1..n without a gap whether or not the follow-up is shown (it is hidden by script, and
/// shown with a note without script).
fn question_labels(form: &Form) -> Vec<String> {
    let (mut main, mut sub) = (0usize, 0usize);
    form.questions
        .iter()
        .map(|q| {
            if is_follow_up(q) && main > 0 {
                sub += 1;
                format!("{main}.{sub}")
            } else {
                main += 1;
                sub = 0;
                main.to_string()
            }
        })
        .collect()
}

/// Seconds a respondent needs, roughly: a choice question is read and tapped in about 15
/// seconds, a free-text one (often skipped) takes about 45.
const SECONDS_PER_CHOICE: usize = 15;
const SECONDS_PER_TEXT: usize = 45;

/// "共 10 题(另有 1 道追问,视您的回答而定),约 3 分钟。": what the respondent is asked for,
/// counted as numbered (follow-ups apart, since they may never be shown).
fn length_note(form: &Form) -> String {
    let labels = question_labels(form);
    let mains: Vec<_> = form
        .questions
        .iter()
        .zip(&labels)
        .filter(|(_, l)| !l.contains('.'))
        .map(|(q, _)| q)
        .collect();
    let follow_ups = form.questions.len() - mains.len();
    let seconds: usize = mains
        .iter()
        .map(|q| match q.kind {
            Kind::Text { .. } => SECONDS_PER_TEXT,
            _ => SECONDS_PER_CHOICE,
        })
        .sum();
    let minutes = seconds.div_ceil(60).max(1);
    let extra = if follow_ups > 0 {
        format!("(另有 {follow_ups} 道追问,视您的回答而定)")
    } else {
        String::new()
    };
    format!("共 {} 题{extra},约 {minutes} 分钟。", mains.len())
}

/// The questions as the template shows them, with what the person chose and the errors.
/// A question as `survey_form.html` shows it, with what was typed and its error.
#[derive(Serialize)]
pub(super) struct QuestionView {
    id: String,
    /// Its label: `9`, or `9.1` for a follow-up.
    number: String,
    follow_up: bool,
    text: String,
    required: bool,
    /// `single`, `multiple` or `text`.
    kind: &'static str,
    options: Vec<OptionView>,
    max_chars: usize,
    max_choices: Option<usize>,
    /// The text typed (a text question).
    value: String,
    /// A follow-up: the question it depends on, the values that show it (`|`-separated),
    /// and the note saying so.
    if_question: Option<String>,
    if_values: String,
    condition: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
pub(super) struct OptionView {
    value: String,
    label: String,
    checked: bool,
    /// The don't-know option: in a phone interview it is marked （不读出） and the
    /// interviewer does not read it out (it is picked only when the person cannot say).
    not_read: bool,
}

fn question_views(
    form: &Form,
    fields: &[(String, String)],
    errors: Option<&AnswerErrors>,
) -> Vec<QuestionView> {
    let chosen = |id: &str, value: &str| fields.iter().any(|(k, v)| k == id && v == value);
    let labels = question_labels(form);
    form.questions
        .iter()
        .zip(&labels)
        .map(|(q, label)| {
            let (kind, options, max_chars, max_choices) = match &q.kind {
                Kind::Single { options, dont_know } => {
                    let mut opts: Vec<OptionView> = options
                        .iter()
                        .map(|o| OptionView {
                            value: o.value.clone(),
                            label: o.label.clone(),
                            checked: chosen(&q.id, &o.value),
                            not_read: false,
                        })
                        .collect();
                    if let Some(label) = dont_know {
                        opts.push(OptionView {
                            value: crate::forms::DONT_KNOW.to_string(),
                            label: label.clone(),
                            checked: chosen(&q.id, crate::forms::DONT_KNOW),
                            not_read: true,
                        });
                    }
                    ("single", opts, 0, None)
                }
                Kind::Multiple {
                    options,
                    max_choices,
                } => {
                    let opts = options
                        .iter()
                        .map(|o| OptionView {
                            value: o.value.clone(),
                            label: o.label.clone(),
                            checked: chosen(&q.id, &o.value),
                            not_read: false,
                        })
                        .collect();
                    ("multiple", opts, 0, *max_choices)
                }
                Kind::Text { max_chars } => ("text", Vec::new(), *max_chars, None),
            };
            let (if_question, if_values, condition) = match &q.show_if {
                Some(c) => {
                    let number = form
                        .questions
                        .iter()
                        .position(|x| x.id == c.question)
                        .and_then(|n| labels.get(n))
                        .map(String::as_str)
                        .unwrap_or("?");
                    let labels: Vec<String> = form
                        .question(&c.question)
                        .map(|cq| c.any_of.iter().map(|v| choice_label(cq, v)).collect())
                        .unwrap_or_default();
                    (
                        Some(c.question.clone()),
                        c.any_of.join("|"),
                        Some(format!(
                            "第 {number} 题选择“{}”时请回答",
                            labels.join("”或“")
                        )),
                    )
                }
                None => (None, String::new(), None),
            };
            let value = fields
                .iter()
                .find(|(k, _)| k == &q.id)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            QuestionView {
                id: q.id.clone(),
                number: label.clone(),
                follow_up: label.contains('.'),
                text: q.text.clone(),
                required: q.required,
                kind,
                options,
                max_chars,
                max_choices,
                value,
                if_question,
                if_values,
                condition,
                error: errors.and_then(|e| e.message_zh(&q.id)),
            }
        })
        .collect()
}

fn choice_label(q: &crate::forms::Question, value: &str) -> String {
    let options = match &q.kind {
        Kind::Single { options, .. } | Kind::Multiple { options, .. } => options.as_slice(),
        Kind::Text { .. } => &[],
    };
    options
        .iter()
        .find(|o| o.value == value)
        .map(|o| o.label.clone())
        .unwrap_or_else(|| value.to_string())
}

struct FormPage<'a> {
    form: &'a Form,
    /// The campaign's notice to respondents, as sentences ([`notice_lines`]).
    notice: Vec<String>,
    town: &'a str,
    village_name: &'a str,
    action: String,
    decline_action: Option<String>,
    /// Set for the surveyor's phone-interview form (a logged-in, CSRF-protected page).
    csrf: Option<String>,
    /// Shown above the form in a phone interview: whom the surveyor is talking to.
    interviewer_note: Option<String>,
    /// The phone interview's script ([`interviewer_script`]); empty for a respondent.
    script: Vec<String>,
    /// The hidden start field (`fieldwork::duration`): when the form was first shown, marked.
    started: Option<String>,
}

/// The questionnaire (`survey_form.html`), for a respondent or, in a phone interview, for
/// the surveyor (then with a CSRF token and a note on whom they are talking to).
#[derive(Serialize)]
pub(super) struct SurveyFormPage {
    title: String,
    intro: String,
    town: String,
    village_name: String,
    privacy: &'static str,
    /// Who runs the survey, how to check it, where the number came from, how long it is kept
    /// and whom to ask (PIPL Art. 17), one sentence each; shown before the questions.
    notice: Vec<String>,
    /// How many questions and how long, in words.
    length: String,
    questions: Vec<QuestionView>,
    /// Questions whose answer must change (0 on a first showing).
    error_count: usize,
    /// Where the answers are posted.
    action: String,
    /// Where "I do not want to take part" leads (respondents only).
    decline_action: Option<String>,
    csrf: Option<String>,
    /// Set in a phone interview (the surveyor fills the form): whom they are talking to.
    /// Then options not to be read out are marked （不读出）.
    interviewer_note: Option<String>,
    /// What the surveyor says and does, one line each (phone interview only).
    script: Vec<String>,
    /// The hidden start field, posted back with the answers.
    started: Option<String>,
}

impl views::Page for SurveyFormPage {
    const TEMPLATE: &'static str = "survey_form.html";
}

fn form_page(
    p: &FormPage<'_>,
    fields: &[(String, String)],
    errors: Option<&AnswerErrors>,
) -> Response {
    let page = views::show_public(&SurveyFormPage {
        title: p.form.title.clone(),
        intro: p.form.intro.clone(),
        town: p.town.to_string(),
        village_name: p.village_name.to_string(),
        privacy: PRIVACY,
        notice: p.notice.clone(),
        length: length_note(p.form),
        questions: question_views(p.form, fields, errors),
        error_count: errors.map(|e| e.messages_zh().len()).unwrap_or(0),
        action: p.action.clone(),
        decline_action: p.decline_action.clone(),
        csrf: p.csrf.clone(),
        interviewer_note: p.interviewer_note.clone(),
        script: p.script.clone(),
        started: p.started.clone(),
    });
    let status = if errors.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    private(status, page)
}

/// A fresh start field for a form posting to `action` (`fieldwork::duration`).
pub(super) async fn start_field(
    state: &AppState,
    action: &str,
) -> Result<Option<String>, AppError> {
    let clock = state.form_clock().await?;
    Ok(Some(clock.start_field(action, crate::domain::now())))
}

/// The start field as posted, shown again with a form sent back for corrections: the time
/// runs from the first showing.
pub(super) fn posted_start(fields: &[(String, String)]) -> Option<String> {
    start_field_of(fields).map(str::to_string)
}

/// How long the answering of a form posted to `action` took, as a bucket.
pub(super) async fn duration_of(
    state: &AppState,
    action: &str,
    fields: &[(String, String)],
) -> Result<Duration, AppError> {
    let clock = state.form_clock().await?;
    Ok(clock.duration(action, start_field_of(fields), crate::domain::now()))
}

/// The pinned form of `role` for the campaign.
pub(super) async fn pinned(
    state: &AppState,
    campaign_id: CampaignId,
    role: &str,
) -> Result<(PinnedForm, Arc<Form>), AppError> {
    state.forms.get(&state.db, campaign_id, role).await
}

/// Each known link may be opened or submitted [`crate::rate_limit::LINK_REQUESTS`] times per
/// window. Counted only once the token is found, so guesses never create an entry; under
/// [`crate::secrets::limit_key`], which the database cannot tie to the invitation.
fn limit_link(state: &AppState, token: &str) -> Result<(), AppError> {
    if state.limits.hit_link(&crate::secrets::limit_key(token)) {
        Ok(())
    } else {
        // Counted and summed up in the log once a minute (src/rate_limit.rs).
        tracing::debug!("link rate limit reached");
        Err(AppError::TooManyRequests {
            zh: "这个链接打开得太频繁了,请过几分钟再试。".into(),
        })
    }
}

/// Unknown tokens are limited per server, on one counter: guessing costs a lookup each.
fn unknown_token(state: &AppState) -> Result<(), AppError> {
    if state.limits.hit_unknown() {
        Ok(())
    } else {
        // Counted and summed up in the log once a minute (src/rate_limit.rs).
        tracing::debug!("unknown-token rate limit reached");
        Err(AppError::TooManyRequests {
            zh: "访问太频繁,请过一会儿再试。".into(),
        })
    }
}

/// Resolve a survey link, or the page to show instead of the form.
async fn open_link(
    state: &AppState,
    token: &str,
) -> Result<Result<LinkTarget, Response>, AppError> {
    let hash = token_hash(token);
    let Some(target) = state.db.link_target(&hash).await? else {
        unknown_token(state)?;
        return Ok(Err(unknown_link()));
    };
    limit_link(state, token)?;
    if target.used {
        return Ok(Err(already_received()));
    }
    if target.voided || target.superseded {
        return Ok(Err(link_retired()));
    }
    if let Some(page) = not_running(target.campaign_state) {
        return Ok(Err(page));
    }
    Ok(Ok(target))
}

#[derive(Deserialize, Default)]
pub(super) struct JustUsed {
    done: Option<String>,
}

pub(super) async fn show_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<JustUsed>,
) -> Result<Response, AppError> {
    let target = match open_link(&state, &token).await? {
        Ok(t) => t,
        Err(page) if q.done.is_some() && page.status() == StatusCode::OK => {
            return Ok(just_used(q.done.as_deref()));
        }
        Err(page) => return Ok(page),
    };
    let (_, form) = pinned(&state, target.campaign_id, "recipients").await?;
    let notice = state.db.notice(target.campaign_id).await?;
    let action = format!("/s/{token}");
    Ok(form_page(
        &FormPage {
            notice: notice_lines(&notice),
            form: &form,
            town: &target.town,
            village_name: &target.village_name,
            started: start_field(&state, &action).await?,
            action,
            decline_action: Some(format!("/s/{token}/decline")),
            csrf: None,
            interviewer_note: None,
            script: Vec::new(),
        },
        &[],
        None,
    ))
}

pub(super) async fn submit_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Posted(fields): Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let target = match open_link(&state, &token).await? {
        Ok(t) => t,
        Err(page) => return Ok(page),
    };
    let (pinned_form, form) = pinned(&state, target.campaign_id, "recipients").await?;
    let answers = match crate::forms::parse_answers(&form, &fields) {
        Ok(a) => a,
        Err(errors) => {
            let notice = state.db.notice(target.campaign_id).await?;
            let page = FormPage {
                notice: notice_lines(&notice),
                form: &form,
                town: &target.town,
                village_name: &target.village_name,
                action: format!("/s/{token}"),
                decline_action: Some(format!("/s/{token}/decline")),
                csrf: None,
                interviewer_note: None,
                script: Vec::new(),
                started: posted_start(&fields),
            };
            return Ok(form_page(&page, &fields, Some(&errors)));
        }
    };
    if answers.screened_out() {
        return screen_out(&state, &target, &token).await;
    }
    let response = NewResponse {
        campaign_id: target.campaign_id,
        village_id: target.village_id,
        form_id: pinned_form.form_id.clone(),
        form_version: pinned_form.version.clone(),
        form_sha256: pinned_form.sha256.clone(),
        questionnaire: Audience::Recipients,
        answers_json: answers.to_json(),
        duration: duration_of(&state, &format!("/s/{token}"), &fields).await?,
    };
    let campaign = target.campaign_id;
    let stored = state.submissions.submit(target, response).await?;
    if stored {
        state.mixer.poke();
    }
    // A repeated or concurrent submit of the same link is acknowledged the same way and
    // stored once: only the first one found the invitation unused.
    tracing::info!(campaign = campaign.0, stored, "survey submitted");
    Ok(Redirect::to(&format!("/s/{token}?done=answered")).into_response())
}

/// Records what a respondent did through their link (declined, or 没办过) as a call
/// attempt without a surveyor, as it would be on the phone.
async fn record_link_outcome(
    state: &AppState,
    target: &LinkTarget,
    outcome: Outcome,
    note: &str,
) -> Result<(), AppError> {
    state
        .db
        .record_attempt(&crate::db::NewAttempt {
            case_id: target.case_id,
            attempted_at: crate::domain::now(),
            attempted_on: today(),
            outcome,
            callback_at: None,
            note: Some(note.into()),
            recorded_by: None,
            import_key: None,
        })
        .await?;
    Ok(())
}
/// The screener answered 没办过 through the link: as on the phone, the person is not a
/// service recipient. Nothing is stored as answers (they would have no scored question); the
/// link is used up and the case recorded as not a service recipient, so the campaign's rules
/// can release the next reserve rank and the response rates leave the case out.
async fn screen_out(
    state: &AppState,
    target: &LinkTarget,
    token: &str,
) -> Result<Response, AppError> {
    let recorded = state.db.screen_out_through_link(target).await?;
    if recorded {
        let note = "通过短信链接回答：今年没有找村干部办过事";
        record_link_outcome(state, target, Outcome::NotRecipient, note).await?;
    }
    tracing::info!(
        campaign = target.campaign_id.0,
        recorded,
        "survey screened out"
    );
    Ok(Redirect::to(&format!("/s/{token}?done=screened")).into_response())
}

/// "我不想参加" asks first: a refusal cannot be undone, and the button sits under 提交.
fn decline_page(token: &str) -> Response {
    private(
        StatusCode::OK,
        views::render(
            "survey_decline.html",
            context! {
                survey_action => format!("/s/{token}"),
                decline_action => format!("/s/{token}/decline"),
            },
        ),
    )
}

pub(super) async fn confirm_decline(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    match open_link(&state, &token).await? {
        Ok(_) => Ok(decline_page(&token)),
        Err(page) => Ok(page),
    }
}

/// Records the refusal only when the confirmation page's `confirm=yes` is posted; any other
/// post (an old page's button, a body that does not parse) gets the confirmation page.
pub(super) async fn decline_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    posted: Result<Posted<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, AppError> {
    let target = match open_link(&state, &token).await? {
        Ok(t) => t,
        Err(page) => return Ok(page),
    };
    let confirmed =
        posted.is_ok_and(|Posted(fields)| fields.iter().any(|(k, v)| k == "confirm" && v == "yes"));
    if !confirmed {
        return Ok(decline_page(&token));
    }
    let recorded = state.db.decline_through_link(&target).await?;
    if recorded {
        // A refusal like one on the phone: recorded as an attempt, so the campaign's rules
        // can release the next reserve rank.
        let note = "通过短信链接选择不参加";
        record_link_outcome(&state, &target, Outcome::Refusal, note).await?;
    }
    tracing::info!(campaign = target.campaign_id.0, recorded, "survey declined");
    Ok(Redirect::to(&format!("/s/{token}?done=declined")).into_response())
}

/// The panel member behind a personal link, with the campaign (running) — or the page to show.
async fn open_panel_link(
    state: &AppState,
    token: &str,
) -> Result<Result<(crate::db::PanelMember, crate::db::Campaign), Response>, AppError> {
    let hash = token_hash(token);
    let Some(member) = state.db.panel_member_by_token(&hash).await? else {
        unknown_token(state)?;
        return Ok(Err(unknown_link()));
    };
    limit_link(state, token)?;
    let campaign = state.db.campaign(member.campaign_id).await?;
    if let Some(page) = not_running(campaign.state) {
        return Ok(Err(page));
    }
    Ok(Ok((member, campaign)))
}

#[derive(Deserialize, Default)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn show_panel_home(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, AppError> {
    let (member, campaign) = match open_panel_link(&state, &token).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let rated = state.db.rated_villages(member.id).await?;
    let strata = state.db.drawn_villages(campaign.id).await?;
    let done = q.done.and_then(|code| {
        strata
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.name.clone())
    });
    let villages: Vec<Value> = strata
        .iter()
        .map(|s| context! { code => s.code.clone(), name => s.name.clone(), rated => rated.contains(&s.id) })
        .collect();
    let page = views::render(
        "panel_home.html",
        context! {
            campaign_name => campaign.name, member_name => member.name, category => member.category,
            villages, rated => rated.len(), base => format!("/p/{token}"), done,
        },
    );
    Ok(private(StatusCode::OK, page))
}

async fn panel_village(
    state: &AppState,
    campaign_id: CampaignId,
    code: &str,
) -> Result<Option<crate::db::Village>, AppError> {
    // Only villages in the draw are rated.
    let villages = state.db.drawn_villages(campaign_id).await?;
    Ok(villages.into_iter().find(|v| v.code == code))
}

pub(super) async fn show_panel_form(
    State(state): State<AppState>,
    Path((token, code)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (member, campaign) = match open_panel_link(&state, &token).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let Some(village) = panel_village(&state, campaign.id, &code).await? else {
        return Ok(unknown_link());
    };
    if state
        .db
        .rated_villages(member.id)
        .await?
        .contains(&village.id)
    {
        return Ok(Redirect::to(&format!("/p/{token}?done={code}")).into_response());
    }
    let (_, form) = pinned(&state, campaign.id, "panel").await?;
    Ok(form_page(
        &FormPage {
            notice: Vec::new(),
            form: &form,
            town: &campaign.town,
            village_name: &village.name,
            action: format!("/p/{token}/v/{code}"),
            decline_action: None,
            csrf: None,
            interviewer_note: None,
            script: Vec::new(),
            // The quality checks are about the recipients: a panel rating keeps no duration.
            started: None,
        },
        &[],
        None,
    ))
}

pub(super) async fn submit_panel_form(
    State(state): State<AppState>,
    Path((token, code)): Path<(String, String)>,
    Posted(fields): Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (member, campaign) = match open_panel_link(&state, &token).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let Some(village) = panel_village(&state, campaign.id, &code).await? else {
        return Ok(unknown_link());
    };
    let (pinned_form, form) = pinned(&state, campaign.id, "panel").await?;
    let answers = match crate::forms::parse_answers(&form, &fields) {
        Ok(a) => a,
        Err(errors) => {
            let page = FormPage {
                notice: Vec::new(),
                form: &form,
                town: &campaign.town,
                village_name: &village.name,
                action: format!("/p/{token}/v/{code}"),
                decline_action: None,
                csrf: None,
                interviewer_note: None,
                script: Vec::new(),
                started: None,
            };
            return Ok(form_page(&page, &fields, Some(&errors)));
        }
    };
    let response = NewResponse {
        campaign_id: campaign.id,
        village_id: village.id,
        form_id: pinned_form.form_id.clone(),
        form_version: pinned_form.version.clone(),
        form_sha256: pinned_form.sha256.clone(),
        questionnaire: Audience::Panel,
        answers_json: answers.to_json(),
        duration: Duration::Unknown,
    };
    let stored = state.db.submit_panel_rating(member.id, &response).await?;
    if stored {
        state.mixer.poke();
    }
    tracing::info!(campaign = campaign.id.0, stored, "panel rating submitted");
    Ok(Redirect::to(&format!("/p/{token}?done={code}")).into_response())
}

/// The recipients' questionnaire filled by the surveyor during a phone interview.
pub(super) fn interview_page(
    form: &Form,
    case: &crate::db::CaseRow,
    (town, notice): (&str, &Notice),
    (csrf, started): (&str, Option<String>),
    fields: &[(String, String)],
    errors: Option<&AnswerErrors>,
) -> Response {
    let page = FormPage {
        started,
        notice: notice_lines(notice),
        form,
        town,
        village_name: &case.village_name,
        action: format!("/surveyor/cases/{}/interview", case.id),
        decline_action: None,
        csrf: Some(csrf.to_string()),
        interviewer_note: Some(format!(
            "电话访问：排名 {} · {} · {}",
            case.rank,
            case.name.as_deref().unwrap_or("(无姓名)"),
            case.phone,
        )),
        script: interviewer_script(town, notice, form),
    };
    form_page(&page, fields, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    fn question(id: &str, kind: &'static str) -> QuestionView {
        QuestionView {
            id: id.into(),
            number: "9.1".into(),
            follow_up: true,
            text: format!("样例题目{id}"),
            required: false,
            kind,
            options: vec![
                OptionView {
                    value: "a".into(),
                    label: format!("样例选项{id}"),
                    checked: true,
                    not_read: false,
                },
                OptionView {
                    value: "dont_know".into(),
                    label: format!("样例说不清{id}"),
                    checked: false,
                    not_read: true,
                },
            ],
            max_chars: 300,
            max_choices: Some(2),
            value: format!("样例回答{id}"),
            if_question: Some("q9".into()),
            if_values: "a|b".into(),
            condition: Some("第 9 题选择“是”时请回答".into()),
            error: Some("请回答这一题".into()),
        }
    }

    #[test]
    fn the_survey_form_page_struct_renders_every_branch_of_its_template() {
        let page = SurveyFormPage {
            title: "样例问卷".into(),
            intro: "样例说明".into(),
            town: "样例镇".into(),
            village_name: "样例村".into(),
            privacy: PRIVACY,
            notice: notice_lines(&samples::notice()),
            length: "共 10 题,约 3 分钟。".into(),
            questions: vec![
                question("q1", "single"),
                question("q2", "multiple"),
                question("q3", "text"),
            ],
            error_count: 2,
            action: "/s/sampletoken".into(),
            decline_action: Some("decline-sample".into()),
            csrf: Some("csrf-sample".into()),
            interviewer_note: Some("样例访员提示".into()),
            script: vec!["样例开场白".into(), "样例筛选规则".into()],
            started: Some("1790000000.sample-start".into()),
        };
        let html = samples::rendered_public(&page);
        for value in [
            "样例问卷",
            "样例选项q1",
            "样例回答q3",
            "还有 2 道题",
            "样例访员提示",
            "<li>样例开场白</li>",
            "<li>样例筛选规则</li>",
            "样例说不清q1<span class=\"not-read-mark\">（不读出）</span>",
            "decline-sample",
            "csrf-sample",
            "样例调查公司",
            "0739-0000000",
            "样例联系方式",
            "1790000000.sample-start",
        ] {
            assert!(html.contains(value), "{value} missing");
        }
        let respondent = SurveyFormPage {
            town: String::new(),
            intro: String::new(),
            error_count: 0,
            decline_action: None,
            csrf: None,
            interviewer_note: None,
            script: Vec::new(),
            ..page
        };
        let html = samples::rendered_public(&respondent);
        assert!(!html.contains("道题需要修改") && html.contains("本调查由镇纪委组织"));
        // The respondent sees 说不清 as a plain option.
        assert!(html.contains("样例说不清q1</label>"), "{html}");
        assert!(!html.contains("（不读出）") && !html.contains("opt not-read"));
    }

    #[test]
    fn the_notice_says_each_field_set_once_as_a_sentence_and_leaves_out_empty_ones() {
        let notice = Notice {
            party: "某调查公司".into(),
            phone: "0739-1234567".into(),
            source: Notice::DEFAULT_SOURCE.into(),
            retention: "评定后删除。".into(),
            contact: String::new(),
        };
        let lines = notice_lines(&notice);
        assert_eq!(
            lines,
            [
                "实施本次调查的第三方：某调查公司。",
                "如需核实本调查，请拨打：0739-1234567。",
                &format!("{}。", Notice::DEFAULT_SOURCE),
                "保存期限：评定后删除。",
            ]
        );
        let forms = crate::forms::builtin().unwrap();
        let script = interviewer_script("唐家坊镇", &notice, &forms.recipients);
        assert_eq!(script.len(), 3, "{script:?}");
        assert!(
            script[0].contains("我是某调查公司的调查员")
                && script[0].contains("受唐家坊镇纪委委托")
                && script[0].contains("大约3分钟")
                && script[0].contains("0739-1234567"),
            "{script:?}"
        );
        assert!(script[1].contains("（不读出）"), "{script:?}");
        assert!(
            script[2].starts_with("第 1 题答“没办过”的")
                && script[2].contains("不要提交问卷")
                && script[2].contains("记为“非服务对象”"),
            "{script:?}"
        );
        let unset = interviewer_script("", &Notice::default(), &forms.panel);
        assert_eq!(unset.len(), 2, "no screener, no screener line: {unset:?}");
        assert!(
            unset[0].contains("独立第三方") && !unset[0].contains("拨打"),
            "{unset:?}"
        );
    }

    #[test]
    fn questions_behind_the_screener_are_numbered_on_and_the_shipped_forms_take_3_minutes() {
        let forms = crate::forms::builtin().unwrap();
        let labels = question_labels(&forms.recipients);
        // Questions 2 to 6 are shown only to recipients (the screener), not follow-ups.
        assert!(forms.recipients.questions[1].show_if.is_some());
        assert_eq!(labels, ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        assert_eq!(length_note(&forms.recipients), "共 9 题,约 3 分钟。");
        assert_eq!(
            question_labels(&forms.panel),
            ["1", "2", "3", "4", "5", "6", "7", "8"]
        );
        assert_eq!(length_note(&forms.panel), "共 8 题,约 3 分钟。");
    }

    #[test]
    fn consecutive_and_nested_follow_ups_count_on_under_the_same_number() {
        let q = |id: &str, show_if: &str| {
            format!(
                "[[question]]\nid = \"{id}\"\ntype = \"single\"\ntext = \"{id}?\"\noptions = [\"是\", \"否\"]\n{show_if}\n"
            )
        };
        let source = [
            "kind = \"questionnaire\"\nid = \"t\"\nversion = \"1\"\naudience = \"recipients\"\ntitle = \"t\"\n".to_string(),
            q("a", ""),
            q("b", "show_if = { question = \"a\", any_of = [\"是\"] }"),
            q("c", "show_if = { question = \"b\", any_of = [\"是\"] }"),
            q("d", ""),
            q("e", "show_if = { question = \"a\", any_of = [\"否\"] }"),
            "[[question]]\nid = \"f\"\ntype = \"text\"\ntext = \"f?\"\nmax_chars = 100\n".to_string(),
        ]
        .concat();
        let form = crate::forms::parse_form("t.toml", &source).unwrap();
        assert_eq!(question_labels(&form), ["1", "1.1", "1.2", "2", "2.1", "3"]);
        // 2 choices and a text: 75 seconds, rounded up.
        assert_eq!(
            length_note(&form),
            "共 3 题(另有 3 道追问,视您的回答而定),约 2 分钟。"
        );
        // The note on a follow-up names the question it depends on by its label.
        let views = question_views(&form, &[], None);
        let condition = |i: usize| views[i].condition.clone().unwrap_or_default();
        assert!(
            condition(2).starts_with("第 1.1 题选择“是”"),
            "{}",
            condition(2)
        );
        assert!(
            condition(4).starts_with("第 1 题选择“否”"),
            "{}",
            condition(4)
        );
    }
}
