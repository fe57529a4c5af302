#!/bin/bash
# The starvation case of issue #12 item 10 (root; never part of `npm test`): a 60 s
# `rtscope record --rt` beside `stress-ng --cyclic 1 --cyclic-policy fifo` and a loop of
# `hackbench -l 2000 -g 2` (SCHED_OTHER load). Prints the events delivered and lost (from
# the JSON report), the lost share, rtscope's CPU seconds (getrusage of the child).
#   bench/starvation.sh [CHECKOUT] [SECONDS] [-- extra record options]
set -u
dir=${1:-$(dirname "$0")/..}
secs=${2:-60}
shift 2 2>/dev/null
[ "${1:-}" = "--" ] && shift
out=$(mktemp /tmp/rtscope-starve-XXXXXX.json)
stress-ng --cyclic 1 --cyclic-policy fifo --timeout $((secs + 10)) >/dev/null 2>&1 &
cyc=$!
setsid bash -c 'while :; do hackbench -l 2000 -g 2 >/dev/null 2>&1; done' &
hb=$!
sleep 1
export PATH="$dir/node_modules/.bin:$PATH"
start=$(date +%s.%N)
rus=$( { /usr/bin/env time -f '%U %S' node "$dir/src/cli/main.ts" record --rt --duration "${secs}s" \
  --format json -o "$out" --no-store "$@" >/dev/null; } 2>&1 | tail -1)
rc=$?
kill -- -"$hb" 2>/dev/null
kill "$cyc" 2>/dev/null
wait 2>/dev/null
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const s = r.source;
const lost = s.lostEvents;
const perCpu = r.diagnostics.filter((d) => d.key === "lost_events").map((d) => `cpu${d.cpu}:${d.count}`).join(" ");
const [u, sy] = process.argv[2].split(" ").map(Number);
const written = s.written ?? s.events + Math.max(0, lost);
console.log(JSON.stringify({ events: s.events, lost, written, lostPct: +(100 * lost / written).toFixed(2),
  perCpu, ownCpuSec: +(u + sy).toFixed(2), reportOwnCpu: s.ownCpu, eventsPerSec: Math.round(s.events / Number(process.argv[3])) }));
' "$out" "$rus" "$secs"
rm -f "$out"
