//! twemproxy (nutcracker) `nutcracker.yml`: a map of pools, each with its
//! servers (`host:port:weight [name]`), hash, distribution, timeout and
//! ejection settings (twemproxy 0.5.0's `nc_conf.c` keys). The first pool's
//! settings become `[client.twemproxy]`; every pool becomes a cache pool.
//!
//! Today twemproxy is modelled as a client policy (a sidecar per service
//! instance, `docs/policies.md`); the proxy-tier keys (`listen`,
//! `client_connections`, `server_connections`, `preconnect`, `backlog`,
//! `hash_tag`, `tcpkeepalive`) are listed as not modelled.

use indexmap::IndexMap;
use serde::Deserialize;

use super::skeleton::{Client, Line, Pool, Skeleton};
use super::{ImportError, Source, ms, split_server};

/// One pool, as nutcracker 0.5.0 reads it (`nc_conf.c`, `conf_commands`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    listen: Option<String>,
    client_connections: Option<u64>,
    tcpkeepalive: Option<bool>,
    hash: Option<String>,
    hash_tag: Option<String>,
    distribution: Option<String>,
    /// Milliseconds; absent or negative: wait forever.
    timeout: Option<i64>,
    backlog: Option<u64>,
    preconnect: Option<bool>,
    redis: Option<bool>,
    redis_auth: Option<String>,
    redis_db: Option<u64>,
    server_connections: Option<u64>,
    auto_eject_hosts: Option<bool>,
    /// Milliseconds.
    server_retry_timeout: Option<u64>,
    server_failure_limit: Option<u64>,
    servers: Vec<String>,
}

/// The hash functions nutcracker accepts (`nc_conf.c`, `hash_strings`).
const HASHES: [&str; 12] = [
    "one_at_a_time",
    "md5",
    "crc16",
    "crc32",
    "crc32a",
    "fnv1_64",
    "fnv1a_64",
    "fnv1_32",
    "fnv1a_32",
    "hsieh",
    "murmur",
    "jenkins",
];

fn yaml_error(src: &Source, e: &serde_saphyr::Error) -> ImportError {
    let (line, column) = e.location().map_or((0, None), |l| {
        (l.line() as usize, Some(l.column() as usize))
    });
    // The message without the position serde-saphyr may append.
    let text = e.to_string();
    let message = text
        .split(" at line ")
        .next()
        .unwrap_or(&text)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    // Name the key and the value found on that line, which the parser's
    // message (`invalid i64`) does not.
    let found = src
        .text
        .lines()
        .nth(line.saturating_sub(1))
        .filter(|_| line > 0)
        .and_then(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().trim_start_matches("- "), v.trim()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !message.contains(&format!("`{k}`")));
    let message = match found {
        Some((k, v)) => format!("`{k}`: {message} (found `{v}`)"),
        None => message,
    };
    ImportError::Input {
        path: src.path.to_path_buf(),
        line,
        column,
        message: format!("not a valid nutcracker pool file: {message}"),
    }
}

/// Reads `nutcracker.yml`.
pub fn read(src: &Source, sk: &mut Skeleton) -> Result<(), ImportError> {
    let options = serde_saphyr::options! { with_snippet: false };
    let pools: IndexMap<String, PoolFile> =
        serde_saphyr::from_str_with_options(src.text, options).map_err(|e| yaml_error(src, &e))?;
    if pools.is_empty() {
        return Err(src.error(
            0,
            "no pool: a nutcracker.yml maps pool names to their settings",
        ));
    }
    let file = src.name();
    for (i, (name, p)) in pools.iter().enumerate() {
        let at = src.line_of(&format!("{name}:"));
        if p.redis == Some(true) {
            return Err(src.error(
                at,
                format!("pool `{name}` is a redis pool (redis: true): cachestorm models memcached"),
            ));
        }
        if p.servers.is_empty() {
            return Err(src.error(at, format!("pool `{name}` has no servers")));
        }
        let mut nodes = Vec::new();
        let mut weights = Vec::new();
        for s in &p.servers {
            let addr = s.split_whitespace().next().unwrap_or("");
            let Some((node, weight)) = split_server(addr) else {
                return Err(src.error(
                    src.line_of(s),
                    format!("pool `{name}`: server `{s}` is not `host:port:weight [name]`"),
                ));
            };
            nodes.push(node);
            weights.push(weight.unwrap_or(1));
        }
        if weights.iter().any(|&w| w != weights[0]) {
            sk.notes.push(format!(
                "{file}: pool `{name}` weights {weights:?}: every node gets the same share of keys here"
            ));
        }
        if let Some(h) = &p.hash
            && !HASHES.contains(&h.as_str())
        {
            return Err(src.error(
                src.line_of(&format!("hash: {h}")),
                format!(
                    "pool `{name}`: unknown hash `{h}`; nutcracker accepts {}",
                    HASHES.join(", ")
                ),
            ));
        }
        let mut proxy = Vec::new();
        for (key, set) in [
            ("listen", p.listen.is_some()),
            ("client_connections", p.client_connections.is_some()),
            (
                "server_connections",
                p.server_connections.is_some_and(|c| c != 1),
            ),
            ("preconnect", p.preconnect.is_some()),
            ("backlog", p.backlog.is_some()),
            ("hash_tag", p.hash_tag.is_some()),
            ("tcpkeepalive", p.tcpkeepalive.is_some()),
            ("redis_auth", p.redis_auth.is_some()),
            ("redis_db", p.redis_db.is_some()),
        ] {
            if set {
                proxy.push(key);
            }
        }
        if !proxy.is_empty() {
            sk.notes.push(format!(
                "{file}: pool `{name}` {}: settings of the proxy process itself, not modelled while twemproxy is a sidecar client policy (one server connection per instance); they map to the proxy tier once cachestorm models twemproxy as a component, as will this pool's timeout, ejection, distribution and hash (now in [client.twemproxy])",
                proxy.join(", ")
            ));
        }
        sk.pools.push(Pool {
            name: name.clone(),
            nodes,
            comment: format!("from {file}, pool `{name}` (line {at})"),
        });
        if i > 0 {
            sk.notes.push(format!(
                "{file}: pool `{name}`: its timeout and ejection settings are not used (one client policy per model: those of the first pool); in the proxy tier each pool will keep its own"
            ));
            continue;
        }
        let mut settings = Vec::new();
        let from = |key: &str| format!("{file}: {name}.{key}");
        match p.timeout {
            Some(t) if t > 0 => settings.push(Line::new(
                "timeout",
                ms(t as u64),
                from("timeout"),
            )),
            _ => settings.push(Line::new(
                "# timeout",
                "\"1s\"",
                format!("{file} sets no timeout: twemproxy then waits forever (its default); uncomment to study one"),
            )),
        }
        if let Some(v) = p.auto_eject_hosts {
            settings.push(Line::new(
                "auto_eject_hosts",
                v.to_string(),
                from("auto_eject_hosts"),
            ));
        }
        if let Some(v) = p.server_failure_limit {
            settings.push(Line::new(
                "server_failure_limit",
                v.to_string(),
                from("server_failure_limit"),
            ));
        }
        if let Some(v) = p.server_retry_timeout {
            settings.push(Line::new(
                "server_retry_timeout",
                ms(v),
                from("server_retry_timeout"),
            ));
        }
        let locator = match p.distribution.as_deref() {
            None | Some("ketama") => ("\"ketama\"", from("distribution")),
            Some("modula") => (
                "\"array_mod\"",
                format!("{}: modula = hash mod N", from("distribution")),
            ),
            Some("random") => (
                "\"ketama\"",
                format!(
                    "ASSUMPTION: {} is random, which cachestorm does not model; ketama stands in",
                    from("distribution")
                ),
            ),
            Some(other) => {
                return Err(src.error(
                    src.line_of(&format!("distribution: {other}")),
                    format!("pool `{name}`: unknown distribution `{other}`; nutcracker accepts ketama, modula, random"),
                ));
            }
        };
        settings.push(Line::new("locator", locator.0, locator.1));
        settings.push(Line::new(
            "hash",
            "\"ketama\"",
            format!(
                "ASSUMPTION: stands in for {}'s hash {} (placement differs key by key, not in balance)",
                name,
                p.hash.as_deref().unwrap_or("fnv1a_64")
            ),
        ));
        sk.set_client(Client {
            policy: "twemproxy",
            from: format!("{file}, pool `{name}`"),
            op_timeout: None,
            settings,
        })
        .map_err(|m| src.error(at, m))?;
    }
    Ok(())
}
