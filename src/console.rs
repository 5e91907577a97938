//! What the command line prints: the summary of a run, the line and table of
//! a sweep or a merge, the sweep's progress bar, and the Ctrl-C / SIGTERM handler.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use cachestorm::metrics::Summary;
use cachestorm::sweep::{self, SweepArgs, SweepReport, merge::MergeReport};

/// Set by the first Ctrl-C or SIGTERM: the sweep stops scheduling runs. A
/// second signal exits at once (the journal still holds every finished run).
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The number of the first signal that stopped the sweep (SIGINT when none
/// was recorded).
static SIGNAL: AtomicI32 = AtomicI32::new(SIGINT);

const SIGINT: i32 = 2;

/// The exit status of a sweep stopped by a signal: 128 + its number, as a
/// shell reports a process killed by it (130 for Ctrl-C, 143 for SIGTERM).
pub fn interrupted_exit_code() -> u8 {
    u8::try_from(128 + SIGNAL.load(Ordering::SeqCst)).unwrap_or(130)
}

/// What the first signal does: stop scheduling runs. The second exits.
fn on_signal(signo: i32, name: &str) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        std::process::exit(128 + signo);
    }
    SIGNAL.store(signo, Ordering::SeqCst);
    eprintln!("\ninterrupted{name}: finishing the runs under way (Ctrl-C again to quit now)");
}

/// Installs the handler that sets [`INTERRUPTED`] on SIGINT (Ctrl-C) and
/// SIGTERM, which batch systems send before they kill a job (Slurm at its
/// time limit, Kubernetes when a pod is deleted or evicted). Having a
/// handler also matters when cachestorm is a container's PID 1: Linux
/// delivers to a namespace's init only the signals it handles.
#[cfg(unix)]
pub fn catch_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        for signo in signals.forever() {
            on_signal(signo, if signo == SIGTERM { " by SIGTERM" } else { "" });
        }
    });
}

/// Lets a closed standard output end the process as it ends any Unix
/// tool (`cachestorm sweep … --dry-run | head`): the Rust runtime ignores
/// SIGPIPE, so printing to a closed pipe would otherwise panic. The default
/// action is restored by signal-hook; output files are never pipes, so only
/// what is printed is affected.
#[cfg(unix)]
pub fn end_on_broken_pipe() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let always = Arc::new(AtomicBool::new(true));
    let _ = signal_hook::flag::register_conditional_default(signal_hook::consts::SIGPIPE, always);
}

/// No SIGPIPE outside Unix.
#[cfg(not(unix))]
pub fn end_on_broken_pipe() {}

/// Installs the handler that sets [`INTERRUPTED`] on Ctrl-C.
#[cfg(not(unix))]
pub fn catch_signals() {
    let _ = ctrlc::set_handler(|| on_signal(SIGINT, ""));
}

/// The sweep's progress bar on stderr (hidden when `quiet` or when stderr is
/// not a terminal).
pub fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
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
    }
}

/// Tells how to resume a sweep stopped by Ctrl-C.
pub fn print_interrupted(report: &SweepReport, args: &SweepArgs) {
    let done = report.runs_resumed + report.runs_now;
    eprintln!(
        "interrupted: {done} of {} runs are kept in {}; resume with:\n  {}",
        report.runs_total,
        report.dir.join(sweep::journal::JOURNAL).display(),
        args.resume_command(&program(), &report.dir)
    );
}

/// The program as it was invoked (`target/release/cachestorm`,
/// `cachestorm`), for commands printed back to the user.
pub fn program() -> String {
    std::env::args_os()
        .next()
        .map_or("cachestorm".into(), |a| a.to_string_lossy().into_owned())
}

/// Progress for a stderr that is not a terminal (a log, CI, Slurm): one
/// line every [`LOG_EVERY_S`] seconds at most, and at the end, with
/// done/total, the rate and an ETA. Nothing when `quiet` or on a terminal
/// (the bar shows it there).
pub struct LogProgress {
    on: bool,
    started: std::time::Instant,
    last: Option<std::time::Instant>,
    first_done: Option<usize>,
}

/// Seconds between two progress lines in a log.
pub const LOG_EVERY_S: f64 = 5.0;

impl LogProgress {
    /// Progress lines when stderr is not a terminal and not `quiet`.
    pub fn new(quiet: bool) -> Self {
        LogProgress {
            on: !quiet && !std::io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            last: None,
            first_done: None,
        }
    }

    /// Called after each finished run.
    pub fn update(&mut self, done: usize, total: usize) {
        if !self.on {
            return;
        }
        let first = *self.first_done.get_or_insert(done);
        let now = std::time::Instant::now();
        let due = self
            .last
            .is_none_or(|t| now.duration_since(t).as_secs_f64() >= LOG_EVERY_S);
        if !(due || done == total) {
            return;
        }
        self.last = Some(now);
        let elapsed = now.duration_since(self.started).as_secs_f64();
        let rate = (done - first) as f64 / elapsed.max(1e-9);
        let eta = if done >= total {
            "done".to_string()
        } else if rate > 0.0 {
            format!("ETA {}", duration_text((total - done) as f64 / rate))
        } else {
            "ETA unknown".to_string()
        };
        eprintln!("progress: {done}/{total} runs, {rate:.1} runs/s, {eta}");
    }
}

/// `95 s`, `3m 05s`, `1h 02m`.
pub fn duration_text(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// What `sweep --dry-run` found: every point, the runs and an estimated
/// time.
pub fn print_dry_run(d: &sweep::DryRun) {
    let h = &d.header;
    println!(
        "{}: {} point(s) × {} replication(s) = {}{} runs, about {} events",
        h.experiment,
        d.points.len(),
        h.replications_range(),
        h.at_most(),
        d.runs,
        cachestorm::config::estimate::sci(d.events)
    );
    for &p in &d.points {
        let values: Vec<String> = h
            .params
            .iter()
            .zip(&h.points[p])
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!("  point {p}: {}", values.join(", "));
    }
    println!(
        "estimated time: about {} on {} thread(s), at {:.0} M events/s per thread (docs/performance.md); nothing was run",
        duration_text(d.seconds()),
        d.threads.min(d.runs.max(1)),
        sweep::DRY_RUN_EVENTS_PER_S / 1e6
    );
}

/// The line and table of a finished sweep.
pub fn print_sweep(report: &SweepReport, elapsed_s: f64) {
    let h = &report.header;
    let shard = h.shard.map_or(String::new(), |s| format!(" (shard {s})"));
    let resumed = if report.runs_resumed > 0 {
        format!(", {} from the journal", report.runs_resumed)
    } else {
        String::new()
    };
    println!(
        "{}{shard}: {} point(s) × {} replication(s) = {} runs ({} now{resumed}) in {elapsed_s:.1} s on {} thread(s); {} seeds from {}",
        h.experiment,
        report.stats.len(),
        h.replications_range(),
        report.runs_total,
        report.runs_now,
        report.threads,
        h.seed_mode,
        h.seed
    );
    print!("{}", report.table());
}

/// The line and table of a finished vulnerability map.
pub fn print_vmap(report: &sweep::vmap::MapReport, elapsed_s: f64) {
    let t = &report.trigger;
    println!(
        "{}: {} load value(s), {} runs ({} replication(s) per size) in {elapsed_s:.1} s on {} thread(s); seed {}",
        report.name,
        report.loads.len(),
        report.runs,
        report.replications,
        report.threads,
        report.seed
    );
    println!(
        "  {:>12}  {:<10}  smallest stuck {} ({})",
        report.load_key,
        "state",
        t.key,
        t.scale.name()
    );
    for l in &report.loads {
        let min = l.min_trigger.as_ref().map_or("-".to_string(), |s| {
            format!(
                "{} (p_stuck {:.2}; recovers at {})",
                t.in_unit(s.size),
                s.p_stuck(),
                l.stable_up_to
                    .map_or("none tried".to_string(), |x| t.in_unit(x).to_string())
            )
        });
        println!("  {:>12}  {:<10}  {min}", l.load, l.state.name());
    }
}

/// The line and table of a merge.
pub fn print_merge(report: &MergeReport, folders: usize, out: &Path) {
    println!(
        "merged {} runs of {} points from {folders} folder(s) into {}",
        report.runs,
        report.header.points.len(),
        out.display()
    );
    print!("{}", sweep::output::table(&report.header, &report.stats, 5));
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The summary of a run.
pub fn print_summary(s: &Summary, dir: &Path) {
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
