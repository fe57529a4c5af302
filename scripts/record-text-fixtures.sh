#!/bin/bash
# Records the ftrace text fixtures of test/fixtures/text/ on this machine (root, tracefs).
# One recording in a private instance, saved as the kernel's own `trace` text and, through
# `trace-cmd extract` (scripts/lib/tracefs-extract.sh, which keeps the top-level tracefs as
# it is), as `trace-cmd report` text in its default, -N, -R and -t forms, so
# that tests can check that every form of the same events decodes to the same stream.
#
# Usage: sudo scripts/record-text-fixtures.sh [outdir]   (default test/fixtures/text)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$SCRIPT_DIR/../test/fixtures/text}
TRACEFS=/sys/kernel/tracing
# shellcheck source=lib/tracefs-extract.sh
. "$SCRIPT_DIR/lib/tracefs-extract.sh"
# shellcheck source=lib/rt-events.sh
. "$SCRIPT_DIR/lib/rt-events.sh"
# shellcheck source=lib/tracefs-instance.sh
. "$SCRIPT_DIR/lib/tracefs-instance.sh"
NAME=rtscope-textfix-$$
INST=$TRACEFS/instances/$NAME
WORK=$(mktemp -d)

cleanup() {
  tracefs_instance_remove "$INST" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A new, empty instance for each recording (trace-cmd 3.1's `extract -B` removes the
# instance it read; other versions may leave it).
fresh_instance() {
  tracefs_instance_remove "$INST"
  mkdir "$INST"
  echo 0 >"$INST/tracing_on"
}

mkdir -p "$OUT"
fresh_instance
echo mono >"$INST/trace_clock"
# Large enough that nothing is lost for this short run (KiB per CPU).
echo 4096 >"$INST/buffer_size_kb"
for ev in $RT_EVENTS; do
  echo 1 >"$INST/events/$ev/enable"
done

# Only the events of this script and its children (event-fork), so that a busy machine does
# not bloat the fixtures; sched_switch and sched_wakeup also pass when the other task of the
# event is in the list.
echo 1 >"$INST/options/event-fork"
echo $$ >"$INST/set_event_pid"
# A comm with spaces, a dash and digits: the line parser must take the LAST -<pid>.
mkdir -p "$WORK/bin"
ln -s "$(command -v cyclictest)" "$WORK/bin/rt-test 2-1"
echo 1 >"$INST/tracing_on"
# A short periodic RT workload (50 cycles of 1 ms) run by a forked child, then an exit.
bash -c '"$1" -t1 -p80 -i1000 -l50 -q >/dev/null; /bin/sleep 0.001' _ "$WORK/bin/rt-test 2-1"
echo 0 >"$INST/tracing_on"
cp "$INST/trace" "$OUT/tracefs-mono.txt"
tracefs_extract "$NAME" "$WORK/x.dat"
DAT=$WORK/x.dat
trace-cmd report -i "$DAT" >"$OUT/report-default.txt" 2>/dev/null
trace-cmd report -N -i "$DAT" >"$OUT/report-N.txt" 2>/dev/null
trace-cmd report -R -i "$DAT" >"$OUT/report-R.txt" 2>/dev/null
trace-cmd report -t -i "$DAT" >"$OUT/report-t.txt" 2>/dev/null
trace-cmd report -l -i "$DAT" >"$OUT/report-l.txt" 2>/dev/null

# Second recording: a buffer far too small, so that data is lost. trace_pipe prints
# `CPU:N [LOST n EVENTS]`; the non-consuming `trace` shows entries-in-buffer < written;
# trace-cmd report prints `CPU:N [n EVENTS DROPPED]`.
fresh_instance
echo mono >"$INST/trace_clock"
echo 8 >"$INST/buffer_size_kb"
echo 1 >"$INST/events/sched/sched_switch/enable"
echo 1 >"$INST/events/sched/sched_wakeup/enable"
echo 1 >"$INST/events/sched/sched_waking/enable"
echo 1 >"$INST/events/timer/enable"
echo 1 >"$INST/tracing_on"
cyclictest -t1 -p80 -i200 -l200 -q >/dev/null
echo 0 >"$INST/tracing_on"
timeout 1 cat "$INST/trace_pipe" >"$OUT/tracefs-pipe-lost.txt" || true
echo 1 >"$INST/tracing_on"
cyclictest -t1 -p80 -i200 -l200 -q >/dev/null
echo 0 >"$INST/tracing_on"
cp "$INST/trace" "$OUT/tracefs-overflow.txt"
tracefs_extract "$NAME" "$WORK/y.dat"
DAT=$WORK/y.dat
trace-cmd report -i "$DAT" >"$OUT/report-dropped.txt" 2>/dev/null

# Third recording: a clock that is not in ns (integer timestamps) and the TGID column
# that atrace/systrace traces carry.
fresh_instance
echo counter >"$INST/trace_clock"
echo 1 >"$INST/options/record-tgid"
echo 16 >"$INST/buffer_size_kb"
echo 0 >"$INST/events/enable"
echo 1 >"$INST/events/sched/sched_switch/enable"
echo 1 >"$INST/events/sched/sched_wakeup/enable"
echo 1 >"$INST/tracing_on"
cyclictest -t1 -p80 -i1000 -l3 -q >/dev/null
echo 0 >"$INST/tracing_on"
cp "$INST/trace" "$OUT/tracefs-counter-tgid.txt"

# Fourth recording: hard and soft IRQs of every task while a little direct disk I/O runs
# (virtio-blk interrupts), in the kernel's text and trace-cmd's default and -R forms.
fresh_instance
echo mono >"$INST/trace_clock"
echo 1024 >"$INST/buffer_size_kb"
echo 1 >"$INST/events/irq/enable"
echo 1 >"$INST/tracing_on"
dd if=/dev/zero of="$WORK/io" bs=64k count=8 oflag=direct 2>/dev/null
echo 0 >"$INST/tracing_on"
cp "$INST/trace" "$OUT/tracefs-irq.txt"
tracefs_extract "$NAME" "$WORK/z.dat"
DAT=$WORK/z.dat
trace-cmd report -i "$DAT" >"$OUT/report-irq-default.txt" 2>/dev/null
trace-cmd report -R -i "$DAT" >"$OUT/report-irq-R.txt" 2>/dev/null

# (trace-cmd --version exits non-zero)
{ trace-cmd --version 2>&1 || true; } | grep "trace-cmd version" >"$OUT/recorded-with.info"
uname -r >>"$OUT/recorded-with.info"
ls -l "$OUT"
# Fixtures are committed: keep every file small (a busy machine makes more events).
for f in "$OUT"/*.txt; do
  if [ "$(stat -c %s "$f")" -gt 300000 ]; then
    echo "warning: $f is over 300 KB; record again on a quieter machine" >&2
  fi
done
