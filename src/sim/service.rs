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
    /// Requests made ready (a thread is theirs), run after the event.
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
        self.ready.push_back(r);
    }

    /// True when a request made ready waits to run.
    #[inline]
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next request made ready, if any.
    #[inline]
    pub fn next_ready(&mut self) -> Option<ReqRef> {
        self.ready.pop_front()
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
