//! `[client.libmemcached]`: libmemcached (`shared/reference/spymemcached.md`
//! §7). The simulator's twin is `sim::client::libmemcached`.

use serde::Deserialize;

use super::shared::{HashChoice, LocatorChoice, ketama_hash};
use crate::config::check::Check;
use crate::config::error::ConfigError;
use crate::config::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// `[client.libmemcached]`: libmemcached (awesomized 1.1.4 at 374774d, same
/// defaults and TCP failure logic as 1.0.18: `defaults.h`, `connect.cc`,
/// `io.cc`, `server.hpp`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibmemcachedFile {
    /// `MEMCACHED_BEHAVIOR_POLL_TIMEOUT` per op: its expiry closes the
    /// socket and is not counted as a failure. Default 5000ms (the code's
    /// `MEMCACHED_DEFAULT_TIMEOUT`; the docs say −1).
    #[serde(default = "default_lm_poll")]
    pub poll_timeout: Duration,
    /// `MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT`. Default 4000ms.
    #[serde(default = "default_lm_connect")]
    pub connect_timeout: Duration,
    /// `MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT`: connect failures that eject
    /// a server when `auto_eject_hosts` is on. Default 5.
    #[serde(default = "default_lm_limit")]
    pub server_failure_limit: u32,
    /// `MEMCACHED_BEHAVIOR_RETRY_TIMEOUT`: after a connect failure the server
    /// is "in timeout" this long (ops fail fast). Default 2s.
    #[serde(default = "default_lm_retry")]
    pub retry_timeout: Duration,
    /// `MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS` / `REMOVE_FAILED_SERVERS`.
    /// Default false.
    #[serde(default)]
    pub auto_eject_hosts: bool,
    /// `MEMCACHED_BEHAVIOR_DEAD_TIMEOUT`: an ejected server gets one reconnect
    /// try after this; 0 = never. Default 0.
    #[serde(default)]
    pub dead_timeout: Duration,
    /// Key placement. Default `array_mod` (libmemcached's default modula
    /// distribution); `ketama` for its ketama continuum.
    #[serde(default)]
    pub locator: LocatorChoice,
    /// Default `ketama` (MD5 stands in for libmemcached's default
    /// one-at-a-time hash: both spread keys evenly).
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for LibmemcachedFile {
    fn default() -> Self {
        LibmemcachedFile {
            poll_timeout: default_lm_poll(),
            connect_timeout: default_lm_connect(),
            server_failure_limit: default_lm_limit(),
            retry_timeout: default_lm_retry(),
            auto_eject_hosts: false,
            dead_timeout: Duration::default(),
            locator: LocatorChoice::default(),
            hash: ketama_hash(),
        }
    }
}

fn default_lm_poll() -> Duration {
    Duration(5 * SEC)
}
fn default_lm_connect() -> Duration {
    Duration(4 * SEC)
}
fn default_lm_limit() -> u32 {
    5
}
fn default_lm_retry() -> Duration {
    Duration(2 * SEC)
}

/// libmemcached parameters, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct LibmemcachedConfig {
    /// Per-op poll timeout.
    pub poll_timeout: Nanos,
    /// Connect timeout.
    pub connect_timeout: Nanos,
    /// Connect failures to eject (with auto-eject).
    pub server_failure_limit: u32,
    /// "In timeout" after a connect failure.
    pub retry_timeout: Nanos,
    /// Eject failing servers.
    pub auto_eject_hosts: bool,
    /// Time before an ejected server's one reconnect try; 0 = never.
    pub dead_timeout: Nanos,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

impl LibmemcachedConfig {
    /// The poll timeout and whether failing servers are ejected.
    pub(super) fn describe(&self, put: &mut dyn FnMut(&str, String)) {
        put(
            "client.libmemcached.poll_timeout",
            crate::engine::format_nanos(self.poll_timeout),
        );
        put(
            "client.libmemcached.auto_eject_hosts",
            self.auto_eject_hosts.to_string(),
        );
    }
}

pub(super) fn validate(v: &Check, l: &LibmemcachedFile) -> Result<LibmemcachedConfig, ConfigError> {
    let at = |k: &str| path!["client", "libmemcached", k];
    Ok(LibmemcachedConfig {
        poll_timeout: v.positive(at("poll_timeout"), l.poll_timeout.0)?,
        connect_timeout: v.positive(at("connect_timeout"), l.connect_timeout.0)?,
        server_failure_limit: v.at_least(at("server_failure_limit"), l.server_failure_limit, 1)?,
        retry_timeout: l.retry_timeout.0,
        auto_eject_hosts: l.auto_eject_hosts,
        dead_timeout: l.dead_timeout.0,
        locator: l.locator,
        hash: l.hash,
    })
}
