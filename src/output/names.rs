//! Human names of the model keys a sweep varies (`fault.0.kind` → "fault
//! kind", `client.op_timeout` → "op timeout"), for titles, axes, legends and
//! tables. Plots and reports print the name, with the raw key in small print
//! for whoever reproduces the figure.
//!
//! A key is named by [`NAMES`] when it is listed there, otherwise from its
//! words: array indices and the section (`client`, `service`, …) are dropped
//! and underscores become spaces (`client.pymemcache.retry_attempts` →
//! "pymemcache retry attempts").

/// The name of the `[[variant]]` axis of an experiment.
pub const VARIANT_NAME: &str = "configuration";

/// Keys whose generic name would be vague, by key with array indices
/// written as `#` (`fault.#.kind`).
pub const NAMES: &[(&str, &str)] = &[
    ("variant", VARIANT_NAME),
    ("fault.#.kind", "fault kind"),
    ("fault.#.node", "faulty node"),
    ("fault.#.slow.factor", "slow-node factor"),
    ("fault.#.duration", "fault duration"),
    ("fault.#.start", "fault start"),
    ("fault.#.delete_hot.keys", "hot keys deleted"),
    ("workload.rate", "request rate (req/s)"),
    ("frontend.maxconn", "HAProxy maxconn"),
    ("frontend.timeout_queue", "HAProxy queue timeout"),
    ("frontend.timeout_server", "HAProxy server timeout"),
    ("service.threads", "threads per instance"),
    ("service.instances", "service instances"),
    ("service.queue", "executor queue"),
    ("service.executor", "executor"),
    ("service.bulkhead.enabled", "bulkhead"),
    ("client.policy", "client policy"),
    ("client.op_timeout", "op timeout"),
    ("client.spymemcached.failure_mode", "failure mode"),
    ("database.connections", "database connections"),
    ("cluster.nodes", "cache nodes"),
];

/// Top-level sections left out of a generic name.
const SECTIONS: &[&str] = &[
    "client", "service", "workload", "cluster", "network", "database", "frontend",
];

/// The key with every array index written as `#`.
fn pattern(key: &str) -> String {
    key.split('.')
        .map(|p| if p.parse::<usize>().is_ok() { "#" } else { p })
        .collect::<Vec<_>>()
        .join(".")
}

/// A model key's human name (see the module's documentation).
pub fn key_name(key: &str) -> String {
    let pat = pattern(key);
    if let Some((_, name)) = NAMES.iter().find(|(k, _)| *k == pat) {
        return (*name).to_string();
    }
    let words: Vec<String> = key
        .split('.')
        .enumerate()
        .filter(|(i, p)| p.parse::<usize>().is_err() && !(*i == 0 && SECTIONS.contains(p)))
        .map(|(_, p)| p.replace('_', " "))
        .collect();
    if words.is_empty() {
        key.to_string()
    } else {
        words.join(" ")
    }
}

/// Whether `key` names the kind of a fault (`fault.0.kind`): the axis a
/// ranking takes the worst case across.
pub fn is_fault_kind(key: &str) -> bool {
    pattern(key) == "fault.#.kind"
}

/// A point's label for people: each shown key's value after its name
/// (`op timeout 100ms, failure mode cancel`); the variant by its name
/// alone. `show` picks the keys (by index) to name.
pub fn config_label(params: &[String], values: &[String], show: impl Fn(usize) -> bool) -> String {
    params
        .iter()
        .zip(values)
        .enumerate()
        .filter(|(i, _)| show(*i))
        .map(|(_, (k, v))| {
            if k == "variant" {
                v.clone()
            } else {
                format!("{} {v}", key_name(k))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The small print under a chart or table: the raw keys behind the names,
/// for whoever reproduces it, as (name, raw key) pairs
/// (`keys for reproducing: fault kind = fault.0.kind · …`).
pub fn raw_keys_note(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    let parts: Vec<String> = pairs
        .into_iter()
        .map(|(name, k)| format!("{name} = {k}"))
        .collect();
    format!("{RAW_KEYS} {}", parts.join(" · "))
}

/// How the small print of raw keys starts.
pub const RAW_KEYS: &str = "keys for reproducing:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_listed_and_generic() {
        assert_eq!(key_name("fault.0.kind"), "fault kind");
        assert_eq!(key_name("fault.3.kind"), "fault kind");
        assert_eq!(key_name("client.op_timeout"), "op timeout");
        assert_eq!(key_name("variant"), "configuration");
        // A cache trigger's size reads as what it does, not as its key.
        assert_eq!(key_name("fault.0.delete_hot.keys"), "hot keys deleted");
        assert_eq!(
            key_name("client.pymemcache.retry_attempts"),
            "pymemcache retry attempts"
        );
        assert_eq!(key_name("service.bulkhead.threads"), "bulkhead threads");
        // No name keeps a dot: a name is never a dotted key.
        for (k, _) in NAMES {
            assert!(!key_name(k).contains('.'), "{k}");
        }
        assert!(!key_name("a.b_c.0.d").contains('.'));
    }
}
