//! Distributions of durations as model files write them:
//! `{ dist = "exponential", mean = "100us" }`, `{ dist = "constant", value =
//! "5ms" }`, `{ dist = "uniform", min = "1ms", max = "3ms" }`,
//! `{ dist = "lognormal", median = "1ms", p99 = "20ms" }`.

use serde::Deserialize;

use super::units::Duration;
use crate::engine::Nanos;

/// The family of a duration distribution.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DistKind {
    /// Always `value`.
    Constant,
    /// Exponential with `mean`.
    Exponential,
    /// Uniform on [`min`, `max`].
    Uniform,
    /// Log-normal given by its `median` and its 99th percentile `p99`.
    Lognormal,
}

/// A distribution table as written; validated by [`DistSpec::resolve`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DistSpec {
    /// `constant`, `exponential`, `uniform` or `lognormal`.
    pub dist: DistKind,
    /// constant: the value.
    pub value: Option<Duration>,
    /// exponential: the mean.
    pub mean: Option<Duration>,
    /// uniform: the lower bound.
    pub min: Option<Duration>,
    /// uniform: the upper bound.
    pub max: Option<Duration>,
    /// lognormal: the median.
    pub median: Option<Duration>,
    /// lognormal: the 99th percentile (must exceed the median).
    pub p99: Option<Duration>,
}

/// A validated duration distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always this value.
    Constant(Nanos),
    /// Exponential with this mean.
    Exponential { mean: Nanos },
    /// Uniform on [min, max].
    Uniform { min: Nanos, max: Nanos },
    /// exp(N(mu, sigma²)) in nanoseconds.
    Lognormal { mu: f64, sigma: f64 },
}

/// z such that P(N(0,1) ≤ z) = 0.99.
const Z99: f64 = 2.326_347_874_040_841;

impl Dist {
    /// The mean, in nanoseconds (for estimates and reports).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v as f64,
            Dist::Exponential { mean } => mean as f64,
            Dist::Uniform { min, max } => (min as f64 + max as f64) / 2.0,
            Dist::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }

    /// A constant distribution.
    pub fn constant(v: Nanos) -> Self {
        Dist::Constant(v)
    }

    /// True when every draw is the same value.
    pub fn is_constant(&self) -> bool {
        matches!(self, Dist::Constant(_))
    }
}

impl DistSpec {
    /// A constant.
    pub fn constant(v: Nanos) -> Self {
        DistSpec {
            dist: DistKind::Constant,
            value: Some(Duration(v)),
            mean: None,
            min: None,
            max: None,
            median: None,
            p99: None,
        }
    }

    /// An exponential with this mean.
    pub fn exponential(mean: Nanos) -> Self {
        DistSpec {
            dist: DistKind::Exponential,
            mean: Some(Duration(mean)),
            ..Self::constant(0)
        }
        .without_value()
    }

    fn without_value(mut self) -> Self {
        self.value = None;
        self
    }

    /// Checks that the fields fit the family; the error names the field and
    /// what is needed.
    pub fn resolve(&self) -> Result<Dist, (String, String)> {
        let name = |k: DistKind| match k {
            DistKind::Constant => "constant",
            DistKind::Exponential => "exponential",
            DistKind::Uniform => "uniform",
            DistKind::Lognormal => "lognormal",
        };
        let fields = [
            ("value", self.value),
            ("mean", self.mean),
            ("min", self.min),
            ("max", self.max),
            ("median", self.median),
            ("p99", self.p99),
        ];
        let wanted: &[&str] = match self.dist {
            DistKind::Constant => &["value"],
            DistKind::Exponential => &["mean"],
            DistKind::Uniform => &["min", "max"],
            DistKind::Lognormal => &["median", "p99"],
        };
        for (field, v) in fields {
            if v.is_some() && !wanted.contains(&field) {
                return Err((
                    field.to_string(),
                    format!(
                        "`{field}` does not apply to a {} distribution (it takes {})",
                        name(self.dist),
                        wanted.join(" and ")
                    ),
                ));
            }
        }
        let need = |field: &str, v: Option<Duration>| {
            v.map(|d| d.0).ok_or_else(|| {
                (
                    field.to_string(),
                    format!("a {} distribution needs `{field}`", name(self.dist)),
                )
            })
        };
        Ok(match self.dist {
            DistKind::Constant => Dist::Constant(need("value", self.value)?),
            DistKind::Exponential => {
                let mean = need("mean", self.mean)?;
                if mean == 0 {
                    return Err(("mean".into(), "the mean must be greater than zero".into()));
                }
                Dist::Exponential { mean }
            }
            DistKind::Uniform => {
                let (min, max) = (need("min", self.min)?, need("max", self.max)?);
                if max < min {
                    return Err(("max".into(), "`max` must not be below `min`".into()));
                }
                Dist::Uniform { min, max }
            }
            DistKind::Lognormal => {
                let (median, p99) = (need("median", self.median)?, need("p99", self.p99)?);
                if median == 0 {
                    return Err((
                        "median".into(),
                        "the median must be greater than zero".into(),
                    ));
                }
                if p99 <= median {
                    return Err(("p99".into(), "`p99` must be greater than `median`".into()));
                }
                let mu = (median as f64).ln();
                let sigma = ((p99 as f64).ln() - mu) / Z99;
                Dist::Lognormal { mu, sigma }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_from_median_and_p99() {
        let spec = DistSpec {
            dist: DistKind::Lognormal,
            median: Some(Duration(1_000_000)),
            p99: Some(Duration(20_000_000)),
            value: None,
            mean: None,
            min: None,
            max: None,
        };
        let Dist::Lognormal { mu, sigma } = spec.resolve().unwrap() else {
            panic!("not lognormal")
        };
        assert!((mu.exp() - 1e6).abs() < 1e-3);
        assert!(((mu + Z99 * sigma).exp() - 2e7).abs() < 1e-2);
    }

    #[test]
    fn wrong_fields_are_named() {
        let mut spec = DistSpec::exponential(5);
        spec.value = Some(Duration(3));
        assert_eq!(spec.resolve().unwrap_err().0, "value");
        let spec = DistSpec {
            dist: DistKind::Uniform,
            min: Some(Duration(5)),
            ..DistSpec::exponential(1)
        };
        assert!(spec.resolve().is_err());
        assert_eq!(DistSpec::exponential(0).resolve().unwrap_err().0, "mean");
    }
}
