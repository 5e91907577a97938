//! mcrouter as a sidecar proxy, one per service instance with its own
//! connections (`shared/reference/spymemcached.md` §7; facebook/mcrouter at
//! 9d7f434: `TkoTracker.cpp`, `ProxyDestinationBase.cpp`, `McResUtil.h`,
//! `FailoverWithExptimeRouteFactory.h`).
//!
//! Per destination (node) a TKO tracker: `timeouts_until_tko` (3)
//! consecutive `TIMEOUT`s mark it soft TKO, one `CONNECT_ERROR` or
//! `CONNECT_TIMEOUT` hard TKO; any reply resets the count. Requests to a TKO
//! destination are not sent: they fail at once with `TKO` (a cache error),
//! or go to the failover route when a gutter pool is named. A TKO
//! destination is probed with `version` requests: the probe timer fires after
//! `probe_delay_initial` (10 s), then each delay grows ×1.5 up to
//! `probe_delay_max` (60 s), each stretched by a random 5–50 % (a probe is
//! sent only if the previous one has ended); the first probe answered clears
//! the TKO. With a gutter pool (`FailoverWithExptimeRoute`), a request whose
//! destination is TKO or fails with a failover error (timeout, connect error,
//! reset) is sent to the key's node in the gutter pool, where sets expire
//! after `failover_exptime` (60 s). The optional fail-open guard sends to TKO
//! destinations anyway while more than `tko_threshold` of the pool is TKO.

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;

use super::ops::Op;
use super::pipe::{self, Core, Disposition, PipePolicy, Target, Why};
use super::setup::Setup;
use crate::config::McrouterConfig as Spec;
use crate::config::client::mcrouter::next_probe_delay;
use crate::engine::{Nanos, stream};
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::Ctx;
use crate::sim::event::ClientTimer;
use crate::sim::event::Event;
use crate::sim::ids::NodeId;
use crate::sim::protocol::CacheResult;
use crate::sim::protocol::NodeEventKind;
use crate::sim::protocol::OpKind;

/// `kProbeJitterMin` / `kProbeJitterMax`.
const JITTER_MIN: f64 = 0.05;
const JITTER_MAX: f64 = 0.5;

/// A destination's TKO tracker and probe state.
#[derive(Clone, Debug, Default)]
struct Dest {
    consecutive: u32,
    /// TKO: `Some(true)` hard, `Some(false)` soft.
    tko: Option<bool>,
    /// When the probe timer is due (`Nanos::MAX`: none); a timer that fires
    /// at another time is stale.
    probe_due: Nanos,
    probe_delay_next: Nanos,
    probe_inflight: bool,
}

/// An mcrouter sidecar.
#[derive(Clone)]
pub struct Mcrouter {
    core: Core,
    cfg: Spec,
    dests: Vec<Dest>,
    /// Pool of each global node, and each pool's (offset, size).
    pool_of: Vec<u16>,
    pools: Vec<(u16, u16)>,
    rng: ChaCha8Rng,
    /// Times a destination was marked TKO.
    pub tkos: u64,
}

impl Mcrouter {
    /// A sidecar connected to every node.
    pub fn new(cfg: &Spec, s: &mut Setup) -> Self {
        let cfg = cfg.clone();
        let core = Core::new(Some(cfg.server_timeout), Some(cfg.connect_timeout), s);
        let mut pool_of = Vec::new();
        let mut pools = Vec::new();
        for (p, pool) in s.model.pools.iter().enumerate() {
            pools.push((s.model.pool_offset(p) as u16, pool.nodes.len() as u16));
            pool_of.extend(std::iter::repeat_n(p as u16, pool.nodes.len()));
        }
        Mcrouter {
            core,
            dests: vec![Dest::default(); s.nodes.len()],
            pool_of,
            pools,
            rng: stream(s.model.seed, &format!("mcrouter/{}", s.id.0)),
            cfg,
            tkos: 0,
        }
    }

    /// Whether destination `node` is TKO.
    pub fn is_tko(&self, node: NodeId) -> bool {
        self.dests[node.index()].tko.is_some()
    }

    /// Whether the sidecar sends to `node` (not TKO).
    pub fn is_active(&self, node: NodeId) -> bool {
        !self.is_tko(node)
    }

    /// The shared state.
    pub fn core_ref(&self) -> &Core {
        &self.core
    }

    /// The shared state, mutably.
    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn fail_open(&self, pool: u16) -> bool {
        let Some(t) = self.cfg.tko_threshold else {
            return false;
        };
        let (offset, size) = self.pools[pool as usize];
        let tko = (offset..offset + size)
            .filter(|&n| self.is_tko(NodeId(n)))
            .count();
        tko as f64 > t * size as f64
    }

    /// `maySend`: not TKO, or the pool fails open.
    fn may_send(&self, node: NodeId) -> bool {
        !self.is_tko(node) || self.fail_open(self.pool_of[node.index()])
    }

    fn gutter_node(&self, ctx: &mut Ctx, node: NodeId, key: u32) -> Option<NodeId> {
        let g = self.cfg.gutter?;
        if self.pool_of[node.index()] as usize == g {
            return None;
        }
        let local = ctx.placement[g].primary(key, ctx.keys);
        Some(ctx.global(g as u16, local))
    }

    fn mark_tko(&mut self, ctx: &mut Ctx, node: NodeId, hard: bool) {
        let d = &mut self.dests[node.index()];
        match d.tko {
            Some(true) => return,
            Some(false) if hard => {
                d.tko = Some(true);
                return;
            }
            Some(false) => return,
            None => {}
        }
        d.tko = Some(hard);
        d.probe_delay_next = self.cfg.probe_delay_initial;
        d.probe_inflight = false;
        self.tkos += 1;
        let now = ctx.now();
        self.core.event(
            now,
            node,
            NodeEventKind::Tko,
            if hard { "hard" } else { "soft" }.to_string(),
        );
        self.schedule_probe(ctx, node);
    }

    /// `scheduleNextProbe`.
    fn schedule_probe(&mut self, ctx: &mut Ctx, node: NodeId) {
        let d = &mut self.dests[node.index()];
        let delay = d.probe_delay_next;
        d.probe_delay_next = next_probe_delay(d.probe_delay_next, self.cfg.probe_delay_max);
        let r: f64 = self.rng.random();
        let stretched =
            (delay as f64 * (1.0 + JITTER_MIN + r * (JITTER_MAX - JITTER_MIN))) as Nanos;
        d.probe_due = ctx.now() + stretched;
        // mcrouter's probe timer travels as `Reconnect(node)`: a probe is
        // its only way back to a destination.
        ctx.sched.at(
            d.probe_due,
            Event::Client {
                client: self.core.id,
                timer: ClientTimer::Reconnect(node),
            },
        );
    }

    fn probe(&mut self, ctx: &mut Ctx, node: NodeId) -> bool {
        let d = &self.dests[node.index()];
        if d.tko.is_none() || d.probe_due != ctx.now() {
            return false;
        }
        if !d.probe_inflight {
            self.dests[node.index()].probe_inflight = true;
            let now = ctx.now();
            self.core
                .event(now, node, NodeEventKind::Probe, String::new());
            let op = Op {
                kind: OpKind::Noop,
                bytes: super::plain::wire_bytes(OpKind::Noop, 0, 0),
                created: now,
                ..Op::default()
            };
            pipe::submit(self, ctx, node, op);
        }
        self.schedule_probe(ctx, node);
        true
    }
}

impl PipePolicy for Mcrouter {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn route(&mut self, ctx: &mut Ctx, pool: u16, key: u32, _kind: OpKind) -> Target {
        let local = ctx.placement[pool as usize].primary(key, ctx.keys);
        let node = ctx.global(pool, local);
        if self.may_send(node) {
            return Target::Send(node);
        }
        // TKO: the failover route, or the TKO error at once.
        match self.gutter_node(ctx, node, key) {
            Some(g) if self.may_send(g) => {
                ctx.rec.redirected();
                Target::Send(g)
            }
            _ => Target::Fail(
                CacheOutcome::Error,
                CacheResult::Failed(CacheOutcome::Error),
            ),
        }
    }

    fn succeeded(&mut self, ctx: &mut Ctx, op: &Op) {
        let node = op.node;
        let d = &mut self.dests[node.index()];
        if op.kind == OpKind::Noop {
            d.probe_inflight = false;
        }
        if d.tko.is_some() {
            // Only a probe's success clears a TKO.
            if op.kind == OpKind::Noop {
                d.tko = None;
                d.consecutive = 0;
                d.probe_due = Nanos::MAX;
                let now = ctx.now();
                self.core
                    .event(now, node, NodeEventKind::TkoClear, String::new());
            }
            return;
        }
        d.consecutive = 0;
    }

    fn failed(&mut self, ctx: &mut Ctx, op: &Op, why: Why) -> Disposition {
        let node = op.node;
        if op.kind == OpKind::Noop {
            self.dests[node.index()].probe_inflight = false;
        }
        if why == Why::Timeout {
            let d = &mut self.dests[node.index()];
            if d.tko.is_none() {
                d.consecutive += 1;
                if d.consecutive >= self.cfg.timeouts_until_tko {
                    self.mark_tko(ctx, node, false);
                }
            }
        }
        if op.kind != OpKind::Noop
            && let Some(g) = self.gutter_node(ctx, node, op.key)
            && self.may_send(g)
        {
            ctx.rec.redirected();
            return Disposition::Resend(g);
        }
        let (o, r) = pipe::failure(why);
        Disposition::Complete(o, r)
    }

    fn link_down(&mut self, ctx: &mut Ctx, node: NodeId, why: Why) {
        if matches!(why, Why::Refused | Why::ConnectTimeout) {
            self.mark_tko(ctx, node, true);
        }
    }

    fn link_up(&mut self, _ctx: &mut Ctx, _node: NodeId) {}

    fn policy_timer(&mut self, ctx: &mut Ctx, t: ClientTimer) -> bool {
        match t {
            ClientTimer::Reconnect(node) => self.probe(ctx, node),
            ClientTimer::ConnectResult { .. }
            | ClientTimer::Reset(_)
            | ClientTimer::IoFree
            | ClientTimer::Wakeup
            | ClientTimer::Cancel(_)
            | ClientTimer::VerifyDeadline { .. } => false,
        }
    }
}
