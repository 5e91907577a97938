//! A separate executor for cache calls (resilience4j ThreadPoolBulkhead with
//! a TimeLimiter, `shared/reference/service-stack.md` §7).
//!
//! The request submits its cache call and gives up its executor thread. The
//! call runs on one of the bulkhead's threads when one is free, or waits in
//! its bounded queue; a full queue rejects at once (`BulkheadFullException`,
//! on the caller's thread, which it still holds). The caller waits at most
//! `deadline`; a late call keeps its bulkhead thread until the client returns
//! (cancelling a `CompletableFuture` does not interrupt the worker). When the
//! result or the deadline comes, the request needs an executor thread again.

use std::collections::VecDeque;

use crate::config::BulkheadConfig as BulkheadSpec;
use crate::engine::{Lane, Scheduler};
use crate::sim::protocol::Call;
use crate::sim::request::ReqRef;

/// A cache call on a bulkhead.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Task {
    pub(crate) generation: u32,
    pub(crate) live: bool,
    pub(crate) instance: u16,
    pub(crate) req: ReqRef,
    pub(crate) call: Call,
}

/// Bulkhead tasks of all instances (a slab with generations).
#[derive(Clone, Default)]
pub struct Tasks {
    pub(crate) tasks: Vec<Task>,
    pub(crate) free: Vec<u32>,
}

impl Tasks {
    pub(crate) fn alloc(&mut self, instance: u16, req: ReqRef, call: Call) -> (u32, u32) {
        let task = Task {
            generation: 0,
            live: true,
            instance,
            req,
            call,
        };
        if let Some(i) = self.free.pop() {
            let generation = self.tasks[i as usize].generation;
            self.tasks[i as usize] = Task { generation, ..task };
            return (i, generation);
        }
        self.tasks.push(task);
        ((self.tasks.len() - 1) as u32, 0)
    }

    pub(crate) fn release(&mut self, i: u32) {
        let t = &mut self.tasks[i as usize];
        t.live = false;
        t.generation = t.generation.wrapping_add(1);
        self.free.push(i);
    }
}

/// One instance's bulkhead: its threads and queue.
#[derive(Clone)]
pub struct Bulkhead {
    pub(crate) threads: u32,
    pub(crate) busy: u32,
    pub(crate) capacity: u32,
    pub(crate) queue: VecDeque<u32>,
    /// Lane of the callers' deadlines.
    pub deadline_lane: Lane,
}

impl Bulkhead {
    /// A bulkhead as the model describes it.
    pub fn new<E>(spec: &BulkheadSpec, sched: &mut Scheduler<E>) -> Self {
        Bulkhead {
            threads: spec.threads,
            busy: 0,
            capacity: spec.queue,
            queue: VecDeque::new(),
            deadline_lane: sched.lane(spec.deadline),
        }
    }

    /// Busy bulkhead threads.
    pub fn busy(&self) -> u32 {
        self.busy
    }
}
