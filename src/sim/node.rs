//! A memcached node: worker threads (`-t`), each connection pinned to one
//! worker round robin, FIFO service with a service-time distribution, a
//! listen backlog (`-b`) shared by all clients' connects, and its item
//! memory (`sim::memory`: which keys it holds with a version per key, bounded
//! with LRU eviction, expiry and leases when the model asks).
//!
//! Faults change its mode: `Frozen` processes nothing (a request in service
//! completes only when the node runs again), `Down` refuses connects and
//! forgets everything, `HostDown` (a reboot in progress) answers nothing at
//! all. A slow node multiplies its service time.

use std::collections::VecDeque;

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;

use super::memory::{Lookup, Memory};
use super::sampler::sample;
use crate::config::{Dist, MemoryConfig};
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
#[derive(Clone)]
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
    /// The items.
    pub mem: Memory,
    /// Gets waiting for a key leased to another reader, by key.
    parked: std::collections::BTreeMap<u32, Vec<Job>>,
    /// Bytes of every key's spelling besides its digits.
    key_fixed: u32,
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
}

/// Where an arriving request went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// An idle worker took it at once (served, or skipped as expired).
    Taken,
    /// It waits in its worker's queue.
    Queued,
}

/// What a finished request asks of the world.
pub enum Finished {
    /// Reply now.
    Reply(Done),
    /// A get parked behind another reader's lease: nothing to send yet.
    Parked,
    /// A get that took a new lease: reply, and end the lease at this time.
    Leased(Done, Nanos),
    /// A set that filled a leased key: reply, and answer these parked gets
    /// with this version.
    Filled(Done, Vec<Job>, u32),
}

impl Node {
    /// A node with `workers` threads and room for `keys` keys (spelled with
    /// `key_fixed` bytes besides their digits), its memory as `memory` says.
    pub fn new(
        id: NodeId,
        workers: u32,
        backlog: u32,
        service: Dist,
        (keys, key_fixed): (u32, u32),
        memory: &MemoryConfig,
        rng: ChaCha8Rng,
    ) -> Self {
        let mut mem = Memory::new(keys, memory);
        if let Some(ttl) = memory.ttl {
            mem.set_ttl(ttl);
        }
        Node {
            id,
            mode: NodeMode::Up,
            slow_factor: 1.0,
            errors: (0.0, None),
            workers: vec![Worker::default(); workers as usize],
            mem,
            parked: std::collections::BTreeMap::new(),
            key_fixed,
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
    /// `failover_exptime` on a gutter pool's sets; the shorter of it and the
    /// pool's own `ttl`).
    pub fn set_ttl(&mut self, ttl: Nanos) {
        self.mem.set_ttl(ttl);
    }

    /// Bytes of key `k`'s spelling.
    #[inline]
    fn key_len(&self, k: u32) -> u32 {
        self.key_fixed + k.checked_ilog10().unwrap_or(0) + 1
    }

    /// Stores key `k` with `version` and a `value`-byte value (the prefill).
    pub fn put(&mut self, k: u32, version: u32, value: u32) {
        let len = self.key_len(k);
        self.mem.prefill(k, version, len, value);
    }

    /// Whether the node holds key `k`.
    pub fn holds(&self, k: u32) -> bool {
        self.mem.peek(k).is_some()
    }

    /// Forgets every key (a restart); gets parked behind leases are lost.
    pub fn clear(&mut self) {
        self.mem.forget();
        self.parked.clear();
    }

    /// True when gets wait on key `k`'s lease.
    pub fn has_parked(&self, k: u32) -> bool {
        self.parked.contains_key(&k)
    }

    /// `flush_all`: every item is gone; the process and its connections stay.
    pub fn flush(&mut self) {
        self.mem.flush();
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

    /// A request arrived on a connection served by `worker`. An idle worker
    /// of a running node with nothing queued takes it at once (what queueing
    /// it and [`Node::try_start`] would do, without the queue); otherwise it
    /// waits in the worker's queue. Returns [`Arrival::Taken`] when it left
    /// the socket (served, or skipped as expired), so the caller releases its
    /// bytes from the socket buffers; after [`Arrival::Queued`] the caller
    /// calls `try_start` as before.
    #[inline]
    pub fn arrive(&mut self, worker: u16, job: Job, sched: &mut Scheduler<Event>) -> Arrival {
        self.queued += 1;
        self.peak_queue = self.peak_queue.max(self.queued);
        let w = &mut self.workers[worker as usize];
        if self.mode == NodeMode::Up && w.current.is_none() && w.queue.is_empty() {
            self.begin(worker, job, sched);
            return Arrival::Taken;
        }
        w.queue.push_back(job);
        Arrival::Queued
    }

    /// Queues a request without starting it (the general path, for tests
    /// that compare it with [`Node::arrive`]'s direct start).
    #[cfg(test)]
    fn enqueue(&mut self, worker: u16, job: Job) {
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
        if self.mode != NodeMode::Up || self.workers[worker as usize].current.is_some() {
            return false;
        }
        while let Some(job) = self.workers[worker as usize].queue.pop_front() {
            on_take(&job);
            if self.begin(worker, job, sched) {
                return true;
            }
        }
        false
    }

    /// Idle `worker` takes `job` (counted in `queued`): skipped if its
    /// deadline has passed (returns false), else its service starts and its
    /// end is scheduled.
    #[inline]
    fn begin(&mut self, worker: u16, job: Job, sched: &mut Scheduler<Event>) -> bool {
        let now = sched.now();
        if job.msg.deadline <= now {
            self.expired += 1;
            self.queued -= 1;
            return false;
        }
        self.wait_sum += (now - job.arrived) as u128;
        self.started += 1;
        let d = sample(&self.service, &mut self.rng);
        let d = if self.slow_factor == 1.0 {
            d
        } else {
            (d as f64 * self.slow_factor).round() as Nanos
        };
        let w = &mut self.workers[worker as usize];
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
        true
    }

    /// True when requests wait in `worker`'s queue.
    #[inline]
    pub fn has_queued(&self, worker: u16) -> bool {
        !self.workers[worker as usize].queue.is_empty()
    }

    /// True when a completion event with `serial` belongs to the service
    /// `worker` is doing now.
    #[inline]
    pub fn is_current(&self, worker: u16, serial: u32) -> bool {
        let w = &self.workers[worker as usize];
        w.current.is_some() && w.serial == serial
    }

    /// The service of `worker`'s current request ended. Returns what to
    /// send, or `None` if the node is not running (the reply waits for it to
    /// run).
    #[inline]
    pub fn finish(&mut self, worker: u16, now: Nanos) -> Option<Finished> {
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
        let k = job.msg.key;
        if self.errors.0 > 0.0
            && let Some(rng) = &mut self.errors.1
            && rng.random_bool(self.errors.0)
        {
            return Some(Finished::Reply(Done {
                job,
                reply: Reply::ServerError,
            }));
        }
        let reply = match job.msg.kind {
            OpKind::Get => match self.mem.get(k, now) {
                Lookup::Hit(v) | Lookup::Stale(v) => Reply::Hit(v),
                Lookup::Miss => {
                    let until = self.mem.lease_until(k);
                    if until > now {
                        let done = Done {
                            job,
                            reply: Reply::Miss,
                        };
                        return Some(Finished::Leased(done, until));
                    }
                    Reply::Miss
                }
                Lookup::Leased => {
                    self.parked.entry(k).or_default().push(job);
                    return Some(Finished::Parked);
                }
            },
            OpKind::Set => {
                // The sizes matter only to a store charged in bytes.
                let (len, value) = if self.mem.charges_bytes() {
                    let len = self.key_len(k);
                    (len, set_value(job.msg.bytes, len))
                } else {
                    (0, 0)
                };
                self.mem.set(k, job.msg.version, len, value, now);
                if !self.parked.is_empty()
                    && let Some(waiting) = self.parked.remove(&k)
                {
                    let done = Done {
                        job,
                        reply: Reply::Stored,
                    };
                    return Some(Finished::Filled(done, waiting, job.msg.version));
                }
                Reply::Stored
            }
            OpKind::Touch => {
                if self.mem.touch(k, now) {
                    Reply::Stored
                } else {
                    Reply::Miss
                }
            }
            OpKind::Delete => {
                if self.mem.delete(k, now) {
                    Reply::Stored
                } else {
                    Reply::Miss
                }
            }
            OpKind::Noop => Reply::Stored,
        };
        Some(Finished::Reply(Done { job, reply }))
    }

    /// The lease on key `k` was due to end at `until`: if it ended unfilled,
    /// the oldest get parked on it takes a new lease (its miss is returned
    /// with the new lease's end); the others wait on.
    pub fn lease_end(&mut self, k: u32, until: Nanos, now: Nanos) -> Option<(Done, Nanos)> {
        if self.mem.lease_until(k) != until || self.mode != NodeMode::Up {
            return None;
        }
        let parked = self.parked.get_mut(&k)?;
        let job = parked.remove(0);
        if parked.is_empty() {
            self.parked.remove(&k);
        }
        let reply = match self.mem.get(k, now) {
            Lookup::Hit(v) | Lookup::Stale(v) => Reply::Hit(v),
            Lookup::Miss | Lookup::Leased => Reply::Miss,
        };
        Some((Done { job, reply }, self.mem.lease_until(k)))
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

    /// A crash: everything queued, in service or parked is lost.
    pub fn drop_all(&mut self) {
        self.parked.clear();
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

/// Bytes of the value a set carries, from its bytes on the wire
/// (`set <key> <flags> <exptime> <bytes>\r\n<data>\r\n`, as the clients
/// spell it) and its key's length.
fn set_value(wire: u32, key_len: u32) -> u32 {
    // wire = 13 + key + digits(value) + value.
    let rest = wire.saturating_sub(13 + key_len);
    (1..=7)
        .map(|d| (d, rest.saturating_sub(d)))
        .find(|&(d, v)| v.checked_ilog10().unwrap_or(0) + 1 == d)
        .map_or(rest, |(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::client::plain::wire_bytes;

    /// A set served by a node whose memory is bounded in bytes charges its
    /// slab chunk from the value size read off the wire (the sizes are
    /// worked out only for such a store); a plain store keeps every key.
    #[test]
    fn sets_charge_their_chunks_only_where_bytes_count() {
        use crate::config::Capacity;
        let serve = |capacity: Option<Capacity>| {
            let memory = MemoryConfig {
                capacity,
                ..MemoryConfig::default()
            };
            let mut node = Node::new(
                NodeId::new(0),
                1,
                16,
                Dist::Constant(1_000),
                (100, 6),
                &memory,
                crate::engine::stream(1, "node-test"),
            );
            let mut sched = Scheduler::new();
            for k in 0..10u32 {
                let key_len = node.key_len(k) as usize;
                let job = Job {
                    conn: ConnId(0),
                    conn_gen: 0,
                    arrived: sched.now(),
                    msg: NodeMsg {
                        op: k,
                        op_gen: 0,
                        kind: OpKind::Set,
                        key: k,
                        version: 1,
                        bytes: wire_bytes(OpKind::Set, key_len, 100),
                        deadline: Nanos::MAX,
                    },
                };
                assert_eq!(node.arrive(0, job, &mut sched), Arrival::Taken);
                let (now, _) = sched.pop().unwrap();
                assert!(matches!(node.finish(0, now), Some(Finished::Reply(_))));
            }
            (node.mem.items(), node.mem.counts.evictions)
        };
        // Key 6 bytes + digit, value 100: 48 + 8 + 7 + 1 + 100 + 2 = 166
        // bytes, a 192-byte chunk; four fit in 768 bytes.
        assert_eq!(serve(Some(Capacity::Bytes(192 * 4))), (4, 6));
        assert_eq!(serve(None), (10, 0));
    }

    /// A request taken at once by an idle worker (`arrive`) gives exactly
    /// what queueing it and `try_start` gave: the same services (times,
    /// serials), the same requests read off the socket, the same counts,
    /// with expired requests and busy and frozen workers in the mix.
    #[test]
    fn direct_start_matches_queueing_then_try_start() {
        let run = |direct: bool| {
            let mut node = Node::new(
                NodeId::new(0),
                2,
                16,
                Dist::Exponential { mean: 50_000 },
                (100, 6),
                &MemoryConfig::default(),
                crate::engine::stream(7, "node-direct"),
            );
            let mut sched = Scheduler::new();
            let mut log = Vec::new();
            let mut x: u64 = 12345;
            for i in 0..4_000u32 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (x >> 33) % 16;
                if r < 7 {
                    let worker = (r % 2) as u16;
                    let now = sched.now();
                    let job = Job {
                        conn: ConnId(i),
                        conn_gen: 0,
                        arrived: now,
                        msg: NodeMsg {
                            op: i,
                            op_gen: 0,
                            kind: OpKind::Get,
                            key: i % 100,
                            version: 0,
                            bytes: 30,
                            // Some requests are already past their deadline.
                            deadline: if r == 3 { now } else { Nanos::MAX },
                        },
                    };
                    if direct {
                        if node.arrive(worker, job, &mut sched) == Arrival::Taken {
                            log.push(("taken", now, i));
                        } else {
                            node.try_start(worker, &mut sched, |j| {
                                log.push(("taken", now, j.conn.0))
                            });
                        }
                    } else {
                        node.enqueue(worker, job);
                        node.try_start(worker, &mut sched, |j| log.push(("taken", now, j.conn.0)));
                    }
                } else if r < 8 {
                    // Freeze or thaw: a frozen node queues and holds.
                    node.mode = if node.mode == NodeMode::Up {
                        NodeMode::Frozen
                    } else {
                        NodeMode::Up
                    };
                    if node.mode == NodeMode::Up {
                        let now = sched.now();
                        for w in node.held_workers() {
                            if let Some(Finished::Reply(d)) = node.finish(w, now) {
                                log.push(("held", now, d.job.conn.0));
                            }
                        }
                        for w in node.startable_workers() {
                            node.try_start(w, &mut sched, |j| log.push(("taken", now, j.conn.0)));
                        }
                    }
                } else if let Some((t, ev)) = sched.pop() {
                    let Event::NodeDone { worker, serial, .. } = ev else {
                        panic!("only node events are scheduled");
                    };
                    if node.is_current(worker, serial) {
                        if let Some(Finished::Reply(d)) = node.finish(worker, t) {
                            log.push(("done", t, d.job.conn.0));
                        }
                        node.try_start(worker, &mut sched, |j| log.push(("taken", t, j.conn.0)));
                    }
                }
            }
            let counts = (
                node.started,
                node.served,
                node.expired,
                node.wait_sum,
                node.peak_queue,
                node.queued,
                node.busy_ns,
            );
            (log, counts)
        };
        let (direct, queued) = (run(true), run(false));
        let done = direct.0.iter().filter(|e| e.0 == "done").count();
        assert!(done > 500, "{done} {:?}", direct.1);
        assert!(direct.1.2 > 100, "some requests expire: {:?}", direct.1);
        assert_eq!(direct, queued);
    }

    #[test]
    fn set_value_inverts_the_wire_size() {
        for key_len in [1usize, 8, 250] {
            for v in [0u32, 1, 9, 10, 99, 100, 400, 9_999, 10_000, 1 << 20] {
                let wire = wire_bytes(OpKind::Set, key_len, v);
                assert_eq!(set_value(wire, key_len as u32), v, "{key_len} {v}");
            }
        }
    }
}
