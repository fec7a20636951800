//! minyi (民意) runs the public-opinion survey of a township's "clean village" assessment.
//!
//! Data flows through the modules in this order:
//!
//! - a village hands in its roster (`roster`): an Excel or CSV file decoded into normalised
//!   phones and a receipt whose fingerprint proves what was handed in;
//! - the rosters are kept per campaign and village (`db`), with accounts and sessions;
//! - the sample is drawn (`sampling`; in the app `ops::draw`, from files `offline`),
//!   questioned (`forms`, `fieldwork`; each call's outcome and the replacements it causes
//!   in `dispositions`), and its answers become tallies, item 16 and the verdict
//!   (`results`);
//! - every change goes through one workflow operation (`ops`): one transaction that makes
//!   the change and appends its audit entry (`audit`) together;
//! - people reach it through the web app (`http`, guarded by `rate_limit`) or the command
//!   line (`cli`); both, and the demo, call the same operations.
//!
//! `domain` holds the small parsed types (village codes, roles, campaign states, grades) that
//! every other module trusts once parsed, and `ids` one id type per table, so a village's id
//! cannot be passed where a campaign's is expected. `docs/architecture.md` draws the module
//! graph and says where a new download, role, page or question type goes.

/// The audit chain: state-changing events chained by SHA-256, and its verification.
pub mod attachments;
pub mod audit;
/// The audit key: a secret outside the database that marks every audit entry (HMAC).
pub mod audit_key;
/// Command-line subcommands: serve, migrate, roster check/import.
pub mod cli;
/// Settings from flags and environment variables; secrets redacted in `Debug`.
pub mod config;
/// Small uploaded CSV tables (village list, calendar, assessment, fieldwork results): one
/// decoding, Excel row numbers and column letters, headers by alias, one bilingual row error.
pub mod csv_table;
/// Storage on SQLite or PostgreSQL behind one `Db` speaking domain verbs.
pub mod db;
/// `minyi demo`: an invented town with every page filled, marked as demo.
pub mod demo;
/// Call outcomes and their AAPOR classes; when a case is replaced from the reserve.
pub mod dispositions;
/// Parsed domain values: village codes, roles, campaign states, times.
pub mod domain;
/// How long a respondent took, kept only as a bucket: the questionnaire's HMAC-marked
/// start field and the buckets of the quality checks.
pub mod duration;
/// CSV for Excel and WPS: BOM, formula cells neutralised.
pub mod export;
/// Fieldwork: releasing the sample as cases, invitations and the SMS outbox, progress,
/// response rates, the results import, the mixer.
pub mod fieldwork;
/// Files with personal data are created for their owner only (0600).
pub mod files;
/// survey-forms/*.toml → questionnaires and the item-16 scheme; answers parsed and checked.
pub mod forms;
/// The web app: pages for people, a JSON API for tools.
pub mod http;
/// Typed row ids (campaign, village, account, case …): the stored integer, one type per table.
pub mod ids;
/// Limits on one uploaded file: rows accepted, errors listed.
pub mod limits;
/// The draw offline from a folder of roster files, and its verification.
pub mod offline;
/// The workflows: each operation one transaction with its audit entry.
pub mod ops;
/// How strong a password must be, and one-time passwords that meet the rule.
pub mod password;
/// What keeps the servers standing under abuse: bounded password checks, login delays,
/// request limits per link.
pub mod rate_limit;
/// Results: tallies with Wilson intervals, item 16, the assessment verdict, publicity days.
pub mod results;
/// Roster files (.xlsx, .xls, CSV in UTF-8/GBK) → normalised phones and a receipt.
pub mod roster;
/// The verifiable draw, algorithm sample-v1: pure functions from frames and a seed to ranks.
pub mod sampling;
/// Passwords (argon2), random tokens and their hashes.
pub mod secrets;
/// The village list CSV (code, name).
pub mod villages;
