//! Vulnerability maps: for each value of one load key, the smallest trigger
//! that leaves the system stuck, found by bisection with replications (the
//! experiment's `[map]` table, `config::experiment::map`).
//!
//! At each load value the search first tries `high` and `low` together:
//! not stuck at `high` means stable for every size tried (`stable`); stuck
//! already at `low` means `stuck`; otherwise it halves the bracket [largest
//! size not stuck, smallest size stuck] until it is within `tolerance`
//! (`metastable`, the boundary is the bracket). A size is stuck when at
//! least `stuck_probability` of its `replications` runs end with the
//! summary's `verdict.state == stuck`.
//!
//! Determinism: replication r of every (load, size) runs with seed
//! `derive(seed, r)` (common random numbers: every size meets the same
//! arrivals, so the bisection compares like with like), and each step is
//! decided from its whole batch of runs, in replication order, after the
//! batch is complete. Runs of one wave (every load value's next size ×
//! replications) are spread over the threads and collected in order, so
//! the files are byte-identical at any `--threads`.
//!
//! Not resumable: the runs live in memory until the files are written (a
//! map is meant to take a minute; an interrupted map is run again, and its
//! deterministic search retraces the same steps).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::{SweepArgs, SweepError, prepare_out, threads};
use crate::config::experiment::map::{Trigger, VulnerabilityMap};
use crate::config::experiment::{Experiment, Setting};
use crate::engine::rng::derive;
use crate::output::vmap::{MapColumn, MapState, StepColumn, VmapDataFile, remove_vmap_files};
use crate::output::write_atomic;
use crate::sim::RunError;

/// One trigger size tried at one load.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The size (nanoseconds for a duration).
    pub size: f64,
    /// Runs made.
    pub runs: u32,
    /// Runs that stayed stuck.
    pub stuck_runs: u32,
    /// Whether the share reached the map's `stuck_probability`.
    pub stuck: bool,
}

impl Step {
    /// The share of runs stuck.
    pub fn p_stuck(&self) -> f64 {
        f64::from(self.stuck_runs) / f64::from(self.runs.max(1))
    }
}

/// The search at one load value.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadResult {
    /// The load value as written (its display spelling).
    pub load: String,
    /// The sizes tried, in order.
    pub steps: Vec<Step>,
    /// What the search found.
    pub state: MapState,
    /// The largest size found not stuck.
    pub stable_up_to: Option<f64>,
    /// The smallest size found stuck, and its step.
    pub min_trigger: Option<Step>,
}

/// Where the search at one load stands.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// `high` and `low` not yet tried.
    Ends,
    /// Not stuck at `lo`, stuck at `hi`.
    Bracket { lo: f64, hi: f64 },
    /// Finished.
    Done,
}

/// What a map did.
#[derive(Clone, Debug)]
pub struct MapReport {
    /// The output folder.
    pub dir: std::path::PathBuf,
    /// The experiment's name.
    pub name: String,
    /// The load key.
    pub load_key: String,
    /// The trigger searched for.
    pub trigger: Trigger,
    /// Per load value, in the order written (empty when interrupted).
    pub loads: Vec<LoadResult>,
    /// Runs made.
    pub runs: usize,
    /// Replications per size.
    pub replications: u32,
    /// The seed.
    pub seed: u64,
    /// Threads used.
    pub threads: usize,
    /// True when Ctrl-C stopped the map (no result files written).
    pub interrupted: bool,
}

/// Whether `path` is an experiment file with a `[map]` table.
pub fn is_map_file(path: &Path) -> bool {
    super::is_experiment_file(path)
        && std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .is_some_and(|t| t.contains_key("map"))
}

/// The map of an experiment, or a refusal naming the file.
fn the_map(experiment: &Experiment) -> Result<VulnerabilityMap, SweepError> {
    experiment.map.clone().ok_or_else(|| {
        SweepError::Refused(format!("{}: has no [map] table", experiment.path.display()))
    })
}

/// The experiment seed in force: `--seed`, the experiment's, the model's.
fn seed_of(args: &SweepArgs, e: &Experiment) -> Result<(u64, &'static str), SweepError> {
    Ok(match (args.seed, &e.seed) {
        (Some(s), _) => (s, "--seed"),
        (None, Some(s)) => (s.value, "the experiment's `seed`"),
        (None, None) => (e.model_for(0)?.seed, "the model's `seed`"),
    })
}

/// The override setting the trigger to `size`.
fn setting(t: &Trigger, size: f64) -> Setting {
    Setting {
        key: t.key.clone(),
        value: t.value(size),
    }
}

/// What is checked before anything runs: every load value's model at `low`
/// and at `high`, through the runaway guard. Returns the largest estimate
/// of one run's events.
pub fn check(args: &SweepArgs) -> Result<(Experiment, u64), SweepError> {
    if args.resume.is_some() {
        return Err(SweepError::Refused(format!(
            "{}: a vulnerability map cannot be resumed; run it again (its search is deterministic and retraces the same steps)",
            args.experiment.display()
        )));
    }
    if args.shard.is_some() {
        return Err(SweepError::Refused(format!(
            "{}: a vulnerability map decides each step from the one before; it cannot be split into shards",
            args.experiment.display()
        )));
    }
    if args.independent_seeds {
        return Err(SweepError::Refused(format!(
            "{}: a vulnerability map compares trigger sizes on common random numbers; drop --independent-seeds",
            args.experiment.display()
        )));
    }
    let experiment = Experiment::load(&args.experiment)?;
    let map = the_map(&experiment)?;
    let mut most = 0;
    for p in 0..experiment.points.len() {
        for size in [map.trigger.low, map.trigger.high] {
            let model = experiment.model_with(p, &[setting(&map.trigger, size)])?;
            let what = describe(&experiment, &map, p, size);
            most = most.max(crate::guard::admit(&what, &model, args.max_events)?.events);
        }
    }
    Ok((experiment, most))
}

fn describe(e: &Experiment, map: &VulnerabilityMap, p: usize, size: f64) -> String {
    format!(
        "{}: map point {}={}, {}={}",
        e.path.display(),
        map.load.key,
        map.load.values[e.points[p][0]].display,
        map.trigger.key,
        map.trigger.value(size).display
    )
}

/// The most steps the search makes at one load: `high`, `low`, then one
/// per halving of the bracket down to the tolerance.
pub fn max_steps(t: &Trigger) -> u32 {
    let mut n = 2;
    let (mut lo, hi) = (t.low, t.high);
    // The worst case keeps the larger half each time.
    while let Some(mid) = t.midpoint(lo, hi) {
        lo = mid;
        n += 1;
    }
    n
}

/// Runs one wave: every `(point, size, replication)` of `todo`, spread over
/// `threads`, results in the order of `todo` (`None` for runs skipped after
/// `cancel`).
fn wave(
    e: &Experiment,
    map: &VulnerabilityMap,
    seed: u64,
    max_events: u64,
    todo: &[(usize, f64, u32)],
    pool: &rayon::ThreadPool,
    cancel: &AtomicBool,
) -> Result<Vec<Option<bool>>, SweepError> {
    let one = |&(p, size, r): &(usize, f64, u32)| -> Result<Option<bool>, SweepError> {
        if cancel.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let mut model = e.model_with(p, &[setting(&map.trigger, size)])?;
        let what = describe(e, map, p, size);
        let limits = crate::guard::admit(&what, &model, max_events)?.limits;
        model.seed = derive(seed, u64::from(r));
        let out = crate::sim::run_limited(&model, false, limits, &mut |_| {}).map_err(|err| {
            let what = format!("{what} replication {r} (seed {})", model.seed);
            match err {
                RunError::Limit(l) => SweepError::Refused(format!("{what}: {l}")),
                RunError::Invariant(v) => SweepError::Internal(format!("{what}: {v}")),
            }
        })?;
        Ok(Some(out.summary.verdict.stuck >= 0.5))
    };
    let results: Vec<Result<Option<bool>, SweepError>> =
        pool.install(|| todo.par_iter().with_max_len(1).map(one).collect());
    results.into_iter().collect()
}

/// Runs a vulnerability map and writes `vmap.csv`, `vmap-steps.csv` and
/// the experiment copy into the output folder. `progress(done, most)` is
/// called after each wave with the runs made and the most the map can
/// make.
pub fn run_map(
    args: &SweepArgs,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<MapReport, SweepError> {
    let threads = threads(args)?;
    let (experiment, _) = check(args)?;
    let map = the_map(&experiment)?;
    let (seed, seed_source) = seed_of(args, &experiment)?;
    let reps = experiment.replications.value;
    let dir = args.out_dir();
    let _lock = prepare_out(&dir, args.force, "map")?;
    if args.force {
        remove_vmap_files(&dir).map_err(|e| SweepError::Io {
            path: e.path,
            source: e.source,
        })?;
    }
    let write = |file: VmapDataFile, bytes: &[u8]| {
        let path = file.path(&dir);
        write_atomic(&path, bytes).map_err(|source| SweepError::Io { path, source })
    };
    let resolved = std::path::absolute(&experiment.model_path)
        .unwrap_or_else(|_| experiment.model_path.clone());
    write(
        VmapDataFile::Experiment,
        format!(
            "# The experiment as run by cachestorm {} (a vulnerability map): seed {seed} (from {seed_source}), common random numbers; `model` resolved.\n{}",
            crate::VERSION_BUILD,
            experiment.text_with_model(&resolved)
        )
        .as_bytes(),
    )?;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("vmap-{i}"))
        .build()
        .map_err(|e| SweepError::Internal(format!("cannot start {threads} threads: {e}")))?;
    let loads = experiment.points.len();
    let most = loads * max_steps(&map.trigger) as usize * reps as usize;
    let mut phases = vec![Phase::Ends; loads];
    let mut steps: Vec<Vec<Step>> = vec![Vec::new(); loads];
    let mut done = 0usize;
    let mut interrupted = false;
    progress(done, most);
    loop {
        // Each load's sizes for this wave.
        let mut sizes: Vec<(usize, f64)> = Vec::new();
        for (p, phase) in phases.iter().enumerate() {
            match *phase {
                Phase::Ends => {
                    sizes.push((p, map.trigger.high));
                    sizes.push((p, map.trigger.low));
                }
                Phase::Bracket { lo, hi } => {
                    if let Some(mid) = map.trigger.midpoint(lo, hi) {
                        sizes.push((p, mid));
                    }
                }
                Phase::Done => {}
            }
        }
        if sizes.is_empty() {
            break;
        }
        let todo: Vec<(usize, f64, u32)> = sizes
            .iter()
            .flat_map(|&(p, s)| (0..reps).map(move |r| (p, s, r)))
            .collect();
        let results = wave(
            &experiment,
            &map,
            seed,
            args.max_events,
            &todo,
            &pool,
            cancel,
        )?;
        if results.iter().any(Option::is_none) {
            interrupted = true;
            break;
        }
        done += todo.len();
        progress(done, most);
        // Decide each load's step from its whole batch.
        let mut batches: Vec<Vec<Step>> = vec![Vec::new(); loads];
        for (i, &(p, size)) in sizes.iter().enumerate() {
            let batch = &results[i * reps as usize..(i + 1) * reps as usize];
            let stuck_runs = batch.iter().filter(|x| **x == Some(true)).count() as u32;
            let share = f64::from(stuck_runs) / f64::from(reps);
            batches[p].push(Step {
                size,
                runs: reps,
                stuck_runs,
                stuck: share >= map.stuck_probability.value,
            });
        }
        for (p, batch) in batches.into_iter().enumerate() {
            phases[p] = match (phases[p], batch.as_slice()) {
                (Phase::Ends, [high, low]) => {
                    if !high.stuck || low.stuck {
                        Phase::Done
                    } else {
                        Phase::Bracket {
                            lo: low.size,
                            hi: high.size,
                        }
                    }
                }
                (Phase::Bracket { lo, hi }, [mid]) => {
                    if mid.stuck {
                        Phase::Bracket { lo, hi: mid.size }
                    } else {
                        Phase::Bracket { lo: mid.size, hi }
                    }
                }
                (Phase::Bracket { .. }, []) => Phase::Done,
                (phase, _) => phase,
            };
            steps[p].extend(batch);
        }
    }
    let results: Vec<LoadResult> = if interrupted {
        Vec::new()
    } else {
        steps
            .into_iter()
            .enumerate()
            .map(|(p, steps)| conclude(&experiment, &map, p, steps))
            .collect()
    };
    if !interrupted {
        write(VmapDataFile::Map, map_csv(&map, &results).as_bytes())?;
        write(VmapDataFile::Steps, steps_csv(&map, &results).as_bytes())?;
    }
    Ok(MapReport {
        dir,
        name: experiment.name.clone(),
        load_key: map.load.key.clone(),
        trigger: map.trigger.clone(),
        loads: results,
        runs: done,
        replications: reps,
        seed,
        threads,
        interrupted,
    })
}

/// The finding at one load from its steps.
fn conclude(e: &Experiment, map: &VulnerabilityMap, p: usize, steps: Vec<Step>) -> LoadResult {
    let stable_up_to = steps
        .iter()
        .filter(|s| !s.stuck)
        .map(|s| s.size)
        .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
    let min_trigger = steps
        .iter()
        .filter(|s| s.stuck)
        .min_by(|a, b| a.size.total_cmp(&b.size))
        .cloned();
    let state = match (&min_trigger, stable_up_to) {
        (None, _) => MapState::Stable,
        (Some(_), None) => MapState::Stuck,
        (Some(_), Some(_)) => MapState::Metastable,
    };
    LoadResult {
        load: map.load.values[e.points[p][0]].display.clone(),
        steps,
        state,
        stable_up_to,
        min_trigger,
    }
}

fn num(x: f64) -> String {
    crate::output::flat::fmt_f64(x).unwrap_or_default()
}

/// Rows as CSV (quoted where a cell needs it).
fn csv_text(head: Vec<&str>, rows: Vec<Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut put = |r: &[&str]| w.write_record(r).expect("writing to memory");
    put(&head);
    for r in &rows {
        put(&r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 cells")
}

/// `vmap.csv`.
pub fn map_csv(map: &VulnerabilityMap, loads: &[LoadResult]) -> String {
    let t = &map.trigger;
    let rows = loads
        .iter()
        .map(|l| {
            MapColumn::ALL
                .iter()
                .map(|c| match c {
                    MapColumn::LoadKey => map.load.key.clone(),
                    MapColumn::Load => l.load.clone(),
                    MapColumn::TriggerKey => t.key.clone(),
                    MapColumn::TriggerUnit => t.scale.name().to_string(),
                    MapColumn::State => l.state.name().to_string(),
                    MapColumn::StableUpTo => {
                        l.stable_up_to.map_or(String::new(), |s| num(t.in_unit(s)))
                    }
                    MapColumn::MinTrigger => l
                        .min_trigger
                        .as_ref()
                        .map_or(String::new(), |s| num(t.in_unit(s.size))),
                    MapColumn::PStuck => l
                        .min_trigger
                        .as_ref()
                        .map_or(String::new(), |s| num(s.p_stuck())),
                    MapColumn::Steps => l.steps.len().to_string(),
                    MapColumn::Runs => l.steps.iter().map(|s| s.runs).sum::<u32>().to_string(),
                })
                .collect()
        })
        .collect();
    csv_text(MapColumn::ALL.iter().map(|c| c.name()).collect(), rows)
}

/// `vmap-steps.csv`.
pub fn steps_csv(map: &VulnerabilityMap, loads: &[LoadResult]) -> String {
    let mut rows = Vec::new();
    for l in loads {
        for (i, s) in l.steps.iter().enumerate() {
            rows.push(
                StepColumn::ALL
                    .iter()
                    .map(|c| match c {
                        StepColumn::Load => l.load.clone(),
                        StepColumn::Step => i.to_string(),
                        StepColumn::Trigger => num(map.trigger.in_unit(s.size)),
                        StepColumn::Runs => s.runs.to_string(),
                        StepColumn::StuckRuns => s.stuck_runs.to_string(),
                        StepColumn::PStuck => num(s.p_stuck()),
                        StepColumn::Stuck => s.stuck.to_string(),
                    })
                    .collect(),
            );
        }
    }
    csv_text(StepColumn::ALL.iter().map(|c| c.name()).collect(), rows)
}
