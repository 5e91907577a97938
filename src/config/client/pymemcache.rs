//! `[client.pymemcache]`: pymemcache's `HashClient`
//! (`shared/reference/spymemcached.md` §7). The simulator's twin is
//! `sim::client::pymemcache`.

use serde::Deserialize;

use super::shared::{HashChoice, LocatorChoice, describe_opt, ketama_hash, ketama_locator};
use crate::config::check::Check;
use crate::config::error::ConfigError;
use crate::config::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// `[client.pymemcache]`: pymemcache `HashClient` (pinterest/pymemcache at
/// 3ef28ef, `pymemcache/client/hash.py`, `base.py`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PymemcacheFile {
    /// `timeout`: socket timeout of a call. Default: none (`None`: the call
    /// blocks forever). With a timeout, its expiry is a `socket.timeout`
    /// (an `OSError`) and counts as a failure.
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub timeout: Option<Duration>,
    /// `connect_timeout`. Default: none (the OS gives up after
    /// `network.connect_timeout`).
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub connect_timeout: Option<Duration>,
    /// `retry_attempts`: failed retries before the node is marked dead.
    /// Default 2.
    #[serde(default = "default_py_attempts")]
    pub retry_attempts: u32,
    /// `retry_timeout`: after a failure, calls return the default without
    /// trying for this long. Default 1s.
    #[serde(default = "default_py_retry")]
    pub retry_timeout: Duration,
    /// `dead_timeout`: a dead node is added back after this (checked on the
    /// next call). Default 60s.
    #[serde(default = "default_py_dead")]
    pub dead_timeout: Duration,
    /// `ignore_exc`: failures return the default (a miss) instead of raising.
    /// Default false.
    #[serde(default)]
    pub ignore_exc: bool,
    /// Key placement. Default `ketama`: the project's Ketama ring over the
    /// live nodes stands in for pymemcache's rendezvous (murmur3) hash.
    #[serde(default = "ketama_locator")]
    pub locator: LocatorChoice,
    /// Default `ketama`.
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for PymemcacheFile {
    fn default() -> Self {
        PymemcacheFile {
            timeout: None,
            connect_timeout: None,
            retry_attempts: default_py_attempts(),
            retry_timeout: default_py_retry(),
            dead_timeout: default_py_dead(),
            ignore_exc: false,
            locator: ketama_locator(),
            hash: ketama_hash(),
        }
    }
}

fn default_py_attempts() -> u32 {
    2
}
fn default_py_retry() -> Duration {
    Duration(SEC)
}
fn default_py_dead() -> Duration {
    Duration(60 * SEC)
}

/// pymemcache `HashClient` parameters, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct PymemcacheConfig {
    /// Call timeout; `None` = blocks forever.
    pub timeout: Option<Nanos>,
    /// Connect timeout; `None` = the OS's.
    pub connect_timeout: Option<Nanos>,
    /// Failed retries before dead.
    pub retry_attempts: u32,
    /// Fast-fail window after a failure.
    pub retry_timeout: Nanos,
    /// Time a dead node stays out.
    pub dead_timeout: Nanos,
    /// Failures return the default.
    pub ignore_exc: bool,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

impl PymemcacheConfig {
    /// The call timeout.
    pub(super) fn describe(&self, put: &mut dyn FnMut(&str, String)) {
        put("client.pymemcache.timeout", describe_opt(self.timeout));
    }
}

pub(super) fn validate(v: &Check, p: &PymemcacheFile) -> Result<PymemcacheConfig, ConfigError> {
    let at = |k: &str| path!["client", "pymemcache", k];
    let timeout = match p.timeout {
        Some(d) => Some(v.positive(at("timeout"), d.0)?),
        None => None,
    };
    let connect_timeout = match p.connect_timeout {
        Some(d) => Some(v.positive(at("connect_timeout"), d.0)?),
        None => None,
    };
    Ok(PymemcacheConfig {
        timeout,
        connect_timeout,
        retry_attempts: p.retry_attempts,
        retry_timeout: p.retry_timeout.0,
        dead_timeout: p.dead_timeout.0,
        ignore_exc: p.ignore_exc,
        locator: p.locator,
        hash: p.hash,
    })
}
