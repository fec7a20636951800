//! Dispositions: the outcome of each call attempt and its AAPOR class (`outcome`), and when a
//! case is replaced from the reserve and by which rank (`replacement`). Pure rules: the
//! database applies them when it records attempts, fieldwork when it reports progress.

pub mod outcome;
pub mod replacement;

pub use outcome::{Class, Outcome, UnknownOutcome, case_class, case_invalid_number};
pub use replacement::{
    Attempt, NextRelease, Reason, ReplacementRules, VillageState, day_number, next_release,
    replacement_reason,
};
