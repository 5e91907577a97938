//! The protocol between the service, its cache client and the nodes: what a
//! step asks of the cache ([`Call`]), what comes back ([`CacheResult`],
//! [`Completion`]), and the messages on a connection ([`NodeMsg`],
//! [`ClientMsg`]). A leaf: it imports only ids, the request reference and the
//! engine's time.

use super::request::ReqRef;
use crate::engine::Nanos;
use crate::metrics::CacheOutcome;

/// A cache operation's kind on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// get.
    Get,
    /// set.
    Set,
    /// touch.
    Touch,
    /// delete.
    Delete,
    /// noop / version (liveness check on connect).
    Noop,
}

/// A request from a client to a node.
#[derive(Clone, Copy, Debug)]
pub struct NodeMsg {
    /// Client-side op slot.
    pub op: u32,
    /// Client-side op generation.
    pub op_gen: u32,
    /// What to do.
    pub kind: OpKind,
    /// Key index.
    pub key: u32,
    /// Version of the value carried by a set.
    pub version: u32,
    /// Bytes on the wire.
    pub bytes: u32,
    /// The node skips it after this time (deadline propagation); `Nanos::MAX`
    /// when the node does not know the caller's deadline.
    pub deadline: Nanos,
}

/// A node's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// VALUE … END with this version.
    Hit(u32),
    /// END (a get miss) or NOT_FOUND.
    Miss,
    /// STORED, TOUCHED, DELETED, or a noop's reply.
    Stored,
    /// The connection was refused or reset.
    Reset,
}

/// A reply from a node to a client.
#[derive(Clone, Copy, Debug)]
pub struct ClientMsg {
    /// Client-side op slot.
    pub op: u32,
    /// Client-side op generation.
    pub op_gen: u32,
    /// The reply.
    pub reply: Reply,
}

/// What an awaited cache call returned to its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheResult {
    /// Found, with the stored version; `stale` when older than the database's.
    Hit {
        /// Version of the value.
        version: u32,
        /// Older than the database's current version.
        stale: bool,
    },
    /// Not found.
    Miss,
    /// Acknowledged (set, touch, delete).
    Stored,
    /// Failed: timeout, cancellation, queue full or error.
    Failed(CacheOutcome),
}

/// A finished awaited call.
#[derive(Clone, Copy, Debug)]
pub struct Completion {
    /// Who waits.
    pub waiter: Waiter,
    /// What it gets.
    pub result: CacheResult,
}

/// A cache call as a step makes it.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// get, set, touch or delete.
    pub kind: OpKind,
    /// Pool index.
    pub pool: u16,
    /// Key.
    pub key: u32,
    /// Value bytes (sets).
    pub size: u32,
    /// Value version (sets).
    pub version: u32,
    /// Who waits; `None` for fire-and-forget.
    pub waiter: Option<Waiter>,
}

/// What a client saw of a node, for `node_events.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeEvent {
    /// When.
    pub time: Nanos,
    /// The client (service instance) that saw it.
    pub client: u16,
    /// Global node.
    pub node: u16,
    /// `connected`, `lost`, `trip`, `refused`, `connect_timeout`, `verify_failed`.
    pub what: &'static str,
    /// Free text: counts, delays.
    pub detail: String,
}

/// The worst sub-result of a bulk get so far (worst wins: the order of the
/// variants is their rank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum BulkWorst {
    /// Every key found (or stored) so far.
    #[default]
    AllHit,
    /// Some key missing.
    SomeMiss,
    /// Some sub-op failed.
    Failed,
    /// Some sub-op timed out (pipelined policies report a timeout then).
    TimedOut,
}

/// What a bulk get's caller sees, from its worst sub-result: every key found
/// is a hit, some key missing a miss, anything worse `failure`.
pub fn bulk_outcome(worst: BulkWorst, failure: CacheOutcome) -> (CacheOutcome, CacheResult) {
    match worst {
        BulkWorst::AllHit => (
            CacheOutcome::Hit,
            CacheResult::Hit {
                version: 0,
                stale: false,
            },
        ),
        BulkWorst::SomeMiss => (CacheOutcome::Miss, CacheResult::Miss),
        BulkWorst::Failed | BulkWorst::TimedOut => (failure, CacheResult::Failed(failure)),
    }
}

/// Who waits for an awaited cache call: a request, or a bulkhead task or
/// resilience retry slot that runs the call on a request's behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiter {
    /// A request waits on its thread.
    Request(ReqRef),
    /// A bulkhead task (its slot and generation).
    BulkheadTask(SlotRef),
    /// A resilience call slot (its slot and generation).
    RetrySlot(SlotRef),
}

/// A generation-checked reference to a slot of a slab (bulkhead tasks,
/// resilience calls).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRef {
    /// Slot.
    pub slot: u32,
    /// Generation of the slot when the reference was made.
    pub generation: u32,
}
