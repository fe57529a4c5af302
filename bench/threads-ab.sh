#!/usr/bin/env bash
# Interleaved A/B runs of `rtscope report` with and without trace.dat decode workers (--threads),
# timed by GNU time, on the bench traces; prints every run and the medians of wall and CPU
# (user + system) seconds, of the main thread's CPU seconds (bench/thread-cpu.ts: the critical
# path, what the wall time tends to with a core per thread) and of peak RSS. The order inside a
# pair alternates so that neither side always runs first.
#
#   bench/threads-ab.sh [PAIRS] [A_THREADS] [B_THREADS]     (default 5 pairs, 0 against 1)
#
# Needs /usr/bin/time (apt-get install time) and bench/data/ (npm run bench records it).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-5}
A=${2:-0}
B=${3:-1}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

TRACES=()
for t in bench/data/trace.v7.dat bench/data/hackbench/trace.v7.dat; do
  [ -e "$t" ] && TRACES+=("$t")
done
[ ${#TRACES[@]} -gt 0 ] || { echo "no trace in bench/data/" >&2; exit 2; }

# one run: prints "wall cpu rss_mb main_cpu"; the output goes to $OUT/<tag>.<threads>
run() {
  local trace=$1 cmd=$2 threads=$3 tag=$4 t
  t=$(mktemp)
  case $cmd in
    json) /usr/bin/time -o "$t" -f "%e %U %S %M" node --import ./bench/thread-cpu.ts bin/rtscope.js report \
            "$trace" --rt --format json -o "$OUT/$tag.$threads" --threads "$threads" 2> "$t.err" ;;
    slo) /usr/bin/time -o "$t" -f "%e %U %S %M" node --import ./bench/thread-cpu.ts bin/rtscope.js report \
            "$trace" --slo latency=100us --threads "$threads" > "$OUT/$tag.$threads" 2> "$t.err" || [ $? -eq 3 ] ;;
  esac
  echo "$(tail -n 1 "$t" | awk '{ printf "%.2f %.2f %.0f", $1, $2 + $3, $4 / 1024 }') \
$(sed -n 's/^thread-cpu: main \([0-9.]*\) s.*/\1/p' "$t.err")"
  rm -f "$t" "$t.err"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf "%-34s %-5s %7s %7s %7s %7s %7s %7s %7s %7s\n" trace command "wall-$A" "wall-$B" "cpu-$A" "cpu-$B" \
  "main-$A" "main-$B" "MB-$A" "MB-$B"
for trace in "${TRACES[@]}"; do
  for cmd in json slo; do
    tag=$(echo "$trace" | tr '/' '_').$cmd
    : > "$OUT/$tag.runs"
    for ((i = 1; i <= PAIRS; i++)); do
      if ((i % 2)); then order="$A $B"; else order="$B $A"; fi
      for th in $order; do
        echo "$th $(run "$trace" "$cmd" "$th" "$tag")" >> "$OUT/$tag.runs"
      done
      cmp -s "$OUT/$tag.$A" "$OUT/$tag.$B" || { echo "$trace $cmd: outputs differ" >&2; exit 1; }
    done
    sed "s|^|# $trace $cmd threads |" "$OUT/$tag.runs"
    col() { awk -v th="$1" -v c="$2" '$1 == th { print $c }' "$OUT/$tag.runs" | median; }
    printf "%-34s %-5s %7s %7s %7s %7s %7s %7s %7s %7s\n" "$trace" "$cmd" "$(col "$A" 2)" "$(col "$B" 2)" \
      "$(col "$A" 3)" "$(col "$B" 3)" "$(col "$A" 5)" "$(col "$B" 5)" "$(col "$A" 4)" "$(col "$B" 4)"
  done
done
