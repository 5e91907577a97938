//! The fault schedule: each fault's phases as events, and what each kind
//! does to its node or to the node's links.
//!
//! `none` marks a window; `crash` kills the process (connections reset,
//! connects refused, restarted empty); `frozen` stops it (ends by `resume` or
//! `reboot`: host down for the last `reboot_down`, then resets and an empty
//! cache); `slow` multiplies service time or runs a stop/run duty cycle;
//! `lossy` loses packets; `flapping` alternates frozen and healthy;
//! `partition` silences the node's links; `latency` delays what the node
//! sends; `errors` makes it answer a share of ops `SERVER_ERROR`. Any of
//! them may run on a duty cycle (`[fault.cycle]`): applied at each on
//! phase, lifted at each off phase, phase lengths jittered from the stream
//! `faults`.

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;

use super::event::FaultAction;
use super::ids::NodeId;
use super::network::Network;
use super::node::{Node, NodeMode};
use crate::config::{Cycle, FaultKindConfig, FaultTarget, Model};
use crate::engine::{Nanos, stream};

/// Per-node fault bookkeeping.
#[derive(Clone)]
pub struct FaultState {
    /// Global node of each fault (none for database and policy faults).
    node_of: Vec<Option<NodeId>>,
    /// The fault active on each node, if any.
    active: Vec<Option<usize>>,
    /// Timeline state of each fault while active and the node is up.
    states: Vec<NodeState>,
    /// Per fault on a cycle: in an on phase.
    cycle_on: Vec<bool>,
    /// Jitter of cycle phases (stream `faults`: no other component's draws
    /// move when a cycle is added).
    rng: ChaCha8Rng,
}

/// A node's state as the timeline shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Up and healthy.
    Up,
    /// The process is stopped.
    Frozen,
    /// The process is dead (nothing listens).
    Down,
    /// The host is down (nothing answers).
    HostDown,
    /// Serving slowly.
    Slow,
    /// Its links are cut.
    Partitioned,
    /// Its links lose packets.
    Lossy,
    /// Its replies arrive late (a `latency` fault).
    Delayed,
    /// It answers some ops with errors (an `errors` fault).
    Erroring,
}

impl NodeState {
    /// The number the timeline writes (`node_state` columns): 0 up, 1 frozen,
    /// 2 down, 3 host down, 4 slow, 5 partitioned, 6 lossy, 7 delayed, 8
    /// erroring.
    pub fn code(self) -> u8 {
        match self {
            NodeState::Up => 0,
            NodeState::Frozen => 1,
            NodeState::Down => 2,
            NodeState::HostDown => 3,
            NodeState::Slow => 4,
            NodeState::Partitioned => 5,
            NodeState::Lossy => 6,
            NodeState::Delayed => 7,
            NodeState::Erroring => 8,
        }
    }
}

impl FaultState {
    /// Bookkeeping for the model's faults.
    pub fn new(model: &Model) -> Self {
        FaultState {
            node_of: model
                .faults
                .iter()
                .map(|f| {
                    (f.kind.kind().target() == FaultTarget::Node)
                        .then(|| NodeId::new(model.pool_offset(f.pool) + f.node))
                })
                .collect(),
            active: vec![None; model.node_count()],
            states: model
                .faults
                .iter()
                .map(|f| match f.kind {
                    FaultKindConfig::Slow(_) => NodeState::Slow,
                    FaultKindConfig::Lossy { .. } => NodeState::Lossy,
                    FaultKindConfig::Latency { .. } => NodeState::Delayed,
                    FaultKindConfig::Errors { .. } => NodeState::Erroring,
                    // Their effect shows in the node's mode or its links.
                    FaultKindConfig::None
                    | FaultKindConfig::Crash
                    | FaultKindConfig::Frozen { .. }
                    | FaultKindConfig::Flapping { .. }
                    | FaultKindConfig::Partition => NodeState::Up,
                    // They act on no node.
                    FaultKindConfig::DbOutage
                    | FaultKindConfig::DbSlow(_)
                    | FaultKindConfig::DbFailover { .. }
                    | FaultKindConfig::DbBlip
                    | FaultKindConfig::RetriesOff
                    | FaultKindConfig::ShedLoad { .. } => NodeState::Up,
                    // Their effect shows in the hit rate and the load.
                    FaultKindConfig::Flush
                    | FaultKindConfig::DeleteHot { .. }
                    | FaultKindConfig::Spike { .. } => NodeState::Up,
                })
                .collect(),
            cycle_on: vec![false; model.faults.len()],
            rng: stream(model.seed, "faults"),
        }
    }

    /// Records whether fault `index` (on a cycle) is in an on phase.
    pub fn set_cycle_on(&mut self, index: usize, on: bool) {
        self.cycle_on[index] = on;
    }

    /// True while fault `index` (on a cycle) is in an on phase.
    pub fn cycle_on(&self, index: usize) -> bool {
        self.cycle_on[index]
    }

    /// The length of the next phase of a cycle: `base` ± up to `jitter`.
    pub fn phase_length(&mut self, cycle: Cycle, on: bool) -> Nanos {
        let base = if on { cycle.on } else { cycle.off };
        if cycle.jitter == 0 {
            return base;
        }
        base - cycle.jitter + self.rng.random_range(0..=2 * cycle.jitter)
    }

    /// Fault `index` changes phase: records it as active on its node from
    /// its start to its end, and returns the node (global index); `None`
    /// for a fault that acts on no node.
    pub fn phase(&mut self, index: usize, action: FaultAction) -> Option<NodeId> {
        let n = self.node_of[index]?;
        match action {
            FaultAction::Start => self.active[n.index()] = Some(index),
            FaultAction::End => self.active[n.index()] = None,
            FaultAction::Toggle
            | FaultAction::RebootDown
            | FaultAction::CycleOn
            | FaultAction::CycleOff => {}
        }
        Some(n)
    }

    /// The state of a node for the timeline.
    pub fn state(&self, node: &Node, net: &Network) -> NodeState {
        let n = node.id;
        match node.mode {
            NodeMode::Frozen => return NodeState::Frozen,
            NodeMode::Down => return NodeState::Down,
            NodeMode::HostDown => return NodeState::HostDown,
            NodeMode::Up => {}
        }
        if net.is_partitioned(n) {
            return NodeState::Partitioned;
        }
        self.active[n.index()].map_or(NodeState::Up, |f| self.states[f])
    }
}
