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
//! Resumable: after every wave each load's finished steps (the size, its
//! runs and how many stayed stuck) are appended to `journal.jsonl` and
//! synced, in the normal sweep's journal format ([`super::journal`]): the
//! header names the map (its fingerprint covers the experiment and model
//! texts, the load values, the seed and the build, with the mode `map`),
//! `points` are the load values, and a record's `replication` is the step's
//! number at its load (its `values`: `map.size`, `map.runs`,
//! `map.stuck_runs`). `--resume DIR` reads it back with
//! [`journal::scan`](super::journal::scan), refuses a journal of another
//! experiment, seed or build, replays each load's steps through the same
//! search (checking each replayed size is the one the search tries) and
//! continues from there; runs of an unfinished wave are run again. When the
//! map completes, the journal is rewritten in (load, step) order, so the
//! folder is byte-identical however it was reached.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::journal::{self, Header, Journal};
use super::record::Record;
use super::{SweepArgs, SweepError, different_build, lock_existing, prepare_out, threads};
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
    /// Runs made, those replayed from the journal included.
    pub runs: usize,
    /// Runs replayed from the journal by `--resume`.
    pub runs_resumed: usize,
    /// Replications per size.
    pub replications: u32,
    /// The seed.
    pub seed: u64,
    /// Threads used.
    pub threads: usize,
    /// True when Ctrl-C stopped the map (the finished steps are in the
    /// journal; no result files written).
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

/// The most steps the search makes at one load ([`Trigger::max_steps`]):
/// `high`, `low`, then one per midpoint down to the tolerance.
pub fn max_steps(t: &Trigger) -> u32 {
    t.max_steps()
}

/// The `seed_mode` of a map's journal header: replication r of every
/// (load, size) runs with `derive(seed, r)`, and a record is a step (its
/// `seed` is the experiment seed), which no grid sweep reads as its own.
pub const MAP_SEED_MODE: &str = "map";

/// True when `dir` holds a map's journal (a map interrupted before its
/// files were written, too).
pub fn is_map_journal(dir: &Path) -> bool {
    use std::io::{BufRead, Read};
    let Ok(f) = std::fs::File::open(dir.join(journal::JOURNAL)) else {
        return false;
    };
    let mut first = String::new();
    let _ = std::io::BufReader::new(f.take(1 << 20)).read_line(&mut first);
    serde_json::from_str::<Header>(&first).is_ok_and(|h| h.seed_mode == MAP_SEED_MODE)
}

/// The names of a map journal's values: a step's trigger size (nanoseconds
/// for a duration), its runs, and how many of them stayed stuck.
pub const STEP_VALUES: [&str; 3] = ["map.size", "map.runs", "map.stuck_runs"];

/// The journal header of a map: the load values as points, the step slots
/// per load as replications, [`STEP_VALUES`] as metrics, and a fingerprint
/// of the experiment and model texts, the load values, the seed and the
/// build, in the mode `map` (so no grid sweep's journal matches it).
pub fn journal_header(e: &Experiment, map: &VulnerabilityMap, seed: u64) -> Header {
    let n = e.points.len();
    let canon: Vec<String> = (0..n).map(|p| e.point_canonical(p)).collect();
    Header {
        format: journal::FORMAT.into(),
        version: journal::VERSION,
        cachestorm: crate::VERSION_BUILD.into(),
        fingerprint: super::plan::fingerprint(&e.text, &e.model_text, MAP_SEED_MODE, seed, &canon),
        experiment: e.name.clone(),
        seed,
        seed_mode: MAP_SEED_MODE.into(),
        replications: map.trigger.max_steps(),
        sequential: None,
        params: vec![map.load.key.clone()],
        points: (0..n)
            .map(|p| e.point_values(p).into_iter().map(str::to_string).collect())
            .collect(),
        metrics: STEP_VALUES.map(String::from).to_vec(),
        rank_by: STEP_VALUES[2].into(),
        shard: None,
    }
}

/// Step `i` at load `p` as a journal record.
fn record(seed: u64, p: usize, i: usize, s: &Step) -> Record {
    let v = |x: String| Some(x);
    Record {
        point: p,
        replication: i as u32,
        seed,
        values: vec![
            (STEP_VALUES[0].into(), v(num(s.size))),
            (STEP_VALUES[1].into(), v(s.runs.to_string())),
            (STEP_VALUES[2].into(), v(s.stuck_runs.to_string())),
        ],
    }
}

/// The step a record holds (`None` when a value is missing or not a count).
fn step_of(r: &Record, stuck_probability: f64) -> Option<Step> {
    let size = r.number(STEP_VALUES[0])?;
    let count = |k: &str| {
        r.values
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_deref()?.parse::<u32>().ok())
    };
    let (runs, stuck_runs) = (count(STEP_VALUES[1])?, count(STEP_VALUES[2])?);
    (runs > 0 && stuck_runs <= runs).then(|| Step {
        size,
        runs,
        stuck_runs,
        stuck: f64::from(stuck_runs) / f64::from(runs) >= stuck_probability,
    })
}

/// The sizes the search tries next at a load in `phase`.
fn next_sizes(t: &Trigger, phase: Phase) -> Vec<f64> {
    match phase {
        Phase::Ends => vec![t.high, t.low],
        Phase::Bracket { lo, hi } => t.midpoint(lo, hi).into_iter().collect(),
        Phase::Done => Vec::new(),
    }
}

/// Where the search stands after `batch`, the steps of [`next_sizes`].
fn advance(phase: Phase, batch: &[Step]) -> Phase {
    match (phase, batch) {
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
    }
}

/// Replays a journal's steps at each load through the search: each load's
/// steps from 0 while they are the sizes the search tries, a whole batch at
/// a time (a wave cut short leaves a load's `high` without its `low`: that
/// step is dropped and run again). Returns each load's phase and steps.
fn replay(
    dir: &Path,
    map: &VulnerabilityMap,
    loads: &[Vec<String>],
    by_load: Vec<Vec<Option<Step>>>,
) -> Result<(Vec<Phase>, Vec<Vec<Step>>), SweepError> {
    let mut phases = Vec::with_capacity(by_load.len());
    let mut kept = Vec::with_capacity(by_load.len());
    for (p, journaled) in by_load.into_iter().enumerate() {
        let mut phase = Phase::Ends;
        let mut steps: Vec<Step> = Vec::new();
        loop {
            let sizes = next_sizes(&map.trigger, phase);
            let at = steps.len();
            let batch: Option<Vec<Step>> = (0..sizes.len())
                .map(|i| journaled.get(at + i).cloned().flatten())
                .collect();
            let Some(batch) = batch else { break };
            if let Some((i, s)) = batch
                .iter()
                .enumerate()
                .find(|(i, s)| s.size.to_bits() != sizes[*i].to_bits())
            {
                return Err(SweepError::Refused(format!(
                    "{}: load {} step {} tried {} = {}, but the search tries {} there: the journal was edited or written by another search; start the map over with --force",
                    dir.join(journal::JOURNAL).display(),
                    loads[p].join(", "),
                    at + i,
                    map.trigger.key,
                    map.trigger.value(s.size).display,
                    map.trigger.value(sizes[i]).display,
                )));
            }
            let next = advance(phase, &batch);
            steps.extend(batch);
            if sizes.is_empty() {
                phase = Phase::Done;
                break;
            }
            phase = next;
        }
        phases.push(phase);
        kept.push(steps);
    }
    Ok((phases, kept))
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
    super::resume_or_force(args, "map")?;
    let threads = threads(args)?;
    let (experiment, _) = check(args)?;
    let map = the_map(&experiment)?;
    let (seed, seed_source) = seed_of(args, &experiment)?;
    let reps = experiment.replications.value;
    let dir = args.out_dir();
    let header = journal_header(&experiment, &map, seed);
    let loads = experiment.points.len();
    let write = |file: VmapDataFile, bytes: &[u8]| {
        let path = file.path(&dir);
        write_atomic(&path, bytes).map_err(|source| SweepError::Io { path, source })
    };
    let (mut phases, mut steps, mut journal, _lock) = match &args.resume {
        Some(_) => {
            let lock = lock_existing(&dir)?;
            let ours = |h: &Header, _: usize, _: u32| {
                (h.fingerprint == header.fingerprint).then_some(seed)
            };
            let mut by_load: Vec<Vec<Option<Step>>> = vec![Vec::new(); loads];
            let mut unreadable = None;
            let scanned = journal::scan(&dir, &ours, &mut |h, r| {
                if h.fingerprint != header.fingerprint || h.points.len() != loads {
                    return;
                }
                let Some(step) = step_of(&r, map.stuck_probability.value) else {
                    unreadable.get_or_insert((r.point, r.replication));
                    return;
                };
                let slots = &mut by_load[r.point];
                let i = r.replication as usize;
                if slots.len() <= i {
                    slots.resize(i + 1, None);
                }
                slots[i] = Some(step);
            })?;
            let h = &scanned.header;
            if h.cachestorm != header.cachestorm {
                return Err(SweepError::Refused(different_build(
                    &dir,
                    &h.cachestorm,
                    &header.cachestorm,
                )));
            }
            if h.fingerprint != header.fingerprint {
                let what = if h.metrics == header.metrics {
                    format!(
                        "another vulnerability map (`{}`, seed {})",
                        h.experiment, h.seed
                    )
                } else {
                    format!("a grid sweep (`{}`), not a vulnerability map", h.experiment)
                };
                return Err(SweepError::Refused(format!(
                    "{} holds {what}: its fingerprint {} is not this map's {} (the experiment file, the model file or --seed differ from when it started). Resume with the same files and flags, or start a new map with --out",
                    dir.display(),
                    h.fingerprint,
                    header.fingerprint,
                )));
            }
            if let Some((p, r)) = unreadable {
                return Err(SweepError::Refused(format!(
                    "{}: load {p} step {r} is not a map step ({} must be a size and two counts): the journal was edited; start the map over with --force",
                    dir.join(journal::JOURNAL).display(),
                    STEP_VALUES.join(", ")
                )));
            }
            let (phases, steps) = replay(&dir, &map, &header.points, by_load)?;
            let j = Journal::append_to(&dir, Some(scanned.valid_len))?;
            (phases, steps, j, lock)
        }
        None => {
            let lock = prepare_out(&dir, args.force, "map")?;
            if args.force {
                remove_vmap_files(&dir).map_err(|e| SweepError::Io {
                    path: e.path,
                    source: e.source,
                })?;
            }
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
            let j = Journal::create(&dir, &header)?;
            (vec![Phase::Ends; loads], vec![Vec::new(); loads], j, lock)
        }
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("vmap-{i}"))
        .build()
        .map_err(|e| SweepError::Internal(format!("cannot start {threads} threads: {e}")))?;
    let most = loads * map.trigger.max_steps() as usize * reps as usize;
    let runs_of =
        |steps: &[Vec<Step>]| -> usize { steps.iter().flatten().map(|s| s.runs as usize).sum() };
    let runs_resumed = runs_of(&steps);
    let mut done = runs_resumed;
    let mut interrupted = false;
    progress(done, most);
    loop {
        // Each load's sizes for this wave.
        let sizes: Vec<(usize, f64)> = phases
            .iter()
            .enumerate()
            .flat_map(|(p, &phase)| {
                next_sizes(&map.trigger, phase)
                    .into_iter()
                    .map(move |s| (p, s))
            })
            .collect();
        // A bracket within the tolerance is done without a run.
        for (p, phase) in phases.iter_mut().enumerate() {
            if !sizes.iter().any(|&(q, _)| q == p) {
                *phase = advance(*phase, &[]);
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
        // The wave's steps are on disk before the search moves on.
        let mut records = Vec::new();
        for (p, batch) in batches.iter().enumerate() {
            for (i, s) in batch.iter().enumerate() {
                let at = steps[p].len() + i;
                if at >= header.replications as usize {
                    return Err(SweepError::Internal(format!(
                        "load {p}: step {at} is beyond the {} the search can take",
                        header.replications
                    )));
                }
                records.push(record(seed, p, at, s));
            }
        }
        journal.append_all(&records)?;
        progress(done, most);
        for (p, batch) in batches.into_iter().enumerate() {
            phases[p] = advance(phases[p], &batch);
            steps[p].extend(batch);
        }
    }
    drop(journal);
    let results: Vec<LoadResult> = if interrupted {
        Vec::new()
    } else {
        let records: Vec<Record> = steps
            .iter()
            .enumerate()
            .flat_map(|(p, s)| {
                s.iter()
                    .enumerate()
                    .map(move |(i, s)| record(seed, p, i, s))
            })
            .collect();
        write(
            VmapDataFile::Journal,
            journal::render(&header, &records).as_bytes(),
        )?;
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
        runs_resumed,
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
