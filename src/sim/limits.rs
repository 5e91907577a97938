//! What a run may spend while it runs: an event budget and a bound on the
//! state it holds. The estimate of `config::estimate` refuses a model before
//! it starts; these limits stop a run that gets past the estimate anyway (a
//! timer-driven storm the estimate did not foresee, an overloaded model whose
//! unbounded queue grows with simulated time) cleanly, with a
//! [`LimitExceeded`] that says what ran away, instead of running for days or
//! aborting on a failed allocation.
//!
//! The world checks them every [`CHECK_EVERY`] events, so between two checks
//! a run can grow by at most that many events' worth of state.

use std::collections::BTreeMap;

use super::world::Violation;
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// Most requests a run may hold in flight (arrived, not yet ended). Measured:
/// an overloaded M/M/1 (`models/checks/mm1.toml` at 10,000/s) holding
/// 888,000 queued requests had a peak RSS of 204 MB, about 230 B a request
/// with its queue entries and timers, so this bound keeps a run's requests
/// under about 0.5 GB.
pub const MAX_IN_FLIGHT: usize = 2_000_000;

/// Most events a run may have scheduled at once (timers, messages on the
/// wire): about 16–24 B each in the heap or a lane, so at most about 0.25 GB.
pub const MAX_PENDING_EVENTS: usize = 10_000_000;

/// The world checks its limits once every this many events.
pub const CHECK_EVERY: u64 = 1 << 14;

/// Events handled after the budget is exceeded, to say which kind ran away.
pub const SAMPLE: u64 = 100_000;

/// The limits of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Most events the run may handle, if bounded.
    pub max_events: Option<u64>,
    /// The estimate the budget was derived from (for the message).
    pub estimate: u64,
    /// Most requests in flight.
    pub max_in_flight: usize,
    /// Most events scheduled at once.
    pub max_pending: usize,
}

impl RunLimits {
    /// No event budget, the default state bounds.
    pub fn state_only() -> RunLimits {
        RunLimits {
            max_events: None,
            estimate: 0,
            max_in_flight: MAX_IN_FLIGHT,
            max_pending: MAX_PENDING_EVENTS,
        }
    }
}

/// The queue or table that was largest when a state limit was hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Growing {
    /// What it is, spelled for people, with the keys that bound it.
    pub what: String,
    /// How many entries it held.
    pub len: u64,
}

/// A run stopped by its limits (the model's fault, not a bug).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// More events than the budget.
    #[error(
        "the run ran away: it handled {events} events by {} s of simulated time, over its budget of {budget} (the estimate {estimate} × {RUNTIME_FACTOR} + {RUNTIME_SLACK}); {kinds} (check the timers behind them; pass --max-events 0 to lift the budget)",
        secs(*time)
    )]
    Events {
        /// Simulated time when it stopped.
        time: Nanos,
        /// Events handled.
        events: u64,
        /// The budget.
        budget: u64,
        /// The estimate.
        estimate: u64,
        /// Which events dominated, spelled for people.
        kinds: String,
    },
    /// More requests in flight, or more events pending, than allowed.
    #[error(
        "the run stopped at {} s of simulated time holding {held} {what}, over the limit of {limit}; the largest is {} with {} entries: the model is overloaded and its memory would grow with simulated time, so bound that queue (service.queue, frontend.timeout_queue, client.op_timeout, database.connection_timeout) or lower workload.rate",
        secs(*time), growing.what, growing.len
    )]
    State {
        /// Simulated time when it stopped.
        time: Nanos,
        /// What is counted (`requests in flight`, `pending events`).
        what: &'static str,
        /// How many.
        held: u64,
        /// The limit.
        limit: u64,
        /// The largest queue.
        growing: Growing,
    },
}

/// How a run failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// A broken invariant: a bug.
    #[error(transparent)]
    Invariant(#[from] Violation),
    /// The run exceeded its limits: the model's fault.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

/// The run-time budget is the estimate times this, plus [`RUNTIME_SLACK`]:
/// the random models of `tests/integration/invariants.rs` stay within 50×
/// their estimate plus a constant.
pub const RUNTIME_FACTOR: u64 = 50;
/// See [`RUNTIME_FACTOR`].
pub const RUNTIME_SLACK: u64 = 1_000_000;

/// The event budget of a run estimated at `estimate` events.
pub fn budget(estimate: u64) -> u64 {
    estimate
        .saturating_mul(RUNTIME_FACTOR)
        .saturating_add(RUNTIME_SLACK)
}

fn secs(t: Nanos) -> String {
    format!("{:.3}", t as f64 / SEC as f64)
}

/// The kind of an event for the runaway message: its variant, and for a
/// client timer the timer's (`Client/Reconnect`). Taken from the `Debug`
/// spelling so that a new variant needs no edit here.
pub fn kind_name(debug: &str) -> String {
    let head = |s: &str| -> String {
        s.split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let outer = head(debug);
    match debug.find("timer: ") {
        Some(i) => format!("{outer}/{}", head(&debug[i + "timer: ".len()..])),
        None => outer,
    }
}

/// Tallies event kinds while a runaway run is sampled.
#[derive(Default)]
pub struct Tally {
    counts: BTreeMap<String, u64>,
    total: u64,
}

impl Tally {
    /// Counts one event by its `Debug` spelling.
    pub fn add(&mut self, debug: &str) {
        *self.counts.entry(kind_name(debug)).or_default() += 1;
        self.total += 1;
    }

    /// `most of the last N events were Client/Reconnect (99.8 %), then …`.
    pub fn describe(&self) -> String {
        let mut v: Vec<(&String, &u64)> = self.counts.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = v
            .iter()
            .take(3)
            .map(|(k, n)| format!("{k} ({:.1} %)", **n as f64 * 100.0 / self.total as f64))
            .collect();
        if parts.is_empty() {
            "no event kind could be sampled".into()
        } else {
            format!(
                "of the next {} events, the most frequent were {}",
                self.total,
                parts.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_event_kinds_from_their_debug_spelling() {
        assert_eq!(kind_name("Arrival"), "Arrival");
        assert_eq!(kind_name("Work(ReqRef { slot: 1 })"), "Work");
        assert_eq!(
            kind_name("Client { client: ClientId(0), timer: Reconnect(NodeId(1)) }"),
            "Client/Reconnect"
        );
        let mut t = Tally::default();
        for _ in 0..3 {
            t.add("Client { client: ClientId(0), timer: Wakeup }");
        }
        t.add("Tick");
        let d = t.describe();
        assert!(d.starts_with("of the next 4 events"), "{d}");
        assert!(d.contains("Client/Wakeup (75.0 %), Tick (25.0 %)"), "{d}");
    }

    #[test]
    fn the_budget_saturates() {
        assert_eq!(budget(0), RUNTIME_SLACK);
        assert_eq!(budget(u64::MAX), u64::MAX);
        assert_eq!(budget(10), 10 * RUNTIME_FACTOR + RUNTIME_SLACK);
    }
}
