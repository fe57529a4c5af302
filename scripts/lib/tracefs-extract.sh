# Sourced by the scripts/record-*.sh fixture recorders (bash): `trace-cmd extract` of one
# private tracefs instance without touching the top-level tracefs.
#
# trace-cmd 3.1.6's extract resets the TOP-LEVEL tracefs (truncates `trace`, `set_event`, writes
# `current_tracer`, `set_ftrace_pid`, toggles kptr_restrict) and labels the instance's data with
# the top-level trace_clock. So it runs in a private mount namespace (unshare -m) where those
# files are bind-mounted over: /dev/null for the ones it would reset, a copy of kptr_restrict,
# and a copy of the instance's trace_clock (so the file names the clock its data was taken with).

TRACEFS=${TRACEFS:-/sys/kernel/tracing}

# tracefs_extract NAME OUT.dat [KALLSYMS [EVENTS]]: trace-cmd extract -B NAME into OUT.dat.
# KALLSYMS (a file) stands in for /proc/kallsyms, to keep the file small; EVENTS ("sys/event"
# words) limits the formats saved to those events (plus ftrace's and the headers). trace-cmd
# 3.1 removes the instance it read. On failure prints trace-cmd's output and returns 1.
tracefs_extract() {
  local name=$1 out=$2 ks=${3:-} events=${4:-} dir ev f rc=0
  dir=$(mktemp -d /tmp/rtscope-extract.XXXXXX)
  cp "$TRACEFS/instances/$name/trace_clock" "$dir/trace_clock"
  cat /proc/sys/kernel/kptr_restrict >"$dir/kptr_restrict"
  local binds="mount --bind '$dir/kptr_restrict' /proc/sys/kernel/kptr_restrict"
  binds+=" && mount --bind '$dir/trace_clock' '$TRACEFS/trace_clock'"
  [ -z "$ks" ] || binds+=" && mount --bind '$ks' /proc/kallsyms"
  for f in trace set_event set_ftrace_pid current_tracer; do
    binds+=" && mount --bind /dev/null '$TRACEFS/$f'"
  done
  if [ -n "$events" ]; then
    mkdir "$dir/events"
    cp "$TRACEFS/events/header_page" "$TRACEFS/events/header_event" "$dir/events/"
    for f in "$TRACEFS"/events/ftrace/*/format; do
      ev=${f#"$TRACEFS/events/"}
      mkdir -p "$dir/events/${ev%/format}"
      cp "$f" "$dir/events/$ev"
    done
    for ev in $events; do
      mkdir -p "$dir/events/$ev"
      cp "$TRACEFS/events/$ev/format" "$dir/events/$ev/format"
    done
    binds+=" && mount --bind '$dir/events' '$TRACEFS/events'"
  fi
  mkdir "$dir/out"
  if unshare -m sh -c "$binds && cd '$dir/out' && trace-cmd extract -B '$name' -o x.dat" \
    >"$dir/log" 2>&1; then
    # trace-cmd 3.1 leaves per-CPU temporaries beside the output; x.dat is the file (other
    # versions name it after the buffer: x.dat.<name>).
    f=$(ls "$dir/out"/x.dat* | head -1)
    mv "$f" "$out"
  else
    cat "$dir/log" >&2
    rc=1
  fi
  rm -rf "$dir"
  return "$rc"
}
