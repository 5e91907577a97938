#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 300), seeding the corpora
# from the repository's models and bad-input corpus. Needs a nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in
# fuzz/artifacts/<target>/; copy each into tests/bad_input/fuzz/ as
# text-<name> or sets-<name> so `cargo test` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
mkdir -p fuzz/corpus/model_text fuzz/corpus/model_sets
cp models/*.toml models/*/*.toml tests/bad_input/*.toml fuzz/corpus/model_text/
# model_sets: a base-model byte, then --set lines.
i=0
for s in "fault.0.kind=crash" "client.policy=plain" "service.executor=event_loop" \
         "fault.0.kind=lossy
fault.0.lossy.loss=0.5" "workload.rate=1e-12" "fault.0.kind=flapping
fault.0.flapping.frozen=1ms" "service.bulkhead.enabled=true" "frontend.maxconn=1"; do
  for b in 0 1 2 3 4; do
    printf "\\x$(printf %02x $b)%s" "$s" > "fuzz/corpus/model_sets/seed-$i-$b"
  done
  i=$((i + 1))
done
# experiment_text: the corpus's experiment cases and the shipped experiments
# pointed at the small model the target writes beside them.
mkdir -p fuzz/corpus/experiment_text fuzz/corpus/journal
for f in tests/bad_input/sweep/*.toml tests/bad_input/fuzz/exp-*; do
  [ "$(basename "$f")" = model.toml ] || cp "$f" fuzz/corpus/experiment_text/
done
for e in experiments/*.toml; do
  sed 's|^model = .*|model = "model.toml"|' "$e" > "fuzz/corpus/experiment_text/shipped-$(basename "$e")"
done
# journal: the journal inputs kept with the tests.
cp tests/bad_input/fuzz/journal-* fuzz/corpus/journal/
# -O -a: optimised, with debug assertions and overflow checks, so an
# arithmetic overflow panics instead of wrapping silently.
for t in model_text model_sets experiment_text journal; do
  dict=-dict=fuzz/model.dict
  [ "$t" = journal ] && dict=
  cargo +nightly fuzz run --fuzz-dir fuzz -O -a "$t" "fuzz/corpus/$t" -- \
    $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1
done
