//! Connections between clients and nodes, and the hops across them.
//!
//! One connection per (client, node), as spymemcached keeps (§1). A
//! connection carries messages in order both ways (TCP): each message gets a
//! delivery time of at least the previous one's. Constant latency with no loss
//! uses a fixed-delay lane; otherwise the heap. A lossy link loses each
//! message with probability p and retransmits it after an RTO that starts at
//! 200 ms and doubles, blocking what follows (head-of-line). A partitioned
//! node's messages are held (nothing arrives either way) until it heals.
//!
//! Bytes a client has written that the node has not yet read count against
//! the socket buffers (client send buffer + node receive buffer): a frozen
//! node keeps accepting bytes until they are full.

use std::collections::VecDeque;

use crate::engine::rng::ChaCha8Rng;
use rand::RngExt;

use super::event::Event;
use super::ids::{ClientId, ConnId, NodeId};
use super::protocol::{ClientMsg, NodeMsg};
use super::sampler::sample;
use crate::config::{Dist, NetworkConfig as NetworkSpec};
use crate::engine::{Lane, Nanos, Scheduler};

/// One connection.
#[derive(Clone, Debug, Default)]
pub struct Conn {
    /// Bumped at every close: events and jobs of an older generation are stale.
    pub generation: u32,
    /// Established (from the client's point of view).
    pub open: bool,
    /// The node worker serving it (memcached pins a connection to a worker).
    pub worker: u16,
    /// Bytes written by the client and not yet read by the node.
    pub unread: u64,
    to_node: VecDeque<NodeMsg>,
    to_client: VecDeque<ClientMsg>,
    held_to_node: u32,
    held_to_client: u32,
    last_to_node: Nanos,
    last_to_client: Nanos,
}

/// All connections and the link properties.
#[derive(Clone)]
pub struct Network {
    conns: Vec<Conn>,
    nodes: usize,
    latency: Dist,
    lane: Option<Lane>,
    /// The lane's delay (the constant latency), when there is a lane.
    lane_delay: Nanos,
    /// Per node: whether a message (to the node, to the client) may take
    /// the lane: a link with a lane and no loss, no partition and (to the
    /// client) no added latency. Kept up to date by the setters below, so
    /// a send checks one flag instead of three tables.
    plain: Vec<(bool, bool)>,
    rng: ChaCha8Rng,
    loss: Vec<f64>,
    partitioned: Vec<bool>,
    /// Per node: (delay, jitter) added to what it sends (a `latency` fault).
    added: Vec<(Nanos, Nanos)>,
    /// Jitter of added latency (stream `network/added`, made at the first
    /// `latency` fault so no other draw moves).
    added_rng: Option<ChaCha8Rng>,
    rto: Nanos,
    rto_max: Nanos,
    /// Socket buffer space per connection (send + receive), bytes.
    pub buffer: u64,
    /// Time a connect to a silent host takes to fail.
    pub connect_timeout: Nanos,
}

impl Network {
    /// A network of `clients` × `nodes` connections, all closed.
    pub fn new(
        spec: &NetworkSpec,
        clients: usize,
        nodes: usize,
        rng: ChaCha8Rng,
        sched: &mut Scheduler<Event>,
    ) -> Self {
        let (lane, lane_delay) = match spec.latency {
            Dist::Constant(d) => (Some(sched.lane(d)), d),
            _ => (None, 0),
        };
        Network {
            conns: vec![Conn::default(); clients * nodes],
            nodes,
            latency: spec.latency,
            lane,
            lane_delay,
            plain: vec![(lane.is_some(), lane.is_some()); nodes],
            rng,
            loss: vec![0.0; nodes],
            partitioned: vec![false; nodes],
            added: vec![(0, 0); nodes],
            added_rng: None,
            rto: spec.rto,
            rto_max: spec.rto_max,
            buffer: spec.send_buffer + spec.recv_buffer,
            connect_timeout: spec.connect_timeout,
        }
    }

    /// Index of the connection between `client` and global node `node`.
    #[inline]
    pub fn conn_id(&self, client: ClientId, node: NodeId) -> ConnId {
        ConnId((client.index() * self.nodes + node.index()) as u32)
    }

    /// The node at the other end of a connection.
    #[inline]
    pub fn node_of(&self, conn: ConnId) -> NodeId {
        NodeId::new(conn.index() % self.nodes)
    }

    /// The client at this end of a connection.
    #[inline]
    pub fn client_of(&self, conn: ConnId) -> ClientId {
        ClientId::new(conn.index() / self.nodes)
    }

    /// A connection.
    #[inline]
    pub fn conn(&self, id: ConnId) -> &Conn {
        &self.conns[id.index()]
    }

    /// A connection, mutably.
    #[inline]
    pub fn conn_mut(&mut self, id: ConnId) -> &mut Conn {
        &mut self.conns[id.index()]
    }

    /// Opens a connection (a fresh generation, empty buffers and pipes).
    pub fn open(&mut self, id: ConnId, worker: u16) {
        let c = &mut self.conns[id.index()];
        c.generation = c.generation.wrapping_add(1);
        c.open = true;
        c.worker = worker;
        c.unread = 0;
        c.to_node.clear();
        c.to_client.clear();
        c.held_to_node = 0;
        c.held_to_client = 0;
    }

    /// Connects `client` to every node, as a client built before load starts
    /// is (each connection served by the next worker of its node); returns
    /// the connections, by node.
    pub fn connect_all(
        &mut self,
        client: ClientId,
        nodes: &mut [super::node::Node],
        reach: &[bool],
    ) -> Vec<ConnId> {
        nodes
            .iter_mut()
            .enumerate()
            .map(|(n, node)| {
                let conn = self.conn_id(client, NodeId::new(n));
                // A node the client never talks to (the proxy tier's servers
                // for an application client, the other nodes for the proxy)
                // stays unconnected.
                if reach.get(n).copied().unwrap_or(true) {
                    self.open(conn, node.assign_worker());
                }
                conn
            })
            .collect()
    }

    /// Starts a new connection attempt: a fresh generation, not yet open.
    /// Returns the generation of the attempt.
    pub fn begin_connect(&mut self, id: ConnId) -> u32 {
        self.close(id);
        self.conns[id.index()].generation
    }

    /// Closes a connection: what is in flight either way is lost.
    pub fn close(&mut self, id: ConnId) {
        let c = &mut self.conns[id.index()];
        c.generation = c.generation.wrapping_add(1);
        c.open = false;
        c.unread = 0;
        c.to_node.clear();
        c.to_client.clear();
        c.held_to_node = 0;
        c.held_to_client = 0;
    }

    /// Sets a node's packet loss probability (0 = healthy).
    pub fn set_loss(&mut self, node: NodeId, p: f64) {
        self.loss[node.index()] = p;
        self.update_plain(node);
    }

    /// Recomputes whether `node`'s messages may take the lane.
    fn update_plain(&mut self, node: NodeId) {
        let n = node.index();
        let clean = self.lane.is_some() && self.loss[n] == 0.0 && !self.partitioned[n];
        self.plain[n] = (clean, clean && self.added[n].0 == 0);
    }

    /// Adds `delay` ± `jitter` (uniform) to every message `node` sends
    /// (0, 0: none), as `netem delay` on its interface would.
    pub fn set_added_latency(&mut self, node: NodeId, delay: Nanos, jitter: Nanos, seed: u64) {
        self.added[node.index()] = (delay, jitter);
        if jitter > 0 && self.added_rng.is_none() {
            self.added_rng = Some(crate::engine::stream(seed, "network/added"));
        }
        self.update_plain(node);
    }

    /// The delay a `latency` fault adds to the next message from `node`.
    fn added_delay(&mut self, node: NodeId) -> Nanos {
        let (delay, jitter) = self.added[node.index()];
        match &mut self.added_rng {
            Some(rng) if jitter > 0 => delay - jitter + rng.random_range(0..=2 * jitter),
            Some(_) | None => delay,
        }
    }

    /// True while a node is partitioned.
    pub fn is_partitioned(&self, node: NodeId) -> bool {
        self.partitioned[node.index()]
    }

    /// Partitions a node (true) or heals it (false). At healing, held
    /// messages are delivered in order, one hop later.
    pub fn set_partitioned(&mut self, node: NodeId, on: bool, sched: &mut Scheduler<Event>) {
        self.partitioned[node.index()] = on;
        self.update_plain(node);
        if on {
            return;
        }
        let now = sched.now();
        for id in (node.index()..self.conns.len()).step_by(self.nodes) {
            let id = ConnId(id as u32);
            let (held_n, held_c) = {
                let c = &mut self.conns[id.index()];
                (
                    std::mem::take(&mut c.held_to_node),
                    std::mem::take(&mut c.held_to_client),
                )
            };
            for _ in 0..held_n {
                let at = self.delivery(id, now, true);
                sched.at(
                    at,
                    Event::ToNode {
                        conn: id,
                        generation: self.conns[id.index()].generation,
                    },
                );
            }
            for _ in 0..held_c {
                let at = self.delivery(id, now, false);
                sched.at(
                    at,
                    Event::ToClient {
                        conn: id,
                        generation: self.conns[id.index()].generation,
                    },
                );
            }
        }
    }

    /// One-way delay of one message to or from `node`, with retransmissions.
    #[inline]
    fn hop(&mut self, node: NodeId) -> Nanos {
        let mut d = sample(&self.latency, &mut self.rng);
        let p = self.loss[node.index()];
        if p > 0.0 {
            let mut rto = self.rto;
            while self.rng.random_bool(p) {
                d += rto;
                rto = (rto * 2).min(self.rto_max);
            }
        }
        d
    }

    /// Delivery time of the next message on `id`, in order after the previous.
    fn delivery(&mut self, id: ConnId, now: Nanos, to_node: bool) -> Nanos {
        let node = self.node_of(id);
        let mut at = now + self.hop(node);
        if !to_node && self.added[node.index()].0 > 0 {
            at += self.added_delay(node);
        }
        let c = &mut self.conns[id.index()];
        let last = if to_node {
            &mut c.last_to_node
        } else {
            &mut c.last_to_client
        };
        let at = at.max(*last);
        *last = at;
        at
    }

    /// Free space in the connection's socket buffers, bytes.
    #[inline]
    pub fn room(&self, id: ConnId) -> u64 {
        self.buffer.saturating_sub(self.conns[id.index()].unread)
    }

    /// Sends a message from a client to its node.
    #[inline]
    pub fn send_to_node(&mut self, sched: &mut Scheduler<Event>, id: ConnId, msg: NodeMsg) {
        self.send_to_node_prepaid(sched, id, msg, 0);
    }

    /// Counts `bytes` of a partly written message against the buffers.
    pub fn write_partial(&mut self, id: ConnId, bytes: u64) {
        self.conns[id.index()].unread += bytes;
    }

    /// Sends a message whose first `prepaid` bytes were already written (and
    /// counted by [`Network::write_partial`]).
    #[inline]
    pub fn send_to_node_prepaid(
        &mut self,
        sched: &mut Scheduler<Event>,
        id: ConnId,
        msg: NodeMsg,
        prepaid: u64,
    ) {
        let node = self.node_of(id);
        let now = sched.now();
        let c = &mut self.conns[id.index()];
        c.unread += msg.bytes as u64 - prepaid;
        c.to_node.push_back(msg);
        let generation = c.generation;
        // A plain link whose last message is not due later than this one:
        // the lane keeps the order.
        if let Some(lane) = self.lane
            && self.plain[node.index()].0
            && c.last_to_node <= now + self.lane_delay
        {
            c.last_to_node = now + self.lane_delay;
            sched.after_lane(
                lane,
                Event::ToNode {
                    conn: id,
                    generation,
                },
            );
            return;
        }
        if self.partitioned[node.index()] {
            c.held_to_node += 1;
            return;
        }
        let at = self.delivery(id, now, true);
        sched.at(
            at,
            Event::ToNode {
                conn: id,
                generation,
            },
        );
    }

    /// Sends a reply from a node to a client.
    #[inline]
    pub fn send_to_client(&mut self, sched: &mut Scheduler<Event>, id: ConnId, msg: ClientMsg) {
        let node = self.node_of(id);
        let now = sched.now();
        let c = &mut self.conns[id.index()];
        c.to_client.push_back(msg);
        let generation = c.generation;
        if let Some(lane) = self.lane
            && self.plain[node.index()].1
            && c.last_to_client <= now + self.lane_delay
        {
            c.last_to_client = now + self.lane_delay;
            sched.after_lane(
                lane,
                Event::ToClient {
                    conn: id,
                    generation,
                },
            );
            return;
        }
        if self.partitioned[node.index()] {
            c.held_to_client += 1;
            return;
        }
        let at = self.delivery(id, now, false);
        sched.at(
            at,
            Event::ToClient {
                conn: id,
                generation,
            },
        );
    }

    /// Takes the message that has just arrived at the node, if the
    /// connection's generation still matches.
    #[inline]
    pub fn arrive_at_node(&mut self, id: ConnId, generation: u32) -> Option<NodeMsg> {
        let c = &mut self.conns[id.index()];
        if c.generation != generation {
            return None;
        }
        c.to_node.pop_front()
    }

    /// Takes the reply that has just arrived at the client.
    #[inline]
    pub fn arrive_at_client(&mut self, id: ConnId, generation: u32) -> Option<ClientMsg> {
        let c = &mut self.conns[id.index()];
        if c.generation != generation {
            return None;
        }
        c.to_client.pop_front()
    }

    /// A one-way delay for a control message (connect, reset) to or from
    /// `node`; `None` while the node is partitioned.
    pub fn control_delay(&mut self, node: NodeId) -> Option<Nanos> {
        if self.partitioned[node.index()] {
            return None;
        }
        let added = if self.added[node.index()].0 > 0 {
            self.added_delay(node)
        } else {
            0
        };
        Some(self.hop(node) + added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn network(latency: Dist, sched: &mut Scheduler<Event>) -> Network {
        let spec = NetworkSpec {
            latency,
            send_buffer: 1 << 16,
            recv_buffer: 1 << 16,
            connect_timeout: 1_000_000_000,
            rto: 200_000_000,
            rto_max: 1_000_000_000,
        };
        Network::new(&spec, 2, 3, crate::engine::stream(1, "network"), sched)
    }

    proptest! {
        /// The cached "plain link" flags say what the loss, partition and
        /// added-latency tables say, whatever the order in which faults
        /// start and end; and a send takes the lane exactly when its flag
        /// is up (a plain link's message is due one latency later).
        #[test]
        fn plain_flags_follow_the_tables(
            ops in proptest::collection::vec((0usize..3, 0u8..7), 0..40),
            latency in prop_oneof![Just(0u64), Just(100_000u64), Just(u64::MAX)],
        ) {
            let mut sched = Scheduler::new();
            let dist = if latency == u64::MAX {
                Dist::Exponential { mean: 100_000 }
            } else {
                Dist::Constant(latency)
            };
            let mut net = network(dist, &mut sched);
            for (n, op) in ops {
                let node = NodeId::new(n);
                match op {
                    0 => net.set_loss(node, 0.01),
                    1 => net.set_loss(node, 0.0),
                    2 => net.set_partitioned(node, true, &mut sched),
                    3 => net.set_partitioned(node, false, &mut sched),
                    4 => net.set_added_latency(node, 5_000, 0, 1),
                    5 => net.set_added_latency(node, 0, 0, 0),
                    _ => {
                        // A reply on a fresh connection of client 1.
                        let id = net.conn_id(ClientId::new(1), node);
                        net.open(id, 0);
                        let before = sched.len();
                        let last = net.conns[id.index()].last_to_client;
                        net.send_to_client(
                            &mut sched,
                            id,
                            ClientMsg {
                                op: 0,
                                op_gen: 0,
                                reply: crate::sim::protocol::Reply::Miss,
                            },
                        );
                        prop_assert_eq!(sched.len() - before, usize::from(!net.partitioned[n]));
                        if net.plain[n].1 && last <= sched.now() + latency {
                            prop_assert_eq!(net.conns[id.index()].last_to_client, sched.now() + latency);
                        }
                    }
                }
                for m in 0..3 {
                    let clean = latency != u64::MAX && net.loss[m] == 0.0 && !net.partitioned[m];
                    prop_assert_eq!(net.plain[m], (clean, clean && net.added[m].0 == 0));
                }
            }
        }
    }
}
