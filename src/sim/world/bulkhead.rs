//! Orchestration of the bulkhead: a request's cache call handed to a
//! bulkhead task, run on a bulkhead thread, and its result or the caller's
//! deadline handed back to the request.

use super::World;
use crate::metrics::CacheOutcome;
use crate::sim::event::Event;
use crate::sim::protocol::{CacheResult, Call, SlotRef, Waiter};
use crate::sim::request::{ReqRef, ReqState};

impl World {
    /// A request's awaited cache call goes through its instance's bulkhead.
    pub(crate) fn bulkhead_call(&mut self, r: ReqRef, call: Call) {
        let req = self.reqs.get(r).expect("live");
        let (instance, lane) = (req.instance as usize, req.lane);
        let bh = self.service.instances[instance]
            .bulkhead
            .as_mut()
            .expect("enabled");
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
        let (task, generation) = self.service.tasks.alloc(instance as u16, r, call);
        if !runs {
            self.service.instances[instance]
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
        let t = self.service.tasks.tasks[task as usize];
        let mut call = t.call;
        call.waiter = Some(Waiter::BulkheadTask(SlotRef {
            slot: task,
            generation,
        }));
        self.client_call(t.instance as usize, call);
    }

    /// A bulkhead task's cache call returned: its thread takes the next task,
    /// and the request gets the result if it still waits for this task.
    pub(crate) fn bulkhead_done(&mut self, waiter: SlotRef, result: CacheResult) {
        let task = waiter.slot;
        let t = self.service.tasks.tasks[task as usize];
        if !t.live || t.generation != waiter.generation {
            return;
        }
        self.service.tasks.release(task);
        let bh = self.service.instances[t.instance as usize]
            .bulkhead
            .as_mut()
            .expect("enabled");
        match bh.queue.pop_front() {
            Some(n) => {
                let generation = self.service.tasks.tasks[n as usize].generation;
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
