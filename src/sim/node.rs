//! A memcached node: worker threads (`-t`), each connection pinned to one
//! worker round robin, FIFO service with a service-time distribution, a
//! listen backlog (`-b`) shared by all clients' connects, and a memory of
//! which keys it holds with a version per key.
//!
//! Faults change its mode: `Frozen` processes nothing (a request in service
//! completes only when the node runs again), `Down` refuses connects and
//! forgets everything, `HostDown` (a reboot in progress) answers nothing at
//! all. A slow node multiplies its service time.

use std::collections::VecDeque;

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::sampler::sample;
use crate::config::Dist;
use crate::engine::{Nanos, Scheduler};
use crate::sim::event::Event;
use crate::sim::ids::ConnId;
use crate::sim::ids::NodeId;
use crate::sim::protocol::{NodeMsg, OpKind, Reply};

/// What the node is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeMode {
    /// Running.
    Up,
    /// Process stopped: connections stay open, the kernel still accepts
    /// connects (into the backlog) and bytes (into the buffers).
    Frozen,
    /// Process dead: connects refused, connections reset.
    Down,
    /// The host is down (reboot): nothing answers, connects time out.
    HostDown,
}

/// A request waiting at, or being served by, a worker.
#[derive(Clone, Copy, Debug)]
pub struct Job {
    /// Connection it came on.
    pub conn: ConnId,
    /// That connection's generation.
    pub conn_gen: u32,
    /// When it arrived at the node.
    pub arrived: Nanos,
    /// The request.
    pub msg: NodeMsg,
}

/// One memcached worker thread.
#[derive(Clone, Debug, Default)]
pub struct Worker {
    queue: VecDeque<Job>,
    current: Option<Job>,
    /// The service of `current` ended while the node was frozen: it is
    /// answered when the node runs again.
    held: bool,
    busy_since: Nanos,
    /// Bumped at each service start: a completion event of an earlier
    /// service (lost in a crash) is stale.
    serial: u32,
}

/// What a finished job produced.
pub struct Done {
    /// The job.
    pub job: Job,
    /// The reply to send back.
    pub reply: Reply,
}

/// A memcached node.
pub struct Node {
    /// Global index.
    pub id: NodeId,
    /// Current mode.
    pub mode: NodeMode,
    /// Service time multiplier (a slow fault).
    pub slow_factor: f64,
    /// Share of ops answered `SERVER_ERROR` (an `errors` fault), and the
    /// stream it draws from (`node/<global index>/errors`, made at the first
    /// such fault so no other draw moves).
    errors: (f64, Option<ChaCha8Rng>),
    workers: Vec<Worker>,
    /// Version + 1 of each key held (0 = absent).
    store: Vec<u32>,
    next_worker: u32,
    /// Connections accepted by the kernel but not by the (frozen) process.
    pub backlog_used: u32,
    /// Listen backlog size.
    pub backlog: u32,
    service: Dist,
    rng: ChaCha8Rng,
    queued: u64,
    /// Requests whose service started.
    pub started: u64,
    /// Requests served.
    pub served: u64,
    /// Requests skipped because their deadline had passed.
    pub expired: u64,
    /// Sum of waits before service, ns.
    pub wait_sum: u128,
    /// Longest queue seen.
    pub peak_queue: u64,
    /// Worker busy time, ns.
    pub busy_ns: u128,
    /// Expiry given to every set (a gutter pool's `failover_exptime`), and
    /// the expiry of each key (0 = none); empty when sets never expire.
    ttl: Option<Nanos>,
    expires: Vec<Nanos>,
}

impl Node {
    /// A node with `workers` threads and room for `keys` keys.
    pub fn new(
        id: NodeId,
        workers: u32,
        backlog: u32,
        service: Dist,
        keys: u32,
        rng: ChaCha8Rng,
    ) -> Self {
        Node {
            id,
            mode: NodeMode::Up,
            slow_factor: 1.0,
            errors: (0.0, None),
            workers: vec![Worker::default(); workers as usize],
            store: vec![0; keys as usize],
            next_worker: 0,
            backlog_used: 0,
            backlog,
            service,
            rng,
            queued: 0,
            started: 0,
            served: 0,
            expired: 0,
            wait_sum: 0,
            peak_queue: 0,
            busy_ns: 0,
            ttl: None,
            expires: Vec::new(),
        }
    }

    /// From now on, each op fails with `SERVER_ERROR` with probability
    /// `fraction` (0: never), without touching the store.
    pub fn set_errors(&mut self, fraction: f64, seed: u64) {
        self.errors.0 = fraction;
        if fraction > 0.0 && self.errors.1.is_none() {
            let name = format!("node/{}/errors", self.id.index());
            self.errors.1 = Some(crate::engine::stream(seed, &name));
        }
    }

    /// Every value set from now on expires `ttl` after its set (mcrouter's
    /// `failover_exptime` on a gutter pool's sets).
    pub fn set_ttl(&mut self, ttl: Nanos) {
        self.ttl = Some(ttl);
        self.expires = vec![0; self.store.len()];
    }

    /// Drops key `k` if its expiry has passed.
    #[inline]
    fn expire(&mut self, k: usize, now: Nanos) {
        if self.ttl.is_some() && self.expires[k] != 0 && self.expires[k] <= now {
            self.store[k] = 0;
            self.expires[k] = 0;
        }
    }

    /// Stores key `k` with `version` (prefill, or a set).
    pub fn put(&mut self, k: u32, version: u32) {
        self.store[k as usize] = version.wrapping_add(1);
    }

    /// Whether the node holds key `k`.
    pub fn holds(&self, k: u32) -> bool {
        self.store[k as usize] != 0
    }

    /// Forgets every key (a restart).
    pub fn clear(&mut self) {
        self.store.iter_mut().for_each(|v| *v = 0);
    }

    /// Requests queued or in service.
    pub fn queue_len(&self) -> u64 {
        self.queued
    }

    /// The worker for a new connection (round robin, as memcached's
    /// dispatcher assigns them).
    pub fn assign_worker(&mut self) -> u16 {
        let w = self.next_worker % self.workers.len() as u32;
        self.next_worker = self.next_worker.wrapping_add(1);
        w as u16
    }

    /// A request arrived on a connection served by `worker`.
    #[inline]
    pub fn arrive(&mut self, worker: u16, job: Job) {
        self.workers[worker as usize].queue.push_back(job);
        self.queued += 1;
        self.peak_queue = self.peak_queue.max(self.queued);
    }

    /// If `worker` is idle and the node runs, takes the next request that is
    /// still wanted and starts serving it; returns whether it did. Every job
    /// taken from the queue (served or skipped as expired) is shown to
    /// `on_take`, so the caller can release its bytes from the socket buffers.
    #[inline]
    pub fn try_start(
        &mut self,
        worker: u16,
        sched: &mut Scheduler<Event>,
        mut on_take: impl FnMut(&Job),
    ) -> bool {
        if self.mode != NodeMode::Up {
            return false;
        }
        let now = sched.now();
        let w = &mut self.workers[worker as usize];
        if w.current.is_some() {
            return false;
        }
        while let Some(job) = w.queue.pop_front() {
            on_take(&job);
            if job.msg.deadline <= now {
                self.expired += 1;
                self.queued -= 1;
                continue;
            }
            self.wait_sum += (now - job.arrived) as u128;
            self.started += 1;
            let d = sample(&self.service, &mut self.rng);
            let d = if self.slow_factor == 1.0 {
                d
            } else {
                (d as f64 * self.slow_factor).round() as Nanos
            };
            w.current = Some(job);
            w.busy_since = now;
            w.serial = w.serial.wrapping_add(1);
            sched.after(
                d,
                Event::NodeDone {
                    node: self.id,
                    worker,
                    serial: w.serial,
                },
            );
            return true;
        }
        false
    }

    /// True when a completion event with `serial` belongs to the service
    /// `worker` is doing now.
    #[inline]
    pub fn is_current(&self, worker: u16, serial: u32) -> bool {
        let w = &self.workers[worker as usize];
        w.current.is_some() && w.serial == serial
    }

    /// The service of `worker`'s current request ended. Returns the reply, or
    /// `None` if the node is not running (the reply waits for it to run).
    #[inline]
    pub fn finish(&mut self, worker: u16, now: Nanos) -> Option<Done> {
        let w = &mut self.workers[worker as usize];
        if self.mode != NodeMode::Up {
            w.held = w.current.is_some();
            return None;
        }
        let job = w.current.take()?;
        w.held = false;
        self.busy_ns += (now - w.busy_since) as u128;
        self.queued -= 1;
        self.served += 1;
        let k = job.msg.key as usize;
        self.expire(k, now);
        if self.errors.0 > 0.0
            && let Some(rng) = &mut self.errors.1
            && rng.random_bool(self.errors.0)
        {
            return Some(Done {
                job,
                reply: Reply::ServerError,
            });
        }
        let reply = match job.msg.kind {
            OpKind::Get => match self.store[k] {
                0 => Reply::Miss,
                v => Reply::Hit(v - 1),
            },
            OpKind::Set => {
                self.store[k] = job.msg.version.wrapping_add(1);
                if let Some(ttl) = self.ttl {
                    self.expires[k] = now + ttl;
                }
                Reply::Stored
            }
            OpKind::Touch => {
                if self.store[k] == 0 {
                    Reply::Miss
                } else {
                    if let Some(ttl) = self.ttl {
                        self.expires[k] = now + ttl;
                    }
                    Reply::Stored
                }
            }
            OpKind::Delete => {
                if std::mem::take(&mut self.store[k]) == 0 {
                    Reply::Miss
                } else {
                    Reply::Stored
                }
            }
            OpKind::Noop => Reply::Stored,
        };
        Some(Done { job, reply })
    }

    /// Workers whose service ended while the node was stopped; the caller
    /// finishes them now that it runs again.
    pub fn held_workers(&self) -> Vec<u16> {
        (0..self.workers.len() as u16)
            .filter(|&w| self.workers[w as usize].held)
            .collect()
    }

    /// Idle workers with queued requests (to restart after a freeze).
    pub fn startable_workers(&self) -> Vec<u16> {
        (0..self.workers.len() as u16)
            .filter(|&w| {
                let w = &self.workers[w as usize];
                w.current.is_none() && !w.queue.is_empty()
            })
            .collect()
    }

    /// A crash: everything queued or in service is lost.
    pub fn drop_all(&mut self) {
        for w in &mut self.workers {
            w.queue.clear();
            w.current = None;
            w.held = false;
        }
        self.queued = 0;
    }

    /// Number of worker threads.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }
}
