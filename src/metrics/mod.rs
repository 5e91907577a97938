//! What a run records: per-bucket counters and latency histograms (the
//! timeline), per-window counters by arrival time, and the run summary.
//! Everything streams into fixed-size accumulators, so memory does not grow
//! with simulated time.

pub mod histogram;
pub mod outcome;
pub mod recorder;
pub mod summary;
pub mod timeline;

pub use histogram::LatencyHistogram;
pub use outcome::{CacheCounts, CacheOutcome, Outcome, RequestFlags};
pub use recorder::{Gauges, Recorder};
pub use summary::Summary;
pub use timeline::{NodeGauge, TimelineRow};
