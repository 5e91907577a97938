//! pymemcache's `HashClient` (`shared/reference/spymemcached.md` §7;
//! pinterest/pymemcache at 3ef28ef, `pymemcache/client/hash.py`
//! `_get_client`, `_safely_run_func`, `_mark_failed_server`,
//! `remove_server`).
//!
//! One socket per server. With `timeout` unset (the default) a call blocks
//! until the server answers: a frozen node holds its callers forever. A
//! failure is an `OSError` only: a socket timeout (once `timeout` is set), a
//! refused or timed-out connect, a reset; a server-closed socket
//! (`MemcacheUnexpectedCloseError`, what a killed memcached leaves) is raised
//! but not counted. The first failure puts the node in "failed"; while
//! failed, calls return the default (`None`: a miss; `False` for a set)
//! without trying, until `retry_timeout` (1 s) has passed since the last
//! failure; then calls are sent again (a retry: success clears the failed
//! state, failure counts one more attempt and restarts the window). Once
//! `retry_attempts` (2) retries have failed, the next call marks the node dead
//! (out of the hash) and is itself still sent. Dead nodes come back after
//! `dead_timeout` (60 s), checked on the next call. Failures raise to the
//! caller (a cache error) unless `ignore_exc`, which turns them into the
//! default. The rendezvous hash is approximated by the pool's locator over
//! the live nodes.

use super::ops::Op;
use super::pipe::{self, Core, Disposition, LiveRing, PipePolicy, Target, Why};
use super::setup::Setup;
use crate::config::PymemcacheConfig as Spec;
use crate::engine::Nanos;
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::Ctx;
use crate::sim::ids::NodeId;
use crate::sim::protocol::CacheResult;
use crate::sim::protocol::NodeEventKind;
use crate::sim::protocol::OpKind;

#[derive(Clone, Copy, Debug, Default)]
struct PymemcacheServer {
    /// `_failed_clients[server]`: (failed_time, attempts).
    failed: Option<(Nanos, u32)>,
    /// `_dead_clients[server]`: dead_time.
    dead: Option<Nanos>,
}

/// A pymemcache `HashClient`.
#[derive(Clone)]
pub struct Pymemcache {
    core: Core,
    cfg: Spec,
    servers: Vec<PymemcacheServer>,
    ring: LiveRing,
    last_dead_check: Nanos,
    /// Times a node was marked dead.
    pub deaths: u64,
}

impl Pymemcache {
    /// A client connected to every node.
    pub fn new(cfg: &Spec, s: &mut Setup) -> Self {
        let cfg = cfg.clone();
        let core = Core::new(cfg.timeout, cfg.connect_timeout, s);
        Pymemcache {
            core,
            servers: vec![PymemcacheServer::default(); s.nodes.len()],
            ring: LiveRing::new(s.model),
            last_dead_check: 0,
            cfg,
            deaths: 0,
        }
    }

    /// Whether `node` is neither failed nor dead.
    pub fn is_active(&self, node: NodeId) -> bool {
        let s = &self.servers[node.index()];
        s.failed.is_none() && s.dead.is_none()
    }

    /// The shared state.
    pub fn core_ref(&self) -> &Core {
        &self.core
    }

    /// The shared state, mutably.
    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    /// `remove_server`: out of the hash, no longer "failed".
    fn mark_dead(&mut self, ctx: &mut Ctx, node: NodeId) {
        let now = ctx.now();
        let s = &mut self.servers[node.index()];
        s.failed = None;
        s.dead = Some(now);
        self.ring.set_live(node, false);
        self.deaths += 1;
        self.core
            .event(now, node, NodeEventKind::Dead, String::new());
    }

    /// The dead-node check at the top of `_get_client`.
    fn revive(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        if now.saturating_sub(self.last_dead_check) <= self.cfg.dead_timeout {
            return;
        }
        for n in 0..self.servers.len() {
            if let Some(t) = self.servers[n].dead
                && now - t > self.cfg.dead_timeout
            {
                self.servers[n].dead = None;
                self.ring.set_live(NodeId(n as u16), true);
                self.last_dead_check = now;
                self.core
                    .event(now, NodeId(n as u16), NodeEventKind::Readd, String::new());
            }
        }
    }

    /// What the caller gets instead of an exception with `ignore_exc`, or
    /// when the call is not tried: the default.
    fn default_value() -> CacheResult {
        CacheResult::Miss
    }
}

impl PipePolicy for Pymemcache {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn route(&mut self, ctx: &mut Ctx, pool: u16, key: u32, _kind: OpKind) -> Target {
        if self.servers.iter().any(|s| s.dead.is_some()) {
            self.revive(ctx);
        }
        let Some(node) = self
            .ring
            .node(ctx, pool, key, self.cfg.locator, self.cfg.hash)
        else {
            // "All servers seem to be down right now".
            return if self.cfg.ignore_exc {
                Target::Fail(CacheOutcome::Miss, Self::default_value())
            } else {
                Target::Fail(
                    CacheOutcome::Error,
                    CacheResult::Failed(CacheOutcome::Error),
                )
            };
        };
        let now = ctx.now();
        if let Some((failed_time, attempts)) = self.servers[node.index()].failed {
            if attempts < self.cfg.retry_attempts {
                if now - failed_time > self.cfg.retry_timeout {
                    return Target::Send(node);
                }
                // Not tried: the default, quietly.
                return Target::Fail(CacheOutcome::Miss, Self::default_value());
            }
            // Retries used up: dead, and this call is still sent.
            self.mark_dead(ctx, node);
        }
        Target::Send(node)
    }

    fn succeeded(&mut self, _ctx: &mut Ctx, op: &Op) {
        // A successful retry clears the failed state.
        self.servers[op.node.index()].failed = None;
    }

    fn failed(&mut self, ctx: &mut Ctx, op: &Op, why: Why) -> Disposition {
        let (outcome, raised) = pipe::failure(why);
        // A fire-and-forget set is sent with noreply (`default_noreply`) and
        // never waits for a reply, so it cannot time out.
        let counts = why != Why::Reset && !(why == Why::Timeout && op.waiter.is_none());
        if counts {
            // `_mark_failed_server` (the `except socket.error` branch).
            let now = ctx.now();
            let node = op.node;
            let s = &mut self.servers[node.index()];
            match s.failed {
                None if self.cfg.retry_attempts > 0 => {
                    s.failed = Some((now, 0));
                    self.core
                        .event(now, node, NodeEventKind::Failed, why.name().to_string());
                }
                None => self.mark_dead(ctx, node),
                Some((_, attempts)) => {
                    s.failed = Some((now, attempts + 1));
                    self.core.event(
                        now,
                        node,
                        NodeEventKind::RetryFailed,
                        format!("attempt {}", attempts + 1),
                    );
                }
            }
        }
        if self.cfg.ignore_exc {
            Disposition::Complete(outcome, Self::default_value())
        } else {
            Disposition::Complete(outcome, raised)
        }
    }

    fn link_down(&mut self, _ctx: &mut Ctx, _node: NodeId, _why: Why) {}

    fn link_up(&mut self, _ctx: &mut Ctx, _node: NodeId) {}
}
