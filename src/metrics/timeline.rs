//! One row of the timeline: a bucket of simulated time.

use super::outcome::CacheCounts;
use crate::engine::Nanos;

/// A node's state at the end of a bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct NodeGauge {
    /// Requests at the node: queued at its workers or in service.
    pub queue: u64,
    /// Requests queued in clients for this node (input + write queues) plus
    /// written but unanswered ones.
    pub client_backlog: u64,
    /// 0 up, 1 frozen, 2 down, 3 host down (reboot), 4 slow, 5 partitioned, 6 lossy,
    /// 7 delayed, 8 erroring.
    pub state: u8,
    /// Share of clients that see the node active.
    pub active_share: f64,
}

/// Latency percentiles of a set of requests, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    /// Requests measured.
    #[serde(skip)]
    pub count: u64,
    /// Exact mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Exact maximum.
    pub max: f64,
}

/// Counters of one bucket. Offered counts by arrival time; outcomes, latency
/// and cache operations by completion time; gauges are sampled at the end of
/// the bucket.
#[derive(Clone, Debug, Default)]
pub struct TimelineRow {
    /// Bucket start.
    pub start: Nanos,
    /// Bucket end (the run's end for the last bucket).
    pub end: Nanos,
    /// Requests that arrived.
    pub offered: u64,
    /// Succeeded without touching the database.
    pub succeeded_cache: u64,
    /// Succeeded through the database.
    pub succeeded_db: u64,
    /// Done after the SLO.
    pub late: u64,
    /// Rejected.
    pub rejected: u64,
    /// Answered by a front-end timeout.
    pub timed_out: u64,
    /// Failed.
    pub failed: u64,
    /// Still in flight at the end of the run (last bucket only).
    pub unfinished: u64,
    /// Answered after the SLO.
    pub over_slo: u64,
    /// Latency of requests the service answered in this bucket.
    pub latency: Percentiles,
    /// Cache operations that ended in this bucket.
    pub cache: CacheCounts,
    /// Busy executor threads, all instances.
    pub busy_threads: u64,
    /// Requests waiting in executor queues.
    pub exec_queue: u64,
    /// Requests waiting in the front end's queue.
    pub frontend_queue: u64,
    /// Database queries running or waiting for a connection.
    pub db_in_flight: u64,
    /// Mean database latency (wait + query) of queries that ended, ms.
    pub db_latency_ms: f64,
    /// Client connection drops after the continuous-timeout threshold.
    pub trips: u64,
    /// One gauge per node.
    pub nodes: Vec<NodeGauge>,
}

impl TimelineRow {
    /// Requests that succeeded.
    pub fn succeeded(&self) -> u64 {
        self.succeeded_cache + self.succeeded_db
    }

    /// Requests that ended in this bucket (every outcome).
    pub fn ended(&self) -> u64 {
        self.succeeded()
            + self.late
            + self.rejected
            + self.timed_out
            + self.failed
            + self.unfinished
    }
}
