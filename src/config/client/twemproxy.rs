//! `[client.twemproxy]`: twemproxy (nutcracker) as a sidecar proxy per
//! service instance (`shared/reference/spymemcached.md` §7). The simulator's
//! twin is `sim::client::twemproxy`.

use serde::Deserialize;

use super::shared::{HashChoice, LocatorChoice, describe_opt, ketama_hash, ketama_locator};
use crate::config::check::Check;
use crate::config::error::ConfigError;
use crate::config::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// `[client.twemproxy]`: twemproxy / nutcracker (twitter/twemproxy at
/// 60aaf85 = 0.5.0, `nc_conf.h`, `nc_server.c`, `nc_core.c`), one sidecar
/// per service instance with `server_connections: 1`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwemproxyFile {
    /// `timeout:` per request to a server; its expiry closes the server
    /// connection and fails every request outstanding on it. Default: none
    /// (−1 in `nc_conf.h`: waits forever). Also the connect timeout.
    #[serde(default, deserialize_with = "crate::config::units::duration_or_none")]
    pub timeout: Option<Duration>,
    /// `server_failure_limit`: consecutive failures (connection closes:
    /// error, EOF, refused connect or timeout) that eject a server when
    /// `auto_eject_hosts` is on. Default 2.
    #[serde(default = "default_twemproxy_limit")]
    pub server_failure_limit: u32,
    /// `auto_eject_hosts`. Default false.
    #[serde(default)]
    pub auto_eject_hosts: bool,
    /// `server_retry_timeout`: an ejected server is back in the ring after
    /// this. Default 30000ms.
    #[serde(default = "default_twemproxy_retry")]
    pub server_retry_timeout: Duration,
    /// Key placement. Default `ketama`: the project's Ketama ring (MD5, 160
    /// points) over the live servers stands in for twemproxy's ketama with
    /// `fnv1a_64`.
    #[serde(default = "ketama_locator")]
    pub locator: LocatorChoice,
    /// Default `ketama`.
    #[serde(default = "ketama_hash")]
    pub hash: HashChoice,
}

impl Default for TwemproxyFile {
    fn default() -> Self {
        TwemproxyFile {
            timeout: None,
            server_failure_limit: default_twemproxy_limit(),
            auto_eject_hosts: false,
            server_retry_timeout: default_twemproxy_retry(),
            locator: ketama_locator(),
            hash: ketama_hash(),
        }
    }
}

fn default_twemproxy_limit() -> u32 {
    2
}
fn default_twemproxy_retry() -> Duration {
    Duration(30 * SEC)
}

/// twemproxy parameters, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct TwemproxyConfig {
    /// Request (and connect) timeout; `None` = forever.
    pub timeout: Option<Nanos>,
    /// Consecutive failures to eject.
    pub server_failure_limit: u32,
    /// Eject failing servers.
    pub auto_eject_hosts: bool,
    /// Time out of the ring.
    pub server_retry_timeout: Nanos,
    /// Locator.
    pub locator: LocatorChoice,
    /// Hash.
    pub hash: HashChoice,
}

impl TwemproxyConfig {
    /// The timeout and whether failing servers are ejected.
    pub(super) fn describe(&self, put: &mut dyn FnMut(&str, String)) {
        put("client.twemproxy.timeout", describe_opt(self.timeout));
        put(
            "client.twemproxy.auto_eject_hosts",
            self.auto_eject_hosts.to_string(),
        );
    }
}

pub(super) fn validate(v: &Check, t: &TwemproxyFile) -> Result<TwemproxyConfig, ConfigError> {
    validate_at(v, t, "client")
}

/// [`validate`] for the table `[<section>.twemproxy]` (`client`, or `proxy`
/// for a proxy tier: `config::proxy`).
pub(in crate::config) fn validate_at(
    v: &Check,
    t: &TwemproxyFile,
    section: &str,
) -> Result<TwemproxyConfig, ConfigError> {
    let at = |k: &str| path![section, "twemproxy", k];
    let timeout = match t.timeout {
        Some(d) => Some(v.positive(at("timeout"), d.0)?),
        None => None,
    };
    Ok(TwemproxyConfig {
        timeout,
        server_failure_limit: v.at_least(at("server_failure_limit"), t.server_failure_limit, 1)?,
        auto_eject_hosts: t.auto_eject_hosts,
        server_retry_timeout: v.positive(at("server_retry_timeout"), t.server_retry_timeout.0)?,
        locator: t.locator,
        hash: t.hash,
    })
}
