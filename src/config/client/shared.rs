//! What the policies' files share: how keys are placed (locator and hash,
//! with the defaults several policies use) and how an optional duration is
//! described. A leaf: the policies import it, and `mod.rs` names the policies.

use serde::Deserialize;

use crate::engine::Nanos;

/// How keys map to nodes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LocatorChoice {
    /// hash mod N (spymemcached's default, §6).
    #[default]
    ArrayMod,
    /// A Ketama ring, 160 points per node.
    Ketama,
}

/// The key hash.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum HashChoice {
    /// Java `String.hashCode()` (spymemcached's default NATIVE_HASH).
    #[default]
    Native,
    /// MD5, first 4 bytes little-endian (KETAMA_HASH).
    Ketama,
    /// FNV-1a, 64-bit constants, the low 32 bits: twemproxy's `fnv1a_64`
    /// (`hashkit/nc_fnv.c`) and spymemcached's `FNV1A_64_HASH`. On a Ketama
    /// ring the points stay MD5 (twemproxy's `nc_ketama.c`).
    #[serde(rename = "fnv1a_64")]
    Fnv1a64,
}

/// The default locator of the proxies and pymemcache (see each policy).
pub(super) fn ketama_locator() -> LocatorChoice {
    LocatorChoice::Ketama
}
/// The default hash of every policy but plain and spymemcached.
pub(super) fn ketama_hash() -> HashChoice {
    HashChoice::Ketama
}

/// A duration for `describe`: `none` when unset.
pub(super) fn describe_opt(t: Option<Nanos>) -> String {
    t.map_or("none".into(), crate::engine::format_nanos)
}
