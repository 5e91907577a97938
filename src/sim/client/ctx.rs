//! What a client may touch while it handles something, and how it hands a
//! result to its caller.

use crate::engine::{Lane, Nanos, Scheduler};
use crate::metrics::{CacheOutcome, Recorder};
use crate::sim::event::Event;
use crate::sim::ids::{ClientId, NodeId, OpRef};
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

    /// Arms the caller's timeout of `client`'s op `(slot, generation)` on
    /// `lane` (the lane's delay from now).
    #[inline]
    pub fn arm_timeout(&mut self, lane: Lane, client: ClientId, slot: u32, generation: u32) {
        let op = OpRef { slot, generation };
        self.sched.after_lane(lane, Event::OpTimeout { client, op });
    }
}

/// Counts an op outcome and, for an awaited op, hands the result to its caller.
#[inline(always)]
pub fn deliver(ctx: &mut Ctx, waiter: Option<Waiter>, outcome: CacheOutcome, result: CacheResult) {
    ctx.rec.cache(outcome);
    if let Some(waiter) = waiter {
        ctx.done.push(Completion { waiter, result });
    }
}
