//! `[client]`: the cache client library, one instance per service instance.
//! What every policy shares (the op timeout, key placement) is here; each
//! policy's own settings, defaults, validation and report entries are in its
//! file. The validated [`ClientConfig`] carries only the policy in use, so a
//! policy's settings are reachable only while that policy runs. The
//! simulator's twin is `sim::client`.
//!
//! Each policy's parameters live in their own subtable, read only when that
//! policy is active, so `--set client.policy=plain` never makes a model
//! invalid (spymemcached's subtable, the default policy's, is checked
//! always, as it was before the policies had subtables of their own).

pub mod libmemcached;
pub mod mcrouter;
pub mod plain;
pub mod pymemcache;
mod shared;
pub mod spymemcached;
pub mod twemproxy;

pub use shared::{HashChoice, LocatorChoice};

use serde::Deserialize;

use super::check::Check;
use super::cluster::PoolConfig;
use super::error::ConfigError;
use super::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::MS;

/// The cache client library.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// A per-request timeout and nothing else: textbook checks and the peer.
    Plain,
    /// spymemcached 2.12.3 (`shared/reference/spymemcached.md`).
    #[default]
    Spymemcached,
    /// mcrouter as a sidecar proxy per service instance (reference §7).
    Mcrouter,
    /// twemproxy (nutcracker) as a sidecar proxy per service instance (§7).
    Twemproxy,
    /// pymemcache `HashClient` (§7).
    Pymemcache,
    /// libmemcached (§7).
    Libmemcached,
}

impl PolicyKind {
    /// Every policy, in the order of the file's documentation.
    pub const ALL: [PolicyKind; 6] = [
        PolicyKind::Plain,
        PolicyKind::Spymemcached,
        PolicyKind::Mcrouter,
        PolicyKind::Twemproxy,
        PolicyKind::Pymemcache,
        PolicyKind::Libmemcached,
    ];

    /// The policy's name in the model file (`client.policy`) and its
    /// subtable's (`[client.<name>]`).
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Plain => "plain",
            PolicyKind::Spymemcached => "spymemcached",
            PolicyKind::Mcrouter => "mcrouter",
            PolicyKind::Twemproxy => "twemproxy",
            PolicyKind::Pymemcache => "pymemcache",
            PolicyKind::Libmemcached => "libmemcached",
        }
    }

    /// Whether the policy uses `client.op_timeout` (the four others each
    /// have their own timeout key, `docs/policies.md`): plots state only
    /// the settings the active policy uses.
    pub const fn uses_op_timeout(self) -> bool {
        match self {
            PolicyKind::Plain | PolicyKind::Spymemcached => true,
            PolicyKind::Mcrouter
            | PolicyKind::Twemproxy
            | PolicyKind::Pymemcache
            | PolicyKind::Libmemcached => false,
        }
    }
}

/// `[client]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// `spymemcached` (default) or another of [`PolicyKind::ALL`].
    #[serde(default)]
    pub policy: PolicyKind,
    /// Operation timeout enforced by the waiting caller. Default 2500ms
    /// (spymemcached `DEFAULT_OPERATION_TIMEOUT`, §2.1).
    #[serde(default = "default_op_timeout")]
    pub op_timeout: Duration,
    /// Parameters of the `plain` policy.
    #[serde(default)]
    pub plain: plain::PlainFile,
    /// Parameters of the `spymemcached` policy.
    #[serde(default)]
    pub spymemcached: spymemcached::SpymemcachedFile,
    /// Parameters of the `mcrouter` policy.
    #[serde(default)]
    pub mcrouter: mcrouter::McrouterFile,
    /// Parameters of the `twemproxy` policy.
    #[serde(default)]
    pub twemproxy: twemproxy::TwemproxyFile,
    /// Parameters of the `pymemcache` policy.
    #[serde(default)]
    pub pymemcache: pymemcache::PymemcacheFile,
    /// Parameters of the `libmemcached` policy.
    #[serde(default)]
    pub libmemcached: libmemcached::LibmemcachedFile,
}

impl Default for ClientFile {
    fn default() -> Self {
        ClientFile {
            policy: PolicyKind::default(),
            op_timeout: default_op_timeout(),
            plain: Default::default(),
            spymemcached: Default::default(),
            mcrouter: Default::default(),
            twemproxy: Default::default(),
            pymemcache: Default::default(),
            libmemcached: Default::default(),
        }
    }
}

fn default_op_timeout() -> Duration {
    Duration(2_500 * MS)
}

/// The client, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// Op timeout (the waiting caller's, whatever the policy).
    pub op_timeout: Nanos,
    /// The policy in use, with its settings.
    pub policy: PolicyConfig,
}

/// The policy in use and its validated settings.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyConfig {
    /// `plain`.
    Plain(plain::PlainConfig),
    /// `spymemcached`.
    Spymemcached(spymemcached::SpymemcachedConfig),
    /// `mcrouter`.
    Mcrouter(mcrouter::McrouterConfig),
    /// `twemproxy`.
    Twemproxy(twemproxy::TwemproxyConfig),
    /// `pymemcache`.
    Pymemcache(pymemcache::PymemcacheConfig),
    /// `libmemcached`.
    Libmemcached(libmemcached::LibmemcachedConfig),
}

impl PolicyConfig {
    /// Which policy this is.
    pub fn kind(&self) -> PolicyKind {
        match self {
            PolicyConfig::Plain(_) => PolicyKind::Plain,
            PolicyConfig::Spymemcached(_) => PolicyKind::Spymemcached,
            PolicyConfig::Mcrouter(_) => PolicyKind::Mcrouter,
            PolicyConfig::Twemproxy(_) => PolicyKind::Twemproxy,
            PolicyConfig::Pymemcache(_) => PolicyKind::Pymemcache,
            PolicyConfig::Libmemcached(_) => PolicyKind::Libmemcached,
        }
    }

    /// How the policy places keys on a pool's nodes.
    pub fn placement(&self) -> (LocatorChoice, HashChoice) {
        match self {
            PolicyConfig::Plain(c) => (c.locator, c.hash),
            PolicyConfig::Spymemcached(c) => (c.locator, c.hash),
            PolicyConfig::Mcrouter(c) => (c.locator, c.hash),
            PolicyConfig::Twemproxy(c) => (c.locator, c.hash),
            PolicyConfig::Pymemcache(c) => (c.locator, c.hash),
            PolicyConfig::Libmemcached(c) => (c.locator, c.hash),
        }
    }
}

impl ClientConfig {
    /// The client's entries of `Model::describe`: the policy, the op timeout
    /// and the policy's main settings.
    pub(super) fn describe(&self, pools: &[PoolConfig], put: &mut dyn FnMut(&str, String)) {
        use crate::engine::format_nanos as f;
        put("client.policy", self.policy.kind().name().into());
        put("client.op_timeout", f(self.op_timeout));
        match &self.policy {
            PolicyConfig::Plain(c) => c.describe(put),
            PolicyConfig::Spymemcached(c) => c.describe(put),
            PolicyConfig::Mcrouter(c) => c.describe(pools, put),
            PolicyConfig::Twemproxy(c) => c.describe(put),
            PolicyConfig::Pymemcache(c) => c.describe(put),
            PolicyConfig::Libmemcached(c) => c.describe(put),
        }
    }
}

pub(super) fn validate(
    v: &Check,
    c: &ClientFile,
    pools: &[PoolConfig],
) -> Result<ClientConfig, ConfigError> {
    let op_timeout = v.positive(path!["client", "op_timeout"], c.op_timeout.0)?;
    // Checked whatever the policy (see the module's documentation).
    let spy = spymemcached::validate(v, &c.spymemcached)?;
    let policy = match c.policy {
        PolicyKind::Plain => PolicyConfig::Plain(plain::validate(&c.plain)),
        PolicyKind::Spymemcached => PolicyConfig::Spymemcached(spy),
        PolicyKind::Mcrouter => PolicyConfig::Mcrouter(mcrouter::validate(v, &c.mcrouter, pools)?),
        PolicyKind::Twemproxy => PolicyConfig::Twemproxy(twemproxy::validate(v, &c.twemproxy)?),
        PolicyKind::Pymemcache => PolicyConfig::Pymemcache(pymemcache::validate(v, &c.pymemcache)?),
        PolicyKind::Libmemcached => {
            PolicyConfig::Libmemcached(libmemcached::validate(v, &c.libmemcached)?)
        }
    };
    fnv_only_for_twemproxy(v, &policy, "client")?;
    Ok(ClientConfig { op_timeout, policy })
}

/// `fnv1a_64` places keys as twemproxy does (MD5 ring points, the FNV key
/// hash); spymemcached's Ketama with `FNV1A_64_HASH` builds its points with
/// the FNV hash instead, and the other libraries have no such hash, so only
/// twemproxy takes it.
pub(in crate::config) fn fnv_only_for_twemproxy(
    v: &Check,
    policy: &PolicyConfig,
    section: &str,
) -> Result<(), ConfigError> {
    let (_, hash) = policy.placement();
    match (policy, hash) {
        (PolicyConfig::Twemproxy(_), _) | (_, HashChoice::Native) | (_, HashChoice::Ketama) => {
            Ok(())
        }
        (
            PolicyConfig::Plain(_)
            | PolicyConfig::Spymemcached(_)
            | PolicyConfig::Mcrouter(_)
            | PolicyConfig::Pymemcache(_)
            | PolicyConfig::Libmemcached(_),
            HashChoice::Fnv1a64,
        ) => Err(v.err_allowed(
            path![section, policy.kind().name(), "hash"],
            "`fnv1a_64` is twemproxy's key hash",
            "native or ketama (fnv1a_64 only in a twemproxy table)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{assert_allowed, model};

    #[test]
    fn all_lists_every_policy_the_file_accepts() {
        assert_allowed("client.policy", PolicyKind::ALL.map(PolicyKind::name));
        assert_allowed(
            "client.spymemcached.failure_mode",
            spymemcached::FailureMode::ALL.map(spymemcached::FailureMode::name),
        );
    }

    #[test]
    fn every_policy_validates_and_describes_itself() {
        for kind in PolicyKind::ALL {
            let set = format!("client.policy={}", kind.name());
            let m = model(&[&set]).unwrap_or_else(|e| panic!("{set}: {e}"));
            assert_eq!(m.client.policy.kind(), kind);
            let d = m.describe();
            assert_eq!(d["client.policy"], kind.name());
            assert_eq!(d["client.op_timeout"], "2500ms");
            // A policy describes only its own settings.
            for key in d.keys().filter(|k| k.starts_with("client.")) {
                assert!(
                    ["client.policy", "client.op_timeout"].contains(&key.as_str())
                        || key.starts_with(&format!("client.{}.", kind.name())),
                    "{kind:?} describes {key}"
                );
            }
        }
    }

    #[test]
    fn each_policy_places_keys_as_its_library_does_by_default() {
        use HashChoice::{Ketama as Md5, Native};
        use LocatorChoice::{ArrayMod, Ketama};
        for kind in PolicyKind::ALL {
            let m = model(&[&format!("client.policy={}", kind.name())]).unwrap();
            let expected = match kind {
                PolicyKind::Plain | PolicyKind::Spymemcached => (ArrayMod, Native),
                PolicyKind::Mcrouter | PolicyKind::Twemproxy | PolicyKind::Pymemcache => {
                    (Ketama, Md5)
                }
                PolicyKind::Libmemcached => (ArrayMod, Md5),
            };
            assert_eq!(m.client.policy.placement(), expected, "{kind:?}");
        }
    }

    #[test]
    fn an_inactive_policys_subtable_is_not_checked() {
        let bad = "client.mcrouter.server_timeout=0s";
        assert!(model(&["client.policy=plain", bad]).is_ok());
        let e = model(&["client.policy=mcrouter", bad]).unwrap_err();
        assert_eq!(e.key, "client.mcrouter.server_timeout");
        // spymemcached's subtable is checked whatever the policy.
        let spy = "client.spymemcached.timeout_exception_threshold=2";
        let e = model(&["client.policy=plain", spy]).unwrap_err();
        assert_eq!(e.key, "client.spymemcached.timeout_exception_threshold");
        assert!(
            e.allowed
                .unwrap()
                .contains("default 1000: trips at 999 consecutive"),
        );
    }
}
