// Can this process capture live from the running kernel? Cheap and without side effects
// beyond mounting tracefs where SPEC allows it (root, missing): used by the demo (npm start)
// to pick the live demo or fall back, and by tests to skip with a reason.

import { accessSync, constants, existsSync } from "node:fs";
import { findTracefs } from "./tracefs-root.ts";

export interface LiveUsability {
  ok: boolean;
  /** why not (or where tracefs is, when ok) */
  why: string;
  /** the tracefs directory when found */
  tracefs?: string;
}

export function liveUsable(): LiveUsability {
  if (process.platform !== "linux")
    return { ok: false, why: `live capture needs Linux (this is ${process.platform})` };
  let root: string;
  try {
    root = findTracefs();
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  try {
    accessSync(`${root}/instances`, constants.W_OK);
  } catch {
    return { ok: false, why: `${root}/instances is not writable: run rtscope as root`, tracefs: root };
  }
  for (const ev of ["sched/sched_switch", "sched/sched_wakeup"]) {
    if (!existsSync(`${root}/events/${ev}/format`))
      return {
        ok: false,
        why: `${root}/events/${ev} is missing: the kernel lacks scheduler tracepoints`,
        tracefs: root,
      };
  }
  return { ok: true, why: `tracefs at ${root}`, tracefs: root };
}
