//! Cache client libraries behind one interface, dispatched through an enum.
//!
//! One client instance per service instance, each with its own state. A
//! client turns a step's cache call into operations on connections, enforces
//! the caller's timeout, and reports each awaited call's result as a
//! [`Completion`] that the service picks up.

pub mod ctx;
pub mod libmemcached;
pub mod mcrouter;
pub mod ops;
pub mod pipe;
pub mod plain;
pub mod pymemcache;
pub mod setup;
pub mod spymemcached;
pub mod twemproxy;

use crate::config::PolicyConfig;
use crate::sim::event::ClientTimer;
use crate::sim::ids::{NodeId, OpRef};
use crate::sim::protocol::{Call, ClientMsg, Waiter};

pub use crate::sim::protocol::{NodeEvent, NodeEventKind};
pub use ctx::Ctx;
pub use libmemcached::Libmemcached;
pub use mcrouter::Mcrouter;
pub use ops::{Op, OpSlab};
pub use plain::Plain;
pub use pymemcache::Pymemcache;
pub use setup::Setup;
pub use spymemcached::Spymemcached;
pub use twemproxy::Twemproxy;

/// A client instance.
#[derive(Clone)]
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

/// Dispatches on every variant: `$plain`, `$spy` and `$piped` (with `$c`
/// bound to the client) are the bodies for plain, spymemcached and each
/// pipelined policy (mcrouter, twemproxy, pymemcache, libmemcached). The
/// match names every variant, so a new policy fails to compile here until it
/// is given a body.
macro_rules! dispatch {
    ($self:expr, $c:ident => plain: $plain:expr, spy: $spy:expr, piped: $piped:expr) => {
        match $self {
            Client::Plain($c) => $plain,
            Client::Spymemcached($c) => $spy,
            Client::Mcrouter($c) => $piped,
            Client::Twemproxy($c) => $piped,
            Client::Pymemcache($c) => $piped,
            Client::Libmemcached($c) => $piped,
        }
    };
}

impl Client {
    /// The client of `policy`, connected to every node.
    pub fn new(policy: &PolicyConfig, s: &mut Setup) -> Self {
        match policy {
            PolicyConfig::Plain(cfg) => Client::Plain(Plain::new(cfg, s)),
            PolicyConfig::Spymemcached(cfg) => {
                Client::Spymemcached(Box::new(Spymemcached::new(cfg, s)))
            }
            PolicyConfig::Mcrouter(cfg) => Client::Mcrouter(Box::new(Mcrouter::new(cfg, s))),
            PolicyConfig::Twemproxy(cfg) => Client::Twemproxy(Box::new(Twemproxy::new(cfg, s))),
            PolicyConfig::Pymemcache(cfg) => Client::Pymemcache(Box::new(Pymemcache::new(cfg, s))),
            PolicyConfig::Libmemcached(cfg) => {
                Client::Libmemcached(Box::new(Libmemcached::new(cfg, s)))
            }
        }
    }

    /// Makes a cache call. Awaited calls report through `ctx.done` (possibly
    /// at once, e.g. a cancellation).
    #[inline]
    pub fn call(&mut self, ctx: &mut Ctx, call: Call) {
        ctx.rec.cache_submitted();
        dispatch!(self, c =>
            plain: c.call(ctx, call),
            spy: c.call(ctx, call),
            piped: pipe::call(&mut **c, ctx, call))
    }

    /// Makes a bulk get of `keys` in `pool`.
    pub fn multi_get(&mut self, ctx: &mut Ctx, pool: u16, keys: &[u32], waiter: Waiter) {
        ctx.rec.cache_submitted();
        dispatch!(self, c =>
            plain: c.multi_get(ctx, pool, keys, waiter),
            spy: c.multi_get(ctx, pool, keys, waiter),
            piped: pipe::multi_get(&mut **c, ctx, pool, keys, waiter))
    }

    /// The caller's timeout of op `op` expired.
    #[inline]
    pub fn timeout(&mut self, ctx: &mut Ctx, op: OpRef) -> bool {
        let OpRef { slot, generation } = op;
        dispatch!(self, c =>
            plain: c.timeout(ctx, slot, generation),
            spy: c.timeout(ctx, slot, generation),
            piped: pipe::timeout(&mut **c, ctx, slot, generation))
    }

    /// A reply arrived from global node `node`.
    #[inline]
    pub fn reply(&mut self, ctx: &mut Ctx, node: NodeId, msg: ClientMsg) {
        dispatch!(self, c =>
            plain: c.reply(ctx, node, msg),
            spy: c.reply(ctx, node, msg),
            piped: pipe::reply(&mut **c, ctx, node, msg))
    }

    /// The socket to global node `node` may have room again (only
    /// spymemcached waits for room; the others write regardless).
    #[inline]
    pub fn writable(&mut self, ctx: &mut Ctx, node: NodeId) {
        dispatch!(self, c =>
            plain: { let _ = c; },
            spy: c.writable(ctx, node),
            piped: { let _ = c; })
    }

    /// Whether the client has ops waiting for room in its socket to global
    /// node `node` (only spymemcached's write queue waits; a caller skips
    /// [`Client::writable`], and building its context, when none do).
    #[inline]
    pub fn waits_for_room(&self, node: NodeId) -> bool {
        dispatch!(self, c =>
            plain: { let _ = c; false },
            spy: c.waits_for_room(node),
            piped: { let _ = c; false })
    }

    /// A client timer or notification.
    pub fn timer(&mut self, ctx: &mut Ctx, t: ClientTimer) -> bool {
        dispatch!(self, c =>
            plain: c.timer(ctx, t),
            spy: c.timer(ctx, t),
            piped: pipe::timer(&mut **c, ctx, t))
    }

    /// Whether the client sees global node `node` as active.
    pub fn is_active(&self, node: NodeId) -> bool {
        dispatch!(self, c =>
            plain: c.is_active(node),
            spy: c.is_active(node),
            piped: c.is_active(node))
    }

    /// Ops this client holds for global node `node` that have not been answered.
    pub fn backlog(&self, node: NodeId) -> u64 {
        dispatch!(self, c =>
            plain: c.backlog(node),
            spy: c.backlog(node),
            piped: c.core_ref().backlog(node))
    }

    /// Ops whose outcome is not counted yet (for the end-of-run count).
    pub fn pending(&self) -> u64 {
        dispatch!(self, c =>
            plain: c.ops.uncounted(),
            spy: c.pending(),
            piped: c.core_ref().pending())
    }

    /// Connection events for `node_events.csv`, drained.
    pub fn take_node_events(&mut self) -> Vec<NodeEvent> {
        dispatch!(self, c =>
            plain: { let _ = c; Vec::new() },
            spy: std::mem::take(&mut c.events),
            piped: std::mem::take(&mut c.core_mut().events))
    }

    /// Connection losses and reconnects.
    pub fn connection_stats(&self) -> (u64, u64) {
        dispatch!(self, c =>
        plain: { let _ = c; (0, 0) },
        spy: (c.lost, c.reconnects),
        piped: {
            let core = c.core_ref();
            (core.lost, core.reconnects)
        })
    }
}
