//! What the mcrouter, twemproxy, pymemcache and libmemcached policies share:
//! one pipelined connection per (client, node), connected at time 0 and
//! re-opened on demand after a close, a per-op timeout (or none), replies
//! matched to ops by id, and every op's end reported through the policy's
//! hooks, which decide what the caller sees and what the failure does to the
//! node's health. Each policy keeps its own state and implements [`PipePolicy`].
//!
//! Not modelled here: socket buffers do not limit writes (the `plain`
//! client's simplification), so a frozen node accepts every request.

use std::collections::{HashMap, VecDeque};

use super::ops::{NO_PARENT, Op, OpSlab};
use super::plain::wire_bytes;
use super::setup::Setup;
use crate::config::{HashChoice, LocatorChoice, Model};
use crate::engine::{Lane, Nanos};
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::{Ctx, deliver};
use crate::sim::event::Event;
use crate::sim::event::{ClientTimer, ConnectOutcome};
use crate::sim::ids::{ClientId, ConnId, NodeId};
use crate::sim::locator::Locator;
use crate::sim::protocol::{
    BulkWorst, CacheResult, Call, NodeEvent, NodeEventKind, Waiter, bulk_outcome, key_bit,
};
use crate::sim::protocol::{ClientMsg, OpKind, Reply};

/// A connection as the client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Open.
    Up,
    /// A connect of this generation is under way.
    Connecting(u32),
    /// Closed; the next op to the node opens it again.
    Closed,
}

/// The client's connection to one node.
#[derive(Clone, Debug)]
pub struct Link {
    /// Connection id.
    pub conn: ConnId,
    /// State.
    pub state: LinkState,
    /// Ops written on the current connection, oldest first (some may have
    /// ended since: they are skipped).
    inflight: VecDeque<(u32, u32)>,
    /// Ops waiting for the connection to open.
    queued: VecDeque<(u32, u32)>,
}

/// Why an op or a connection failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The op's timeout expired.
    Timeout,
    /// The node reset or closed the connection.
    Reset,
    /// A connect was refused.
    Refused,
    /// A connect got no answer in time.
    ConnectTimeout,
    /// The client closed the connection (another op's failure).
    Closed,
}

impl Why {
    /// The word for it in `node_events.csv`'s detail column (pymemcache's
    /// `failed`); the same word as the node event where there is one.
    pub fn name(self) -> &'static str {
        match self {
            Why::Timeout => "timeout",
            Why::Reset => NodeEventKind::Lost.as_str(),
            Why::Refused => NodeEventKind::Refused.as_str(),
            Why::ConnectTimeout => NodeEventKind::ConnectTimeout.as_str(),
            Why::Closed => "closed",
        }
    }
}

/// Where a new op goes.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// To this global node.
    Send(NodeId),
    /// Nowhere: the caller gets this at once (op outcome, caller's result).
    Fail(CacheOutcome, CacheResult),
}

/// What becomes of a failed op.
#[derive(Clone, Copy, Debug)]
pub enum Disposition {
    /// It ends: (op outcome, caller's result).
    Complete(CacheOutcome, CacheResult),
    /// It is sent again, to this global node (a failover route).
    Resend(NodeId),
}

/// The state every policy of this family has.
#[derive(Clone)]
pub struct Core {
    /// Client (service instance).
    pub id: ClientId,
    /// Ops.
    pub ops: OpSlab,
    /// One link per global node.
    pub links: Vec<Link>,
    lane: Option<Lane>,
    /// Connect timeout.
    pub connect_timeout: Nanos,
    /// What the client saw of each node.
    pub events: Vec<NodeEvent>,
    /// Connections lost (reset by the node or closed by the client).
    pub lost: u64,
    /// Connects that succeeded after the first.
    pub reconnects: u64,
}

impl Core {
    /// A core connected to every node of the model (the service starts its
    /// client, or its sidecar proxy, before load starts). `timeout` is the
    /// per-op timeout (`None`: ops wait forever); `connect_timeout` `None`
    /// means the operating system's (`network.connect_timeout`).
    pub fn new(timeout: Option<Nanos>, connect_timeout: Option<Nanos>, s: &mut Setup) -> Self {
        let links = s.connect_all(|conn| Link {
            conn,
            state: LinkState::Up,
            inflight: VecDeque::new(),
            queued: VecDeque::new(),
        });
        Core {
            id: s.id,
            ops: OpSlab::default(),
            links,
            lane: timeout.map(|t| s.sched.lane(t)),
            connect_timeout: connect_timeout.unwrap_or(s.net.connect_timeout),
            events: Vec::new(),
            lost: 0,
            reconnects: 0,
        }
    }

    /// Records a node event.
    pub fn event(&mut self, time: Nanos, node: NodeId, what: NodeEventKind, detail: String) {
        self.events.push(NodeEvent {
            time,
            client: self.id.0,
            node: node.0,
            what,
            detail,
        });
    }

    /// Ops held for `node`: written and unanswered, or waiting for a connect.
    pub fn backlog(&self, node: NodeId) -> u64 {
        let l = &self.links[node.index()];
        l.inflight
            .iter()
            .chain(&l.queued)
            .filter(|&&(s, g)| self.ops.get(s, g).is_some())
            .count() as u64
    }

    /// Ops whose outcome is not counted yet.
    pub fn pending(&self) -> u64 {
        self.ops.uncounted()
    }

    fn write(&mut self, ctx: &mut Ctx, node: NodeId, slot: u32) {
        let link = &mut self.links[node.index()];
        let op = self.ops.at_mut(slot);
        op.written = true;
        link.inflight.push_back((slot, op.generation));
        ctx.net
            .send_to_node(ctx.sched, link.conn, op.request(slot, Nanos::MAX));
    }

    /// Starts a connect to `node`.
    pub fn connect(&mut self, ctx: &mut Ctx, node: NodeId) {
        let conn = self.links[node.index()].conn;
        let generation = ctx.net.begin_connect(conn);
        self.links[node.index()].state = LinkState::Connecting(generation);
        if let Some(d) = ctx.net.control_delay(node) {
            ctx.sched
                .after(d, Event::ConnectArrive { conn, generation });
        }
        ctx.sched.after(
            self.connect_timeout,
            Event::Client {
                client: self.id,
                timer: ClientTimer::ConnectResult {
                    node,
                    outcome: ConnectOutcome::TimedOut,
                    generation,
                },
            },
        );
    }

    /// Closes the link to `node` (if open or connecting) and returns the ops
    /// that were on it, still live, for the policy to end or keep.
    pub fn close(&mut self, ctx: &mut Ctx, node: NodeId) -> Vec<(u32, u32)> {
        let link = &mut self.links[node.index()];
        if link.state == LinkState::Up {
            self.lost += 1;
        }
        ctx.net.close(link.conn);
        link.state = LinkState::Closed;
        let ops = &self.ops;
        link.inflight
            .drain(..)
            .chain(link.queued.drain(..))
            .filter(|&(s, g)| ops.get(s, g).is_some())
            .collect()
    }

    /// Forgets the ops on the link to `node` and closes it, leaving the ops
    /// to their own timeouts (their replies can no longer come).
    pub fn recycle(&mut self, ctx: &mut Ctx, node: NodeId) {
        let _ = self.close(ctx, node);
    }

    fn clean_front(&mut self, node: NodeId) {
        let link = &mut self.links[node.index()];
        while let Some(&(s, g)) = link.inflight.front() {
            if self.ops.get(s, g).is_some() {
                break;
            }
            link.inflight.pop_front();
        }
    }

    /// Ends a single op or bulk sub-op with (outcome, result); a noop (a
    /// probe) is never counted.
    pub fn complete(&mut self, ctx: &mut Ctx, op: &Op, outcome: CacheOutcome, result: CacheResult) {
        if op.kind == OpKind::Noop {
            return;
        }
        if op.parent != NO_PARENT {
            self.child_done(ctx, op.parent, op.parent_gen, op.index, outcome);
            return;
        }
        deliver(ctx, op.waiter, outcome, result);
    }

    fn child_done(&mut self, ctx: &mut Ctx, p: u32, pgen: u32, index: u32, outcome: CacheOutcome) {
        let Some(parent) = self.ops.get_mut(p, pgen) else {
            return;
        };
        if outcome == CacheOutcome::Miss {
            parent.missed |= key_bit(index);
        }
        parent.worst = parent.worst.max(match outcome {
            CacheOutcome::Hit | CacheOutcome::Stored => BulkWorst::AllHit,
            CacheOutcome::Miss => BulkWorst::SomeMiss,
            CacheOutcome::Timeout | CacheOutcome::UnsentTimeout => BulkWorst::TimedOut,
            CacheOutcome::Cancelled | CacheOutcome::QueueFull | CacheOutcome::Error => {
                BulkWorst::Failed
            }
        });
        parent.remaining -= 1;
        if parent.remaining > 0 {
            return;
        }
        let parent = *parent;
        self.ops.free(p);
        let failure = if parent.worst == BulkWorst::TimedOut {
            CacheOutcome::Timeout
        } else {
            CacheOutcome::Error
        };
        let (outcome, result) = bulk_outcome(parent.worst, parent.missed, failure);
        deliver(ctx, parent.waiter, outcome, result);
    }
}

/// A policy of this family: its state and its reactions.
pub trait PipePolicy {
    /// The shared state.
    fn core(&mut self) -> &mut Core;
    /// Where a new op on `key` of `pool` goes.
    fn route(&mut self, ctx: &mut Ctx, pool: u16, key: u32, kind: OpKind) -> Target;
    /// A reply to `op` arrived (the node answers).
    fn succeeded(&mut self, ctx: &mut Ctx, op: &Op);
    /// `op` failed; the policy counts it and says what becomes of it.
    fn failed(&mut self, ctx: &mut Ctx, op: &Op, why: Why) -> Disposition;
    /// The link to `node` went down (once per reset or failed connect),
    /// before its ops are failed one by one.
    fn link_down(&mut self, ctx: &mut Ctx, node: NodeId, why: Why);
    /// A connect to `node` succeeded.
    fn link_up(&mut self, ctx: &mut Ctx, node: NodeId);
    /// A timer of the policy's own.
    fn policy_timer(&mut self, _ctx: &mut Ctx, _t: ClientTimer) -> bool {
        false
    }
}

/// Sends `op` to global node `node`: a timeout is armed; the op is written
/// at once on an open link, or waits for the (re)connect.
pub fn submit<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, node: NodeId, mut op: Op) -> (u32, u32) {
    let core = p.core();
    op.node = node;
    let (slot, generation) = core.ops.alloc(op);
    if let Some(lane) = core.lane {
        ctx.arm_timeout(lane, core.id, slot, generation);
    }
    match core.links[node.index()].state {
        LinkState::Up => core.write(ctx, node, slot),
        LinkState::Connecting(_) => core.links[node.index()]
            .queued
            .push_back((slot, generation)),
        LinkState::Closed => {
            core.links[node.index()]
                .queued
                .push_back((slot, generation));
            core.connect(ctx, node);
        }
    }
    (slot, generation)
}

fn new_op(ctx: &Ctx, kind: OpKind, key: u32, size: u32, version: u32) -> Op {
    Op {
        kind,
        key,
        bytes: wire_bytes(kind, ctx.keys.spelled_len(key), size),
        version,
        created: ctx.now(),
        ..Op::default()
    }
}

/// A cache call.
pub fn call<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, call: Call) {
    match p.route(ctx, call.pool, call.key, call.kind) {
        Target::Fail(outcome, result) => deliver(ctx, call.waiter, outcome, result),
        Target::Send(node) => {
            let mut op = new_op(ctx, call.kind, call.key, call.size, call.version);
            op.waiter = call.waiter;
            op.waiting = call.waiter.is_some();
            submit(p, ctx, node, op);
        }
    }
}

/// A bulk get: one get per key, each routed and timed on its own; the
/// caller gets the worst result when all have ended.
pub fn multi_get<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, pool: u16, keys: &[u32], waiter: Waiter) {
    let (parent, pgen) = p.core().ops.alloc(Op {
        kind: OpKind::Get,
        created: ctx.now(),
        waiter: Some(waiter),
        waiting: true,
        // One more than the keys, so the parent cannot end before every key
        // is routed.
        remaining: keys.len() as u32 + 1,
        ..Op::default()
    });
    for (j, &key) in keys.iter().enumerate() {
        match p.route(ctx, pool, key, OpKind::Get) {
            Target::Fail(outcome, _) => p.core().child_done(ctx, parent, pgen, j as u32, outcome),
            Target::Send(node) => {
                let mut op = new_op(ctx, OpKind::Get, key, 0, 0);
                op.index = j as u32;
                op.parent = parent;
                op.parent_gen = pgen;
                submit(p, ctx, node, op);
            }
        }
    }
    p.core()
        .child_done(ctx, parent, pgen, u32::MAX, CacheOutcome::Hit);
}

/// Ends or re-sends a failed op (already removed from the slab).
pub fn dispose<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, op: Op, why: Why) {
    match p.failed(ctx, &op, why) {
        Disposition::Complete(outcome, result) => p.core().complete(ctx, &op, outcome, result),
        Disposition::Resend(node) => {
            let mut again = op;
            again.written = false;
            again.generation = 0;
            submit(p, ctx, node, again);
        }
    }
}

/// Ends every op in `ops` (slot, generation) with `why`.
pub fn fail_all<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, ops: Vec<(u32, u32)>, why: Why) {
    for (s, g) in ops {
        let Some(&op) = p.core().ops.get(s, g) else {
            continue;
        };
        p.core().ops.free(s);
        dispose(p, ctx, op, why);
    }
}

/// The op's timeout expired. Returns false for a stale timer.
pub fn timeout<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, slot: u32, generation: u32) -> bool {
    let core = p.core();
    let Some(&op) = core.ops.get(slot, generation) else {
        return false;
    };
    core.ops.free(slot);
    core.clean_front(op.node);
    dispose(p, ctx, op, Why::Timeout);
    true
}

/// The node reset the connection (a crash, a reboot) or answered an op with
/// a reset: the link closes once and every op on it fails.
pub fn reset<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, node: NodeId) -> bool {
    if p.core().links[node.index()].state != LinkState::Up {
        return false;
    }
    let ops = p.core().close(ctx, node);
    let now = ctx.now();
    p.core().event(
        now,
        node,
        NodeEventKind::Lost,
        format!("{} ops failed", ops.len()),
    );
    p.link_down(ctx, node, Why::Reset);
    fail_all(p, ctx, ops, Why::Reset);
    true
}

/// A reply arrived from global node `node`.
pub fn reply<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, node: NodeId, msg: ClientMsg) {
    if msg.reply == Reply::Reset {
        reset(p, ctx, node);
        return;
    }
    let core = p.core();
    let Some(&op) = core.ops.get(msg.op, msg.op_gen) else {
        return;
    };
    core.ops.free(msg.op);
    core.clean_front(node);
    p.succeeded(ctx, &op);
    let (outcome, result) = match msg.reply {
        Reply::Hit(v) => (CacheOutcome::Hit, ctx.hit(op.key, v)),
        Reply::Miss => (CacheOutcome::Miss, CacheResult::Miss),
        Reply::Stored | Reply::Reset => (CacheOutcome::Stored, CacheResult::Stored),
        // The server answered (so the policies count a success: twemproxy's
        // `server_ok`, a reply for mcrouter's TKO counter), with an error
        // the caller sees.
        Reply::ServerError => (
            CacheOutcome::Error,
            CacheResult::Failed(CacheOutcome::Error),
        ),
    };
    p.core().complete(ctx, &op, outcome, result);
}

/// Connect results and resets; anything else goes to the policy.
pub fn timer<P: PipePolicy>(p: &mut P, ctx: &mut Ctx, t: ClientTimer) -> bool {
    match t {
        ClientTimer::ConnectResult {
            node,
            outcome,
            generation,
        } => {
            let core = p.core();
            if core.links[node.index()].state != LinkState::Connecting(generation) {
                return false;
            }
            let now = ctx.now();
            if outcome == ConnectOutcome::Accepted {
                let link = &mut core.links[node.index()];
                link.state = LinkState::Up;
                ctx.net.conn_mut(link.conn).open = true;
                core.reconnects += 1;
                core.event(now, node, NodeEventKind::Connected, String::new());
                p.link_up(ctx, node);
                let core = p.core();
                let queued: Vec<(u32, u32)> = core.links[node.index()].queued.drain(..).collect();
                for (s, g) in queued {
                    if core.ops.get(s, g).is_some() {
                        core.write(ctx, node, s);
                    }
                }
                return true;
            }
            let (why, kind) = if outcome == ConnectOutcome::Refused {
                (Why::Refused, NodeEventKind::Refused)
            } else {
                (Why::ConnectTimeout, NodeEventKind::ConnectTimeout)
            };
            let ops = core.close(ctx, node);
            core.event(now, node, kind, String::new());
            p.link_down(ctx, node, why);
            fail_all(p, ctx, ops, why);
            true
        }
        ClientTimer::Reset(node) => reset(p, ctx, node),
        ClientTimer::Reconnect(_)
        | ClientTimer::IoFree
        | ClientTimer::Wakeup
        | ClientTimer::Cancel(_)
        | ClientTimer::VerifyDeadline { .. } => p.policy_timer(ctx, t),
    }
}

/// The caller's view of a failed op: the failure itself.
pub fn failure(why: Why) -> (CacheOutcome, CacheResult) {
    let outcome = if why == Why::Timeout {
        CacheOutcome::Timeout
    } else {
        CacheOutcome::Error
    };
    (outcome, CacheResult::Failed(outcome))
}

// ---------------------------------------------------------------- live rings

/// Key placement over the nodes a policy has not ejected, per pool: the
/// pool's locator rebuilt over the live nodes whenever that set changes,
/// with a per-key cache. With every node live it is the world's placement.
#[derive(Clone)]
pub struct LiveRing {
    pools: Vec<PoolRing>,
}

#[derive(Clone)]
struct PoolRing {
    offset: u16,
    names: Vec<String>,
    live: Vec<bool>,
    dead: usize,
    ring: Option<(Locator, Vec<u16>)>,
    cache: HashMap<u32, u16>,
}

impl LiveRing {
    /// Every node of the model live.
    pub fn new(model: &Model) -> Self {
        LiveRing {
            pools: model
                .pools
                .iter()
                .enumerate()
                .map(|(p, pool)| PoolRing {
                    offset: model.pool_offset(p) as u16,
                    names: pool.nodes.clone(),
                    live: vec![true; pool.nodes.len()],
                    dead: 0,
                    ring: None,
                    cache: HashMap::new(),
                })
                .collect(),
        }
    }

    fn pool_of(&self, node: NodeId) -> usize {
        self.pools
            .iter()
            .rposition(|p| p.offset <= node.0)
            .expect("node in a pool")
    }

    /// Whether global node `node` is in its ring.
    pub fn is_live(&self, node: NodeId) -> bool {
        let p = &self.pools[self.pool_of(node)];
        p.live[(node.0 - p.offset) as usize]
    }

    /// Puts back in its ring each node whose server state `readd` takes out
    /// of ejection at `now` (it returns whether it did), and logs "readd".
    pub fn readd<S>(
        &mut self,
        core: &mut Core,
        now: Nanos,
        servers: &mut [S],
        mut readd: impl FnMut(&mut S) -> bool,
    ) {
        for (n, server) in servers.iter_mut().enumerate() {
            if readd(server) {
                let node = NodeId(n as u16);
                self.set_live(node, true);
                core.event(now, node, NodeEventKind::Readd, String::new());
            }
        }
    }

    /// Puts global node `node` in its pool's ring or takes it out.
    pub fn set_live(&mut self, node: NodeId, live: bool) {
        let i = self.pool_of(node);
        let p = &mut self.pools[i];
        let n = (node.0 - p.offset) as usize;
        if p.live[n] == live {
            return;
        }
        p.live[n] = live;
        if live {
            p.dead -= 1;
        } else {
            p.dead += 1;
        }
        p.ring = None;
        p.cache.clear();
    }

    /// The global node of `key` in `pool` among the live nodes; `None` when
    /// none is live.
    pub fn node(
        &mut self,
        ctx: &mut Ctx,
        pool: u16,
        key: u32,
        locator: LocatorChoice,
        hash: HashChoice,
    ) -> Option<NodeId> {
        let p = &mut self.pools[pool as usize];
        if p.dead == 0 {
            let local = ctx.placement[pool as usize].primary(key, ctx.keys);
            return Some(NodeId(p.offset + local));
        }
        if p.dead == p.live.len() {
            return None;
        }
        if let Some(&n) = p.cache.get(&key) {
            return Some(NodeId(n));
        }
        if p.ring.is_none() {
            let members: Vec<u16> = (0..p.live.len() as u16)
                .filter(|&i| p.live[i as usize])
                .collect();
            let names: Vec<String> = members
                .iter()
                .map(|&i| p.names[i as usize].clone())
                .collect();
            let l =
                Locator::new(locator.into(), hash.into(), &names).expect("at least one live node");
            p.ring = Some((l, members));
        }
        let (l, members) = p.ring.as_ref().expect("built");
        let n = p.offset + members[l.primary(ctx.keys.spell(key)) as usize];
        p.cache.insert(key, n);
        Some(NodeId(n))
    }
}
