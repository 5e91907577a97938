//! The key space: drawing keys (uniform or Zipf), spelling them, and placing
//! them on nodes with the client's locator (cached per key).
//!
//! Keys are drawn so that configurations compared under common random numbers
//! meet the same keys: each request draws one seed at arrival, and the key of
//! step s is a pure function of (that seed, s), never of earlier outcomes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rand::RngExt;
use rand_distr::{Distribution, Zipf};

use super::locator::{Locator, Route};
use crate::config::{HashChoice, KeysConfig, LocatorChoice, Popularity};
use crate::engine::rng::{SplitMix64, derive};

/// Draws key indices.
#[derive(Clone)]
pub struct KeySpace {
    count: u32,
    zipf: Option<Arc<ZipfSampler>>,
    prefix: String,
    suffix: String,
    spelled: String,
}

impl KeySpace {
    /// A key space as the model describes it.
    pub fn new(keys: &KeysConfig) -> Self {
        let zipf = match keys.popularity {
            Popularity::Uniform => None,
            Popularity::Zipf(s) => Some(shared(
                zipf_tables(),
                format!("{}/{:016x}", keys.count, s.to_bits()),
                || ZipfSampler::new(keys.count, s),
            )),
        };
        KeySpace {
            count: keys.count,
            zipf,
            prefix: keys.prefix.clone(),
            suffix: keys.suffix.clone(),
            spelled: String::with_capacity(keys.prefix.len() + keys.suffix.len() + 10),
        }
    }

    /// Number of keys.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The `index`-th key of the request whose key seed is `seed` (inlined:
    /// a request draws its key once, and the call cost a fifth of the draw).
    #[inline(always)]
    pub fn key(&self, seed: u64, index: u64) -> u32 {
        let mut rng = SplitMix64::new(derive(seed, index));
        match &self.zipf {
            None => rng.random_range(0..self.count),
            Some(z) => z.sample(&mut rng),
        }
    }

    /// Length in bytes of key `i`'s spelling, without spelling it.
    #[inline]
    pub fn spelled_len(&self, i: u32) -> usize {
        self.prefix.len() + self.suffix.len() + (i.checked_ilog10().unwrap_or(0) + 1) as usize
    }

    /// The spelling of key `i` (`key:{}` → `key:42`), in a reused buffer.
    pub fn spell(&mut self, i: u32) -> &str {
        // The decimal digits by hand: the formatting machinery cost more
        // than the rest of spelling a key.
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut n = i;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.spelled.clear();
        self.spelled.push_str(&self.prefix);
        self.spelled
            .push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
        self.spelled.push_str(&self.suffix);
        &self.spelled
    }
}

/// How many tables of each kind a process keeps (a sweep varies the key
/// space or the node list over a handful of values at most).
const SHARED_CAP: usize = 8;

/// A table of kind `T` computed once per process and shared by every world
/// built with the same inputs (the runs of a sweep): the last `SHARED_CAP`
/// entries, by their inputs spelled as `id`.
type SharedTables<T> = Mutex<Vec<(String, Arc<T>)>>;

fn zipf_tables() -> &'static SharedTables<ZipfSampler> {
    static T: OnceLock<SharedTables<ZipfSampler>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(Vec::new()))
}

fn primary_tables() -> &'static SharedTables<Vec<u16>> {
    static T: OnceLock<SharedTables<Vec<u16>>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(Vec::new()))
}

/// The table for `id`, built by `build` (outside the lock) when no earlier
/// world of this process built it. The tables are pure functions of `id`, so
/// sharing them changes no result.
fn shared<T>(tables: &SharedTables<T>, id: String, build: impl FnOnce() -> T) -> Arc<T> {
    let lock = || {
        tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some((_, t)) = lock().iter().find(|(k, _)| *k == id) {
        return Arc::clone(t);
    }
    let t = Arc::new(build());
    let mut g = lock();
    if g.len() >= SHARED_CAP {
        g.remove(0);
    }
    g.push((id, Arc::clone(&t)));
    t
}

/// Zipf sampling: P(key i) ∝ (i + 1)^-s. Up to [`ALIAS_MAX`] keys it uses
/// Walker's alias table (Vose's construction): one uniform draw and one
/// comparison per key, no `pow`. Larger key spaces use rand_distr's
/// rejection sampler.
enum ZipfSampler {
    Alias { prob: Vec<f64>, alias: Vec<u32> },
    Rejection(Zipf<f64>, u32),
}

/// Largest key space sampled with an alias table (12 bytes per key).
const ALIAS_MAX: u32 = 1 << 22;

impl ZipfSampler {
    fn new(n: u32, s: f64) -> Self {
        if n > ALIAS_MAX {
            return ZipfSampler::Rejection(Zipf::new(n as f64, s).expect("validated exponent"), n);
        }
        let w: Vec<f64> = (0..n).map(|i| ((i + 1) as f64).powf(-s)).collect();
        let total: f64 = w.iter().sum();
        let mut prob: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias: Vec<u32> = (0..n).collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n).partition(|&i| prob[i as usize] < 1.0);
        while let (Some(&l), Some(&g)) = (small.last(), large.last()) {
            small.pop();
            alias[l as usize] = g;
            prob[g as usize] = (prob[g as usize] + prob[l as usize]) - 1.0;
            if prob[g as usize] < 1.0 {
                large.pop();
                small.push(g);
            }
        }
        for i in small.into_iter().chain(large) {
            prob[i as usize] = 1.0;
        }
        ZipfSampler::Alias { prob, alias }
    }

    #[inline]
    fn sample(&self, rng: &mut SplitMix64) -> u32 {
        match self {
            ZipfSampler::Alias { prob, alias } => {
                let n = prob.len() as u32;
                let i = rng.random_range(0..n);
                let u: f64 = rng.random();
                if u < prob[i as usize] {
                    i
                } else {
                    alias[i as usize]
                }
            }
            ZipfSampler::Rejection(z, n) => rejection(z, *n, rng),
        }
    }
}

/// A Zipf key by rejection sampling, out of line: it is kept only for key
/// spaces too large for an alias table, and [`KeySpace::key`] is inlined
/// into every caller.
#[inline(never)]
fn rejection(z: &Zipf<f64>, n: u32, rng: &mut SplitMix64) -> u32 {
    let k: f64 = z.sample(rng);
    (k as u32).clamp(1, n) - 1
}

const UNKNOWN: u16 = u16::MAX;

/// Where a pool's keys live, as the client's locator computes it, cached per
/// key (primaries in a dense table, full routes on demand).
#[derive(Clone)]
pub struct Placement {
    locator: Locator,
    /// The locator and node list, spelled: with the key space, what a shared
    /// table of primaries depends on.
    id: String,
    primaries: Vec<u16>,
    routes: HashMap<u32, Route>,
}

impl Placement {
    /// A placement over `nodes` (addresses `host:port`).
    pub fn new(locator: LocatorChoice, hash: HashChoice, nodes: &[String], keys: u32) -> Self {
        let locator =
            Locator::new(locator.into(), hash.into(), nodes).expect("validated: 1 to 65535 nodes");
        Placement {
            id: format!(
                "{:?}/{:?}/{}",
                locator.kind(),
                locator.hash_alg(),
                nodes.join(",")
            ),
            locator,
            primaries: vec![UNKNOWN; keys as usize],
            routes: HashMap::new(),
        }
    }

    /// The primary node (index in the pool) of key `k`.
    #[inline]
    pub fn primary(&mut self, k: u32, space: &mut KeySpace) -> u16 {
        let p = self.primaries[k as usize];
        if p != UNKNOWN {
            return p;
        }
        let p = self.locator.primary(space.spell(k));
        self.primaries[k as usize] = p;
        p
    }

    /// Computes the primary of every key (as a prefill needs), or copies them
    /// from the table an earlier world of this process computed for the same
    /// locator, nodes and key space: Ketama's MD5 over 100,000 keys is most of
    /// building a world, and every run of a sweep would pay it again.
    pub fn prime_all(&mut self, space: &mut KeySpace) {
        let id = format!(
            "{}/{}/{:?}/{:?}",
            self.id, space.count, space.prefix, space.suffix
        );
        let primaries = std::mem::take(&mut self.primaries);
        let table = shared(primary_tables(), id, || {
            self.primaries = primaries;
            for k in 0..space.count() {
                self.primary(k, space);
            }
            std::mem::take(&mut self.primaries)
        });
        self.primaries = Vec::clone(&table);
    }

    /// The node Redistribute picks for key `k`: the primary if active, else
    /// the first active node of the locator's sequence, else the primary.
    pub fn redistribute(
        &mut self,
        k: u32,
        space: &mut KeySpace,
        is_active: impl FnMut(u16) -> bool,
    ) -> u16 {
        let route = match self.routes.get(&k) {
            Some(r) => *r,
            None => {
                let r = self.locator.route(space.spell(k));
                self.routes.insert(k, r);
                r
            }
        };
        route.place(is_active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pop: Popularity) -> KeysConfig {
        KeysConfig {
            count: 1000,
            prefix: "key:".into(),
            suffix: String::new(),
            popularity: pop,
        }
    }

    #[test]
    fn keys_are_pure_functions_of_seed_and_index() {
        let space = KeySpace::new(&keys(Popularity::Uniform));
        assert_eq!(space.key(5, 1), space.key(5, 1));
        let distinct: std::collections::BTreeSet<u32> = (0..100).map(|i| space.key(5, i)).collect();
        assert!(distinct.len() > 90);
    }

    #[test]
    fn zipf_favours_key_zero() {
        let space = KeySpace::new(&keys(Popularity::Zipf(0.99)));
        let n = 200_000;
        let mut counts = vec![0u64; 1000];
        for i in 0..n {
            counts[space.key(i, 0) as usize] += 1;
        }
        // Every key's share matches (i + 1)^-0.99 / H within sampling error.
        let h: f64 = (1..=1000).map(|i| (i as f64).powf(-0.99)).sum();
        for i in [0usize, 1, 9, 99, 999] {
            let p = ((i + 1) as f64).powf(-0.99) / h;
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            let share = counts[i] as f64 / n as f64;
            assert!((share - p).abs() < 5.0 * sd, "key {i}: {share} vs {p}");
        }
        let mut space = KeySpace::new(&keys(Popularity::Uniform));
        assert_eq!(space.spell(42), "key:42");
        for i in [0, 7, 10, 42, 999, 1_000_000, u32::MAX] {
            let len = space.spelled_len(i);
            assert_eq!(len, space.spell(i).len());
            assert_eq!(space.spell(i), format!("key:{i}"));
        }
    }
}

#[cfg(test)]
mod shared_tests {
    use super::*;

    fn ketama(nodes: &[String], count: u32) -> (Placement, KeySpace) {
        let keys = KeysConfig {
            count,
            prefix: "shared-test:".into(),
            suffix: String::new(),
            popularity: Popularity::Uniform,
        };
        (
            Placement::new(LocatorChoice::Ketama, HashChoice::Ketama, nodes, count),
            KeySpace::new(&keys),
        )
    }

    /// A shared table of primaries holds exactly what the locator computes key
    /// by key, and a second world with the same inputs gets the same table
    /// without computing it; other nodes get their own.
    #[test]
    fn shared_primaries_equal_the_locators_own() {
        let nodes: Vec<String> = (1..=4).map(|i| format!("10.9.0.{i}:11211")).collect();
        let (mut lazy, mut space) = ketama(&nodes, 2000);
        let own: Vec<u16> = (0..2000).map(|k| lazy.primary(k, &mut space)).collect();
        let (mut first, mut space1) = ketama(&nodes, 2000);
        first.prime_all(&mut space1);
        assert_eq!(first.primaries, own);
        let before = primary_tables().lock().unwrap().len();
        let (mut second, mut space2) = ketama(&nodes, 2000);
        second.prime_all(&mut space2);
        assert_eq!(second.primaries, own);
        assert!(primary_tables().lock().unwrap().len() <= before.max(SHARED_CAP));
        let other: Vec<String> = (1..=5).map(|i| format!("10.9.0.{i}:11211")).collect();
        let (mut third, mut space3) = ketama(&other, 2000);
        third.prime_all(&mut space3);
        let (mut lazy3, mut space4) = ketama(&other, 2000);
        let own3: Vec<u16> = (0..2000).map(|k| lazy3.primary(k, &mut space4)).collect();
        assert_eq!(third.primaries, own3);
        assert_ne!(own3, own);
    }
}
