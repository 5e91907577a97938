//! cachestorm: a deterministic discrete-event simulator of a memcached cache
//! cluster, its client library, the service that calls it and the database
//! behind it, under node failures and degradation.
//!
//! Layering (see `docs/design.md`): [`engine`] knows nothing of caches;
//! [`config`] parses and validates model files; [`sim`] builds and runs one
//! simulation; [`metrics`] streams what a run records; [`output`] declares
//! the files, timeline columns and metrics a run and a sweep leave;
//! [`report`] writes a run's files and the plots from results; [`run_model`]
//! and [`run_sweep`] run a model or an experiment and write their files;
//! every failure is an [`Error`].

pub mod config;
pub mod engine;
pub mod error;
pub mod guard;
pub mod metrics;
pub mod output;
pub mod report;
pub mod run;
pub mod sim;
pub mod sweep;

pub use error::{Error, ErrorKind};
pub use run::{PlotArgs, RunArgs, RunReport, check_model, replot, run_model};
pub use sweep::{SweepArgs, SweepReport, run_sweep};
