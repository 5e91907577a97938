//! `[workload]`: the requests — how arrivals are spaced, the rate over
//! time, the key space and value size — and, in [`flow`], the request types
//! and their steps. The simulator's twins are `sim::workload`, `sim::keys`
//! and `sim::world::flow`.

pub mod flow;

use serde::Deserialize;

use super::check::Check;
use super::cluster::PoolConfig;
use super::error::ConfigError;
use super::units::{Bytes, Duration};
use crate::engine::Nanos;
pub use flow::{
    Condition, Each, Fill, FlowConfig, FlowFile, KeyChoice, StepConfig, StepFile, StepOp,
};

/// Most keys of the key space: keys are u32 indices.
const MAX_KEYS: u64 = u32::MAX as u64;
/// memcached's default item size limit (`-I 1m`).
pub(super) const MAX_VALUE: u64 = 1 << 20;

/// How arrivals are spaced.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalKind {
    /// Exponential gaps (open-loop Poisson traffic).
    #[default]
    Poisson,
    /// Equal gaps: request i at i / rate (the testbed's dispatcher).
    Constant,
}

/// `[workload]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// `poisson` (default) or `constant`.
    #[serde(default)]
    pub arrival: ArrivalKind,
    /// Requests per second over the whole fleet (a float). Required.
    pub rate: f64,
    /// Rate changes over time: `[{ at = "60s", rate = 4000 }]`; each rate holds
    /// from its `at` until the next. Default: `rate` throughout.
    #[serde(default)]
    pub schedule: Vec<RateChangeFile>,
    /// The key space.
    #[serde(default)]
    pub keys: KeysFile,
    /// Bytes of a cached value (the testbed's 100-byte string). Default 100.
    #[serde(default = "default_value_size")]
    pub value_size: Bytes,
    /// Request types, chosen by weight. At least one.
    #[serde(default)]
    pub flow: Vec<FlowFile>,
}

fn default_value_size() -> Bytes {
    Bytes(100)
}

/// One entry of `workload.schedule`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChangeFile {
    /// When this rate starts.
    pub at: Duration,
    /// Requests per second from then on.
    pub rate: f64,
}

/// `workload.keys`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// Number of distinct keys. Default 10000 (the testbed).
    #[serde(default = "default_key_count")]
    pub count: u64,
    /// How key i is spelled; `{}` is replaced by i. The spelling decides the
    /// node (Ketama and ArrayMod hash the string). Default `"key:{}"`.
    #[serde(default = "default_key_format")]
    pub format: String,
    /// Which keys are popular.
    #[serde(default)]
    pub popularity: PopularityFile,
}

impl Default for KeysFile {
    fn default() -> Self {
        KeysFile {
            count: default_key_count(),
            format: default_key_format(),
            popularity: PopularityFile::default(),
        }
    }
}

fn default_key_count() -> u64 {
    10_000
}
fn default_key_format() -> String {
    "key:{}".to_string()
}

/// The shape of key popularity.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PopularityKind {
    /// Every key equally likely.
    #[default]
    Uniform,
    /// P(key i) proportional to (i + 1)^-exponent; key 0 the most popular.
    Zipf,
}

/// `workload.keys.popularity`.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PopularityFile {
    /// `uniform` (default) or `zipf`.
    #[serde(default)]
    pub dist: PopularityKind,
    /// Zipf exponent, > 0 (e.g. 0.99). Required for `zipf`.
    pub exponent: Option<f64>,
}

/// Requests, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    /// Poisson or constant gaps.
    pub arrival: ArrivalKind,
    /// (from, rate per second), sorted by time; the first starts at 0.
    pub rates: Vec<(Nanos, f64)>,
    /// The key space.
    pub keys: KeysConfig,
    /// Default value size of a set.
    pub value_size: u32,
    /// Request types.
    pub flows: Vec<FlowConfig>,
}

/// The key space, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct KeysConfig {
    /// Number of keys.
    pub count: u32,
    /// Text before the index.
    pub prefix: String,
    /// Text after the index.
    pub suffix: String,
    /// Popularity.
    pub popularity: Popularity,
}

impl KeysConfig {
    /// The spelling of key `i`.
    pub fn spell(&self, i: u32) -> String {
        format!("{}{}{}", self.prefix, i, self.suffix)
    }
}

/// Key popularity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Popularity {
    /// Uniform.
    Uniform,
    /// Zipf with this exponent.
    Zipf(f64),
}

pub(super) fn validate(
    v: &Check,
    w: &WorkloadFile,
    pools: &[PoolConfig],
    duration: Nanos,
) -> Result<WorkloadConfig, ConfigError> {
    let rate = v.finite_positive(path!["workload", "rate"], w.rate)?;
    let mut rates = vec![(0, rate)];
    let mut last = 0;
    for (i, c) in w.schedule.iter().enumerate() {
        if !c.rate.is_finite() || c.rate < 0.0 {
            return Err(v.err_allowed(
                path!["workload", "schedule", i, "rate"],
                format!("found {}", c.rate),
                "a finite rate ≥ 0",
            ));
        }
        if i > 0 && c.at.0 <= last {
            return Err(v.err(
                path!["workload", "schedule", i, "at"],
                "schedule entries must be in increasing order of `at`",
            ));
        }
        if c.at.0 >= duration {
            return Err(v.err(
                path!["workload", "schedule", i, "at"],
                format!(
                    "starts at or after the end of arrivals ({})",
                    crate::engine::format_nanos(duration)
                ),
            ));
        }
        last = c.at.0;
        if c.at.0 == 0 {
            rates[0].1 = c.rate;
        } else {
            rates.push((c.at.0, c.rate));
        }
    }
    let keys = &w.keys;
    if keys.count == 0 || keys.count > MAX_KEYS {
        return Err(v.err_allowed(
            path!["workload", "keys", "count"],
            format!("found {}", keys.count),
            format!("an integer from 1 to {MAX_KEYS}"),
        ));
    }
    let (prefix, suffix) = match keys.format.split_once("{}") {
        Some((p, s)) if !s.contains("{}") => (p.to_string(), s.to_string()),
        _ => {
            return Err(v.err_allowed(
                path!["workload", "keys", "format"],
                format!("`{}` must contain `{{}}` exactly once", keys.format),
                "e.g. \"key:{}\"",
            ));
        }
    };
    let popularity = match keys.popularity.dist {
        PopularityKind::Uniform => Popularity::Uniform,
        PopularityKind::Zipf => {
            let Some(e) = keys.popularity.exponent else {
                return Err(v.err_allowed(
                    path!["workload", "keys", "popularity", "exponent"],
                    "a zipf popularity needs an exponent",
                    "a number > 0, e.g. 0.99",
                ));
            };
            Popularity::Zipf(
                v.finite_positive(path!["workload", "keys", "popularity", "exponent"], e)?,
            )
        }
    };
    if w.value_size.0 > MAX_VALUE {
        return Err(v.err_allowed(
            path!["workload", "value_size"],
            format!(
                "{} bytes is over memcached's 1 MiB item limit",
                w.value_size.0
            ),
            "at most 1048576",
        ));
    }
    Ok(WorkloadConfig {
        arrival: w.arrival,
        rates,
        keys: KeysConfig {
            count: keys.count as u32,
            prefix,
            suffix,
            popularity,
        },
        value_size: w.value_size.0 as u32,
        flows: flow::validate(v, w, pools)?,
    })
}
