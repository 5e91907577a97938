//! Cache client libraries behind one interface, dispatched through an enum.
//!
//! One client instance per service instance, each with its own state. A
//! client turns a step's cache call into operations on connections, enforces
//! the caller's timeout, and reports each awaited call's result as a
//! [`Completion`] that the service picks up.

pub mod libmemcached;
pub mod mcrouter;
pub mod ops;
pub mod pipe;
pub mod plain;
pub mod pymemcache;
pub mod spymemcached;
pub mod twemproxy;

use super::keys::{KeySpace, Placement};
use super::network::{ClientMsg, Network, OpKind};
use super::request::ReqRef;
use super::world::Event;
use crate::engine::{Nanos, Scheduler};
use crate::metrics::{CacheOutcome, Recorder};

pub use libmemcached::Libmemcached;
pub use mcrouter::Mcrouter;
pub use ops::{Op, OpSlab};
pub use plain::Plain;
pub use pymemcache::Pymemcache;
pub use spymemcached::Spymemcached;
pub use twemproxy::Twemproxy;

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
    /// The waiting request.
    pub req: ReqRef,
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
    /// The waiting request; `None` for fire-and-forget.
    pub waiter: Option<ReqRef>,
}

/// Client timers and notifications that are not op timeouts or replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// A reconnect to a node is due.
    Reconnect(u16),
    /// The result of a connect attempt arrives.
    ConnectResult {
        /// Global node.
        node: u16,
        /// 0 accepted, 1 refused, 2 timed out.
        outcome: u8,
        /// The connection generation of the attempt.
        generation: u32,
    },
    /// The node reset the connection (a crash, or a rebooted host).
    Reset(u16),
    /// The I/O thread is free again after a stall.
    IoFree,
    /// The I/O thread's select timeout (`wakeupDelay`).
    Wakeup,
    /// Deliver a cancellation to the caller of an op (progressive
    /// cancellation during the discard-logging stall).
    Cancel(u32),
    /// The noop sent by `verifyAliveOnConnect` got no reply in time.
    VerifyDeadline {
        /// Global node.
        node: u16,
        /// The connection generation of the attempt.
        generation: u32,
    },
}

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
    pub fn global(&self, pool: u16, node: u16) -> u16 {
        self.pool_offsets[pool as usize] + node
    }
}

/// A client instance.
pub enum Client {
    /// A per-request timeout and nothing else.
    Plain(Plain),
    /// spymemcached 2.12.3.
    Spymemcached(Box<Spymemcached>),
    /// An mcrouter sidecar.
    Mcrouter(Box<Mcrouter>),
    /// A twemproxy sidecar.
    Twemproxy(Box<Twemproxy>),
    /// pymemcache `HashClient`.
    Pymemcache(Box<Pymemcache>),
    /// libmemcached.
    Libmemcached(Box<Libmemcached>),
}

/// Runs `$body` with `$c` bound to the client of any of the pipelined
/// policies (mcrouter, twemproxy, pymemcache, libmemcached), or evaluates
/// `$other` for plain and spymemcached.
macro_rules! piped {
    ($self:expr, $c:ident => $body:expr, $other:expr) => {
        match $self {
            Client::Mcrouter($c) => $body,
            Client::Twemproxy($c) => $body,
            Client::Pymemcache($c) => $body,
            Client::Libmemcached($c) => $body,
            _ => $other,
        }
    };
}

impl Client {
    /// Makes a cache call. Awaited calls report through `ctx.done` (possibly
    /// at once, e.g. a cancellation).
    #[inline]
    pub fn call(&mut self, ctx: &mut Ctx, call: Call) {
        ctx.rec.cache_submitted();
        match self {
            Client::Plain(c) => c.call(ctx, call),
            Client::Spymemcached(c) => c.call(ctx, call),
            other => piped!(other, c => pipe::call(&mut **c, ctx, call), unreachable!()),
        }
    }

    /// Makes a bulk get of `keys` in `pool`.
    pub fn multi_get(&mut self, ctx: &mut Ctx, pool: u16, keys: &[u32], waiter: ReqRef) {
        ctx.rec.cache_submitted();
        match self {
            Client::Plain(c) => c.multi_get(ctx, pool, keys, waiter),
            Client::Spymemcached(c) => c.multi_get(ctx, pool, keys, waiter),
            other => {
                piped!(other, c => pipe::multi_get(&mut **c, ctx, pool, keys, waiter), unreachable!())
            }
        }
    }

    /// The caller's timeout of op `op` (generation `generation`) expired.
    #[inline]
    pub fn timeout(&mut self, ctx: &mut Ctx, op: u32, generation: u32) -> bool {
        match self {
            Client::Plain(c) => c.timeout(ctx, op, generation),
            Client::Spymemcached(c) => c.timeout(ctx, op, generation),
            other => {
                piped!(other, c => pipe::timeout(&mut **c, ctx, op, generation), unreachable!())
            }
        }
    }

    /// A reply arrived from global node `node`.
    #[inline]
    pub fn reply(&mut self, ctx: &mut Ctx, node: u16, msg: ClientMsg) {
        match self {
            Client::Plain(c) => c.reply(ctx, node, msg),
            Client::Spymemcached(c) => c.reply(ctx, node, msg),
            other => piped!(other, c => pipe::reply(&mut **c, ctx, node, msg), unreachable!()),
        }
    }

    /// The socket to global node `node` may have room again.
    #[inline]
    pub fn writable(&mut self, ctx: &mut Ctx, node: u16) {
        if let Client::Spymemcached(c) = self {
            c.writable(ctx, node);
        }
    }

    /// A client timer or notification.
    pub fn timer(&mut self, ctx: &mut Ctx, t: ClientTimer) -> bool {
        match self {
            Client::Plain(c) => c.timer(ctx, t),
            Client::Spymemcached(c) => c.timer(ctx, t),
            other => piped!(other, c => pipe::timer(&mut **c, ctx, t), unreachable!()),
        }
    }

    /// Whether the client sees global node `node` as active.
    pub fn is_active(&self, node: u16) -> bool {
        match self {
            Client::Plain(_) => true,
            Client::Spymemcached(c) => c.is_active(node),
            other => piped!(other, c => c.is_active(node), unreachable!()),
        }
    }

    /// Ops this client holds for global node `node` that have not been answered.
    pub fn backlog(&self, node: u16) -> u64 {
        match self {
            Client::Plain(c) => c.backlog(node),
            Client::Spymemcached(c) => c.backlog(node),
            other => piped!(other, c => c.core_ref().backlog(node), unreachable!()),
        }
    }

    /// Ops whose outcome is not counted yet (for the end-of-run count).
    pub fn pending(&self) -> u64 {
        match self {
            Client::Plain(c) => c.ops.uncounted(),
            Client::Spymemcached(c) => c.pending(),
            other => piped!(other, c => c.core_ref().pending(), unreachable!()),
        }
    }

    /// Connection events for `node_events.csv`, drained.
    pub fn take_node_events(&mut self) -> Vec<NodeEvent> {
        match self {
            Client::Plain(_) => Vec::new(),
            Client::Spymemcached(c) => std::mem::take(&mut c.events),
            other => piped!(other, c => std::mem::take(&mut c.core_mut().events), unreachable!()),
        }
    }

    /// Connection losses and reconnects.
    pub fn connection_stats(&self) -> (u64, u64) {
        match self {
            Client::Plain(_) => (0, 0),
            Client::Spymemcached(c) => (c.lost, c.reconnects),
            other => piped!(other, c => {
                let core = c.core_ref();
                (core.lost, core.reconnects)
            }, unreachable!()),
        }
    }
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

/// What a bulk get's caller sees, from its worst sub-result: 0 every key
/// found, 1 some key missing, anything else `failure`.
pub fn bulk_outcome(worst: u8, failure: CacheOutcome) -> (CacheOutcome, CacheResult) {
    match worst {
        0 => (
            CacheOutcome::Hit,
            CacheResult::Hit {
                version: 0,
                stale: false,
            },
        ),
        1 => (CacheOutcome::Miss, CacheResult::Miss),
        _ => (failure, CacheResult::Failed(failure)),
    }
}

/// Counts an op outcome and, for an awaited op, hands the result to its caller.
#[inline]
pub fn deliver(ctx: &mut Ctx, waiter: Option<ReqRef>, outcome: CacheOutcome, result: CacheResult) {
    ctx.rec.cache(outcome);
    if let Some(req) = waiter {
        ctx.done.push(Completion { req, result });
    }
}
