//! The command line: parses arguments and calls the library. Exit codes: 0
//! success, 2 bad input (a malformed model or experiment, a refused output
//! folder, shards that do not merge), 1 an internal error, 130 a sweep
//! stopped by Ctrl-C (its finished runs are kept; `--resume` continues it).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use cachestorm::config::{self, ConfigError, Model, estimate};
use cachestorm::metrics::Summary;
use cachestorm::report::run_files::{OutputError, prepare_dir, run_into};
use cachestorm::report::run_plots::{RunPlotError, render_run_plots};
use cachestorm::report::sweep_plots::{
    PlotChoice, SweepPlotError, is_sweep_dir, render_sweep_plots,
};
use cachestorm::sweep::{self, Shard, SweepArgs, SweepError};

/// A deterministic simulator of memcached clusters, their clients and the
/// services that call them, under node failures.
#[derive(Parser)]
#[command(name = "cachestorm", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one model: writes timeline.csv, summary.json, node_events.csv and
    /// the timeline and nodes plots (PNG and SVG).
    Run {
        /// The model file (TOML).
        model: PathBuf,
        /// Seed of the run (overrides the model's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: out/<model name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a model key: `--set client.op_timeout=100ms`,
        /// `--set fault.0.kind=crash`. Repeatable; applied before validation.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Do not render plots.
        #[arg(long)]
        no_plots: bool,
        /// Overwrite an existing, non-empty output folder.
        #[arg(long)]
        force: bool,
        /// Print nothing on success.
        #[arg(long)]
        quiet: bool,
        /// Check the simulator's invariants while running (always on in
        /// debug builds); a broken one is reported as an internal error.
        #[arg(long)]
        check_invariants: bool,
        /// Refuse a model whose estimated event count is above N (0 = no
        /// limit): a typo such as `rate = 1e7` or `bucket = "1ns"` would
        /// otherwise run for days.
        #[arg(long, value_name = "N", default_value_t = estimate::DEFAULT_MAX_EVENTS)]
        max_events: u64,
    },
    /// Re-render the plots of a run or sweep folder from its files.
    Plot {
        /// A folder written by `cachestorm run` or `cachestorm sweep`.
        dir: PathBuf,
        /// Sweep: the metric to plot (a summary field by dotted path, e.g.
        /// `windows.fault.success_ratio`; default: the experiment's `rank_by`).
        #[arg(long)]
        metric: Option<String>,
        /// Sweep: the varied key across the x axis (heatmap and lines).
        #[arg(long)]
        x: Option<String>,
        /// Sweep: the varied key down the heatmap's y axis.
        #[arg(long)]
        y: Option<String>,
        /// Sweep: the varied key with one heatmap panel per value.
        #[arg(long)]
        panel: Option<String>,
        /// Sweep: the varied key with one line per value.
        #[arg(long)]
        series: Option<String>,
        /// Sweep: the value of a varied key a plot does not show
        /// (`--fix service.bulkhead.enabled=true`; default its first value).
        #[arg(long, value_name = "KEY=VALUE")]
        fix: Vec<String>,
    },
    /// Run an experiment: every point of its grid × its replications, in
    /// parallel. Writes results.csv, replications.csv, experiment.toml and
    /// journal.jsonl. Ctrl-C stops it cleanly; --resume continues it.
    Sweep {
        /// The experiment file (TOML).
        experiment: PathBuf,
        /// Output folder (default: out/<experiment stem>, or
        /// out/<stem>.shard-I-of-N with --shard).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Parallel runs (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Run only shard I of N: the points whose index modulo N is I-1.
        #[arg(long, value_name = "I/N")]
        shard: Option<Shard>,
        /// Continue the sweep in DIR: runs already in its journal are kept.
        #[arg(long, value_name = "DIR")]
        resume: Option<PathBuf>,
        /// Replace the sweep files of an existing, non-empty output folder.
        #[arg(long)]
        force: bool,
        /// Give every point its own seeds (default: common random numbers,
        /// the same seeds at every point).
        #[arg(long)]
        independent_seeds: bool,
        /// Experiment seed (overrides the experiment's `seed`, which
        /// overrides the model's).
        #[arg(long)]
        seed: Option<u64>,
        /// No progress bar and no table.
        #[arg(long)]
        quiet: bool,
        /// Do not render plots.
        #[arg(long)]
        no_plots: bool,
    },
    /// Join the folders of `sweep --shard` runs into the files one machine
    /// running the whole sweep writes.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long, required = true)]
        out: PathBuf,
        /// Replace the sweep files of an existing, non-empty output folder.
        #[arg(long)]
        force: bool,
        /// No table.
        #[arg(long)]
        quiet: bool,
    },
    /// Validate model files without running them.
    Check {
        /// Model files.
        #[arg(required = true)]
        models: Vec<PathBuf>,
        /// Overrides, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Refuse a model whose estimated event count is above N, as `run`
        /// would (0 = no limit).
        #[arg(long, value_name = "N", default_value_t = estimate::DEFAULT_MAX_EVENTS)]
        max_events: u64,
    },
}

/// A failure and its exit code.
enum Failure {
    BadInput(String),
    Internal(anyhow::Error),
    Interrupted,
}

impl From<SweepError> for Failure {
    fn from(e: SweepError) -> Self {
        if e.is_bad_input() {
            Failure::BadInput(e.to_string())
        } else {
            Failure::Internal(e.into())
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::BadInput(e.to_string())
    }
}

impl From<OutputError> for Failure {
    fn from(e: OutputError) -> Self {
        match e {
            OutputError::Exists(_) => Failure::BadInput(e.to_string()),
            other => Failure::Internal(other.into()),
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::Interrupted) => ExitCode::from(130),
    }
}

fn dispatch(cmd: Command) -> Result<(), Failure> {
    match cmd {
        Command::Run {
            model,
            seed,
            out,
            sets,
            no_plots,
            force,
            quiet,
            check_invariants,
            max_events,
        } => run(
            &model,
            seed,
            out,
            &sets,
            RunFlags {
                no_plots,
                force,
                quiet,
                check_invariants,
                max_events,
            },
        ),
        Command::Sweep {
            experiment,
            out,
            threads,
            shard,
            resume,
            force,
            independent_seeds,
            seed,
            quiet,
            no_plots,
        } => run_sweep(
            &SweepArgs {
                experiment,
                out,
                resume,
                force,
                threads,
                shard,
                independent_seeds,
                seed,
            },
            quiet,
            no_plots,
        ),
        Command::Merge {
            dirs,
            out,
            force,
            quiet,
        } => {
            let report = sweep::merge::merge(&dirs, &out, force)?;
            if !quiet {
                println!(
                    "merged {} runs of {} points from {} folder(s) into {}",
                    report.runs,
                    report.header.points.len(),
                    dirs.len(),
                    out.display()
                );
                print!("{}", sweep::output::table(&report.header, &report.stats, 5));
            }
            Ok(())
        }
        Command::Plot {
            dir,
            metric,
            x,
            y,
            panel,
            series,
            fix,
        } => {
            let rendered = if is_sweep_dir(&dir) {
                let mut fixed = Vec::new();
                for f in &fix {
                    let Some((k, v)) = f.split_once('=') else {
                        return Err(Failure::BadInput(format!("--fix {f}: expected KEY=VALUE")));
                    };
                    fixed.push((k.to_string(), v.to_string()));
                }
                let choice = PlotChoice {
                    metric,
                    x,
                    y,
                    panel,
                    series,
                    fix: fixed,
                };
                render_sweep_plots(&dir, &choice).map_err(sweep_plot_failure)?
            } else if dir.join("timeline.csv").exists() {
                render_run_plots(&dir).map_err(|e| match e {
                    RunPlotError::Input { .. } => Failure::BadInput(e.to_string()),
                    other => Failure::Internal(other.into()),
                })?
            } else {
                return Err(Failure::BadInput(format!(
                    "{} holds neither a run (timeline.csv) nor a sweep (journal.jsonl)",
                    dir.display()
                )));
            };
            for r in rendered {
                println!("wrote {} and {}", r.png.display(), r.svg.display());
            }
            Ok(())
        }
        Command::Check {
            models,
            sets,
            max_events,
        } => {
            for m in &models {
                let model = config::load_model(m, &sets)?;
                let events = guard_events(m, &model, max_events)?;
                println!(
                    "{}: ok ({}: {} node(s), {} fault(s), about {} events)",
                    m.display(),
                    model.name,
                    model.node_count(),
                    model.faults.len(),
                    estimate::sci(events as f64)
                );
            }
            Ok(())
        }
    }
}

/// The switches of `run`.
struct RunFlags {
    no_plots: bool,
    force: bool,
    quiet: bool,
    check_invariants: bool,
    max_events: u64,
}

/// The runaway guard: the model's estimated event count, or a refusal when
/// it is over `max` (0 = no limit), saying how to override it.
fn guard_events(path: &Path, model: &Model, max: u64) -> Result<u64, Failure> {
    let est = estimate::events(model);
    let total = est.total();
    if max > 0 && total > max {
        return Err(Failure::BadInput(format!(
            "{}: the run would take {est}, over the limit of {} ({}; pass --max-events {} or more to run it anyway, or --max-events 0 for no limit)",
            path.display(),
            estimate::sci(max as f64),
            est.hint(),
            total.saturating_add(total / 10).max(total),
        )));
    }
    Ok(total)
}

fn run(
    path: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    sets: &[String],
    flags: RunFlags,
) -> Result<(), Failure> {
    let RunFlags {
        no_plots,
        force,
        quiet,
        check_invariants,
        max_events,
    } = flags;
    let mut model = config::load_model(path, sets)?;
    if let Some(s) = seed {
        model.seed = s;
    }
    guard_events(path, &model, max_events)?;
    let dir = out.unwrap_or_else(|| {
        let stem = path
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("out").join(stem)
    });
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::BadInput(format!(
            "{}: the output folder is a file; choose another with --out",
            dir.display()
        )));
    }
    prepare_dir(&dir, force)?;
    if force {
        remove_previous_run(&dir).map_err(|e| Failure::Internal(e.into()))?;
    }
    let output = run_into(&dir, &model, check_invariants)?;
    if !no_plots {
        render_run_plots(&dir).map_err(|e| Failure::Internal(e.into()))?;
    }
    if !quiet {
        print_summary(&output.summary, &dir);
    }
    Ok(())
}

/// Set by the first Ctrl-C: the sweep stops scheduling runs. A second
/// Ctrl-C exits at once (the journal still holds every finished run).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn sweep_plot_failure(e: SweepPlotError) -> Failure {
    match e {
        SweepPlotError::Input(_) => Failure::BadInput(e.to_string()),
        other => Failure::Internal(other.into()),
    }
}

fn run_sweep(args: &SweepArgs, quiet: bool, no_plots: bool) -> Result<(), Failure> {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing the runs under way (Ctrl-C again to quit now)");
    });
    let bar = if quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {rate}  ETA {eta}")
                .expect("a valid template")
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1} runs/s", state.per_sec());
                    },
                ),
        )
    };
    let started = Instant::now();
    let mut first = true;
    let report = sweep::run_sweep(args, &INTERRUPTED, &mut |done, total| {
        if first {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.reset_eta();
            first = false;
        } else {
            bar.set_position(done as u64);
        }
    });
    bar.finish_and_clear();
    let report = report?;
    let done = report.runs_resumed + report.runs_now;
    if report.interrupted {
        eprintln!(
            "interrupted: {done} of {} runs are kept in {}; resume with:\n  {}",
            report.runs_total,
            report.dir.join(sweep::journal::JOURNAL).display(),
            args.resume_command(&report.dir)
        );
        return Err(Failure::Interrupted);
    }
    if !quiet {
        let h = &report.header;
        let shard = h.shard.map_or(String::new(), |s| format!(" (shard {s})"));
        let resumed = if report.runs_resumed > 0 {
            format!(", {} from the journal", report.runs_resumed)
        } else {
            String::new()
        };
        println!(
            "{}{shard}: {} point(s) × {} replication(s) = {} runs ({} now{resumed}) in {:.1} s on {} thread(s); {} seeds from {}",
            h.experiment,
            report.stats.len(),
            h.replications,
            report.runs_total,
            report.runs_now,
            started.elapsed().as_secs_f64(),
            report.threads,
            h.seed_mode,
            h.seed
        );
        print!("{}", report.table());
    }
    if !no_plots {
        render_sweep_plots(&report.dir, &PlotChoice::default()).map_err(sweep_plot_failure)?;
    }
    if !quiet {
        println!("wrote {}", report.dir.display());
    }
    Ok(())
}

/// `--force`: removes the files of an earlier run (and their temporaries),
/// as the output contract declares them.
fn remove_previous_run(dir: &Path) -> Result<(), cachestorm::output::RemoveError> {
    cachestorm::output::remove_previous_run(dir)
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn print_summary(s: &Summary, dir: &Path) {
    let r = &s.requests;
    println!(
        "{} (seed {}): {:.0} s simulated, {} events",
        s.model, s.seed, s.simulated_s, s.events
    );
    println!(
        "  requests {}: succeeded {}, late {}, rejected {}, timed out {}, failed {}, unfinished {}",
        r.offered, r.succeeded, r.late, r.rejected, r.timed_out, r.failed, r.unfinished
    );
    println!(
        "  latency ms: p50 {:.2}, p99 {:.2}, max {:.1}; over SLO {}",
        s.latency_ms.p50, s.latency_ms.p99, s.latency_ms.max, s.over_slo
    );
    let f = &s.windows.fault;
    if f.offered > 0 {
        println!(
            "  fault window ({:.0}-{:.0} s): success {}, rejected {}, timed out {}, cache timeouts {}, p99 {:.0} ms",
            f.start_s,
            f.end_s,
            pct(f.success_ratio),
            pct(f.rejected_ratio),
            pct(f.timed_out_ratio),
            pct(f.cache_timeout_ratio),
            f.latency_ms.p99
        );
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1} s"));
        println!(
            "  first bad request after {}, recovered {} after the fault; client trips {}",
            opt(s.first_bad_s),
            opt(s.recovery_s),
            s.client.trips
        );
    }
    println!("  wrote {}", dir.display());
}
