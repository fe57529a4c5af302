#!/usr/bin/env bash
# Proves a restructuring commit changes no output: runs the same reports and exports on every
# fixture and shared trace with the code at BASE (a git revision) and with the working tree, and
# compares the bytes. Usage: scripts/same-output.sh [BASE] (default: main).
# Exit 0 when every output is identical, 1 when one differs (the differing files are listed and
# kept under $OUT for diffing).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-main}
out=${OUT:-/tmp/rtscope-same-output}
rm -rf "$out"
mkdir -p "$out/base" "$out/new"
basetree="$out/tree"
git -C "$here" worktree add --detach -f "$basetree" "$base" >/dev/null 2>&1
trap 'git -C "$here" worktree remove --force "$basetree" >/dev/null 2>&1 || true' EXIT
ln -s "$here/node_modules" "$basetree/node_modules"
export PATH="$here/node_modules/.bin:$PATH"
shared="$here/../shared/traces"
[ -d "$shared" ] || shared="$here/../../shared/traces"

traces=()
while IFS= read -r f; do traces+=("$f"); done < <(
  find "$here/test/fixtures" -type f \( -name '*.dat' -o -name 'trace.txt' -o -name 'tracefs-*.txt' \
    -o -name 'report-*.txt' -o -name 'irq-threads-*.txt' \) | sort
  find "$shared" -type f \( -name '*.dat' -o -name '*.txt' \) 2>/dev/null | grep -v README | sort
)

run_all() { # $1 tree, $2 output folder
  local tree=$1 dir=$2 i=0
  for f in "${traces[@]}"; do
    i=$((i + 1))
    local tag
    tag=$(printf '%03d-%s' "$i" "$(basename "$(dirname "$f")")-$(basename "$f")")
    local cli="$tree/src/cli/main.ts"
    # Every command's exit status is part of its output.
    { node "$cli" report "$f" --format json 2>&1; echo "exit $?"; } >"$dir/$tag.report.json" || true
    { node "$cli" report "$f" --rt --slo latency=50us --slo timer=100us 2>&1; echo "exit $?"; } \
      >"$dir/$tag.report-slo.txt" || true
    { node "$cli" report "$f" --rt --format json --slo latency=50us 2>&1; echo "exit $?"; } \
      >"$dir/$tag.report-slo.json" || true
    for fmt in perfetto json text; do
      { node "$cli" export "$f" --rt --metric latency --format "$fmt" 2>&1; echo "exit $?"; } \
        >"$dir/$tag.export.$fmt" || true
    done
    { node "$cli" export "$f" --rt --metric latency --format tracedat -o "$dir/$tag.export.dat" 2>&1
      echo "exit $?"; } >"$dir/$tag.export-dat.log" || true
  done
}

echo "same-output: ${#traces[@]} traces, base $(git -C "$here" rev-parse --short "$base") vs working tree" >&2
run_all "$basetree" "$out/base"
run_all "$here" "$out/new"
# Paths differ between the two trees only where a message names the tree; normalise them.
sed -i -e "s#$basetree#TREE#g" -e "s#$out/base#OUT#g" "$out"/base/* 2>/dev/null || true
sed -i -e "s#$here#TREE#g" -e "s#$out/new#OUT#g" "$out"/new/* 2>/dev/null || true
differ=0
for f in "$out"/base/*; do
  n="$out/new/$(basename "$f")"
  if ! cmp -s "$f" "$n"; then
    echo "DIFFERS: $(basename "$f")"
    differ=$((differ + 1))
  fi
done
total=$(find "$out/base" -type f | wc -l)
echo "same-output: $total outputs compared, $differ differ (kept in $out)"
[ "$differ" -eq 0 ]
