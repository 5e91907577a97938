//! `[client.mcrouter]`: mcrouter as a sidecar proxy per service instance
//! (`shared/reference/spymemcached.md` §7). The simulator's twin is
//! `sim::client::mcrouter`.

use serde::Deserialize;

use super::shared::{HashChoice, LocatorChoice, ketama_hash, ketama_locator};
use crate::config::check::Check;
use crate::config::cluster::{PoolConfig, pool_index};
use crate::config::error::ConfigError;
use crate::config::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// `[client.mcrouter]`: mcrouter (facebook/mcrouter at 9d7f434,
/// `mcrouter_options_list.h`, `ProxyDestinationBase.cpp`, `TkoTracker.cpp`),
/// one sidecar per service instance.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McrouterFile {
    /// `--server-timeout` (per pool `server_timeout`): a request unanswered
    /// this long fails with `TIMEOUT`. Default 1000ms.
    #[serde(default = "default_mcrouter_timeout")]
    pub server_timeout: Duration,
    /// A connect not completed this long fails with `CONNECT_TIMEOUT`.
    /// Default: `server_timeout` (mcrouter uses the server timeout unless
    /// the pool sets `connect_timeout`).
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub connect_timeout: Option<Duration>,
    /// `--timeouts-until-tko`: consecutive timeouts that mark a destination
    /// soft TKO. Default 3. A connect error or connect timeout marks it hard
    /// TKO at once.
    #[serde(default = "default_timeouts_until_tko")]
    pub timeouts_until_tko: u32,
    /// `--probe-timeout-initial`: delay before the first probe of a TKO
    /// destination; each next delay is ×1.5 (`kProbeExponentialFactor`) and
    /// each is stretched by a random 5–50 % (`kProbeJitterMin/Max`).
    /// Default 10s.
    #[serde(default = "default_probe_initial")]
    pub probe_delay_initial: Duration,
    /// `--probe-timeout-max`: cap of the probe delay (before the stretch).
    /// Default 60s.
    #[serde(default = "default_probe_max")]
    pub probe_delay_max: Duration,
    /// A `[[cluster.pool]]` name: the failover route (gutter pool) of a
    /// `FailoverWithExptimeRoute`. Requests whose destination is TKO or fails
    /// with a failover error go to the key's node in that pool. Default: no
    /// failover route (requests to a TKO destination fail fast).
    pub gutter: Option<String>,
    /// `failover_exptime`: sets sent to the gutter pool expire after at most
    /// this. Default 60s.
    #[serde(default = "default_failover_exptime")]
    pub failover_exptime: Duration,
    /// Fail-open guard (the per-pool `tko_tracker` thresholds): when more
    /// than this share (0–1) of a pool's destinations is TKO, requests are
    /// sent to TKO destinations anyway. Default: off.
    pub tko_threshold: Option<f64>,
    /// Key placement. Default `ketama`: the project's Ketama ring stands in
    /// for mcrouter's default `Ch3` (furc) consistent hash.
    #[serde(default = "ketama_locator")]
    pub locator: LocatorChoice,
    /// Default `ketama` (MD5).
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for McrouterFile {
    fn default() -> Self {
        McrouterFile {
            server_timeout: default_mcrouter_timeout(),
            connect_timeout: None,
            timeouts_until_tko: default_timeouts_until_tko(),
            probe_delay_initial: default_probe_initial(),
            probe_delay_max: default_probe_max(),
            gutter: None,
            failover_exptime: default_failover_exptime(),
            tko_threshold: None,
            locator: ketama_locator(),
            hash: ketama_hash(),
        }
    }
}

fn default_mcrouter_timeout() -> Duration {
    Duration(SEC)
}
fn default_timeouts_until_tko() -> u32 {
    3
}
fn default_probe_initial() -> Duration {
    Duration(10 * SEC)
}
fn default_probe_max() -> Duration {
    Duration(60 * SEC)
}
fn default_failover_exptime() -> Duration {
    Duration(60 * SEC)
}

/// mcrouter parameters, validated (`McrouterFile` cites the defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct McrouterConfig {
    /// Request timeout.
    pub server_timeout: Nanos,
    /// Connect timeout.
    pub connect_timeout: Nanos,
    /// Consecutive timeouts to soft TKO.
    pub timeouts_until_tko: u32,
    /// First probe delay.
    pub probe_delay_initial: Nanos,
    /// Probe delay cap.
    pub probe_delay_max: Nanos,
    /// Index of the gutter (failover) pool.
    pub gutter: Option<usize>,
    /// Expiry cap of sets to the gutter pool.
    pub failover_exptime: Nanos,
    /// Fail-open share of TKO destinations.
    pub tko_threshold: Option<f64>,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

impl McrouterConfig {
    /// The request timeout and the gutter pool.
    pub(super) fn describe(&self, pools: &[PoolConfig], put: &mut dyn FnMut(&str, String)) {
        put(
            "client.mcrouter.server_timeout",
            crate::engine::format_nanos(self.server_timeout),
        );
        put(
            "client.mcrouter.gutter",
            self.gutter.map_or("none".into(), |g| pools[g].name.clone()),
        );
    }
}

pub(super) fn validate(
    v: &Check,
    m: &McrouterFile,
    pools: &[PoolConfig],
) -> Result<McrouterConfig, ConfigError> {
    validate_at(v, m, pools, "client")
}

/// [`validate`] for the table `[<section>.mcrouter]` (`client`, or `proxy`
/// for a proxy tier: `config::proxy`).
pub(in crate::config) fn validate_at(
    v: &Check,
    m: &McrouterFile,
    pools: &[PoolConfig],
    section: &str,
) -> Result<McrouterConfig, ConfigError> {
    let at = |k: &str| path![section, "mcrouter", k];
    let server_timeout = v.positive(at("server_timeout"), m.server_timeout.0)?;
    let connect_timeout = match m.connect_timeout {
        Some(t) => v.positive(at("connect_timeout"), t.0)?,
        None => server_timeout,
    };
    let timeouts_until_tko = v.at_least(at("timeouts_until_tko"), m.timeouts_until_tko, 1)?;
    let probe_delay_initial = v.positive(at("probe_delay_initial"), m.probe_delay_initial.0)?;
    let failover_exptime = v.positive(at("failover_exptime"), m.failover_exptime.0)?;
    if m.probe_delay_max.0 < probe_delay_initial {
        return Err(v.err_allowed(
            at("probe_delay_max"),
            format!(
                "{} is shorter than probe_delay_initial ({})",
                m.probe_delay_max, m.probe_delay_initial
            ),
            // In seconds, as the reference states it (`format_nanos` says 1m).
            format!(
                "a duration ≥ probe_delay_initial (default {}s)",
                default_probe_max().0 / SEC
            ),
        ));
    }
    if let Some(t) = m.tko_threshold
        && !(t.is_finite() && (0.0..=1.0).contains(&t))
    {
        return Err(v.err_allowed(
            at("tko_threshold"),
            format!("found {t}"),
            "a share between 0 and 1 (e.g. 0.5)",
        ));
    }
    let gutter = match &m.gutter {
        None => None,
        Some(name) => Some(pool_index(v, at("gutter"), pools, name)?),
    };
    Ok(McrouterConfig {
        server_timeout,
        connect_timeout,
        timeouts_until_tko,
        probe_delay_initial,
        probe_delay_max: m.probe_delay_max.0,
        gutter,
        failover_exptime,
        tko_threshold: m.tko_threshold,
        locator: m.locator,
        hash: m.hash,
    })
}

/// `kProbeExponentialFactor` (`ProxyDestinationBase.cpp`): each probe delay
/// is the previous one × 1.5.
pub const PROBE_FACTOR: f64 = 1.5;

/// The probe delay after `delay`: × [`PROBE_FACTOR`] rounded up, and at
/// least one nanosecond longer, capped at `max`. mcrouter counts in
/// milliseconds, where a 1 ms delay grows to 1.5 ms; truncating in
/// nanoseconds would keep a 1 ns delay at 1 ns for ever (a probe storm).
pub fn next_probe_delay(delay: Nanos, max: Nanos) -> Nanos {
    let grown = (delay as f64 * PROBE_FACTOR).ceil();
    let grown = if grown >= Nanos::MAX as f64 {
        Nanos::MAX
    } else {
        (grown as Nanos).max(delay.saturating_add(1))
    };
    grown.min(max.max(delay))
}

#[cfg(test)]
mod probe_tests {
    use super::*;

    #[test]
    fn probe_delay_grows_from_one_nanosecond() {
        // 1 → 2 → 3 → 5 → 8 (ceil of ×1.5), then capped.
        let mut d = 1;
        let mut seen = vec![d];
        for _ in 0..4 {
            d = next_probe_delay(d, 1000);
            seen.push(d);
        }
        assert_eq!(seen, [1, 2, 3, 5, 8]);
        // The documented 10 s → 15 s → 22.5 s, and the cap.
        assert_eq!(next_probe_delay(10 * SEC, 60 * SEC), 15 * SEC);
        assert_eq!(next_probe_delay(15 * SEC, 60 * SEC), 22_500_000_000);
        assert_eq!(next_probe_delay(50 * SEC, 60 * SEC), 60 * SEC);
        assert_eq!(next_probe_delay(60 * SEC, 60 * SEC), 60 * SEC);
        assert_eq!(next_probe_delay(Nanos::MAX - 1, Nanos::MAX), Nanos::MAX);
    }
}
