//! The parallel runner: a local rayon pool runs (point, replication) pairs,
//! each run single-threaded with its own seed and a no-op timeline sink (a
//! sweep keeps summaries, never timelines). Finished runs come back to the
//! calling thread, which alone writes the journal, so every record is on
//! disk before the next is taken.
//!
//! Shared warm-up prefix: runs of one replication whose points differ only
//! in their faults ([`crate::sim::shared_prefix`]) go to one worker as a
//! unit, which simulates the part before the first fault once
//! ([`crate::sim::Prefix`]) and continues each run from a copy. Every run's
//! record is the one its own run gives, and it is handed over as it
//! finishes, as any other; a unit cut short by Ctrl-C or a failure leaves
//! its remaining runs for `--resume`, which simulates their prefix again.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rayon::prelude::*;

use super::error::SweepError;
use super::options::SeedMode;
use super::plan::Plan;
use super::record::{Record, flatten};
use crate::config::Model;
use crate::sim::{Prefix, RunError, RunOutput, prefix_limits, shared_prefix};

/// How a batch of runs ended.
#[derive(Debug, PartialEq, Eq)]
pub enum BatchEnd {
    /// Every run finished.
    Complete,
    /// `cancel` was set: runs under way finished and were handed over; the
    /// rest were not started.
    Cancelled,
}

/// Runs replication `r` of point `p` of `plan`, held to the point's
/// run-time limits: a run that exceeds them is refused (bad input, naming
/// the point); a broken invariant is an internal error.
pub fn run_one(plan: &Plan, p: usize, r: u32) -> Result<Record, SweepError> {
    let model = run_model(plan, p, r)?;
    let out = crate::sim::run_limited(&model, false, plan.limits(p), &mut |_| {});
    record(plan, p, r, model.seed, out)
}

/// The model of replication `r` of point `p`, with its seed.
fn run_model(plan: &Plan, p: usize, r: u32) -> Result<Model, SweepError> {
    let mut model = plan.model(p)?;
    model.seed = plan.run_seed(p, r);
    Ok(model)
}

/// The record of replication `r` of point `p` (run with `seed`), or its
/// failure named after the point.
fn record(
    plan: &Plan,
    p: usize,
    r: u32,
    seed: u64,
    out: Result<RunOutput, RunError>,
) -> Result<Record, SweepError> {
    let out = out.map_err(|e| {
        let what = format!(
            "{}: sweep point {p} ({}) replication {r} (seed {seed})",
            plan.experiment.path.display(),
            plan.experiment.point_label(p),
        );
        match e {
            RunError::Limit(l) => SweepError::Refused(format!("{what}: {l}")),
            RunError::Invariant(v) => SweepError::Internal(format!("{what}: {v}")),
        }
    })?;
    Ok(Record {
        point: p,
        replication: r,
        seed,
        values: flatten(&out.summary),
    })
}

/// `run` for replication `r` of point `p`, a panic turned into an internal
/// error naming the run.
fn guarded(
    plan: &Plan,
    p: usize,
    r: u32,
    run: impl FnOnce() -> Result<Record, SweepError>,
) -> Result<Record, SweepError> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|e| {
        Err(SweepError::Internal(format!(
            "run of point {p} replication {r} (seed {}) failed: {}",
            plan.run_seed(p, r),
            panic_text(&*e)
        )))
    })
}

/// The units of work of `todo`, in its order: with `share`, the runs of one
/// replication at points that take the same value on every axis but those
/// of `fault.*` keys form one unit (candidates for one prefix); otherwise,
/// and with independent seeds (every point its own seeds, so no two runs
/// share a prefix), each run is a unit of its own.
pub fn units(plan: &Plan, todo: &[(usize, u32)], share: bool) -> Vec<Vec<(usize, u32)>> {
    if !share || plan.options.seed_mode == SeedMode::Independent {
        return todo.iter().map(|&run| vec![run]).collect();
    }
    let axes = &plan.experiment.axes;
    let key = |&(p, r): &(usize, u32)| {
        let values: Vec<usize> = plan.experiment.points[p]
            .iter()
            .zip(axes)
            .filter(|(_, a)| a.variants.is_some() || !a.key.starts_with("fault."))
            .map(|(&v, _)| v)
            .collect();
        (r, values)
    };
    let mut at = std::collections::HashMap::new();
    let mut units: Vec<Vec<(usize, u32)>> = Vec::new();
    for run in todo {
        let i = *at.entry(key(run)).or_insert(units.len());
        if i == units.len() {
            units.push(Vec::new());
        }
        units[i].push(*run);
    }
    units
}

/// Runs one unit of [`units`], handing each finished run to `send` as it
/// finishes. Its runs are split into classes that share a prefix (the
/// unit's key only makes them candidates); a class of several runs
/// simulates its prefix once, held to the tightest limits of its runs, and
/// continues each; if the prefix stops, each run is made whole and reports
/// for itself. `go` is asked before each run.
fn run_unit(
    plan: &Plan,
    unit: &[(usize, u32)],
    go: &dyn Fn() -> bool,
    send: &mut dyn FnMut(Result<Record, SweepError>),
) {
    let whole = |send: &mut dyn FnMut(Result<Record, SweepError>), &(p, r): &(usize, u32)| {
        send(guarded(plan, p, r, || run_one(plan, p, r)))
    };
    if let [run] = unit {
        if go() {
            whole(send, run);
        }
        return;
    }
    // Classes of runs sharing a prefix: (runs, their models).
    type Class = (Vec<(usize, u32)>, Vec<Model>);
    let mut classes: Vec<Class> = Vec::new();
    for &(p, r) in unit {
        let Ok(m) = run_model(plan, p, r) else {
            // Reported by the run itself.
            classes.push((vec![(p, r)], Vec::new()));
            continue;
        };
        match classes.iter_mut().find(|(_, ms)| {
            ms.first()
                .is_some_and(|rep| shared_prefix(rep, &m).is_some())
        }) {
            Some((runs, ms)) => {
                runs.push((p, r));
                ms.push(m);
            }
            None => classes.push((vec![(p, r)], vec![m])),
        }
    }
    for (runs, models) in classes {
        if runs.len() < 2 {
            for run in &runs {
                if !go() {
                    return;
                }
                whole(send, run);
            }
            continue;
        }
        let rep = &models[0];
        let until = models
            .iter()
            .filter_map(|m| shared_prefix(rep, m))
            .min()
            .expect("a class shares a prefix");
        let limits: Vec<_> = runs.iter().map(|&(p, _)| plan.limits(p)).collect();
        let held = prefix_limits(models.iter().zip(&limits));
        if !go() {
            return;
        }
        let prefix = catch_unwind(AssertUnwindSafe(|| {
            Prefix::run(rep, until, false, Some(held))
        }));
        for (i, &(p, r)) in runs.iter().enumerate() {
            if !go() {
                return;
            }
            match &prefix {
                Ok(Ok(prefix)) => send(guarded(plan, p, r, || {
                    let m = &models[i];
                    let out = prefix.continue_as(m, Some(limits[i].clone()), &mut |_| {});
                    record(plan, p, r, m.seed, out)
                })),
                // The prefix stopped on a limit, broke an invariant or
                // panicked: each run, made whole, says which of them does.
                Ok(Err(_)) | Err(_) => whole(send, &(p, r)),
            }
        }
    }
}

fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Runs `todo` on `threads` threads, handing finished runs to `done` on the
/// calling thread: each as soon as it arrives, or, when several arrived
/// while `done` was busy (syncing the journal), all of them at once, so one
/// disk sync covers them (group commit). Stops scheduling new runs when
/// `cancel` is set, when `done` fails, or when a run panics (the error is
/// returned after the runs under way have been handed over).
///
/// With `share`, runs that share a warm-up prefix are made as one unit
/// ([`units`]); the records are the same either way.
pub fn execute(
    plan: &Plan,
    todo: &[(usize, u32)],
    threads: usize,
    share: bool,
    cancel: &AtomicBool,
    done: &mut dyn FnMut(Vec<Record>) -> Result<(), SweepError>,
) -> Result<BatchEnd, SweepError> {
    let units = units(plan, todo, share);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Internal(format!("cannot start {threads} threads: {e}")))?;
    let stop = AtomicBool::new(false);
    let mut error: Option<SweepError> = None;
    let mut received = 0usize;
    let mut journal_failed = false;
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<Result<Record, SweepError>>();
        let stop = &stop;
        s.spawn(move || {
            pool.install(|| {
                units
                    .par_iter()
                    .with_max_len(1)
                    .for_each_with(tx, |tx, unit| {
                        let go = || !cancel.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst);
                        run_unit(plan, unit, &go, &mut |result| {
                            let _ = tx.send(result);
                        });
                    });
            });
        });
        while let Ok(msg) = rx.recv() {
            let mut batch = Vec::new();
            let mut failure = None;
            for msg in std::iter::once(msg).chain(rx.try_iter()) {
                match msg {
                    Ok(record) => batch.push(record),
                    Err(e) => failure = failure.or(Some(e)),
                }
            }
            // After a failed run, later runs are still journaled; after the
            // journal itself failed, nothing more can be kept.
            if journal_failed {
                continue;
            }
            if let Some(e) = failure {
                stop.store(true, Ordering::SeqCst);
                error.get_or_insert(e);
            }
            if batch.is_empty() {
                continue;
            }
            received += batch.len();
            if let Err(e) = done(batch) {
                stop.store(true, Ordering::SeqCst);
                journal_failed = true;
                error = Some(e);
            }
        }
    });
    match error {
        Some(e) => Err(e),
        None if received < todo.len() => Ok(BatchEnd::Cancelled),
        None => Ok(BatchEnd::Complete),
    }
}
