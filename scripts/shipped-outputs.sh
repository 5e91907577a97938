#!/usr/bin/env bash
# Writes the outputs of every shipped model and experiment into one folder, so
# that two builds can be compared byte for byte (a refactoring must not change
# a single byte):
#
#   scripts/shipped-outputs.sh OUT [BINARY]      # BINARY defaults to target/release/cachestorm
#   diff -r OUT-before OUT-after                 # nothing printed = identical
#
# Every model under models/ is run with its own seed (plots included), every
# experiment under experiments/ is swept on 2 threads. Files that record wall
# time or the build (sweep logs) are left out of the comparison by the caller.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/shipped-outputs.sh OUT [BINARY]}
bin=${2:-target/release/cachestorm}
mkdir -p "$out"
for m in $(find models -name '*.toml' | sort); do
  name=${m#models/}; name=${name%.toml}
  "$bin" run "$m" --out "$out/run/$name" --force --quiet
done
for e in experiments/*.toml; do
  name=$(basename "$e" .toml)
  "$bin" sweep "$e" --out "$out/sweep/$name" --force --quiet --threads 2
done
