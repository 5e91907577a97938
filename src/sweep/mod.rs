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

mod error;
pub mod journal;
pub mod merge;
mod options;
pub mod output;
mod plan;
pub mod ranking;
pub mod record;
pub mod runner;
pub mod sequential;
pub mod stats;
pub mod vmap;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::config::experiment::Experiment;
use crate::output::{
    FolderLock, LockError, PrepareError, SweepDataFile, prepare_folder, remove_sweep_files,
    write_atomic,
};
use journal::Header;
use output::PointStats;
use record::Record;

pub use error::SweepError;
pub use options::{PlanOptions, SeedMode, SeedSource, Shard};
pub use plan::{Plan, stable_hash};

/// What `cachestorm sweep` was asked.
#[derive(Clone, Debug)]
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
    /// `--max-events`: refuse the sweep when any point is estimated above
    /// this many events (0 = no limit), as `run` does.
    pub max_events: u64,
    /// `--no-shared-prefix`: make every run whole, even where points that
    /// differ only in their faults could continue from one simulated
    /// warm-up (the results are the same either way).
    pub no_shared_prefix: bool,
}

impl Default for SweepArgs {
    fn default() -> SweepArgs {
        SweepArgs {
            experiment: PathBuf::new(),
            out: None,
            resume: None,
            force: false,
            threads: None,
            shard: None,
            independent_seeds: false,
            seed: None,
            max_events: crate::config::estimate::DEFAULT_MAX_EVENTS,
            no_shared_prefix: false,
        }
    }
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

    /// The command that resumes this sweep in `dir`, run as `program` (the
    /// program as it was invoked), every word shell-quoted.
    pub fn resume_command(&self, program: &str, dir: &Path) -> String {
        let mut c = format!(
            "{} sweep {} --resume {}",
            shell_quote(program),
            shell_quote(&self.experiment.display().to_string()),
            shell_quote(&dir.display().to_string())
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
        if self.max_events != crate::config::estimate::DEFAULT_MAX_EVENTS {
            c.push_str(&format!(" --max-events {}", self.max_events));
        }
        if self.no_shared_prefix {
            c.push_str(" --no-shared-prefix");
        }
        c
    }
}

/// A word as a POSIX shell reads it back: unchanged when it holds only
/// safe characters, otherwise in single quotes (a quote inside as `'\''`).
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The throughput a dry run's time estimate assumes, per thread: the floor
/// `docs/performance.md` holds the incident model to (measured 14.5 M
/// events/s on one core; a shared machine is slower).
pub const DRY_RUN_EVENTS_PER_S: f64 = 10e6;

/// What a sweep would do (`sweep --dry-run`): nothing runs, nothing is
/// written.
#[derive(Clone, Debug)]
pub struct DryRun {
    /// The journal header the sweep would write (its points and keys).
    pub header: Header,
    /// The points this sweep (or shard) runs.
    pub points: Vec<usize>,
    /// Runs: points × replications.
    pub runs: usize,
    /// The estimated events of every run together.
    pub events: f64,
    /// Threads it would use.
    pub threads: usize,
}

impl DryRun {
    /// The estimated wall time, in seconds, at [`DRY_RUN_EVENTS_PER_S`] per
    /// thread (runs spread over the threads).
    pub fn seconds(&self) -> f64 {
        let parallel = self.threads.min(self.runs.max(1)) as f64;
        self.events / (DRY_RUN_EVENTS_PER_S * parallel)
    }
}

/// Checks the experiment and every point's model as [`run_sweep`] would,
/// and says what it would run, without running or writing anything.
pub fn dry_run(args: &SweepArgs) -> Result<DryRun, SweepError> {
    let threads = threads(args)?;
    let plan = plan(args)?;
    let runs = plan.runs();
    let points: Vec<usize> = (0..plan.header.points.len())
        .filter(|&p| plan.runs_point(p))
        .collect();
    let events = points
        .iter()
        .filter_map(|&p| plan.model(p).ok())
        .map(|m| crate::config::estimate::events(&m).total() as f64)
        .sum::<f64>()
        * f64::from(plan.header.replications);
    Ok(DryRun {
        header: plan.header.clone(),
        points,
        runs: runs.len(),
        events,
        threads,
    })
}

fn threads(args: &SweepArgs) -> Result<usize, SweepError> {
    match args.threads {
        Some(0) => Err(SweepError::Refused("--threads must be at least 1".into())),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

fn plan(args: &SweepArgs) -> Result<Plan, SweepError> {
    let experiment = Experiment::load(&args.experiment)?;
    Plan::new(
        experiment,
        PlanOptions {
            seed: args.seed,
            seed_mode: if args.independent_seeds {
                SeedMode::Independent
            } else {
                SeedMode::Common
            },
            shard: args.shard,
            max_events: args.max_events,
        },
    )
}

/// Whether `path` is an experiment file rather than a model: a TOML table
/// with a top-level `model` key (the model it sweeps), which no model file
/// has. Unreadable files are taken for models (whose loader reports them).
pub fn is_experiment_file(path: &Path) -> bool {
    use std::io::Read;
    // Read no more than a model may hold (a device or a huge file is the
    // model loader's to refuse).
    const LIMIT: u64 = 16 << 20;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut text = String::new();
    if file.take(LIMIT + 1).read_to_string(&mut text).is_err() || text.len() as u64 > LIMIT {
        return false;
    }
    text.parse::<toml::Table>()
        .is_ok_and(|t| t.contains_key("model"))
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
pub fn prepare_out(dir: &Path, force: bool, what: &str) -> Result<FolderLock, SweepError> {
    match prepare_folder(dir, force) {
        Ok(p) if p.existed && force => {
            remove_sweep_files(dir).map_err(|e| SweepError::Io {
                path: e.path,
                source: e.source,
            })?;
            Ok(p.lock)
        }
        Ok(p) => Ok(p.lock),
        Err(PrepareError::Io(source)) | Err(PrepareError::Locked(LockError::Io { source, .. })) => {
            Err(SweepError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
        Err(PrepareError::NotEmpty) => {
            let resume =
                if dir.join(journal::JOURNAL).exists() && (what == "sweep" || what == "map") {
                    format!(
                        "pass --resume {} to continue the sweep it holds, ",
                        dir.display()
                    )
                } else {
                    String::new()
                };
            Err(SweepError::Refused(format!(
                "{} already exists and is not empty; {resume}pass --force to replace its sweep files, or --out to choose another folder",
                dir.display()
            )))
        }
        Err(
            e @ (PrepareError::NotAFolder
            | PrepareError::DanglingLink(_)
            | PrepareError::Locked(LockError::Busy { .. })),
        ) => Err(SweepError::Refused(
            e.refusal(dir).unwrap_or_else(|| dir.display().to_string()),
        )),
    }
}

/// Locks the existing sweep folder `dir` for `--resume`.
fn lock_existing(dir: &Path) -> Result<FolderLock, SweepError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(SweepError::Refused(format!(
                "{}: --resume needs the folder of a sweep, and this is a file",
                dir.display()
            )));
        }
        Err(_) => {
            return Err(SweepError::Refused(format!(
                "{}: no such folder to resume (give the folder a sweep wrote)",
                dir.display()
            )));
        }
    }
    FolderLock::acquire(dir).map_err(|e| match e {
        LockError::Busy { .. } => SweepError::Refused(e.to_string()),
        LockError::Io { path, source } => SweepError::Io { path, source },
    })
}

/// Refuses `--resume` with `--force`, and `--resume` with another `--out`
/// (`what`: "sweep" or "map", as the message names it).
pub(crate) fn resume_or_force(args: &SweepArgs, what: &str) -> Result<(), SweepError> {
    if args.resume.is_some() && args.force {
        return Err(SweepError::Refused(format!(
            "--resume continues a {what} and --force starts one over: give one of them"
        )));
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
    Ok(())
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
    resume_or_force(args, "sweep")?;
    let threads = threads(args)?;
    let plan = plan(args)?;
    let dir = args.out_dir();
    let copy = plan.experiment_copy();
    // What the sweep keeps of its finished runs while it runs: where each
    // is in the journal (8 bytes a run), and with sequential stopping the
    // ranking metric of each; never the records (about 27 KB a run).
    let rank_by = plan.header.rank_by.clone();
    let sequential_rule = plan.header.sequential.clone();
    let mut rank_values = sequential::RankValues::new();
    let keep_rank = |values: &mut sequential::RankValues, r: &Record| {
        if sequential_rule.is_some() {
            values.insert((r.point, r.replication), r.number(&rank_by));
        }
    };
    let (mut index, mut journal, _lock) = match &args.resume {
        Some(_) => {
            let lock = lock_existing(&dir)?;
            // Every record is checked against the plan, its seed included;
            // a journal of another sweep is named by its fingerprint below.
            let ours = |h: &Header, p: usize, r: u32| {
                ((h.fingerprint == plan.header.fingerprint
                    || plan.extends(&h.fingerprint, h.replications))
                    && p < plan.header.points.len())
                .then(|| plan.run_seed(p, r))
            };
            let scanned = journal::scan(&dir, &ours, &mut |_, r| keep_rank(&mut rank_values, &r))?;
            let h = &scanned.header;
            if h.cachestorm != plan.header.cachestorm {
                return Err(SweepError::Refused(different_build(
                    &dir,
                    &h.cachestorm,
                    &plan.header.cachestorm,
                )));
            }
            // More replications than the journal's: its runs are kept, and
            // its header (and the experiment copy) take the new number
            // before any new run is appended.
            let extends = h.fingerprint != plan.header.fingerprint
                && h.shard == plan.header.shard
                && plan.extends(&h.fingerprint, h.replications);
            if extends {
                let path = SweepDataFile::Journal.path(&dir);
                let index = rewrite_header(&path, &plan.header, &scanned.index)?;
                let path = SweepDataFile::Experiment.path(&dir);
                write_atomic(&path, copy.as_bytes())
                    .map_err(|source| SweepError::Io { path, source })?;
                let j = journal::Journal::append_to(&dir, None)?;
                (index, j, lock)
            } else {
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
                    let name = |s: Option<Shard>| {
                        s.map_or("the whole sweep".into(), |s| format!("shard {s}"))
                    };
                    return Err(SweepError::Refused(format!(
                        "{} holds {}, not {}: resume with the same --shard",
                        dir.display(),
                        name(h.shard),
                        name(plan.header.shard)
                    )));
                }
                let j = journal::Journal::append_to(&dir, Some(scanned.valid_len))?;
                (scanned.index, j, lock)
            }
        }
        None => {
            let lock = prepare_out(&dir, args.force, "sweep")?;
            let write = |name: &str, bytes: &[u8]| {
                let path = dir.join(name);
                write_atomic(&path, bytes).map_err(|source| SweepError::Io { path, source })
            };
            write(SweepDataFile::Experiment.name(), copy.as_bytes())?;
            (
                journal::RunIndex::new(&plan.header).map_err(SweepError::Internal)?,
                journal::Journal::create(&dir, &plan.header)?,
                lock,
            )
        }
    };
    let runs_resumed = index.len();
    let mut finished = runs_resumed;
    let share = !args.no_shared_prefix;
    let outcome = match plan.header.sequential.clone() {
        None => {
            let todo: Vec<(usize, u32)> = plan
                .runs()
                .into_iter()
                .filter(|&(p, r)| !index.contains(p, r))
                .collect();
            let runs_total = plan.runs().len();
            progress(finished, runs_total);
            runner::execute(&plan, &todo, threads, share, cancel, &mut |batch: Vec<
                Record,
            >| {
                journal.append_indexed(&batch, &mut index)?;
                finished += batch.len();
                progress(finished, runs_total);
                Ok(())
            })
        }
        Some(rule) => {
            // Waves: every point's first `min` replications, then one more
            // for each point the rule keeps going, until none is.
            let points: Vec<usize> = {
                let mut p: Vec<usize> = plan.runs().into_iter().map(|r| r.0).collect();
                p.dedup();
                p
            };
            loop {
                let todo = sequential::next_runs_of(&plan.header, &rule, &points, &rank_values);
                if todo.is_empty() {
                    break Ok(runner::BatchEnd::Complete);
                }
                let wave_total = finished + todo.len();
                progress(finished, wave_total);
                let end = runner::execute(
                    &plan,
                    &todo,
                    threads,
                    share,
                    cancel,
                    &mut |batch: Vec<Record>| {
                        journal.append_indexed(&batch, &mut index)?;
                        finished += batch.len();
                        for r in &batch {
                            keep_rank(&mut rank_values, r);
                        }
                        progress(finished, wave_total);
                        Ok(())
                    },
                );
                match end {
                    Ok(runner::BatchEnd::Complete) => continue,
                    other => break other,
                }
            }
        }
    };
    drop(journal);
    let interrupted = outcome? == runner::BatchEnd::Cancelled;
    if let Some(rule) = &plan.header.sequential {
        let keep = sequential::decided(&plan.header, rule, &rank_values);
        for &(p, r) in rank_values.keys() {
            if r >= keep[&p] {
                index.remove(p, r);
            }
        }
    }
    let runs_now = index.len().saturating_sub(runs_resumed);
    let runs_total = if plan.header.sequential.is_some() {
        index.len()
    } else {
        plan.runs().len()
    };
    let stats = if interrupted {
        Vec::new()
    } else {
        let runs = output::Runs::open(vec![SweepDataFile::Journal.path(&dir)], index)?;
        output::write_final(&dir, &plan.header, &runs, &copy)?
    };
    Ok(SweepReport {
        dir,
        header: plan.header,
        runs_total,
        runs_resumed,
        runs_now,
        threads,
        interrupted,
        stats,
    })
}

/// Rewrites the journal at `path` with `header` in place of its own,
/// keeping its runs (indexed by `index`) in the order they are in the file,
/// and says where each now is.
fn rewrite_header(
    path: &Path,
    header: &Header,
    index: &journal::RunIndex,
) -> Result<journal::RunIndex, SweepError> {
    use std::io::Write;
    let io = |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut in_file_order: Vec<(u64, usize, u32)> =
        index.iter().map(|(p, r, _, at)| (at, p, r)).collect();
    in_file_order.sort_unstable();
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut out = crate::output::AtomicFile::create(path).map_err(io)?;
    let mut moved = journal::RunIndex::new(header).map_err(SweepError::Internal)?;
    let head = journal::line(header);
    out.write_all(head.as_bytes()).map_err(io)?;
    let mut at = head.len() as u64;
    for (offset, p, r) in in_file_order {
        let line = journal::line(&journal::record_at(&mut reader, offset).map_err(io)?);
        out.write_all(line.as_bytes()).map_err(io)?;
        moved.insert(p, r, 0, at);
        at += line.len() as u64;
    }
    out.commit().map_err(io)?;
    Ok(moved)
}

/// A short description of a journal's sweep for messages.
/// The one line that refuses a journal written by another build of
/// cachestorm (`--resume` and `merge`).
pub(crate) fn different_build(dir: &std::path::Path, theirs: &str, ours: &str) -> String {
    format!(
        "{} was written by another build of cachestorm ({theirs}; this one is {ours}): builds from different sources or compilers may compute different numbers, so every shard and resume must use one build (`cachestorm --version` shows it)",
        dir.display()
    )
}

fn describe(h: &Header) -> String {
    format!(
        "it was started as `{}` with seed {} and {} seeds",
        h.experiment, h.seed, h.seed_mode
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_resume_hint_names_the_program_as_invoked_shell_quoted() {
        assert_eq!(
            shell_quote("target/release/cachestorm"),
            "target/release/cachestorm"
        );
        assert_eq!(shell_quote("my dir/it's"), "'my dir/it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        let args = SweepArgs {
            experiment: "exp files/a.toml".into(),
            out: None,
            resume: None,
            force: false,
            threads: Some(2),
            shard: None,
            independent_seeds: false,
            seed: None,
            max_events: crate::config::estimate::DEFAULT_MAX_EVENTS,
            no_shared_prefix: false,
        };
        assert_eq!(
            args.resume_command("./target/release/cachestorm", Path::new("out/a b")),
            "./target/release/cachestorm sweep 'exp files/a.toml' --resume 'out/a b' --threads 2"
        );
    }

    use super::*;
    use crate::engine::rng::derive;

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
