//! The node end of the connections: requests arriving at a node, replies
//! leaving it, and connect attempts meeting its listen backlog.

use super::{World, ctx_of};
use crate::sim::event::ClientTimer;
use crate::sim::event::{ConnectOutcome, Event};
use crate::sim::ids::{ClientId, ConnId, NodeId};
use crate::sim::node::{Arrival, Done, Finished, Job, NodeMode};
use crate::sim::protocol::{ClientMsg, Reply};

impl World {
    /// A request reaches a node.
    pub(crate) fn arrive_at_node(&mut self, conn: ConnId, generation: u32) -> bool {
        let Some(msg) = self.cache.net.arrive_at_node(conn, generation) else {
            return false;
        };
        let node = self.cache.net.node_of(conn);
        if self.cache.proxy.as_ref().is_some_and(|p| p.node == node)
            && matches!(
                self.cache.nodes[node.index()].mode,
                NodeMode::Up | NodeMode::Frozen
            )
        {
            self.proxy_arrive(conn, generation, msg);
            return true;
        }
        match self.cache.nodes[node.index()].mode {
            NodeMode::Down => {
                // Nothing listens: the kernel answers with a reset.
                self.cache.net.send_to_client(
                    &mut self.sched,
                    conn,
                    ClientMsg {
                        op: msg.op,
                        op_gen: msg.op_gen,
                        reply: Reply::Reset,
                    },
                );
            }
            NodeMode::HostDown => {}
            NodeMode::Up | NodeMode::Frozen => {
                let worker = self.cache.net.conn(conn).worker;
                let now = self.sched.now();
                let job = Job {
                    conn,
                    conn_gen: generation,
                    arrived: now,
                    msg,
                };
                match self.cache.nodes[node.index()].arrive(worker, job, &mut self.sched) {
                    // Read at once: its bytes leave the socket buffers (the
                    // generation was just checked), as `start_worker` does.
                    Arrival::Taken => {
                        self.cache.net.conn_mut(conn).unread -= msg.bytes as u64;
                        let client = self.cache.net.client_of(conn);
                        if self.cache.clients[client.index()].waits_for_room(node) {
                            let mut ctx = ctx_of!(self, client);
                            self.cache.clients[client.index()].writable(&mut ctx, node);
                        }
                    }
                    Arrival::Queued => self.start_worker(node, worker),
                }
            }
        }
        true
    }

    /// Lets an idle worker take its next request; the bytes it reads leave
    /// the socket buffers, which may let a client write again.
    pub(crate) fn start_worker(&mut self, node: NodeId, worker: u16) {
        let net = &mut self.cache.net;
        let mut taken = [ConnId(u32::MAX); 4];
        let mut n = 0;
        self.cache.nodes[node.index()].try_start(worker, &mut self.sched, |job| {
            let c = net.conn_mut(job.conn);
            if c.generation == job.conn_gen {
                c.unread -= job.msg.bytes as u64;
                if n < taken.len() {
                    taken[n] = job.conn;
                    n += 1;
                }
            }
        });
        for &conn in &taken[..n] {
            let client = self.cache.net.client_of(conn);
            if self.cache.clients[client.index()].waits_for_room(node) {
                let mut ctx = ctx_of!(self, client);
                self.cache.clients[client.index()].writable(&mut ctx, node);
            }
        }
    }

    /// A node worker finished a request.
    pub(crate) fn node_done(&mut self, node: NodeId, worker: u16, serial: u32) -> bool {
        let n = node;
        if !self.cache.nodes[n.index()].is_current(worker, serial) {
            return false;
        }
        let now = self.sched.now();
        let Some(finished) = self.cache.nodes[n.index()].finish(worker, now) else {
            return true;
        };
        self.finished(n, finished);
        // The worker is idle now: it takes its next request, if any waits.
        if self.cache.nodes[n.index()].has_queued(worker) {
            self.start_worker(n, worker);
        }
        true
    }

    /// Sends what a finished request produced: its reply, the replies of
    /// gets parked behind a lease that a set just filled, and the timer of a
    /// lease just granted.
    #[inline]
    fn finished(&mut self, n: NodeId, finished: Finished) {
        match finished {
            Finished::Reply(done) => self.reply(done.job, done.reply),
            f @ (Finished::Parked | Finished::Leased(..) | Finished::Filled(..)) => {
                self.lease_finished(n, f)
            }
        }
    }

    /// The lease cases of [`World::finished`] (only with leases on).
    #[cold]
    #[inline(never)]
    fn lease_finished(&mut self, n: NodeId, finished: Finished) {
        match finished {
            Finished::Reply(done) => self.reply(done.job, done.reply),
            Finished::Parked => {}
            Finished::Leased(done, until) => {
                self.reply(done.job, done.reply);
                self.sched.at(
                    until,
                    Event::LeaseEnd {
                        node: n,
                        key: done.job.msg.key,
                    },
                );
            }
            Finished::Filled(done, waiting, version) => {
                self.reply(done.job, done.reply);
                for job in waiting {
                    self.reply(job, Reply::Hit(version));
                }
            }
        }
    }

    /// A lease is due to end: if it ended unfilled, the oldest get waiting
    /// on it gets a miss and the next lease.
    #[cold]
    #[inline(never)]
    pub(crate) fn lease_end(&mut self, n: NodeId, key: u32) -> bool {
        let now = self.sched.now();
        let node = &mut self.cache.nodes[n.index()];
        if node.mem.lease_until(key) != now {
            return false;
        }
        match node.lease_end(key, now, now) {
            Some((Done { job, reply }, until)) => {
                self.reply(job, reply);
                if until > now {
                    self.sched.at(until, Event::LeaseEnd { node: n, key });
                }
            }
            None => {
                // A stopped node keeps its waiters; look again a lease later.
                if node.mode != NodeMode::Up && node.has_parked(key) {
                    let again = now + node.mem.lease_time();
                    node.mem.extend_lease(key, again);
                    self.sched.at(again, Event::LeaseEnd { node: n, key });
                }
            }
        }
        true
    }

    fn reply(&mut self, job: Job, reply: Reply) {
        let c = self.cache.net.conn(job.conn);
        if c.generation == job.conn_gen && c.open {
            self.cache.net.send_to_client(
                &mut self.sched,
                job.conn,
                ClientMsg {
                    op: job.msg.op,
                    op_gen: job.msg.op_gen,
                    reply,
                },
            );
        }
    }

    /// A stopped node runs again: replies held during the stop go out, idle
    /// workers take their queues.
    pub(crate) fn resume_node(&mut self, n: NodeId) {
        self.cache.nodes[n.index()].mode = NodeMode::Up;
        self.cache.nodes[n.index()].backlog_used = 0;
        let now = self.sched.now();
        for w in self.cache.nodes[n.index()].held_workers() {
            if let Some(finished) = self.cache.nodes[n.index()].finish(w, now) {
                self.finished(n, finished);
            }
        }
        for w in self.cache.nodes[n.index()].startable_workers() {
            self.start_worker(n, w);
        }
        self.proxy_resumed(n);
    }

    /// A connect attempt (SYN) reaches a node: the kernel accepts it into the
    /// listen backlog if the process is up or stopped and the backlog has room,
    /// refuses it if nothing listens, and ignores it if the host is down.
    pub(crate) fn connect_arrive(&mut self, conn: ConnId, generation: u32) -> bool {
        if self.cache.net.conn(conn).generation != generation {
            return false;
        }
        let n = self.cache.net.node_of(conn);
        let node = &mut self.cache.nodes[n.index()];
        let outcome = match node.mode {
            NodeMode::Up => ConnectOutcome::Accepted,
            NodeMode::Frozen if node.backlog_used < node.backlog => {
                node.backlog_used += 1;
                ConnectOutcome::Accepted
            }
            NodeMode::Frozen | NodeMode::HostDown => return true,
            NodeMode::Down => ConnectOutcome::Refused,
        };
        if outcome == ConnectOutcome::Accepted {
            let w = node.assign_worker();
            self.cache.net.conn_mut(conn).worker = w;
        }
        if let Some(d) = self.cache.net.control_delay(n) {
            let client = self.cache.net.client_of(conn);
            self.sched.after(
                d,
                Event::Client {
                    client,
                    timer: ClientTimer::ConnectResult {
                        node: n,
                        outcome,
                        generation,
                    },
                },
            );
        }
        true
    }

    /// Tells every client with a connection to node `n` that it was reset
    /// (the process died, or the rebooted host answers with RST).
    pub(crate) fn reset_connections(&mut self, n: NodeId) {
        for c in 0..self.cache.clients.len() {
            let id = self.cache.net.conn_id(ClientId::new(c), n);
            if !self.cache.net.conn(id).open {
                continue;
            }
            if let Some(d) = self.cache.net.control_delay(n) {
                self.sched.after(
                    d,
                    Event::Client {
                        client: ClientId::new(c),
                        timer: ClientTimer::Reset(n),
                    },
                );
            }
        }
    }
}
