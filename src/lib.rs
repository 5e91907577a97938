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
pub mod import;
pub mod metrics;
pub mod output;
pub mod report;
pub mod run;
pub mod sim;
pub mod sweep;

pub use error::{Error, ErrorKind};

/// What decides the numbers this build computes: MD5 (16 hex digits) of its
/// sources, `Cargo.toml`, `Cargo.lock` and the compiler's version, computed
/// by `build.rs`. Part of every sweep's fingerprint, so shards and journals
/// of another build are refused.
pub const BUILD: &str = env!("CACHESTORM_BUILD");

/// The git commit this build came from (`-dirty` with uncommitted edits;
/// `unknown` outside a checkout or a packaged crate).
pub const COMMIT: &str = env!("CACHESTORM_COMMIT");

/// The version with its build, as journals record it:
/// `0.1.0+<BUILD>` (semver build metadata).
pub const VERSION_BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("CACHESTORM_BUILD"));

/// What `--version` prints after the name.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CACHESTORM_COMMIT"),
    ", build ",
    env!("CACHESTORM_BUILD"),
    ")"
);
pub use run::{PlotArgs, RunArgs, RunReport, check_model, replot, run_model};
pub use sweep::{SweepArgs, SweepReport, run_sweep};
