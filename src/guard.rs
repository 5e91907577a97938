//! The guards every command passes through, in one place: `run`, `check`
//! and every point of a `sweep` (before its first run starts) call [`admit`],
//! which refuses a model estimated above `--max-events` and gives the
//! [`RunLimits`] the run is then held to while it runs: an event budget of
//! [`RUNTIME_FACTOR`] × the estimate + [`RUNTIME_SLACK`] (whatever the
//! estimate missed, a run cannot run away past it) and the bounds on the
//! requests and events it may hold ([`MAX_IN_FLIGHT`],
//! [`MAX_PENDING_EVENTS`]). `docs/reliability.md` lists every guard with
//! its measured numbers.
//!
//! The shape of an experiment (points, replications, `[[exclude]]` entries,
//! list lengths) is bounded where it is parsed, in
//! `config::experiment`, before the grid is expanded.

use crate::config::Model;
use crate::config::estimate::{self, EventEstimate};
pub use crate::sim::limits::{
    MAX_IN_FLIGHT, MAX_PENDING_EVENTS, RUNTIME_FACTOR, RUNTIME_SLACK, RunLimits,
};

/// A model the guard let through.
#[derive(Clone, Debug, PartialEq)]
pub struct Admitted {
    /// Its estimated event count.
    pub events: u64,
    /// The limits its run is held to.
    pub limits: RunLimits,
}

/// A model the guard refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "{what}: the run would take {estimate}, over the limit of {} ({}; pass --max-events {} or more to run it anyway, or --max-events 0 for no limit)",
    estimate::sci(*.max as f64),
    .estimate.hint(),
    suggested(.estimate.total())
)]
pub struct Refused {
    /// The model (its path, and for a sweep the point).
    pub what: String,
    /// The estimate.
    pub estimate: EventEstimate,
    /// The limit it is over.
    pub max: u64,
}

fn suggested(total: u64) -> u64 {
    total.saturating_add(total / 10).max(total)
}

/// The runaway guard: refuses `model` (named `what` in the message) when its
/// estimated event count is over `max_events` (0 = no limit); otherwise
/// gives the limits its run is held to. With `max_events` 0 the run has no
/// event budget, but its state is still bounded.
pub fn admit(what: &str, model: &Model, max_events: u64) -> Result<Admitted, Box<Refused>> {
    let est = estimate::events(model);
    let total = est.total();
    if max_events > 0 && total > max_events {
        return Err(Box::new(Refused {
            what: what.to_string(),
            estimate: est,
            max: max_events,
        }));
    }
    let limits = RunLimits {
        max_events: (max_events > 0).then(|| crate::sim::limits::budget(total)),
        estimate: total,
        ..RunLimits::state_only()
    };
    Ok(Admitted {
        events: total,
        limits,
    })
}
