//! Open-loop arrivals (Poisson or constant gaps, with an optional piecewise
//! rate schedule) and the choice of each request's flow and key seed.
//!
//! Arrivals, flow choices and key seeds each draw from their own stream, so
//! every configuration run with the same seed meets the same requests.

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::config::{ArrivalKind, WorkloadConfig};
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// The arrival process.
#[derive(Clone)]
pub struct Arrivals {
    kind: ArrivalKind,
    /// (from, rate per second).
    rates: Vec<(Nanos, f64)>,
    segment: usize,
    /// Constant gaps: arrivals so far in the current segment.
    k: u64,
    end: Nanos,
    rng: ChaCha8Rng,
}

impl Arrivals {
    /// Arrivals until `end`.
    pub fn new(w: &WorkloadConfig, end: Nanos, rng: ChaCha8Rng) -> Self {
        Arrivals {
            kind: w.arrival,
            rates: w.rates.clone(),
            segment: 0,
            k: 0,
            end,
            rng,
        }
    }

    fn segment_end(&self, s: usize) -> Nanos {
        self.rates
            .get(s + 1)
            .map_or(self.end, |r| r.0.min(self.end))
    }

    /// The first arrival at or after `now` (`now` being the previous arrival,
    /// or 0), or `None` when arrivals have ended.
    pub fn next(&mut self, now: Nanos) -> Option<Nanos> {
        loop {
            let (start, rate) = *self.rates.get(self.segment)?;
            let seg_end = self.segment_end(self.segment);
            if rate > 0.0 {
                let t = match self.kind {
                    ArrivalKind::Constant => {
                        // Request k of the segment at start + k / rate, computed
                        // from k so rounding does not accumulate.
                        let t =
                            start.saturating_add(round_to_nanos(self.k as f64 * SEC as f64 / rate));
                        self.k += 1;
                        t
                    }
                    ArrivalKind::Poisson => {
                        let gap: f64 = Exp1.sample(&mut self.rng);
                        // A tiny rate makes the gap saturate at u64::MAX:
                        // add without wrapping back into the past.
                        now.max(start)
                            .saturating_add(round_to_nanos(gap * SEC as f64 / rate))
                    }
                };
                if t < seg_end {
                    return Some(t);
                }
            }
            // Memoryless (Poisson) or restarted (constant) at the boundary.
            self.segment += 1;
            self.k = 0;
            if self.segment >= self.rates.len() || self.rates[self.segment].0 >= self.end {
                return None;
            }
        }
    }
}

/// `x.round() as Nanos` (half away from zero, saturating; NaN and negative
/// values give 0), computed inline: `f64::round` is a call into the
/// compiler's libm (about 25 instructions) on targets without SSE4.1, once
/// per arrival. Below 2^52 the truncation and the fraction `x - trunc(x)`
/// are exact, so the fraction decides exactly as `round` does; from 2^52 up
/// every double is an integer and rounds to itself
/// (`inline_rounding_equals_f64_round`).
#[inline(always)]
fn round_to_nanos(x: f64) -> Nanos {
    const EXACT: f64 = (1u64 << 52) as f64;
    if x >= EXACT {
        return x as Nanos;
    }
    let whole = x as Nanos;
    whole + Nanos::from(x - whole as f64 >= 0.5)
}

/// Picks flows by weight.
#[derive(Clone)]
pub struct FlowPicker {
    cumulative: Vec<f64>,
    rng: ChaCha8Rng,
}

impl FlowPicker {
    /// A picker over the workload's flows.
    pub fn new(w: &WorkloadConfig, rng: ChaCha8Rng) -> Self {
        let total: f64 = w.flows.iter().map(|f| f.weight).sum();
        let mut acc = 0.0;
        let cumulative = w
            .flows
            .iter()
            .map(|f| {
                acc += f.weight / total;
                acc
            })
            .collect();
        FlowPicker { cumulative, rng }
    }

    /// The next request's flow index. With one flow, no number is drawn.
    #[inline]
    pub fn pick(&mut self) -> u16 {
        if self.cumulative.len() == 1 {
            return 0;
        }
        let u: f64 = self.rng.random();
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cumulative.len() - 1) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FlowConfig, KeysConfig, Popularity};
    use crate::engine::stream;

    fn workload(kind: ArrivalKind, rates: Vec<(Nanos, f64)>) -> WorkloadConfig {
        WorkloadConfig {
            arrival: kind,
            rates,
            keys: KeysConfig {
                count: 1,
                prefix: String::new(),
                suffix: String::new(),
                popularity: Popularity::Uniform,
            },
            value_size: 100,
            flows: vec![FlowConfig {
                name: "f".into(),
                weight: 1.0,
                steps: vec![],
            }],
        }
    }

    #[test]
    fn inline_rounding_equals_f64_round() {
        use rand::RngExt;
        let two52 = (1u64 << 52) as f64;
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            1.4999999999999998,
            4503599627370495.5,
            two52 - 0.5,
            two52,
            two52 + 1.0,
            2.0 * two52 + 2.0,
            1e19,
            1.8446744073709552e19,
            2e19,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -0.4,
            -0.5,
            -1.5,
            -1e30,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        let mut rng = stream(5, "round");
        for _ in 0..200_000 {
            let m: f64 = rng.random::<f64>() * 2f64.powi(rng.random_range(-4..70));
            xs.push(m);
            // Exact halves and their neighbours.
            let h = rng.random_range(0..1u64 << 53) as f64 + 0.5;
            xs.extend([h, h.next_up(), h.next_down()]);
        }
        for x in xs {
            assert_eq!(round_to_nanos(x), x.round() as Nanos, "{x:e}");
        }
    }

    fn all(mut a: Arrivals) -> Vec<Nanos> {
        let mut out = Vec::new();
        let mut now = 0;
        while let Some(t) = a.next(now) {
            out.push(t);
            now = t;
        }
        out
    }

    /// A rate so small that the gap saturates must end the segment, not
    /// wrap around to an arrival in the past.
    #[test]
    fn a_tiny_rate_after_a_change_adds_no_arrival() {
        for kind in [ArrivalKind::Poisson, ArrivalKind::Constant] {
            let w = workload(kind, vec![(0, 1.0), (5 * SEC, 1e-12)]);
            let mut a = Arrivals::new(&w, 10 * SEC, stream(1, "a"));
            let mut now = 0;
            let mut n = 0;
            while let Some(t) = a.next(now) {
                assert!(t >= now && t < 10 * SEC, "{kind:?}: {t} after {now}");
                now = t;
                n += 1;
                assert!(n < 100, "{kind:?}: runaway");
            }
        }
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced_without_drift() {
        let w = workload(ArrivalKind::Constant, vec![(0, 3.0)]);
        let ts = all(Arrivals::new(&w, 10 * SEC, stream(1, "a")));
        assert_eq!(ts.len(), 30);
        assert_eq!(ts[0], 0);
        assert_eq!(ts[3], SEC);
        assert_eq!(ts[29], 9 * SEC + 666_666_667);
    }

    #[test]
    fn rate_schedule_changes_the_count() {
        let w = workload(
            ArrivalKind::Constant,
            vec![(0, 10.0), (5 * SEC, 0.0), (8 * SEC, 100.0)],
        );
        let ts = all(Arrivals::new(&w, 10 * SEC, stream(1, "a")));
        assert_eq!(ts.len(), 50 + 200);
        assert!(ts.iter().all(|&t| !(5 * SEC..8 * SEC).contains(&t)));
    }

    #[test]
    fn poisson_count_is_close_to_rate_times_time() {
        let w = workload(ArrivalKind::Poisson, vec![(0, 1000.0)]);
        let n = all(Arrivals::new(&w, 100 * SEC, stream(1, "a"))).len() as f64;
        // mean 100000, sd 316
        assert!((n - 100_000.0).abs() < 1_500.0, "{n}");
    }
}
