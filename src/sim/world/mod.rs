//! The world: every component of one run, the event type, and the loop that
//! pops events and hands each to the component it concerns. Components are
//! plain structs addressed by index; events are small `Copy` enums.
//!
//! The children hold the orchestration that spans components, as `impl
//! World` blocks: `flow.rs` (a request's path through the service), `wire.rs`
//! (the node end of connections), `bulkhead.rs`, `resilience.rs`,
//! `faults.rs`, and `invariants.rs`.

mod bulkhead;
mod faults;
mod flow;
mod invariants;
mod limits;
pub mod prefix;
mod proxy;
mod resilience;
mod wire;

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;

use super::cache::Cache;
use super::database::Database;
use super::frontend::Frontend;
use super::request::Requests;
use super::service::Service;
use super::workload::{Arrivals, FlowPicker};
use crate::config::Model;
use crate::engine::{Lane, Nanos, Scheduler, stream};
use crate::metrics::{Recorder, Summary, TimelineRow};
use crate::sim::event::Event;
use crate::sim::limits::{CHECK_EVERY, RunError};

use crate::sim::protocol::{Completion, NodeEvent, Waiter};

/// A broken invariant: a bug in cachestorm, never a problem of the model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invariant broken at {time} ns: {message}")]
pub struct Violation {
    /// Simulated time.
    pub time: Nanos,
    /// What broke.
    pub message: String,
}

/// The whole system of one run.
#[derive(Clone)]
pub struct World {
    /// The model.
    pub model: Model,
    /// Events.
    pub sched: Scheduler<Event>,
    pub(crate) arrivals: Arrivals,
    pub(crate) flows: FlowPicker,
    pub(crate) keys_rng: ChaCha8Rng,
    pub(crate) work_rng: ChaCha8Rng,
    /// The database's version of each key.
    pub(crate) versions: Vec<u32>,
    pub(crate) reqs: Requests,
    pub(crate) frontend: Option<Frontend>,
    pub(crate) fe_queue_lane: Option<Lane>,
    pub(crate) fe_server_lane: Option<Lane>,
    /// Instances, executors, bulkheads and the requests made ready.
    pub(crate) service: Service,
    /// Clients, connections, nodes, placement and key space.
    pub(crate) cache: Cache,
    pub(crate) db: Database,
    pub(crate) rec: Recorder,
    pub(crate) done: Vec<Completion>,
    pub(crate) multi_keys: Vec<u32>,
    pub(crate) fault_state: super::fault::FaultState,
    pub(crate) node_events: Vec<NodeEvent>,
    /// Application-level retries, budget and breakers, when enabled.
    pub(crate) resilience: Option<super::resilience::Resilience>,
    /// Share of arrivals admitted while a `shed_load` policy change lasts.
    pub(crate) shed: Option<f64>,
    pub(crate) shed_rng: ChaCha8Rng,
    pub(crate) upstream_rng: ChaCha8Rng,
    /// Whole-request retries made by the upstream layers.
    pub(crate) upstream_retries: u64,
    events: u64,
    bucket_start: Nanos,
    /// Requests that arrived.
    pub(crate) arrived: u64,
    /// Live requests already answered (a 504: their outcome is recorded)
    /// whose backend work goes on.
    pub(crate) answered_live: u64,
    checks: bool,
    /// The run-time limits, when set ([`World::with_limits`]).
    limits: Option<crate::sim::limits::RunLimits>,
    /// Every request made ready goes through the ready queue (no direct
    /// run): a test compares the two paths.
    #[cfg(test)]
    pub(crate) queued_only: bool,
    /// Requests run at once instead of from the ready queue (for that test).
    #[cfg(test)]
    pub(crate) direct_runs: u64,
    /// (time, slot, generation, step) of every [`World::advance`], in the
    /// order they ran (for that test).
    #[cfg(test)]
    pub(crate) advances: Vec<(Nanos, u32, u32, u16)>,
}

/// Builds a client context from the world's fields (disjoint borrows).
macro_rules! ctx {
    ($w:expr) => {
        $crate::sim::client::Ctx {
            sched: &mut $w.sched,
            net: &mut $w.cache.net,
            keys: &mut $w.cache.space,
            placement: &mut $w.cache.placement,
            pool_offsets: &$w.cache.pool_offsets,
            versions: &$w.versions,
            rec: &mut $w.rec,
            done: &mut $w.done,
        }
    };
}
pub(crate) use ctx;

/// [`ctx!`] for client `$client`: a proxy tier's node side counts its cache
/// ops in the proxy's own recorder, apart from the application's.
macro_rules! ctx_of {
    ($w:expr, $client:expr) => {
        $crate::sim::client::Ctx {
            sched: &mut $w.sched,
            net: &mut $w.cache.net,
            keys: &mut $w.cache.space,
            placement: &mut $w.cache.placement,
            pool_offsets: &$w.cache.pool_offsets,
            versions: &$w.versions,
            rec: match &mut $w.cache.proxy {
                Some(p) if p.id == $client => &mut p.rec,
                _ => &mut $w.rec,
            },
            done: &mut $w.done,
        }
    };
}
pub(crate) use ctx_of;

/// What a run produced besides its timeline.
pub struct RunOutput {
    /// The summary.
    pub summary: Summary,
    /// What each client saw of each node.
    pub node_events: Vec<NodeEvent>,
}

impl World {
    /// Builds the world of `model` (its `seed` seeds every stream).
    pub fn new(model: &Model) -> Self {
        let model = model.clone();
        let seed = model.seed;
        let mut sched = Scheduler::new();
        let n_clients = model.service.instances as usize;
        let keys = model.workload.keys.count;
        let cache = Cache::new(&model, n_clients, &mut sched);
        let frontend = model.frontend.clone().map(|f| Frontend::new(f, n_clients));
        let fe_queue_lane = model
            .frontend
            .as_ref()
            .and_then(|f| f.timeout_queue)
            .map(|t| sched.lane(t));
        let fe_server_lane = model
            .frontend
            .as_ref()
            .and_then(|f| f.timeout_server)
            .map(|t| sched.lane(t));
        let service = Service::new(&model, n_clients, &mut sched);
        let db = Database::new(
            &model.database,
            n_clients,
            stream(seed, "database"),
            stream(seed, "database-retry"),
            &mut sched,
        );
        let rec = Recorder::new(
            model.slo,
            model.warmup,
            model.duration,
            model.fault_window(),
        );
        let mut world = World {
            arrivals: Arrivals::new(&model.workload, model.duration, stream(seed, "arrivals")),
            flows: FlowPicker::new(&model.workload, stream(seed, "flows")),
            keys_rng: stream(seed, "keys"),
            work_rng: stream(seed, "work"),
            versions: vec![0; keys as usize],
            reqs: Requests::default(),
            frontend,
            fe_queue_lane,
            fe_server_lane,
            service,
            cache,
            db,
            rec,
            done: Vec::new(),
            multi_keys: Vec::new(),
            fault_state: super::fault::FaultState::new(&model),
            node_events: Vec::new(),
            resilience: super::resilience::Resilience::new(&model),
            shed: None,
            shed_rng: stream(seed, "shed"),
            upstream_rng: stream(seed, "upstream"),
            upstream_retries: 0,
            events: 0,
            bucket_start: 0,
            arrived: 0,
            answered_live: 0,
            checks: cfg!(debug_assertions),
            limits: None,
            #[cfg(test)]
            queued_only: false,
            #[cfg(test)]
            direct_runs: 0,
            #[cfg(test)]
            advances: Vec::new(),
            sched,
            model,
        };
        world.cache.prefill(&world.model);
        world
    }

    /// Turns the invariant checks on when `on` (they are always on in debug
    /// builds).
    pub fn with_invariant_checks(mut self, on: bool) -> Self {
        self.checks |= on;
        self
    }

    /// Sets the run-time limits: the event budget and the state bounds
    /// (`sim::limits`).
    pub fn with_limits(mut self, limits: crate::sim::limits::RunLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Events handled so far (skipped stale timers not counted).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Runs to the end, handing each timeline row to `sink`. With the checks
    /// on, the first broken invariant stops the run; with limits set, the
    /// first limit exceeded.
    pub fn run(mut self, sink: &mut dyn FnMut(&TimelineRow)) -> Result<RunOutput, RunError> {
        self.start();
        self.schedule_faults();
        self.run_until(self.model.end(), sink)?;
        Ok(self.finish(sink)?)
    }

    /// Schedules the first arrival and the first tick (the faults are
    /// scheduled next, by `schedule_faults` or, for a shared prefix, into
    /// sequence numbers kept for them).
    fn start(&mut self) {
        let end = self.model.end();
        if let Some(t) = self.arrivals.next(0) {
            self.sched.at(t, Event::Arrival);
        }
        if self.model.bucket < end {
            self.sched.at(self.model.bucket, Event::Tick);
        }
    }

    /// Handles every event due before `until`. Called once up to the end
    /// for a whole run, or in pieces (a shared prefix, then the rest): the
    /// limit checks fall every `CHECK_EVERY` counted events either way.
    fn run_until(
        &mut self,
        until: Nanos,
        sink: &mut dyn FnMut(&TimelineRow),
    ) -> Result<(), RunError> {
        let end = self.model.end();
        let mut last = self.sched.now();
        let mut next_check = (self.events / CHECK_EVERY + 1) * CHECK_EVERY;
        while let Some((now, ev)) = self.sched.pop_before(until) {
            let counted = self.handle(ev, sink);
            self.events += counted as u64;
            // Most events leave nothing to run: the check stays in the loop
            // and the (large) pump is called only when there is work.
            if let [c] = self.done[..]
                && let Waiter::Request(r) = c.waiter
                && !self.service.has_ready()
                && self.direct()
            {
                // One completion, for a request, and nothing ready: what
                // `pump` would run first; it runs without entering `pump`,
                // which then runs what it left, if anything.
                self.done.clear();
                self.cache_result_run(r, c.result);
                if !self.done.is_empty() || self.service.has_ready() {
                    self.pump();
                }
            } else if !self.done.is_empty() || (!self.direct() && self.service.has_ready()) {
                self.pump();
            } else if let Some(r) = self.service.next_ready() {
                // No completion waits: the first ready request is what
                // `pump` would run first; it runs without entering `pump`,
                // which then runs what it left, if anything.
                #[cfg(test)]
                {
                    self.direct_runs += 1;
                }
                self.advance(r);
                if !self.done.is_empty() || self.service.has_ready() {
                    self.pump();
                }
            }
            if self.events >= next_check {
                next_check = self.events + CHECK_EVERY;
                if let Some(stop) = self.over_limits(end) {
                    return Err(stop.into());
                }
            }
            if self.checks {
                if now < last {
                    return Err(self
                        .violation(format!("time moved back from {last} to {now}"))
                        .into());
                }
                last = now;
                if matches!(ev, Event::Tick)
                    && let Err(m) = self.check_invariants()
                {
                    return Err(self.violation(m).into());
                }
            }
        }
        Ok(())
    }

    fn violation(&self, message: String) -> Violation {
        Violation {
            time: self.sched.now(),
            message,
        }
    }

    fn tick(&mut self, sink: &mut dyn FnMut(&TimelineRow)) {
        let now = self.sched.now();
        let gauges = self.gauges();
        self.rec.close_bucket(self.bucket_start, now, &gauges, sink);
        self.bucket_start = now;
        let next = now + self.model.bucket;
        if next < self.model.end() {
            self.sched.at(next, Event::Tick);
        }
    }

    fn gauges(&self) -> crate::metrics::Gauges {
        let nodes = self.cache.node_gauges(&self.fault_state);
        crate::metrics::Gauges {
            busy_threads: self.service.busy_threads(),
            exec_queue: self.service.exec_queued(),
            frontend_queue: self.frontend.as_ref().map_or(0, |f| f.queued()),
            db_in_flight: self.db.in_flight(),
            requests_in_flight: self.reqs.live() as u64,
            nodes,
        }
    }

    /// Handles one event; false when it was a stale timer (not counted).
    /// Inlined into the loop: its one call site is the hot path.
    #[inline(always)]
    fn handle(&mut self, ev: Event, sink: &mut dyn FnMut(&TimelineRow)) -> bool {
        match ev {
            Event::Arrival => {
                self.arrival();
                true
            }
            Event::Tick => {
                self.tick(sink);
                true
            }
            Event::Fault { index, action } => {
                self.fault(index, action);
                true
            }
            Event::Work(r) => self.work_done(r),
            Event::FrontendQueueTimeout(r) => self.frontend_queue_timeout(r),
            Event::FrontendServerTimeout(r) => self.frontend_server_timeout(r),
            Event::DbDone(q) => self.db_done(q),
            Event::DbTimeout(q) => self.db_timeout(q),
            Event::DbDeadline(q) => self.db_deadline(q),
            Event::DbRetry(r) => self.db_retry_due(r),
            Event::UpstreamRetry(r) => self.upstream_retry_due(r),
            Event::BulkheadDeadline(r) => self.bulkhead_deadline(r),
            Event::OpTimeout { client, op } => {
                let mut ctx = ctx_of!(self, client);
                self.cache.clients[client.index()].timeout(&mut ctx, op)
            }
            Event::ToNode { conn, generation } => self.arrive_at_node(conn, generation),
            Event::ToClient { conn, generation } => {
                let Some(msg) = self.cache.net.arrive_at_client(conn, generation) else {
                    return false;
                };
                let client = self.cache.net.client_of(conn);
                let node = self.cache.net.node_of(conn);
                let mut ctx = ctx_of!(self, client);
                self.cache.clients[client.index()].reply(&mut ctx, node, msg);
                true
            }
            Event::NodeDone {
                node,
                worker,
                serial,
            } => self.node_done(node, worker, serial),
            Event::ConnectArrive { conn, generation } => self.connect_arrive(conn, generation),
            Event::LeaseEnd { node, key } => self.lease_end(node, key),
            Event::Client { client, timer } => {
                let mut ctx = ctx_of!(self, client);
                self.cache.clients[client.index()].timer(&mut ctx, timer)
            }
            Event::Retry(slot) => self.retry_due(slot),
            Event::Proxy(s) => self.proxy_step(s),
        }
    }

    /// True when a request that would be the next one run from the ready
    /// queue may run at once instead (always, except in a test that
    /// compares the queued path).
    #[inline(always)]
    fn direct(&self) -> bool {
        #[cfg(test)]
        {
            !self.queued_only
        }
        #[cfg(not(test))]
        {
            true
        }
    }

    /// Runs the requests made ready and the cache completions, until none is
    /// left (a loop rather than recursion, so long chains cannot overflow).
    pub(crate) fn pump(&mut self) {
        loop {
            // The completions first, in the order they were made: those made
            // while one runs are appended and run in their turn (a FIFO read
            // by index, cleared when drained, so its buffer is reused).
            let mut i = 0;
            while let Some(&c) = self.done.get(i) {
                i += 1;
                match c.waiter {
                    // The last completion made, with no request ready: the
                    // request would be the next to run, so it runs now,
                    // without a pass through the ready queue (same order).
                    Waiter::Request(r)
                        if i == self.done.len() && !self.service.has_ready() && self.direct() =>
                    {
                        self.cache_result_run(r, c.result)
                    }
                    Waiter::Request(r) => self.cache_result(r, c.result),
                    Waiter::BulkheadTask(t) => self.bulkhead_done(t, c.result),
                    Waiter::RetrySlot(s) => self.resilience_done(s, c.result),
                    Waiter::Proxy(s) => self.proxy_done(s, c.result),
                }
            }
            self.done.clear();
            match self.service.next_ready() {
                Some(r) => self.advance(r),
                None => break,
            }
        }
    }

    fn finish(mut self, sink: &mut dyn FnMut(&TimelineRow)) -> Result<RunOutput, Violation> {
        let end = self.model.end();
        for r in self.reqs.live_refs() {
            let req = self.reqs.get(r).expect("live");
            if !req.answered {
                let arrival = req.arrival;
                let flags = req.flags;
                self.rec.request_end(
                    arrival,
                    end,
                    crate::metrics::Outcome::Unfinished,
                    flags,
                    false,
                );
            }
        }
        let pending = self.cache.pending();
        self.rec.cache_unfinished(pending);
        let gauges = self.gauges();
        self.rec.close_bucket(self.bucket_start, end, &gauges, sink);
        let mut node_events = std::mem::take(&mut self.node_events);
        self.cache.take_node_events(&mut node_events);
        node_events.sort_by_key(|e| (e.time, e.node));
        if self.checks
            && let Err(m) = self.check_final()
        {
            return Err(self.violation(m));
        }
        let summary = self.summary(&node_events);
        Ok(RunOutput {
            summary,
            node_events,
        })
    }

    fn summary(&self, node_events: &[super::protocol::NodeEvent]) -> Summary {
        use crate::metrics::summary::{ClientSummary, DbSummary, MemorySummary, NodeSummary};
        let end = self.model.end();
        // Every client's and proxy's markings, from what each logged (the
        // events are sorted by time).
        let ejections = node_events.iter().filter(|e| e.what.is_ejection());
        let first_ejection_s = ejections
            .clone()
            .next()
            .map(|e| crate::engine::time::secs(e.time));
        let ejections = ejections.count() as u64;
        let marked_failed = node_events
            .iter()
            .filter(|e| e.what.is_marked_failed())
            .count() as u64;
        let (trips, first_trip_s) = self.rec.trips();
        let (lost, reconnects) = self.cache.connection_stats();
        let mut nodes = Vec::new();
        for (p, pool) in self.model.pools.iter().enumerate() {
            for (i, name) in pool.nodes.iter().enumerate() {
                let n = &self.cache.nodes[self.cache.pool_offsets[p] as usize + i];
                let started = n.started;
                nodes.push(NodeSummary {
                    name: name.clone(),
                    pool: pool.name.clone(),
                    served: n.served,
                    expired: n.expired,
                    mean_wait_ms: if started == 0 {
                        0.0
                    } else {
                        n.wait_sum as f64 / started as f64 / 1e6
                    },
                    peak_queue: n.peak_queue,
                    utilization: n.busy_ns as f64 / (end as f64 * n.worker_count() as f64),
                });
            }
        }
        Summary {
            model: self.model.name.clone(),
            parameters: self.model.describe(),
            seed: self.model.seed,
            simulated_s: crate::engine::time::secs(end),
            events: self.events,
            requests: self.rec.requests(),
            latency_ms: self.rec.latency(),
            over_slo: self.rec.over_slo(),
            cache_ops: self.rec.cache_counts(),
            memory: {
                let mut m = MemorySummary::default();
                let (mut hits, mut gets) = (0u64, 0u64);
                for n in &self.cache.nodes {
                    let c = n.mem.counts;
                    hits += c.hits + c.stale_served;
                    gets += c.hits + c.misses + c.lease_waits;
                    m.fills += c.fills;
                    m.evictions += c.evictions;
                    m.expired += c.expired;
                    m.flushed += c.flushed;
                    m.lease_waits += c.lease_waits;
                    m.stale_served += c.stale_served;
                    m.items += n.mem.items();
                }
                m.hit_ratio = if gets == 0 {
                    0.0
                } else {
                    hits as f64 / gets as f64
                };
                m
            },
            windows: self.rec.windows(),
            first_bad_s: self.rec.first_bad_s(),
            recovery_s: self.rec.recovery_s(),
            peak_bucket_error_ratio: self.rec.peak_bucket_error_ratio(),
            verdict: self.rec.verdict(),
            db: DbSummary {
                peak_in_flight: self.db.peak_in_flight,
                peak_waiting: self.db.peak_waiting,
                queries: self.db.queries,
                wait_timeouts: self.db.wait_timeouts,
                calls: self.db.calls,
                deadline_exceeded: self.db.deadline_exceeded,
                killed: self.db.killed,
                refused: self.db.refused,
                wasted: self.db.wasted,
                retries: self.db.retries,
                slowed: self.db.slowed,
            },
            client: ClientSummary {
                trips,
                first_trip_s,
                connections_lost: lost,
                reconnects,
                stale_reads: self.rec.stale_reads(),
                ejections,
                first_ejection_s,
                marked_failed,
            },
            nodes,
        }
    }

    /// A fresh key seed for an arriving request.
    pub(crate) fn draw_key_seed(&mut self) -> u64 {
        self.keys_rng.random()
    }
}
#[cfg(test)]
mod size_tests {
    #[test]
    fn event_is_small() {
        eprintln!(
            "Event {} bytes, ClientTimer {}",
            std::mem::size_of::<super::Event>(),
            std::mem::size_of::<crate::sim::event::ClientTimer>()
        );
        assert!(std::mem::size_of::<super::Event>() <= 16);
    }
}
