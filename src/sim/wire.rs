//! The node end of the connections: requests arriving at a node, replies
//! leaving it, and connect attempts meeting its listen backlog.

use super::client::ClientTimer;
use super::network::{ClientMsg, Reply};
use super::node::{Job, NodeMode};
use super::world::{Event, World, ctx};
use crate::config::PolicyKind;

/// Outcomes of a connect attempt, as sent to the client.
pub mod connect {
    /// The kernel completed the handshake.
    pub const ACCEPTED: u8 = 0;
    /// Connection refused (RST): nothing listens on the port.
    pub const REFUSED: u8 = 1;
}

impl World {
    /// A request reaches a node.
    pub(crate) fn arrive_at_node(&mut self, conn: u32, generation: u32) -> bool {
        let Some(msg) = self.net.arrive_at_node(conn, generation) else {
            return false;
        };
        let node = self.net.node_of(conn);
        match self.nodes[node].mode {
            NodeMode::Down => {
                // Nothing listens: the kernel answers with a reset.
                self.net.send_to_client(
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
                let worker = self.net.conn(conn).worker;
                let now = self.sched.now();
                self.nodes[node].arrive(
                    worker,
                    Job {
                        conn,
                        conn_gen: generation,
                        arrived: now,
                        msg,
                    },
                );
                self.start_worker(node, worker);
            }
        }
        true
    }

    /// Lets an idle worker take its next request; the bytes it reads leave
    /// the socket buffers, which may let a client write again.
    pub(crate) fn start_worker(&mut self, node: usize, worker: u16) {
        let net = &mut self.net;
        let mut taken: [u32; 4] = [u32::MAX; 4];
        let mut n = 0;
        self.nodes[node].try_start(worker, &mut self.sched, |job| {
            let c = net.conn_mut(job.conn);
            if c.generation == job.conn_gen {
                c.unread -= job.msg.bytes as u64;
                if n < taken.len() {
                    taken[n] = job.conn;
                    n += 1;
                }
            }
        });
        if self.model.client.policy.kind() == PolicyKind::Spymemcached {
            for &conn in &taken[..n] {
                let client = self.net.client_of(conn);
                let mut ctx = ctx!(self);
                self.clients[client].writable(&mut ctx, node as u16);
            }
        }
    }

    /// A node worker finished a request.
    pub(crate) fn node_done(&mut self, node: u16, worker: u16, serial: u32) -> bool {
        let n = node as usize;
        if !self.nodes[n].is_current(worker, serial) {
            return false;
        }
        let now = self.sched.now();
        let Some(done) = self.nodes[n].finish(worker, now) else {
            return true;
        };
        self.reply(done.job, done.reply);
        self.start_worker(n, worker);
        true
    }

    fn reply(&mut self, job: Job, reply: Reply) {
        let c = self.net.conn(job.conn);
        if c.generation == job.conn_gen && c.open {
            self.net.send_to_client(
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
    pub(crate) fn resume_node(&mut self, n: usize) {
        self.nodes[n].mode = NodeMode::Up;
        self.nodes[n].backlog_used = 0;
        let now = self.sched.now();
        for w in self.nodes[n].held_workers() {
            if let Some(done) = self.nodes[n].finish(w, now) {
                self.reply(done.job, done.reply);
            }
        }
        for w in self.nodes[n].startable_workers() {
            self.start_worker(n, w);
        }
    }

    /// A connect attempt (SYN) reaches a node: the kernel accepts it into the
    /// listen backlog if the process is up or stopped and the backlog has room,
    /// refuses it if nothing listens, and ignores it if the host is down.
    pub(crate) fn connect_arrive(&mut self, conn: u32, generation: u32) -> bool {
        if self.net.conn(conn).generation != generation {
            return false;
        }
        let n = self.net.node_of(conn);
        let node = &mut self.nodes[n];
        let outcome = match node.mode {
            NodeMode::Up => connect::ACCEPTED,
            NodeMode::Frozen if node.backlog_used < node.backlog => {
                node.backlog_used += 1;
                connect::ACCEPTED
            }
            NodeMode::Frozen | NodeMode::HostDown => return true,
            NodeMode::Down => connect::REFUSED,
        };
        if outcome == connect::ACCEPTED {
            let w = node.assign_worker();
            self.net.conn_mut(conn).worker = w;
        }
        if let Some(d) = self.net.control_delay(n) {
            let client = self.net.client_of(conn) as u16;
            self.sched.after(
                d,
                Event::Client {
                    client,
                    timer: ClientTimer::ConnectResult {
                        node: n as u16,
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
    pub(crate) fn reset_connections(&mut self, n: usize) {
        for c in 0..self.clients.len() {
            let id = self.net.conn_id(c, n);
            if !self.net.conn(id).open {
                continue;
            }
            if let Some(d) = self.net.control_delay(n) {
                self.sched.after(
                    d,
                    Event::Client {
                        client: c as u16,
                        timer: ClientTimer::Reset(n as u16),
                    },
                );
            }
        }
    }
}
