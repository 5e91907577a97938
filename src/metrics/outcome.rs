//! The outcome of a request and of a cache operation.

use serde::Serialize;

/// How a request ended. Every offered request ends in exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Admitted and done within the SLO (from the cache or through the database).
    Succeeded,
    /// Done, but after the SLO.
    Late,
    /// Refused by a full queue or connection limit.
    Rejected,
    /// A front-end timeout answered the user (HAProxy 503 from the queue, 504).
    TimedOut,
    /// An error reached the user (e.g. the database pool timed out).
    Failed,
    /// Still in flight when the drain ended.
    Unfinished,
}

impl Outcome {
    /// All outcomes, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Succeeded,
        Outcome::Late,
        Outcome::Rejected,
        Outcome::TimedOut,
        Outcome::Failed,
        Outcome::Unfinished,
    ];

    /// Position in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Late => "late",
            Outcome::Rejected => "rejected",
            Outcome::TimedOut => "timed_out",
            Outcome::Failed => "failed",
            Outcome::Unfinished => "unfinished",
        }
    }
}

/// What a request met on its way, for the per-window shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestFlags(pub u8);

impl RequestFlags {
    /// Met at least one cache `timeout` or `unsent_timeout`.
    pub const CACHE_TIMEOUT: u8 = 1;
    /// Met at least one cache `cancelled`, `queue_full` or `error`.
    pub const CACHE_CANCEL: u8 = 2;
    /// Met at least one miss.
    pub const MISS: u8 = 4;
    /// Went to the database.
    pub const DATABASE: u8 = 8;
    /// Read a stale value from the cache.
    pub const STALE: u8 = 16;

    /// Whether `flag` is set.
    #[inline]
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// Sets `flag`.
    #[inline]
    pub fn set(&mut self, flag: u8) {
        self.0 |= flag;
    }

    /// A request is "bad" when it did not succeed or met a cache error.
    pub fn met_cache_error(self) -> bool {
        self.has(Self::CACHE_TIMEOUT | Self::CACHE_CANCEL)
    }
}

/// What the caller of a cache operation saw (or, for a fire-and-forget
/// operation, its final fate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A get found the key.
    Hit,
    /// A get did not find the key.
    Miss,
    /// A set, touch or delete was acknowledged.
    Stored,
    /// The caller's timeout expired after the op was written.
    Timeout,
    /// The op timed out before it was ever written.
    UnsentTimeout,
    /// The op was cancelled (connection dropped, failure mode Cancel).
    Cancelled,
    /// The op could not be queued (input queue full, bulkhead full).
    QueueFull,
    /// Any other error (connection refused or reset, server error).
    Error,
}

/// Cache operation counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    /// Gets that found the key.
    pub hit: u64,
    /// Gets that did not.
    pub miss: u64,
    /// Sets, touches and deletes acknowledged.
    pub stored: u64,
    /// Timed out after being written.
    pub timeout: u64,
    /// Timed out before being written.
    pub unsent_timeout: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Sent to a node other than the key's primary (Redistribute); counted
    /// beside the outcome, not instead of it.
    pub redirected: u64,
    /// Refused by a full queue.
    pub queue_full: u64,
    /// Other errors.
    pub error: u64,
    /// Still pending when the run ended.
    pub unfinished: u64,
}

impl CacheCounts {
    /// Counts one outcome.
    #[inline]
    pub fn add(&mut self, o: CacheOutcome) {
        match o {
            CacheOutcome::Hit => self.hit += 1,
            CacheOutcome::Miss => self.miss += 1,
            CacheOutcome::Stored => self.stored += 1,
            CacheOutcome::Timeout => self.timeout += 1,
            CacheOutcome::UnsentTimeout => self.unsent_timeout += 1,
            CacheOutcome::Cancelled => self.cancelled += 1,
            CacheOutcome::QueueFull => self.queue_full += 1,
            CacheOutcome::Error => self.error += 1,
        }
    }

    /// Ops with an outcome (everything but `redirected`).
    pub fn ended(&self) -> u64 {
        self.hit
            + self.miss
            + self.stored
            + self.timeout
            + self.unsent_timeout
            + self.cancelled
            + self.queue_full
            + self.error
            + self.unfinished
    }

    /// Adds another set of counters.
    pub fn merge(&mut self, o: &CacheCounts) {
        self.hit += o.hit;
        self.miss += o.miss;
        self.stored += o.stored;
        self.timeout += o.timeout;
        self.unsent_timeout += o.unsent_timeout;
        self.cancelled += o.cancelled;
        self.redirected += o.redirected;
        self.queue_full += o.queue_full;
        self.error += o.error;
        self.unfinished += o.unfinished;
    }
}
