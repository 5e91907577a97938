//! The integration tests, in one binary (one link of the crate instead of
//! one per file): a module per subject. Shared helpers are in
//! `tests/common/`; what the fuzz targets do with one input is in
//! `tests/bad_input/fuzz_harness.rs`, shared with `fuzz/`. Run one module
//! with `cargo test --release --test integration -- queueing::`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../bad_input/fuzz_harness.rs"]
mod fuzz_harness;

mod bad_input;
mod cache;
mod cli;
mod database;
mod flows;
mod import;
mod invariants;
mod library;
mod locator;
mod metastable;
mod metastable_cache;
mod peer;
mod policies;
mod prefix;
mod proxy;
mod queueing;
mod report;
mod shapes;
mod spymemcached;
mod sweep;
mod testbed;
mod ux;
mod vmap;
