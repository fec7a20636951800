//! Authorisation through the real app: one table of every route × every
//! role with the status each must get, a check that the table names every route the source
//! registers, CSRF refusal on every state-changing form, a fresh session at login, and stored
//! (and reflected) text shown escaped on every page. Runs on SQLite, or PostgreSQL with
//! `MINYI_TEST_PG`.

use crate::common;

use common::*;
use minyi::ids::{AccountId, CampaignId, CaseId, ObjectionId};
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// The roles, in the order of the table's columns (and the order each row runs them in:
/// the roles allowed to change something come last, so a refusal is seen before a change).
const ROLES: [&str; 7] = [
    "anonymous",
    "respondent (holds a /s/ link)",
    "panel member (account and /p/ link)",
    "operator of V1 (this village)",
    "operator of V2 (another village)",
    "surveyor",
    "administrator",
];
const ANON: usize = 0;
const PANEL: usize = 2;
const OP_THIS: usize = 3;
const OP_OTHER: usize = 4;
const SURVEYOR: usize = 5;
const ADMIN: usize = 6;

/// 303 to the login form (a page asked for without a session). A plain 303 in the table is
/// a redirect anywhere else, so a session that silently stopped working is caught.
const LOGIN: u16 = 1303;

/// Which campaign fills `{id}`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Camp {
    /// In fieldwork: drawn, links out, a panel member with a personal link.
    F,
    /// Answered, closed and published (publicity running), with an objection.
    P,
    /// Still collecting rosters: the draw's actions run through it, in lifecycle order.
    C,
    /// Approved (its publicity period long over): archived, then purged.
    A,
}

/// What a request sends. Forms and multipart forms get the role's own CSRF token added
/// (a valid one for the sessions), so the authorisation check — not CSRF — decides.
#[derive(Clone, Copy, Debug)]
enum Body {
    /// No body.
    Empty,
    Form(&'static [(&'static str, &'static str)]),
    /// Multipart: text fields and a file (name, content).
    File(
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    ),
    /// The request body is the file (the JSON API's roster upload).
    Raw(&'static str),
    /// `POST /api/login` with a wrong password (for a username of the role's own, so the
    /// per-account lockout after failed logins does not decide).
    ApiLogin,
    /// The login form: fetched first for its token, then posted with a wrong password
    /// (for a username of the role's own, like [`Body::ApiLogin`]).
    Login,
    /// The SHA-256 of [`SEED_C`], for the seed commitment.
    Commitment,
    /// A complete set of answers to the recipients' questionnaire.
    Recipients,
    /// A complete set of answers to the panel's questionnaire.
    Panel,
    /// A results CSV for the surveyor's import (one `busy` attempt on a V2 case).
    ResultsCsv,
}

struct Row {
    method: &'static str,
    /// The route exactly as the source registers it.
    path: &'static str,
    camp: Camp,
    body: Body,
    /// Expected status per role, in [`ROLES`] order.
    expect: [u16; 7],
    /// The respondent uses a second link (the first one is answered by an earlier row).
    second_link: bool,
}

const fn r(
    method: &'static str,
    path: &'static str,
    camp: Camp,
    body: Body,
    expect: [u16; 7],
) -> Row {
    Row {
        method,
        path,
        camp,
        body,
        expect,
        second_link: false,
    }
}

const SEED_C: &str = "public dice 3 1 4 1 5 9 2 6 5 3 5";
const ROSTER: &str = "电话\n13700000001\n13700000002\n13700000003\n13700000004\n";
const TABLE_PHONES: [&str; 4] = ["13700000001", "13700000002", "13700000003", "13700000004"];
const PANEL_PHONE: &str = "13912345678";
const COMMENT_MARKER: &str = "意见原文标记QX7";

use Body::*;
use Camp::*;

/// Every route × every role. Path parameters: `{id}` the row's campaign (an account for
/// `/admin/accounts/…`), `{code}` V1, `{token}` the role's own link (a well-formed token
/// nobody was given for roles without one; the respondent's survey link on `/p/` and the
/// panel link on `/s/` must not work either), `{case}` a V1 case, `{oid}` an objection,
/// `{report}` a version of the assessment group's report on V1,
/// `{file}` `comments.csv`, `{name}` `comments`. Pages answer a missing session with a
/// redirect to the login form, the JSON API with 401; a wrong role gets 403; the village's
/// results before publication and links nobody holds get 404.
#[rustfmt::skip]
const ROUTES: &[Row] = &[
    //                                                                               anon   resp   panel  op V1  op V2  surv   admin
    // Pages and downloads (nothing changes).
    r("GET", "/", F, Empty,                                                         [LOGIN, LOGIN, 303,   303,   303,   303,   303]),
    r("GET", "/healthz", F, Empty,                                                  [200,   200,   200,   200,   200,   200,   200]),
    r("GET", "/robots.txt", F, Empty,                                               [200,   200,   200,   200,   200,   200,   200]),
    r("GET", "/panel", F, Empty,                                                    [LOGIN, LOGIN, 200,   403,   403,   403,   403]),
    r("GET", "/login", F, Empty,                                                    [200,   200,   200,   200,   200,   200,   200]),
    r("GET", "/password", F, Empty,                                                 [LOGIN, LOGIN, 200,   200,   200,   200,   200]),
    r("GET", "/admin", F, Empty,                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}", F, Empty,                                     [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/villages/{code}/receipt", F, Empty,             [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/villages", F, Empty,                                           [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/accounts", F, Empty,                                           [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/village", F, Empty,                                                  [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    r("GET", "/village/campaigns/{id}/receipt", F, Empty,                           [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    // The village archive: each operator its own files (a file of no village is not found).
    r("GET", "/village/archive", F, Empty,                                          [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    r("GET", "/village/archive/{attachment}", F, Empty,                             [LOGIN, LOGIN, 403,   404,   404,   403,   403]),
    r("GET", "/admin/archive", F, Empty,                                            [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/villages/{code}/archive", F, Empty,                            [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/villages/{code}/archive/{attachment}", F, Empty,               [LOGIN, LOGIN, 403,   403,   403,   403,   404]),
    r("GET", "/campaigns/{id}/draw", F, Empty,                                      [LOGIN, LOGIN, 403,   403,   403,   200,   200]),
    r("GET", "/campaigns/{id}/draw.json", F, Empty,                                 [LOGIN, LOGIN, 403,   403,   403,   200,   200]),
    r("GET", "/campaigns/{id}/draw.csv", F, Empty,                                  [LOGIN, LOGIN, 403,   403,   403,   200,   200]),
    r("GET", "/surveyor", F, Empty,                                                 [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}", F, Empty,                                  [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/villages/{code}", F, Empty,                  [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/sample.csv", F, Empty,                       [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/rosters/{code}", F, Empty,                   [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/sample.xlsx", F, Empty,                      [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/villages/{code}/roster.xlsx", F, Empty,      [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/admin/campaigns/{id}/panel", F, Empty,                               [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/s/{token}", F, Empty,                                                [404,   200,   404,   404,   404,   404,   404]),
    // The confirmation page of "我不想参加" (records nothing).
    r("GET", "/s/{token}/decline", F, Empty,                                        [404,   200,   404,   404,   404,   404,   404]),
    r("GET", "/p/{token}", F, Empty,                                                [404,   404,   200,   404,   404,   404,   404]),
    r("GET", "/p/{token}/v/{code}", F, Empty,                                       [404,   404,   200,   404,   404,   404,   404]),
    r("GET", "/surveyor/campaigns/{id}/console", F, Empty,                          [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/console/{code}", F, Empty,                   [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/cases.csv", F, Empty,                        [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/campaigns/{id}/cases.xlsx", F, Empty,                       [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/cases/{case}", F, Empty,                                    [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    // The call-back list shows phones in full: the surveyor's alone.
    r("GET", "/surveyor/campaigns/{id}/callbacks", F, Empty,                         [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/surveyor/cases/{case}/interview", F, Empty,                          [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("GET", "/admin/campaigns/{id}/progress", F, Empty,                            [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/results", P, Empty,                             [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/results/{code}", P, Empty,                      [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/downloads/{file}", P, Empty,                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/report", P, Empty,                              [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/report.docx", P, Empty,                         [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/results/{code}/report", P, Empty,               [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/results/{code}/report.docx", P, Empty,          [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/audit", F, Empty,                                              [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/audit.csv", F, Empty,                                          [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/calendar", F, Empty,                                           [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    // The title register, its CSV and a village's history across rounds: the commission's.
    r("GET", "/admin/titles", F, Empty,                                             [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/titles.csv", F, Empty,                                         [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/villages/{code}/history", P, Empty,                            [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    // The assessment group's report file: the commission's alone.
    r("GET", "/admin/campaigns/{id}/results/{code}/group-report/{report}/file", P, Empty,
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    // Each operator enters its own village's self-assessment; the path names no village.
    r("GET", "/village/campaigns/{id}/self-assessment", F, Empty,                   [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    // Each operator sees its own village's results, and only once they are published.
    r("GET", "/village/campaigns/{id}/results", P, Empty,                           [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    r("GET", "/village/campaigns/{id}/results", F, Empty,                           [LOGIN, LOGIN, 403,   404,   404,   403,   403]),
    // The publicity notice is posted in every village: any operator may see it once
    // published; before, there is none (400 for everyone allowed).
    r("GET", "/admin/campaigns/{id}/publicity/notice", P, Empty,                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/admin/campaigns/{id}/publicity/notice", F, Empty,                    [LOGIN, LOGIN, 403,   403,   403,   403,   400]),
    r("GET", "/admin/campaigns/{id}/publicity/notice.docx", P, Empty,               [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("GET", "/village/campaigns/{id}/publicity/notice", P, Empty,                  [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    r("GET", "/village/campaigns/{id}/publicity/notice", F, Empty,                  [LOGIN, LOGIN, 403,   400,   400,   403,   403]),
    r("GET", "/village/campaigns/{id}/publicity/notice.docx", P, Empty,             [LOGIN, LOGIN, 403,   200,   200,   403,   403]),
    // The JSON API, with bearer tokens from /api/login.
    r("GET", "/api/campaigns", F, Empty,                                            [401,   401,   403,   200,   200,   200,   200]),
    r("GET", "/api/campaigns/{id}/rosters", F, Empty,                               [401,   401,   403,   403,   403,   403,   200]),
    r("GET", "/api/campaigns/{id}/draw", F, Empty,                                  [401,   401,   403,   403,   403,   200,   200]),
    r("GET", "/api/campaigns/{id}/villages/{code}/roster", F, Empty,                [401,   401,   403,   200,   403,   403,   200]),
    r("GET", "/api/campaigns/{id}/results/{name}", P, Empty,                        [401,   401,   403,   403,   403,   403,   200]),

    // Actions, in an order in which each still makes sense after the ones before it.
    // Logging in is for everyone: a wrong password gets 401 whoever asks.
    r("POST", "/login", F, Login,                                                   [401,   401,   401,   401,   401,   401,   401]),
    // A new password too short: the form's own 400, once session and token were accepted.
    r("POST", "/password", F, Form(&[("current", "x"), ("new", "short"), ("repeat", "short")]),
                                                                                    [LOGIN, LOGIN, 400,   400,   400,   400,   400]),
    r("POST", "/admin/campaigns", F, Form(&[("name", "又一轮"), ("town", "唐家坊镇"), ("year", "2027")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/villages", F, Form(&[("code", "V9"), ("name", "九村")]),      [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/villages/import", F, File(&[], "villages.csv", "编码,名称\nV8,八村\n"),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("POST", "/admin/accounts", F, Form(&[("username", "newbie"), ("display_name", "新人"), ("role", "surveyor")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("POST", "/admin/accounts/{id}/reset", F, Form(&[]),                           [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("POST", "/admin/accounts/{id}/disable", F, Form(&[]),                         [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/accounts/{id}/enable", F, Form(&[]),                          [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/accounts/{id}/unlock", F, Form(&[]),                          [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    // Each operator hands in its own village's roster; the path names no village.
    r("POST", "/village/campaigns/{id}/roster", C, File(&[], "roster.csv", ROSTER), [LOGIN, LOGIN, 403,   303,   303,   403,   403]),
    // Applications: C takes none (created without the choice), so the allowed roles get the
    // form's own 400 ("本轮不需要申报"); the file is a PDF.
    r("POST", "/village/campaigns/{id}/application", C, File(&[], "report.pdf", "%PDF-1.4\n%%EOF\n"),
                                                                                    [LOGIN, LOGIN, 403,   400,   400,   403,   403]),
    r("POST", "/admin/campaigns/{id}/applications/{code}", C, Form(&[("decision", "accept")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   400]),
    r("POST", "/admin/campaigns/{id}/applications-due", C, Form(&[("day", "2026-09-30")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   400]),
    r("POST", "/village/archive", F, File(&[("period", "2026H1")], "report.pdf", "%PDF-1.4\n%%EOF\n"),
                                                                                    [LOGIN, LOGIN, 403,   303,   303,   403,   403]),
    r("POST", "/admin/campaigns/{id}/roster", C, File(&[("village", "V1")], "roster.csv", ROSTER),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("PUT", "/api/campaigns/{id}/villages/{code}/roster", C, Raw(ROSTER),          [401,   401,   403,   200,   403,   403,   200]),
    r("POST", "/api/campaigns/{id}/villages/{code}/roster", C, Raw(ROSTER),         [401,   401,   403,   200,   403,   403,   200]),
    r("POST", "/admin/campaigns/{id}/size-rule", C, Form(&[("method", "fixed"), ("size", "3")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/campaigns/{id}/seed-commitment", C, Commitment,                     [LOGIN, LOGIN, 403,   403,   403,   303,   303]),
    r("POST", "/admin/campaigns/{id}/freeze", C, Form(&[("confirm", "yes")]),       [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/campaigns/{id}/seed", C, Form(&[("seed", SEED_C)]),                 [LOGIN, LOGIN, 403,   403,   403,   303,   303]),
    r("POST", "/admin/campaigns/{id}/draw", C, Form(&[]),                           [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/fieldwork", C, Form(&[]),                      [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/notice", C,
        Form(&[("party", "某调查公司"), ("phone", "0739-1234567")]),             [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/notice-contact", C,
        Form(&[("phone", "0739-1234567"), ("address", "镇政府"), ("issuer", "镇纪委")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/creation-start", C, Form(&[("day", "2025-03-01")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/replacement-rules", C,
        Form(&[("on_refusal", "yes"), ("noncontact_attempts", "3"), ("noncontact_days", "2")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/close", C, Form(&[("confirm", "yes")]),        [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/panel", F, Form(&[("name", "李委员"), ("category", "政协委员"), ("phone", "")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/panel/links", F, Form(&[]),                    [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("POST", "/surveyor/campaigns/{id}/outbox", F, Form(&[("kind", "invite")]),    [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("POST", "/surveyor/cases/{case}/link", F, Form(&[]),                          [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("POST", "/surveyor/campaigns/{id}/results", F, ResultsCsv,                    [LOGIN, LOGIN, 403,   403,   403,   200,   403]),
    r("POST", "/surveyor/cases/{case}/attempts", F, Form(&[("outcome", "busy")]),   [LOGIN, LOGIN, 403,   403,   403,   303,   403]),
    r("POST", "/surveyor/campaigns/{id}/callbacks/{case}", F, Form(&[("outcome", "confirmed")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   303,   403]),
    r("POST", "/surveyor/cases/{case}/interview", F, Recipients,                    [LOGIN, LOGIN, 403,   403,   403,   303,   403]),
    r("POST", "/s/{token}", F, Recipients,                                          [404,   303,   404,   404,   404,   404,   404]),
    Row { second_link: true, ..r("POST", "/s/{token}/decline", F, Form(&[("confirm", "yes")]),
                                                                                    [404,   303,   404,   404,   404,   404,   404]) },
    r("POST", "/p/{token}/v/{code}", F, Panel,                                      [404,   404,   303,   404,   404,   404,   404]),
    // Publicity is running: the grades the proposed list rests on stay as published (400,
    // with the reason); the group's written report may still be added to.
    r("POST", "/admin/campaigns/{id}/results/{code}/grades", P, Form(&[("grade_1", "好"), ("note_1", "实地查看")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   400]),
    r("POST", "/admin/campaigns/{id}/results/{code}/override", P, Form(&[("grade", "较好"), ("reason", "复核")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   400]),
    r("POST", "/admin/campaigns/{id}/results/{code}/sources", P, Form(&[("source", "group"), ("grade_1", "好")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   400]),
    r("POST", "/admin/campaigns/{id}/results/{code}/group-report", P, File(&[("text", "评估组报告")], "report.pdf", "%PDF-1.4 评估组"),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    // The self-assessment closes when the results are published.
    r("POST", "/village/campaigns/{id}/self-assessment", F, Form(&[("grade_1", "好")]),
                                                                                    [LOGIN, LOGIN, 403,   303,   303,   403,   403]),
    r("POST", "/village/campaigns/{id}/self-assessment", P, Form(&[("grade_1", "好")]),
                                                                                    [LOGIN, LOGIN, 403,   400,   400,   403,   403]),
    r("POST", "/admin/campaigns/{id}/publicity", P, Form(&[("start", "2026-10-08")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/objections", P, Form(&[("summary", "有异议")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/objections/{oid}/resolve", P, Form(&[("decision", "dismissed"), ("reason", "不属实")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/proposed", P, Form(&[("village", "V1"), ("action", "add"), ("reason", "领导小组研究")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/title-years", P, Form(&[("years", "2")]),    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/decisions/{code}/study", P, Form(&[("studied_on", "2026-10-20"), ("minutes_ref", "纪要1号")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/decisions/{code}/decide", P,
        Form(&[("decision", "approved"), ("decided_on", "2026-10-21"), ("decision_ref", "镇党发〔2026〕1号")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/campaigns/{id}/approve", P, Form(&[]),                        [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    // The commission's archive of an approved campaign holds the frozen rosters with full
    // phone numbers (for `minyi verify`): see the report on this row. Exporting it records
    // the export, which the purge requires.
    r("POST", "/admin/campaigns/{id}/archive", A, Form(&[]),                         [LOGIN, LOGIN, 403,   403,   403,   403,   200]),
    r("POST", "/admin/campaigns/{id}/purge", A, Form(&[("confirm", "yes")]),        [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/calendar", F, File(&[], "cal.csv", "日期,类型,名称\n2026-10-01,放假,国庆节\n"),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/calendar/delete", F, Form(&[("day", "2026-10-01")]),          [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/admin/villages/{code}/contact-leader", F, Form(&[("contact_leader", "张副镇长")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    // `{id}` is a campaign's id here: the fixture grants no title, so the administrator
    // gets 404 (the authorisation check passed).
    r("POST", "/admin/titles/{id}/revoke", F, Form(&[("day", "2026-01-01"), ("reason", "复核未通过")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   404]),
    // No title in force: the administrator is sent back with the reason, nothing created.
    r("POST", "/admin/titles/review", F, Form(&[("name", "2028年复核"), ("town", "唐家坊镇"), ("year", "2028")]),
                                                                                    [LOGIN, LOGIN, 403,   403,   403,   403,   303]),
    r("POST", "/api/login", F, ApiLogin,                                            [401,   401,   401,   401,   401,   401,   401]),
    // Last: these end the sessions the rows above use.
    r("POST", "/api/logout", F, Empty,                                              [401,   401,   204,   204,   204,   204,   204]),
    r("POST", "/logout", F, Form(&[]),                                              [LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
];

// ---------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------

/// One role: its browser (cookie jar), a cookie-less client for the API with its bearer
/// token, its session's CSRF token, and the links it holds.
struct Actor {
    browser: reqwest::Client,
    api: reqwest::Client,
    csrf: String,
    bearer: Option<String>,
    link: String,
    second_link: String,
}

struct Fixture {
    app: TestApp,
    actors: Vec<Actor>,
    f: CampaignId,
    p: CampaignId,
    c: CampaignId,
    a: CampaignId,
    /// A V1 case in F that no link of the respondent belongs to.
    case: CaseId,
    /// A V2 case in F, for the results import.
    v2_case: CaseId,
    /// An objection in P.
    oid: ObjectionId,
    /// A version of the assessment group's report on V1 in P, with a file.
    report: i64,
    /// An account for reset / disable / enable.
    spare: AccountId,
    /// Every phone number in any roster or panel list.
    phones: Vec<String>,
}

fn v1_phones() -> Vec<String> {
    (0..30).map(|i| format!("138{:08}", i * 37)).collect()
}

fn v2_phones() -> Vec<String> {
    (0..5).map(|i| format!("139{:08}", i)).collect()
}

fn roster_v1() -> Vec<u8> {
    format!("电话\n{}\n", v1_phones().join("\n")).into_bytes()
}

fn roster_v2() -> Vec<u8> {
    let rows: String = v2_phones().iter().map(|p| format!("居民,{p}\n")).collect();
    format!("姓名,电话\n{rows}").into_bytes()
}

/// The id in a redirect to `/admin/campaigns/<id>`.
fn id_in(loc: &Option<String>) -> CampaignId {
    loc.as_deref()
        .and_then(|l| l.rsplit('/').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {loc:?}"))
}

async fn create_account(
    app: &TestApp,
    admin: &(reqwest::Client, String),
    username: &str,
    display_name: &str,
    role: &str,
) -> String {
    let (s, page, _) = post_form(
        &admin.0,
        &format!("{}/admin/accounts", app.base),
        &admin.1,
        &[
            ("username", username),
            ("display_name", display_name),
            ("role", role),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    one_time_password_in(&page)
}

async fn bearer(app: &TestApp, username: &str, password: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/api/login", app.base))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "API login of {username}");
    let v: serde_json::Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The personal links on the panel's printable sheet.
fn panel_links(sheet: &str) -> Vec<String> {
    sheet
        .split("class=\"link\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().replace("&#x2f;", "/"))
        .collect()
}

/// Freeze, seed, draw and start fieldwork, as the administrator.
/// A new campaign named `name` for `year`, with both villages' rosters uploaded.
async fn campaign_with_rosters(
    app: &TestApp,
    t: &Town,
    admin: &(reqwest::Client, String),
    name: &str,
    year: &str,
) -> CampaignId {
    let base = &app.base;
    let (s, _, loc) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns"),
        &admin.1,
        &[("name", name), ("town", "唐家坊镇"), ("year", year)],
    )
    .await;
    assert_eq!(s, 303);
    let id = id_in(&loc);
    for (op, bytes) in [(&t.op1, roster_v1()), (&t.op2, roster_v2())] {
        let (s, _, _) = upload(
            &op.0,
            &format!("{base}/village/campaigns/{id}/roster"),
            &op.1,
            "roster.csv",
            bytes,
            &[],
        )
        .await;
        assert_eq!(s, 303);
    }
    id
}

async fn draw_and_start(app: &TestApp, admin: &(reqwest::Client, String), id: CampaignId) {
    let base = &app.base;
    for (path, fields) in [
        ("freeze", &[("confirm", "yes")][..]),
        ("draw", &[][..]),
        ("fieldwork", &[][..]),
    ] {
        if path == "draw" {
            let (s, _, loc) = post_form(
                &admin.0,
                &format!("{base}/campaigns/{id}/seed"),
                &admin.1,
                &[("seed", "dice 6 6 1 2 3 4 5 6 1 2 3")],
            )
            .await;
            assert_eq!((s, location_query(&loc)), (303, "m=seed".to_string()));
        }
        let (s, _, loc) = post_form(
            &admin.0,
            &format!("{base}/admin/campaigns/{id}/{path}"),
            &admin.1,
            fields,
        )
        .await;
        assert_eq!(s, 303, "{path}");
        assert!(location_query(&loc).starts_with("m="), "{path}: {loc:?}");
    }
}

/// Answers of one recipient (the first option everywhere) with `comment` as the comment.
fn answers_json(form: &minyi::forms::Form, comment: &str) -> String {
    let mut fields: Vec<(String, String)> = valid_answers(form)
        .into_iter()
        .filter(|(k, _)| k != "comment")
        .collect();
    fields.push(("comment".into(), comment.into()));
    minyi::forms::parse_answers(form, &fields)
        .expect("valid answers")
        .to_json()
}

/// Store a phone interview of `case` directly.
async fn store_answer(app: &TestApp, case: &minyi::db::CaseRow, comment: &str) {
    let form = minyi::forms::builtin().unwrap().recipients;
    let r = minyi::db::NewResponse {
        campaign_id: case.campaign_id,
        village_id: case.village_id,
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        form_sha256: form.sha256.clone(),
        questionnaire: form.audience,
        answers_json: answers_json(&form, comment),
        duration: minyi::duration::Duration::Unknown,
    };
    assert!(
        app.db
            .submit_phone_interview(case.id, &r, AccountId(1))
            .await
            .unwrap()
    );
}

async fn fixture() -> Fixture {
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let base = app.base.clone();
    let f = t.campaign;
    let admin = (t.admin.0.clone(), t.admin.1.clone());

    // A panel account, and a spare account for the reset / disable / enable rows.
    let once = create_account(&app, &admin, "panel1", "王代表", "panel").await;
    let panel = client();
    let panel_csrf =
        login_and_set_password(&panel, &base, "panel1", &once, "panel-password-1").await;
    create_account(&app, &admin, "spare", "备用", "surveyor").await;
    let spare = app
        .db
        .account_by_username("spare")
        .await
        .unwrap()
        .unwrap()
        .id;

    // A panel member of F with a personal link.
    let (s, _, _) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{f}/panel"),
        &admin.1,
        &[
            ("name", "王代表"),
            ("category", "人大代表"),
            ("phone", PANEL_PHONE),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, sheet, _) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{f}/panel/links"),
        &admin.1,
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let panel_link = panel_links(&sheet)[0]
        .rsplit("/p/")
        .next()
        .unwrap()
        .to_string();

    // The survey links of F: the respondent holds two of V1's.
    let lines = invitations(&app, &sv, f).await;
    let cases = app.db.cases(f, None).await.unwrap();
    let v1_links: Vec<&(String, String)> = lines
        .iter()
        .filter(|(phone, _)| {
            cases
                .iter()
                .any(|c| &c.phone == phone && c.village_code == "V1")
        })
        .collect();
    let (link_a, link_b) = (v1_links[0].clone(), v1_links[1].clone());
    let case = cases
        .iter()
        .find(|c| c.village_code == "V1" && c.phone != link_a.0 && c.phone != link_b.0)
        .unwrap()
        .id;
    let v2_case = cases.iter().find(|c| c.village_code == "V2").unwrap().id;

    // P: answered (with a comment only the commission may read), closed and published.
    let p = campaign_with_rosters(&app, &t, &admin, "公示轮", "2026").await;
    draw_and_start(&app, &admin, p).await;
    let p_cases = app.db.cases(p, None).await.unwrap();
    for c in p_cases.iter().filter(|c| c.village_code == "V1").take(6) {
        store_answer(&app, c, COMMENT_MARKER).await;
    }
    for c in p_cases.iter().filter(|c| c.village_code == "V2").take(3) {
        store_answer(&app, c, COMMENT_MARKER).await;
    }
    let (s, _, loc) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{p}/close"),
        &admin.1,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!((s, location_query(&loc)), (303, "m=closed".to_string()));
    set_notice_contact(&base, &admin, p).await;
    let today = minyi::domain::today();
    let (s, _, loc) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{p}/publicity"),
        &admin.1,
        &[("start", today.as_str())],
    )
    .await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("m=published"), "{loc:?}");
    let (s, _, _) = post_form(
        &admin.0,
        &format!("{base}/admin/campaigns/{p}/objections"),
        &admin.1,
        &[("summary", "对一村结果有异议")],
    )
    .await;
    assert_eq!(s, 303);
    let oid = app.db.objections(p).await.unwrap()[0].id;
    let (s, body, _) = upload(
        &admin.0,
        &format!("{base}/admin/campaigns/{p}/results/V1/group-report"),
        &admin.1,
        "评估组报告.pdf",
        b"%PDF-1.4 fixture".to_vec(),
        &[("text", "评估组的情况报告")],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let v1 = app
        .db
        .list_villages()
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.code == "V1")
        .unwrap()
        .id;
    let report = app.db.group_reports(p, v1).await.unwrap()[0].id;

    // A: approved after a publicity period long over.
    let a = campaign_with_rosters(&app, &t, &admin, "归档轮", "2025").await;
    draw_and_start(&app, &admin, a).await;
    set_notice_contact(&base, &admin, a).await;
    for (path, fields) in [
        ("close", &[("confirm", "yes")][..]),
        ("publicity", &[("start", "2026-01-05")][..]),
        ("approve", &[][..]),
    ] {
        let (s, _, loc) = post_form(
            &admin.0,
            &format!("{base}/admin/campaigns/{a}/{path}"),
            &admin.1,
            fields,
        )
        .await;
        assert_eq!(s, 303);
        assert!(location_query(&loc).starts_with("m="), "{path}: {loc:?}");
    }

    // C: collecting, both rosters in.
    let c = campaign_with_rosters(&app, &t, &admin, "收集轮", "2026").await;

    let nobody = || minyi::secrets::link_token().0;
    let actor = |browser: reqwest::Client, csrf: String, bearer: Option<String>| Actor {
        browser,
        api: reqwest::Client::new(),
        csrf,
        bearer,
        link: nobody(),
        second_link: nobody(),
    };
    let actors = vec![
        actor(client(), String::new(), None),
        Actor {
            link: link_a.1.clone(),
            second_link: link_b.1.clone(),
            ..actor(client(), String::new(), None)
        },
        Actor {
            link: panel_link.clone(),
            second_link: panel_link,
            ..actor(
                panel,
                panel_csrf,
                Some(bearer(&app, "panel1", "panel-password-1").await),
            )
        },
        actor(
            t.op1.0.clone(),
            t.op1.1.clone(),
            Some(bearer(&app, "op1", "village-password-1").await),
        ),
        actor(
            t.op2.0.clone(),
            t.op2.1.clone(),
            Some(bearer(&app, "op2", "village-password-1").await),
        ),
        actor(
            sv.0.clone(),
            sv.1.clone(),
            Some(bearer(&app, "survey", "fieldwork-key-2026").await),
        ),
        actor(
            admin.0.clone(),
            admin.1.clone(),
            Some(bearer(&app, "admin", "commission-2026-key").await),
        ),
    ];
    let mut phones: Vec<String> = v1_phones().into_iter().chain(v2_phones()).collect();
    phones.extend(TABLE_PHONES.iter().map(|p| p.to_string()));
    phones.push(PANEL_PHONE.to_string());
    Fixture {
        app,
        actors,
        f,
        p,
        c,
        a,
        case,
        v2_case,
        oid,
        report,
        spare,
        phones,
    }
}

// ---------------------------------------------------------------------------------------
// Running a row
// ---------------------------------------------------------------------------------------

/// The row's path with its parameters filled in for `role`.
fn fill(fx: &Fixture, row: &Row, role: usize) -> String {
    let actor = &fx.actors[role];
    let id = if row.path.starts_with("/admin/accounts/") {
        fx.spare.to_string()
    } else {
        match row.camp {
            F => fx.f,
            P => fx.p,
            C => fx.c,
            A => fx.a,
        }
        .to_string()
    };
    let token = if row.second_link {
        &actor.second_link
    } else {
        &actor.link
    };
    let path = row
        .path
        .replace("{id}", &id)
        .replace("{code}", "V1")
        .replace("{token}", token)
        .replace("{case}", &fx.case.to_string())
        .replace("{oid}", &fx.oid.to_string())
        .replace("{report}", &fx.report.to_string())
        .replace("{file}", "comments.csv")
        .replace("{name}", "comments")
        .replace("{attachment}", "999999");
    assert!(
        !path.contains('{'),
        "{}: a path parameter the test does not know; add it to fill()",
        row.path
    );
    path
}

fn commitment() -> String {
    minyi::sampling::Seed::parse(SEED_C).unwrap().commitment()
}

fn recipients_answers() -> Vec<(String, String)> {
    valid_answers(&minyi::forms::builtin().unwrap().recipients)
}

fn panel_answers() -> Vec<(String, String)> {
    valid_answers(&minyi::forms::builtin().unwrap().panel)
}

fn results_csv(fx: &Fixture) -> String {
    // A minute ago: after the case's release (the fixture was made moments ago).
    let at = minyi::domain::local_time(minyi::domain::now() - 60);
    format!("case_id,attempt_time,outcome\n{},{at},busy\n", fx.v2_case)
}

/// How the CSRF token goes with a request.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Csrf {
    /// The role's own (valid for a session).
    Own,
    /// Left out.
    Missing,
    /// Present but not the session's.
    Wrong,
}

struct Reply {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

/// Send the row's request as `role`. `cookie_api` sends an API request with the browser's
/// session cookie instead of the bearer token. `origin` adds an `Origin` header.
async fn send(
    fx: &Fixture,
    row: &Row,
    role: usize,
    csrf: Csrf,
    cookie_api: bool,
    origin: Option<&str>,
) -> Reply {
    let actor = &fx.actors[role];
    let path = fill(fx, row, role);
    let url = format!("{}{path}", fx.app.base);
    let api = path.starts_with("/api/");
    let http = if api && !cookie_api {
        &actor.api
    } else {
        &actor.browser
    };
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut req = http.request(method, &url);
    if let Some(b) = actor.bearer.as_ref().filter(|_| api && !cookie_api) {
        req = req.bearer_auth(b);
    }
    if api && cookie_api {
        match csrf {
            Csrf::Own => req = req.header("x-csrf-token", &actor.csrf),
            Csrf::Wrong => req = req.header("x-csrf-token", "forged-token"),
            Csrf::Missing => {}
        }
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let token = match csrf {
        Csrf::Own => Some(actor.csrf.clone()),
        Csrf::Missing => None,
        Csrf::Wrong => Some("forged-token".to_string()),
    };
    let with_token = |fields: Vec<(String, String)>| {
        let mut all: Vec<(String, String)> = token
            .iter()
            .map(|t| ("_csrf".to_string(), t.clone()))
            .collect();
        all.extend(fields);
        all
    };
    let owned = |fields: &[(&str, &str)]| -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let multipart = |fields: Vec<(String, String)>, name: &str, content: Vec<u8>| {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in with_token(fields) {
            form = form.text(k, v);
        }
        form.part(
            "file",
            reqwest::multipart::Part::bytes(content).file_name(name.to_string()),
        )
    };
    req = match row.body {
        Empty => req,
        Form(fields) => req.form(&with_token(owned(fields))),
        File(fields, name, content) => {
            req.multipart(multipart(owned(fields), name, content.as_bytes().to_vec()))
        }
        Raw(text) => req.body(text.as_bytes().to_vec()),
        ApiLogin => req.json(&serde_json::json!({
            "username": format!("nobody{role}"),
            "password": "wrong-password-1",
        })),
        Login => {
            let (_, page) = get_text(&actor.browser, &format!("{}/login", fx.app.base)).await;
            let login_token = match csrf {
                Csrf::Own => Some(csrf_in(&page)),
                Csrf::Missing => None,
                Csrf::Wrong => Some("forged-token".to_string()),
            };
            let mut fields: Vec<(String, String)> = login_token
                .map(|t| ("_csrf".to_string(), t))
                .into_iter()
                .collect();
            fields.extend(owned(&[
                ("username", &format!("nobody{role}")),
                ("password", "wrong-password-1"),
                ("next", "/"),
            ]));
            req.form(&fields)
        }
        Commitment => req.form(&with_token(vec![("commitment".to_string(), commitment())])),
        // The link routes take no token; the surveyor's phone interview does.
        Recipients if path.starts_with("/s/") => req.form(&recipients_answers()),
        Recipients => req.form(&with_token(recipients_answers())),
        Panel => req.form(&panel_answers()),
        ResultsCsv => req.multipart(multipart(
            Vec::new(),
            "results.csv",
            results_csv(fx).into_bytes(),
        )),
    };
    let r = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(String::from);
    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Reply {
        status,
        location,
        body,
    }
}

/// Whether a reply is what `expected` says; `None` if so, else what went wrong.
fn judge(reply: &Reply, expected: u16) -> Option<String> {
    let ok = match expected {
        LOGIN => reply.status == 303 && reply.location.as_deref() == Some("/login"),
        303 => reply.status == 303 && reply.location.as_deref() != Some("/login"),
        s => reply.status == s,
    };
    if ok {
        return None;
    }
    let want = match expected {
        LOGIN => "303 → /login".to_string(),
        303 => "303 (not to /login)".to_string(),
        s => s.to_string(),
    };
    Some(format!("expected {want}, got {}", describe(reply)))
}

/// A reply in a line: status, and where it redirects or the start of its page.
fn describe(reply: &Reply) -> String {
    match &reply.location {
        Some(l) => format!("{} → {l}", reply.status),
        None => {
            let text = String::from_utf8_lossy(&reply.body);
            let snippet: String = text
                .split("<main>")
                .last()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_control())
                .take(160)
                .collect();
            format!("{} {snippet}", reply.status)
        }
    }
}

/// What no role but the surveyor may ever read: full phone numbers; what only the
/// commission may read: comments; what one village must not read about the other.
fn leaks(fx: &Fixture, role: usize, body: &str) -> Vec<String> {
    let mut found = Vec::new();
    if role != SURVEYOR
        && let Some(p) = fx.phones.iter().find(|p| body.contains(p.as_str()))
    {
        found.push(format!("a full phone number ({p})"));
    }
    if role != ADMIN && body.contains(COMMENT_MARKER) {
        found.push("a respondent's comment".into());
    }
    let other_village = match role {
        OP_THIS => Some("二村"),
        OP_OTHER => Some("一村"),
        _ => None,
    };
    if let Some(name) = other_village.filter(|n| body.contains(n)) {
        found.push(format!("the other village ({name})"));
    }
    found
}

fn label(fx: &Fixture, row: &Row, role: usize) -> String {
    format!(
        "{} {} [{:?}: {}] as {}",
        row.method,
        row.path,
        row.camp,
        fill(fx, row, role),
        ROLES[role]
    )
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let fx = fixture().await;
    let mut failures = Vec::new();
    // The leak checks must be able to see what they look for where it belongs.
    let (mut surveyor_saw_phones, mut admin_saw_comments) = (false, false);
    for row in ROUTES {
        for role in 0..ROLES.len() {
            let reply = send(&fx, row, role, Csrf::Own, false, None).await;
            if let Some(problem) = judge(&reply, row.expect[role]) {
                failures.push(format!("{}: {problem}", label(&fx, row, role)));
            }
            if (200..300).contains(&reply.status) {
                let body = String::from_utf8_lossy(&reply.body);
                for leak in leaks(&fx, role, &body) {
                    failures.push(format!("{}: the reply shows {leak}", label(&fx, row, role)));
                }
                surveyor_saw_phones |= role == SURVEYOR && body.contains(&fx.phones[0]);
                admin_saw_comments |= role == ADMIN && body.contains(COMMENT_MARKER);
            }
        }
    }
    assert!(
        surveyor_saw_phones && admin_saw_comments,
        "the leak checks saw nothing: surveyor phones {surveyor_saw_phones}, admin comments {admin_saw_comments}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cells differ from the table:\n{}",
        failures.len(),
        ROUTES.len() * ROLES.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// The table is complete
// ---------------------------------------------------------------------------------------

#[test]
fn the_table_names_every_route_the_app_has() {
    let in_source = common::routes::routes_in_source();
    assert!(
        in_source.len() > 60,
        "the route scan found only {} routes",
        in_source.len()
    );
    let in_table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = in_source.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "routes with no row in the authorisation table (add one per route with the status each role must get): {missing:?}"
    );
    let stale: Vec<_> = in_table.difference(&in_source).collect();
    assert!(
        stale.is_empty(),
        "rows for routes the app no longer has: {stale:?}"
    );
}

// ---------------------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------------------

/// One line per item, so a difference names the item that changed.
fn lines<T: std::fmt::Debug>(label: &str, items: &[T]) -> String {
    items.iter().map(|i| format!("{label}: {i:?}\n")).collect()
}

/// Everything the actions in the table could change, as text.
async fn snapshot(fx: &Fixture) -> String {
    let db = &fx.app.db;
    let mut s = lines("village", &db.list_villages().await.unwrap());
    s += &lines("account", &db.list_accounts().await.unwrap());
    s += &lines("campaign", &db.list_campaigns().await.unwrap());
    s += &lines("calendar", &db.calendar().await.unwrap());
    for id in [fx.f, fx.p, fx.c, fx.a] {
        let one = |label: &str| format!("campaign {id} {label}");
        s += &lines(&one("roster"), &db.roster_statuses(id).await.unwrap());
        s += &lines(&one("seed"), &[db.seed_state(id).await.unwrap()]);
        s += &lines(&one("draw"), &[db.draw_record(id).await.unwrap()]);
        s += &lines(&one("case"), &db.cases(id, None).await.unwrap());
        s += &lines(&one("objection"), &db.objections(id).await.unwrap());
        s += &lines(&one("override"), &db.overrides(id).await.unwrap());
        s += &lines(&one("grade"), &db.item_grades(id).await.unwrap());
        for v in db.list_villages().await.unwrap() {
            s += &lines(
                &one("grade entry"),
                &db.grade_entries(id, v.id).await.unwrap(),
            );
            s += &lines(
                &one("group report"),
                &db.group_reports(id, v.id).await.unwrap(),
            );
        }
        s += &lines(&one("negative"), &db.negative_findings(id).await.unwrap());
        s += &lines(&one("publicity"), &[db.publicity(id).await.unwrap()]);
        s += &lines(
            &one("notice contact"),
            &[db.objection_contact(id).await.unwrap()],
        );
        s += &lines(&one("panel member"), &db.panel_members(id).await.unwrap());
        s += &lines(&one("rules"), &[db.replacement_rules(id).await.unwrap()]);
        s += &lines(&one("archive"), &[db.archive_state(id).await.unwrap()]);
        s += &lines(&one("frame"), &db.campaign_frames(id).await.unwrap());
        for questionnaire in [
            minyi::forms::Audience::Recipients,
            minyi::forms::Audience::Panel,
        ] {
            let n = db.count_answers(id, questionnaire).await.unwrap();
            s += &lines(&one(&format!("{} answers", questionnaire.key())), &[n]);
        }
    }
    for case in [fx.case, fx.v2_case] {
        s += &lines(
            &format!("attempt on case {case}"),
            &db.attempts(case).await.unwrap(),
        );
    }
    s
}

/// The first logged-in role the table lets through (the one to try forging requests as).
fn allowed_session_role(row: &Row) -> Option<usize> {
    (PANEL..=ADMIN).find(|&role| row.expect[role] < 400 || row.expect[role] == LOGIN)
}

#[tokio::test]
async fn every_state_changing_form_needs_the_session_csrf_token() {
    let fx = fixture().await;
    let before = snapshot(&fx).await;
    let mut failures = Vec::new();
    let mut tried = 0;
    for row in ROUTES {
        // Links (/s/, /p/) carry no session to ride on; /api/login makes none of its own.
        let session_write = row.method != "GET"
            && !row.path.starts_with("/s/")
            && !row.path.starts_with("/p/")
            && row.path != "/api/login";
        // The login form has a token of its own (double-submitted in a cookie).
        let role = if row.path == "/login" {
            Some(ANON)
        } else {
            allowed_session_role(row)
        };
        let Some(role) = role.filter(|_| session_write) else {
            continue;
        };
        tried += 1;
        let api = row.path.starts_with("/api/");
        let mut attempts = vec![(Csrf::Missing, None), (Csrf::Wrong, None)];
        if !api {
            // The Origin check (defence in depth beside the token): the valid token from
            // another site's page is refused too.
            attempts.push((Csrf::Own, Some("http://evil.example")));
        }
        for (csrf, origin) in attempts {
            let reply = send(&fx, row, role, csrf, api, origin).await;
            let body = String::from_utf8_lossy(&reply.body);
            let csrf_refusal = if api {
                body.contains("CSRF")
            } else {
                body.contains("页面已过期")
            };
            if reply.status != 403 || !csrf_refusal {
                failures.push(format!(
                    "{} with CSRF token {csrf:?}{}: expected 403 (CSRF), got {}",
                    label(&fx, row, role),
                    origin.map(|o| format!(", Origin {o}")).unwrap_or_default(),
                    describe(&reply)
                ));
            }
        }
    }
    assert!(tried >= 36, "only {tried} state-changing routes tried");
    // Nothing changed, and no session ended.
    let after = snapshot(&fx).await;
    if before != after {
        let (old, new): (BTreeSet<&str>, BTreeSet<&str>) =
            (before.lines().collect(), after.lines().collect());
        let diff: Vec<String> = old
            .difference(&new)
            .map(|l| format!("- {l}"))
            .chain(new.difference(&old).map(|l| format!("+ {l}")))
            .collect();
        failures.push(format!(
            "refused requests changed state:\n{}",
            diff.join("\n")
        ));
    }
    for (role, actor) in fx.actors.iter().enumerate().skip(PANEL) {
        let (s, _) = get_text(&actor.browser, &format!("{}/password", fx.app.base)).await;
        if s != 200 {
            failures.push(format!(
                "{} was logged out by a forged request",
                ROLES[role]
            ));
        }
    }
    // A forged password change with the right current password changes nothing.
    let (s, _, _) = post_form(
        &fx.actors[OP_THIS].browser,
        &format!("{}/password", fx.app.base),
        "",
        &[
            ("current", "village-password-1"),
            ("new", "hijacked-password"),
            ("repeat", "hijacked-password"),
        ],
    )
    .await;
    assert_eq!(s, 403);
    bearer(&fx.app, "op1", "village-password-1").await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------

/// A browser without a cookie jar: the test sets every cookie by hand.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value a response sets for cookie `name`.
fn cookie_set(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Log in through the form with `planted` already in the browser as its session cookie.
/// Returns (status, the session cookie the response sets).
async fn login_over(
    base: &str,
    username: &str,
    password: &str,
    planted: Option<&str>,
) -> (u16, Option<String>) {
    let c = bare_client();
    let r = c.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = cookie_set(&r, "minyi_login_csrf").expect("login form cookie");
    let token = csrf_in(&r.text().await.unwrap());
    let mut cookie = format!("minyi_login_csrf={login_cookie}");
    if let Some(p) = planted {
        cookie += &format!("; minyi_session={p}");
    }
    let r = c
        .post(format!("{base}/login"))
        .header("cookie", cookie)
        .form(&[
            ("_csrf", token.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), cookie_set(&r, "minyi_session"))
}

/// GET `path` with `session` as the session cookie: (status, Location, page).
async fn with_session(base: &str, session: &str, path: &str) -> (u16, String, String) {
    let r = bare_client()
        .get(format!("{base}{path}"))
        .header("cookie", format!("minyi_session={session}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// Whether `session` is a live session (it reaches the password page).
async fn alive(base: &str, session: &str) -> bool {
    with_session(base, session, "/password").await.0 == 200
}

#[tokio::test]
async fn login_always_starts_a_new_session_and_ends_the_one_the_browser_had() {
    let app = spawn().await;
    let t = town(&app).await;
    let base = app.base.as_str();
    let admin_pw = "commission-2026-key";

    // A value an attacker chose and planted: never adopted, a fresh one is issued.
    let planted = "attacker-chosen-session-value-0123456789";
    let (s, fresh) = login_over(base, "admin", admin_pw, Some(planted)).await;
    assert_eq!(s, 303);
    let fresh = fresh.expect("a session cookie at login");
    assert_ne!(fresh, planted);
    assert!(
        !alive(base, planted).await,
        "the planted value is no session"
    );
    assert_eq!(with_session(base, &fresh, "/admin").await.0, 200);

    // A live session planted in the victim's browser (the attacker's own login as V2's
    // operator): logging in replaces it, and the planted token is dead afterwards.
    let (_, attacker) = login_over(base, "op2", "village-password-1", None).await;
    let attacker = attacker.unwrap();
    assert_eq!(with_session(base, &attacker, "/village").await.0, 200);
    let (s, victim) = login_over(base, "admin", admin_pw, Some(&attacker)).await;
    assert_eq!(s, 303);
    let victim = victim.unwrap();
    assert_ne!(victim, attacker, "the session cookie changes at login");
    assert_eq!(
        with_session(base, &attacker, "/village").await,
        (303, "/login".to_string(), String::new()),
        "the old session token no longer works"
    );
    assert_eq!(with_session(base, &victim, "/admin").await.0, 200);
    assert_eq!(with_session(base, &victim, "/village").await.0, 403);

    // Logging in again in the same browser: new token, new CSRF token, the old ones dead.
    let (_, _, page) = with_session(base, &victim, "/password").await;
    let old_csrf = csrf_in(&page);
    let (_, again) = login_over(base, "admin", admin_pw, Some(&victim)).await;
    let again = again.unwrap();
    assert_ne!(again, victim);
    assert!(!alive(base, &victim).await);
    let (_, _, page) = with_session(base, &again, "/password").await;
    let new_csrf = csrf_in(&page);
    assert_ne!(new_csrf, old_csrf, "the CSRF token belongs to the session");
    let post = |token: String| {
        bare_client()
            .post(format!("{base}/admin/villages"))
            .header("cookie", format!("minyi_session={again}"))
            .form(&[
                ("_csrf", token),
                ("code", "V7".to_string()),
                ("name", "七村".to_string()),
            ])
            .send()
    };
    assert_eq!(post(old_csrf).await.unwrap().status(), 403);
    assert_eq!(post(new_csrf.clone()).await.unwrap().status(), 303);

    // A failed login leaves the browser's session as it was (nothing was authenticated).
    let (s, none) = login_over(base, "admin", "wrong-password-1", Some(&again)).await;
    assert_eq!((s, none), (401, None));
    assert!(alive(base, &again).await);

    // Logging out ends the session on the server, not only in the browser.
    let r = bare_client()
        .post(format!("{base}/logout"))
        .header("cookie", format!("minyi_session={again}"))
        .form(&[("_csrf", new_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!alive(base, &again).await, "a logged-out token replayed");
    let last = app
        .db
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.event, "logout");

    // A password change ends the account's other sessions (and API tokens), not this one.
    let (_, other) = login_over(base, "op1", "village-password-1", None).await;
    let other = other.unwrap();
    let api = bearer(&app, "op1", "village-password-1").await;
    let (op1, op1_csrf) = &t.op1;
    let (s, _, _) = post_form(
        op1,
        &format!("{base}/password"),
        op1_csrf,
        &[
            ("current", "village-password-1"),
            ("new", "village-password-2"),
            ("repeat", "village-password-2"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(get_text(op1, &format!("{base}/village")).await.0, 200);
    assert!(
        !alive(base, &other).await,
        "another browser's session ended"
    );
    let r = reqwest::Client::new()
        .get(format!("{base}/api/campaigns"))
        .bearer_auth(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "API token ended with the password change");

    // Disabling an account ends its sessions at once.
    let op2_id = app.db.account_by_username("op2").await.unwrap().unwrap().id;
    let (s, _, _) = post_form(
        &t.admin.0,
        &format!("{base}/admin/accounts/{op2_id}/disable"),
        &t.admin.1,
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let r = t.op2.0.get(format!("{base}/village")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login");
}

// ---------------------------------------------------------------------------------------
// Stored (and reflected) text is escaped on every page
// ---------------------------------------------------------------------------------------

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// A text as an auto-escaping template shows it (minijinja's HTML escaping).
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// A CSV field, quoted.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Collects the pages checked and what was wrong with them.
#[derive(Default)]
struct Pages {
    checked: usize,
    problems: Vec<String>,
}

impl Pages {
    /// `page` (named `what`) must hold no live markup from the payloads and must show
    /// each of `shown` in its escaped form.
    fn check(&mut self, what: &str, status: u16, page: &str, shown: &[&str]) {
        self.checked += 1;
        if !(200..300).contains(&status) && status != 400 && status != 401 && status != 422 {
            self.problems
                .push(format!("{what}: status {status}, no page to look at"));
            return;
        }
        for raw in ["<script>alert", "<img src=x", "onerror=alert(1)>"] {
            if let Some(at) = page.find(raw) {
                let from = page[..at]
                    .char_indices()
                    .rev()
                    .nth(40)
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                let context: String = page[from..].chars().take(120).collect();
                self.problems
                    .push(format!("{what}: raw {raw:?} in the page: …{context}…"));
            }
        }
        for text in shown {
            if !page.contains(&esc(text)) {
                self.problems
                    .push(format!("{what}: does not show {text:?} (escaped)"));
            }
        }
    }

    async fn get(&mut self, c: &reqwest::Client, base: &str, path: &str, shown: &[&str]) {
        let (status, page) = get_text(c, &format!("{base}{path}")).await;
        self.check(&format!("GET {path}"), status, &page, shown);
    }
}

#[tokio::test]
async fn stored_text_is_shown_escaped_on_every_page() {
    let app = spawn().await;
    let base = app.base.as_str();
    let admin = admin_client(&app).await;
    let (a, a_csrf) = (&admin.0, admin.1.as_str());
    let v1 = format!("东村{SCRIPT}");
    let v2 = format!("西村{IMG}");
    let v3 = format!("南村{IMG}");
    let campaign_name = format!("验收{SCRIPT}{IMG}");
    let (op1_name, op2_name) = (format!("村官{SCRIPT}"), format!("村干{IMG}"));
    let (surveyor_name, panel_account_name) = (format!("调查{IMG}"), format!("代表{SCRIPT}"));
    let (member1, member2) = (format!("王{SCRIPT}"), format!("李{IMG}"));
    let (name_a, name_b) = (format!("张{SCRIPT}"), format!("赵{IMG}"));
    let v2_resident = format!("钱{IMG}");
    let file_name = "名单<img src=x onerror=alert(1)>.csv";
    let column = format!("备注{SCRIPT}");
    let long = |prefix: &str| format!("{prefix}{SCRIPT}{IMG}");
    let (comment, note, reason) = (long("意见"), long("备注"), long("理由"));
    let (summary, resolution, holiday) = (long("异议"), long("处理"), long("节日"));
    let (negative_note, item_note) = (long("情形"), long("说明"));
    let mut pages = Pages::default();

    // Villages (by hand and by import), the campaign, the accounts.
    for (code, name) in [("V1", &v1), ("V2", &v2)] {
        let (s, body, _) = post_form(
            a,
            &format!("{base}/admin/villages"),
            a_csrf,
            &[("code", code), ("name", name)],
        )
        .await;
        assert_eq!(s, 303, "{body}");
    }
    let (s, page, _) = upload(
        a,
        &format!("{base}/admin/villages/import"),
        a_csrf,
        "villages.csv",
        format!("编码,名称\nV3,{}\n", quoted(&v3)).into_bytes(),
        &[],
    )
    .await;
    pages.check("POST /admin/villages/import", s, &page, &[&v1, &v2, &v3]);
    let (s, _, loc) = post_form(
        a,
        &format!("{base}/admin/campaigns"),
        a_csrf,
        &[
            ("name", &campaign_name),
            ("town", "唐家坊镇"),
            ("year", "2026"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let id = id_in(&loc);
    let mut logged_in = Vec::new();
    for (user, display, role, village) in [
        ("op1", &op1_name, "village", "V1"),
        ("op2", &op2_name, "village", "V2"),
        ("survey", &surveyor_name, "surveyor", ""),
        ("panel1", &panel_account_name, "panel", ""),
    ] {
        let (s, page, _) = post_form(
            a,
            &format!("{base}/admin/accounts"),
            a_csrf,
            &[
                ("username", user),
                ("display_name", display),
                ("role", role),
                ("village", village),
            ],
        )
        .await;
        assert_eq!(s, 200, "{page}");
        let c = client();
        let csrf = login_and_set_password(
            &c,
            base,
            user,
            &one_time_password_in(&page),
            "a-password-of-their-own",
        )
        .await;
        logged_in.push((c, csrf));
    }
    let [op1, op2, sv, panel] = <[(reqwest::Client, String); 4]>::try_from(logged_in).unwrap();

    // Rosters: names in the 姓名 column, a column the import drops, a row it refuses, and
    // the file's name.
    let mut roster = format!("姓名,电话,{}\n", quoted(&column));
    for (i, phone) in v1_phones().iter().enumerate() {
        let name = if i % 2 == 0 { &name_a } else { &name_b };
        roster += &format!("{},{phone},x\n", quoted(name));
    }
    roster += &format!("{},{},x\n", quoted(&name_a), quoted(IMG));
    let (s, _, _) = upload(
        &op1.0,
        &format!("{base}/village/campaigns/{id}/roster"),
        &op1.1,
        file_name,
        roster.into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let v2_roster: String = v2_phones()
        .iter()
        .map(|p| format!("{},{p}\n", quoted(&v2_resident)))
        .collect();
    let (s, _, _) = upload(
        &op2.0,
        &format!("{base}/village/campaigns/{id}/roster"),
        &op2.1,
        "v2.csv",
        format!("姓名,电话\n{v2_roster}").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let file_shown = "名单<img src=x onerror=alert(1)>";

    pages.get(a, base, "/admin", &[&campaign_name]).await;
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}"),
            &[&campaign_name, &v1, &v2],
        )
        .await;
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/villages/V1/receipt"),
            &[&campaign_name, &v1, file_shown, &column],
        )
        .await;
    pages
        .get(a, base, "/admin/villages", &[&v1, &v2, &v3])
        .await;
    pages
        .get(
            a,
            base,
            "/admin/accounts",
            &[
                &op1_name,
                &op2_name,
                &surveyor_name,
                &panel_account_name,
                &v1,
                &v2,
            ],
        )
        .await;
    pages
        .get(
            &op1.0,
            base,
            "/village",
            &[&op1_name, &v1, &campaign_name, file_shown],
        )
        .await;
    pages
        .get(
            &op1.0,
            base,
            &format!("/village/campaigns/{id}/receipt"),
            &[&v1, &campaign_name, file_shown, &column],
        )
        .await;
    pages
        .get(&sv.0, base, "/surveyor", &[&surveyor_name, &campaign_name])
        .await;

    // The draw and fieldwork; the panel with its personal links.
    draw_and_start(&app, &admin, id).await;
    for (name, category) in [(&member1, "人大代表"), (&member2, "政协委员")] {
        let (s, _, _) = post_form(
            a,
            &format!("{base}/admin/campaigns/{id}/panel"),
            a_csrf,
            &[("name", name), ("category", category), ("phone", "")],
        )
        .await;
        assert_eq!(s, 303);
    }
    let (s, sheet, _) = post_form(
        a,
        &format!("{base}/admin/campaigns/{id}/panel/links"),
        a_csrf,
        &[],
    )
    .await;
    pages.check(
        "POST /admin/campaigns/{id}/panel/links (the printable sheet)",
        s,
        &sheet,
        &[&campaign_name, &member1, &member2],
    );
    let panel_link = panel_links(&sheet)[0]
        .rsplit("/p/")
        .next()
        .unwrap()
        .to_string();
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/panel"),
            &[&campaign_name, &member1, &member2],
        )
        .await;
    for path in [format!("/campaigns/{id}/draw")] {
        pages.get(a, base, &path, &[&campaign_name, &v1, &v2]).await;
        pages
            .get(&sv.0, base, &path, &[&campaign_name, &v1, &v2])
            .await;
    }
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/campaigns/{id}"),
            &[&campaign_name, &v1, &v2],
        )
        .await;
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/campaigns/{id}/villages/V1"),
            &[&v1, &name_a, &name_b],
        )
        .await;
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/campaigns/{id}/villages/V2"),
            &[&v2, &v2_resident],
        )
        .await;

    // The surveyor: an attempt with a note, a phone interview with a comment, an import
    // whose header names a column that does not exist.
    let lines = invitations(&app, &sv, id).await;
    let cases = app.db.cases(id, None).await.unwrap();
    let linked = |c: &&minyi::db::CaseRow| lines.iter().any(|(p, _)| p == &c.phone);
    let v1_cases: Vec<&minyi::db::CaseRow> =
        cases.iter().filter(|c| c.village_code == "V1").collect();
    let (called, interviewed) = (v1_cases[0], v1_cases[1]);
    assert!(linked(&called));
    let (s, _, _) = post_form(
        &sv.0,
        &format!("{base}/surveyor/cases/{}/attempts", called.id),
        &sv.1,
        &[("outcome", "busy"), ("note", &note)],
    )
    .await;
    assert_eq!(s, 303);
    let interview = format!("/surveyor/cases/{}/interview", interviewed.id);
    let interviewed_name = interviewed.name.clone().unwrap();
    pages
        .get(&sv.0, base, &interview, &[&v1, &interviewed_name])
        .await;
    let mut fields: Vec<(String, String)> = recipients_answers()
        .into_iter()
        .filter(|(k, _)| k != "comment")
        .collect();
    fields.push(("comment".into(), comment.clone()));
    let mut with_csrf = vec![("_csrf".to_string(), sv.1.clone())];
    with_csrf.extend(fields.iter().cloned());
    let r =
        sv.0.post(format!("{base}{interview}"))
            .form(&with_csrf)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 303);
    let called_name = called.name.clone().unwrap();
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/cases/{}", called.id),
            &[&v1, &called_name, &note],
        )
        .await;
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/campaigns/{id}/console"),
            &[&campaign_name, &v1, &v2],
        )
        .await;
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/campaigns/{id}/console/V1"),
            &[&v1, &name_a, &name_b],
        )
        .await;
    pages
        .get(
            &sv.0,
            base,
            &format!("/surveyor/campaigns/{id}/console/V2"),
            &[&v2, &v2_resident],
        )
        .await;
    let (s, page, _) = upload(
        &sv.0,
        &format!("{base}/surveyor/campaigns/{id}/results"),
        &sv.1,
        "results.csv",
        format!(
            "case_id,attempt_time,outcome,{}\n{},2026-11-20 10:00,busy,\n",
            quoted(&column),
            called.id
        )
        .into_bytes(),
        &[],
    )
    .await;
    pages.check(
        "POST /surveyor/campaigns/{id}/results (a refused import)",
        s,
        &page,
        &[&campaign_name, &column],
    );
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/progress"),
            &[&campaign_name, &v1, &v2],
        )
        .await;

    // Respondents and the panel: the survey page, an invalid answer shown back, answers.
    let anon = client();
    let open_links: Vec<&String> = lines
        .iter()
        .filter(|(phone, _)| phone != &called.phone && phone != &interviewed.phone)
        .map(|(_, token)| token)
        .collect();
    let survey = format!("/s/{}", open_links[0]);
    pages.get(&anon, base, &survey, &[]).await;
    let mut partial: Vec<(String, String)> = fields.clone();
    partial.retain(|(k, _)| k != "attitude");
    partial.push(("attitude".into(), IMG.into()));
    let r = anon
        .post(format!("{base}{survey}"))
        .form(&partial)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 422);
    pages.check(
        "POST /s/{token} (invalid: the answers shown back)",
        status,
        &r.text().await.unwrap(),
        &[&comment],
    );
    for token in open_links.iter().take(6) {
        let r = anon
            .post(format!("{base}/s/{token}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(status, 303, "{}", r.text().await.unwrap());
    }
    pages
        .get(
            &anon,
            base,
            &format!("/p/{panel_link}"),
            &[&campaign_name, &member1, &v1, &v2],
        )
        .await;
    pages
        .get(&anon, base, &format!("/p/{panel_link}/v/V2"), &[&v2])
        .await;
    pages
        .get(&panel.0, base, "/panel", &[&panel_account_name])
        .await;

    // Close, the calendar, publicity with an objection, an override, grades and notes.
    let (s, _, _) = post_form(
        a,
        &format!("{base}/admin/campaigns/{id}/close"),
        a_csrf,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(s, 303);
    let (s, _, _) = upload(
        a,
        &format!("{base}/admin/calendar"),
        a_csrf,
        "cal.csv",
        format!("日期,类型,名称\n2026-10-01,放假,{}\n", quoted(&holiday)).into_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    pages.get(a, base, "/admin/calendar", &[&holiday]).await;
    // Where to object, printed on the publicity notice.
    let (address, issuer) = (long("地址"), long("单位"));
    let (s, _, loc) = post_form(
        a,
        &format!("{base}/admin/campaigns/{id}/notice-contact"),
        a_csrf,
        &[
            ("phone", "0739-1234567"),
            ("address", &address),
            ("issuer", &issuer),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert!(location_query(&loc).starts_with("m=contact"), "{loc:?}");
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}"),
            &[&campaign_name, &address, &issuer],
        )
        .await;
    let today = minyi::domain::today();
    let results = format!("{base}/admin/campaigns/{id}");
    // Grades and item 16 first: they stay as published once publicity starts.
    for (path, fields) in [
        (
            "results/V1/override",
            vec![("grade", "较好"), ("reason", reason.as_str())],
        ),
        (
            "results/V1/grades",
            vec![
                ("grade_1", "好"),
                ("note_1", item_note.as_str()),
                ("neg_3", "1"),
                ("neg_date_3", today.as_str()),
                ("neg_note_3", negative_note.as_str()),
            ],
        ),
        ("publicity", vec![("start", today.as_str())]),
        ("objections", vec![("summary", summary.as_str())]),
    ] {
        let (s, _, loc) = post_form(a, &format!("{results}/{path}"), a_csrf, &fields).await;
        assert_eq!(s, 303, "{path}");
        assert!(location_query(&loc).starts_with("m="), "{path}: {loc:?}");
    }
    let oid = app.db.objections(id).await.unwrap()[0].id;
    let (s, _, _) = post_form(
        a,
        &format!("{results}/objections/{oid}/resolve"),
        a_csrf,
        &[("decision", "dismissed"), ("resolution", &resolution)],
    )
    .await;
    assert_eq!(s, 303);
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/results"),
            &[&campaign_name, &v1, &v2, &summary, &resolution],
        )
        .await;
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/results/V1"),
            &[&campaign_name, &v1, &reason, &negative_note],
        )
        .await;
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/results/V2"),
            &[&campaign_name, &v2],
        )
        .await;
    for path in [
        format!("/admin/campaigns/{id}/report"),
        format!("/admin/campaigns/{id}/results/V1/report"),
    ] {
        pages.get(a, base, &path, &[&campaign_name, &v1]).await;
    }
    pages
        .get(
            &op1.0,
            base,
            &format!("/village/campaigns/{id}/results"),
            &[&campaign_name, &v1, &op1_name],
        )
        .await;
    pages
        .get(
            &op2.0,
            base,
            &format!("/village/campaigns/{id}/results"),
            &[&campaign_name, &v2, &op2_name],
        )
        .await;
    pages
        .get(
            a,
            base,
            &format!("/admin/campaigns/{id}/publicity/notice"),
            &[&campaign_name, &address, &issuer],
        )
        .await;
    pages
        .get(
            &op1.0,
            base,
            &format!("/village/campaigns/{id}/publicity/notice"),
            &[&campaign_name, &address, &issuer],
        )
        .await;
    // The title register and a village's history: a title granted with markup in its
    // decision number, a 联系领导 with markup.
    let leader = format!("领导{IMG}");
    let (s, _, _) = post_form(
        a,
        &format!("{base}/admin/villages/V1/contact-leader"),
        a_csrf,
        &[("contact_leader", &leader)],
    )
    .await;
    assert_eq!(s, 303);
    let decision = format!("唐发{SCRIPT}");
    let mut tx = app.db.begin().await.unwrap();
    tx.grant_title(
        &minyi::db::NewTitle {
            campaign_id: id,
            village_id: app.db.village_by_code("V1").await.unwrap().id,
            granted_on: "2026-12-01",
            expires_on: "2028-11-30",
            decision_ref: &decision,
        },
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    for path in ["/admin/titles", "/admin/villages/V1/history"] {
        pages
            .get(a, base, path, &[&v1, &campaign_name, &leader, &decision])
            .await;
    }
    pages.get(a, base, "/admin/villages", &[&v1, &leader]).await;
    pages.get(a, base, "/admin/audit", &[]).await;

    // Reflected: the login form shows the username typed and keeps where to go next.
    let next = format!("/x{SCRIPT}");
    let r = client()
        .get(format!("{base}/login"))
        .query(&[("next", next.as_str())])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    pages.check(
        "GET /login?next=…",
        status,
        &r.text().await.unwrap(),
        &[&next],
    );
    let c = client();
    let r = login(&c, base, IMG, "wrong-password-1").await;
    let status = r.status().as_u16();
    pages.check(
        "POST /login (wrong password: the username shown back)",
        status,
        &r.text().await.unwrap(),
        &[IMG],
    );

    assert!(pages.checked >= 35, "only {} pages checked", pages.checked);
    assert!(
        pages.problems.is_empty(),
        "{} problems in {} pages:\n{}",
        pages.problems.len(),
        pages.checked,
        pages.problems.join("\n")
    );
}
