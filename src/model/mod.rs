//! The simulated system: workload, front end, service, cache client, network,
//! memcached nodes, faults and database, wired together in a [`world::World`].

pub mod bulkhead;
pub mod client;
pub mod database;
pub mod executor;
pub mod fault;
pub mod frontend;
pub mod keys;
pub mod locator;
pub mod network;
pub mod node;
pub mod request;
pub mod sampler;
pub mod service;
pub mod wire;
pub mod workload;
pub mod world;

pub use world::{RunOutput, World};

use crate::config::Model;
use crate::metrics::TimelineRow;

/// Runs one simulation of `model` (seeded by `model.seed`), handing each
/// timeline row to `sink` as its bucket closes.
pub fn run(model: &Model, sink: &mut dyn FnMut(&TimelineRow)) -> RunOutput {
    World::new(model).run(sink)
}
