// Memory probe preloaded into an rtscope process by bench/soak.ts --probe (or by hand:
// `MEM_PROBE_FILE=/tmp/p.jsonl node --import ./bench/mem-probe.ts bin/rtscope.js top ...`).
// Every MEM_PROBE_S seconds (default 10) it appends one JSON line: the CPU seconds used so
// far, VmRSS split into anonymous and file pages, process.memoryUsage() (JS heap, external,
// array buffers), the committed size of each V8 space, and /proc/self/smaps summed by kind of
// mapping: the brk heap (glibc's main malloc arena), other anonymous mappings of 64 MiB arena
// size (glibc's thread arenas) and the remaining anonymous mappings (V8's pages, large buffers).
// It tells memory the JS heap accounts for from native memory outside it.

import { appendFileSync, readFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

const file = process.env.MEM_PROBE_FILE;
const everyS = Number(process.env.MEM_PROBE_S ?? 10);
const MiB = 1 << 20;

function statusKiB(status: string, key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
}

/** Resident KiB of anonymous mappings by kind (see the header). */
function smapsSummary(): Record<string, number> {
  const out = { brkHeapKiB: 0, arenaKiB: 0, arenaMaps: 0, otherAnonKiB: 0, otherAnonMaps: 0 };
  let text: string;
  try {
    text = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return out;
  }
  let kind: "brk" | "arena" | "anon" | null = null;
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (m) {
      const size = Number.parseInt(m[2], 16) - Number.parseInt(m[1], 16);
      const name = m[4];
      if (name === "[heap]") kind = "brk";
      else if (name === "" && m[3] === "0") {
        // glibc thread arenas are reserved 64 MiB at a time (HEAP_MAX_SIZE) and split into
        // a read-write part and a PROT_NONE rest; both pieces sit on a 64 MiB boundary pair
        kind = Number.parseInt(m[1], 16) % (64 * MiB) === 0 && size <= 64 * MiB ? "arena" : "anon";
      } else kind = null;
      continue;
    }
    if (kind !== null && line.startsWith("Rss:")) {
      const kb = Number(/(\d+)/.exec(line)?.[1] ?? 0);
      if (kind === "brk") out.brkHeapKiB += kb;
      else if (kind === "arena") {
        out.arenaKiB += kb;
        if (kb > 0) out.arenaMaps++;
      } else {
        out.otherAnonKiB += kb;
        if (kb > 0) out.otherAnonMaps++;
      }
    }
  }
  return out;
}

/** One probe line (also used in-process by bench/task-memory.ts). */
export function memorySample(): Record<string, unknown> {
  const status = readFileSync("/proc/self/status", "utf8");
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  const spaces: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics())
    spaces[s.space_name.replace(/_space$/, "")] = Math.round(s.space_size / 1024);
  return {
    t: Math.round(process.uptime()),
    // the process's own CPU so far: what a memory setting costs in collections
    cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    rssKiB: statusKiB(status, "VmRSS"),
    anonKiB: statusKiB(status, "RssAnon"),
    fileKiB: statusKiB(status, "RssFile"),
    heapTotalMiB: +(m.heapTotal / MiB).toFixed(1),
    heapUsedMiB: +(m.heapUsed / MiB).toFixed(1),
    externalMiB: +(m.external / MiB).toFixed(1),
    arrayBuffersMiB: +(m.arrayBuffers / MiB).toFixed(1),
    spacesKiB: spaces,
    ...smapsSummary(),
  };
}

if (file !== undefined)
  setInterval(() => appendFileSync(file, `${JSON.stringify(memorySample())}\n`), everyS * 1000).unref();
