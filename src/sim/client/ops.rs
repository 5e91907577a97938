//! Cache operations in a client: a slab with generation-checked references.

use crate::engine::Nanos;
use crate::sim::ids::NodeId;
use crate::sim::protocol::{BulkWorst, NodeMsg, OpKind, Waiter};

/// No parent (not part of a bulk get).
pub const NO_PARENT: u32 = u32::MAX;

/// One operation.
#[derive(Clone, Copy, Debug)]
pub struct Op {
    /// Slot generation.
    pub generation: u32,
    /// In use.
    pub live: bool,
    /// Kind.
    pub kind: OpKind,
    /// Key (for a bulk parent: unused).
    pub key: u32,
    /// Global node it was sent to.
    pub node: NodeId,
    /// Bytes on the wire.
    pub bytes: u32,
    /// Version carried by a set.
    pub version: u32,
    /// Creation time.
    pub created: Nanos,
    /// When the caller's wait ends (creation + op timeout, or later for a
    /// caller that first blocked on a full queue).
    pub timeout_at: Nanos,
    /// The waiting request (a bulk parent's, or a single awaited op's).
    pub waiter: Option<Waiter>,
    /// The caller still waits (no timeout, no completion yet).
    pub waiting: bool,
    /// Written to the socket.
    pub written: bool,
    /// Cancelled (flag only; it leaves its queue when reached).
    pub cancelled: bool,
    /// Parent bulk get, or [`NO_PARENT`].
    pub parent: u32,
    /// The parent's generation.
    pub parent_gen: u32,
    /// Bulk parent: sub-ops not yet finished.
    pub remaining: u32,
    /// Bulk parent: the worst sub-result so far.
    pub worst: BulkWorst,
    /// Bulk member: its key's place in the caller's key list.
    pub index: u32,
    /// Bulk parent: bit j set when the j-th key (of the first 64) missed.
    pub missed: u64,
}

impl Op {
    /// The request that carries this op, in slot `slot`, to its node; the
    /// node skips it after `deadline` (`Nanos::MAX`: never).
    pub fn request(&self, slot: u32, deadline: Nanos) -> NodeMsg {
        NodeMsg {
            op: slot,
            op_gen: self.generation,
            kind: self.kind,
            key: self.key,
            version: self.version,
            bytes: self.bytes,
            deadline,
        }
    }
}

impl Default for Op {
    fn default() -> Self {
        Op {
            generation: 0,
            live: false,
            kind: OpKind::Get,
            key: 0,
            node: NodeId(0),
            bytes: 0,
            version: 0,
            created: 0,
            timeout_at: 0,
            waiter: None,
            waiting: false,
            written: false,
            cancelled: false,
            parent: NO_PARENT,
            parent_gen: 0,
            remaining: 0,
            worst: BulkWorst::AllHit,
            index: 0,
            missed: 0,
        }
    }
}

/// The ops of one client.
#[derive(Clone, Default)]
pub struct OpSlab {
    slots: Vec<Op>,
    free: Vec<u32>,
    live: usize,
}

impl OpSlab {
    /// Stores a new op; returns (slot, generation).
    #[inline]
    pub fn alloc(&mut self, mut op: Op) -> (u32, u32) {
        self.live += 1;
        op.live = true;
        if let Some(i) = self.free.pop() {
            op.generation = self.slots[i as usize].generation;
            self.slots[i as usize] = op;
            return (i, op.generation);
        }
        op.generation = 0;
        self.slots.push(op);
        ((self.slots.len() - 1) as u32, 0)
    }

    /// Frees a slot; references to it become stale.
    #[inline]
    pub fn free(&mut self, i: u32) {
        let s = &mut self.slots[i as usize];
        debug_assert!(s.live);
        s.live = false;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(i);
        self.live -= 1;
    }

    /// The op, if (slot, generation) is still valid.
    #[inline]
    pub fn get(&self, i: u32, generation: u32) -> Option<&Op> {
        self.slots
            .get(i as usize)
            .filter(|o| o.live && o.generation == generation)
    }

    /// The op, mutably, if still valid.
    #[inline]
    pub fn get_mut(&mut self, i: u32, generation: u32) -> Option<&mut Op> {
        self.slots
            .get_mut(i as usize)
            .filter(|o| o.live && o.generation == generation)
    }

    /// The op in slot `i` (must be live).
    #[inline]
    pub fn at(&self, i: u32) -> &Op {
        &self.slots[i as usize]
    }

    /// The op in slot `i`, mutably.
    #[inline]
    pub fn at_mut(&mut self, i: u32) -> &mut Op {
        &mut self.slots[i as usize]
    }

    /// Live ops.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Ops whose outcome has not been counted yet: awaited ops whose caller
    /// still waits, and fire-and-forget ops (bulk sub-ops and noops are never
    /// counted on their own).
    pub fn uncounted(&self) -> u64 {
        self.slots
            .iter()
            .filter(|o| {
                o.live
                    && o.parent == NO_PARENT
                    && o.kind != OpKind::Noop
                    && (o.waiting || o.waiter.is_none())
            })
            .count() as u64
    }
}
