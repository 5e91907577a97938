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
    /// Application-level retries, retry budget and circuit breakers around
    /// each awaited cache call, with any client policy.
    #[serde(default)]
    pub resilience: ResilienceFile,
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
            resilience: ResilienceFile::default(),
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
    /// mcrouter as a sidecar proxy per service instance (reference §7).
    Mcrouter,
    /// twemproxy (nutcracker) as a sidecar proxy per service instance (§7).
    Twemproxy,
    /// pymemcache `HashClient` (§7).
    Pymemcache,
    /// libmemcached (§7).
    Libmemcached,
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
    /// Parameters of the `mcrouter` policy.
    #[serde(default)]
    pub mcrouter: McrouterFile,
    /// Parameters of the `twemproxy` policy.
    #[serde(default)]
    pub twemproxy: TwemproxyFile,
    /// Parameters of the `pymemcache` policy.
    #[serde(default)]
    pub pymemcache: PymemcacheFile,
    /// Parameters of the `libmemcached` policy.
    #[serde(default)]
    pub libmemcached: LibmemcachedFile,
}

impl Default for ClientFile {
    fn default() -> Self {
        ClientFile {
            policy: Policy::default(),
            op_timeout: default_op_timeout(),
            plain: PlainFile::default(),
            spymemcached: SpymemcachedFile::default(),
            mcrouter: McrouterFile::default(),
            twemproxy: TwemproxyFile::default(),
            pymemcache: PymemcacheFile::default(),
            libmemcached: LibmemcachedFile::default(),
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

// ---------------------------------------------------------------- other client policies
//
// Each policy's defaults are the ones `shared/reference/spymemcached.md` §7
// read in the named source; `docs/policies.md` says what each models.

fn ketama_locator() -> LocatorChoice {
    LocatorChoice::Ketama
}
fn ketama_hash() -> HashChoice {
    HashChoice::Ketama
}

/// `[client.mcrouter]`: mcrouter (facebook/mcrouter at 9d7f434,
/// `mcrouter_options_list.h`, `ProxyDestinationBase.cpp`, `TkoTracker.cpp`),
/// one sidecar per service instance.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McrouterFile {
    /// `--server-timeout` (per pool `server_timeout`): a request unanswered
    /// this long fails with `TIMEOUT`. Default 1000ms.
    #[serde(default = "default_mcrouter_timeout")]
    pub server_timeout: Duration,
    /// A connect not completed this long fails with `CONNECT_TIMEOUT`.
    /// Default: `server_timeout` (mcrouter uses the server timeout unless
    /// the pool sets `connect_timeout`).
    pub connect_timeout: Option<Duration>,
    /// `--timeouts-until-tko`: consecutive timeouts that mark a destination
    /// soft TKO. Default 3. A connect error or connect timeout marks it hard
    /// TKO at once.
    #[serde(default = "default_timeouts_until_tko")]
    pub timeouts_until_tko: u32,
    /// `--probe-timeout-initial`: delay before the first probe of a TKO
    /// destination; each next delay is ×1.5 (`kProbeExponentialFactor`) and
    /// each is stretched by a random 5–50 % (`kProbeJitterMin/Max`).
    /// Default 10s.
    #[serde(default = "default_probe_initial")]
    pub probe_delay_initial: Duration,
    /// `--probe-timeout-max`: cap of the probe delay (before the stretch).
    /// Default 60s.
    #[serde(default = "default_probe_max")]
    pub probe_delay_max: Duration,
    /// A `[[cluster.pool]]` name: the failover route (gutter pool) of a
    /// `FailoverWithExptimeRoute`. Requests whose destination is TKO or fails
    /// with a failover error go to the key's node in that pool. Default: no
    /// failover route (requests to a TKO destination fail fast).
    pub gutter: Option<String>,
    /// `failover_exptime`: sets sent to the gutter pool expire after at most
    /// this. Default 60s.
    #[serde(default = "default_failover_exptime")]
    pub failover_exptime: Duration,
    /// Fail-open guard (the per-pool `tko_tracker` thresholds): when more
    /// than this share (0–1) of a pool's destinations is TKO, requests are
    /// sent to TKO destinations anyway. Default: off.
    pub tko_threshold: Option<f64>,
    /// Key placement. Default `ketama`: the project's Ketama ring stands in
    /// for mcrouter's default `Ch3` (furc) consistent hash.
    #[serde(default = "ketama_locator")]
    pub locator: LocatorChoice,
    /// Default `ketama` (MD5).
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for McrouterFile {
    fn default() -> Self {
        McrouterFile {
            server_timeout: default_mcrouter_timeout(),
            connect_timeout: None,
            timeouts_until_tko: default_timeouts_until_tko(),
            probe_delay_initial: default_probe_initial(),
            probe_delay_max: default_probe_max(),
            gutter: None,
            failover_exptime: default_failover_exptime(),
            tko_threshold: None,
            locator: ketama_locator(),
            hash: ketama_hash(),
        }
    }
}

fn default_mcrouter_timeout() -> Duration {
    d(SEC)
}
fn default_timeouts_until_tko() -> u32 {
    3
}
fn default_probe_initial() -> Duration {
    d(10 * SEC)
}
fn default_probe_max() -> Duration {
    d(60 * SEC)
}
fn default_failover_exptime() -> Duration {
    d(60 * SEC)
}

/// `[client.twemproxy]`: twemproxy / nutcracker (twitter/twemproxy at
/// 60aaf85 = 0.5.0, `nc_conf.h`, `nc_server.c`, `nc_core.c`), one sidecar
/// per service instance with `server_connections: 1`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwemproxyFile {
    /// `timeout:` per request to a server; its expiry closes the server
    /// connection and fails every request outstanding on it. Default: none
    /// (−1 in `nc_conf.h`: waits forever). Also the connect timeout.
    pub timeout: Option<Duration>,
    /// `server_failure_limit`: consecutive failures (connection closes:
    /// error, EOF, refused connect or timeout) that eject a server when
    /// `auto_eject_hosts` is on. Default 2.
    #[serde(default = "default_twemproxy_limit")]
    pub server_failure_limit: u32,
    /// `auto_eject_hosts`. Default false.
    #[serde(default)]
    pub auto_eject_hosts: bool,
    /// `server_retry_timeout`: an ejected server is back in the ring after
    /// this. Default 30000ms.
    #[serde(default = "default_twemproxy_retry")]
    pub server_retry_timeout: Duration,
    /// Key placement. Default `ketama`: the project's Ketama ring (MD5, 160
    /// points) over the live servers stands in for twemproxy's ketama with
    /// `fnv1a_64`.
    #[serde(default = "ketama_locator")]
    pub locator: LocatorChoice,
    /// Default `ketama`.
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for TwemproxyFile {
    fn default() -> Self {
        TwemproxyFile {
            timeout: None,
            server_failure_limit: default_twemproxy_limit(),
            auto_eject_hosts: false,
            server_retry_timeout: default_twemproxy_retry(),
            locator: ketama_locator(),
            hash: ketama_hash(),
        }
    }
}

fn default_twemproxy_limit() -> u32 {
    2
}
fn default_twemproxy_retry() -> Duration {
    d(30 * SEC)
}

/// `[client.pymemcache]`: pymemcache `HashClient` (pinterest/pymemcache at
/// 3ef28ef, `pymemcache/client/hash.py`, `base.py`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PymemcacheFile {
    /// `timeout`: socket timeout of a call. Default: none (`None`: the call
    /// blocks forever). With a timeout, its expiry is a `socket.timeout`
    /// (an `OSError`) and counts as a failure.
    pub timeout: Option<Duration>,
    /// `connect_timeout`. Default: none (the OS gives up after
    /// `network.connect_timeout`).
    pub connect_timeout: Option<Duration>,
    /// `retry_attempts`: failed retries before the node is marked dead.
    /// Default 2.
    #[serde(default = "default_py_attempts")]
    pub retry_attempts: u32,
    /// `retry_timeout`: after a failure, calls return the default without
    /// trying for this long. Default 1s.
    #[serde(default = "default_py_retry")]
    pub retry_timeout: Duration,
    /// `dead_timeout`: a dead node is added back after this (checked on the
    /// next call). Default 60s.
    #[serde(default = "default_py_dead")]
    pub dead_timeout: Duration,
    /// `ignore_exc`: failures return the default (a miss) instead of raising.
    /// Default false.
    #[serde(default)]
    pub ignore_exc: bool,
    /// Key placement. Default `ketama`: the project's Ketama ring over the
    /// live nodes stands in for pymemcache's rendezvous (murmur3) hash.
    #[serde(default = "ketama_locator")]
    pub locator: LocatorChoice,
    /// Default `ketama`.
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for PymemcacheFile {
    fn default() -> Self {
        PymemcacheFile {
            timeout: None,
            connect_timeout: None,
            retry_attempts: default_py_attempts(),
            retry_timeout: default_py_retry(),
            dead_timeout: default_py_dead(),
            ignore_exc: false,
            locator: ketama_locator(),
            hash: ketama_hash(),
        }
    }
}

fn default_py_attempts() -> u32 {
    2
}
fn default_py_retry() -> Duration {
    d(SEC)
}
fn default_py_dead() -> Duration {
    d(60 * SEC)
}

/// `[client.libmemcached]`: libmemcached (awesomized 1.1.4 at 374774d, same
/// defaults and TCP failure logic as 1.0.18: `defaults.h`, `connect.cc`,
/// `io.cc`, `server.hpp`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibmemcachedFile {
    /// `MEMCACHED_BEHAVIOR_POLL_TIMEOUT` per op: its expiry closes the
    /// socket and is not counted as a failure. Default 5000ms (the code's
    /// `MEMCACHED_DEFAULT_TIMEOUT`; the docs say −1).
    #[serde(default = "default_lm_poll")]
    pub poll_timeout: Duration,
    /// `MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT`. Default 4000ms.
    #[serde(default = "default_lm_connect")]
    pub connect_timeout: Duration,
    /// `MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT`: connect failures that eject
    /// a server when `auto_eject_hosts` is on. Default 5.
    #[serde(default = "default_lm_limit")]
    pub server_failure_limit: u32,
    /// `MEMCACHED_BEHAVIOR_RETRY_TIMEOUT`: after a connect failure the server
    /// is "in timeout" this long (ops fail fast). Default 2s.
    #[serde(default = "default_lm_retry")]
    pub retry_timeout: Duration,
    /// `MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS` / `REMOVE_FAILED_SERVERS`.
    /// Default false.
    #[serde(default)]
    pub auto_eject_hosts: bool,
    /// `MEMCACHED_BEHAVIOR_DEAD_TIMEOUT`: an ejected server gets one reconnect
    /// try after this; 0 = never. Default 0.
    #[serde(default)]
    pub dead_timeout: Duration,
    /// Key placement. Default `array_mod` (libmemcached's default modula
    /// distribution); `ketama` for its ketama continuum.
    #[serde(default)]
    pub locator: LocatorChoice,
    /// Default `ketama` (MD5 stands in for libmemcached's default
    /// one-at-a-time hash: both spread keys evenly).
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for LibmemcachedFile {
    fn default() -> Self {
        LibmemcachedFile {
            poll_timeout: default_lm_poll(),
            connect_timeout: default_lm_connect(),
            server_failure_limit: default_lm_limit(),
            retry_timeout: default_lm_retry(),
            auto_eject_hosts: false,
            dead_timeout: Duration(0),
            locator: LocatorChoice::ArrayMod,
            hash: ketama_hash(),
        }
    }
}

fn default_lm_poll() -> Duration {
    d(5 * SEC)
}
fn default_lm_connect() -> Duration {
    d(4 * SEC)
}
fn default_lm_limit() -> u32 {
    5
}
fn default_lm_retry() -> Duration {
    d(2 * SEC)
}

// ---------------------------------------------------------------- application-level resilience

/// `[service.resilience]`: what the service's own code wraps around each
/// awaited cache call, whatever the client policy: retries
/// (`[service.resilience.retry]`), a retry budget (`.budget`) and circuit
/// breakers (`.breaker`). Order as resilience4j recommends: Retry around
/// CircuitBreaker around the call, so each attempt passes the breaker.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResilienceFile {
    /// Retries of failed calls.
    #[serde(default)]
    pub retry: RetryFile,
    /// A budget that caps retries.
    #[serde(default)]
    pub budget: BudgetFile,
    /// Circuit breakers.
    #[serde(default)]
    pub breaker: BreakerFile,
}

/// Wait growth between attempts.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// `wait` before every retry (resilience4j's default `IntervalFunction`).
    #[default]
    Fixed,
    /// min(`max_wait`, `wait` × `multiplier`^(n − 1)) before retry n.
    Exponential,
}

/// Randomisation of the wait (the AWS Architecture Blog's "Exponential
/// Backoff And Jitter", 2015).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// The wait as computed.
    #[default]
    None,
    /// uniform(0, wait).
    Full,
    /// wait/2 + uniform(0, wait/2).
    Equal,
    /// min(`max_wait`, uniform(`wait`, 3 × previous sleep)), the first
    /// previous sleep being `wait`.
    Decorrelated,
}

/// `[service.resilience.retry]`: resilience4j Retry 2.x defaults
/// (`RetryConfig`, `shared/reference/service-stack.md` §7). The caller's
/// thread sleeps between attempts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// `maxAttempts`, the first call included. Default 3.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// `waitDuration`: the base wait. Default 500ms.
    #[serde(default = "default_retry_wait")]
    pub wait: Duration,
    /// `fixed` (default) or `exponential`.
    #[serde(default)]
    pub backoff: Backoff,
    /// Growth factor of `exponential`. Default 2 (the AWS formula's 2^n).
    #[serde(default = "default_multiplier")]
    pub multiplier: f64,
    /// Cap of a wait. Default: none.
    pub max_wait: Option<Duration>,
    /// `none` (default), `full`, `equal` or `decorrelated`.
    #[serde(default)]
    pub jitter: Jitter,
}

impl Default for RetryFile {
    fn default() -> Self {
        RetryFile {
            enabled: false,
            max_attempts: default_max_attempts(),
            wait: default_retry_wait(),
            backoff: Backoff::Fixed,
            multiplier: default_multiplier(),
            max_wait: None,
            jitter: Jitter::None,
        }
    }
}

fn default_max_attempts() -> u32 {
    3
}
fn default_retry_wait() -> Duration {
    d(500 * MS)
}
fn default_multiplier() -> f64 {
    2.0
}

/// `[service.resilience.budget]`: a retry budget per service instance, as
/// Finagle's `RetryBudget` (defaults `ttl` 10 s, `minRetriesPerSec` 10,
/// `percentCanRetry` 0.2): each first attempt deposits `ratio` tokens, each
/// retry withdraws one, deposits expire after `ttl`, and a reserve of
/// `min_per_sec` × `ttl` tokens is always there. A retry the budget refuses
/// is not made: the caller gets the failure.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// Retries allowed per call. Default 0.2.
    #[serde(default = "default_budget_ratio")]
    pub ratio: f64,
    /// Retries allowed per second regardless of calls. Default 10.
    #[serde(default = "default_budget_min")]
    pub min_per_sec: f64,
    /// How long a deposit lasts. Default 10s.
    #[serde(default = "default_budget_ttl")]
    pub ttl: Duration,
}

impl Default for BudgetFile {
    fn default() -> Self {
        BudgetFile {
            enabled: false,
            ratio: default_budget_ratio(),
            min_per_sec: default_budget_min(),
            ttl: default_budget_ttl(),
        }
    }
}

fn default_budget_ratio() -> f64 {
    0.2
}
fn default_budget_min() -> f64 {
    10.0
}
fn default_budget_ttl() -> Duration {
    d(10 * SEC)
}

/// What a breaker guards.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BreakerScope {
    /// One breaker per service instance for all its cache calls.
    #[default]
    Client,
    /// One breaker per instance and cache node (the key's primary).
    Node,
    /// Both: a call must pass its node's breaker and the instance's.
    Both,
}

/// `[service.resilience.breaker]`: resilience4j CircuitBreaker 2.x defaults
/// (`CircuitBreakerConfig`, `service-stack.md` §7).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// `client` (default), `node` or `both`.
    #[serde(default)]
    pub scope: BreakerScope,
    /// `failureRateThreshold`, percent. Default 50.
    #[serde(default = "default_failure_rate")]
    pub failure_rate_threshold: f64,
    /// `slowCallRateThreshold`, percent. Default 100.
    #[serde(default = "default_slow_rate")]
    pub slow_call_rate_threshold: f64,
    /// `slowCallDurationThreshold`. Default 60s.
    #[serde(default = "default_slow_duration")]
    pub slow_call_duration_threshold: Duration,
    /// `slidingWindowSize` (COUNT_BASED). Default 100.
    #[serde(default = "default_window")]
    pub sliding_window_size: u32,
    /// `minimumNumberOfCalls` (capped at the window size). Default 100.
    #[serde(default = "default_window")]
    pub minimum_number_of_calls: u32,
    /// `waitDurationInOpenState`. Default 60s.
    #[serde(default = "default_open_wait")]
    pub wait_duration_in_open_state: Duration,
    /// `permittedNumberOfCallsInHalfOpenState`. Default 10.
    #[serde(default = "default_half_open")]
    pub permitted_number_of_calls_in_half_open_state: u32,
}

impl Default for BreakerFile {
    fn default() -> Self {
        BreakerFile {
            enabled: false,
            scope: BreakerScope::Client,
            failure_rate_threshold: default_failure_rate(),
            slow_call_rate_threshold: default_slow_rate(),
            slow_call_duration_threshold: default_slow_duration(),
            sliding_window_size: default_window(),
            minimum_number_of_calls: default_window(),
            wait_duration_in_open_state: default_open_wait(),
            permitted_number_of_calls_in_half_open_state: default_half_open(),
        }
    }
}

fn default_failure_rate() -> f64 {
    50.0
}
fn default_slow_rate() -> f64 {
    100.0
}
fn default_slow_duration() -> Duration {
    d(60 * SEC)
}
fn default_window() -> u32 {
    100
}
fn default_open_wait() -> Duration {
    d(60 * SEC)
}
fn default_half_open() -> u32 {
    10
}
