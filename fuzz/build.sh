#!/usr/bin/env bash
# Builds the fuzz targets without cargo-fuzz or a nightly toolchain: the
# stable compiler with RUSTC_BOOTSTRAP=1 and the flags cargo-fuzz passes
# (SanitizerCoverage for libFuzzer, debug assertions and overflow checks).
# Binaries land in fuzz/target/x86_64-unknown-linux-gnu/release/<target>; run one with
#   fuzz/target/x86_64-unknown-linux-gnu/release/journal fuzz/corpus/journal -max_total_time=60
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps RUSTFLAGS off the build scripts, as cargo-fuzz does.
cargo build --release --bins --target x86_64-unknown-linux-gnu "$@"
