//! Model and experiment files, one module per concept of the simulator
//! (workload, front end, service, client and its policies, cluster, network,
//! database, faults). Each concept module holds the section as written (the
//! serde `…File` types, with every default stated once, next to its
//! citation), the validated `…Config` types the simulation is built from,
//! the validation between them and its tests. [`model`] puts the sections
//! together and checks the references between them; [`doc`] keeps every
//! value's position and applies `--set` overrides; [`experiment`] reads
//! sweep files.
//!
//! To add a client policy: write `client/<name>.rs` (its `…File` with serde
//! defaults and citations, its `…Config`, `validate` and `describe`), then
//! add the variant to `PolicyKind` (and its `ALL`), the subtable to
//! `ClientFile` and the variant to `PolicyConfig`; the compiler then points
//! at every match that must handle it (`name`, `kind`, `placement`,
//! `describe`, `validate`, the event estimate, `sim::cache::Cache::new`),
//! and the tests walking `PolicyKind::ALL` fail until `ALL` lists it. To add
//! a fault kind: in `fault.rs`, add the variant to `FaultKind` (and `ALL`),
//! its parameters subtable to `FaultFile` and its variant to
//! `FaultKindConfig`; the compiler points at `name`, `kind`, `validate`,
//! the event estimate, `sim::fault::FaultState::new` and `World::fault` in
//! `sim::world::faults`.

/// Builds a key path from segments: `path!["fault", 0, "node"]`.
macro_rules! path {
    ($($seg:expr),* $(,)?) => { vec![$($crate::config::doc::Seg::from($seg)),*] };
}

mod check;
pub mod client;
pub mod cluster;
pub mod database;
pub mod dist;
pub mod doc;
pub mod error;
pub mod estimate;
pub mod experiment;
pub mod fault;
pub mod frontend;
pub mod memory;
pub mod model;
pub mod network;
pub mod proxy;
pub mod service;
pub mod units;
pub mod workload;

use std::path::Path;

pub use client::{
    ClientConfig, ClientFile, HashChoice, LocatorChoice, PolicyConfig, PolicyKind,
    libmemcached::LibmemcachedConfig,
    mcrouter::McrouterConfig,
    plain::PlainConfig,
    pymemcache::PymemcacheConfig,
    spymemcached::{FailureMode, SpymemcachedConfig},
    twemproxy::TwemproxyConfig,
};
pub use cluster::PoolConfig;
pub use database::DatabaseConfig;
pub use dist::Dist;
pub use doc::Document;
pub use error::{ConfigError, Origin};
pub use fault::{Cycle, FaultConfig, FaultKind, FaultKindConfig, FaultTarget, FrozenEnd, SlowMode};
pub use frontend::{Balance, FrontendConfig};
pub use memory::{Capacity, LeaseConfig, LeaseMiss, MemoryConfig};
pub use model::{Model, ModelFile};
pub use network::NetworkConfig;
pub use proxy::{ProxyConfig, ProxyKind};
pub use service::resilience::{
    Backoff, BreakerConfig, BreakerScope, BudgetConfig, Jitter, ResilienceConfig, RetryConfig,
};
pub use service::{BulkheadConfig, ExecutorKind, ServiceConfig};
pub use workload::{
    ArrivalKind, Condition, Fill, FlowConfig, KeyChoice, KeysConfig, Popularity, StepConfig,
    StepOp, WorkloadConfig,
};

/// Parses `text` (from `path`), applies the `--set` overrides, then validates
/// once.
pub fn model_from_str(path: &Path, text: &str, sets: &[String]) -> Result<Model, ConfigError> {
    let mut doc = Document::parse(path, text)?;
    for s in sets {
        doc.set_arg(s)?;
    }
    model_from_doc(&doc)
}

/// Deserializes and validates a document (with its overrides already applied).
pub fn model_from_doc(doc: &Document<'_>) -> Result<Model, ConfigError> {
    let file: ModelFile = doc.deserialize()?;
    model::validate(doc, file)
}

/// Reads a model file, applies the `--set` overrides and validates it.
pub fn load_model(path: &Path, sets: &[String]) -> Result<Model, ConfigError> {
    let text = doc::read_text(path)?;
    model_from_str(path, &text, sets)
}

/// A small valid model and overrides on it, for the concept modules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use super::{ConfigError, Model, model_from_str};

    /// Two nodes, one flow with a get.
    pub const MINIMAL: &str = r#"
duration = "10s"
[workload]
rate = 100
[[workload.flow]]
name = "read"
steps = [{ op = "get" }]
[cluster]
nodes = ["a:11211", "b:11211"]
"#;

    /// [`MINIMAL`] with `sets` applied, validated.
    pub fn model(sets: &[&str]) -> Result<Model, ConfigError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        model_from_str(Path::new("minimal.toml"), MINIMAL, &sets)
    }

    /// Asserts that the names serde lists as allowed for the enum at `key`
    /// (what it says when given a name that is none of them) are `names`, in
    /// order: an `ALL` list that misses a variant fails here.
    pub fn assert_allowed<const N: usize>(key: &str, names: [&str; N]) {
        let e = model(&[&format!("{key}=no_such_name")]).unwrap_err();
        assert!(e.message.contains("unknown value"), "{e}");
        assert_eq!(e.allowed.unwrap_or_default(), names.join(", "), "{key}");
    }
}
