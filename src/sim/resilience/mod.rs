//! Application-level resilience around each awaited cache call, whatever the
//! client policy (`[service.resilience]`): retries with back-off and jitter
//! (resilience4j Retry), a retry budget (Finagle's), and circuit breakers per
//! service instance and/or per cache node (resilience4j CircuitBreaker).
//!
//! The order is resilience4j's recommended one, Retry ( CircuitBreaker (
//! call ) ): each attempt asks the breaker(s) for a permit and is recorded
//! in them; a refused attempt fails at once (`CallNotPermittedException`, a
//! cache error, no wait) and is itself retried like any failure. The caller's
//! thread sleeps between attempts (`Thread.sleep`): the request keeps its
//! executor thread, or its bulkhead thread when calls run on a bulkhead
//! (there the order is Bulkhead ( Retry ( CircuitBreaker ( call ) ) )).
//! A retry is made only if the budget (when enabled) has a token. Only
//! awaited calls pass through here; fire-and-forget ops go straight to the
//! client. A per-node breaker guards the key's primary node (what the
//! service would compute with the client's locator); bulk gets pass only the
//! per-instance breaker.

pub mod breaker;
pub mod budget;
pub mod retry;

use rand::rngs::ChaCha8Rng;

use self::breaker::Breaker;
use self::budget::Budget;
use super::client::{CacheResult, Call, Completion, NodeEvent};
use super::request::ReqRef;
use super::world::{Event, World, ctx};
use crate::config::{BreakerScope, Model, ResilienceConfig as Spec};
use crate::engine::{Nanos, stream};
use crate::metrics::CacheOutcome;

/// Marks a completion's waiter as a resilience attempt (the bulkhead uses
/// bit 31).
pub const RETRY_BIT: u32 = 1 << 30;

/// The node id of a per-instance breaker's events.
pub const CLIENT_SCOPE: u16 = u16::MAX;

/// One call going through the layer.
#[derive(Clone, Debug)]
struct Pending {
    generation: u32,
    live: bool,
    instance: u16,
    /// The caller (a request, or a bulkhead task).
    waiter: ReqRef,
    call: Call,
    /// Bulk get keys (`call.pool` is the pool); empty for a single call.
    keys: Vec<u32>,
    /// Attempts made so far.
    attempt: u32,
    /// When the current attempt started.
    started: Nanos,
    /// The last sleep.
    slept: Nanos,
    /// The per-node breaker's node, if it granted the current attempt.
    node: Option<u16>,
    /// The per-instance breaker granted the current attempt.
    client_permit: bool,
}

/// One service instance's breakers and budget.
struct Instance {
    client: Option<Breaker>,
    nodes: Vec<Breaker>,
    budget: Option<Budget>,
}

/// The resilience layer of every instance.
pub struct Resilience {
    spec: Spec,
    calls: Vec<Pending>,
    free: Vec<u32>,
    instances: Vec<Instance>,
    rng: ChaCha8Rng,
    /// Retries made.
    pub retries: u64,
    /// Attempts refused by a breaker.
    pub rejected: u64,
    /// Retries the budget refused.
    pub budget_refused: u64,
}

impl Resilience {
    /// The layer as the model describes it, or `None` when it is off.
    pub fn new(model: &Model) -> Option<Self> {
        let spec = model.service.resilience.clone()?;
        let nodes = model.node_count();
        let instances = (0..model.service.instances)
            .map(|_| {
                let (client, per_node) = match &spec.breaker {
                    None => (None, false),
                    Some(b) => (
                        (b.scope != BreakerScope::Node).then(|| Breaker::new(b)),
                        b.scope != BreakerScope::Client,
                    ),
                };
                Instance {
                    client,
                    nodes: if per_node {
                        let b = spec.breaker.as_ref().expect("breaker");
                        vec![Breaker::new(b); nodes]
                    } else {
                        Vec::new()
                    },
                    budget: spec.budget.as_ref().map(Budget::new),
                }
            })
            .collect();
        Some(Resilience {
            spec,
            calls: Vec::new(),
            free: Vec::new(),
            instances,
            rng: stream(model.seed, "resilience"),
            retries: 0,
            rejected: 0,
            budget_refused: 0,
        })
    }

    fn alloc(&mut self, p: Pending) -> (u32, u32) {
        if let Some(i) = self.free.pop() {
            let generation = self.calls[i as usize].generation;
            self.calls[i as usize] = Pending { generation, ..p };
            return (i, generation);
        }
        self.calls.push(Pending { generation: 0, ..p });
        ((self.calls.len() - 1) as u32, 0)
    }

    fn release(&mut self, i: u32) {
        let c = &mut self.calls[i as usize];
        c.live = false;
        c.generation = c.generation.wrapping_add(1);
        c.keys.clear();
        self.free.push(i);
    }

    fn get(&self, i: u32, generation: u32) -> Option<&Pending> {
        self.calls
            .get(i as usize)
            .filter(|c| c.live && c.generation == generation)
    }
}

impl World {
    /// An awaited cache call of instance `instance`, through the resilience
    /// layer when there is one.
    pub(crate) fn client_call(&mut self, instance: usize, call: Call) {
        if self.resilience.is_none() {
            let mut ctx = ctx!(self);
            self.clients[instance].call(&mut ctx, call);
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
        waiter: ReqRef,
    ) {
        if self.resilience.is_none() {
            let mut ctx = ctx!(self);
            self.clients[instance].multi_get(&mut ctx, pool, keys, waiter);
            return;
        }
        let call = Call {
            kind: super::network::OpKind::Get,
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

    fn breaker_event(&mut self, instance: u16, node: u16, what: &'static str) {
        let now = self.sched.now();
        self.node_events.push(NodeEvent {
            time: now,
            client: instance,
            node,
            what,
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
        let mut events: Vec<(u16, &'static str)> = Vec::new();
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
            let local = self.placement[pool].primary(key, &mut self.space);
            let node = self.pool_offsets[pool] + local;
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
        let tag = ReqRef {
            idx: slot | RETRY_BIT,
            generation,
        };
        let call = Call {
            waiter: Some(tag),
            ..c.call
        };
        if single {
            let mut ctx = ctx!(self);
            self.clients[instance].call(&mut ctx, call);
        } else {
            let keys = std::mem::take(
                &mut self.resilience.as_mut().expect("on").calls[slot as usize].keys,
            );
            let mut ctx = ctx!(self);
            self.clients[instance].multi_get(&mut ctx, call.pool, &keys, tag);
            let res = self.resilience.as_mut().expect("on");
            if res.calls[slot as usize].live && res.calls[slot as usize].generation == generation {
                res.calls[slot as usize].keys = keys;
            }
        }
    }

    /// An attempt's result came back (`tag` carries [`RETRY_BIT`]).
    pub(crate) fn resilience_done(&mut self, tag: ReqRef, result: CacheResult) {
        let slot = tag.idx & !RETRY_BIT;
        let now = self.sched.now();
        let res = self.resilience.as_mut().expect("on");
        let Some(c) = res.get(slot, tag.generation) else {
            return;
        };
        let (instance, node, client_permit, took) =
            (c.instance, c.node, c.client_permit, now - c.started);
        let failure = matches!(result, CacheResult::Failed(_));
        let mut events: Vec<(u16, &'static str)> = Vec::new();
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
            && let Some(retry) = res.spec.retry.as_ref()
            && attempt < retry.max_attempts
        {
            let allowed = match res.instances[instance as usize].budget.as_mut() {
                Some(b) => b.withdraw(now),
                None => true,
            };
            if allowed {
                let wait = retry::wait(retry, attempt, slept, &mut res.rng);
                res.calls[slot as usize].slept = wait;
                res.retries += 1;
                self.sched.after(wait, Event::Retry { slot, generation });
                return;
            }
            res.budget_refused += 1;
        }
        res.release(slot);
        self.done.push(Completion {
            req: waiter,
            result,
        });
    }

    /// A retry's sleep ended.
    pub(crate) fn retry_due(&mut self, slot: u32, generation: u32) -> bool {
        let res = self.resilience.as_ref().expect("on");
        if res.get(slot, generation).is_none() {
            return false;
        }
        self.attempt(slot, generation);
        true
    }
}
