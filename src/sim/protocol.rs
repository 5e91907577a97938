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
///
/// A multi-key get (`get k1 k2 … kn`, one op of the client) travels as n
/// consecutive messages on the connection with the same `op` and `op_gen`,
/// one per key, whose `bytes` add up to the command's. The node serves them
/// one after the other as any requests of the connection (memcached's
/// `process_get_command` looks the keys up in turn on the connection's
/// worker, each at the node's service time) and answers each; the client
/// reads the n answers as the op's one reply, the last standing for `END`
/// (`Miss`: a key the node skipped). A proxy forwards each key on its own
/// (twemproxy fragments a multi-get by server) and answers them in order.
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
    /// `SERVER_ERROR …`: the node (or a proxy) failed the op.
    ServerError,
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
    /// A bulk get answered and some of its keys were not found: bit j set
    /// when the j-th key asked for (of the first 64) missed.
    MissedKeys(u64),
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
    /// What happened (its CSV text is [`NodeEventKind::as_str`]).
    pub what: NodeEventKind,
    /// Free text: counts, delays.
    pub detail: String,
}

/// What a client saw of a node: the `event` column of `node_events.csv`.
/// Each client policy logs the kinds its library would; the breaker kinds come
/// from the resilience layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeEventKind {
    /// A connection opened (pipelined policies, spymemcached).
    Connected,
    /// An open connection was lost: reset by the node, or dropped by the client.
    Lost,
    /// spymemcached: the continuous-timeout threshold was exceeded.
    Trip,
    /// A connect was refused.
    Refused,
    /// A connect got no answer in time.
    ConnectTimeout,
    /// spymemcached: the version noop after connecting went unanswered.
    VerifyFailed,
    /// pymemcache: the server is marked dead.
    Dead,
    /// libmemcached, twemproxy: the server was ejected from the ring.
    Eject,
    /// An ejected or dead server is back (ring re-add, pymemcache retry due).
    Readd,
    /// libmemcached: a connect failure below the ejection limit.
    InTimeout,
    /// pymemcache: first failure of a server (detail: why).
    Failed,
    /// mcrouter: a probe sent to a TKO'd server.
    Probe,
    /// mcrouter: the server is marked TKO (detail: hard or soft).
    Tko,
    /// mcrouter: a probe answered, TKO cleared.
    TkoClear,
    /// twemproxy: a timed-out request closed its connection.
    TimeoutClose,
    /// pymemcache: another failure while retrying a failed server.
    RetryFailed,
    /// A circuit breaker opened.
    BreakerOpen,
    /// A circuit breaker closed.
    BreakerClosed,
    /// A circuit breaker let a trial call through (half open).
    BreakerHalfOpen,
}

impl NodeEventKind {
    /// Every kind, in declaration order.
    pub const ALL: [NodeEventKind; 19] = [
        NodeEventKind::Connected,
        NodeEventKind::Lost,
        NodeEventKind::Trip,
        NodeEventKind::Refused,
        NodeEventKind::ConnectTimeout,
        NodeEventKind::VerifyFailed,
        NodeEventKind::Dead,
        NodeEventKind::Eject,
        NodeEventKind::Readd,
        NodeEventKind::InTimeout,
        NodeEventKind::Failed,
        NodeEventKind::Probe,
        NodeEventKind::Tko,
        NodeEventKind::TkoClear,
        NodeEventKind::TimeoutClose,
        NodeEventKind::RetryFailed,
        NodeEventKind::BreakerOpen,
        NodeEventKind::BreakerClosed,
        NodeEventKind::BreakerHalfOpen,
    ];

    /// The client or proxy took the node out of its rotation (counted in
    /// `client.ejections`).
    pub fn is_ejection(self) -> bool {
        match self {
            NodeEventKind::Trip
            | NodeEventKind::Dead
            | NodeEventKind::Eject
            | NodeEventKind::Tko => true,
            NodeEventKind::Connected
            | NodeEventKind::Lost
            | NodeEventKind::Refused
            | NodeEventKind::ConnectTimeout
            | NodeEventKind::VerifyFailed
            | NodeEventKind::Readd
            | NodeEventKind::InTimeout
            | NodeEventKind::Failed
            | NodeEventKind::Probe
            | NodeEventKind::TkoClear
            | NodeEventKind::TimeoutClose
            | NodeEventKind::RetryFailed
            | NodeEventKind::BreakerOpen
            | NodeEventKind::BreakerClosed
            | NodeEventKind::BreakerHalfOpen => false,
        }
    }

    /// The client marked the node failed short of ejecting it (counted in
    /// `client.marked_failed`).
    pub fn is_marked_failed(self) -> bool {
        match self {
            NodeEventKind::Failed | NodeEventKind::RetryFailed | NodeEventKind::InTimeout => true,
            NodeEventKind::Connected
            | NodeEventKind::Lost
            | NodeEventKind::Trip
            | NodeEventKind::Refused
            | NodeEventKind::ConnectTimeout
            | NodeEventKind::VerifyFailed
            | NodeEventKind::Dead
            | NodeEventKind::Eject
            | NodeEventKind::Readd
            | NodeEventKind::Probe
            | NodeEventKind::Tko
            | NodeEventKind::TkoClear
            | NodeEventKind::TimeoutClose
            | NodeEventKind::BreakerOpen
            | NodeEventKind::BreakerClosed
            | NodeEventKind::BreakerHalfOpen => false,
        }
    }

    /// The text in `node_events.csv`'s `event` column.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeEventKind::Connected => "connected",
            NodeEventKind::Lost => "lost",
            NodeEventKind::Trip => "trip",
            NodeEventKind::Refused => "refused",
            NodeEventKind::ConnectTimeout => "connect_timeout",
            NodeEventKind::VerifyFailed => "verify_failed",
            NodeEventKind::Dead => "dead",
            NodeEventKind::Eject => "eject",
            NodeEventKind::Readd => "readd",
            NodeEventKind::InTimeout => "in_timeout",
            NodeEventKind::Failed => "failed",
            NodeEventKind::Probe => "probe",
            NodeEventKind::Tko => "tko",
            NodeEventKind::TkoClear => "tko_clear",
            NodeEventKind::TimeoutClose => "timeout_close",
            NodeEventKind::RetryFailed => "retry_failed",
            NodeEventKind::BreakerOpen => "breaker_open",
            NodeEventKind::BreakerClosed => "breaker_closed",
            NodeEventKind::BreakerHalfOpen => "breaker_half_open",
        }
    }

    /// The kind's position in [`NodeEventKind::ALL`]. An exhaustive match, so
    /// a new variant does not compile until it is given a place in `ALL`.
    pub fn index(self) -> usize {
        match self {
            NodeEventKind::Connected => 0,
            NodeEventKind::Lost => 1,
            NodeEventKind::Trip => 2,
            NodeEventKind::Refused => 3,
            NodeEventKind::ConnectTimeout => 4,
            NodeEventKind::VerifyFailed => 5,
            NodeEventKind::Dead => 6,
            NodeEventKind::Eject => 7,
            NodeEventKind::Readd => 8,
            NodeEventKind::InTimeout => 9,
            NodeEventKind::Failed => 10,
            NodeEventKind::Probe => 11,
            NodeEventKind::Tko => 12,
            NodeEventKind::TkoClear => 13,
            NodeEventKind::TimeoutClose => 14,
            NodeEventKind::RetryFailed => 15,
            NodeEventKind::BreakerOpen => 16,
            NodeEventKind::BreakerClosed => 17,
            NodeEventKind::BreakerHalfOpen => 18,
        }
    }
}

impl std::fmt::Display for NodeEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bit of a bulk get's `index`-th key in its mask of missed keys (none
/// past the 64th).
pub fn key_bit(index: u32) -> u64 {
    1u64.checked_shl(index).unwrap_or(0)
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
/// is a hit, some key missing a miss (with the mask `missed` of the keys
/// that missed), anything worse `failure`: every key's result is lost then.
pub fn bulk_outcome(
    worst: BulkWorst,
    missed: u64,
    failure: CacheOutcome,
) -> (CacheOutcome, CacheResult) {
    match worst {
        BulkWorst::AllHit => (
            CacheOutcome::Hit,
            CacheResult::Hit {
                version: 0,
                stale: false,
            },
        ),
        BulkWorst::SomeMiss => (CacheOutcome::Miss, CacheResult::MissedKeys(missed)),
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
    /// A request passing through the proxy tier (`sim::proxy`).
    Proxy(SlotRef),
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

#[cfg(test)]
mod node_event_kind_tests {
    use super::NodeEventKind;

    #[test]
    fn all_lists_every_kind_once_in_order() {
        for (i, k) in NodeEventKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i, "{k:?} is out of place in ALL");
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for k in NodeEventKind::ALL {
            let name = k.as_str();
            assert!(seen.insert(name), "{name} named twice");
            assert!(
                !name.is_empty()
                    && name.starts_with(|c: char| c.is_ascii_lowercase())
                    && !name.ends_with('_')
                    && !name.contains("__")
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name} is not snake_case"
            );
        }
    }

    /// README.md documents node_events.csv's event column: every kind must
    /// be named there (as `name`).
    #[test]
    fn readme_names_every_kind() {
        let readme = include_str!("../../README.md");
        let line = readme
            .lines()
            .find(|l| l.starts_with("| `node_events.csv` |"))
            .expect("README.md describes node_events.csv in its output table");
        for k in NodeEventKind::ALL {
            assert!(
                line.contains(&format!("`{}`", k.as_str())),
                "README.md's node_events.csv row does not name `{}`",
                k.as_str()
            );
        }
    }
}
