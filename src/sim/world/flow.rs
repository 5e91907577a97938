//! What the service does with a request: admission (front end, executor),
//! running its flow's steps on a thread, cache calls through the instance's
//! client, database calls, and ending it with exactly one outcome.

use super::{World, ctx};
use crate::config::{Condition, Fill, KeyChoice, StepOp};
use crate::engine::rng::derive;
use crate::metrics::{CacheOutcome, Outcome, RequestFlags};
use crate::sim::database::QueryOp;
use crate::sim::event::Event;
use crate::sim::executor::Admission;
use crate::sim::protocol::OpKind;
use crate::sim::protocol::{CacheResult, Call, Waiter};
use crate::sim::request::{LastGet, ReqRef, ReqState};
use crate::sim::sampler::sample;

/// What [`World::advance`] reads of a step, copied out of the model so the
/// world stays free to borrow (a `work` step's time is read where it is used).
#[derive(Clone, Copy)]
struct StepView {
    op: StepOp,
    on: Condition,
    wait: bool,
    key: KeyChoice,
    size: u32,
    pool: usize,
    each: Option<(u16, u16)>,
}

impl World {
    /// A request arrives; the next arrival is scheduled.
    pub(crate) fn arrival(&mut self) {
        let now = self.sched.now();
        if let Some(t) = self.arrivals.next(now) {
            self.sched.at(t, Event::Arrival);
        }
        let flow = self.flows.pick();
        let key_seed = self.draw_key_seed();
        let (r, req) = self.reqs.alloc_mut();
        req.flow = flow;
        req.arrival = now;
        req.key_seed = key_seed;
        self.rec.offered();
        self.arrived += 1;
        self.admit(r);
    }

    /// A request (new, or sent again by an upstream layer) reaches the
    /// service: load shedding, then the front end or an instance.
    #[inline]
    fn admit(&mut self, r: ReqRef) {
        if let Some(admit) = self.shed
            && rand::RngExt::random::<f64>(&mut self.shed_rng) >= admit
        {
            self.end(r, Outcome::Rejected);
            return;
        }
        match self.frontend.as_mut() {
            Some(fe) => match fe.pick() {
                Some(server) => self.dispatch(r, server),
                None => {
                    fe.enqueue(r);
                    self.reqs.get_mut(r).expect("live").state = ReqState::FrontendQueue;
                    if let Some(lane) = self.fe_queue_lane {
                        self.sched.after_lane(lane, Event::FrontendQueueTimeout(r));
                    }
                }
            },
            None => {
                let server = self.service.round_robin();
                self.dispatch(r, server);
            }
        }
    }

    /// Hands a request to service instance `server` (holding a front-end
    /// slot when there is a front end).
    #[inline]
    fn dispatch(&mut self, r: ReqRef, server: usize) {
        let has_fe = self.frontend.is_some();
        let lane = self.service.instances[server].exec.pick_lane();
        // One look-up: the request is filled in and its admission recorded
        // through the same reference.
        let req = self.reqs.get_mut(r).expect("live");
        req.instance = server as u16;
        req.lane = lane;
        req.holds_slot = has_fe;
        if let Some(l) = self.fe_server_lane {
            self.sched.after_lane(l, Event::FrontendServerTimeout(r));
        }
        match self.service.instances[server].exec.admit(lane, r) {
            Admission::Run => {
                req.holds_thread = true;
                self.service.make_ready(r);
            }
            Admission::Queued => req.state = ReqState::ExecQueue,
            Admission::Rejected => self.end(r, Outcome::Rejected),
        }
    }

    /// The key a step of `flow` uses: that of the nearest step at or before
    /// it that draws a new key, else the request's first key (as
    /// [`World::advance`] draws them).
    fn key_of_step(&mut self, flow: usize, step: usize, key_seed: u64) -> u32 {
        let steps = &self.model.workload.flows[flow].steps;
        match (0..=step).rev().find(|&s| steps[s].key == KeyChoice::New) {
            Some(s) => self.cache.space.key(key_seed, s as u64),
            None => self.cache.space.key(key_seed, u64::MAX),
        }
    }

    /// The keys of multi_get step `step` of `flow`, in the order it asks for
    /// them: draw j of the step's own stream is key j; with `distinct`, a
    /// key already drawn is drawn again (up to `REDRAWS` times, exact
    /// sampling without replacement), then the next unused key index is
    /// taken, so a skewed popularity cannot loop for long.
    fn bulk_keys(&self, flow: usize, step: usize, key_seed: u64, keys: &mut Vec<u32>) {
        const REDRAWS: u32 = 16;
        let s = &self.model.workload.flows[flow].steps[step];
        let seed = derive(key_seed, step as u64);
        let space = &self.cache.space;
        keys.clear();
        let mut draw = 0u64;
        for _ in 0..s.count {
            let mut k = space.key(seed, draw);
            draw += 1;
            if s.distinct {
                let mut tries = 0;
                while keys.contains(&k) && tries < REDRAWS {
                    k = space.key(seed, draw);
                    draw += 1;
                    tries += 1;
                }
                while keys.contains(&k) {
                    k = (k + 1) % space.count();
                }
            }
            keys.push(k);
        }
    }

    /// The current key of a request, drawn on first use.
    fn current_key(&mut self, r: ReqRef) -> u32 {
        let req = self.reqs.get_mut(r).expect("live");
        if !req.has_key {
            req.key = self.cache.space.key(req.key_seed, u64::MAX);
            req.has_key = true;
        }
        req.key
    }

    /// Runs a request's steps on its thread until one has to wait.
    pub(crate) fn advance(&mut self, r: ReqRef) {
        #[cfg(test)]
        if let Some(req) = self.reqs.get(r) {
            let step = req.step;
            self.advances
                .push((self.sched.now(), r.idx, r.generation, step));
        }
        loop {
            let Some(req) = self.reqs.get(r) else { return };
            let (flow, step_index, key_seed, last, instance) = (
                req.flow as usize,
                req.step as usize,
                req.key_seed,
                req.last,
                req.instance as usize,
            );
            // The end of an iteration of a per-key loop: back to the
            // body's start for the next key.
            if let Some((start, end)) = req.each_body
                && step_index as u16 >= end
            {
                let req = self.reqs.get_mut(r).expect("live");
                req.each_body = None;
                req.step = start;
                continue;
            }
            let Some(step) = self.model.workload.flows[flow].steps.get(step_index) else {
                self.complete(r);
                return;
            };
            // The step's small fields, copied (no clone of the whole step).
            let step = StepView {
                op: step.op,
                on: step.on,
                wait: step.wait,
                key: step.key,
                size: step.size,
                pool: step.pool,
                each: step.each,
            };
            if let Some((start, end)) = step.each
                && step_index as u16 == start
                && req.each_body.is_none()
            {
                // The start of a per-key loop: the next key that missed (in
                // step order, a multi_get's keys in their order), or past the
                // body when none is left.
                let steps = &self.model.workload.flows[flow].steps;
                let next = next_missed(req.missed, req.bulk_missed, req.each_cursor, |s| {
                    steps
                        .get(s as usize)
                        .is_some_and(|x| x.op == StepOp::MultiGet)
                });
                let req = self.reqs.get_mut(r).expect("live");
                let Some((s, j)) = next else {
                    req.each_cursor = None;
                    req.step = end;
                    continue;
                };
                req.each_cursor = Some((s, j));
                req.each_body = Some((start, end));
                let key =
                    if self.model.workload.flows[flow].steps[s as usize].op == StepOp::MultiGet {
                        let mut keys = std::mem::take(&mut self.multi_keys);
                        self.bulk_keys(flow, s as usize, key_seed, &mut keys);
                        let key = keys[j as usize];
                        self.multi_keys = keys;
                        key
                    } else {
                        self.key_of_step(flow, s as usize, key_seed)
                    };
                let req = self.reqs.get_mut(r).expect("live");
                req.key = key;
                req.has_key = true;
            }
            let run = match step.on {
                Condition::Always => true,
                Condition::Hit => last == LastGet::Hit,
                Condition::Miss => last == LastGet::Miss,
                Condition::Error => last == LastGet::Error,
                Condition::MissOrError => matches!(last, LastGet::Miss | LastGet::Error),
            };
            if !run {
                self.reqs.get_mut(r).expect("live").step += 1;
                continue;
            }
            if step.key == KeyChoice::New {
                let key = self.cache.space.key(key_seed, step_index as u64);
                let req = self.reqs.get_mut(r).expect("live");
                req.key = key;
                req.has_key = true;
            }
            match step.op {
                StepOp::Work => {
                    let time = self.model.workload.flows[flow].steps[step_index].time;
                    let d = sample(time.as_ref().expect("validated"), &mut self.work_rng);
                    self.reqs.get_mut(r).expect("live").state = ReqState::Work;
                    self.sched.after(d, Event::Work(r));
                    return;
                }
                StepOp::DbRead | StepOp::DbWrite => {
                    self.current_key(r);
                    self.db_call(r, step.op == StepOp::DbWrite);
                    return;
                }
                StepOp::MultiGet => {
                    let mut keys = std::mem::take(&mut self.multi_keys);
                    self.bulk_keys(flow, step_index, key_seed, &mut keys);
                    self.reqs.get_mut(r).expect("live").state = ReqState::Cache;
                    self.client_multi_get(instance, step.pool as u16, &keys, Waiter::Request(r));
                    self.multi_keys = keys;
                    return;
                }
                StepOp::Get => {
                    if self.cache_step(
                        r,
                        instance,
                        OpKind::Get,
                        step.pool as u16,
                        step.size,
                        step.wait,
                    ) {
                        return;
                    }
                }
                StepOp::Set => {
                    if self.cache_step(
                        r,
                        instance,
                        OpKind::Set,
                        step.pool as u16,
                        step.size,
                        step.wait,
                    ) {
                        return;
                    }
                }
                StepOp::Touch => {
                    if self.cache_step(
                        r,
                        instance,
                        OpKind::Touch,
                        step.pool as u16,
                        step.size,
                        step.wait,
                    ) {
                        return;
                    }
                }
                StepOp::Delete => {
                    if self.cache_step(
                        r,
                        instance,
                        OpKind::Delete,
                        step.pool as u16,
                        step.size,
                        step.wait,
                    ) {
                        return;
                    }
                }
            }
        }
    }

    /// A get, set, touch or delete step: the call goes to the bulkhead, the
    /// resilience layer or the client. True when the request now waits for
    /// it; false when it goes on (fire-and-forget).
    fn cache_step(
        &mut self,
        r: ReqRef,
        instance: usize,
        kind: OpKind,
        pool: u16,
        size: u32,
        wait: bool,
    ) -> bool {
        let bulkhead = wait && self.service.instances[instance].bulkhead.is_some();
        // One look-up: the key (drawn on first use), the version and, for a
        // call awaited on the thread, the state set before the call (a call
        // may complete at once).
        let req = self.reqs.get_mut(r).expect("live");
        if !req.has_key {
            req.key = self.cache.space.key(req.key_seed, u64::MAX);
            req.has_key = true;
        }
        let (key, version) = (req.key, req.version);
        if wait && !bulkhead {
            req.state = ReqState::Cache;
        }
        let call = Call {
            kind,
            pool,
            key,
            size,
            version,
            waiter: wait.then_some(Waiter::Request(r)),
        };
        if bulkhead {
            self.bulkhead_call(r, call);
            return true;
        }
        if wait {
            self.client_call(instance, call);
            return true;
        }
        let mut ctx = ctx!(self);
        self.cache.clients[instance].call(&mut ctx, call);
        self.reqs.get_mut(r).expect("live").step += 1;
        false
    }

    /// An awaited cache call of `r` returned (on its thread).
    pub(crate) fn cache_result(&mut self, r: ReqRef, result: CacheResult) {
        if self.apply_cache_result(r, result, ReqState::Cache) {
            self.service.make_ready(r);
        }
    }

    /// [`World::cache_result`] when the request would be the next one run
    /// from the ready queue (no completion after this one, no request
    /// ready): it runs at once instead of passing through the queue.
    #[inline]
    pub(crate) fn cache_result_run(&mut self, r: ReqRef, result: CacheResult) {
        if self.apply_cache_result(r, result, ReqState::Cache) {
            #[cfg(test)]
            {
                self.direct_runs += 1;
            }
            self.advance(r);
        }
    }

    /// Records what a cache call returned in the request and moves it past
    /// the step; false if the request was not waiting in `state`.
    pub(crate) fn apply_cache_result(
        &mut self,
        r: ReqRef,
        result: CacheResult,
        state: ReqState,
    ) -> bool {
        let Some(req) = self.reqs.get_mut(r) else {
            return false;
        };
        if req.state != state {
            return false;
        }
        let step = &self.model.workload.flows[req.flow as usize].steps[req.step as usize];
        let (op, count) = (step.op, step.count);
        let is_get = matches!(op, StepOp::Get | StepOp::MultiGet);
        match result {
            CacheResult::Hit { version, stale } => {
                if is_get {
                    req.last = LastGet::Hit;
                }
                req.version = version;
                if stale {
                    req.flags.set(RequestFlags::STALE);
                }
            }
            CacheResult::Miss | CacheResult::MissedKeys(_) => {
                req.flags.set(RequestFlags::MISS);
                if is_get {
                    req.last = LastGet::Miss;
                }
                if is_get && req.step < 64 {
                    req.missed |= 1 << req.step;
                }
                if op == StepOp::MultiGet {
                    req.bulk_missed = match result {
                        CacheResult::MissedKeys(m) => m,
                        // A client that does not say which keys: all of them.
                        _ => all_keys(count),
                    };
                }
            }
            CacheResult::Stored => {}
            CacheResult::Failed(o) => {
                req.flags.set(match o {
                    CacheOutcome::Timeout | CacheOutcome::UnsentTimeout => {
                        RequestFlags::CACHE_TIMEOUT
                    }
                    CacheOutcome::Cancelled
                    | CacheOutcome::QueueFull
                    | CacheOutcome::Error
                    | CacheOutcome::Hit
                    | CacheOutcome::Miss
                    | CacheOutcome::Stored => RequestFlags::CACHE_CANCEL,
                });
                if is_get {
                    req.last = LastGet::Error;
                }
                if is_get && req.step < 64 {
                    req.missed |= 1 << req.step;
                }
                if op == StepOp::MultiGet {
                    // The call threw: every key's result is lost.
                    req.bulk_missed = all_keys(count);
                }
            }
        }
        req.step += 1;
        req.state = ReqState::Work;
        true
    }

    /// A `work` step ended.
    pub(crate) fn work_done(&mut self, r: ReqRef) -> bool {
        let Some(req) = self.reqs.get_mut(r) else {
            return false;
        };
        if req.state != ReqState::Work {
            return false;
        }
        req.step += 1;
        self.service.make_ready(r);
        true
    }

    /// A database call of `r` (a first attempt or a retry).
    fn db_call(&mut self, r: ReqRef, write: bool) {
        let now = self.sched.now();
        let req = self.reqs.get_mut(r).expect("live");
        req.flags.set(RequestFlags::DATABASE);
        req.state = ReqState::DbQuery;
        let (instance, first) = (req.instance as usize, req.db_attempt == 0);
        self.rec.db_call();
        let step = &self.model.workload.flows[req.flow as usize].steps[req.step as usize];
        let op = match (write, step.fill) {
            (true, _) => QueryOp::Write,
            (false, Fill::LookAside) => QueryOp::Read(None),
            (false, Fill::ReadThrough) => QueryOp::Read(Some(crate::sim::database::Fill {
                instance: instance as u16,
                pool: step.pool as u16,
                key: req.key,
                size: step.size,
            })),
        };
        self.db.call(r, op, instance, first, now, &mut self.sched);
        self.db_answers();
    }

    /// Makes the database's read-through fills, then hands its answers to
    /// their callers, in order.
    pub(crate) fn db_answers(&mut self) {
        while let Some(f) = self.db.fills.pop_front() {
            let version = self.versions[f.key as usize];
            self.fill(f.instance as usize, f.pool, f.key, version, f.size);
        }
        while let Some(a) = self.db.out.pop_front() {
            self.db_answer(a);
        }
    }

    /// A read-through fill: the database's answer for `key` is set into
    /// `pool` by the instance's client, fire-and-forget, whether or not the
    /// read's caller still waits.
    fn fill(&mut self, instance: usize, pool: u16, key: u32, version: u32, size: u32) {
        let call = Call {
            kind: OpKind::Set,
            pool,
            key,
            size,
            version,
            waiter: None,
        };
        let mut ctx = ctx!(self);
        self.cache.clients[instance].call(&mut ctx, call);
    }

    /// A caller gets its database answer: a result moves it past the step;
    /// an error is retried (when `[database.retry]` allows) or fails it.
    fn db_answer(&mut self, a: crate::sim::database::Answer) {
        let now = self.sched.now();
        let r = a.req;
        let Some(req) = self.reqs.get_mut(r) else {
            return;
        };
        if req.state != ReqState::DbQuery {
            return;
        }
        let op = self.model.workload.flows[req.flow as usize].steps[req.step as usize].op;
        if a.ok {
            let key = req.key as usize;
            if op == StepOp::DbWrite {
                self.versions[key] = self.versions[key].wrapping_add(1);
            }
            req.version = self.versions[key];
            req.step += 1;
            req.state = ReqState::Work;
            req.db_attempt = 0;
            req.db_slept = 0;
            self.rec.db_latency(now - a.called);
            self.service.make_ready(r);
            return;
        }
        let attempt = req.db_attempt + 1;
        match self
            .db
            .retry_after(req.instance as usize, attempt, req.db_slept, now)
        {
            Some(wait) => {
                req.db_attempt = attempt;
                req.db_slept = wait;
                req.state = ReqState::DbRetrySleep;
                self.sched.after(wait, Event::DbRetry(r));
            }
            None => {
                req.db_attempt = 0;
                req.db_slept = 0;
                self.end(r, Outcome::Failed);
            }
        }
    }

    /// A database query's execution ended.
    pub(crate) fn db_done(&mut self, q: crate::sim::ids::QueryRef) -> bool {
        let now = self.sched.now();
        let counted = self.db.done(q, now, &mut self.sched);
        self.db_answers();
        counted
    }

    /// A wait for a database connection timed out: the call fails.
    pub(crate) fn db_timeout(&mut self, q: crate::sim::ids::QueryRef) -> bool {
        let now = self.sched.now();
        let counted = self.db.pool_timeout(q, now, &mut self.sched);
        self.db_answers();
        counted
    }

    /// A database caller's deadline passed: the call fails; the query goes
    /// on or is killed (`on_deadline`).
    pub(crate) fn db_deadline(&mut self, q: crate::sim::ids::QueryRef) -> bool {
        let now = self.sched.now();
        let counted = self.db.deadline(q, now, &mut self.sched);
        self.db_answers();
        counted
    }

    /// A request's sleep before a database retry ended: it calls again.
    pub(crate) fn db_retry_due(&mut self, r: ReqRef) -> bool {
        let Some(req) = self.reqs.get(r) else {
            return false;
        };
        if req.state != ReqState::DbRetrySleep {
            return false;
        }
        let op = self.model.workload.flows[req.flow as usize].steps[req.step as usize].op;
        self.db_call(r, op == StepOp::DbWrite);
        true
    }

    /// A request's steps are all done.
    fn complete(&mut self, r: ReqRef) {
        let now = self.sched.now();
        let req = self.reqs.get(r).expect("live");
        let outcome = if now - req.arrival <= self.model.slo {
            Outcome::Succeeded
        } else {
            Outcome::Late
        };
        self.end(r, outcome);
    }

    /// An upstream layer's sleep ended: the request is sent again.
    pub(crate) fn upstream_retry_due(&mut self, r: ReqRef) -> bool {
        if self
            .reqs
            .get(r)
            .is_none_or(|q| q.state != ReqState::UpstreamSleep)
        {
            return false;
        }
        self.reqs.get_mut(r).expect("live").state = ReqState::FrontendQueue;
        self.admit(r);
        true
    }

    /// After an attempt that ended in an error (`failed`, `rejected`, a 503
    /// from the front end's queue): the innermost upstream layer with an
    /// attempt left sends the whole request again after its back-off, and
    /// the layers inside it start afresh; each attempt of a layer is a whole
    /// try of the layers below it, so k tries at each of L layers make k^L
    /// at the bottom. False when no layer retries (the outcome stands).
    fn upstream_retry(&mut self, r: ReqRef, outcome: Outcome) -> bool {
        let layers = &self.model.service.upstream;
        if layers.is_empty() || !self.db.retries_on {
            return false;
        }
        match outcome {
            Outcome::Failed | Outcome::Rejected | Outcome::TimedOut => {}
            Outcome::Succeeded | Outcome::Late | Outcome::Unfinished => return false,
        }
        let req = self.reqs.get(r).expect("live");
        if req.answered {
            return false;
        }
        let Some(j) = (0..layers.len())
            .rev()
            .find(|&j| u32::from(req.upstream[j]) + 1 < layers[j].max_attempts)
        else {
            return false;
        };
        let n = u32::from(req.upstream[j]) + 1;
        let wait = crate::sim::resilience::retry::wait(
            &layers[j],
            n,
            req.upstream_slept,
            &mut self.upstream_rng,
        );
        let (instance, lane, thread, slot) =
            (req.instance, req.lane, req.holds_thread, req.holds_slot);
        if thread {
            self.release_thread(instance, lane);
        }
        if slot {
            self.release_slot(instance as usize);
        }
        // A fresh slot generation: every event and queue entry of the old
        // attempt is stale.
        let old = self.reqs.get(r).expect("live").clone();
        let mut upstream = old.upstream;
        upstream[j] += 1;
        upstream[j + 1..].iter_mut().for_each(|u| *u = 0);
        self.reqs.free(r);
        let r = self.reqs.alloc();
        let req = self.reqs.get_mut(r).expect("fresh");
        req.flow = old.flow;
        req.arrival = old.arrival;
        req.key_seed = old.key_seed;
        req.flags = old.flags;
        req.state = ReqState::UpstreamSleep;
        req.upstream = upstream;
        req.upstream_slept = wait;
        self.upstream_retries += 1;
        self.sched.after(wait, Event::UpstreamRetry(r));
        true
    }

    /// Ends a request with `outcome` (unless a front-end timeout already
    /// answered it, or an upstream layer sends it again), releases its
    /// thread and slot, and frees it.
    pub(crate) fn end(&mut self, r: ReqRef, outcome: Outcome) {
        if self.upstream_retry(r, outcome) {
            return;
        }
        let now = self.sched.now();
        let req = self.reqs.get(r).expect("live");
        let (answered_early, arrival, flags) = (req.answered, req.arrival, req.flags);
        let (holds_thread, holds_slot) = (req.holds_thread, req.holds_slot);
        let (instance, lane) = (req.instance, req.lane);
        if answered_early {
            self.answered_live -= 1;
        } else {
            let answered = matches!(
                outcome,
                Outcome::Succeeded | Outcome::Late | Outcome::Failed
            );
            self.rec.request_end(arrival, now, outcome, flags, answered);
        }
        if holds_thread {
            self.release_thread(instance, lane);
        }
        if holds_slot {
            self.release_slot(instance as usize);
        }
        self.reqs.free(r);
    }

    /// A thread of (instance, lane) is free: the next queued request takes it.
    #[inline]
    pub(crate) fn release_thread(&mut self, instance: u16, lane: u16) {
        if let Some(next) = self.service.instances[instance as usize].exec.release(lane) {
            let n = self.reqs.get_mut(next).expect("queued");
            n.holds_thread = true;
            self.service.make_ready(next);
        }
    }

    /// A request that gave up its thread wants one again to continue.
    pub(crate) fn resume(&mut self, r: ReqRef) {
        let req = self.reqs.get(r).expect("live");
        let (instance, lane) = (req.instance as usize, req.lane);
        match self.service.instances[instance].exec.resume(lane, r) {
            Admission::Run => {
                self.reqs.get_mut(r).expect("live").holds_thread = true;
                self.service.make_ready(r);
            }
            Admission::Queued | Admission::Rejected => {
                self.reqs.get_mut(r).expect("live").state = ReqState::ExecQueue
            }
        }
    }

    fn release_slot(&mut self, server: usize) {
        let Some(fe) = self.frontend.as_mut() else {
            return;
        };
        let reqs = &self.reqs;
        if let Some(next) = fe.release(server, |q| {
            reqs.get(q)
                .is_some_and(|x| x.state == ReqState::FrontendQueue)
        }) {
            self.dispatch_taken(next, server);
        }
    }

    /// A queued request took a slot that `release` already counted.
    fn dispatch_taken(&mut self, r: ReqRef, server: usize) {
        self.dispatch(r, server);
    }

    /// `timeout queue` expired: 503.
    pub(crate) fn frontend_queue_timeout(&mut self, r: ReqRef) -> bool {
        let Some(req) = self.reqs.get(r) else {
            return false;
        };
        if req.state != ReqState::FrontendQueue {
            return false;
        }
        if let Some(fe) = self.frontend.as_mut() {
            fe.abandon();
        }
        self.end(r, Outcome::TimedOut);
        true
    }

    /// `timeout server` expired: 504; the slot frees, the backend goes on.
    pub(crate) fn frontend_server_timeout(&mut self, r: ReqRef) -> bool {
        let now = self.sched.now();
        let Some(req) = self.reqs.get_mut(r) else {
            return false;
        };
        if req.answered || !req.holds_slot {
            return false;
        }
        req.answered = true;
        req.holds_slot = false;
        self.answered_live += 1;
        let (arrival, flags, server) = (req.arrival, req.flags, req.instance as usize);
        self.rec
            .request_end(arrival, now, Outcome::TimedOut, flags, false);
        self.release_slot(server);
        true
    }
}

/// The mask of the first `count` keys of a bulk get (at most 64).
fn all_keys(count: u32) -> u64 {
    crate::sim::protocol::key_bit(count).wrapping_sub(1)
}

/// The (step, key's place) of the next key that missed after `cursor`, in
/// step order: a step's bit in `missed` is one key, except for the
/// multi_get step (`is_bulk`), whose keys that missed are the bits of
/// `bulk_missed`, in the order it asked for them. None when none is left.
fn next_missed(
    missed: u64,
    bulk_missed: u64,
    cursor: Option<(u16, u16)>,
    is_bulk: impl Fn(u16) -> bool,
) -> Option<(u16, u16)> {
    let (mut from_step, mut from_key) = match cursor {
        None => (0u32, 0u32),
        Some((s, j)) if is_bulk(s) => (u32::from(s), u32::from(j) + 1),
        Some((s, _)) => (u32::from(s) + 1, 0),
    };
    while from_step < 64 {
        let rest = missed & (u64::MAX << from_step);
        if rest == 0 {
            return None;
        }
        let s = rest.trailing_zeros();
        if s != from_step {
            from_key = 0;
        }
        if !is_bulk(s as u16) {
            return Some((s as u16, 0));
        }
        let keys = if from_key >= 64 {
            0
        } else {
            bulk_missed & (u64::MAX << from_key)
        };
        if keys != 0 {
            return Some((s as u16, keys.trailing_zeros() as u16));
        }
        from_step = s + 1;
        from_key = 0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's files (summary, timeline rows, node events), its counted
    /// events, its direct runs and the order its steps ran.
    type RunFiles = (String, Vec<u8>, String, u64, u64, Vec<(u64, u32, u32, u16)>);

    /// The files of a run of `model` (summary, timeline rows, node events),
    /// its counted events and how many requests ran at once instead of
    /// from the ready queue; `queued_only` turns the direct runs off.
    fn run_files(model: &crate::config::Model, queued_only: bool) -> RunFiles {
        let mut w = World::new(model);
        w.queued_only = queued_only;
        let mut rows = Vec::new();
        w.start();
        w.schedule_faults();
        let end = w.model.end();
        let mut sink = |r: &crate::metrics::TimelineRow| {
            crate::output::timeline::write_row(&mut rows, r).expect("write to memory")
        };
        w.run_until(end, &mut sink).expect("the run completes");
        let (events, direct) = (w.events(), w.direct_runs);
        let advances = std::mem::take(&mut w.advances);
        let out = w.finish(&mut sink).expect("no violation");
        (
            serde_json::to_string_pretty(&out.summary).expect("summary serializes"),
            rows,
            format!("{:?}", out.node_events),
            events,
            direct,
            advances,
        )
    }

    /// A request run at once (its completion is the last one made and
    /// nothing else is ready, or no completion waits and it is the first
    /// ready) runs its steps in the order, and gives the files, the ready
    /// queue and `pump` give, event for event, in every policy, with a front end, a bulkhead, a proxy,
    /// retries and upstream layers; and the direct runs do happen.
    #[test]
    fn running_a_request_at_once_gives_the_queued_runs_files() {
        let short = ["duration=20s", "drain=5s", "warmup=2s", "fault.0.start=8s"];
        // The incident model's frozen node reboots (down 3 s at its end).
        let incident: Vec<&str> = short
            .iter()
            .copied()
            .chain(["fault.0.duration=8s", "fault.0.frozen.reboot_down=3s"])
            .collect();
        let mut cases: Vec<(String, Vec<String>)> = Vec::new();
        for policy in crate::config::PolicyKind::ALL {
            let mut sets: Vec<String> = incident.iter().map(|s| s.to_string()).collect();
            sets.push(format!("client.policy={}", policy.name()));
            cases.push(("models/incident.toml".into(), sets));
        }
        let mut bulkhead: Vec<String> = incident.iter().map(|s| s.to_string()).collect();
        bulkhead.push("service.bulkhead.enabled=true".into());
        cases.push(("models/incident.toml".into(), bulkhead));
        for rel in [
            "models/peers/simpy-cache.toml",
            "models/testbed/bulk5.toml",
            "models/testbed/twemproxy.toml",
            "models/policies/frozen-resilience.toml",
            "models/metastable/hotos-retry.toml",
        ] {
            cases.push((rel.into(), short.iter().map(|s| s.to_string()).collect()));
        }
        cases.push((
            "models/checks/mm1-patience-frontend.toml".into(),
            vec!["duration=20s".into(), "warmup=2s".into()],
        ));
        for (rel, sets) in cases {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel);
            let m =
                crate::config::load_model(&path, &sets).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let queued = run_files(&m, true);
            let direct = run_files(&m, false);
            assert_eq!(
                queued.4, 0,
                "{rel} {sets:?}: the queued path ran a request at once"
            );
            assert!(direct.4 > 0, "{rel} {sets:?}: no request ran at once");
            assert!(queued.0 == direct.0, "{rel} {sets:?}: summaries differ");
            assert!(queued.1 == direct.1, "{rel} {sets:?}: timelines differ");
            assert!(queued.2 == direct.2, "{rel} {sets:?}: node events differ");
            assert_eq!(queued.3, direct.3, "{rel} {sets:?}: event counts differ");
            assert!(
                queued.5 == direct.5,
                "{rel} {sets:?}: the requests' steps ran in another order"
            );
        }
    }

    /// Steps 0 and 3 are single gets that missed, step 1 the bulk get with
    /// keys 0, 2 and 4 missed: the loop visits them in step order, the bulk
    /// get's keys in their order.
    #[test]
    fn next_missed_walks_steps_then_bulk_keys_in_order() {
        let missed = 0b1011;
        let bulk = 0b10101;
        let is_bulk = |s: u16| s == 1;
        let mut seen = Vec::new();
        let mut cursor = None;
        while let Some(c) = next_missed(missed, bulk, cursor, is_bulk) {
            seen.push(c);
            cursor = Some(c);
        }
        assert_eq!(seen, [(0, 0), (1, 0), (1, 2), (1, 4), (3, 0)]);
        // A bulk get whose step bit is not set contributes nothing.
        assert_eq!(next_missed(0b1, bulk, Some((0, 0)), is_bulk), None);
        assert_eq!(all_keys(5), 0b11111);
        assert_eq!(all_keys(64), u64::MAX);
    }
}
