#!/bin/bash
# Records trace.dat fixtures with ground truth (cyclictest -v per-cycle latencies) into
# test/fixtures/trace-dat/<case>/, and raw traces for the offline benchmark.
#
# Everything goes through a PRIVATE tracefs instance (instances/rtscope-fixture-$$), removed on
# every exit path; the top-level tracefs settings are never touched. `trace-cmd record` does not
# work on the development VM, so events are enabled by hand and `trace-cmd extract` saves them.
#
# Usage (root):
#   scripts/record-fixtures.sh [CASE...]           record fixture cases (default: all)
#        cases: idle cpu-load hackbench fifo-hog local-clock realtime
#   scripts/record-fixtures.sh --raw OUTDIR [--buffer-kb N] [--events sched|all] [--full-kallsyms] -- CMD ARGS...
#        record CMD into OUTDIR/trace.v7.dat (used by bench/run.ts); prints "events N" and "lost N"
#
# Per fixture case the folder holds:
#   trace.v7.dat   trace-cmd extract (file version 7, zstd)
#   trace.v6.dat   trace-cmd convert --file-version 6 --compression none of trace.v7.dat
#   trace.txt      the instance's own `trace` file (read before extract, which consumes the buffers)
#   report-t.txt   trace-cmd report -t -i trace.v7.dat (ns timestamps)
#   cyclictest.txt the exact command line, then cyclictest's stdout (-v -N: "thread: cycle: latency(ns)")
#   case.json      command lines, kernel, date, and cyclictest's measuring threads (tid, cpu) read from /proc
#
# /proc/kallsyms is 5 MB here; trace-cmd copies it into every trace.dat. For fixtures, extract runs
# in a private mount namespace where /proc/kallsyms is bind-mounted over by the few symbols the
# trace names (hrtimer callbacks seen in the text, plus hrtimer_wakeup) so each file stays < 2 MB.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
TRACEFS=/sys/kernel/tracing
# shellcheck source=lib/tracefs-extract.sh
. "$SCRIPT_DIR/lib/tracefs-extract.sh"
# shellcheck source=lib/rt-events.sh
. "$SCRIPT_DIR/lib/rt-events.sh"
# shellcheck source=lib/tracefs-instance.sh
. "$SCRIPT_DIR/lib/tracefs-instance.sh"
NAME=rtscope-fixture-$$
INST=$TRACEFS/instances/$NAME
WORK=$(mktemp -d /tmp/rtscope-fixture.XXXXXX)
BG_PIDS=()

cleanup() {
  local p
  for p in "${BG_PIDS[@]:-}"; do
    [ -n "$p" ] && kill -TERM -- "-$p" 2>/dev/null || true
  done
  tracefs_instance_remove "$INST" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SCHED_EVENTS=$RT_SCHED_EVENTS
ALL_EVENTS=$RT_EVENTS

ensure_tracefs() {
  if [ ! -d "$TRACEFS/instances" ]; then
    mount -t tracefs nodev "$TRACEFS"
  fi
}

# instance_create BUFFER_KB EVENTS [CLOCK]: a fresh private instance, trace clock CLOCK (default
# mono), events on, tracing off.
instance_create() {
  local kb=$1 events=$2 clock=${3:-mono} ev
  ensure_tracefs
  mkdir "$INST"
  echo 0 >"$INST/tracing_on"
  echo "$clock" >"$INST/trace_clock"
  echo "$kb" >"$INST/buffer_size_kb"
  for ev in $events; do
    echo 1 >"$INST/events/$ev/enable"
  done
}

# instance_stats_sum AWK: the number the awk program AWK prints for each per-CPU stats file of
# the instance, summed over CPUs.
instance_stats_sum() {
  local n=0 f v
  for f in "$INST"/per_cpu/cpu*/stats; do
    v=$(awk "$1" "$f")
    n=$((n + v))
  done
  echo "$n"
}

# Events lost in the instance (overruns + dropped, summed over CPUs).
instance_lost() {
  instance_stats_sum '/^overrun:/ {o=$2} /^dropped events:/ {d=$3} END {print o+d}'
}

# Events recorded in the instance (per-CPU "entries:" before anything consumed them).
instance_entries() {
  instance_stats_sum '/^entries:/ {print $2}'
}

# instance_extract OUT.dat KALLSYMS [EVENTS]: trace-cmd extract of the instance (v7, zstd), in a
# private mount namespace that keeps the top-level tracefs as it is (scripts/lib/tracefs-extract.sh).
instance_extract() {
  tracefs_extract "$NAME" "$@"
}

# Small kallsyms for a fixture: the symbols the text trace names as hrtimer callbacks, plus
# hrtimer_wakeup (the analysis looks it up to recognise timer sleeps).
small_kallsyms() {
  local text=$1 out=$2
  {
    echo hrtimer_wakeup
    grep -o 'function=[A-Za-z0-9_.]*' "$text" | sed 's/function=//' | sort -u
  } >"$WORK/wanted-symbols"
  awk 'NR==FNR {want[$1]=1; next} ($3 in want) && NF==3' "$WORK/wanted-symbols" /proc/kallsyms | sort >"$out"
}

# --- fixture cases ----------------------------------------------------------------------------

# cyclictest cycles per case: as many as keep every fixture file < 2 MB (the loads add events).
case_loops() {
  case $1 in
  idle) echo 500 ;;
  cpu-load) echo 500 ;;
  hackbench) echo 300 ;;
  *) echo 500 ;;
  esac
}

# Trace clock per case: mono, except the case that checks the timer metric's offset estimate
# between another trace clock and the timers' CLOCK_MONOTONIC.
case_clock() {
  case $1 in
  local-clock) echo local ;;
  *) echo mono ;;
  esac
}

# Events per case. The clock cases were recorded while the shared machine ran fuzzers that spawn
# thousands of processes a second (7 M events lost in 16 MiB per CPU): they keep the events the
# timer metric reads, and the sched events that concern cyclictest (case_filters).
case_events() {
  case $1 in
  local-clock | realtime)
    echo "sched/sched_switch sched/sched_wakeup sched/sched_waking
      timer/hrtimer_start timer/hrtimer_expire_entry timer/hrtimer_expire_exit timer/hrtimer_cancel
      syscalls/sys_enter_clock_nanosleep syscalls/sys_exit_clock_nanosleep"
    ;;
  *) echo "$ALL_EVENTS" ;;
  esac
}

# case_filters CASE: in-kernel event filters of the case (after instance_create).
case_filters() {
  case $1 in
  local-clock | realtime)
    echo 'prev_comm == "cyclictest" || next_comm == "cyclictest"' >"$INST/events/sched/sched_switch/filter"
    echo 'comm == "cyclictest"' >"$INST/events/sched/sched_wakeup/filter"
    echo 'comm == "cyclictest"' >"$INST/events/sched/sched_waking/filter"
    ;;
  esac
}

# Extra cyclictest options per case: `realtime` sleeps on CLOCK_REALTIME timers (--clock=1), whose
# expiry times are not on the trace clock's base.
case_ct_options() {
  case $1 in
  realtime) echo --clock=1 ;;
  esac
}

# Starts the load of a case in the background (pids in BG_PIDS, command line in LOAD_CMD).
# Not run in a $(...) subshell: BG_PIDS must reach stop_load.
LOAD_CMD=""
start_load() {
  case $1 in
  idle | local-clock | realtime) LOAD_CMD="(none)" ;;
  cpu-load)
    setsid stress-ng --cpu 2 --timeout 30 -q >/dev/null 2>&1 &
    BG_PIDS+=($!)
    LOAD_CMD="stress-ng --cpu 2 --timeout 30 -q"
    ;;
  hackbench)
    # Short bursts: a free-running hackbench makes ~1 M events/s and the fixture must stay < 2 MB.
    local hb='while :; do hackbench -g 1 -f 2 -l 150 -s 64; sleep 0.02; done'
    setsid bash -c "$hb" >/dev/null 2>&1 &
    BG_PIDS+=($!)
    LOAD_CMD=$hb
    ;;
  fifo-hog)
    # FIFO 90 > cyclictest's 80 on CPU 1, 30 % load in 2 ms slices: preempts thread 1 for up
    # to a slice. RT throttling (sched_rt_runtime_us) would save the box; the hog is short anyway.
    setsid chrt -f 90 taskset -c 1 stress-ng --cpu 1 --cpu-load 30 --cpu-load-slice 2 --timeout 30 -q >/dev/null 2>&1 &
    BG_PIDS+=($!)
    LOAD_CMD="chrt -f 90 taskset -c 1 stress-ng --cpu 1 --cpu-load 30 --cpu-load-slice 2 --timeout 30 -q"
    ;;
  *)
    echo "unknown case $1" >&2
    return 1
    ;;
  esac
}

stop_load() {
  local p
  for p in "${BG_PIDS[@]:-}"; do
    [ -n "$p" ] || continue
    # setsid made each load a process group of its own: end the group (workers included).
    kill -TERM -- "-$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  BG_PIDS=()
}

# Measuring threads of cyclictest PID from /proc: "tid cpu" per SCHED_FIFO thread, in tid order
# (cyclictest creates thread 0 first; with -a thread N is pinned to CPU N).
cyclictest_threads() {
  local pid=$1 t
  for t in /proc/"$pid"/task/*; do
    # stat field 41 = policy (1 = FIFO); Cpus_allowed_list from status.
    local policy
    policy=$(awk '{print $41}' "$t/stat" 2>/dev/null || echo 0)
    [ "$policy" = 1 ] || continue
    # a thread may exit between the two reads (cyclictest's helper threads do)
    echo "$(basename "$t") $(awk '/^Cpus_allowed_list:/ {print $2}' "$t/status" 2>/dev/null)"
  done | sort -n
}

record_case() {
  local c=$1 out=$REPO/test/fixtures/trace-dat/$1
  echo "== case $c" >&2
  local LOOPS
  LOOPS=$(case_loops "$c")
  local CT_CMD=(cyclictest -t2 -a -p80 -i1000 -d0 -l"$LOOPS" -m -v -N)
  # shellcheck disable=SC2207 # words on purpose
  CT_CMD+=($(case_ct_options "$c"))
  local CLOCK
  CLOCK=$(case_clock "$c")
  local EVENTS
  EVENTS=$(case_events "$c")
  rm -rf "$out"
  mkdir -p "$out"
  instance_create 16384 "$EVENTS" "$CLOCK"
  case_filters "$c"

  start_load "$c"
  [ "$LOAD_CMD" = "(none)" ] || sleep 1

  echo 1 >"$INST/tracing_on"
  "${CT_CMD[@]}" >"$WORK/ct.out" 2>"$WORK/ct.err" &
  local ct=$!
  # Thread ids from /proc while cyclictest runs (cyclictest -v does not print them).
  local threads="" i
  for i in $(seq 1 200); do
    sleep 0.01
    threads=$(cyclictest_threads "$ct" || true)
    [ "$(echo "$threads" | grep -c .)" -ge 2 ] && break
  done
  wait "$ct"
  echo 0 >"$INST/tracing_on"
  stop_load
  if pgrep -x stress-ng >/dev/null || pgrep -x hackbench >/dev/null; then
    echo "warning: a stress-ng or hackbench not started by this case is running" >&2
  fi

  local lost entries
  lost=$(instance_lost)
  entries=$(instance_entries)
  if [ "$lost" != 0 ]; then
    echo "case $c: $lost events lost; raise the buffer" >&2
    return 1
  fi

  {
    echo "# ${CT_CMD[*]}"
    cat "$WORK/ct.out"
  } >"$out/cyclictest.txt"
  cp "$INST/trace" "$out/trace.txt"
  small_kallsyms "$out/trace.txt" "$WORK/kallsyms"
  instance_extract "$out/trace.v7.dat" "$WORK/kallsyms" "$EVENTS"
  tracefs_instance_remove "$INST"
  trace-cmd convert --file-version 6 --compression none -i "$out/trace.v7.dat" -o "$out/trace.v6.dat" >/dev/null 2>&1
  trace-cmd report -t -i "$out/trace.v7.dat" >"$out/report-t.txt" 2>/dev/null
  case $c in
  local-clock | realtime)
    # recorded beside a busy machine: the text forms run to tens of MB; the tests read the
    # trace.v7.dat (and trace-cmd's reading of it when they need one)
    rm -f "$out/trace.txt" "$out/trace.v6.dat" "$out/report-t.txt"
    ;;
  esac

  local tjson="" n=0 tid cpus
  while read -r tid cpus; do
    [ -n "$tid" ] || continue
    [ -n "$tjson" ] && tjson+=", "
    tjson+="{ \"thread\": $n, \"tid\": $tid, \"cpu\": $cpus }"
    n=$((n + 1))
  done <<<"$threads"
  cat >"$out/case.json" <<EOF
{
  "case": "$c",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "kernel": "$(uname -r) $(uname -v)",
  "traceCmd": "$(trace-cmd --version 2>&1 | grep -o 'version [0-9.]*' | head -1)",
  "cyclictest": "${CT_CMD[*]}",
  "load": "$LOAD_CMD",
  "traceClock": "$CLOCK",
  "enabledEvents": "$(echo $EVENTS)",
  "intervalUs": 1000,
  "loops": $LOOPS,
  "events": $entries,
  "lostEvents": $lost,
  "threads": [$tjson]
}
EOF
  ls -l "$out" >&2
}

# --- raw recording (benchmark) ----------------------------------------------------------------

record_raw() {
  local out="" kb=262144 events=sched full=0
  while [ $# -gt 0 ]; do
    case $1 in
    --raw) out=$2; shift 2 ;;
    --buffer-kb) kb=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --full-kallsyms) full=1; shift ;;
    --) shift; break ;;
    *) echo "bad argument $1" >&2; return 2 ;;
    esac
  done
  [ -n "$out" ] && [ $# -gt 0 ] || { echo "usage: $0 --raw OUTDIR [--buffer-kb N] [--events sched|all] -- CMD..." >&2; return 2; }
  local list=$SCHED_EVENTS
  [ "$events" = all ] && list=$ALL_EVENTS
  mkdir -p "$out"
  instance_create "$kb" "$list"
  echo 1 >"$INST/tracing_on"
  "$@" >/dev/null 2>&1 || true
  echo 0 >"$INST/tracing_on"
  local lost entries
  lost=$(instance_lost)
  entries=$(instance_entries)
  if [ "$full" = 1 ]; then
    cp /proc/kallsyms "$WORK/kallsyms"
  else
    grep -E ' hrtimer_wakeup$' /proc/kallsyms >"$WORK/kallsyms"
  fi
  instance_extract "$out/trace.v7.dat" "$WORK/kallsyms"
  tracefs_instance_remove "$INST"
  echo "events $entries"
  echo "lost $lost"
}

if [ "${1:-}" = --raw ]; then
  record_raw "$@"
  exit
fi

[ "$(id -u)" = 0 ] || { echo "must run as root (tracefs)" >&2; exit 1; }
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(idle cpu-load hackbench fifo-hog)
for c in "${CASES[@]}"; do
  record_case "$c"
done
