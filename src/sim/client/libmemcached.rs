//! libmemcached (`shared/reference/spymemcached.md` §7; awesomized
//! libmemcached 1.1.4 at 374774d, same logic as 1.0.18: `defaults.h`,
//! `connect.cc` `backoff_handling`, `server.hpp`
//! `memcached_mark_server_for_timeout`, `io.cc`).
//!
//! Each op waits up to `poll_timeout` (5 s) for its reply; an expiry closes
//! the socket (the next op reconnects) and is **not** counted. Only connect
//! failures count: each refused or timed-out connect (`connect_timeout`
//! 4 s) adds one to the server's count and puts it "in timeout" for
//! `retry_timeout` (2 s), during which its ops fail at once
//! (`SERVER_TEMPORARILY_DISABLED`, a cache error); a successful connect
//! clears the count. With `auto_eject_hosts` (off by default) a server whose
//! count reaches `server_failure_limit` (5) leaves the continuum
//! (`SERVER_MARKED_DEAD`) and its keys remap; with `dead_timeout` 0 (the
//! default) it never comes back, otherwise it is put back after that long for
//! one reconnect try. Against a frozen node nothing is ever detected: every
//! op waits 5 s, the socket is closed, and the next op's reconnect succeeds
//! (the kernel accepts it) and clears the count.
//!
//! The library is synchronous: a service has one `memcached_st` (and so one
//! socket per server) per thread. Here one client per instance holds one
//! connection per server, and a timeout closes it only when no other op is
//! outstanding on it (those would be on other threads' sockets): under
//! concurrency this reconnects less often than the real per-thread sockets,
//! which reconnect once per timeout.

use super::ops::Op;
use super::pipe::{self, Core, Disposition, LinkState, LiveRing, PipePolicy, Target, Why};
use super::setup::Setup;
use crate::config::LibmemcachedConfig as Spec;
use crate::engine::Nanos;
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::Ctx;
use crate::sim::ids::NodeId;
use crate::sim::protocol::CacheResult;
use crate::sim::protocol::NodeEventKind;
use crate::sim::protocol::OpKind;

#[derive(Clone, Copy, Debug, Default)]
struct LibmemcachedServer {
    /// `server_failure_counter`.
    failures: u32,
    /// In timeout until then (`next_retry`).
    next_retry: Nanos,
    /// Ejected; `Some(t)`: back in the continuum at `t` for one try.
    ejected: Option<Option<Nanos>>,
}

/// A libmemcached client.
#[derive(Clone)]
pub struct Libmemcached {
    core: Core,
    cfg: Spec,
    servers: Vec<LibmemcachedServer>,
    ring: LiveRing,
    /// Times a server was ejected.
    pub ejections: u64,
}

impl Libmemcached {
    /// A client connected to every node.
    pub fn new(cfg: &Spec, s: &mut Setup) -> Self {
        let cfg = cfg.clone();
        let core = Core::new(Some(cfg.poll_timeout), Some(cfg.connect_timeout), s);
        Libmemcached {
            core,
            servers: vec![LibmemcachedServer::default(); s.nodes.len()],
            ring: LiveRing::new(s.model),
            cfg,
            ejections: 0,
        }
    }

    /// Whether `node` is in the continuum with no connect failure pending.
    pub fn is_active(&self, node: NodeId) -> bool {
        let s = &self.servers[node.index()];
        s.ejected.is_none() && s.failures == 0
    }

    /// The shared state.
    pub fn core_ref(&self) -> &Core {
        &self.core
    }

    /// The shared state, mutably.
    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    /// Ejected servers whose dead timeout has passed get one more try.
    fn revive(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let limit = self.cfg.server_failure_limit;
        self.ring
            .readd(&mut self.core, now, &mut self.servers, |s| {
                let due = matches!(s.ejected, Some(Some(t)) if now >= t);
                if due {
                    s.ejected = None;
                    // One reconnect try: a failure ejects it again.
                    s.failures = limit - 1;
                    s.next_retry = 0;
                }
                due
            });
    }
}

impl PipePolicy for Libmemcached {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn route(&mut self, ctx: &mut Ctx, pool: u16, key: u32, _kind: OpKind) -> Target {
        if self
            .servers
            .iter()
            .any(|s| matches!(s.ejected, Some(Some(_))))
        {
            self.revive(ctx);
        }
        let Some(node) = self
            .ring
            .node(ctx, pool, key, self.cfg.locator, self.cfg.hash)
        else {
            // MEMCACHED_NO_SERVERS.
            return Target::Fail(
                CacheOutcome::Error,
                CacheResult::Failed(CacheOutcome::Error),
            );
        };
        if ctx.now() < self.servers[node.index()].next_retry {
            // SERVER_TEMPORARILY_DISABLED.
            return Target::Fail(
                CacheOutcome::Error,
                CacheResult::Failed(CacheOutcome::Error),
            );
        }
        Target::Send(node)
    }

    fn succeeded(&mut self, _ctx: &mut Ctx, _op: &Op) {}

    fn failed(&mut self, ctx: &mut Ctx, op: &Op, why: Why) -> Disposition {
        if why == Why::Timeout
            && op.waiter.is_some()
            && op.written
            && self.core.links[op.node.index()].state == LinkState::Up
            && self.core.backlog(op.node) == 0
        {
            // The poll timeout closes the socket; not counted. (The real
            // socket is the calling thread's own: the shared connection is
            // closed only when no other op is outstanding on it.)
            self.core.recycle(ctx, op.node);
        }
        let (o, r) = pipe::failure(why);
        Disposition::Complete(o, r)
    }

    fn link_down(&mut self, ctx: &mut Ctx, node: NodeId, why: Why) {
        if !matches!(why, Why::Refused | Why::ConnectTimeout) {
            return;
        }
        // `memcached_mark_server_for_timeout` after a connect failure.
        let now = ctx.now();
        let s = &mut self.servers[node.index()];
        s.failures += 1;
        s.next_retry = now + self.cfg.retry_timeout;
        let failures = s.failures;
        if self.cfg.auto_eject_hosts && failures >= self.cfg.server_failure_limit {
            let back = (self.cfg.dead_timeout > 0).then(|| now + self.cfg.dead_timeout);
            self.servers[node.index()].ejected = Some(back);
            self.ring.set_live(node, false);
            self.ejections += 1;
            self.core.event(
                now,
                node,
                NodeEventKind::Eject,
                format!("{failures} connect failures"),
            );
        } else {
            self.core.event(
                now,
                node,
                NodeEventKind::InTimeout,
                format!("failure {failures}"),
            );
        }
    }

    fn link_up(&mut self, _ctx: &mut Ctx, node: NodeId) {
        self.servers[node.index()].failures = 0;
    }
}
