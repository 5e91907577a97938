//! `[database]`: connection pools in front of a server with read and write
//! times, and the server's dynamics: a caller deadline per query (abandon or
//! kill), a bounded server concurrency and queue, a slow-down above a load
//! knee and a contention curve. The simulator's twin is `sim::database`.
//!
//! With none of the new keys written, the database is today's: one pool of
//! `connections` for the whole fleet in front of a server that runs every
//! query it is given at once (an M/G/c, c = the pool), no deadline.

use serde::Deserialize;

use super::check::Check;
use super::dist::{Dist, DistSpec};
use super::error::ConfigError;
use super::service::resilience::{
    BudgetConfig, BudgetFile, RetryConfig, RetryFile, validate_budget, validate_retry,
};
use super::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::{MS, SEC};

/// `[database]`: a pool of connections (HikariCP) in front of a server with
/// a service-time distribution.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// Pool size. Default 10 (HikariCP `maximumPoolSize`). 0 = no limit.
    #[serde(default = "default_connections")]
    pub connections: u32,
    /// Longest wait for a connection; then the request fails. Default 30s
    /// (HikariCP `connectionTimeout`).
    #[serde(default = "default_wait")]
    pub connection_timeout: Duration,
    /// Time of a read. Default constant 5ms (the testbed's database).
    #[serde(default = "default_time")]
    pub service_time: DistSpec,
    /// Time of a write. Default: `service_time`.
    pub write_time: Option<DistSpec>,
    /// `shared` (default: one pool for the whole fleet, as before) or
    /// `instance` (each service instance has its own pool of `connections`,
    /// as a HikariCP pool lives in one JVM).
    #[serde(default)]
    pub pool_scope: PoolScope,
    /// The caller's deadline per query, from the call (pool wait included):
    /// JDBC `Statement.setQueryTimeout`, a driver or service deadline.
    /// Default: none.
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub deadline: Option<Duration>,
    /// What the server does with a query whose caller's deadline passed:
    /// `keep_running` (default: the work is wasted, the connection stays
    /// busy until it ends) or `kill` (PostgreSQL `statement_timeout`, MySQL
    /// `max_execution_time`, the JDBC driver's cancel).
    #[serde(default)]
    pub on_deadline: OnDeadline,
    /// Queries the server runs at once (PostgreSQL `max_connections`
    /// default 100, MySQL `max_connections` default 151); the rest wait in
    /// its queue. Default 0 = no limit (every query runs at once).
    #[serde(default)]
    pub max_connections: u32,
    /// Queries that may wait for one of `max_connections`; one more is
    /// refused at once (an error to its caller). 0 = refuse at once, as
    /// PostgreSQL does ("too many clients"). Default: unbounded.
    pub queue_limit: Option<u32>,
    /// A slow-down above a load knee.
    #[serde(default)]
    pub overload: OverloadFile,
    /// A contention curve (the Universal Scalability Law).
    #[serde(default)]
    pub contention: ContentionFile,
    /// Retries of a failed query (resilience4j Retry keys).
    #[serde(default)]
    pub retry: RetryFile,
    /// A budget that caps the query retries (Finagle `RetryBudget` keys).
    #[serde(default)]
    pub budget: BudgetFile,
}

impl Default for DatabaseFile {
    fn default() -> Self {
        DatabaseFile {
            connections: default_connections(),
            connection_timeout: default_wait(),
            service_time: default_time(),
            write_time: None,
            pool_scope: PoolScope::default(),
            deadline: None,
            on_deadline: OnDeadline::default(),
            max_connections: 0,
            queue_limit: None,
            overload: OverloadFile::default(),
            contention: ContentionFile::default(),
            retry: RetryFile::default(),
            budget: BudgetFile::default(),
        }
    }
}

fn default_connections() -> u32 {
    10
}
fn default_wait() -> Duration {
    Duration(30 * SEC)
}
fn default_time() -> DistSpec {
    DistSpec::constant(5 * MS)
}

/// Who shares a pool.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PoolScope {
    /// One pool for the whole fleet.
    #[default]
    Shared,
    /// One pool per service instance.
    Instance,
}

impl PoolScope {
    /// Every scope, in the order of the README.
    pub const ALL: [PoolScope; 2] = [PoolScope::Shared, PoolScope::Instance];

    /// The scope's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            PoolScope::Shared => "shared",
            PoolScope::Instance => "instance",
        }
    }
}

/// What the server does when a query's caller gives up.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnDeadline {
    /// The query goes on (wasted work) and keeps its connection.
    #[default]
    KeepRunning,
    /// The query is cancelled where it is (queued or running).
    Kill,
}

impl OnDeadline {
    /// Every choice, in the order of the README.
    pub const ALL: [OnDeadline; 2] = [OnDeadline::KeepRunning, OnDeadline::Kill];

    /// The choice's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            OnDeadline::KeepRunning => "keep_running",
            OnDeadline::Kill => "kill",
        }
    }
}

/// `[database.overload]`: service time × `factor` for a query that arrives
/// at the server while the queries that arrived in the last `window` exceed
/// `qps` (the highest step passed applies). The HotOS'21 retry example's
/// database ("under 100 ms below 300 QPS, 10× slower above"): `slowdown =
/// [[300, 10]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverloadFile {
    /// Steps `[qps, factor]`: qps increasing, factor ≥ 1 and not
    /// decreasing. Default: none (no knee).
    #[serde(default)]
    pub slowdown: Vec<[f64; 2]>,
    /// The window over which the arrival rate is measured. Default 1s.
    #[serde(default = "default_window")]
    pub window: Duration,
}

impl Default for OverloadFile {
    fn default() -> Self {
        OverloadFile {
            slowdown: Vec::new(),
            window: default_window(),
        }
    }
}

fn default_window() -> Duration {
    Duration(SEC)
}

/// `[database.contention]`: Gunther's Universal Scalability Law. With `n`
/// queries executing (this one included), throughput is `n / (1 + σ(n−1) +
/// κ n(n−1))` times one query's rate, so each query's time is its sampled
/// time × `1 + σ(n−1) + κ n(n−1)`. Defaults 0, 0: no contention.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ContentionFile {
    /// σ, contention (serialisation), in [0, 1).
    #[serde(default)]
    pub sigma: f64,
    /// κ, coherency (crosstalk), ≥ 0.
    #[serde(default)]
    pub kappa: f64,
}

/// One step of the overload knee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knee {
    /// Arrivals per second above which…
    pub qps: f64,
    /// …service time is multiplied by this.
    pub factor: f64,
}

/// The overload knee, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct OverloadConfig {
    /// Steps, qps increasing.
    pub steps: Vec<Knee>,
    /// Measurement window.
    pub window: Nanos,
}

/// The database, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseConfig {
    /// Connections per pool; `None` = no limit.
    pub connections: Option<u32>,
    /// Longest wait for a connection.
    pub connection_timeout: Nanos,
    /// Read time.
    pub read: Dist,
    /// Write time.
    pub write: Dist,
    /// Who shares a pool.
    pub pool_scope: PoolScope,
    /// The caller's deadline per query.
    pub deadline: Option<Nanos>,
    /// What happens to a query whose caller left.
    pub on_deadline: OnDeadline,
    /// Queries the server runs at once; `None` = no limit.
    pub max_connections: Option<u32>,
    /// Queries waiting at the server; `None` = unbounded.
    pub queue_limit: Option<u32>,
    /// The load knee, if any.
    pub overload: Option<OverloadConfig>,
    /// USL (σ, κ), if either is non-zero.
    pub contention: Option<(f64, f64)>,
    /// Query retries, when enabled.
    pub retry: Option<RetryConfig>,
    /// Their budget, when enabled.
    pub budget: Option<BudgetConfig>,
}

pub(super) fn validate(v: &Check, d: &DatabaseFile) -> Result<DatabaseConfig, ConfigError> {
    let read_path = || path!["database", "service_time"];
    let deadline = match d.deadline {
        Some(t) => Some(v.positive(path!["database", "deadline"], t.0)?),
        None => None,
    };
    if d.queue_limit.is_some() && d.max_connections == 0 {
        return Err(v.err_allowed(
            path!["database", "queue_limit"],
            "a server queue needs a bound on the queries it runs",
            "`max_connections` > 0 with `queue_limit`, or no `queue_limit`",
        ));
    }
    Ok(DatabaseConfig {
        connections: (d.connections > 0).then_some(d.connections),
        connection_timeout: v.positive(
            path!["database", "connection_timeout"],
            d.connection_timeout.0,
        )?,
        read: v.dist(read_path(), &d.service_time)?,
        write: match &d.write_time {
            Some(w) => v.dist(path!["database", "write_time"], w)?,
            None => v.dist(read_path(), &d.service_time)?,
        },
        pool_scope: d.pool_scope,
        deadline,
        on_deadline: d.on_deadline,
        max_connections: (d.max_connections > 0).then_some(d.max_connections),
        queue_limit: d.queue_limit,
        overload: overload(v, &d.overload)?,
        contention: contention(v, &d.contention)?,
        retry: validate_retry(v, &["database", "retry"], &d.retry)?,
        budget: validate_budget(v, &["database", "budget"], &d.budget)?,
    })
}

fn overload(v: &Check, o: &OverloadFile) -> Result<Option<OverloadConfig>, ConfigError> {
    if o.slowdown.is_empty() {
        return Ok(None);
    }
    let window = v.positive(path!["database", "overload", "window"], o.window.0)?;
    let mut steps: Vec<Knee> = Vec::with_capacity(o.slowdown.len());
    for (i, [qps, factor]) in o.slowdown.iter().copied().enumerate() {
        let at = || path!["database", "overload", "slowdown", i];
        if !(qps.is_finite() && qps > 0.0 && factor.is_finite() && factor >= 1.0) {
            return Err(v.err_allowed(
                at(),
                format!("found [{qps}, {factor}]"),
                "[qps, factor] with qps > 0 and a finite factor ≥ 1, e.g. [300, 10]",
            ));
        }
        if let Some(prev) = steps.last()
            && (qps <= prev.qps || factor < prev.factor)
        {
            return Err(v.err_allowed(
                at(),
                format!(
                    "the curve is not monotone: [{qps}, {factor}] after [{}, {}]",
                    prev.qps, prev.factor
                ),
                "steps with increasing qps and factors that do not decrease",
            ));
        }
        steps.push(Knee { qps, factor });
    }
    Ok(Some(OverloadConfig { steps, window }))
}

fn contention(v: &Check, c: &ContentionFile) -> Result<Option<(f64, f64)>, ConfigError> {
    if !(c.sigma.is_finite() && (0.0..1.0).contains(&c.sigma)) {
        return Err(v.err_allowed(
            path!["database", "contention", "sigma"],
            format!("found {}", c.sigma),
            "a number in [0, 1)",
        ));
    }
    if !(c.kappa.is_finite() && c.kappa >= 0.0) {
        return Err(v.err_allowed(
            path!["database", "contention", "kappa"],
            format!("found {}", c.kappa),
            "a finite number ≥ 0",
        ));
    }
    Ok((c.sigma > 0.0 || c.kappa > 0.0).then_some((c.sigma, c.kappa)))
}

impl DatabaseConfig {
    /// The slow-down of a query arriving when `qps` queries per second
    /// arrived over the window: the factor of the highest step passed.
    pub fn knee_factor(&self, qps: f64) -> f64 {
        self.overload.as_ref().map_or(1.0, |o| {
            o.steps
                .iter()
                .rev()
                .find(|k| qps > k.qps)
                .map_or(1.0, |k| k.factor)
        })
    }

    /// The USL multiplier of a query's time with `n` queries executing.
    pub fn contention_factor(&self, n: u32) -> f64 {
        self.contention.map_or(1.0, |(s, k)| {
            let n = f64::from(n.max(1));
            1.0 + s * (n - 1.0) + k * n * (n - 1.0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{assert_allowed, model};

    #[test]
    fn defaults_are_todays_database() {
        let m = model(&[]).unwrap();
        let d = &m.database;
        assert_eq!(d.pool_scope, PoolScope::Shared);
        assert_eq!(d.deadline, None);
        assert_eq!(d.max_connections, None);
        assert_eq!(d.queue_limit, None);
        assert!(d.overload.is_none() && d.contention.is_none());
        assert!(d.retry.is_none() && d.budget.is_none());
        assert_eq!(d.knee_factor(1e9), 1.0);
        assert_eq!(d.contention_factor(1000), 1.0);
    }

    #[test]
    fn all_lists_every_choice_the_file_accepts() {
        assert_allowed("database.pool_scope", PoolScope::ALL.map(PoolScope::name));
        assert_allowed(
            "database.on_deadline",
            OnDeadline::ALL.map(OnDeadline::name),
        );
    }

    #[test]
    fn the_knee_applies_the_highest_step_passed() {
        let m = model(&["database.overload.slowdown=[[300, 10], [600, 20]]"]).unwrap();
        let d = &m.database;
        assert_eq!(d.knee_factor(299.0), 1.0);
        assert_eq!(d.knee_factor(300.0), 1.0);
        assert_eq!(d.knee_factor(301.0), 10.0);
        assert_eq!(d.knee_factor(601.0), 20.0);
    }

    #[test]
    fn a_curve_that_is_not_monotone_is_refused() {
        for bad in [
            "database.overload.slowdown=[[300, 10], [200, 20]]",
            "database.overload.slowdown=[[300, 10], [400, 5]]",
            "database.overload.slowdown=[[300, 0.5]]",
        ] {
            let e = model(&[bad]).unwrap_err().to_string();
            assert!(e.contains("database.overload.slowdown"), "{bad}: {e}");
        }
    }

    #[test]
    fn usl_grows_with_concurrency() {
        let m = model(&[
            "database.contention.sigma=0.1",
            "database.contention.kappa=0.01",
        ])
        .unwrap();
        let d = &m.database;
        assert_eq!(d.contention_factor(1), 1.0);
        // 1 + 0.1 × 9 + 0.01 × 10 × 9
        assert!((d.contention_factor(10) - 2.8).abs() < 1e-12);
        let e = model(&["database.contention.sigma=1"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.contention.sigma"), "{e}");
    }

    #[test]
    fn a_zero_deadline_and_a_queue_without_a_bound_are_refused() {
        let e = model(&["database.deadline=0s"]).unwrap_err().to_string();
        assert!(e.contains("database.deadline"), "{e}");
        let e = model(&["database.queue_limit=5"]).unwrap_err().to_string();
        assert!(e.contains("database.queue_limit"), "{e}");
    }
}
