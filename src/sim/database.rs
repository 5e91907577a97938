//! The database: an M/G/c queue behind a HikariCP-like pool
//! (`shared/reference/service-stack.md` §6). A query takes a connection if one
//! is free, else its caller blocks in a FIFO of waiters for up to
//! `connectionTimeout` (then `SQLTransientConnectionException`: the request
//! fails). The caller's thread is held throughout.

use std::collections::VecDeque;

use rand::rngs::ChaCha8Rng;

use super::request::ReqRef;
use super::sampler::sample;
use crate::config::{DatabaseConfig as DatabaseSpec, Dist};
use crate::engine::{Lane, Nanos, Scheduler};

/// What happened to a query submitted to the pool.
pub enum Admit {
    /// It runs now and ends after this long.
    Run(Nanos),
    /// It waits for a connection.
    Wait,
}

/// A waiter in the pool.
#[derive(Clone, Copy)]
struct DbWaiter {
    req: ReqRef,
    write: bool,
    since: Nanos,
}

/// The pool and the database.
pub struct Database {
    limit: Option<u32>,
    busy: u32,
    waiters: VecDeque<DbWaiter>,
    /// Waiters not yet timed out (the queue may hold stale ones).
    waiting: u64,
    read: Dist,
    write: Dist,
    rng: ChaCha8Rng,
    /// Lane of the connection-timeout timers.
    pub wait_lane: Lane,
    /// Most queries running or waiting at once.
    pub peak_in_flight: u64,
    /// Most queries waiting at once.
    pub peak_waiting: u64,
    /// Queries run.
    pub queries: u64,
    /// Waits that timed out.
    pub wait_timeouts: u64,
}

impl Database {
    /// A database as the model describes it.
    pub fn new<E>(spec: &DatabaseSpec, rng: ChaCha8Rng, sched: &mut Scheduler<E>) -> Self {
        Database {
            limit: spec.connections,
            busy: 0,
            waiters: VecDeque::new(),
            waiting: 0,
            read: spec.read,
            write: spec.write,
            rng,
            wait_lane: sched.lane(spec.connection_timeout),
            peak_in_flight: 0,
            peak_waiting: 0,
            queries: 0,
            wait_timeouts: 0,
        }
    }

    /// Queries running plus waiters.
    pub fn in_flight(&self) -> u64 {
        self.busy as u64 + self.waiting
    }

    fn note_peak(&mut self) {
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight());
        self.peak_waiting = self.peak_waiting.max(self.waiting);
    }

    fn run(&mut self, write: bool) -> Nanos {
        self.busy += 1;
        self.queries += 1;
        let dist = if write { self.write } else { self.read };
        sample(&dist, &mut self.rng)
    }

    /// A request asks for a query.
    pub fn submit(&mut self, req: ReqRef, write: bool, now: Nanos) -> Admit {
        let admit = if self.limit.is_none_or(|l| self.busy < l) {
            Admit::Run(self.run(write))
        } else {
            self.waiters.push_back(DbWaiter {
                req,
                write,
                since: now,
            });
            self.waiting += 1;
            Admit::Wait
        };
        self.note_peak();
        admit
    }

    /// A waiter gave up (its timer fired while it still waited).
    pub fn abandon(&mut self) {
        self.waiting -= 1;
        self.wait_timeouts += 1;
    }

    /// A query ended: its connection goes to the oldest live waiter, for
    /// which `is_waiting` is true. Returns (request, time it waited, query
    /// duration) for the waiter that now runs.
    pub fn release(
        &mut self,
        now: Nanos,
        mut is_waiting: impl FnMut(ReqRef) -> bool,
    ) -> Option<(ReqRef, Nanos, Nanos)> {
        self.busy -= 1;
        while let Some(w) = self.waiters.pop_front() {
            if !is_waiting(w.req) {
                continue;
            }
            self.waiting -= 1;
            let d = self.run(w.write);
            return Some((w.req, now - w.since, d));
        }
        None
    }
}
