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

use super::client::{CacheResult, Call};
use super::request::{ReqRef, ReqState};
use super::world::{Event, World};
use crate::config::BulkheadConfig as BulkheadSpec;
use crate::engine::{Lane, Scheduler};
use crate::metrics::CacheOutcome;

/// Marks a completion's waiter as a bulkhead task rather than a request.
pub const TASK_BIT: u32 = 1 << 31;

/// A cache call on a bulkhead.
#[derive(Clone, Copy, Debug)]
struct Task {
    generation: u32,
    live: bool,
    instance: u16,
    req: ReqRef,
    call: Call,
}

/// Bulkhead tasks of all instances (a slab with generations).
#[derive(Default)]
pub struct Tasks {
    tasks: Vec<Task>,
    free: Vec<u32>,
}

impl Tasks {
    fn alloc(&mut self, instance: u16, req: ReqRef, call: Call) -> (u32, u32) {
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

    fn release(&mut self, i: u32) {
        let t = &mut self.tasks[i as usize];
        t.live = false;
        t.generation = t.generation.wrapping_add(1);
        self.free.push(i);
    }
}

/// One instance's bulkhead: its threads and queue.
pub struct Bulkhead {
    threads: u32,
    busy: u32,
    capacity: u32,
    queue: VecDeque<u32>,
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

impl World {
    /// A request's awaited cache call goes through its instance's bulkhead.
    pub(crate) fn bulkhead_call(&mut self, r: ReqRef, call: Call) {
        let req = self.reqs.get(r).expect("live");
        let (instance, lane) = (req.instance as usize, req.lane);
        let bh = self.instances[instance].bulkhead.as_mut().expect("enabled");
        let runs = bh.busy < bh.threads;
        if !runs && bh.queue.len() as u32 >= bh.capacity {
            // BulkheadFullException on the caller's thread.
            self.rec.cache_submitted();
            self.rec.cache(CacheOutcome::QueueFull);
            let req = self.reqs.get_mut(r).expect("live");
            req.state = ReqState::Cache;
            self.cache_result(r, CacheResult::Failed(CacheOutcome::QueueFull));
            return;
        }
        if runs {
            bh.busy += 1;
        }
        let deadline_lane = bh.deadline_lane;
        let (task, generation) = self.tasks.alloc(instance as u16, r, call);
        if !runs {
            self.instances[instance]
                .bulkhead
                .as_mut()
                .expect("enabled")
                .queue
                .push_back(task);
        }
        let now = self.sched.now();
        let deadline = self.sched.lane_delay(deadline_lane);
        let req = self.reqs.get_mut(r).expect("live");
        req.state = ReqState::Bulkhead;
        req.deadline = now + deadline;
        req.task = (task, generation);
        req.holds_thread = false;
        self.sched
            .after_lane(deadline_lane, Event::BulkheadDeadline(r));
        self.release_thread(instance as u16, lane);
        if runs {
            self.bulkhead_run(task, generation);
        }
    }

    fn bulkhead_run(&mut self, task: u32, generation: u32) {
        let t = self.tasks.tasks[task as usize];
        let mut call = t.call;
        call.waiter = Some(ReqRef {
            idx: task | TASK_BIT,
            generation,
        });
        self.client_call(t.instance as usize, call);
    }

    /// For each bulkhead: (threads busy, threads, tasks queued, capacity),
    /// for the invariant checks.
    pub(crate) fn bulkhead_load(&self) -> Vec<(u32, u32, usize, u32)> {
        self.instances
            .iter()
            .filter_map(|i| i.bulkhead.as_ref())
            .map(|b| (b.busy, b.threads, b.queue.len(), b.capacity))
            .collect()
    }

    /// A bulkhead task's cache call returned: its thread takes the next task,
    /// and the request gets the result if it still waits for this task.
    pub(crate) fn bulkhead_done(&mut self, waiter: ReqRef, result: CacheResult) {
        let task = waiter.idx & !TASK_BIT;
        let t = self.tasks.tasks[task as usize];
        if !t.live || t.generation != waiter.generation {
            return;
        }
        self.tasks.release(task);
        let bh = self.instances[t.instance as usize]
            .bulkhead
            .as_mut()
            .expect("enabled");
        match bh.queue.pop_front() {
            Some(n) => {
                let generation = self.tasks.tasks[n as usize].generation;
                self.bulkhead_run(n, generation);
            }
            None => bh.busy -= 1,
        }
        if let Some(req) = self.reqs.get(t.req)
            && req.state == ReqState::Bulkhead
            && req.task == (task, waiter.generation)
        {
            self.apply_cache_result(t.req, result, ReqState::Bulkhead);
            self.resume(t.req);
        }
    }

    /// The caller's deadline on a bulkhead call passed.
    pub(crate) fn bulkhead_deadline(&mut self, r: ReqRef) -> bool {
        let now = self.sched.now();
        let Some(req) = self.reqs.get(r) else {
            return false;
        };
        if req.state != ReqState::Bulkhead || now < req.deadline {
            return false;
        }
        // The caller sees a timeout; the op itself is counted when it ends.
        self.apply_cache_result(
            r,
            CacheResult::Failed(CacheOutcome::Timeout),
            ReqState::Bulkhead,
        );
        self.resume(r);
        true
    }
}
