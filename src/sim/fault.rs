//! The fault schedule: each fault's phases as events, and what each kind
//! does to its node or to the node's links.
//!
//! `none` marks a window; `crash` kills the process (connections reset,
//! connects refused, restarted empty); `frozen` stops it (ends by `resume` or
//! `reboot`: host down for the last `reboot_down`, then resets and an empty
//! cache); `slow` multiplies service time or runs a stop/run duty cycle;
//! `lossy` loses packets; `flapping` alternates frozen and healthy;
//! `partition` silences the node's links.

use super::event::FaultAction;
use super::ids::NodeId;
use super::network::Network;
use super::node::{Node, NodeMode};
use crate::config::{FaultKindConfig, FaultTarget, Model};

/// Per-node fault bookkeeping.
pub struct FaultState {
    /// Global node of each fault (none for database and policy faults).
    node_of: Vec<Option<NodeId>>,
    /// The fault active on each node, if any.
    active: Vec<Option<usize>>,
    /// Timeline state of each fault while active and the node is up.
    states: Vec<NodeState>,
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
}

impl NodeState {
    /// The number the timeline writes (`node_state` columns): 0 up, 1 frozen,
    /// 2 down, 3 host down, 4 slow, 5 partitioned, 6 lossy.
    pub fn code(self) -> u8 {
        match self {
            NodeState::Up => 0,
            NodeState::Frozen => 1,
            NodeState::Down => 2,
            NodeState::HostDown => 3,
            NodeState::Slow => 4,
            NodeState::Partitioned => 5,
            NodeState::Lossy => 6,
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
        }
    }

    /// Fault `index` changes phase: records it as active on its node from
    /// its start to its end, and returns the node (global index); `None`
    /// for a fault that acts on no node.
    pub fn phase(&mut self, index: usize, action: FaultAction) -> Option<NodeId> {
        let n = self.node_of[index]?;
        match action {
            FaultAction::Start => self.active[n.index()] = Some(index),
            FaultAction::End => self.active[n.index()] = None,
            FaultAction::Toggle | FaultAction::RebootDown => {}
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
