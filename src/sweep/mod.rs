//! Sweeps: an experiment's grid of points × replications, run in parallel,
//! deterministic, resumable and shardable, with 95 % confidence intervals.
//!
//! - [`Plan::new`] checks everything before anything runs: the experiment
//!   file, every point's model (a bad swept value is reported at its line and
//!   column in the experiment file), the metric names; it fixes each run's
//!   seed and the experiment's fingerprint.
//! - [`run_sweep`] runs the plan on a local rayon pool (each run is
//!   single-threaded), appends every finished run to `journal.jsonl` as it
//!   completes, and at the end writes `results.csv`, `replications.csv`,
//!   `experiment.toml` and the journal sorted, all from the journal's
//!   records, so the files are byte-identical whatever the thread count, the
//!   order runs finished in, or how many times the sweep was interrupted and
//!   resumed.
//! - [`merge::merge`] joins the folders of `--shard i/n` runs into exactly
//!   the files one machine writes.
//!
//! Seeds: replication r of every point runs with `derive(seed, r)` (common
//! random numbers: every point meets the same arrivals and keys, so
//! differences between points are sharp), or, with independent seeds,
//! `derive(derive(seed, h), r)` where h is a stable hash (MD5) of the point's
//! canonical spelling. Either way a point's seeds depend only on the seed and
//! the point itself, so adding, removing or reordering other points changes
//! none of its numbers. The seed is `--seed`, else the experiment's `seed`,
//! else the model's `seed`.

pub mod journal;
pub mod merge;
pub mod output;
pub mod ranking;
pub mod record;
pub mod runner;
pub mod stats;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicBool;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::config::experiment::Experiment;
use crate::config::{ConfigError, Model};
use crate::engine::rng::derive;
use crate::output::metric::{FieldKind, field_kind, summary_fields};
use crate::output::{SweepDataFile, remove_sweep_files, write_atomic};
use journal::{FORMAT, Header, VERSION};
use output::PointStats;
use record::Record;

/// Why a sweep or a merge could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The experiment or a model is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request cannot be honoured as given: an output folder that would
    /// be overwritten, a journal of another experiment, shards that do not
    /// add up.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A run failed (a bug in the simulator); the runs before it are kept.
    #[error("{0}")]
    Internal(String),
}

impl SweepError {
    /// True when the user's input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, SweepError::Config(_) | SweepError::Refused(_))
    }
}

/// How replication seeds are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedMode {
    /// Replication r of every point uses the same seed (common random
    /// numbers).
    Common,
    /// Every point has its own seeds, from a hash of the point.
    Independent,
}

impl SeedMode {
    /// `common` or `independent`.
    pub fn name(self) -> &'static str {
        match self {
            SeedMode::Common => "common",
            SeedMode::Independent => "independent",
        }
    }
}

/// Where the experiment seed came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedSource {
    /// `--seed`.
    CommandLine,
    /// The experiment's `seed`.
    Experiment,
    /// The model's `seed`.
    Model,
}

/// `--shard i/n`: the points whose index modulo n is i − 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// True when this shard runs `point`.
    pub fn contains(&self, point: usize) -> bool {
        point % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write I/N with 1 ≤ I ≤ N, e.g. 2/3");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Shard, String> {
        s.parse()
    }
}

/// Choices that change which runs are made, or their seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--seed`.
    pub seed: Option<u64>,
    /// Common or independent seeds.
    pub seed_mode: SeedMode,
    /// `--shard`.
    pub shard: Option<Shard>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            seed: None,
            seed_mode: SeedMode::Common,
            shard: None,
        }
    }
}

/// A checked experiment ready to run.
pub struct Plan {
    /// The experiment.
    pub experiment: Experiment,
    /// The options it was planned with.
    pub options: PlanOptions,
    /// The experiment seed in force.
    pub seed: u64,
    /// Where it came from.
    pub seed_source: SeedSource,
    /// The journal header (and fingerprint) of this sweep.
    pub header: Header,
    /// The models of the points this shard runs (`None` for the others).
    models: Vec<Option<Model>>,
    /// Per point, the seed its replication seeds derive from.
    point_seeds: Vec<u64>,
}

/// A stable 64-bit hash of text: the first 8 bytes of its MD5, little-endian.
pub fn stable_hash(text: &str) -> u64 {
    let d = Md5::digest(text.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("md5 has 16 bytes"))
}

impl Plan {
    /// Checks every point's model and the metrics, fixes the seeds and the
    /// fingerprint. Nothing runs.
    pub fn new(experiment: Experiment, options: PlanOptions) -> Result<Plan, ConfigError> {
        let n = experiment.points.len();
        let mut models = Vec::with_capacity(n);
        let mut max_nodes = 0;
        let mut model_seed = None;
        for p in 0..n {
            let m = experiment.model_for(p)?;
            max_nodes = max_nodes.max(m.node_count());
            model_seed.get_or_insert(m.seed);
            let ours = options.shard.is_none_or(|s| s.contains(p));
            models.push(ours.then_some(m));
        }
        let (numeric, _) = summary_fields(max_nodes);
        for m in &experiment.metrics {
            match field_kind(&m.value, max_nodes) {
                FieldKind::Numeric => {}
                kind => {
                    let hint = crate::config::error::did_you_mean(
                        &m.value,
                        numeric.iter().map(String::as_str),
                    )
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                    return Err(ConfigError {
                        origin: m.origin.clone(),
                        key: "metrics".into(),
                        message: if kind == FieldKind::Text {
                            format!("`{}` is text, not a number", m.value)
                        } else {
                            format!("`{}` is not a field of the run summary{hint}", m.value)
                        },
                        allowed: Some(
                            "a numeric field of summary.json by dotted path, e.g. windows.fault.success_ratio, latency_ms.p99, db.peak_in_flight, nodes.0.utilization".into(),
                        ),
                    });
                }
            }
        }
        let (seed, seed_source) = match (options.seed, &experiment.seed) {
            (Some(s), _) => (s, SeedSource::CommandLine),
            (None, Some(s)) => (s.value, SeedSource::Experiment),
            (None, None) => (model_seed.unwrap_or(1), SeedSource::Model),
        };
        let canon: Vec<String> = (0..n).map(|p| experiment.point_canonical(p)).collect();
        let point_seeds = canon
            .iter()
            .map(|c| match options.seed_mode {
                SeedMode::Common => seed,
                SeedMode::Independent => derive(seed, stable_hash(c)),
            })
            .collect();
        let metrics: Vec<String> = experiment.metrics.iter().map(|m| m.value.clone()).collect();
        let rank_by = experiment
            .rank_by
            .as_ref()
            .map_or_else(|| metrics[0].clone(), |r| r.value.clone());
        let version = env!("CARGO_PKG_VERSION");
        let fingerprint = {
            let mut h = Md5::new();
            let mut part = |name: &str, text: &str| {
                h.update(format!("{name} {}\n", text.len()).as_bytes());
                h.update(text.as_bytes());
                h.update(b"\n");
            };
            part("cachestorm", version);
            part("experiment", &experiment.text);
            part("model", &experiment.model_text);
            part("seed_mode", options.seed_mode.name());
            part("seed", &seed.to_string());
            for (p, c) in canon.iter().enumerate() {
                part(&format!("point {p}"), c);
            }
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            cachestorm: version.into(),
            fingerprint,
            experiment: experiment.name.clone(),
            seed,
            seed_mode: options.seed_mode.name().into(),
            replications: experiment.replications.value,
            params: experiment.axes.iter().map(|a| a.key.clone()).collect(),
            points: (0..n)
                .map(|p| {
                    experiment
                        .point_values(p)
                        .into_iter()
                        .map(str::to_string)
                        .collect()
                })
                .collect(),
            metrics,
            rank_by,
            shard: options.shard,
        };
        Ok(Plan {
            experiment,
            options,
            seed,
            seed_source,
            header,
            models,
            point_seeds,
        })
    }

    /// The seed of replication `r` of point `p`.
    pub fn run_seed(&self, p: usize, r: u32) -> u64 {
        derive(self.point_seeds[p], r as u64)
    }

    /// The model of point `p`, if this shard runs it.
    pub fn model(&self, p: usize) -> Option<&Model> {
        self.models[p].as_ref()
    }

    /// The (point, replication) pairs this plan runs, in order.
    pub fn runs(&self) -> Vec<(usize, u32)> {
        let r = self.header.replications;
        (0..self.models.len())
            .filter(|&p| self.models[p].is_some())
            .flat_map(|p| (0..r).map(move |i| (p, i)))
            .collect()
    }

    /// The text of `experiment.toml`: the experiment as run, its `model`
    /// resolved to an absolute path, with a comment naming the seed.
    pub fn experiment_copy(&self) -> String {
        let e = &self.experiment;
        let resolved = std::path::absolute(&e.model_path).unwrap_or_else(|_| e.model_path.clone());
        let source = match self.seed_source {
            SeedSource::CommandLine => "--seed",
            SeedSource::Experiment => "the experiment's `seed`",
            SeedSource::Model => "the model's `seed`",
        };
        format!(
            "# The experiment as run by cachestorm {}: seed {} (from {source}), {} random numbers; `model` resolved.\n{}",
            self.header.cachestorm,
            self.seed,
            self.options.seed_mode.name(),
            e.text_with_model(&resolved)
        )
    }
}

/// What `cachestorm sweep` was asked.
#[derive(Clone, Debug, Default)]
pub struct SweepArgs {
    /// The experiment file.
    pub experiment: PathBuf,
    /// `--out` (default `out/<experiment stem>`, plus `.shard-I-of-N` for a
    /// shard).
    pub out: Option<PathBuf>,
    /// `--resume DIR`.
    pub resume: Option<PathBuf>,
    /// `--force`: replace the sweep files of a non-empty output folder.
    pub force: bool,
    /// `--threads` (default: all cores).
    pub threads: Option<usize>,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// `--independent-seeds`.
    pub independent_seeds: bool,
    /// `--seed`.
    pub seed: Option<u64>,
}

impl SweepArgs {
    /// The folder the sweep writes into.
    pub fn out_dir(&self) -> PathBuf {
        if let Some(d) = self.resume.as_ref().or(self.out.as_ref()) {
            return d.clone();
        }
        let stem = self
            .experiment
            .file_stem()
            .map_or("experiment".into(), |s| s.to_string_lossy().into_owned());
        let name = match self.shard {
            Some(s) => format!("{stem}.shard-{}-of-{}", s.index, s.count),
            None => stem,
        };
        PathBuf::from("out").join(name)
    }

    /// The command that resumes this sweep in `dir`.
    pub fn resume_command(&self, dir: &Path) -> String {
        let mut c = format!(
            "cachestorm sweep {} --resume {}",
            self.experiment.display(),
            dir.display()
        );
        if let Some(s) = self.shard {
            c.push_str(&format!(" --shard {s}"));
        }
        if let Some(s) = self.seed {
            c.push_str(&format!(" --seed {s}"));
        }
        if self.independent_seeds {
            c.push_str(" --independent-seeds");
        }
        if let Some(t) = self.threads {
            c.push_str(&format!(" --threads {t}"));
        }
        c
    }
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// The output folder.
    pub dir: PathBuf,
    /// The journal header.
    pub header: Header,
    /// Runs this sweep (or shard) is made of.
    pub runs_total: usize,
    /// Runs found in the journal when resuming.
    pub runs_resumed: usize,
    /// Runs made now.
    pub runs_now: usize,
    /// Threads used.
    pub threads: usize,
    /// True when Ctrl-C stopped the sweep early: the journal holds every
    /// finished run, and no final files were written.
    pub interrupted: bool,
    /// Per-point statistics (empty when interrupted).
    pub stats: Vec<PointStats>,
}

impl SweepReport {
    /// The best and worst points, for the terminal.
    pub fn table(&self) -> String {
        output::table(&self.header, &self.stats, 5)
    }
}

/// Makes `dir` ready for a new sweep: created if missing; a non-empty
/// folder is refused unless `force`, and then only the sweep's own files are
/// removed ([`remove_sweep_files`]: every file of the output contract's
/// [`SweepFile`](crate::output::SweepFile) set, and their temporaries).
pub fn prepare_out(dir: &Path, force: bool, what: &str) -> Result<(), SweepError> {
    let io = |source| SweepError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir).map_err(io)?.next().is_some();
        if non_empty && !force {
            let resume = if dir.join(journal::JOURNAL).exists() && what == "sweep" {
                format!(
                    "pass --resume {} to continue the sweep it holds, ",
                    dir.display()
                )
            } else {
                String::new()
            };
            return Err(SweepError::Refused(format!(
                "{} already exists and is not empty; {resume}pass --force to replace its sweep files, or --out to choose another folder",
                dir.display()
            )));
        }
        if force {
            remove_sweep_files(dir).map_err(|e| SweepError::Io {
                path: e.path,
                source: e.source,
            })?;
        }
    }
    std::fs::create_dir_all(dir).map_err(io)
}

/// Runs (or resumes) a sweep: checks the experiment, runs what is not yet in
/// the journal on `threads` threads, and writes the final files. `cancel`
/// (set by Ctrl-C) stops scheduling new runs; the runs under way finish and
/// are journaled. `progress(done, total)` is called from this thread as runs
/// finish.
pub fn run_sweep(
    args: &SweepArgs,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SweepReport, SweepError> {
    if args.resume.is_some() && args.force {
        return Err(SweepError::Refused(
            "--resume continues a sweep and --force starts one over: give one of them".into(),
        ));
    }
    if let (Some(r), Some(o)) = (&args.resume, &args.out)
        && r != o
    {
        return Err(SweepError::Refused(format!(
            "--resume {} writes into that folder; drop --out {}",
            r.display(),
            o.display()
        )));
    }
    let threads = match args.threads {
        Some(0) => {
            return Err(SweepError::Refused("--threads must be at least 1".into()));
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let experiment = Experiment::load(&args.experiment)?;
    let plan = Plan::new(
        experiment,
        PlanOptions {
            seed: args.seed,
            seed_mode: if args.independent_seeds {
                SeedMode::Independent
            } else {
                SeedMode::Common
            },
            shard: args.shard,
        },
    )?;
    let dir = args.out_dir();
    let copy = plan.experiment_copy();
    let (mut records, mut journal) = match &args.resume {
        Some(_) => {
            let contents = journal::read(&dir)?;
            let h = &contents.header;
            if h.fingerprint != plan.header.fingerprint {
                return Err(SweepError::Refused(format!(
                    "{} holds a different sweep (fingerprint {}, this one {}): the experiment file, the model file, --seed or --independent-seeds differ from when it started. Resume with the same files and flags ({}), or start a new sweep with --out",
                    dir.display(),
                    h.fingerprint,
                    plan.header.fingerprint,
                    describe(h)
                )));
            }
            if h.shard != plan.header.shard {
                let name =
                    |s: Option<Shard>| s.map_or("the whole sweep".into(), |s| format!("shard {s}"));
                return Err(SweepError::Refused(format!(
                    "{} holds {}, not {}: resume with the same --shard",
                    dir.display(),
                    name(h.shard),
                    name(plan.header.shard)
                )));
            }
            let j = journal::Journal::append_to(&dir, Some(contents.valid_len))?;
            (contents.records, j)
        }
        None => {
            prepare_out(&dir, args.force, "sweep")?;
            let write = |name: &str, bytes: &[u8]| {
                let path = dir.join(name);
                write_atomic(&path, bytes).map_err(|source| SweepError::Io { path, source })
            };
            write(SweepDataFile::Experiment.name(), copy.as_bytes())?;
            (Vec::new(), journal::Journal::create(&dir, &plan.header)?)
        }
    };
    let done: std::collections::BTreeSet<(usize, u32)> =
        records.iter().map(|r| (r.point, r.replication)).collect();
    let todo: Vec<(usize, u32)> = plan
        .runs()
        .into_iter()
        .filter(|k| !done.contains(k))
        .collect();
    let runs_total = plan.runs().len();
    let runs_resumed = records.len();
    let mut finished = runs_resumed;
    progress(finished, runs_total);
    let outcome = runner::execute(&plan, &todo, threads, cancel, &mut |batch: Vec<Record>| {
        journal.append_all(&batch)?;
        finished += batch.len();
        records.extend(batch);
        progress(finished, runs_total);
        Ok(())
    });
    drop(journal);
    let interrupted = outcome? == runner::Outcome::Cancelled;
    let stats = if interrupted {
        Vec::new()
    } else {
        output::write_final(&dir, &plan.header, &mut records, &copy)?
    };
    Ok(SweepReport {
        dir,
        header: plan.header,
        runs_total,
        runs_resumed,
        runs_now: records.len() - runs_resumed,
        threads,
        interrupted,
        stats,
    })
}

/// A short description of a journal's sweep for messages.
fn describe(h: &Header) -> String {
    format!(
        "it was started as `{}` with seed {} and {} seeds",
        h.experiment, h.seed, h.seed_mode
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = include_str!("../../models/checks/mm1.toml");

    fn plan(vary: &str, options: PlanOptions) -> Plan {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.toml"), MODEL).unwrap();
        let p = dir.path().join("e.toml");
        std::fs::write(
            &p,
            format!("model = \"m.toml\"\nreplications = 3\nseed = 5\n[vary]\n{vary}\n"),
        )
        .unwrap();
        Plan::new(Experiment::load(&p).unwrap(), options).unwrap()
    }

    fn seeds_of(plan: &Plan, value: &str) -> Vec<u64> {
        let p = plan
            .header
            .points
            .iter()
            .position(|v| v[0] == value)
            .unwrap();
        (0..3).map(|r| plan.run_seed(p, r)).collect()
    }

    #[test]
    fn common_seeds_are_shared_and_independent_seeds_are_per_point() {
        let a = plan("workload.rate = [100, 200]", PlanOptions::default());
        assert_eq!(seeds_of(&a, "100"), seeds_of(&a, "200"));
        assert_eq!(seeds_of(&a, "100")[1], derive(5, 1));
        let independent = PlanOptions {
            seed_mode: SeedMode::Independent,
            ..PlanOptions::default()
        };
        let b = plan("workload.rate = [100, 200]", independent);
        let c = plan("workload.rate = [300, 200, 150]", independent);
        assert_ne!(seeds_of(&b, "100"), seeds_of(&b, "200"));
        assert_eq!(seeds_of(&b, "200"), seeds_of(&c, "200"));
        assert_ne!(b.header.fingerprint, c.header.fingerprint);
        assert_ne!(a.header.fingerprint, b.header.fingerprint);
    }

    #[test]
    fn seed_precedence_is_command_line_then_experiment_then_model() {
        let a = plan("workload.rate = [100]", PlanOptions::default());
        assert_eq!((a.seed, a.seed_source), (5, SeedSource::Experiment));
        let b = plan(
            "workload.rate = [100]",
            PlanOptions {
                seed: Some(9),
                ..PlanOptions::default()
            },
        );
        assert_eq!((b.seed, b.seed_source), (9, SeedSource::CommandLine));
        assert_ne!(a.header.fingerprint, b.header.fingerprint);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.toml"), format!("seed = 77\n{MODEL}")).unwrap();
        let p = dir.path().join("e.toml");
        std::fs::write(&p, "model = \"m.toml\"\nreplications = 1\n").unwrap();
        let c = Plan::new(Experiment::load(&p).unwrap(), PlanOptions::default()).unwrap();
        assert_eq!((c.seed, c.seed_source), (77, SeedSource::Model));
    }

    #[test]
    fn shards_split_points_by_modulo() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!(s.to_string(), "2/3");
        assert!(s.contains(1) && s.contains(4) && !s.contains(0) && !s.contains(2));
        for bad in ["0/3", "4/3", "1/0", "x", "1-3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let p = plan(
            "workload.rate = [100, 200, 300, 400]",
            PlanOptions {
                shard: Some(s),
                ..PlanOptions::default()
            },
        );
        let points: Vec<usize> = p.runs().iter().map(|r| r.0).collect();
        assert_eq!(points, [1, 1, 1]);
    }
}
