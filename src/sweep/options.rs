//! The choices that change which runs a sweep makes, or their seeds: the
//! seed mode and source, and `--shard`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How replication seeds are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedMode {
    /// Replication r of every point uses the same seed (common random
    /// numbers).
    Common,
    /// Every point has its own seeds, from a hash of the point.
    Independent,
}

impl SeedMode {
    /// `common` or `independent`.
    pub fn name(self) -> &'static str {
        match self {
            SeedMode::Common => "common",
            SeedMode::Independent => "independent",
        }
    }
}

/// Where the experiment seed came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedSource {
    /// `--seed`.
    CommandLine,
    /// The experiment's `seed`.
    Experiment,
    /// The model's `seed`.
    Model,
}

/// `--shard i/n`: the points whose index modulo n is i − 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// True when this shard runs `point`.
    pub fn contains(&self, point: usize) -> bool {
        point % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write I/N with 1 ≤ I ≤ N, e.g. 2/3");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Shard, String> {
        s.parse()
    }
}

/// Choices that change which runs are made, or their seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--seed`.
    pub seed: Option<u64>,
    /// Common or independent seeds.
    pub seed_mode: SeedMode,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// `--max-events`: the runaway guard's limit for every point (0 = no
    /// limit).
    pub max_events: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            seed: None,
            seed_mode: SeedMode::Common,
            shard: None,
            max_events: crate::config::estimate::DEFAULT_MAX_EVENTS,
        }
    }
}
