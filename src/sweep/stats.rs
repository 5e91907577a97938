//! Mean and 95 % confidence interval of a metric over a point's
//! replications.
//!
//! **Shares** (a metric whose unit is a share in [0, 1], e.g.
//! `windows.fault.success_ratio`) get a *logit-t* interval
//! ([`summarize_share`]): each replication's share x of its N requests is
//! mapped to the empirical logit z = ln((xN + ½) / ((1 − x)N + ½)) (Cox &
//! Snell, *Analysis of Binary Data*, 2nd ed., 1989, §2.1.6; the ½ is the
//! Haldane–Anscombe correction, so 0 and 1 stay finite), Student's t
//! interval is taken on the z values, and its ends are mapped back by the
//! logistic function. Why this and not a Wilson score interval: the
//! independent unit is the replication, not the request (requests inside
//! one run are strongly correlated: a collapse takes them all), so a
//! binomial interval over every request would be far too narrow; the t
//! interval on replications is right in spirit but, on a bounded ratio
//! near 0 or 1, reaches below 0 or above 1. On the logit scale the interval
//! cannot leave (0, 1), and it is asymmetric where it should be. The
//! interval always contains the reported mean (the arithmetic mean of the
//! replications, as in every CSV column): when the back-transformed ends
//! miss it (the logit mean is not the arithmetic mean) they are widened to
//! it. A share without a request count (a summary-wide share such as
//! `peak_bucket_error_ratio`, a node's `utilization`) keeps the t interval,
//! clamped to [0, 1].
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

/// The logistic function, the inverse of the logit.
fn expit(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Mean and 95 % interval of a share over replications (see the module's
/// documentation): logit-t with each replication's request count in
/// `counts`, or the t interval clamped to [0, 1] without counts.
pub fn summarize_share(values: &[f64], counts: Option<&[f64]>) -> MetricStats {
    let t = summarize(values);
    let (Some(mean), Some(lo), Some(hi)) = (t.mean, t.low, t.high) else {
        return t;
    };
    let clamped = MetricStats {
        low: Some(lo.clamp(0.0, 1.0).min(mean)),
        high: Some(hi.clamp(0.0, 1.0).max(mean)),
        ..t
    };
    let n = values.len();
    let Some(counts) = counts.filter(|c| c.len() == n && n > 1) else {
        return clamped;
    };
    if !mean.is_finite() || counts.iter().any(|c| !c.is_finite() || *c < 0.0) {
        return clamped;
    }
    let z: Vec<f64> = values
        .iter()
        .zip(counts)
        .map(|(&x, &c)| {
            let x = x.clamp(0.0, 1.0);
            ((x * c + 0.5) / ((1.0 - x) * c + 0.5)).ln()
        })
        .collect();
    let zbar = z.iter().sum::<f64>() / n as f64;
    let ss: f64 = z.iter().map(|v| (v - zbar) * (v - zbar)).sum();
    let half = t975(n - 1) * (ss / (n - 1) as f64).sqrt() / (n as f64).sqrt();
    MetricStats {
        n,
        mean: Some(mean),
        low: Some(expit(zbar - half).min(mean)),
        high: Some(expit(zbar + half).max(mean)),
    }
}

/// The key of the request count a share metric is a ratio of: a window's
/// `offered` for `windows.<w>.<x>_ratio`, none otherwise.
pub fn count_key(metric: &str) -> Option<String> {
    let rest = metric.strip_prefix("windows.")?;
    let (w, inner) = rest.split_once('.')?;
    (inner.ends_with("_ratio") && !inner.contains('.')).then(|| format!("windows.{w}.offered"))
}

/// A metric's statistics over `runs` (one point's replications, in
/// replication order): [`summarize_share`] for a share, [`summarize`]
/// otherwise.
pub fn metric_stats<'r>(
    metric: &str,
    runs: impl IntoIterator<Item = &'r super::record::Record>,
) -> MetricStats {
    let runs: Vec<&super::record::Record> = runs.into_iter().collect();
    let values: Vec<Option<f64>> = runs.iter().map(|r| r.number(metric)).collect();
    let counts: Option<Vec<Option<f64>>> =
        count_key(metric).map(|k| runs.iter().map(|r| r.number(&k)).collect());
    metric_stats_of(metric, &values, counts.as_deref())
}

/// A metric's statistics from one point's columns, in replication order:
/// `values` of the metric (`None` where a run has none) and, for a share
/// with a request count ([`count_key`]), `counts` of that count. The same
/// numbers as [`metric_stats`] of the records the columns were read from.
pub fn metric_stats_of(
    metric: &str,
    values: &[Option<f64>],
    counts: Option<&[Option<f64>]>,
) -> MetricStats {
    use crate::output::{Metric, Unit};
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if Metric::of(metric).unit != Unit::Share {
        return summarize(&present);
    }
    let counts: Option<Vec<f64>> = counts.and_then(|c| {
        values
            .iter()
            .zip(c)
            .filter(|(v, _)| v.is_some())
            .map(|(_, c)| *c)
            .collect()
    });
    summarize_share(&present, counts.as_deref())
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
    fn share_intervals_stay_in_0_1_and_hold_the_mean() {
        // The review's case: a t interval on a share near 0 reached below 0.
        let xs = [0.0, 0.05, 0.0, 0.0, 0.0566];
        let t = summarize(&xs);
        assert!(t.low.unwrap() < 0.0, "the t interval leaves [0, 1]");
        let n = [1000.0; 5];
        let s = summarize_share(&xs, Some(&n));
        let (m, lo, hi) = (s.mean.unwrap(), s.low.unwrap(), s.high.unwrap());
        assert_eq!(m, t.mean.unwrap(), "the mean is the arithmetic mean");
        assert!(0.0 < lo && lo <= m && m <= hi && hi < 1.0, "{lo} {m} {hi}");
        // The interval is the t interval of the empirical logits, mapped back.
        let z: Vec<f64> = xs
            .iter()
            .map(|x| ((x * 1000.0 + 0.5) / ((1.0 - x) * 1000.0 + 0.5)).ln())
            .collect();
        let zt = summarize(&z);
        assert!((hi - expit(zt.high.unwrap())).abs() < 1e-12);
        // Near 1 as well, and all equal: the value itself.
        let s = summarize_share(&[1.0, 0.999, 1.0], Some(&[5000.0; 3]));
        assert!(s.high.unwrap() <= 1.0 && s.low.unwrap() < 0.9999);
        let s = summarize_share(&[1.0, 1.0], Some(&[10.0, 10.0]));
        assert_eq!(s.high, Some(1.0));
        assert!(s.low.unwrap() > 0.9 && s.low.unwrap() <= 1.0);
        // Without counts: the t interval clamped to [0, 1].
        let s = summarize_share(&xs, None);
        assert_eq!(s.low, Some(0.0));
        assert_eq!(s.high, t.high);
        assert_eq!(
            count_key("windows.fault.success_ratio").as_deref(),
            Some("windows.fault.offered")
        );
        assert_eq!(count_key("peak_bucket_error_ratio"), None);
        assert_eq!(count_key("windows.fault.latency_ms.p99"), None);
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
