//! `[proxy]`: a proxy tier (twemproxy / nutcracker, or mcrouter) as a
//! process between the application's client and the nodes. The simulator's
//! twin is `sim::proxy`.
//!
//! The application's client (any `client.policy`) has the proxy as its only
//! server; the proxy listens at `address`, routes each request to a node of
//! `pool` with its own placement, connections, timeout and ejection (or TKO),
//! and answers the client itself (`SERVER_ERROR` when the node's part
//! failed). The proxy's routing reuses the in-client policies' settings and
//! code: `[proxy.twemproxy]` takes the keys of `[client.twemproxy]`,
//! `[proxy.mcrouter]` those of `[client.mcrouter]`.

use serde::Deserialize;

use super::check::Check;
use super::client::PolicyConfig;
use super::client::mcrouter::{self, McrouterFile};
use super::client::twemproxy::{self, TwemproxyFile};
use super::cluster::{PoolConfig, pool_index};
use super::error::ConfigError;
use super::units::Duration;
use crate::engine::Nanos;
use crate::engine::time::US;

/// Which proxy program runs in the tier.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProxyKind {
    /// twemproxy (nutcracker) 0.5.0: one thread, ketama, ejection.
    Twemproxy,
    /// mcrouter: TKO trackers and probes, an optional failover pool.
    Mcrouter,
}

impl ProxyKind {
    /// Every kind, in the order the reference lists them.
    pub const ALL: [ProxyKind; 2] = [ProxyKind::Twemproxy, ProxyKind::Mcrouter];

    /// The name in model files.
    pub fn name(self) -> &'static str {
        match self {
            ProxyKind::Twemproxy => "twemproxy",
            ProxyKind::Mcrouter => "mcrouter",
        }
    }
}

/// `[proxy]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyFile {
    /// `twemproxy` or `mcrouter`. Required.
    pub kind: ProxyKind,
    /// The proxy's listen address (nutcracker's `listen:`), its name in
    /// plots and `node_events.csv`. Default `127.0.0.1:22121` (nutcracker's
    /// example configuration, `conf/nutcracker.yml`).
    #[serde(default = "default_address")]
    pub address: String,
    /// The `[[cluster.pool]]` whose nodes are the proxy's servers. Default:
    /// the first pool. Steps that name this pool reach it through the
    /// proxy.
    pub pool: Option<String>,
    /// The proxy's `servers:`, by node address (`"host:port"` as in
    /// `[cluster]`). Default: every node of `pool`. When given, they must be
    /// the nodes of one `[[cluster.pool]]` (which becomes `pool`): a proxy
    /// fronts a whole pool, so servers of their own go in a pool of their
    /// own.
    pub servers: Option<Vec<String>>,
    /// CPU time of the proxy's one thread per message it handles (a request
    /// read and forwarded, or a reply read and forwarded): twemproxy runs one
    /// event loop on one thread, so messages queue FIFO behind each other.
    /// Default 10us (`DEFAULT_SERVICE_TIME`).
    #[serde(default = "default_service_time")]
    pub service_time: Duration,
    /// twemproxy's pool settings (`[client.twemproxy]`'s keys).
    #[serde(default)]
    pub twemproxy: TwemproxyFile,
    /// mcrouter's settings (`[client.mcrouter]`'s keys).
    #[serde(default)]
    pub mcrouter: McrouterFile,
}

/// Default proxy CPU time per message. Measured (`docs/validation.md`, "The
/// proxy's service time"): nutcracker 0.5.0 in front of memcached 1.6.18 on
/// 127.0.0.1, one get at a time on one connection (each message its own
/// read and write, as a client's ops at a few thousand per second arrive),
/// added 12–23 µs to the median round trip of a get (two messages and a hop
/// each way) and took 18–25 µs of CPU per message on a busy machine
/// (`/proc/<pid>/stat` over 30,000 gets); pipelined, 1.4–2 µs per message
/// (`scripts/nutcracker-service-time.py`). 10 µs lies in the unbatched
/// range; a model should set its own host's.
pub const DEFAULT_SERVICE_TIME: Nanos = 10 * US;

fn default_address() -> String {
    "127.0.0.1:22121".into()
}
fn default_service_time() -> Duration {
    Duration(DEFAULT_SERVICE_TIME)
}

/// `[proxy]`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyConfig {
    /// Which program.
    pub kind: ProxyKind,
    /// Listen address (the proxy node's name).
    pub address: String,
    /// The pool of the proxy's servers.
    pub pool: usize,
    /// The pool that holds the proxy's one listening node (appended after
    /// the cluster's pools by `Model` validation).
    pub front_pool: usize,
    /// CPU time per message on the one thread.
    pub service_time: Nanos,
    /// The routing: `PolicyConfig::Twemproxy` or `PolicyConfig::Mcrouter`.
    pub routing: PolicyConfig,
}

impl ProxyConfig {
    /// The proxy's entries of `Model::describe`.
    pub(super) fn describe(&self, pools: &[PoolConfig], put: &mut dyn FnMut(&str, String)) {
        put("proxy.kind", self.kind.name().into());
        put("proxy.address", self.address.clone());
        put("proxy.pool", pools[self.pool].name.clone());
        put(
            "proxy.service_time",
            crate::engine::format_nanos(self.service_time),
        );
        match &self.routing {
            PolicyConfig::Twemproxy(t) => {
                put(
                    "proxy.twemproxy.timeout",
                    t.timeout.map_or("none".into(), crate::engine::format_nanos),
                );
                put(
                    "proxy.twemproxy.auto_eject_hosts",
                    t.auto_eject_hosts.to_string(),
                );
            }
            PolicyConfig::Mcrouter(m) => {
                put(
                    "proxy.mcrouter.server_timeout",
                    crate::engine::format_nanos(m.server_timeout),
                );
            }
            PolicyConfig::Plain(_)
            | PolicyConfig::Spymemcached(_)
            | PolicyConfig::Pymemcache(_)
            | PolicyConfig::Libmemcached(_) => {}
        }
    }
}

/// Validates `[proxy]` against the cluster's pools. `front_pool` is the
/// index the proxy's own pool will take.
pub(super) fn validate(
    v: &Check,
    p: &ProxyFile,
    pools: &[PoolConfig],
) -> Result<ProxyConfig, ConfigError> {
    let at = |k: &str| path!["proxy", k];
    let mut pool = match &p.pool {
        Some(name) => pool_index(v, at("pool"), pools, name)?,
        None => 0,
    };
    if let Some(servers) = &p.servers {
        pool = servers_pool(v, servers, pools, p.pool.as_ref().map(|_| pool))?;
    }
    if p.address.trim().is_empty() {
        return Err(v.err_allowed(
            at("address"),
            "the address is empty",
            "the proxy's listen address, e.g. \"127.0.0.1:22121\"",
        ));
    }
    if let Some(pool) = pools.iter().find(|q| q.nodes.contains(&p.address)) {
        return Err(v.err_allowed(
            at("address"),
            format!(
                "`{}` is a node of pool `{}`, not a proxy",
                p.address, pool.name
            ),
            "an address that no [[cluster.pool]] lists",
        ));
    }
    let service_time = p.service_time.0;
    let routing = match p.kind {
        ProxyKind::Twemproxy => {
            PolicyConfig::Twemproxy(twemproxy::validate_at(v, &p.twemproxy, "proxy")?)
        }
        ProxyKind::Mcrouter => {
            let m = mcrouter::validate_at(v, &p.mcrouter, pools, "proxy")?;
            if m.gutter.is_some() {
                return Err(v.err_allowed(
                    path!["proxy", "mcrouter", "gutter"],
                    "a failover pool behind a proxy tier is not modelled yet",
                    "leave `gutter` out of [proxy.mcrouter] (the in-client mcrouter policy has it)",
                ));
            }
            let m = PolicyConfig::Mcrouter(m);
            super::client::fnv_only_for_twemproxy(v, &m, "proxy")?;
            m
        }
    };
    Ok(ProxyConfig {
        kind: p.kind,
        address: p.address.clone(),
        pool,
        front_pool: pools.len(),
        service_time,
        routing,
    })
}

/// The pool whose nodes `servers` are (`pool`, when `[proxy] pool` names
/// one), or an error at the first server that is unknown or out of place.
fn servers_pool(
    v: &Check,
    servers: &[String],
    pools: &[PoolConfig],
    pool: Option<usize>,
) -> Result<usize, ConfigError> {
    let at = |i: usize| path!["proxy", "servers", i];
    let all = || {
        pools
            .iter()
            .flat_map(|p| p.nodes.iter().map(String::as_str))
    };
    let mut found: Option<usize> = pool;
    for (i, s) in servers.iter().enumerate() {
        let Some(q) = pools.iter().position(|p| p.nodes.contains(s)) else {
            let hint = crate::config::error::did_you_mean(s, all())
                .map(|m| format!("; did you mean `{m}`?"))
                .unwrap_or_default();
            return Err(v.err_allowed(
                at(i),
                format!("no node is named `{s}`{hint}"),
                format!(
                    "a node of [cluster]: {}",
                    all().collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        match found {
            Some(f) if f != q => {
                return Err(v.err_allowed(
                    at(i),
                    format!(
                        "`{s}` is in pool `{}`, not in `{}`",
                        pools[q].name, pools[f].name
                    ),
                    "the nodes of one [[cluster.pool]]",
                ));
            }
            _ => found = Some(q),
        }
    }
    let q = found.unwrap_or(0);
    if let Some(missing) = pools[q].nodes.iter().find(|n| !servers.contains(n)) {
        return Err(v.err_allowed(
            path!["proxy", "servers"],
            format!(
                "pool `{}`'s node `{missing}` is not among the servers",
                pools[q].name
            ),
            "every node of the pool (a proxy fronts a whole pool: put its servers in a [[cluster.pool]] of their own)",
        ));
    }
    Ok(q)
}

/// The pool that holds the proxy's listening node: one node named by its
/// address, one worker (twemproxy's one thread; the node's own service is
/// never used: `sim::proxy` serves what arrives), nothing prefilled.
pub(super) fn front_pool(p: &ProxyConfig, backend: &PoolConfig) -> PoolConfig {
    PoolConfig {
        name: format!("proxy {}", p.address),
        nodes: vec![p.address.clone()],
        worker_threads: 1,
        service_time: crate::config::Dist::Constant(p.service_time),
        backlog: backend.backlog,
        prefill: false,
        memory: backend.memory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{assert_allowed, model};

    #[test]
    fn all_lists_every_kind_the_file_accepts() {
        assert_allowed("proxy.kind", ProxyKind::ALL.map(ProxyKind::name));
    }

    #[test]
    fn a_proxy_adds_its_pool_and_takes_the_steps_of_its_servers() {
        let m = model(&["proxy.kind=twemproxy", "proxy.twemproxy.timeout=400ms"]).unwrap();
        let p = m.proxy.as_ref().unwrap();
        assert_eq!(p.pool, 0);
        assert_eq!(p.front_pool, m.pools.len() - 1);
        assert_eq!(m.pools[p.front_pool].nodes, ["127.0.0.1:22121"]);
        assert!(!m.pools[p.front_pool].prefill);
        for f in &m.workload.flows {
            for s in &f.steps {
                assert_ne!(s.pool, p.pool, "a step still goes around the proxy");
            }
        }
        let d = m.describe();
        assert_eq!(d["proxy.kind"], "twemproxy");
        assert_eq!(d["proxy.twemproxy.timeout"], "400ms");
        // Without [proxy], nothing changes.
        let plain = model(&[]).unwrap();
        assert!(plain.proxy.is_none());
        assert_eq!(plain.pools.len() + 1, m.pools.len());
    }

    #[test]
    fn bad_proxies_name_their_key() {
        let e = model(&["proxy.kind=twemproxy", "proxy.pool=nope"]).unwrap_err();
        assert_eq!(e.key, "proxy.pool");
        let e = model(&["proxy.kind=twemproxy", "proxy.twemproxy.timeout=0s"]).unwrap_err();
        assert_eq!(e.key, "proxy.twemproxy.timeout");
        let e = model(&["proxy.kind=mcrouter", "proxy.mcrouter.server_timeout=0s"]).unwrap_err();
        assert_eq!(e.key, "proxy.mcrouter.server_timeout");
        let e = model(&[
            "proxy.kind=twemproxy",
            r#"proxy.servers=["a:11211", "c:11211"]"#,
        ])
        .unwrap_err();
        assert_eq!(e.key, "proxy.servers.1");
        assert!(e.message.contains("no node is named `c:11211`"), "{e}");
        let e = model(&["proxy.kind=twemproxy", r#"proxy.servers=["a:11211"]"#]).unwrap_err();
        assert_eq!(e.key, "proxy.servers");
        let e = model(&["proxy.kind=twemproxy", "proxy.address=a:11211"]).unwrap_err();
        assert_eq!(e.key, "proxy.address");
        let ok = model(&[
            "proxy.kind=twemproxy",
            r#"proxy.servers=["b:11211", "a:11211"]"#,
        ]);
        assert_eq!(ok.unwrap().proxy.unwrap().pool, 0);
        // fnv1a_64 is twemproxy's alone.
        let e = model(&["proxy.kind=mcrouter", "proxy.mcrouter.hash=fnv1a_64"]).unwrap_err();
        assert_eq!(e.key, "proxy.mcrouter.hash");
        let e = model(&[
            "client.policy=spymemcached",
            "client.spymemcached.hash=fnv1a_64",
        ])
        .unwrap_err();
        assert_eq!(e.key, "client.spymemcached.hash");
        assert!(model(&["client.policy=twemproxy", "client.twemproxy.hash=fnv1a_64"]).is_ok());
    }
}
