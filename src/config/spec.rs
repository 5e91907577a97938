//! The validated model: what the simulation is built from. Every duration is
//! in nanoseconds, every reference (pool, node) is resolved to an index, and
//! every default has been applied.

use crate::engine::Nanos;

pub use super::dist::Dist;
pub use super::schema::{
    ArrivalKind, Backoff, Balance, BreakerScope, Condition, ExecutorKind, FailureMode, FrozenEnd,
    HashChoice, Jitter, KeyChoice, LocatorChoice, Policy, StepOp,
};

/// A validated model.
#[derive(Clone, Debug)]
pub struct Model {
    /// Title for reports.
    pub name: String,
    /// Arrivals stop at this time.
    pub duration: Nanos,
    /// Extra time for in-flight requests to finish.
    pub drain: Nanos,
    /// The steady window starts here.
    pub warmup: Nanos,
    /// Width of a timeline row.
    pub bucket: Nanos,
    /// Success threshold.
    pub slo: Nanos,
    /// Seed of the run.
    pub seed: u64,
    /// The requests.
    pub workload: Workload,
    /// The balancer, if any.
    pub frontend: Option<Frontend>,
    /// The service.
    pub service: Service,
    /// The cache client.
    pub client: Client,
    /// The network.
    pub network: Network,
    /// Cache pools; nodes are numbered globally in pool order.
    pub pools: Vec<Pool>,
    /// The database.
    pub database: Database,
    /// The faults, sorted by start.
    pub faults: Vec<Fault>,
}

impl Model {
    /// Simulated time at which the run ends.
    pub fn end(&self) -> Nanos {
        self.duration + self.drain
    }

    /// Total number of cache nodes over all pools.
    pub fn node_count(&self) -> usize {
        self.pools.iter().map(|p| p.nodes.len()).sum()
    }

    /// Global index of the first node of `pool`.
    pub fn pool_offset(&self, pool: usize) -> usize {
        self.pools[..pool].iter().map(|p| p.nodes.len()).sum()
    }

    /// The main parameters, spelled as in the model file, for report titles.
    pub fn describe(&self) -> std::collections::BTreeMap<String, String> {
        use crate::engine::format_nanos as f;
        let mut m = std::collections::BTreeMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_string(), v);
        };
        let rate = self.workload.rates[0].1;
        put("workload.rate", format!("{rate}"));
        put("service.instances", self.service.instances.to_string());
        put(
            "service.executor",
            match self.service.executor {
                ExecutorKind::Pool => "pool".into(),
                ExecutorKind::EventLoop => "event_loop".into(),
            },
        );
        put("service.threads", self.service.threads.to_string());
        put(
            "service.queue",
            self.service
                .queue
                .map_or("unbounded".into(), |q| q.to_string()),
        );
        put(
            "service.bulkhead",
            self.service.bulkhead.as_ref().map_or("off".into(), |b| {
                format!(
                    "{} threads, queue {}, deadline {}",
                    b.threads,
                    b.queue,
                    f(b.deadline)
                )
            }),
        );
        put(
            "client.policy",
            match self.client.policy {
                Policy::Plain => "plain".into(),
                Policy::Spymemcached => "spymemcached".into(),
                Policy::Mcrouter => "mcrouter".into(),
                Policy::Twemproxy => "twemproxy".into(),
                Policy::Pymemcache => "pymemcache".into(),
                Policy::Libmemcached => "libmemcached".into(),
            },
        );
        put("client.op_timeout", f(self.client.op_timeout));
        if self.client.policy == Policy::Spymemcached {
            put(
                "client.spymemcached.failure_mode",
                match self.client.spy.failure_mode {
                    FailureMode::Redistribute => "redistribute".into(),
                    FailureMode::Retry => "retry".into(),
                    FailureMode::Cancel => "cancel".into(),
                },
            );
        }
        let opt = |t: Option<Nanos>| t.map_or("none".into(), f);
        match self.client.policy {
            Policy::Mcrouter => {
                let m = &self.client.mcrouter;
                put("client.mcrouter.server_timeout", f(m.server_timeout));
                put(
                    "client.mcrouter.gutter",
                    m.gutter
                        .map_or("none".into(), |g| self.pools[g].name.clone()),
                );
            }
            Policy::Twemproxy => {
                let t = &self.client.twemproxy;
                put("client.twemproxy.timeout", opt(t.timeout));
                put(
                    "client.twemproxy.auto_eject_hosts",
                    t.auto_eject_hosts.to_string(),
                );
            }
            Policy::Pymemcache => {
                put(
                    "client.pymemcache.timeout",
                    opt(self.client.pymemcache.timeout),
                );
            }
            Policy::Libmemcached => {
                let l = &self.client.libmemcached;
                put("client.libmemcached.poll_timeout", f(l.poll_timeout));
                put(
                    "client.libmemcached.auto_eject_hosts",
                    l.auto_eject_hosts.to_string(),
                );
            }
            Policy::Plain | Policy::Spymemcached => {}
        }
        if let Some(r) = &self.service.resilience {
            let on = |b: bool| if b { "on" } else { "off" }.to_string();
            put("service.resilience.retry", on(r.retry.is_some()));
            put("service.resilience.budget", on(r.budget.is_some()));
            put(
                "service.resilience.breaker",
                r.breaker.as_ref().map_or("off".into(), |b| {
                    match b.scope {
                        BreakerScope::Client => "client",
                        BreakerScope::Node => "node",
                        BreakerScope::Both => "both",
                    }
                    .into()
                }),
            );
        }
        put("cluster.nodes", self.node_count().to_string());
        if let Some(fe) = &self.frontend {
            put(
                "frontend.maxconn",
                fe.maxconn.map_or("unlimited".into(), |m| m.to_string()),
            );
            put(
                "frontend.timeout_queue",
                fe.timeout_queue.map_or("none".into(), f),
            );
        }
        m
    }

    /// The fault window: first fault start to last fault end.
    pub fn fault_window(&self) -> Option<(Nanos, Nanos)> {
        let start = self.faults.iter().map(|f| f.start).min()?;
        let end = self.faults.iter().map(|f| f.end).max()?;
        Some((start, end))
    }
}

/// Requests.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Poisson or constant gaps.
    pub arrival: ArrivalKind,
    /// (from, rate per second), sorted by time; the first starts at 0.
    pub rates: Vec<(Nanos, f64)>,
    /// The key space.
    pub keys: Keys,
    /// Default value size of a set.
    pub value_size: u32,
    /// Request types.
    pub flows: Vec<Flow>,
}

/// The key space.
#[derive(Clone, Debug)]
pub struct Keys {
    /// Number of keys.
    pub count: u32,
    /// Text before the index.
    pub prefix: String,
    /// Text after the index.
    pub suffix: String,
    /// Popularity.
    pub popularity: Popularity,
}

impl Keys {
    /// The spelling of key `i`.
    pub fn spell(&self, i: u32) -> String {
        format!("{}{}{}", self.prefix, i, self.suffix)
    }
}

/// Key popularity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Popularity {
    /// Uniform.
    Uniform,
    /// Zipf with this exponent.
    Zipf(f64),
}

/// A request type.
#[derive(Clone, Debug)]
pub struct Flow {
    /// Name.
    pub name: String,
    /// Relative weight.
    pub weight: f64,
    /// Steps.
    pub steps: Vec<Step>,
}

/// One step.
#[derive(Clone, Debug)]
pub struct Step {
    /// What it does.
    pub op: StepOp,
    /// When it runs.
    pub on: Condition,
    /// Whether the request waits for it.
    pub wait: bool,
    /// Which key.
    pub key: KeyChoice,
    /// multi_get: keys per call.
    pub count: u32,
    /// work: CPU time.
    pub time: Option<Dist>,
    /// set: bytes of the value.
    pub size: u32,
    /// Cache pool index.
    pub pool: usize,
}

/// The balancer.
#[derive(Clone, Debug)]
pub struct Frontend {
    /// Requests in flight per server; `None` = unlimited.
    pub maxconn: Option<u32>,
    /// Queue patience; `None` = infinite.
    pub timeout_queue: Option<Nanos>,
    /// Server timeout; `None` = infinite.
    pub timeout_server: Option<Nanos>,
    /// Algorithm.
    pub balance: Balance,
}

/// The service.
#[derive(Clone, Debug)]
pub struct Service {
    /// Instances.
    pub instances: u32,
    /// Executor kind.
    pub executor: ExecutorKind,
    /// Pool size, or number of loops.
    pub threads: u32,
    /// Queue capacity (per pool or per loop); `None` = unbounded.
    pub queue: Option<u32>,
    /// The bulkhead for cache calls, when enabled.
    pub bulkhead: Option<Bulkhead>,
    /// Application-level retries, budget and breakers, when any is enabled.
    pub resilience: Option<Resilience>,
}

/// A separate executor for cache calls.
#[derive(Clone, Debug)]
pub struct Bulkhead {
    /// Threads.
    pub threads: u32,
    /// Queue capacity.
    pub queue: u32,
    /// Caller's deadline.
    pub deadline: Nanos,
}

/// The client.
#[derive(Clone, Debug)]
pub struct Client {
    /// Policy.
    pub policy: Policy,
    /// Op timeout.
    pub op_timeout: Nanos,
    /// plain: locator.
    pub plain_locator: LocatorChoice,
    /// plain: hash.
    pub plain_hash: HashChoice,
    /// plain: nodes skip requests whose caller gave up.
    pub plain_drop_expired: bool,
    /// spymemcached parameters.
    pub spy: Spymemcached,
    /// mcrouter parameters.
    pub mcrouter: Mcrouter,
    /// twemproxy parameters.
    pub twemproxy: Twemproxy,
    /// pymemcache parameters.
    pub pymemcache: Pymemcache,
    /// libmemcached parameters.
    pub libmemcached: Libmemcached,
}

/// spymemcached parameters, resolved.
#[derive(Clone, Debug)]
pub struct Spymemcached {
    /// Failure mode.
    pub failure_mode: FailureMode,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
    /// The stored threshold (builder value − 2): the node drops when the
    /// count exceeds it.
    pub timeout_threshold: u32,
    /// Back-off cap.
    pub max_reconnect_delay: Nanos,
    /// Input queue capacity.
    pub op_queue_len: u32,
    /// Blocking add limit.
    pub op_queue_max_block: Nanos,
    /// Noop on connect.
    pub verify_alive_on_connect: bool,
    /// I/O thread time per discarded-op log line.
    pub discard_log_line: Nanos,
    /// Select wake-up delay.
    pub wakeup_delay: Nanos,
}

/// The network.
#[derive(Clone, Debug)]
pub struct Network {
    /// One-way latency.
    pub latency: Dist,
    /// Client send buffer, bytes.
    pub send_buffer: u64,
    /// Node receive buffer, bytes.
    pub recv_buffer: u64,
    /// Failed-connect time.
    pub connect_timeout: Nanos,
    /// First RTO.
    pub rto: Nanos,
    /// RTO cap.
    pub rto_max: Nanos,
}

/// A pool of memcached nodes.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Name.
    pub name: String,
    /// Addresses.
    pub nodes: Vec<String>,
    /// Workers per node.
    pub worker_threads: u32,
    /// Service time per request.
    pub service_time: Dist,
    /// Listen backlog.
    pub backlog: u32,
    /// Prefilled.
    pub prefill: bool,
}

/// The database.
#[derive(Clone, Debug)]
pub struct Database {
    /// Connections; `None` = no limit.
    pub connections: Option<u32>,
    /// Longest wait for a connection.
    pub connection_timeout: Nanos,
    /// Read time.
    pub read: Dist,
    /// Write time.
    pub write: Dist,
}

/// A scheduled fault.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Pool index.
    pub pool: usize,
    /// Node index within the pool.
    pub node: usize,
    /// What happens.
    pub kind: FaultKind,
    /// Start.
    pub start: Nanos,
    /// End (start + duration).
    pub end: Nanos,
}

/// A fault kind with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// Nothing.
    None,
    /// Killed, restarted empty at the end.
    Crash,
    /// Stopped; ends by resume or reboot.
    Frozen {
        /// How it ends.
        end: FrozenEnd,
        /// Host-down time at the end of a reboot.
        reboot_down: Nanos,
    },
    /// Slower service.
    Slow(SlowMode),
    /// Packet loss probability.
    Lossy {
        /// Per message, each way.
        loss: f64,
    },
    /// Alternating frozen / healthy.
    Flapping {
        /// Frozen phase.
        frozen: Nanos,
        /// Healthy phase.
        healthy: Nanos,
    },
    /// Network partition.
    Partition,
}

impl FaultKind {
    /// The kind's name in the model file.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::None => "none",
            FaultKind::Crash => "crash",
            FaultKind::Frozen { .. } => "frozen",
            FaultKind::Slow(_) => "slow",
            FaultKind::Lossy { .. } => "lossy",
            FaultKind::Flapping { .. } => "flapping",
            FaultKind::Partition => "partition",
        }
    }
}

/// How a slow node is slow.
#[derive(Clone, Debug, PartialEq)]
pub enum SlowMode {
    /// Service time × factor.
    Factor(f64),
    /// Stopped for `stop`, running for `run`, repeated.
    DutyCycle {
        /// Stopped phase.
        stop: Nanos,
        /// Running phase.
        run: Nanos,
    },
}

/// mcrouter parameters, resolved (`schema::McrouterFile` cites the defaults).
#[derive(Clone, Debug)]
pub struct Mcrouter {
    /// Request timeout.
    pub server_timeout: Nanos,
    /// Connect timeout.
    pub connect_timeout: Nanos,
    /// Consecutive timeouts to soft TKO.
    pub timeouts_until_tko: u32,
    /// First probe delay.
    pub probe_delay_initial: Nanos,
    /// Probe delay cap.
    pub probe_delay_max: Nanos,
    /// Index of the gutter (failover) pool.
    pub gutter: Option<usize>,
    /// Expiry cap of sets to the gutter pool.
    pub failover_exptime: Nanos,
    /// Fail-open share of TKO destinations.
    pub tko_threshold: Option<f64>,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

/// twemproxy parameters, resolved.
#[derive(Clone, Debug)]
pub struct Twemproxy {
    /// Request (and connect) timeout; `None` = forever.
    pub timeout: Option<Nanos>,
    /// Consecutive failures to eject.
    pub server_failure_limit: u32,
    /// Eject failing servers.
    pub auto_eject_hosts: bool,
    /// Time out of the ring.
    pub server_retry_timeout: Nanos,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

/// pymemcache `HashClient` parameters, resolved.
#[derive(Clone, Debug)]
pub struct Pymemcache {
    /// Call timeout; `None` = blocks forever.
    pub timeout: Option<Nanos>,
    /// Connect timeout; `None` = the OS's.
    pub connect_timeout: Option<Nanos>,
    /// Failed retries before dead.
    pub retry_attempts: u32,
    /// Fast-fail window after a failure.
    pub retry_timeout: Nanos,
    /// Time a dead node stays out.
    pub dead_timeout: Nanos,
    /// Failures return the default.
    pub ignore_exc: bool,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

/// libmemcached parameters, resolved.
#[derive(Clone, Debug)]
pub struct Libmemcached {
    /// Per-op poll timeout.
    pub poll_timeout: Nanos,
    /// Connect timeout.
    pub connect_timeout: Nanos,
    /// Connect failures to eject (with auto-eject).
    pub server_failure_limit: u32,
    /// "In timeout" after a connect failure.
    pub retry_timeout: Nanos,
    /// Eject failing servers.
    pub auto_eject_hosts: bool,
    /// Time before an ejected server's one reconnect try; 0 = never.
    pub dead_timeout: Nanos,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

/// Application-level resilience around awaited cache calls.
#[derive(Clone, Debug)]
pub struct Resilience {
    /// Retries, when enabled.
    pub retry: Option<Retry>,
    /// Retry budget, when enabled.
    pub budget: Option<Budget>,
    /// Circuit breakers, when enabled.
    pub breaker: Option<Breaker>,
}

/// Retries.
#[derive(Clone, Debug)]
pub struct Retry {
    /// Attempts, the first included.
    pub max_attempts: u32,
    /// Base wait.
    pub wait: Nanos,
    /// Growth.
    pub backoff: Backoff,
    /// Growth factor.
    pub multiplier: f64,
    /// Cap of a wait.
    pub max_wait: Option<Nanos>,
    /// Randomisation.
    pub jitter: Jitter,
}

/// Retry budget.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Retries per call.
    pub ratio: f64,
    /// Retries per second in reserve.
    pub min_per_sec: f64,
    /// Lifetime of a deposit.
    pub ttl: Nanos,
}

/// Circuit breaker(s).
#[derive(Clone, Debug)]
pub struct Breaker {
    /// Per client, per node or both.
    pub scope: BreakerScope,
    /// Failure rate (percent) that opens.
    pub failure_rate_threshold: f64,
    /// Slow-call rate (percent) that opens.
    pub slow_call_rate_threshold: f64,
    /// A call this long or longer is slow.
    pub slow_call_duration_threshold: Nanos,
    /// Outcomes kept.
    pub window: u32,
    /// Outcomes needed before a rate is computed (≤ window).
    pub minimum_calls: u32,
    /// Open for this long.
    pub open_wait: Nanos,
    /// Trial calls in half-open.
    pub half_open_calls: u32,
}
