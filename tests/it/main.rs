//! The integration tests, linked as one binary (one link instead of one per file): a module
//! per subject, sharing the harness in `common` (the app on a random port over a fresh SQLite
//! file, or a fresh PostgreSQL database when `MINYI_TEST_PG` names a server). Run one module's
//! tests with a filter: `cargo test --test it crash::`. The browser test is a binary of its
//! own, `tests/browser.rs`, run with `--ignored`.

mod common;

mod applications;
mod archive;
mod assess_cli;
mod audit;
mod authz;
mod charts;
mod cli;
mod crash;
mod decisions;
mod draw_cli;
mod draw_web;
mod fieldwork_web;
mod grade_sources;
mod headers;
mod hostile_files;
mod limits;
mod logs;
mod migrations;
mod module_graph;
mod notice;
mod notice_publicity;
mod privacy;
mod quality;
mod report;
mod results_web;
mod safe_setup;
mod scheme_rate;
mod shared_limits;
mod sheets;
mod suppression;
mod survey_web;
mod titles;
mod two_servers;
mod two_years;
mod upload_limits;
mod village_archive;
mod web;
