// Per-CPU ring-buffer statistics (`per_cpu/cpuN/stats`): the kernel's own count of
// events it could not keep. `overrun` counts events overwritten (overwrite mode) and
// `dropped events` those refused when the buffer was full (no-overwrite mode); both are
// losses that the sub-buffer flags may report without a count.

import { readFileSync } from "node:fs";

export interface CpuStats {
  entries: number;
  overrun: number;
  commitOverrun: number;
  bytes: number;
  droppedEvents: number;
  readEvents: number;
}

/** Parses the text of a stats file; fields the kernel does not print stay 0. */
export function parseCpuStats(text: string): CpuStats {
  const s: CpuStats = { entries: 0, overrun: 0, commitOverrun: 0, bytes: 0, droppedEvents: 0, readEvents: 0 };
  for (const line of text.split("\n")) {
    const m = /^([a-z ]+):\s*(\d+)\s*$/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    switch (m[1]) {
      case "entries":
        s.entries = v;
        break;
      case "overrun":
        s.overrun = v;
        break;
      case "commit overrun":
        s.commitOverrun = v;
        break;
      case "bytes":
        s.bytes = v;
        break;
      case "dropped events":
        s.droppedEvents = v;
        break;
      case "read events":
        s.readEvents = v;
        break;
    }
  }
  return s;
}

export function readCpuStats(path: string): CpuStats {
  return parseCpuStats(readFileSync(path, "utf8"));
}

/** Events the kernel lost on one CPU according to its stats. */
export function statsLost(s: CpuStats): number {
  return s.overrun + s.commitOverrun + s.droppedEvents;
}
