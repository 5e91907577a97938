//! A latency histogram of fixed size (HDR, 3 significant digits, microsecond
//! resolution up to a day) with an exact mean kept beside it, so textbook
//! checks of the mean are not blurred by bucketing.

use hdrhistogram::Histogram;

use crate::engine::Nanos;

/// Largest latency the histogram resolves: one day, in microseconds.
const MAX_US: u64 = 86_400_000_000;

/// Latencies of a set of requests.
#[derive(Clone)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    sum_ns: u128,
    count: u64,
    max_ns: Nanos,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LatencyHistogram(n={}, mean={:.3}ms)",
            self.count,
            self.mean_ms()
        )
    }
}

impl LatencyHistogram {
    /// An empty histogram with 3 significant digits.
    pub fn new() -> Self {
        Self::with_precision(3)
    }

    /// An empty histogram with `digits` significant digits (2 is 1 %
    /// resolution at an eighth of the memory and reset cost of 3).
    pub fn with_precision(digits: u8) -> Self {
        LatencyHistogram {
            hist: Histogram::new_with_max(MAX_US, digits).expect("valid HDR bounds"),
            sum_ns: 0,
            count: 0,
            max_ns: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: Nanos) {
        let us = (ns + 500) / 1_000;
        self.hist.saturating_record(us.min(MAX_US));
        self.sum_ns += ns as u128;
        self.count += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean in milliseconds (0 when empty).
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum_ns as f64 / self.count as f64 / 1e6
    }

    /// The q-quantile in milliseconds (0 when empty).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.hist.value_at_quantile(q) as f64 / 1e3
    }

    /// Exact maximum in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.max_ns as f64 / 1e6
    }

    /// Share of recorded latencies above `ms` (to the histogram's resolution).
    pub fn share_above_ms(&self, ms: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let us = (ms * 1e3).round() as u64;
        let at_or_below = self.hist.count_between(0, us);
        1.0 - at_or_below as f64 / self.count as f64
    }

    /// Empties the histogram, keeping its memory.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.sum_ns = 0;
        self.count = 0;
        self.max_ns = 0;
    }

    /// Adds another histogram's contents.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        let _ = self.hist.add(&other.hist);
        self.sum_ns += other.sum_ns;
        self.count += other.count;
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mean_and_close_quantiles() {
        let mut h = LatencyHistogram::new();
        for i in 1..=1000u64 {
            h.record(i * 1_000_000);
        }
        assert!((h.mean_ms() - 500.5).abs() < 1e-9);
        assert!((h.quantile_ms(0.5) - 500.0).abs() <= 0.5);
        assert!((h.quantile_ms(0.99) - 990.0).abs() <= 1.0);
        assert_eq!(h.max_ms(), 1000.0);
        assert!((h.share_above_ms(900.0) - 0.1).abs() < 0.002);
        h.reset();
        assert_eq!(h.count(), 0);
        assert_eq!(h.quantile_ms(0.99), 0.0);
    }
}
