//! The `plain` client: a per-request timeout and nothing else. Each op goes to
//! its key's primary node; the caller gives up after the op timeout, and the
//! node still serves the op later unless deadlines are propagated
//! (`client.plain.drop_expired`, the SimPy peer's `--drop-expired`). No
//! connection state, no failure detection: for textbook checks and the peer.

use super::ops::{NO_PARENT, Op, OpSlab};
use super::setup::Setup;
use crate::config::PlainConfig;
use crate::engine::{Lane, Nanos, Timer};
use crate::metrics::CacheOutcome;
use crate::sim::client::ctx::{Ctx, deliver};
use crate::sim::event::{ClientTimer, Event};
use crate::sim::ids::{ClientId, NodeId, OpRef};
use crate::sim::protocol::{BulkWorst, CacheResult, Call, Waiter, bulk_outcome, key_bit};
use crate::sim::protocol::{ClientMsg, OpKind, Reply};

/// Bytes of a request on the wire, memcached text protocol.
pub fn wire_bytes(kind: OpKind, key_len: usize, size: u32) -> u32 {
    let k = key_len as u32;
    match kind {
        // "get <key>\r\n"
        OpKind::Get => 6 + k,
        // "set <key> <flags> <exptime> <bytes>\r\n<data>\r\n"
        OpKind::Set => 4 + k + 1 + 1 + 1 + 1 + 1 + digits(size) + 2 + size + 2,
        // "touch <key> <exptime>\r\n"
        OpKind::Touch => 6 + k + 1 + 1 + 2,
        // "delete <key>\r\n"
        OpKind::Delete => 9 + k,
        // "version\r\n"
        OpKind::Noop => 9,
    }
}

/// One key's get in the bulk get `(parent, parent_gen)`, to `node`.
/// `index` is the key's place in the caller's list.
pub fn bulk_member(
    ctx: &Ctx,
    key: u32,
    index: u32,
    node: NodeId,
    parent: u32,
    parent_gen: u32,
) -> Op {
    Op {
        index,
        kind: OpKind::Get,
        key,
        node,
        bytes: wire_bytes(OpKind::Get, ctx.keys.spelled_len(key), 0),
        created: ctx.now(),
        parent,
        parent_gen,
        ..Op::default()
    }
}

fn digits(n: u32) -> u32 {
    n.checked_ilog10().unwrap_or(0) + 1
}

/// A plain client.
#[derive(Clone)]
pub struct Plain {
    id: ClientId,
    /// Its ops.
    pub ops: OpSlab,
    lane: Lane,
    drop_expired: bool,
    op_timeout: Nanos,
    outstanding: Vec<u64>,
    /// The caller's timeout of each awaited op, by op slot: cancelled in the
    /// queue when the op is answered, so it is never popped.
    timers: Vec<Timer>,
}

impl Plain {
    /// A plain client connected to every node, with the model's op timeout.
    pub fn new(cfg: &PlainConfig, s: &mut Setup) -> Self {
        // It keeps no state per connection: it finds a node's by (client,
        // node) when it sends.
        s.connect_all(|_conn| ());
        let op_timeout = s.model.client.op_timeout;
        Plain {
            id: s.id,
            ops: OpSlab::default(),
            lane: s.sched.lane(op_timeout),
            drop_expired: cfg.drop_expired,
            op_timeout,
            outstanding: vec![0; s.nodes.len()],
            timers: Vec::new(),
        }
    }

    /// Arms the caller's timeout of op `(i, generation)`, keeping its handle.
    #[inline(always)]
    fn arm(&mut self, ctx: &mut Ctx, i: u32, generation: u32) {
        let op = OpRef {
            slot: i,
            generation,
        };
        let timer = ctx.sched.after_lane_timer(
            self.lane,
            Event::OpTimeout {
                client: self.id,
                op,
            },
        );
        let i = i as usize;
        if i >= self.timers.len() {
            self.timers.resize(i + 1, Timer::default());
        }
        self.timers[i] = timer;
    }

    #[inline(always)]
    fn send(&mut self, ctx: &mut Ctx, op: Op) -> (u32, u32) {
        let node = op.node;
        let (i, generation) = self.ops.alloc(op);
        let conn = ctx.net.conn_id(self.id, node);
        let deadline = if self.drop_expired {
            op.created + self.op_timeout
        } else {
            Nanos::MAX
        };
        let request = self.ops.at(i).request(i, deadline);
        ctx.net.send_to_node(ctx.sched, conn, request);
        self.outstanding[node.index()] += 1;
        (i, generation)
    }

    /// A cache call.
    #[inline]
    pub fn call(&mut self, ctx: &mut Ctx, call: Call) {
        let local = ctx.placement[call.pool as usize].primary(call.key, ctx.keys);
        let node = ctx.global(call.pool, local);
        let bytes = wire_bytes(call.kind, ctx.keys.spelled_len(call.key), call.size);
        let (i, generation) = self.send(
            ctx,
            Op {
                kind: call.kind,
                key: call.key,
                node,
                bytes,
                version: call.version,
                created: ctx.now(),
                waiter: call.waiter,
                waiting: call.waiter.is_some(),
                ..Op::default()
            },
        );
        if call.waiter.is_some() {
            self.arm(ctx, i, generation);
        }
    }

    /// A bulk get: one get per key, one timeout for all.
    pub fn multi_get(&mut self, ctx: &mut Ctx, pool: u16, keys: &[u32], waiter: Waiter) {
        let now = ctx.now();
        let (p, pgen) = self.ops.alloc(Op {
            kind: OpKind::Get,
            created: now,
            waiter: Some(waiter),
            waiting: true,
            remaining: keys.len() as u32,
            ..Op::default()
        });
        self.arm(ctx, p, pgen);
        for (j, &key) in keys.iter().enumerate() {
            let local = ctx.placement[pool as usize].primary(key, ctx.keys);
            let node = ctx.global(pool, local);
            let op = bulk_member(ctx, key, j as u32, node, p, pgen);
            self.send(ctx, op);
        }
    }

    /// The caller's timeout fired. Returns false for a stale timer.
    pub fn timeout(&mut self, ctx: &mut Ctx, i: u32, generation: u32) -> bool {
        let Some(op) = self.ops.get(i, generation) else {
            return false;
        };
        if !op.waiting {
            return false;
        }
        let op = *op;
        deliver(
            ctx,
            op.waiter,
            CacheOutcome::Timeout,
            CacheResult::Failed(CacheOutcome::Timeout),
        );
        self.release(i, &op);
        true
    }

    fn release(&mut self, i: u32, op: &Op) {
        if op.parent == NO_PARENT && op.remaining == 0 {
            self.outstanding[op.node.index()] -= 1;
        }
        self.ops.free(i);
    }

    /// A reply arrived.
    #[inline]
    pub fn reply(&mut self, ctx: &mut Ctx, _node: NodeId, msg: ClientMsg) {
        let Some(op) = self.ops.get(msg.op, msg.op_gen) else {
            return;
        };
        let op = *op;
        if op.parent != NO_PARENT {
            self.outstanding[op.node.index()] -= 1;
            self.ops.free(msg.op);
            self.child_done(ctx, op.parent, op.parent_gen, op.index, msg.reply);
            return;
        }
        let (outcome, result) = match msg.reply {
            Reply::Hit(v) => (CacheOutcome::Hit, ctx.hit(op.key, v)),
            Reply::Miss => (CacheOutcome::Miss, CacheResult::Miss),
            Reply::Stored => (CacheOutcome::Stored, CacheResult::Stored),
            Reply::Reset | Reply::ServerError => (
                CacheOutcome::Error,
                CacheResult::Failed(CacheOutcome::Error),
            ),
        };
        deliver(ctx, op.waiter, outcome, result);
        if op.waiting {
            // Answered: its timeout would find the slot freed (stale).
            ctx.sched.cancel(self.timers[msg.op as usize]);
        }
        self.release(msg.op, &op);
    }

    fn child_done(&mut self, ctx: &mut Ctx, p: u32, pgen: u32, index: u32, reply: Reply) {
        let Some(parent) = self.ops.get_mut(p, pgen) else {
            return;
        };
        if reply == Reply::Miss {
            parent.missed |= key_bit(index);
        }
        parent.worst = parent.worst.max(match reply {
            Reply::Hit(_) | Reply::Stored => BulkWorst::AllHit,
            Reply::Miss => BulkWorst::SomeMiss,
            Reply::Reset | Reply::ServerError => BulkWorst::Failed,
        });
        parent.remaining -= 1;
        if parent.remaining > 0 {
            return;
        }
        let parent = *parent;
        let (outcome, result) = bulk_outcome(parent.worst, parent.missed, CacheOutcome::Error);
        deliver(ctx, parent.waiter, outcome, result);
        ctx.sched.cancel(self.timers[p as usize]);
        self.ops.free(p);
    }

    /// Plain clients have no timers.
    pub fn timer(&mut self, _ctx: &mut Ctx, _t: ClientTimer) -> bool {
        false
    }

    /// A plain client never marks a node inactive.
    pub fn is_active(&self, _node: NodeId) -> bool {
        true
    }

    /// Ops sent to `node` and not yet answered or given up.
    pub fn backlog(&self, node: NodeId) -> u64 {
        self.outstanding[node.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_sizes_follow_the_text_protocol() {
        // "get key:1234\r\n"
        assert_eq!(wire_bytes(OpKind::Get, 8, 0), 14);
        // "set key:1234 0 0 100\r\n" + 100 + "\r\n" = 22 + 102
        assert_eq!(wire_bytes(OpKind::Set, 8, 100), 124);
        assert_eq!(
            wire_bytes(OpKind::Delete, 8, 0),
            "delete key:1234\r\n".len() as u32
        );
        assert_eq!(
            wire_bytes(OpKind::Touch, 8, 0),
            "touch key:1234 0\r\n".len() as u32
        );
    }
}
