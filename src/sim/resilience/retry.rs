//! Waits between attempts: resilience4j's fixed wait (its default
//! `IntervalFunction`, 500 ms) or exponential growth, with the jitters of
//! the AWS Architecture Blog's "Exponential Backoff And Jitter" (Marc
//! Brooker, 2015):
//!
//! * none: `min(cap, base × m^(n−1))` (fixed: `min(cap, base)`);
//! * full: `uniform(0, that)`;
//! * equal: `that/2 + uniform(0, that/2)`;
//! * decorrelated: `min(cap, uniform(base, 3 × previous sleep))`, the first
//!   previous sleep being `base`.

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;

use crate::config::{Backoff, Jitter, RetryConfig};
use crate::engine::Nanos;

/// The sleep before retry `n` (1 = the first retry), after a previous sleep
/// of `prev` (0 before the first).
pub fn wait(cfg: &RetryConfig, n: u32, prev: Nanos, rng: &mut ChaCha8Rng) -> Nanos {
    let cap = cfg.max_wait.map_or(f64::INFINITY, |c| c as f64);
    let base = cfg.wait as f64;
    let grown = match cfg.backoff {
        Backoff::Fixed => base,
        Backoff::Exponential => base * cfg.multiplier.powi(n.saturating_sub(1).min(1000) as i32),
    }
    .min(cap);
    let u: f64 = rng.random();
    let w = match cfg.jitter {
        Jitter::None => grown,
        Jitter::Full => u * grown,
        Jitter::Equal => grown / 2.0 + u * grown / 2.0,
        Jitter::Decorrelated => {
            let prev = if prev == 0 { base } else { prev as f64 };
            let hi = (3.0 * prev).max(base);
            (base + u * (hi - base)).min(cap)
        }
    };
    if w.is_finite() {
        w.round().min(u64::MAX as f64 / 2.0) as Nanos
    } else {
        Nanos::MAX / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use crate::engine::time::MS;

    fn cfg(backoff: Backoff, jitter: Jitter) -> RetryConfig {
        RetryConfig {
            max_attempts: 10,
            wait: 100 * MS,
            backoff,
            multiplier: 2.0,
            max_wait: Some(1_000 * MS),
            jitter,
        }
    }

    #[test]
    fn no_jitter_doubles_up_to_the_cap() {
        let c = cfg(Backoff::Exponential, Jitter::None);
        let mut rng = stream(1, "t");
        let w: Vec<Nanos> = (1..=6).map(|n| wait(&c, n, 0, &mut rng) / MS).collect();
        assert_eq!(w, [100, 200, 400, 800, 1000, 1000]);
        let f = cfg(Backoff::Fixed, Jitter::None);
        assert_eq!(wait(&f, 5, 0, &mut rng), 100 * MS);
    }

    #[test]
    fn full_and_equal_jitter_stay_in_their_ranges() {
        let mut rng = stream(2, "t");
        for n in 1..=6 {
            let top = ((100 * MS) << (n - 1)).min(1_000 * MS);
            for _ in 0..1000 {
                let f = wait(&cfg(Backoff::Exponential, Jitter::Full), n, 0, &mut rng);
                assert!(f <= top);
                let e = wait(&cfg(Backoff::Exponential, Jitter::Equal), n, 0, &mut rng);
                assert!(e >= top / 2 && e <= top);
            }
        }
    }

    #[test]
    fn decorrelated_jitter_grows_from_its_last_sleep() {
        let c = cfg(Backoff::Exponential, Jitter::Decorrelated);
        let mut rng = stream(3, "t");
        let mut prev = 0;
        for n in 1..=50 {
            let w = wait(&c, n, prev, &mut rng);
            let p = if prev == 0 { 100 * MS } else { prev };
            assert!(
                w >= 100 * MS && w <= (3 * p).min(1_000 * MS),
                "{w} after {prev}"
            );
            prev = w;
        }
    }
}
