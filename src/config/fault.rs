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
    /// The node: index or `"host:port"` (node kinds only).
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
    /// Parameters of `db_failover`.
    #[serde(default)]
    pub failover: FailoverFile,
    /// Parameters of `shed_load`.
    #[serde(default)]
    pub shed: ShedFile,
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

fn default_admit() -> f64 {
    0.5
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
    pub const ALL: [FaultKind; 13] = [
        FaultKind::None,
        FaultKind::Crash,
        FaultKind::Frozen,
        FaultKind::Slow,
        FaultKind::Lossy,
        FaultKind::Flapping,
        FaultKind::Partition,
        FaultKind::DbOutage,
        FaultKind::DbSlow,
        FaultKind::DbFailover,
        FaultKind::DbBlip,
        FaultKind::RetriesOff,
        FaultKind::ShedLoad,
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
            FaultKind::DbOutage => "db_outage",
            FaultKind::DbSlow => "db_slow",
            FaultKind::DbFailover => "db_failover",
            FaultKind::DbBlip => "db_blip",
            FaultKind::RetriesOff => "retries_off",
            FaultKind::ShedLoad => "shed_load",
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
            | FaultKind::Partition => FaultTarget::Node,
            FaultKind::DbOutage | FaultKind::DbSlow | FaultKind::DbFailover | FaultKind::DbBlip => {
                FaultTarget::Database
            }
            FaultKind::RetriesOff | FaultKind::ShedLoad => FaultTarget::Policy,
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
}

#[derive(Clone, Debug)]
pub struct FaultConfig {
    /// Pool index.
    pub pool: usize,
    /// Node index within the pool.
    pub node: usize,
    /// What happens.
    pub kind: FaultKindConfig,
    /// Start.
    pub start: Nanos,
    /// End (start + duration).
    pub end: Nanos,
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
            FaultKindConfig::DbOutage => FaultKind::DbOutage,
            FaultKindConfig::DbSlow(_) => FaultKind::DbSlow,
            FaultKindConfig::DbFailover { .. } => FaultKind::DbFailover,
            FaultKindConfig::DbBlip => FaultKind::DbBlip,
            FaultKindConfig::RetriesOff => FaultKind::RetriesOff,
            FaultKindConfig::ShedLoad { .. } => FaultKind::ShedLoad,
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

/// The faults of the model file, sorted by start.
pub(super) fn validate(
    v: &Check,
    list: &[FaultFile],
    pools: &[PoolConfig],
    duration: Nanos,
) -> Result<Vec<FaultConfig>, ConfigError> {
    let mut out: Vec<(usize, FaultConfig)> = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let at = |k: &str| path!["fault", i, k];
        let target = f.kind.target();
        let (pool, node) = match target {
            FaultTarget::Node => {
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
                let Some(node_ref) = &f.node else {
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
                            return Err(v.err_allowed(
                                at("node"),
                                format!("no node has the address `{a}`{hint}"),
                                format!(
                                    "an index from 0 to {}, or one of {}",
                                    nodes.len() - 1,
                                    nodes.join(", ")
                                ),
                            ));
                        }
                    },
                };
                (pool, node)
            }
            // `node` and `pool` are not read, as a kind's subtable is not
            // read when another kind is in use (`--set fault.0.kind=...`
            // never makes a model invalid).
            FaultTarget::Database | FaultTarget::Policy => (0, 0),
        };
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
            FaultKind::Flapping => FaultKindConfig::Flapping {
                frozen: v.positive(path!["fault", i, "flapping", "frozen"], f.flapping.frozen.0)?,
                healthy: v.positive(
                    path!["fault", i, "flapping", "healthy"],
                    f.flapping.healthy.0,
                )?,
            },
        };
        let fault = FaultConfig {
            pool,
            node,
            kind,
            start: f.start.0,
            end: f.start.0.saturating_add(length),
        };
        let same_target = |o: &FaultConfig| match target {
            FaultTarget::Node => {
                o.kind.kind().target() == FaultTarget::Node && o.pool == pool && o.node == node
            }
            FaultTarget::Database => o.kind.kind().target() == FaultTarget::Database,
            FaultTarget::Policy => o.kind.kind() == f.kind,
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
                    },
                    crate::engine::format_nanos(other.start),
                    crate::engine::format_nanos(other.end)
                ),
                match target {
                    FaultTarget::Node => "faults on one node that do not overlap",
                    FaultTarget::Database => "database faults that do not overlap",
                    FaultTarget::Policy => "changes of one policy that do not overlap",
                },
            ));
        }
        out.push((i, fault));
    }
    let mut faults: Vec<FaultConfig> = out.into_iter().map(|(_, f)| f).collect();
    faults.sort_by_key(|f| (f.start, f.pool, f.node));
    Ok(faults)
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
                FaultTarget::Database | FaultTarget::Policy => 0,
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
}
