#!/usr/bin/env bash
# Runs the SimPy peer (a SimPy 4 program of the same model, not shipped with
# cachestorm) and cachestorm's version of it (models/peers/simpy-cache.toml)
# on this machine, interleaved seed by seed so both see the same load, and
# prints the ratio of SimPy's own reported wall_s (model build + run, no
# interpreter start-up) to cachestorm's whole-process wall time (--no-plots):
# the ratio of the medians and the ratio of each interleaved pair with its
# median (a shared machine's wall times are noisy; instruction counts from
# callgrind are the stable figure, docs/performance.md).
#
# Usage: scripts/peer-compare.sh PEER_SCRIPT [RUNS]
#   PEER_SCRIPT  the peer's simpy_cache.py (or set $CACHESTORM_PEER and omit it)
#   RUNS         default 5 (seeds 1..RUNS); medians are reported
# Needs python3 with venv; SimPy 4.1.2 is installed into a venv outside the
# repository ($CACHESTORM_PEER_VENV, default ~/.cache/cachestorm/venv-simpy).
set -euo pipefail
peer=${1:-${CACHESTORM_PEER:-}}
if [ -z "$peer" ]; then
  echo "usage: scripts/peer-compare.sh PEER_SCRIPT [RUNS]  (or set CACHESTORM_PEER)" >&2
  exit 2
fi
# Resolved against the caller's folder, before moving to the repository.
[ -f "$peer" ] && peer=$(cd "$(dirname "$peer")" && pwd)/$(basename "$peer")
cd "$(dirname "$0")/.."
runs=${2:-5}
venv=${CACHESTORM_PEER_VENV:-$HOME/.cache/cachestorm/venv-simpy}
if [ ! -f "$peer" ]; then
  echo "peer script not found: $peer" >&2
  exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet simpy==4.1.2
fi
cargo build --release --quiet
bin=target/release/cachestorm
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: > "$out/simpy.txt"; : > "$out/cs.txt"; : > "$out/simpy-err.txt"; : > "$out/cs-err.txt"; : > "$out/pairs.txt"
for seed in $(seq 1 "$runs"); do
  line=$("$venv/bin/python" "$peer" --quiet --seed "$seed")
  echo "$line" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["wall_s"])' >> "$out/simpy.txt"
  echo "$line" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["error_fraction"])' >> "$out/simpy-err.txt"
  start=$(date +%s%N)
  "$bin" run models/peers/simpy-cache.toml --seed "$seed" --out "$out/run$seed" --no-plots --quiet
  end=$(date +%s%N)
  echo "scale=6; ($end - $start) / 1000000000" | bc >> "$out/cs.txt"
  # This pair's ratio (SimPy and cachestorm ran back to back, under the same load).
  echo "scale=2; $(tail -1 "$out/simpy.txt") / $(tail -1 "$out/cs.txt")" | bc >> "$out/pairs.txt"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["requests"]; print(1 - r["succeeded"] / r["offered"])' "$out/run$seed/summary.json" >> "$out/cs-err.txt"
done
s=$(median < "$out/simpy.txt"); c=$(median < "$out/cs.txt")
se=$(median < "$out/simpy-err.txt"); ce=$(median < "$out/cs-err.txt")
echo "runs: $runs (seeds 1..$runs), medians"
echo "SimPy wall_s:             $s s   error fraction $se"
echo "cachestorm process wall:  $c s   error fraction $ce"
echo "ratio: $(echo "scale=1; $s / $c" | bc) x"
echo "ratio per interleaved pair (seed 1..$runs): $(tr '\n' ' ' < "$out/pairs.txt")"
echo "median ratio of the pairs: $(median < "$out/pairs.txt") x"
