//! The key space: drawing keys (uniform or Zipf), spelling them, and placing
//! them on nodes with the client's locator (cached per key).
//!
//! Keys are drawn so that configurations compared under common random numbers
//! meet the same keys: each request draws one seed at arrival, and the key of
//! step s is a pure function of (that seed, s), never of earlier outcomes.

use std::collections::HashMap;

use rand::RngExt;
use rand_distr::{Distribution, Zipf};

use super::locator::{HashAlg, Locator, LocatorKind, Route};
use crate::config::spec::{HashChoice, Keys, LocatorChoice, Popularity};
use crate::engine::rng::{SplitMix64, derive};

/// Draws key indices.
pub struct KeySpace {
    count: u32,
    zipf: Option<Zipf<f64>>,
    prefix: String,
    suffix: String,
    spelled: String,
}

impl KeySpace {
    /// A key space as the model describes it.
    pub fn new(keys: &Keys) -> Self {
        let zipf = match keys.popularity {
            Popularity::Uniform => None,
            Popularity::Zipf(s) => Zipf::new(keys.count as f64, s).ok(),
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

    /// The `index`-th key of the request whose key seed is `seed`.
    #[inline]
    pub fn key(&self, seed: u64, index: u64) -> u32 {
        let mut rng = SplitMix64::new(derive(seed, index));
        match &self.zipf {
            None => rng.random_range(0..self.count),
            Some(z) => {
                let k: f64 = z.sample(&mut rng);
                (k as u32).clamp(1, self.count) - 1
            }
        }
    }

    /// The spelling of key `i` (`key:{}` → `key:42`), in a reused buffer.
    pub fn spell(&mut self, i: u32) -> &str {
        use std::fmt::Write;
        self.spelled.clear();
        self.spelled.push_str(&self.prefix);
        let _ = write!(self.spelled, "{i}");
        self.spelled.push_str(&self.suffix);
        &self.spelled
    }
}

const UNKNOWN: u16 = u16::MAX;

/// Where a pool's keys live, as the client's locator computes it, cached per
/// key (primaries in a dense table, full routes on demand).
pub struct Placement {
    locator: Locator,
    primaries: Vec<u16>,
    routes: HashMap<u32, Route>,
}

impl Placement {
    /// A placement over `nodes` (addresses `host:port`).
    pub fn new(locator: LocatorChoice, hash: HashChoice, nodes: &[String], keys: u32) -> Self {
        let kind = match locator {
            LocatorChoice::ArrayMod => LocatorKind::ArrayMod,
            LocatorChoice::Ketama => LocatorKind::Ketama,
        };
        let hash = match hash {
            HashChoice::Native => HashAlg::Native,
            HashChoice::Ketama => HashAlg::Ketama,
        };
        let locator = Locator::new(kind, hash, nodes).expect("validated: 1 to 65535 nodes");
        Placement {
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

    fn keys(pop: Popularity) -> Keys {
        Keys {
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
        let n = 100_000;
        let zeros = (0..n).filter(|&i| space.key(i, 0) == 0).count();
        // H(1000, 0.99) ≈ 7.7, so P(key 0) ≈ 0.13.
        let share = zeros as f64 / n as f64;
        assert!((0.11..0.15).contains(&share), "{share}");
        let mut space = KeySpace::new(&keys(Popularity::Uniform));
        assert_eq!(space.spell(42), "key:42");
    }
}
