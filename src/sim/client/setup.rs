//! What building a client takes. A leaf of the client module: every client
//! constructor takes a [`Setup`].

use crate::config::Model;
use crate::engine::Scheduler;
use crate::sim::event::Event;
use crate::sim::ids::{ClientId, ConnId};
use crate::sim::network::Network;
use crate::sim::node::Node;

/// What building a client takes: its id, the model, and the scheduler,
/// connections and nodes it connects to.
pub struct Setup<'a> {
    /// The client (service instance).
    pub id: ClientId,
    /// The model.
    pub model: &'a Model,
    /// For the client's timeout lanes.
    pub sched: &'a mut Scheduler<Event>,
    /// Connections.
    pub net: &'a mut Network,
    /// Every node, by global id.
    pub nodes: &'a mut [Node],
    /// Per node, whether the client connects to it (empty: every node).
    pub reach: &'a [bool],
}

impl Setup<'_> {
    /// Connects the client to every node (the service starts its client, or
    /// its sidecar proxy, before load starts): the client's state of each
    /// node's connection, `state(conn)`, in node order.
    pub fn connect_all<T>(&mut self, state: impl FnMut(ConnId) -> T) -> Vec<T> {
        let conns = self.net.connect_all(self.id, self.nodes, self.reach);
        conns.into_iter().map(state).collect()
    }
}
