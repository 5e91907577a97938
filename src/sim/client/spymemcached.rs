//! spymemcached 2.12.3, modelled from its mechanisms
//! (`shared/reference/spymemcached.md`; section numbers below refer to it).
//!
//! Per node: a bounded input queue (16 384; a caller blocks up to 10 s when it
//! is full), an unbounded write queue, a FIFO read queue matched to replies by
//! order, and socket buffers in bytes (§2.3). One I/O thread per client is a
//! serial resource: while it is stalled (logging each op discarded at a
//! connection drop, or `verifyAliveOnConnect` waiting for a noop) no node of
//! the client is served (§2.2, §3.5). The op timeout is enforced by the
//! waiting caller; an unsent op older than the timeout is dropped when the
//! writer reaches it; a written op stays in the read queue until its reply
//! arrives or the connection closes (§2.3 steps 5–8). The continuous-timeout
//! counter drops the connection at threshold + 1 consecutive timeouts (§3.1);
//! reconnects follow min(30 s, 2^n s), n reset by every successful connect
//! (§3.3). Failure modes as in §4.

use std::collections::VecDeque;

use crate::engine::rng::ChaCha8Rng;

use super::ops::{NO_PARENT, Op, OpSlab};
use super::plain::{bulk_member, wire_bytes};
use super::setup::Setup;
use crate::config::{FailureMode, SpymemcachedConfig as SpySpec};
use crate::engine::time::SEC;
use crate::engine::{Lane, Nanos, Timer, stream};
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::{Ctx, deliver};
use crate::sim::event::Event;
use crate::sim::event::{ClientTimer, ConnectOutcome};
use crate::sim::ids::{ClientId, ConnId, NodeId, OpRef};
use crate::sim::protocol::{
    BulkWorst, CacheResult, Call, NodeEvent, NodeEventKind, Waiter, bulk_outcome, key_bit,
};
use crate::sim::protocol::{ClientMsg, NodeMsg, OpKind, Reply};
use crate::sim::sampler::sample;

/// The connection's state as the client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    /// Connected: the node is active (reconnectAttempt is 0 then).
    Connected,
    /// Waiting for the reconnect timer.
    Waiting,
    /// A connect attempt of this generation is under way.
    Connecting(u32),
    /// Connected at TCP level; the I/O thread waits for the noop reply.
    Verifying(u32),
}

/// Why a connection is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DropCause {
    /// The continuous-timeout threshold was exceeded.
    Trip,
    /// The peer reset or closed the connection.
    Reset,
    /// A `SERVER_ERROR` (or `ERROR`, `CLIENT_ERROR`) line: in 2.12.3
    /// `BaseOperationImpl.handleError` completes the op with an error and
    /// throws `OperationException`, which `MemcachedConnection.handleIO`
    /// catches with `lostConnection(node)`: the whole connection is dropped
    /// (`queueReconnect`), cancelling everything in flight on it.
    ServerError,
    /// A connect attempt failed (refused, timed out, noop unanswered).
    ConnectFailed(NodeEventKind),
}

/// The client's view of one node.
#[derive(Clone, Debug)]
struct SpyNode {
    conn_id: ConnId,
    conn: ConnState,
    /// `reconnectAttempt`: 0 when connected; grows with each failed attempt.
    attempt: u32,
    /// The continuous-timeout counter.
    timeouts: u32,
    input: VecDeque<u32>,
    write: VecDeque<u32>,
    read: VecDeque<u32>,
    /// The op at the head of the write queue, partly written: bytes written.
    partial: Option<(u32, u32)>,
    /// Callers blocked on a full input queue: (op, give-up time).
    blocked: VecDeque<(u32, Nanos)>,
    /// A reconnect came due while the I/O thread was stalled.
    reconnect_due: bool,
    /// The noop op of a verify-alive check.
    noop: Option<(u32, u32)>,
}

impl SpyNode {
    fn active(&self) -> bool {
        self.attempt == 0 && self.conn == ConnState::Connected
    }

    fn backlog(&self) -> u64 {
        (self.input.len() + self.write.len() + self.read.len() + self.blocked.len()) as u64
    }
}

/// A spymemcached client instance.
#[derive(Clone)]
pub struct Spymemcached {
    id: ClientId,
    cfg: SpySpec,
    op_timeout: Nanos,
    nodes: Vec<SpyNode>,
    ops: OpSlab,
    lane: Lane,
    /// The I/O thread is stalled until then.
    io_busy_until: Nanos,
    io_free_scheduled: bool,
    wakeup_scheduled: bool,
    /// A timeout pushed a counter over the threshold: check at the next loop.
    check_pending: bool,
    /// Replies and connect results that arrived while the I/O thread stalled.
    deferred: VecDeque<Deferred>,
    /// Bulk gets: per parent op, (node, its part not finished: 1 or 0).
    bulks: Vec<Vec<(NodeId, u16)>>,
    /// Bulk gets' node parts: per part op slot, its keys in the order sent,
    /// each with its place in the caller's key list. One part is one
    /// `get k1 k2 …` op (one read-queue entry, one WARN line at a drop).
    parts: Vec<Vec<(u32, u32)>>,
    /// What this client saw of each node.
    pub events: Vec<NodeEvent>,
    /// Connections lost.
    pub lost: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// The per-drop draw of the discard-logging time per line.
    discard_rng: ChaCha8Rng,
    /// The caller's timeout of each awaited single op armed on the lane, by
    /// op slot: cancelled in the queue when the op is answered in time, so
    /// it is never popped as a stale timer.
    timers: Vec<Option<Timer>>,
}

#[derive(Clone, Copy, Debug)]
enum Deferred {
    Reply(NodeId, ClientMsg),
    Connect(NodeId, ConnectOutcome, u32),
}

impl Spymemcached {
    /// A client connected to every node of the model (the harness builds the
    /// client before load starts, so every connection is up at time 0).
    pub fn new(cfg: &SpySpec, s: &mut Setup) -> Self {
        let states = s.connect_all(|conn_id| SpyNode {
            conn_id,
            conn: ConnState::Connected,
            attempt: 0,
            timeouts: 0,
            input: VecDeque::new(),
            write: VecDeque::new(),
            read: VecDeque::new(),
            partial: None,
            blocked: VecDeque::new(),
            reconnect_due: false,
            noop: None,
        });
        Spymemcached {
            id: s.id,
            cfg: cfg.clone(),
            op_timeout: s.model.client.op_timeout,
            nodes: states,
            ops: OpSlab::default(),
            lane: s.sched.lane(s.model.client.op_timeout),
            io_busy_until: 0,
            io_free_scheduled: false,
            wakeup_scheduled: false,
            check_pending: false,
            deferred: VecDeque::new(),
            bulks: Vec::new(),
            parts: Vec::new(),
            events: Vec::new(),
            lost: 0,
            reconnects: 0,
            discard_rng: stream(s.model.seed, &format!("spymemcached/{}/discard", s.id.0)),
            timers: Vec::new(),
        }
    }

    /// Whether the client sees global node `n` as active (§3.4).
    pub fn is_active(&self, n: NodeId) -> bool {
        self.nodes[n.index()].active()
    }

    /// Ops held for node `n`: queued, blocked or awaiting a reply.
    pub fn backlog(&self, n: NodeId) -> u64 {
        self.nodes[n.index()].backlog()
    }

    /// Ops whose outcome is not counted yet.
    pub fn pending(&self) -> u64 {
        self.ops.uncounted()
    }

    fn event(&mut self, time: Nanos, node: usize, what: NodeEventKind, detail: String) {
        self.events.push(NodeEvent {
            time,
            client: self.id.0,
            node: node as u16,
            what,
            detail,
        });
    }

    fn io_free(&self, now: Nanos) -> bool {
        now >= self.io_busy_until
    }

    /// Makes sure the I/O thread resumes its loop when its stall ends.
    fn ensure_io_free_timer(&mut self, ctx: &mut Ctx) {
        if !self.io_free_scheduled {
            self.io_free_scheduled = true;
            ctx.sched.at(
                self.io_busy_until,
                Event::Client {
                    client: self.id,
                    timer: ClientTimer::IoFree,
                },
            );
        }
    }

    /// Stalls the I/O thread for `d` more.
    fn stall(&mut self, ctx: &mut Ctx, d: Nanos) {
        let now = ctx.now();
        self.io_busy_until = self.io_busy_until.max(now) + d;
        if d > 0 {
            self.ensure_io_free_timer(ctx);
        }
    }

    // ------------------------------------------------------------ routing

    /// The node for a new op on `key` (`addOperation(key, op)`, §2.3 step 2,
    /// §4): the primary if active or in Retry mode; in Cancel mode `None`
    /// (cancel at once); in Redistribute mode the first active node of the
    /// locator's sequence, or the inactive primary if none is active.
    // Inlined into its callers: once per op on the call path.
    #[inline(always)]
    fn route(&mut self, ctx: &mut Ctx, pool: u16, key: u32, bulk: bool) -> Option<NodeId> {
        let local = ctx.placement[pool as usize].primary(key, ctx.keys);
        let primary = ctx.global(pool, local);
        if self.nodes[primary.index()].active() {
            return Some(primary);
        }
        let mode = if bulk {
            FailureMode::Redistribute
        } else {
            self.cfg.failure_mode
        };
        match mode {
            FailureMode::Retry => Some(primary),
            FailureMode::Cancel => None,
            FailureMode::Redistribute => {
                let offset = ctx.pool_offsets[pool as usize];
                let nodes = &self.nodes;
                let chosen = ctx.placement[pool as usize]
                    .redistribute(key, ctx.keys, |n| nodes[(offset + n) as usize].active());
                let g = NodeId(offset + chosen);
                if g != primary {
                    ctx.rec.redirected();
                }
                Some(g)
            }
        }
    }

    // ------------------------------------------------------------ callers

    /// A cache call from a step.
    pub fn call(&mut self, ctx: &mut Ctx, call: Call) {
        let now = ctx.now();
        let bytes = wire_bytes(call.kind, ctx.keys.spelled_len(call.key), call.size);
        let Some(node) = self.route(ctx, call.pool, call.key, false) else {
            // Cancel mode, primary inactive: cancelled at once (§4).
            deliver(
                ctx,
                call.waiter,
                CacheOutcome::Cancelled,
                CacheResult::Failed(CacheOutcome::Cancelled),
            );
            return;
        };
        let (i, _) = self.ops.alloc(Op {
            kind: call.kind,
            key: call.key,
            node,
            bytes,
            version: call.version,
            created: now,
            waiter: call.waiter,
            waiting: call.waiter.is_some(),
            ..Op::default()
        });
        self.add_op(ctx, node.index(), i);
        self.after_activity(ctx);
    }

    /// A bulk get: keys grouped by node, always routed Redistribute-style
    /// whatever the failure mode (§2.3 step 2), one timeout for all, and
    /// **one multi-key get op per node**: spymemcached 2.12.3's
    /// `MemcachedClient.asyncGetBulk` builds one `opFact.get(keys, cb)` per
    /// node of its chunks and hands the map to `mconn.addOperations`;
    /// `protocol/ascii/BaseGetOpImpl.initialize` writes it as one
    /// `get k1 k2 …\r\n` and `handleLine` completes it at the node's `END`
    /// (couchbase/spymemcached, `src/main/java/net/spy/memcached/`). On the
    /// wire the part travels as its keys' messages back to back under one op
    /// id (`protocol::NodeMsg`), which the node serves and answers one key
    /// after the other as memcached does.
    pub fn multi_get(&mut self, ctx: &mut Ctx, pool: u16, keys: &[u32], waiter: Waiter) {
        let now = ctx.now();
        let (p, pgen) = self.ops.alloc(Op {
            kind: OpKind::Get,
            created: now,
            timeout_at: now + self.op_timeout,
            waiter: Some(waiter),
            waiting: true,
            ..Op::default()
        });
        if self.bulks.len() <= p as usize {
            self.bulks.resize_with(p as usize + 1, Vec::new);
        }
        self.bulks[p as usize].clear();
        ctx.arm_timeout(self.lane, self.id, p, pgen);
        // The chunks: each node's keys, nodes in order of their first key.
        let mut chunks: Vec<(NodeId, Vec<(u32, u32)>)> = Vec::new();
        for (j, &key) in keys.iter().enumerate() {
            let node = self
                .route(ctx, pool, key, true)
                .expect("bulk gets always route");
            match chunks.iter_mut().find(|(n, _)| *n == node) {
                Some((_, ks)) => ks.push((key, j as u32)),
                None => chunks.push((node, vec![(key, j as u32)])),
            }
        }
        self.ops.at_mut(p).remaining = chunks.len() as u32;
        for (node, ks) in chunks {
            self.bulks[p as usize].push((node, 1));
            let mut op = bulk_member(ctx, ks[0].0, ks[0].1, node, p, pgen);
            op.bytes = multi_get_bytes(ks.iter().map(|&(k, _)| ctx.keys.spelled_len(k)));
            op.remaining = ks.len() as u32;
            let (i, _) = self.ops.alloc(op);
            if self.parts.len() <= i as usize {
                self.parts.resize_with(i as usize + 1, Vec::new);
            }
            self.parts[i as usize] = ks;
            self.add_op(ctx, node.index(), i);
        }
        self.after_activity(ctx);
    }

    /// `node.addOp(op)`: the input queue, or a blocked caller when it is full
    /// (§2.3 step 3). Then the selector is woken.
    // Inlined into its callers: once per op on the call path.
    #[inline(always)]
    fn add_op(&mut self, ctx: &mut Ctx, n: usize, i: u32) {
        let now = ctx.now();
        let cap = self.cfg.op_queue_len as usize;
        let st = &mut self.nodes[n];
        if st.input.len() >= cap {
            st.blocked.push_back((i, now + self.cfg.op_queue_max_block));
            ctx.sched.after(
                self.cfg.op_queue_max_block,
                Event::Client {
                    client: self.id,
                    timer: ClientTimer::Wakeup,
                },
            );
            return;
        }
        self.arm_timeout(ctx, i, now);
        let st = &mut self.nodes[n];
        let io_free = now >= self.io_busy_until;
        if io_free
            && st.input.is_empty()
            && st.write.is_empty()
            && st.conn == ConnState::Connected
            && ctx.net.room(st.conn_id) >= self.ops.at(i).bytes as u64
        {
            // Nothing queued ahead and room in the socket: the I/O loop would
            // move it through the input and write queues and write it whole
            // right away, so do exactly that without the queues.
            st.read.push_back(i);
            self.send(ctx, n, i, 0);
            return;
        }
        st.input.push_back(i);
        if io_free {
            self.move_input(ctx, n);
            self.write(ctx, n);
        } else {
            self.ensure_io_free_timer(ctx);
        }
    }

    /// The caller's `Future.get(opTimeout)` starts now (awaited single ops
    /// and bulk parents only). Inlined into its callers: once per op on the
    /// write path.
    #[inline(always)]
    fn arm_timeout(&mut self, ctx: &mut Ctx, i: u32, since: Nanos) {
        let op = self.ops.at_mut(i);
        if !op.waiting || op.parent != NO_PARENT {
            return;
        }
        let generation = op.generation;
        op.timeout_at = since + self.op_timeout;
        let slot = i as usize;
        if slot >= self.timers.len() {
            self.timers.resize(slot + 1, None);
        }
        if since == op.created {
            let timer = ctx.sched.after_lane_timer(
                self.lane,
                Event::OpTimeout {
                    client: self.id,
                    op: OpRef {
                        slot: i,
                        generation,
                    },
                },
            );
            self.timers[slot] = Some(timer);
        } else {
            self.timers[slot] = None;
            // The caller was blocked in addOp: its wait starts later.
            ctx.sched.after(
                self.op_timeout,
                Event::OpTimeout {
                    client: self.id,
                    op: OpRef {
                        slot: i,
                        generation,
                    },
                },
            );
        }
    }

    /// `copyInputQueue`: the whole input queue moves to the write queue,
    /// active node or not (§2.3 step 4); blocked callers take the space.
    fn move_input(&mut self, ctx: &mut Ctx, n: usize) {
        let now = ctx.now();
        let st = &mut self.nodes[n];
        st.write.extend(st.input.drain(..));
        while let Some((i, until)) = self.nodes[n].blocked.pop_front() {
            if until < now {
                // "Timed out waiting to add": IllegalStateException to the caller.
                let op = *self.ops.at(i);
                self.ops.free(i);
                if op.parent != NO_PARENT {
                    self.child_done(ctx, op.parent, op.parent_gen, op.node, 0, BulkWorst::Failed);
                } else {
                    deliver(
                        ctx,
                        op.waiter,
                        CacheOutcome::QueueFull,
                        CacheResult::Failed(CacheOutcome::QueueFull),
                    );
                }
                continue;
            }
            self.nodes[n].write.push_back(i);
            self.arm_timeout(ctx, i, now);
        }
    }

    /// Cancels the caller's timeout of single op `i`, answered while it
    /// waited: the timer would find the op freed (stale) and do nothing.
    #[inline]
    fn cancel_timer(&mut self, ctx: &mut Ctx, i: u32) {
        if let Some(timer) = self.timers.get_mut(i as usize).and_then(Option::take) {
            ctx.sched.cancel(timer);
        }
    }

    /// After any I/O activity the loop checks the timeout counters.
    fn after_activity(&mut self, ctx: &mut Ctx) {
        if self.check_pending && self.io_free(ctx.now()) {
            self.check(ctx);
        }
    }

    // ------------------------------------------------------------ writing

    /// `fillWriteBuffer` for node `n` while its socket has room (§2.3 step 5).
    fn write(&mut self, ctx: &mut Ctx, n: usize) {
        let now = ctx.now();
        if self.nodes[n].conn != ConnState::Connected {
            return;
        }
        let conn = self.nodes[n].conn_id;
        while let Some(&i) = self.nodes[n].write.front() {
            let op = *self.ops.at(i);
            let partial = self.nodes[n]
                .partial
                .filter(|&(p, _)| p == i)
                .map_or(0, |(_, b)| b);
            if op.cancelled {
                self.nodes[n].write.pop_front();
                self.ops.free(i);
                continue;
            }
            if partial == 0 && now - op.created > self.op_timeout {
                // Timed out unsent: dropped, callback TIMED_OUT; the counter
                // is not touched.
                self.nodes[n].write.pop_front();
                self.finish_unsent(ctx, i);
                continue;
            }
            let room = ctx.net.room(conn);
            if room == 0 {
                break;
            }
            let left = (op.bytes - partial) as u64;
            if partial == 0 {
                // Appended to the read queue when writing starts.
                self.nodes[n].read.push_back(i);
            }
            if room < left {
                ctx.net.write_partial(conn, room);
                self.nodes[n].partial = Some((i, partial + room as u32));
                break;
            }
            self.nodes[n].partial = None;
            self.nodes[n].write.pop_front();
            self.send(ctx, n, i, partial as u64);
        }
    }

    /// Writes the rest of op `i` (of which `prepaid` bytes were written
    /// earlier) to node `n`'s socket. Inlined into its callers: once per op
    /// on the write path.
    #[inline(always)]
    fn send(&mut self, ctx: &mut Ctx, n: usize, i: u32, prepaid: u64) {
        let conn = self.nodes[n].conn_id;
        let op = self.ops.at_mut(i);
        op.written = true;
        if op.parent != NO_PARENT {
            self.send_part(ctx, conn, i, prepaid);
            return;
        }
        ctx.net
            .send_to_node_prepaid(ctx.sched, conn, op.request(i, Nanos::MAX), prepaid);
    }

    /// Writes a bulk get's node part, `get k1 k2 …\r\n`, as its keys'
    /// messages under the part's op id: the first carries `get` and the line
    /// end, each its key and a space; `prepaid` bytes were written before.
    fn send_part(&mut self, ctx: &mut Ctx, conn: ConnId, i: u32, prepaid: u64) {
        let op = *self.ops.at(i);
        let keys = &self.parts[i as usize];
        let mut prepaid = prepaid;
        for (k, &(key, _)) in keys.iter().enumerate() {
            let mut bytes = 1 + ctx.keys.spelled_len(key) as u32;
            if k == 0 {
                bytes += MULTI_GET_FIXED;
            }
            let paid = prepaid.min(u64::from(bytes));
            prepaid -= paid;
            let mut msg = op.request(i, Nanos::MAX);
            msg.key = key;
            msg.bytes = bytes;
            ctx.net.send_to_node_prepaid(ctx.sched, conn, msg, paid);
        }
    }

    fn finish_unsent(&mut self, ctx: &mut Ctx, i: u32) {
        let op = *self.ops.at(i);
        if op.parent != NO_PARENT {
            self.ops.free(i);
            self.child_done(ctx, op.parent, op.parent_gen, op.node, 0, BulkWorst::Failed);
            return;
        }
        if op.waiting {
            deliver(
                ctx,
                op.waiter,
                CacheOutcome::UnsentTimeout,
                CacheResult::Failed(CacheOutcome::UnsentTimeout),
            );
        } else if op.waiter.is_none() {
            ctx.rec.cache(CacheOutcome::UnsentTimeout);
        }
        self.ops.free(i);
    }

    /// Ops wait in node `n`'s write queue (for room in the socket, or for
    /// the I/O thread).
    #[inline]
    pub fn waits_for_room(&self, n: NodeId) -> bool {
        !self.nodes[n.index()].write.is_empty()
    }

    /// The node read bytes of our connection: the socket may have room.
    pub fn writable(&mut self, ctx: &mut Ctx, n: NodeId) {
        let n = n.index();
        if self.nodes[n].write.is_empty() || !self.io_free(ctx.now()) {
            return;
        }
        self.write(ctx, n);
    }

    // ------------------------------------------------------------ reading

    /// A reply arrived on node `n`'s connection (§2.3 step 6).
    pub fn reply(&mut self, ctx: &mut Ctx, n: NodeId, msg: ClientMsg) {
        // verifyAliveOnConnect busy-loops on this node's reads (§3.5).
        if let ConnState::Verifying(_) = self.nodes[n.index()].conn
            && self.nodes[n.index()].noop == Some((msg.op, msg.op_gen))
        {
            self.verified(ctx, n.index());
            return;
        }
        if !self.io_free(ctx.now()) {
            self.deferred.push_back(Deferred::Reply(n, msg));
            self.ensure_io_free_timer(ctx);
            return;
        }
        self.handle_reply(ctx, n.index(), msg);
        self.after_activity(ctx);
    }

    // Inlined into its callers: once per reply.
    #[inline(always)]
    fn handle_reply(&mut self, ctx: &mut Ctx, n: usize, msg: ClientMsg) {
        if msg.reply == Reply::Reset {
            if self.nodes[n].conn == ConnState::Connected {
                self.drop_connection(ctx, n, DropCause::Reset);
            }
            return;
        }
        let head = self.nodes[n].read.front().copied();
        if head != Some(msg.op) {
            // Replies match the read queue by order; anything else belongs to
            // a connection that has since been closed.
            debug_assert!(head.is_none() || self.ops.get(msg.op, msg.op_gen).is_none());
            return;
        }
        // Only a bulk get's node part has a parent: the test stays here, the
        // part's bookkeeping out of line.
        if self.ops.at(msg.op).parent != NO_PARENT && self.part_key_answered(msg) {
            return;
        }
        self.nodes[n].read.pop_front();
        let op = *self.ops.at(msg.op);
        self.ops.free(msg.op);
        if msg.reply == Reply::ServerError {
            // The op completes with the error, then the connection is lost.
            if op.parent != NO_PARENT {
                self.child_done(ctx, op.parent, op.parent_gen, op.node, 0, BulkWorst::Failed);
            } else if op.waiting || op.waiter.is_none() {
                if op.waiting {
                    self.cancel_timer(ctx, msg.op);
                }
                deliver(
                    ctx,
                    if op.waiting { op.waiter } else { None },
                    CacheOutcome::Error,
                    CacheResult::Failed(CacheOutcome::Error),
                );
            }
            if self.nodes[n].conn == ConnState::Connected {
                self.drop_connection(ctx, n, DropCause::ServerError);
            }
            return;
        }
        if op.parent != NO_PARENT {
            // The part's last key: `END`, the op is complete.
            let missed = op.missed | self.key_missed(msg, &op);
            let worst = if missed != 0 {
                BulkWorst::SomeMiss
            } else {
                BulkWorst::AllHit
            };
            self.child_done(ctx, op.parent, op.parent_gen, op.node, missed, worst);
            return;
        }
        let (outcome, result) = match msg.reply {
            Reply::Hit(v) => (CacheOutcome::Hit, ctx.hit(op.key, v)),
            Reply::Miss => (CacheOutcome::Miss, CacheResult::Miss),
            Reply::Stored | Reply::Reset | Reply::ServerError => {
                (CacheOutcome::Stored, CacheResult::Stored)
            }
        };
        if op.waiting {
            // Completed in time: opSucceeded resets the counter (§2.3 step 7).
            self.nodes[n].timeouts = 0;
            self.cancel_timer(ctx, msg.op);
            deliver(ctx, op.waiter, outcome, result);
        } else if op.waiter.is_none() {
            ctx.rec.cache(outcome);
        }
    }

    /// An answer to one key of a bulk get's node part that is not its last:
    /// noted in the part (a miss is a key the node skipped before `END`).
    /// Returns false for the last key (and for any other op).
    #[inline(never)]
    fn part_key_answered(&mut self, msg: ClientMsg) -> bool {
        let op = self.ops.at(msg.op);
        if op.parent == NO_PARENT || op.remaining <= 1 || msg.reply == Reply::ServerError {
            return false;
        }
        let missed = self.key_missed(msg, op);
        let op = self.ops.at_mut(msg.op);
        op.missed |= missed;
        op.remaining -= 1;
        true
    }

    /// The caller's key bit of the part key `msg` answers, if it missed.
    fn key_missed(&self, msg: ClientMsg, op: &Op) -> u64 {
        let keys = &self.parts[msg.op as usize];
        let (_, j) = keys[keys.len() - op.remaining as usize];
        match msg.reply {
            Reply::Miss => key_bit(j),
            Reply::Hit(_) | Reply::Stored | Reply::Reset | Reply::ServerError => 0,
        }
    }

    /// A bulk get's node part finished with `worst`; `missed` has the bits
    /// of its keys that missed.
    fn child_done(
        &mut self,
        ctx: &mut Ctx,
        p: u32,
        pgen: u32,
        node: NodeId,
        missed: u64,
        worst: BulkWorst,
    ) {
        let Some(parent) = self.ops.get_mut(p, pgen) else {
            return;
        };
        parent.missed |= missed;
        parent.worst = parent.worst.max(worst);
        parent.remaining -= 1;
        if let Some(e) = self.bulks[p as usize].iter_mut().find(|(n, _)| *n == node) {
            e.1 -= 1;
        }
        if parent.remaining > 0 {
            return;
        }
        let parent = *parent;
        self.ops.free(p);
        if !parent.waiting {
            return;
        }
        let (outcome, result) = bulk_outcome(parent.worst, parent.missed, CacheOutcome::Cancelled);
        deliver(ctx, parent.waiter, outcome, result);
    }

    // ------------------------------------------------------------ timeouts

    /// The caller's `Future.get` timed out (§2.3 step 7): counter + 1 if the
    /// node is active, else 0. The op stays where it is.
    pub fn timeout(&mut self, ctx: &mut Ctx, i: u32, generation: u32) -> bool {
        let now = ctx.now();
        let Some(op) = self.ops.get_mut(i, generation) else {
            return false;
        };
        if !op.waiting || now < op.timeout_at {
            return false;
        }
        op.waiting = false;
        let op = *op;
        if op.remaining > 0 {
            // A bulk get: per node sub-op, +1 if unfinished, reset if done.
            for k in 0..self.bulks[i as usize].len() {
                let (node, left) = self.bulks[i as usize][k];
                self.count_timeout(ctx, node.index(), left > 0);
            }
            deliver(
                ctx,
                op.waiter,
                CacheOutcome::Timeout,
                CacheResult::Failed(CacheOutcome::Timeout),
            );
            return true;
        }
        self.count_timeout(ctx, op.node.index(), true);
        let outcome = if op.written {
            CacheOutcome::Timeout
        } else {
            CacheOutcome::UnsentTimeout
        };
        deliver(ctx, op.waiter, outcome, CacheResult::Failed(outcome));
        true
    }

    fn count_timeout(&mut self, ctx: &mut Ctx, n: usize, unfinished: bool) {
        let st = &mut self.nodes[n];
        if !unfinished {
            st.timeouts = 0;
        } else if st.active() {
            st.timeouts += 1;
            if st.timeouts > self.cfg.timeout_threshold {
                self.check_pending = true;
                if !self.wakeup_scheduled {
                    self.wakeup_scheduled = true;
                    ctx.sched.after(
                        self.cfg.wakeup_delay,
                        Event::Client {
                            client: self.id,
                            timer: ClientTimer::Wakeup,
                        },
                    );
                }
            }
        } else {
            st.timeouts = 0;
        }
    }

    /// `checkPotentiallyTimedOutConnection` (§3.1).
    fn check(&mut self, ctx: &mut Ctx) {
        self.check_pending = false;
        for n in 0..self.nodes.len() {
            if self.nodes[n].timeouts > self.cfg.timeout_threshold
                && self.nodes[n].conn == ConnState::Connected
            {
                self.drop_connection(ctx, n, DropCause::Trip);
            }
        }
    }

    // ------------------------------------------------------------ drops

    /// `queueReconnect` (§3.2): the node goes inactive, the socket closes, a
    /// reconnect is scheduled after min(cap, 2^n s); the read queue is
    /// cancelled (a WARN line logged for each op, stalling the I/O thread),
    /// except a partly written op, which is rewound; the input queue is kept,
    /// re-added or cancelled by failure mode; the write queue is kept.
    fn drop_connection(&mut self, ctx: &mut Ctx, n: usize, why: DropCause) {
        let now = ctx.now();
        let st = &mut self.nodes[n];
        let was_connected = st.conn == ConnState::Connected;
        st.attempt += 1;
        st.timeouts = 0;
        st.conn = ConnState::Waiting;
        ctx.net.close(st.conn_id);
        let shift = st.attempt.min(40);
        // 2^40 s does not fit in u64 nanoseconds: saturate, do not shift
        // bits away.
        let delay = SEC
            .saturating_mul(1 << shift)
            .min(self.cfg.max_reconnect_delay);
        ctx.sched.after(
            delay,
            Event::Client {
                client: self.id,
                timer: ClientTimer::Reconnect(NodeId::new(n)),
            },
        );
        if let Some((i, _)) = st.partial.take() {
            // The partly written op stays at the head of the write queue.
            if st.read.back() == Some(&i) {
                st.read.pop_back();
            }
        }
        if let Some((i, generation)) = st.noop.take()
            && self.ops.get(i, generation).is_some()
        {
            self.ops.free(i);
        }
        let read: Vec<u32> = self.nodes[n].read.drain(..).collect();
        // One draw per drop: what the lines of one drop cost varies between
        // drops (the machine, the JIT), not between lines.
        let line = sample(&self.cfg.discard_log_line, &mut self.discard_rng);
        let stall_start = self.io_busy_until.max(now);
        for (k, &i) in read.iter().enumerate() {
            let op = *self.ops.at(i);
            let at = stall_start + (k as u64 + 1) * line;
            if op.parent != NO_PARENT {
                self.ops.free(i);
                self.child_done(ctx, op.parent, op.parent_gen, op.node, 0, BulkWorst::Failed);
            } else if op.waiting {
                self.ops.at_mut(i).cancelled = true;
                ctx.sched.at(
                    at,
                    Event::Client {
                        client: self.id,
                        timer: ClientTimer::Cancel(i),
                    },
                );
            } else {
                if op.waiter.is_none() {
                    ctx.rec.cache(CacheOutcome::Cancelled);
                }
                self.ops.free(i);
            }
        }
        if self.cfg.failure_mode == FailureMode::Cancel {
            let input: Vec<u32> = self.nodes[n].input.drain(..).collect();
            for i in input {
                self.cancel_now(ctx, i);
            }
        }
        let discarded = read.len() as u64;
        self.stall(ctx, discarded * line);
        if was_connected {
            self.lost += 1;
        }
        match why {
            DropCause::Trip => {
                ctx.rec.trip(now);
                self.event(
                    now,
                    n,
                    NodeEventKind::Trip,
                    format!("{} consecutive timeouts", self.cfg.timeout_threshold + 1),
                );
            }
            DropCause::Reset | DropCause::ServerError => {}
            DropCause::ConnectFailed(what) => self.event(now, n, what, String::new()),
        }
        if was_connected {
            let at = self.io_busy_until.max(now);
            self.event(
                at,
                n,
                NodeEventKind::Lost,
                format!(
                    "{discarded} ops cancelled; reconnect in {}",
                    crate::engine::format_nanos(delay)
                ),
            );
        }
    }

    /// Cancels an op at once (Cancel mode).
    fn cancel_now(&mut self, ctx: &mut Ctx, i: u32) {
        let op = *self.ops.at(i);
        if op.parent != NO_PARENT {
            self.ops.free(i);
            self.child_done(ctx, op.parent, op.parent_gen, op.node, 0, BulkWorst::Failed);
            return;
        }
        if op.waiting || op.waiter.is_none() {
            deliver(
                ctx,
                if op.waiting { op.waiter } else { None },
                CacheOutcome::Cancelled,
                CacheResult::Failed(CacheOutcome::Cancelled),
            );
        }
        self.ops.free(i);
    }

    /// A cancellation reaches a caller still waiting on an op discarded at a
    /// drop. It completes in time, so it resets its node's counter.
    fn cancelled(&mut self, ctx: &mut Ctx, i: u32) -> bool {
        let op = *self.ops.at(i);
        if !op.live || !op.cancelled {
            return false;
        }
        if op.waiting {
            self.nodes[op.node.index()].timeouts = 0;
            deliver(
                ctx,
                op.waiter,
                CacheOutcome::Cancelled,
                CacheResult::Failed(CacheOutcome::Cancelled),
            );
        }
        self.ops.free(i);
        true
    }

    // ------------------------------------------------------------ connects

    /// `attemptReconnects` for node `n` (§3.4).
    fn begin_connect(&mut self, ctx: &mut Ctx, n: usize) {
        let conn = self.nodes[n].conn_id;
        let generation = ctx.net.begin_connect(conn);
        self.nodes[n].conn = ConnState::Connecting(generation);
        if let Some(d) = ctx.net.control_delay(NodeId::new(n)) {
            ctx.sched
                .after(d, Event::ConnectArrive { conn, generation });
        }
        // No connect timer in spymemcached: the OS gives up (§2.1).
        let timeout = ctx.net.connect_timeout;
        ctx.sched.after(
            timeout,
            Event::Client {
                client: self.id,
                timer: ClientTimer::ConnectResult {
                    node: NodeId::new(n),
                    outcome: ConnectOutcome::TimedOut,
                    generation,
                },
            },
        );
    }

    fn connect_result(
        &mut self,
        ctx: &mut Ctx,
        n: usize,
        outcome: ConnectOutcome,
        generation: u32,
    ) -> bool {
        if self.nodes[n].conn != ConnState::Connecting(generation) {
            return false;
        }
        if !self.io_free(ctx.now()) {
            self.deferred
                .push_back(Deferred::Connect(NodeId::new(n), outcome, generation));
            self.ensure_io_free_timer(ctx);
            return true;
        }
        match outcome {
            ConnectOutcome::Accepted => {
                let conn = self.nodes[n].conn_id;
                ctx.net.conn_mut(conn).open = true;
                if self.cfg.verify_alive_on_connect {
                    self.verify(ctx, n, generation);
                } else {
                    self.connected(ctx, n);
                }
            }
            ConnectOutcome::Refused => {
                self.drop_connection(ctx, n, DropCause::ConnectFailed(NodeEventKind::Refused))
            }
            ConnectOutcome::TimedOut => self.drop_connection(
                ctx,
                n,
                DropCause::ConnectFailed(NodeEventKind::ConnectTimeout),
            ),
        }
        true
    }

    /// `connected()`: active again, counter and back-off reset; the write
    /// queue is flushed (§3.3, §3.4).
    fn connected(&mut self, ctx: &mut Ctx, n: usize) {
        let now = ctx.now();
        let st = &mut self.nodes[n];
        st.attempt = 0;
        st.timeouts = 0;
        st.conn = ConnState::Connected;
        self.reconnects += 1;
        self.event(now, n, NodeEventKind::Connected, String::new());
        self.move_input(ctx, n);
        self.write(ctx, n);
    }

    /// `verifyAliveOnConnect`: a noop, and the I/O thread busy-waits on this
    /// node for up to the op timeout (§3.5).
    fn verify(&mut self, ctx: &mut Ctx, n: usize, generation: u32) {
        let now = ctx.now();
        self.nodes[n].conn = ConnState::Verifying(generation);
        let (i, opgen) = self.ops.alloc(Op {
            kind: OpKind::Noop,
            node: NodeId::new(n),
            bytes: wire_bytes(OpKind::Noop, 0, 0),
            created: now,
            ..Op::default()
        });
        self.nodes[n].noop = Some((i, opgen));
        let conn = self.nodes[n].conn_id;
        ctx.net.send_to_node(
            ctx.sched,
            conn,
            NodeMsg {
                op: i,
                op_gen: opgen,
                kind: OpKind::Noop,
                key: 0,
                version: 0,
                bytes: wire_bytes(OpKind::Noop, 0, 0),
                deadline: Nanos::MAX,
            },
        );
        self.io_busy_until = self.io_busy_until.max(now) + self.op_timeout;
        self.ensure_io_free_timer(ctx);
        ctx.sched.after(
            self.op_timeout,
            Event::Client {
                client: self.id,
                timer: ClientTimer::VerifyDeadline {
                    node: NodeId::new(n),
                    generation,
                },
            },
        );
    }

    fn verified(&mut self, ctx: &mut Ctx, n: usize) {
        if let Some((i, _)) = self.nodes[n].noop.take() {
            self.ops.free(i);
        }
        self.io_busy_until = ctx.now();
        self.connected(ctx, n);
        self.io_loop(ctx);
    }

    fn verify_deadline(&mut self, ctx: &mut Ctx, n: usize, generation: u32) -> bool {
        if self.nodes[n].conn != ConnState::Verifying(generation) {
            return false;
        }
        // `connected()` was never called, so the back-off grows.
        self.io_busy_until = ctx.now();
        self.drop_connection(
            ctx,
            n,
            DropCause::ConnectFailed(NodeEventKind::VerifyFailed),
        );
        self.io_loop(ctx);
        true
    }

    // ------------------------------------------------------------ the loop

    /// One pass of the I/O loop after a stall or a select wake-up: deferred
    /// replies and connect results, due reconnects, input queues, writes,
    /// and the timeout check.
    fn io_loop(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        while self.io_free(now) {
            let Some(d) = self.deferred.pop_front() else {
                break;
            };
            match d {
                Deferred::Reply(n, msg) => self.handle_reply(ctx, n.index(), msg),
                Deferred::Connect(n, outcome, generation) => {
                    self.connect_result(ctx, n.index(), outcome, generation);
                }
            }
        }
        if !self.io_free(now) {
            self.ensure_io_free_timer(ctx);
            return;
        }
        for n in 0..self.nodes.len() {
            if std::mem::take(&mut self.nodes[n].reconnect_due) {
                self.begin_connect(ctx, n);
            }
            self.move_input(ctx, n);
            self.write(ctx, n);
        }
        if self.check_pending {
            self.check(ctx);
        }
    }

    /// A client timer or notification.
    pub fn timer(&mut self, ctx: &mut Ctx, t: ClientTimer) -> bool {
        let now = ctx.now();
        match t {
            ClientTimer::IoFree => {
                self.io_free_scheduled = false;
                if !self.io_free(now) {
                    self.ensure_io_free_timer(ctx);
                    return true;
                }
                self.io_loop(ctx);
                true
            }
            ClientTimer::Wakeup => {
                self.wakeup_scheduled = false;
                if self.io_free(now) {
                    self.io_loop(ctx);
                } else {
                    self.ensure_io_free_timer(ctx);
                }
                true
            }
            ClientTimer::Reconnect(n) => {
                let n = n.index();
                if self.nodes[n].conn != ConnState::Waiting {
                    return false;
                }
                if self.io_free(now) {
                    self.begin_connect(ctx, n);
                } else {
                    self.nodes[n].reconnect_due = true;
                    self.ensure_io_free_timer(ctx);
                }
                true
            }
            ClientTimer::ConnectResult {
                node,
                outcome,
                generation,
            } => self.connect_result(ctx, node.index(), outcome, generation),
            ClientTimer::Reset(n) => {
                let n = n.index();
                if self.nodes[n].conn != ConnState::Connected {
                    return false;
                }
                if self.io_free(now) {
                    self.drop_connection(ctx, n, DropCause::Reset);
                } else {
                    self.deferred.push_back(Deferred::Reply(
                        NodeId::new(n),
                        ClientMsg {
                            op: u32::MAX,
                            op_gen: 0,
                            reply: Reply::Reset,
                        },
                    ));
                    self.ensure_io_free_timer(ctx);
                }
                true
            }
            ClientTimer::Cancel(i) => self.cancelled(ctx, i),
            ClientTimer::VerifyDeadline { node, generation } => {
                self.verify_deadline(ctx, node.index(), generation)
            }
        }
    }
}

/// Bytes of `get k1 k2 … kn\r\n` besides the keys and their spaces.
const MULTI_GET_FIXED: u32 = 5;

/// Bytes of a multi-key get with keys of these lengths: `get`, a space and
/// the key for each, `\r\n` (`BaseGetOpImpl.initialize`); one key gives the
/// single get's [`wire_bytes`].
fn multi_get_bytes(key_lens: impl Iterator<Item = usize>) -> u32 {
    MULTI_GET_FIXED + key_lens.map(|l| 1 + l as u32).sum::<u32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_get_of_one_key_is_a_get() {
        for len in [1usize, 9, 250] {
            assert_eq!(
                multi_get_bytes([len].into_iter()),
                wire_bytes(OpKind::Get, len, 0)
            );
        }
        // `get a bb ccc\r\n`
        assert_eq!(multi_get_bytes([1, 2, 3].into_iter()), 14);
    }
}
