//! The service: its instances (each an executor and, when enabled, a
//! bulkhead), the bulkhead tasks, the queue of requests made ready, and the
//! round robin over instances. The request's path through the service is
//! orchestrated in `world/flow.rs`.

use std::collections::VecDeque;

use super::bulkhead::{Bulkhead, Tasks};
use super::executor::Executor;
use super::request::ReqRef;
use crate::config::Model;
use crate::engine::Scheduler;
use crate::sim::event::Event;

/// One service instance.
#[derive(Clone)]
pub struct Instance {
    /// Its executor.
    pub exec: Executor,
    /// Its bulkhead, when enabled.
    pub bulkhead: Option<Bulkhead>,
}

/// The service's state.
#[derive(Clone)]
pub struct Service {
    /// The instances, each with its own client (same index in the world).
    pub(crate) instances: Vec<Instance>,
    /// Bulkhead tasks of all instances.
    pub(crate) tasks: Tasks,
    /// The oldest request made ready (a thread is theirs, they run after
    /// the event); None when none is. Most events make one request ready,
    /// which then never touches `ready`.
    first: Option<ReqRef>,
    /// The requests made ready after `first`, in order.
    ready: VecDeque<ReqRef>,
    /// The next instance of the front end's round robin.
    next_instance: usize,
}

impl Service {
    /// `n_clients` instances as the model describes them.
    pub fn new(model: &Model, n_clients: usize, sched: &mut Scheduler<Event>) -> Self {
        let instances = (0..n_clients)
            .map(|_| Instance {
                exec: Executor::new(&model.service),
                bulkhead: model
                    .service
                    .bulkhead
                    .as_ref()
                    .map(|b| Bulkhead::new(b, sched)),
            })
            .collect();
        Service {
            instances,
            tasks: Tasks::default(),
            first: None,
            ready: VecDeque::new(),
            next_instance: 0,
        }
    }

    /// The instance a request without a front end goes to (round robin).
    pub fn round_robin(&mut self) -> usize {
        let server = self.next_instance;
        self.next_instance = (self.next_instance + 1) % self.instances.len();
        server
    }

    /// `r` holds a thread and runs after the current event.
    #[inline]
    pub fn make_ready(&mut self, r: ReqRef) {
        if self.first.is_none() {
            self.first = Some(r);
        } else {
            self.ready.push_back(r);
        }
    }

    /// True when a request made ready waits to run.
    #[inline]
    pub fn has_ready(&self) -> bool {
        self.first.is_some()
    }

    /// The next request made ready, if any (in the order they were made
    /// ready).
    #[inline]
    pub fn next_ready(&mut self) -> Option<ReqRef> {
        let r = self.first?;
        self.first = self.ready.pop_front();
        Some(r)
    }

    /// Busy executor threads of all instances.
    pub fn busy_threads(&self) -> u64 {
        self.instances.iter().map(|i| i.exec.busy()).sum()
    }

    /// Requests queued in the executors of all instances.
    pub fn exec_queued(&self) -> u64 {
        self.instances.iter().map(|i| i.exec.queued()).sum()
    }

    /// For each bulkhead: (threads busy, threads, tasks queued, capacity),
    /// for the invariant checks.
    pub fn bulkhead_load(&self) -> Vec<(u32, u32, usize, u32)> {
        self.instances
            .iter()
            .filter_map(|i| i.bulkhead.as_ref())
            .map(|b| (b.busy, b.threads, b.queue.len(), b.capacity))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The ready requests come out in the order they were made ready,
        /// as from one FIFO, through any mix of pushes and pops (the first
        /// one held apart from the deque).
        #[test]
        fn ready_requests_come_out_in_order(ops in prop::collection::vec(any::<bool>(), 0..200)) {
            let mut s = Service {
                instances: Vec::new(),
                tasks: Tasks::default(),
                first: None,
                ready: VecDeque::new(),
                next_instance: 0,
            };
            let mut fifo = VecDeque::new();
            for (i, push) in ops.into_iter().enumerate() {
                if push {
                    let r = ReqRef { idx: i as u32, generation: 0 };
                    s.make_ready(r);
                    fifo.push_back(r);
                } else {
                    prop_assert_eq!(s.next_ready(), fifo.pop_front());
                }
                prop_assert_eq!(s.has_ready(), !fifo.is_empty());
            }
            while let Some(r) = fifo.pop_front() {
                prop_assert_eq!(s.next_ready(), Some(r));
            }
            prop_assert_eq!(s.next_ready(), None);
            prop_assert!(!s.has_ready());
        }
    }
}
