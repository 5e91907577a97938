//! Orchestration of faults: each fault's phases as events, and what each
//! kind does to its node or to the node's links.

use super::World;
use crate::config::{FaultKindConfig, FrozenEnd, SlowMode};
use crate::engine::Nanos;
use crate::sim::event::{Event, FaultAction};
use crate::sim::ids::NodeId;
use crate::sim::node::NodeMode;

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

    /// A fault changes phase. Every kind names every phase: a new fault kind
    /// or phase does not compile until it is handled here.
    pub(crate) fn fault(&mut self, index: u16, action: FaultAction) {
        let i = index as usize;
        let kind = self.model.faults[i].kind.clone();
        let (pool, one_node) = (self.model.faults[i].pool, self.model.faults[i].one_node);
        let node = self.fault_state.phase(i, action);
        // A cache trigger on one node names it; on a pool, its first node
        // stands for it (never used).
        let n = node.unwrap_or_else(|| {
            NodeId::new(self.model.pool_offset(pool) + self.model.faults[i].node)
        });
        match kind {
            FaultKindConfig::None => {}
            FaultKindConfig::Crash => match action {
                FaultAction::Start => {
                    let node = &mut self.cache.nodes[n.index()];
                    node.mode = NodeMode::Down;
                    node.drop_all();
                    node.clear();
                    self.reset_connections(n);
                }
                FaultAction::End => {
                    let node = &mut self.cache.nodes[n.index()];
                    node.clear();
                    node.mode = NodeMode::Up;
                }
                FaultAction::Toggle | FaultAction::RebootDown => {}
            },
            FaultKindConfig::Frozen { end, .. } => match action {
                FaultAction::Start => self.cache.nodes[n.index()].mode = NodeMode::Frozen,
                FaultAction::RebootDown => {
                    let node = &mut self.cache.nodes[n.index()];
                    node.mode = NodeMode::HostDown;
                    node.drop_all();
                }
                FaultAction::End => match end {
                    FrozenEnd::Resume => self.resume_node(n),
                    FrozenEnd::Reboot => {
                        let node = &mut self.cache.nodes[n.index()];
                        node.clear();
                        node.backlog_used = 0;
                        node.mode = NodeMode::Up;
                        self.reset_connections(n);
                    }
                },
                FaultAction::Toggle => {}
            },
            FaultKindConfig::Slow(SlowMode::Factor(f)) => match action {
                FaultAction::Start => self.cache.nodes[n.index()].slow_factor = f,
                FaultAction::End => self.cache.nodes[n.index()].slow_factor = 1.0,
                FaultAction::Toggle | FaultAction::RebootDown => {}
            },
            FaultKindConfig::Slow(SlowMode::DutyCycle { stop, run }) => {
                self.stop_run(index, n, action, stop, run)
            }
            FaultKindConfig::Flapping { frozen, healthy } => {
                self.stop_run(index, n, action, frozen, healthy)
            }
            FaultKindConfig::Lossy { loss } => match action {
                FaultAction::Start => self.cache.net.set_loss(n, loss),
                FaultAction::End => self.cache.net.set_loss(n, 0.0),
                FaultAction::Toggle | FaultAction::RebootDown => {}
            },
            FaultKindConfig::Partition => match action {
                FaultAction::Start => self.cache.net.set_partitioned(n, true, &mut self.sched),
                FaultAction::End => self.cache.net.set_partitioned(n, false, &mut self.sched),
                FaultAction::Toggle | FaultAction::RebootDown => {}
            },
            FaultKindConfig::Flush => match action {
                FaultAction::Start if one_node => self.cache.nodes[n.index()].flush(),
                FaultAction::Start => self.cache.flush_pool(pool),
                FaultAction::End | FaultAction::Toggle | FaultAction::RebootDown => {}
            },
            FaultKindConfig::DeleteHot { keys } => match action {
                FaultAction::Start if one_node => {
                    let now = self.sched.now();
                    for k in 0..keys {
                        self.cache.nodes[n.index()].mem.delete(k, now);
                    }
                }
                FaultAction::Start => self.cache.delete_hottest(pool, keys, self.sched.now()),
                FaultAction::End | FaultAction::Toggle | FaultAction::RebootDown => {}
            },
            // The arrivals carry it (`workload.rates`, from `apply_spikes`).
            FaultKindConfig::Spike { .. } => {}
        }
    }

    /// A fault that alternates stopped (`stop`) and running (`run`) phases: a
    /// slow node's duty cycle, a flapping node.
    fn stop_run(&mut self, index: u16, n: NodeId, action: FaultAction, stop: Nanos, run: Nanos) {
        match action {
            FaultAction::Start => {
                self.cache.nodes[n.index()].mode = NodeMode::Frozen;
                self.toggle_after(index, stop);
            }
            FaultAction::Toggle => {
                if self.cache.nodes[n.index()].mode == NodeMode::Frozen {
                    self.resume_node(n);
                    self.toggle_after(index, run);
                } else {
                    self.cache.nodes[n.index()].mode = NodeMode::Frozen;
                    self.toggle_after(index, stop);
                }
            }
            FaultAction::End => {
                if self.cache.nodes[n.index()].mode == NodeMode::Frozen {
                    self.resume_node(n);
                }
            }
            FaultAction::RebootDown => {}
        }
    }
}
