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

use crate::engine::rng::ChaCha8Rng;

use self::breaker::Breaker;
use self::budget::Budget;
use crate::config::{BreakerScope, Model, ResilienceConfig as Spec};
use crate::engine::{Nanos, stream};
use crate::sim::protocol::{Call, Waiter};

/// The node id of a per-instance breaker's events.
pub const CLIENT_SCOPE: u16 = u16::MAX;

/// One call going through the layer.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) generation: u32,
    pub(crate) live: bool,
    pub(crate) instance: u16,
    /// The caller (a request, or a bulkhead task).
    pub(crate) waiter: Waiter,
    pub(crate) call: Call,
    /// Bulk get keys (`call.pool` is the pool); empty for a single call.
    pub(crate) keys: Vec<u32>,
    /// Attempts made so far.
    pub(crate) attempt: u32,
    /// When the current attempt started.
    pub(crate) started: Nanos,
    /// The last sleep.
    pub(crate) slept: Nanos,
    /// The per-node breaker's node, if it granted the current attempt.
    pub(crate) node: Option<u16>,
    /// The per-instance breaker granted the current attempt.
    pub(crate) client_permit: bool,
}

/// One service instance's breakers and budget.
#[derive(Clone)]
pub(crate) struct Guards {
    pub(crate) client: Option<Breaker>,
    pub(crate) nodes: Vec<Breaker>,
    pub(crate) budget: Option<Budget>,
}

/// The resilience layer of every instance.
#[derive(Clone)]
pub struct Resilience {
    pub(crate) spec: Spec,
    pub(crate) calls: Vec<Pending>,
    pub(crate) free: Vec<u32>,
    pub(crate) instances: Vec<Guards>,
    pub(crate) rng: ChaCha8Rng,
    /// Retries made.
    pub retries: u64,
    /// Attempts refused by a breaker.
    pub rejected: u64,
    /// Retries the budget refused.
    pub budget_refused: u64,
    /// Retries are allowed (a `retries_off` policy change clears it).
    pub retries_on: bool,
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
                Guards {
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
            retries_on: true,
        })
    }

    pub(crate) fn alloc(&mut self, p: Pending) -> (u32, u32) {
        if let Some(i) = self.free.pop() {
            let generation = self.calls[i as usize].generation;
            self.calls[i as usize] = Pending { generation, ..p };
            return (i, generation);
        }
        self.calls.push(Pending { generation: 0, ..p });
        ((self.calls.len() - 1) as u32, 0)
    }

    pub(crate) fn release(&mut self, i: u32) {
        let c = &mut self.calls[i as usize];
        c.live = false;
        c.generation = c.generation.wrapping_add(1);
        c.keys.clear();
        self.free.push(i);
    }

    pub(crate) fn get(&self, i: u32, generation: u32) -> Option<&Pending> {
        self.calls
            .get(i as usize)
            .filter(|c| c.live && c.generation == generation)
    }
}
