//! `[cluster]`: the memcached nodes, in one pool or several
//! (`[[cluster.pool]]`, functional cache groups). The simulator's twin is
//! `sim::node`.

use serde::Deserialize;

use super::check::{Check, MAX_U16, U16_WHY};
use super::dist::{Dist, DistSpec};
use super::doc::Seg;
use super::error::{ConfigError, did_you_mean};
use super::memory::{self, LeaseMiss, MemoryConfig, MemoryFile};
use super::units::{Bytes, Duration};
use crate::engine::time::US;

/// memcached `-t` default: 4 worker threads per node.
pub const DEFAULT_WORKER_THREADS: u32 = 4;
/// memcached `-b` default listen backlog.
pub const DEFAULT_BACKLOG: u32 = 1024;
/// Mean time a worker spends on one request: 10us, not measured on the
/// testbed (see the README on why results do not hinge on it).
const DEFAULT_SERVICE_MEAN: u64 = 10 * US;
/// Nodes start empty unless asked.
const DEFAULT_PREFILL: bool = false;
/// The name of the single pool given by `cluster.nodes`.
const SINGLE_POOL: &str = "default";

/// `[cluster]`: either one pool (`nodes = [...]` here) or several
/// (`[[cluster.pool]]`, functional cache groups). Node settings written here
/// are the defaults of every pool.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Node addresses `host:port` of the single pool.
    pub nodes: Option<Vec<String>>,
    /// memcached `-t`: worker threads per node; each connection is served by
    /// one worker, assigned round robin. Default [`DEFAULT_WORKER_THREADS`].
    pub worker_threads: Option<u32>,
    /// Time a worker spends on one request. Default exponential, mean 10us
    /// (`DEFAULT_SERVICE_MEAN`).
    pub service_time: Option<DistSpec>,
    /// memcached `-b`: listen backlog, shared by all clients' connects.
    /// Default [`DEFAULT_BACKLOG`].
    pub backlog: Option<u32>,
    /// Every key is set on its primary node before load starts. Default false.
    pub prefill: Option<bool>,
    /// memcached `-m`: bytes of item memory per node, each item charged its
    /// slab chunk; least recently used items are evicted. Default unlimited.
    pub memory: Option<Bytes>,
    /// Capacity per node in items instead of bytes. Default unlimited.
    pub items: Option<u64>,
    /// The expiry (`exptime`) every set to these nodes carries. Default none.
    pub ttl: Option<Duration>,
    /// Facebook-style leases: one filler per key per this long. Default none.
    pub lease: Option<Duration>,
    /// A get of a key leased to another: `wait` (default) or `stale`.
    pub lease_miss: Option<LeaseMiss>,
    /// Several pools.
    pub pool: Option<Vec<PoolFile>>,
}

/// One `[[cluster.pool]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    /// The name steps and faults use.
    pub name: String,
    /// Node addresses `host:port`.
    pub nodes: Vec<String>,
    /// As in `[cluster]`.
    pub worker_threads: Option<u32>,
    /// As in `[cluster]`.
    pub service_time: Option<DistSpec>,
    /// As in `[cluster]`.
    pub backlog: Option<u32>,
    /// As in `[cluster]`.
    pub prefill: Option<bool>,
    /// As in `[cluster]`.
    pub memory: Option<Bytes>,
    /// As in `[cluster]`.
    pub items: Option<u64>,
    /// As in `[cluster]`.
    pub ttl: Option<Duration>,
    /// As in `[cluster]`.
    pub lease: Option<Duration>,
    /// As in `[cluster]`.
    pub lease_miss: Option<LeaseMiss>,
}

/// A pool of memcached nodes, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolConfig {
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
    /// Capacity, expiry and leases of each node.
    pub memory: MemoryConfig,
}

/// The index of the pool named `name`, or an error at `path` with a
/// did-you-mean and the pools' names.
pub(super) fn pool_index(
    v: &Check,
    path: Vec<Seg>,
    pools: &[PoolConfig],
    name: &str,
) -> Result<usize, ConfigError> {
    if let Some(i) = pools.iter().position(|p| p.name == name) {
        return Ok(i);
    }
    let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
    let hint = did_you_mean(name, names.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(v.err_allowed(
        path,
        format!("no pool is named `{name}`{hint}"),
        format!("a [[cluster.pool]] name: {}", names.join(", ")),
    ))
}

/// The node settings a pool inherits from `[cluster]`.
struct Base {
    workers: u32,
    service: DistSpec,
    backlog: u32,
    prefill: bool,
    memory: MemoryFile,
}

pub(super) fn validate(
    v: &Check,
    c: &ClusterFile,
    keys: u64,
) -> Result<Vec<PoolConfig>, ConfigError> {
    let base = Base {
        workers: c.worker_threads.unwrap_or(DEFAULT_WORKER_THREADS),
        service: c
            .service_time
            .clone()
            .unwrap_or_else(|| DistSpec::exponential(DEFAULT_SERVICE_MEAN)),
        backlog: c.backlog.unwrap_or(DEFAULT_BACKLOG),
        prefill: c.prefill.unwrap_or(DEFAULT_PREFILL),
        memory: MemoryFile {
            memory: c.memory,
            items: c.items,
            ttl: c.ttl,
            lease: c.lease,
            lease_miss: c.lease_miss,
        },
    };
    let mut out = Vec::new();
    match (&c.nodes, &c.pool) {
        (Some(_), Some(_)) => {
            return Err(v.err_allowed(
                path!["cluster", "pool"],
                "both `cluster.nodes` and `[[cluster.pool]]` are given",
                "either `nodes = [...]` (one pool) or `[[cluster.pool]]` tables (several)",
            ));
        }
        (None, None) => {
            return Err(v.err_allowed(
                path!["cluster", "nodes"],
                "no cache nodes are given",
                "`nodes = [\"host:port\", ...]` or `[[cluster.pool]]` tables",
            ));
        }
        (Some(nodes), None) => {
            out.push(pool(
                v,
                path!["cluster"],
                SINGLE_POOL.into(),
                nodes,
                &base,
                keys,
            )?);
        }
        (None, Some(list)) => {
            if list.is_empty() {
                return Err(v.err(
                    path!["cluster", "pool"],
                    "`[[cluster.pool]]` is empty: add at least one pool",
                ));
            }
            let mut names = std::collections::HashSet::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                if !names.insert(&p.name) {
                    return Err(v.err(
                        path!["cluster", "pool", i, "name"],
                        format!("pool name `{}` is used twice", p.name),
                    ));
                }
                let own = Base {
                    workers: p.worker_threads.unwrap_or(base.workers),
                    service: p.service_time.as_ref().unwrap_or(&base.service).clone(),
                    backlog: p.backlog.unwrap_or(base.backlog),
                    prefill: p.prefill.unwrap_or(base.prefill),
                    memory: base.memory.or(&MemoryFile {
                        memory: p.memory,
                        items: p.items,
                        ttl: p.ttl,
                        lease: p.lease,
                        lease_miss: p.lease_miss,
                    }),
                };
                out.push(pool(
                    v,
                    path!["cluster", "pool", i],
                    p.name.clone(),
                    &p.nodes,
                    &own,
                    keys,
                )?);
            }
        }
    }
    let total: usize = out.iter().map(|p| p.nodes.len()).sum();
    if total > u16::MAX as usize {
        return Err(v.err(
            path!["cluster"],
            format!("{total} nodes is more than the {} supported", u16::MAX),
        ));
    }
    Ok(out)
}

fn pool(
    v: &Check,
    at: Vec<Seg>,
    name: String,
    nodes: &[String],
    settings: &Base,
    keys: u64,
) -> Result<PoolConfig, ConfigError> {
    let sub = |k: &str| [at.clone(), path![k]].concat();
    if nodes.is_empty() {
        return Err(v.err_allowed(sub("nodes"), "no nodes", "at least one \"host:port\""));
    }
    // Refused before the per-node checks, which are linear anyway (a hash
    // set), so a 400,000-node list is refused at once.
    if nodes.len() > u16::MAX as usize {
        return Err(v.err_allowed(
            sub("nodes"),
            format!(
                "{} nodes is more than the {} supported",
                nodes.len(),
                u16::MAX
            ),
            format!("at most {} nodes in all pools together", u16::MAX),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        if !seen.insert(n) {
            return Err(v.err(
                [sub("nodes"), path![i]].concat(),
                format!("node `{n}` is listed twice"),
            ));
        }
        if n.trim().is_empty() {
            return Err(v.err_allowed(
                [sub("nodes"), path![i]].concat(),
                "empty address",
                "\"host:port\"",
            ));
        }
    }
    Ok(PoolConfig {
        name,
        nodes: nodes.to_vec(),
        worker_threads: v.in_range(sub("worker_threads"), settings.workers, 1, MAX_U16, U16_WHY)?,
        service_time: v.dist(sub("service_time"), &settings.service)?,
        backlog: v.at_least(sub("backlog"), settings.backlog, 1)?,
        prefill: settings.prefill,
        memory: memory::validate(v, &at, &settings.memory, keys)?,
    })
}
