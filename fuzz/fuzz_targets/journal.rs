//! The `journal` target: see `tests/bad_input/fuzz_harness.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/bad_input/fuzz_harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::journal(data));
