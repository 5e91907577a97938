//! The model file as written: serde types with every key's unit, default and
//! the source of that default. [`super::validate`] turns it into a
//! [`super::Model`].
//!
//! Each fault kind's and client policy's parameters live in their own
//! subtable, read only when that kind or policy is active, so
//! `--set fault.0.kind=crash` or `--set client.policy=plain` never makes a
//! model invalid.

use serde::Deserialize;

use super::dist::DistSpec;
use super::units::{Bytes, Duration};
use crate::engine::time::{MS, SEC, US};

fn d(n: u64) -> Duration {
    Duration(n)
}

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
    /// The database behind the cache.
    #[serde(default)]
    pub database: DatabaseFile,
    /// The fault schedule.
    #[serde(default)]
    pub fault: Vec<FaultFile>,
}

fn default_drain() -> Duration {
    d(15 * SEC)
}
fn default_bucket() -> Duration {
    d(SEC)
}
fn default_slo() -> Duration {
    d(2_000 * MS)
}
fn default_seed() -> u64 {
    1
}

// ---------------------------------------------------------------- workload

/// How arrivals are spaced.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalKind {
    /// Exponential gaps (open-loop Poisson traffic).
    #[default]
    Poisson,
    /// Equal gaps: request i at i / rate (the testbed's dispatcher).
    Constant,
}

/// `[workload]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// `poisson` (default) or `constant`.
    #[serde(default)]
    pub arrival: ArrivalKind,
    /// Requests per second over the whole fleet (a float). Required.
    pub rate: f64,
    /// Rate changes over time: `[{ at = "60s", rate = 4000 }]`; each rate holds
    /// from its `at` until the next. Default: `rate` throughout.
    #[serde(default)]
    pub schedule: Vec<RateChangeFile>,
    /// The key space.
    #[serde(default)]
    pub keys: KeysFile,
    /// Bytes of a cached value (the testbed's 100-byte string). Default 100.
    #[serde(default = "default_value_size")]
    pub value_size: Bytes,
    /// Request types, chosen by weight. At least one.
    #[serde(default)]
    pub flow: Vec<FlowFile>,
}

fn default_value_size() -> Bytes {
    Bytes(100)
}

/// One entry of `workload.schedule`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChangeFile {
    /// When this rate starts.
    pub at: Duration,
    /// Requests per second from then on.
    pub rate: f64,
}

/// `workload.keys`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// Number of distinct keys. Default 10000 (the testbed).
    #[serde(default = "default_key_count")]
    pub count: u64,
    /// How key i is spelled; `{}` is replaced by i. The spelling decides the
    /// node (Ketama and ArrayMod hash the string). Default `"key:{}"`.
    #[serde(default = "default_key_format")]
    pub format: String,
    /// Which keys are popular.
    #[serde(default)]
    pub popularity: PopularityFile,
}

impl Default for KeysFile {
    fn default() -> Self {
        KeysFile {
            count: default_key_count(),
            format: default_key_format(),
            popularity: PopularityFile::default(),
        }
    }
}

fn default_key_count() -> u64 {
    10_000
}
fn default_key_format() -> String {
    "key:{}".to_string()
}

/// The shape of key popularity.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PopularityKind {
    /// Every key equally likely.
    #[default]
    Uniform,
    /// P(key i) proportional to (i + 1)^-exponent; key 0 the most popular.
    Zipf,
}

/// `workload.keys.popularity`.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PopularityFile {
    /// `uniform` (default) or `zipf`.
    #[serde(default)]
    pub dist: PopularityKind,
    /// Zipf exponent, > 0 (e.g. 0.99). Required for `zipf`.
    pub exponent: Option<f64>,
}

/// One `[[workload.flow]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// Its name in reports.
    pub name: String,
    /// Relative weight. Default 1.
    #[serde(default = "one")]
    pub weight: f64,
    /// The steps, run in order on the request's thread. At least one.
    pub steps: Vec<StepFile>,
}

fn one() -> f64 {
    1.0
}

/// What a step does.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StepOp {
    /// Cache get of one key.
    Get,
    /// Cache set of one key (value of `size` bytes).
    Set,
    /// Cache touch of one key.
    Touch,
    /// Cache delete of one key.
    Delete,
    /// Cache bulk get of `count` keys.
    MultiGet,
    /// A database read (holds the thread while it waits).
    DbRead,
    /// A database write: bumps the key's version in the database.
    DbWrite,
    /// CPU time on the executor thread.
    Work,
}

/// When a step runs, judged on the last awaited get or multi-get.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Always (default).
    #[default]
    Always,
    /// Only after a hit.
    Hit,
    /// Only after a miss.
    Miss,
    /// Only after a cache error (timeout, cancellation, rejection, error).
    Error,
    /// After a miss or a cache error: the read-through fallback.
    MissOrError,
}

/// Which key a cache step uses.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyChoice {
    /// The request's current key (the first cache step draws one). Default.
    #[default]
    Same,
    /// Draw a new key and make it the current one.
    New,
}

/// One step of a flow.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// `get`, `set`, `touch`, `delete`, `multi_get`, `db_read`, `db_write` or `work`.
    pub op: StepOp,
    /// When the step runs. Default `always`.
    #[serde(default)]
    pub on: Condition,
    /// Wait for the result (default true); `false` fires and forgets (cache
    /// steps only).
    #[serde(default = "yes")]
    pub wait: bool,
    /// `same` (default) or `new`.
    #[serde(default)]
    pub key: KeyChoice,
    /// multi_get: number of keys (default 10).
    pub count: Option<u32>,
    /// work: CPU time distribution. Required for `work`.
    pub time: Option<DistSpec>,
    /// set: value size; default `workload.value_size`.
    pub size: Option<Bytes>,
    /// The cache pool (functional cache groups); default the first pool.
    pub pool: Option<String>,
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------- frontend

/// HAProxy's balancing algorithm.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Round robin over servers that are not full (HAProxy's default).
    #[default]
    Roundrobin,
    /// The server with the fewest requests in flight.
    Leastconn,
}

/// `[frontend]`: HAProxy 2.x semantics (`shared/reference/service-stack.md` §1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendFile {
    /// Default true; `--set frontend.enabled=false` removes the front end.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Server `maxconn`: requests in flight per service instance. 0 =
    /// unlimited (HAProxy's default).
    #[serde(default)]
    pub maxconn: u32,
    /// `timeout queue`: patience in the backend queue, then 503. Unset: the
    /// value of `timeout_connect`; both unset: infinite (HAProxy's default).
    pub timeout_queue: Option<Duration>,
    /// `timeout connect` (only its role as the queue default is modelled).
    pub timeout_connect: Option<Duration>,
    /// `timeout server`: time to the response headers, then 504; the backend
    /// keeps working on the abandoned request. Unset: infinite.
    pub timeout_server: Option<Duration>,
    /// `roundrobin` (default) or `leastconn`.
    #[serde(default)]
    pub balance: Balance,
}

// ---------------------------------------------------------------- service

/// How a service instance runs requests.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    /// A thread pool fed by one FIFO queue (Tomcat's NIO connector).
    #[default]
    Pool,
    /// A few single-threaded loops, each with its own queue; requests are
    /// pinned to loops round robin (Netty, Vert.x).
    EventLoop,
}

/// `[service]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// Service instances (each with its own client). Default 1.
    #[serde(default = "one_u32")]
    pub instances: u32,
    /// `pool` (default) or `event_loop`.
    #[serde(default)]
    pub executor: ExecutorKind,
    /// Threads per instance: the pool size, or the number of event loops.
    /// Default 200 for `pool` (Tomcat `maxThreads`), 2 × `cores` for
    /// `event_loop` (Netty's default).
    pub threads: Option<u32>,
    /// Queue capacity per pool or per loop; a request finding it full is
    /// rejected. Absent: unbounded (Tomcat's `maxQueueSize` default).
    pub queue: Option<u32>,
    /// CPU cores per instance, for defaults that follow the core count.
    /// Default 4.
    #[serde(default = "default_cores")]
    pub cores: u32,
    /// A separate executor for cache calls.
    #[serde(default)]
    pub bulkhead: BulkheadFile,
}

impl Default for ServiceFile {
    fn default() -> Self {
        ServiceFile {
            instances: 1,
            executor: ExecutorKind::Pool,
            threads: None,
            queue: None,
            cores: default_cores(),
            bulkhead: BulkheadFile::default(),
        }
    }
}

fn one_u32() -> u32 {
    1
}
fn default_cores() -> u32 {
    4
}

/// `[service.bulkhead]`: cache calls run on their own bounded pool
/// (resilience4j ThreadPoolBulkhead + TimeLimiter, `service-stack.md` §7). The
/// request's thread is released while the call runs; a rejected or late call
/// counts as a cache error, and the late call still holds its bulkhead thread
/// until the client returns.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkheadFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// Threads. Default `service.cores` (resilience4j `maxThreadPoolSize` =
    /// available processors).
    pub threads: Option<u32>,
    /// Queue capacity. Default 100 (resilience4j `queueCapacity`).
    #[serde(default = "default_bulkhead_queue")]
    pub queue: u32,
    /// Time the caller waits. Default 1s (resilience4j TimeLimiter).
    #[serde(default = "default_bulkhead_deadline")]
    pub deadline: Duration,
}

impl Default for BulkheadFile {
    fn default() -> Self {
        BulkheadFile {
            enabled: false,
            threads: None,
            queue: default_bulkhead_queue(),
            deadline: default_bulkhead_deadline(),
        }
    }
}

fn default_bulkhead_queue() -> u32 {
    100
}
fn default_bulkhead_deadline() -> Duration {
    d(SEC)
}

// ---------------------------------------------------------------- client

/// The cache client library.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// A per-request timeout and nothing else: textbook checks and the peer.
    Plain,
    /// spymemcached 2.12.3 (`shared/reference/spymemcached.md`).
    #[default]
    Spymemcached,
}

/// How keys map to nodes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LocatorChoice {
    /// hash mod N (spymemcached's default, §6).
    #[default]
    ArrayMod,
    /// A Ketama ring, 160 points per node.
    Ketama,
}

/// The key hash.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum HashChoice {
    /// Java `String.hashCode()` (spymemcached's default NATIVE_HASH).
    #[default]
    Native,
    /// MD5, first 4 bytes little-endian (KETAMA_HASH).
    Ketama,
}

/// `[client]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// `spymemcached` (default) or `plain`.
    #[serde(default)]
    pub policy: Policy,
    /// Operation timeout enforced by the waiting caller. Default 2500ms
    /// (spymemcached `DEFAULT_OPERATION_TIMEOUT`, §2.1).
    #[serde(default = "default_op_timeout")]
    pub op_timeout: Duration,
    /// Parameters of the `plain` policy.
    #[serde(default)]
    pub plain: PlainFile,
    /// Parameters of the `spymemcached` policy.
    #[serde(default)]
    pub spymemcached: SpymemcachedFile,
}

impl Default for ClientFile {
    fn default() -> Self {
        ClientFile {
            policy: Policy::default(),
            op_timeout: default_op_timeout(),
            plain: PlainFile::default(),
            spymemcached: SpymemcachedFile::default(),
        }
    }
}

fn default_op_timeout() -> Duration {
    d(2_500 * MS)
}

/// `[client.plain]`.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlainFile {
    /// Default `array_mod`.
    #[serde(default)]
    pub locator: LocatorChoice,
    /// Default `native`.
    #[serde(default)]
    pub hash: HashChoice,
    /// The node skips a request whose caller has already given up, as a
    /// server honouring a propagated deadline would (the SimPy peer's
    /// `--drop-expired`). Default false: memcached does not know.
    #[serde(default)]
    pub drop_expired: bool,
}

/// spymemcached's failure modes (§4).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// New ops for an inactive node go to the next active node (default).
    #[default]
    Redistribute,
    /// New ops for an inactive node queue on it until it reconnects.
    Retry,
    /// New ops for an inactive node are cancelled at once.
    Cancel,
}

/// `[client.spymemcached]`: defaults of spymemcached 2.12.3
/// (`DefaultConnectionFactory`, `shared/reference/spymemcached.md` §2.1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpymemcachedFile {
    /// `redistribute` (default), `retry` or `cancel`.
    #[serde(default)]
    pub failure_mode: FailureMode,
    /// `array_mod` (default) or `ketama`.
    #[serde(default)]
    pub locator: LocatorChoice,
    /// `native` (default) or `ketama`.
    #[serde(default)]
    pub hash: HashChoice,
    /// As passed to `setTimeoutExceptionThreshold(n)`: stored as n − 2, so the
    /// node is dropped at n − 1 consecutive timeouts. Default 1000 (trips at
    /// 999). At least 3.
    #[serde(default = "default_threshold")]
    pub timeout_exception_threshold: u32,
    /// Cap of the reconnect back-off min(cap, 2^n s). Default 30s.
    #[serde(default = "default_max_reconnect")]
    pub max_reconnect_delay: Duration,
    /// Input queue capacity per node. Default 16384.
    #[serde(default = "default_op_queue_len")]
    pub op_queue_len: u32,
    /// How long a caller blocks on a full input queue. Default 10s.
    #[serde(default = "default_op_queue_max_block")]
    pub op_queue_max_block: Duration,
    /// Send a noop at each (re)connect and block the I/O thread up to the op
    /// timeout for its reply (`net.spy.verifyAliveOnConnect`, §3.5). Default false.
    #[serde(default)]
    pub verify_alive_on_connect: bool,
    /// I/O-thread time to log one WARN line for each op discarded when a
    /// connection drops. Default 250us: the testbed measured 0.06–0.9 s for
    /// about 2,000 lines (`testbed/SETUP.md`), this is the middle of that.
    #[serde(default = "default_discard_log")]
    pub discard_log_line: Duration,
    /// Longest the I/O thread sleeps in select (`net.spy.wakeupDelay`).
    /// Default 1s.
    #[serde(default = "default_wakeup")]
    pub wakeup_delay: Duration,
}

impl Default for SpymemcachedFile {
    fn default() -> Self {
        SpymemcachedFile {
            failure_mode: FailureMode::default(),
            locator: LocatorChoice::default(),
            hash: HashChoice::default(),
            timeout_exception_threshold: default_threshold(),
            max_reconnect_delay: default_max_reconnect(),
            op_queue_len: default_op_queue_len(),
            op_queue_max_block: default_op_queue_max_block(),
            verify_alive_on_connect: false,
            discard_log_line: default_discard_log(),
            wakeup_delay: default_wakeup(),
        }
    }
}

fn default_threshold() -> u32 {
    1000
}
fn default_max_reconnect() -> Duration {
    d(30 * SEC)
}
fn default_op_queue_len() -> u32 {
    16_384
}
fn default_op_queue_max_block() -> Duration {
    d(10 * SEC)
}
fn default_discard_log() -> Duration {
    d(250 * US)
}
fn default_wakeup() -> Duration {
    d(SEC)
}

// ---------------------------------------------------------------- network

/// `[network]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// One-way latency of a hop between a client and a node. Default
    /// constant 50us (the testbed's loopback round trip was 0.1–0.3 ms).
    #[serde(default = "default_latency")]
    pub latency: DistSpec,
    /// Client socket send buffer. Default 4MiB (Linux `tcp_wmem` maximum,
    /// reached by autotuning on loopback).
    #[serde(default = "default_send_buffer")]
    pub send_buffer: Bytes,
    /// Node socket receive buffer. Default 128KiB (Linux `tcp_rmem` default;
    /// memcached does not set `SO_RCVBUF`).
    #[serde(default = "default_recv_buffer")]
    pub recv_buffer: Bytes,
    /// How long a connect to a host that does not answer takes to fail.
    /// Default 127s (Linux `tcp_syn_retries` = 6; spymemcached has no connect
    /// timer, §2.1).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: Duration,
    /// First retransmission timeout of a lost packet, doubling after each
    /// loss. Default 200ms (Linux `TCP_RTO_MIN`).
    #[serde(default = "default_rto")]
    pub rto: Duration,
    /// Cap of the retransmission timeout. Default 120s (Linux `TCP_RTO_MAX`).
    #[serde(default = "default_rto_max")]
    pub rto_max: Duration,
}

impl Default for NetworkFile {
    fn default() -> Self {
        NetworkFile {
            latency: default_latency(),
            send_buffer: default_send_buffer(),
            recv_buffer: default_recv_buffer(),
            connect_timeout: default_connect_timeout(),
            rto: default_rto(),
            rto_max: default_rto_max(),
        }
    }
}

fn default_latency() -> DistSpec {
    DistSpec::constant(50 * US)
}
fn default_send_buffer() -> Bytes {
    Bytes(4 << 20)
}
fn default_recv_buffer() -> Bytes {
    Bytes(128 << 10)
}
fn default_connect_timeout() -> Duration {
    d(127 * SEC)
}
fn default_rto() -> Duration {
    d(200 * MS)
}
fn default_rto_max() -> Duration {
    d(120 * SEC)
}

// ---------------------------------------------------------------- cluster

/// `[cluster]`: either one pool (`nodes = [...]` here) or several
/// (`[[cluster.pool]]`, functional cache groups). Node settings written here
/// are the defaults of every pool.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Node addresses `host:port` of the single pool.
    pub nodes: Option<Vec<String>>,
    /// memcached `-t`: worker threads per node; each connection is served by
    /// one worker, assigned round robin. Default 4.
    pub worker_threads: Option<u32>,
    /// Time a worker spends on one request. Default exponential, mean 10us
    /// (not measured on the testbed; see the README on why results do not
    /// hinge on it).
    pub service_time: Option<DistSpec>,
    /// memcached `-b`: listen backlog, shared by all clients' connects.
    /// Default 1024.
    pub backlog: Option<u32>,
    /// Every key is set on its primary node before load starts. Default false.
    pub prefill: Option<bool>,
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
}

// ---------------------------------------------------------------- database

/// `[database]`: a pool of connections (HikariCP, `service-stack.md` §6) in
/// front of a server with a service-time distribution.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// Pool size. Default 10 (HikariCP `maximumPoolSize`). 0 = no limit.
    #[serde(default = "default_db_connections")]
    pub connections: u32,
    /// Longest wait for a connection; then the request fails. Default 30s
    /// (HikariCP `connectionTimeout`).
    #[serde(default = "default_db_wait")]
    pub connection_timeout: Duration,
    /// Time of a read. Default constant 5ms (the testbed's database).
    #[serde(default = "default_db_time")]
    pub service_time: DistSpec,
    /// Time of a write. Default: `service_time`.
    pub write_time: Option<DistSpec>,
}

impl Default for DatabaseFile {
    fn default() -> Self {
        DatabaseFile {
            connections: default_db_connections(),
            connection_timeout: default_db_wait(),
            service_time: default_db_time(),
            write_time: None,
        }
    }
}

fn default_db_connections() -> u32 {
    10
}
fn default_db_wait() -> Duration {
    d(30 * SEC)
}
fn default_db_time() -> DistSpec {
    DistSpec::constant(5 * MS)
}

// ---------------------------------------------------------------- faults

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
    /// The node: index or `"host:port"`.
    pub node: NodeRef,
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
            end: FrozenEnd::Resume,
            reboot_down: default_reboot_down(),
        }
    }
}

fn default_reboot_down() -> Duration {
    d(30 * SEC)
}

/// `[fault.slow]`: either `factor` or the duty cycle `stop` + `run`.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SlowFile {
    /// Service time multiplier (> 1 slows). Default 10 when no duty cycle is given.
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
    d(5 * SEC)
}
