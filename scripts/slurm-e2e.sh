#!/usr/bin/env bash
# End-to-end test of the Slurm recipe in docs/scale-out.md against a real
# single-node Slurm on localhost.
#
#   scripts/slurm-e2e.sh [path/to/cachestorm]   (default: target/release/cachestorm)
#
# - installs Debian's slurm-wlm and munge when missing (needs root);
# - starts its own munged, slurmctld and slurmd with a generated minimal
#   configuration (private socket, ports and state folder under a temporary
#   folder), and stops exactly those processes, by PID, on exit;
# - takes sweep.sbatch and merge.sbatch out of docs/scale-out.md and submits
#   them as the doc says (array 1-N, merge with afterok), on a small
#   experiment (8 points × 2 replications, runs of about 2 s);
# - while the array runs: sends SIGINT to task 1's step (the --signal path:
#   cachestorm journals and exits 130, the script requeues its own task) and
#   cancels task 2 with scancel, then requeues it and re-arms the merge's
#   dependency as the doc says;
# - checks that every task and the merge completed and that the merged
#   folder equals a single-machine sweep byte for byte.
#
# It takes a few minutes (mostly Slurm's requeue hold, here 10 s).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/release/cachestorm}")
N=4
say() { echo "slurm-e2e: $*"; }
die() {
  echo "slurm-e2e: FAILED: $*" >&2
  exit 1
}

[ -x "$BIN" ] || die "no cachestorm binary at $BIN (cargo build --release first)"
[ "$(id -u)" -eq 0 ] || die "needs root (to install Slurm and run its daemons)"

# --- Slurm and munge --------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
  ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  say "installing slurm-wlm and munge from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge >/dev/null
fi

WORK=$(mktemp -d /tmp/slurm-e2e.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$?
  # Stop exactly the daemons this script started, newest first.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    say "logs kept in $WORK"
    for f in "$WORK"/log/*.log "$WORK"/run/logs/*; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT

mkdir -p "$WORK"/{munge,munge-key,state,spool,log,run}
# munge: a private key, socket and files, run as the munge user. The socket's
# folder must be searchable by all; the key's must not be readable.
dd if=/dev/urandom of="$WORK/munge-key/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$WORK/munge" "$WORK/munge-key"
chmod 755 "$WORK/munge"
chmod 700 "$WORK/munge-key"
chmod 400 "$WORK/munge-key/munge.key"
SOCKET=$WORK/munge/munge.socket
setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F \
  --key-file="$WORK/munge-key/munge.key" --socket="$SOCKET" \
  --pid-file="$WORK/munge/munged.pid" --seed-file="$WORK/munge/munged.seed" \
  --log-file="$WORK/munge/munged.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
munge -S "$SOCKET" -n | unmunge -S "$SOCKET" >/dev/null || die "munge does not work"

HOST=$(hostname -s)
CPUS=$(nproc)
export SLURM_CONF=$WORK/slurm.conf
cat >"$SLURM_CONF" <<EOF
# Minimal single-node Slurm for scripts/slurm-e2e.sh.
ClusterName=e2e
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
# cred_expire: how long a requeued job waits before it starts again
# (default 120 s); short, so the test takes a few minutes.
AuthInfo=socket=$SOCKET,cred_expire=10
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1000 State=UNKNOWN
PartitionName=e2e Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
/usr/sbin/slurmctld -D -i -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 &
PIDS+=($!)
/usr/sbin/slurmd -D -f "$SLURM_CONF" >"$WORK/log/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 0.3
done
sinfo -h -o %T | grep -qx idle || die "the node did not come up: $(sinfo 2>&1)"
say "slurm up: $(sinfo -h -o '%P %a %D %T %c') (daemons ${PIDS[*]})"

# --- The recipe, taken out of the doc ----------------------------------------
RUN=$WORK/run
cd "$RUN"
block() { # the ```bash block of docs/scale-out.md whose second line starts with "# $1"
  awk -v name="# $1" '
    /^```bash$/ { inb = 1; n = 0; buf = ""; next }
    /^```$/ { if (inb && keep) { printf "%s", buf; exit } inb = 0; keep = 0; next }
    inb { n++; buf = buf $0 "\n"; if (n == 2 && index($0, name) == 1) keep = 1 }
  ' "$ROOT/docs/scale-out.md"
}
block sweep.sbatch >sweep.sbatch
block merge.sbatch >merge.sbatch
grep -q 'N=\$2' sweep.sbatch || die "sweep.sbatch not found in docs/scale-out.md"
grep -q 'cachestorm merge' merge.sbatch || die "merge.sbatch not found in docs/scale-out.md"
mkdir -p models experiments
cp "$ROOT/models/checks/mm1.toml" models/mm1.toml
cat >experiments/e2e.toml <<'EOF'
# 8 points × 2 replications of the M/M/1 check model, about 2 s each.
model = "../models/mm1.toml"
replications = 2
seed = 3
metrics = ["latency_ms.mean", "windows.steady.latency_ms.p99", "requests.offered"]
[vary]
workload.rate = [300, 400, 500, 600, 700, 750, 800, 850]
[set]
duration = "8000s"
warmup = "10s"
drain = "1s"
EOF
# `cachestorm` on PATH, as the sbatch scripts call it.
mkdir -p "$WORK/bin"
ln -s "$BIN" "$WORK/bin/cachestorm"
export PATH=$WORK/bin:$PATH
EXP=experiments/e2e.toml

# As the doc says, with one CPU per task on this small machine.
mkdir -p logs
jid=$(sbatch --parsable --cpus-per-task=1 --array=1-$N sweep.sbatch "$EXP" "$N")
mid=$(sbatch --parsable --dependency=afterok:$jid merge.sbatch "$EXP" "$N")
say "array $jid, merge $mid"

journal_runs() { # finished runs in a shard's journal
  local j=sweeps/e2e/shard-$1-of-$N/journal.jsonl
  [ -f "$j" ] && echo $(($(wc -l <"$j") - 1)) || echo 0
}
state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
wait_for() { # wait_for SECONDS WHAT COMMAND...
  local limit=$1 what=$2
  shift 2
  for _ in $(seq $((limit * 2))); do
    "$@" && return 0
    sleep 0.5
  done
  die "timed out waiting for $what"
}
has_runs() { [ "$(journal_runs "$1")" -ge 1 ]; }
running() { [ "$(state "${jid}_$1")" = RUNNING ]; }
for _ in $(seq 480); do
  running 1 && running 2 && has_runs 1 && has_runs 2 && break
  case "$(state "${jid}_1") $(state "${jid}_2")" in
    *FAILED* | *COMPLETED* | *CANCELLED*) die "tasks 1 and 2 ended too early: $(cat logs/*)" ;;
  esac
  sleep 0.25
done
running 1 && running 2 && has_runs 1 && has_runs 2 ||
  die "tasks 1 and 2 are not both running with a finished run (states $(state "${jid}_1") $(state "${jid}_2"))"

# Task 2 first: cancelled (by the user, or an admin). It goes first because
# `scancel --signal` below may keep retrying for seconds while task 1 is
# requeued, and task 2 must still be running when it is cancelled.
scancel "${jid}_2" || die "scancel failed"
# Task 1: SIGINT to its step, as --signal=INT@120 would send before the time
# limit. cachestorm journals and exits 130; the script requeues the task.
# (scancel retries by itself while a job is changing state: bounded here; the
# log below shows whether the signal arrived.)
timeout 10 scancel --signal=INT "${jid}_1" || true
wait_for 60 "task 2 to be cancelled" bash -c "[ \"\$(scontrol -o show job ${jid}_2 | grep -o 'JobState=[A-Z_]*')\" = JobState=CANCELLED ]"
wait_for 60 "task 1 to stop" grep -q "Exited with exit code 130" "logs/cachestorm-sweep-${jid}_1.out"
say "task 1 stopped by SIGINT with $(journal_runs 1) run(s) journaled; task 2 cancelled with $(journal_runs 2)"
# The merge now waits for good: afterok saw a cancelled task.
sleep 3
scontrol -o show job "$mid" | grep -q 'DependencyNeverSatisfied' ||
  say "note: merge job reason is $(scontrol -o show job "$mid" | grep -o 'Reason=[^ ]*')"
# The doc's fix: requeue the task under the same id, re-arm the dependency.
scontrol requeue "${jid}_2"
scontrol update JobId=$mid Dependency=afterok:$(seq -s: -f "${jid}_%g" 1 $N)

wait_for 400 "the merge job to end" bash -c "s=\$(scontrol -o show job $mid | grep -o 'JobState=[A-Z_]*'); case \$s in *COMPLETED|*FAILED|*CANCELLED|*TIMEOUT) exit 0;; *) exit 1;; esac"
for t in $(seq "$N"); do
  s=$(state "${jid}_$t")
  [ "$s" = COMPLETED ] || die "task $t ended $s"
done
[ "$(state "$mid")" = COMPLETED ] || die "merge ended $(state "$mid")"
restarts1=$(scontrol -o show job "${jid}_1" | grep -o 'Restarts=[0-9]*')
restarts2=$(scontrol -o show job "${jid}_2" | grep -o 'Restarts=[0-9]*')
say "all $N tasks and the merge COMPLETED (task 1 $restarts1, task 2 $restarts2)"
[ "$restarts1" != Restarts=0 ] || die "task 1 was not requeued"
grep -q "interrupted" logs/cachestorm-sweep-"${jid}"_1.out || die "task 1's log lost its first attempt (--open-mode=append)"

# --- The single-machine sweep, from the same folder --------------------------
"$BIN" sweep "$EXP" --out sweeps/e2e/single --quiet --no-plots
for f in results.csv replications.csv ranking.csv ranking.md experiment.toml journal.jsonl; do
  cmp -s "sweeps/e2e/single/$f" "sweeps/e2e/merged/$f" || die "merged $f differs from the single-machine sweep"
done
say "merged folder equals the single-machine sweep byte for byte (6 files)"
say "passed"
