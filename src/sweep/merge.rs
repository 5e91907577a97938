//! `cachestorm merge`: joins the folders of `--shard i/n` sweeps into
//! exactly the files one machine running the whole sweep writes. The shards'
//! journals are the source: every shard must carry the same fingerprint, no
//! run may appear twice, and every point × replication must be present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::journal::{self, Header};
use super::output::{PointStats, write_final};
use super::record::Record;
use super::{SweepError, prepare_out};
use crate::output::SweepDataFile;

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeReport {
    /// The merged header (no shard).
    pub header: Header,
    /// Runs merged.
    pub runs: usize,
    /// Per-point statistics.
    pub stats: Vec<PointStats>,
}

/// Merges the shard folders `dirs` into `out` (refused when it is not empty,
/// unless `force`).
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<MergeReport, SweepError> {
    let Some(first_dir) = dirs.first() else {
        return Err(SweepError::Refused(
            "merge needs at least one shard folder".into(),
        ));
    };
    let mut first: Option<Header> = None;
    let mut owner: BTreeMap<(usize, u32), &Path> = BTreeMap::new();
    let mut records: Vec<Record> = Vec::new();
    for dir in dirs {
        let c = journal::read(dir)?;
        if let Some(h) = &first {
            if c.header.cachestorm != h.cachestorm {
                return Err(SweepError::Refused(super::different_build(
                    dir,
                    &c.header.cachestorm,
                    &h.cachestorm,
                )));
            }
            if c.header.fingerprint != h.fingerprint {
                return Err(SweepError::Refused(format!(
                    "{} belongs to another sweep than {} (fingerprint {} ≠ {}; experiment `{}` seed {} vs `{}` seed {}): merge only shards of one experiment run with the same files and flags",
                    dir.display(),
                    first_dir.display(),
                    c.header.fingerprint,
                    h.fingerprint,
                    c.header.experiment,
                    c.header.seed,
                    h.experiment,
                    h.seed
                )));
            }
        } else {
            first = Some(c.header.clone());
        }
        for r in c.records {
            let key = (r.point, r.replication);
            if let Some(other) = owner.insert(key, dir) {
                return Err(SweepError::Refused(format!(
                    "point {} replication {} is in both {} and {}: merge each shard once",
                    r.point,
                    r.replication,
                    other.display(),
                    dir.display()
                )));
            }
            records.push(r);
        }
    }
    let mut header = first.expect("at least one folder");
    header.shard = None;
    let mut missing = Vec::new();
    match &header.sequential {
        // The runs each point's stopping rule still asks for.
        Some(rule) => {
            let points: Vec<usize> = (0..header.points.len()).collect();
            missing = super::sequential::next_runs(&header, rule, &points, &records);
        }
        None => {
            for p in 0..header.points.len() {
                for r in 0..header.replications {
                    if !owner.contains_key(&(p, r)) {
                        missing.push((p, r));
                    }
                }
            }
        }
    }
    if !missing.is_empty() {
        let examples: Vec<String> = missing
            .iter()
            .take(5)
            .map(|(p, r)| format!("point {p} replication {r}"))
            .collect();
        let points: std::collections::BTreeSet<usize> = missing.iter().map(|m| m.0).collect();
        return Err(SweepError::Refused(format!(
            "{} of {} runs are missing ({} point(s) incomplete), e.g. {}: a shard is missing or unfinished; resume it with --resume and merge again",
            missing.len(),
            header.points.len() * header.replications as usize,
            points.len(),
            examples.join(", ")
        )));
    }
    let copy_path = SweepDataFile::Experiment.path(first_dir);
    let copy = std::fs::read_to_string(&copy_path).map_err(|source| SweepError::Io {
        path: copy_path,
        source,
    })?;
    let _lock = prepare_out(out, force, "merge")?;
    let runs = records.len();
    let stats = write_final(out, &header, &mut records, &copy)?;
    Ok(MergeReport {
        header,
        runs,
        stats,
    })
}
