//! One run of a model, beside [`crate::sweep::run_sweep`]: [`run_model`]
//! loads the model, applies the event guard, prepares the output folder,
//! runs the simulation streaming its timeline to `timeline.csv`, and writes
//! the rest of the run's files and plots with the [`crate::report`] writers.
//! [`check_model`] is the same up to the guard, without running; [`replot`]
//! redraws the plots of a run or sweep folder from its files.

use std::path::{Path, PathBuf};

use crate::config::{self, Model};
use crate::engine::time::secs;
use crate::error::Error;
use crate::guard::{self, RunLimits};
use crate::output::{FolderLock, LockError, RunChart, RunDataFile, SweepChart};
use crate::report::plot::Rendered;
use crate::report::run_files::{
    OutputError, TimelineWriter, prepare_dir, write_node_events, write_summary,
};
use crate::report::run_plots::{render_run_plots, render_run_plots_to};
use crate::report::sweep_plots::{PlotChoice, is_sweep_dir, render_sweep_plots_to};
use crate::sim::{self, RunOutput};

/// What to run and how (`cachestorm run`).
#[derive(Clone, Debug)]
pub struct RunArgs {
    /// The model file.
    pub model: PathBuf,
    /// `--seed`: overrides the model's `seed`.
    pub seed: Option<u64>,
    /// `--out` (default `out/<model stem>`).
    pub out: Option<PathBuf>,
    /// `--set KEY=VALUE` overrides, applied before validation.
    pub sets: Vec<String>,
    /// `--no-plots`.
    pub no_plots: bool,
    /// `--force`: overwrite an existing, non-empty output folder.
    pub force: bool,
    /// `--check-invariants` (always on in debug builds).
    pub check_invariants: bool,
    /// `--max-events`: refuse a model estimated above this many events (0 =
    /// no limit).
    pub max_events: u64,
}

impl RunArgs {
    /// The folder the run writes into.
    pub fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| {
            let stem = self
                .model
                .file_stem()
                .map_or("model".into(), |s| s.to_string_lossy().into_owned());
            PathBuf::from("out").join(stem)
        })
    }
}

/// What a run did.
pub struct RunReport {
    /// The output folder.
    pub dir: PathBuf,
    /// The run's results (its summary, the node events).
    pub output: RunOutput,
    /// The plots drawn (none with `--no-plots`).
    pub plots: Vec<Rendered>,
}

impl std::fmt::Debug for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunReport")
            .field("dir", &self.dir)
            .field("plots", &self.plots)
            .finish_non_exhaustive()
    }
}

/// A model that passed [`check_model`].
#[derive(Debug)]
pub struct Checked {
    /// The validated model.
    pub model: Model,
    /// Its estimated event count.
    pub events: u64,
}

/// Loads and validates the model at `path` with `sets`, and applies the
/// event guard, as [`run_model`] would, without running it.
pub fn check_model(path: &Path, sets: &[String], max_events: u64) -> Result<Checked, Error> {
    let model = config::load_model(path, sets)?;
    let events = guard::admit(&path.display().to_string(), &model, max_events)?.events;
    Ok(Checked { model, events })
}

/// Runs one model and writes its files (`timeline.csv`, `summary.json`,
/// `node_events.csv`, and unless `no_plots` the timeline and nodes plots)
/// into [`RunArgs::out_dir`].
pub fn run_model(args: &RunArgs) -> Result<RunReport, Error> {
    let path = &args.model;
    let mut model = config::load_model(path, &args.sets)?;
    if let Some(s) = args.seed {
        model.seed = s;
    }
    let admitted = guard::admit(&path.display().to_string(), &model, args.max_events)?;
    let dir = args.out_dir();
    let _lock = prepare_dir(&dir, args.force)?;
    if args.force {
        crate::output::remove_previous_run(&dir).map_err(Error::Cleanup)?;
    }
    let output = write_run_limited(&dir, &model, args.check_invariants, admitted.limits)
        .map_err(|e| e.for_model(path))?;
    let plots = if args.no_plots {
        Vec::new()
    } else {
        render_run_plots(&dir).map_err(Error::FreshRunPlot)?
    };
    Ok(RunReport { dir, output, plots })
}

/// Runs `model`, streaming its timeline into `dir/timeline.csv`, then writes
/// `summary.json` and `node_events.csv` (`dir` must exist), with the state
/// bounds of the run-time limits but no event budget.
pub fn write_run(dir: &Path, model: &Model, check_invariants: bool) -> Result<RunOutput, Error> {
    write_run_limited(dir, model, check_invariants, RunLimits::state_only())
}

/// [`write_run`] held to `limits` (from [`guard::admit`]).
pub fn write_run_limited(
    dir: &Path,
    model: &Model,
    check_invariants: bool,
    limits: RunLimits,
) -> Result<RunOutput, Error> {
    let io_err = |source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut timeline = TimelineWriter::create(dir).map_err(io_err)?;
    let out = sim::run_limited(model, check_invariants, limits, &mut |row| {
        timeline.row(row)
    })?;
    timeline.finish().map_err(io_err)?;
    write_summary(dir, &out.summary).map_err(io_err)?;
    let faults: Vec<(f64, f64, String, String)> = model
        .faults
        .iter()
        .map(|f| {
            (
                secs(f.start),
                secs(f.end),
                (model.pool_offset(f.pool) + f.node).to_string(),
                f.kind.name().to_string(),
            )
        })
        .collect();
    write_node_events(dir, &out.node_events, &faults).map_err(io_err)?;
    Ok(out)
}

/// What to redraw (`cachestorm plot`): the folder, and for a sweep the
/// choices of [`PlotChoice`] with `fix` still as `KEY=VALUE` text.
#[derive(Clone, Debug, Default)]
pub struct PlotArgs {
    /// A folder written by `run` or `sweep`.
    pub dir: PathBuf,
    /// `--out`: where the plots go (default: `dir`, replacing its plots).
    pub out: Option<PathBuf>,
    /// `--chart`: the charts to draw, by stem (default: every chart the
    /// folder allows).
    pub charts: Vec<String>,
    /// `--title`: every chart's title.
    pub title: Option<String>,
    /// Sweep: the metric.
    pub metric: Option<String>,
    /// Sweep: the key across the x axis.
    pub x: Option<String>,
    /// Sweep: the key down the heatmap's y axis.
    pub y: Option<String>,
    /// Sweep: the key with one heatmap panel per value.
    pub panel: Option<String>,
    /// Sweep: the key with one line per value.
    pub series: Option<String>,
    /// Sweep: `KEY=VALUE` for keys a plot does not show.
    pub fix: Vec<String>,
}

impl PlotArgs {
    /// The sweep-only flags given, by name.
    fn sweep_flags(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (given, name) in [
            (self.metric.is_some(), "--metric"),
            (self.x.is_some(), "--x"),
            (self.y.is_some(), "--y"),
            (self.panel.is_some(), "--panel"),
            (self.series.is_some(), "--series"),
            (!self.fix.is_empty(), "--fix"),
        ] {
            if given {
                v.push(name);
            }
        }
        v
    }
}

/// The charts named by `--chart`, among `all` (by stem), or every one.
fn charts<C: Copy + PartialEq>(
    names: &[String],
    all: &[C],
    stem: fn(C) -> &'static str,
    folder: &str,
) -> Result<Vec<C>, Error> {
    if names.is_empty() {
        return Ok(all.to_vec());
    }
    let mut out = Vec::new();
    for n in names {
        let Some(&c) = all.iter().find(|&&c| stem(c) == n) else {
            let allowed: Vec<&str> = all.iter().map(|&c| stem(c)).collect();
            return Err(Error::Refused(format!(
                "--chart {n}: a {folder} folder has the charts {}",
                allowed.join(", ")
            )));
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Redraws the plots of a run or sweep folder from its files, into `--out`
/// or the folder itself. Every flag is checked, and every chart's data
/// computed, before the first file is written; flags that do not apply to
/// the folder (the sweep-only ones on a run) are refused.
pub fn replot(args: PlotArgs) -> Result<Vec<Rendered>, Error> {
    let dir = &args.dir;
    let out = args.out.clone().unwrap_or_else(|| dir.clone());
    if out.exists() && !out.is_dir() {
        return Err(Error::Refused(format!(
            "--out {}: is a file; choose a folder",
            out.display()
        )));
    }
    // One writer per folder: not while a run or sweep is writing into the
    // folder the plots go to.
    let _lock = if out.is_dir() {
        Some(FolderLock::acquire(&out).map_err(|e| match e {
            LockError::Busy { .. } => Error::Refused(e.to_string()),
            LockError::Io { path, source } => Error::Output(OutputError::Io { path, source }),
        })?)
    } else {
        None
    };
    if is_sweep_dir(dir) && !crate::report::vmap::is_vmap_dir(dir) {
        let charts = charts(&args.charts, SweepChart::ALL, SweepChart::stem, "sweep")?;
        let mut fixed = Vec::new();
        for f in &args.fix {
            let Some((k, v)) = f.split_once('=') else {
                return Err(Error::Refused(format!("--fix {f}: expected KEY=VALUE")));
            };
            fixed.push((k.to_string(), v.to_string()));
        }
        let explicit = !args.charts.is_empty();
        let choice = PlotChoice {
            metric: args.metric,
            x: args.x,
            y: args.y,
            panel: args.panel,
            series: args.series,
            fix: fixed,
            title: args.title,
        };
        Ok(render_sweep_plots_to(
            dir,
            &out,
            &choice,
            explicit.then_some(charts.as_slice()),
        )?)
    } else if crate::report::vmap::is_vmap_dir(dir) {
        // A vulnerability map has one chart and no choices.
        if !args.sweep_flags().is_empty() || !args.charts.is_empty() {
            return Err(Error::Refused(format!(
                "{} is a vulnerability map: its one chart (vmap) takes no --chart, --metric, --x, --y, --panel, --series or --fix",
                dir.display()
            )));
        }
        std::fs::create_dir_all(&out).map_err(|source| {
            Error::Output(OutputError::Io {
                path: out.clone(),
                source,
            })
        })?;
        Ok(vec![crate::report::vmap::render_vmap_to(dir, &out)?])
    } else if RunDataFile::Timeline.path(dir).exists() {
        let charts = charts(&args.charts, RunChart::ALL, RunChart::stem, "run")?;
        let sweep_only = args.sweep_flags();
        if !sweep_only.is_empty() {
            return Err(Error::Refused(format!(
                "{}: only for a sweep folder; {} is a run (its charts: {})",
                sweep_only.join(", "),
                dir.display(),
                RunChart::ALL
                    .iter()
                    .map(|c| c.stem())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(render_run_plots_to(
            dir,
            &out,
            args.title.as_deref(),
            &charts,
        )?)
    } else {
        Err(Error::Refused(format!(
            "{} holds neither a run (timeline.csv) nor a sweep (journal.jsonl)",
            dir.display()
        )))
    }
}
