//! The draw offline (`minyi draw`, `minyi verify`), from a folder of roster files
//! (`<village code>.csv|.xlsx`) read by the app's own importer, so that it agrees to the bit
//! with the draw in the app ([`crate::ops::draw`]). `verify_dir` redoes a draw against a
//! published record.

use crate::roster::{self, Limits, Phone, Receipt};
use crate::sampling::{
    self, DrawRecord, Mismatch, Seed, SeedCommitment, SizeRule, Stratum, VillageRecord,
    draw_stratum,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One village's roster file, read by the importer.
pub struct LoadedRoster {
    /// The file name without its extension: the village code, as the draw uses it.
    pub code: String,
    pub file: PathBuf,
    pub phones: Vec<Phone>,
    pub receipt: Receipt,
}

/// The roster files of a folder: `<village code>.csv`, `.xlsx` or `.xls`; other files are
/// ignored. Invalid rows are left out and reported through `warn`, and so are totals rows
/// (合计) skipped; duplicates collapse.
pub fn read_roster_dir(
    dir: &Path,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Vec<LoadedRoster>> {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the rosters folder {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(ext.as_deref(), Some("csv" | "xlsx" | "xls")) || !path.is_file() {
            continue;
        }
        // Offline, any code the file is named with is taken as it is (the app's own codes
        // are plainer); only what would make the record ambiguous is refused.
        let code = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        if code.is_empty() || code.trim() != code || code.chars().any(char::is_control) {
            anyhow::bail!(
                "{}: the file name must be the village code (no surrounding spaces or control characters)",
                path.display()
            );
        }
        if let Some(other) = files.insert(code.clone(), path.clone()) {
            anyhow::bail!(
                "two roster files for village {code}: {} and {}",
                other.display(),
                path.display()
            );
        }
    }
    let mut rosters = Vec::with_capacity(files.len());
    for (code, file) in files {
        let input = std::io::BufReader::with_capacity(
            256 * 1024,
            std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?,
        );
        let mut phones = Vec::new();
        let receipt = roster::read_roster(input, &Limits { max_rows: u64::MAX }, &mut |row| {
            phones.push(row.phone);
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for e in &receipt.errors {
            let column = e
                .column
                .as_deref()
                .map(|c| format!(", column {c}"))
                .unwrap_or_default();
            warn(format!(
                "{}: row {}{column}: {} (left out)",
                file.display(),
                e.row,
                e.reason
            ));
        }
        if receipt.errors_omitted > 0 {
            warn(format!(
                "{}: {} more invalid rows left out",
                file.display(),
                receipt.errors_omitted
            ));
        }
        for s in &receipt.skipped_rows {
            warn(format!("{}: row {}: {}", file.display(), s.row, s.reason));
        }
        rosters.push(LoadedRoster {
            code,
            file,
            phones,
            receipt,
        });
    }
    Ok(rosters)
}

/// Draw every roster of a folder. Villages in code order.
pub fn draw_dir(
    dir: &Path,
    seed: &Seed,
    commitment: Option<&SeedCommitment>,
    rule: &SizeRule,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<(DrawRecord, Vec<Stratum<Phone>>)> {
    let strata: Vec<Stratum<Phone>> = read_roster_dir(dir, warn)?
        .into_iter()
        .map(|r| draw_stratum(seed, &r.code, r.phones, rule))
        .collect();
    let records = strata.iter().map(Stratum::record).collect();
    let record = DrawRecord::new(seed, commitment, rule, records)?;
    Ok((record, strata))
}

/// The ranked lists as CSV: `village,rank,phone,selection` (selection = primary or reserve).
pub fn write_ranked_csv<T: AsRef<str>>(out: impl Write, strata: &[Stratum<T>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["village", "rank", "phone", "selection"])?;
    for s in strata {
        for (i, phone) in s.ranked.iter().enumerate() {
            let selection = if (i as u64) < s.size {
                "primary"
            } else {
                "reserve"
            };
            let rank = (i + 1).to_string();
            w.write_record([s.village_code.as_str(), &rank, phone.as_ref(), selection])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// What `verify_dir` found wrong, naming the first village (in code order) that differs.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    #[error("the record is not usable: {0}")]
    Record(String),
    #[error("village {0}: the record has it but the rosters folder has no {0}.csv or {0}.xlsx")]
    MissingRoster(String),
    #[error("village {0}: the rosters folder has it but the record does not")]
    ExtraRoster(String),
    #[error("{0}")]
    Village(Mismatch),
    #[error("the record's frame_fingerprint {recorded} does not match its villages ({recomputed})")]
    FrameFingerprint {
        recorded: String,
        recomputed: String,
    },
    #[error(transparent)]
    Read(#[from] anyhow::Error),
}

/// Redo the draw of `record` on the rosters in `dir`; Ok with the number of villages.
pub fn verify_dir(
    record: &DrawRecord,
    dir: &Path,
    warn: &mut dyn FnMut(String),
) -> Result<usize, VerifyFailure> {
    if record.algorithm != sampling::ALGORITHM {
        return Err(VerifyFailure::Record(format!(
            "algorithm {:?} is not {}",
            record.algorithm,
            sampling::ALGORITHM
        )));
    }
    let seed = Seed::parse(&record.seed).map_err(|e| VerifyFailure::Record(e.to_string()))?;
    let commitment = record
        .seed_commitment
        .as_deref()
        .map(SeedCommitment::parse)
        .transpose()
        .map_err(|e| VerifyFailure::Record(e.to_string()))?;
    if let Some(c) = &commitment
        && !c.matches(&seed)
    {
        return Err(VerifyFailure::Record(format!(
            "the seed does not match seed_commitment {c}"
        )));
    }
    let rule =
        SizeRule::try_from(&record.parameters).map_err(|e| VerifyFailure::Record(e.to_string()))?;
    let rosters = read_roster_dir(dir, warn)?;
    let mut recorded: BTreeMap<&str, &VillageRecord> = record
        .villages
        .iter()
        .map(|v| (v.code.as_str(), v))
        .collect();
    let mut found: BTreeMap<String, LoadedRoster> =
        rosters.into_iter().map(|r| (r.code.clone(), r)).collect();
    let codes: std::collections::BTreeSet<String> = recorded
        .keys()
        .map(|c| c.to_string())
        .chain(found.keys().cloned())
        .collect();
    for code in &codes {
        match (recorded.remove(code.as_str()), found.remove(code)) {
            (Some(_), None) => return Err(VerifyFailure::MissingRoster(code.clone())),
            (None, Some(_)) => return Err(VerifyFailure::ExtraRoster(code.clone())),
            (Some(rec), Some(roster)) => {
                let redone = draw_stratum(&seed, code, roster.phones, &rule).record();
                sampling::verify_village(rec, &redone).map_err(VerifyFailure::Village)?;
            }
            (None, None) => {}
        }
    }
    let pairs: Vec<(&str, &str)> = record
        .villages
        .iter()
        .map(|v| (v.code.as_str(), v.fingerprint.as_str()))
        .collect();
    let recomputed = sampling::frame_fingerprint(&pairs);
    if recomputed != record.frame_fingerprint {
        return Err(VerifyFailure::FrameFingerprint {
            recorded: record.frame_fingerprint.clone(),
            recomputed,
        });
    }
    Ok(codes.len())
}
