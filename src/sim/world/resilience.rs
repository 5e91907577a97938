//! Orchestration of application-level resilience: retries, the retry budget
//! and breakers around a request's awaited cache calls.

use super::{World, ctx};
use crate::metrics::CacheOutcome;
use crate::sim::event::Event;
use crate::sim::protocol::{CacheResult, Call, Completion, NodeEvent, SlotRef, Waiter};
use crate::sim::resilience::breaker::Transition;
use crate::sim::resilience::{CLIENT_SCOPE, Pending};

impl World {
    /// An awaited cache call of instance `instance`, through the resilience
    /// layer when there is one.
    pub(crate) fn client_call(&mut self, instance: usize, call: Call) {
        if self.resilience.is_none() {
            let mut ctx = ctx!(self);
            self.cache.clients[instance].call(&mut ctx, call);
            return;
        }
        self.resilient(instance, call, &[]);
    }

    /// An awaited bulk get, through the resilience layer when there is one.
    pub(crate) fn client_multi_get(
        &mut self,
        instance: usize,
        pool: u16,
        keys: &[u32],
        waiter: Waiter,
    ) {
        if self.resilience.is_none() {
            let mut ctx = ctx!(self);
            self.cache.clients[instance].multi_get(&mut ctx, pool, keys, waiter);
            return;
        }
        let call = Call {
            kind: crate::sim::protocol::OpKind::Get,
            pool,
            key: keys.first().copied().unwrap_or(0),
            size: 0,
            version: 0,
            waiter: Some(waiter),
        };
        self.resilient(instance, call, keys);
    }

    fn resilient(&mut self, instance: usize, call: Call, keys: &[u32]) {
        let now = self.sched.now();
        let res = self.resilience.as_mut().expect("on");
        if let Some(b) = res.instances[instance].budget.as_mut() {
            b.deposit(now);
        }
        let (slot, generation) = res.alloc(Pending {
            generation: 0,
            live: true,
            instance: instance as u16,
            waiter: call.waiter.expect("awaited"),
            call,
            keys: keys.to_vec(),
            attempt: 0,
            started: now,
            slept: 0,
            node: None,
            client_permit: false,
        });
        self.attempt(slot, generation);
    }

    fn breaker_event(&mut self, instance: u16, node: u16, what: Transition) {
        let now = self.sched.now();
        self.node_events.push(NodeEvent {
            time: now,
            client: instance,
            node,
            what: what.event(),
            detail: if node == CLIENT_SCOPE {
                "instance breaker".into()
            } else {
                "node breaker".into()
            },
        });
    }

    /// Makes the next attempt of call `slot`.
    fn attempt(&mut self, slot: u32, generation: u32) {
        let now = self.sched.now();
        let res = self.resilience.as_mut().expect("on");
        let c = &mut res.calls[slot as usize];
        c.attempt += 1;
        c.started = now;
        c.node = None;
        c.client_permit = false;
        let instance = c.instance as usize;
        let single = c.keys.is_empty();
        let (pool, key) = (c.call.pool as usize, c.call.key);
        let mut events: Vec<(u16, Transition)> = Vec::new();
        // The per-instance breaker first (the outer decorator), then the
        // node's; a node breaker's refusal is a failure to the outer one.
        let mut permitted = true;
        if let Some(b) = res.instances[instance].client.as_mut() {
            let (ok, t) = b.acquire(now);
            if let Some(t) = t {
                events.push((CLIENT_SCOPE, t));
            }
            permitted = ok;
            res.calls[slot as usize].client_permit = ok;
        }
        if permitted && single && !res.instances[instance].nodes.is_empty() {
            let local = self.cache.placement[pool].primary(key, &mut self.cache.space);
            let node = self.cache.pool_offsets[pool] + local;
            let b = &mut res.instances[instance].nodes[node as usize];
            let (ok, t) = b.acquire(now);
            if let Some(t) = t {
                events.push((node, t));
            }
            if ok {
                res.calls[slot as usize].node = Some(node);
            }
            permitted = ok;
        }
        for (node, what) in events {
            self.breaker_event(instance as u16, node, what);
        }
        if !permitted {
            // CallNotPermittedException: a cache error at once, no wait.
            let res = self.resilience.as_mut().expect("on");
            res.rejected += 1;
            self.rec.cache_submitted();
            self.rec.cache(CacheOutcome::Error);
            self.attempt_done(slot, generation, CacheResult::Failed(CacheOutcome::Error));
            return;
        }
        let res = self.resilience.as_ref().expect("on");
        let c = &res.calls[slot as usize];
        let tag = Waiter::RetrySlot(SlotRef { slot, generation });
        let call = Call {
            waiter: Some(tag),
            ..c.call
        };
        if single {
            let mut ctx = ctx!(self);
            self.cache.clients[instance].call(&mut ctx, call);
        } else {
            let keys = std::mem::take(
                &mut self.resilience.as_mut().expect("on").calls[slot as usize].keys,
            );
            let mut ctx = ctx!(self);
            self.cache.clients[instance].multi_get(&mut ctx, call.pool, &keys, tag);
            let res = self.resilience.as_mut().expect("on");
            if res.calls[slot as usize].live && res.calls[slot as usize].generation == generation {
                res.calls[slot as usize].keys = keys;
            }
        }
    }

    /// An attempt's result came back.
    pub(crate) fn resilience_done(&mut self, tag: SlotRef, result: CacheResult) {
        let slot = tag.slot;
        let now = self.sched.now();
        let res = self.resilience.as_mut().expect("on");
        let Some(c) = res.get(slot, tag.generation) else {
            return;
        };
        let (instance, node, client_permit, took) =
            (c.instance, c.node, c.client_permit, now - c.started);
        let failure = matches!(result, CacheResult::Failed(_));
        let mut events: Vec<(u16, Transition)> = Vec::new();
        let inst = &mut res.instances[instance as usize];
        if let Some(n) = node
            && let Some(t) = inst.nodes[n as usize].record(now, failure, took)
        {
            events.push((n, t));
        }
        if client_permit
            && let Some(b) = inst.client.as_mut()
            && let Some(t) = b.record(now, failure, took)
        {
            events.push((CLIENT_SCOPE, t));
        }
        for (n, what) in events {
            self.breaker_event(instance, n, what);
        }
        self.attempt_done(slot, tag.generation, result);
    }

    /// After an attempt: sleep and retry, or hand the result to the caller.
    fn attempt_done(&mut self, slot: u32, generation: u32, result: CacheResult) {
        let now = self.sched.now();
        let res = self.resilience.as_mut().expect("on");
        let c = &res.calls[slot as usize];
        let (instance, attempt, slept, waiter) = (c.instance, c.attempt, c.slept, c.waiter);
        if matches!(result, CacheResult::Failed(_))
            && res.retries_on
            && let Some(retry) = res.spec.retry.as_ref()
            && attempt < retry.max_attempts
        {
            let allowed = match res.instances[instance as usize].budget.as_mut() {
                Some(b) => b.withdraw(now),
                None => true,
            };
            if allowed {
                let wait = crate::sim::resilience::retry::wait(retry, attempt, slept, &mut res.rng);
                res.calls[slot as usize].slept = wait;
                res.retries += 1;
                self.sched
                    .after(wait, Event::Retry(SlotRef { slot, generation }));
                return;
            }
            res.budget_refused += 1;
        }
        res.release(slot);
        self.done.push(Completion { waiter, result });
    }

    /// A retry's sleep ended.
    pub(crate) fn retry_due(&mut self, call: SlotRef) -> bool {
        let SlotRef { slot, generation } = call;
        let res = self.resilience.as_ref().expect("on");
        if res.get(slot, generation).is_none() {
            return false;
        }
        self.attempt(slot, generation);
        true
    }
}
