//! The world: every component of one run, the event type, and the loop that
//! pops events and hands each to the component it concerns. Components are
//! plain structs addressed by index; events are small `Copy` enums.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::client::{Client, ClientTimer, Completion, NodeEvent, Plain};
use super::database::Database;
use super::executor::Executor;
use super::frontend::Frontend;
use super::invariants::Violation;
use super::keys::{KeySpace, Placement};
use super::network::Network;
use super::node::Node;
use super::request::{ReqRef, Requests};
use super::workload::{Arrivals, FlowPicker};
use crate::config::{Model, PolicyConfig};
use crate::engine::{Lane, Nanos, Scheduler, stream};
use crate::metrics::{Recorder, Summary, TimelineRow};

/// Everything that can happen.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next request arrives.
    Arrival,
    /// A timeline bucket ends.
    Tick,
    /// A fault changes phase.
    Fault {
        /// Index in the model's fault list.
        index: u16,
        /// What happens now.
        action: super::fault::FaultAction,
    },
    /// A `work` step ends.
    Work(ReqRef),
    /// A request's patience in the front-end queue ends (503).
    FrontendQueueTimeout(ReqRef),
    /// A request's `timeout server` ends (504).
    FrontendServerTimeout(ReqRef),
    /// A database query ends.
    DbDone(ReqRef),
    /// A wait for a database connection times out.
    DbTimeout(ReqRef),
    /// A bulkhead caller's deadline.
    BulkheadDeadline(ReqRef),
    /// A client op's caller timeout.
    OpTimeout {
        /// Client.
        client: u16,
        /// Op slot.
        op: u32,
        /// Op generation.
        generation: u32,
    },
    /// A message reaches the node end of a connection.
    ToNode {
        /// Connection.
        conn: u32,
        /// Its generation when sent.
        generation: u32,
    },
    /// A message reaches the client end of a connection.
    ToClient {
        /// Connection.
        conn: u32,
        /// Its generation when sent.
        generation: u32,
    },
    /// A node worker finishes a request.
    NodeDone {
        /// Global node.
        node: u16,
        /// Worker.
        worker: u16,
        /// Service serial.
        serial: u32,
    },
    /// A connect attempt (SYN) reaches a node.
    ConnectArrive {
        /// Connection.
        conn: u32,
        /// Its generation.
        generation: u32,
    },
    /// A client timer or notification.
    Client {
        /// Client.
        client: u16,
        /// What.
        timer: ClientTimer,
    },
    /// A resilience retry's sleep ends.
    Retry {
        /// Call slot.
        slot: u32,
        /// Its generation.
        generation: u32,
    },
}

/// One service instance.
pub struct Instance {
    /// Its executor.
    pub exec: Executor,
    /// Its bulkhead, when enabled.
    pub bulkhead: Option<super::bulkhead::Bulkhead>,
}

/// The whole system of one run.
pub struct World {
    /// The model.
    pub model: Model,
    /// Events.
    pub sched: Scheduler<Event>,
    pub(crate) arrivals: Arrivals,
    pub(crate) flows: FlowPicker,
    pub(crate) keys_rng: ChaCha8Rng,
    pub(crate) work_rng: ChaCha8Rng,
    pub(crate) space: KeySpace,
    pub(crate) placement: Vec<Placement>,
    pub(crate) pool_offsets: Vec<u16>,
    /// The database's version of each key.
    pub(crate) versions: Vec<u32>,
    pub(crate) reqs: Requests,
    pub(crate) frontend: Option<Frontend>,
    pub(crate) fe_queue_lane: Option<Lane>,
    pub(crate) fe_server_lane: Option<Lane>,
    pub(crate) instances: Vec<Instance>,
    pub(crate) tasks: super::bulkhead::Tasks,
    pub(crate) next_instance: usize,
    pub(crate) clients: Vec<Client>,
    pub(crate) net: Network,
    pub(crate) nodes: Vec<Node>,
    pub(crate) db: Database,
    pub(crate) rec: Recorder,
    pub(crate) done: Vec<Completion>,
    pub(crate) ready: std::collections::VecDeque<ReqRef>,
    pub(crate) multi_keys: Vec<u32>,
    pub(crate) fault_state: super::fault::FaultState,
    pub(crate) node_events: Vec<NodeEvent>,
    /// Application-level retries, budget and breakers, when enabled.
    pub(crate) resilience: Option<super::resilience::Resilience>,
    events: u64,
    bucket_start: Nanos,
    /// Requests that arrived.
    pub(crate) arrived: u64,
    /// Requests already answered (a 504) whose backend work goes on.
    pub(crate) orphans: u64,
    checks: bool,
}

/// Builds a client context from the world's fields (disjoint borrows).
macro_rules! ctx {
    ($w:expr) => {
        super::client::Ctx {
            sched: &mut $w.sched,
            net: &mut $w.net,
            keys: &mut $w.space,
            placement: &mut $w.placement,
            pool_offsets: &$w.pool_offsets,
            versions: &$w.versions,
            rec: &mut $w.rec,
            done: &mut $w.done,
        }
    };
}
pub(crate) use ctx;

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
        let n_nodes = model.node_count();
        let keys = model.workload.keys.count;
        let mut pool_offsets = Vec::new();
        let mut nodes = Vec::new();
        for (p, pool) in model.pools.iter().enumerate() {
            pool_offsets.push(nodes.len() as u16);
            for (i, _) in pool.nodes.iter().enumerate() {
                let id = nodes.len() as u16;
                nodes.push(Node::new(
                    id,
                    pool.worker_threads,
                    pool.backlog,
                    pool.service_time,
                    keys,
                    stream(seed, &format!("node/{p}/{i}")),
                ));
            }
        }
        let (locator, hash) = model.client.policy.placement();
        if let PolicyConfig::Mcrouter(m) = &model.client.policy
            && let Some(g) = m.gutter
        {
            // FailoverWithExptimeRoute caps the gutter pool's sets.
            let offset = model.pool_offset(g);
            for node in &mut nodes[offset..offset + model.pools[g].nodes.len()] {
                node.set_ttl(m.failover_exptime);
            }
        }
        let placement: Vec<Placement> = model
            .pools
            .iter()
            .map(|p| Placement::new(locator, hash, &p.nodes, keys))
            .collect();
        let mut net = Network::new(
            &model.network,
            n_clients,
            n_nodes,
            stream(seed, "network"),
            &mut sched,
        );
        let mut clients = Vec::new();
        for c in 0..n_clients {
            let client = match &model.client.policy {
                PolicyConfig::Plain(cfg) => {
                    net.connect_all(c, &mut nodes);
                    Client::Plain(Plain::new(
                        c as u16,
                        model.client.op_timeout,
                        cfg.drop_expired,
                        n_nodes,
                        &mut sched,
                    ))
                }
                PolicyConfig::Spymemcached(cfg) => {
                    Client::Spymemcached(Box::new(super::client::Spymemcached::new(
                        c as u16, cfg, &model, &mut sched, &mut net, &mut nodes,
                    )))
                }
                PolicyConfig::Mcrouter(cfg) => {
                    Client::Mcrouter(Box::new(super::client::Mcrouter::new(
                        c as u16, cfg, &model, &mut sched, &mut net, &mut nodes,
                    )))
                }
                PolicyConfig::Twemproxy(cfg) => {
                    Client::Twemproxy(Box::new(super::client::Twemproxy::new(
                        c as u16, cfg, &model, &mut sched, &mut net, &mut nodes,
                    )))
                }
                PolicyConfig::Pymemcache(cfg) => {
                    Client::Pymemcache(Box::new(super::client::Pymemcache::new(
                        c as u16, cfg, &model, &mut sched, &mut net, &mut nodes,
                    )))
                }
                PolicyConfig::Libmemcached(cfg) => {
                    Client::Libmemcached(Box::new(super::client::Libmemcached::new(
                        c as u16, cfg, &model, &mut sched, &mut net, &mut nodes,
                    )))
                }
            };
            clients.push(client);
        }
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
        let instances = (0..n_clients)
            .map(|_| Instance {
                exec: Executor::new(&model.service),
                bulkhead: model
                    .service
                    .bulkhead
                    .as_ref()
                    .map(|b| super::bulkhead::Bulkhead::new(b, &mut sched)),
            })
            .collect();
        let db = Database::new(&model.database, stream(seed, "database"), &mut sched);
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
            space: KeySpace::new(&model.workload.keys),
            placement,
            pool_offsets,
            versions: vec![0; keys as usize],
            reqs: Requests::default(),
            frontend,
            fe_queue_lane,
            fe_server_lane,
            instances,
            tasks: Default::default(),
            next_instance: 0,
            clients,
            net,
            nodes,
            db,
            rec,
            done: Vec::new(),
            ready: std::collections::VecDeque::new(),
            multi_keys: Vec::new(),
            fault_state: super::fault::FaultState::new(&model),
            node_events: Vec::new(),
            resilience: super::resilience::Resilience::new(&model),
            events: 0,
            bucket_start: 0,
            arrived: 0,
            orphans: 0,
            checks: cfg!(debug_assertions),
            sched,
            model,
        };
        world.prefill();
        world
    }

    fn prefill(&mut self) {
        for p in 0..self.model.pools.len() {
            if !self.model.pools[p].prefill {
                continue;
            }
            let offset = self.pool_offsets[p] as usize;
            for k in 0..self.space.count() {
                let local = self.placement[p].primary(k, &mut self.space) as usize;
                self.nodes[offset + local].put(k, 0);
            }
        }
    }

    /// Turns the invariant checks on (they are always on in debug builds).
    pub fn check_invariants_too(mut self, on: bool) -> Self {
        self.checks |= on;
        self
    }

    /// Live requests that were already answered (their outcome recorded).
    pub(crate) fn answered_live(&self) -> u64 {
        self.orphans
    }

    /// Events handled so far (skipped stale timers not counted).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Runs to the end, handing each timeline row to `sink`. With the checks
    /// on, the first broken invariant stops the run.
    pub fn run(mut self, sink: &mut dyn FnMut(&TimelineRow)) -> Result<RunOutput, Violation> {
        let end = self.model.end();
        if let Some(t) = self.arrivals.next(0) {
            self.sched.at(t, Event::Arrival);
        }
        if self.model.bucket < end {
            self.sched.at(self.model.bucket, Event::Tick);
        }
        self.schedule_faults();
        let mut last = 0;
        while let Some((now, ev)) = self.sched.pop_before(end) {
            let counted = match ev {
                Event::Tick => {
                    self.tick(sink);
                    true
                }
                ev => self.handle(ev),
            };
            self.events += counted as u64;
            self.pump();
            if self.checks {
                if now < last {
                    return Err(self.violation(format!("time moved back from {last} to {now}")));
                }
                last = now;
                if matches!(ev, Event::Tick)
                    && let Err(m) = self.check_invariants()
                {
                    return Err(self.violation(m));
                }
            }
        }
        self.finish(sink)
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
        let nodes = self
            .nodes
            .iter()
            .map(|n| {
                let id = n.id;
                let active = self.clients.iter().filter(|c| c.is_active(id)).count();
                crate::metrics::NodeGauge {
                    queue: n.queue_len(),
                    client_backlog: self.clients.iter().map(|c| c.backlog(id)).sum(),
                    state: self.fault_state.state_code(n, &self.net),
                    active_share: active as f64 / self.clients.len().max(1) as f64,
                }
            })
            .collect();
        crate::metrics::Gauges {
            busy_threads: self.instances.iter().map(|i| i.exec.busy()).sum(),
            exec_queue: self.instances.iter().map(|i| i.exec.queued()).sum(),
            frontend_queue: self.frontend.as_ref().map_or(0, |f| f.queued()),
            db_in_flight: self.db.in_flight(),
            nodes,
        }
    }

    /// Handles one event; false when it was a stale timer (not counted).
    fn handle(&mut self, ev: Event) -> bool {
        match ev {
            Event::Arrival => {
                self.arrival();
                true
            }
            Event::Tick => true,
            Event::Fault { index, action } => {
                self.fault(index, action);
                true
            }
            Event::Work(r) => self.work_done(r),
            Event::FrontendQueueTimeout(r) => self.frontend_queue_timeout(r),
            Event::FrontendServerTimeout(r) => self.frontend_server_timeout(r),
            Event::DbDone(r) => self.db_done(r),
            Event::DbTimeout(r) => self.db_timeout(r),
            Event::BulkheadDeadline(r) => self.bulkhead_deadline(r),
            Event::OpTimeout {
                client,
                op,
                generation,
            } => {
                let mut ctx = ctx!(self);
                self.clients[client as usize].timeout(&mut ctx, op, generation)
            }
            Event::ToNode { conn, generation } => self.arrive_at_node(conn, generation),
            Event::ToClient { conn, generation } => {
                let Some(msg) = self.net.arrive_at_client(conn, generation) else {
                    return false;
                };
                let client = self.net.client_of(conn);
                let node = self.net.node_of(conn) as u16;
                let mut ctx = ctx!(self);
                self.clients[client].reply(&mut ctx, node, msg);
                true
            }
            Event::NodeDone {
                node,
                worker,
                serial,
            } => self.node_done(node, worker, serial),
            Event::ConnectArrive { conn, generation } => self.connect_arrive(conn, generation),
            Event::Client { client, timer } => {
                let mut ctx = ctx!(self);
                self.clients[client as usize].timer(&mut ctx, timer)
            }
            Event::Retry { slot, generation } => self.retry_due(slot, generation),
        }
    }

    /// Runs the requests made ready and the cache completions, until none is
    /// left (a loop rather than recursion, so long chains cannot overflow).
    pub(crate) fn pump(&mut self) {
        loop {
            if !self.done.is_empty() {
                let done = std::mem::take(&mut self.done);
                for c in &done {
                    if c.req.idx & super::bulkhead::TASK_BIT != 0 {
                        self.bulkhead_done(c.req, c.result);
                    } else if c.req.idx & super::resilience::RETRY_BIT != 0 {
                        self.resilience_done(c.req, c.result);
                    } else {
                        self.cache_result(c.req, c.result);
                    }
                }
                let mut done = done;
                done.clear();
                if self.done.is_empty() {
                    self.done = done;
                }
                continue;
            }
            match self.ready.pop_front() {
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
        let pending: u64 = self.clients.iter().map(|c| c.pending()).sum();
        self.rec.cache_unfinished(pending);
        let gauges = self.gauges();
        self.rec.close_bucket(self.bucket_start, end, &gauges, sink);
        let mut node_events = std::mem::take(&mut self.node_events);
        for c in &mut self.clients {
            node_events.extend(c.take_node_events());
        }
        node_events.sort_by_key(|e| (e.time, e.node));
        if self.checks
            && let Err(m) = self.check_final()
        {
            return Err(self.violation(m));
        }
        let summary = self.summary();
        Ok(RunOutput {
            summary,
            node_events,
        })
    }

    fn summary(&self) -> Summary {
        use crate::metrics::summary::{ClientSummary, DbSummary, NodeSummary};
        let end = self.model.end();
        let (trips, first_trip_s) = self.rec.trips();
        let (lost, reconnects) = self
            .clients
            .iter()
            .map(|c| c.connection_stats())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let mut nodes = Vec::new();
        for (p, pool) in self.model.pools.iter().enumerate() {
            for (i, name) in pool.nodes.iter().enumerate() {
                let n = &self.nodes[self.pool_offsets[p] as usize + i];
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
            windows: self.rec.windows(),
            first_bad_s: self.rec.first_bad_s(),
            recovery_s: self.rec.recovery_s(end),
            peak_bucket_error_ratio: self.rec.peak_bucket_error_ratio(),
            db: DbSummary {
                peak_in_flight: self.db.peak_in_flight,
                peak_waiting: self.db.peak_waiting,
                queries: self.db.queries,
                wait_timeouts: self.db.wait_timeouts,
            },
            client: ClientSummary {
                trips,
                first_trip_s,
                connections_lost: lost,
                reconnects,
                stale_reads: self.rec.stale_reads(),
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
            std::mem::size_of::<super::ClientTimer>()
        );
        assert!(std::mem::size_of::<super::Event>() <= 16);
    }
}
