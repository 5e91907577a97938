//! Node locators of spymemcached 2.12.3, reproduced bit for bit.
//!
//! A locator maps a cache key to the node that owns it (the *primary*) and to
//! the ordered list of alternatives the client walks when the primary is
//! inactive and the failure mode is Redistribute (the *sequence*). See
//! `shared/reference/spymemcached.md` §6 for the behaviour and §2.1 for the
//! defaults (ArrayMod with `NATIVE_HASH`; Ketama only on request).
//!
//! Nodes are identified by their index (`u16`) in the `node_keys` slice the
//! locator was built from, which mirrors the order of the client's node list.
//! Everything here is allocation-free after construction.

use std::fmt;

use md5::{Digest, Md5};

use crate::config::{HashChoice, LocatorChoice};

/// Points a node contributes to the Ketama ring (reference §6;
/// `DefaultKetamaNodeLocatorConfiguration.numReps`).
pub const KETAMA_POINTS_PER_NODE: usize = 160;

/// Items yielded by `KetamaNodeLocator.getSequence` (reference §6: the
/// `KetamaIterator` is created with 7 tries).
pub const KETAMA_TRIES: usize = 7;

/// Capacity of the fixed-size buffer taken by [`Locator::sequence`].
pub const SEQUENCE_CAP: usize = KETAMA_TRIES;

/// Java's `String.hashCode()`: `h = 31·h + c` over the UTF-16 code units of
/// `s`, with 32-bit wrapping arithmetic (reference §6, "NATIVE_HASH").
///
/// Characters outside the Basic Multilingual Plane count as two code units
/// (a surrogate pair), exactly as in Java.
pub fn java_string_hash(s: &str) -> i32 {
    java_hash_extend(0, s)
}

/// Continues a `String.hashCode()` computation: the result equals
/// `java_string_hash(prefix + s)` when `h == java_string_hash(prefix)`.
/// Lets [`HashAlg::hash_prefixed`] hash `"<j>" + key` without building it.
fn java_hash_extend(h: i32, s: &str) -> i32 {
    s.encode_utf16().fold(h, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The hash algorithms of spymemcached's `DefaultHashAlgorithm` that the
/// simulator supports. Every variant yields the Java `long` result, which is
/// always truncated to 32 bits (`& 0xffffffffL`), hence `u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// `NATIVE_HASH`: `(long) key.hashCode() & 0xffffffffL` — the library
    /// default (reference §2.1).
    Native,
    /// `KETAMA_HASH`: the first four bytes of MD5(UTF-8 of the key), read
    /// little-endian, unsigned (reference §6).
    Ketama,
    /// FNV-1a with the 64-bit offset basis and prime, truncated to 32 bits.
    /// twemproxy 0.5.0's `hash_fnv1a_64` (`src/hashkit/nc_fnv.c`) computes it
    /// in 32-bit arithmetic on the truncated constants, which gives the same
    /// low 32 bits as spymemcached's 64-bit `FNV1A_64_HASH` masked.
    Fnv1a64,
}

/// FNV-1a over `bytes` from state `h`, in 32-bit arithmetic on the 64-bit
/// constants' low halves (twemproxy's `hash_fnv1a_64`).
fn fnv1a64_extend(h: u32, bytes: &[u8]) -> u32 {
    const PRIME: u32 = 0x0000_01b3; // (uint32_t) 0x100000001b3
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u32::from(b)).wrapping_mul(PRIME))
}
/// `(uint32_t) FNV_64_INIT`.
const FNV1A64_INIT: u32 = 0x8422_2325;

impl HashAlg {
    /// `DefaultHashAlgorithm.hash(key)` for this algorithm (reference §6,
    /// "Key hash").
    ///
    /// `NATIVE_HASH` sign-extends the `int` hash code to a `long` and masks it
    /// to 32 bits, which is just the hash code's bit pattern as `u32`.
    /// `KETAMA_HASH` encodes the key as UTF-8 (`KeyUtil.getKeyBytes`) before
    /// hashing; a Rust `&str` is always valid UTF-8, so Java's replacement of
    /// unpaired surrogates cannot arise here.
    pub fn hash(self, key: &str) -> u32 {
        match self {
            HashAlg::Native => java_string_hash(key) as u32,
            HashAlg::Ketama => md5_words(b"", key.as_bytes())[0],
            HashAlg::Fnv1a64 => fnv1a64_extend(FNV1A64_INIT, key.as_bytes()),
        }
    }

    /// `hash(prefix.to_string() + key)` without allocating: the string the
    /// `KetamaIterator` hashes to pick its next probe is `"<counter>" + key`.
    fn hash_prefixed(self, prefix: &str, key: &str) -> u32 {
        match self {
            HashAlg::Native => java_hash_extend(java_hash_extend(0, prefix), key) as u32,
            HashAlg::Ketama => md5_words(prefix.as_bytes(), key.as_bytes())[0],
            HashAlg::Fnv1a64 => fnv1a64_extend(
                fnv1a64_extend(FNV1A64_INIT, prefix.as_bytes()),
                key.as_bytes(),
            ),
        }
    }
}

/// MD5's initial state (RFC 1321 §3.3, words A, B, C, D).
const MD5_INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// MD5 of `prefix` followed by `rest`, as its four 4-byte groups each read
/// little-endian (the digest is the final state written little-endian, so
/// group `g` is state word `g`).
///
/// A message of at most 55 bytes pads to a single 64-byte block (RFC 1321
/// §3.1–3.2: the message, a 0x80 byte, zeros, and the bit length as a
/// little-endian u64 in the last 8 bytes), which is compressed directly:
/// keys and node keys are that short, and skipping the streaming hasher's
/// buffering halves the cost of hashing 100,000 keys when a world is built.
/// Longer messages go through the streaming hasher.
fn md5_words(prefix: &[u8], rest: &[u8]) -> [u32; 4] {
    let len = prefix.len() + rest.len();
    if len > 55 {
        let mut md5 = Md5::new();
        md5.update(prefix);
        md5.update(rest);
        let d = md5.finalize();
        return [0, 1, 2, 3].map(|g| md5_le_u32(&d, g));
    }
    let mut block = [0u8; 64];
    block[..prefix.len()].copy_from_slice(prefix);
    block[prefix.len()..len].copy_from_slice(rest);
    block[len] = 0x80;
    block[56..].copy_from_slice(&(len as u64 * 8).to_le_bytes());
    let mut state = MD5_INIT;
    md5::block_api::compress(&mut state, &[block]);
    state
}

/// Reads the `group`-th 4-byte group of an MD5 digest as a little-endian
/// unsigned 32-bit value, as `DefaultHashAlgorithm` (group 0) and
/// `KetamaNodeLocator.ketamaNodePositionsAtIteration` (groups 0–3) do.
fn md5_le_u32(digest: &[u8], group: usize) -> u32 {
    let b = &digest[group * 4..group * 4 + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Which `NodeLocator` the client uses (reference §2.1: `ARRAY_MOD` is the
/// default, `CONSISTENT` selects Ketama).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LocatorKind {
    /// `ArrayModNodeLocator`: `hash(key) mod N`.
    ArrayMod,
    /// `KetamaNodeLocator`: consistent hashing on a 160-points-per-node ring.
    Ketama,
}

/// The locator a model's `client.<policy>.locator` names.
impl From<LocatorChoice> for LocatorKind {
    fn from(choice: LocatorChoice) -> Self {
        match choice {
            LocatorChoice::ArrayMod => LocatorKind::ArrayMod,
            LocatorChoice::Ketama => LocatorKind::Ketama,
        }
    }
}

/// The hash a model's `client.<policy>.hash` names.
impl From<HashChoice> for HashAlg {
    fn from(choice: HashChoice) -> Self {
        match choice {
            HashChoice::Native => HashAlg::Native,
            HashChoice::Ketama => HashAlg::Ketama,
            HashChoice::Fnv1a64 => HashAlg::Fnv1a64,
        }
    }
}

/// Why a locator could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocatorError {
    /// No nodes were given; both Java locators require at least one.
    NoNodes,
    /// More nodes than a `u16` index can name.
    TooManyNodes(usize),
}

impl fmt::Display for LocatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocatorError::NoNodes => write!(f, "a node locator needs at least one node"),
            LocatorError::TooManyNodes(n) => {
                write!(f, "{n} nodes given; at most {} are supported", u16::MAX)
            }
        }
    }
}

impl std::error::Error for LocatorError {}

/// A spymemcached node locator over nodes `0..node_count()`.
///
/// Mirrors `ArrayModNodeLocator` or `KetamaNodeLocator` (SPYMEMCACHED node
/// key format, no weights) of spymemcached 2.12.3; see reference §6.
#[derive(Clone, Debug)]
pub struct Locator {
    kind: LocatorKind,
    hash: HashAlg,
    nodes: u16,
    /// Ketama ring sorted by point, one entry per distinct point (empty for
    /// ArrayMod). Replaces Java's `TreeMap<Long, MemcachedNode>`.
    ring: Vec<(u32, u16)>,
}

impl Locator {
    /// Builds the locator the Java client would build for this node list.
    ///
    /// `node_keys[i]` is node `i`'s Ketama node key: with the default
    /// SPYMEMCACHED format that is `InetSocketAddress.toString()` without the
    /// leading `/`, i.e. `"10.0.0.1:11211"` for a literal IP or
    /// `"host/10.0.0.1:11211"` for a named host (reference §6, "Node key";
    /// `KetamaNodeKeyFormatter`). ArrayMod only uses the number of keys.
    pub fn new(
        kind: LocatorKind,
        hash: HashAlg,
        node_keys: &[String],
    ) -> Result<Self, LocatorError> {
        if node_keys.is_empty() {
            return Err(LocatorError::NoNodes);
        }
        let nodes = u16::try_from(node_keys.len())
            .map_err(|_| LocatorError::TooManyNodes(node_keys.len()))?;
        let ring = match kind {
            LocatorKind::ArrayMod => Vec::new(),
            LocatorKind::Ketama => build_ketama_ring(hash, node_keys),
        };
        Ok(Locator {
            kind,
            hash,
            nodes,
            ring,
        })
    }

    /// The locator kind this was built with.
    pub fn kind(&self) -> LocatorKind {
        self.kind
    }

    /// The hash algorithm this was built with.
    pub fn hash_alg(&self) -> HashAlg {
        self.hash
    }

    /// Number of nodes (valid indices are `0..node_count()`).
    pub fn node_count(&self) -> u16 {
        self.nodes
    }

    /// The Ketama ring as sorted `(point, node)` pairs; empty for ArrayMod.
    pub fn ring(&self) -> &[(u32, u16)] {
        &self.ring
    }

    /// `NodeLocator.getPrimary(key)` (reference §6).
    ///
    /// ArrayMod: `ArrayModNodeLocator.getServerForKey`, i.e.
    /// `(int) (hash(key) % N)` where the hash is a non-negative `long` below
    /// 2³², so the result is the plain unsigned remainder.
    /// Ketama: `KetamaNodeLocator.getNodeForKey(hash(key))`, the node of the
    /// smallest ring point ≥ the hash, wrapping to the first point.
    pub fn primary(&self, key: &str) -> u16 {
        let h = self.hash.hash(key);
        match self.kind {
            LocatorKind::ArrayMod => self.array_mod_index(h),
            LocatorKind::Ketama => self.ring_node(h),
        }
    }

    /// `NodeLocator.getSequence(key)` written into a fixed-size buffer;
    /// returns the number of items written (reference §6, "getSequence").
    ///
    /// Ketama: always [`KETAMA_TRIES`] items, the first being the primary
    /// (see [`Route`] for the probe rule). ArrayMod: the `N − 1` other nodes
    /// in list order starting after the primary — the primary itself is
    /// *not* part of the Java sequence. With more than
    /// `SEQUENCE_CAP + 1` ArrayMod nodes only the first [`SEQUENCE_CAP`] are
    /// written; use [`Locator::route`] for the full sequence.
    pub fn sequence(&self, key: &str, out: &mut [u16; SEQUENCE_CAP]) -> usize {
        let mut written = 0;
        for (slot, node) in out.iter_mut().zip(self.route(key).iter()) {
            *slot = node;
            written += 1;
        }
        written
    }

    /// Everything the client needs to place `key`: its primary and its full
    /// `getSequence` order, in a small `Copy` value suitable for caching per
    /// key (reference §6).
    pub fn route(&self, key: &str) -> Route {
        let h = self.hash.hash(key);
        match self.kind {
            LocatorKind::ArrayMod => Route(RouteInner::ArrayMod {
                primary: self.array_mod_index(h),
                nodes: self.nodes,
            }),
            LocatorKind::Ketama => Route(RouteInner::Ketama(self.ketama_probes(key, h))),
        }
    }

    /// The node `MemcachedConnection.addOperation` picks under
    /// Redistribute (reference §2.3 step 2 and §6): the primary if it is
    /// active, else the first active node of `getSequence(key)`, else the
    /// (inactive) primary. Shorthand for `self.route(key).place(is_active)`.
    pub fn place(&self, key: &str, is_active: impl FnMut(u16) -> bool) -> u16 {
        self.route(key).place(is_active)
    }

    /// `hash mod N` as in `ArrayModNodeLocator.getServerForKey`.
    fn array_mod_index(&self, h: u32) -> u16 {
        // The remainder is < N ≤ u16::MAX, so the narrowing is lossless.
        (h % u32::from(self.nodes)) as u16
    }

    /// `KetamaNodeLocator.getNodeForKey` / `KetamaIterator.getNodeForKey`:
    /// the node owning the smallest ring point ≥ `h`, or the first point's
    /// node if `h` is above every point.
    fn ring_node(&self, h: u32) -> u16 {
        let i = self.ring.partition_point(|&(point, _)| point < h);
        let i = if i == self.ring.len() { 0 } else { i };
        self.ring[i].1
    }

    /// The nodes a `KetamaIterator` with 7 tries yields for `key`
    /// (`KetamaIterator.next` / `nextHash`, reference §6).
    ///
    /// Probe 0 is the node at `h₀ = hash(key)`. After yielding probe `j` the
    /// iterator adds `hash(j.to_string() + key)` to the running hash. Java
    /// adds `(int) (t ^ (t >>> 32))` of the (32-bit) hash `t`, i.e. `t`
    /// sign-extended, to a `long` and masks with `0xffffffffL`; both equal
    /// addition modulo 2³², which is what `wrapping_add` does.
    fn ketama_probes(&self, key: &str, h0: u32) -> [u16; KETAMA_TRIES] {
        let mut out = [0u16; KETAMA_TRIES];
        let mut h = h0;
        for (j, slot) in out.iter_mut().enumerate() {
            *slot = self.ring_node(h);
            if j + 1 < KETAMA_TRIES {
                // Java also computes the step after the last item; it is
                // never used, so it is skipped here.
                h = h.wrapping_add(self.hash.hash_prefixed(decimal_digit(j), key));
            }
        }
        out
    }
}

/// `Integer.toString(j)` for the iterator's try counter, which never
/// exceeds 5 (only tries 0..=5 feed a used probe).
fn decimal_digit(j: usize) -> &'static str {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    DIGITS[j]
}

/// Builds the Ketama ring of `KetamaNodeLocator.setKetamaNodes` (unweighted;
/// reference §6, "Ring" and "Points per server").
///
/// With `KETAMA_HASH`, for `i` in `0..40` the MD5 of `"<nodeKey>-<i>"`
/// gives four points, its 4-byte groups read little-endian, in group order
/// (`ketamaNodePositionsAtIteration`). With any other algorithm point `i`
/// (`0..160`) is `hash("<nodeKey>-<i>")`. Points are inserted node by node
/// in list order into a `TreeMap`, so on a collision the point inserted last
/// wins; that is reproduced by a stable sort followed by keeping the last
/// entry of each run of equal points.
fn build_ketama_ring(hash: HashAlg, node_keys: &[String]) -> Vec<(u32, u16)> {
    let mut ring: Vec<(u32, u16)> = Vec::with_capacity(node_keys.len() * KETAMA_POINTS_PER_NODE);
    for (node, node_key) in node_keys.iter().enumerate() {
        // `Locator::new` has checked that every index fits in a u16.
        let node = node as u16;
        match hash {
            // twemproxy's continuum is MD5 whatever the key hash.
            HashAlg::Ketama | HashAlg::Fnv1a64 => {
                for i in 0..KETAMA_POINTS_PER_NODE / 4 {
                    let words = md5_words(node_key.as_bytes(), format!("-{i}").as_bytes());
                    for point in words {
                        ring.push((point, node));
                    }
                }
            }
            HashAlg::Native => {
                for i in 0..KETAMA_POINTS_PER_NODE {
                    ring.push((hash.hash(&format!("{node_key}-{i}")), node));
                }
            }
        }
    }
    // Stable: equal points keep insertion order, so the last one is the
    // TreeMap's surviving value.
    ring.sort_by_key(|&(point, _)| point);
    let mut deduped: Vec<(u32, u16)> = Vec::with_capacity(ring.len());
    for entry in ring {
        match deduped.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => deduped.push(entry),
        }
    }
    deduped
}

/// A key's placement: its primary and its `getSequence` order (reference
/// §6). Small, `Copy` and allocation-free, so callers can cache one per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route(RouteInner);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RouteInner {
    /// `ArrayModNodeLocator`: the sequence is derived from the primary.
    ArrayMod { primary: u16, nodes: u16 },
    /// `KetamaIterator`: the 7 probes; probe 0 is the primary.
    Ketama([u16; KETAMA_TRIES]),
}

impl Route {
    /// The key's primary node (`getPrimary`).
    pub fn primary(&self) -> u16 {
        match self.0 {
            RouteInner::ArrayMod { primary, .. } => primary,
            RouteInner::Ketama(probes) => probes[0],
        }
    }

    /// Number of items `getSequence` yields: 7 for Ketama, `N − 1` for
    /// ArrayMod.
    pub fn len(&self) -> usize {
        match self.0 {
            RouteInner::ArrayMod { nodes, .. } => usize::from(nodes) - 1,
            RouteInner::Ketama(_) => KETAMA_TRIES,
        }
    }

    /// Whether the sequence is empty (ArrayMod with a single node).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `getSequence` items in Java's order.
    ///
    /// ArrayMod: `ArrayModNodeLocator.NodeIterator`, which starts at
    /// `primary + 1`, wraps at `N` and stops before reaching the primary
    /// again. Ketama: the 7 `KetamaIterator` probes, the primary first;
    /// probes may repeat nodes.
    pub fn iter(&self) -> RouteIter {
        RouteIter {
            route: *self,
            pos: 0,
        }
    }

    /// The node Redistribute sends the operation to
    /// (`MemcachedConnection.addOperation`, reference §2.3 step 2): the
    /// primary if active; otherwise the first active node of the sequence;
    /// if none is active, the inactive primary ("Could not redistribute to
    /// another node, retrying primary node").
    pub fn place(&self, mut is_active: impl FnMut(u16) -> bool) -> u16 {
        let primary = self.primary();
        if is_active(primary) {
            return primary;
        }
        self.iter().find(|&n| is_active(n)).unwrap_or(primary)
    }
}

/// Iterator over a [`Route`]'s sequence; see [`Route::iter`].
#[derive(Clone, Debug)]
pub struct RouteIter {
    route: Route,
    pos: usize,
}

impl Iterator for RouteIter {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if self.pos >= self.route.len() {
            return None;
        }
        let item = match self.route.0 {
            RouteInner::ArrayMod { primary, nodes } => {
                // pos < N − 1, so the sum stays below 2N and the result is < N.
                let n = u32::from(nodes);
                ((u32::from(primary) + 1 + self.pos as u32) % n) as u16
            }
            RouteInner::Ketama(probes) => probes[self.pos],
        };
        self.pos += 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.route.len().saturating_sub(self.pos);
        (left, Some(left))
    }
}

impl ExactSizeIterator for RouteIter {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(n: u16, port0: u16) -> Vec<String> {
        (0..n).map(|i| format!("127.0.0.1:{}", port0 + i)).collect()
    }

    #[test]
    fn java_hash_known_values() {
        // Values of String.hashCode() printed by a JVM (OpenJDK `java`).
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        assert_eq!(java_string_hash("Aa"), 2112);
        // Overflows: "hello world".hashCode() == 1794106052,
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_string_hash("hello world"), 1_794_106_052);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // Non-ASCII in the BMP: 'é' is one UTF-16 unit (0xE9 = 233).
        assert_eq!(java_string_hash("é"), 233);
        // U+1F600 is the surrogate pair D83D DE00: 31·0xD83D + 0xDE00.
        assert_eq!(java_string_hash("\u{1F600}"), 31 * 0xD83D + 0xDE00);
        assert_eq!(java_string_hash("\u{1F600}"), 1_772_899);
        // "a" + U+1F600: ((97·31 + 0xD83D)·31 + 0xDE00).
        assert_eq!(java_string_hash("a\u{1F600}"), 1_866_116);
    }

    #[test]
    fn native_hash_masks_negative_hash_codes() {
        // "polygenelubricants".hashCode() is negative; NATIVE_HASH keeps its
        // 32-bit pattern as an unsigned value.
        assert_eq!(HashAlg::Native.hash("polygenelubricants"), 0x8000_0000);
        assert_eq!(HashAlg::Native.hash("hello"), 99_162_322);
    }

    #[test]
    fn ketama_hash_is_md5_little_endian() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e → bytes d4 1d 8c d9.
        assert_eq!(HashAlg::Ketama.hash(""), 0xd98c_1dd4);
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661 → bytes 0c c1 75 b9.
        assert_eq!(HashAlg::Ketama.hash("a"), 0xb975_c10c);
    }

    #[test]
    fn one_block_md5_equals_the_streaming_hasher() {
        // Every length around the one-block limit (55 bytes fit, 56 need a
        // second block for the length) and past the first block, split
        // between prefix and rest at several points.
        let text: Vec<u8> = (0..130u8)
            .map(|b| b.wrapping_mul(37).wrapping_add(11))
            .collect();
        for len in 0..text.len() {
            let want = Md5::digest(&text[..len]);
            for cut in [0, len / 3, len] {
                let got = md5_words(&text[..cut], &text[cut..len]);
                let bytes: Vec<u8> = got.iter().flat_map(|w| w.to_le_bytes()).collect();
                assert_eq!(bytes, want.to_vec(), "length {len}, cut {cut}");
            }
        }
    }

    #[test]
    fn prefixed_hash_equals_hash_of_concatenation() {
        for alg in [HashAlg::Native, HashAlg::Ketama] {
            for key in ["", "key:17", "é\u{1F600}x"] {
                assert_eq!(alg.hash_prefixed("3", key), alg.hash(&format!("3{key}")));
            }
        }
    }

    #[test]
    fn array_mod_primary_and_sequence() {
        // NATIVE_HASH("hello") = 99162322; 99162322 mod 4 = 2 (…22 → 22 mod 4).
        let loc = Locator::new(LocatorKind::ArrayMod, HashAlg::Native, &keys(4, 11211)).unwrap();
        assert_eq!(loc.primary("hello"), 2);
        // NodeIterator starts after the primary, wraps, and stops before it.
        let mut out = [u16::MAX; SEQUENCE_CAP];
        assert_eq!(loc.sequence("hello", &mut out), 3);
        assert_eq!(&out[..3], &[3, 0, 1]);
        // A negative hash code is masked, not sign-carried: 0x80000000 mod 3
        // = 2147483648 mod 3 = 2 (Java's `%` on the positive long).
        let loc3 = Locator::new(LocatorKind::ArrayMod, HashAlg::Native, &keys(3, 11211)).unwrap();
        assert_eq!(loc3.primary("polygenelubricants"), 2);
        assert_eq!(
            loc3.route("polygenelubricants").iter().collect::<Vec<_>>(),
            vec![0, 1]
        );
    }

    #[test]
    fn array_mod_single_node_has_empty_sequence() {
        let loc = Locator::new(LocatorKind::ArrayMod, HashAlg::Native, &keys(1, 11211)).unwrap();
        let mut out = [0; SEQUENCE_CAP];
        assert_eq!(loc.primary("x"), 0);
        assert_eq!(loc.sequence("x", &mut out), 0);
        assert!(loc.route("x").is_empty());
        assert_eq!(loc.place("x", |_| false), 0);
    }

    #[test]
    fn array_mod_route_is_exact_beyond_the_fixed_buffer() {
        let loc = Locator::new(LocatorKind::ArrayMod, HashAlg::Native, &keys(12, 11211)).unwrap();
        let route = loc.route("hello");
        let p = route.primary();
        let seq: Vec<u16> = route.iter().collect();
        assert_eq!(seq.len(), 11);
        let expected: Vec<u16> = (1..12).map(|d| (p + d) % 12).collect();
        assert_eq!(seq, expected);
        let mut out = [0; SEQUENCE_CAP];
        assert_eq!(loc.sequence("hello", &mut out), SEQUENCE_CAP);
        assert_eq!(&out[..], &expected[..SEQUENCE_CAP]);
        // Redistribute lands on the first active successor, even the 11th.
        assert_eq!(route.place(|n| n == (p + 11) % 12), (p + 11) % 12);
    }

    #[test]
    fn ketama_ring_has_160_points_per_node_without_collisions() {
        for alg in [HashAlg::Ketama, HashAlg::Native] {
            let loc = Locator::new(LocatorKind::Ketama, alg, &keys(4, 24211)).unwrap();
            assert_eq!(loc.ring().len(), 4 * KETAMA_POINTS_PER_NODE);
            assert!(loc.ring().windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn ketama_collisions_keep_the_last_inserted_node() {
        // Two nodes with the same key produce identical points; in Java the
        // second node's TreeMap.put overwrites the first everywhere.
        let dup = vec!["10.0.0.1:11211".to_string(), "10.0.0.1:11211".to_string()];
        for alg in [HashAlg::Ketama, HashAlg::Native] {
            let loc = Locator::new(LocatorKind::Ketama, alg, &dup).unwrap();
            assert_eq!(loc.ring().len(), KETAMA_POINTS_PER_NODE);
            assert!(loc.ring().iter().all(|&(_, n)| n == 1));
        }
    }

    #[test]
    fn ketama_lookup_wraps_and_hits_exact_points() {
        let loc = Locator::new(LocatorKind::Ketama, HashAlg::Ketama, &keys(3, 24211)).unwrap();
        let ring = loc.ring();
        let (first, last) = (ring[0], ring[ring.len() - 1]);
        assert_eq!(loc.ring_node(first.0), first.1);
        assert_eq!(loc.ring_node(0), first.1);
        assert_eq!(loc.ring_node(last.0), last.1);
        if last.0 < u32::MAX {
            assert_eq!(loc.ring_node(last.0 + 1), first.1);
        }
        assert_eq!(loc.ring_node(ring[5].0 - 1), ring[5].1);
        assert_eq!(loc.ring_node(ring[5].0 + 1), ring[6].1);
    }

    #[test]
    fn ketama_probe_rule_matches_reference() {
        // Recompute the KetamaIterator probes independently from §6:
        // h_j = h_{j-1} + hash("<j-1>" + key) mod 2^32.
        let loc = Locator::new(LocatorKind::Ketama, HashAlg::Ketama, &keys(4, 24211)).unwrap();
        for key in ["key:0", "key:6870", "foo"] {
            let mut h = HashAlg::Ketama.hash(key) as u64;
            let mut expected = Vec::new();
            for j in 0..7 {
                expected.push(loc.ring_node(h as u32));
                h = (h + HashAlg::Ketama.hash(&format!("{j}{key}")) as u64) & 0xffff_ffff;
            }
            assert_eq!(loc.route(key).iter().collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn place_prefers_primary_then_sequence_then_primary() {
        let loc = Locator::new(LocatorKind::Ketama, HashAlg::Ketama, &keys(4, 24211)).unwrap();
        let route = loc.route("key:1");
        let p = route.primary();
        assert_eq!(route.place(|_| true), p);
        assert_eq!(route.place(|_| false), p);
        let first_other = route.iter().find(|&n| n != p).unwrap();
        assert_eq!(route.place(|n| n != p), first_other);
    }

    #[test]
    fn constructor_rejects_bad_node_lists() {
        assert_eq!(
            Locator::new(LocatorKind::Ketama, HashAlg::Ketama, &[]).unwrap_err(),
            LocatorError::NoNodes
        );
        let many = vec![String::new(); usize::from(u16::MAX) + 1];
        assert_eq!(
            Locator::new(LocatorKind::ArrayMod, HashAlg::Native, &many).unwrap_err(),
            LocatorError::TooManyNodes(65_536)
        );
    }

    proptest! {
        #[test]
        fn ketama_sequence_starts_with_primary(
            key in "\\PC{0,40}",
            n in 1u16..12,
            ketama_hash in any::<bool>(),
        ) {
            let alg = if ketama_hash { HashAlg::Ketama } else { HashAlg::Native };
            let loc = Locator::new(LocatorKind::Ketama, alg, &keys(n, 20000)).unwrap();
            let mut out = [u16::MAX; SEQUENCE_CAP];
            let len = loc.sequence(&key, &mut out);
            prop_assert_eq!(len, KETAMA_TRIES);
            prop_assert_eq!(out[0], loc.primary(&key));
            prop_assert!(out.iter().all(|&i| i < n));
            prop_assert_eq!(loc.route(&key).primary(), loc.primary(&key));
        }

        #[test]
        fn array_mod_sequence_is_every_other_node_in_order(
            key in "\\PC{0,40}",
            n in 1u16..20,
            ketama_hash in any::<bool>(),
        ) {
            let alg = if ketama_hash { HashAlg::Ketama } else { HashAlg::Native };
            let loc = Locator::new(LocatorKind::ArrayMod, alg, &keys(n, 20000)).unwrap();
            let p = loc.primary(&key);
            prop_assert!(p < n);
            prop_assert_eq!(u32::from(p), alg.hash(&key) % u32::from(n));
            let seq: Vec<u16> = loc.route(&key).iter().collect();
            prop_assert_eq!(seq.len(), usize::from(n) - 1);
            for (d, &node) in seq.iter().enumerate() {
                prop_assert_eq!(node, (p + 1 + d as u16) % n);
            }
            let mut out = [u16::MAX; SEQUENCE_CAP];
            let len = loc.sequence(&key, &mut out);
            prop_assert_eq!(len, seq.len().min(SEQUENCE_CAP));
            prop_assert_eq!(&out[..len], &seq[..len]);
        }
    }

    #[test]
    fn fnv1a_64_is_the_low_half_of_the_64_bit_hash() {
        // The 64-bit FNV-1a, computed in 64 bits, masked: what spymemcached's
        // FNV1A_64_HASH returns; twemproxy's 32-bit loop must agree.
        fn fnv64(s: &str) -> u64 {
            s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        }
        for key in ["", "a", "key:1", "key:9999", "127.0.0.1:24211-0"] {
            assert_eq!(HashAlg::Fnv1a64.hash(key), fnv64(key) as u32, "{key}");
            assert_eq!(
                HashAlg::Fnv1a64.hash_prefixed("3", key),
                HashAlg::Fnv1a64.hash(&format!("3{key}"))
            );
        }
        // The published FNV-1a 64 test vector for "a" (Noll's FNV page).
        assert_eq!(fnv64("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
