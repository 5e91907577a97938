//! `[[fault]]`: the fault schedule, each fault a kind with its own
//! parameters subtable (read only when that kind is in use, so
//! `--set fault.0.kind=crash` never makes a model invalid). The simulator's
//! twin is `sim::fault` (with `sim::world::faults`).

use serde::Deserialize;

use super::check::Check;
use super::cluster::{PoolConfig, pool_index};
use super::error::{ConfigError, did_you_mean};
use super::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// What goes wrong.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Marks a window and changes nothing (baselines).
    None,
    /// Process killed: connections reset, connects refused, restarted empty.
    Crash,
    /// Reachable, connections open, nothing processed.
    Frozen,
    /// Service × factor, or a stopped/running duty cycle.
    Slow,
    /// Packet loss with retransmission.
    Lossy,
    /// Alternating frozen and healthy.
    Flapping,
    /// Silent: connections stay open, nothing arrives either way.
    Partition,
    /// Every reply from the node arrives later by a fixed delay (and
    /// jitter): a slow link, distinct from `slow`'s service-time factor.
    Latency,
    /// The node answers a fraction of its ops with `SERVER_ERROR`.
    Errors,
    /// The database server is frozen: it takes queries and completes
    /// nothing; what completed or queued is answered when it resumes.
    DbOutage,
    /// The database's service times × `slow.factor`.
    DbSlow,
    /// The database is unavailable (queries on it fail, new ones are
    /// refused), then serves with a cold buffer cache for a while.
    DbFailover,
    /// The network between the service and the database is cut: the
    /// server works, nothing crosses until it heals.
    DbBlip,
    /// A policy change: no retries at any layer while it lasts.
    RetriesOff,
    /// A policy change: the service admits only `shed.admit` of arrivals
    /// while it lasts (the rest are `rejected`).
    ShedLoad,
    /// `flush_all` at the start, on the node or (without `node`) every node
    /// of the pool.
    Flush,
    /// The most popular keys deleted at the start, on the node or (without
    /// `node`) every node of the pool.
    DeleteHot,
    /// The arrival rate multiplied from start to end.
    Spike,
}

/// A node named by index in its pool or by `host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeRef {
    /// Position in the pool's `nodes`.
    Index(i64),
    /// An address from the pool's `nodes`.
    Address(String),
}

impl<'de> Deserialize<'de> for NodeRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = NodeRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a node index (0, 1, …) or an address \"host:port\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<NodeRef, E> {
                Ok(NodeRef::Index(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<NodeRef, E> {
                Ok(NodeRef::Index(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NodeRef, E> {
                Ok(NodeRef::Address(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One `[[fault]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    /// The node: index or `"host:port"` (node kinds; `flush` and
    /// `delete_hot` without it act on every node of the pool).
    pub node: Option<NodeRef>,
    /// The pool, when there are several.
    pub pool: Option<String>,
    /// `none`, `crash`, `frozen`, `slow`, `lossy`, `flapping` or `partition`.
    pub kind: FaultKind,
    /// When it begins.
    pub start: Duration,
    /// How long it lasts.
    pub duration: Duration,
    /// Parameters of `frozen`.
    #[serde(default)]
    pub frozen: FrozenFile,
    /// Parameters of `slow`.
    #[serde(default)]
    pub slow: SlowFile,
    /// Parameters of `lossy`.
    #[serde(default)]
    pub lossy: LossyFile,
    /// Parameters of `flapping`.
    #[serde(default)]
    pub flapping: FlappingFile,
    /// Parameters of `latency`.
    #[serde(default)]
    pub latency: LatencyFile,
    /// Parameters of `errors`.
    #[serde(default)]
    pub errors: ErrorsFile,
    /// Puts the fault on a duty cycle: on for `on`, off for `off`, repeated
    /// from `start` for `duration` (any kind but `flapping`, a `slow` duty
    /// cycle and a `frozen` reboot, which have phases of their own).
    pub cycle: Option<CycleFile>,
    /// Parameters of `db_failover`.
    #[serde(default)]
    pub failover: FailoverFile,
    /// Parameters of `shed_load`.
    #[serde(default)]
    pub shed: ShedFile,
    /// Parameters of `delete_hot`.
    #[serde(default)]
    pub delete_hot: DeleteHotFile,
    /// Parameters of `spike`.
    #[serde(default)]
    pub spike: SpikeFile,
}

/// `[fault.latency]`: `tc qdisc add dev … root netem delay <delay> <jitter>`
/// on the node's interface: each message from the node (replies, connect
/// answers) leaves `delay` ± `jitter` later (uniform), still in order on
/// its connection (TCP).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyFile {
    /// Added one-way delay, node → client. Default [`DEFAULT_ADDED_LATENCY`].
    #[serde(default = "default_added_latency")]
    pub delay: Duration,
    /// Uniform jitter around `delay` (at most `delay`). Default 0.
    #[serde(default)]
    pub jitter: Duration,
}

/// Added delay of a `latency` fault when none is given: the +50 ms per op of
/// the example users ask about ("a node 50 ms away"): illustrative, not
/// measured; set it to your link.
pub const DEFAULT_ADDED_LATENCY: Nanos = 50 * crate::engine::time::MS;

fn default_added_latency() -> Duration {
    Duration(DEFAULT_ADDED_LATENCY)
}

impl Default for LatencyFile {
    fn default() -> Self {
        LatencyFile {
            delay: default_added_latency(),
            jitter: Duration(0),
        }
    }
}

/// `[fault.failover]`: after the unavailable phase (the fault's
/// `duration`), the new primary's buffer cache is cold: service times ×
/// `cold_factor` for `cold_for`. Defaults 1 and 0s (no cold phase): how much
/// slower and for how long depends on the working set and the storage, so
/// the model states it (PostgreSQL's `pg_prewarm` documentation describes
/// the cold cache after a restart; Amazon Aurora's cluster cache management
/// exists to avoid it after a failover).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverFile {
    /// Service time multiplier while cold. Default 1.
    #[serde(default = "default_cold_factor")]
    pub cold_factor: f64,
    /// How long the cache stays cold. Default 0s.
    #[serde(default)]
    pub cold_for: Duration,
}

impl Default for FailoverFile {
    fn default() -> Self {
        FailoverFile {
            cold_factor: default_cold_factor(),
            cold_for: Duration(0),
        }
    }
}

/// `[fault.errors]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsFile {
    /// Share of the node's ops answered `SERVER_ERROR` (each op drawn
    /// independently). Default [`DEFAULT_ERROR_FRACTION`].
    #[serde(default = "default_error_fraction")]
    pub fraction: f64,
}

/// Share of ops a node with an `errors` fault fails when none is given:
/// illustrative (one op in ten), not measured.
pub const DEFAULT_ERROR_FRACTION: f64 = 0.1;

fn default_error_fraction() -> f64 {
    DEFAULT_ERROR_FRACTION
}

impl Default for ErrorsFile {
    fn default() -> Self {
        ErrorsFile {
            fraction: default_error_fraction(),
        }
    }
}

fn default_cold_factor() -> f64 {
    1.0
}

/// `[fault.shed]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShedFile {
    /// Share of arrivals admitted. Default 0.5.
    #[serde(default = "default_admit")]
    pub admit: f64,
}

impl Default for ShedFile {
    fn default() -> Self {
        ShedFile {
            admit: default_admit(),
        }
    }
}

/// `[fault.cycle]`: the fault is on for `on`, off for `off`, and so on until
/// its `duration` ends ("down 5 s, up 5 s for 3 minutes"). Each phase's
/// length is drawn uniformly within ± `jitter` of its nominal length (stream
/// `faults`).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleFile {
    /// Length of each on phase (the fault applied). Required, > 0.
    pub on: Duration,
    /// Length of each off phase (the node healthy). Required, > 0.
    pub off: Duration,
    /// Each phase is its length ± up to this (uniform); below `on` and
    /// `off`. Default 0.
    #[serde(default)]
    pub jitter: Duration,
}

/// A validated duty cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// On phase.
    pub on: Nanos,
    /// Off phase.
    pub off: Nanos,
    /// ± jitter of each phase.
    pub jitter: Nanos,
}

fn default_admit() -> f64 {
    0.5
}

/// Keys a `delete_hot` fault deletes unless it says: the single hottest key
/// (an assumption: the hot-key invalidation; sweep `fault.<i>.delete_hot.keys`).
pub const DEFAULT_DELETE_HOT_KEYS: u64 = 1;
/// Rate multiplier of a `spike` fault unless it says: a doubling (an
/// assumption; sweep `fault.<i>.spike.factor`).
pub const DEFAULT_SPIKE_FACTOR: f64 = 2.0;

/// `[fault.delete_hot]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteHotFile {
    /// How many of the most popular keys (keys 0, 1, …) are deleted.
    /// Default [`DEFAULT_DELETE_HOT_KEYS`].
    #[serde(default = "default_delete_hot_keys")]
    pub keys: u64,
}

impl Default for DeleteHotFile {
    fn default() -> Self {
        DeleteHotFile {
            keys: DEFAULT_DELETE_HOT_KEYS,
        }
    }
}

fn default_delete_hot_keys() -> u64 {
    DEFAULT_DELETE_HOT_KEYS
}

/// `[fault.spike]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeFile {
    /// The arrival rate is multiplied by this from start to end. Default
    /// [`DEFAULT_SPIKE_FACTOR`].
    #[serde(default = "default_spike_factor")]
    pub factor: f64,
}

impl Default for SpikeFile {
    fn default() -> Self {
        SpikeFile {
            factor: DEFAULT_SPIKE_FACTOR,
        }
    }
}

fn default_spike_factor() -> f64 {
    DEFAULT_SPIKE_FACTOR
}

/// How a freeze ends.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FrozenEnd {
    /// The process continues and answers what was queued (SIGCONT).
    #[default]
    Resume,
    /// The host reboots: silence, then resets, then an empty cache.
    Reboot,
}

/// `[fault.frozen]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenFile {
    /// `resume` (default) or `reboot`.
    #[serde(default)]
    pub end: FrozenEnd,
    /// With `reboot`: the last part of the fault during which the host is
    /// down (silent: connects unanswered, connections quiet). Default 30s.
    #[serde(default = "default_reboot_down")]
    pub reboot_down: Duration,
}

impl Default for FrozenFile {
    fn default() -> Self {
        FrozenFile {
            end: FrozenEnd::default(),
            reboot_down: default_reboot_down(),
        }
    }
}

fn default_reboot_down() -> Duration {
    Duration(30 * SEC)
}

/// Service time multiplier of a `slow` fault that gives neither a factor
/// nor a duty cycle.
pub const DEFAULT_SLOW_FACTOR: f64 = 10.0;

/// `[fault.slow]`: either `factor` or the duty cycle `stop` + `run`.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SlowFile {
    /// Service time multiplier (> 1 slows). Default [`DEFAULT_SLOW_FACTOR`]
    /// when no duty cycle is given.
    pub factor: Option<f64>,
    /// Duty cycle: stopped for this long…
    pub stop: Option<Duration>,
    /// …then running for this long (the testbed: 180ms / 20ms).
    pub run: Option<Duration>,
}

/// `[fault.lossy]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossyFile {
    /// Probability that a packet (one message) is lost, each way. Default 0.05.
    #[serde(default = "default_loss")]
    pub loss: f64,
}

impl Default for LossyFile {
    fn default() -> Self {
        LossyFile {
            loss: default_loss(),
        }
    }
}

fn default_loss() -> f64 {
    0.05
}

/// `[fault.flapping]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlappingFile {
    /// Length of each frozen phase. Default 5s.
    #[serde(default = "default_flap")]
    pub frozen: Duration,
    /// Length of each healthy phase. Default 5s.
    #[serde(default = "default_flap")]
    pub healthy: Duration,
}

impl Default for FlappingFile {
    fn default() -> Self {
        FlappingFile {
            frozen: default_flap(),
            healthy: default_flap(),
        }
    }
}

fn default_flap() -> Duration {
    Duration(5 * SEC)
}

impl FaultKind {
    /// Every kind, in the order of the file's documentation.
    pub const ALL: [FaultKind; 18] = [
        FaultKind::None,
        FaultKind::Crash,
        FaultKind::Frozen,
        FaultKind::Slow,
        FaultKind::Lossy,
        FaultKind::Flapping,
        FaultKind::Partition,
        FaultKind::Latency,
        FaultKind::Errors,
        FaultKind::DbOutage,
        FaultKind::DbSlow,
        FaultKind::DbFailover,
        FaultKind::DbBlip,
        FaultKind::RetriesOff,
        FaultKind::ShedLoad,
        FaultKind::Flush,
        FaultKind::DeleteHot,
        FaultKind::Spike,
    ];

    /// The kind's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::None => "none",
            FaultKind::Crash => "crash",
            FaultKind::Frozen => "frozen",
            FaultKind::Slow => "slow",
            FaultKind::Lossy => "lossy",
            FaultKind::Flapping => "flapping",
            FaultKind::Partition => "partition",
            FaultKind::Latency => "latency",
            FaultKind::Errors => "errors",
            FaultKind::DbOutage => "db_outage",
            FaultKind::DbSlow => "db_slow",
            FaultKind::DbFailover => "db_failover",
            FaultKind::DbBlip => "db_blip",
            FaultKind::RetriesOff => "retries_off",
            FaultKind::ShedLoad => "shed_load",
            FaultKind::Flush => "flush",
            FaultKind::DeleteHot => "delete_hot",
            FaultKind::Spike => "spike",
        }
    }

    /// What the fault acts on.
    pub fn target(self) -> FaultTarget {
        match self {
            FaultKind::None
            | FaultKind::Crash
            | FaultKind::Frozen
            | FaultKind::Slow
            | FaultKind::Lossy
            | FaultKind::Flapping
            | FaultKind::Partition
            | FaultKind::Latency
            | FaultKind::Errors => FaultTarget::Node,
            FaultKind::DbOutage | FaultKind::DbSlow | FaultKind::DbFailover | FaultKind::DbBlip => {
                FaultTarget::Database
            }
            FaultKind::RetriesOff | FaultKind::ShedLoad => FaultTarget::Policy,
            FaultKind::Flush | FaultKind::DeleteHot => FaultTarget::Pool,
            FaultKind::Spike => FaultTarget::Workload,
        }
    }
}

impl FaultKind {
    /// Whether the kind can act on a proxy process (a fault that names the
    /// `[proxy]` address): what a process or its host meets (stopped,
    /// killed, slowed, its links delayed, lossy or cut); not a memcached
    /// node's own errors or items.
    pub fn acts_on_a_proxy(self) -> bool {
        match self {
            FaultKind::None
            | FaultKind::Crash
            | FaultKind::Frozen
            | FaultKind::Slow
            | FaultKind::Lossy
            | FaultKind::Flapping
            | FaultKind::Partition
            | FaultKind::Latency => true,
            FaultKind::Errors
            | FaultKind::DbOutage
            | FaultKind::DbSlow
            | FaultKind::DbFailover
            | FaultKind::DbBlip
            | FaultKind::RetriesOff
            | FaultKind::ShedLoad
            | FaultKind::Flush
            | FaultKind::DeleteHot
            | FaultKind::Spike => false,
        }
    }
}

/// What a fault kind acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// A cache node (`node`, `pool`).
    Node,
    /// The database (no `node`).
    Database,
    /// The service's policy: not a trigger, so it is left out of the fault
    /// window (no `node`).
    Policy,
    /// The node it names, or (no `node`) every node of its pool: a cache
    /// trigger.
    Pool,
    /// The arrivals (no `node`, no `pool`).
    Workload,
}

#[derive(Clone, Debug)]
pub struct FaultConfig {
    /// Pool index.
    pub pool: usize,
    /// Node index within the pool.
    pub node: usize,
    /// False for a cache trigger on every node of its pool (and for faults
    /// on no node).
    pub one_node: bool,
    /// What happens.
    pub kind: FaultKindConfig,
    /// Start.
    pub start: Nanos,
    /// End (start + duration).
    pub end: Nanos,
    /// On a duty cycle: on/off phases between start and end.
    pub cycle: Option<Cycle>,
}

/// A fault kind with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKindConfig {
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
    /// Replies delayed by `delay` ± `jitter`.
    Latency {
        /// Added one-way delay, node → client.
        delay: Nanos,
        /// Uniform ± jitter.
        jitter: Nanos,
    },
    /// A share of ops answered `SERVER_ERROR`.
    Errors {
        /// Probability per op.
        fraction: f64,
    },
    /// The database is frozen.
    DbOutage,
    /// The database is slower by this factor.
    DbSlow(f64),
    /// The database is unavailable, then cold.
    DbFailover {
        /// Service time multiplier while cold.
        cold_factor: f64,
        /// How long it stays cold after the fault.
        cold_for: Nanos,
    },
    /// The service–database network is cut.
    DbBlip,
    /// No retries.
    RetriesOff,
    /// Only this share of arrivals is admitted.
    ShedLoad {
        /// Share admitted, in [0, 1].
        admit: f64,
    },
    /// `flush_all`.
    Flush,
    /// Delete the most popular keys.
    DeleteHot {
        /// How many (keys 0 to keys - 1).
        keys: u32,
    },
    /// Arrival rate × factor.
    Spike {
        /// The multiplier.
        factor: f64,
    },
}

impl FaultKindConfig {
    /// The kind, without its parameters.
    pub fn kind(&self) -> FaultKind {
        match self {
            FaultKindConfig::None => FaultKind::None,
            FaultKindConfig::Crash => FaultKind::Crash,
            FaultKindConfig::Frozen { .. } => FaultKind::Frozen,
            FaultKindConfig::Slow(_) => FaultKind::Slow,
            FaultKindConfig::Lossy { .. } => FaultKind::Lossy,
            FaultKindConfig::Flapping { .. } => FaultKind::Flapping,
            FaultKindConfig::Partition => FaultKind::Partition,
            FaultKindConfig::Latency { .. } => FaultKind::Latency,
            FaultKindConfig::Errors { .. } => FaultKind::Errors,
            FaultKindConfig::DbOutage => FaultKind::DbOutage,
            FaultKindConfig::DbSlow(_) => FaultKind::DbSlow,
            FaultKindConfig::DbFailover { .. } => FaultKind::DbFailover,
            FaultKindConfig::DbBlip => FaultKind::DbBlip,
            FaultKindConfig::RetriesOff => FaultKind::RetriesOff,
            FaultKindConfig::ShedLoad { .. } => FaultKind::ShedLoad,
            FaultKindConfig::Flush => FaultKind::Flush,
            FaultKindConfig::DeleteHot { .. } => FaultKind::DeleteHot,
            FaultKindConfig::Spike { .. } => FaultKind::Spike,
        }
    }

    /// The kind's name in the model file.
    pub fn name(&self) -> &'static str {
        self.kind().name()
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

/// The faults of the model file, sorted by start. `proxy` is the `[proxy]`
/// tier's address, if any: a fault whose `node` names it acts on the proxy,
/// the one node of the pool validation appends after `pools`.
pub(super) fn validate(
    v: &Check,
    list: &[FaultFile],
    pools: &[PoolConfig],
    duration: Nanos,
    keys: u64,
    proxy: Option<&str>,
) -> Result<Vec<FaultConfig>, ConfigError> {
    let mut out: Vec<(usize, FaultConfig)> = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let at = |k: &str| path!["fault", i, k];
        let target = f.kind.target();
        // (pool, node, whether the fault names one node).
        let place = || -> Result<(usize, usize, bool), ConfigError> {
            Ok(match target {
                FaultTarget::Node | FaultTarget::Pool
                    if proxy.is_some()
                        && matches!(&f.node, Some(NodeRef::Address(a)) if Some(a.as_str()) == proxy)
                        && !pools
                            .iter()
                            .any(|p| p.nodes.iter().any(|n| Some(n.as_str()) == proxy)) =>
                {
                    if !f.kind.acts_on_a_proxy() {
                        return Err(v.err_allowed(
                            at("kind"),
                            format!(
                                "fault kind `{}` cannot act on the proxy `{}`: it is a process, not a memcached node",
                                f.kind.name(),
                                proxy.unwrap_or_default()
                            ),
                            "none, crash, frozen, slow, lossy, flapping, partition or latency",
                        ));
                    }
                    if f.pool.is_some() {
                        return Err(v.err_allowed(
                            at("pool"),
                            "a fault on the proxy names no pool",
                            "no `pool` key with the proxy's address as `node`",
                        ));
                    }
                    (pools.len(), 0, true)
                }
                FaultTarget::Node | FaultTarget::Pool => {
                    let pool = match &f.pool {
                        None if pools.len() == 1 => 0,
                        None => {
                            let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
                            return Err(v.err_allowed(
                                at("pool"),
                                "there are several pools, so a fault must name its pool",
                                names.join(", "),
                            ));
                        }
                        Some(name) => pool_index(v, at("pool"), pools, name)?,
                    };
                    let nodes = &pools[pool].nodes;
                    let node_ref = match (&f.node, target) {
                        (Some(n), _) => n,
                        // A cache trigger without a node: every node of the pool.
                        (None, FaultTarget::Pool) => {
                            return Ok((pool, 0, false));
                        }
                        (
                            None,
                            FaultTarget::Node
                            | FaultTarget::Database
                            | FaultTarget::Policy
                            | FaultTarget::Workload,
                        ) => {
                            return Err(v.err_allowed(
                                at("node"),
                                format!(
                                    "this required key is missing: a `{}` fault acts on a node",
                                    f.kind.name()
                                ),
                                format!(
                                    "an index from 0 to {}, or one of {}",
                                    nodes.len() - 1,
                                    nodes.join(", ")
                                ),
                            ));
                        }
                    };
                    let node = match node_ref {
                        NodeRef::Index(n) if *n >= 0 && (*n as usize) < nodes.len() => *n as usize,
                        NodeRef::Index(n) => {
                            return Err(v.err_allowed(
                                at("node"),
                                format!(
                                    "node {n} does not exist: the pool has {} node(s)",
                                    nodes.len()
                                ),
                                format!(
                                    "an index from 0 to {}, or one of {}",
                                    nodes.len() - 1,
                                    nodes.join(", ")
                                ),
                            ));
                        }
                        NodeRef::Address(a) => match nodes.iter().position(|n| n == a) {
                            Some(n) => n,
                            None => {
                                let hint = did_you_mean(a, nodes.iter().map(String::as_str))
                                    .map(|s| format!("; did you mean `{s}`?"))
                                    .unwrap_or_default();
                                let proxy = proxy
                                    .map(|p| format!(", or the proxy's address {p}"))
                                    .unwrap_or_default();
                                return Err(v.err_allowed(
                                    at("node"),
                                    format!("no node has the address `{a}`{hint}"),
                                    format!(
                                        "an index from 0 to {}, or one of {}{proxy}",
                                        nodes.len() - 1,
                                        nodes.join(", ")
                                    ),
                                ));
                            }
                        },
                    };
                    (pool, node, true)
                }
                // `node` and `pool` are not read, as a kind's subtable is not
                // read when another kind is in use (`--set fault.0.kind=...`
                // never makes a model invalid).
                FaultTarget::Database | FaultTarget::Policy | FaultTarget::Workload => {
                    (0, 0, false)
                }
            })
        };
        let (pool, node, one_node) = place()?;
        if f.start.0 >= duration {
            return Err(v.err_allowed(
                at("start"),
                format!(
                    "the fault starts at {} but arrivals end at {}",
                    f.start,
                    crate::engine::format_nanos(duration)
                ),
                "a start before `duration`",
            ));
        }
        let length = v.positive(at("duration"), f.duration.0)?;
        let kind = match f.kind {
            FaultKind::None => FaultKindConfig::None,
            FaultKind::Crash => FaultKindConfig::Crash,
            FaultKind::Partition => FaultKindConfig::Partition,
            FaultKind::Frozen => {
                if f.frozen.end == FrozenEnd::Reboot && f.frozen.reboot_down.0 > length {
                    return Err(v.err(
                        path!["fault", i, "frozen", "reboot_down"],
                        format!(
                            "the host is down for {} but the fault lasts only {}",
                            f.frozen.reboot_down, f.duration
                        ),
                    ));
                }
                FaultKindConfig::Frozen {
                    end: f.frozen.end,
                    reboot_down: f.frozen.reboot_down.0,
                }
            }
            FaultKind::Slow => {
                let s = &f.slow;
                match (s.factor, s.stop, s.run) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                        return Err(v.err_allowed(
                            path!["fault", i, "slow", "factor"],
                            "give either `factor` or the duty cycle `stop` + `run`, not both",
                            "factor = 10, or stop = \"180ms\" and run = \"20ms\"",
                        ));
                    }
                    (factor, None, None) => {
                        FaultKindConfig::Slow(SlowMode::Factor(v.finite_positive(
                            path!["fault", i, "slow", "factor"],
                            factor.unwrap_or(DEFAULT_SLOW_FACTOR),
                        )?))
                    }
                    (None, Some(stop), Some(run)) => FaultKindConfig::Slow(SlowMode::DutyCycle {
                        stop: v.positive(path!["fault", i, "slow", "stop"], stop.0)?,
                        run: v.positive(path!["fault", i, "slow", "run"], run.0)?,
                    }),
                    (None, Some(_), None) | (None, None, Some(_)) => {
                        return Err(v.err_allowed(
                            path!["fault", i, "slow"],
                            "a duty cycle needs both `stop` and `run`",
                            "stop = \"180ms\" and run = \"20ms\"",
                        ));
                    }
                }
            }
            FaultKind::Lossy => {
                let loss = f.lossy.loss;
                if !(0.0..1.0).contains(&loss) {
                    return Err(v.err_allowed(
                        path!["fault", i, "lossy", "loss"],
                        format!("found {loss}"),
                        "a probability in [0, 1)",
                    ));
                }
                FaultKindConfig::Lossy { loss }
            }
            FaultKind::DbOutage => FaultKindConfig::DbOutage,
            FaultKind::DbBlip => FaultKindConfig::DbBlip,
            FaultKind::RetriesOff => FaultKindConfig::RetriesOff,
            FaultKind::DbSlow => {
                if f.slow.stop.is_some() || f.slow.run.is_some() {
                    return Err(v.err_allowed(
                        path!["fault", i, "slow"],
                        "a database slow-down has no duty cycle",
                        "`slow.factor` only, e.g. factor = 10",
                    ));
                }
                FaultKindConfig::DbSlow(v.finite_positive(
                    path!["fault", i, "slow", "factor"],
                    f.slow.factor.unwrap_or(DEFAULT_SLOW_FACTOR),
                )?)
            }
            FaultKind::DbFailover => {
                let c = f.failover.cold_factor;
                if !(c.is_finite() && c >= 1.0) {
                    return Err(v.err_allowed(
                        path!["fault", i, "failover", "cold_factor"],
                        format!("found {c}"),
                        "a finite factor ≥ 1",
                    ));
                }
                FaultKindConfig::DbFailover {
                    cold_factor: c,
                    cold_for: f.failover.cold_for.0,
                }
            }
            FaultKind::ShedLoad => {
                let admit = f.shed.admit;
                if !(0.0..=1.0).contains(&admit) {
                    return Err(v.err_allowed(
                        path!["fault", i, "shed", "admit"],
                        format!("found {admit}"),
                        "a share in [0, 1]",
                    ));
                }
                FaultKindConfig::ShedLoad { admit }
            }
            FaultKind::Flush => FaultKindConfig::Flush,
            FaultKind::DeleteHot => {
                let k = f.delete_hot.keys;
                if k == 0 || k > keys {
                    return Err(v.err_allowed(
                        path!["fault", i, "delete_hot", "keys"],
                        format!("{k} keys, but the key space has {keys}"),
                        format!("an integer from 1 to {keys} (`workload.keys.count`)"),
                    ));
                }
                FaultKindConfig::DeleteHot { keys: k as u32 }
            }
            FaultKind::Spike => FaultKindConfig::Spike {
                factor: v.finite_positive(path!["fault", i, "spike", "factor"], f.spike.factor)?,
            },
            FaultKind::Flapping => FaultKindConfig::Flapping {
                frozen: v.positive(path!["fault", i, "flapping", "frozen"], f.flapping.frozen.0)?,
                healthy: v.positive(
                    path!["fault", i, "flapping", "healthy"],
                    f.flapping.healthy.0,
                )?,
            },
            FaultKind::Latency => {
                let delay = v.positive(path!["fault", i, "latency", "delay"], f.latency.delay.0)?;
                let jitter = f.latency.jitter.0;
                if jitter > delay {
                    return Err(v.err_allowed(
                        path!["fault", i, "latency", "jitter"],
                        format!(
                            "the jitter {} is larger than the delay {}",
                            f.latency.jitter, f.latency.delay
                        ),
                        "a jitter from 0 to `delay`",
                    ));
                }
                FaultKindConfig::Latency { delay, jitter }
            }
            FaultKind::Errors => {
                let fraction = f.errors.fraction;
                if !(fraction > 0.0 && fraction <= 1.0) {
                    return Err(v.err_allowed(
                        path!["fault", i, "errors", "fraction"],
                        format!("found {fraction}"),
                        "a probability in (0, 1]",
                    ));
                }
                FaultKindConfig::Errors { fraction }
            }
        };
        let cycle = match f.cycle {
            None => None,
            Some(c) => Some(validate_cycle(v, i, &c, &kind)?),
        };
        let fault = FaultConfig {
            pool,
            node,
            one_node,
            kind,
            start: f.start.0,
            end: f.start.0.saturating_add(length),
            cycle,
        };
        let same_target = |o: &FaultConfig| match target {
            FaultTarget::Node => {
                o.kind.kind().target() == FaultTarget::Node && o.pool == pool && o.node == node
            }
            FaultTarget::Database => o.kind.kind().target() == FaultTarget::Database,
            FaultTarget::Policy => o.kind.kind() == f.kind,
            // Cache triggers act at their start; they may overlap anything.
            FaultTarget::Pool | FaultTarget::Workload => false,
        };
        if let Some((j, other)) = out
            .iter()
            .find(|(_, o)| same_target(o) && o.start < fault.end && fault.start < o.end)
        {
            return Err(v.err_allowed(
                at("start"),
                format!(
                    "overlaps fault {j} {} ({} to {})",
                    match target {
                        FaultTarget::Node => "on the same node",
                        FaultTarget::Database => "on the database",
                        FaultTarget::Policy => "of the same policy",
                        FaultTarget::Pool | FaultTarget::Workload => "",
                    },
                    crate::engine::format_nanos(other.start),
                    crate::engine::format_nanos(other.end)
                ),
                match target {
                    FaultTarget::Node => "faults on one node that do not overlap",
                    FaultTarget::Database => "database faults that do not overlap",
                    FaultTarget::Policy => "changes of one policy that do not overlap",
                    FaultTarget::Pool | FaultTarget::Workload => "",
                },
            ));
        }
        out.push((i, fault));
    }
    let mut faults: Vec<FaultConfig> = out.into_iter().map(|(_, f)| f).collect();
    faults.sort_by_key(|f| (f.start, f.pool, f.node));
    Ok(faults)
}

/// A `[fault.cycle]`: positive phases, a jitter below both, and a kind
/// without phases of its own.
fn validate_cycle(
    v: &Check,
    i: usize,
    c: &CycleFile,
    kind: &FaultKindConfig,
) -> Result<Cycle, ConfigError> {
    let own_phases = match kind {
        FaultKindConfig::Flapping { .. } => Some("`flapping` alternates phases of its own"),
        FaultKindConfig::Slow(SlowMode::DutyCycle { .. }) => {
            Some("a `slow` duty cycle alternates phases of its own")
        }
        FaultKindConfig::Frozen {
            end: FrozenEnd::Reboot,
            ..
        } => Some("a `frozen` reboot happens once, at the fault's end"),
        FaultKindConfig::None
        | FaultKindConfig::Crash
        | FaultKindConfig::Frozen {
            end: FrozenEnd::Resume,
            ..
        }
        | FaultKindConfig::Slow(SlowMode::Factor(_))
        | FaultKindConfig::Lossy { .. }
        | FaultKindConfig::Partition
        | FaultKindConfig::Latency { .. }
        | FaultKindConfig::Errors { .. }
        | FaultKindConfig::DbOutage
        | FaultKindConfig::DbSlow(_)
        | FaultKindConfig::DbFailover { .. }
        | FaultKindConfig::DbBlip
        | FaultKindConfig::RetriesOff
        | FaultKindConfig::ShedLoad { .. }
        | FaultKindConfig::Flush
        | FaultKindConfig::DeleteHot { .. } => None,
        // Folded into the arrival rates from its start to its end when the
        // model is read: a cycle would be ignored.
        FaultKindConfig::Spike { .. } => {
            Some("a `spike` multiplies the rate from its start to its end")
        }
    };
    if let Some(why) = own_phases {
        return Err(v.err_allowed(
            path!["fault", i, "cycle"],
            format!("{why}: it cannot also be put on a cycle"),
            "a cycle on any kind but flapping, a slow duty cycle, a frozen reboot and spike",
        ));
    }
    let on = v.positive(path!["fault", i, "cycle", "on"], c.on.0)?;
    let off = v.positive(path!["fault", i, "cycle", "off"], c.off.0)?;
    if c.jitter.0 >= on.min(off) {
        return Err(v.err_allowed(
            path!["fault", i, "cycle", "jitter"],
            format!(
                "a jitter of {} could make a phase empty (on {}, off {})",
                c.jitter, c.on, c.off
            ),
            "a jitter below both `on` and `off`",
        ));
    }
    Ok(Cycle {
        on,
        off,
        jitter: c.jitter.0,
    })
}

/// The arrival rates of `rates` ((from, rate), sorted) with every spike
/// applied: the rate × factor from each spike's start to its end.
pub fn apply_spikes(rates: &[(Nanos, f64)], faults: &[FaultConfig]) -> Vec<(Nanos, f64)> {
    let spikes: Vec<(Nanos, Nanos, f64)> = faults
        .iter()
        .filter_map(|f| match f.kind {
            FaultKindConfig::Spike { factor } => Some((f.start, f.end, factor)),
            FaultKindConfig::None
            | FaultKindConfig::Crash
            | FaultKindConfig::Frozen { .. }
            | FaultKindConfig::Slow(_)
            | FaultKindConfig::Lossy { .. }
            | FaultKindConfig::Flapping { .. }
            | FaultKindConfig::Partition
            | FaultKindConfig::Latency { .. }
            | FaultKindConfig::Errors { .. }
            | FaultKindConfig::DbOutage
            | FaultKindConfig::DbSlow(_)
            | FaultKindConfig::DbFailover { .. }
            | FaultKindConfig::DbBlip
            | FaultKindConfig::RetriesOff
            | FaultKindConfig::ShedLoad { .. }
            | FaultKindConfig::Flush
            | FaultKindConfig::DeleteHot { .. } => None,
        })
        .collect();
    if spikes.is_empty() {
        return rates.to_vec();
    }
    let mut cuts: Vec<Nanos> = rates.iter().map(|r| r.0).collect();
    for &(s, e, _) in &spikes {
        cuts.push(s);
        cuts.push(e);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let base = |t: Nanos| {
        rates
            .iter()
            .rev()
            .find(|r| r.0 <= t)
            .map_or(rates[0].1, |r| r.1)
    };
    let mut out: Vec<(Nanos, f64)> = Vec::new();
    for t in cuts {
        let mut rate = base(t);
        for &(s, e, x) in &spikes {
            if s <= t && t < e {
                rate *= x;
            }
        }
        if out.last().is_none_or(|l| l.1 != rate) {
            out.push((t, rate));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::estimate;
    use crate::config::testing::{assert_allowed, model};

    fn with_kind(kind: FaultKind) -> Vec<String> {
        vec![
            "fault.0.node=1".into(),
            "fault.0.start=2s".into(),
            "fault.0.duration=4s".into(),
            format!("fault.0.kind={}", kind.name()),
        ]
    }

    #[test]
    fn all_lists_every_kind_the_file_accepts() {
        assert_allowed("fault.0.kind", FaultKind::ALL.map(FaultKind::name));
    }

    #[test]
    fn every_kind_validates_and_has_an_event_estimate() {
        for kind in FaultKind::ALL {
            let sets = with_kind(kind);
            let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
            let m = model(&sets).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let f = &m.faults[0];
            assert_eq!(f.kind.kind(), kind);
            assert_eq!(f.kind.name(), kind.name());
            let node = match kind.target() {
                FaultTarget::Node => 1,
                FaultTarget::Pool => 1,
                FaultTarget::Database | FaultTarget::Policy | FaultTarget::Workload => 0,
            };
            assert_eq!(
                (f.pool, f.node, f.start, f.end),
                (0, node, 2 * SEC, 6 * SEC)
            );
            let e = estimate::events(&m);
            assert!(
                e.faults.is_finite() && e.faults >= 3.0,
                "{kind:?}: {} fault events",
                e.faults
            );
        }
    }

    #[test]
    fn each_kind_takes_its_defaults_from_its_own_subtable() {
        let get = |kind: FaultKind| {
            let sets = with_kind(kind);
            let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
            model(&sets).unwrap().faults[0].kind.clone()
        };
        assert_eq!(
            get(FaultKind::Slow),
            FaultKindConfig::Slow(SlowMode::Factor(DEFAULT_SLOW_FACTOR))
        );
        assert_eq!(get(FaultKind::Lossy), FaultKindConfig::Lossy { loss: 0.05 });
        assert_eq!(
            get(FaultKind::Flapping),
            FaultKindConfig::Flapping {
                frozen: 5 * SEC,
                healthy: 5 * SEC
            }
        );
        assert_eq!(
            get(FaultKind::Frozen),
            FaultKindConfig::Frozen {
                end: FrozenEnd::Resume,
                reboot_down: 30 * SEC
            }
        );
    }

    #[test]
    fn cache_triggers_act_on_a_pool_without_a_node() {
        let m = model(&[
            "fault.0.node=1",
            "fault.0.kind=frozen",
            "fault.0.start=2s",
            "fault.0.duration=4s",
            "fault.1.kind=flush",
            "fault.1.start=3s",
            "fault.1.duration=1s",
        ])
        .unwrap();
        let flush = m.faults.iter().find(|f| f.kind == FaultKindConfig::Flush);
        assert!(!flush.unwrap().one_node, "no node: every node of the pool");
        // A node fault still needs its node.
        let e = model(&[
            "fault.0.kind=crash",
            "fault.0.start=1s",
            "fault.0.duration=1s",
        ]);
        assert!(e.unwrap_err().to_string().contains("acts on a node"));
        // A key set larger than the key space is refused at its key.
        let e = model(&[
            "fault.0.kind=delete_hot",
            "fault.0.start=1s",
            "fault.0.duration=1s",
            "fault.0.delete_hot.keys=99999999",
        ]);
        let e = e.unwrap_err().to_string();
        assert!(e.contains("fault.0.delete_hot.keys"), "{e}");
    }

    #[test]
    fn spikes_multiply_the_rate_schedule_between_start_and_end() {
        let rates = [(0, 100.0), (10 * SEC, 200.0)];
        let spike = |start, end, factor| FaultConfig {
            pool: 0,
            node: 0,
            one_node: false,
            kind: FaultKindConfig::Spike { factor },
            start,
            end,
            cycle: None,
        };
        let out = apply_spikes(&rates, &[spike(5 * SEC, 15 * SEC, 3.0)]);
        assert_eq!(
            out,
            vec![
                (0, 100.0),
                (5 * SEC, 300.0),
                (10 * SEC, 600.0),
                (15 * SEC, 200.0)
            ]
        );
        assert_eq!(apply_spikes(&rates, &[]), rates.to_vec());
        // Overlapping spikes multiply.
        let out = apply_spikes(
            &rates[..1],
            &[spike(SEC, 3 * SEC, 2.0), spike(2 * SEC, 4 * SEC, 5.0)],
        );
        assert_eq!(
            out,
            vec![
                (0, 100.0),
                (SEC, 200.0),
                (2 * SEC, 1000.0),
                (3 * SEC, 500.0),
                (4 * SEC, 100.0)
            ]
        );
    }
}
