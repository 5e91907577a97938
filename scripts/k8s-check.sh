#!/usr/bin/env bash
# Checks the Kubernetes recipe of docs/scale-out.md without a cluster.
#
#   scripts/k8s-check.sh [path/to/cachestorm]   (default: target/release/cachestorm)
#
# 1. Takes kustomization.yaml, sweep-job.yaml and merge-job.yaml out of the
#    doc and renders them as `kubectl apply -k` would (the replacement that
#    copies the sweep Job's `completions` into both Jobs' N), with
#    `kubectl kustomize` when kubectl is installed, else with the same
#    replacement in Python (PyYAML).
# 2. Validates the rendered Jobs against the Kubernetes 1.29 and 1.31 schemas
#    with kubernetes-validate (PyPI; it bundles the schemas, so this is
#    offline once installed; installed into a cached venv when missing).
# 3. Runs the pod scripts locally as the pods would (dash, the env of the
#    manifests, the volume as a local folder, --threads 1 on this small
#    machine): index 0 runs as PID 1 of its own PID namespace (as `exec`
#    makes it in a container) and gets SIGTERM (a deleted or evicted pod),
#    must exit 143 keeping its finished runs, and is retried; then every
#    other index, then the merge Job's script; the merged folder must equal
#    a single-machine sweep byte for byte.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/release/cachestorm}")
say() { echo "k8s-check: $*"; }
die() {
  echo "k8s-check: FAILED: $*" >&2
  exit 1
}
[ -x "$BIN" ] || die "no cachestorm binary at $BIN (cargo build --release first)"

WORK=$(mktemp -d /tmp/k8s-check.XXXXXX)
cleanup() {
  local rc=$?
  [ "$rc" -eq 0 ] && rm -rf "$WORK" || say "files kept in $WORK"
  exit "$rc"
}
trap cleanup EXIT

# --- 1. The manifests, out of the doc, rendered -------------------------------
K=$WORK/k8s
mkdir -p "$K"
for f in kustomization.yaml sweep-job.yaml merge-job.yaml; do
  awk -v name="# $f" '
    /^```yaml$/ { inb = 1; first = 1; buf = ""; next }
    /^```$/ { if (inb && keep) { printf "%s", buf; exit } inb = 0; keep = 0; next }
    inb { if (first && index($0, name) == 1) keep = 1; first = 0; buf = buf $0 "\n" }
  ' "$ROOT/docs/scale-out.md" >"$K/$f"
  [ -s "$K/$f" ] || die "$f not found in docs/scale-out.md"
done

VENV=${XDG_CACHE_HOME:-$HOME/.cache}/cachestorm/k8s-venv
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  say "installing kubernetes-validate into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q kubernetes-validate pyyaml
fi
PY=$VENV/bin/python

"$PY" - "$K" <<'EOF'
import sys, yaml, pathlib
k = pathlib.Path(sys.argv[1])
kust = yaml.safe_load((k / "kustomization.yaml").read_text())
docs = {}
for r in kust["resources"]:
    d = yaml.safe_load((k / r).read_text())
    docs[d["metadata"]["name"]] = d
for rep in kust["replacements"]:
    src = rep["source"]
    value = docs[src["name"]]
    for part in src["fieldPath"].split("."):
        value = value[part]
    for t in rep["targets"]:
        doc = docs[t["select"]["name"]]
        for fp in t["fieldPaths"]:
            node = doc
            parts = fp.split(".")
            for part in parts[:-1]:
                if part.startswith("[") and part.endswith("]"):
                    key, want = part[1:-1].split("=")
                    node = next(x for x in node if x[key] == want)
                else:
                    node = node[part]
            # Kustomize keeps the target's type: env values stay strings.
            node[parts[-1]] = str(value) if isinstance(node[parts[-1]], str) else value
(k / "rendered.yaml").write_text(yaml.safe_dump_all(docs.values(), sort_keys=True))
EOF
if command -v kubectl >/dev/null; then
  kubectl kustomize "$K" >"$K/kustomize.yaml" 2>"$K/kustomize.err" || die "kubectl kustomize: $(cat "$K/kustomize.err")"
  "$PY" - "$K" <<'EOF' || die "kubectl kustomize renders differently from the Python replacement"
import sys, yaml, pathlib
k = pathlib.Path(sys.argv[1])
a = sorted(yaml.safe_load_all((k / "rendered.yaml").read_text()), key=lambda d: d["metadata"]["name"])
b = sorted(yaml.safe_load_all((k / "kustomize.yaml").read_text()), key=lambda d: d["metadata"]["name"])
sys.exit(0 if a == b else 1)
EOF
  say "kubectl kustomize renders the same Jobs"
fi

# --- 2. Schema validation -------------------------------------------------------
for v in 1.29.0 1.31.0; do
  "$VENV/bin/kubernetes-validate" --strict -k "$v" "$K/rendered.yaml" >"$K/validate-$v.txt" 2>&1 ||
    die "kubernetes-validate $v: $(cat "$K/validate-$v.txt")"
done
say "rendered Jobs validate (strict) against Kubernetes 1.29.0 and 1.31.0"

# What the pods need, from the rendered Jobs.
"$PY" - "$K" <<'EOF'
import sys, yaml, pathlib, shlex
k = pathlib.Path(sys.argv[1])
docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all((k / "rendered.yaml").read_text())}
sweep, merge = docs["cachestorm-sweep"], docs["cachestorm-merge"]
n = sweep["spec"]["completions"]
def container(job):
    return job["spec"]["template"]["spec"]["containers"][0]
out = []
for job, name in ((sweep, "sweep"), (merge, "merge")):
    c = container(job)
    (k / f"{name}.sh").write_text(c["args"][0])
    for e in c["env"]:
        out.append(f"{name.upper()}_ENV_{e['name']}={shlex.quote(e['value'])}")
codes = [r["onExitCodes"]["values"] for r in sweep["spec"]["podFailurePolicy"]["rules"] if "onExitCodes" in r]
out.append(f"N={n}")
out.append(f"NO_RETRY_CODES={shlex.quote(' '.join(str(c) for cs in codes for c in cs))}")
out.append(f"MERGE_SUSPENDED={str(merge['spec'].get('suspend', False)).lower()}")
(k / "pod.env").write_text("\n".join(out) + "\n")
EOF
# shellcheck disable=SC1091
. "$K/pod.env"
[ "$SWEEP_ENV_SHARDS" = "$N" ] && [ "$MERGE_ENV_SHARDS" = "$N" ] ||
  die "N differs: completions $N, sweep env SHARDS $SWEEP_ENV_SHARDS, merge env SHARDS $MERGE_ENV_SHARDS"
for e in "$SWEEP_ENV_EXPERIMENT" "$SWEEP_ENV_SWEEPS" "$MERGE_ENV_SWEEPS"; do
  [ "$e" != "$N" ] || die "the replacement overwrote another variable with $N"
done
[ "$NO_RETRY_CODES" = 2 ] || die "the podFailurePolicy does not fail exit 2 at once (codes: $NO_RETRY_CODES)"
[ "$MERGE_SUSPENDED" = true ] || die "the merge Job is not created suspended"
say "N = $N in completions and both Jobs' SHARDS; exit 2 is not retried; the merge Job starts suspended"

# --- 3. The pods, run locally ---------------------------------------------------
APP=$WORK/app   # the image's workingDir
mkdir -p "$APP/models" "$APP/experiments" "$WORK/bin"
cp "$ROOT/models/checks/mm1.toml" "$APP/models/mm1.toml"
# The manifests' experiment path, with a small experiment: one point per
# shard, 2 replications of about 1 s each.
EXP=$SWEEP_ENV_EXPERIMENT
mkdir -p "$APP/$(dirname "$EXP")"
cat >"$APP/$EXP" <<'EOF'
model = "../models/mm1.toml"
replications = 2
seed = 5
metrics = ["latency_ms.mean", "windows.steady.latency_ms.p99"]
[vary]
workload.rate = [300, 400, 500, 600, 700, 750, 800, 850]
[set]
duration = "4000s"
warmup = "10s"
drain = "1s"
EOF
ln -s "$BIN" "$WORK/bin/cachestorm"
SWEEPS=$WORK/volume${SWEEP_ENV_SWEEPS#/sweeps}
# The volume at a local path, and one run at a time on this small machine.
sed -e 's/--threads [0-9]*/--threads 1/' "$K/sweep.sh" >"$K/sweep-local.sh"
pod() { # pod INDEX [unshare]: the sweep container's command for one index
  local idx=$1
  shift
  (cd "$APP" && env PATH="$WORK/bin:$PATH" JOB_COMPLETION_INDEX="$idx" SHARDS="$N" \
    EXPERIMENT="$EXP" SWEEPS="$SWEEPS" "$@" /bin/sh -c "$(cat "$K/sweep-local.sh")")
}

# Index 0: PID 1 of its own PID namespace, SIGTERM once the sweep started.
pod 0 unshare --pid --fork --kill-child &
outer=$!
J=$SWEEPS/shard-1-of-$N/journal.jsonl
for _ in $(seq 600); do [ -s "$J" ] && break; sleep 0.1; done
[ -s "$J" ] || die "index 0 never started"
pid=
for _ in $(seq 50); do
  pid=$(pgrep -f -n "cachestorm sweep $EXP --shard 1/$N" || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || die "no cachestorm process for index 0"
nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
[ "$nspid" = 1 ] || die "cachestorm is PID $nspid in its namespace, not 1"
kill -TERM "$pid"
rc=0
wait "$outer" || rc=$?
[ "$rc" -eq 143 ] || die "index 0 exited $rc after SIGTERM as PID 1, not 143"
kept=$(($(wc -l <"$J") - 1))
say "index 0 (PID 1 in its namespace) exited 143 on SIGTERM, $kept of 2 runs kept"
[ "$kept" -lt 2 ] || die "index 0 finished before the signal: nothing to resume"
# The retried pod resumes; then the other indexes.
for idx in $(seq 0 $((N - 1))); do
  pod "$idx" >"$WORK/pod-$idx.log" 2>&1 || die "index $idx failed: $(cat "$WORK/pod-$idx.log")"
done
say "the retry of index 0 and indexes 1..$((N - 1)) completed"
(cd "$APP" && env PATH="$WORK/bin:$PATH" SHARDS="$N" SWEEPS="$SWEEPS" /bin/sh -c "$(cat "$K/merge.sh")") >"$WORK/merge.log" 2>&1 ||
  die "the merge pod failed: $(cat "$WORK/merge.log")"
(cd "$APP" && "$BIN" sweep "$EXP" --out "$WORK/single" --quiet --no-plots)
for f in results.csv replications.csv ranking.csv ranking.md experiment.toml journal.jsonl; do
  cmp -s "$WORK/single/$f" "$SWEEPS/merged/$f" || die "merged $f differs from the single-machine sweep"
done
say "merged folder equals the single-machine sweep byte for byte (6 files)"
say "passed"
