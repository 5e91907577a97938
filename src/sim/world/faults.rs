//! Orchestration of faults: each fault's phases as events, and what each
//! kind does to its node or to the node's links.

use super::World;
use crate::config::{FaultKindConfig, FrozenEnd, Model, SlowMode};
use crate::engine::Nanos;
use crate::sim::event::{Event, FaultAction};
use crate::sim::ids::NodeId;
use crate::sim::node::NodeMode;

/// The events that mark `model`'s faults' phases, in the order a run
/// schedules them at its start: each fault's start, reboot (a frozen node
/// rebooted at its end) and end. Duty cycles and toggles are scheduled as
/// the fault runs.
pub(crate) fn fault_events(model: &Model) -> Vec<(Nanos, Event)> {
    let mut events = Vec::with_capacity(model.faults.len() * 3);
    for (i, f) in model.faults.iter().enumerate() {
        let index = i as u16;
        let at = |t: Nanos, action: FaultAction| (t, Event::Fault { index, action });
        events.push(at(f.start, FaultAction::Start));
        if let FaultKindConfig::Frozen {
            end: FrozenEnd::Reboot,
            reboot_down,
        } = f.kind
        {
            events.push(at(f.end - reboot_down, FaultAction::RebootDown));
        }
        events.push(at(f.end, FaultAction::End));
    }
    events
}

impl World {
    /// Schedules every fault's start, end and reboot.
    pub(crate) fn schedule_faults(&mut self) {
        for (at, event) in fault_events(&self.model) {
            self.sched.at(at, event);
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

    /// A fault changes phase. A fault on a duty cycle is applied at its
    /// start and at each `CycleOn`, lifted at each `CycleOff` and at its end
    /// (when on); the kind's own phases are in [`World::apply_fault`].
    pub(crate) fn fault(&mut self, index: u16, action: FaultAction) {
        let i = index as usize;
        let Some(cycle) = self.model.faults[i].cycle else {
            self.apply_fault(index, action);
            return;
        };
        match action {
            FaultAction::Start | FaultAction::CycleOn => {
                self.fault_state.set_cycle_on(i, true);
                self.apply_fault(index, FaultAction::Start);
                let after = self.fault_state.phase_length(cycle, true);
                self.cycle_after(index, after, FaultAction::CycleOff);
            }
            FaultAction::CycleOff => {
                self.fault_state.set_cycle_on(i, false);
                self.apply_fault(index, FaultAction::End);
                let after = self.fault_state.phase_length(cycle, false);
                self.cycle_after(index, after, FaultAction::CycleOn);
            }
            FaultAction::End => {
                if self.fault_state.cycle_on(i) {
                    self.fault_state.set_cycle_on(i, false);
                    self.apply_fault(index, FaultAction::End);
                }
            }
            // Kinds with phases of their own are refused on a cycle.
            FaultAction::Toggle | FaultAction::RebootDown => self.apply_fault(index, action),
        }
    }

    fn cycle_after(&mut self, index: u16, after: Nanos, action: FaultAction) {
        let end = self.model.faults[index as usize].end;
        let at = self.sched.now() + after;
        if at < end {
            self.sched.at(at, Event::Fault { index, action });
        }
    }

    /// What a fault kind does at each of its phases. Every kind names every
    /// phase: a new fault kind or phase does not compile until it is handled
    /// here (`CycleOn`/`CycleOff` arrive here as `Start`/`End`).
    fn apply_fault(&mut self, index: u16, action: FaultAction) {
        let i = index as usize;
        let kind = self.model.faults[i].kind.clone();
        // Database and policy faults act on no node (their arms ignore `n`).
        let n = self.fault_state.phase(i, action).unwrap_or_default();
        let now = self.sched.now();
        match kind {
            FaultKindConfig::None => {}
            FaultKindConfig::Crash => match action {
                FaultAction::Start => {
                    let node = &mut self.cache.nodes[n.index()];
                    node.mode = NodeMode::Down;
                    node.drop_all();
                    node.clear();
                    self.proxy_crashed(n);
                    self.reset_connections(n);
                }
                FaultAction::End => {
                    let node = &mut self.cache.nodes[n.index()];
                    node.clear();
                    node.mode = NodeMode::Up;
                }
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
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
                        self.proxy_crashed(n);
                        self.reset_connections(n);
                    }
                },
                FaultAction::Toggle | FaultAction::CycleOn | FaultAction::CycleOff => {}
            },
            FaultKindConfig::Slow(SlowMode::Factor(f)) => match action {
                FaultAction::Start => self.cache.nodes[n.index()].slow_factor = f,
                FaultAction::End => self.cache.nodes[n.index()].slow_factor = 1.0,
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
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
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::Latency { delay, jitter } => match action {
                FaultAction::Start => {
                    let seed = self.model.seed;
                    self.cache.net.set_added_latency(n, delay, jitter, seed)
                }
                FaultAction::End => self.cache.net.set_added_latency(n, 0, 0, 0),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::Errors { fraction } => match action {
                FaultAction::Start => {
                    let seed = self.model.seed;
                    self.cache.nodes[n.index()].set_errors(fraction, seed)
                }
                FaultAction::End => self.cache.nodes[n.index()].set_errors(0.0, 0),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::Partition => match action {
                FaultAction::Start => self.cache.net.set_partitioned(n, true, &mut self.sched),
                FaultAction::End => self.cache.net.set_partitioned(n, false, &mut self.sched),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::DbOutage => match action {
                FaultAction::Start => self.db.freeze(),
                FaultAction::End => self.db.thaw(now, &mut self.sched),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::DbSlow(f) => match action {
                FaultAction::Start => self.db.set_slow(f),
                FaultAction::End => self.db.set_slow(1.0),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::DbFailover {
                cold_factor,
                cold_for,
            } => match action {
                FaultAction::Start => self.db.go_down(now, &mut self.sched),
                FaultAction::End => self.db.come_up(cold_factor, now.saturating_add(cold_for)),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::DbBlip => match action {
                FaultAction::Start => self.db.cut(),
                FaultAction::End => self.db.heal(now, &mut self.sched),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::RetriesOff => match action {
                FaultAction::Start => self.set_retries(false),
                FaultAction::End => self.set_retries(true),
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::ShedLoad { admit } => match action {
                FaultAction::Start => self.shed = Some(admit),
                FaultAction::End => self.shed = None,
                FaultAction::Toggle
                | FaultAction::RebootDown
                | FaultAction::CycleOn
                | FaultAction::CycleOff => {}
            },
            FaultKindConfig::Flush | FaultKindConfig::DeleteHot { .. } => {
                if action == FaultAction::Start {
                    self.cache_trigger(i, now);
                }
            }
            // The arrivals carry it (`workload.rates`, from `apply_spikes`).
            FaultKindConfig::Spike { .. } => {}
        }
        self.db_answers();
    }

    /// Turns retries at every layer on or off (a `retries_off` policy
    /// change): the database calls', the cache calls'.
    fn set_retries(&mut self, on: bool) {
        self.db.retries_on = on;
        if let Some(r) = self.resilience.as_mut() {
            r.retries_on = on;
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
            FaultAction::RebootDown | FaultAction::CycleOn | FaultAction::CycleOff => {}
        }
    }

    /// A cache trigger's start: `flush_all`, or the hottest keys deleted, on
    /// its node or on every node of its pool.
    fn cache_trigger(&mut self, i: usize, now: crate::engine::Nanos) {
        let f = &self.model.faults[i];
        let (pool, one_node) = (f.pool, f.one_node);
        let node = self.model.pool_offset(pool) + f.node;
        match f.kind {
            FaultKindConfig::Flush if one_node => self.cache.nodes[node].flush(),
            FaultKindConfig::Flush => self.cache.flush_pool(pool),
            FaultKindConfig::DeleteHot { keys } if one_node => {
                for k in 0..keys {
                    self.cache.nodes[node].mem.delete(k, now);
                }
            }
            FaultKindConfig::DeleteHot { keys } => self.cache.delete_hottest(pool, keys, now),
            FaultKindConfig::None
            | FaultKindConfig::Crash
            | FaultKindConfig::Frozen { .. }
            | FaultKindConfig::Slow(_)
            | FaultKindConfig::Lossy { .. }
            | FaultKindConfig::Flapping { .. }
            | FaultKindConfig::Partition
            | FaultKindConfig::Latency { .. }
            | FaultKindConfig::Errors { .. }
            | FaultKindConfig::DbOutage
            | FaultKindConfig::DbSlow(_)
            | FaultKindConfig::DbFailover { .. }
            | FaultKindConfig::DbBlip
            | FaultKindConfig::RetriesOff
            | FaultKindConfig::ShedLoad { .. }
            | FaultKindConfig::Spike { .. } => {}
        }
    }
}
