#!/usr/bin/env bash
# Records the cause-analysis fixtures (test/fixtures/causes/*.dat): one short trace per
# cause, each in a private tracefs instance (rtscope-causefix-$$, trace_clock mono) that is
# removed on every exit path. Needs root, tracefs, cyclictest, stress-ng, trace-cmd, 2 CPUs.
#
#   thread.dat     cyclictest (FIFO 77 = kernel prio 22, CPU 1) + a FIFO 90 stress-ng hog on CPU 1 in 5 ms slices
#   blocking.dat   cyclictest (FIFO 76 = prio 23, CPU 1) + a SCHED_OTHER stress-ng vm hog on CPU 1
#   idle.dat       cyclictest (FIFO 75 = prio 24, CPU 0) alone on CPU 0 (everything else pinned to CPU 1)
#   migration.dat  a reader (cat) on CPU 0 woken through a pipe by a writer on CPU 1
# The odd priorities let the tests find these threads even if something else ran on the
# machine during the recording (other people's cyclictest runs appear in a shared VM).
#
# Usage: scripts/record-cause-fixtures.sh [OUTDIR [SCENARIO...]]   (default test/fixtures/causes, all four)
# On a busy machine an idle CPU is rare: re-record `idle` (or `migration`) alone when the
# machine is quiet; the tests only use the wakeups whose raw events show an idle CPU.
set -euo pipefail

OUT=${1:-"$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/causes"}
shift || true
SCENARIOS=${*:-"thread blocking idle migration"}
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
TRACEFS=/sys/kernel/tracing
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/tracefs-extract.sh
. "$SCRIPT_DIR/lib/tracefs-extract.sh"
# shellcheck source=lib/rt-events.sh
. "$SCRIPT_DIR/lib/rt-events.sh"
# shellcheck source=lib/tracefs-instance.sh
. "$SCRIPT_DIR/lib/tracefs-instance.sh"
NAME="rtscope-causefix-$$"
INST="$TRACEFS/instances/$NAME"
MAX_BYTES=$((2 * 1024 * 1024))

[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
[ -d "$TRACEFS/instances" ] || { echo "no tracefs at $TRACEFS" >&2; exit 1; }
for t in cyclictest stress-ng trace-cmd taskset chrt; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done

cleanup() {
  # stop every helper we started, then remove the instance (rmdir fails while busy)
  jobs -p | xargs -r kill 2>/dev/null || true
  wait 2>/dev/null || true
  tracefs_instance_remove "$INST" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$OUT"
# keep this shell and its helpers off CPU 0 unless a scenario says otherwise
taskset -pc 1 $$ >/dev/null

start_instance() {
  mkdir "$INST"
  echo mono >"$INST/trace_clock"
  echo 1024 >"$INST/buffer_size_kb"
  for e in $RT_EVENTS; do
    if [ -e "$INST/events/$e/enable" ]; then echo 1 >"$INST/events/$e/enable"; fi
  done
  echo 1 >"$INST/tracing_on"
}

stop_instance() { # $1 = output file
  echo 0 >"$INST/tracing_on"
  tracefs_extract "$NAME" "$1"
  tracefs_instance_remove "$INST"
  local size
  size=$(stat -c %s "$1")
  if [ "$size" -ge "$MAX_BYTES" ]; then
    echo "$1 is $size bytes (limit $MAX_BYTES)" >&2
    exit 1
  fi
  echo "$1: $size bytes"
}

# 1. thread interference: a higher-priority FIFO hog on the cyclictest CPU
if want thread; then
start_instance
stress-ng --cpu 1 --cpu-load 30 --cpu-load-slice 5 --taskset 1 --sched fifo --sched-prio 90 -t 2 >/dev/null 2>&1 &
sleep 0.2
cyclictest -q -m -p 77 -a 1 -t 1 -i 1000 -l 1000 --policy=fifo >/dev/null
wait
stop_instance "$OUT/thread.dat"
fi

# 2. blocking: a SCHED_OTHER hog on this non-preemptible kernel, mostly in the kernel (page faults)
if want blocking; then
start_instance
stress-ng --vm 1 --vm-bytes 256M --vm-method all --taskset 1 -t 2 >/dev/null 2>&1 &
sleep 0.2
cyclictest -q -m -p 76 -a 1 -t 1 -i 1000 -l 1000 --policy=fifo >/dev/null
wait
stop_instance "$OUT/blocking.dat"
fi

# 3. idle exit: cyclictest alone on CPU 0
if want idle; then
start_instance
taskset -c 0 cyclictest -q -m -p 75 -a 0 -t 1 -i 5000 -l 300 --policy=fifo >/dev/null
stop_instance "$OUT/idle.dat"
fi

# 4. migration: reader on CPU 0 woken by a writer on CPU 1 (sched_switch out of idle is recorded on CPU 0)
if want migration; then
start_instance
taskset -c 1 bash -c 'for i in $(seq 200); do echo x; sleep 0.005; done' | taskset -c 0 cat >/dev/null
stop_instance "$OUT/migration.dat"
fi
