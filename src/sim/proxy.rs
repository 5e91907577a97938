//! A proxy tier (`[proxy]`, `config::proxy`): twemproxy (nutcracker) or
//! mcrouter as a process between the application's clients and one pool's
//! nodes.
//!
//! The proxy has two sides. Towards the application it is a server: it
//! listens on its own node (the last pool's one node), and every client's
//! request to that node lands here instead of in a memcached worker. Towards
//! the nodes it is a client: its routing, connections, timeout and ejection
//! (twemproxy) or TKO and probes (mcrouter) are the in-client policy of the
//! same name (`sim::client::twemproxy`, `sim::client::mcrouter`), run as one
//! more `Client` with its own id and its own connections, built with the
//! proxy's placement. What that client completes comes back here and is
//! answered on the application's connection.
//!
//! The proxy's one thread (twemproxy runs a single event loop: `nc_core.c`
//! `core_loop`) is a FIFO server: each message it handles (a request read
//! and forwarded, a reply read and forwarded) takes `service_time` after the
//! previous one. A request whose node part failed (the proxy's timeout
//! closed the server connection, the server was ejected, every server is
//! out) is answered `SERVER_ERROR` (twemproxy 0.5.0: `nc_server.c`
//! `server_close` marks the outstanding requests with the errno,
//! `nc_response.c` `rsp_make_error` → `nc_message.c` `msg_get_error` writes
//! `SERVER_ERROR <strerror>`, e.g. `SERVER_ERROR Connection timed out`, as
//! a real nutcracker 0.5.0 answered in `tests/integration/proxy.rs`'s
//! measurement). Answers leave each client connection in arrival order
//! (`nc_response.c` `rsp_send_next`). For mcrouter the same reply stands for
//! its error results (an ASSUMPTION on its ASCII serialization).

use std::collections::VecDeque;

use crate::engine::{Nanos, Scheduler};
use crate::metrics::Recorder;
use crate::sim::event::Event;
use crate::sim::ids::{ClientId, ConnId, NodeId};
use crate::sim::protocol::{CacheResult, Call, ClientMsg, NodeMsg, OpKind, Reply, SlotRef, Waiter};

/// A request passing through the proxy.
#[derive(Clone, Copy, Debug)]
struct Pass {
    generation: u32,
    /// The application's connection and its generation when the request
    /// arrived.
    conn: ConnId,
    conn_gen: u32,
    msg: NodeMsg,
    /// The answer, once the node's part is done.
    reply: Option<Reply>,
    /// The thread has handled the answer: it may leave once every earlier
    /// request on its connection has left.
    ready: bool,
    live: bool,
}

/// What the proxy's thread does when it reaches a message.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Forward a request to the node side.
    Forward(Call),
    /// An answer is ready: send what may leave on the application's
    /// connection of client `client` ([`Proxy::flush`]).
    Answer {
        /// The application's client.
        client: ClientId,
    },
}

/// An answer leaving on an application's connection.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    /// The application's connection.
    pub conn: ConnId,
    /// Its generation when the request arrived (a reconnected connection
    /// does not get the old one's answers).
    pub conn_gen: u32,
    /// The reply.
    pub msg: ClientMsg,
}

/// A proxy process.
#[derive(Clone)]
pub struct Proxy {
    /// Its node-side client (an index into the cache's clients).
    pub id: ClientId,
    /// Its listening node.
    pub node: NodeId,
    /// The pool of its servers.
    pool: u16,
    service: Nanos,
    value_size: u32,
    /// When the one thread is free.
    busy_until: Nanos,
    slots: Vec<Pass>,
    free: Vec<u32>,
    /// Per application client, its requests in arrival order: answers
    /// leave in that order (twemproxy's `rsp_send_next` sends the head of
    /// the client connection's queue only once it is done), so a request
    /// waiting on a slow node holds back every later answer on the
    /// connection.
    order: Vec<std::collections::VecDeque<u32>>,
    /// Scratch for [`Proxy::flush`]'s answers (kept to reuse its buffer).
    pub out: Vec<Answer>,
    /// The node side's cache-op counts, kept apart from the application's.
    pub rec: Recorder,
    /// Requests answered, and of them `SERVER_ERROR`s.
    pub answered: u64,
    /// `SERVER_ERROR` replies sent.
    pub server_errors: u64,
    /// While the process is stopped (a `frozen` fault on its node): requests
    /// that reached its socket unread, in arrival order.
    held_in: VecDeque<(ConnId, u32, NodeMsg)>,
    /// While it is stopped: the thread's turns that came due, in order.
    held_steps: VecDeque<SlotRef>,
    /// Its thread's time multiplier (a `slow` fault on its node).
    pub slow: f64,
}

impl Proxy {
    /// A proxy listening on `node`, its node side being client `id`.
    pub fn new(
        id: ClientId,
        node: NodeId,
        pool: u16,
        service: Nanos,
        value_size: u32,
        rec: Recorder,
    ) -> Self {
        Proxy {
            id,
            node,
            pool,
            service,
            value_size,
            busy_until: 0,
            slots: Vec::new(),
            free: Vec::new(),
            order: Vec::new(),
            out: Vec::new(),
            rec,
            answered: 0,
            server_errors: 0,
            held_in: VecDeque::new(),
            held_steps: VecDeque::new(),
            slow: 1.0,
        }
    }

    /// The time the thread finishes a message that arrives now (FIFO).
    fn take_thread(&mut self, now: Nanos) -> Nanos {
        let service = if self.slow == 1.0 {
            self.service
        } else {
            (self.service as f64 * self.slow).round() as Nanos
        };
        self.busy_until = self.busy_until.max(now) + service;
        self.busy_until
    }

    /// The process is stopped: a request reaching its socket waits unread.
    pub fn hold_arrival(&mut self, conn: ConnId, conn_gen: u32, msg: NodeMsg) {
        self.held_in.push_back((conn, conn_gen, msg));
    }

    /// The process is stopped: a turn of its thread waits.
    pub fn hold_step(&mut self, s: SlotRef) {
        self.held_steps.push_back(s);
    }

    /// The process runs again: the turns that came due while it was stopped
    /// are taken first, in order, one `service_time` each; then the
    /// requests left unread are returned to be read.
    pub fn resume(&mut self, sched: &mut Scheduler<Event>) -> VecDeque<(ConnId, u32, NodeMsg)> {
        let now = sched.now();
        self.busy_until = self.busy_until.min(now);
        while let Some(s) = self.held_steps.pop_front() {
            let at = self.take_thread(now);
            sched.at(at, Event::Proxy(s));
        }
        std::mem::take(&mut self.held_in)
    }

    /// The process died (a `crash`, a reboot): every request inside it is
    /// lost (its answers were owed on connections the crash reset), and so is
    /// everything held; a completion from the node side for one of them is
    /// stale. Its node side's routing state (ejections, TKO) is kept: an
    /// approximation, a restarted proxy starts with every server in.
    pub fn crash(&mut self) {
        for (i, p) in self.slots.iter_mut().enumerate() {
            if p.live {
                p.live = false;
                p.generation = p.generation.wrapping_add(1);
                self.free.push(i as u32);
            }
        }
        for q in &mut self.order {
            q.clear();
        }
        self.held_in.clear();
        self.held_steps.clear();
    }

    /// The pool of its servers.
    pub fn pool(&self) -> u16 {
        self.pool
    }

    /// Requests inside the proxy (arrived, not yet answered).
    pub fn inside(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// A request arrives on the application's connection `conn`.
    pub fn arrive(
        &mut self,
        sched: &mut Scheduler<Event>,
        client: ClientId,
        conn: ConnId,
        conn_gen: u32,
        msg: NodeMsg,
    ) {
        let pass = Pass {
            generation: 0,
            conn,
            conn_gen,
            msg,
            reply: None,
            ready: false,
            live: true,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                let p = &mut self.slots[s as usize];
                *p = Pass {
                    generation: p.generation.wrapping_add(1),
                    ..pass
                };
                s
            }
            None => {
                self.slots.push(pass);
                (self.slots.len() - 1) as u32
            }
        };
        let generation = self.slots[slot as usize].generation;
        if self.order.len() <= client.index() {
            self.order.resize_with(client.index() + 1, Default::default);
        }
        self.order[client.index()].push_back(slot);
        let at = self.take_thread(sched.now());
        sched.at(at, Event::Proxy(SlotRef { slot, generation }));
    }

    /// The application's connection of request `s`, if it is current.
    pub fn client_of(&self, s: SlotRef) -> Option<ConnId> {
        let p = self.slots.get(s.slot as usize)?;
        (p.live && p.generation == s.generation).then_some(p.conn)
    }

    /// The thread reaches message `s` of client `client`: what to do, or
    /// `None` if stale.
    pub fn step(&mut self, s: SlotRef, client: ClientId) -> Option<Step> {
        let p = self.slots.get_mut(s.slot as usize)?;
        if !p.live || p.generation != s.generation || p.ready {
            return None;
        }
        match p.reply {
            None if p.msg.kind == OpKind::Noop => {
                // `version` / noop: the proxy answers it itself.
                p.reply = Some(Reply::Stored);
                p.ready = true;
                Some(Step::Answer { client })
            }
            None => Some(Step::Forward(Call {
                kind: p.msg.kind,
                pool: self.pool,
                key: p.msg.key,
                size: self.value_size,
                version: p.msg.version,
                waiter: Some(Waiter::Proxy(s)),
            })),
            Some(_) => {
                p.ready = true;
                Some(Step::Answer { client })
            }
        }
    }

    /// The answers that may leave on client `client`'s connection now: the
    /// ready ones at the head of its queue, in arrival order.
    pub fn flush(&mut self, client: ClientId, out: &mut Vec<Answer>) {
        let Some(q) = self.order.get_mut(client.index()) else {
            return;
        };
        while let Some(&slot) = q.front() {
            let p = self.slots[slot as usize];
            if !p.ready {
                break;
            }
            q.pop_front();
            let reply = p.reply.unwrap_or(Reply::ServerError);
            self.answered += 1;
            if reply == Reply::ServerError {
                self.server_errors += 1;
            }
            out.push(Answer {
                conn: p.conn,
                conn_gen: p.conn_gen,
                msg: ClientMsg {
                    op: p.msg.op,
                    op_gen: p.msg.op_gen,
                    reply,
                },
            });
            self.slots[slot as usize].live = false;
            self.free.push(slot);
        }
    }

    /// The node side finished request `s` with `result`: the reply queues
    /// for the thread.
    pub fn done(&mut self, sched: &mut Scheduler<Event>, s: SlotRef, result: CacheResult) {
        let Some(p) = self.slots.get_mut(s.slot as usize) else {
            return;
        };
        if !p.live || p.generation != s.generation || p.reply.is_some() || p.ready {
            return;
        }
        p.reply = Some(reply_of(result));
        let at = self.take_thread(sched.now());
        sched.at(at, Event::Proxy(s));
    }
}

/// What the proxy answers for what its node side returned.
pub fn reply_of(result: CacheResult) -> Reply {
    match result {
        CacheResult::Hit { version, .. } => Reply::Hit(version),
        CacheResult::Miss | CacheResult::MissedKeys(_) => Reply::Miss,
        CacheResult::Stored => Reply::Stored,
        // A timeout, a closed server connection, an ejected or TKO server:
        // `SERVER_ERROR …`.
        CacheResult::Failed(_) => Reply::ServerError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::CacheOutcome;

    #[test]
    fn failures_become_server_errors() {
        assert_eq!(
            reply_of(CacheResult::Failed(CacheOutcome::Timeout)),
            Reply::ServerError
        );
        assert_eq!(reply_of(CacheResult::Miss), Reply::Miss);
        assert_eq!(
            reply_of(CacheResult::Hit {
                version: 3,
                stale: false
            }),
            Reply::Hit(3)
        );
    }

    fn msg(op: u32, kind: OpKind) -> NodeMsg {
        NodeMsg {
            op,
            op_gen: 0,
            kind,
            key: op,
            version: 0,
            bytes: 20,
            deadline: Nanos::MAX,
        }
    }

    /// Pops the next proxy event: its time and slot.
    fn next(sched: &mut Scheduler<Event>) -> (Nanos, SlotRef) {
        match sched.pop() {
            Some((t, Event::Proxy(s))) => (t, s),
            other => panic!("{other:?}"),
        }
    }

    /// Answers leave a connection in the order its requests arrived: the
    /// second request's reply waits for the first's (head-of-line, as
    /// twemproxy's `rsp_send_next` sends only the head of the client's
    /// queue), and the one thread takes `service` per message, FIFO.
    #[test]
    fn answers_leave_in_arrival_order_after_one_thread_turn_each() {
        let mut sched: Scheduler<Event> = Scheduler::new();
        let rec = Recorder::new(1, 0, 10, None);
        let mut p = Proxy::new(ClientId(1), NodeId(4), 0, 10, 100, rec);
        let c = ClientId(0);
        p.arrive(&mut sched, c, ConnId(4), 0, msg(0, OpKind::Get));
        p.arrive(&mut sched, c, ConnId(4), 0, msg(1, OpKind::Get));
        // Two turns of 10 ns, back to back.
        let (t0, a) = next(&mut sched);
        let (t1, b) = next(&mut sched);
        assert_eq!((t0, t1), (10, 20));
        assert!(matches!(p.step(a, c), Some(Step::Forward(_))));
        assert!(matches!(p.step(b, c), Some(Step::Forward(_))));
        // The second finishes first: nothing may leave yet.
        p.done(&mut sched, b, CacheResult::Miss);
        let (_, s) = next(&mut sched);
        assert!(matches!(p.step(s, c), Some(Step::Answer { .. })));
        let mut out = Vec::new();
        p.flush(c, &mut out);
        assert!(out.is_empty());
        // The first fails: both leave, in order, the first as SERVER_ERROR.
        p.done(&mut sched, a, CacheResult::Failed(CacheOutcome::Timeout));
        let (_, s) = next(&mut sched);
        assert!(matches!(p.step(s, c), Some(Step::Answer { .. })));
        p.flush(c, &mut out);
        let replies: Vec<(u32, Reply)> = out.iter().map(|a| (a.msg.op, a.msg.reply)).collect();
        assert_eq!(replies, [(0, Reply::ServerError), (1, Reply::Miss)]);
        assert_eq!((p.answered, p.server_errors, p.inside()), (2, 1, 0));
        // A stale slot reference does nothing.
        assert!(p.step(a, c).is_none());
    }
}
