//! Results: what the commission and the committee act on. Formulas and a worked
//! example are in docs/results.md.
//!
//! - [`stats`]: Wilson intervals (with the finite-population step, cut to the feasible
//!   range), the Student-t interval of a mean, the stratified town-wide rate;
//! - [`exact`]: fractions, so that item 16's grade lines are met exactly;
//! - [`tally`]: a village's answers to one questionnaire folded into counts and rates,
//!   small cells suppressed;
//! - [`item16`]: R, P, S, the grade, "uncertain" and "insufficient data";
//! - [`assess`]: the seed's verdict over all items (exact-integer 80% rule) and the
//!   offline `minyi assess` CSV;
//! - [`calendar`]: working days (holidays, 调休) and the publicity end date;
//! - [`notice`]: the publicity notice's text (and its .docx) from the proposed villages,
//!   the period and where to object;
//! - [`criteria`]: the items' sub-points and the four grades' definitions, verbatim from
//!   the seed, shown beside the grade forms;
//! - [`chart`]: charts as SVG (and PNG for documents);
//! - [`register`]: a title's status on a day (有效, 即将到期, 已到期, 已撤销);
//! - [`report`]: the one place that reads the database, one village at a time;
//! - [`quality`]: the checks against coaching and padded rosters, per village;
//!   [`quality_report`] reads what they start from.
//!
//! Everything but `report` and `quality_report` is pure.

pub mod assess;
pub mod calendar;
pub mod chart;
pub mod criteria;
pub mod exact;
pub mod item16;
pub mod notice;
pub mod quality;
pub mod quality_report;
pub mod register;
pub mod report;
pub mod stats;
pub mod tables;
pub mod tally;

pub use item16::Item16;
pub use report::{CampaignResults, VillageResults};
pub use stats::{Interval, wilson};
pub use tally::{CountRow, FormTally, RateRow, Scope};
