//! Requests in flight: a slab with generation-checked references, so events
//! about a request that has ended are recognised as stale.

use crate::engine::Nanos;
use crate::metrics::RequestFlags;

/// A reference to a request slot, valid while its generation matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReqRef {
    /// Slot.
    pub idx: u32,
    /// Generation of the slot when the reference was made.
    pub generation: u32,
}

/// Result of the last awaited get or multi-get, for step conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LastGet {
    /// No get yet.
    #[default]
    None,
    /// Found.
    Hit,
    /// Not found (for a multi-get: at least one key missing).
    Miss,
    /// A cache error.
    Error,
}

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReqState {
    /// Waiting in the front end's backend queue.
    #[default]
    FrontendQueue,
    /// Waiting in an executor queue (for its first thread, or to continue).
    ExecQueue,
    /// On a thread, running a `work` step.
    Work,
    /// On a thread, waiting for a cache call.
    Cache,
    /// Off its thread, waiting for a bulkhead cache call.
    Bulkhead,
    /// On a thread, waiting for a database connection.
    DbWait,
    /// On a thread, waiting for a database query.
    DbQuery,
    /// On a thread, sleeping before it retries a failed database call.
    DbRetrySleep,
    /// Off the service, waiting for an upstream layer to send it again.
    UpstreamSleep,
}

/// A request in flight.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Slot generation.
    pub generation: u32,
    /// Flow index.
    pub flow: u16,
    /// Next step to run (index into the flow's steps).
    pub step: u16,
    /// Service instance.
    pub instance: u16,
    /// Executor lane (the event loop it is pinned to; 0 for a pool).
    pub lane: u16,
    /// Arrival time.
    pub arrival: Nanos,
    /// Seed of the request's keys.
    pub key_seed: u64,
    /// Current key.
    pub key: u32,
    /// Whether `key` has been drawn.
    pub has_key: bool,
    /// Result of the last awaited get.
    pub last: LastGet,
    /// Steps (bit = step index) whose awaited `get` missed or failed: the
    /// keys an `each = "missed"` loop runs for.
    pub missed: u64,
    /// The keys (bit = the key's place in its list) of the flow's awaited
    /// `multi_get` that missed or failed (its step's bit is in `missed`).
    pub bulk_missed: u64,
    /// In a per-key loop: the (step, key's place in that step's list) whose
    /// key the current or last iteration used.
    pub each_cursor: Option<(u16, u16)>,
    /// While an iteration of a per-key loop runs: its body (first step, one
    /// past the last).
    pub each_body: Option<(u16, u16)>,
    /// Version of the value this request holds (read from the database or
    /// the cache), written by a following set.
    pub version: u32,
    /// What it met.
    pub flags: RequestFlags,
    /// Where it is.
    pub state: ReqState,
    /// Its outcome was already recorded (a front-end timeout answered it);
    /// the backend may still be working on it.
    pub answered: bool,
    /// It holds an executor thread.
    pub holds_thread: bool,
    /// It holds a front-end `maxconn` slot.
    pub holds_slot: bool,
    /// Deadline of the current wait (database connection, bulkhead); for a
    /// running query, its start.
    pub deadline: Nanos,
    /// The bulkhead task (slot, generation) it waits for.
    pub task: (u32, u32),
    /// Attempts of the current database step so far.
    pub db_attempt: u32,
    /// The last sleep before a database retry.
    pub db_slept: Nanos,
    /// Retries made so far by each upstream layer (outermost first) within
    /// the current attempt of the layer above it.
    pub upstream: [u8; 8],
    /// The last sleep before an upstream retry.
    pub upstream_slept: Nanos,
}

/// All requests in flight.
#[derive(Clone, Default)]
pub struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
    live: usize,
}

impl Requests {
    /// A new request; the caller fills it in.
    pub fn alloc(&mut self) -> ReqRef {
        self.alloc_mut().0
    }

    /// A new request and the request itself, for the caller to fill in
    /// without looking it up again.
    #[inline]
    pub fn alloc_mut(&mut self) -> (ReqRef, &mut Request) {
        self.live += 1;
        let idx = match self.free.pop() {
            Some(idx) => idx,
            None => {
                self.slots.push(Request::default());
                (self.slots.len() - 1) as u32
            }
        };
        let req = &mut self.slots[idx as usize];
        let r = ReqRef {
            idx,
            generation: req.generation,
        };
        (r, req)
    }

    /// Frees a slot: its generation is bumped, so every reference to it
    /// becomes stale (and the next allocation hands out the new generation).
    pub fn free(&mut self, r: ReqRef) {
        let slot = &mut self.slots[r.idx as usize];
        debug_assert_eq!(slot.generation, r.generation);
        let generation = slot.generation.wrapping_add(1);
        *slot = Request {
            generation,
            ..Default::default()
        };
        self.free.push(r.idx);
        self.live -= 1;
    }

    /// The request, if the reference is still valid.
    #[inline]
    pub fn get(&self, r: ReqRef) -> Option<&Request> {
        self.slots
            .get(r.idx as usize)
            .filter(|q| q.generation == r.generation)
    }

    /// The request, mutably, if the reference is still valid.
    #[inline]
    pub fn get_mut(&mut self, r: ReqRef) -> Option<&mut Request> {
        self.slots
            .get_mut(r.idx as usize)
            .filter(|q| q.generation == r.generation)
    }

    /// Requests in flight.
    pub fn live(&self) -> usize {
        self.live
    }

    /// References to every live request, in slot order.
    pub fn live_refs(&self) -> Vec<ReqRef> {
        let mut free = vec![false; self.slots.len()];
        for &f in &self.free {
            free[f as usize] = true;
        }
        self.slots
            .iter()
            .enumerate()
            .filter(|(i, _)| !free[*i])
            .map(|(i, q)| ReqRef {
                idx: i as u32,
                generation: q.generation,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_references_are_refused() {
        let mut rs = Requests::default();
        let a = rs.alloc();
        assert!(rs.get(a).is_some());
        rs.free(a);
        assert!(rs.get(a).is_none());
        let b = rs.alloc();
        assert_eq!(b.idx, a.idx);
        assert!(rs.get(a).is_none());
        assert!(rs.get(b).is_some());
        assert_eq!(rs.live(), 1);
        assert_eq!(rs.live_refs(), vec![b]);
        // alloc_mut hands out the same reference alloc would, with its slot.
        rs.free(b);
        let (c, req) = rs.alloc_mut();
        req.key = 7;
        assert_eq!((c.idx, c.generation), (b.idx, b.generation + 1));
        assert_eq!(rs.get(c).map(|q| q.key), Some(7));
        assert!(rs.get(b).is_none());
        let (d, _) = rs.alloc_mut();
        assert_eq!((d.idx, d.generation), (1, 0));
        assert_eq!(rs.live(), 2);
    }
}
