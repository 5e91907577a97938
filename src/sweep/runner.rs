//! The parallel runner: a local rayon pool runs (point, replication) pairs,
//! each run single-threaded with its own seed and a no-op timeline sink (a
//! sweep keeps summaries, never timelines). Finished runs come back to the
//! calling thread, which alone writes the journal, so every record is on
//! disk before the next is taken.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rayon::prelude::*;

use super::error::SweepError;
use super::plan::Plan;
use super::record::{Record, flatten};
use crate::sim::RunError;

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
    let mut model = plan.model(p)?;
    model.seed = plan.run_seed(p, r);
    let out = crate::sim::run_limited(&model, false, plan.limits(p), &mut |_| {}).map_err(|e| {
        let what = format!(
            "{}: sweep point {p} ({}) replication {r} (seed {})",
            plan.experiment.path.display(),
            plan.experiment.point_label(p),
            model.seed
        );
        match e {
            RunError::Limit(l) => SweepError::Refused(format!("{what}: {l}")),
            RunError::Invariant(v) => SweepError::Internal(format!("{what}: {v}")),
        }
    })?;
    Ok(Record {
        point: p,
        replication: r,
        seed: model.seed,
        values: flatten(&out.summary),
    })
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
pub fn execute(
    plan: &Plan,
    todo: &[(usize, u32)],
    threads: usize,
    cancel: &AtomicBool,
    done: &mut dyn FnMut(Vec<Record>) -> Result<(), SweepError>,
) -> Result<BatchEnd, SweepError> {
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
                todo.par_iter()
                    .with_max_len(1)
                    .for_each_with(tx, |tx, &(p, r)| {
                        if cancel.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let result = catch_unwind(AssertUnwindSafe(|| run_one(plan, p, r)))
                            .unwrap_or_else(|e| {
                                Err(SweepError::Internal(format!(
                                    "run of point {p} replication {r} (seed {}) failed: {}",
                                    plan.run_seed(p, r),
                                    panic_text(&*e)
                                )))
                            });
                        let _ = tx.send(result);
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
