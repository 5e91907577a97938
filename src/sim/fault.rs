//! The fault schedule: each fault's phases as events, and what each kind
//! does to its node or to the node's links.
//!
//! `none` marks a window; `crash` kills the process (connections reset,
//! connects refused, restarted empty); `frozen` stops it (ends by `resume` or
//! `reboot`: host down for the last `reboot_down`, then resets and an empty
//! cache); `slow` multiplies service time or runs a stop/run duty cycle;
//! `lossy` loses packets; `flapping` alternates frozen and healthy;
//! `partition` silences the node's links.

use super::network::Network;
use super::node::{Node, NodeMode};
use super::world::{Event, World};
use crate::config::{FaultKindConfig, FrozenEnd, Model, SlowMode};
use crate::engine::Nanos;

/// A phase change of a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// The fault begins.
    Start,
    /// A duty cycle or flapping fault switches phase.
    Toggle,
    /// A frozen node's host goes down for the reboot.
    RebootDown,
    /// The fault ends.
    End,
}

/// Per-node fault bookkeeping.
pub struct FaultState {
    /// Global node of each fault.
    node_of: Vec<usize>,
    /// The fault active on each node, if any.
    active: Vec<Option<usize>>,
    /// Timeline state code of each fault while active and the node is up.
    codes: Vec<u8>,
}

impl FaultState {
    /// Bookkeeping for the model's faults.
    pub fn new(model: &Model) -> Self {
        FaultState {
            node_of: model
                .faults
                .iter()
                .map(|f| model.pool_offset(f.pool) + f.node)
                .collect(),
            active: vec![None; model.node_count()],
            codes: model
                .faults
                .iter()
                .map(|f| match f.kind {
                    FaultKindConfig::Slow(_) => 4,
                    FaultKindConfig::Lossy { .. } => 6,
                    _ => 0,
                })
                .collect(),
        }
    }

    /// The state code of a node for the timeline: 0 up, 1 frozen, 2 down,
    /// 3 host down, 4 slow, 5 partitioned, 6 lossy.
    pub fn state_code(&self, node: &Node, net: &Network) -> u8 {
        let n = node.id as usize;
        match node.mode {
            NodeMode::Frozen => return 1,
            NodeMode::Down => return 2,
            NodeMode::HostDown => return 3,
            NodeMode::Up => {}
        }
        if net.is_partitioned(n) {
            return 5;
        }
        self.active[n].map_or(0, |f| self.codes[f])
    }
}

impl World {
    /// Schedules every fault's start, end and reboot.
    pub(crate) fn schedule_faults(&mut self) {
        for (i, f) in self.model.faults.iter().enumerate() {
            let index = i as u16;
            self.sched.at(
                f.start,
                Event::Fault {
                    index,
                    action: FaultAction::Start,
                },
            );
            if let FaultKindConfig::Frozen {
                end: FrozenEnd::Reboot,
                reboot_down,
            } = f.kind
            {
                self.sched.at(
                    f.end - reboot_down,
                    Event::Fault {
                        index,
                        action: FaultAction::RebootDown,
                    },
                );
            }
            self.sched.at(
                f.end,
                Event::Fault {
                    index,
                    action: FaultAction::End,
                },
            );
        }
    }

    fn toggle_after(&mut self, index: u16, after: Nanos) {
        let end = self.model.faults[index as usize].end;
        let at = self.sched.now() + after;
        if at < end {
            self.sched.at(
                at,
                Event::Fault {
                    index,
                    action: FaultAction::Toggle,
                },
            );
        }
    }

    /// A fault changes phase.
    pub(crate) fn fault(&mut self, index: u16, action: FaultAction) {
        let i = index as usize;
        let kind = self.model.faults[i].kind.clone();
        let n = self.fault_state.node_of[i];
        match action {
            FaultAction::Start => self.fault_state.active[n] = Some(i),
            FaultAction::End => self.fault_state.active[n] = None,
            _ => {}
        }
        match (kind, action) {
            (FaultKindConfig::None, _) => {}
            (FaultKindConfig::Crash, FaultAction::Start) => {
                let node = &mut self.nodes[n];
                node.mode = NodeMode::Down;
                node.drop_all();
                node.clear();
                self.reset_connections(n);
            }
            (FaultKindConfig::Crash, FaultAction::End) => {
                let node = &mut self.nodes[n];
                node.clear();
                node.mode = NodeMode::Up;
            }
            (FaultKindConfig::Frozen { .. }, FaultAction::Start) => {
                self.nodes[n].mode = NodeMode::Frozen
            }
            (FaultKindConfig::Frozen { .. }, FaultAction::RebootDown) => {
                let node = &mut self.nodes[n];
                node.mode = NodeMode::HostDown;
                node.drop_all();
            }
            (FaultKindConfig::Frozen { end, .. }, FaultAction::End) => match end {
                FrozenEnd::Resume => self.resume_node(n),
                FrozenEnd::Reboot => {
                    let node = &mut self.nodes[n];
                    node.clear();
                    node.backlog_used = 0;
                    node.mode = NodeMode::Up;
                    self.reset_connections(n);
                }
            },
            (FaultKindConfig::Slow(SlowMode::Factor(f)), FaultAction::Start) => {
                self.nodes[n].slow_factor = f
            }
            (FaultKindConfig::Slow(SlowMode::Factor(_)), FaultAction::End) => {
                self.nodes[n].slow_factor = 1.0
            }
            (FaultKindConfig::Slow(SlowMode::DutyCycle { stop, .. }), FaultAction::Start)
            | (FaultKindConfig::Flapping { frozen: stop, .. }, FaultAction::Start) => {
                self.nodes[n].mode = NodeMode::Frozen;
                self.toggle_after(index, stop);
            }
            (FaultKindConfig::Slow(SlowMode::DutyCycle { stop, run }), FaultAction::Toggle)
            | (
                FaultKindConfig::Flapping {
                    frozen: stop,
                    healthy: run,
                },
                FaultAction::Toggle,
            ) => {
                if self.nodes[n].mode == NodeMode::Frozen {
                    self.resume_node(n);
                    self.toggle_after(index, run);
                } else {
                    self.nodes[n].mode = NodeMode::Frozen;
                    self.toggle_after(index, stop);
                }
            }
            (FaultKindConfig::Slow(SlowMode::DutyCycle { .. }), FaultAction::End)
            | (FaultKindConfig::Flapping { .. }, FaultAction::End)
                if self.nodes[n].mode == NodeMode::Frozen =>
            {
                self.resume_node(n);
            }
            (FaultKindConfig::Lossy { loss }, FaultAction::Start) => self.net.set_loss(n, loss),
            (FaultKindConfig::Lossy { .. }, FaultAction::End) => self.net.set_loss(n, 0.0),
            (FaultKindConfig::Partition, FaultAction::Start) => {
                self.net.set_partitioned(n, true, &mut self.sched)
            }
            (FaultKindConfig::Partition, FaultAction::End) => {
                self.net.set_partitioned(n, false, &mut self.sched)
            }
            _ => {}
        }
    }
}
