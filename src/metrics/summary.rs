//! The run summary (`summary.json`). Field names are fixed: scripts read them.

use serde::Serialize;

use super::outcome::CacheCounts;
use super::timeline::Percentiles;

/// Counts of request outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// The sum of the six outcomes.
    pub offered: u64,
    /// Admitted and done within the SLO.
    pub succeeded: u64,
    /// Done after the SLO.
    pub late: u64,
    /// Refused by a full queue.
    pub rejected: u64,
    /// Answered by a front-end timeout.
    pub timed_out: u64,
    /// An error reached the user.
    pub failed: u64,
    /// In flight when the run ended.
    pub unfinished: u64,
}

impl RequestCounts {
    /// The six outcomes, in the order above: succeeded, late, rejected, timed
    /// out, failed, unfinished (their sum is `offered`).
    pub fn outcomes(&self) -> [u64; 6] {
        [
            self.succeeded,
            self.late,
            self.rejected,
            self.timed_out,
            self.failed,
            self.unfinished,
        ]
    }
}

/// A window of the run by arrival time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Window {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Requests that arrived in the window.
    pub offered: u64,
    /// Their outcomes.
    pub requests: RequestCounts,
    /// succeeded / offered.
    pub success_ratio: f64,
    /// rejected / offered.
    pub rejected_ratio: f64,
    /// timed_out / offered.
    pub timed_out_ratio: f64,
    /// failed / offered.
    pub failed_ratio: f64,
    /// late / offered.
    pub late_ratio: f64,
    /// Share that met at least one cache timeout or unsent timeout.
    pub cache_timeout_ratio: f64,
    /// Share that met at least one cancellation, queue-full or error.
    pub cache_cancel_ratio: f64,
    /// Share that met at least one miss.
    pub miss_ratio: f64,
    /// Share that read a stale value.
    pub stale_ratio: f64,
    /// Requests answered after the SLO.
    pub over_slo: u64,
    /// Latency of the requests the service answered.
    pub latency_ms: Percentiles,
}

/// The three windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Windows {
    /// Warm-up end to the first fault start (or to the end of arrivals).
    pub steady: Window,
    /// First fault start to last fault end.
    pub fault: Window,
    /// Last fault end to the end of arrivals.
    pub recovery: Window,
}

/// Whether the system came back after the last fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictState {
    /// The model has no trigger.
    #[default]
    NoFault,
    /// Good from some time after the last fault to the end of arrivals.
    Recovered,
    /// Still bad at the end of arrivals.
    Stuck,
}

/// The figures of the last loaded seconds of a run (up to the verdict's
/// hold time before the end of arrivals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Tail {
    /// Length of the tail, seconds.
    pub seconds: f64,
    /// Requests offered per second.
    pub offered_per_sec: f64,
    /// Requests succeeded per second (goodput).
    pub goodput_per_sec: f64,
    /// Succeeded / ended.
    pub success_ratio: f64,
    /// Database calls per second, retries included.
    pub db_calls_per_sec: f64,
    /// Database calls per request offered.
    pub db_amplification: f64,
    /// Database queries holding or waiting for a connection at the end.
    pub db_in_flight: u64,
    /// Cache hits / (hits + misses).
    pub cache_hit_ratio: f64,
}

/// `verdict` of `summary.json`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// `recovered`, `stuck` or `no_fault`.
    pub state: VerdictState,
    /// 1 when stuck, else 0 (a sweep's mean is the share of stuck runs).
    pub stuck: f64,
    /// From the last fault end to the start of the good stretch, seconds.
    pub recovered_s: Option<f64>,
    /// The last loaded seconds.
    pub tail: Tail,
}

/// Database figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DbSummary {
    /// Most queries running or waiting at once.
    pub peak_in_flight: u64,
    /// Most queries waiting for a connection at once.
    pub peak_waiting: u64,
    /// Queries run.
    pub queries: u64,
    /// Waits that hit the connection timeout.
    pub wait_timeouts: u64,
    /// Calls made, retries included.
    pub calls: u64,
    /// Calls whose caller's deadline passed first.
    pub deadline_exceeded: u64,
    /// Queries killed at their caller's deadline.
    pub killed: u64,
    /// Queries refused (server queue full, or server unavailable).
    pub refused: u64,
    /// Queries that ran to their end after their caller had left.
    pub wasted: u64,
    /// Retries of failed calls.
    pub retries: u64,
    /// Queries that started slowed down: above the load knee, under
    /// contention, in a `db_slow` fault or a cold cache after a failover
    /// (the database tipped).
    pub slowed: u64,
}

/// What the nodes' item memory did, over all nodes (`sim::memory`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct MemorySummary {
    /// Gets served by a node that found their key, over all gets served.
    pub hit_ratio: f64,
    /// Sets stored (the prefill not counted).
    pub fills: u64,
    /// Live items dropped to make room (LRU).
    pub evictions: u64,
    /// Items dropped because their TTL had passed.
    pub expired: u64,
    /// Items dropped by `flush_all` (flush triggers).
    pub flushed: u64,
    /// Gets that found their key leased to another reader.
    pub lease_waits: u64,
    /// Of those, answered with a stale value.
    pub stale_served: u64,
    /// Items held when the run ended.
    pub items: u64,
}

/// Client figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ClientSummary {
    /// Connection drops after the continuous-timeout threshold.
    pub trips: u64,
    /// Time of the first such drop, seconds.
    pub first_trip_s: Option<f64>,
    /// Connections lost for any reason.
    pub connections_lost: u64,
    /// Successful (re)connects after the first.
    pub reconnects: u64,
    /// Gets that returned a value older than the database's.
    pub stale_reads: u64,
    /// Times a client or proxy took a node out of its rotation: spymemcached
    /// trips, twemproxy and libmemcached ejections, pymemcache dead-markings,
    /// mcrouter TKOs (`NodeEventKind::is_ejection`).
    pub ejections: u64,
    /// Time of the first ejection, seconds.
    pub first_ejection_s: Option<f64>,
    /// Times a client marked a node failed short of ejecting it: pymemcache
    /// "failed" (first failure, failed retries), libmemcached "in timeout".
    pub marked_failed: u64,
}

/// One node's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeSummary {
    /// Address.
    pub name: String,
    /// Pool name.
    pub pool: String,
    /// Requests processed.
    pub served: u64,
    /// Requests skipped because their caller had given up (deadline propagation).
    pub expired: u64,
    /// Mean wait from arrival at the node to the start of service, ms.
    pub mean_wait_ms: f64,
    /// Longest queue seen.
    pub peak_queue: u64,
    /// Share of the run the workers were busy.
    pub utilization: f64,
}

/// `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Model name.
    pub model: String,
    /// The model's main parameters, for titles and tables.
    pub parameters: std::collections::BTreeMap<String, String>,
    /// Seed.
    pub seed: u64,
    /// Simulated time, seconds.
    pub simulated_s: f64,
    /// Handler calls (skipped cancelled timers not counted).
    pub events: u64,
    /// Outcomes of all requests.
    pub requests: RequestCounts,
    /// Latency of all requests the service answered.
    pub latency_ms: Percentiles,
    /// Requests answered after the SLO.
    pub over_slo: u64,
    /// Cache operations.
    pub cache_ops: CacheCounts,
    /// The nodes' item memory.
    pub memory: MemorySummary,
    /// By arrival time.
    pub windows: Windows,
    /// From the first fault start to the first bad request's end, seconds.
    pub first_bad_s: Option<f64>,
    /// From the last fault end to recovery (no later bucket under load over
    /// 1 % bad), seconds; null if the last bucket under load was bad.
    pub recovery_s: Option<f64>,
    /// Highest share of not-succeeded requests in one bucket.
    pub peak_bucket_error_ratio: f64,
    /// Recovered, stuck, or no fault, by a stated criterion.
    pub verdict: Verdict,
    /// Database.
    pub db: DbSummary,
    /// Client.
    pub client: ClientSummary,
    /// Nodes.
    pub nodes: Vec<NodeSummary>,
}
