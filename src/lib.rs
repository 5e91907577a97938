//! cachestorm: a deterministic discrete-event simulator of a memcached cache
//! cluster, its client library, the service that calls it and the database
//! behind it, under node failures and degradation.
//!
//! Layering (see `docs/design.md`): [`engine`] knows nothing of caches;
//! [`config`] parses and validates model files; [`sim`] builds and runs one
//! simulation; [`metrics`] streams what a run records; [`output`] declares
//! the files, timeline columns and metrics a run and a sweep leave;
//! [`report`] writes a run's files and the plots from results.

pub mod config;
pub mod engine;
pub mod metrics;
pub mod output;
pub mod report;
pub mod sim;
pub mod sweep;
