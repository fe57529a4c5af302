# Sourced by the scripts/record-*.sh fixture recorders (bash): private tracefs instances.

# tracefs_instance_remove DIR: stops and removes the instance at DIR if it is there (trace-cmd
# 3.1's `extract -B` removes the instance it read; other versions leave it). Fails only when
# the directory stays (rmdir of a busy instance); traps call it with `|| true`.
tracefs_instance_remove() {
  [ -d "$1" ] || return 0
  echo 0 >"$1/tracing_on" 2>/dev/null || true
  echo 0 >"$1/events/enable" 2>/dev/null || true
  rmdir "$1"
}
