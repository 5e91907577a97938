//! The database: HikariCP-like pools in front of a server.
//!
//! A query takes a connection from its pool (one pool for the fleet, or one
//! per service instance) if one is free, else its caller blocks in the
//! pool's FIFO of waiters for up to `connectionTimeout` (then
//! `SQLTransientConnectionException`: an error). With a connection, the
//! query reaches the server, which runs at most `max_connections` queries at
//! once and keeps the rest in a FIFO of `queue_limit` (one more is refused:
//! an error at once). A query's time is its sampled time multiplied by the
//! load knee's factor (the rate of arrivals at the server over the last
//! window), the Universal Scalability Law's factor (the queries executing,
//! itself included), a `db_slow` fault's factor and a cold buffer cache's
//! factor after a failover; it is fixed when the query starts.
//!
//! A caller's deadline (when the model sets one) ends the caller's wait with
//! an error; the query then keeps running and holds its connection until it
//! ends (`keep_running`: wasted work), or is removed from the queue or
//! stopped where it runs and its connection returned (`kill`). Defaults: one
//! shared pool, no server bound, no deadline, no knee: an M/G/c with c the
//! pool, as before.
//!
//! Every answer a caller gets (a result or an error) is pushed to `out`; the
//! world takes them after each call into the database. The caller's thread
//! is held throughout.

use std::collections::VecDeque;

use crate::engine::rng::ChaCha8Rng;

use super::event::Event;
use super::ids::QueryRef;
use super::request::ReqRef;
use super::resilience::budget::Budget;
use super::resilience::retry;
use super::sampler::sample;
use crate::config::database::{OnDeadline, PoolScope};
use crate::config::{DatabaseConfig as DatabaseSpec, Dist};
use crate::engine::{Lane, Nanos, Scheduler};

/// What a caller learns of its query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The caller.
    pub req: ReqRef,
    /// A result (true) or an error (false).
    pub ok: bool,
    /// When the caller called.
    pub called: Nanos,
}

/// A read-through fill a query makes when it ends with a result: the key
/// is set into `pool` by `instance`'s client, whether or not the caller
/// still waits (`fill = "read_through"` on a `db_read` step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Service instance whose client sets it.
    pub instance: u16,
    /// Cache pool.
    pub pool: u16,
    /// Key.
    pub key: u32,
    /// Value bytes.
    pub size: u32,
}

/// What a call asks of the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryOp {
    /// A read, with its read-through fill if the step has one.
    Read(Option<Fill>),
    /// A write.
    Write,
}

/// Where a query is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// Its slot is free.
    Free,
    /// Waiting for a pool connection.
    PoolWait,
    /// Sent, not yet at the server (the link is cut).
    Transit,
    /// In the server's queue.
    Queued,
    /// Executing.
    Running,
    /// Done, its answer not yet delivered (the server is frozen: it keeps
    /// its place; the link is cut: it does not).
    Held {
        /// It still occupies one of the server's `max_connections`.
        slot: bool,
    },
}

#[derive(Clone, Copy, Debug)]
struct Query {
    generation: u32,
    at: At,
    req: ReqRef,
    write: bool,
    pool: u16,
    /// Its caller left (deadline): nothing is answered any more.
    abandoned: bool,
    called: Nanos,
    /// Read-through: the fill it makes when it ends with a result.
    fill: Option<Fill>,
}

/// One pool of connections.
#[derive(Clone, Debug, Default)]
struct Pool {
    limit: Option<u32>,
    busy: u32,
    waiters: VecDeque<QueryRef>,
    /// Waiters still waiting (the queue may hold stale ones).
    waiting: u64,
}

/// The server's condition, set by database faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Serving.
    Up,
    /// Frozen: takes queries in its queue, completes nothing.
    Frozen,
    /// Unavailable: refuses every query, running ones fail.
    Down,
    /// The link to the service is cut: the server works, nothing crosses.
    Cut,
}

/// Queries that arrived at the server in the last window, counted in slots
/// of a tenth of the window (bounded memory): the current slot, the nine
/// before it, and the part of the tenth before them that is still inside
/// the window (assuming its arrivals were spread evenly).
#[derive(Clone, Debug)]
struct RateWindow {
    slot: Nanos,
    window_s: f64,
    counts: [(u64, u64); 11],
}

impl RateWindow {
    fn new(window: Nanos) -> Self {
        RateWindow {
            slot: (window / 10).max(1),
            window_s: window as f64 / 1e9,
            counts: [(u64::MAX, 0); 11],
        }
    }

    fn arrive(&mut self, now: Nanos) {
        let k = now / self.slot;
        let c = &mut self.counts[(k % 11) as usize];
        if c.0 != k {
            *c = (k, 0);
        }
        c.1 += 1;
    }

    /// Arrivals per second over the last window.
    fn rate(&self, now: Nanos) -> f64 {
        let k = now / self.slot;
        let into = (now % self.slot) as f64 / self.slot as f64;
        let n: f64 = self
            .counts
            .iter()
            .filter(|(s, _)| *s != u64::MAX && *s <= k && *s + 10 >= k)
            .map(|&(s, n)| {
                if s + 10 == k {
                    n as f64 * (1.0 - into)
                } else {
                    n as f64
                }
            })
            .sum();
        n / self.window_s
    }
}

/// The pools and the server.
#[derive(Clone)]
pub struct Database {
    spec: DatabaseSpec,
    pools: Vec<Pool>,
    /// Connections busy, over all pools (the pools' `busy` summed).
    busy: u64,
    /// Waiters still waiting, over all pools (the pools' `waiting` summed).
    waiting: u64,
    slab: Vec<Query>,
    free: Vec<u32>,
    running: u32,
    queue: VecDeque<QueryRef>,
    /// Live entries of `queue`.
    queued: u64,
    mode: Mode,
    slow_factor: f64,
    cold_factor: f64,
    cold_until: Nanos,
    rate: Option<RateWindow>,
    read: Dist,
    write: Dist,
    rng: ChaCha8Rng,
    /// Lane of the connection-timeout timers.
    pub wait_lane: Lane,
    /// Lane of the callers' deadlines.
    deadline_lane: Option<Lane>,
    /// Answers not yet taken by the world.
    pub out: VecDeque<Answer>,
    /// Read-through fills of queries that ended with a result, in order.
    pub fills: VecDeque<Fill>,
    /// Most queries running or waiting at once.
    pub peak_in_flight: u64,
    /// Most queries waiting at once.
    pub peak_waiting: u64,
    /// Queries run.
    pub queries: u64,
    /// Waits that timed out.
    pub wait_timeouts: u64,
    /// Calls made (retries included).
    pub calls: u64,
    /// Calls whose caller's deadline passed first.
    pub deadline_exceeded: u64,
    /// Queries stopped by a kill.
    pub killed: u64,
    /// Queries refused by a full server queue or an unavailable server.
    pub refused: u64,
    /// Queries that ran to their end after their caller left.
    pub wasted: u64,
    /// Each service instance's budget for query retries.
    budgets: Vec<Budget>,
    retry_rng: ChaCha8Rng,
    /// Retries of failed calls made.
    pub retries: u64,
    /// Queries that started slowed down (the load knee, contention, a
    /// `db_slow` fault or a cold cache after a failover).
    pub slowed: u64,
    /// Retries are allowed (a `retries_off` policy change clears it).
    pub retries_on: bool,
    /// Retries the budget refused.
    pub budget_refused: u64,
}

impl Database {
    /// A database as the model describes it, for `instances` service
    /// instances.
    pub fn new(
        spec: &DatabaseSpec,
        instances: usize,
        rng: ChaCha8Rng,
        retry_rng: ChaCha8Rng,
        sched: &mut Scheduler<Event>,
    ) -> Self {
        let pools = match spec.pool_scope {
            PoolScope::Shared => 1,
            PoolScope::Instance => instances.max(1),
        };
        Database {
            spec: spec.clone(),
            pools: (0..pools)
                .map(|_| Pool {
                    limit: spec.connections,
                    ..Pool::default()
                })
                .collect(),
            busy: 0,
            waiting: 0,
            slab: Vec::new(),
            free: Vec::new(),
            running: 0,
            queue: VecDeque::new(),
            queued: 0,
            mode: Mode::Up,
            slow_factor: 1.0,
            cold_factor: 1.0,
            cold_until: 0,
            rate: spec.overload.as_ref().map(|o| RateWindow::new(o.window)),
            read: spec.read,
            write: spec.write,
            rng,
            wait_lane: sched.lane(spec.connection_timeout),
            deadline_lane: spec.deadline.map(|d| sched.lane(d)),
            out: VecDeque::new(),
            fills: VecDeque::new(),
            peak_in_flight: 0,
            peak_waiting: 0,
            queries: 0,
            wait_timeouts: 0,
            calls: 0,
            deadline_exceeded: 0,
            killed: 0,
            refused: 0,
            wasted: 0,
            budgets: spec
                .budget
                .as_ref()
                .map(|b| (0..instances).map(|_| Budget::new(b)).collect())
                .unwrap_or_default(),
            retry_rng,
            retries: 0,
            slowed: 0,
            retries_on: true,
            budget_refused: 0,
        }
    }

    /// After failed attempt `attempt` (1 = the first call) of a call by
    /// `instance` whose last sleep was `prev`: the sleep before the next
    /// attempt, or `None` when the call fails (no retries, attempts used up,
    /// or the budget refuses).
    pub fn retry_after(
        &mut self,
        instance: usize,
        attempt: u32,
        prev: Nanos,
        now: Nanos,
    ) -> Option<Nanos> {
        let cfg = self.spec.retry.as_ref()?;
        if attempt >= cfg.max_attempts || !self.retries_on {
            return None;
        }
        if let Some(b) = self.budgets.get_mut(instance)
            && !b.withdraw(now)
        {
            self.budget_refused += 1;
            return None;
        }
        self.retries += 1;
        Some(retry::wait(cfg, attempt, prev, &mut self.retry_rng))
    }

    /// Queries holding a connection plus waiters, over all pools.
    #[inline]
    pub fn in_flight(&self) -> u64 {
        self.busy + self.waiting
    }

    /// Queries waiting for a connection, over all pools.
    #[inline]
    fn waiting(&self) -> u64 {
        self.waiting
    }

    /// Queries waiting in the server's queue.
    pub fn server_queue(&self) -> u64 {
        self.queued
    }

    /// The server's condition.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn note_peak(&mut self) {
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight());
        self.peak_waiting = self.peak_waiting.max(self.waiting());
    }

    fn alloc(&mut self, q: Query) -> QueryRef {
        if let Some(slot) = self.free.pop() {
            let generation = self.slab[slot as usize].generation;
            self.slab[slot as usize] = Query { generation, ..q };
            return QueryRef { slot, generation };
        }
        self.slab.push(Query { generation: 0, ..q });
        QueryRef {
            slot: (self.slab.len() - 1) as u32,
            generation: 0,
        }
    }

    fn release(&mut self, q: QueryRef) {
        let x = &mut self.slab[q.slot as usize];
        x.at = At::Free;
        x.generation = x.generation.wrapping_add(1);
        self.free.push(q.slot);
    }

    #[inline]
    fn get(&self, q: QueryRef) -> Option<&Query> {
        self.slab
            .get(q.slot as usize)
            .filter(|x| x.generation == q.generation && x.at != At::Free)
    }

    fn set_at(&mut self, q: QueryRef, at: At) {
        self.slab[q.slot as usize].at = at;
    }

    /// Request `req` of service instance `instance` calls the database.
    pub fn call(
        &mut self,
        req: ReqRef,
        op: QueryOp,
        instance: usize,
        first: bool,
        now: Nanos,
        sched: &mut Scheduler<Event>,
    ) {
        self.calls += 1;
        let (write, fill) = match op {
            QueryOp::Read(fill) => (false, fill),
            QueryOp::Write => (true, None),
        };
        if first && let Some(b) = self.budgets.get_mut(instance) {
            b.deposit(now);
        }
        let pool = match self.spec.pool_scope {
            PoolScope::Shared => 0,
            PoolScope::Instance => instance,
        };
        let q = self.alloc(Query {
            generation: 0,
            at: At::PoolWait,
            req,
            write,
            pool: pool as u16,
            abandoned: false,
            called: now,
            fill,
        });
        let p = &mut self.pools[pool];
        if p.limit.is_none_or(|l| p.busy < l) {
            p.busy += 1;
            self.busy += 1;
            self.reach_server(q, now, sched);
        } else {
            p.waiters.push_back(q);
            p.waiting += 1;
            self.waiting += 1;
            sched.after_lane(self.wait_lane, Event::DbTimeout(q));
        }
        self.note_peak();
        if let Some(lane) = self.deadline_lane
            && self.get(q).is_some()
        {
            sched.after_lane(lane, Event::DbDeadline(q));
        }
    }

    /// A query with a connection reaches the server.
    fn reach_server(&mut self, q: QueryRef, now: Nanos, sched: &mut Scheduler<Event>) {
        match self.mode {
            Mode::Cut => self.set_at(q, At::Transit),
            Mode::Down => {
                self.refused += 1;
                self.fail(q, now, sched);
            }
            Mode::Up | Mode::Frozen => {
                if let Some(r) = self.rate.as_mut() {
                    r.arrive(now);
                }
                if self.mode == Mode::Up && self.has_room() {
                    self.start(q, now, sched);
                } else if self
                    .spec
                    .queue_limit
                    .is_none_or(|l| self.queued < u64::from(l))
                {
                    self.queue.push_back(q);
                    self.queued += 1;
                    self.set_at(q, At::Queued);
                } else {
                    self.refused += 1;
                    self.fail(q, now, sched);
                }
            }
        }
    }

    fn has_room(&self) -> bool {
        self.spec.max_connections.is_none_or(|m| self.running < m)
    }

    fn serving(&self) -> bool {
        matches!(self.mode, Mode::Up | Mode::Cut)
    }

    /// The query starts executing; its end is scheduled.
    fn start(&mut self, q: QueryRef, now: Nanos, sched: &mut Scheduler<Event>) {
        self.running += 1;
        self.queries += 1;
        self.set_at(q, At::Running);
        let write = self.slab[q.slot as usize].write;
        let dist = if write { self.write } else { self.read };
        let mut d = sample(&dist, &mut self.rng);
        let mut factor = self.slow_factor;
        if let Some(r) = &self.rate {
            factor *= self.spec.knee_factor(r.rate(now));
        }
        factor *= self.spec.contention_factor(self.running);
        if now < self.cold_until {
            factor *= self.cold_factor;
        }
        if factor != 1.0 {
            if factor > 1.0 {
                self.slowed += 1;
            }
            d = (d as f64 * factor).round().min(u64::MAX as f64 / 4.0) as Nanos;
        }
        sched.after(d, Event::DbDone(q));
    }

    /// Starts queued queries while the server has room.
    fn start_next(&mut self, now: Nanos, sched: &mut Scheduler<Event>) {
        while self.serving() && self.has_room() {
            let Some(q) = self.queue.pop_front() else {
                return;
            };
            if self.get(q).is_some_and(|x| x.at == At::Queued) {
                self.queued -= 1;
                self.start(q, now, sched);
            }
        }
    }

    /// A query's connection returns to its pool: the oldest live waiter
    /// takes it.
    fn give_back(&mut self, pool: u16, now: Nanos, sched: &mut Scheduler<Event>) {
        let p = &mut self.pools[pool as usize];
        p.busy -= 1;
        self.busy -= 1;
        while let Some(w) = self.pools[pool as usize].waiters.pop_front() {
            if !self.get(w).is_some_and(|x| x.at == At::PoolWait) {
                continue;
            }
            let p = &mut self.pools[pool as usize];
            p.waiting -= 1;
            p.busy += 1;
            self.waiting -= 1;
            self.busy += 1;
            self.reach_server(w, now, sched);
            return;
        }
    }

    /// The query ends with `ok`: answered (unless abandoned), its
    /// connection given back, its slot freed.
    fn settle(&mut self, q: QueryRef, ok: bool, now: Nanos, sched: &mut Scheduler<Event>) {
        let x = self.slab[q.slot as usize];
        self.release(q);
        if ok && let Some(f) = x.fill {
            self.fills.push_back(f);
        }
        if x.abandoned {
            if ok {
                self.wasted += 1;
            }
        } else {
            self.out.push_back(Answer {
                req: x.req,
                ok,
                called: x.called,
            });
        }
        self.give_back(x.pool, now, sched);
    }

    fn fail(&mut self, q: QueryRef, now: Nanos, sched: &mut Scheduler<Event>) {
        self.settle(q, false, now, sched);
    }

    /// A query's execution ended (`DbDone`); false when stale.
    pub fn done(&mut self, q: QueryRef, now: Nanos, sched: &mut Scheduler<Event>) -> bool {
        if !self.get(q).is_some_and(|x| x.at == At::Running) {
            return false;
        }
        match self.mode {
            Mode::Frozen => {
                self.set_at(q, At::Held { slot: true });
                return true;
            }
            Mode::Cut => {
                self.running -= 1;
                self.set_at(q, At::Held { slot: false });
                self.start_next(now, sched);
                return true;
            }
            Mode::Up | Mode::Down => {}
        }
        self.running -= 1;
        self.start_next(now, sched);
        self.settle(q, true, now, sched);
        true
    }

    /// A wait for a connection timed out (`DbTimeout`); false when stale.
    pub fn pool_timeout(&mut self, q: QueryRef, now: Nanos, sched: &mut Scheduler<Event>) -> bool {
        let Some(&x) = self.get(q) else {
            return false;
        };
        if x.at != At::PoolWait || x.abandoned {
            return false;
        }
        self.pools[x.pool as usize].waiting -= 1;
        self.waiting -= 1;
        self.wait_timeouts += 1;
        self.release(q);
        self.out.push_back(Answer {
            req: x.req,
            ok: false,
            called: x.called,
        });
        let _ = (now, sched);
        true
    }

    /// The caller's deadline passed (`DbDeadline`); false when stale.
    pub fn deadline(&mut self, q: QueryRef, now: Nanos, sched: &mut Scheduler<Event>) -> bool {
        let Some(&x) = self.get(q) else {
            return false;
        };
        if x.abandoned {
            return false;
        }
        self.deadline_exceeded += 1;
        self.out.push_back(Answer {
            req: x.req,
            ok: false,
            called: x.called,
        });
        self.slab[q.slot as usize].abandoned = true;
        let kill = self.spec.on_deadline == OnDeadline::Kill;
        match x.at {
            At::Free => {}
            At::PoolWait => {
                // Nothing ran: the caller simply stops waiting.
                self.pools[x.pool as usize].waiting -= 1;
                self.waiting -= 1;
                self.release(q);
            }
            At::Queued | At::Running | At::Held { .. } | At::Transit if kill => {
                self.killed += 1;
                match x.at {
                    At::Queued => self.queued -= 1,
                    At::Running | At::Held { slot: true } => self.running -= 1,
                    At::Held { slot: false } | At::Transit | At::Free | At::PoolWait => {}
                }
                self.release(q);
                self.start_next(now, sched);
                self.give_back(x.pool, now, sched);
            }
            At::Queued | At::Running | At::Held { .. } | At::Transit => {}
        }
        true
    }

    /// Every live query at `at` (slab order).
    fn live_at(&self, pick: impl Fn(At) -> bool) -> Vec<QueryRef> {
        self.slab
            .iter()
            .enumerate()
            .filter(|(_, x)| x.at != At::Free && pick(x.at))
            .map(|(i, x)| QueryRef {
                slot: i as u32,
                generation: x.generation,
            })
            .collect()
    }

    /// The pools' and the server's counts agree with the queries: every
    /// live query waits for a connection or holds one, the server runs at
    /// most `max_connections` and queues at most `queue_limit`.
    pub fn check(&self) -> Result<(), String> {
        let count = |pick: fn(At) -> bool| self.slab.iter().filter(|x| pick(x.at)).count() as u64;
        let waiting = count(|a| a == At::PoolWait);
        let holding = count(|a| !matches!(a, At::Free | At::PoolWait));
        let busy: u64 = self.pools.iter().map(|p| u64::from(p.busy)).sum();
        let pools_waiting: u64 = self.pools.iter().map(|p| p.waiting).sum();
        if busy != self.busy || pools_waiting != self.waiting {
            return Err(format!(
                "database: the pools count {busy} busy and {pools_waiting} waiting, \
                 the totals {} and {}",
                self.busy, self.waiting
            ));
        }
        if waiting != self.waiting() || holding != busy {
            return Err(format!(
                "database: {waiting} queries wait for a connection and {holding} hold one, \
                 the pools count {} and {busy}",
                self.waiting()
            ));
        }
        if let Some(p) = self
            .pools
            .iter()
            .find(|p| p.limit.is_some_and(|l| p.busy > l))
        {
            return Err(format!("database: a pool has {} busy connections", p.busy));
        }
        let running = count(|a| matches!(a, At::Running | At::Held { slot: true }));
        let queued = count(|a| a == At::Queued);
        if running != u64::from(self.running)
            || queued != self.queued
            || self.spec.max_connections.is_some_and(|m| self.running > m)
            || self
                .spec
                .queue_limit
                .is_some_and(|l| self.queued > u64::from(l))
        {
            return Err(format!(
                "database server: {running} running and {queued} queued, counted {} and {}",
                self.running, self.queued
            ));
        }
        Ok(())
    }

    /// An outage begins: the server completes nothing; queries queue.
    pub fn freeze(&mut self) {
        self.mode = Mode::Frozen;
    }

    /// The server runs again: what completed is answered, the queue moves.
    pub fn thaw(&mut self, now: Nanos, sched: &mut Scheduler<Event>) {
        self.mode = Mode::Up;
        for q in self.live_at(|a| a == At::Held { slot: true }) {
            self.running -= 1;
            self.settle(q, true, now, sched);
        }
        self.start_next(now, sched);
    }

    /// A failover begins: the server is unavailable; every query on it
    /// fails (connections reset) and new ones are refused.
    pub fn go_down(&mut self, now: Nanos, sched: &mut Scheduler<Event>) {
        self.mode = Mode::Down;
        let on_server =
            self.live_at(|a| matches!(a, At::Queued | At::Running | At::Held { .. } | At::Transit));
        self.queue.clear();
        self.queued = 0;
        self.running = 0;
        for q in on_server {
            if self.get(q).is_some() {
                self.fail(q, now, sched);
            }
        }
    }

    /// The new primary serves, slower by `cold_factor` until `cold_until`
    /// (its buffer cache is cold).
    pub fn come_up(&mut self, cold_factor: f64, cold_until: Nanos) {
        self.mode = Mode::Up;
        self.cold_factor = cold_factor;
        self.cold_until = cold_until;
    }

    /// The link between the service and the database is cut.
    pub fn cut(&mut self) {
        self.mode = Mode::Cut;
    }

    /// The link heals: what was sent arrives, what was answered is
    /// delivered.
    pub fn heal(&mut self, now: Nanos, sched: &mut Scheduler<Event>) {
        self.mode = Mode::Up;
        for q in self.live_at(|a| a == At::Held { slot: false }) {
            self.settle(q, true, now, sched);
        }
        for q in self.live_at(|a| a == At::Transit) {
            if self.get(q).is_some_and(|x| x.at == At::Transit) {
                self.reach_server(q, now, sched);
            }
        }
        self.start_next(now, sched);
    }

    /// Service times × `factor` (a `db_slow` fault; 1 ends it).
    pub fn set_slow(&mut self, factor: f64) {
        self.slow_factor = factor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::model;
    use crate::engine::rng::stream;
    use crate::engine::time::MS;

    /// Queries called at once, one after the other, with no bound: query
    /// i starts with i executing (itself included) and takes the default
    /// 5 ms × the USL factor 1 + σ(i−1) + κ i(i−1).
    #[test]
    fn usl_stretches_each_query_by_the_concurrency_at_its_start() {
        let m = model(&[
            "database.connections=0",
            "database.contention.sigma=0.1",
            "database.contention.kappa=0.01",
        ])
        .unwrap();
        let mut sched = Scheduler::new();
        let mut db = Database::new(&m.database, 1, stream(1, "d"), stream(1, "r"), &mut sched);
        let req = ReqRef {
            idx: 0,
            generation: 0,
        };
        for _ in 0..5 {
            db.call(req, QueryOp::Read(None), 0, true, 0, &mut sched);
        }
        let mut ends = Vec::new();
        while let Some((t, ev)) = sched.pop() {
            if let Event::DbDone(_) = ev {
                ends.push(t);
            }
        }
        let want: Vec<Nanos> = (1..=5u32)
            .map(|n| (5.0 * MS as f64 * m.database.contention_factor(n)).round() as Nanos)
            .collect();
        assert_eq!(ends, want);
        assert_eq!(
            m.database.contention_factor(3),
            1.0 + 0.1 * 2.0 + 0.01 * 6.0
        );
    }

    #[test]
    fn the_rate_window_counts_the_last_window_only() {
        let mut w = RateWindow::new(1_000_000_000);
        for i in 0..300 {
            w.arrive(i * 3_000_000); // 300 arrivals over 0.9 s
        }
        assert!((w.rate(900_000_000) - 300.0).abs() < 1e-9);
        // A steady 300 per second reads 300 at any time.
        let mut s = RateWindow::new(1_000_000_000);
        for i in 0..3000 {
            let t = i * 10_000_000 / 3;
            s.arrive(t);
            if t > 1_000_000_000 {
                assert!((s.rate(t) - 300.0).abs() < 1.5, "{} at {t}", s.rate(t));
            }
        }
        // Two seconds later they have all left the window.
        assert_eq!(w.rate(2_900_000_000), 0.0);
    }
}
