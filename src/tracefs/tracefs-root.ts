// Finding tracefs (SPEC §3 "Live"). tracefs is normally mounted at /sys/kernel/tracing;
// older systems only expose it through debugfs at /sys/kernel/debug/tracing. When nothing
// is mounted and we are root, we mount it at the standard place (that is how the kernel
// documents it); otherwise the error says what to run.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

export const STANDARD_TRACEFS = "/sys/kernel/tracing";
const DEBUGFS_TRACEFS = "/sys/kernel/debug/tracing";

/** A tracefs problem: names the path and says what to do. */
export class TracefsError extends Error {
  override name = "TracefsError";
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** Mount points of tracefs listed in /proc/mounts (first = preferred). */
export function tracefsMounts(mountsText?: string): string[] {
  let text = mountsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/mounts", "utf8");
    } catch {
      return [];
    }
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length >= 3 && f[2] === "tracefs") out.push(f[1].replace(/\\040/g, " "));
  }
  // prefer the standard place when it is one of them
  out.sort((a, b) => (a === STANDARD_TRACEFS ? -1 : b === STANDARD_TRACEFS ? 1 : 0));
  return out;
}

function looksLikeTracefs(dir: string): boolean {
  return existsSync(`${dir}/instances`) && existsSync(`${dir}/events/header_page`);
}

export interface FindTracefsOptions {
  /** mount tracefs at /sys/kernel/tracing when it is missing and we are root (default true) */
  mount?: boolean;
  /** override the location (tests, RTSCOPE_TRACEFS) */
  path?: string;
}

/** Returns the tracefs directory, mounting it when allowed; throws TracefsError saying what to do. */
export function findTracefs(opts: FindTracefsOptions = {}): string {
  const forced = opts.path ?? process.env.RTSCOPE_TRACEFS;
  if (forced) {
    if (!looksLikeTracefs(forced))
      throw new TracefsError(forced, "is not a tracefs directory (no instances/ or events/header_page)");
    return forced;
  }
  for (const m of tracefsMounts()) if (looksLikeTracefs(m)) return m;
  if (looksLikeTracefs(STANDARD_TRACEFS)) return STANDARD_TRACEFS;
  if (looksLikeTracefs(DEBUGFS_TRACEFS)) return DEBUGFS_TRACEFS;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (opts.mount !== false && isRoot && existsSync(STANDARD_TRACEFS)) {
    try {
      execFileSync("mount", ["-t", "tracefs", "nodev", STANDARD_TRACEFS], { stdio: "pipe" });
    } catch (e) {
      throw new TracefsError(
        STANDARD_TRACEFS,
        `tracefs is not mounted and mounting it failed (${(e as Error).message.trim()}); is the kernel built with CONFIG_FTRACE?`,
      );
    }
    if (looksLikeTracefs(STANDARD_TRACEFS)) return STANDARD_TRACEFS;
  }
  if (!isRoot) {
    throw new TracefsError(
      STANDARD_TRACEFS,
      "tracefs is not reachable: run rtscope as root (or mount tracefs there and give your user access to it)",
    );
  }
  throw new TracefsError(
    STANDARD_TRACEFS,
    "tracefs is not available: the kernel lacks CONFIG_FTRACE/CONFIG_EVENT_TRACING, or run 'mount -t tracefs nodev /sys/kernel/tracing'",
  );
}
