//! `[client.spymemcached]`: spymemcached 2.12.3, the default policy
//! (`shared/reference/spymemcached.md`). The simulator's twin is
//! `sim::client::spymemcached`.

use serde::Deserialize;

use super::shared::{HashChoice, LocatorChoice};
use crate::config::check::Check;
use crate::config::dist::{Dist, DistKind, DistSpec};
use crate::config::error::ConfigError;
use crate::config::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::{SEC, US};

/// spymemcached's failure modes (§4).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// New ops for an inactive node go to the next active node (default).
    #[default]
    Redistribute,
    /// New ops for an inactive node queue on it until it reconnects.
    Retry,
    /// New ops for an inactive node are cancelled at once.
    Cancel,
}

/// `[client.spymemcached]`: defaults of spymemcached 2.12.3
/// (`DefaultConnectionFactory`, `shared/reference/spymemcached.md` §2.1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpymemcachedFile {
    /// `redistribute` (default), `retry` or `cancel`.
    #[serde(default)]
    pub failure_mode: FailureMode,
    /// `array_mod` (default) or `ketama`.
    #[serde(default)]
    pub locator: LocatorChoice,
    /// `native` (default) or `ketama`.
    #[serde(default)]
    pub hash: HashChoice,
    /// As passed to `setTimeoutExceptionThreshold(n)`: stored as n − 2, so the
    /// node is dropped at n − 1 consecutive timeouts. Default 1000 (trips at
    /// 999). At least 3.
    #[serde(default = "default_threshold")]
    pub timeout_exception_threshold: u32,
    /// Cap of the reconnect back-off min(cap, 2^n s). Default 30s.
    #[serde(default = "default_max_reconnect")]
    pub max_reconnect_delay: Duration,
    /// Input queue capacity per node. Default 16384.
    #[serde(default = "default_op_queue_len")]
    pub op_queue_len: u32,
    /// How long a caller blocks on a full input queue. Default 10s.
    #[serde(default = "default_op_queue_max_block")]
    pub op_queue_max_block: Duration,
    /// Send a noop at each (re)connect and block the I/O thread up to the op
    /// timeout for its reply (`net.spy.verifyAliveOnConnect`, §3.5). Default false.
    #[serde(default)]
    pub verify_alive_on_connect: bool,
    /// I/O-thread time to log one WARN line for each op discarded when a
    /// connection drops: a duration, or a distribution drawn once per drop
    /// (every line of one drop costs the same: what varied between the
    /// testbed's drops was the machine and the JIT, not the lines). Default
    /// [`default_discard_log`]: the testbed's measurement.
    #[serde(default = "default_discard_log")]
    pub discard_log_line: DiscardLog,
    /// Longest the I/O thread sleeps in select (`net.spy.wakeupDelay`).
    /// Default 1s.
    #[serde(default = "default_wakeup")]
    pub wakeup_delay: Duration,
}

impl Default for SpymemcachedFile {
    fn default() -> Self {
        SpymemcachedFile {
            failure_mode: FailureMode::default(),
            locator: LocatorChoice::default(),
            hash: HashChoice::default(),
            timeout_exception_threshold: default_threshold(),
            max_reconnect_delay: default_max_reconnect(),
            op_queue_len: default_op_queue_len(),
            op_queue_max_block: default_op_queue_max_block(),
            verify_alive_on_connect: false,
            discard_log_line: default_discard_log(),
            wakeup_delay: default_wakeup(),
        }
    }
}

fn default_threshold() -> u32 {
    1000
}
fn default_max_reconnect() -> Duration {
    Duration(30 * SEC)
}
fn default_op_queue_len() -> u32 {
    16_384
}
fn default_op_queue_max_block() -> Duration {
    Duration(10 * SEC)
}
/// The time per discarded-op WARN line, as written: a duration or a
/// distribution table.
#[derive(Clone, Debug, PartialEq)]
pub enum DiscardLog {
    /// The same for every drop.
    Fixed(Duration),
    /// Drawn at each drop.
    Dist(DistSpec),
}

impl<'de> serde::Deserialize<'de> for DiscardLog {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DiscardLog;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(
                    f,
                    "a duration (\"250us\") or a distribution table ({{ dist = \"lognormal\", median = \"36us\", p99 = \"350us\" }})"
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<DiscardLog, E> {
                use serde::de::IntoDeserializer;
                let d: serde::de::value::StrDeserializer<E> = s.into_deserializer();
                Duration::deserialize(d).map(DiscardLog::Fixed)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<DiscardLog, A::Error> {
                DistSpec::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(DiscardLog::Dist)
            }
        }
        d.deserialize_any(V)
    }
}

/// Median time per discarded-op WARN line: the testbed's drops (63 drops in
/// 15 runs of memcached 1.6.18 + spymemcached 2.12.3 on a 2-core VM, each
/// drop's stall divided by the ops it discarded) had a median of 36 µs per
/// op, a mean of 58 µs and a 90th percentile of 108 µs; a drop of about
/// 2,000 ops stalled 0.075 s at the median.
pub const DISCARD_LOG_MEDIAN: Nanos = 36 * US;

/// The 99th percentile of the default log-normal: with the median above and
/// the measured mean (58 µs), σ = √(2 ln(58/36)) = 0.977 and p99 = 36 µs ×
/// e^(2.326 σ) = 350 µs. (Its p90 is then 126 µs against the measured
/// 108 µs: fitting median and p90 instead gives a mean of 52 µs.)
pub const DISCARD_LOG_P99: Nanos = 350 * US;

/// The default: log-normal with [`DISCARD_LOG_MEDIAN`] and
/// [`DISCARD_LOG_P99`], drawn once per drop. Not modelled: the first drop
/// of a run was the slowest (0.15–0.37 s, JIT warm-up), later ones mostly
/// 0.03–0.14 s; the distribution's tail covers such drops without tying
/// them to the first.
pub fn default_discard_log() -> DiscardLog {
    DiscardLog::Dist(DistSpec {
        dist: DistKind::Lognormal,
        value: None,
        mean: None,
        min: None,
        max: None,
        median: Some(Duration(DISCARD_LOG_MEDIAN)),
        p99: Some(Duration(DISCARD_LOG_P99)),
    })
}
fn default_wakeup() -> Duration {
    Duration(SEC)
}

impl FailureMode {
    /// Every mode, in the order of the file's documentation.
    pub const ALL: [FailureMode; 3] = [
        FailureMode::Redistribute,
        FailureMode::Retry,
        FailureMode::Cancel,
    ];

    /// The mode's name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            FailureMode::Redistribute => "redistribute",
            FailureMode::Retry => "retry",
            FailureMode::Cancel => "cancel",
        }
    }
}

/// spymemcached parameters, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SpymemcachedConfig {
    /// Failure mode.
    pub failure_mode: FailureMode,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
    /// The stored threshold (builder value − 2): the node drops when the
    /// count exceeds it.
    pub timeout_threshold: u32,
    /// Back-off cap.
    pub max_reconnect_delay: Nanos,
    /// Input queue capacity.
    pub op_queue_len: u32,
    /// Blocking add limit.
    pub op_queue_max_block: Nanos,
    /// Noop on connect.
    pub verify_alive_on_connect: bool,
    /// I/O thread time per discarded-op log line, drawn once per drop.
    pub discard_log_line: Dist,
    /// Select wake-up delay.
    pub wakeup_delay: Nanos,
}

impl SpymemcachedConfig {
    /// The failure mode.
    pub(super) fn describe(&self, put: &mut dyn FnMut(&str, String)) {
        put(
            "client.spymemcached.failure_mode",
            self.failure_mode.name().into(),
        );
    }
}

pub(super) fn validate(v: &Check, s: &SpymemcachedFile) -> Result<SpymemcachedConfig, ConfigError> {
    let at = |k: &str| path!["client", "spymemcached", k];
    let n = s.timeout_exception_threshold;
    if n < 3 {
        return Err(v.err_allowed(
            at("timeout_exception_threshold"),
            format!("found {n}; the builder stores n − 2 and ignores values below 2"),
            format!(
                "an integer ≥ 3 (default {}: trips at {} consecutive timeouts)",
                default_threshold(),
                default_threshold() - 1
            ),
        ));
    }
    Ok(SpymemcachedConfig {
        failure_mode: s.failure_mode,
        locator: s.locator,
        hash: s.hash,
        timeout_threshold: n - 2,
        max_reconnect_delay: v.positive(at("max_reconnect_delay"), s.max_reconnect_delay.0)?,
        op_queue_len: v.at_least(at("op_queue_len"), s.op_queue_len, 1)?,
        op_queue_max_block: s.op_queue_max_block.0,
        verify_alive_on_connect: s.verify_alive_on_connect,
        discard_log_line: match &s.discard_log_line {
            DiscardLog::Fixed(d) => Dist::Constant(d.0),
            DiscardLog::Dist(spec) => v.dist(at("discard_log_line"), spec)?,
        },
        wakeup_delay: v.positive(at("wakeup_delay"), s.wakeup_delay.0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PolicyConfig;
    use crate::config::testing::model;

    fn discard(sets: &[&str]) -> Dist {
        match model(sets).unwrap().client.policy {
            PolicyConfig::Spymemcached(s) => s.discard_log_line,
            other => panic!("{other:?}"),
        }
    }

    /// The default log-normal has the testbed's median (36 µs) and mean
    /// (58 µs) per discarded op.
    #[test]
    fn default_discard_stall_has_the_measured_median_and_mean() {
        let Dist::Lognormal { mu, sigma } = discard(&[]) else {
            panic!("not log-normal");
        };
        let median = mu.exp();
        assert!((median - DISCARD_LOG_MEDIAN as f64).abs() < 1.0, "{median}");
        let mean = discard(&[]).mean();
        assert!((mean - 58_000.0).abs() < 500.0, "mean {mean} ns, σ {sigma}");
    }

    /// A plain duration still means the same time for every line.
    #[test]
    fn a_duration_is_a_constant() {
        assert_eq!(
            discard(&["client.spymemcached.discard_log_line=250us"]),
            Dist::Constant(250 * US)
        );
    }
}
