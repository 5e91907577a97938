//! Draws durations from a validated distribution.

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::config::Dist;
use crate::engine::Nanos;

/// Draws one duration, rounded to the nearest nanosecond. A constant draws no
/// random number at all, so switching a distribution to a constant does not
/// disturb its stream.
///
/// Inlined into its callers (a node's service, a network hop, a database
/// query draw one each): the constant and exponential cases are a few
/// instructions beside the call's own cost; the uniform and lognormal cases
/// stay out of line.
#[inline(always)]
pub fn sample(dist: &Dist, rng: &mut ChaCha8Rng) -> Nanos {
    match *dist {
        Dist::Constant(v) => v,
        Dist::Exponential { mean } => {
            let x: f64 = Exp1.sample(rng);
            round(x * mean as f64)
        }
        Dist::Uniform { min, max } => uniform(min, max, rng),
        Dist::Lognormal { mu, sigma } => lognormal(mu, sigma, rng),
    }
}

#[inline(never)]
fn uniform(min: Nanos, max: Nanos, rng: &mut ChaCha8Rng) -> Nanos {
    if max == min {
        min
    } else {
        rng.random_range(min..=max)
    }
}

#[inline(never)]
fn lognormal(mu: f64, sigma: f64, rng: &mut ChaCha8Rng) -> Nanos {
    let z: f64 = StandardNormal.sample(rng);
    round((mu + sigma * z).exp())
}

#[inline]
fn round(x: f64) -> Nanos {
    if x.is_finite() && x > 0.0 {
        (x + 0.5).min(u64::MAX as f64) as Nanos
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    #[test]
    fn means_match() {
        let mut rng = stream(3, "t");
        let n = 200_000;
        for d in [
            Dist::Exponential { mean: 1_000_000 },
            Dist::Uniform {
                min: 0,
                max: 2_000_000,
            },
            Dist::Constant(1_000_000),
        ] {
            let m: f64 = (0..n).map(|_| sample(&d, &mut rng) as f64).sum::<f64>() / n as f64;
            assert!((m / d.mean() - 1.0).abs() < 0.01, "{d:?}: {m}");
        }
        let d = Dist::Lognormal {
            mu: (1e6f64).ln(),
            sigma: 0.5,
        };
        let mut v: Vec<u64> = (0..n).map(|_| sample(&d, &mut rng)).collect();
        v.sort_unstable();
        assert!((v[n / 2] as f64 / 1e6 - 1.0).abs() < 0.02);
    }
}
