//! A shared warm-up prefix. Points of a sweep that differ only in their
//! faults (the kind, its parameters, the node it hits, when it ends) run the
//! same simulation until the first fault acts: the same arrivals, keys,
//! service and cache, event for event. [`Prefix::run`] simulates that part
//! once; [`Prefix::continue_as`] copies the world and continues the copy as
//! the run of one point, giving exactly the files that point's own run gives
//! (tested byte for byte).
//!
//! What makes the copy exact:
//!
//! - [`shared_prefix`] admits two models only when everything but their
//!   faults is equal (seed included), and the prefix stops before the
//!   earliest event of either's faults. Before that, nothing the world does
//!   reads a fault's parameters, except what is rebuilt when the copy is
//!   re-armed: the timeline state of each fault (`FaultState`), the
//!   recorders' fault window (of which only its existence matters before it
//!   starts: `Recorder::set_fault_window`), and the fault events.
//! - Fault events are scheduled at a run's start, after the first arrival
//!   and tick, so they take low sequence numbers, which decide ties at equal
//!   times. The prefix keeps room for them ([`EVENTS_PER_FAULT`] numbers per
//!   fault, `Scheduler::skip`) and the copy schedules the point's fault
//!   events into that room (`Scheduler::at_seq`), in the order its own run
//!   would. Every other event then carries a number shifted by the same
//!   amount as in the point's own run, so every pop comes in the same order.
//! - A copy's random streams continue where the prefix left them
//!   (`engine::rng::ChaCha8Rng` copies its position).
//! - The prefix is held to the tightest run-time limits of the runs that
//!   continue from it ([`prefix_limits`]); if it stops on one, the caller
//!   runs each point whole, so each reports its own stop.
//!
//! Timeline rows of the prefix are kept and handed to each continuation's
//! sink first, so a continued run streams the same rows as a whole run.

use super::World;
use super::faults::fault_events;
use crate::config::Model;
use crate::engine::Nanos;
use crate::metrics::TimelineRow;
use crate::sim::RunOutput;
use crate::sim::fault::FaultState;
use crate::sim::limits::{RunError, RunLimits};

/// Sequence numbers kept per fault at a prefix's start: a run schedules at
/// most a fault's start, its reboot and its end there (`fault_events`).
pub const EVENTS_PER_FAULT: u64 = 3;

/// Up to which time the runs of `a` and `b` are the same simulation, so that
/// one may continue from the other's prefix: `None` unless the two models
/// are equal in everything but their faults, have as many faults, both or
/// neither have a fault window (the verdict's reference is gathered only
/// with one), and have a fault event after time 0. The time is the earliest
/// event of either's faults; the prefix handles the events before it.
///
/// Conservative by construction: every key of the model other than
/// `fault.*` must resolve to the same value (a `spike` fault, which the
/// model folds into the workload's rates, makes the workloads differ, so it
/// is never shared across sizes), and the faults may differ in anything
/// (kind, parameters, node, pool, start, duration, duty cycle) that acts
/// only from their first event on.
pub fn shared_prefix(a: &Model, b: &Model) -> Option<Nanos> {
    if !same_but_faults(a, b)
        || a.faults.is_empty()
        || a.faults.len() != b.faults.len()
        || a.fault_window().is_some() != b.fault_window().is_some()
    {
        return None;
    }
    let first = |m: &Model| fault_events(m).iter().map(|e| e.0).min();
    let t = first(a)?.min(first(b)?);
    (t > 0).then_some(t)
}

/// True when `a` and `b` are equal except for their faults. Every field is
/// named, so a field added to the model must be placed here.
fn same_but_faults(a: &Model, b: &Model) -> bool {
    let Model {
        name,
        duration,
        drain,
        warmup,
        bucket,
        slo,
        seed,
        workload,
        frontend,
        service,
        client,
        network,
        pools,
        proxy,
        database,
        faults: _,
    } = a;
    *name == b.name
        && *duration == b.duration
        && *drain == b.drain
        && *warmup == b.warmup
        && *bucket == b.bucket
        && *slo == b.slo
        && *seed == b.seed
        && *workload == b.workload
        && *frontend == b.frontend
        && *service == b.service
        && *client == b.client
        && *network == b.network
        && *pools == b.pools
        && *proxy == b.proxy
        && *database == b.database
}

/// The limits a prefix shared by `runs` (each continuation's model and
/// limits) is held to: it stops exactly when one of those runs would have
/// stopped before its faults. The event and in-flight bounds are the
/// tightest; a run's pending events include its own fault events, which the
/// prefix does not hold, so its bound on them is lowered by as many.
pub fn prefix_limits<'a>(runs: impl IntoIterator<Item = (&'a Model, &'a RunLimits)>) -> RunLimits {
    let mut out = RunLimits {
        max_events: None,
        estimate: 0,
        max_in_flight: usize::MAX,
        max_pending: usize::MAX,
    };
    for (model, limits) in runs {
        if let Some(budget) = limits.max_events
            && out.max_events.is_none_or(|b| budget < b)
        {
            out.max_events = Some(budget);
            out.estimate = limits.estimate;
        }
        out.max_in_flight = out.max_in_flight.min(limits.max_in_flight);
        let own = fault_events(model).len();
        out.max_pending = out.max_pending.min(limits.max_pending.saturating_sub(own));
    }
    out
}

/// A world simulated without its faults up to the first of them, ready to be
/// continued as the run of any model that shares it ([`shared_prefix`]).
#[derive(Clone)]
pub struct Prefix {
    world: World,
    /// The prefix handled every event before this time.
    until: Nanos,
    /// The sequence number the first fault event takes in a whole run.
    fault_seq: u64,
    /// Sequence numbers kept for fault events from `fault_seq` on.
    kept: u64,
    /// The timeline rows of the buckets closed before `until`.
    rows: Vec<TimelineRow>,
}

impl Prefix {
    /// Builds the world of `model` and handles every event before `until`
    /// (at most `model`'s first fault event: a later `until` is lowered to
    /// it), with the invariant checks on when `checks`, held to `limits`
    /// when given ([`prefix_limits`]).
    pub fn run(
        model: &Model,
        until: Nanos,
        checks: bool,
        limits: Option<RunLimits>,
    ) -> Result<Prefix, RunError> {
        let first = fault_events(model).iter().map(|e| e.0).min();
        let until = first.map_or(until, |f| until.min(f));
        let mut world = World::new(model).with_invariant_checks(checks);
        world.limits = limits;
        world.start();
        let fault_seq = world.sched.issued();
        let kept = EVENTS_PER_FAULT * model.faults.len() as u64;
        world.sched.skip(kept);
        let mut rows = Vec::new();
        world.run_until(until, &mut |r| rows.push(r.clone()))?;
        Ok(Prefix {
            world,
            until,
            fault_seq,
            kept,
            rows,
        })
    }

    /// The time up to which the prefix ran (every event before it handled).
    pub fn until(&self) -> Nanos {
        self.until
    }

    /// Events the prefix handled.
    pub fn events(&self) -> u64 {
        self.world.events
    }

    /// True when [`Prefix::continue_as`] continues `target` from this prefix
    /// rather than running it whole.
    pub fn serves(&self, target: &Model) -> bool {
        shared_prefix(&self.world.model, target).is_some_and(|t| t >= self.until)
            && fault_events(target).len() as u64 <= self.kept
    }

    /// The run of `target`, held to `limits` when given: continued from a
    /// copy of this prefix when it shares it ([`Prefix::serves`]), otherwise
    /// run whole. Either way the result is the one `target`'s own run gives,
    /// and `sink` receives every timeline row, the prefix's first.
    pub fn continue_as(
        &self,
        target: &Model,
        limits: Option<RunLimits>,
        sink: &mut dyn FnMut(&TimelineRow),
    ) -> Result<RunOutput, RunError> {
        let checks = self.world.checks;
        let whole = |sink: &mut dyn FnMut(&TimelineRow)| {
            let mut w = World::new(target).with_invariant_checks(checks);
            w.limits = limits.clone();
            w.run(sink)
        };
        if !self.serves(target) {
            return whole(sink);
        }
        let mut world = self.world.clone();
        if !world.rearm(target, self.fault_seq) {
            return whole(sink);
        }
        world.limits = limits.clone();
        for row in &self.rows {
            sink(row);
        }
        world.run_until(world.model.end(), sink)?;
        Ok(world.finish(sink)?)
    }
}

impl World {
    /// Makes a copy of a prefix's world what `target`'s own run would be at
    /// this point: its model, its faults' bookkeeping and fault window, and
    /// its fault events in the sequence numbers kept for them. False (the
    /// world is then to be dropped) when a recorder cannot take the fault
    /// window.
    fn rearm(&mut self, target: &Model, fault_seq: u64) -> bool {
        let now = self.sched.now();
        let window = target.fault_window();
        if !self.rec.set_fault_window(now, window) {
            return false;
        }
        if let Some(p) = self.cache.proxy.as_mut()
            && !p.rec.set_fault_window(now, window)
        {
            return false;
        }
        self.fault_state = FaultState::new(target);
        self.model = target.clone();
        for (k, (at, event)) in fault_events(target).into_iter().enumerate() {
            self.sched.at_seq(at, fault_seq + k as u64, event);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Model, PolicyKind, load_model};
    use crate::engine::time::SEC;

    /// A model of the repository with overrides.
    fn model(rel: &str, sets: &[&str]) -> Model {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load_model(&path, &sets).unwrap_or_else(|e| panic!("{e}"))
    }

    /// What a run's files hold: `summary.json`, the `timeline.csv` rows and
    /// the node events, as bytes.
    fn files(out: RunOutput, rows: &[u8]) -> (String, Vec<u8>, String) {
        (
            serde_json::to_string_pretty(&out.summary).expect("summary serializes"),
            rows.to_vec(),
            format!("{:?}", out.node_events),
        )
    }

    fn row_sink(bytes: &mut Vec<u8>) -> impl FnMut(&TimelineRow) + '_ {
        |r| crate::output::timeline::write_row(bytes, r).expect("write to memory")
    }

    fn whole(m: &Model) -> (String, Vec<u8>, String) {
        let mut rows = Vec::new();
        let out = World::new(m)
            .run(&mut row_sink(&mut rows))
            .expect("the run completes");
        files(out, &rows)
    }

    /// Runs `m` to `t`, copies the world, and continues both to the end:
    /// each gives the files of the whole run.
    fn paused_and_copied(m: &Model, t: Nanos) -> [(String, Vec<u8>, String); 2] {
        let mut w = World::new(m);
        w.start();
        w.schedule_faults();
        let mut before = Vec::new();
        w.run_until(t, &mut row_sink(&mut before))
            .expect("the first part completes");
        let copy = w.clone();
        let mut results = Vec::new();
        for mut w in [w, copy] {
            let mut rows = before.clone();
            let end = w.model.end();
            w.run_until(end, &mut row_sink(&mut rows))
                .expect("the rest completes");
            let out = w.finish(&mut row_sink(&mut rows)).expect("no violation");
            results.push(files(out, &rows));
        }
        results.try_into().expect("two results")
    }

    /// The incident model shortened: 40 s of arrivals, node 4 frozen from
    /// 15 s to 30 s and rebooted (down for its last 5 s).
    const SHORT_INCIDENT: &[&str] = &[
        "duration=40s",
        "drain=5s",
        "warmup=5s",
        "fault.0.start=15s",
        "fault.0.duration=15s",
        "fault.0.frozen.reboot_down=5s",
    ];

    #[test]
    fn a_copied_world_continues_as_the_whole_run() {
        let mut cases: Vec<(String, Model)> = Vec::new();
        for policy in PolicyKind::ALL {
            let set = format!("client.policy={}", policy.name());
            let mut sets = SHORT_INCIDENT.to_vec();
            sets.push(&set);
            cases.push((set.clone(), model("models/incident.toml", &sets)));
        }
        let short = ["duration=40s", "drain=5s", "fault.0.start=15s"];
        for rel in [
            "models/testbed/twemproxy.toml",
            "models/policies/frozen-resilience.toml",
            "models/policies/frozen-mcrouter-gutter.toml",
            "models/metastable/hotos-retry.toml",
        ] {
            cases.push((rel.into(), model(rel, &short)));
        }
        for (name, m) in &cases {
            let reference = whole(m);
            assert!(reference.1.len() > 1000, "{name}: the timeline has rows");
            // Before anything happens, inside a bucket, at a bucket's end
            // (the tick not yet handled), at the fault's start, while the
            // fault acts, and during the drain.
            for t in [
                1,
                7 * SEC + 333_333_333,
                10 * SEC,
                15 * SEC,
                22 * SEC + 1,
                42 * SEC,
            ] {
                let [original, copy] = paused_and_copied(m, t);
                assert!(
                    original == reference,
                    "{name}: the original, paused at {t} ns"
                );
                assert!(copy == reference, "{name}: the copy made at {t} ns");
            }
        }
    }

    fn short(extra: &[&str]) -> Model {
        let sets: Vec<&str> = SHORT_INCIDENT.iter().chain(extra).copied().collect();
        model("models/incident.toml", &sets)
    }

    #[test]
    fn points_share_a_prefix_only_when_they_differ_in_their_faults_alone() {
        let base = short(&[]);
        let at = |extra: &[&str]| shared_prefix(&base, &short(extra));
        // The fault's kind, parameters, node and end may differ.
        for extra in [
            &[][..],
            &["fault.0.kind=crash"],
            &[
                "fault.0.kind=slow",
                "fault.0.slow.stop=180ms",
                "fault.0.slow.run=20ms",
            ],
            &["fault.0.frozen.end=resume"],
            &["fault.0.duration=50s"],
            &["fault.0.node=0"],
            &["fault.0.kind=db_outage"],
        ] {
            assert_eq!(at(extra), Some(15 * SEC), "{extra:?}");
        }
        // Up to the earlier of the two first fault events.
        assert_eq!(at(&["fault.0.start=21s"]), Some(15 * SEC));
        assert_eq!(at(&["fault.0.start=9s"]), Some(9 * SEC));
        // Anything else differs: no prefix.
        for extra in [
            &["client.op_timeout=500ms"][..],
            &["seed=2"],
            &["workload.rate=1234"],
            &["warmup=6s"],
            &["duration=41s"],
            &["service.bulkhead.enabled=true"],
            // A spike is folded into the arrival rates.
            &["fault.0.kind=spike"],
            // A policy change alone opens no fault window.
            &["fault.0.kind=retries_off"],
            // A fault at time 0 leaves nothing to share.
            &["fault.0.start=0s"],
        ] {
            assert_eq!(at(extra), None, "{extra:?}");
        }
        let mut none = base.clone();
        none.faults.clear();
        assert_eq!(shared_prefix(&none, &none), None, "no fault, no prefix");
        let mut two = base.clone();
        two.faults.push(two.faults[0].clone());
        assert_eq!(shared_prefix(&base, &two), None, "another number of faults");
        // Symmetric.
        let crash = short(&["fault.0.kind=crash", "fault.0.start=9s"]);
        assert_eq!(shared_prefix(&crash, &base), shared_prefix(&base, &crash));
    }

    #[test]
    fn a_prefix_is_held_to_the_tightest_limits_of_its_runs() {
        let frozen = short(&[]);
        let crash = short(&["fault.0.kind=crash"]);
        let limits = |events: Option<u64>, pending: usize| RunLimits {
            max_events: events,
            estimate: events.unwrap_or(0) / 50,
            max_in_flight: 1000 + pending,
            max_pending: pending,
        };
        let (a, b) = (limits(Some(9_000), 500), limits(None, 400));
        let l = prefix_limits([(&frozen, &a), (&crash, &b)]);
        assert_eq!(l.max_events, Some(9_000));
        assert_eq!(l.estimate, a.estimate);
        assert_eq!(l.max_in_flight, 1400);
        // A frozen node rebooted schedules three fault events, a crash two;
        // the prefix holds neither.
        assert_eq!(l.max_pending, (a.max_pending - 3).min(b.max_pending - 2));
        // A prefix over its budget stops as the runs would.
        let tiny = limits(Some(10), 1_000_000);
        let stopped = Prefix::run(
            &frozen,
            Nanos::MAX,
            false,
            Some(prefix_limits([(&frozen, &tiny)])),
        );
        assert!(matches!(stopped, Err(RunError::Limit(_))));
    }
}
