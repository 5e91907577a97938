//! The proxy tier's place in the world (`sim::proxy`): requests reaching
//! the proxy's node, its thread's steps, and its node side's completions.

use super::{World, ctx_of};
use crate::sim::ids::{ConnId, NodeId};
use crate::sim::node::NodeMode;
use crate::sim::protocol::{CacheResult, NodeMsg, SlotRef};
use crate::sim::proxy::Step;

impl World {
    /// A request reaches the proxy's listening node: the proxy reads it off
    /// the socket (its bytes leave the buffers) and queues it for its thread.
    pub(crate) fn proxy_arrive(&mut self, conn: ConnId, generation: u32, msg: NodeMsg) {
        if let Some(p) = self.cache.proxy.as_mut()
            && self.cache.nodes[p.node.index()].mode != NodeMode::Up
        {
            // Stopped: the kernel keeps the bytes (the buffers fill), the
            // process reads nothing.
            p.hold_arrival(conn, generation, msg);
            return;
        }
        let c = self.cache.net.conn_mut(conn);
        if c.generation == generation {
            c.unread = c.unread.saturating_sub(msg.bytes as u64);
        }
        let Some(p) = self.cache.proxy.as_mut() else {
            return;
        };
        let node = p.node;
        p.slow = self.cache.nodes[node.index()].slow_factor;
        let client = self.cache.net.client_of(conn);
        p.arrive(&mut self.sched, client, conn, generation, msg);
        let mut ctx = ctx_of!(self, client);
        self.cache.clients[client.index()].writable(&mut ctx, node);
    }

    /// The proxy's thread reaches a message: a request goes to the node
    /// side, a reply to the application's connection.
    pub(crate) fn proxy_step(&mut self, s: SlotRef) -> bool {
        let Some(p) = self.cache.proxy.as_mut() else {
            return false;
        };
        if self.cache.nodes[p.node.index()].mode != NodeMode::Up {
            // Stopped: the turn waits for the process to run again.
            p.hold_step(s);
            return true;
        }
        // The application client whose request it is.
        let Some(client) = p.client_of(s).map(|c| self.cache.net.client_of(c)) else {
            return false;
        };
        let Some(step) = p.step(s, client) else {
            return false;
        };
        match step {
            Step::Forward(call) => {
                let id = p.id;
                let mut ctx = ctx_of!(self, id);
                self.cache.clients[id.index()].call(&mut ctx, call);
            }
            Step::Answer { client } => {
                let mut out = std::mem::take(&mut p.out);
                p.flush(client, &mut out);
                for a in out.drain(..) {
                    let c = self.cache.net.conn(a.conn);
                    if c.generation == a.conn_gen && c.open {
                        self.cache
                            .net
                            .send_to_client(&mut self.sched, a.conn, a.msg);
                    }
                }
                if let Some(p) = self.cache.proxy.as_mut() {
                    p.out = out;
                }
            }
        }
        true
    }

    /// The node side finished a request passing through the proxy.
    pub(crate) fn proxy_done(&mut self, s: SlotRef, result: CacheResult) {
        if let Some(p) = self.cache.proxy.as_mut() {
            p.slow = self.cache.nodes[p.node.index()].slow_factor;
            p.done(&mut self.sched, s, result);
        }
    }

    /// Node `n` runs again after a stop: if it is the proxy's, its thread
    /// takes the turns that came due, then reads what waited in its sockets.
    pub(crate) fn proxy_resumed(&mut self, n: NodeId) {
        let Some(p) = self.cache.proxy.as_mut() else {
            return;
        };
        if p.node != n {
            return;
        }
        p.slow = self.cache.nodes[n.index()].slow_factor;
        for (conn, generation, msg) in p.resume(&mut self.sched) {
            self.proxy_arrive(conn, generation, msg);
        }
    }

    /// Node `n`'s process died: if it is the proxy's, everything inside it
    /// is lost.
    pub(crate) fn proxy_crashed(&mut self, n: NodeId) {
        if let Some(p) = self.cache.proxy.as_mut()
            && p.node == n
        {
            p.crash();
        }
    }
}
