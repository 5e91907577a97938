//! Mean and 95 % confidence interval of a metric over a point's
//! replications.
//!
//! The interval is Student's t with n − 1 degrees of freedom:
//! mean ± t(0.975, n − 1) · s / √n, with s the sample standard deviation.
//! Replications are independent runs (different seeds), so the interval is
//! valid whatever the correlation inside one run. With n = 1 there is no
//! spread to estimate: the interval is the mean itself (low = high = mean),
//! which says "one run", not "no uncertainty". Sums run in replication
//! order, so the numbers do not depend on the order runs finished in.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A metric's statistics at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricStats {
    /// Replications with a value (a missing value, e.g. `recovery_s` of a
    /// run that never recovered, is left out).
    pub n: usize,
    /// Mean (`None` when no replication has a value).
    pub mean: Option<f64>,
    /// Lower end of the 95 % interval.
    pub low: Option<f64>,
    /// Upper end of the 95 % interval.
    pub high: Option<f64>,
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df ≥ 1 is a valid t distribution")
        .inverse_cdf(0.975)
}

/// Mean and 95 % interval of `values` (in replication order).
pub fn summarize(values: &[f64]) -> MetricStats {
    let n = values.len();
    if n == 0 {
        return MetricStats {
            n,
            mean: None,
            low: None,
            high: None,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 || !mean.is_finite() {
        return MetricStats {
            n,
            mean: Some(mean),
            low: Some(mean),
            high: Some(mean),
        };
    }
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let half = t975(n - 1) * sd / (n as f64).sqrt();
    MetricStats {
        n,
        mean: Some(mean),
        low: Some(mean - half),
        high: Some(mean + half),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t975(1) - 12.706).abs() < 1e-3);
        assert!((t975(4) - 2.776).abs() < 1e-3);
        assert!((t975(9) - 2.262).abs() < 1e-3);
        assert!((t975(1000) - 1.962).abs() < 1e-3);
    }

    #[test]
    fn interval_of_known_data() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.mean, Some(3.0));
        // s = sqrt(2.5), half = 2.776 * 1.5811 / 2.2361 = 1.963
        let half = s.high.unwrap() - 3.0;
        assert!((half - 1.9632).abs() < 1e-3, "{half}");
        assert!((s.low.unwrap() - (3.0 - half)).abs() < 1e-12);
    }

    #[test]
    fn one_value_and_none() {
        let s = summarize(&[7.5]);
        assert_eq!((s.mean, s.low, s.high), (Some(7.5), Some(7.5), Some(7.5)));
        let s = summarize(&[]);
        assert_eq!(s.mean, None);
        let s = summarize(&[2.0, 2.0, 2.0]);
        assert_eq!((s.low, s.high), (Some(2.0), Some(2.0)));
    }
}
