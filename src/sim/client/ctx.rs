//! What a client may touch while it handles something, and how it hands a
//! result to its caller.

use crate::engine::{Nanos, Scheduler};
use crate::metrics::{CacheOutcome, Recorder};
use crate::sim::event::Event;
use crate::sim::ids::NodeId;
use crate::sim::keys::{KeySpace, Placement};
use crate::sim::network::Network;
use crate::sim::protocol::{CacheResult, Completion, Waiter};

/// Everything a client may touch while it handles something.
pub struct Ctx<'a> {
    /// The event queue (and the current time).
    pub sched: &'a mut Scheduler<Event>,
    /// Connections.
    pub net: &'a mut Network,
    /// Key spelling.
    pub keys: &'a mut KeySpace,
    /// Key placement per pool.
    pub placement: &'a mut [Placement],
    /// Global index of each pool's first node.
    pub pool_offsets: &'a [u16],
    /// The database's current version of each key.
    pub versions: &'a [u32],
    /// Measurements.
    pub rec: &'a mut Recorder,
    /// Completions for the service to pick up.
    pub done: &'a mut Vec<Completion>,
}

impl Ctx<'_> {
    /// Current time.
    #[inline]
    pub fn now(&self) -> Nanos {
        self.sched.now()
    }

    /// The result of a reply to a get of `key`.
    #[inline]
    pub fn hit(&self, key: u32, version: u32) -> CacheResult {
        CacheResult::Hit {
            version,
            stale: version < self.versions[key as usize],
        }
    }

    /// Global node of pool-local `node`.
    #[inline]
    pub fn global(&self, pool: u16, node: u16) -> NodeId {
        NodeId(self.pool_offsets[pool as usize] + node)
    }
}

/// Counts an op outcome and, for an awaited op, hands the result to its caller.
#[inline]
pub fn deliver(ctx: &mut Ctx, waiter: Option<Waiter>, outcome: CacheOutcome, result: CacheResult) {
    ctx.rec.cache(outcome);
    if let Some(waiter) = waiter {
        ctx.done.push(Completion { waiter, result });
    }
}
