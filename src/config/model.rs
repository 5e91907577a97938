//! The model file as a whole: its top-level keys, the validated [`Model`]
//! the simulation is built from, and the checks between sections (a step's,
//! fault's or gutter's pool; the memory guard over all of them). Every
//! duration of a `Model` is in nanoseconds, every reference (pool, node) is
//! resolved to an index, and every default has been applied.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::check::Check;
use super::client::{self, ClientConfig, ClientFile};
use super::cluster::{self, ClusterFile, PoolConfig};
use super::database::{self, DatabaseConfig, DatabaseFile};
use super::doc::{Document, Seg};
use super::error::ConfigError;
use super::estimate;
use super::fault::{self, FaultConfig, FaultFile};
use super::frontend::{self, FrontendConfig, FrontendFile};
use super::network::{self, NetworkConfig, NetworkFile};
use super::proxy::{self, ProxyConfig, ProxyFile};
use super::service::{self, ServiceConfig, ServiceFile};
use super::units::Duration;
use super::workload::{self, WorkloadConfig, WorkloadFile};
use crate::engine::Nanos;
use crate::engine::time::{MS, SEC};

/// The whole model file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// A title for reports and plots. Default: the file name.
    pub name: Option<String>,
    /// Simulated time during which requests arrive. Required.
    pub duration: Duration,
    /// After `duration`, in-flight requests may finish for this long; what is
    /// still in flight then is `unfinished`. Default 15s (the testbed harness's
    /// drain, `shared/validation/testbed/SETUP.md`).
    #[serde(default = "default_drain")]
    pub drain: Duration,
    /// Requests arriving before this are simulated but left out of the
    /// `steady` window. Default 0s.
    #[serde(default)]
    pub warmup: Duration,
    /// Width of a timeline row. Default 1s.
    #[serde(default = "default_bucket")]
    pub bucket: Duration,
    /// A request succeeds when admitted and done within this. Default 2000ms
    /// (the incident's and the testbed's threshold).
    #[serde(default = "default_slo")]
    pub slo: Duration,
    /// Seed of the run. Default 1. `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The requests.
    pub workload: WorkloadFile,
    /// An HAProxy-like balancer in front of the service. Absent: requests go
    /// straight to the service instances, round robin.
    pub frontend: Option<FrontendFile>,
    /// The service instances and their executors.
    #[serde(default)]
    pub service: ServiceFile,
    /// The cache client library, one instance per service instance.
    #[serde(default)]
    pub client: ClientFile,
    /// Latencies and socket buffers.
    #[serde(default)]
    pub network: NetworkFile,
    /// The memcached nodes. Required.
    pub cluster: ClusterFile,
    /// A proxy tier between the client and one pool's nodes. Absent: the
    /// client talks to the nodes.
    pub proxy: Option<ProxyFile>,
    /// The database behind the cache.
    #[serde(default)]
    pub database: DatabaseFile,
    /// The fault schedule.
    #[serde(default)]
    pub fault: Vec<FaultFile>,
}

fn default_drain() -> Duration {
    Duration(15 * SEC)
}
fn default_bucket() -> Duration {
    Duration(SEC)
}
fn default_slo() -> Duration {
    Duration(2_000 * MS)
}
fn default_seed() -> u64 {
    1
}

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
    pub workload: WorkloadConfig,
    /// The balancer, if any.
    pub frontend: Option<FrontendConfig>,
    /// The service.
    pub service: ServiceConfig,
    /// The cache client.
    pub client: ClientConfig,
    /// The network.
    pub network: NetworkConfig,
    /// Cache pools; nodes are numbered globally in pool order. With a proxy
    /// tier, its listening node is the last pool's one node.
    pub pools: Vec<PoolConfig>,
    /// The proxy tier, if any.
    pub proxy: Option<ProxyConfig>,
    /// The database.
    pub database: DatabaseConfig,
    /// The faults, sorted by start.
    pub faults: Vec<FaultConfig>,
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
    pub fn describe(&self) -> BTreeMap<String, String> {
        use crate::engine::format_nanos as f;
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_string(), v);
        };
        let rate = self.workload.rates[0].1;
        put("workload.rate", format!("{rate}"));
        put("service.instances", self.service.instances.to_string());
        put("service.executor", self.service.executor.name().into());
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
        self.client.describe(&self.pools, &mut put);
        if let Some(p) = &self.proxy {
            p.describe(&self.pools, &mut put);
        }
        if let Some(r) = &self.service.resilience {
            let on = |b: bool| if b { "on" } else { "off" }.to_string();
            put("service.resilience.retry", on(r.retry.is_some()));
            put("service.resilience.budget", on(r.budget.is_some()));
            put(
                "service.resilience.breaker",
                r.breaker
                    .as_ref()
                    .map_or("off".into(), |b| b.scope.name().into()),
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

    /// The fault window: first trigger start to last trigger end (policy
    /// changes such as `retries_off` are not triggers).
    pub fn fault_window(&self) -> Option<(Nanos, Nanos)> {
        let triggers = || {
            self.faults
                .iter()
                .filter(|f| f.kind.kind().target() != super::fault::FaultTarget::Policy)
        };
        let start = triggers().map(|f| f.start).min()?;
        let end = triggers().map(|f| f.end).max()?;
        Some((start, end))
    }
}

/// Validates a deserialized model file: the top-level keys, each section,
/// then the memory guard.
pub fn validate(doc: &Document<'_>, file: ModelFile) -> Result<Model, ConfigError> {
    let v = Check { doc };
    let name = file
        .name
        .clone()
        .unwrap_or_else(|| default_name(doc.path()));
    let duration = v.positive(path!["duration"], file.duration.0)?;
    let bucket = v.positive(path!["bucket"], file.bucket.0)?;
    if file.warmup.0 >= duration {
        return Err(v.err_allowed(
            path!["warmup"],
            format!(
                "the warm-up ({}) is not shorter than the run ({})",
                file.warmup, file.duration
            ),
            "a warm-up shorter than `duration`",
        ));
    }
    let slo = v.positive(path!["slo"], file.slo.0)?;
    // The pools first: steps, faults and mcrouter's gutter name them.
    let pools = cluster::validate(&v, &file.cluster, file.workload.keys.count)?;
    let workload = workload::validate(&v, &file.workload, &pools, duration)?;
    let frontend = frontend::validate(&v, file.frontend.as_ref())?;
    let service = service::validate(&v, &file.service)?;
    let client = client::validate(&v, &file.client, &pools)?;
    let network = network::validate(&v, &file.network)?;
    let database = database::validate(&v, &file.database)?;
    let faults = fault::validate(
        &v,
        &file.fault,
        &pools,
        duration,
        file.workload.keys.count,
        file.proxy.as_ref().map(|p| p.address.as_str()),
    )?;
    let mut workload = workload;
    let mut pools = pools;
    let proxy = match &file.proxy {
        None => None,
        Some(p) => {
            let p = proxy::validate(&v, p, &pools)?;
            // The client reaches the proxy's servers through the proxy: its
            // steps name the proxy's own pool (one node, the proxy).
            for flow in &mut workload.flows {
                for step in &mut flow.steps {
                    if step.pool == p.pool {
                        step.pool = p.front_pool;
                    }
                }
            }
            pools.push(proxy::front_pool(&p, &pools[p.pool]));
            Some(p)
        }
    };
    workload.rates = fault::apply_spikes(&workload.rates, &faults);
    let model = Model {
        name,
        duration,
        drain: file.drain.0,
        warmup: file.warmup.0,
        bucket,
        slo,
        seed: file.seed,
        workload,
        frontend,
        service,
        client,
        network,
        pools,
        proxy,
        database,
        faults,
    };
    memory(&v, &model)?;
    Ok(model)
}

/// Refuses a model whose tables would take more than
/// [`estimate::MEMORY_LIMIT`], pointing at the key behind the largest table
/// and showing the arithmetic.
fn memory(v: &Check, model: &Model) -> Result<(), ConfigError> {
    let terms = estimate::memory(model);
    let total: f64 = terms.iter().map(|t| t.bytes).sum();
    if total <= estimate::MEMORY_LIMIT as f64 {
        return Ok(());
    }
    let big = &terms[0];
    let mut path: Vec<Seg> = big.key.split('.').map(Seg::from).collect();
    // Point at the key where it is written (a pool may set its own workers).
    if big.key == "cluster.worker_threads"
        && !v.doc.contains(&path)
        && let Some(i) = (0..model.pools.len()).find(|&i| {
            v.doc.contains(&[
                Seg::from("cluster"),
                Seg::from("pool"),
                Seg::from(i),
                Seg::from("worker_threads"),
            ])
        })
    {
        path = path!["cluster", "pool", i, "worker_threads"];
    }
    Err(v.err_allowed(
        path,
        format!(
            "the model needs about {} of tables: {} = {}, over the {} limit",
            estimate::bytes(total),
            big.arithmetic,
            estimate::bytes(big.bytes),
            estimate::bytes(estimate::MEMORY_LIMIT as f64)
        ),
        match big.key {
            "workload.keys.count" => {
                let per_key = big.bytes / f64::from(model.workload.keys.count);
                let room = estimate::MEMORY_LIMIT as f64 - (total - big.bytes);
                format!(
                    "at most about {} keys with this cluster",
                    (room / per_key).max(0.0).floor()
                )
            }
            _ => "fewer keys, nodes, instances or threads".to_string(),
        },
    ))
}

fn default_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}
