//! A memcached node's memory, as `[cluster]` (or each `[[cluster.pool]]`)
//! sets it: a capacity in bytes (memcached `-m`) or in items, the expiry the
//! application's sets carry (`exptime`), and Facebook-style leases. The
//! simulator's twin is `sim::memory`. With none of these keys a node holds
//! every key it is given, forever: the behaviour before they existed.

use serde::Deserialize;

use super::check::Check;
use super::doc::Seg;
use super::error::ConfigError;
use super::units::{Bytes, Duration};
use crate::engine::Nanos;
use crate::engine::time::SEC;

/// memcached treats an `exptime` above 30 days as an absolute Unix time
/// (`REALTIME_MAXDELTA` in memcached.c), so a relative TTL stops there.
pub const MAX_TTL: Nanos = 30 * 24 * 3600 * SEC;
/// Smallest memcached slab chunk (class 1: 48-byte item header + the
/// default `-n 48` minimum space, `slabs_init` in slabs.c): a capacity below
/// it holds nothing.
pub const MIN_MEMORY: u64 = 96;

/// The memory keys of `[cluster]` and `[[cluster.pool]]`, as written.
#[derive(Clone, Debug, Default)]
pub struct MemoryFile {
    /// memcached `-m`: bytes of item memory. Default: unlimited.
    pub memory: Option<Bytes>,
    /// Capacity in items instead of bytes. Default: unlimited.
    pub items: Option<u64>,
    /// The expiry every set carries. Default: none.
    pub ttl: Option<Duration>,
    /// Lease time (one filler per key per lease). Default: no leases.
    pub lease: Option<Duration>,
    /// What a reader does on a key leased to another: `wait` or `stale`.
    pub lease_miss: Option<LeaseMiss>,
}

impl MemoryFile {
    /// `own`'s keys where it gives them, else this one's (a pool inherits
    /// from `[cluster]`).
    pub fn or(&self, own: &MemoryFile) -> MemoryFile {
        MemoryFile {
            memory: own.memory.or(self.memory),
            items: own.items.or(self.items),
            ttl: own.ttl.or(self.ttl),
            lease: own.lease.or(self.lease),
            lease_miss: own.lease_miss.or(self.lease_miss),
        }
    }
}

/// How much a node holds before it evicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// At most this many items.
    Items(u32),
    /// At most this many bytes, each item charged its slab chunk.
    Bytes(u64),
}

/// What a get that finds the key leased to another reader gets back.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LeaseMiss {
    /// The node holds the get until the key is filled or the lease ends
    /// (the client's "wait a short time and retry", without the retries).
    #[default]
    Wait,
    /// The value the key had before it was deleted or expired, marked stale,
    /// if the node still has it; else wait.
    Stale,
}

impl LeaseMiss {
    /// Every choice, in the order of the documentation.
    pub const ALL: [LeaseMiss; 2] = [LeaseMiss::Wait, LeaseMiss::Stale];

    /// Its name in the model file.
    pub fn name(self) -> &'static str {
        match self {
            LeaseMiss::Wait => "wait",
            LeaseMiss::Stale => "stale",
        }
    }
}

/// Leases, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    /// How long a lease lasts: one per key per this long.
    pub time: Nanos,
    /// What other readers get meanwhile.
    pub miss: LeaseMiss,
}

/// A node's memory, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MemoryConfig {
    /// Capacity; `None` holds every key.
    pub capacity: Option<Capacity>,
    /// Expiry of every set; `None` never expires.
    pub ttl: Option<Nanos>,
    /// Leases; `None` hands no leases out.
    pub lease: Option<LeaseConfig>,
}

impl MemoryConfig {
    /// True when a node with this memory behaves as one without any of it.
    pub fn is_plain(&self) -> bool {
        self.capacity.is_none() && self.ttl.is_none() && self.lease.is_none()
    }
}

/// The memory keys written at `at` (`[cluster]` or a pool).
pub(super) fn validate(
    v: &Check,
    at: &[Seg],
    m: &MemoryFile,
    keys: u64,
) -> Result<MemoryConfig, ConfigError> {
    // A pool's key where the pool writes it, else `[cluster]`'s (inherited).
    let sub = |k: &str| {
        let own = [at.to_vec(), path![k]].concat();
        if v.doc.contains(&own) {
            own
        } else {
            path!["cluster", k]
        }
    };
    let capacity = match (m.memory, m.items) {
        (Some(_), Some(_)) => {
            return Err(v.err_allowed(
                sub("items"),
                "both `memory` and `items` are given",
                "either `memory` (bytes, memcached -m) or `items`, not both",
            ));
        }
        (Some(b), None) => {
            if b.0 < MIN_MEMORY {
                return Err(v.err_allowed(
                    sub("memory"),
                    format!("{} bytes cannot hold one item", b.0),
                    format!("at least {MIN_MEMORY} bytes (memcached's smallest slab chunk), e.g. \"64MiB\""),
                ));
            }
            Some(Capacity::Bytes(b.0))
        }
        (None, Some(n)) => {
            if n == 0 || n > u64::from(u32::MAX) {
                return Err(v.err_allowed(
                    sub("items"),
                    format!("found {n}"),
                    format!("an integer from 1 to {}", u32::MAX),
                ));
            }
            // More room than keys: never evicts, but still costs the links.
            Some(Capacity::Items(n.min(keys.max(1)) as u32))
        }
        (None, None) => None,
    };
    let ttl = match m.ttl {
        None => None,
        Some(t) => {
            let t = v.positive(sub("ttl"), t.0)?;
            if t > MAX_TTL {
                return Err(v.err_allowed(
                    sub("ttl"),
                    format!("{} is more than 30 days", Duration(t)),
                    "at most \"720h\" (30 days: memcached reads a larger exptime as a Unix time)",
                ));
            }
            Some(t)
        }
    };
    let lease = match (m.lease, m.lease_miss) {
        (None, Some(_)) => {
            return Err(v.err_allowed(
                sub("lease_miss"),
                "`lease_miss` needs a `lease`",
                "a lease time, e.g. lease = \"10s\", or no `lease_miss`",
            ));
        }
        (None, None) => None,
        (Some(l), miss) => {
            let time = v.positive(sub("lease"), l.0)?;
            if let Some(t) = ttl
                && time > t
            {
                return Err(v.err_allowed(
                    sub("lease"),
                    format!(
                        "the lease ({}) is longer than the TTL ({})",
                        Duration(time),
                        Duration(t)
                    ),
                    "a lease no longer than `ttl`: a filler could then hold a key past its value's life",
                ));
            }
            Some(LeaseConfig {
                time,
                miss: miss.unwrap_or_default(),
            })
        }
    };
    Ok(MemoryConfig {
        capacity,
        ttl,
        lease,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{assert_allowed, model};

    #[test]
    fn all_lists_every_lease_miss_the_file_accepts() {
        assert_allowed("cluster.lease_miss", LeaseMiss::ALL.map(LeaseMiss::name));
    }

    #[test]
    fn memory_keys_validate_and_pools_inherit_them() {
        let m = model(&[]).unwrap();
        assert!(m.pools.iter().all(|p| p.memory.is_plain()));
        let m = model(&["cluster.memory=\"1MiB\"", "cluster.ttl=\"60s\""]).unwrap();
        assert_eq!(m.pools[0].memory.capacity, Some(Capacity::Bytes(1 << 20)));
        assert_eq!(m.pools[0].memory.ttl, Some(60 * SEC));
        let m = model(&["cluster.items=50", "cluster.lease=\"10s\""]).unwrap();
        assert_eq!(m.pools[0].memory.capacity, Some(Capacity::Items(50)));
        assert_eq!(
            m.pools[0].memory.lease,
            Some(LeaseConfig {
                time: 10 * SEC,
                miss: LeaseMiss::Wait
            })
        );
    }

    #[test]
    fn contradictions_are_refused_at_their_key() {
        let e = model(&["cluster.items=5", "cluster.memory=\"1MiB\""]).unwrap_err();
        assert!(e.to_string().contains("cluster.items"), "{e}");
        let e = model(&["cluster.ttl=\"5s\"", "cluster.lease=\"10s\""]).unwrap_err();
        assert!(e.to_string().contains("cluster.lease"), "{e}");
        assert!(e.to_string().contains("longer than the TTL"), "{e}");
        let e = model(&["cluster.memory=10"]).unwrap_err();
        assert!(e.to_string().contains("cluster.memory"), "{e}");
        let e = model(&["cluster.lease_miss=\"stale\""]).unwrap_err();
        assert!(e.to_string().contains("cluster.lease_miss"), "{e}");
        let e = model(&["cluster.items=0"]).unwrap_err();
        assert!(e.to_string().contains("cluster.items"), "{e}");
    }
}
