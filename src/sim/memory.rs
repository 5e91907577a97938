//! A memcached node's item memory: a bounded store with LRU eviction, lazy
//! expiry, `flush_all`, and Facebook-style leases.
//!
//! What memcached does, and what is kept of it:
//!
//! - **Slab classes.** memcached stores an item in a chunk of the smallest
//!   slab class that fits it; class 1 is 96 bytes (the 48-byte item header
//!   plus `-n 48`), each next class 1.25× larger, 8-byte aligned, up to half
//!   a 1 MiB page (`slabs_init`, slabs.c). An item needs
//!   header 48 + CAS 8 + key + 1 + value + 2 bytes (`item_make_header`,
//!   items.c). Here a node with `memory` charges each item its chunk against
//!   the capacity; pages, per-class page assignment and the slab rebalancer
//!   are not modelled.
//! - **LRU.** memcached keeps one LRU per slab class; since 1.5 each is
//!   segmented into HOT, WARM and COLD (`doc/new_lru.txt`): items enter HOT,
//!   move to WARM when hit twice, and are evicted from the tail of COLD.
//!   Here a node keeps one exact LRU over all its items: the classic
//!   memcached LRU (`-o no_lru_segmented`), identical to the per-class LRU
//!   when items are of one size, and the policy whose hit ratio has the
//!   analytic form the tests check (Che's approximation).
//! - **Expiry is lazy.** An expired item is not removed when it expires; a
//!   get that finds it removes it and misses (`do_item_get`), and an eviction
//!   that finds an expired item at the LRU's tail reclaims it instead of
//!   evicting a live one (`lru_pull_tail`). The LRU crawler's background
//!   reclaim is not modelled (it only frees memory earlier).
//! - **flush_all** makes every item invalid at once (`settings.oldest_live`);
//!   here the node forgets them.
//! - **Leases** ("Scaling Memcache at Facebook", Nishtala et al., NSDI 2013,
//!   §3.2.1): a get that misses hands its caller a lease, the right to fill
//!   the key; another get of that key within the lease time gets no lease and
//!   waits (or, with `lease_miss = "stale"`, gets the value the key had
//!   before it was deleted or expired, marked stale). A set or a delete ends
//!   the lease.
//!
//! Everything is a dense table per key index, allocated only for what the
//! model uses, so memory is bounded by the key count and never grows with
//! simulated time.

use crate::config::{Capacity, LeaseMiss, MemoryConfig};
use crate::engine::Nanos;

/// No key (list ends).
const NIL: u32 = u32::MAX;

/// Bytes of memcached's item header on a 64-bit build (`sizeof(item)`).
const ITEM_HEADER: u32 = 48;
/// The CAS value stored with every item (`-C` not given).
const ITEM_CAS: u32 = 8;
/// The default minimum item space (`-n 48`).
const CHUNK_MIN: u32 = 48;
/// The default growth factor between slab classes (`-f 1.25`).
const GROWTH: f64 = 1.25;
/// The largest slab chunk: half the 1 MiB page (`slab_chunk_max`).
const CHUNK_MAX: u32 = 512 * 1024;
/// memcached's chunk alignment (`CHUNK_ALIGN_BYTES`).
const ALIGN: u32 = 8;

/// The chunk sizes of memcached's default slab classes.
fn slab_classes() -> Vec<u32> {
    let mut out = Vec::new();
    let mut size = f64::from(ITEM_HEADER + CHUNK_MIN);
    while size < f64::from(CHUNK_MAX) / GROWTH {
        let mut s = size as u32;
        if !s.is_multiple_of(ALIGN) {
            s += ALIGN - s % ALIGN;
        }
        out.push(s);
        size = f64::from(s) * GROWTH;
    }
    out.push(CHUNK_MAX);
    out
}

/// Bytes an item of a `key_len`-byte key and a `value`-byte value occupies:
/// its slab chunk, or (above the largest chunk, stored in chained chunks)
/// its size rounded up to whole largest chunks.
pub fn item_charge(classes: &[u32], key_len: u32, value: u32) -> u32 {
    let total = ITEM_HEADER + ITEM_CAS + key_len + 1 + value + 2;
    match classes.iter().find(|&&c| c >= total) {
        Some(&c) => c,
        None => total.div_ceil(CHUNK_MAX) * CHUNK_MAX,
    }
}

/// What a get found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The value, with its version.
    Hit(u32),
    /// Not there; the caller holds the lease (or leases are off).
    Miss,
    /// Not there and leased to another reader: wait for the fill.
    Leased,
    /// Not there and leased to another reader; this stale version instead.
    Stale(u32),
}

/// Counters of what the memory did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryCounts {
    /// Gets that found their key.
    pub hits: u64,
    /// Gets that did not.
    pub misses: u64,
    /// Sets stored.
    pub fills: u64,
    /// Live items dropped to make room.
    pub evictions: u64,
    /// Items dropped because their expiry had passed.
    pub expired: u64,
    /// Items dropped by `flush_all`.
    pub flushed: u64,
    /// Gets that found the key leased to another reader.
    pub lease_waits: u64,
    /// Of those, answered with a stale value.
    pub stale_served: u64,
}

/// One node's items.
#[derive(Clone)]
pub struct Memory {
    /// Version + 1 of each key held (0 = absent).
    store: Vec<u32>,
    /// Capacity and LRU links, when bounded.
    lru: Option<Lru>,
    /// Expiry of every set, and of each key (0 = none).
    ttl: Option<Nanos>,
    expires: Vec<Nanos>,
    /// Leases.
    lease: Option<Leases>,
    /// What happened.
    pub counts: MemoryCounts,
}

/// A bounded store's recency list (head = most recent) and its usage.
#[derive(Clone)]
struct Lru {
    capacity: Capacity,
    used: u64,
    prev: Vec<u32>,
    next: Vec<u32>,
    head: u32,
    tail: u32,
    /// Bytes charged per key (byte capacity only).
    charge: Vec<u32>,
    classes: Vec<u32>,
}

/// Lease bookkeeping.
#[derive(Clone)]
struct Leases {
    time: Nanos,
    /// When each key's lease ends (0 = none).
    until: Vec<Nanos>,
    /// Version + 1 a key had when it was deleted or expired (stale reads).
    old: Vec<u32>,
}

impl Memory {
    /// Room for `keys` keys, bounded and timed as `cfg` says.
    pub fn new(keys: u32, cfg: &MemoryConfig) -> Self {
        let n = keys as usize;
        Memory {
            store: vec![0; n],
            lru: cfg.capacity.map(|capacity| Lru {
                capacity,
                used: 0,
                prev: vec![NIL; n],
                next: vec![NIL; n],
                head: NIL,
                tail: NIL,
                charge: match capacity {
                    Capacity::Bytes(_) => vec![0; n],
                    Capacity::Items(_) => Vec::new(),
                },
                classes: slab_classes(),
            }),
            ttl: None,
            expires: Vec::new(),
            lease: cfg.lease.map(|l| Leases {
                time: l.time,
                until: vec![0; n],
                old: match l.miss {
                    LeaseMiss::Stale => vec![0; n],
                    LeaseMiss::Wait => Vec::new(),
                },
            }),
            counts: MemoryCounts::default(),
        }
    }

    /// Every set from now on expires `ttl` after it (the pool's `ttl`, or a
    /// gutter pool's `failover_exptime`, whichever is shorter).
    pub fn set_ttl(&mut self, ttl: Nanos) {
        let ttl = self.ttl.map_or(ttl, |t| t.min(ttl));
        self.ttl = Some(ttl);
        self.expires = vec![0; self.store.len()];
    }

    /// True when items are charged by their size (a capacity in bytes):
    /// only then does a set need its value's size.
    #[inline]
    pub fn charges_bytes(&self) -> bool {
        self.lru
            .as_ref()
            .is_some_and(|l| matches!(l.capacity, Capacity::Bytes(_)))
    }

    /// True when leases are on.
    #[inline]
    pub fn leases(&self) -> bool {
        self.lease.is_some()
    }

    /// Drops key `k` if its expiry has passed.
    #[inline]
    fn expire(&mut self, k: usize, now: Nanos) {
        if self.ttl.is_some() && self.expires[k] != 0 && self.expires[k] <= now {
            self.expires[k] = 0;
            if self.store[k] != 0 {
                self.counts.expired += 1;
                self.remove(k);
            }
        }
    }

    /// Unlinks a held key and forgets it (remembering its value for stale
    /// reads when leases serve them).
    fn remove(&mut self, k: usize) {
        let v = std::mem::take(&mut self.store[k]);
        if let Some(l) = &mut self.lease
            && !l.old.is_empty()
        {
            l.old[k] = v;
        }
        if let Some(lru) = &mut self.lru {
            lru.unlink(k as u32);
        }
    }

    /// The version of key `k` if it is held (no LRU bump, no counting).
    #[inline]
    pub fn peek(&self, k: u32) -> Option<u32> {
        match self.store[k as usize] {
            0 => None,
            v => Some(v - 1),
        }
    }

    /// A get of key `k` at `now`.
    #[inline]
    pub fn get(&mut self, k: u32, now: Nanos) -> Lookup {
        let ki = k as usize;
        self.expire(ki, now);
        match self.store[ki] {
            0 => {}
            v => {
                self.counts.hits += 1;
                if let Some(lru) = &mut self.lru {
                    lru.bump(k);
                }
                return Lookup::Hit(v - 1);
            }
        }
        let Some(l) = &mut self.lease else {
            self.counts.misses += 1;
            return Lookup::Miss;
        };
        if l.until[ki] > now {
            self.counts.lease_waits += 1;
            if let Some(&old) = l.old.get(ki)
                && old != 0
            {
                self.counts.stale_served += 1;
                return Lookup::Stale(old - 1);
            }
            return Lookup::Leased;
        }
        l.until[ki] = now + l.time;
        self.counts.misses += 1;
        Lookup::Miss
    }

    /// How long a lease lasts (0 without leases).
    pub fn lease_time(&self) -> Nanos {
        self.lease.as_ref().map_or(0, |l| l.time)
    }

    /// Moves the end of key `k`'s lease to `until`.
    pub fn extend_lease(&mut self, k: u32, until: Nanos) {
        if let Some(l) = &mut self.lease {
            l.until[k as usize] = until;
        }
    }

    /// When the lease on `k` ends (0 = none).
    pub fn lease_until(&self, k: u32) -> Nanos {
        self.lease.as_ref().map_or(0, |l| l.until[k as usize])
    }

    /// Stores key `k` with `version`, for a value of `value` bytes under a
    /// `key_len`-byte key, at `now`: a set.
    #[inline]
    pub fn set(&mut self, k: u32, version: u32, key_len: u32, value: u32, now: Nanos) {
        self.store_item(k, version, key_len, value, now, true);
    }

    /// Stores key `k` before the run starts (the prefill). It carries no
    /// expiry: a prefilled node stands for a warm cache, whose items were set
    /// at different times; expiring them all at once, `ttl` after the start,
    /// would be a herd no warm cache has.
    pub fn prefill(&mut self, k: u32, version: u32, key_len: u32, value: u32) {
        self.store_item(k, version, key_len, value, 0, false);
    }

    #[inline]
    fn store_item(
        &mut self,
        k: u32,
        version: u32,
        key_len: u32,
        value: u32,
        now: Nanos,
        timed: bool,
    ) {
        let ki = k as usize;
        let was = self.store[ki];
        self.store[ki] = version.wrapping_add(1);
        self.counts.fills += 1;
        if let Some(ttl) = self.ttl {
            self.expires[ki] = if timed { now + ttl } else { 0 };
        }
        if let Some(l) = &mut self.lease {
            l.until[ki] = 0;
            if !l.old.is_empty() {
                l.old[ki] = 0;
            }
        }
        if let Some(lru) = &mut self.lru {
            if was != 0 {
                lru.unlink(k);
            }
            lru.push_front(k, key_len, value);
            while lru.over() {
                let t = lru.tail;
                lru.unlink(t);
                let ti = t as usize;
                // An expired item at the tail is reclaimed, not evicted.
                if self.ttl.is_some() && self.expires[ti] != 0 && self.expires[ti] <= now {
                    self.counts.expired += 1;
                    self.expires[ti] = 0;
                } else {
                    self.counts.evictions += 1;
                }
                let v = std::mem::take(&mut self.store[ti]);
                if let Some(l) = &mut self.lease
                    && !l.old.is_empty()
                {
                    l.old[ti] = v;
                }
            }
        }
    }

    /// A touch of key `k`: a new expiry if it is held.
    pub fn touch(&mut self, k: u32, now: Nanos) -> bool {
        let ki = k as usize;
        self.expire(ki, now);
        if self.store[ki] == 0 {
            return false;
        }
        if let Some(ttl) = self.ttl {
            self.expires[ki] = now + ttl;
        }
        if let Some(lru) = &mut self.lru {
            lru.bump(k);
        }
        true
    }

    /// A delete of key `k`; true if it was held. Ends any lease on it (the
    /// filler's set would carry a value older than the delete).
    pub fn delete(&mut self, k: u32, now: Nanos) -> bool {
        let ki = k as usize;
        self.expire(ki, now);
        if let Some(l) = &mut self.lease {
            l.until[ki] = 0;
        }
        if self.store[ki] == 0 {
            return false;
        }
        self.remove(ki);
        true
    }

    /// `flush_all`: every item is gone.
    pub fn flush(&mut self) {
        let held = self.store.iter().filter(|&&v| v != 0).count() as u64;
        self.counts.flushed += held;
        self.forget();
    }

    /// Forgets everything (a restart); leases and stale values go too.
    pub fn forget(&mut self) {
        self.store.iter_mut().for_each(|v| *v = 0);
        self.expires.iter_mut().for_each(|v| *v = 0);
        if let Some(lru) = &mut self.lru {
            lru.used = 0;
            lru.head = NIL;
            lru.tail = NIL;
        }
        if let Some(l) = &mut self.lease {
            l.until.iter_mut().for_each(|v| *v = 0);
            l.old.iter_mut().for_each(|v| *v = 0);
        }
    }

    /// Items held.
    pub fn items(&self) -> u64 {
        self.store.iter().filter(|&&v| v != 0).count() as u64
    }
}

impl Lru {
    #[inline]
    fn over(&self) -> bool {
        match self.capacity {
            Capacity::Items(n) => self.used > u64::from(n),
            Capacity::Bytes(b) => self.used > b && self.tail != self.head,
        }
    }

    #[inline]
    fn unlink(&mut self, k: u32) {
        let ki = k as usize;
        let (p, n) = (self.prev[ki], self.next[ki]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
        self.used -= match self.capacity {
            Capacity::Items(_) => 1,
            Capacity::Bytes(_) => u64::from(self.charge[ki]),
        };
    }

    #[inline]
    fn push_front(&mut self, k: u32, key_len: u32, value: u32) {
        let ki = k as usize;
        self.prev[ki] = NIL;
        self.next[ki] = self.head;
        if self.head != NIL {
            self.prev[self.head as usize] = k;
        } else {
            self.tail = k;
        }
        self.head = k;
        self.used += match self.capacity {
            Capacity::Items(_) => 1,
            Capacity::Bytes(_) => {
                let c = item_charge(&self.classes, key_len, value);
                self.charge[ki] = c;
                u64::from(c)
            }
        };
    }

    /// Moves a held key to the head (most recently used).
    #[inline]
    fn bump(&mut self, k: u32) {
        if self.head == k {
            return;
        }
        let ki = k as usize;
        let (p, n) = (self.prev[ki], self.next[ki]);
        // Not the head, so it has a predecessor.
        self.next[p as usize] = n;
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
        self.prev[ki] = NIL;
        self.next[ki] = self.head;
        self.prev[self.head as usize] = k;
        self.head = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LeaseConfig;

    fn items(n: u32) -> MemoryConfig {
        MemoryConfig {
            capacity: Some(Capacity::Items(n)),
            ..MemoryConfig::default()
        }
    }

    #[test]
    fn slab_classes_are_memcacheds_defaults() {
        // `memcached -vv` prints these chunk sizes for classes 1 to 10.
        let c = slab_classes();
        assert_eq!(&c[..10], &[96, 120, 152, 192, 240, 304, 384, 480, 600, 752]);
        assert_eq!(*c.last().unwrap(), CHUNK_MAX);
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        // "key:1234" with a 100-byte value: 48 + 8 + 8 + 1 + 102 = 167 → 192.
        assert_eq!(item_charge(&c, 8, 100), 192);
        assert_eq!(item_charge(&c, 8, 1 << 20), 3 * CHUNK_MAX);
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut m = Memory::new(10, &items(3));
        for k in 0..3 {
            m.set(k, 0, 5, 10, 0);
        }
        assert_eq!(m.get(0, 1), Lookup::Hit(0));
        m.set(3, 0, 5, 10, 2); // evicts 1, the oldest unused
        assert_eq!(m.counts.evictions, 1);
        assert_eq!(m.peek(1), None);
        assert_eq!(m.items(), 3);
        m.set(0, 7, 5, 10, 3); // a replace does not evict
        assert_eq!(m.counts.evictions, 1);
        assert!(m.delete(2, 4));
        m.set(4, 0, 5, 10, 5);
        assert_eq!(m.counts.evictions, 1);
        m.set(5, 0, 5, 10, 6); // evicts 3
        assert_eq!(m.peek(3), None);
        assert_eq!(m.peek(0), Some(7));
    }

    #[test]
    fn bytes_capacity_charges_slab_chunks() {
        let cfg = MemoryConfig {
            capacity: Some(Capacity::Bytes(192 * 4)),
            ..MemoryConfig::default()
        };
        let mut m = Memory::new(100, &cfg);
        for k in 0..10 {
            m.set(k, 0, 8, 100, 0);
        }
        assert_eq!(m.items(), 4);
        assert_eq!(m.counts.evictions, 6);
    }

    #[test]
    fn expiry_is_lazy_and_reclaims_before_evicting() {
        let mut m = Memory::new(10, &items(2));
        m.set_ttl(10);
        m.set(0, 0, 1, 1, 0);
        m.set(1, 0, 1, 1, 5);
        // Key 0 expired at 10: a set at 12 reclaims it instead of evicting 1.
        m.set(2, 0, 1, 1, 12);
        assert_eq!((m.counts.expired, m.counts.evictions), (1, 0));
        assert_eq!(m.get(1, 14), Lookup::Hit(0));
        assert_eq!(m.get(1, 15), Lookup::Miss);
        assert_eq!(m.counts.expired, 2);
        assert!(m.touch(2, 20));
        assert_eq!(m.get(2, 29), Lookup::Hit(0));
    }

    #[test]
    fn one_lease_per_key_per_lease_time() {
        for miss in LeaseMiss::ALL {
            let cfg = MemoryConfig {
                lease: Some(LeaseConfig { time: 100, miss }),
                ..MemoryConfig::default()
            };
            let mut m = Memory::new(4, &cfg);
            m.set(1, 3, 1, 1, 0);
            assert!(m.delete(1, 1));
            assert_eq!(m.get(1, 2), Lookup::Miss, "the first reader fills");
            let second = m.get(1, 3);
            match miss {
                LeaseMiss::Wait => assert_eq!(second, Lookup::Leased),
                LeaseMiss::Stale => assert_eq!(second, Lookup::Stale(3)),
            }
            assert_eq!(m.get(1, 102), Lookup::Miss, "the lease ended");
            m.set(1, 4, 1, 1, 103);
            assert_eq!(m.get(1, 104), Lookup::Hit(4));
            assert_eq!(m.counts.lease_waits, 1);
        }
    }

    #[test]
    fn flush_forgets_everything() {
        let mut m = Memory::new(10, &items(5));
        for k in 0..5 {
            m.set(k, 0, 1, 1, 0);
        }
        m.flush();
        assert_eq!((m.items(), m.counts.flushed), (0, 5));
        for k in 5..10 {
            m.set(k, 0, 1, 1, 1);
        }
        assert_eq!(m.counts.evictions, 0);
        m.set(0, 0, 1, 1, 1);
        assert_eq!(m.counts.evictions, 1);
    }
}
