//! The simulated system: workload, front end, service, cache client, network,
//! memcached nodes, faults and database, wired together in a [`world::World`].

pub mod bulkhead;
pub mod cache;
pub mod client;
pub mod database;
pub mod event;
pub mod executor;
pub mod fault;
pub mod frontend;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod locator;
pub mod memory;
pub mod network;
pub mod node;
pub mod protocol;
pub mod proxy;
pub mod request;
pub mod resilience;
pub mod sampler;
pub mod service;
pub mod workload;
pub mod world;

pub use limits::{LimitExceeded, RunError, RunLimits};
pub use world::prefix::{Prefix, prefix_limits, shared_prefix};
pub use world::{RunOutput, Violation, World};

use crate::config::Model;
use crate::metrics::TimelineRow;

/// Runs one simulation of `model` (seeded by `model.seed`), handing each
/// timeline row to `sink` as its bucket closes. The invariant checks run in
/// debug builds only; a broken invariant is a bug and panics.
pub fn run(model: &Model, sink: &mut dyn FnMut(&TimelineRow)) -> RunOutput {
    run_checked(model, false, sink).unwrap_or_else(|v| panic!("{v}"))
}

/// Runs one simulation with the invariant checks on when `checks` (always on
/// in debug builds), reporting the first broken invariant. No run-time
/// limits: see [`run_limited`].
pub fn run_checked(
    model: &Model,
    checks: bool,
    sink: &mut dyn FnMut(&TimelineRow),
) -> Result<RunOutput, RunError> {
    World::new(model).with_invariant_checks(checks).run(sink)
}

/// Runs one simulation as [`run_checked`] does, stopped cleanly when it
/// exceeds `limits` (the guard of `crate::guard` derives them).
pub fn run_limited(
    model: &Model,
    checks: bool,
    limits: RunLimits,
    sink: &mut dyn FnMut(&TimelineRow),
) -> Result<RunOutput, RunError> {
    World::new(model)
        .with_invariant_checks(checks)
        .with_limits(limits)
        .run(sink)
}
