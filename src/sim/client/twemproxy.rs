//! twemproxy (nutcracker) as a sidecar proxy, one per service instance with
//! `server_connections: 1` (`shared/reference/spymemcached.md` §7;
//! twitter/twemproxy at 60aaf85 = 0.5.0: `nc_conf.h`, `nc_server.c`
//! `server_failure`/`server_close`/`server_ok`/`server_pool_update`,
//! `nc_core.c` `core_timeout`).
//!
//! A request waits `timeout` for its reply (none by default: forever). Its
//! expiry closes the server connection, which fails every request
//! outstanding on it; the caller of the timed-out one waited the timeout,
//! the others get `SERVER_ERROR` at once. Every close of a server connection
//! (timeout, reset or EOF, refused or timed-out connect) is a failure; any
//! reply resets the count. With `auto_eject_hosts` (off by default) a server
//! with `server_failure_limit` (2) consecutive failures leaves the ring for
//! `server_retry_timeout` (30 s) and its keys remap to the remaining servers;
//! it is back at the first request after that (`server_pool_update` runs on
//! each request). The next request to a closed server reconnects. Errors
//! reach the service as `SERVER_ERROR` (a cache error).

use super::ops::Op;
use super::pipe::{self, Core, Disposition, LiveRing, PipePolicy, Target, Why};
use super::setup::Setup;
use crate::config::TwemproxyConfig as Spec;
use crate::engine::Nanos;
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::Ctx;
use crate::sim::ids::NodeId;
use crate::sim::protocol::CacheResult;
use crate::sim::protocol::NodeEventKind;
use crate::sim::protocol::OpKind;

#[derive(Clone, Copy, Debug, Default)]
struct TwemproxyServer {
    failures: u32,
    /// Ejected until then.
    next_retry: Option<Nanos>,
}

/// A twemproxy sidecar.
#[derive(Clone)]
pub struct Twemproxy {
    core: Core,
    cfg: Spec,
    servers: Vec<TwemproxyServer>,
    ring: LiveRing,
    /// Times a server was ejected.
    pub ejections: u64,
}

impl Twemproxy {
    /// A sidecar connected to every node.
    pub fn new(cfg: &Spec, s: &mut Setup) -> Self {
        let cfg = cfg.clone();
        let core = Core::new(cfg.timeout, cfg.timeout, s);
        Twemproxy {
            core,
            servers: vec![TwemproxyServer::default(); s.nodes.len()],
            ring: LiveRing::new(s.model),
            cfg,
            ejections: 0,
        }
    }

    /// Whether `node` is in the ring.
    pub fn is_active(&self, node: NodeId) -> bool {
        self.servers[node.index()].next_retry.is_none()
    }

    /// The shared state.
    pub fn core_ref(&self) -> &Core {
        &self.core
    }

    /// The shared state, mutably.
    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    /// `server_failure`: counted only with `auto_eject_hosts`.
    fn failure(&mut self, ctx: &mut Ctx, node: NodeId) {
        if !self.cfg.auto_eject_hosts {
            return;
        }
        let s = &mut self.servers[node.index()];
        s.failures += 1;
        if s.failures < self.cfg.server_failure_limit || s.next_retry.is_some() {
            return;
        }
        let now = ctx.now();
        s.failures = 0;
        s.next_retry = Some(now + self.cfg.server_retry_timeout);
        self.ring.set_live(node, false);
        self.ejections += 1;
        self.core.event(
            now,
            node,
            NodeEventKind::Eject,
            format!("{} failures", self.cfg.server_failure_limit),
        );
    }

    /// `server_pool_update`: ejected servers whose retry time has come are
    /// back in the ring.
    fn update(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        self.ring
            .readd(&mut self.core, now, &mut self.servers, |s| {
                s.next_retry.take_if(|t| now >= *t).is_some()
            });
    }
}

impl PipePolicy for Twemproxy {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn route(&mut self, ctx: &mut Ctx, pool: u16, key: u32, _kind: OpKind) -> Target {
        if self.ring_has_ejected() {
            self.update(ctx);
        }
        match self
            .ring
            .node(ctx, pool, key, self.cfg.locator, self.cfg.hash)
        {
            Some(n) => Target::Send(n),
            // Every server ejected: "SERVER_ERROR no server available".
            None => Target::Fail(
                CacheOutcome::Error,
                CacheResult::Failed(CacheOutcome::Error),
            ),
        }
    }

    fn succeeded(&mut self, _ctx: &mut Ctx, op: &Op) {
        // `server_ok`.
        self.servers[op.node.index()].failures = 0;
    }

    fn failed(&mut self, ctx: &mut Ctx, op: &Op, why: Why) -> Disposition {
        if why == Why::Timeout {
            // `core_timeout`: the server connection closes, failing every
            // request outstanding on it.
            let node = op.node;
            let others = self.core.close(ctx, node);
            let now = ctx.now();
            self.core.event(
                now,
                node,
                NodeEventKind::TimeoutClose,
                format!("{} other requests failed", others.len()),
            );
            self.failure(ctx, node);
            pipe::fail_all(self, ctx, others, Why::Closed);
        }
        let (o, r) = pipe::failure(why);
        Disposition::Complete(o, r)
    }

    fn link_down(&mut self, ctx: &mut Ctx, node: NodeId, _why: Why) {
        self.failure(ctx, node);
    }

    fn link_up(&mut self, _ctx: &mut Ctx, _node: NodeId) {}
}

impl Twemproxy {
    fn ring_has_ejected(&self) -> bool {
        self.servers.iter().any(|s| s.next_retry.is_some())
    }
}
