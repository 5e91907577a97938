//! A latency histogram of fixed size (HDR, 3 significant digits, microsecond
//! resolution up to a day) with an exact mean kept beside it, so textbook
//! checks of the mean are not blurred by bucketing.

use std::cell::RefCell;

use hdrhistogram::Histogram;

use crate::engine::Nanos;

/// Largest latency the histogram resolves: one day, in microseconds.
const MAX_US: u64 = 86_400_000_000;

/// Latencies of a set of requests.
///
/// A request's latency is counted in a flat array laid out exactly as the
/// HDR histogram's own counts (the same bucket and sub-bucket of each value,
/// computed in a few instructions, with no range checks or min/max upkeep);
/// the counts are added to the `hdrhistogram::Histogram` in one pass when the
/// histogram is read, each as the lowest value of its bin. Every figure read
/// from an HDR histogram (quantiles, the share above a value, merges, the
/// maximum and minimum it reports) depends only on the counts per bin, so
/// the results are those of recording each value directly
/// (`deferred_counts_give_the_same_histogram` below).
#[derive(Clone)]
pub struct LatencyHistogram {
    inner: RefCell<Inner>,
    layout: Layout,
    sum_ns: u128,
    count: u64,
    max_ns: Nanos,
}

#[derive(Clone)]
struct Inner {
    hist: Histogram<u64>,
    /// Counts not yet added to `hist`, by the histogram's own index.
    pending: Vec<u32>,
    /// The indices of `pending` that are not zero.
    touched: Vec<u32>,
    /// True when counts were added to `hist` since it was last reset; while
    /// false, every count is in `pending` and quantiles are read from there
    /// (a timeline bucket's histogram never needs `hist` at all, so closing
    /// a bucket neither scans nor clears its thousands of bins).
    in_hist: bool,
}

/// Where the HDR histogram (lowest value 1, `digits` significant digits)
/// puts a value: the same arithmetic as `hdrhistogram` 7.6's `index_for`.
#[derive(Clone, Copy)]
struct Layout {
    /// 64 − log2(sub-bucket count).
    leading_zero_base: u32,
    /// Sub-bucket count − 1.
    mask: u64,
    /// log2(sub-bucket count / 2).
    half_magnitude: u32,
}

impl Layout {
    fn new(digits: u8) -> Self {
        // As hdrhistogram computes it: the power of two at or above
        // 2 × 10^digits.
        let largest = 2 * 10_u32.pow(u32::from(digits));
        let magnitude = f64::from(largest).log2().ceil() as u32;
        Layout {
            leading_zero_base: 64 - magnitude,
            mask: (1u64 << magnitude) - 1,
            half_magnitude: magnitude - 1,
        }
    }

    #[inline(always)]
    fn index(self, value: u64) -> usize {
        let bucket = self.leading_zero_base - (value | self.mask).leading_zeros();
        let sub = value >> bucket;
        (((bucket as u64 + 1) << self.half_magnitude) + sub - (1u64 << self.half_magnitude))
            as usize
    }

    /// The highest value of the bin whose lowest value is `v`
    /// (`Histogram::highest_equivalent`, lowest value 1).
    fn highest(self, v: u64) -> u64 {
        let bucket = self.leading_zero_base - (v | self.mask).leading_zeros();
        v.saturating_add(1u64 << bucket) - 1
    }

    /// The lowest value of index `i`'s bin.
    fn value(self, i: usize) -> u64 {
        let half = 1u64 << self.half_magnitude;
        let bucket = (i >> self.half_magnitude) as i64 - 1;
        let sub = (i as u64 & (half - 1)) + half;
        if bucket < 0 {
            sub - half
        } else {
            sub << bucket
        }
    }
}

impl Inner {
    /// Adds the pending counts to the histogram.
    fn flush(&mut self, layout: Layout) {
        self.in_hist |= !self.touched.is_empty();
        for &i in &self.touched {
            let n = std::mem::take(&mut self.pending[i as usize]);
            self.hist
                .saturating_record_n(layout.value(i as usize), u64::from(n));
        }
        self.touched.clear();
    }
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
        let layout = Layout::new(digits);
        LatencyHistogram {
            inner: RefCell::new(Inner {
                hist: Histogram::new_with_max(MAX_US, digits).expect("valid HDR bounds"),
                pending: vec![0; layout.index(MAX_US) + 1],
                touched: Vec::new(),
                in_hist: false,
            }),
            layout,
            sum_ns: 0,
            count: 0,
            max_ns: 0,
        }
    }

    /// Records one latency.
    #[inline(always)]
    pub fn record(&mut self, ns: Nanos) {
        let us = ((ns + 500) / 1_000).min(MAX_US);
        let i = self.layout.index(us);
        let inner = self.inner.get_mut();
        let c = &mut inner.pending[i];
        if *c == 0 {
            inner.touched.push(i as u32);
        } else if *c == u32::MAX {
            inner.flush(self.layout);
            inner.touched.push(i as u32);
        }
        inner.pending[i] += 1;
        self.sum_ns += ns as u128;
        self.count += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    /// The HDR histogram with every count added.
    fn hist(&self) -> std::cell::Ref<'_, Histogram<u64>> {
        self.inner.borrow_mut().flush(self.layout);
        std::cell::Ref::map(self.inner.borrow(), |i| &i.hist)
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
        if self.inner.borrow().in_hist {
            return self.hist().value_at_quantile(q) as f64 / 1e3;
        }
        self.pending_quantile(&mut self.inner.borrow_mut(), q) as f64 / 1e3
    }

    /// `Histogram::value_at_quantile` read from the pending counts alone
    /// (the HDR histogram holds none): the first bin, in value order, at
    /// which the running count reaches ⌈q × total⌉ (at least 1), reported as
    /// the bin's highest value (its lowest for q = 0). The same bins and
    /// counts give the same answer (`deferred_counts_give_the_same_histogram`).
    fn pending_quantile(&self, inner: &mut Inner, q: f64) -> u64 {
        let q = if q > 1.0 { 1.0 } else { q };
        let target = ((q * self.count as f64).ceil() as u64).max(1);
        inner.touched.sort_unstable();
        let mut total = 0u64;
        for &i in &inner.touched {
            total += u64::from(inner.pending[i as usize]);
            if total >= target {
                let v = self.layout.value(i as usize);
                return if q == 0.0 { v } else { self.layout.highest(v) };
            }
        }
        0
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
        let at_or_below = self.hist().count_between(0, us);
        1.0 - at_or_below as f64 / self.count as f64
    }

    /// Empties the histogram, keeping its memory.
    pub fn reset(&mut self) {
        let inner = self.inner.get_mut();
        for &i in &inner.touched {
            inner.pending[i as usize] = 0;
        }
        inner.touched.clear();
        if inner.in_hist {
            inner.hist.reset();
            inner.in_hist = false;
        }
        self.sum_ns = 0;
        self.count = 0;
        self.max_ns = 0;
    }

    /// Adds another histogram's contents.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        let layout = self.layout;
        let inner = self.inner.get_mut();
        inner.flush(layout);
        let _ = inner.hist.add(&*other.hist());
        inner.in_hist = true;
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

    /// Counting by index and adding the counts at the read gives the HDR
    /// histogram that recording each value directly gives: the same counts,
    /// total, minimum and maximum (`Histogram`'s equality), hence the same
    /// quantiles; at both precisions, over the whole range, across resets
    /// and merges.
    #[test]
    fn deferred_counts_give_the_same_histogram() {
        use rand::RngExt;
        let mut rng = crate::engine::stream(7, "histogram-test");
        for digits in [2u8, 3] {
            let layout = Layout::new(digits);
            let mut direct = Histogram::<u64>::new_with_max(MAX_US, digits).unwrap();
            let mut h = LatencyHistogram::with_precision(digits);
            let mut other = LatencyHistogram::with_precision(digits);
            let mut other_direct = Histogram::<u64>::new_with_max(MAX_US, digits).unwrap();
            for round in 0..3 {
                for k in 0..20_000u32 {
                    // Values of every magnitude, bin edges included.
                    let us = match k % 4 {
                        0 => rng.random_range(0..5_000u64),
                        1 => 1u64 << rng.random_range(0..37u32),
                        2 => (1u64 << rng.random_range(1..37u32)) - 1,
                        _ => rng.random_range(0..=MAX_US),
                    };
                    let ns = us * 1_000;
                    if k % 3 == 0 {
                        other.record(ns);
                        other_direct.saturating_record(us);
                    } else {
                        h.record(ns);
                        direct.saturating_record(us);
                    }
                    let i = layout.index(us);
                    assert_eq!(layout.index(layout.value(i)), i, "value {us}");
                    assert!(layout.value(i) <= us);
                }
                // Quantiles read from the pending counts (nothing added to
                // the HDR histogram yet in rounds 0 and 2) and from the HDR
                // histogram (after the read below) agree with direct
                // recording.
                let qs = [0.0, 1e-6, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0, 1.5];
                let fresh = !h.inner.borrow().in_hist;
                assert_eq!(fresh, round != 1, "round {round}");
                for q in qs {
                    assert_eq!(h.quantile_ms(q), direct.value_at_quantile(q) as f64 / 1e3);
                }
                assert!(*h.hist() == direct, "digits {digits}, round {round}");
                for q in qs {
                    assert_eq!(h.quantile_ms(q), direct.value_at_quantile(q) as f64 / 1e3);
                }
                h.merge(&other);
                direct.add(&other_direct).unwrap();
                assert!(*h.hist() == direct);
                if round == 1 {
                    h.reset();
                    direct.reset();
                }
            }
        }
    }
}
