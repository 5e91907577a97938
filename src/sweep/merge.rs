//! `cachestorm merge`: joins the folders of `--shard i/n` sweeps into
//! exactly the files one machine running the whole sweep writes. The shards'
//! journals are the source: every shard must carry the same fingerprint, no
//! run may appear twice, and every point × replication must be present.

use std::path::{Path, PathBuf};

use super::journal::{self, Header};
use super::output::{PointStats, Runs, write_final};
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
    // Where every run is: (shard folder, byte offset in its journal), 8
    // bytes a run; the records themselves are streamed when the files are
    // written, never held.
    let mut index: Option<journal::RunIndex> = None;
    let mut rank_values = super::sequential::RankValues::new();
    for (i, dir) in dirs.iter().enumerate() {
        let c = journal::scan(dir, &journal::common_seed, &mut |_, _| {})?;
        if c.header.seed_mode == super::vmap::MAP_SEED_MODE {
            return Err(SweepError::Refused(format!(
                "{} holds a vulnerability map: a map decides each step from the one before, so it is neither sharded nor merged",
                dir.display()
            )));
        }
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
            index = Some(journal::RunIndex::new(&c.header).map_err(SweepError::Internal)?);
            first = Some(c.header.clone());
        }
        let all = index.as_mut().expect("made with the first header");
        for (p, r, _, at) in c.index.iter() {
            if let Some((other, _)) = all.get(p, r) {
                return Err(SweepError::Refused(format!(
                    "point {p} replication {r} is in both {} and {}: merge each shard once",
                    dirs[other].display(),
                    dir.display()
                )));
            }
            all.insert(p, r, i, at);
        }
    }
    let index = index.expect("at least one folder");
    // A sequential sweep's stopping rule reads each run's ranking metric.
    if let Some(h) = first.as_ref().filter(|h| h.sequential.is_some()) {
        for dir in dirs {
            journal::scan(dir, &journal::common_seed, &mut |_, r| {
                rank_values.insert((r.point, r.replication), r.number(&h.rank_by));
            })?;
        }
    }
    let mut header = first.expect("at least one folder");
    header.shard = None;
    let mut missing = Vec::new();
    match &header.sequential {
        // The runs each point's stopping rule still asks for.
        Some(rule) => {
            let points: Vec<usize> = (0..header.points.len()).collect();
            missing = super::sequential::next_runs_of(&header, rule, &points, &rank_values);
        }
        None => {
            for p in 0..header.points.len() {
                for r in 0..header.replications {
                    if !index.contains(p, r) {
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
    // Open the shards' journals before the output folder is prepared (it
    // may be one of them).
    let runs = index.len();
    let files = dirs.iter().map(|d| d.join(journal::JOURNAL)).collect();
    let sources = Runs::open(files, index)?;
    let _lock = prepare_out(out, force, "merge")?;
    let stats = write_final(out, &header, &sources, &copy)?;
    Ok(MergeReport {
        header,
        runs,
        stats,
    })
}
