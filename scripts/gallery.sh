#!/usr/bin/env bash
# Regenerates plots/, the README's gallery, from the shipped models and
# experiments (about three minutes on a two-core machine):
#
#   scripts/gallery.sh
#
# Every image is PNG and SVG, 1600 x 900.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/cachestorm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" run models/incident.toml --out "$tmp/incident" --quiet
"$bin" run models/testbed/frozen.toml --out "$tmp/testbed-frozen" --quiet
"$bin" sweep experiments/incident-mitigations.toml --out "$tmp/mitigations" --quiet
"$bin" sweep experiments/timeout-vs-degradation.toml --out "$tmp/degradation" --quiet --no-plots
"$bin" sweep experiments/hotos-retry-vmap.toml --out "$tmp/retry-vmap" --quiet
"$bin" sweep experiments/hotos-lookaside-vmap.toml --out "$tmp/lookaside-vmap" --quiet

mkdir -p plots
copy() { # copy FOLDER PLOT NAME
  for ext in png svg; do cp "$tmp/$1/$2.$ext" "plots/$3.$ext"; done
}
copy incident timeline incident-timeline
copy incident nodes incident-nodes
copy testbed-frozen timeline testbed-frozen-timeline
copy testbed-frozen nodes testbed-frozen-nodes
copy mitigations heatmap mitigations-heatmap
copy mitigations ranking mitigations-ranking   # the main job's own ranking, as it wrote it
"$bin" plot "$tmp/degradation" --panel client.spymemcached.failure_mode \
  --x fault.0.slow.factor --y client.op_timeout > /dev/null
copy degradation heatmap degradation-heatmap
"$bin" plot "$tmp/degradation" --x fault.0.slow.factor --series client.op_timeout \
  --fix client.spymemcached.failure_mode=redistribute > /dev/null
copy degradation lines degradation-lines
copy retry-vmap vmap hotos-retry-vmap
copy lookaside-vmap vmap hotos-lookaside-vmap
cp "$tmp/mitigations/ranking.md" plots/mitigations-ranking.md
echo "wrote plots/"
