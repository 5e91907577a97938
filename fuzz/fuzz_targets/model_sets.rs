//! A shipped model and arbitrary `--set` overrides (one per line): parse,
//! validate, and run it bounded when valid (`tests/bad_input/fuzz_harness.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/bad_input/fuzz_harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::model_sets(data));
