//! From the file as written ([`super::schema`]) to the validated
//! [`super::spec::Model`]: ranges, cross-references and kind-specific
//! parameters, each error naming the key and its position.

use std::path::Path;

use super::dist::{Dist, DistSpec};
use super::doc::{Document, Seg};
use super::error::{ConfigError, did_you_mean};
use super::estimate;
use super::schema::{self, ExecutorKind, ModelFile, NodeRef, PopularityKind, StepOp};
use super::spec::*;
use crate::engine::Nanos;

/// Builds a key path from segments: `path!["fault", 0, "node"]`.
macro_rules! path {
    ($($seg:expr),* $(,)?) => { vec![$(Seg::from($seg)),*] };
}

impl From<&str> for Seg {
    fn from(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
}

/// Most keys of the key space: keys are u32 indices.
const MAX_KEYS: u64 = u32::MAX as u64;
/// memcached's default item size limit (`-I 1m`).
const MAX_VALUE: u64 = 1 << 20;
/// Most of anything the model numbers with 16 bits: service instances (one
/// client each), event loops, memcached workers per node, flows, steps.
const MAX_U16: u32 = u16::MAX as u32;
/// Why a count stops at [`MAX_U16`].
const U16_WHY: &str = "; the simulator numbers them with 16 bits";
/// Most keys one multi_get may ask for: far past any real bulk get, so a
/// larger count is a typo; each key costs three events and a slot.
const MAX_MULTI_GET: u32 = 100_000;

struct V<'d, 'a> {
    doc: &'d Document<'a>,
}

impl V<'_, '_> {
    fn err(&self, path: Vec<Seg>, message: impl Into<String>) -> ConfigError {
        self.doc.error_at(&path, message, None)
    }

    fn err_allowed(
        &self,
        path: Vec<Seg>,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) -> ConfigError {
        self.doc.error_at(&path, message, Some(allowed.into()))
    }

    fn positive(&self, path: Vec<Seg>, v: Nanos) -> Result<Nanos, ConfigError> {
        if v == 0 {
            return Err(self.err_allowed(
                path,
                "must be greater than zero",
                "a positive duration, e.g. \"1s\"",
            ));
        }
        Ok(v)
    }

    fn at_least(&self, path: Vec<Seg>, v: u32, min: u32) -> Result<u32, ConfigError> {
        if v < min {
            return Err(self.err_allowed(
                path,
                format!("found {v}"),
                format!("an integer ≥ {min}"),
            ));
        }
        Ok(v)
    }

    /// `v` within `min..=max`; `why` says where the upper bound comes from.
    fn in_range(
        &self,
        path: Vec<Seg>,
        v: u32,
        min: u32,
        max: u32,
        why: &str,
    ) -> Result<u32, ConfigError> {
        if v < min || v > max {
            return Err(self.err_allowed(
                path,
                format!("found {v}"),
                format!("an integer from {min} to {max}{why}"),
            ));
        }
        Ok(v)
    }

    fn finite_positive(&self, path: Vec<Seg>, v: f64) -> Result<f64, ConfigError> {
        if !v.is_finite() || v <= 0.0 {
            return Err(self.err_allowed(
                path,
                format!("found {v}"),
                "a finite number greater than zero",
            ));
        }
        Ok(v)
    }

    fn dist(&self, path: Vec<Seg>, spec: &DistSpec) -> Result<Dist, ConfigError> {
        spec.resolve().map_err(|(field, message)| {
            let mut p = path.clone();
            if self
                .doc
                .contains(&[path.clone(), vec![Seg::Key(field.clone())]].concat())
            {
                p.push(Seg::Key(field));
            }
            self.err(p, message)
        })
    }
}

/// Validates a deserialized model file.
pub fn validate(doc: &Document<'_>, file: ModelFile) -> Result<Model, ConfigError> {
    let v = V { doc };
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
    let pools = pools(&v, &file.cluster)?;
    let workload = workload(&v, &file.workload, &pools, duration)?;
    let frontend = match &file.frontend {
        Some(f) if f.enabled => Some(Frontend {
            maxconn: (f.maxconn > 0).then_some(f.maxconn),
            timeout_queue: match (f.timeout_queue, f.timeout_connect) {
                (Some(q), _) => Some(v.positive(path!["frontend", "timeout_queue"], q.0)?),
                (None, Some(c)) => Some(v.positive(path!["frontend", "timeout_connect"], c.0)?),
                (None, None) => None,
            },
            timeout_server: match f.timeout_server {
                Some(t) => Some(v.positive(path!["frontend", "timeout_server"], t.0)?),
                None => None,
            },
            balance: f.balance,
        }),
        _ => None,
    };
    let service = service(&v, &file.service)?;
    let client = client(&v, &file.client, &pools)?;
    let network = Network {
        latency: v.dist(path!["network", "latency"], &file.network.latency)?,
        send_buffer: nonzero_bytes(
            &v,
            path!["network", "send_buffer"],
            file.network.send_buffer.0,
        )?,
        recv_buffer: nonzero_bytes(
            &v,
            path!["network", "recv_buffer"],
            file.network.recv_buffer.0,
        )?,
        connect_timeout: v.positive(
            path!["network", "connect_timeout"],
            file.network.connect_timeout.0,
        )?,
        rto: v.positive(path!["network", "rto"], file.network.rto.0)?,
        rto_max: file.network.rto_max.0.max(file.network.rto.0),
    };
    let database = Database {
        connections: (file.database.connections > 0).then_some(file.database.connections),
        connection_timeout: v.positive(
            path!["database", "connection_timeout"],
            file.database.connection_timeout.0,
        )?,
        read: v.dist(
            path!["database", "service_time"],
            &file.database.service_time,
        )?,
        write: match &file.database.write_time {
            Some(w) => v.dist(path!["database", "write_time"], w)?,
            None => v.dist(
                path!["database", "service_time"],
                &file.database.service_time,
            )?,
        },
    };
    let faults = faults(&v, &file.fault, &pools, duration)?;
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
        database,
        faults,
    };
    memory(&v, &model)?;
    Ok(model)
}

/// Refuses a model whose tables would take more than
/// [`estimate::MEMORY_LIMIT`], pointing at the key behind the largest table
/// and showing the arithmetic.
fn memory(v: &V, model: &Model) -> Result<(), ConfigError> {
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

/// The index of the pool named `name`, or an error at `path` with a
/// did-you-mean and the pools' names.
fn pool_index(v: &V, path: Vec<Seg>, pools: &[Pool], name: &str) -> Result<usize, ConfigError> {
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

fn nonzero_bytes(v: &V, path: Vec<Seg>, b: u64) -> Result<u64, ConfigError> {
    if b == 0 {
        return Err(v.err_allowed(
            path,
            "must be greater than zero",
            "a size in bytes, e.g. 131072 or \"128KiB\"",
        ));
    }
    Ok(b)
}

fn pools(v: &V, c: &schema::ClusterFile) -> Result<Vec<Pool>, ConfigError> {
    let base_workers = c.worker_threads.unwrap_or(4);
    let base_service = c
        .service_time
        .clone()
        .unwrap_or_else(|| DistSpec::exponential(10_000));
    let base_backlog = c.backlog.unwrap_or(1024);
    let base_prefill = c.prefill.unwrap_or(false);
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
                "default".into(),
                nodes,
                base_workers,
                &base_service,
                base_backlog,
                base_prefill,
            )?);
        }
        (None, Some(list)) => {
            if list.is_empty() {
                return Err(v.err(
                    path!["cluster", "pool"],
                    "`[[cluster.pool]]` is empty: add at least one pool",
                ));
            }
            for (i, p) in list.iter().enumerate() {
                if list[..i].iter().any(|q| q.name == p.name) {
                    return Err(v.err(
                        path!["cluster", "pool", i, "name"],
                        format!("pool name `{}` is used twice", p.name),
                    ));
                }
                out.push(pool(
                    v,
                    path!["cluster", "pool", i],
                    p.name.clone(),
                    &p.nodes,
                    p.worker_threads.unwrap_or(base_workers),
                    p.service_time.as_ref().unwrap_or(&base_service),
                    p.backlog.unwrap_or(base_backlog),
                    p.prefill.unwrap_or(base_prefill),
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

#[allow(clippy::too_many_arguments)]
fn pool(
    v: &V,
    at: Vec<Seg>,
    name: String,
    nodes: &[String],
    workers: u32,
    service: &DistSpec,
    backlog: u32,
    prefill: bool,
) -> Result<Pool, ConfigError> {
    let sub = |k: &str| [at.clone(), path![k]].concat();
    if nodes.is_empty() {
        return Err(v.err_allowed(sub("nodes"), "no nodes", "at least one \"host:port\""));
    }
    for (i, n) in nodes.iter().enumerate() {
        if nodes[..i].contains(n) {
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
    Ok(Pool {
        name,
        nodes: nodes.to_vec(),
        worker_threads: v.in_range(sub("worker_threads"), workers, 1, MAX_U16, U16_WHY)?,
        service_time: v.dist(sub("service_time"), service)?,
        backlog: v.at_least(sub("backlog"), backlog, 1)?,
        prefill,
    })
}

fn workload(
    v: &V,
    w: &schema::WorkloadFile,
    pools: &[Pool],
    duration: Nanos,
) -> Result<Workload, ConfigError> {
    let rate = v.finite_positive(path!["workload", "rate"], w.rate)?;
    let mut rates = vec![(0, rate)];
    let mut last = 0;
    for (i, c) in w.schedule.iter().enumerate() {
        if !c.rate.is_finite() || c.rate < 0.0 {
            return Err(v.err_allowed(
                path!["workload", "schedule", i, "rate"],
                format!("found {}", c.rate),
                "a finite rate ≥ 0",
            ));
        }
        if i > 0 && c.at.0 <= last {
            return Err(v.err(
                path!["workload", "schedule", i, "at"],
                "schedule entries must be in increasing order of `at`",
            ));
        }
        if c.at.0 >= duration {
            return Err(v.err(
                path!["workload", "schedule", i, "at"],
                format!(
                    "starts at or after the end of arrivals ({})",
                    crate::engine::format_nanos(duration)
                ),
            ));
        }
        last = c.at.0;
        if c.at.0 == 0 {
            rates[0].1 = c.rate;
        } else {
            rates.push((c.at.0, c.rate));
        }
    }
    let keys = &w.keys;
    if keys.count == 0 || keys.count > MAX_KEYS {
        return Err(v.err_allowed(
            path!["workload", "keys", "count"],
            format!("found {}", keys.count),
            format!("an integer from 1 to {MAX_KEYS}"),
        ));
    }
    let (prefix, suffix) = match keys.format.split_once("{}") {
        Some((p, s)) if !s.contains("{}") => (p.to_string(), s.to_string()),
        _ => {
            return Err(v.err_allowed(
                path!["workload", "keys", "format"],
                format!("`{}` must contain `{{}}` exactly once", keys.format),
                "e.g. \"key:{}\"",
            ));
        }
    };
    let popularity = match keys.popularity.dist {
        PopularityKind::Uniform => Popularity::Uniform,
        PopularityKind::Zipf => {
            let Some(e) = keys.popularity.exponent else {
                return Err(v.err_allowed(
                    path!["workload", "keys", "popularity", "exponent"],
                    "a zipf popularity needs an exponent",
                    "a number > 0, e.g. 0.99",
                ));
            };
            Popularity::Zipf(
                v.finite_positive(path!["workload", "keys", "popularity", "exponent"], e)?,
            )
        }
    };
    if w.value_size.0 > MAX_VALUE {
        return Err(v.err_allowed(
            path!["workload", "value_size"],
            format!(
                "{} bytes is over memcached's 1 MiB item limit",
                w.value_size.0
            ),
            "at most 1048576",
        ));
    }
    if w.flow.is_empty() {
        return Err(v.err_allowed(
            path!["workload", "flow"],
            "no flows",
            "at least one [[workload.flow]] with steps",
        ));
    }
    if w.flow.len() > MAX_U16 as usize {
        return Err(v.err_allowed(
            path!["workload", "flow"],
            format!("found {} flows", w.flow.len()),
            format!("at most {MAX_U16} flows{U16_WHY}"),
        ));
    }
    let mut flows = Vec::new();
    let mut total_weight = 0.0;
    for (fi, f) in w.flow.iter().enumerate() {
        let weight = v.finite_positive(path!["workload", "flow", fi, "weight"], f.weight)?;
        total_weight += weight;
        if !total_weight.is_finite() {
            return Err(v.err_allowed(
                path!["workload", "flow", fi, "weight"],
                format!("the weights add up to more than {:e}", f64::MAX),
                "weights whose sum is a finite number, e.g. 0.7 and 0.3",
            ));
        }
        if f.steps.is_empty() {
            return Err(v.err(
                path!["workload", "flow", fi, "steps"],
                "a flow needs at least one step",
            ));
        }
        if f.steps.len() > MAX_U16 as usize {
            return Err(v.err_allowed(
                path!["workload", "flow", fi, "steps"],
                format!("found {} steps", f.steps.len()),
                format!("at most {MAX_U16} steps{U16_WHY}"),
            ));
        }
        let mut steps = Vec::new();
        let mut seen_get = false;
        for (si, s) in f.steps.iter().enumerate() {
            let at = |k: &str| path!["workload", "flow", fi, "steps", si, k];
            let is_cache = matches!(
                s.op,
                StepOp::Get | StepOp::Set | StepOp::Touch | StepOp::Delete | StepOp::MultiGet
            );
            if !s.wait && !is_cache {
                return Err(v.err_allowed(
                    at("wait"),
                    "only cache steps can be fire-and-forget",
                    "wait = true here",
                ));
            }
            if s.on != Condition::Always && !seen_get {
                return Err(v.err_allowed(
                    at("on"),
                    "this condition refers to an earlier get or multi_get, and there is none",
                    "on = \"always\", or put a get before it",
                ));
            }
            let time = match (s.op, &s.time) {
                (StepOp::Work, Some(t)) => Some(v.dist(at("time"), t)?),
                (StepOp::Work, None) => {
                    return Err(v.err_allowed(
                        at("time"),
                        "a work step needs a time",
                        "e.g. time = { dist = \"exponential\", mean = \"1ms\" }",
                    ));
                }
                (_, Some(_)) => return Err(v.err(at("time"), "only work steps take a time")),
                (_, None) => None,
            };
            let count = match (s.op, s.count) {
                (StepOp::MultiGet, Some(c)) => v.in_range(at("count"), c, 1, MAX_MULTI_GET, "")?,
                (StepOp::MultiGet, None) => 10,
                (_, Some(_)) => return Err(v.err(at("count"), "only multi_get steps take a count")),
                (_, None) => 1,
            };
            let size = match (s.op, s.size) {
                (StepOp::Set, Some(b)) if b.0 > MAX_VALUE => {
                    return Err(v.err_allowed(
                        at("size"),
                        "over memcached's 1 MiB item limit",
                        "at most 1048576",
                    ));
                }
                (StepOp::Set, Some(b)) => b.0 as u32,
                (_, Some(_)) => return Err(v.err(at("size"), "only set steps take a size")),
                (_, None) => w.value_size.0 as u32,
            };
            let pool = match &s.pool {
                None => 0,
                Some(name) => pool_index(v, at("pool"), pools, name)?,
            };
            if matches!(s.op, StepOp::Get | StepOp::MultiGet) && s.wait {
                seen_get = true;
            }
            steps.push(Step {
                op: s.op,
                on: s.on,
                wait: s.wait,
                key: s.key,
                count,
                time,
                size,
                pool,
            });
        }
        flows.push(Flow {
            name: f.name.clone(),
            weight,
            steps,
        });
    }
    Ok(Workload {
        arrival: w.arrival,
        rates,
        keys: Keys {
            count: keys.count as u32,
            prefix,
            suffix,
            popularity,
        },
        value_size: w.value_size.0 as u32,
        flows,
    })
}

fn service(v: &V, s: &schema::ServiceFile) -> Result<Service, ConfigError> {
    let instances = v.in_range(
        path!["service", "instances"],
        s.instances,
        1,
        MAX_U16,
        U16_WHY,
    )?;
    let cores = v.in_range(path!["service", "cores"], s.cores, 1, MAX_U16, "")?;
    let threads = match (s.threads, s.executor) {
        (Some(t), ExecutorKind::EventLoop) => v.in_range(
            path!["service", "threads"],
            t,
            1,
            MAX_U16,
            " event loops; the simulator numbers them with 16 bits",
        )?,
        (Some(t), ExecutorKind::Pool) => v.at_least(path!["service", "threads"], t, 1)?,
        (None, _) => match s.executor {
            ExecutorKind::Pool => 200,
            ExecutorKind::EventLoop => (2 * cores).min(MAX_U16),
        },
    };
    let bulkhead = if s.bulkhead.enabled {
        Some(Bulkhead {
            threads: v.at_least(
                path!["service", "bulkhead", "threads"],
                s.bulkhead.threads.unwrap_or(cores),
                1,
            )?,
            queue: s.bulkhead.queue,
            deadline: v.positive(
                path!["service", "bulkhead", "deadline"],
                s.bulkhead.deadline.0,
            )?,
        })
    } else {
        None
    };
    Ok(Service {
        instances,
        executor: s.executor,
        threads,
        queue: s.queue,
        bulkhead,
        resilience: resilience(v, &s.resilience)?,
    })
}

fn client(v: &V, c: &schema::ClientFile, pools: &[Pool]) -> Result<Client, ConfigError> {
    let op_timeout = v.positive(path!["client", "op_timeout"], c.op_timeout.0)?;
    let s = &c.spymemcached;
    let n = s.timeout_exception_threshold;
    if n < 3 {
        return Err(v.err_allowed(
            path!["client", "spymemcached", "timeout_exception_threshold"],
            format!("found {n}; the builder stores n − 2 and ignores values below 2"),
            "an integer ≥ 3 (default 1000: trips at 999 consecutive timeouts)",
        ));
    }
    Ok(Client {
        policy: c.policy,
        op_timeout,
        plain_locator: c.plain.locator,
        plain_hash: c.plain.hash,
        plain_drop_expired: c.plain.drop_expired,
        spy: Spymemcached {
            failure_mode: s.failure_mode,
            locator: s.locator,
            hash: s.hash,
            timeout_threshold: n - 2,
            max_reconnect_delay: v.positive(
                path!["client", "spymemcached", "max_reconnect_delay"],
                s.max_reconnect_delay.0,
            )?,
            op_queue_len: v.at_least(
                path!["client", "spymemcached", "op_queue_len"],
                s.op_queue_len,
                1,
            )?,
            op_queue_max_block: s.op_queue_max_block.0,
            verify_alive_on_connect: s.verify_alive_on_connect,
            discard_log_line: s.discard_log_line.0,
            wakeup_delay: v.positive(
                path!["client", "spymemcached", "wakeup_delay"],
                s.wakeup_delay.0,
            )?,
        },
        mcrouter: mcrouter(v, c, pools)?,
        twemproxy: twemproxy(v, c)?,
        pymemcache: pymemcache(v, c)?,
        libmemcached: libmemcached(v, c)?,
    })
}

fn faults(
    v: &V,
    list: &[schema::FaultFile],
    pools: &[Pool],
    duration: Nanos,
) -> Result<Vec<Fault>, ConfigError> {
    let mut out: Vec<(usize, Fault)> = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let at = |k: &str| path!["fault", i, k];
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
        let node = match &f.node {
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
            schema::FaultKind::None => FaultKind::None,
            schema::FaultKind::Crash => FaultKind::Crash,
            schema::FaultKind::Partition => FaultKind::Partition,
            schema::FaultKind::Frozen => {
                if f.frozen.end == FrozenEnd::Reboot && f.frozen.reboot_down.0 > length {
                    return Err(v.err(
                        path!["fault", i, "frozen", "reboot_down"],
                        format!(
                            "the host is down for {} but the fault lasts only {}",
                            f.frozen.reboot_down, f.duration
                        ),
                    ));
                }
                FaultKind::Frozen {
                    end: f.frozen.end,
                    reboot_down: f.frozen.reboot_down.0,
                }
            }
            schema::FaultKind::Slow => {
                let s = &f.slow;
                match (s.factor, s.stop, s.run) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                        return Err(v.err_allowed(
                            path!["fault", i, "slow", "factor"],
                            "give either `factor` or the duty cycle `stop` + `run`, not both",
                            "factor = 10, or stop = \"180ms\" and run = \"20ms\"",
                        ));
                    }
                    (factor, None, None) => FaultKind::Slow(SlowMode::Factor(v.finite_positive(
                        path!["fault", i, "slow", "factor"],
                        factor.unwrap_or(10.0),
                    )?)),
                    (None, Some(stop), Some(run)) => FaultKind::Slow(SlowMode::DutyCycle {
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
            schema::FaultKind::Lossy => {
                let loss = f.lossy.loss;
                if !(0.0..1.0).contains(&loss) {
                    return Err(v.err_allowed(
                        path!["fault", i, "lossy", "loss"],
                        format!("found {loss}"),
                        "a probability in [0, 1)",
                    ));
                }
                FaultKind::Lossy { loss }
            }
            schema::FaultKind::Flapping => FaultKind::Flapping {
                frozen: v.positive(path!["fault", i, "flapping", "frozen"], f.flapping.frozen.0)?,
                healthy: v.positive(
                    path!["fault", i, "flapping", "healthy"],
                    f.flapping.healthy.0,
                )?,
            },
        };
        let fault = Fault {
            pool,
            node,
            kind,
            start: f.start.0,
            end: f.start.0.saturating_add(length),
        };
        if let Some((j, other)) = out.iter().find(|(_, o)| {
            o.pool == pool && o.node == node && o.start < fault.end && fault.start < o.end
        }) {
            return Err(v.err_allowed(
                at("start"),
                format!(
                    "overlaps fault {j} on the same node ({} to {})",
                    crate::engine::format_nanos(other.start),
                    crate::engine::format_nanos(other.end)
                ),
                "faults on one node that do not overlap",
            ));
        }
        out.push((i, fault));
    }
    let mut faults: Vec<Fault> = out.into_iter().map(|(_, f)| f).collect();
    faults.sort_by_key(|f| (f.start, f.pool, f.node));
    Ok(faults)
}

// ---------------------------------------------------------------- other client policies
//
// A policy's subtable is checked only while that policy is active, so
// `--set client.policy=…` never makes a model invalid; an inactive one is
// resolved without complaint.

fn mcrouter(v: &V, c: &schema::ClientFile, pools: &[Pool]) -> Result<Mcrouter, ConfigError> {
    let m = &c.mcrouter;
    let strict = c.policy == Policy::Mcrouter;
    let at = |k: &str| path!["client", "mcrouter", k];
    let server_timeout = m.server_timeout.0.max(1);
    if strict {
        v.positive(at("server_timeout"), m.server_timeout.0)?;
        if let Some(t) = m.connect_timeout {
            v.positive(at("connect_timeout"), t.0)?;
        }
        v.at_least(at("timeouts_until_tko"), m.timeouts_until_tko, 1)?;
        v.positive(at("probe_delay_initial"), m.probe_delay_initial.0)?;
        v.positive(at("failover_exptime"), m.failover_exptime.0)?;
        if m.probe_delay_max.0 < m.probe_delay_initial.0 {
            return Err(v.err_allowed(
                at("probe_delay_max"),
                format!(
                    "{} is shorter than probe_delay_initial ({})",
                    m.probe_delay_max, m.probe_delay_initial
                ),
                "a duration ≥ probe_delay_initial (default 60s)",
            ));
        }
        if let Some(t) = m.tko_threshold
            && !(t.is_finite() && (0.0..=1.0).contains(&t))
        {
            return Err(v.err_allowed(
                at("tko_threshold"),
                format!("found {t}"),
                "a share between 0 and 1 (e.g. 0.5)",
            ));
        }
    }
    let gutter = match &m.gutter {
        None => None,
        Some(name) if !strict => pools.iter().position(|p| &p.name == name),
        Some(name) => Some(pool_index(v, at("gutter"), pools, name)?),
    };
    Ok(Mcrouter {
        server_timeout,
        connect_timeout: m.connect_timeout.map_or(server_timeout, |t| t.0.max(1)),
        timeouts_until_tko: m.timeouts_until_tko.max(1),
        probe_delay_initial: m.probe_delay_initial.0.max(1),
        probe_delay_max: m.probe_delay_max.0.max(m.probe_delay_initial.0.max(1)),
        gutter,
        failover_exptime: m.failover_exptime.0.max(1),
        tko_threshold: m.tko_threshold.map(|t| t.clamp(0.0, 1.0)),
        locator: m.locator,
        hash: m.hash,
    })
}

fn twemproxy(v: &V, c: &schema::ClientFile) -> Result<Twemproxy, ConfigError> {
    let t = &c.twemproxy;
    let at = |k: &str| path!["client", "twemproxy", k];
    if c.policy == Policy::Twemproxy {
        if let Some(d) = t.timeout {
            v.positive(at("timeout"), d.0)?;
        }
        v.at_least(at("server_failure_limit"), t.server_failure_limit, 1)?;
        v.positive(at("server_retry_timeout"), t.server_retry_timeout.0)?;
    }
    Ok(Twemproxy {
        timeout: t.timeout.map(|d| d.0.max(1)),
        server_failure_limit: t.server_failure_limit.max(1),
        auto_eject_hosts: t.auto_eject_hosts,
        server_retry_timeout: t.server_retry_timeout.0.max(1),
        locator: t.locator,
        hash: t.hash,
    })
}

fn pymemcache(v: &V, c: &schema::ClientFile) -> Result<Pymemcache, ConfigError> {
    let p = &c.pymemcache;
    let at = |k: &str| path!["client", "pymemcache", k];
    if c.policy == Policy::Pymemcache {
        if let Some(d) = p.timeout {
            v.positive(at("timeout"), d.0)?;
        }
        if let Some(d) = p.connect_timeout {
            v.positive(at("connect_timeout"), d.0)?;
        }
    }
    Ok(Pymemcache {
        timeout: p.timeout.map(|d| d.0.max(1)),
        connect_timeout: p.connect_timeout.map(|d| d.0.max(1)),
        retry_attempts: p.retry_attempts,
        retry_timeout: p.retry_timeout.0,
        dead_timeout: p.dead_timeout.0,
        ignore_exc: p.ignore_exc,
        locator: p.locator,
        hash: p.hash,
    })
}

fn libmemcached(v: &V, c: &schema::ClientFile) -> Result<Libmemcached, ConfigError> {
    let l = &c.libmemcached;
    let at = |k: &str| path!["client", "libmemcached", k];
    if c.policy == Policy::Libmemcached {
        v.positive(at("poll_timeout"), l.poll_timeout.0)?;
        v.positive(at("connect_timeout"), l.connect_timeout.0)?;
        v.at_least(at("server_failure_limit"), l.server_failure_limit, 1)?;
    }
    Ok(Libmemcached {
        poll_timeout: l.poll_timeout.0.max(1),
        connect_timeout: l.connect_timeout.0.max(1),
        server_failure_limit: l.server_failure_limit.max(1),
        retry_timeout: l.retry_timeout.0,
        auto_eject_hosts: l.auto_eject_hosts,
        dead_timeout: l.dead_timeout.0,
        locator: l.locator,
        hash: l.hash,
    })
}

fn resilience(v: &V, r: &schema::ResilienceFile) -> Result<Option<Resilience>, ConfigError> {
    let at = |t: &str, k: &str| path!["service", "resilience", t, k];
    let retry = if r.retry.enabled {
        let x = &r.retry;
        let max_attempts = v.at_least(at("retry", "max_attempts"), x.max_attempts, 1)?;
        v.finite_positive(at("retry", "multiplier"), x.multiplier)?;
        if let Some(m) = x.max_wait {
            v.positive(at("retry", "max_wait"), m.0)?;
        }
        Some(Retry {
            max_attempts,
            wait: x.wait.0,
            backoff: x.backoff,
            multiplier: x.multiplier,
            max_wait: x.max_wait.map(|m| m.0),
            jitter: x.jitter,
        })
    } else {
        None
    };
    let budget = if r.budget.enabled {
        let b = &r.budget;
        if !(b.ratio.is_finite() && b.ratio >= 0.0) {
            return Err(v.err_allowed(
                at("budget", "ratio"),
                format!("found {}", b.ratio),
                "a number ≥ 0 (default 0.2)",
            ));
        }
        if !(b.min_per_sec.is_finite() && b.min_per_sec >= 0.0) {
            return Err(v.err_allowed(
                at("budget", "min_per_sec"),
                format!("found {}", b.min_per_sec),
                "a number ≥ 0 (default 10)",
            ));
        }
        Some(Budget {
            ratio: b.ratio,
            min_per_sec: b.min_per_sec,
            ttl: v.positive(at("budget", "ttl"), b.ttl.0)?,
        })
    } else {
        None
    };
    let breaker = if r.breaker.enabled {
        let b = &r.breaker;
        for (k, x) in [
            ("failure_rate_threshold", b.failure_rate_threshold),
            ("slow_call_rate_threshold", b.slow_call_rate_threshold),
        ] {
            if !(x.is_finite() && x > 0.0 && x <= 100.0) {
                return Err(v.err_allowed(
                    at("breaker", k),
                    format!("found {x}"),
                    "a percentage in (0, 100]",
                ));
            }
        }
        let window = v.at_least(
            at("breaker", "sliding_window_size"),
            b.sliding_window_size,
            1,
        )?;
        let minimum = v.at_least(
            at("breaker", "minimum_number_of_calls"),
            b.minimum_number_of_calls,
            1,
        )?;
        Some(Breaker {
            scope: b.scope,
            failure_rate_threshold: b.failure_rate_threshold,
            slow_call_rate_threshold: b.slow_call_rate_threshold,
            slow_call_duration_threshold: v.positive(
                at("breaker", "slow_call_duration_threshold"),
                b.slow_call_duration_threshold.0,
            )?,
            window,
            // resilience4j caps the minimum at the window size (count-based).
            minimum_calls: minimum.min(window),
            open_wait: v.positive(
                at("breaker", "wait_duration_in_open_state"),
                b.wait_duration_in_open_state.0,
            )?,
            half_open_calls: v.at_least(
                at("breaker", "permitted_number_of_calls_in_half_open_state"),
                b.permitted_number_of_calls_in_half_open_state,
                1,
            )?,
        })
    } else {
        None
    };
    Ok(
        (retry.is_some() || budget.is_some() || breaker.is_some()).then_some(Resilience {
            retry,
            budget,
            breaker,
        }),
    )
}
