//! `[service.resilience]`: retries, a retry budget and circuit breakers the
//! service's own code wraps around each awaited cache call, whatever the
//! client policy. The simulator's twin is `sim::resilience`.

use serde::Deserialize;

use crate::config::check::Check;
use crate::config::doc::Seg;
use crate::config::error::ConfigError;
use crate::config::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::{MS, SEC};

/// `[service.resilience]`: what the service's own code wraps around each
/// awaited cache call, whatever the client policy: retries
/// (`[service.resilience.retry]`), a retry budget (`.budget`) and circuit
/// breakers (`.breaker`). Order as resilience4j recommends: Retry around
/// CircuitBreaker around the call, so each attempt passes the breaker.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResilienceFile {
    /// Retries of failed calls.
    #[serde(default)]
    pub retry: RetryFile,
    /// A budget that caps retries.
    #[serde(default)]
    pub budget: BudgetFile,
    /// Circuit breakers.
    #[serde(default)]
    pub breaker: BreakerFile,
    /// Retries of the whole request by the layers above the service (a
    /// user, a browser, an API gateway, an upstream service), outermost
    /// first: each attempt of a layer is a whole try of the layers below
    /// it. The keys of `retry` (`enabled` is not read). Default: none.
    #[serde(default)]
    pub upstream: Vec<RetryFile>,
}

/// Wait growth between attempts.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// `wait` before every retry (resilience4j's default `IntervalFunction`).
    #[default]
    Fixed,
    /// min(`max_wait`, `wait` × `multiplier`^(n − 1)) before retry n.
    Exponential,
}

/// Randomisation of the wait (the AWS Architecture Blog's "Exponential
/// Backoff And Jitter", 2015).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// The wait as computed.
    #[default]
    None,
    /// uniform(0, wait).
    Full,
    /// wait/2 + uniform(0, wait/2).
    Equal,
    /// min(`max_wait`, uniform(`wait`, 3 × previous sleep)), the first
    /// previous sleep being `wait`.
    Decorrelated,
}

/// `[service.resilience.retry]`: resilience4j Retry 2.x defaults
/// (`RetryConfig`, `shared/reference/service-stack.md` §7). The caller's
/// thread sleeps between attempts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// `maxAttempts`, the first call included. Default 3.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// `waitDuration`: the base wait. Default 500ms.
    #[serde(default = "default_retry_wait")]
    pub wait: Duration,
    /// `fixed` (default) or `exponential`.
    #[serde(default)]
    pub backoff: Backoff,
    /// Growth factor of `exponential`. Default 2 (the AWS formula's 2^n).
    #[serde(default = "default_multiplier")]
    pub multiplier: f64,
    /// Cap of a wait. Default: none.
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub max_wait: Option<Duration>,
    /// `none` (default), `full`, `equal` or `decorrelated`.
    #[serde(default)]
    pub jitter: Jitter,
}

impl Default for RetryFile {
    fn default() -> Self {
        RetryFile {
            enabled: false,
            max_attempts: default_max_attempts(),
            wait: default_retry_wait(),
            backoff: Backoff::default(),
            multiplier: default_multiplier(),
            max_wait: None,
            jitter: Jitter::default(),
        }
    }
}

fn default_max_attempts() -> u32 {
    3
}
fn default_retry_wait() -> Duration {
    Duration(500 * MS)
}
fn default_multiplier() -> f64 {
    2.0
}

/// `[service.resilience.budget]`: a retry budget per service instance, as
/// Finagle's `RetryBudget` (defaults `ttl` 10 s, `minRetriesPerSec` 10,
/// `percentCanRetry` 0.2): each first attempt deposits `ratio` tokens, each
/// retry withdraws one, deposits expire after `ttl`, and a reserve of
/// `min_per_sec` × `ttl` tokens is always there. A retry the budget refuses
/// is not made: the caller gets the failure.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// Retries allowed per call. Default 0.2.
    #[serde(default = "default_budget_ratio")]
    pub ratio: f64,
    /// Retries allowed per second regardless of calls. Default 10.
    #[serde(default = "default_budget_min")]
    pub min_per_sec: f64,
    /// How long a deposit lasts. Default 10s.
    #[serde(default = "default_budget_ttl")]
    pub ttl: Duration,
}

impl Default for BudgetFile {
    fn default() -> Self {
        BudgetFile {
            enabled: false,
            ratio: default_budget_ratio(),
            min_per_sec: default_budget_min(),
            ttl: default_budget_ttl(),
        }
    }
}

fn default_budget_ratio() -> f64 {
    0.2
}
fn default_budget_min() -> f64 {
    10.0
}
fn default_budget_ttl() -> Duration {
    Duration(10 * SEC)
}

/// What a breaker guards.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BreakerScope {
    /// One breaker per service instance for all its cache calls.
    #[default]
    Client,
    /// One breaker per instance and cache node (the key's primary).
    Node,
    /// Both: a call must pass its node's breaker and the instance's.
    Both,
}

/// `[service.resilience.breaker]`: resilience4j CircuitBreaker 2.x defaults
/// (`CircuitBreakerConfig`, `service-stack.md` §7).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerFile {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// `client` (default), `node` or `both`.
    #[serde(default)]
    pub scope: BreakerScope,
    /// `failureRateThreshold`, percent. Default 50.
    #[serde(default = "default_failure_rate")]
    pub failure_rate_threshold: f64,
    /// `slowCallRateThreshold`, percent. Default 100.
    #[serde(default = "default_slow_rate")]
    pub slow_call_rate_threshold: f64,
    /// `slowCallDurationThreshold`. Default 60s.
    #[serde(default = "default_slow_duration")]
    pub slow_call_duration_threshold: Duration,
    /// `slidingWindowSize` (COUNT_BASED). Default 100.
    #[serde(default = "default_window")]
    pub sliding_window_size: u32,
    /// `minimumNumberOfCalls` (capped at the window size). Default 100.
    #[serde(default = "default_window")]
    pub minimum_number_of_calls: u32,
    /// `waitDurationInOpenState`. Default 60s.
    #[serde(default = "default_open_wait")]
    pub wait_duration_in_open_state: Duration,
    /// `permittedNumberOfCallsInHalfOpenState`. Default 10.
    #[serde(default = "default_half_open")]
    pub permitted_number_of_calls_in_half_open_state: u32,
}

impl Default for BreakerFile {
    fn default() -> Self {
        BreakerFile {
            enabled: false,
            scope: BreakerScope::default(),
            failure_rate_threshold: default_failure_rate(),
            slow_call_rate_threshold: default_slow_rate(),
            slow_call_duration_threshold: default_slow_duration(),
            sliding_window_size: default_window(),
            minimum_number_of_calls: default_window(),
            wait_duration_in_open_state: default_open_wait(),
            permitted_number_of_calls_in_half_open_state: default_half_open(),
        }
    }
}

fn default_failure_rate() -> f64 {
    50.0
}
fn default_slow_rate() -> f64 {
    100.0
}
fn default_slow_duration() -> Duration {
    Duration(60 * SEC)
}
fn default_window() -> u32 {
    100
}
fn default_open_wait() -> Duration {
    Duration(60 * SEC)
}
fn default_half_open() -> u32 {
    10
}

/// A key under `table` (e.g. `["database", "retry"]`).
fn key_path(table: &[&str], key: &str) -> Vec<Seg> {
    table
        .iter()
        .copied()
        .chain(std::iter::once(key))
        .map(Seg::from)
        .collect()
}

/// A `retry` table (resilience4j Retry keys) written at `table`: `None` when
/// it is not enabled. Shared by the cache calls' and the database's retries.
pub(in crate::config) fn validate_retry(
    v: &Check,
    table: &[&str],
    x: &RetryFile,
) -> Result<Option<RetryConfig>, ConfigError> {
    if !x.enabled {
        return Ok(None);
    }
    let max_attempts = v.at_least(key_path(table, "max_attempts"), x.max_attempts, 1)?;
    v.finite_positive(key_path(table, "multiplier"), x.multiplier)?;
    if let Some(m) = x.max_wait {
        v.positive(key_path(table, "max_wait"), m.0)?;
    }
    Ok(Some(RetryConfig {
        max_attempts,
        wait: x.wait.0,
        backoff: x.backoff,
        multiplier: x.multiplier,
        max_wait: x.max_wait.map(|m| m.0),
        jitter: x.jitter,
    }))
}

/// A `budget` table (Finagle `RetryBudget` keys) written at `table`: `None`
/// when it is not enabled.
pub(in crate::config) fn validate_budget(
    v: &Check,
    table: &[&str],
    b: &BudgetFile,
) -> Result<Option<BudgetConfig>, ConfigError> {
    if !b.enabled {
        return Ok(None);
    }
    if !(b.ratio.is_finite() && b.ratio >= 0.0) {
        return Err(v.err_allowed(
            key_path(table, "ratio"),
            format!("found {}", b.ratio),
            format!("a number ≥ 0 (default {})", default_budget_ratio()),
        ));
    }
    if !(b.min_per_sec.is_finite() && b.min_per_sec >= 0.0) {
        return Err(v.err_allowed(
            key_path(table, "min_per_sec"),
            format!("found {}", b.min_per_sec),
            format!("a number ≥ 0 (default {})", default_budget_min()),
        ));
    }
    Ok(Some(BudgetConfig {
        ratio: b.ratio,
        min_per_sec: b.min_per_sec,
        ttl: v.positive(key_path(table, "ttl"), b.ttl.0)?,
    }))
}

/// Most upstream layers.
pub const MAX_UPSTREAM: usize = 8;

/// The upstream retry layers, outermost first.
pub(in crate::config) fn validate_upstream(
    v: &Check,
    layers: &[RetryFile],
) -> Result<Vec<RetryConfig>, ConfigError> {
    if layers.len() > MAX_UPSTREAM {
        return Err(v.err_allowed(
            path!["service", "resilience", "upstream"],
            format!("{} layers", layers.len()),
            format!("at most {MAX_UPSTREAM} upstream retry layers"),
        ));
    }
    layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let i = i.to_string();
            let table = ["service", "resilience", "upstream", i.as_str()];
            let on = RetryFile {
                enabled: true,
                ..l.clone()
            };
            let cfg = validate_retry(v, &table, &on)?.expect("enabled");
            if cfg.max_attempts > u32::from(u8::MAX) {
                return Err(v.err_allowed(
                    key_path(&table, "max_attempts"),
                    format!("found {}", cfg.max_attempts),
                    "an integer from 1 to 255",
                ));
            }
            Ok(cfg)
        })
        .collect()
}

impl BreakerScope {
    /// Every scope, in the order of the file's documentation.
    pub const ALL: [BreakerScope; 3] =
        [BreakerScope::Client, BreakerScope::Node, BreakerScope::Both];

    /// The scope's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            BreakerScope::Client => "client",
            BreakerScope::Node => "node",
            BreakerScope::Both => "both",
        }
    }
}

/// Application-level resilience around awaited cache calls.
#[derive(Clone, Debug, PartialEq)]
pub struct ResilienceConfig {
    /// Retries, when enabled.
    pub retry: Option<RetryConfig>,
    /// Retry budget, when enabled.
    pub budget: Option<BudgetConfig>,
    /// Circuit breakers, when enabled.
    pub breaker: Option<BreakerConfig>,
}

/// Retries.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    /// Attempts, the first included.
    pub max_attempts: u32,
    /// Base wait.
    pub wait: Nanos,
    /// Growth.
    pub backoff: Backoff,
    /// Growth factor.
    pub multiplier: f64,
    /// Cap of a wait.
    pub max_wait: Option<Nanos>,
    /// Randomisation.
    pub jitter: Jitter,
}

/// Retry budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetConfig {
    /// Retries per call.
    pub ratio: f64,
    /// Retries per second in reserve.
    pub min_per_sec: f64,
    /// Lifetime of a deposit.
    pub ttl: Nanos,
}

/// Circuit breaker(s).
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    /// Per client, per node or both.
    pub scope: BreakerScope,
    /// Failure rate (percent) that opens.
    pub failure_rate_threshold: f64,
    /// Slow-call rate (percent) that opens.
    pub slow_call_rate_threshold: f64,
    /// A call this long or longer is slow.
    pub slow_call_duration_threshold: Nanos,
    /// Outcomes kept.
    pub window: u32,
    /// Outcomes needed before a rate is computed (≤ window).
    pub minimum_calls: u32,
    /// Open for this long.
    pub open_wait: Nanos,
    /// Trial calls in half-open.
    pub half_open_calls: u32,
}

pub(super) fn validate(
    v: &Check,
    r: &ResilienceFile,
) -> Result<Option<ResilienceConfig>, ConfigError> {
    let at = |t: &str, k: &str| path!["service", "resilience", t, k];
    let retry = validate_retry(v, &["service", "resilience", "retry"], &r.retry)?;
    let budget = validate_budget(v, &["service", "resilience", "budget"], &r.budget)?;
    let breaker = if r.breaker.enabled {
        let b = &r.breaker;
        for (k, x) in [
            ("failure_rate_threshold", b.failure_rate_threshold),
            ("slow_call_rate_threshold", b.slow_call_rate_threshold),
        ] {
            if !(x.is_finite() && x > 0.0 && x <= 100.0) {
                return Err(v.err_allowed(
                    at("breaker", k),
                    format!("found {x}"),
                    "a percentage in (0, 100]",
                ));
            }
        }
        let window = v.at_least(
            at("breaker", "sliding_window_size"),
            b.sliding_window_size,
            1,
        )?;
        let minimum = v.at_least(
            at("breaker", "minimum_number_of_calls"),
            b.minimum_number_of_calls,
            1,
        )?;
        Some(BreakerConfig {
            scope: b.scope,
            failure_rate_threshold: b.failure_rate_threshold,
            slow_call_rate_threshold: b.slow_call_rate_threshold,
            slow_call_duration_threshold: v.positive(
                at("breaker", "slow_call_duration_threshold"),
                b.slow_call_duration_threshold.0,
            )?,
            window,
            // resilience4j caps the minimum at the window size (count-based).
            minimum_calls: minimum.min(window),
            open_wait: v.positive(
                at("breaker", "wait_duration_in_open_state"),
                b.wait_duration_in_open_state.0,
            )?,
            half_open_calls: v.at_least(
                at("breaker", "permitted_number_of_calls_in_half_open_state"),
                b.permitted_number_of_calls_in_half_open_state,
                1,
            )?,
        })
    } else {
        None
    };
    Ok(
        (retry.is_some() || budget.is_some() || breaker.is_some()).then_some(ResilienceConfig {
            retry,
            budget,
            breaker,
        }),
    )
}
