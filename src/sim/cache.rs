//! The cache side of a run: the clients (one per service instance), the
//! connections between clients and nodes, the memcached nodes, key placement
//! per pool and the key space.

use super::client::{Client, Setup};
use super::fault::FaultState;
use super::keys::{KeySpace, Placement};
use super::network::Network;
use super::node::Node;
use crate::config::{Model, PolicyConfig};
use crate::engine::{Scheduler, stream};
use crate::metrics::NodeGauge;
use crate::metrics::Recorder;
use crate::sim::event::Event;
use crate::sim::ids::{ClientId, NodeId};
use crate::sim::protocol::NodeEvent;
use crate::sim::proxy::Proxy;

/// The cache side's state.
#[derive(Clone)]
pub struct Cache {
    /// One client per service instance.
    pub(crate) clients: Vec<Client>,
    /// Connections.
    pub(crate) net: Network,
    /// Every node of every pool, by global id.
    pub(crate) nodes: Vec<Node>,
    /// Key placement per pool.
    pub(crate) placement: Vec<Placement>,
    /// Key spelling and popularity.
    pub(crate) space: KeySpace,
    /// Global id of each pool's first node.
    pub(crate) pool_offsets: Vec<u16>,
    /// The proxy tier, if any; its node side is the last client.
    pub(crate) proxy: Option<Box<Proxy>>,
    /// The application's clients (the first ones; a proxy's node side
    /// follows them).
    pub(crate) app_clients: usize,
}

impl Cache {
    /// The nodes, placement, connections and `n_clients` clients of `model`.
    pub fn new(model: &Model, n_clients: usize, sched: &mut Scheduler<Event>) -> Self {
        let seed = model.seed;
        let n_nodes = model.node_count();
        let keys = model.workload.keys.count;
        let key_fixed =
            (model.workload.keys.prefix.len() + model.workload.keys.suffix.len()) as u32;
        let mut pool_offsets = Vec::new();
        let mut nodes = Vec::new();
        for (p, pool) in model.pools.iter().enumerate() {
            pool_offsets.push(nodes.len() as u16);
            for (i, _) in pool.nodes.iter().enumerate() {
                let id = NodeId::new(nodes.len());
                nodes.push(Node::new(
                    id,
                    pool.worker_threads,
                    pool.backlog,
                    pool.service_time,
                    (keys, key_fixed),
                    &pool.memory,
                    stream(seed, &format!("node/{p}/{i}")),
                ));
            }
        }
        // With a proxy tier, the pools are placed as the proxy places them:
        // the application's client sees only the proxy's one-node pool.
        let (locator, hash) = match &model.proxy {
            Some(p) => p.routing.placement(),
            None => model.client.policy.placement(),
        };
        if let PolicyConfig::Mcrouter(m) = &model.client.policy
            && let Some(g) = m.gutter
        {
            // FailoverWithExptimeRoute caps the gutter pool's sets.
            let offset = model.pool_offset(g);
            for node in &mut nodes[offset..offset + model.pools[g].nodes.len()] {
                node.set_ttl(m.failover_exptime);
            }
        }
        let placement: Vec<Placement> = model
            .pools
            .iter()
            .map(|p| Placement::new(locator, hash, &p.nodes, keys))
            .collect();
        let mut net = Network::new(
            &model.network,
            n_clients + usize::from(model.proxy.is_some()),
            n_nodes,
            stream(seed, "network"),
            sched,
        );
        // With a proxy tier, the application's clients connect to every node
        // but the proxy's servers, the proxy only to its servers.
        let (app_reach, proxy_reach) = match &model.proxy {
            Some(p) => {
                let start = model.pool_offset(p.pool);
                let servers = start..start + model.pools[p.pool].nodes.len();
                let proxy: Vec<bool> = (0..n_nodes).map(|n| servers.contains(&n)).collect();
                (proxy.iter().map(|&s| !s).collect(), proxy)
            }
            None => (Vec::new(), Vec::new()),
        };
        let mut clients = Vec::new();
        for c in 0..n_clients {
            let client = Client::new(
                &model.client.policy,
                &mut Setup {
                    id: ClientId::new(c),
                    model,
                    sched,
                    net: &mut net,
                    nodes: &mut nodes,
                    reach: &app_reach,
                },
            );
            clients.push(client);
        }
        let proxy = model.proxy.as_ref().map(|p| {
            let id = ClientId::new(n_clients);
            clients.push(Client::new(
                &p.routing,
                &mut Setup {
                    id,
                    model,
                    sched,
                    net: &mut net,
                    nodes: &mut nodes,
                    reach: &proxy_reach,
                },
            ));
            Box::new(Proxy::new(
                id,
                NodeId::new(model.pool_offset(p.front_pool)),
                p.pool as u16,
                p.service_time,
                model.workload.value_size,
                Recorder::new(
                    model.slo,
                    model.warmup,
                    model.duration,
                    model.fault_window(),
                ),
            ))
        });
        Cache {
            clients,
            net,
            nodes,
            placement,
            space: KeySpace::new(&model.workload.keys),
            pool_offsets,
            proxy,
            app_clients: n_clients,
        }
    }

    /// Stores every key of the pools that start full on its primary node,
    /// the least popular first, so that a node with less room than keys
    /// starts with the most popular ones (key 0 is the most popular). The
    /// prefill is not counted as fills or evictions.
    pub fn prefill(&mut self, model: &Model) {
        let value = model.workload.value_size;
        for p in 0..model.pools.len() {
            if !model.pools[p].prefill {
                continue;
            }
            let offset = self.pool_offsets[p] as usize;
            self.placement[p].prime_all(&mut self.space);
            for k in (0..self.space.count()).rev() {
                let local = self.placement[p].primary(k, &mut self.space) as usize;
                self.nodes[offset + local].put(k, 0, value);
            }
            let n = model.pools[p].nodes.len();
            for node in &mut self.nodes[offset..offset + n] {
                node.mem.counts = Default::default();
            }
        }
    }

    /// `flush_all` on every node of pool `pool`.
    pub fn flush_pool(&mut self, pool: usize) {
        let (start, end) = self.pool_range(pool);
        for node in &mut self.nodes[start..end] {
            node.flush();
        }
    }

    /// Deletes the `count` most popular keys (keys 0 to count - 1) from every
    /// node of pool `pool` that holds them.
    pub fn delete_hottest(&mut self, pool: usize, count: u32, now: crate::engine::Nanos) {
        let (start, end) = self.pool_range(pool);
        for node in &mut self.nodes[start..end] {
            for k in 0..count.min(self.space.count()) {
                node.mem.delete(k, now);
            }
        }
    }

    /// Global ids of pool `pool`'s nodes.
    fn pool_range(&self, pool: usize) -> (usize, usize) {
        let start = self.pool_offsets[pool] as usize;
        let end = self
            .pool_offsets
            .get(pool + 1)
            .map_or(self.nodes.len(), |&o| o as usize);
        (start, end)
    }

    /// Each node's gauges at the end of a bucket.
    pub fn node_gauges(&self, faults: &FaultState) -> Vec<NodeGauge> {
        self.nodes
            .iter()
            .map(|n| {
                let id = n.id;
                // Only the clients connected to a node say whether it is
                // active (with a proxy tier, the proxy for its servers).
                let seeing: Vec<&Client> = self
                    .clients
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| self.sees(c, id))
                    .map(|(_, c)| c)
                    .collect();
                let active = seeing.iter().filter(|c| c.is_active(id)).count();
                NodeGauge {
                    queue: n.queue_len(),
                    client_backlog: self.clients.iter().map(|c| c.backlog(id)).sum(),
                    state: faults.state(n, &self.net).code(),
                    active_share: active as f64 / seeing.len().max(1) as f64,
                }
            })
            .collect()
    }

    /// Whether client `c` routes to node `n` (with a proxy tier: the
    /// proxy to its servers, the application's clients to the others).
    fn sees(&self, c: usize, n: NodeId) -> bool {
        let Some(p) = &self.proxy else {
            return true;
        };
        let pool = self
            .pool_offsets
            .iter()
            .rposition(|&o| o as usize <= n.index())
            .unwrap_or(0) as u16;
        (c == p.id.index()) == (pool == p.pool())
    }

    /// Ops of the application's clients whose outcome is not counted yet
    /// (a proxy's node side counts in its own recorder).
    pub fn pending(&self) -> u64 {
        self.clients[..self.app_clients]
            .iter()
            .map(|c| c.pending())
            .sum()
    }

    /// Connection losses and reconnects, over all clients.
    pub fn connection_stats(&self) -> (u64, u64) {
        self.clients
            .iter()
            .map(|c| c.connection_stats())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    /// Moves every client's connection events to `into`.
    pub fn take_node_events(&mut self, into: &mut Vec<NodeEvent>) {
        for c in &mut self.clients {
            into.extend(c.take_node_events());
        }
    }
}
