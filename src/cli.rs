//! The command line: argument types, and a dispatch that calls the library
//! and hands what it returns to [`crate::console`]. Every failure is a
//! [`cachestorm::Error`]; `main` prints it and exits with its code.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

use cachestorm::config::estimate;
use cachestorm::import;
use cachestorm::report::sweep_plots::{PlotChoice, render_sweep_plots};
use cachestorm::sweep::{self, Shard, SweepArgs};
use cachestorm::{Error, PlotArgs, RunArgs};

use crate::console;

/// A deterministic simulator of memcached clusters, their clients and the
/// services that call them, under node failures.
#[derive(Parser)]
#[command(name = "cachestorm", version = cachestorm::LONG_VERSION, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one model: writes timeline.csv, summary.json, node_events.csv and
    /// the timeline and nodes plots (PNG and SVG).
    Run(RunCmd),
    /// Re-render the plots of a run or sweep folder from its files.
    Plot(PlotCmd),
    /// Run an experiment: every point of its grid × its replications, in
    /// parallel. Writes results.csv, replications.csv, experiment.toml and
    /// journal.jsonl. Ctrl-C stops it cleanly; --resume continues it.
    Sweep(SweepCmd),
    /// Join the folders of `sweep --shard` runs into the files one machine
    /// running the whole sweep writes, plots included.
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
        /// Do not render plots.
        #[arg(long)]
        no_plots: bool,
    },
    /// Validate model or experiment files without running them (an
    /// experiment: every point's model, its metrics and its runs).
    Check {
        /// Model or experiment files.
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
    /// Write a model skeleton from the configuration files you have:
    /// twemproxy `nutcracker.yml`, an mcrouter JSON config, an HAProxy
    /// `haproxy.cfg` backend, spymemcached settings (`*.properties` or
    /// builder calls). Values no file gives are marked ASSUMPTION.
    Import(ImportCmd),
    /// Print a shell completion script: `cachestorm completions bash >
    /// ~/.local/share/bash-completion/completions/cachestorm`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `cachestorm man > cachestorm.1`.
    Man,
}

// The arguments of `import` (its help text is the variant's doc comment).
#[derive(clap::Args)]
struct ImportCmd {
    /// Configuration files (format from the extension: .yml twemproxy,
    /// .json mcrouter, .cfg HAProxy, .properties spymemcached).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Read every file as this format.
    #[arg(long, value_enum)]
    format: Option<ImportFormat>,
    /// Write the model here (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    force: bool,
}

/// `import --format`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ImportFormat {
    Twemproxy,
    Mcrouter,
    Haproxy,
    Spymemcached,
}

impl ImportFormat {
    fn format(self) -> import::Format {
        match self {
            ImportFormat::Twemproxy => import::Format::Twemproxy,
            ImportFormat::Mcrouter => import::Format::Mcrouter,
            ImportFormat::Haproxy => import::Format::Haproxy,
            ImportFormat::Spymemcached => import::Format::Spymemcached,
        }
    }
}

// The arguments of `run` (its help text is the variant's doc comment).
#[derive(clap::Args)]
struct RunCmd {
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
}

// The arguments of `plot` (its help text is the variant's doc comment).
#[derive(clap::Args)]
struct PlotCmd {
    /// A folder written by `cachestorm run` or `cachestorm sweep`.
    dir: PathBuf,
    /// Where to write the plots (default: the folder itself, replacing
    /// its plots). Created if missing.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Draw only this chart (repeatable): timeline or nodes for a run;
    /// heatmap, lines or ranking for a sweep. Default: every chart the
    /// folder allows.
    #[arg(long = "chart", value_name = "CHART")]
    charts: Vec<String>,
    /// The title of every chart drawn (default: the model's or the
    /// experiment's name and what the chart shows).
    #[arg(long)]
    title: Option<String>,
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
}

// The arguments of `sweep` (its help text is the variant's doc comment).
#[derive(clap::Args)]
struct SweepCmd {
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
    /// Check the experiment and every point's model, print the points, the
    /// runs and an estimated time, and stop: nothing runs, nothing is
    /// written.
    #[arg(long)]
    dry_run: bool,
    /// Refuse the sweep, before any run starts, when a point's estimated
    /// event count is above N, as `run` does (0 = no limit).
    #[arg(long, value_name = "N", default_value_t = estimate::DEFAULT_MAX_EVENTS)]
    max_events: u64,
    /// Make every run whole: by default, points that differ only in their
    /// faults simulate the time before the first fault once and continue
    /// from copies. Results are the same either way.
    #[arg(long)]
    no_shared_prefix: bool,
}

impl RunCmd {
    /// The library's arguments (all but `quiet`, which is the console's).
    fn args(self) -> RunArgs {
        RunArgs {
            model: self.model,
            seed: self.seed,
            out: self.out,
            sets: self.sets,
            no_plots: self.no_plots,
            force: self.force,
            check_invariants: self.check_invariants,
            max_events: self.max_events,
        }
    }
}

impl SweepCmd {
    /// The library's arguments (all but `quiet` and `no_plots`).
    fn args(self) -> SweepArgs {
        SweepArgs {
            experiment: self.experiment,
            out: self.out,
            resume: self.resume,
            force: self.force,
            threads: self.threads,
            shard: self.shard,
            independent_seeds: self.independent_seeds,
            seed: self.seed,
            max_events: self.max_events,
            no_shared_prefix: self.no_shared_prefix,
        }
    }
}

impl PlotCmd {
    /// The library's arguments.
    fn args(self) -> PlotArgs {
        PlotArgs {
            dir: self.dir,
            out: self.out,
            charts: self.charts,
            title: self.title,
            metric: self.metric,
            x: self.x,
            y: self.y,
            panel: self.panel,
            series: self.series,
            fix: self.fix,
        }
    }
}

/// `cachestorm sweep` on an experiment with `[map]`: a vulnerability map.
fn vmap(args: &SweepArgs, quiet: bool, no_plots: bool, dry: bool) -> Result<(), Error> {
    if dry {
        let (e, most) = sweep::vmap::check(args)?;
        let map = e.map.as_ref().expect("a map file");
        let steps = sweep::vmap::max_steps(&map.trigger);
        println!(
            "{}: vulnerability map over {} load value(s) × at most {steps} trigger size(s) × {} replication(s), at most {} events per run; nothing was run",
            e.name,
            e.points.len(),
            e.replications.value,
            estimate::sci(most as f64)
        );
        return Ok(());
    }
    console::catch_signals();
    let bar = console::progress_bar(quiet);
    let mut log = console::LogProgress::new(quiet);
    let started = Instant::now();
    let report = sweep::vmap::run_map(args, &console::INTERRUPTED, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        log.update(done, total);
    });
    bar.finish_and_clear();
    let report = report?;
    if report.interrupted {
        eprintln!(
            "interrupted: the map's {} finished runs are kept, by step, in {}; resume with:\n  {}",
            report.runs,
            report.dir.join(sweep::journal::JOURNAL).display(),
            args.resume_command(&console::program(), &report.dir)
        );
        return Err(Error::Interrupted(report.dir));
    }
    if !quiet {
        console::print_vmap(&report, started.elapsed().as_secs_f64());
    }
    if !no_plots {
        cachestorm::report::vmap::render_vmap(&report.dir)?;
    }
    if !quiet {
        println!("wrote {}", report.dir.display());
    }
    Ok(())
}

/// Runs the command.
pub fn dispatch(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Run(cmd) => {
            let quiet = cmd.quiet;
            let report = cachestorm::run_model(&cmd.args())?;
            if !quiet {
                console::print_summary(&report.output.summary, &report.dir);
            }
            Ok(())
        }
        Command::Sweep(cmd) => {
            let (quiet, no_plots, dry) = (cmd.quiet, cmd.no_plots, cmd.dry_run);
            let args = cmd.args();
            if sweep::vmap::is_map_file(&args.experiment) {
                return vmap(&args, quiet, no_plots, dry);
            }
            if dry {
                console::print_dry_run(&sweep::dry_run(&args)?);
                return Ok(());
            }
            console::catch_signals();
            let bar = console::progress_bar(quiet);
            let mut log = console::LogProgress::new(quiet);
            let started = Instant::now();
            let mut first = true;
            let report = cachestorm::run_sweep(&args, &console::INTERRUPTED, &mut |done, total| {
                if first {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                    bar.reset_eta();
                    first = false;
                } else {
                    bar.set_position(done as u64);
                }
                log.update(done, total);
            });
            bar.finish_and_clear();
            let report = report?;
            if report.interrupted {
                console::print_interrupted(&report, &args);
                return Err(Error::Interrupted(report.dir));
            }
            if !quiet {
                console::print_sweep(&report, started.elapsed().as_secs_f64());
            }
            if !no_plots {
                render_sweep_plots(&report.dir, &PlotChoice::default())?;
            }
            if !quiet {
                println!("wrote {}", report.dir.display());
            }
            Ok(())
        }
        Command::Merge {
            dirs,
            out,
            force,
            quiet,
            no_plots,
        } => {
            let report = sweep::merge::merge(&dirs, &out, force)?;
            if !no_plots {
                render_sweep_plots(&out, &PlotChoice::default())?;
            }
            if !quiet {
                console::print_merge(&report, dirs.len(), &out);
            }
            Ok(())
        }
        Command::Plot(cmd) => {
            for r in cachestorm::replot(cmd.args())? {
                println!("wrote {} and {}", r.png.display(), r.svg.display());
            }
            Ok(())
        }
        Command::Import(cmd) => {
            let model = import::import(&cmd.files, cmd.format.map(ImportFormat::format))?;
            match &cmd.out {
                Some(path) => {
                    import::write(path, &model, cmd.force)?;
                    eprintln!(
                        "wrote {}: review every ASSUMPTION, then `cachestorm check {}`",
                        path.display(),
                        path.display()
                    );
                }
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(model.as_bytes())
                        .map_err(Error::Print)?;
                }
            }
            Ok(())
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "cachestorm", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(Error::Print)?;
            Ok(())
        }
        Command::Check {
            models,
            sets,
            max_events,
        } => {
            for m in &models {
                if sweep::vmap::is_map_file(m) {
                    let args = SweepArgs {
                        experiment: m.clone(),
                        max_events,
                        ..SweepArgs::default()
                    };
                    let (e, most) = sweep::vmap::check(&args)?;
                    println!(
                        "{}: ok (vulnerability map {}: {} load value(s), at most {} events per run)",
                        m.display(),
                        e.name,
                        e.points.len(),
                        estimate::sci(most as f64)
                    );
                    continue;
                }
                if sweep::is_experiment_file(m) {
                    if !sets.is_empty() {
                        return Err(Error::Refused(format!(
                            "{}: --set applies to model files; an experiment sets keys in its [set] table",
                            m.display()
                        )));
                    }
                    let d = sweep::dry_run(&SweepArgs {
                        experiment: m.clone(),
                        out: None,
                        resume: None,
                        force: false,
                        threads: None,
                        shard: None,
                        independent_seeds: false,
                        seed: None,
                        max_events,
                        no_shared_prefix: false,
                    })?;
                    println!(
                        "{}: ok (experiment {}: {} point(s) × {} replication(s) = {}{} runs, about {} events; see `sweep --dry-run`)",
                        m.display(),
                        d.header.experiment,
                        d.points.len(),
                        d.header.replications_range(),
                        d.header.at_most(),
                        d.runs,
                        estimate::sci(d.events)
                    );
                    continue;
                }
                let checked = cachestorm::check_model(m, &sets, max_events)?;
                let model = &checked.model;
                println!(
                    "{}: ok ({}: {} node(s), {} fault(s), about {} events)",
                    m.display(),
                    model.name,
                    model.node_count(),
                    model.faults.len(),
                    estimate::sci(checked.events as f64)
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks of the whole command line (conflicting
    /// names, defaults that do not parse, …), which otherwise only fire when
    /// a user reaches the broken flag.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
