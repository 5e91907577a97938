//! An HAProxy-like front end (`shared/reference/service-stack.md` §1, §9):
//! server `maxconn` per service instance, one unbounded FIFO backend queue
//! with patience `timeout queue` (503), and `timeout server` (504), after
//! which the slot frees at once while the backend keeps working on the
//! abandoned request.

use std::collections::VecDeque;

use super::request::ReqRef;
use crate::config::{Balance, FrontendConfig as FrontendSpec};

/// The front end's state.
#[derive(Clone)]
pub struct Frontend {
    /// The configuration.
    pub spec: FrontendSpec,
    in_flight: Vec<u32>,
    queue: VecDeque<ReqRef>,
    queued: u64,
    next: usize,
}

impl Frontend {
    /// A front end over `servers` service instances.
    pub fn new(spec: FrontendSpec, servers: usize) -> Self {
        Frontend {
            spec,
            in_flight: vec![0; servers],
            queue: VecDeque::new(),
            queued: 0,
            next: 0,
        }
    }

    fn full(&self, s: usize) -> bool {
        self.spec.maxconn.is_some_and(|m| self.in_flight[s] >= m)
    }

    /// Picks a server that is not full (HAProxy skips full servers, and a
    /// server is full while the backend queue is not empty), taking a slot.
    pub fn pick(&mut self) -> Option<usize> {
        if self.queued > 0 {
            return None;
        }
        let n = self.in_flight.len();
        let choice = match self.spec.balance {
            Balance::Roundrobin => (0..n).map(|i| (self.next + i) % n).find(|&s| !self.full(s)),
            Balance::Leastconn => (0..n)
                .map(|i| (self.next + i) % n)
                .filter(|&s| !self.full(s))
                .min_by_key(|&s| self.in_flight[s]),
        }?;
        self.next = (choice + 1) % n;
        self.in_flight[choice] += 1;
        Some(choice)
    }

    /// Puts a request in the backend queue.
    pub fn enqueue(&mut self, r: ReqRef) {
        self.queue.push_back(r);
        self.queued += 1;
    }

    /// A queued request timed out (the caller checked it was still queued).
    pub fn abandon(&mut self) {
        self.queued -= 1;
    }

    /// Server `s` freed a slot: the oldest live queued request (as judged by
    /// `is_queued`) takes it.
    pub fn release(
        &mut self,
        s: usize,
        mut is_queued: impl FnMut(ReqRef) -> bool,
    ) -> Option<ReqRef> {
        self.in_flight[s] -= 1;
        while let Some(r) = self.queue.pop_front() {
            if is_queued(r) {
                self.queued -= 1;
                self.in_flight[s] += 1;
                return Some(r);
            }
        }
        None
    }

    /// Requests in the queue.
    pub fn queued(&self) -> u64 {
        self.queued
    }
}
